"""Local Offer provider review: a provider's proposed change is reviewed on a BPMN route

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 02:30:00

Each proposed change to a Local Offer entry runs ``workflows/local_offer_review.bpmn``: the LA's Local Offer editor
approves it, asks for changes or rejects it, and the provider is told. The route's state is kept on the proposal
(``route_state``, with the deployed version it runs on, ``route_version_id``), since it is about an entry, not a
child's case; ``review_due_on`` is the due date of the editor's task, for the editor's list. A proposal made before
this migration has no route and is reviewed as before. No new organisation kind needs a column: the kind
``voluntary_provider`` and the role ``local_offer_provider`` are values of existing columns.
"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('local_offer_proposal') as batch:
        batch.add_column(sa.Column('route_version_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('route_state', sa.Text(), nullable=True))
        batch.add_column(sa.Column('review_due_on', sa.Date(), nullable=True))
        batch.create_foreign_key(batch.f('fk_local_offer_proposal_route_version_id_process_version'),
                                 'process_version', ['route_version_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('local_offer_proposal') as batch:
        batch.drop_constraint(batch.f('fk_local_offer_proposal_route_version_id_process_version'), type_='foreignkey')
        batch.drop_column('review_due_on')
        batch.drop_column('route_state')
        batch.drop_column('route_version_id')
