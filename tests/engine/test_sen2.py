"""The SEN2 export as the DfE counts it: the received date (not the moved start date), refused records with what to
fix, each plan under the authority that issued it, and agreement with the timeliness report on every case."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.reports.sen2 import SEN2_COLUMNS, sen2_export
from engine.reports.sen2_columns import COLUMNS
from engine.reports.timeliness import PLANS_DFE, PLANS_LOCAL, TIMELINESS_MEASURES, timeliness
from engine.runtime.services import Services
from engine.store.models import AuditEvent, Case, Deadline
from engine.store.requests import AssessmentRequest
from tests.conftest import World
from tests.engine.test_reports import _at, _cases, _instance
from webui.cli import main
from webui.cli import reports as reports_command

DFE = next(name for name, code in TIMELINESS_MEASURES.items() if code == PLANS_DFE)
LOCAL = next(name for name, code in TIMELINESS_MEASURES.items() if code == PLANS_LOCAL)
ROOT = Path(__file__).resolve().parents[2]


def _complete(s, *case_ids: int) -> None:
    """What the DfE requires of the person, so that the records are exported."""
    for n, case_id in enumerate(case_ids):
        case = s.get(Case, case_id)
        case.postcode, case.upn = "TS1 1AA", f"A{case_id:06d}{n:05d}Z"
        case.sex, case.ethnicity = "F", "NOBT"


def _request(s, world: World, case_id: int, received: datetime, requester: str = "parent",
             la_id: int | None = None) -> int:
    """A request received at the front door (at ``received``) and the assessment route it started then or later."""
    instance_id = _instance(s, case_id, "ehc_needs_assessment", "completed", received.date().isoformat(), {})
    s.add(AssessmentRequest(la_id=la_id or world.la.id, status="registered", channel="email", received_at=received,
                            requester_type=requester, created_at=received, updated_at=received, case_id=case_id,
                            instance_id=instance_id))
    return instance_id


def _plan(s, case_id: int, instance_id: int, due: str, issued: datetime, missed: bool,
          exception: str | None = None) -> None:
    s.add(Deadline(case_id=case_id, key="final_plan_20w", name="Final plan", process_id="ehc_plan_drafting",
                   due_date=date.fromisoformat(due), started_on=date(2026, 3, 2), met_at=issued, missed=missed,
                   status="missed" if missed else "met", exception_reason=exception, instance_id=instance_id))


def _rows(export) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    return {r["CaseReference"]: r for r in csv.DictReader(io.StringIO(export.csv()))}


def test_twenty_weeks_count_from_the_date_received_and_the_moved_date_is_local(services: Services,
                                                                               world: World) -> None:
    """Received Friday 27 February 2026 at 17:30 (GMT): the route starts its clock on Monday 2 March (after 5pm), so
    its deadline is Monday 20 July; the DfE counts from the 27th, so the plan was due by Friday 17 July. Issued on
    Monday 20 July: on time locally, late for the DfE.

    Received at 23:30 UTC on Thursday 30 April 2026, which is 00:30 BST on Friday 1 May: received 1 May in England,
    due (DfE) Friday 18 September; issued 18 September at 16:00 BST: on time both ways, with an exception claimed."""
    friday, bst = _cases(services, world, ["Fay", "Bex"])
    with services.session_factory() as s:
        _complete(s, friday, bst)
        late = _request(s, world, friday, datetime(2026, 2, 27, 17, 30, tzinfo=UTC))
        _plan(s, friday, late, "2026-07-20", datetime(2026, 7, 20, 9, tzinfo=UTC), False)
        ok = _request(s, world, bst, datetime(2026, 4, 30, 23, 30, tzinfo=UTC), requester="setting")
        _plan(s, bst, ok, "2026-09-21", datetime(2026, 9, 18, 15, tzinfo=UTC), False, "absent_from_area")
        s.commit()
        export = sen2_export(s, world.la.id, 2026)
        yearly = {r.measure: r for r in timeliness(s, world.la.id, by="year")}
        refs = {c: s.get(Case, c).reference for c in (friday, bst)}
    rows = _rows(export)
    fay, bex = rows[refs[friday]], rows[refs[bst]]
    assert (fay["ReceivedDate"], fay["LocalStatutoryStartDate"], fay["LocalPlanDue"], fay["StartDate"]) == \
        ("2026-02-27", "2026-03-02", "2026-07-20", "2026-07-20")
    assert (fay["Within20Weeks"], fay["LocalWithin20Weeks"], fay["Week20"], fay["RequestSource"]) == ("0", "1", "0", "1")
    assert (bex["ReceivedDate"], bex["StartDate"], bex["Within20Weeks"], bex["Week20"], bex["RequestSource"]) == \
        ("2026-05-01", "2026-09-18", "1", "1", "2")
    assert bex["PlanExceptionReason"] == "absent_from_area"
    # The report: 1 of 2 within 20 weeks as the DfE counts; both within the local measure.
    assert (yearly[DFE].completed, yearly[DFE].on_time, yearly[DFE].with_exception) == (2, 1, 1)
    assert (yearly[LOCAL].completed, yearly[LOCAL].on_time) == (2, 2)
    assert yearly[DFE].percent_excluding_exceptions == 0.0  # Fay's, late, is the only one without an exception


def test_a_hand_started_assessment_counts_from_the_date_on_its_start_form(services: Services, world: World) -> None:
    """Received Saturday 10 January 2026 (entered on the start form on Monday 12th, when the route started): received
    the 10th, so the plan was due (DfE) by Saturday 30 May 2026."""
    (case_id,) = _cases(services, world, ["Hal"])
    with services.session_factory() as s:
        _complete(s, case_id)
        instance_id = _instance(s, case_id, "ehc_needs_assessment", "completed", "2026-01-12", {})
        s.add(AuditEvent(at=_at("2026-01-12"), case_id=case_id, instance_id=instance_id,
                         action="route_started_by_hand", summary="started",
                         detail={"process_id": "ehc_needs_assessment", "as_family": False,
                                 "data": ["received_at"], "received_at": "2026-01-10T11:00:00+00:00"}))
        _plan(s, case_id, instance_id, "2026-06-01", datetime(2026, 5, 29, 12, tzinfo=UTC), False)
        s.commit()
        (row,) = csv.DictReader(io.StringIO(sen2_export(s, world.la.id, 2026).csv()))
    assert (row["ReceivedDate"], row["StartDate"], row["Within20Weeks"]) == ("2026-01-10", "2026-05-29", "1")


def test_a_record_missing_a_mandatory_item_is_refused_with_what_to_fix(services: Services, world: World) -> None:
    ready, gaps = _cases(services, world, ["Ann", "Gus"])
    with services.session_factory() as s:
        _complete(s, ready)
        s.get(Case, gaps).postcode = None
        for case_id in (ready, gaps):
            _request(s, world, case_id, datetime(2026, 3, 3, 10, tzinfo=UTC))
        # A plan drafted straight away: no request recorded here, so no received date.
        _complete(s, world.case_id)
        _plan(s, world.case_id, None, "2026-06-01", datetime(2026, 5, 20, 12, tzinfo=UTC), False)  # type: ignore[arg-type]
        s.commit()
        export = sen2_export(s, world.la.id, 2026)
        refs = {c: s.get(Case, c).reference for c in (ready, gaps, world.case_id)}
    assert list(_rows(export)) == [refs[ready]]
    refused = {r.case_reference: r.problems for r in export.refused}
    assert set(refused) == {refs[gaps], refs[world.case_id]}
    assert refused[refs[gaps]] == ["Sex: record the child's sex on the case",
                                   "Ethnicity: record the child's ethnicity on the case",
                                   "PostCode: record the child's home postcode on the case",
                                   "UPN: record the child's unique pupil number (UPN) on the case"]
    assert refused[refs[world.case_id]][0].startswith("ReceivedDate: the request for this plan is not recorded")


def test_sex_and_ethnicity_are_exported_and_refuse_a_record_without_them(services: Services, world: World) -> None:
    """Sex and ethnicity are mandatory items of the person module: written as the DfE's codes; a record missing either
    is refused, and the problem names the field of the case's "Child's details" page that fixes it. The DfE's "not
    known" (U) and "not yet obtained" (NOBT) are answers: a record with them is exported."""
    full, no_sex, no_ethnicity = _cases(services, world, ["Uma", "Vic", "Wyn"])
    with services.session_factory() as s:
        _complete(s, full, no_sex, no_ethnicity)
        s.get(Case, full).sex = "U"
        s.get(Case, no_sex).sex = None
        s.get(Case, no_ethnicity).ethnicity = " "
        for case_id in (full, no_sex, no_ethnicity):
            _request(s, world, case_id, datetime(2026, 3, 3, 10, tzinfo=UTC))
        s.commit()
        export = sen2_export(s, world.la.id, 2026)
        refs = {c: s.get(Case, c).reference for c in (full, no_sex, no_ethnicity)}
    row = _rows(export)[refs[full]]
    assert (row["Sex"], row["Ethnicity"]) == ("U", "NOBT")
    assert list(_rows(export)) == [refs[full]]
    refused = {r.case_reference: r for r in export.refused}
    sex_problem = "Sex: record the child's sex on the case"
    ethnicity_problem = "Ethnicity: record the child's ethnicity on the case"
    assert (refused[refs[no_sex]].problems, refused[refs[no_sex]].detail_fields) == \
        ([sex_problem], {sex_problem: "sex"})
    assert (refused[refs[no_ethnicity]].problems, refused[refs[no_ethnicity]].detail_fields) == \
        ([ethnicity_problem], {ethnicity_problem: "ethnicity"})
    assert {c.name: c.mandatory for c in COLUMNS if c.name in ("Sex", "Ethnicity")} == \
        {"Sex": "yes", "Ethnicity": "yes"}


