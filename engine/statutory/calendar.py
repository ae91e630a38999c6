"""Statutory calendar for England: pure date arithmetic for SEND timescales.

Implements the time units of send-processes.md §0.2 and the master timescale
table (§12): calendar days/weeks/months, "beginning with" periods, working days
(England & Wales bank holidays), SEND Tribunal working days, the receipt
"statutory start date", phase-transfer dates and school-age helpers.

No Flask, no database: every function is deterministic given its arguments
(and the installed version of the ``holidays`` package).

Note: this module lives inside the ``engine`` package, so it never shadows the
standard library ``calendar`` module for absolute imports; it deliberately does
not import that module anyway to avoid confusion.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

import holidays

__all__ = [
    "LONDON",
    "RECEIPT_CUTOFF_HOUR",
    "TRIBUNAL_EXCLUDED_PERIODS",
    "AnnualPeriod",
    "DateLike",
    "as_date",
    "add_days",
    "add_weeks",
    "add_months",
    "add_years",
    "days_beginning_with",
    "is_bank_holiday",
    "bank_holidays",
    "is_working_day",
    "next_working_day",
    "add_working_days",
    "working_days_between",
    "is_tribunal_working_day",
    "add_tribunal_working_days",
    "later_of",
    "earlier_of",
    "phase_transfer_deadline",
    "post16_transfer_deadline",
    "statutory_start_date",
    "deadline_moment",
    "to_london_date",
    "age_on",
    "end_of_compulsory_school_age",
    "school_year_group",
]

LONDON = ZoneInfo("Europe/London")

DateLike = date | datetime | str

# --------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------

#: Hour (Europe/London wall clock) at or after which a request received on a
#: working day counts as received on the next working day. Not in the Regs:
#: IPSEA practice guidance (model letter 9) uses 5pm for hand delivery/email.
RECEIPT_CUTOFF_HOUR = 17


class AnnualPeriod(NamedTuple):
    """A recurring inclusive span of days each year, given as (month, day).

    ``start`` may be later in the year than ``end``; the period then wraps
    over the year end (e.g. 25 Dec – 1 Jan).
    """

    name: str
    start: tuple[int, int]
    end: tuple[int, int]

    def contains(self, d: date) -> bool:
        md = (d.month, d.day)
        if self.start <= self.end:
            return self.start <= md <= self.end
        return md >= self.start or md <= self.end


#: Days that are never SEND Tribunal "working days", on top of weekends and
#: bank holidays. VERIFY: taken from IPSEA's description of the HESC Tribunal
#: Procedure Rules 2008 (send-processes.md §0.2, marked "partial – verify
#: rule 1 definition"). Kept as data so it can be corrected without code
#: changes.
TRIBUNAL_EXCLUDED_PERIODS: tuple[AnnualPeriod, ...] = (
    AnnualPeriod("Christmas to New Year", (12, 25), (1, 1)),
    AnnualPeriod("August", (8, 1), (8, 31)),
)

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# --------------------------------------------------------------------------
# Input coercion
# --------------------------------------------------------------------------


def as_date(value: DateLike) -> date:
    """Coerce a date, datetime or ISO ``YYYY-MM-DD`` string to a ``date``.

    An aware datetime is converted to Europe/London first, because statutory
    days are English local days; a naive datetime is taken at face value.
    Raises ``ValueError`` for anything else.
    """
    # datetime is a subclass of date, so it must be checked first.
    if isinstance(value, datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            return value.astimezone(LONDON).date()
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        # fromisoformat also accepts "20260131" and week dates in 3.11; only
        # the plain extended form is allowed so stored data stays uniform.
        if not _ISO_DATE.fullmatch(text):
            raise ValueError(f"Expected an ISO date string 'YYYY-MM-DD', got {value!r}")
        try:
            return date.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"Invalid calendar date {value!r}: {exc}") from None
    raise ValueError(f"Expected a date, datetime or ISO 'YYYY-MM-DD' string, got {type(value).__name__}: {value!r}")


def _as_int(n: int, what: str = "n") -> int:
    # bool is an int subclass; True days is almost certainly a bug upstream.
    if isinstance(n, bool) or not isinstance(n, int):
        raise ValueError(f"{what} must be an integer, got {type(n).__name__}: {n!r}")
    return n


def _require_aware(dt: datetime, what: str) -> datetime:
    if not isinstance(dt, datetime):
        raise ValueError(f"{what} must be a datetime, got {type(dt).__name__}: {dt!r}")
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {dt.isoformat()}")
    return dt


# --------------------------------------------------------------------------
# Calendar periods
# --------------------------------------------------------------------------


def add_days(d: DateLike, n: int) -> date:
    """Return ``d`` plus ``n`` calendar days (``n`` may be negative)."""
    return as_date(d) + timedelta(days=_as_int(n))


def add_weeks(d: DateLike, n: int) -> date:
    """Return ``d`` plus ``n`` calendar weeks of 7 days (§0.2: "weeks")."""
    return as_date(d) + timedelta(weeks=_as_int(n))


def _days_in_month(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (date(year, month + 1, 1) - timedelta(days=1)).day


def add_months(d: DateLike, n: int) -> date:
    """Return ``d`` plus ``n`` calendar months (``n`` may be negative).

    Month-end rule: if the target month has no corresponding day, the period
    ends on that month's last day (31 Jan + 1 month = 28/29 Feb).
    """
    start = as_date(d)
    index = start.year * 12 + (start.month - 1) + _as_int(n)
    year, month0 = divmod(index, 12)
    month = month0 + 1
    if not 1 <= year <= 9999:
        raise ValueError(f"add_months({start.isoformat()}, {n}) is out of range")
    return date(year, month, min(start.day, _days_in_month(year, month)))


def add_years(d: DateLike, n: int) -> date:
    """Return ``d`` plus ``n`` years (29 Feb → 28 Feb in a common year)."""
    return add_months(d, 12 * _as_int(n))


def days_beginning_with(d: DateLike, n: int) -> date:
    """Last day of a period of ``n`` days beginning with (and counting) ``d``.

    E.g. a draft plan served on 2 Mar with "15 days beginning with the day of
    service" (reg 13(1)(a)) runs to 16 Mar; the plan may be finalised the day
    after the returned date.
    """
    if _as_int(n) < 1:
        raise ValueError(f"A period beginning with a day has at least 1 day, got {n}")
    return as_date(d) + timedelta(days=n - 1)


# --------------------------------------------------------------------------
# Bank holidays and working days
# --------------------------------------------------------------------------


@cache
def _bank_holidays_for_year(year: int) -> frozenset[date]:
    # subdiv ENG: Scotland/NI holidays (e.g. 2 Jan, St Patrick's) must not
    # move English statutory deadlines. Cached because every working-day step
    # queries it and the holidays package rebuilds its table on each call.
    table = holidays.country_holidays("GB", subdiv="ENG", years=year)
    return frozenset(day for day in table if day.year == year)


def bank_holidays(year: int) -> frozenset[date]:
    """All England & Wales bank holidays in ``year`` (incl. substitute days)."""
    return _bank_holidays_for_year(_as_int(year, "year"))


def is_bank_holiday(d: DateLike) -> bool:
    """True if ``d`` is an England & Wales bank holiday (incl. substitutes)."""
    day = as_date(d)
    return day in _bank_holidays_for_year(day.year)


def _is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays_for_year(day.year)


def is_working_day(d: DateLike) -> bool:
    """True if ``d`` is Monday–Friday and not a bank holiday."""
    return _is_working_day(as_date(d))


def next_working_day(d: DateLike) -> date:
    """Return ``d`` if it is a working day, else the next working day."""
    day = as_date(d)
    while not _is_working_day(day):
        day += timedelta(days=1)
    return day


def _step_days(day: date, n: int, is_counted: Callable[[date], bool]) -> date:
    # The start day never counts: "n working days after d" starts tomorrow.
    step = timedelta(days=1 if n >= 0 else -1)
    remaining = abs(n)
    while remaining:
        day += step
        if is_counted(day):
            remaining -= 1
    return day


def add_working_days(d: DateLike, n: int) -> date:
    """Return the ``n``-th working day after ``d`` (``d`` itself never counts).

    ``n == 0`` returns ``d`` unchanged; negative ``n`` counts backwards.
    """
    return _step_days(as_date(d), _as_int(n), _is_working_day)


def _weekdays_through(day: date) -> int:
    # Mon–Fri days from 0001-01-01 (a Monday, ordinal 1) up to and including
    # ``day``: O(1) so long spans do not iterate day by day.
    weeks, rest = divmod(day.toordinal(), 7)
    return weeks * 5 + min(rest, 5)


def working_days_between(a: DateLike, b: DateLike) -> int:
    """Number of working days after ``a`` up to and including ``b``.

    Matches ``add_working_days``: if ``b`` is a working day then
    ``add_working_days(a, working_days_between(a, b)) == b``. Negative when
    ``b`` is before ``a``; 0 when equal.
    """
    start, end = as_date(a), as_date(b)
    if end < start:
        return -working_days_between(end, start)
    weekdays = _weekdays_through(end) - _weekdays_through(start)
    holidays_on_weekdays = sum(
        1
        for year in range(start.year, end.year + 1)
        for day in _bank_holidays_for_year(year)
        if start < day <= end and day.weekday() < 5
    )
    return weekdays - holidays_on_weekdays


# --------------------------------------------------------------------------
# Tribunal working days
# --------------------------------------------------------------------------


def _is_tribunal_working_day(day: date) -> bool:
    return _is_working_day(day) and not any(period.contains(day) for period in TRIBUNAL_EXCLUDED_PERIODS)


def is_tribunal_working_day(d: DateLike) -> bool:
    """True if ``d`` is a working day outside ``TRIBUNAL_EXCLUDED_PERIODS``."""
    return _is_tribunal_working_day(as_date(d))


def add_tribunal_working_days(d: DateLike, n: int) -> date:
    """Return the ``n``-th SEND Tribunal working day after ``d``.

    Same counting as ``add_working_days`` but skipping
    ``TRIBUNAL_EXCLUDED_PERIODS`` (25 Dec – 1 Jan, August; verify).
    """
    return _step_days(as_date(d), _as_int(n), _is_tribunal_working_day)


# --------------------------------------------------------------------------
# Combining dates
# --------------------------------------------------------------------------


def later_of(*dates: DateLike) -> date:
    """The latest of the given dates (e.g. T24, T32 "whichever is later")."""
    if not dates:
        raise ValueError("later_of() needs at least one date")
    return max(as_date(d) for d in dates)


def earlier_of(*dates: DateLike) -> date:
    """The earliest of the given dates."""
    if not dates:
        raise ValueError("earlier_of() needs at least one date")
    return min(as_date(d) for d in dates)


# --------------------------------------------------------------------------
# Phase transfer (reg 18)
# --------------------------------------------------------------------------


def phase_transfer_deadline(year: int, kind: str) -> date:
    """Reg 18(1) deadline for amending a plan before a phase transfer.

    ``kind`` is ``"school"`` (15 February) or ``"post16"`` (31 March, secondary
    school → post-16 institution); ``year`` is the calendar year of transfer.
    """
    year = _as_int(year, "year")
    if kind == "school":
        return date(year, 2, 15)
    if kind == "post16":
        return date(year, 3, 31)
    raise ValueError(f"kind must be 'school' or 'post16', got {kind!r}")


def post16_transfer_deadline(transfer_date: DateLike) -> date:
    """Reg 18(2): at least 5 months before a post-16 → post-16 transfer."""
    return add_months(transfer_date, -5)


# --------------------------------------------------------------------------
# Moments in time
# --------------------------------------------------------------------------


def to_london_date(dt: datetime) -> date:
    """The Europe/London calendar date of an aware datetime."""
    return _require_aware(dt, "dt").astimezone(LONDON).date()


def statutory_start_date(received_at: datetime, cutoff_hour: int = RECEIPT_CUTOFF_HOUR) -> date:
    """The day a request counts as received (the clock-start date).

    Uses London local time: received on a working day before ``cutoff_hour``
    → that day; otherwise → the next working day (IPSEA practice guidance).
    """
    _require_aware(received_at, "received_at")
    cutoff_hour = _as_int(cutoff_hour, "cutoff_hour")
    if not 0 <= cutoff_hour <= 24:
        raise ValueError(f"cutoff_hour must be between 0 and 24, got {cutoff_hour}")
    local = received_at.astimezone(LONDON)
    day = local.date()
    late = cutoff_hour < 24 and local.time() >= time(cutoff_hour)
    if _is_working_day(day) and not late:
        return day
    return next_working_day(day + timedelta(days=1))


def deadline_moment(d: DateLike) -> datetime:
    """Aware UTC instant at which deadline date ``d`` has passed.

    A deadline "on" a day runs to the end of that London day, i.e. midnight
    Europe/London at the start of the next day (23:00 UTC during BST).
    """
    next_day = as_date(d) + timedelta(days=1)
    # Midnight always exists in London (clocks change at 01:00 UTC).
    return datetime.combine(next_day, time(0), tzinfo=LONDON).astimezone(UTC)


# --------------------------------------------------------------------------
# Age and school year
# --------------------------------------------------------------------------


def age_on(birth_date: DateLike, on: DateLike) -> int:
    """Age in whole years on ``on``.

    A 29 Feb birthday is reached on 1 Mar in common years (tuple comparison
    gives this for free).
    """
    born, day = as_date(birth_date), as_date(on)
    if day < born:
        raise ValueError(f"Date {day.isoformat()} is before birth date {born.isoformat()}")
    had_birthday = (day.month, day.day) >= (born.month, born.day)
    return day.year - born.year - (0 if had_birthday else 1)


def _academic_year_start(day: date) -> int:
    # Academic year runs 1 September – 31 August; name it by its start year.
    return day.year if day.month >= 9 else day.year - 1


def end_of_compulsory_school_age(birth_date: DateLike) -> date:
    """School leaving date: last Friday in June of the academic year in which
    the child turns 16 (Education (School Leaving Date) Order 1997).
    """
    born = as_date(birth_date)
    # The 16th birthday falls in the academic year starting born.year + 16 if
    # it is on/after 1 Sep, else in the one starting a year earlier; either
    # way that academic year ends in June of the year computed here. (A 29 Feb
    # birthday lands in Feb/Mar, so the common-year question does not arise.)
    june_year = born.year + (17 if born.month >= 9 else 16)
    last = date(june_year, 6, 30)
    # 30 June can fall on any weekday; the leaving day is the Friday on or
    # before it (Friday is weekday 4).
    return last - timedelta(days=(last.weekday() - 4) % 7)


def school_year_group(birth_date: DateLike, on: DateLike) -> int:
    """Chronological (national curriculum) year group on ``on``.

    Reception = 0: age on the 31 August before the academic year starts,
    minus 4. Negative values are pre-Reception; above 13 is beyond Year 13.
    Pupils taught out of year group are not reflected here.
    """
    born, day = as_date(birth_date), as_date(on)
    if day < born:
        raise ValueError(f"Date {day.isoformat()} is before birth date {born.isoformat()}")
    census = date(_academic_year_start(day), 8, 31)
    # Not age_on(): a child born after the census date has a negative "age".
    had_birthday = (census.month, census.day) >= (born.month, born.day)
    age_at_census = census.year - born.year - (0 if had_birthday else 1)
    return age_at_census - 4
