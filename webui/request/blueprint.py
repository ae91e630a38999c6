"""The request pages' blueprint (``request``, under ``/request-an-assessment``) and what they share: the draft found
by the token kept in the person's session, the order of the pages, the throttles, and the settings a SENCO asks for.

The pages are public: a parent or young person asks without an account. The draft's token lives only in the Flask
session (a signed cookie), so nobody else can open or change a draft, and nothing identifies it in a URL.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.intake.questions import pages_for
from engine.intake.requests import draft_for
from engine.people import sign_in_throttle as throttle
from engine.people.roles import Role
from engine.store.models import Organisation
from engine.store.requests import AssessmentRequest
from webui.context import db, now

bp = Blueprint("request", __name__, url_prefix="/request-an-assessment")

DRAFT_KEY = "request_draft"
SENT_KEY = "request_sent"
REPORTS = "reports"  # the upload page, after "support"
# Per client address and hour; settings may override them (a council behind one proxy address may need more).
LIMITS = {"draft": "REQUEST_DRAFTS_PER_HOUR", "send": "REQUEST_SENDS_PER_HOUR"}
HOUR = timedelta(hours=1)


def current_draft() -> AssessmentRequest | None:
    """The draft this session is filling in, if it is still a draft."""
    return draft_for(db(), session.get(DRAFT_KEY))


def steps(answers: dict[str, str]) -> list[str]:
    """The pages this requester goes through, in order, the upload page included."""
    out: list[str] = []
    for page in pages_for(answers.get("requester_type")):
        out.append(page.slug)
        if page.slug == "support":
            out.append(REPORTS)
    return out


def step_url(slug: str, **args: str) -> str:
    return url_for("request.reports", **args) if slug == REPORTS else url_for("request.question", slug=slug, **args)


def back_url(answers: dict[str, str], slug: str, change: bool) -> str:
    if change:
        return url_for("request.check")
    order = steps(answers)
    at = order.index(slug) if slug in order else 0
    return step_url(order[at - 1]) if at > 0 else url_for("request.start")


def next_url(answers: dict[str, str], slug: str) -> str:
    order = steps(answers)
    at = order.index(slug) if slug in order else len(order)
    return step_url(order[at + 1]) if at + 1 < len(order) else url_for("request.check")


def _client() -> str:
    return request.remote_addr or "unknown"


def too_busy(kind: str) -> bool:
    """True when this client address has already done this (start a draft, send) as often as an hour allows, in any
    web process (the counts are in the database)."""
    return throttle.blocked(db(), f"req_{kind}", _client(), int(current_app.config[LIMITS[kind]]), HOUR, now())


def count(kind: str) -> None:
    throttle.record_failure(db(), f"req_{kind}", _client(), HOUR, now())
    db().commit()


def too_many() -> ResponseReturnValue:
    return render_template("request/too_many.html"), 429


def senco_settings() -> list[Organisation]:
    """The schools and settings where the signed-in person holds the school role (a SENCO asks from their account)."""
    if not current_user.is_authenticated:
        return []
    ids = {org for org, role in current_user.holder.roles if org is not None and role == Role.SCHOOL.value}
    return sorted((current_user.organisations[i] for i in ids if i in current_user.organisations),
                  key=lambda o: o.name)
