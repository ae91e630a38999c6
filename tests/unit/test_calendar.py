"""Unit tests for engine.statutory.calendar.

Every expected date is worked out by hand against a printed calendar
(``python -c 'import calendar; print(calendar.month(2026, 12))'``), never by
calling the code under test. Reasoning is in the comment next to each case.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from engine.statutory import calendar as cal

LONDON = ZoneInfo("Europe/London")


def d(text: str) -> date:
    return date.fromisoformat(text)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# ---------------------------------------------------------------------------
# as_date and bad input
# ---------------------------------------------------------------------------


class TestAsDate:
    def test_date_passthrough(self):
        assert cal.as_date(d("2026-01-31")) == d("2026-01-31")

    def test_iso_string(self):
        assert cal.as_date("2026-01-31") == d("2026-01-31")
        assert cal.as_date(" 2026-01-31 ") == d("2026-01-31")

    def test_aware_datetime_uses_london_date(self):
        # 23:30 UTC on 31 Jul is 00:30 BST on 1 Aug.
        assert cal.as_date(utc(2026, 7, 31, 23, 30)) == d("2026-08-01")
        # 23:30 UTC on 31 Dec is 23:30 GMT, still 31 Dec.
        assert cal.as_date(utc(2026, 12, 31, 23, 30)) == d("2026-12-31")

    def test_naive_datetime_taken_at_face_value(self):
        assert cal.as_date(datetime(2026, 7, 31, 23, 30)) == d("2026-07-31")

    def test_returns_plain_date_not_datetime(self):
        result = cal.add_days(datetime(2026, 1, 1, 12, 0), 1)
        assert type(result) is date

    @pytest.mark.parametrize(
        "bad",
        [
            "2026-02-30",  # no 30 Feb
            "2026-13-01",  # no month 13
            "31/01/2026",  # UK format, not ISO
            "20260131",  # basic ISO form deliberately rejected
            "2026-01-31T10:00",  # datetime string, not a date
            "",
            None,
            20260131,
            1.5,
        ],
    )
    def test_bad_input_raises_value_error(self, bad):
        with pytest.raises(ValueError):
            cal.as_date(bad)

    def test_public_functions_accept_strings(self):
        # 2026-12-28 is the Boxing Day substitute (Mon).
        assert cal.is_working_day("2026-12-28") is False
        assert cal.add_days("2026-02-27", 2) == d("2026-03-01")

    def test_public_functions_reject_bad_dates(self):
        with pytest.raises(ValueError):
            cal.add_working_days("not a date", 3)
        with pytest.raises(ValueError):
            cal.is_bank_holiday("2026-02-29")  # 2026 is not a leap year

    @pytest.mark.parametrize("n", [1.0, "3", True, None])
    def test_non_integer_counts_rejected(self, n):
        with pytest.raises(ValueError):
            cal.add_days("2026-01-01", n)


# ---------------------------------------------------------------------------
# Calendar days, weeks, months, years
# ---------------------------------------------------------------------------


class TestCalendarArithmetic:
    def test_add_days_across_month_and_leap_day(self):
        # Feb 2026 has 28 days: 27 Feb + 2 = 1 Mar.
        assert cal.add_days("2026-02-27", 2) == d("2026-03-01")
        # 2028 is a leap year: 28 Feb + 1 = 29 Feb.
        assert cal.add_days("2028-02-28", 1) == d("2028-02-29")
        assert cal.add_days("2028-03-01", -1) == d("2028-02-29")

    def test_add_weeks_ignores_bank_holidays(self):
        # 20 weeks = 140 days from Mon 5 Jan 2026: 26 days to 31 Jan (114
        # left), Feb 28 (86), Mar 31 (55), Apr 30 (25) -> Mon 25 May 2026,
        # the late May bank holiday; calendar weeks do not skip it.
        assert cal.add_weeks("2026-01-05", 20) == d("2026-05-25")

    def test_add_weeks_across_year_end(self):
        # 6 weeks = 42 days from Tue 1 Dec 2026: 30 days to 31 Dec, 12 more
        # -> Tue 12 Jan 2027.
        assert cal.add_weeks("2026-12-01", 6) == d("2027-01-12")

    def test_month_end_jan_to_feb_common_year(self):
        # 2026 is not a leap year: no 31 Feb -> last day, 28 Feb.
        assert cal.add_months("2026-01-31", 1) == d("2026-02-28")

    def test_month_end_jan_to_feb_leap_year(self):
        # 2028 is a leap year -> 29 Feb.
        assert cal.add_months("2028-01-31", 1) == d("2028-02-29")

    def test_leap_day_plus_twelve_months(self):
        # 29 Feb 2028 + 12 months: Feb 2029 has 28 days -> 28 Feb 2029.
        assert cal.add_months("2028-02-29", 12) == d("2029-02-28")

    def test_31_aug_plus_six_months(self):
        # Sep, Oct, Nov, Dec, Jan, Feb -> Feb 2027 (28 days) -> 28 Feb 2027.
        assert cal.add_months("2026-08-31", 6) == d("2027-02-28")

    def test_30_nov_plus_three_months(self):
        # Dec, Jan, Feb -> Feb 2027 has 28 days -> 28 Feb 2027.
        assert cal.add_months("2026-11-30", 3) == d("2027-02-28")
        # Same a year later: Feb 2028 has 29 days -> 29 Feb 2028.
        assert cal.add_months("2027-11-30", 3) == d("2028-02-29")

    def test_corresponding_day_kept_when_it_exists(self):
        # 30 Nov + 2 months = 30 Jan (exists), not the month end 31 Jan.
        assert cal.add_months("2026-11-30", 2) == d("2027-01-30")
        # Annual review: 15 Mar 2026 + 12 months = 15 Mar 2027.
        assert cal.add_months("2026-03-15", 12) == d("2027-03-15")
        assert cal.add_months("2026-10-31", 2) == d("2026-12-31")

    def test_negative_months(self):
        # 31 Mar 2026 - 1 month: no 31 Feb 2026 -> 28 Feb 2026.
        assert cal.add_months("2026-03-31", -1) == d("2026-02-28")
        # 15 Jan 2027 - 2 months crosses the year back -> 15 Nov 2026.
        assert cal.add_months("2027-01-15", -2) == d("2026-11-15")

    def test_add_years(self):
        # 29 Feb 2028 + 1 year -> 28 Feb 2029 (common year).
        assert cal.add_years("2028-02-29", 1) == d("2029-02-28")
        # 29 Feb 2028 + 4 years -> 2032 is a leap year -> 29 Feb 2032.
        assert cal.add_years("2028-02-29", 4) == d("2032-02-29")
        assert cal.add_years("2026-06-10", 1) == d("2027-06-10")


class TestDaysBeginningWith:
    def test_draft_plan_fifteen_days(self):
        # Served Mon 2 Mar 2026 = day 1; day 15 = 2 + 14 = 16 Mar 2026.
        assert cal.days_beginning_with("2026-03-02", 15) == d("2026-03-16")

    def test_across_month_end(self):
        # 20 Feb 2026 = day 1; 20..28 Feb is 9 days, 6 more -> 6 Mar 2026.
        assert cal.days_beginning_with("2026-02-20", 15) == d("2026-03-06")

    def test_one_day_period_is_the_day_itself(self):
        assert cal.days_beginning_with("2026-03-02", 1) == d("2026-03-02")

    def test_zero_or_negative_rejected(self):
        with pytest.raises(ValueError):
            cal.days_beginning_with("2026-03-02", 0)


# ---------------------------------------------------------------------------
# Bank holidays (England & Wales)
# ---------------------------------------------------------------------------


class TestBankHolidays:
    @pytest.mark.parametrize(
        "day",
        [
            "2026-01-01",  # New Year's Day, Thu
            "2026-04-03",  # Good Friday 2026 (Easter Sunday 5 Apr)
            "2026-04-06",  # Easter Monday 2026
            "2026-05-04",  # early May: first Monday of May 2026
            "2026-05-25",  # spring: last Monday of May 2026 (4, 11, 18, 25)
            "2026-08-31",  # summer: last Monday of Aug 2026 (…24, 31)
            "2026-12-25",  # Christmas Day, Fri
            "2026-12-28",  # Boxing Day 26 Dec is Sat -> substitute Mon 28
            "2027-01-01",  # New Year's Day, Fri
            "2027-03-26",  # Good Friday 2027 (Easter Sunday 28 Mar)
            "2027-03-29",  # Easter Monday 2027
            "2027-05-03",  # early May: first Monday of May 2027
            "2027-05-31",  # spring: last Monday of May 2027 (…24, 31)
            "2027-08-30",  # summer: last Monday of Aug 2027 (…23, 30)
            "2027-12-27",  # Christmas 25 Dec is Sat -> substitute Mon 27
            "2027-12-28",  # Boxing Day 26 Dec is Sun -> substitute Tue 28
            "2028-01-03",  # New Year 1 Jan 2028 is Sat -> substitute Mon 3
        ],
    )
    def test_is_bank_holiday(self, day):
        assert cal.is_bank_holiday(day) is True
        assert cal.is_working_day(day) is False

    @pytest.mark.parametrize(
        "day",
        [
            "2026-12-24",  # Christmas Eve (Thu) is an ordinary working day
            "2026-12-29",  # Tue between the substitute day and New Year
            "2026-12-31",  # New Year's Eve, Thu
            "2027-01-04",  # Scotland moves 2 Jan (Sat) to Mon 4 Jan; not England
            "2026-03-17",  # St Patrick's Day: Northern Ireland only
            "2026-04-02",  # Maundy Thursday
            "2026-04-07",  # Tue after Easter Monday
            "2026-08-03",  # first Monday in August: Scottish summer holiday
        ],
    )
    def test_ordinary_weekdays_are_working_days(self, day):
        assert cal.is_bank_holiday(day) is False
        assert cal.is_working_day(day) is True

    def test_weekends_are_not_working_days(self):
        # 10 Jan 2026 is Sat, 11 Jan Sun.
        assert cal.is_working_day("2026-01-10") is False
        assert cal.is_working_day("2026-01-11") is False

    def test_bank_holidays_2026_complete(self):
        # Eight England & Wales bank holidays, plus the Saturday Boxing Day
        # itself (26 Dec) and its Monday substitute.
        assert cal.bank_holidays(2026) == {
            d("2026-01-01"),
            d("2026-04-03"),
            d("2026-04-06"),
            d("2026-05-04"),
            d("2026-05-25"),
            d("2026-08-31"),
            d("2026-12-25"),
            d("2026-12-26"),
            d("2026-12-28"),
        }

    def test_leap_day_is_ordinary(self):
        # 29 Feb 2028 is a Tuesday and not a holiday.
        assert cal.is_working_day("2028-02-29") is True


class TestNextWorkingDay:
    def test_working_day_is_itself(self):
        # Wed 23 Dec 2026.
        assert cal.next_working_day("2026-12-23") == d("2026-12-23")

    def test_christmas_2026(self):
        # Sat 26 Dec -> Sun 27, Mon 28 (substitute) -> Tue 29 Dec.
        assert cal.next_working_day("2026-12-26") == d("2026-12-29")

    def test_christmas_2027(self):
        # Sat 25 Dec -> Sun 26, Mon 27 and Tue 28 (substitutes) -> Wed 29.
        assert cal.next_working_day("2027-12-25") == d("2027-12-29")

    def test_easter_2027(self):
        # Good Friday 26 Mar -> Sat, Sun, Easter Monday 29 -> Tue 30 Mar.
        assert cal.next_working_day("2027-03-26") == d("2027-03-30")


class TestAddWorkingDays:
    def test_fifteen_working_days_across_christmas_2026(self):
        # From Mon 14 Dec 2026: 15(1) 16(2) 17(3) 18(4) 21(5) 22(6) 23(7)
        # 24(8); 25 Fri BH, 26-27 weekend, 28 Mon substitute BH; 29(9)
        # 30(10) 31(11); 1 Jan Fri BH, 2-3 weekend; 4(12) 5(13) 6(14) 7(15).
        assert cal.add_working_days("2026-12-14", 15) == d("2027-01-07")

    def test_across_easter_2026(self):
        # From Thu 2 Apr: Fri 3 GF, weekend, Mon 6 EM; Tue 7(1) Wed 8(2)
        # Thu 9(3).
        assert cal.add_working_days("2026-04-02", 3) == d("2026-04-09")

    def test_across_late_may_bank_holiday(self):
        # Mediation certificate, 3 working days from Fri 22 May 2026: Mon 25
        # BH; Tue 26(1) Wed 27(2) Thu 28(3).
        assert cal.add_working_days("2026-05-22", 3) == d("2026-05-28")

    def test_across_august_bank_holiday(self):
        # From Fri 28 Aug 2026: Mon 31 Aug BH; Tue 1 Sep(1) Wed 2 Sep(2).
        assert cal.add_working_days("2026-08-28", 2) == d("2026-09-02")

    def test_start_day_never_counts(self):
        # From Fri 9 Jan 2026, 1 working day -> Mon 12 Jan.
        assert cal.add_working_days("2026-01-09", 1) == d("2026-01-12")
        # From Sat 3 Jan 2026, 1 working day -> Mon 5 Jan.
        assert cal.add_working_days("2026-01-03", 1) == d("2026-01-05")

    def test_zero_leaves_date_unchanged(self):
        # Even on a non-working day (Sat 26 Dec 2026).
        assert cal.add_working_days("2026-12-26", 0) == d("2026-12-26")

    def test_negative_counts_back(self):
        # From Tue 7 Apr 2026 back 1: Mon 6 EM, Sun, Sat, Fri 3 GF -> Thu 2.
        assert cal.add_working_days("2026-04-07", -1) == d("2026-04-02")


class TestWorkingDaysBetween:
    def test_matches_add_working_days(self):
        # Same walk as test_fifteen_working_days_across_christmas_2026.
        assert cal.working_days_between("2026-12-14", "2027-01-07") == 15
        # Same walk as test_across_easter_2026.
        assert cal.working_days_between("2026-04-02", "2026-04-09") == 3

    def test_same_day_and_reversed(self):
        assert cal.working_days_between("2026-04-02", "2026-04-02") == 0
        assert cal.working_days_between("2026-04-09", "2026-04-02") == -3

    def test_weekend_only(self):
        # After Fri 9 Jan up to Sun 11 Jan: Sat and Sun only.
        assert cal.working_days_between("2026-01-09", "2026-01-11") == 0

    def test_whole_year_2026(self):
        # 2026 starts on Thu and has 365 days = 52 weeks + 1 day (a Thu), so
        # 52 * 5 + 1 = 261 weekdays. Weekday bank holidays: 1 Jan, 3 Apr,
        # 6 Apr, 4 May, 25 May, 31 Aug, 25 Dec, 28 Dec = 8 (26 Dec is Sat).
        # 261 - 8 = 253.
        assert cal.working_days_between("2025-12-31", "2026-12-31") == 253


# ---------------------------------------------------------------------------
# Tribunal working days
# ---------------------------------------------------------------------------


class TestTribunalWorkingDays:
    def test_excluded_periods_setting(self):
        names = {p.name for p in cal.TRIBUNAL_EXCLUDED_PERIODS}
        assert names == {"Christmas to New Year", "August"}

    @pytest.mark.parametrize(
        ("day", "expected"),
        [
            ("2026-07-31", True),  # Fri, July
            ("2026-08-03", False),  # Mon in August
            ("2026-08-31", False),  # August and bank holiday
            ("2026-09-01", True),  # Tue, first day after August
            ("2026-12-24", True),  # Thu before the closure
            ("2026-12-29", False),  # ordinary working day, but 25 Dec–1 Jan
            ("2026-12-31", False),
            ("2027-01-01", False),
            ("2027-01-04", True),  # Mon
        ],
    )
    def test_is_tribunal_working_day(self, day, expected):
        assert cal.is_tribunal_working_day(day) is expected

    def test_thirty_days_across_august(self):
        # LA response, 30 tribunal working days from Mon 20 Jul 2026:
        # Jul 21(1) 22(2) 23(3) 24(4) 27(5) 28(6) 29(7) 30(8) 31(9);
        # all of August skipped; Sep 1(10) 2(11) 3(12) 4(13) 7(14) 8(15)
        # 9(16) 10(17) 11(18) 14(19) 15(20) 16(21) 17(22) 18(23) 21(24)
        # 22(25) 23(26) 24(27) 25(28) 28(29) 29(30) -> Tue 29 Sep 2026.
        assert cal.add_tribunal_working_days("2026-07-20", 30) == d("2026-09-29")

    def test_across_christmas(self):
        # From Mon 21 Dec 2026: 22(1) 23(2) 24(3); 25 Dec–1 Jan skipped
        # (incl. the ordinary working days 29–31 Dec); 2–3 Jan weekend;
        # Mon 4 Jan(4) Tue 5 Jan(5).
        assert cal.add_tribunal_working_days("2026-12-21", 5) == d("2027-01-05")
        # Ordinary working days only skip 25 and 28 Dec: 22(1) 23(2) 24(3)
        # 29(4) 30(5).
        assert cal.add_working_days("2026-12-21", 5) == d("2026-12-30")

    def test_zero(self):
        assert cal.add_tribunal_working_days("2026-08-10", 0) == d("2026-08-10")


# ---------------------------------------------------------------------------
# later_of / earlier_of
# ---------------------------------------------------------------------------


class TestLaterEarlier:
    def test_appeal_deadline_later_of(self):
        # T32: notice 15 Jan 2026 + 2 months = 15 Mar 2026; certificate
        # 1 Mar 2026 + 1 month = 1 Apr 2026; later = 1 Apr 2026.
        assert cal.later_of(d("2026-03-15"), "2026-04-01") == d("2026-04-01")

    def test_mixed_types(self):
        # 23:30 UTC 31 Jul 2026 is 1 Aug in London.
        values = ("2026-07-31", utc(2026, 7, 31, 23, 30), d("2026-07-30"))
        assert cal.later_of(*values) == d("2026-08-01")
        assert cal.earlier_of(*values) == d("2026-07-30")

    def test_empty_rejected(self):
        with pytest.raises(ValueError):
            cal.later_of()
        with pytest.raises(ValueError):
            cal.earlier_of()


# ---------------------------------------------------------------------------
# Phase transfer
# ---------------------------------------------------------------------------


class TestPhaseTransfer:
    def test_school_transfer(self):
        assert cal.phase_transfer_deadline(2027, "school") == d("2027-02-15")

    def test_post16_transfer(self):
        assert cal.phase_transfer_deadline(2027, "post16") == d("2027-03-31")

    @pytest.mark.parametrize("kind", ["college", "School", "", None])
    def test_bad_kind(self, kind):
        with pytest.raises(ValueError):
            cal.phase_transfer_deadline(2027, kind)

    def test_post16_to_post16_five_months(self):
        # 1 Sep 2027 - 5 months (Aug, Jul, Jun, May, Apr) = 1 Apr 2027.
        assert cal.post16_transfer_deadline("2027-09-01") == d("2027-04-01")
        # 31 Jul 2027 - 5 months -> Feb 2027 has 28 days -> 28 Feb 2027.
        assert cal.post16_transfer_deadline("2027-07-31") == d("2027-02-28")
        # 31 Jul 2028 - 5 months -> leap Feb -> 29 Feb 2028.
        assert cal.post16_transfer_deadline("2028-07-31") == d("2028-02-29")


# ---------------------------------------------------------------------------
# statutory_start_date
# ---------------------------------------------------------------------------


class TestStatutoryStartDate:
    def test_setting(self):
        assert cal.RECEIPT_CUTOFF_HOUR == 17

    def test_friday_after_cutoff_goes_to_monday(self):
        # Fri 9 Jan 2026 17:30 GMT (= UTC in winter) -> Mon 12 Jan.
        assert cal.statutory_start_date(utc(2026, 1, 9, 17, 30)) == d("2026-01-12")

    def test_exactly_at_cutoff_is_late(self):
        assert cal.statutory_start_date(utc(2026, 1, 9, 17, 0)) == d("2026-01-12")

    def test_just_before_cutoff_same_day(self):
        # Fri 9 Jan 2026 16:59 GMT -> same day.
        assert cal.statutory_start_date(utc(2026, 1, 9, 16, 59)) == d("2026-01-09")

    def test_sunday(self):
        # Sun 11 Jan 2026 10:00 -> Mon 12 Jan.
        assert cal.statutory_start_date(utc(2026, 1, 11, 10, 0)) == d("2026-01-12")

    def test_evening_before_easter(self):
        # Thu 2 Apr 2026 17:05 BST (16:05 UTC): after cutoff; Fri 3 GF,
        # weekend, Mon 6 EM -> Tue 7 Apr.
        received = datetime(2026, 4, 2, 17, 5, tzinfo=LONDON)
        assert cal.statutory_start_date(received) == d("2026-04-07")

    def test_christmas_eve_evening(self):
        # Thu 24 Dec 2026 18:00: Fri 25 BH, weekend, Mon 28 BH -> Tue 29.
        assert cal.statutory_start_date(utc(2026, 12, 24, 18, 0)) == d("2026-12-29")

    def test_on_a_bank_holiday_morning(self):
        # Mon 4 May 2026 (early May BH) 09:00 BST -> Tue 5 May.
        received = datetime(2026, 5, 4, 9, 0, tzinfo=LONDON)
        assert cal.statutory_start_date(received) == d("2026-05-05")

    def test_bst_vs_gmt_same_utc_clock_time(self):
        # 16:30 UTC on Wed 10 Jun 2026 is 17:30 BST -> late -> Thu 11 Jun.
        assert cal.statutory_start_date(utc(2026, 6, 10, 16, 30)) == d("2026-06-11")
        # 16:30 UTC on Wed 14 Jan 2026 is 16:30 GMT -> in time -> same day.
        assert cal.statutory_start_date(utc(2026, 1, 14, 16, 30)) == d("2026-01-14")

    def test_bst_after_midnight_local(self):
        # 23:30 UTC Tue 9 Jun 2026 = 00:30 BST Wed 10 Jun -> Wed 10 Jun.
        assert cal.statutory_start_date(utc(2026, 6, 9, 23, 30)) == d("2026-06-10")

    def test_other_offset(self):
        # 12:00 at UTC-5 on Fri 9 Jan 2026 = 17:00 GMT -> late -> Mon 12.
        received = datetime(2026, 1, 9, 12, 0, tzinfo=timezone(timedelta(hours=-5)))
        assert cal.statutory_start_date(received) == d("2026-01-12")

    def test_custom_cutoff(self):
        # Wed 14 Jan 2026 16:30 GMT with a 16:00 cutoff -> Thu 15 Jan.
        received = utc(2026, 1, 14, 16, 30)
        assert cal.statutory_start_date(received, cutoff_hour=16) == d("2026-01-15")

    def test_naive_rejected(self):
        with pytest.raises(ValueError):
            cal.statutory_start_date(datetime(2026, 1, 9, 12, 0))

    def test_non_datetime_rejected(self):
        with pytest.raises(ValueError):
            cal.statutory_start_date(d("2026-01-09"))  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            cal.statutory_start_date("2026-01-09T12:00Z")  # type: ignore[arg-type]

    def test_bad_cutoff_rejected(self):
        with pytest.raises(ValueError):
            cal.statutory_start_date(utc(2026, 1, 9, 12, 0), cutoff_hour=25)


# ---------------------------------------------------------------------------
# deadline_moment / to_london_date
# ---------------------------------------------------------------------------


class TestDeadlineMoment:
    def test_gmt(self):
        # Deadline Fri 30 Jan 2026 passes at 00:00 GMT 31 Jan = 00:00 UTC.
        moment = cal.deadline_moment("2026-01-30")
        assert moment == utc(2026, 1, 31, 0, 0)
        assert moment.utcoffset() == timedelta(0)

    def test_bst(self):
        # Deadline Wed 10 Jun 2026 passes at 00:00 BST 11 Jun = 23:00 UTC 10 Jun.
        assert cal.deadline_moment("2026-06-10") == utc(2026, 6, 10, 23, 0)

    def test_around_spring_clock_change(self):
        # Clocks go forward 01:00 UTC Sun 29 Mar 2026. Deadline Sat 28 Mar:
        # midnight starting 29 Mar is still GMT -> 00:00 UTC 29 Mar.
        assert cal.deadline_moment("2026-03-28") == utc(2026, 3, 29, 0, 0)
        # Deadline Sun 29 Mar: midnight starting 30 Mar is BST -> 23:00 UTC.
        assert cal.deadline_moment("2026-03-29") == utc(2026, 3, 29, 23, 0)

    def test_around_autumn_clock_change(self):
        # Clocks go back 01:00 UTC Sun 25 Oct 2026. Deadline Sat 24 Oct:
        # midnight starting 25 Oct is still BST -> 23:00 UTC 24 Oct.
        assert cal.deadline_moment("2026-10-24") == utc(2026, 10, 24, 23, 0)
        # Deadline Sun 25 Oct: midnight starting 26 Oct is GMT -> 00:00 UTC.
        assert cal.deadline_moment("2026-10-25") == utc(2026, 10, 26, 0, 0)

    def test_round_trip_with_to_london_date(self):
        # The moment is the first instant of the following London day.
        moment = cal.deadline_moment("2026-06-10")
        assert cal.to_london_date(moment) == d("2026-06-11")
        assert cal.to_london_date(moment - timedelta(microseconds=1)) == d("2026-06-10")


class TestToLondonDate:
    def test_bst(self):
        # 23:30 UTC 30 Jun 2026 = 00:30 BST 1 Jul.
        assert cal.to_london_date(utc(2026, 6, 30, 23, 30)) == d("2026-07-01")

    def test_gmt(self):
        # 23:30 UTC 31 Dec 2026 = 23:30 GMT, same day.
        assert cal.to_london_date(utc(2026, 12, 31, 23, 30)) == d("2026-12-31")

    def test_naive_rejected(self):
        with pytest.raises(ValueError):
            cal.to_london_date(datetime(2026, 6, 30, 23, 30))


# ---------------------------------------------------------------------------
# Age and school year
# ---------------------------------------------------------------------------


class TestAge:
    def test_birthday_boundary(self):
        # Born 1 Sep 2010: 15 on 31 Aug 2026, 16 on 1 Sep 2026.
        assert cal.age_on("2010-09-01", "2026-08-31") == 15
        assert cal.age_on("2010-09-01", "2026-09-01") == 16

    def test_leap_day_birthday(self):
        # Born 29 Feb 2012: not yet 1 on 28 Feb 2013, 1 on 1 Mar 2013;
        # 4 on 29 Feb 2016 (leap year).
        assert cal.age_on("2012-02-29", "2013-02-28") == 0
        assert cal.age_on("2012-02-29", "2013-03-01") == 1
        assert cal.age_on("2012-02-29", "2016-02-29") == 4

    def test_before_birth_rejected(self):
        with pytest.raises(ValueError):
            cal.age_on("2026-01-02", "2026-01-01")


class TestEndOfCompulsorySchoolAge:
    def test_born_31_august(self):
        # Born 31 Aug 2011 turns 16 on 31 Aug 2027, the last day of the
        # academic year 2026/27 -> last Friday of June 2027. June 2027
        # Fridays: 4, 11, 18, 25 -> 25 Jun 2027.
        assert cal.end_of_compulsory_school_age("2011-08-31") == d("2027-06-25")

    def test_born_1_september(self):
        # Born 1 Sep 2010 turns 16 on 1 Sep 2026, the first day of 2026/27
        # -> also 25 Jun 2027.
        assert cal.end_of_compulsory_school_age("2010-09-01") == d("2027-06-25")

    def test_born_31_august_a_year_earlier(self):
        # Born 31 Aug 2010 turns 16 on 31 Aug 2026 -> academic year 2025/26
        # -> June 2026 Fridays 5, 12, 19, 26 -> 26 Jun 2026.
        assert cal.end_of_compulsory_school_age("2010-08-31") == d("2026-06-26")

    def test_summer_born_leaves_before_sixteenth_birthday(self):
        # Born 30 Jun 2011 turns 16 on 30 Jun 2027 (2026/27) but the leaving
        # date is still the last Friday in June, 25 Jun 2027.
        assert cal.end_of_compulsory_school_age("2011-06-30") == d("2027-06-25")

    def test_leap_day_birth(self):
        # Born 29 Feb 2012 turns 16 on 29 Feb 2028 (2027/28) -> June 2028:
        # 30 Jun 2028 is itself a Friday.
        assert cal.end_of_compulsory_school_age("2012-02-29") == d("2028-06-30")


class TestSchoolYearGroup:
    def test_31_august_birthday_is_oldest_of_younger_cohort_boundary(self):
        # Born 31 Aug 2011: 15 on 31 Aug 2026 -> 15 - 4 = Year 11 in 2026/27.
        assert cal.school_year_group("2011-08-31", "2026-09-01") == 11

    def test_1_september_birthday(self):
        # Born 1 Sep 2010: still 15 on 31 Aug 2026 -> Year 11 in 2026/27,
        # the same cohort as 31 Aug 2011 (both leave 25 Jun 2027).
        assert cal.school_year_group("2010-09-01", "2026-09-01") == 11
        # Born 1 Sep 2011: 14 on 31 Aug 2026 -> Year 10.
        assert cal.school_year_group("2011-09-01", "2026-09-01") == 10

    def test_reception(self):
        # Born 31 Aug 2022: 4 on 31 Aug 2026 -> Reception (0) in 2026/27,
        # including the last day of that year, 31 Aug 2027.
        assert cal.school_year_group("2022-08-31", "2026-09-07") == 0
        assert cal.school_year_group("2022-08-31", "2027-08-31") == 0
        # Born 1 Sep 2022: 3 on 31 Aug 2026 -> pre-Reception (-1) in
        # 2026/27; Reception in 2027/28.
        assert cal.school_year_group("2022-09-01", "2026-09-07") == -1
        assert cal.school_year_group("2022-09-01", "2027-09-01") == 0

    def test_year_9_is_the_year_they_turn_14(self):
        # Born 15 Nov 2012 turns 14 on 15 Nov 2026 (2026/27); 13 on
        # 31 Aug 2026 -> 13 - 4 = Year 9.
        assert cal.school_year_group("2012-11-15", "2027-03-01") == 9

    def test_born_after_census_date(self):
        # Born 1 Oct 2026, on 1 Nov 2026: census 31 Aug 2026 is before birth,
        # "age" -1 -> -5. No error: the child exists on the query date.
        assert cal.school_year_group("2026-10-01", "2026-11-01") == -5

    def test_before_birth_rejected(self):
        with pytest.raises(ValueError):
            cal.school_year_group("2026-10-01", "2026-09-01")
