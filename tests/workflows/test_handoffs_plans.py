"""Hand-offs between the plan routes, with the real routes (issue 14): every place one of the plan routes starts,
calls or tells another, and the test that drives it with the project's own ``workflows/`` folder deployed as
``ehcflow setup`` deploys it (``real_routes()``), through the engine's commands with a moved clock. Each test asserts
the started route's instance (process and parent), the data it got, its first tasks and their deadlines.

Each hand-off (from route and element, to route, how) and the test that covers it:

- ehc_needs_assessment ST_start_plan_drafting -> ehc_plan_drafting (startsRoute: start_date, advice_received;
  after a tribunal order final_plan_due too): test_front_door_chain.py (a request to the first review);
  test_handoffs_disagreement.py::test_an_order_to_assess_runs_the_assessment_on_the_orders_clocks.
- ehc_needs_assessment CA_* -> ehc_advice_request, ehc_no_plan_notice_watch (callActivity): test_needs_assessment.py,
  every path, with the real called files.
- ehc_plan_drafting issuing the final plan (opensDeadline annual_review) -> annual_review (the review scheduler):
  test_front_door_chain.py; test_reviews.py (issue_plan_on drives the real drafting route); and here
  test_a_scheduled_review_decides_to_amend_and_the_amendment_runs_inside_it.
- annual_review CA_plan_amendment -> plan_amendment (callActivity, all the review's data):
  test_a_scheduled_review_decides_to_amend_and_the_amendment_runs_inside_it.
- annual_review CA_cease_plan -> cease_plan (callActivity):
  test_a_scheduled_review_decides_to_cease_and_the_cease_procedure_runs_inside_it.
- annual_review, phase-transfer review -> plan_amendment (callActivity; the amended plan meets phase_transfer):
  test_reviews.py::test_phase_transfer_review_due_15_february_before_the_twelve_months.
- reassessment starts no other route (it amends the plan itself).
- sen_support UT_request_assessment -> ehc_needs_assessment (startsRoute: the request and the SEN support record
  as its evidence): test_sen_support.py::test_three_cycles_with_reminders_a_late_review_and_a_request_for_assessment.
- every startsRouteData of these routes -> the keys the started route reads:
  test_every_start_data_key_is_read_by_the_route_it_starts; and what tribunal_order passes them:
  test_the_plan_routes_read_what_a_tribunal_order_passes_them.

The hand-offs of plan_transfer are in tests/workflows/test_handoffs_transfer.py; docs/handoffs.md has the whole table.

The calendar (worked out by hand): 2027 British Summer Time runs from Sunday 28 March to Sunday 31 October, so a
deadline day in between is over at 23:00 UTC the day before's date + 1. "15 days beginning with" day D ends on
D + 14. Alex Taylor (the World's case) was born on 14 May 2015: Year 7 from September 2026, Year 8 from
September 2027 (so no preparing-for-adulthood discussion is required at a 2027 review), Year 12 from September 2031.
"""

from __future__ import annotations

import ast
import html
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from lxml import etree

from engine.casework import review_scheduler, reviews
from engine.runtime.services import Services
from tests.conftest import World, real_routes
from tests.workflows.drivers import CaseDriver
from tests.workflows.test_reviews import COVERAGE as REVIEW_COVERAGE

ROOT = Path(__file__).resolve().parents[2]
BPMN = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
        "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
# The routes this file covers: the starts in them must pass only what the started route reads.
PLAN_ROUTES = ("ehc_needs_assessment", "ehc_plan_drafting", "annual_review", "plan_amendment", "reassessment",
               "cease_plan", "plan_transfer", "ehc_advice_request", "ehc_no_plan_notice_watch", "sen_support")
# Names every route gets from its case (engine/intake/route_starts.py): passed, but never to be read from a starter.
CASE_FACTS = {"case_id", "case_reference", "child_name", "date_of_birth", "la_id", "started_on"}

ARRANGE = {"meeting_place": "Test Primary School, room 4", "meeting_time": "10:00", "meeting_date": "2027-09-02"}
MEETING = {"meeting_held_on": "2027-09-02", "attended_family": True, "attended_setting": True, "attended_la": True,
           "child_views": "Likes the new reading club.", "outcomes_progress": "E1 met.",
           "outcomes_still_appropriate": "some", "personal_budget": "none"}
