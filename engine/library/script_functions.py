"""The functions BPMN scripts, conditions and timer expressions may call.

Task data must stay JSON (it is serialized with the instance and shown in forms), so these wrappers take and return
ISO date strings rather than date objects. Timer expressions end with ``deadline_at(date)``, which gives the moment
the deadline day is over in England, as an ISO string with its offset (a timer value without an offset would be read
in the server's local zone).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from engine.statutory import calendar
from engine.statutory.clock import Clock

_DATE_FUNCTIONS = (
    "add_days",
    "add_weeks",
    "add_months",
    "add_years",
    "add_working_days",
    "add_tribunal_working_days",
    "days_beginning_with",
    "later_of",
    "earlier_of",
    "next_working_day",
    "post16_transfer_deadline",
)


def _iso_result(fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any) -> Any:
        value = fn(*args)
        return value.isoformat() if isinstance(value, date) else value

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


def _phase_transfer_deadline(year: int, kind: str = "school") -> str:
    return calendar.phase_transfer_deadline(int(year), kind).isoformat()


def _deadline_at(value: Any) -> str:
    return calendar.deadline_moment(value).isoformat()


def script_globals(clock: Clock) -> dict[str, Any]:
    """Names visible to every BPMN script and expression, bound to the engine's clock."""
    names: dict[str, Any] = {name: _iso_result(getattr(calendar, name)) for name in _DATE_FUNCTIONS}
    names.update(
        {
            "today": lambda: clock.today().isoformat(),
            "now": lambda: clock.now().isoformat(),
            "deadline_at": _deadline_at,
            "phase_transfer_deadline": _phase_transfer_deadline,
            "statutory_start_date": lambda received_at: calendar.statutory_start_date(
                datetime.fromisoformat(received_at) if isinstance(received_at, str) else received_at
            ).isoformat(),
            "is_working_day": calendar.is_working_day,
            "age_on": calendar.age_on,
            "school_year_group": calendar.school_year_group,
            "end_of_compulsory_school_age": _iso_result(calendar.end_of_compulsory_school_age),
            "date_before": lambda a, b: calendar.as_date(a) < calendar.as_date(b),
            "days_between": lambda a, b: (calendar.as_date(b) - calendar.as_date(a)).days,
        }
    )
    return names


# For the linter and the docs: the names a process owner may use.
SCRIPT_FUNCTION_NAMES = frozenset(script_globals(Clock()))
