"""Recording a request that came by email, post or phone: every question on one page, how it arrived and the
moment it was received (London time), checked by ``engine.intake.requests.record_request``."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from engine.errors import FormInvalid
from engine.intake.questions import CHANNELS, PAGES, QUESTIONS
from engine.intake.requests import record_request
from engine.statutory.calendar import LONDON
from webui.access import staff
from webui.context import db, now
from webui.intake.blueprint import bp, intake_authorities, require_intake
from webui.intake.wording import FOR_TEMPLATES, staff_message
from webui.numbers import whole_number

OFFLINE_CHANNELS = {k: v for k, v in CHANNELS.items() if k != "online"}
DATE_PARTS = ("day", "month", "year")
# Far more than any answer may hold (the engine says so on the field); a longer value is cut, never stored.
MAX_FIELD = 20_000
TIME = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?\s*([ap]\.?m\.?)?", re.IGNORECASE)


def form_values(form: MultiDict[str, str]) -> dict[str, str]:
    """Everything as typed, to draw the page again with nothing lost."""
    names = ["la_id", "channel", "received_time", *(f"received_on-{p}" for p in DATE_PARTS)]
    for q in QUESTIONS.values():
        names += [f"{q.name}-{p}" for p in DATE_PARTS] if q.kind == "date" else [q.name]
    return {name: (form.get(name) or "")[:MAX_FIELD] for name in names}


def _date_parts(values: dict[str, str], prefix: str) -> dict[str, str]:
    return {p: values.get(f"{prefix}-{p}", "").strip() for p in DATE_PARTS}


def _missing_parts(parts: dict[str, str], label: str) -> str | None:
    missing = [p for p, v in parts.items() if not v]
    if missing and len(missing) < 3:
        return f"{label} must include a {' and a '.join(missing)}"
    return None


def raw_answers(values: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The answers as ``engine.intake.questions`` reads them (a date input joined as "D M YYYY"), and the problems
    with a date that is only partly given (GOV.UK words)."""
    raw: dict[str, str] = {}
    errors: dict[str, str] = {}
    for q in QUESTIONS.values():
        if q.kind != "date":
            raw[q.name] = values.get(q.name, "")
            continue
        parts = _date_parts(values, q.name)
        raw[q.name] = " ".join(parts.values()) if any(parts.values()) else ""
        problem = _missing_parts(parts, q.label)
        if problem:
            errors[q.name] = problem
    return raw, errors


def parse_time(text: str) -> time | None:
    """"17:30", "5.30pm", "9am" as a time of day, or None."""
    m = TIME.fullmatch(text.strip())
    if m is None:
        return None
    hour, minute, half = int(m.group(1)), int(m.group(2) or 0), (m.group(3) or "").lower()[:1]
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "p" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def received_moment(values: dict[str, str]) -> tuple[datetime | None, dict[str, str]]:
    """The moment of receipt typed as a London date and time, as an aware UTC datetime; or what is wrong with it."""
    errors: dict[str, str] = {}
    parts = _date_parts(values, "received_on")
    day: date | None = None
    if not any(parts.values()):
        errors["received_on"] = "Enter the date the request was received"
    elif problem := _missing_parts(parts, "The date the request was received"):
        errors["received_on"] = problem
    else:
        try:
            if not (parts["year"].isdigit() and len(parts["year"]) == 4):
                raise ValueError
            day = date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
        except ValueError:
            errors["received_on"] = "The date the request was received must be a real date"
    text = values.get("received_time", "").strip()
    at = parse_time(text) if text else None
    if not text:
        errors["received_time"] = "Enter the time the request was received"
    elif at is None:
        errors["received_time"] = "Enter the time the request was received like 9:15 or 17:30"
    if day is None or at is None:
        return None, errors
    return datetime.combine(day, at, tzinfo=LONDON).astimezone(UTC), errors


def _chosen_la(values: dict[str, str], la_ids: set[int]) -> tuple[int | None, dict[str, str]]:
    if len(la_ids) == 1:
        return next(iter(la_ids)), {}
    la_id = whole_number(values.get("la_id"))
    if la_id not in la_ids:
        return None, {"la_id": "Select the local authority the request was made to"}
    return la_id, {}


def field_order() -> list[str]:
    """The fields in the order the page shows them (the error summary follows it)."""
    names = ["la_id", "channel", "received_on", "received_time"]
    for page in PAGES:
        names += [q.name for q in page.questions]
    return names


def anchor(name: str) -> str:
    question = QUESTIONS.get(name)
    if name == "received_on" or (question is not None and question.kind == "date"):
        return f"#{name}-day"
    return f"#{name}"


def error_list(errors: dict[str, str]) -> list[dict[str, Any]]:
    return [{"text": errors[name], "href": anchor(name)} for name in field_order() if name in errors]


@bp.route("/record", methods=["GET", "POST"])
@staff
def record() -> ResponseReturnValue:
    """Record a request that came by email, post or phone, with the moment it was received."""
    la_ids = require_intake()
    values = form_values(request.form) if request.method == "POST" else form_values(MultiDict())
    errors: dict[str, str] = {}
    if request.method == "POST":
        raw, errors = raw_answers(values)
        la_id, la_errors = _chosen_la(values, la_ids)
        received_at, moment_errors = received_moment(values)
        own = {**la_errors, **moment_errors}
        # With a problem of its own the page never reaches the engine with a moment, so nothing can be saved;
        # the engine still checks every answer, so that all the problems show at once.
        given = received_at if not own else None
        try:
            row = record_request(db(), la_id or 0, raw, values["channel"], given, current_user.record, now())
        except FormInvalid as exc:
            db().rollback()
            found = {name: staff_message(name, message) for name, message in exc.errors.items()}
            moment = found.pop("received_at", None)
            if moment and given is not None:
                found["received_on"] = moment
            errors = {**found, **errors, **own}
        else:
            db().commit()
            flash(f"Request {row.reference} recorded. Check the likely matches, then register it.", "success")
            return redirect(url_for("intake.request_page", request_id=row.id))
    return render_template("intake/record.html", values=values, errors=errors, error_list=error_list(errors),
                           pages=PAGES, wording=FOR_TEMPLATES, channels=OFFLINE_CHANNELS,
                           authorities=intake_authorities())
