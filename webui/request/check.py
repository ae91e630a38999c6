"""Check your answers, send the request, and the confirmation (shown only to the session that sent it).

Sending is throttled per client address, and it is the moment the local authority receives the request: the clock's
now, kept exactly, starts the six weeks (``engine.intake.requests.decide_by``).
"""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from markupsafe import Markup, escape

from engine.errors import FormInvalid
from engine.intake.questions import first_page_with_problems, pages_for, parse_date
from engine.intake.requests import decide_by, submit_draft
from engine.store.requests import AssessmentRequest
from webui.access import public
from webui.context import db, now, today
from webui.jinja import long_date
from webui.request.blueprint import DRAFT_KEY, SENT_KEY, bp, count, current_draft, steps, too_busy, too_many
from webui.uploads import human_size

NOT_GIVEN = "Not given"


def _shown(kind: str, options: dict[str, str], value: str) -> Any:
    if not value:
        return NOT_GIVEN
    if kind == "radios":
        return options.get(value, value)
    if kind == "date":
        day = parse_date(value)
        return long_date(day) if day else value
    if kind == "textarea":
        return Markup("<br>").join(escape(line) for line in value.splitlines())
    return value


def sections(answers: dict[str, str]) -> list[dict[str, Any]]:
    """Every page's answers, as GOV.UK summary list rows with their "Change" links."""
    out: list[dict[str, Any]] = []
    for page in pages_for(answers.get("requester_type")):
        href = url_for("request.question", slug=page.slug, change="1")
        rows = []
        for q in page.questions:
            if q.name.endswith("_details") and answers.get(q.name.removesuffix("_details")) != "yes":
                continue  # "what is urgent" only when something is
            value = _shown(q.kind, dict(q.options), str(answers.get(q.name) or ""))
            rows.append({"key": {"text": q.label},
                         "value": {"html": value} if isinstance(value, Markup) else {"text": value},
                         "actions": {"items": [{"href": href, "text": "Change", "visuallyHiddenText": q.label.lower()}]}})
        out.append({"title": page.title, "rows": rows})
    return out


@bp.get("/check-your-answers")
@public
def check() -> ResponseReturnValue:
    """Every answer, each with a "Change" link, and "Send request"."""
    row = current_draft()
    if row is None:
        return redirect(url_for("request.start"))
    answers = dict(row.answers or {})
    files = [f"{a['filename']} ({human_size(int(a['size']))})" for a in row.attachments or []]
    last = steps(answers)[-1]
    return render_template("request/check.html", la=row.la, sections=sections(answers), files=files,
                           back_url=url_for("request.question", slug=last))


@bp.post("/check-your-answers")
@public
def send() -> ResponseReturnValue:
    """Sends the request: it is received now. A page that no longer passes is shown again with its problems."""
    row = current_draft()
    if row is None:
        return redirect(url_for("request.start"))
    if too_busy("send"):
        return too_many()
    count("send")
    if (row.answers or {}).get("requester_type") != "setting":
        # A SENCO who changed "who is asking" (a parent asking for their own child) does not ask as their setting.
        row.requester_org_id = row.setting_org_id = None
    try:
        submit_draft(db(), row, now(), actor=current_user.record if current_user.is_authenticated else None)
    except FormInvalid:
        db().rollback()
        page = first_page_with_problems(dict(row.answers or {}), today())
        return redirect(url_for("request.question", slug=page.slug, change="1", check="1") if page
                        else url_for("request.check"))
    db().commit()
    session.pop(DRAFT_KEY, None)
    session[SENT_KEY] = row.id
    return redirect(url_for("request.confirmation"))


@bp.get("/confirmation")
@public
def confirmation() -> ResponseReturnValue:
    """The reference, when it was received and the date the LA must decide by; only for the session that sent it."""
    sent = session.get(SENT_KEY)
    row = db().get(AssessmentRequest, sent) if isinstance(sent, int) else None
    if row is None or row.received_at is None:
        return redirect(url_for("request.start"))
    family = row.requester_type in ("parent", "young_person")
    account_email = row.requester_email if family and row.requester_user and not row.requester_user.password_hash \
        else None
    return render_template("request/confirmation.html", row=row, decide_by=decide_by(row.received_at),
                           family=family, account_email=account_email)
