"""Report figures against a seeded set of cases whose answers were worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from engine.reports.timeliness import overdue_by_route, timeliness
from engine.runtime.services import Services
from engine.store.models import Deadline
from tests.conftest import World


def _deadline(s, case_id: int, key: str, due: date, done: datetime | None, missed: bool,
              exception: str | None = None, status: str | None = None) -> None:
    """A deadline; a 20-week plan deadline comes with its request, received (10:00 UTC) 20 weeks before it is due."""
    instance_id = None
    if key == "final_plan_20w":
        received = (due - timedelta(weeks=20)).isoformat()
        instance_id = _instance(s, case_id, "ehc_needs_assessment", "completed", received, {}, hour=10)
    s.add(Deadline(case_id=case_id, key=key, name=key, process_id="ehc_needs_assessment", due_date=due,
                   started_on=date(2026, 1, 5), met_at=done, missed=missed, instance_id=instance_id,
                   status=status or ("missed" if missed else ("met" if done else "open")),
                   exception_reason=exception))



def test_timeliness_with_and_without_exceptions(services: Services, world: World) -> None:
    c = world.case_id
    with services.session_factory() as s:
        # March 2026: 4 plans issued: 2 on time, 1 late with an exception, 1 late without.
        _deadline(s, c, "final_plan_20w", date(2026, 3, 20), datetime(2026, 3, 2, 12, tzinfo=UTC), False)
        _deadline(s, c, "final_plan_20w", date(2026, 3, 20), datetime(2026, 3, 19, 12, tzinfo=UTC), False)
        _deadline(s, c, "final_plan_20w", date(2026, 3, 2), datetime(2026, 3, 25, 12, tzinfo=UTC), True,
                  "exceptional_personal_circumstances")
        _deadline(s, c, "final_plan_20w", date(2026, 3, 2), datetime(2026, 3, 31, 22, 30, tzinfo=UTC), True)
        # 31 March 22:30 UTC is 23:30 BST on 31 March: still March. 30 April 23:30 UTC is 1 May in London.
        _deadline(s, c, "final_plan_20w", date(2026, 5, 20), datetime(2026, 4, 30, 23, 30, tzinfo=UTC), False)
        # Not counted: still open, or no longer applies.
        _deadline(s, c, "final_plan_20w", date(2026, 3, 20), None, False)
        _deadline(s, c, "final_plan_20w", date(2026, 3, 20), datetime(2026, 3, 3, tzinfo=UTC), False,
                  status="cancelled")
        _deadline(s, c, "decide_whether_to_assess", date(2026, 2, 16), datetime(2026, 2, 10, tzinfo=UTC),
                  False)
        s.commit()
        rows = {(r.measure, r.period): r for r in timeliness(s)}
    march = rows[("EHC plans issued within 20 weeks", "2026-03")]
    assert (march.completed, march.on_time, march.late_with_exception) == (4, 2, 1)
    assert march.percent == 50.0  # 2 of 4
    assert march.percent_excluding_exceptions == 66.7  # 2 of the 3 without an exception
    may = rows[("EHC plans issued within 20 weeks", "2026-05")]
    assert (may.completed, may.percent) == (1, 100.0)
    assert rows[("Decisions to assess within 6 weeks", "2026-02")].percent == 100.0
    assert ("EHC plans issued within 20 weeks", "2026-04") not in rows
    with services.session_factory() as s:
        yearly = {(r.measure, r.period): r for r in timeliness(s, by="year")}
    assert yearly[("EHC plans issued within 20 weeks", "2026")].completed == 5


def test_overdue_by_route(services: Services, world: World) -> None:
    with services.session_factory() as s:
        _deadline(s, world.case_id, "decide_whether_to_assess", date(2026, 2, 16),
                  datetime(2026, 2, 20, 9, tzinfo=UTC), True)
        _deadline(s, world.case_id, "final_plan_20w", date(2026, 5, 25), None, False)
        _deadline(s, world.other_case_id, "final_plan_20w", date(2026, 2, 25), None, False)
        s.commit()
        assert overdue_by_route(s, date(2026, 3, 1)) == [("ehc_needs_assessment", 1)]
        assert overdue_by_route(s, date(2026, 6, 1)) == [("ehc_needs_assessment", 2)]


# ---- a seeded set of cases, with the right answers worked out by hand -----------------------------------------------

def _at(day: str, hour: int = 12, minute: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=UTC)


def _version(s, process_id: str) -> int:
    from engine.store.models import ProcessVersion

    row = ProcessVersion(process_id=process_id, name=process_id.replace("_", " ").capitalize(),
                         version_hash=f"hash-{process_id}", files={}, spec_json="{}", deployed_at=_at("2026-01-01"))
    s.add(row)
    s.flush()
    return row.id


def _instance(s, case_id: int, process_id: str, status: str, created: str, versions: dict[str, int],
              hour: int = 12) -> int:
    from engine.store.models import ProcessInstance, ProcessVersion

    if process_id not in versions:
        existing = s.scalar(select(ProcessVersion.id).where(ProcessVersion.process_id == process_id))
        versions[process_id] = existing or _version(s, process_id)
    row = ProcessInstance(case_id=case_id, process_version_id=versions[process_id], process_id=process_id,
                          status=status, state="{}", serializer_version="test", created_at=_at(created, hour),
                          updated_at=_at(created, hour))
    s.add(row)
    s.flush()
    return row.id


def _row(s, case_id: int, key: str, due: str, met: datetime | None = None, missed: bool = False,
         exception: str | None = None, status: str | None = None, process: str = "ehc_needs_assessment",
         instance_id: int | None = None, attached: str | None = None) -> Deadline:
    """A deadline row; a 20-week plan deadline with no route given comes with its request (received 20 weeks
    before it is due, so that the DfE's measure and the local one agree unless a test says otherwise)."""
    if key == "final_plan_20w" and instance_id is None and process == "ehc_needs_assessment":
        received = (date.fromisoformat(due) - timedelta(weeks=20)).isoformat()
        instance_id = _instance(s, case_id, "ehc_needs_assessment", "completed", received, {}, hour=10)
    row = Deadline(case_id=case_id, key=key, name=key, process_id=process, due_date=date.fromisoformat(due),
                   started_on=date(2026, 1, 5), met_at=met, missed=missed, instance_id=instance_id,
                   attached_task_guid=attached, exception_reason=exception,
                   status=status or ("missed" if missed else ("met" if met else "open")))
    s.add(row)
    return row


def _task(s, case_id: int, instance_id: int, guid: str, role: str, org_id: int, due: str) -> None:
    from engine.store.models import HumanTask

    s.add(HumanTask(instance_id=instance_id, case_id=case_id, task_guid=guid, process_id="p", bpmn_id=guid, name=guid,
                    role=role, organisation_id=org_id, due_date=date.fromisoformat(due), status="open",
                    created_at=_at("2026-06-01")))


def _cases(services: Services, world: World, names: list[str], la_id: int | None = None) -> list[int]:
    with services.session_factory() as s:
        ids = [services.engine.open_case(s, la_id or world.la.id, n, "Seed", "2014-09-01").id for n in names]
        s.commit()
    return ids


def test_seeded_timeliness_by_month_and_year(services: Services, world: World) -> None:
    a = world.case_id
    b, c, d = _cases(services, world, ["Bea", "Cal", "Dee"])
    with services.session_factory() as s:
        # 20-week plans.
        _row(s, a, "final_plan_20w", "2026-03-20", _at("2026-03-10"))                       # March, on time
        _row(s, b, "final_plan_20w", "2026-03-09", _at("2026-03-16"), True,
             "exceptional_personal_circumstances")                                         # March, late, exception
        # 23:30 UTC on 31 March is 00:30 BST on 1 April: an April plan. On time, yet an exception was claimed.
        _row(s, c, "final_plan_20w", "2026-04-10", _at("2026-03-31", 23, 30), False, "absent_from_area")
        _row(s, d, "final_plan_20w", "2026-03-02", _at("2026-04-02", 9), True)              # April, late
        _row(s, world.other_case_id, "final_plan_20w", "2026-03-02", _at("2026-03-05"), True)  # another LA's
        _row(s, a, "final_plan_20w", "2026-03-20", None)                                    # not issued yet
        # Decisions whether to assess: February on time; 2 March (late) is a March decision.
        _row(s, a, "decide_whether_to_assess", "2026-02-16", _at("2026-02-10"))
        _row(s, b, "decide_whether_to_assess", "2026-02-27", _at("2026-03-02"), True)
        # Reviews: both in May, one late.
        _row(s, a, "annual_review", "2026-05-31", _at("2026-05-20"), process="annual_review")
        _row(s, b, "annual_review", "2026-05-01", _at("2026-05-12"), True, process="annual_review")
        # Amendments: the routes' key is amended_plan; the 8 weeks were kept.
        _row(s, c, "amended_plan", "2026-06-30", _at("2026-06-01"), process="plan_amendment")
        s.commit()
        monthly = {(r.measure, r.period): r for r in timeliness(s, la_id=world.la.id)}
        yearly = {(r.measure, r.period): r for r in timeliness(s, la_id=world.la.id, by="year")}
    plans = "EHC plans issued within 20 weeks"
    march, april = monthly[(plans, "2026-03")], monthly[(plans, "2026-04")]
    # March: a (on time) and b (late, exception): 1 of 2 = 50%; without exceptions b leaves both: 1 of 1 = 100%.
    assert (march.completed, march.on_time, march.with_exception) == (2, 1, 1)
    assert (march.percent, march.percent_excluding_exceptions) == (50.0, 100.0)
    # April: c (on time, exception) and d (late): 1 of 2 = 50%; without exceptions c leaves both: 0 of 1 = 0%.
    assert (april.completed, april.on_time, april.on_time_with_exception) == (2, 1, 1)
    assert (april.percent, april.percent_excluding_exceptions) == (50.0, 0.0)
    # 2026: 2 of 4 on time = 50%; without exceptions (b and c out): a of a and d = 1 of 2 = 50%.
    year = yearly[(plans, "2026")]
    assert (year.completed, year.on_time, year.completed_excluding_exceptions) == (4, 2, 2)
    assert (year.percent, year.percent_excluding_exceptions) == (50.0, 50.0)
    decisions = "Decisions to assess within 6 weeks"
    assert monthly[(decisions, "2026-02")].percent == 100.0
    assert monthly[(decisions, "2026-03")].percent == 0.0
    assert yearly[(decisions, "2026")].percent == 50.0
    assert (monthly[("Reviews completed on time", "2026-05")].completed,
            monthly[("Reviews completed on time", "2026-05")].percent) == (2, 50.0)
    assert monthly[("Amendments issued within 8 weeks", "2026-06")].percent == 100.0
    # The other authority sees only its own plan: 1 issued, late.
    with services.session_factory() as s:
        other = timeliness(s, la_id=world.other_la.id, by="year")
    assert [(r.measure, r.completed, r.on_time) for r in other] == [
        (plans, 1, 0), ("EHC plans issued within 20 weeks of the statutory start date (local measure)", 1, 0)]


def test_seeded_work_in_progress(services: Services, world: World) -> None:
    from engine.reports.timeliness import (
        NO_ROUTE,
        PLAN_MAINTAINED,
        open_cases_by_stage,
        open_tasks_by_stage,
        overdue_by_team,
    )
    from engine.store.models import Case, PlanVersion

    a = world.case_id
    b, c, d, e, f, g, h = _cases(services, world, ["Bea", "Cal", "Dee", "Eve", "Fay", "Gus", "Hal"])
    today = date(2026, 7, 1)
    versions: dict[str, int] = {}
    with services.session_factory() as s:
        _instance(s, a, "ehc_plan_drafting", "completed", "2026-02-01", versions)
        review_a = _instance(s, a, "annual_review", "waiting_timer", "2026-05-01", versions)
        review_b = _instance(s, b, "annual_review", "running", "2026-04-01", versions)
        _instance(s, b, "disagreement_resolution", "waiting_person", "2026-06-01", versions)  # beside the review
        s.add(PlanVersion(case_id=c, number=1, kind="final", label="Final", sections={}, created_at=_at("2026-02-01"),
                          issued_at=_at("2026-02-02")))
        assess_d = _instance(s, d, "ehc_needs_assessment", "waiting_person", "2026-04-01", versions)
        assess_e = _instance(s, e, "ehc_needs_assessment", "waiting_person", "2026-01-10", versions)
        drafting_e = _instance(s, e, "ehc_plan_drafting", "waiting_person", "2026-05-01", versions)
        s.get(Case, f).status = "closed"
        _instance(s, f, "annual_review", "running", "2026-05-01", versions)  # a closed case is not counted
        _instance(s, h, "complaint", "waiting_person", "2026-06-01", versions)  # only a route beside the main line
        # Overdue on 1 July 2026 (due before today, work not done):
        _task(s, d, assess_d, "ep-task", "educational_psychologist", world.la.id, "2026-06-15")
        _row(s, d, "advice:ep", "2026-06-15", instance_id=assess_d, attached="ep-task")   # EP's task
        _task(s, e, drafting_e, "cw-task", "la_caseworker", world.la.id, "2026-06-25")
        _task(s, e, drafting_e, "health-task", "health", world.health.id, "2026-06-28")
        _row(s, e, "final_plan_20w", "2026-06-20", instance_id=drafting_e)                 # earliest task: caseworker
        _row(s, b, "review_decision", "2026-06-10", missed=True, process="annual_review",
             instance_id=review_b)                                                         # missed, no task open
        # Not overdue: due today; done late; no longer applies; another authority's.
        _row(s, a, "advice:health", "2026-07-01", instance_id=review_a)
        _row(s, a, "decide_whether_to_assess", "2026-02-16", _at("2026-03-01"), True, instance_id=assess_e)
        _row(s, e, "decision_not_to_issue", "2026-05-01", status="cancelled", instance_id=assess_e)
        _row(s, world.other_case_id, "final_plan_20w", "2026-05-01")
        s.commit()
        stages = open_cases_by_stage(s, la_id=world.la.id)
        by_route = overdue_by_route(s, today, la_id=world.la.id)
        by_team = overdue_by_team(s, today, la_id=world.la.id)
        everyone = overdue_by_route(s, today)
        tasks = open_tasks_by_stage(s, la_id=world.la.id)
    # a and b are in their reviews (b's disagreement runs beside it), c's plan is maintained, d is being assessed,
    # e has moved on to drafting, h has only a complaint, g nothing; f is closed; the other LA's case is not here.
    assert g and stages == [("ehc_needs_assessment", 1), ("ehc_plan_drafting", 1), ("annual_review", 2),
                            (PLAN_MAINTAINED, 1), ("complaint", 1), (NO_ROUTE, 1)]
    assert by_route == [("annual_review", 1), ("ehc_needs_assessment", 2)]
    assert by_team == [("No task open", 1), ("Testshire Council (Educational psychologist)", 1),
                       ("Testshire Council (LA caseworker)", 1)]
    assert everyone == [("annual_review", 1), ("ehc_needs_assessment", 3)]  # the other LA's counts without a filter
    # Tasks count for the route of their instance (the task rows say "p", as a sub-process's would).
    assert tasks == [("ehc_needs_assessment", "ep-task", 1), ("ehc_plan_drafting", "cw-task", 1),
                     ("ehc_plan_drafting", "health-task", 1)]
