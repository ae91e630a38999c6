"""Starting routes by hand on a case, as declared on the real routes' start events: what is offered to whom and when,
what is refused (and that a refusal starts nothing), the start forms' answers, and each route reaching its first task."""

from __future__ import annotations

from typing import Any

import pytest
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select

from engine.casework.plans import create_draft, issue_plan
from engine.casework.setting_directory import describe_setting
from engine.errors import FormInvalid, InvalidState, NotAllowed, NotFound
from engine.intake.route_starts import case_facts, documentation, start_by_hand, startable_routes
from engine.library.registry import ProcessRegistry
from engine.runtime.services import Services
from engine.runtime.workflow_engine import WorkflowEngine
from engine.store.models import AuditEvent, Case, Document, HumanTask, ProcessInstance, User
from tests.conftest import World, real_routes

DRAFT = {
    "section_a": {"views": "Alex enjoys trains.", "aspirations": "To read on his own."},
    "section_b": {"needs": [{"area": "communication_and_interaction", "description": "Speech sound difficulties"}]},
    "section_e": {"outcomes": [{"description": "Speaks in short sentences", "by_when": "July 2027", "needs": ["B1"]}]},
    "section_f": {"provision": [{"description": "Speech and language therapy", "amount": "3 sessions a week",
                                 "provided_by": "Speech and language therapist", "needs": ["B1"]}]},
}
ADVICE = [{"provider": "Dr Park", "kind": "educational_psychology", "received_on": "2026-02-01",
           "title": "Educational psychology advice"}]

WITH_PLAN_LA = {"annual_review", "plan_amendment", "cease_plan", "reassessment", "plan_transfer", "complaint",
                "tribunal_order"}
WITH_PLAN_FAMILY = {"reassessment", "plan_amendment", "complaint"}
WITHOUT_PLAN_LA = {"ehc_needs_assessment", "ehc_plan_drafting", "complaint", "tribunal_order"}

NEEDS_ASSESSMENT = {"requester_type": "parent", "requester_name": "Sam Taylor", "received_at": "2026-02-27 17:30"}
ORDER = {"order_kind": "keep", "order_source": "tribunal", "order_date": "2026-02-20",
         "health_recommendations": "no", "social_care_recommendations": "no"}


@pytest.fixture(scope="module")
def registry() -> ProcessRegistry:
    """The real routes, checked and parsed once (deployed afresh into each test's database)."""
    return real_routes()


@pytest.fixture
def routes(services: Services, world: World, registry: ProcessRegistry) -> World:
    services.engine.deploy(registry)
    return world


def give_plan(services: Services, world: World, case_id: int | None = None) -> None:
    engine = services.engine
    with services.session_factory() as s:
        case_id = case_id or world.case_id
        create_draft(s, case_id, DRAFT, now=engine.clock.now(), advice=ADVICE)
        issue_plan(s, case_id, "final", {"I": describe_setting(s, world.school.id)}, now=engine.clock.now())
        s.commit()


def user(services: Services, world: World, key: str) -> User:
    with services.session_factory() as s:
        found = s.get(User, world.users[key].id)
        assert found is not None
        s.expunge(found)
        return found


def offered(services: Services, world: World, key: str | None, *, as_family: bool = False,
            case_id: int | None = None) -> set[str]:
    with services.session_factory() as s:
        case = s.get(Case, case_id or world.case_id)
        who = s.get(User, world.users[key].id) if key else None
        return {o.process_id for o in startable_routes(services.engine, s, case, who, as_family=as_family)
                if o.allowed}


def instances(services: Services, case_id: int, process_id: str | None = None) -> int:
    with services.session_factory() as s:
        query = select(func.count()).select_from(ProcessInstance).where(ProcessInstance.case_id == case_id)
        if process_id:
            query = query.where(ProcessInstance.process_id == process_id)
        return s.scalar(query) or 0


def open_tasks(services: Services, instance_id: int) -> set[str]:
    with services.session_factory() as s:
        return set(s.scalars(select(HumanTask.bpmn_id).where(HumanTask.instance_id == instance_id,
                                                             HumanTask.status == "open")))


