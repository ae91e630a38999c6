"""Jinja set-up: the GOV.UK macros, a strict Undefined for our own templates, and display filters."""

from __future__ import annotations

import sys
from datetime import date, datetime
from typing import Any

from flask import Flask
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader, StrictUndefined, Undefined
from markupsafe import Markup, escape

from engine.statutory import calendar
from webui.uploads import human_size


def _in_govuk_template() -> bool:
    """True when the nearest template frame on the stack is one of govuk-frontend-jinja's own templates.

    Those templates test optional parameters by reading them (``{% if params.classes %}``), which needs a lenient
    Undefined; our templates get the strict one, so a misspelt name fails the tests instead of printing nothing.
    """
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.endswith(".html"):
            return "govuk_frontend_jinja" in filename
        frame = frame.f_back
    return False


class StrictOutsideGovukUndefined(StrictUndefined):
    __slots__ = ()

    def __str__(self) -> str:
        return "" if _in_govuk_template() else super().__str__()

    def __bool__(self) -> bool:
        return False if _in_govuk_template() else super().__bool__()

    def __iter__(self) -> Any:
        return iter(()) if _in_govuk_template() else super().__iter__()

    def __len__(self) -> int:
        return 0 if _in_govuk_template() else super().__len__()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Undefined) if _in_govuk_template() else super().__eq__(other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return id(type(self))

    def __contains__(self, item: object) -> bool:
        return False if _in_govuk_template() else super().__contains__(item)  # type: ignore[misc]


# ---- filters -------------------------------------------------------------------------------------------------------

def long_date(value: date | datetime | str | None) -> str:
    """'14 March 2026'; an aware datetime is shown as its date in England."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if len(value) > 10 else calendar.as_date(value)
    if isinstance(value, datetime):
        value = calendar.to_london_date(value) if value.tzinfo else value.date()
    return f"{value.day} {value:%B %Y}"


def short_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = calendar.to_london_date(value) if value.tzinfo else value.date()
    return f"{value.day} {value:%b %Y}"


def date_time(value: datetime | None) -> str:
    """'14 March 2026 at 2:05pm' in England's time (GOV.UK style)."""
    if value is None:
        return ""
    local = value.astimezone(calendar.LONDON) if value.tzinfo else value
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    time = f"{hour}{suffix}" if local.minute == 0 else f"{hour}:{local.minute:02d}{suffix}"
    if local.hour == 12 and local.minute == 0:
        time = "midday"
    elif local.hour == 0 and local.minute == 0:
        time = "midnight"
    return f"{local.day} {local:%B %Y} at {time}"


def days_left(due: date | None, today: date) -> str:
    if due is None:
        return ""
    days = (due - today).days
    if days == 0:
        return "Due today"
    if days == 1:
        return "1 day left"
    if days > 1:
        return f"{days} days left"
    return "1 day late" if days == -1 else f"{-days} days late"


def paragraphs(text: str | None) -> Markup:
    """Text with blank lines as paragraphs, escaped."""
    parts = [p.strip() for p in (text or "").replace("\r\n", "\n").split("\n\n") if p.strip()]
    return Markup("".join(f'<p class="govuk-body">{escape(p)}</p>'.replace("\n", "<br>") for p in parts))


TAG_CLASSES = {
    "overdue": "govuk-tag--red",
    "missed": "govuk-tag--red",
    "due_soon": "govuk-tag--orange",
    "due soon": "govuk-tag--orange",
    "due": "govuk-tag--blue",
    "exception": "govuk-tag--purple",
    "missed (exception claimed)": "govuk-tag--purple",
    "no_date": "govuk-tag--grey",
    "met": "govuk-tag--green",
    "no longer applies": "govuk-tag--grey",
    "completed": "govuk-tag--green",
    "terminated": "govuk-tag--grey",
    "failed": "govuk-tag--red",
    "suspended": "govuk-tag--yellow",
    "waiting_person": "govuk-tag--blue",
    "waiting_timer": "govuk-tag--light-blue",
    "running": "govuk-tag--blue",
}

INSTANCE_STATUS_LABELS = {
    "running": "In progress",
    "waiting_person": "Waiting for someone to act",
    "waiting_timer": "Waiting for a date",
    "suspended": "Paused by an administrator",
    "failed": "Stopped by a problem",
    "completed": "Finished",
    "terminated": "Ended",
}


def tag_class(status: str | None) -> str:
    return TAG_CLASSES.get(status or "", "govuk-tag--grey")


def init_app(app: Flask) -> None:
    app.jinja_loader = ChoiceLoader([
        app.jinja_loader,  # type: ignore[list-item]
        PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
    ])
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    if app.config.get("JINJA_STRICT"):
        app.jinja_env.undefined = StrictOutsideGovukUndefined
    app.jinja_env.filters.update(long_date=long_date, short_date=short_date, date_time=date_time, days_left=days_left,
                                 paragraphs=paragraphs, tag_class=tag_class,
                                 human_size=human_size)
    app.jinja_env.globals.update(INSTANCE_STATUS_LABELS=INSTANCE_STATUS_LABELS)
