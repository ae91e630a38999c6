"""The front door in the engine: a request received online or recorded by a caseworker, matched and registered on a
child's case, the needs assessment started with the exact moment of receipt; closing; family accounts."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from engine.errors import FormInvalid, InvalidState, NotFound
from engine.intake.accounts import set_password_with_token, user_for_token
from engine.intake.parties import current_parties, set_parties, suggested_parties
from engine.intake.questions import PAGE_BY_SLUG, check_page, pages_for
from engine.intake.registration import matches_for, register_request
from engine.intake.requests import (
    close_request,
    decide_by,
    draft_for,
    record_request,
    save_answers,
    start_draft,
    submit_draft,
)
from engine.people.passwords import verify_password
from engine.runtime.services import Services
from engine.store.models import Case, CaseParty, ProcessInstance, User
from engine.store.outbox import OutboxEmail
from engine.store.requests import AssessmentRequest
from tests.conftest import World, real_routes

ANSWERS = {
    "requester_type": "parent", "requester_name": "Sam Rivers", "relationship_to_child": "mother",
    "requester_email": "Sam.Rivers@Example.com", "requester_phone": "",
    "child_first_name": "Robin", "child_last_name": "Rivers", "child_date_of_birth": "12 7 2016",
    "child_address": "1 Mill Lane\nTestbury", "child_postcode": "te1 2ab",
    "setting_name": "Test Primary School", "child_upn": "l12345678901b",
    "parent_views": "Robin finds reading very hard.", "young_person_views": "",
    "sen_support": "Two terms of small-group phonics.", "urgent": "no", "urgent_details": "",
    "consent_to_share": "yes",
}


def london(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """A London wall-clock moment (GMT in March before the 29th, BST from then to October)."""
    bst = (month, day) >= (3, 29) and month < 11
    return datetime(year, month, day, hour - (1 if bst else 0), minute, tzinfo=UTC)


@pytest.fixture
def intake(services: Services, world: World) -> World:
    services.engine.deploy(real_routes())
    return world


def instance_data(services: Services, instance_id: int) -> dict:
    with services.session_factory() as s:
        instance = s.get(ProcessInstance, instance_id)
        assert instance is not None and instance.status != "failed", instance and instance.last_error
        wf = services.engine.load_workflow(instance)
        assert json.loads(services.engine.serializer.dumps(wf)) == json.loads(instance.state)
        return dict(wf.last_task.data)


@pytest.mark.parametrize(("received", "start", "decide"), [
    (london(2026, 3, 6, 17, 30), date(2026, 3, 9), date(2026, 4, 20)),     # Friday after 17:00: from Monday
    (london(2026, 4, 2, 16, 59), date(2026, 4, 2), date(2026, 5, 14)),     # Thursday before 17:00 (BST)
    (london(2026, 4, 2, 17, 5), date(2026, 4, 7), date(2026, 5, 19)),      # then Good Friday and Easter Monday
    (london(2026, 12, 24, 18, 0), date(2026, 12, 29), date(2027, 2, 9)),   # Christmas and Boxing Day (Monday 28th)
])
def test_the_decision_date_counts_from_the_day_the_request_counts_as_received(received: datetime, start: date,
                                                                              decide: date) -> None:
    assert decide_by(received) == decide
    assert decide - timedelta(weeks=6) == start


def test_a_posted_request_registered_for_a_new_child_starts_the_assessment_from_its_real_receipt(
        services: Services, intake: World) -> None:
    engine = services.engine
    engine.clock.set(london(2026, 3, 10, 9, 0))
    received = london(2026, 3, 6, 17, 30)
    with services.session_factory() as s:
        row = record_request(s, intake.la.id, ANSWERS, "post", received, intake.users["caseworker"], engine.clock.now())
        s.commit()
        request_id, reference = row.id, row.reference
    assert reference == f"REQ-2026-{request_id:05d}"
    with services.session_factory() as s:
        row = s.get(AssessmentRequest, request_id)
        assert (row.status, row.channel, row.received_at, row.child_postcode, row.child_upn) == (
            "new", "post", received, "TE1 2AB", "L12345678901B")
        assert row.child_date_of_birth == date(2016, 7, 12) and row.answers["sen_support"].startswith("Two terms")
        assert matches_for(s, row) == []
        parent = s.scalar(select(User).where(User.email == "sam.rivers@example.com"))
        assert parent is not None and parent.password_hash is None and row.requester_user_id == parent.id
        kinds = sorted(s.scalars(select(OutboxEmail.kind).where(OutboxEmail.to_address == "sam.rivers@example.com")))
        assert kinds == ["request_received", "set_password"]

    case_id = register_request(engine, request_id, intake.users["caseworker"])
    with services.session_factory() as s:
        case = s.get(Case, case_id)
        assert (case.child_name, case.date_of_birth, case.postcode, case.upn, case.la_id) == (
            "Robin Rivers", date(2016, 7, 12), "TE1 2AB", "L12345678901B", intake.la.id)
        family = s.scalars(select(CaseParty).where(CaseParty.case_id == case_id, CaseParty.role == "family")).one()
        assert (family.user_id, family.relationship_to_child) == (parent.id, "mother")
        row = s.get(AssessmentRequest, request_id)
        assert (row.status, row.case_id, row.registered_by_id) == ("registered", case_id, intake.users["caseworker"].id)
        instance = s.get(ProcessInstance, row.instance_id)
        assert (instance.process_id, instance.case_id) == ("ehc_needs_assessment", case_id)
    data = instance_data(services, row.instance_id)
    assert (data["start_date"], data["decide_by"], data["requester_type"]) == ("2026-03-09", "2026-04-20", "parent")
    assert data["final_plan_by"] == "2026-07-27"


def test_a_request_for_a_known_child_is_matched_and_a_second_open_assessment_refused(
        services: Services, intake: World) -> None:
    engine = services.engine
    answers = {**ANSWERS, "child_first_name": "Alex", "child_last_name": "TAYLOR", "child_date_of_birth": "2015-05-14",
               "requester_email": "parent@test.example", "child_upn": ""}
    with services.session_factory() as s:
        first = record_request(s, intake.la.id, answers, "email", engine.clock.now() - timedelta(hours=2),
                               intake.users["caseworker"], engine.clock.now())
        second = record_request(s, intake.la.id, answers, "phone", engine.clock.now() - timedelta(hours=1),
                                intake.users["caseworker"], engine.clock.now())
        s.commit()
        matches = matches_for(s, first)
        assert [(m.case.id, m.reasons, m.strong) for m in matches] == [
            (intake.case_id, ("date of birth and last name",), True)]
        first_id, second_id = first.id, second.id
    assert register_request(engine, first_id, intake.users["caseworker"], intake.case_id) == intake.case_id
    with pytest.raises(InvalidState, match="already has an open assessment"):
        register_request(engine, second_id, intake.users["caseworker"], intake.case_id)
    with services.session_factory() as s:
        assert s.get(AssessmentRequest, second_id).status == "new"
        assert s.scalar(select(ProcessInstance.id).where(ProcessInstance.case_id == intake.case_id).limit(2)) is not None
        assert len(s.scalars(select(ProcessInstance).where(ProcessInstance.case_id == intake.case_id,
                                                           ProcessInstance.process_id == "ehc_needs_assessment")).all()) == 1
    with pytest.raises(InvalidState, match="already been registered"):
        register_request(engine, first_id, intake.users["caseworker"], intake.case_id)
    with pytest.raises(NotFound):
        register_request(engine, second_id, intake.users["caseworker"], intake.other_case_id)


def test_a_request_not_taken_forward_is_closed_with_the_reason_sent_to_the_requester(
        services: Services, intake: World) -> None:
    now = services.engine.clock.now()
    with services.session_factory() as s:
        row = record_request(s, intake.la.id, ANSWERS, "email", now, intake.users["caseworker"], now)
        with pytest.raises(FormInvalid):
            close_request(s, row, intake.users["caseworker"], "   ", now)
        close_request(s, row, intake.users["caseworker"], "The child lives in Otherham.", now)
        s.commit()
        email = s.scalar(select(OutboxEmail).where(OutboxEmail.kind == "request_closed"))
        assert email.to_address == "sam.rivers@example.com" and "The child lives in Otherham." in email.body
        with pytest.raises(InvalidState):
            close_request(s, row, intake.users["caseworker"], "again", now)
    with pytest.raises(InvalidState):
        register_request(services.engine, row.id, intake.users["caseworker"])


def test_recording_refuses_bad_answers_and_a_receipt_in_the_future_saving_nothing(
        services: Services, intake: World) -> None:
    now = services.engine.clock.now()
    bad = {**ANSWERS, "child_date_of_birth": "31 2 2016", "child_postcode": "nowhere", "requester_email": "sam"}
    with services.session_factory() as s:
        with pytest.raises(FormInvalid) as caught:
            record_request(s, intake.la.id, bad, "online", now + timedelta(minutes=5), intake.users["caseworker"], now)
        assert set(caught.value.errors) == {"child_date_of_birth", "child_postcode", "requester_email", "channel",
                                            "received_at"}
        assert s.scalar(select(AssessmentRequest.id)) is None


def test_an_online_draft_is_received_when_sent_and_its_account_link_works_once(
        services: Services, intake: World) -> None:
    engine = services.engine
    today = engine.clock.today()
    with services.session_factory() as s:
        row, token = start_draft(s, intake.la.id, engine.clock.now())
        s.commit()
    with services.session_factory() as s:
        row = draft_for(s, token)
        assert row is not None and draft_for(s, "not-the-token") is None
        for page in pages_for("parent"):
            clean, errors = check_page(page, ANSWERS, today, "parent")
            assert errors == {}, page.slug
            save_answers(row, clean, engine.clock.now())
        assert check_page(PAGE_BY_SLUG["views"], {"parent_views": ""}, today, "parent")[1] == {
            "parent_views": "Enter your views as the child's parent"}
        engine.clock.advance(minutes=7)
        submit_draft(s, row, engine.clock.now())
        s.commit()
        assert (row.status, row.received_at, row.draft_token_hash) == ("new", engine.clock.now(), None)
        link = s.scalar(select(OutboxEmail).where(OutboxEmail.kind == "set_password"))
        token = link.link_path.rsplit("/", 1)[1]
        assert token in link.body.replace("{base_url}", "")
    with services.session_factory() as s:
        assert user_for_token(s, token, engine.clock.now()).email == "sam.rivers@example.com"
        with pytest.raises(FormInvalid):
            set_password_with_token(s, token, "short", "short", engine.clock.now())
        user = set_password_with_token(s, token, "a-long-enough-password", "a-long-enough-password", engine.clock.now())
        s.commit()
        assert verify_password(user.password_hash, "a-long-enough-password")
    with services.session_factory() as s, pytest.raises(NotFound):
        set_password_with_token(s, token, "another-long-password", "another-long-password", engine.clock.now())


def test_a_set_password_link_expires_after_a_week(services: Services, intake: World) -> None:
    engine = services.engine
    with services.session_factory() as s:
        record_request(s, intake.la.id, ANSWERS, "email", engine.clock.now(), intake.users["caseworker"],
                       engine.clock.now())
        s.commit()
        token = s.scalar(select(OutboxEmail.link_path).where(OutboxEmail.kind == "set_password")).rsplit("/", 1)[1]
    engine.clock.advance(days=7)
    with services.session_factory() as s, pytest.raises(NotFound, match="expired"):
        user_for_token(s, token, engine.clock.now())


def test_a_registration_whose_assessment_fails_to_start_can_be_retried_on_the_same_case(
        services: Services, intake: World, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = services.engine
    with services.session_factory() as s:
        row = record_request(s, intake.la.id, ANSWERS, "email", engine.clock.now(), intake.users["caseworker"],
                             engine.clock.now())
        s.commit()
        request_id = row.id
    real_start = engine.start

    def broken_start(*args: object, **kwargs: object) -> int:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(engine, "start", broken_start)
    with pytest.raises(RuntimeError):
        register_request(engine, request_id, intake.users["caseworker"])
    with services.session_factory() as s:
        row = s.get(AssessmentRequest, request_id)
        assert row.status == "new" and row.case_id is not None
        first_case = row.case_id
    monkeypatch.setattr(engine, "start", real_start)
    assert register_request(engine, request_id, intake.users["caseworker"]) == first_case
    with services.session_factory() as s:
        assert len(s.scalars(select(Case).where(Case.child_last_name == "Rivers")).all()) == 1
        assert s.get(AssessmentRequest, request_id).status == "registered"


def test_a_new_childs_case_gets_the_setting_named_and_the_authoritys_usual_health_body_and_mediation(
        services: Services, intake: World) -> None:
    engine = services.engine
    with services.session_factory() as s:
        row = record_request(s, intake.la.id, {**ANSWERS, "setting_name": "  test primary SCHOOL"}, "email",
                             engine.clock.now(), intake.users["caseworker"], engine.clock.now())
        s.commit()
        assert suggested_parties(s, row) == {"setting": intake.school.id, "health_body": intake.health.id,
                                             "mediation_service": intake.mediation.id}
        request_id = row.id
    case_id = register_request(engine, request_id, intake.users["caseworker"])
    with services.session_factory() as s:
        assert {role: party.organisation_id for role, party in current_parties(s, case_id).items()} == {
            "setting": intake.school.id, "health_body": intake.health.id, "mediation_service": intake.mediation.id}
        case = s.get(Case, case_id)
        with pytest.raises(FormInvalid):
            set_parties(s, case, {"setting": intake.health.id}, intake.users["caseworker"], engine.clock.now())
        assert set_parties(s, case, {"setting": None, "health_body": intake.health.id},
                           intake.users["caseworker"], engine.clock.now()) == ["setting"]
        s.commit()
        assert sorted(current_parties(s, case_id)) == ["health_body", "mediation_service"]


def test_an_email_of_a_member_of_staff_never_makes_them_family_on_a_case(services: Services, intake: World) -> None:
    engine = services.engine
    answers = {**ANSWERS, "requester_email": "caseworker@test.example"}
    with services.session_factory() as s:
        row = record_request(s, intake.la.id, answers, "email", engine.clock.now(), None, engine.clock.now())
        s.commit()
        assert row.requester_user_id is None
        assert s.scalar(select(OutboxEmail.id).where(OutboxEmail.kind == "set_password")) is None
        request_id = row.id
    case_id = register_request(engine, request_id, intake.users["manager"])
    with services.session_factory() as s:
        assert s.scalars(select(CaseParty).where(CaseParty.case_id == case_id, CaseParty.role == "family")).all() == []


def test_a_new_child_with_the_upn_of_a_child_already_being_assessed_is_refused(
        services: Services, intake: World) -> None:
    engine = services.engine
    with services.session_factory() as s:
        first = record_request(s, intake.la.id, ANSWERS, "email", engine.clock.now(), None, engine.clock.now())
        s.commit()
        first_id = first.id
    first_case = register_request(engine, first_id, intake.users["caseworker"])
    twin = {**ANSWERS, "child_first_name": "Robyn"}  # a twin: same date of birth and last name, another UPN
    same_upn = {**ANSWERS, "child_first_name": "Bobby", "child_last_name": "Rivers-Smith"}
    with services.session_factory() as s:
        twin_row = record_request(s, intake.la.id, {**twin, "child_upn": "A12345678901C"}, "email", engine.clock.now(),
                                  None, engine.clock.now())
        upn_row = record_request(s, intake.la.id, same_upn, "email", engine.clock.now(), None, engine.clock.now())
        s.commit()
        twin_id, upn_id = twin_row.id, upn_row.id
    assert register_request(engine, twin_id, intake.users["caseworker"]) != first_case
    with pytest.raises(InvalidState, match="same unique pupil number and already has an open assessment"):
        register_request(engine, upn_id, intake.users["caseworker"])
    with services.session_factory() as s:
        assert s.get(AssessmentRequest, upn_id).status == "new"
        assert len(s.scalars(select(Case).where(Case.child_last_name.like("Rivers%"))).all()) == 2