def restored_data(engine: WorkflowEngine, services: Services, instance_id: int, bpmn_id: str) -> dict[str, Any]:
    """The data of a waiting user task, from the route's saved state restored (the engine saved it when it started)."""
    with services.session_factory() as s:
        instance = s.get(ProcessInstance, instance_id)
        assert instance is not None and instance.status not in ("failed", "completed"), instance.last_error
        wf = engine.load_workflow(instance)
        [task] = [t for t in wf.get_tasks(state=TaskState.READY) if t.task_spec.bpmn_id == bpmn_id]
        return dict(task.data)


# ---- what is offered --------------------------------------------------------------------------------------------------

def test_a_case_with_a_plan_offers_the_plan_routes_to_the_la_and_its_own_to_the_family(services: Services,
                                                                                       routes: World) -> None:
    give_plan(services, routes)

    assert offered(services, routes, "caseworker") == WITH_PLAN_LA
    assert offered(services, routes, "manager") == WITH_PLAN_LA
    assert offered(services, routes, "parent", as_family=True) == WITH_PLAN_FAMILY
    assert offered(services, routes, None) == WITH_PLAN_LA  # the operator on the command line
    for key in ("school", "health", "ep", "other_caseworker", "other_manager", "admin", "processowner"):
        assert offered(services, routes, key) == set(), key
    assert offered(services, routes, "other_parent", as_family=True) == set()
    # A family member who is also staff sees the family's routes only on the family pages.
    assert offered(services, routes, "parent") == set()


def test_labels_are_the_ones_declared_for_each_audience(services: Services, routes: World) -> None:
    give_plan(services, routes)
    with services.session_factory() as s:
        case = s.get(Case, routes.case_id)
        staff = {o.process_id: o.label for o in startable_routes(services.engine, s, case, None)}
        family = {o.process_id: (o.label, o.help) for o in startable_routes(
            services.engine, s, case, s.get(User, routes.users["parent"].id), as_family=True) if o.allowed}

    assert staff["annual_review"] == "Start an early review"
    assert staff["plan_amendment"] == "Propose an amendment to the plan"
    assert staff["reassessment"] == "Record a request for a re-assessment"
    assert family["plan_amendment"][0] == "Ask for an amendment to the plan"
    assert family["reassessment"][0] == "Ask for a re-assessment"
    assert family["complaint"][0] == "Make a complaint"
    assert "15 days" in (family["reassessment"][1] or "")


def test_a_case_without_a_plan_offers_the_needs_assessment(services: Services, routes: World) -> None:
    assert offered(services, routes, "caseworker") == WITHOUT_PLAN_LA
    assert offered(services, routes, "parent", as_family=True) == {"complaint"}


def test_an_early_review_once_started_is_no_longer_offered(services: Services, routes: World) -> None:
    give_plan(services, routes)
    caseworker = user(services, routes, "caseworker")

    instance_id = start_by_hand(services.engine, routes.case_id, "annual_review", None, caseworker)

    assert open_tasks(services, instance_id) == {"UT_setup"}
    assert "annual_review" not in offered(services, routes, "caseworker")
    with pytest.raises(InvalidState, match="already under way"):
        start_by_hand(services.engine, routes.case_id, "annual_review", None, caseworker)
    assert instances(services, routes.case_id, "annual_review") == 1
    with services.session_factory() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "route_started_by_hand")).one()
        assert (event.case_id, event.instance_id, event.actor_id) == (routes.case_id, instance_id, caseworker.id)
        assert event.summary.startswith("Start an early review")


def test_a_failed_or_suspended_route_still_counts_as_under_way(services: Services, routes: World) -> None:
    give_plan(services, routes)
    instance_id = start_by_hand(services.engine, routes.case_id, "cease_plan", None, None)
    for status in ("failed", "suspended"):
        with services.session_factory() as s:
            row = s.get(ProcessInstance, instance_id)
            assert row is not None
            row.status = status
            s.commit()
        assert "cease_plan" not in offered(services, routes, "caseworker"), status
    with services.session_factory() as s:
        row = s.get(ProcessInstance, instance_id)
        assert row is not None
        row.status = "completed"
        s.commit()
    assert "cease_plan" in offered(services, routes, "caseworker")