ADVICE = (("UT_family_views", {"family_views": "Reading is better; maths is hard."}),
          ("UT_setting_advice", {"setting_outcomes_progress": "E1 met.", "setting_provision_made": "Phonics daily."}),
          ("UT_health_advice", {"health_advice": "Hearing stable.", "health_needs_changed": False}),
          ("UT_social_care_advice", {"social_care_advice": "No involvement.", "social_care_needs_changed": False}))
CHANGES = {"section_f": {"provision": [{"description": "Maths intervention", "amount": "3 x 20 minutes a week",
                                        "provided_by": "Teaching assistant", "needs": ["B1"]}]}}


def utc(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def route(services: Services, world: World) -> CaseDriver:
    services.engine.deploy(real_routes())  # as `ehcflow setup` does
    driver = CaseDriver(services, world.users, world.case_id)
    driver.coverage.append(REVIEW_COVERAGE)
    return driver


def review_until_the_decision(route: CaseDriver, world: World) -> int:
    """Alex's plan, issued by the real plan drafting route on Thursday 1 October 2026, and its first review,
    started by the scheduler and held up to the LA's decision.

    - Review due 12 months after the issue: Friday 1 October 2027, an annual review (the next phase transfer, Year
      12 in September 2031, is years away). The scheduler starts it 10 weeks before: 1 October - 70 days = Friday
      23 July 2027 (1 Oct - 30 = 1 Sep, - 31 = 1 Aug, - 9 = 23 Jul); its pass on Thursday 22 July starts nothing.
    - Invited on Monday 26 July for a meeting on Thursday 2 September (at least two weeks' notice): papers due
      19 August, advice by 18 August. Report due 16 September, decision due 30 September (2 and 4 weeks after).
    """
    route.issue_final_plan(utc(2026, 10, 1, 11), world.school.id)
    row = route.deadline("annual_review")
    assert (row.due_date, row.started_on, row.status) == (date(2027, 10, 1), date(2026, 10, 1), "open")
    route.at(utc(2027, 7, 22, 7))
    assert review_scheduler.start_due_reviews(route.engine) == []
    route.at(utc(2027, 7, 23, 7))
    [review_id] = review_scheduler.start_due_reviews(route.engine)
    route.check()
    review = route.instance("annual_review")
    assert (review.id, review.parent_instance_id) == (review_id, None)  # the scheduler, not a route, started it
    data = route.data("annual_review")
    assert {k: data[k] for k in ("scheduled", "review_kind", "last_review_on", "statutory_review_due", "review_due",
                                 "arranged_by", "latest_invitations_on")} == {
        "scheduled": True, "review_kind": "annual", "last_review_on": "2026-10-01",
        "statutory_review_due": "2027-10-01", "review_due": "2027-10-01", "arranged_by": "setting",
        "latest_invitations_on": "2027-08-20"}
    # The settings of the routes the review calls travel with it (engine/casework/reviews.py ROUTE_SETTINGS).
    for called in ("plan_amendment", "cease_plan"):
        assert {k: data[k] for k in reviews.ROUTE_SETTINGS[called]} == dict(reviews.ROUTE_SETTINGS[called])
    assert route.task("UT_arrange_setting").due_date == date(2027, 8, 20)
    route.complete("UT_arrange_setting", ARRANGE, utc(2027, 7, 26))
    assert route.deadline("review_papers").due_date == date(2027, 8, 19)
    for bpmn_id, answers in ADVICE:
        route.complete(bpmn_id, answers, utc(2027, 8, 10))
    route.complete("UT_meeting_setting", MEETING, utc(2027, 9, 2, 15))
    route.complete("UT_report_setting", {"report_recommendation": "amend", "report_summary": "Maths support.",
                                         "recommended_amendments": "Add maths provision to F."},
                   utc(2027, 9, 6))
    deadlines = route.deadlines()
    assert (deadlines["review_report"], deadlines["review_decision"]) == (
        ("2027-09-16", "met"), ("2027-09-30", "open"))
    return review_id


def review_tasks(route: CaseDriver, review_id: int) -> dict[str, tuple[str, date | None]]:
    """The open tasks of the review's instance (its called routes included): bpmn id -> (process, due date)."""
    return {t.bpmn_id: (t.process_id or "", t.due_date) for t in route.open_tasks() if t.instance_id == review_id}


def test_a_scheduled_review_decides_to_amend_and_the_amendment_runs_inside_it(route: CaseDriver,
                                                                              world: World) -> None:
    """Decided on Tuesday 7 September 2027: amend. The amendment notice goes out that day; the family has 15 days
    beginning with it (to Tuesday 21 September); the amended plan is due within 8 weeks of the notice (7 September
    + 56 days = Tuesday 2 November 2027). The review is done: the next is due 12 months later, 7 September 2028."""
    review_id = review_until_the_decision(route, world)
    route.complete("UT_decide", {"review_decision": "amend", "decision_reasons": "Maths needs support.",
                                 "amendments_summary": "Add maths provision to F.", "proposed_changes": CHANGES},
                   utc(2027, 9, 7))
    # The call activity: plan_amendment's tasks belong to the review's own instance.
    assert review_tasks(route, review_id) == {"UT_family_response": ("plan_amendment", date(2027, 9, 21))}
    assert route.instances("plan_amendment") == []
    data = route.task_data("UT_family_response")
    assert (data["amendment_context"], data["proposed_changes"], data["notice_sent_on"]) == (
        "review", CHANGES, "2027-09-07")
    assert (data["representation_days"], data["amended_plan_weeks"], data["representations_end"],
            data["amended_plan_due"]) == (15, 8, "2027-09-21", "2027-11-02")
    deadlines = route.deadlines()
    assert deadlines["amended_plan"] == ("2027-11-02", "open")
    assert route.deadline("amended_plan").instance_id == review_id
    annual = [(row.due_date, row.status) for row in route.rows("annual_review")]
    assert annual == [(date(2027, 10, 1), "met"), (date(2028, 9, 7), "open")]


def test_a_scheduled_review_decides_to_cease_and_the_cease_procedure_runs_inside_it(route: CaseDriver,
                                                                                    world: World) -> None:
    """Decided on Tuesday 7 September 2027: consider ceasing. The cease procedure starts inside the review with the
    grounds to record; once recorded, the family and the school have the authority's 15 days (an LA setting the
    review carried) from the notice: 7 September + 15 days = Wednesday 22 September 2027."""
    review_id = review_until_the_decision(route, world)
    route.complete("UT_decide", {"review_decision": "cease", "decision_reasons": "Needs met without a plan.",
                                 "cease_summary": "Alex no longer needs the provision."}, utc(2027, 9, 7))
    assert review_tasks(route, review_id) == {"UT_consider": ("cease_plan", None)}
    data = route.task_data("UT_consider")
    assert (data["cease_context"], data["cease_consultation_days"], data["appeal_months"]) == ("review", 15, 2)
    route.complete("UT_consider", {"cease_ground": "no_longer_necessary", "consult_setting": True,
                                   "grounds_detail": "Needs met through SEN support."}, utc(2027, 9, 7, 11))
    assert review_tasks(route, review_id) == {"UT_family_views": ("cease_plan", date(2027, 9, 22)),
                                              "UT_setting_views": ("cease_plan", date(2027, 9, 22))}
    assert route.task("UT_setting_views").organisation_id == world.school.id
    assert [(row.due_date, row.status) for row in route.rows("annual_review")] == [
        (date(2027, 10, 1), "met"), (date(2028, 9, 7), "open")]


# ---- the data each start passes ---------------------------------------------------------------------------------------

def _names_read(process: etree._Element) -> set[str]:
    """Every name a route's scripts, conditions and expressions read (loads of a Python name)."""
    texts = [t.text or "" for t in process.iter(f"{{{BPMN['bpmn']}}}script")]
    texts += [t.text or "" for t in process.iter(f"{{{BPMN['bpmn']}}}conditionExpression")]
    texts += [t.text or "" for t in process.iter(f"{{{BPMN['bpmn']}}}timeDate")]
    for prop in process.iter(f"{{{BPMN['spiffworkflow']}}}property"):
        value = prop.get("value") or ""
        texts.append(value.partition(":")[2] if prop.get("name") == "opensDeadline" else value)
    names: set[str] = set()
    for text in texts:
        try:
            tree = ast.parse(html.unescape(text))
        except SyntaxError:
            continue  # a plain label, not an expression
        names |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return names


def _start_keys(expression: ast.Dict) -> tuple[str, ...]:
    """The keys a startsRouteData dictionary passes, those of a part passed only sometimes included
    (``**({"final_plan_due": final_plan_by} if tribunal_order else {})``)."""
    keys: list[str] = []
    for key, value in zip(expression.keys, expression.values, strict=True):
        if isinstance(key, ast.Constant):
            keys.append(key.value)
        elif key is None:  # ** unpacking: a dictionary, or one of two
            parts = [value.body, value.orelse] if isinstance(value, ast.IfExp) else [value]
            assert all(isinstance(part, ast.Dict) for part in parts), ast.unparse(value)
            keys += [k for part in parts for k in _start_keys(part) if k not in keys]  # type: ignore[arg-type]
    return tuple(keys)


def _processes() -> dict[str, etree._Element]:
    found = {}
    for path in (ROOT / "workflows").glob("*.bpmn"):
        for process in etree.parse(str(path)).iter(f"{{{BPMN['bpmn']}}}process"):
            found[process.get("id")] = process
    return found


def test_every_start_data_key_is_read_by_the_route_it_starts() -> None:
    """Issue 14: a start whose data the started route ignores is a silent bug (the route asks again, or counts from
    the wrong day). Every ``startsRouteData`` in the plan routes passes only keys the started route reads (a case
    fact is never passed), and every start of a plan route by another file is listed so that a change is seen."""
    processes = _processes()
    problems: list[str] = []
    starts: list[tuple[str, str, str, tuple[str, ...]]] = []
    for pid, process in processes.items():
        for element in process.xpath(".//*[bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property"
                                     "[@name='startsRoute']]", namespaces=BPMN):
            props = {p.get("name"): p.get("value") for p in element.xpath(
                "bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", namespaces=BPMN)}
            target = props["startsRoute"]
            expression = ast.parse(html.unescape(props.get("startsRouteData") or "{}"), mode="eval").body
            assert isinstance(expression, ast.Dict), f"{pid} {element.get('id')}: startsRouteData is not a dict"
            keys = _start_keys(expression)
            starts.append((pid, element.get("id") or "", target, keys))
            if pid not in PLAN_ROUTES:
                continue
            read = _names_read(processes[target])
            for key in keys:
                if key in CASE_FACTS:
                    problems.append(f"{pid} {element.get('id')} -> {target}: passes the case fact {key!r}")
                elif key not in read:
                    problems.append(f"{pid} {element.get('id')} -> {target}: {target} never reads {key!r}")
    assert problems == []
    mine = sorted((pid, eid, target, keys) for pid, eid, target, keys in starts if pid in PLAN_ROUTES)
    assert mine == [
        # final_plan_due only after a tribunal order (the order's 14 weeks in place of the 20).
        ("ehc_needs_assessment", "ST_start_plan_drafting", "ehc_plan_drafting",
         ("start_date", "advice_received", "final_plan_due")),
        ("plan_transfer", "ST_start_assessment", "ehc_needs_assessment",
         ("requester_type", "requester_name", "received_at", "transferred_on", "assessment_reasons")),
        ("plan_transfer", "ST_start_health_reassessment", "reassessment", ("request_source",)),
        ("plan_transfer", "ST_start_health_review", "annual_review", ("early_reason", "review_due")),
        ("plan_transfer", "ST_start_new_la_assessment", "ehc_needs_assessment",
         ("requester_type", "requester_name", "received_at", "moved_from_la", "transferred_on")),
        # A setting's request from its SEN support record (test_sen_support.py drives it with the real routes).
        ("sen_support", "UT_request_assessment", "ehc_needs_assessment",
         ("requester_type", "requester_name", "received_at", "sen_support_evidence")),
    ]


def test_the_plan_routes_read_what_a_tribunal_order_passes_them() -> None:
    """tribunal_order.bpmn (another file, whose hand-offs are tested with it) starts the needs assessment, the
    re-assessment and an amendment: they read every key it passes (``tribunal_order`` included, kept for the
    notices). Plan drafting's start from an order is that file's edit of drafting's start script (see
    docs/handoffs.md)."""
    processes = _processes()
    unread: dict[str, list[str]] = {}
    for element in processes["tribunal_order"].xpath(
            ".//*[bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property[@name='startsRoute']]",
            namespaces=BPMN):
        props = {p.get("name"): p.get("value") for p in element.xpath(
            "bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", namespaces=BPMN)}
        target = props["startsRoute"]
        if target == "ehc_plan_drafting":
            continue
        data = ast.parse(html.unescape(props["startsRouteData"]), mode="eval").body
        assert isinstance(data, ast.Dict)
        keys = [k.value for k in data.keys if isinstance(k, ast.Constant)]
        unread[target] = [k for k in keys if k not in _names_read(processes[target])]
    assert unread == {"ehc_needs_assessment": [], "reassessment": [], "plan_amendment": []}
