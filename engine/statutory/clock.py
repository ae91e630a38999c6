"""One clock for the whole engine, injected, so tests and scenario runs can move time.

SpiffWorkflow 3.2 reads the wall clock in one place only (its timer event module, through a module-level
``datetime`` name). We replace that name once with a subclass whose ``now()`` asks the clock that is active in the
current context, so each engine command runs on its own clock and threads do not disturb each other.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import SpiffWorkflow.bpmn.specs.event_definitions.timer as _spiff_timer

LONDON = ZoneInfo("Europe/London")


class Clock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        """The statutory date: the calendar date in England."""
        return self.now().astimezone(LONDON).date()


class FrozenClock(Clock):
    """A clock that only moves when told to (tests, scenario runs, benchmarks)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self.current = start.astimezone(UTC)

    def now(self) -> datetime:
        return self.current

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self.current = when.astimezone(UTC)

    def advance(self, **kwargs: float) -> datetime:
        self.current += timedelta(**kwargs)
        return self.current


_active: contextvars.ContextVar[Clock | None] = contextvars.ContextVar("ehcflow_clock", default=None)
_real_datetime = datetime


class _ClockDatetime(_real_datetime):
    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        clock = _active.get()
        if clock is None:
            return _real_datetime.now(tz)
        now = clock.now()
        return now.astimezone(tz) if tz is not None else now.astimezone().replace(tzinfo=None)


_spiff_timer.datetime = _ClockDatetime  # type: ignore[misc]


@contextlib.contextmanager
def active_clock(clock: Clock) -> Iterator[Clock]:
    token = _active.set(clock)
    try:
        yield clock
    finally:
        _active.reset(token)