def test_a_plan_counts_for_the_authority_that_issued_it_and_moves_with_a_transfer(services: Services,
                                                                                  world: World) -> None:
    """Testshire issued the plan on 10 March 2026 and reviewed it on 1 May; the case moved to Otherham on 1 June
    2026, which reviewed it on 1 October. Testshire's record: the plan, ceased on 1 June (reason 5, transferred);
    Otherham's: the plan transferred in from TST, with its own review only."""
    (case_id,) = _cases(services, world, ["Max"])
    with services.session_factory() as s:
        _complete(s, case_id)
        instance_id = _request(s, world, case_id, datetime(2025, 10, 20, 10, tzinfo=UTC))
        _plan(s, case_id, instance_id, "2026-03-09", datetime(2026, 3, 10, 12, tzinfo=UTC), True)
        for met in ("2026-05-01", "2026-10-01"):
            s.add(Deadline(case_id=case_id, key="annual_review", name="Review", process_id="annual_review",
                           due_date=date.fromisoformat(met), met_at=_at(met), missed=False, status="met"))
        s.add(AuditEvent(at=_at("2026-06-01", 9), case_id=case_id, action="case_transferred", summary="moved",
                         detail={"from_la_id": world.la.id, "to_la_id": world.other_la.id}))
        s.get(Case, case_id).la_id = world.other_la.id
        s.commit()
        old, new = sen2_export(s, world.la.id, 2026), sen2_export(s, world.other_la.id, 2026)
        old_plans = [r for r in timeliness(s, world.la.id, by="year") if r.measure == DFE]
        new_plans = [r for r in timeliness(s, world.other_la.id, by="year") if r.measure == DFE]
        reference = s.get(Case, case_id).reference
    mine = _rows(old)[reference]
    assert (mine["LA"], mine["StartDate"], mine["CeaseDate"], mine["CeaseReason"], mine["ReviewsCompleted"],
            mine["LastReview"], mine["Within20Weeks"]) == ("TST", "2026-03-10", "2026-06-01", "5", "1", "2026-05-01",
                                                          "0")
    theirs = _rows(new)[reference]
    assert (theirs["LA"], theirs["TransferLA"], theirs["StartDate"], theirs["ReceivedDate"], theirs["CeaseDate"],
            theirs["ReviewsCompleted"], theirs["LastReview"]) == ("OTH", "TST", "2026-03-10", "", "", "1",
                                                                  "2026-10-01")
    assert all(r["LA"] == "TST" for r in _rows(old).values()) and all(r["LA"] == "OTH" for r in _rows(new).values())
    assert [(r.completed, r.on_time) for r in old_plans] == [(1, 0)] and new_plans == []