def test_complaints_may_run_alongside_each_other(services: Services, routes: World) -> None:
    parent = user(services, routes, "parent")
    first = start_by_hand(services.engine, routes.case_id, "complaint", None, parent, as_family=True)
    second = start_by_hand(services.engine, routes.case_id, "complaint", None, user(services, routes, "caseworker"))

    assert first != second
    assert open_tasks(services, first) == open_tasks(services, second) == {"UT_record_complaint"}
    assert "complaint" in offered(services, routes, "parent", as_family=True)


def test_a_reassessment_closes_the_door_to_an_amendment_and_another_assessment(services: Services,
                                                                               routes: World) -> None:
    give_plan(services, routes)
    start_by_hand(services.engine, routes.case_id, "reassessment", None, user(services, routes, "parent"),
                  as_family=True)

    la = offered(services, routes, "caseworker")
    assert "plan_amendment" not in la and "reassessment" not in la
    assert offered(services, routes, "parent", as_family=True) == {"complaint"}


def test_a_ceased_plan_is_no_longer_in_force(services: Services, routes: World) -> None:
    give_plan(services, routes)
    with services.session_factory() as s:
        case = s.get(Case, routes.case_id)
        assert case_facts(s, case)["plan_in_force"] is True
        s.add(Document(case_id=case.id, kind="cp_plan_ceased", title="The plan has ceased", body_html="<p>x</p>",
                       recipients=[], appealable=False, issued_at=services.engine.clock.now()))
        s.commit()
        assert case_facts(s, case)["plan_in_force"] is False
    assert offered(services, routes, "caseworker") == WITHOUT_PLAN_LA


def test_a_closed_case_offers_only_what_needs_no_open_case(services: Services, routes: World) -> None:
    give_plan(services, routes)
    with services.session_factory() as s:
        case = s.get(Case, routes.case_id)
        case.status = "closed"
        s.commit()

    assert offered(services, routes, "caseworker") == {"complaint"}


# ---- what is refused starts nothing -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("key", "process_id", "as_family", "error", "message"), [
    ("parent", "annual_review", True, NotAllowed, "You cannot start"),
    ("parent", "cease_plan", False, NotAllowed, "You cannot start"),
    ("school", "complaint", False, NotAllowed, "You cannot start"),
    ("health", "reassessment", False, NotAllowed, "You cannot start"),
    ("other_caseworker", "complaint", False, NotAllowed, "You cannot start"),
    ("other_parent", "complaint", True, NotAllowed, "You cannot start"),
    ("caseworker", "mediation", False, NotAllowed, "is not started by hand"),
    ("caseworker", "disagreement_resolution", False, NotAllowed, "is not started by hand"),
    ("caseworker", "no_such_route", False, NotFound, "is not deployed"),
    ("caseworker", "annual_review", False, InvalidState, "the case has no EHC plan in force"),
    ("parent", "reassessment", True, InvalidState, "the case has no EHC plan in force"),
])
def test_what_is_not_allowed_is_refused_and_starts_nothing(services: Services, routes: World, key: str,
                                                           process_id: str, as_family: bool, error: type,
                                                           message: str) -> None:
    before = instances(services, routes.case_id)

    with pytest.raises(error, match=message):
        start_by_hand(services.engine, routes.case_id, process_id, None, user(services, routes, key),
                      as_family=as_family)

    assert instances(services, routes.case_id) == before
    with services.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)
                        .where(AuditEvent.action == "route_started_by_hand")) == 0


def test_an_unknown_case_is_not_found(services: Services, routes: World) -> None:
    with pytest.raises(NotFound):
        start_by_hand(services.engine, 99999, "complaint", None, None)


