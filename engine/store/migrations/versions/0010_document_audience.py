"""who may read each document (need to know)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 01:00:00

Until now anyone on a case could read every document on it. Each document now has an audience (a JSON list of
tokens: "la", "family", "org:<id>", "role:<LA service>", "advice"; engine.people.access explains them), decided when
it is issued. Documents issued before this get the safe default: the responsible authority, the organisations of the
person who issued it, and the family, unless the document was addressed only to others (as the family pages already
showed it), plus the organisations it was addressed to. The rule is written out here, not imported, so that the
migration does the same thing whatever the code later becomes.
"""
from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

FAMILY_ROLES = {"parent", "young_person", "family"}
LA_SERVICES = {"social_care", "educational_psychologist"}
PACKAGE_KIND = "transfer_package"  # the whole case, for the next authority: never the family's to read here


def _audience(kind: str, recipients: Any, la_id: int, author_roles: list[tuple[int | None, str]]) -> list[str]:
    audience = {"la"}
    if isinstance(recipients, str):
        recipients = json.loads(recipients)
    if not recipients and kind != PACKAGE_KIND:
        audience.add("family")
    for recipient in recipients or []:
        role = str(recipient.get("role") if isinstance(recipient, dict) else recipient or "").lower()
        org = recipient.get("organisation_id") if isinstance(recipient, dict) else None
        if role in FAMILY_ROLES:
            audience.add("family")
        elif isinstance(org, int) and not isinstance(org, bool):
            audience.add(("role:" + role if role in LA_SERVICES else "la") if org == la_id else f"org:{org}")
    for org, role in author_roles:
        if role == "family":
            continue
        if org == la_id:
            audience.add("role:" + role if role in LA_SERVICES else "la")
        elif org is not None:
            audience.add(f"org:{org}")
    return sorted(audience)


def upgrade() -> None:
    with op.batch_alter_table('document') as batch:
        batch.add_column(sa.Column('audience', sa.JSON(), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT d.id, d.kind, d.recipients, d.issued_by_id, c.la_id FROM document d "
        "JOIN case_record c ON c.id = d.case_id")).all()
    memberships: dict[int, list[tuple[int | None, str]]] = {}
    for user_id, org, role in bind.execute(sa.text("SELECT user_id, organisation_id, role FROM membership")).all():
        memberships.setdefault(user_id, []).append((org, role))
    document = sa.table('document', sa.column('id', sa.Integer), sa.column('audience', sa.JSON))
    for doc_id, kind, recipients, author, la_id in rows:
        audience = _audience(kind, recipients, la_id, memberships.get(author, []) if author else [])
        bind.execute(document.update().where(document.c.id == doc_id).values(audience=audience))


def downgrade() -> None:
    with op.batch_alter_table('document') as batch:
        batch.drop_column('audience')
