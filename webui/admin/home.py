"""The admin home page: what needs an administrator's attention."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from engine.admin.instance_admin import admin_counts
from engine.admin.user_admin import administered_organisations
from webui.access import staff
from webui.admin.common import admin_orgs, bp
from webui.context import db, today


@bp.get("/")
@staff
def home() -> ResponseReturnValue:
    """Failed and suspended instances and overdue deadlines of the organisations you administer."""
    orgs = admin_orgs()
    return render_template("admin/home.html", counts=admin_counts(db(), orgs, today()),
                           organisations=administered_organisations(db(), orgs))
