"""Report figures against a seeded set of cases whose answers were worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime

from engine.models import Deadline
from engine.reports import overdue_by_route, sen2_csv, timeliness
from engine.services import Services
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
