"""A family starting what is theirs to start on their own case (asking for a re-assessment or an amendment, making a
complaint): the routes whose start event names the Family lane, through the same page as staff."""

from __future__ import annotations

from flask import url_for
from flask.typing import ResponseReturnValue

from webui.access import family
from webui.cases.starts import StartPage
from webui.family.routes import bp, case_or_404


@bp.route("/cases/<int:case_id>/start/<string:process_id>", methods=["GET", "POST"])
@family
def start_route(case_id: int, process_id: str) -> ResponseReturnValue:
    """Ask for something on your case that starts a route (only what the route lets a family start)."""
    case = case_or_404(case_id)
    return StartPage(case, process_id, url_for("family.start_route", case_id=case.id, process_id=process_id),
                     url_for("family.case", case_id=case.id) + "#ask", as_family=True).handle()