# ---- start data -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("process_id", "data", "field"), [
    ("ehc_needs_assessment", {**NEEDS_ASSESSMENT, "case_id": 999}, "case_id"),
    ("ehc_needs_assessment", {**NEEDS_ASSESSMENT, "la_id": 999}, "la_id"),
    ("ehc_needs_assessment", {**NEEDS_ASSESSMENT, "decided_to_assess": True}, "decided_to_assess"),
    ("ehc_needs_assessment", {**NEEDS_ASSESSMENT, "requester_type": "neighbour"}, "requester_type"),
    ("ehc_needs_assessment", {**NEEDS_ASSESSMENT, "received_at": "last Tuesday"}, "received_at"),
    ("ehc_needs_assessment", {"requester_type": "parent"}, "requester_name"),
    ("complaint", {"case_id": 999}, "data"),
    ("ehc_plan_drafting", {"personal_budget_requested": True}, "start_date"),
])
def test_start_data_is_only_the_forms_own_answers(services: Services, routes: World, process_id: str,
                                                  data: dict[str, Any], field: str) -> None:
    with pytest.raises(FormInvalid) as refused:
        start_by_hand(services.engine, routes.case_id, process_id, data, None)

    assert field in refused.value.errors
    assert instances(services, routes.case_id) == 0


def test_the_moment_of_receipt_typed_in_london_time_starts_the_clock(services: Services, routes: World) -> None:
    # Friday 27 February 2026 at 17:30 (GMT): after 5pm, so the clock starts on Monday 2 March; 6 weeks to decide
    # whether to assess ends on Monday 13 April 2026.
    instance_id = start_by_hand(services.engine, routes.case_id, "ehc_needs_assessment", NEEDS_ASSESSMENT,
                                user(services, routes, "caseworker"))

    data = restored_data(services.engine, services, instance_id, "UT_register")
    assert data["case_id"] == routes.case_id
    assert data["received_at"] == "2026-02-27T17:30:00+00:00"
    assert data["requester_name"] == "Sam Taylor"
    assert (data["start_date"], data["decide_by"]) == ("2026-03-02", "2026-04-13")


# ---- every declared route reaches its first task ----------------------------------------------------------------------

FIRST_TASKS = [
    ("annual_review", True, None, "UT_setup"),
    ("plan_amendment", True, None, "UT_propose"),
    ("cease_plan", True, None, "UT_consider"),
    ("reassessment", True, None, "UT_register"),
    ("plan_transfer", True, None, "UT_record_move"),
    ("complaint", False, None, "UT_record_complaint"),
    ("ehc_needs_assessment", False, {"requester_type": "school", "requester_name": "Test Primary School"},
     "UT_register"),
    ("ehc_plan_drafting", False, {"start_date": "2026-01-12", "personal_budget_requested": True},
     "UT_health_provision"),
    ("tribunal_order", True, ORDER, "UT_confirm_keep"),
]


@pytest.mark.parametrize(("process_id", "with_plan", "data", "first_task"), FIRST_TASKS,
                         ids=[case[0] for case in FIRST_TASKS])
def test_each_declared_route_starts_and_reaches_its_first_task(services: Services, routes: World, process_id: str,
                                                               with_plan: bool, data: dict[str, Any] | None,
                                                               first_task: str) -> None:
    if with_plan:
        give_plan(services, routes)

    instance_id = start_by_hand(services.engine, routes.case_id, process_id, data, user(services, routes, "caseworker"))

    assert first_task in open_tasks(services, instance_id)
    restored = restored_data(services.engine, services, instance_id, first_task)
    assert restored["case_id"] == routes.case_id and restored["la_id"] == routes.la.id
    for key, value in (data or {}).items():
        assert restored[key] == value


def test_a_start_form_is_part_of_the_routes_version(registry: ProcessRegistry) -> None:
    assert "forms/start_needs_assessment.json" in registry.get("ehc_needs_assessment").files
    assert "forms/start_tribunal_order.json" in registry.get("tribunal_order").files
    # Called from the disagreement route, tribunal_order's start form is not that route's.
    assert "forms/start_tribunal_order.json" not in registry.get("disagreement_resolution").files


def test_a_routes_own_documentation_is_there_for_a_page_without_help(services: Services, routes: World) -> None:
    with services.session_factory() as s:
        text = documentation(services.engine, s, "complaint")

    assert text is not None and text.startswith("Complaints about the authority's SEND, social care and health")
