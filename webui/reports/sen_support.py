"""SEN support in the authority's area (issue 19): the number of children on SEN support by setting, primary need and
age, for the authority's managers and admins (the reports' audience), as a page and as CSV. Figures come from
``engine.reports.sen_support_figures``; an authority only ever counts its own cases. A blueprint of its own (under
the reports' address), so that the reports package need not import it."""

from __future__ import annotations

from flask import Blueprint, Response, render_template
from flask.typing import ResponseReturnValue

from engine.reports.sen_support_figures import figures_csv, sen_support_figures
from webui.access import staff
from webui.context import db, today
from webui.reports.routes import authority

bp = Blueprint("sen_support_reports", __name__, url_prefix="/reports")


@bp.get("/sen-support")
@staff
def figures() -> ResponseReturnValue:
    la, allowed = authority()
    figures = sen_support_figures(db(), la.id, today())
    return render_template("reports/sen_support.html", la=la, authorities=allowed, figures=figures)


@bp.get("/sen-support.csv")
@staff
def figures_csv_file() -> ResponseReturnValue:
    la, _ = authority()
    figures = sen_support_figures(db(), la.id, today())
    return Response(figures_csv(figures), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="sen-support-{la.id}-{today().isoformat()}.csv"',
        "X-Content-Type-Options": "nosniff",
    })
