"""Statutory reports for a local authority's managers and administrators: timeliness, work in progress, and the
SEN2 export. Figures come from engine.reports (and engine.reports.sen2); an authority's pages only ever count its
own cases.

Process owners do not see them: they change routes, and the SEN2 export is personal data about every child of the
authority. A process owner who is also a manager sees them as a manager.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from engine.lists.names import route_names
from engine.people.roles import Role
from engine.reports import timeliness as reports
from engine.reports.sen2 import sen2_export, sen2_years
from engine.store.models import Organisation
from webui.access import staff
from webui.context import db, today
from webui.numbers import whole_number
from webui.reports import charts

bp = Blueprint("reports", __name__, url_prefix="/reports")

REPORT_ROLES = (Role.MANAGER.value, Role.ADMIN.value)
MONTHS_CHARTED = 12
PLANS = "EHC plans issued within 20 weeks"


def authorities() -> list[Organisation]:
    """The local authorities whose reports the signed-in user may see: where they are a manager or an admin."""
    ids = {org for org, role in current_user.holder.roles if org is not None and role in REPORT_ROLES}
    if not ids:
        return []
    return list(db().scalars(select(Organisation).where(Organisation.id.in_(ids),
                                                        Organisation.kind == "local_authority")
                             .order_by(Organisation.name)))


def authority() -> tuple[Organisation, list[Organisation]]:
    """The authority asked for (`?la=<id>`, else the first); 403 for someone who has none, 404 for another's."""
    allowed = authorities()
    if not allowed:
        abort(403)
    asked = request.args.get("la", "")
    if not asked:
        return allowed[0], allowed
    chosen = next((la for la in allowed if la.id == whole_number(asked)), None)
    if chosen is None:
        abort(404)
    return chosen, allowed


@bp.get("/")
@staff
def home() -> ResponseReturnValue:
    la, allowed = authority()
    return render_template("reports/home.html", la=la, authorities=allowed)


@bp.get("/timeliness")
@staff
def timeliness() -> ResponseReturnValue:
    la, allowed = authority()
    monthly = reports.timeliness(db(), la_id=la.id, by="month")
    yearly = reports.timeliness(db(), la_id=la.id, by="year")
    issued = {r.period: r for r in monthly if r.measure == PLANS}
    chart, charted = None, []
    if issued:
        # Twelve months in a row, so that a month without a plan shows as a gap rather than disappearing.
        charted = [(period, issued.get(period)) for period in _last_months(max(max(issued), today().strftime("%Y-%m")))]
        labels = [reports.month_label(period) for period, _ in charted]
        described = "; ".join(
            f"{label}: {_percent(r.percent)} including exceptions, {_percent(r.percent_excluding_exceptions)} "
            f"excluding exceptions, of {r.completed} issued" if r else f"{label}: none issued"
            for label, (_, r) in zip(labels, charted, strict=True))
        chart = charts.grouped_bars(
            "chart-plans-20-weeks", f"{PLANS}, by month",
            f"Percentage of new EHC plans issued within 20 weeks, by the month they were issued. {described}.",
            [f"{label[:3]} {label[-4:]}" for label in labels],
            [("Including exceptions", [r.percent if r else None for _, r in charted]),
             ("Excluding exceptions", [r.percent_excluding_exceptions if r else None for _, r in charted])])
    return render_template("reports/timeliness.html", la=la, authorities=allowed, measures=reports.TIMELINESS_MEASURES,
                           monthly=_by_measure(monthly), yearly=_by_measure(yearly), chart=chart, charted=charted,
                           month_label=reports.month_label, percent=_percent,
                           without_request=reports.plans_without_request(db(), la_id=la.id))


@bp.get("/work-in-progress")
@staff
def work_in_progress() -> ResponseReturnValue:
    la, allowed = authority()
    day = today()
    names = route_names(db())
    stages = [(reports.stage_label(stage, names), n) for stage, n in reports.open_cases_by_stage(db(), la_id=la.id)]
    by_route = [(names.get(p, p), n) for p, n in reports.overdue_by_route(db(), day, la_id=la.id)]
    by_team = reports.overdue_by_team(db(), day, la_id=la.id)
    tasks = [(names.get(p, p), step, n) for p, step, n in reports.open_tasks_by_stage(db(), la_id=la.id)]
    chart = None
    if stages:
        chart = charts.horizontal_bars(
            "chart-cases-by-stage", "Open cases by stage",
            "Number of open cases at each stage: " + "; ".join(f"{label}: {n}" for label, n in stages) + ".", stages)
    return render_template("reports/work.html", la=la, authorities=allowed, stages=stages, by_route=by_route,
                           by_team=by_team, tasks=tasks, chart=chart, today=day,
                           total_cases=sum(n for _, n in stages), total_overdue=sum(n for _, n in by_route))


@bp.get("/sen2")
@staff
def sen2() -> ResponseReturnValue:
    """The export's form, and the records of the chosen year (this year unless asked) that cannot be exported."""
    la, allowed = authority()
    years = sen2_years(today())
    raw = request.args.get("year", "").strip() or str(today().year)
    year, error = _year(raw, years)
    if error:
        return render_template("reports/sen2.html", la=la, authorities=allowed, years=years, year=raw,
                               errors={"year": error}, export=None), 400
    export = sen2_export(db(), la.id, year)
    return render_template("reports/sen2.html", la=la, authorities=allowed, years=years, year=raw, errors={},
                           export=export)


@bp.get("/sen2.csv")
@staff
def sen2_download() -> ResponseReturnValue:
    """The exported records as CSV; records that miss a mandatory item are left out (the page lists them)."""
    la, allowed = authority()
    years = sen2_years(today())
    raw = request.args.get("year", "").strip()
    year, error = _year(raw, years) if raw else (None, "Select the year of the return")
    if error:
        return render_template("reports/sen2.html", la=la, authorities=allowed, years=years, year=raw,
                               errors={"year": error}, export=None), 400
    export = sen2_export(db(), la.id, year)
    code = "".join(ch for ch in (la.code or str(la.id)) if ch.isalnum()) or str(la.id)
    filename = f"sen2-{code.lower()}-{raw}.csv"
    return Response(export.csv(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "X-Content-Type-Options": "nosniff",
        "X-SEN2-Records-Refused": str(len(export.refused)),
    })


def _year(raw: str, years: list[int]) -> tuple[int | None, str | None]:
    """("all" or a year of the list) -> (the year, None for all), else an error message."""
    if raw not in ("all", *map(str, years)):
        return None, f"Select a year from {years[-1]} to {years[0]}, or all years"
    return (None if raw == "all" else int(raw)), None


def _last_months(last: str) -> list[str]:
    """The MONTHS_CHARTED months ("YYYY-MM") ending with `last`."""
    year, month = int(last[:4]), int(last[5:])
    months = []
    for _ in range(MONTHS_CHARTED):
        months.append(f"{year}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months[::-1]


def _percent(value: float | None) -> str:
    return "none" if value is None else f"{value:g}%"


def _by_measure(rows: list[reports.TimelinessRow]) -> dict[str, list[reports.TimelinessRow]]:
    grouped: dict[str, list[reports.TimelinessRow]] = {name: [] for name in reports.TIMELINESS_MEASURES}
    for row in rows:
        grouped[row.measure].append(row)
    return grouped
