"""Every demo user, on the project's real routes and demo data: each page they reach opens, each task they may do
draws its form, and nothing they can click fails. This is what a new user does after ./run.sh."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from demo.driver import DEMO_PASSWORD
from demo.seed import seed
from engine.runtime.services import Services
from engine.store.models import Case, HumanTask, Incident, Membership, Organisation, ProcessInstance, User
from tests.conftest import real_routes
from tests.web.conftest import Client, make_app, soup

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def demo_app(services: Services, tmp_path: Path) -> Flask:
    services.engine.deploy(real_routes())
    seed(services.engine)
    return make_app(services, tmp_path)


def _links(html: str) -> set[str]:
    return {href for href in re.findall(r'href="(/[^"#]*)"', html)
            if not href.startswith("/static/") and "/download" not in href and not href.endswith("/pdf")}


def test_every_demo_user_can_open_every_page_they_are_shown(demo_app: Flask, services: Services) -> None:
    with services.session_factory() as s:
        emails = list(s.scalars(select(User.email).where(User.active.is_(True)).order_by(User.id)))
    assert len(emails) > 20
    problems: list[str] = []
    total = 0
    for email in emails:
        client = Client(demo_app)
        client.sign_in(email, DEMO_PASSWORD)
        seen: set[str] = set()
        queue = ["/"]
        while queue and len(seen) < 60:
            url = queue.pop(0)
            if url in seen or url.startswith(("/sign-out", "/sign-in")):
                continue
            seen.add(url)
            total += 1
            response = client.get(url, status=None, follow_redirects=True)
            if response.status_code >= 500 or response.status_code == 404:
                problems.append(f"{email} {url}: {response.status_code}")
                continue
            if response.mimetype == "text/html":
                html = response.get_data(as_text=True)
                queue.extend(sorted(_links(html) - seen))
                # A task page draws its form with every field labelled.
                if re.fullmatch(r"/tasks/\d+", url) and response.status_code == 200:
                    page = soup(response)
                    for field in page.select("form input[name]:not([type=hidden]), form textarea, form select"):
                        ident = field.get("id")
                        if field.get("type") in ("radio", "checkbox"):
                            continue
                        assert ident and page.select_one(f"label[for='{ident}']"), (email, url, field)
    print(f"visited {total} pages")
    assert problems == []


def _check_failed_instance_is_repaired(demo_app: Flask, services: Services) -> None:
    """Zara Ahmed's review failed when the caseworker set it up (a date imported as dd/mm/yyyy); an administrator
    finds it on the admin console, corrects the date in the instance data and retries the caseworker's step."""
    from engine.admin import instance_repair

    engine = services.engine
    with services.session_factory() as s:
        admin = s.scalars(select(User).where(User.email == "admin@northshire.example")).one()
        failed = list(s.scalars(select(ProcessInstance).where(ProcessInstance.status == "failed")))
        assert [i.process_id for i in failed] == ["annual_review"]
        (instance,) = failed
        zara = s.get(Case, instance.case_id)
        assert zara is not None and zara.child_first_name == "Zara"
        incident = s.scalars(select(Incident).where(Incident.instance_id == instance.id)).one()
        assert (incident.element_id, incident.command, incident.resolved_at) == ("ST_schedule", "complete_task", None)
        assert "ISO date" in incident.message
        # Kai Turner's review is stuck: its school has nobody in EHC Flow, and the review is overdue.
        kai = s.scalars(select(HumanTask).join(Case, Case.id == HumanTask.case_id).where(
            Case.child_first_name == "Kai", HumanTask.bpmn_id == "UT_arrange_setting",
            HumanTask.status == "open")).one()
        assert s.scalars(select(Membership).where(Membership.organisation_id == kai.organisation_id)).all() == []

    client = Client(demo_app)
    client.sign_in("admin@northshire.example", DEMO_PASSWORD)
    home = soup(client.get("/admin/"))
    assert home.select_one("#count-failed .ehc-count").get_text(strip=True) == "1"
    assert int(home.select_one("#count-overdue .ehc-count").get_text(strip=True)) > 0
    page = client.get(f"/admin/instances/{instance.id}").get_data(as_text=True)
    assert "ST_schedule" in page and "ISO date" in page

    data = instance_repair.instance_data(engine, instance.id)
    bad = data["review_requested_by"]
    day, month, year = bad.split("/")
    data["review_requested_by"] = f"{year}-{month}-{day}"
    instance_repair.edit_data(engine, instance.id, data, admin, "Imported in the old system's date format")
    instance_repair.retry(engine, instance.id, admin, "The date is corrected")
    with services.session_factory() as s:
        repaired = s.get(ProcessInstance, instance.id)
        assert repaired is not None and repaired.status == "waiting_person"
        assert s.get(Incident, incident.id).resolved_at is not None  # type: ignore[union-attr]
        open_steps = set(s.scalars(select(HumanTask.bpmn_id).where(HumanTask.instance_id == instance.id,
                                                                   HumanTask.status == "open")))
        assert "UT_arrange_setting" in open_steps



