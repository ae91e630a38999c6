"""The reports pages: the figures shown are the engine's, the SEN2 download, who may see what, and escaping."""

from __future__ import annotations

import csv
import io

from bs4 import BeautifulSoup
from sqlalchemy import select

from engine.lists.names import route_names
from engine.reports.sen2 import SEN2_COLUMNS, sen2_csv
from engine.reports.timeliness import month_label, open_cases_by_stage, overdue_by_route, stage_label, timeliness
from engine.runtime.services import Services
from engine.store.models import Case, HumanTask, Organisation
from tests.conftest import World
from tests.engine.test_reports import _at, _cases, _instance, _row, _task
from tests.web.conftest import Client, text_of

PLANS = "EHC plans issued within 20 weeks"


def _seed(services: Services, world: World) -> dict[str, int]:
    """Plans issued in March and April 2026 in Testshire (one with an exception), one in Otherham; open work."""
    b, c = _cases(services, world, ["Bea", "Cal"])
    versions: dict[str, int] = {}
    with services.session_factory() as s:
        _row(s, world.case_id, "final_plan_20w", "2026-03-20", _at("2026-03-10"))
        _row(s, b, "final_plan_20w", "2026-03-09", _at("2026-03-16"), True, "setting_closed")
        _row(s, c, "final_plan_20w", "2026-04-10", _at("2026-04-02"))
        _row(s, world.other_case_id, "final_plan_20w", "2026-03-02", _at("2026-03-05"), True)
        _row(s, c, "decide_whether_to_assess", "2026-02-16", _at("2026-02-20"), True)
        assessment = _instance(s, c, "ehc_needs_assessment", "waiting_person", "2026-01-05", versions)
        _instance(s, world.other_case_id, "annual_review", "running", "2026-01-05", versions)
        _task(s, c, assessment, "cw", "la_caseworker", world.la.id, "2026-02-20")
        _row(s, c, "advice:health", "2026-02-20", instance_id=assessment, attached="cw")  # overdue on 2 March
        _row(s, world.other_case_id, "advice:ep", "2026-02-01")  # Otherham's, overdue too
        for n, case in enumerate(s.scalars(select(Case).order_by(Case.id))):  # what the SEN2 export requires
            case.postcode, case.upn, case.sex, case.ethnicity = "TS1 1AA", f"A{n:011d}Z", "M", "WBRI"
        s.commit()
    return {"b": b, "c": c, "assessment": assessment}


def _table(page: BeautifulSoup, caption: str) -> list[list[str]]:
    table = next(t for t in page.find_all("table") if t.caption and t.caption.get_text(strip=True) == caption)
    return [[" ".join(cell.get_text(" ").split()) for cell in tr.find_all(["th", "td"])]
            for tr in table.find("tbody").find_all("tr")]


def test_timeliness_page_shows_the_engines_figures_and_a_chart(services: Services, world: World, as_user) -> None:
    _seed(services, world)
    page = as_user("manager").page("/reports/timeliness")
    with services.session_factory() as s:
        monthly = [r for r in timeliness(s, la_id=world.la.id) if r.measure == PLANS]
        yearly = [r for r in timeliness(s, la_id=world.la.id, by="year") if r.measure == PLANS]
    shown = _table(page, f"{PLANS}, by month")
    assert [row[0] for row in shown] == [month_label(r.period) for r in monthly] == ["March 2026", "April 2026"]
    for row, r in zip(shown, monthly, strict=True):
        assert row[1:5] == [str(r.completed), str(r.on_time), f"{r.percent:g}%", str(r.with_exception)]
        assert row[5] == f"{r.percent_excluding_exceptions:g}% ({r.on_time_excluding_exceptions} of " \
                         f"{r.completed_excluding_exceptions})"
    # March: 1 of 2 on time (50%); without b's exception 1 of 1 (100%). Otherham's late plan is not counted.
    assert shown[0][1:] == ["2", "1", "50%", "1", "100% (1 of 1)"]
    assert _table(page, f"{PLANS}, by year")[0][1:4] == [str(yearly[0].completed), str(yearly[0].on_time), "66.7%"]
    figure = page.find("figure", id="chart-plans-20-weeks")
    svg = figure.find("svg", class_="ehc-chart__svg")
    assert svg["role"] == "img" and svg["aria-labelledby"] == "chart-plans-20-weeks-title chart-plans-20-weeks-desc"
    assert svg.find("title").get_text() == f"{PLANS}, by month"
    assert "March 2026: 50% including exceptions, 100% excluding exceptions, of 2 issued" in svg.find("desc").get_text()
    # Twelve months in a row, to the latest plan (April 2026, after the clock's March): gaps say so.
    charted = _table(page, "The figures in the chart")
    assert charted[0] == ["May 2025", "none issued"] and len(charted) == 12
    assert charted[-2:] == [["March 2026", "50%", "100%"], ["April 2026", "100%", "100%"]]
    assert "February 2026: none issued; March 2026: 50%" in svg.find("desc").get_text()
    assert len(figure.select("rect[fill='#1d70b8']")) == 2 + 1  # a bar for March and April, and the legend's key
    assert "None done yet." in text_of(page)  # no review or amendment was done
    assert page.find("script", src=None) is None and not page.select("[style]")  # nothing the CSP would block