def test_the_export_and_the_timeliness_report_agree_on_every_case(services: Services, world: World) -> None:
    """A world of requests received at every awkward moment (after 5pm, on a weekend, on a bank holiday, across the
    clocks changing), plans issued on time, late, with and without exceptions, by both authorities: for each
    authority and year, the export's records and the report count the same plans within 20 weeks and the same
    exceptions, month by month."""
    names = [f"Kid{n}" for n in range(10)]
    ids = _cases(services, world, names)
    other = _cases(services, world, ["Oz", "Ola"], la_id=world.other_la.id)
    cases = [(i, world.la.id) for i in ids] + [(i, world.other_la.id) for i in other]
    # (received UTC, local due, issued UTC, missed, exception)
    plans = [("2026-02-27T17:30", "2026-07-20", "2026-07-20T09:00", False, None),    # after 5pm on a Friday
             ("2026-01-10T11:00", "2026-06-01", "2026-05-29T12:00", False, None),    # a Saturday
             ("2026-04-03T10:00", "2026-08-24", "2026-08-21T12:00", False, "absent_from_area"),  # Good Friday
             ("2026-03-28T23:30", "2026-08-17", "2026-08-17T08:00", False, None),    # clocks change that night
             ("2025-11-03T09:00", "2026-03-23", "2026-04-20T09:00", True, "exceptional_personal_circumstances"),
             ("2025-12-01T09:00", "2026-04-20", "2026-05-11T09:00", True, None),
             ("2026-06-01T09:00", "2026-10-19", "2026-10-19T22:30", False, None),    # 23:30 BST: still the 19th
             ("2025-06-02T09:00", "2025-10-20", "2025-10-17T09:00", False, None),
             ("2026-09-01T09:00", "2027-01-19", "2026-12-31T23:30", False, None),    # a December plan
             ("2026-05-05T18:00", "2026-09-28", "2026-09-25T12:00", False, None),
             ("2026-01-05T09:00", "2026-05-25", "2026-06-30T09:00", True, None),
             ("2026-02-02T09:00", "2026-06-22", "2026-06-19T09:00", False, "setting_closed")]
    with services.session_factory() as s:
        _complete(s, *(c for c, _ in cases))
        for (case_id, la), (received, due, issued, missed, exception) in zip(cases, plans, strict=True):
            when = datetime.fromisoformat(received).replace(tzinfo=UTC)
            instance_id = _request(s, world, case_id, when, la_id=la)
            _plan(s, case_id, instance_id, due, datetime.fromisoformat(issued).replace(tzinfo=UTC), missed, exception)
        s.commit()
        for la in (world.la.id, world.other_la.id):
            for year in (2025, 2026):
                export = sen2_export(s, la, year)
                assert export.refused == []
                issued = [r for r in _rows(export).values() if r["StartDate"][:4] == str(year)]
                report = [r for r in timeliness(s, la, by="month") if r.measure == DFE and r.period[:4] == str(year)]
                by_month = Counter(r["StartDate"][:7] for r in issued)
                assert {r.period: r.completed for r in report} == dict(by_month)
                for r in report:
                    month = [x for x in issued if x["StartDate"][:7] == r.period]
                    assert r.on_time == sum(x["Within20Weeks"] == "1" for x in month)
                    assert r.with_exception == sum(x["Week20"] == "1" for x in month)
                    assert r.on_time_with_exception == sum(x["Within20Weeks"] == "1" and x["Week20"] == "1"
                                                           for x in month)
        whole = {r.measure: r for r in timeliness(s, world.la.id, by="year") if r.period == "2026"}
    # By hand, Testshire's 2026 plans (all but the one of October 2025): 9 issued. Within 20 weeks of the day
    # received: Saturday 10 January (due 30 May, issued 29th), Good Friday 3 April (due 21 August, issued then),
    # 1 June (due 19 October, issued 23:30 BST that day), 1 September (due 19 January, issued 31 December): 4.
    # Late: 27 February (due 17 July, issued 20th), Saturday 28 March at 23:30 GMT (due 15 August, issued 17th),
    # 3 November and 1 December 2025 (issued after 23 March and 20 April), 19:00 BST on 5 May (due 22 September,
    # issued 25th). Exceptions: Good Friday's and 3 November's. The local measure: only the two marked missed late.
    assert (whole[DFE].completed, whole[DFE].on_time, whole[DFE].with_exception) == (9, 4, 2)
    assert (whole[LOCAL].completed, whole[LOCAL].on_time) == (9, 7)


