"""The SEN support pages beyond the setting's own (issue 19): the family's plain-English page, a move of setting with
the family's consent through the web, the authority's figures (page and CSV), a health professional's notice about a
young child, and the link from the staff case page. The route runs for real (as tests/web/test_sen_support_pages.py).

Calendar: planned on Monday 14 September 2026 with a review on Monday 7 December; reviewed on 7 December (continue)
with the next review on Monday 1 March 2027. Ages for the figures are on 31 August 2026 (the report runs on
20 October 2026): Alex, born 14 May 2015, is 11 then; the helper's new cases, born 3 February 2016, are 10.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from bs4 import BeautifulSoup
from flask import Flask
from sqlalchemy import select

from engine.intake.route_starts import start_by_hand
from engine.people.roles import Role
from engine.people.users import create_user
from engine.runtime.services import Services
from engine.store.models import Case, CaseParty, HumanTask, Message
from tests.conftest import PASSWORD, World, real_routes
from tests.web.test_sen_support_pages import SCRIPT, School, planned, school, signed_in, utc
from tests.workflows.drivers import CaseDriver
from tests.workflows.test_sen_support import IDENTIFY, review

__all__ = ["school"]  # the fixture, used by the tests below


def _text(html: str) -> str:
    return " ".join(BeautifulSoup(html, "html.parser").get_text(" ").split())


def test_the_family_reads_the_plan_and_the_reviews_in_plain_english_and_only_for_their_child(
        app: Flask, school: School, world: World) -> None:
    alex = school.start(world.case_id, utc(2026, 9, 7))
    planned(alex, utc(2026, 9, 14), "2026-12-07",
            outcomes=[{"description": f"Reads CVC words {SCRIPT}", "measure": "Weekly check"}])
    alex.complete("UT_do", {"provision_started_on": "2026-09-15"}, utc(2026, 11, 2))
    alex.complete("UT_arrange_review", {"review_meeting_on": "2026-12-07", "family_invited_on": "2026-11-02"},
                  utc(2026, 11, 2, 11))
    parent = signed_in(app, world.users["parent"])
    case_page = parent.get(f"/family/cases/{world.case_id}")
    assert f'href="/family/cases/{world.case_id}/sen-support"' in case_page.text
    before = _text(parent.get(f"/family/cases/{world.case_id}/sen-support").text)
    # Asked for their views before the review, with the date; the plan in the family's words.
    assert "What you need to do Give your views before the review" in before
    assert "Please do this by 7 December 2026" in before
    assert "It will be reviewed with you by 7 December 2026 (the meeting is on 7 December 2026)" in before
    assert "Phonics catch-up group, from teaching assistant, 20 minutes, 4 times a week" in before
    assert "There has not been a review yet." in before
    alex.complete("UT_family_views", {"family_views_before_review": "Still <b>worried</b>."}, utc(2026, 12, 3))
    alex.complete("UT_review", review("2026-12-07", "continue", "good"), utc(2026, 12, 7, 15))
    parent = signed_in(app, world.users["parent"])  # a month on: signed in again
    page = parent.get(f"/family/cases/{world.case_id}/sen-support")
    text = _text(page.text)
    assert "Review on 7 December 2026 Reads CVC words: good progress" in text
    assert "Your views before the review: Still <b>worried</b>." in text
    assert "What was decided: The support carries on as planned, with a new review date." in text
    assert "<b>worried</b>" not in page.text and "<script>alert" not in page.text
    # Another family, and staff, do not reach it.
    assert signed_in(app, world.users["other_parent"]).get(f"/family/cases/{world.case_id}/sen-support",
                                                           status=404)
    assert signed_in(app, world.users["school"]).get(f"/family/cases/{world.case_id}/sen-support", status=403)


def test_a_move_of_setting_waits_for_the_familys_consent_then_moves_the_record(
        app: Flask, school: School, world: World, services: Services) -> None:
    alex = school.start(world.case_id, utc(2026, 9, 7))
    planned(alex, utc(2026, 9, 14), "2026-12-07")
    senco = signed_in(app, world.users["school"])
    record = senco.get(f"/sen-support/{world.case_id}")
    assert f'href="/sen-support/{world.case_id}/move"' in record.text
    form = senco.get(f"/sen-support/{world.case_id}/move")
    assert "Other Academy" in form.text and ">Test Primary School<" not in form.text
    refused = senco.post(f"/sen-support/{world.case_id}/move", {"setting_id": ""}, status=200)
    assert "Select the new setting" in refused.text
    senco.post(f"/sen-support/{world.case_id}/move", {"setting_id": str(school.other_school.id)}, status=302)
    # Not before the family agrees: the record stays.
    senco.post(f"/sen-support/{world.case_id}/move/confirm", status=302)
    assert "waiting for the family to agree" in _text(senco.get(f"/sen-support/{world.case_id}").text)
    parent = signed_in(app, world.users["parent"])
    family_page = _text(parent.get(f"/family/cases/{world.case_id}/sen-support").text)
    assert "Agree to the SEN support record moving to the new setting : Other Academy" in family_page
    with services.session_factory() as s:
        consent = s.scalars(select(HumanTask).where(HumanTask.bpmn_id == "UT_move_consent",
                                                    HumanTask.status == "open")).one()
    parent.post(f"/tasks/{consent.id}", {"move_consent": "yes", "_action": "submit"}, status=302)
    record = senco.get(f"/sen-support/{world.case_id}")
    assert "Move the record to Other Academy" in record.text
    senco.post(f"/sen-support/{world.case_id}/move/confirm", status=302)
    # The old setting no longer sees the record; the new one does, and its SENCO's list has the pupil.
    assert senco.get(f"/sen-support/{world.case_id}", status=404)
    other = signed_in(app, school.other_senco)
    assert "the family agreed and the record moved there" in _text(other.get(f"/sen-support/{world.case_id}").text)
    assert "Alex" in other.get("/sen-support/").text
    with services.session_factory() as s:
        assert [p.organisation_id for p in s.scalars(select(CaseParty).where(
            CaseParty.case_id == world.case_id, CaseParty.role == "setting", CaseParty.active.is_(True)))] == [
            school.other_school.id]
    # Nobody else proposes or moves: the family and another authority's staff are refused.
    assert parent.get(f"/sen-support/{world.case_id}/move", status=403)
    assert signed_in(app, world.users["other_caseworker"]).get(f"/sen-support/{world.case_id}/move", status=404)


def test_the_authority_sees_sen_support_in_its_area_by_setting_need_and_age(
        app: Flask, school: School, world: World) -> None:
    alex = school.start(world.case_id, utc(2026, 9, 7))
    planned(alex, utc(2026, 9, 14), "2026-12-07")
    school.start(school.new_case("Cy", "Zed", world.school), utc(2026, 9, 7, 12))
    school.start(school.new_case("Di", "=Elsewhere", school.other_school), utc(2026, 9, 7, 13), senco="other_senco")
    school.start(world.other_case_id, utc(2026, 9, 7, 14))  # another authority's child: not counted
    alex.at(utc(2026, 10, 20))
    manager = signed_in(app, world.users["manager"])
    page = BeautifulSoup(manager.get("/reports/sen-support").text, "html.parser")
    text = " ".join(page.get_text(" ").split())
    assert "3 children on SEN support" in text and "Ages are on 31 August 2026" in text

    def rows(table_id: str) -> list[list[str]]:
        table = page.find("table", id=table_id)
        return [[td.get_text(strip=True) for td in tr.find_all("td")] for tr in table.tbody.find_all("tr")]

    assert rows("by-setting") == [["Other Academy", "1"], ["Test Primary School", "2"]]
    assert rows("by-need") == [["Not assessed yet", "2"], ["Specific learning difficulty", "1"]]
    assert rows("by-age") == [["10", "2"], ["11", "1"]]
    lines = list(csv.reader(io.StringIO(manager.get("/reports/sen-support.csv").text)))
    assert lines[0] == ["Breakdown", "Group", "Children on SEN support"]
    assert ["Age on 2026-08-31", "10", "2"] in lines and lines[-1] == ["Total", "", "3"]
    assert 'href="/reports/sen-support"' in manager.get("/reports/").text
    assert signed_in(app, world.users["caseworker"]).get("/reports/sen-support", status=403)


def test_a_health_visitor_tells_the_authority_about_a_young_child(app: Flask, world: World,
                                                                  services: Services) -> None:
    services.engine.deploy(real_routes())
    services.engine.clock.set(utc(2026, 10, 5))
    with services.session_factory() as s:
        case = s.get(Case, world.case_id)
        assert case is not None
        case.date_of_birth = date(2024, 6, 20)
        s.commit()
    health = signed_in(app, world.users["health"])
    listing = health.get("/sen-support/early-years-notices")
    nav = [a.get_text(strip=True) for a in BeautifulSoup(listing.text, "html.parser")
           .select(".govuk-service-navigation a")]
    assert "Young children" in nav
    assert f'href="/sen-support/early-years-notices/{world.case_id}"' in listing.text
    url = f"/sen-support/early-years-notices/{world.case_id}"
    empty = health.post(url, {}, status=200)
    assert "Describe what you have noticed" in empty.text
    health.post(url, {"concern": f"Few words {SCRIPT}", "parents_told_on-day": "1", "parents_told_on-month": "10",
                      "parents_told_on-year": "2026", "parents_discussed": "yes",
                      "voluntary_organisations_told": "none", "notified_by": "Jo Smith, health visitor"},
                status=302)
    with services.session_factory() as s:
        assert [m.name for m in s.scalars(select(Message).where(Message.case_id == world.case_id))] == [
            "early_years_notice"]
        task = s.scalars(select(HumanTask).where(HumanTask.bpmn_id == "UT_consider")).one()
        assert (task.role, task.detail, task.due_date) == (Role.CASEWORKER.value, "Jo Smith, health visitor",
                                                           date(2026, 11, 2))
    assert "5 October 2026" in health.get("/sen-support/early-years-notices").text
    caseworker = signed_in(app, world.users["caseworker"])
    assert "Consider a health body" in caseworker.get("/tasks/").text
    assert caseworker.get("/sen-support/early-years-notices", status=403)


def test_the_staff_case_page_links_to_the_record(app: Flask, school: School, world: World) -> None:
    school.start(world.case_id, utc(2026, 9, 7))
    link = f'href="/sen-support/{world.case_id}"'
    assert link in signed_in(app, world.users["caseworker"]).get(f"/cases/{world.case_id}").text
    assert link in signed_in(app, world.users["school"]).get(f"/cases/{world.case_id}").text
    assert link not in signed_in(app, world.users["health"]).get(f"/cases/{world.case_id}").text



def test_in_a_college_the_young_person_is_asked_for_their_views_on_their_own_page(
        app: Flask, school: School, world: World, services: Services) -> None:
    """Sam, 17, at college: the task before the review is the young person's own ("your review") and their page
    speaks to them; the record says what kind of setting it is."""
    with services.session_factory() as s:
        case = s.get(Case, world.case_id)
        assert case is not None
        case.date_of_birth = date(2009, 1, 10)
        student = create_user(s, "student@test.example", "Sam Student", PASSWORD, services.engine.clock,
                              [(None, Role.FAMILY)])
        s.add(CaseParty(case_id=world.case_id, role="family", user_id=student.id,
                        relationship_to_child="young person"))
        s.commit()
    driver = CaseDriver(services, school.users, world.case_id)
    driver.at(utc(2026, 9, 7))
    start_by_hand(driver.engine, world.case_id, "sen_support", None, world.users["school"])
    driver.complete("UT_identify", {**IDENTIFY, "setting_phase": "college", "identified_on": "2026-09-07",
                                    "parents_told_on": "2026-09-07"}, utc(2026, 9, 7, 11))
    planned(driver, utc(2026, 9, 14), "2026-12-07")
    driver.complete("UT_do", {"provision_started_on": "2026-09-15"}, utc(2026, 11, 2))
    driver.complete("UT_arrange_review", {"review_meeting_on": "2026-12-07", "family_invited_on": "2026-11-02"},
                    utc(2026, 11, 2, 11))
    record = _text(signed_in(app, world.users["school"]).get(f"/sen-support/{world.case_id}").text)
    assert "Kind of setting A college or other post-16 setting" in record
    page = _text(signed_in(app, student).get(f"/family/cases/{world.case_id}/sen-support").text)
    assert "gives you extra help" in page
    assert "What you need to do Give your views before your review" in page
    # The task is the young person's own: it is among their things to do on the case page, not their parent's.
    for user, theirs in ((student, True), (world.users["parent"], False)):
        page = BeautifulSoup(signed_in(app, user).get(f"/family/cases/{world.case_id}").text, "html.parser")
        to_do = [a.get_text(strip=True) for a in page.select("#to-do + ul a")]
        assert ("Give your views before your review" in to_do) is theirs, to_do
