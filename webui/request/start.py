"""The start page: what an EHC needs assessment is and who may ask, the local authority, and "Start now", which opens
a draft (a signed-in SENCO's draft names them and their setting, and is filled in as far as their account allows)."""

from __future__ import annotations

from flask import redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.intake.requests import local_authorities, save_answers, start_draft
from engine.store.models import Organisation
from webui.access import public
from webui.context import db, now
from webui.request.blueprint import (
    DRAFT_KEY,
    SENT_KEY,
    bp,
    count,
    current_draft,
    senco_settings,
    step_url,
    steps,
    too_busy,
    too_many,
)


def _preselected(las: list[Organisation], settings: list[Organisation]) -> str:
    """The LA chosen before the page was shown: ``?la=<code>`` from the Local Offer, else a SENCO's maintaining LA."""
    wanted = (request.args.get("la") or "").strip().lower()
    for la in las:
        if wanted and wanted in ((la.code or "").lower(), str(la.id)):
            return str(la.id)
    maintaining = {s.maintaining_la_id for s in settings}
    for la in las:
        if la.id in maintaining:
            return str(la.id)
    return str(las[0].id) if len(las) == 1 else ""


@bp.route("/", methods=["GET", "POST"])
@public
def start() -> ResponseReturnValue:
    """What an assessment is and who may ask; "Start now" opens the draft."""
    las = local_authorities(db())
    settings = senco_settings()
    errors: dict[str, str] = {}
    chosen = {"la": _preselected(las, settings), "setting": str(settings[0].id) if len(settings) == 1 else ""}
    if request.method == "POST":
        if too_busy("draft"):
            return too_many()
        chosen = {"la": request.form.get("la", "").strip(), "setting": request.form.get("setting", "").strip()}
        if len(las) == 1:
            chosen["la"] = str(las[0].id)
        if len(settings) == 1:
            chosen["setting"] = str(settings[0].id)
        la = next((la for la in las if str(la.id) == chosen["la"]), None)
        setting = next((s for s in settings if str(s.id) == chosen["setting"]), None)
        if la is None:
            errors["la"] = "Select the local authority you are asking"
        if settings and setting is None:
            errors["setting"] = "Select the school or setting you are asking for"
        if not errors and la is not None:
            return _open_draft(la, setting)
    existing = current_draft()
    return render_template("request/start.html", las=las, settings=settings, chosen=chosen, errors=errors,
                           continue_url=step_url(steps(existing.answers or {})[0]) if existing else None)


def _open_draft(la: Organisation, setting: Organisation | None) -> ResponseReturnValue:
    requester = current_user.record if setting is not None else None
    row, token = start_draft(db(), la.id, now(), requester=requester,
                             requester_org_id=setting.id if setting is not None else None)
    if setting is not None:
        # A SENCO asks as their setting: who they are and which setting come from their account.
        row.setting_org_id = setting.id
        save_answers(row, {"requester_type": "setting", "requester_name": current_user.name,
                           "requester_email": current_user.email, "setting_name": setting.name}, now())
    elif current_user.is_authenticated:
        save_answers(row, {"requester_name": current_user.name, "requester_email": current_user.email}, now())
    db().commit()
    count("draft")
    session[DRAFT_KEY] = token
    session.pop(SENT_KEY, None)
    return redirect(url_for("request.question", slug="who"))
