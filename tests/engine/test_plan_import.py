"""Importing a council's existing plans from CSV (engine/intake/plan_import.py): every bad row reported by its line with
nothing written, --skip-bad, the same file twice, and the next review on its statutory date, started by the worker.

The clock fixture starts at Monday 2 March 2026, 10:00 UTC. Dates worked out by hand in the comments; months use the
month-end rule (29 February 2024 + 12 months = 28 February 2025).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select, update

from engine.casework import plans
from engine.errors import InvalidState
from engine.intake import plan_import
from engine.runtime.services import Services
from engine.store.models import AuditEvent, Case, CaseParty, Deadline, Organisation, PlanVersion, User
from engine.store.outbox import OutboxEmail
from tests.conftest import World

HEADER = ("child_first_name,child_last_name,date_of_birth,upn,postcode,address,la_code,setting_code,plan_issued_on,"
          "last_review_on,phase_transfer_due,parent_name,parent_email")
AVA = 'Ava,Stone,2016-05-14,A123456789012,TS1 1AA,"1 High Street, Testtown",TST,TPS,31/08/2025,,,Kim Stone,kim@example.com'
BEN = "Ben,Hart,01/06/2012,,ts2 2bb,,TST,,2023-03-10,29/02/2024,,,"
CAL = "Cal,Reed,2018-09-30,P123456789013,,,TST,TPS,2025-10-01,,,,"
GOOD = "\n".join([HEADER, AVA, BEN, CAL]) + "\n"


@pytest.fixture(autouse=True)
def _school_code(services: Services, world: World) -> None:
    with services.session_factory() as s:
        s.execute(update(Organisation).where(Organisation.id == world.school.id).values(code="TPS"))
        s.commit()


def counts(services: Services) -> tuple[int, int, int, int, int]:
    """(cases, plan versions, deadlines, users, emails)."""
    with services.session_factory() as s:
        return tuple(s.scalar(select(func.count()).select_from(model)) or 0  # type: ignore[return-value]
                     for model in (Case, PlanVersion, Deadline, User, OutboxEmail))


def case_of(services: Services, last_name: str) -> Case:
    with services.session_factory() as s:
        case = s.scalar(select(Case).where(Case.child_last_name == last_name))
        assert case is not None
        return case


def review_row(services: Services, case_id: int, key: str = "annual_review") -> Deadline:
    with services.session_factory() as s:
        [row] = s.scalars(select(Deadline).where(Deadline.case_id == case_id, Deadline.key == key)).all()
        return row


def test_a_good_file_opens_each_case_with_its_plan_and_its_next_review(services: Services, world: World) -> None:
    result = plan_import.import_plans(services.engine, GOOD.encode())
    assert (result.written, result.problems, [o.line for o in result.created], result.already_there) == (
        True, [], [2, 3, 4], [])

    ava = case_of(services, "Stone")
    assert (ava.la_id, ava.date_of_birth, ava.upn, ava.postcode, ava.address) == (
        world.la.id, date(2016, 5, 14), "A123456789012", "TS1 1AA", "1 High Street, Testtown")
    # Plan issued Sunday 31 August 2025, no review since: first review within 12 months, by Monday 31 August 2026.
    row = review_row(services, ava.id)
    assert (row.due_date, row.started_on, row.status, row.process_id) == (
        date(2026, 8, 31), date(2025, 8, 31), "open", "ehc_plan_drafting")
    # Ava (born May 2016) starts Year 7 in September 2027: more than 12 months after the review is due, so it is an
    # annual review; the route starts 10 weeks (70 days) before: 31 August - 31 = 31 July - 31 = 30 June - 8 = 22 June.
    created = {o.child_name: o for o in result.created}
    review = created["Ava Stone"].review
    assert review is not None and (review.kind, review.due, review.start_on) == ("annual", date(2026, 8, 31),
                                                                                 date(2026, 6, 22))
    with services.session_factory() as s:
        [plan] = plans.list_versions(s, ava.id)
        assert (plan.kind, plan.label, plan.is_issued, plan.based_on_id) == ("final", "Final plan", True, None)
        assert plan.issued_at is not None and plan.issued_at.date() == date(2025, 8, 31)
        assert "imported from the council's records" in plan.sections["A"]["views"]
        assert (plan.sections["I"]["setting_id"], plan.sections["I"]["basis"]) == (world.school.id, "imported")
        parties = {(p.role, p.organisation_id, p.user_id) for p in s.scalars(select(CaseParty).where(
            CaseParty.case_id == ava.id))}
        parent = s.scalar(select(User).where(User.email == "kim@example.com"))
        assert parent is not None and parent.password_hash is None and parent.name == "Kim Stone"
        # The setting from the file; the health body and mediation service the authority's other cases use.
        assert parties == {("setting", world.school.id, None), ("family", None, parent.id),
                           ("health_body", world.health.id, None), ("mediation_service", world.mediation.id, None)}
        email = s.scalar(select(OutboxEmail).where(OutboxEmail.to_address == "kim@example.com"))
        assert email is not None and email.kind == "set_password" and "Ava's EHC plan" in email.body
        event = s.scalar(select(AuditEvent).where(AuditEvent.case_id == ava.id, AuditEvent.action == "case_imported"))
        assert event is not None and event.detail["review_due"] == "2026-08-31"
        # The imported plan is issued: it never changes.
        with pytest.raises(InvalidState, match="An issued plan never changes"):
            plans.update_draft(s, plan.id, {"section_a": {"views": "changed"}}, now=services.engine.clock.now())

    # Ben: last reviewed Thursday 29 February 2024 -> next review due Friday 28 February 2025 (month-end rule), from
    # the review, not the plan's issue. It is already overdue, so the scheduler's start day has passed.
    ben = case_of(services, "Hart")
    row = review_row(services, ben.id)
    assert (row.due_date, row.started_on, row.process_id) == (date(2025, 2, 28), date(2024, 2, 29), "annual_review")
    assert (ben.date_of_birth, ben.postcode, ben.upn) == (date(2012, 6, 1), "TS2 2BB", None)
    review = created["Ben Hart"].review
    assert review is not None and (review.kind, review.due) == ("annual", date(2025, 2, 28))


def test_the_worker_starts_the_first_review_of_an_imported_plan_on_its_day(services: Services, world: World) -> None:
    """Ava's review (due Monday 31 August 2026) starts on Monday 22 June 2026 (10 weeks before), not the day before;
    the route is told the dates. Summer: London is UTC+1, so 09:00 UTC is 10:00 in London on the same day."""
    from engine.runtime.worker import run_once
    from tests.workflows.test_reviews import Driver, deploy_review_routes, review_instances

    deploy_review_routes(services.engine)
    result = plan_import.import_plans(services.engine, "\n".join([HEADER, AVA]))
    [ava] = result.created
    engine = services.engine
    engine.clock.set(datetime(2026, 6, 21, 9, 0, tzinfo=UTC))  # type: ignore[attr-defined]
    run_once(engine)
    assert review_instances(services, ava.case_id) == []
    engine.clock.set(datetime(2026, 6, 22, 9, 0, tzinfo=UTC))  # type: ignore[attr-defined]
    run_once(engine)
    assert len(review_instances(services, ava.case_id)) == 1
    route = Driver(services, world, ava.case_id)
    route.roundtrip()
    data = route.data("UT_arrange_setting")  # the setting arranges it: the imported case has one
    assert (data["scheduled"], data["review_kind"], data["last_review_on"], data["review_due"],
            data["statutory_review_due"]) == (True, "annual", "2025-08-31", "2026-08-31", "2026-08-31")
    # The route took over the imported deadline row rather than opening a second one.
    assert review_row(services, ava.case_id).due_date == date(2026, 8, 31)


def test_an_overdue_review_starts_on_the_next_daily_pass_and_shows_as_overdue(services: Services, world: World) -> None:
    """Ben's plan was last reviewed on 29 February 2024: due 28 February 2025, a year before the clock's 2 March 2026.
    Ben has no setting, so the local authority arranges the review."""
    from engine.runtime.worker import run_once
    from tests.workflows.test_reviews import Driver, deploy_review_routes, review_instances

    deploy_review_routes(services.engine)
    [ben] = plan_import.import_plans(services.engine, "\n".join([HEADER, BEN])).created
    run_once(services.engine)
    assert len(review_instances(services, ben.case_id)) == 1
    route = Driver(services, world, ben.case_id)
    assert "UT_arrange_la" in route.open_tasks()
    from engine.runtime.deadlines import deadline_state

    row = review_row(services, ben.case_id)  # the route took the imported row over; missed once the decision is due
    assert (row.due_date, deadline_state(row, date(2026, 3, 2)), row.instance_id is not None) == (
        date(2025, 2, 28), "overdue", True)


BAD = "\n".join([
    HEADER,
    AVA,                                                                       # line 2: good
    "Dee,,2031-01-01,X1,NOPE,,TST,,2020-13-01,,,,not-an-email",                # line 3
    "Eve,Cole,2015-02-02,B123456789012,,,ZZZ,NOSUCH,2014-12-01,,,,",           # line 4: check letter is A
    "Fay,Dunn,2015-02-02,,,,OTH,,2020-01-01,2019-06-01,2019-12-31,,",          # line 5
    'Ava,Stone,2016-05-14,,,,TST,,2025-08-31,,,,',                             # line 6: same as line 2
    "Gus,Hale,2019-04-04,,,,TST,,2027-01-01,2026-04-01,,,",                    # line 7
    "Hal,Ives,1999-01-01,,,,TST,,2010-01-01,,,,",                              # line 8
]) + "\n"


def test_every_bad_row_is_reported_by_line_and_nothing_is_written(services: Services, world: World) -> None:
    before = counts(services)
    result = plan_import.import_plans(services.engine, BAD, la_ids={world.la.id})
    assert [str(p) for p in result.problems] == [
        "line 3: child_last_name: Enter the child's last name",
        "line 3: date_of_birth: The date of birth must be in the past",
        "line 3: upn: Enter a unique pupil number of 13 characters: a letter, 11 digits, then a digit or letter",
        "line 3: postcode: Enter a real postcode, like SW1A 1AA",
        "line 3: plan_issued_on: '2020-13-01' is not a real date: write it as YYYY-MM-DD or DD/MM/YYYY",
        "line 3: parent_email: Enter an email address in the correct format, like name@example.com",
        "line 4: upn: Enter the unique pupil number exactly as the school has it: its first letter does not match "
        "the rest",
        "line 4: la_code: There is no local authority with the code 'ZZZ'",
        "line 4: setting_code: There is no school, college or setting with the code 'NOSUCH'",
        "line 4: plan_issued_on: The plan must have been issued after the child was born",
        "line 5: la_code: You cannot import plans into Otherham Council: it is not one of your local authorities",
        "line 5: last_review_on: The last annual review cannot be before the plan was issued",
        "line 5: phase_transfer_due: The phase transfer date must be after the plan was issued",
        "line 6: child_last_name: The same child as on line 2 (the same local authority, name and date of birth)",
        "line 7: plan_issued_on: The date the plan was issued must be in the past",
        "line 7: last_review_on: The date of the last annual review must be in the past",
        "line 7: last_review_on: The last annual review cannot be before the plan was issued",
        "line 8: date_of_birth: The young person is over 25: an EHC plan ends by the age of 25",
    ]
    assert (result.written, result.created, result.refused_lines) == (False, [], [3, 4, 5, 6, 7, 8])
    assert counts(services) == before


def test_skip_bad_imports_the_good_rows_only(services: Services, world: World) -> None:
    result = plan_import.import_plans(services.engine, BAD, la_ids={world.la.id}, skip_bad=True)
    assert (result.written, [o.child_name for o in result.created], result.refused_lines) == (
        True, ["Ava Stone"], [3, 4, 5, 6, 7, 8])
    with services.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Case).where(Case.child_first_name.in_(
            ("Dee", "Eve", "Fay", "Gus", "Hal")))) == 0


def test_the_same_file_twice_creates_nothing_the_second_time(services: Services, world: World) -> None:
    first = plan_import.import_plans(services.engine, GOOD)
    assert len(first.created) == 3
    after_first = counts(services)
    again = plan_import.import_plans(services.engine, GOOD)
    assert (again.created, again.problems, again.written) == ([], [], False)
    assert [(o.line, o.reference) for o in again.already_there] == [(o.line, o.reference) for o in first.created]
    assert counts(services) == after_first
    # Known by UPN alone (the name spelt differently), or by name and date of birth without a UPN.
    renamed = "\n".join([HEADER, AVA.replace("Ava,Stone", "Ava-Mae,Stone"), BEN.replace("Ben,Hart", "BEN,HART")])
    third = plan_import.import_plans(services.engine, renamed)
    assert ([o.child_name for o in third.already_there], third.created) == (["Ava Stone", "Ben Hart"], [])


def test_a_dry_run_says_what_would_be_created_and_writes_nothing(services: Services, world: World) -> None:
    before = counts(services)
    result = plan_import.import_plans(services.engine, GOOD, dry_run=True)
    assert (len(result.created), result.written, result.dry_run) == (3, False, True)
    assert counts(services) == before


def test_the_header_is_checked_by_name_and_a_bom_is_accepted(services: Services) -> None:
    _, problems = plan_import.read_csv(b"child_first_name,surname,la_code\n")
    assert [str(p) for p in problems] == [
        f"line 1: surname: 'surname' is not a column of the import: the columns are {', '.join(plan_import.COLUMNS)}",
        "line 1: child_last_name: The column is missing: it is required",
        "line 1: date_of_birth: The column is missing: it is required",
        "line 1: plan_issued_on: The column is missing: it is required",
    ]
    assert [str(p) for p in plan_import.read_csv(b"")[1]] == [
        "line 1: The file is empty: it needs a header row, then one row for each child"]
    assert [str(p) for p in plan_import.read_csv((HEADER + "\n").encode())[1]] == [
        "line 2: The file has a header row but no children"]
    latin = (HEADER + "\n" + AVA.replace("Ava", "Zo\xeb") + "\n").encode("latin-1")
    assert [str(p) for p in plan_import.read_csv(latin)[1]] == [
        'line 2: The file is not UTF-8 text: save it from your spreadsheet as "CSV UTF-8"']
    rows, problems = plan_import.read_csv(("\ufeff" + HEADER + "\r\n" + AVA.replace("Ava", "Zoë") + "\r\n").encode())
    assert problems == [] and rows[0][0] == 2 and rows[0][1]["child_first_name"] == "Zoë"
    # A quoted address over two lines: the next row is numbered by the line it starts on.
    rows, problems = plan_import.read_csv(HEADER + '\nA,B,2016-01-01,,,"1 Road\nTown",TST,,2020-01-01,,,,\n' + BEN)
    assert problems == [] and [line for line, _ in rows] == [2, 4]
    _, problems = plan_import.read_csv(HEADER + "\n" + BEN + ",extra\n")
    assert [str(p) for p in problems] == ["line 2: The row has 14 values but the header has 13 columns"]
    # Empty columns a spreadsheet leaves at the end are not columns.
    assert plan_import.read_csv(HEADER + ",,\n" + BEN + ",,\n")[1] == []


def test_a_person_imports_only_into_their_own_local_authorities(services: Services, world: World) -> None:
    other = "\n".join([HEADER, BEN.replace(",TST,", ",OTH,")])
    refused = plan_import.import_plans(services.engine, other, world.users["caseworker"])
    assert [p.column for p in refused.problems] == ["la_code"] and not refused.written
    allowed = plan_import.import_plans(services.engine, other, world.users["other_manager"])
    assert allowed.written and case_of(services, "Hart").la_id == world.other_la.id
    with services.session_factory() as s:
        assert plan_import.import_las(s, world.users["school"]) == set()
        assert plan_import.import_las(s, world.users["admin"]) == {world.la.id}


def test_a_phase_transfer_date_goes_on_the_case_and_an_unexpected_one_is_pointed_out(services: Services,
                                                                                     world: World) -> None:
    """Cal (born 30 September 2018) starts Reception in September 2023 and Year 7 in September 2030: 15 February 2030
    is the date EHC Flow works out (reg 18(1)(b)). A date of 31 March 2030 is kept but pointed out."""
    expected = CAL.replace("2025-10-01,,,", "2025-10-01,,15/02/2030,")
    result = plan_import.import_plans(services.engine, "\n".join([HEADER, expected]))
    [cal] = result.created
    assert cal.notes == ()
    row = review_row(services, cal.case_id, "phase_transfer")
    assert (row.due_date, row.status) == (date(2030, 2, 15), "open")

    odd = "\n".join([HEADER, BEN.replace(",,,", ",31/03/2030,,", 1).replace("Ben,Hart", "Bo,Hart")])
    [bo] = plan_import.import_plans(services.engine, odd).created
    assert bo.notes and "31 March 2030 is not one EHC Flow works out" in bo.notes[0]


def test_a_child_without_a_setting_or_parent_gets_a_plan_naming_the_type_from_the_records(services: Services) -> None:
    row = "Ivy,Moss,2010-03-03,,,,TST,,2024-11-20,2025-11-19,,,"
    [ivy] = plan_import.import_plans(services.engine, "\n".join([HEADER, row])).created
    with services.session_factory() as s:
        plan = plans.current_plan(s, ivy.case_id)
        assert plan is not None
        assert plan.sections["I"]["setting_type"] == "As named in section I of the plan issued on 20 November 2024"
        # Ivy is in Year 10: from Year 9 section F must include preparing for adulthood (reg 12(1)(g)).
        assert plan.sections["F"]["provision"][0]["preparing_for_adulthood"] is True
        roles = s.scalars(select(CaseParty.role).where(CaseParty.case_id == ivy.case_id))
        assert sorted(roles) == ["health_body", "mediation_service"]  # no setting, no parent
    # Last reviewed Wednesday 19 November 2025: due Thursday 19 November 2026.
    assert review_row(services, ivy.case_id).due_date == date(2026, 11, 19)
