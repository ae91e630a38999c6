"""Notices to the user's organisation that concern no single case, such as the termly list of reviews due."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.casework.organisation_notices import notice_for, notices_for
from webui.access import staff
from webui.context import db
from webui.sanitize import clean_html

bp = Blueprint("notices", __name__, url_prefix="/notices")


@bp.get("/")
@staff
def index() -> ResponseReturnValue:
    return render_template("notices/index.html", notices=notices_for(db(), current_user.holder))


@bp.get("/<int:notice_id>")
@staff
def notice(notice_id: int) -> ResponseReturnValue:
    found = notice_for(db(), current_user.holder, notice_id)
    if found is None:
        abort(404)
    return render_template("notices/notice.html", notice=found, body=clean_html(found.body_html))
