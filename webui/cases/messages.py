"""Telling a case's routes what happened outside EHC Flow (the tribunal registered an appeal, the family withdrew it,
disagreement resolution was asked for, a complaint went to the Ombudsman): a small form, a page to check the
answers, then ``engine.casework.case_messages.send_message``. Which messages are offered, their fields and who may send them
are in ``engine.casework.case_messages.MESSAGES``.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.casework import case_messages
from engine.casework.case_messages import MESSAGES, CaseMessage, OfferedMessage
from engine.errors import ConcurrentUpdate, FormInvalid, InstanceFailed, InvalidState, NotAllowed, NotFound
from engine.store.models import Case
from webui.access import staff
from webui.cases.blueprint import bp, case_or_404
from webui.context import db, engine, today
from webui.forms import options as form_options
from webui.forms.build import build_form
from webui.forms.conversion import from_raw, to_raw
from webui.forms.raw_values import RawValues, clean_raw
from webui.forms.summary import summarise


@bp.route("/<int:case_id>/messages/<string:message_name>", methods=["GET", "POST"])
@staff
def message(case_id: int, message_name: str) -> ResponseReturnValue:
    """Tell the case's routes something a route is waiting for (the responsible LA's caseworkers and managers)."""
    case = case_or_404(case_id)
    kind = MESSAGES.get(message_name)
    if kind is None:
        abort(404)
    if not case_messages.may_send(db(), current_user.record, case, kind):
        abort(403)
    back = url_for("cases.case", case_id=case.id) + "#messages"
    page = MessagePage(case, kind, kind.schema, url_for("cases.message", case_id=case.id, message_name=kind.name), back,
                       family_view=False)
    return page.handle()


class MessagePage:
    """The form, the check-your-answers page and the sending, for staff and (for its own messages) the family."""

    def __init__(self, case: Case, kind: CaseMessage, schema: dict[str, Any], action_url: str, back_url: str, *,
                 family_view: bool) -> None:
        self.case, self.kind, self.schema = case, kind, schema
        self.action_url, self.back_url, self.family_view = action_url, back_url, family_view

    def handle(self) -> ResponseReturnValue:
        offer: OfferedMessage | None
        try:
            offer = case_messages.offered(engine(), db(), self.case, self.kind.name, family=self.family_view)
        except NotFound:
            offer = None
        if request.method == "GET":
            if offer is None:
                flash("Nothing on this case is waiting for this at the moment.", "info")
                return redirect(self.back_url)
            return self.form(offer, to_raw(self.schema, {}), {})
        raw = clean_raw(self.schema, request.form.lists())
        if offer is None:
            # The route moved on while the form was open: say so, with the answers still there.
            return self.form(None, raw, {}, problem="Nothing on this case is waiting for this any more: the route "
                                                    "has moved on. Nothing was sent.")
        action = request.form.get("_action", "check")
        if action == "change":
            return self.form(offer, raw, {})
        data, errors = self.answers(raw)
        if errors:
            return self.form(offer, raw, errors)
        if action != "send":
            return self.confirm(offer, raw, data)
        payload = (case_messages.family_payload(self.kind, data, today()) if self.family_view else data)
        try:
            case_messages.send_message(engine(), self.case.id, self.kind.name, payload, current_user.record)
        except FormInvalid as exc:
            return self.form(offer, raw, dict(exc.errors))
        except NotAllowed:
            abort(403)
        except (InvalidState, InstanceFailed, ConcurrentUpdate) as exc:
            return self.form(offer, raw, {}, problem=str(exc))
        flash(self.done_text(offer), "success")
        return redirect(self.back_url)

    def answers(self, raw: RawValues) -> tuple[dict[str, Any], dict[str, str]]:
        converted = from_raw(self.schema, raw)
        payload = (case_messages.family_payload(self.kind, converted.data, today()) if self.family_view
                   else converted.data)
        errors = dict(converted.errors)
        for key, text in case_messages.check_payload(self.kind, payload, today()).items():
            if key in self.schema["properties"]:
                errors.setdefault(key, text)
        return converted.data, errors

    def done_text(self, offer: OfferedMessage) -> str:
        if self.family_view:
            return "Your request for disagreement resolution has been sent to the local authority."
        if offer.waiting:
            return f"{self.kind.done}. The route “{offer.waiting[0][1]}” has been told."
        return f"{self.kind.done}. The route “{offer.starts}” has started."

    def form(self, offer: OfferedMessage | None, raw: RawValues, errors: dict[str, str],
             problem: str | None = None) -> str:
        form = build_form(self.schema, raw, errors, form_options.provider(db()))
        return render_template("cases/message.html", case=self.case, kind=self.kind, offer=offer, form=form,
                               errors=form.error_list, problem=problem, action_url=self.action_url,
                               back_url=self.back_url, family_view=self.family_view)

    def confirm(self, offer: OfferedMessage, raw: RawValues, data: dict[str, Any]) -> str:
        rows = summarise(self.schema, data, form_options.provider(db()))
        hidden = [(name, value) for name, values in raw.items() for value in values]
        return render_template("cases/message_confirm.html", case=self.case, kind=self.kind, offer=offer, rows=rows,
                               hidden=hidden, action_url=self.action_url, back_url=self.back_url,
                               family_view=self.family_view)
