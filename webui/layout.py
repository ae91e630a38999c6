"""What every page's layout needs: the organisation in the header and the navigation for the signed-in user."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, current_app, g, request, url_for
from flask_login import current_user
from sqlalchemy import select

from engine.people.roles import Role
from engine.store.models import Case, CaseParty, Organisation
from webui.context import db
from webui.intake.blueprint import intake_la_ids, new_request_count


def header_organisation() -> str:
    """The signed-in user's organisation; for a family, their child's local authority."""
    if "header_organisation" in g:
        return g.header_organisation
    name: str | None = None
    if current_user.is_authenticated:
        name = current_user.organisation_name
        if name is None and current_user.is_family:
            name = db().scalar(
                select(Organisation.name).join(Case, Case.la_id == Organisation.id)
                .join(CaseParty, CaseParty.case_id == Case.id)
                .where(CaseParty.user_id == current_user.id, CaseParty.role == Role.FAMILY.value,
                       CaseParty.active.is_(True)).order_by(Case.id).limit(1))
    g.header_organisation = name or current_app.config["DEFAULT_ORGANISATION"]
    return g.header_organisation


def navigation_items() -> list[dict[str, Any]]:
    if not current_user.is_authenticated:
        return []
    endpoint = request.endpoint or ""
    items: list[dict[str, Any]] = []
    if current_user.is_staff:
        items += [
            {"text": "My tasks", "href": url_for("tasks.my_tasks"), "active": endpoint == "tasks.my_tasks"},
            {"text": "Team tasks", "href": url_for("tasks.team_tasks"), "active": endpoint == "tasks.team_tasks"},
            {"text": "Cases", "href": url_for("cases.index"), "active": endpoint.startswith("cases.")},
        ]
        if "intake.index" in current_app.view_functions and intake_la_ids():
            waiting = new_request_count()
            items.append({"text": f"New requests ({waiting})" if waiting else "New requests",
                          "href": url_for("intake.index"), "active": endpoint.startswith("intake.")})
        # The admin console, the process owners' pages and the reports appear for the people who may open them
        # (admins read the routes and the reports of their authority too).
        held = {r for _, r in current_user.holder.roles}
        for roles, home, text, prefix in (((Role.ADMIN,), "admin.home", "Admin", "admin."),
                                          ((Role.PROCESS_OWNER, Role.ADMIN), "owner.home", "Routes", "owner."),
                                          ((Role.MANAGER, Role.ADMIN), "reports.home", "Reports", "reports."),
                                          ((Role.MANAGER, Role.LOCAL_OFFER_EDITOR), "local_offer.editor_index",
                                           "Local Offer", "local_offer.editor"),
                                          ((Role.SCHOOL, Role.HEALTH, Role.LOCAL_OFFER_PROVIDER),
                                           "local_offer.provider_index", "Your Local Offer entries",
                                           "local_offer.provider")):
            if home in current_app.view_functions and any(role.value in held for role in roles):
                items.append({"text": text, "href": url_for(home), "active": endpoint.startswith(prefix)})
        # A school's SENCO asks for an assessment from their own account (the pages are public for everyone else).
        if Role.SCHOOL.value in held and "request.start" in current_app.view_functions:
            items.append({"text": "Request an EHC needs assessment", "href": url_for("request.start"),
                          "active": endpoint.startswith("request.")})
        # A SENCO's pupils on SEN support (issue 19): their own settings' only.
        if Role.SCHOOL.value in held and "sen_support.index" in current_app.view_functions:
            items.append({"text": "SEN support", "href": url_for("sen_support.index"),
                          "active": endpoint.startswith("sen_support.")})
        # A health professional's notice to the authority about a young child (issue 19; CFA 2014 s.23).
        if Role.HEALTH.value in held and "sen_support.early_years_notices" in current_app.view_functions:
            items.append({"text": "Young children", "href": url_for("sen_support.early_years_notices"),
                          "active": endpoint.startswith("sen_support.early_years")})
    if current_user.is_family:
        items.append({"text": "Your cases" if not current_user.is_staff else "Family view",
                      "href": url_for("family.index"), "active": endpoint.startswith("family.")})
    return items


def init_app(app: Flask) -> None:
    app.config.setdefault("DEFAULT_ORGANISATION", os.environ.get("EHCFLOW_ORGANISATION") or "SEND services")

    @app.context_processor
    def layout_context() -> dict[str, Any]:
        return {"header_organisation": header_organisation(), "navigation_items": navigation_items()}
