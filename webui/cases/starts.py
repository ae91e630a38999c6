"""Starting a route on a case by hand: the links on the case page and a confirmation page (with the route's start
form, when it has one) for staff, and the same page for a family on their own case (``webui/family/starts.py``).

What may be started, by whom and when comes from the routes themselves (``engine.intake.route_starts``); this module
only draws it and passes the answers on, so the engine's checks are the ones that count.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.errors import ConcurrentUpdate, FormInvalid, InstanceFailed, InvalidState, NotAllowed, NotFound
from engine.intake.route_starts import (
    StartOption,
    declaration,
    documentation,
    start_by_hand,
    start_option,
    startable_routes,
)
from engine.store.models import Case
from webui.access import staff
from webui.cases.blueprint import bp, case_or_404
from webui.context import db, engine
from webui.forms import options as form_options
from webui.forms.build import build_form
from webui.forms.conversion import from_raw, to_raw
from webui.forms.raw_values import RawValues, clean_raw


def start_links(case: Case, *, as_family: bool = False) -> list[StartOption]:
    """What the signed-in person may start on the case now (for the case page)."""
    return [o for o in startable_routes(engine(), db(), case, current_user.record, as_family=as_family) if o.allowed]


@bp.route("/<int:case_id>/start/<string:process_id>", methods=["GET", "POST"])
@staff
def start_route(case_id: int, process_id: str) -> ResponseReturnValue:
    """Confirm starting a route on the case (whoever the route's start event names, at the responsible LA)."""
    case = case_or_404(case_id)
    return StartPage(case, process_id, url_for("cases.start_route", case_id=case.id, process_id=process_id),
                     url_for("cases.case", case_id=case.id) + "#start", as_family=False).handle()


class StartPage:
    """The confirmation page, and the start, for staff and (for the family's own routes) the family."""

    def __init__(self, case: Case, process_id: str, action_url: str, back_url: str, *, as_family: bool) -> None:
        self.case, self.process_id = case, process_id
        self.action_url, self.back_url, self.as_family = action_url, back_url, as_family

    def handle(self) -> ResponseReturnValue:
        try:
            declared = declaration(engine(), db(), self.process_id)
        except (NotFound, NotAllowed):
            abort(404)  # not deployed, or never started by hand: there is no such page
        schema = declared.schema
        raw: RawValues = to_raw(schema, {}) if schema else {}
        if request.method == "POST" and schema:
            raw = clean_raw(schema, request.form.lists())
        try:
            option = start_option(engine(), db(), self.case, self.process_id, current_user.record,
                                  as_family=self.as_family)
        except NotAllowed:
            abort(403)
        except InvalidState as exc:
            return self.page(None, declared.label_for(self.as_family), raw, {}, problem=str(exc))
        if request.method == "GET" or request.form.get("_action") != "start":
            return self.page(option, option.label, raw, {})
        data: dict[str, Any] = {}
        if schema:
            converted = from_raw(schema, raw)
            if converted.errors:
                return self.page(option, option.label, raw, dict(converted.errors))
            data = converted.data
        try:
            start_by_hand(engine(), self.case.id, self.process_id, data, current_user.record, as_family=self.as_family)
        except FormInvalid as exc:
            return self.page(option, option.label, raw, dict(exc.errors))
        except NotAllowed:
            abort(403)
        except (NotFound, InvalidState, InstanceFailed, ConcurrentUpdate) as exc:
            return self.page(option, option.label, raw, {}, problem=str(exc))
        flash(self.done_text(option), "success")
        return redirect(self.back_url.split("#")[0] + ("#progress" if self.as_family else "#routes"))

    def done_text(self, option: StartOption) -> str:
        if self.as_family:
            return f"Your request has been sent to the local authority: “{option.label}”."
        return f"“{option.name}” has started. Its first step is in the case's open tasks."

    def page(self, option: StartOption | None, label: str, raw: RawValues, errors: dict[str, str],
             problem: str | None = None) -> str:
        schema = option.form_schema if option else None
        form = build_form(schema, raw, errors, form_options.provider(db())) if schema else None
        # Staff are told what the route is even when its start event does not say; a family only what it says to them.
        about = documentation(engine(), db(), self.process_id) if option and not option.help and not self.as_family \
            else None
        return render_template("cases/start_route.html", case=self.case, option=option, label=label, form=form,
                               about=about,
                               errors=form.error_list if form else [{"text": m, "href": "#main-content"}
                                                                    for m in errors.values()],
                               problem=problem, action_url=self.action_url, back_url=self.back_url,
                               family_view=self.as_family)
