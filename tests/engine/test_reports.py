"""Report figures against a seeded set of cases whose answers were worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime

from engine.reports.timeliness import overdue_by_route, sen2_csv, timeliness
from engine.runtime.services import Services
from engine.store.models import Deadline
from tests.conftest import World


def _deadline(s, case_id: int, key: str, due: date, done: datetime | None, missed: bool,
              exception: str | None = None, status: str | None = None) -> None:
    s.add(Deadline(case_id=case_id, key=key, name=key, process_id="ehc_needs_assessment", due_date=due,
                   started_on=date(2026, 1, 5), met_at=done, missed=missed,
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


def test_overdue_by_route_and_sen2_export(services: Services, world: World) -> None:
    with services.session_factory() as s:
        _deadline(s, world.case_id, "decide_whether_to_assess", date(2026, 2, 16),
                  datetime(2026, 2, 20, 9, tzinfo=UTC), True)
        _deadline(s, world.case_id, "final_plan_20w", date(2026, 5, 25), None, False)
        _deadline(s, world.other_case_id, "final_plan_20w", date(2026, 2, 25), None, False)
        s.commit()
        assert overdue_by_route(s, date(2026, 3, 1)) == [("ehc_needs_assessment", 1)]
        assert overdue_by_route(s, date(2026, 6, 1)) == [("ehc_needs_assessment", 2)]
        lines = sen2_csv(s, la_id=world.la.id).splitlines()
    assert len(lines) == 2
    assert lines[1].split(",")[:9] == ["EHC-2026-00001", "Testshire Council", "2015-05-14", "2026-01-05",
                                       "2026-02-16", "2026-02-20", "no", "", ""]


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


def _instance(s, case_id: int, process_id: str, status: str, created: str, versions: dict[str, int]) -> int:
    from engine.store.models import ProcessInstance

    if process_id not in versions:
        versions[process_id] = _version(s, process_id)
    row = ProcessInstance(case_id=case_id, process_version_id=versions[process_id], process_id=process_id,
                          status=status, state="{}", serializer_version="test", created_at=_at(created),
                          updated_at=_at(created))
    s.add(row)
    s.flush()
    return row.id


def _row(s, case_id: int, key: str, due: str, met: datetime | None = None, missed: bool = False,
         exception: str | None = None, status: str | None = None, process: str = "ehc_needs_assessment",
         instance_id: int | None = None, attached: str | None = None) -> Deadline:
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
        _row(s, world.other_case_id, "final_plan_20w", "2026-03-20", _at("2026-03-05"), True)  # another LA's
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
    assert [(r.measure, r.completed, r.on_time) for r in other] == [(plans, 1, 0)]


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


def test_seeded_sen2_export(services: Services, world: World) -> None:
    import csv
    import io

    from engine.reports.sen2 import SEN2_COLUMNS
    from engine.store.models import Case, Document, PlanVersion

    a = world.case_id
    b, c = _cases(services, world, ["Bea", "Cal"])
    versions: dict[str, int] = {}

    def doc(s, case_id: int, kind: str, at: datetime, appealable: bool = False) -> None:
        s.add(Document(case_id=case_id, kind=kind, title=kind, body_html="<p>x</p>", appealable=appealable,
                       issued_at=at))

    with services.session_factory() as s:
        # a: request 5 January (the decision was due 6 weeks later, 16 February), assessed, plan issued 11 May
        # (18 weeks), then a disagreement about the plan: mediation held and an appeal registered.
        _instance(s, a, "ehc_needs_assessment", "completed", "2026-01-05", versions)
        _row(s, a, "decide_whether_to_assess", "2026-02-16", _at("2026-02-10"))
        doc(s, a, "decision_to_assess", _at("2026-02-10"))
        doc(s, a, "decision_to_issue", _at("2026-04-20"))
        _row(s, a, "final_plan_20w", "2026-05-25", _at("2026-05-11", 10))
        doc(s, a, "pd_final_plan_notice", _at("2026-05-11", 10), appealable=True)
        s.add(PlanVersion(case_id=a, number=1, kind="final", label="Final", sections={}, created_at=_at("2026-05-11"),
                          issued_at=_at("2026-05-11", 10)))
        dr_a = _instance(s, a, "disagreement_resolution", "waiting_person", "2026-05-11", versions)
        s.flush()
        _row(s, a, "mediation_held", "2026-06-10", _at("2026-06-01"), instance_id=dr_a, process="mediation")
        _row(s, a, "tribunal_response", "2026-08-01", instance_id=dr_a, process="disagreement_resolution")
        # b: a name that would run as a formula; refused an assessment late (20 February, due 16 February); the
        # disagreement about the refusal: mediation not held in time, appeal registered.
        b_case = s.get(Case, b)
        b_case.child_first_name, b_case.child_last_name = '=HYPERLINK("http://x.example")', "+SUM(A1)"
        _instance(s, b, "ehc_needs_assessment", "completed", "2026-01-05", versions)
        _row(s, b, "decide_whether_to_assess", "2026-02-16", _at("2026-02-20"), True, "absent_from_area")
        doc(s, b, "decision_not_to_assess", _at("2026-02-20"), appealable=True)
        dr_b = _instance(s, b, "disagreement_resolution", "waiting_person", "2026-02-20", versions)
        _row(s, b, "mediation_held", "2026-03-22", missed=True, instance_id=dr_b, process="disagreement_resolution")
        _row(s, b, "tribunal_response", "2026-05-01", instance_id=dr_b, process="disagreement_resolution")
        # c: a plan from 2024, reviewed on time in 2025 (and once late in 2024), ceased 30 November 2025.
        s.add(PlanVersion(case_id=c, number=1, kind="final", label="Final", sections={}, created_at=_at("2024-03-01"),
                          issued_at=_at("2024-03-01")))
        _row(s, c, "annual_review", "2024-02-28", _at("2024-03-10"), True, process="annual_review")
        _row(s, c, "annual_review", "2025-03-01", _at("2025-02-20"), process="annual_review")
        doc(s, c, "cp_plan_ceased", _at("2025-11-30"))
        s.commit()
        rows_2026 = list(csv.DictReader(io.StringIO(sen2_csv(s, la_id=world.la.id, year=2026))))
        rows_2025 = list(csv.DictReader(io.StringIO(sen2_csv(s, la_id=world.la.id, year=2025))))
        all_rows = list(csv.DictReader(io.StringIO(sen2_csv(s, la_id=world.la.id))))
        header = sen2_csv(s, la_id=world.la.id).splitlines()[0].split(",")
    assert header == SEN2_COLUMNS
    # c's plan ceased before 2026 and nothing else of it happened then; a and b were requests of 2026.
    assert [r["forename"] for r in rows_2026] == ["Alex", "'=HYPERLINK(\"http://x.example\")"]
    ra, rb = rows_2026
    assert (ra["request_date"], ra["request_outcome"], ra["assessment_outcome"], ra["assessment_outcome_date"]) == \
        ("2026-01-05", "assess", "issue", "2026-04-20")
    assert (ra["plan_issued"], ra["plan_due"], ra["plan_within_20_weeks"], ra["weeks_to_plan"]) == \
        ("2026-05-11", "2026-05-25", "yes", "18.0")
    assert [ra[k] for k in ("request_mediation", "request_appeal", "assessment_mediation", "assessment_appeal",
                            "plan_mediation", "plan_appeal")] == ["no", "no", "no", "no", "yes", "yes"]
    assert (rb["surname"], rb["request_outcome"], rb["assessment_decision_on_time"],
            rb["assessment_decision_exception"], rb["assessment_outcome"], rb["plan_issued"]) == \
        ("'+SUM(A1)", "not_assess", "no", "absent_from_area", "", "")
    assert (rb["request_mediation"], rb["request_appeal"], rb["plan_appeal"]) == ("no", "yes", "no")
    # 2025: only c, with that year's one review (on time) and the ceasing.
    assert [(r["forename"], r["reviews_completed"], r["reviews_on_time"], r["last_review_date"], r["plan_ceased"],
             r["plan_ceased_date"]) for r in rows_2025] == [("Cal", "1", "1", "2025-02-20", "yes", "2025-11-30")]
    # Without a year: every case of the authority, every review.
    assert [r["forename"] for r in all_rows] == ["Alex", "'=HYPERLINK(\"http://x.example\")", "Cal"]
    assert (all_rows[2]["reviews_completed"], all_rows[2]["reviews_on_time"]) == ("2", "1")


def test_sen2_links_a_disagreement_to_the_decision_its_message_names(services: Services, world: World) -> None:
    import csv
    import io

    from engine.store.models import Document, Message

    versions: dict[str, int] = {}
    with services.session_factory() as s:
        # A plan drafted straight away (no request recorded here): issued 1 December, due 22 December, so the
        # request's statutory start was 20 weeks before, 4 August; it was issued, so it was assessed.
        _row(s, world.case_id, "final_plan_20w", "2026-12-22", _at("2026-12-01"), process="ehc_plan_drafting")
        # The last appealable notice before the disagreement was the final plan, but the message that started the
        # disagreement says it is about a refusal to issue: the message wins. Mediation was held; no appeal.
        s.add(Document(case_id=world.case_id, kind="pd_final_plan_notice", title="Final plan", body_html="<p>x</p>",
                       appealable=True, issued_at=_at("2026-12-01")))
        dr = _instance(s, world.case_id, "disagreement_resolution", "waiting_person", "2026-12-02", versions)
        s.add(Message(case_id=world.case_id, name="appealable_decision_notified", payload={"decision": "refuse_issue"},
                      sent_at=_at("2026-12-02"), instance_id=dr, status="delivered"))
        _row(s, world.case_id, "mediation_held", "2027-01-01", _at("2026-12-20"), instance_id=dr,
             process="disagreement_resolution")
        # A second disagreement, with no message: the last appealable notice before it (the final plan) says.
        _instance(s, world.case_id, "disagreement_resolution", "waiting_person", "2026-12-03", versions)
        s.commit()
        (row,) = csv.DictReader(io.StringIO(sen2_csv(s, la_id=world.la.id, year=2026)))
    assert (row["request_date"], row["request_outcome"], row["assessment_outcome"], row["plan_issued"],
            row["weeks_to_plan"]) == ("2026-08-04", "assess", "issue", "2026-12-01", "17.0")
    assert [row[k] for k in ("request_mediation", "request_appeal", "assessment_mediation", "assessment_appeal",
                             "plan_mediation", "plan_appeal")] == ["no", "no", "yes", "no", "no", "no"]
    assert row["disagreement_decisions"] == "refuse_issue;final_plan"