def test_docs_describe_every_column() -> None:
    text = (ROOT / "docs" / "sen2.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([A-Za-z0-9]+)` \|", text, flags=re.M))
    assert documented == set(SEN2_COLUMNS) == {c.name for c in COLUMNS}


@pytest.fixture
def cli(services: Services, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr(reports_command, "build_services", lambda: services)
    return CliRunner()


def test_the_command_writes_the_file_and_fails_listing_what_to_fix(cli: CliRunner, services: Services,
                                                                   world: World, tmp_path: Path) -> None:
    ready, gaps = _cases(services, world, ["Ann", "Gus"])
    with services.session_factory() as s:
        _complete(s, ready, gaps)
        s.get(Case, gaps).upn = None
        for case_id in (ready, gaps):
            _request(s, world, case_id, datetime(2026, 3, 3, 10, tzinfo=UTC))
        gap_ref = s.get(Case, gaps).reference
        s.commit()
    out = tmp_path / "sen2.csv"
    result = cli.invoke(main, ["reports", "sen2", "--out", str(out)])
    assert result.exit_code == 2 and "choose the local authority (OTH, TST)" in result.output
    result = cli.invoke(main, ["reports", "sen2", "--la", "tst", "--year", "2026", "--out", str(out)])
    assert result.exit_code == 1
    assert "Testshire Council: 1 records written" in result.output
    assert f"{gap_ref} Gus Seed" in result.output and "UPN: record the child's unique pupil number" in result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [r["Forename"] for r in rows] == ["Ann"]
    with services.session_factory() as s:
        s.get(Case, gaps).upn = "Z00000000001Z"
        s.commit()
    result = cli.invoke(main, ["reports", "sen2", "--la", "TST", "--year", "2026", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert len(list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))) == 2
    assert cli.invoke(main, ["reports", "sen2", "--la", "XX", "--out", str(out)]).exit_code == 2
