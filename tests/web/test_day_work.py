"""A day's work on one screen (issue 17, points 1, 2, 3, 5 and 6): the 20-week clock from the day a request arrives,
tasks and deadlines that say what they are about, overdue work first (chase tasks carry the date they chase), a task
on a failed route shown as such before anyone types, and what happens after a task is sent.

The calendar, worked out by hand (not by the code under test):

- 2026: British Summer Time from Sunday 29 March to Sunday 25 October, so 10:00 in England is 09:00 UTC. Good
  Friday is 3 April and Easter Monday 6 April (bank holidays).
- A request received on Good Friday, 3 April 2026, at 10:00: not a working day, and neither are Saturday 4, Sunday 5
  and Easter Monday 6 April, so the 20 weeks start on Tuesday 7 April 2026 (day 1 of week 1).
- 6 weeks (decide whether to assess): 7 April + 42 days = Tuesday 19 May 2026.
- 20 weeks (the final plan): 7 April + 140 days = 7 April + 23 (30 April) + 31 (31 May) + 30 (30 June) + 31
  (31 July) + 25 = Tuesday 25 August 2026.
- The family's views and the setting's evidence are asked for when the request is registered, on 7 April: 15 days
  later is Wednesday 22 April 2026.
- Week 9 of 20 starts on day 57: 7 April + 56 days = Tuesday 2 June 2026, and runs to Monday 8 June.
- Advice requested on Thursday 23 April 2026 is due 6 weeks later, Thursday 4 June 2026; its timer fires at midnight
  at the end of that day in England (23:00 UTC on 4 June), so on Friday 5 June the advice is overdue, in week 9.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from engine.reports.timeliness import overdue_by_route
from engine.runtime.services import Services
from engine.runtime.workflow_engine import WorkflowEngine
from engine.statutory.clock import FrozenClock
from engine.store.models import Deadline, HumanTask, ProcessInstance
from tests.conftest import World
from tests.unit.test_lint import copy_valid, lint
from tests.web.conftest import open_task, soup, text_of
from tests.web.test_task_forms import VALID
from tests.web.test_task_lists import rows
from tests.workflows.drivers import CaseDriver

ASSESSMENT = "ehc_needs_assessment"
RECEIVED = datetime(2026, 4, 3, 9, 0, tzinfo=UTC)  # Good Friday, 10:00 BST
EVIDENCE = {"setting_attainment": "Well below age-related expectations.", "setting_needs": "Literacy.",
            "setting_action_taken": "Two years of SEN support.", "setting_over_and_above": "yes"}
ADVICE_KEYS = ("education", "psychological", "health", "social_care", "adviser_1")
DETAILS = {"education": "Educational advice", "psychological": "Psychological advice",
           "health": "Medical advice and information", "social_care": "Social care advice and information",
           "adviser_1": "Advice from Sam Speech, Speech and language therapist"}


def utc(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def start_assessment(services: Services, world: World, clock: FrozenClock) -> CaseDriver:
    """The request received on Good Friday, as the front door passes it on (the route takes that moment)."""
    driver = CaseDriver(services, world.users, world.case_id)
    clock.set(RECEIVED)
    driver.start(ASSESSMENT, {"requester_type": "parent", "requester_name": "Jo Taylor",
                              "received_at": RECEIVED.isoformat()})
    return driver


def to_advice(driver: CaseDriver) -> None:
    """Registered on 7 April, decided on 21 April, five advice requests sent on Thursday 23 April."""
    driver.complete("UT_register", {"has_setting": "yes", "assessed_in_last_six_months": "no"}, utc(4, 7))
    driver.complete("UT_family_views", {"family_views": "Please assess."}, utc(4, 14))
    driver.complete("UT_setting_evidence", EVIDENCE, utc(4, 15))
    driver.complete("UT_panel_assess", {"panel_met_on": "2026-04-20", "panel_recommendation": "assess",
                                        "panel_reasons": "Meets the test."}, utc(4, 20))
    driver.complete("UT_decide_assess", {"assess_decision": "assess"}, utc(4, 21))
    driver.complete("UT_plan_advice", {"other_advisers": [
        {"name": "Sam Speech", "role": "Speech and language therapist", "requested_by": "family"}]}, utc(4, 22))
    for key in ADVICE_KEYS:
        driver.complete("UT_request_advice", {"advice_route": "new_request"}, utc(4, 23), key=key)


def clock_panel(page: Any) -> str:
    panel = page.select_one("#assessment-clock")
    assert panel is not None, "no clock panel"
    return text_of(panel)


# ---- 1. the 20-week clock from day one -------------------------------------------------------------------------------

def test_the_20_week_clock_shows_from_the_day_the_request_is_received(as_user: Any, world: World, deployed: Any,
                                                                      services: Services, clock: FrozenClock) -> None:
    driver = start_assessment(services, world, clock)
    # Day one: nothing is registered, no deadline row exists, yet the 20 weeks run from Tuesday 7 April.
    with services.session_factory() as s:
        assert list(s.scalars(select(Deadline).where(Deadline.case_id == world.case_id))) == []
    caseworker = as_user("caseworker")
    panel = clock_panel(caseworker.page(f"/cases/{world.case_id}"))
    assert "Week 1 of 20" in panel and "from 7 April 2026" in panel
    assert "Final EHC plan due 25 August 2026" in panel
    assert "Due next Decide whether to assess (6 weeks) 19 May 2026" in panel
    listed = rows(caseworker.page("/tasks/"))
    assert [r["Task"] for r in listed] == ["Check and register the request"]
    assert listed[0]["Child"] == ("Alex Taylor Week 1 of 20 · final plan by 25 Aug 2026 · next: Decide whether to "
                                  "assess (6 weeks), 19 May 2026")

    # Registered on Tuesday 7 April: the 6-week deadline row now gives the same start, and the same 20 weeks.
    driver.complete("UT_register", {"has_setting": "yes", "assessed_in_last_six_months": "no"}, utc(4, 7))
    assert driver.deadlines() == {"decide_whether_to_assess": ("2026-05-19", "open")}
    caseworker = as_user("caseworker")  # signed in again: the clock moved on days, past the session's idle time
    panel = clock_panel(caseworker.page(f"/cases/{world.case_id}"))
    assert "Week 1 of 20" in panel and "Final EHC plan due 25 August 2026" in panel
    # What is due next: the family's views and the setting's evidence, 15 days after 7 April.
    assert "Due next Give your views and evidence 22 April 2026" in panel

    # Tuesday 2 June, whatever step the route is at (here the decision is late): week 9 of 20, same final date.
    driver.at(utc(6, 2))
    panel = clock_panel(as_user("caseworker").page(f"/cases/{world.case_id}"))
    assert "Week 9 of 20" in panel and "Final EHC plan due 25 August 2026" in panel
    clock.set(utc(6, 1, 22, 59))  # Monday 1 June, 23:59 BST: still week 8
    assert "Week 8 of 20" in clock_panel(as_user("caseworker").page(f"/cases/{world.case_id}"))


def test_a_case_with_no_assessment_has_no_20_week_clock(as_user: Any, world: World, started: int) -> None:
    page = as_user("caseworker").page(f"/cases/{world.case_id}")
    assert page.select_one("#assessment-clock") is None
    assert rows(as_user("caseworker").page("/tasks/"))[0]["Child"] == "Alex Taylor"


# ---- 2 and 3. rows you can tell apart; overdue first; filters and reports agree --------------------------------------

def test_advice_tasks_and_deadlines_say_whose_and_overdue_chasing_comes_first(
        as_user: Any, world: World, deployed: Any, services: Services, clock: FrozenClock) -> None:
    driver = start_assessment(services, world, clock)
    to_advice(driver)
    # Five requests, five tasks, five deadlines: each names the advice it is about, from the route's data.
    with services.session_factory() as s:
        tasks = {t.bpmn_id + ":" + (t.detail or ""): t.due_date for t in s.scalars(
            select(HumanTask).where(HumanTask.case_id == world.case_id, HumanTask.status == "open"))}
        deadlines = {d.name: d.due_date for d in s.scalars(
            select(Deadline).where(Deadline.case_id == world.case_id, Deadline.key.startswith("advice:")))}
    assert tasks == {
        "UT_advice_school:Educational advice": date(2026, 6, 4),
        "UT_advice_ep:Psychological advice": date(2026, 6, 4),
        "UT_advice_health:Medical advice and information": date(2026, 6, 4),
        "UT_advice_social_care:Social care advice and information": date(2026, 6, 4),
        "UT_record_advice:Advice from Sam Speech, Speech and language therapist": date(2026, 6, 4)}
    assert deadlines == {f"Advice due (6 weeks from the request, reg 8): {d}": date(2026, 6, 4)
                         for d in DETAILS.values()}
    caseworker = as_user("caseworker")
    case_page = caseworker.page(f"/cases/{world.case_id}")
    assert "Advice due (6 weeks from the request, reg 8): Advice from Sam Speech" in text_of(case_page)
    open_rows = [text_of(tr.select_one("td")) for tr in case_page.select("#tasks + table tbody tr")]
    assert sorted(open_rows) == ["Give educational advice Educational advice",
                                 "Give medical advice and information Medical advice and information",
                                 "Give psychological advice Psychological advice",
                                 "Give social care advice and information Social care advice and information",
                                 "Record the advice received Advice from Sam Speech, Speech and language therapist"]
    listed = rows(caseworker.page("/tasks/"))
    assert [r["Task"] for r in listed] == ["Record the advice received Advice from Sam Speech, Speech and language "
                                           "therapist"]
    # The task page says what it is about, and where the case is in its 20 weeks (Thursday 23 April: week 3).
    record = open_task(services, world.case_id, "UT_record_advice")
    summary = text_of(caseworker.page(f"/tasks/{record.id}").select_one(".govuk-summary-list"))
    assert summary.startswith("About Advice from Sam Speech, Speech and language therapist Route ")
    assert "Assessment Week 3 of 20, final plan due 25 August 2026" in summary

    # Tuesday 2 June, week 9: the advice is due on Thursday.
    driver.at(utc(6, 2))
    caseworker = as_user("caseworker")
    panel = clock_panel(caseworker.page(f"/cases/{world.case_id}"))
    assert "Week 9 of 20" in panel and "Final EHC plan due 25 August 2026" in panel
    assert "Due next Advice due (6 weeks from the request, reg 8): Educational advice 4 June 2026" in panel

    # Friday 5 June: the 6 weeks passed at midnight. Each chase task carries the date of the deadline it chases.
    driver.at(utc(6, 5))
    with services.session_factory() as s:
        chases = {t.detail: t.due_date for t in s.scalars(select(HumanTask).where(
            HumanTask.case_id == world.case_id, HumanTask.bpmn_id == "UT_chase_advice", HumanTask.status == "open"))}
        missed = {d.name.split(": ", 1)[1]: d.due_date for d in s.scalars(select(Deadline).where(
            Deadline.case_id == world.case_id, Deadline.key.startswith("advice:"), Deadline.status == "missed"))}
        report = overdue_by_route(s, clock.today(), la_id=world.la.id)
    assert chases == missed == {detail: date(2026, 6, 4) for detail in DETAILS.values()}
    # The manager's "Overdue" filter finds the chase tasks, one for each overdue deadline the report counts.
    manager = as_user("manager")
    overdue = rows(manager.page("/tasks/team?status=overdue"))
    chase_rows = [r for r in overdue if r["Task"].startswith("Advice is overdue: chase it")]
    assert report == [(ASSESSMENT, 5)] and len(chase_rows) == 5
    assert sorted(r["Task"].removeprefix("Advice is overdue: chase it ") for r in chase_rows) == sorted(DETAILS.values())
    assert {r["Due"] for r in overdue} == {"4 Jun 2026 Overdue"}
    # Overdue first: the manager's own list starts with the overdue chase tasks, before work with no date.
    mine = rows(manager.page("/tasks/"))
    assert [r["Due"] for r in mine] == ["4 Jun 2026 Overdue"] * 5
    assert rows(manager.page("/tasks/?status=overdue")) == mine


def test_overdue_work_sorts_first_even_before_an_earlier_task_with_an_exception(
        as_user: Any, world: World, services: Services, engine: WorkflowEngine, started: int) -> None:
    """Today is Monday 2 March 2026. Three web route tasks: one due 20 February with a timescale exception claimed
    (the exception excuses the lateness), one due 1 March (overdue), one with no date. Overdue comes first, then
    the rest by date, then no date."""
    for _ in range(2):
        engine.start(world.case_id, "web_route")
    with services.session_factory() as s:
        excused, late, undated = s.scalars(select(HumanTask).where(HumanTask.case_id == world.case_id)
                                           .order_by(HumanTask.id)).all()
        excused.due_date, late.due_date, undated.due_date = date(2026, 2, 20), date(2026, 3, 1), None
        s.add(Deadline(case_id=world.case_id, instance_id=excused.instance_id, key="test", name="Test deadline",
                       due_date=date(2026, 2, 20), attached_task_guid=excused.task_guid, status="missed", missed=True,
                       exception_reason="setting_closed"))
        s.commit()
    listed = rows(as_user("caseworker").page("/tasks/"))
    assert [r["Due"] for r in listed] == ["1 Mar 2026 Overdue", "20 Feb 2026 Exception claimed", "No due date"]


# ---- 5. a task on a failed route ---------------------------------------------------------------------------------------

def test_a_task_on_a_failed_route_says_so_before_anyone_types(as_user: Any, world: World, services: Services,
                                                              started: int) -> None:
    task = open_task(services, world.case_id, "UT_record")
    caseworker = as_user("caseworker")
    page = caseworker.page(f"/tasks/{task.id}")
    assert page.select_one("#route-stopped") is None
    assert page.select_one("form fieldset[disabled]") is None
    with services.session_factory() as s:
        instance = s.get(ProcessInstance, started)
        assert instance is not None
        instance.status = "failed"
        s.commit()
    listed = rows(caseworker.page("/tasks/"))
    assert listed[0]["Task"] == "Record the request Route stopped: an administrator has been told"
    page = caseworker.page(f"/tasks/{task.id}")
    assert text_of(page.select_one("#route-stopped")).startswith(
        "! Warning Route stopped: an administrator has been told")
    form = page.select_one(f"form[action='/tasks/{task.id}']")
    fieldset = form.select_one("fieldset[disabled]")
    assert fieldset is not None and fieldset.select("input")  # every field (and "Add another") inside is disabled
    assert all(b.has_attr("disabled") or fieldset in b.parents for b in form.select("button"))
    # Answers sent all the same (an old page) are refused, and kept on the page.
    page = soup(caseworker.post(f"/tasks/{task.id}", VALID + [("_action", "submit")], status=200))
    assert "Your answers were not sent" in text_of(page)
    assert open_task(services, world.case_id, "UT_record").status == "open"


# ---- 6. after submitting: what happens next -----------------------------------------------------------------------

def test_after_sending_a_task_the_confirmation_says_who_has_the_next_step_and_by_when(
        as_user: Any, world: World, deployed: Any, services: Services, clock: FrozenClock) -> None:
    start_assessment(services, world, clock)
    clock.set(utc(4, 7))
    register = open_task(services, world.case_id, "UT_register")
    caseworker = as_user("caseworker")
    response = caseworker.post(f"/tasks/{register.id}", [("has_setting", "yes"), ("assessed_in_last_six_months", "no"),
                                                         ("_action", "submit")], status=302)
    assert response.headers["Location"] == "/tasks/"
    page = caseworker.page("/tasks/")
    banner = page.select_one("#task-done")
    assert banner is not None and "govuk-notification-banner--success" in banner["class"]
    assert text_of(banner) == (
        "Success Done: Check and register the request. Thank you. What happens next "
        "Give your views and evidence: Parent or young person, by 22 April 2026 "
        "Send the setting's evidence: School or setting, Test Primary School, by 22 April 2026 "
        "Go to the case EHC-2026-00001")
    assert banner.select_one("a")["href"] == f"/cases/{world.case_id}"
    assert caseworker.page("/tasks/").select_one("#task-done") is None  # said once


def test_the_web_routes_confirmation_still_says_done(as_user: Any, world: World, services: Services,
                                                     started: int) -> None:
    task = open_task(services, world.case_id, "UT_record")
    caseworker = as_user("caseworker")
    caseworker.post(f"/tasks/{task.id}", VALID + [("_action", "submit")], status=302)
    banner = soup(caseworker.get("/tasks/")).select_one("#task-done")
    assert "Done: Record the request" in text_of(banner)
    assert "Give your views: Parent or young person, by 16 March 2026" in text_of(banner)  # 2 March + 14 days




# ---- 2. the checker accepts taskDetail on tasks, and only there ------------------------------------------------------

def test_the_checker_reads_task_detail_as_an_expression_on_a_task(tmp_path: Path) -> None:
    due = '<spiffworkflow:property name="dueDate" value="decide_by" />'
    good = copy_valid(tmp_path, (due, due + '<spiffworkflow:property name="taskDetail" value="child_name" />'))
    assert lint(good) == []
    broken = copy_valid(tmp_path, (due, due + '<spiffworkflow:property name="taskDetail" value="child_name +" />'),
                        name="broken.bpmn")
    assert [(p.element_id, "syntax error in the taskDetail expression" in p.message) for p in lint(broken)] == [
        ("UT_decide", True)]
    timer = "<spiffworkflow:property name=\"deadlineDetail\""
    on_timer = copy_valid(tmp_path, (timer, '<spiffworkflow:property name="taskDetail" value="child_name" />' + timer),
                          name="timer.bpmn")
    assert [(p.element_id, p.message) for p in lint(on_timer)] == [
        ("TE_decide_due", "taskDetail says what a person's task is about: it is only read on a user, manual or plain "
                          "task, not on a boundaryEvent")]