def _check_sen_support_in_each_kind_of_setting(services: Services) -> None:
    """SEN support under way in each demo school, the nursery (the progress check at age two done, the assessment
    next) and the college (the student's own task, assigned to their own account, to give views before the review)."""
    with services.session_factory() as s:
        def open_on(first: str, last: str) -> list[HumanTask]:
            case_id = s.scalar(select(Case.id).where(Case.child_first_name == first, Case.child_last_name == last))
            return list(s.scalars(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.status == "open")))
        assert [t.bpmn_id for t in open_on("Poppy", "Wells")] == ["UT_assess"]
        [views] = [t for t in open_on("Kofi", "Osei") if t.bpmn_id == "UT_young_person_views"]
        kofi = s.scalar(select(User).where(User.email == "kofi.osei@example.com"))
        assert views.assignee_id == kofi.id
        settings = set(s.scalars(
            select(Organisation.name).join(Membership, Membership.organisation_id == Organisation.id)
            .join(HumanTask, HumanTask.organisation_id == Organisation.id)
            .join(ProcessInstance, (ProcessInstance.id == HumanTask.instance_id)
                  & (ProcessInstance.process_id == "sen_support"))))
        assert {"Elm Park Primary School", "Oakwood Academy", "Southborough Primary School",
                "Riverside Nursery School", "Northshire College"} <= settings


def _check_reports_have_a_history(demo_app: Flask, services: Services) -> None:
    """Months of plans, decisions, reviews and amendments, some late, some with an exception claimed."""
    from engine.reports import timeliness as reports

    with services.session_factory() as s:
        nsh = s.scalars(select(Organisation).where(Organisation.code == "NSH")).one()
        rows = reports.timeliness(s, nsh.id, by="month")
        stages = dict(reports.open_cases_by_stage(s, nsh.id))
    # The children whose plans were issued have a plan in force, not "no route running" (those whose plan, review or
    # amendment notice went out in the last two months also have the disagreement route open, waiting to hear
    # whether the family contacts the mediation adviser).
    assert stages["plan_maintained"] + stages.get("disagreement_resolution", 0) >= 15 > stages.get("no_route", 0)
    by_key: dict[str, list[reports.TimelinessRow]] = {}
    for row in rows:
        by_key.setdefault(reports.TIMELINESS_MEASURES[row.measure], []).append(row)
    plans = by_key["final_plan_20w"]
    assert len({row.period for row in plans}) >= 6
    done = sum(r.completed for r in plans)
    on_time = sum(r.on_time for r in plans)
    assert done >= 10 and 0.3 <= on_time / done <= 0.7
    assert any(r.with_exception for r in plans) and any(r.completed_excluding_exceptions for r in plans)
    assert sum(r.on_time_excluding_exceptions for r in plans) / sum(r.completed_excluding_exceptions
                                                                    for r in plans) > on_time / done
    decisions = by_key["decide_whether_to_assess"]
    assert sum(r.on_time for r in decisions) / sum(r.completed for r in decisions) >= 0.75
    for key in ("annual_review", "amended_plan"):
        assert 0 < sum(r.on_time for r in by_key[key]) < sum(r.completed for r in by_key[key]), key

    client = Client(demo_app)
    client.sign_in("manager@northshire.example", DEMO_PASSWORD)
    page = soup(client.get("/reports/timeliness"))
    assert page.get_text().count("none issued") <= 2  # the chart's twelve months have plans in nearly every one


def test_the_demo_has_work_for_an_administrator_and_a_history_for_the_reports(demo_app: Flask,
                                                                               services: Services) -> None:
    # One test, since loading the demo is what takes the time.
    _check_sen_support_in_each_kind_of_setting(services)  # first: the checks below move the clock on
    _check_reports_have_a_history(demo_app, services)
    _check_failed_instance_is_repaired(demo_app, services)
