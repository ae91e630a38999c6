"""Scenario tests for workflows/local_offer_review.bpmn (issue 18): the LA's review of a change a provider proposes to
its own Local Offer entry, with the real routes deployed (``real_routes()``), as ``ehcflow setup`` deploys them.

The route is about an entry, not a child's case, so its state is kept on the proposal
(engine/local_offer/review_route.py). Every step runs in its own session and transaction, as a web request would;
after every step the saved state is restored and serialized again (it must give the same document) and feeds the flow
coverage checked by the last test.

The review is due 10 working days after the day the change was sent (the authority's service standard; the Code sets
no time limit), worked out by hand: sent Thursday 2 April 2026, Good Friday (3 April) and Easter Monday (6 April) are
bank holidays, so the 10 working days are 7-10, 13-17 and 20 April: due Monday 20 April 2026.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.errors import FormInvalid, TaskAlreadyCompleted
from engine.local_offer import entries, proposals, review_route
from engine.runtime.services import Services
from engine.statutory.clock import FrozenClock
from engine.store.local_offer import LocalOfferEntry, LocalOfferProposal
from engine.store.models import AuditEvent, ProcessVersion
from engine.store.outbox import OrganisationNotice, OutboxEmail
from tests.conftest import World, real_routes
from tests.workflows import flow_coverage

ROOT = Path(__file__).resolve().parents[2]
COVERAGE = flow_coverage.register(review_route.PROCESS_ID, [ROOT / "workflows" / "local_offer_review.bpmn"])
SENT = datetime(2026, 4, 2, 9, 30, tzinfo=UTC)


class ReviewDriver:
    """Runs the route through engine/local_offer/review_route.py, one transaction per step, and checks that the
    saved state restores after each."""

    def __init__(self, services: Services, world: World, clock: FrozenClock) -> None:
        self.services, self.world, self.clock = services, world, clock
        self.engine = services.engine
        self.proposal_id = 0
        self.entry_id = 0

    def propose(self, changes: dict[str, Any], when: datetime = SENT) -> int:
        self.clock.set(when)
        with self.services.session_factory() as s:
            if not self.entry_id:
                row = entries.save_entry(s, self.world.la.id, {
                    "title": "Speech and language therapy", "category": "health", "age_from": "0", "age_to": "18",
                    "offers": "Therapy for children who stammer", "status": "published",
                    "provider_id": str(self.world.health.id)}, self.clock.now(), date(2025, 1, 6), None)
                self.entry_id = row.id
            entry = s.get(LocalOfferEntry, self.entry_id)
            assert entry is not None
            proposal = proposals.propose(s, entry, self.world.health.id, {**proposals.entry_values(entry), **changes},
                                         self.clock.now(), self.world.users["health"].id)
            review_route.start_review(self.engine, s, proposal, self.world.users["health"].id)
            s.commit()
            self.proposal_id = proposal.id
        self.check()
        return self.proposal_id

    def decide(self, data: dict[str, Any], when: datetime) -> str:
        self.clock.set(when)
        with self.services.session_factory() as s:
            proposal = s.get(LocalOfferProposal, self.proposal_id)
            assert proposal is not None
            outcome = review_route.complete_review(self.engine, s, proposal, data, self.clock.now(),
                                                   self.clock.today(), self.world.users["manager"].id)
            s.commit()
        self.check()
        return outcome

    def task(self) -> review_route.ReviewTask | None:
        with self.services.session_factory() as s:
            proposal = s.get(LocalOfferProposal, self.proposal_id)
            assert proposal is not None
            return review_route.review_task(self.engine, s, proposal)

    def check(self) -> None:
        test = os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0]
        with self.services.session_factory() as s:
            proposal = s.get(LocalOfferProposal, self.proposal_id)
            assert proposal is not None and proposal.route_state is not None
            version = s.get(ProcessVersion, proposal.route_version_id)
            assert version is not None and version.process_id == review_route.PROCESS_ID
            loaded = self.engine.load_version(version)
            wf = self.engine.serializer.loads(proposal.route_state, loaded.spec, loaded.subprocess_specs)
            assert json.loads(self.engine.serializer.dumps(wf)) == json.loads(proposal.route_state)
            COVERAGE.record(wf, test)

    def proposal(self) -> LocalOfferProposal:
        with self.services.session_factory() as s:
            proposal = s.get(LocalOfferProposal, self.proposal_id)
            assert proposal is not None
            s.expunge(proposal)
            return proposal

    def entry(self) -> LocalOfferEntry:
        with self.services.session_factory() as s:
            entry = s.get(LocalOfferEntry, self.entry_id)
            assert entry is not None
            s.expunge(entry)
            return entry

    def notices(self) -> list[str]:
        with self.services.session_factory() as s:
            return list(s.scalars(select(OrganisationNotice.title).where(
                OrganisationNotice.organisation_id == self.world.health.id).order_by(OrganisationNotice.id)))


@pytest.fixture
def route(services: Services, world: World, clock: FrozenClock) -> ReviewDriver:
    services.engine.deploy(real_routes())  # as `ehcflow setup` does
    return ReviewDriver(services, world, clock)


def test_an_approved_change_is_published_and_the_provider_told(route: ReviewDriver) -> None:
    route.propose({"offers": "Therapy and groups for children who stammer"})
    task = route.task()
    assert task is not None and task.bpmn_id == "UT_review" and task.form == "lo_review.json"
    assert task.due_on == date(2026, 4, 20) and route.proposal().review_due_on == date(2026, 4, 20)
    assert route.entry().offers == "Therapy for children who stammer"  # unchanged while it waits
    assert route.decide({"review_decision": "approve"}, datetime(2026, 4, 8, 14, 0, tzinfo=UTC)) == "published"
    assert route.proposal().status == "published" and route.task() is None
    entry = route.entry()
    assert entry.offers == "Therapy and groups for children who stammer" and entry.last_checked_on == date(2026, 4, 8)
    assert route.notices() == ["Your change to “Speech and language therapy” is published in the Local Offer"]
    with route.services.session_factory() as s:
        assert s.scalars(select(OutboxEmail.to_address)).all() == ["health@test.example"]
        assert s.scalars(select(AuditEvent.action).where(AuditEvent.action.like("local_offer_review_%"))
                         .order_by(AuditEvent.id)).all() == ["local_offer_review_started", "local_offer_review_completed"]


def test_asking_for_changes_returns_it_and_the_next_change_has_its_own_review(route: ReviewDriver) -> None:
    first = route.propose({"offers": "Groups"})
    with pytest.raises(FormInvalid) as refused:  # a reason is needed; nothing is saved
        route.decide({"review_decision": "changes"}, datetime(2026, 4, 7, 10, 0, tzinfo=UTC))
    assert "review_reason" in refused.value.errors and route.proposal().status == "pending"
    assert route.decide({"review_decision": "changes", "review_reason": "Name the groups"},
                        datetime(2026, 4, 7, 11, 0, tzinfo=UTC)) == "returned"
    returned = route.proposal()
    assert returned.status == "returned" and returned.reason == "Name the groups"
    assert route.entry().offers == "Therapy for children who stammer"
    assert route.notices() == ["Testshire Council has asked you to change what you proposed for "
                               "“Speech and language therapy”"]
    # Decided once: the same change cannot be decided again.
    with pytest.raises(TaskAlreadyCompleted):
        route.decide({"review_decision": "approve"}, datetime(2026, 4, 7, 12, 0, tzinfo=UTC))
    second = route.propose({"offers": "The Chatterbox group"}, datetime(2026, 4, 9, 9, 0, tzinfo=UTC))
    assert second != first and route.task() is not None
    assert route.proposal().review_due_on == date(2026, 4, 23)
    assert route.decide({"review_decision": "approve"}, datetime(2026, 4, 10, 9, 0, tzinfo=UTC)) == "published"
    assert route.entry().offers == "The Chatterbox group"


def test_a_rejected_change_leaves_the_entry_and_the_provider_is_told_why(route: ReviewDriver) -> None:
    route.propose({"title": "The best therapy in Testshire"})
    # Sending again while it waits replaces the change and keeps its review (and due date).
    route.propose({"title": "Simply the best therapy"}, datetime(2026, 4, 3, 9, 0, tzinfo=UTC))
    with route.services.session_factory() as s:
        assert s.scalars(select(LocalOfferProposal.id)).all() == [route.proposal_id]
    assert route.proposal().review_due_on == date(2026, 4, 20)
    assert route.decide({"review_decision": "reject", "review_reason": "An advert, not a description"},
                        datetime(2026, 4, 14, 9, 0, tzinfo=UTC)) == "rejected"
    assert route.entry().title == "Speech and language therapy" and route.proposal().status == "rejected"
    assert route.notices() == ["Testshire Council did not publish your change to “Speech and language therapy”"]


def test_two_editors_deciding_at_once_cannot_both_win(route: ReviewDriver) -> None:
    """The late editor loaded the change before the first one saved a decision: the route's saved state has moved on
    since, so the late decision is refused and changes nothing."""
    route.propose({"offers": "Groups"})
    with route.services.session_factory() as late:
        stale = late.get(LocalOfferProposal, route.proposal_id)
        assert stale is not None and stale.status == "pending" and stale.route_state is not None
        route.decide({"review_decision": "approve"}, datetime(2026, 4, 7, 9, 0, tzinfo=UTC))
        with pytest.raises(TaskAlreadyCompleted):
            review_route.complete_review(route.engine, late, stale, {"review_decision": "reject",
                                                                     "review_reason": "No"},
                                         route.clock.now(), route.clock.today(), None)
        late.rollback()
    assert route.proposal().status == "published" and route.notices() == [
        "Your change to “Speech and language therapy” is published in the Local Offer"]


def test_the_race_is_refused_on_postgresql_too(pg_services: Services, clock: FrozenClock) -> None:
    """The compare-and-set on the saved state, on PostgreSQL (skipped without TEST_DATABASE_URL)."""
    pg_services.engine.deploy(real_routes())
    driver = ReviewDriver(pg_services, World(pg_services), clock)
    test_two_editors_deciding_at_once_cannot_both_win(driver)


# ---- coverage: keep this test last ------------------------------------------------------------------------------------
def test_every_flow_node_and_sequence_flow_was_visited(request: pytest.FixtureRequest) -> None:
    flow_coverage.check_whole_module_covered(request, COVERAGE, globals())