def test_work_in_progress_page_shows_the_engines_figures(services: Services, world: World, as_user, clock) -> None:
    _seed(services, world)
    page = as_user("manager").page("/reports/work-in-progress")
    with services.session_factory() as s:
        stages = open_cases_by_stage(s, la_id=world.la.id)
        by_route = overdue_by_route(s, clock.today(), la_id=world.la.id)
        names = route_names(s)
    # Testshire: c is being assessed; a and b have no route running (the plans above are deadlines only).
    assert stages == [("ehc_needs_assessment", 1), ("no_route", 2)]
    assessment = names["ehc_needs_assessment"]
    assert _table(page, "Open cases by stage") == [[stage_label(st, names), str(n)] for st, n in stages] == \
        [[assessment, "1"], ["No route running", "2"]]
    assert by_route == [("ehc_needs_assessment", 1)]
    assert _table(page, "By route") == [[assessment, "1"]]
    assert _table(page, "By team (who holds the work)") == [["Testshire Council (LA caseworker)", "1"]]
    assert page.find("figure", id="chart-cases-by-stage").find("desc").get_text() == \
        f"Number of open cases at each stage: {assessment}: 1; No route running: 2."
    assert "3 open cases, 1 overdue deadline." in text_of(page)


def test_sen2_download_is_the_engines_csv_with_its_headers(services: Services, world: World, as_user) -> None:
    _seed(services, world)
    with services.session_factory() as s:
        s.get(Case, world.case_id).child_first_name = "=cmd|' /C calc'!A0"
        s.commit()
        expected = sen2_csv(s, la_id=world.la.id, year=2026)
    client = as_user("manager")
    assert "Download the CSV file" in text_of(client.page("/reports/sen2"))
    response = client.get("/reports/sen2.csv?year=2026")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="sen2-tst-2026.csv"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    body = response.get_data(as_text=True)
    assert body == expected
    rows = list(csv.DictReader(io.StringIO(body)))
    assert list(rows[0]) == SEN2_COLUMNS
    assert {r["LA"] for r in rows} == {"TST"}
    alex = next(r for r in rows if r["CaseReference"] == "EHC-2026-00001")
    assert alex["Forename"] == "'=cmd|' /C calc'!A0"  # shown as text by a spreadsheet, never run
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r.values())
    assert client.get("/reports/sen2.csv?year=all").get_data(as_text=True) == sen2_csv_all(services, world)


def sen2_csv_all(services: Services, world: World) -> str:
    with services.session_factory() as s:
        return sen2_csv(s, la_id=world.la.id)


def test_sen2_download_refuses_a_year_it_cannot_make(services: Services, world: World, as_user) -> None:
    client = as_user("manager")
    for year, message in (("", "Select the year of the return"), ("1999", "Select a year from 2014 to 2026"),
                          ("<script>x</script>", "Select a year from 2014 to 2026")):
        response = client.get(f"/reports/sen2.csv?year={year}", status=400)
        page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
        assert page.title.get_text().startswith("Error: SEN2 export")
        summary = page.find(class_="govuk-error-summary")
        assert message in summary.get_text() and summary.find("a")["href"] == "#year"
        assert "<script>x" not in response.get_data(as_text=True)


def test_another_authoritys_manager_sees_only_their_own_figures(services: Services, world: World, as_user) -> None:
    _seed(services, world)
    client = as_user("other_manager")
    page = client.page("/reports/timeliness")
    assert "Otherham Council" in text_of(page) and "Testshire" not in text_of(page)
    # Otherham's one plan, late: 0 of 1. Testshire's three are not there.
    assert _table(page, f"{PLANS}, by month") == [["March 2026", "1", "0", "0%", "0", "0% (0 of 1)"]]
    work = client.page("/reports/work-in-progress")
    with services.session_factory() as s:
        names = route_names(s)
    assert _table(work, "Open cases by stage") == [[names["annual_review"], "1"]]
    assert _table(work, "By route") == [[names["ehc_needs_assessment"], "1"]]
    rows = list(csv.DictReader(io.StringIO(client.get("/reports/sen2.csv?year=all").get_data(as_text=True))))
    assert [r["LA"] for r in rows] == ["OTH"]
    # Asking for Testshire's figures by its id finds nothing.
    for url in ("/reports/timeliness", "/reports/work-in-progress", "/reports/sen2", "/reports/sen2.csv"):
        client.get(f"{url}?la={world.la.id}", status=404)
        client.get(f"{url}?la=nonsense", status=404)


def test_who_sees_the_reports_and_the_navigation(services: Services, world: World, as_user, client: Client) -> None:
    for key in ("manager", "admin"):
        assert as_user(key).get("/reports/", status=200)
    for key in ("caseworker", "processowner", "health", "ep"):
        as_user(key).get("/reports/timeliness", status=403)
    as_user("parent").get("/reports/", status=403)
    assert client.get("/reports/sen2.csv?year=2026", status=302).headers["Location"].startswith("/sign-in")
    nav = [a.get_text(strip=True) for a in as_user("manager").page("/tasks/").select("nav a, .govuk-service-navigation a")]
    assert "Reports" in nav
    assert "Reports" not in [a.get_text(strip=True) for a in as_user("caseworker").page("/tasks/").select("nav a")]
    admin_nav = [a.get_text(strip=True) for a in as_user("admin").page("/tasks/").select(".govuk-service-navigation a")]
    assert {"Admin", "Routes", "Reports"} <= set(admin_nav)
    owner_nav = [a.get_text(strip=True) for a in as_user("processowner").page("/tasks/")
                 .select(".govuk-service-navigation a")]
    assert "Routes" in owner_nav and "Reports" not in owner_nav and "Admin" not in owner_nav


def test_reports_escape_what_they_show(services: Services, world: World, as_user) -> None:
    ids = _seed(services, world)
    with services.session_factory() as s:
        s.get(Organisation, world.la.id).name = "<script>alert('la')</script> Council"
        task = s.query(HumanTask).filter_by(instance_id=ids["assessment"]).one()
        task.name = "<img src=x onerror=alert(1)>"
        s.commit()
    client = as_user("manager")
    for url in ("/reports/", "/reports/timeliness", "/reports/work-in-progress", "/reports/sen2"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html, url
        assert "&lt;script&gt;alert" in html, url
    work = client.page("/reports/work-in-progress")
    assert _table(work, "By team (who holds the work)") == [["<script>alert('la')</script> Council (LA caseworker)", "1"]]
    with services.session_factory() as s:
        assessment = route_names(s)["ehc_needs_assessment"]
    assert [assessment, "<img src=x onerror=alert(1)>", "1"] in [
        [" ".join(c.get_text(" ").split()) for c in tr.find_all("td")] for tr in work.select("#tasks-by-step tbody tr")]



def test_someone_reporting_for_two_authorities_chooses_one(services: Services, world: World, as_user) -> None:
    from engine.store.models import Membership

    _seed(services, world)
    with services.session_factory() as s:
        s.add(Membership(user_id=world.users["manager"].id, organisation_id=world.other_la.id, role="admin"))
        s.commit()
    client = as_user("manager")
    page = client.page("/reports/timeliness")
    options = [(o["value"], o.get_text()) for o in page.select("select#la option")]
    assert options == [(str(world.other_la.id), "Otherham Council"), (str(world.la.id), "Testshire Council")]
    # The first by name unless asked; each authority's figures are its own.
    assert _table(page, f"{PLANS}, by month")[0][1:3] == ["1", "0"]
    testshire = client.page(f"/reports/timeliness?la={world.la.id}")
    assert _table(testshire, f"{PLANS}, by month")[0][1:3] == ["2", "1"]
    assert testshire.select_one("select#la option[selected]")["value"] == str(world.la.id)
    rows = csv.DictReader(io.StringIO(client.get(f"/reports/sen2.csv?year=all&la={world.la.id}").get_data(as_text=True)))
    assert {r["LA"] for r in rows} == {"TST"}
    sen2 = client.page(f"/reports/sen2?la={world.la.id}")
    assert sen2.select_one("form input[name=la]")["value"] == str(world.la.id)


def test_sen2_page_lists_the_records_that_cannot_be_exported_with_links(services: Services, world: World,
                                                                       as_user) -> None:
    from datetime import UTC, datetime

    from tests.engine.test_sen2 import _request

    ids = _seed(services, world)
    with services.session_factory() as s:
        s.get(Case, ids["b"]).postcode = None
        _request(s, world, ids["b"], datetime(2026, 2, 2, 10, tzinfo=UTC))
        reference = s.get(Case, ids["b"]).reference
        s.commit()
    client = as_user("manager")
    page = client.page("/reports/sen2?year=2026")
    rows = _table(page, "Records not exported, and what to fix")
    assert rows == [[f"{reference} Bea Seed", "PostCode: record the child's home postcode on the case"]]
    assert page.select_one("#refused ~ table tbody a")["href"] == f"/cases/{ids['b']}"
    response = client.get("/reports/sen2.csv?year=2026")
    assert response.headers["X-SEN2-Records-Refused"] == "1"
    assert reference not in response.get_data(as_text=True)
    client.get("/reports/sen2?year=1999", status=400)
