"""The setting's SEN support pages (issue 19): the SENCO's list of pupils on SEN support (overdue reviews first), a
pupil's record on one page, and the provision map as CSV; who may open them, and escaping. The route runs for real
(workflows/sen_support.bpmn, driven through the engine by tests/workflows/drivers.py ``CaseDriver``).

The calendar, worked out by hand (the route's settings: a review at most 13 weeks after the plan, the reminder 10
days before the review date; British Summer Time in 2026 ends on Sunday 25 October, so a day's timer fires at
23:00 UTC that day before then):

- Planned on Monday 14 September 2026 with a review on Monday 19 October (within 14 September + 91 days = Monday
  14 December): the review timer fires at 23:00 UTC on 19 October, so on Tuesday 20 October that review is overdue.
- Planned on 14 September with a review on Monday 7 December: on 20 October it is due (more than 7 days away).
- Planned on 14 September with a review on Monday 26 October: on 20 October it is due soon (within 7 days: 27
  October is the last day that counts).
- Reviewed on 7 December (continue) with the next review asked for 1 March 2027: within 7 December + 91 days =
  Monday 8 March 2027, so the second cycle's review is due on Monday 1 March 2027.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask

from engine.intake.route_starts import start_by_hand
from engine.lists import sen_support
from engine.people.roles import Role
from engine.people.users import create_organisation, create_user
from engine.runtime.services import Services
from engine.store.models import CaseParty, Organisation, User
from tests.conftest import PASSWORD, World, real_routes
from tests.web.conftest import Client
from tests.workflows.drivers import CaseDriver
from tests.workflows.test_sen_support import ASSESS, IDENTIFY, PROVISION, plan, review

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = '<script>alert("x")</script>'


def utc(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


class School:
    """Pupils on SEN support in the world's school, and one in another school (its own SENCO)."""

    def __init__(self, services: Services, world: World) -> None:
        self.services, self.world = services, world
        services.engine.deploy(real_routes())  # as `ehcflow setup` does
        with services.session_factory() as s:
            self.other_school: Organisation = create_organisation(
                s, "Other Academy", "setting", services.engine.clock, setting_type="academy",
                maintaining_la_id=world.la.id)
            self.other_senco: User = create_user(s, "senco@other.example", "Other Senco", PASSWORD,
                                                 services.engine.clock, [(self.other_school, Role.SCHOOL)])
            s.commit()
        self.users = {**world.users, "other_senco": self.other_senco}

    def new_case(self, first: str, last: str, setting: Organisation) -> int:
        with self.services.session_factory() as s:
            case = self.services.engine.open_case(s, self.world.la.id, first, last, "2016-02-03")
            s.add(CaseParty(case_id=case.id, role="setting", organisation_id=setting.id))
            s.commit()
            return case.id

    def start(self, case_id: int, when: datetime, senco: str = "school") -> CaseDriver:
        """SEN support started by the setting's SENCO, and the need identified half an hour later."""
        driver = CaseDriver(self.services, self.users, case_id)
        driver.at(when)
        start_by_hand(driver.engine, case_id, "sen_support", None, self.users[senco])
        day = when.date().isoformat()
        driver.complete("UT_identify", {**IDENTIFY, "identified_on": day, "parents_told_on": day},
                        when.replace(minute=30), who=senco)
        return driver


def planned(driver: CaseDriver, when: datetime, review_date: str, provision: list[dict[str, Any]] | None = None,
            who: str = "school", outcomes: list[dict[str, Any]] | None = None) -> None:
    driver.complete("UT_assess", ASSESS, when, who=who)
    data = plan(review_date)
    if provision is not None:
        data["provision"] = provision
    if outcomes is not None:
        data["outcomes"] = outcomes
    driver.complete("UT_plan", data, when.replace(minute=30), who=who)


@pytest.fixture
def school(services: Services, world: World) -> School:
    return School(services, world)


def signed_in(app: Flask, user: User) -> Client:
    client = Client(app)
    client.sign_in(user.email)
    return client


def test_the_sencos_list_shows_their_pupils_overdue_first_and_nobody_elses(app: Flask, school: School,
                                                                          world: World) -> None:
    """On Tuesday 20 October 2026 (see the module's calendar): Bo's review (19 October) is overdue, Alex's
    (7 December) due, the new pupil's not set yet (identified, not planned); the other school's pupil (26 October)
    is due soon, and only on that school's list."""
    alex = school.start(world.case_id, utc(2026, 9, 7))
    bo = school.start(world.other_case_id, utc(2026, 9, 7, 11))  # Bo's case is another authority's, same school
    school.start(school.new_case("Cy", "<b>Zed</b>", world.school), utc(2026, 9, 7, 12))
    theirs = school.start(school.new_case("Di", "Elsewhere", school.other_school), utc(2026, 9, 7, 13),
                          senco="other_senco")
    planned(alex, utc(2026, 9, 14), "2026-12-07")
    planned(bo, utc(2026, 9, 14, 11), "2026-10-19")
    planned(theirs, utc(2026, 9, 14, 12), "2026-10-26", who="other_senco")
    alex.at(utc(2026, 10, 20))

    page = signed_in(app, world.users["school"]).get("/sen-support/")
    soup = BeautifulSoup(page.text, "html.parser")
    table = soup.find("table", id="pupils")
    assert table is not None and "ehc-responsive-table" in table["class"]  # stacks its cells on a 320 px phone
    rows = [[" ".join(td.get_text(" ").split()) for td in tr.find_all("td")] for tr in table.tbody.find_all("tr")]
    assert [r[0].split(" ")[0:2] for r in rows] == [["Bo", "Other"], ["Alex", "Taylor"], ["Cy", "<b>Zed</b>"]]
    assert rows[0][2:] == ["19 Oct 2026 Overdue", "Arrange the review meeting, The review is overdue"]
    assert rows[1][1:] == ["Specific learning difficulty", "7 Dec 2026 Due", "Deliver the support"]
    assert rows[2][1:] == ["Not assessed yet", "Not set yet", "Assess"]
    assert "&lt;b&gt;Zed" in page.text and "<b>Zed" not in page.text
    assert "Di Elsewhere" not in page.text
    nav = [(a.get_text(strip=True), a["href"]) for a in soup.select(".govuk-service-navigation a")]
    assert ("SEN support", "/sen-support/") in nav

    other = signed_in(app, school.other_senco).get("/sen-support/")
    other_rows = BeautifulSoup(other.text, "html.parser").find("table", id="pupils").tbody.find_all("tr")
    assert [" ".join(tr.td.get_text(" ").split()).startswith("Di Elsewhere") for tr in other_rows] == [True]
    assert "Due soon" in other.text and "Alex" not in other.text

    caseworker = signed_in(app, world.users["caseworker"])
    assert caseworker.get("/sen-support/", status=403)
    home = BeautifulSoup(caseworker.get("/tasks/").text, "html.parser")
    assert "SEN support" not in [a.get_text(strip=True) for a in home.select(".govuk-service-navigation a")]


def test_a_pupils_record_shows_every_cycle_escaped_to_the_setting_and_the_authority_only(
        app: Flask, school: School, world: World) -> None:
    """Alex: planned on 14 September 2026 (review 7 December), reviewed on 7 December (continue), the second
    cycle's review due on Monday 1 March 2027 (see the module's calendar). Markup typed into the record is shown as
    text."""
    alex = school.start(world.case_id, utc(2026, 9, 7))
    planned(alex, utc(2026, 9, 14), "2026-12-07",
            outcomes=[{"description": f"Reads CVC words {SCRIPT}", "measure": "Weekly <i>check</i>"}])
    alex.complete("UT_do", {"provision_started_on": "2026-09-15"}, utc(2026, 11, 2))
    alex.complete("UT_arrange_review", {"review_meeting_on": "2026-12-07", "family_invited_on": "2026-11-02"},
                  utc(2026, 11, 2, 11))
    alex.complete("UT_family_views", {"family_views_before_review": "Still <b>worried</b>."}, utc(2026, 12, 3))
    alex.complete("UT_review", review("2026-12-07", "continue", "good"), utc(2026, 12, 7, 15))
    alex.complete("UT_next_review", {"review_date": "2027-03-01"}, utc(2026, 12, 7, 16))

    for who in ("school", "caseworker", "manager"):
        page = signed_in(app, world.users[who]).get(f"/sen-support/{world.case_id}")
        text = " ".join(BeautifulSoup(page.text, "html.parser").get_text(" ").split())
        assert "Cycle 1 " in text and "Cycle 2 (under way)" in text, who
        assert "Review due 7 December 2026 Held on time" in text
        assert "Review due 1 March 2027" in text
        assert text.count("Review meeting 7 December 2026") == 1  # cycle 2's meeting is not arranged yet
        assert "Alex is not yet reading simple words" in text  # the identification
        assert "Specific learning difficulty" in text and "Good progress" in text
        assert "<script>alert" not in page.text and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
        assert "Still &lt;b&gt;worried&lt;/b&gt;." in page.text and "<i>check" not in page.text
    for who in ("health", "ep", "socialcare", "admin", "processowner", "other_caseworker", "mediation"):
        assert signed_in(app, world.users[who]).get(f"/sen-support/{world.case_id}", status=None).status_code == 404
    assert signed_in(app, school.other_senco).get(f"/sen-support/{world.case_id}", status=404)
    assert signed_in(app, world.users["parent"]).get(f"/sen-support/{world.case_id}", status=403)
    # A case without SEN support has no record; an unknown case is not found either.
    nothing = school.new_case("Ed", "None", world.school)
    assert signed_in(app, world.users["school"]).get(f"/sen-support/{nothing}", status=404)
    assert signed_in(app, world.users["school"]).get("/sen-support/999999", status=404)


def test_the_provision_map_adds_up_each_provision_of_the_settings_pupils(app: Flask, school: School,
                                                                         world: World) -> None:
    """Alex's plan: the phonics group (1.5 hours, £1,200) and a line that would be a spreadsheet formula; Bo's: the
    same phonics group written differently (1 hour, £800) and a social skills group (0.5 hours, £300). The other
    school's pupil is on its own map only. A cell starting with "=" is written with a quote before it."""
    alex = school.start(world.case_id, utc(2026, 9, 7))
    bo = school.start(world.other_case_id, utc(2026, 9, 7, 11))
    theirs = school.start(school.new_case("Di", "Elsewhere", school.other_school), utc(2026, 9, 7, 13),
                          senco="other_senco")
    planned(alex, utc(2026, 9, 14), "2026-12-07", provision=[
        *PROVISION, {"description": "=SUM(A1:A9)", "delivered_by": "Teaching assistant", "frequency": "Daily",
                     "hours_per_week": 2, "cost_per_year": 100}])
    planned(bo, utc(2026, 9, 14, 11), "2026-12-07", provision=[
        {"description": " phonics  CATCH-UP group", "delivered_by": "teaching assistant", "frequency": "Twice a week",
         "hours_per_week": 1, "cost_per_year": 800},
        {"description": "Social skills group", "delivered_by": "SENCO", "frequency": "Weekly", "hours_per_week": 0.5,
         "cost_per_year": 300}])
    planned(theirs, utc(2026, 9, 14, 12), "2026-12-07", who="other_senco", provision=[
        {"description": "Other school's group", "delivered_by": "TA", "frequency": "Weekly"}])

    response = signed_in(app, world.users["school"]).get("/sen-support/provision-map.csv")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="provision-map-')
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows == [
        list(sen_support.PROVISION_COLUMNS),
        ["Test Primary School", "'=SUM(A1:A9)", "Teaching assistant", "1", "2", "100.00"],
        ["Test Primary School", "Phonics catch-up group", "Teaching assistant", "2", "2.5", "2000.00"],
        ["Test Primary School", "Social skills group", "SENCO", "1", "0.5", "300.00"],
        ["Test Primary School", "Total", "", "", "5", "2400.00"],
    ]
    theirs_csv = signed_in(app, school.other_senco).get("/sen-support/provision-map.csv").text
    assert "Other school's group" in theirs_csv and "Phonics" not in theirs_csv
    assert signed_in(app, world.users["manager"]).get("/sen-support/provision-map.csv", status=403)


def test_the_pages_use_the_words_of_the_deployed_forms() -> None:
    """The words of each answer come from the forms of the route's version, so that a process owner's rewording
    shows at once; a version without a form, or a form without the question, falls back to the module's words."""
    files = {f"forms/{form}": (ROOT / "forms" / form).read_text()
             for form in {form for _, form, _ in sen_support.CHOICES.values()}}
    labels = sen_support.labels_from_files(files)
    for name, (fallback, form, path) in sen_support.CHOICES.items():
        node = json.loads(files[f"forms/{form}"])["properties"]
        for step in path:
            node = node[step]
        assert labels[name] == {o["const"]: o["title"] for o in node["oneOf"]}, name
        assert set(labels[name]) == set(fallback), name  # the fallback knows every answer
    reworded = json.loads(files["forms/ss_assess.json"])
    reworded["properties"]["primary_need"]["oneOf"][0]["title"] = "SpLD (dyslexia and similar)"
    changed = sen_support.labels_from_files({**files, "forms/ss_assess.json": json.dumps(reworded)})
    assert changed["needs"]["SPLD"] == "SpLD (dyslexia and similar)"
    assert sen_support.labels_from_files({})["needs"]["SPLD"] == sen_support.PRIMARY_NEEDS["SPLD"]
    assert sen_support.labels_from_files({"forms/ss_review.json": "{not json"})["progress"] == sen_support.PROGRESS


def test_the_record_shows_a_specialists_advice_and_the_request_for_an_assessment_with_its_evidence(
        app: Flask, school: School, world: World) -> None:
    """Alex: reviewed on Monday 7 December 2026, which involves the educational psychologist, asked on Tuesday
    8 December with no date given: due 8 December + 42 days = Tuesday 19 January 2027. The advice on 10 January;
    cycle 2 planned on Monday 11 January (review Monday 1 March 2027, within 11 January + 91 days = 12 April),
    reviewed on 1 March, which asks the authority for an EHC needs assessment: the request's evidence is a document
    of the route, on the record, and the caseworker opens it."""
    alex = school.start(world.case_id, utc(2026, 9, 7))
    planned(alex, utc(2026, 9, 14), "2026-12-07")
    alex.complete("UT_do", {"provision_started_on": "2026-09-15"}, utc(2026, 11, 2))
    alex.complete("UT_arrange_review", {"review_meeting_on": "2026-12-07", "family_invited_on": "2026-11-02"},
                  utc(2026, 11, 2, 11))
    alex.complete("UT_family_views", {"family_views_before_review": "Fine."}, utc(2026, 12, 3))
    alex.complete("UT_review", review("2026-12-07", "specialist", "little"), utc(2026, 12, 7, 15))
    alex.complete("UT_specialist_request", {"specialist_kind": "educational_psychologist",
                                            "specialist_name": "Testshire <b>EP</b> service",
                                            "advice_question": "Why so slow?"}, utc(2026, 12, 8))
    senco = signed_in(app, world.users["school"])
    text = " ".join(BeautifulSoup(senco.get(f"/sen-support/{world.case_id}").text, "html.parser").get_text(" ").split())
    assert ("Asked for on 8 December 2026: The local authority's educational psychology service "
            "(Testshire <b>EP</b> service), due by 19 January 2027.") in text
    alex.complete("UT_advice_ep", {"advice_given_by": "Dr Eleanor Park", "advice_summary": "Working memory.",
                                   "advice_recommendations": "Precision teaching."}, utc(2027, 1, 10))
    planned(alex, utc(2027, 1, 11), "2027-03-01")
    alex.complete("UT_do", {"provision_started_on": "2027-01-12"}, utc(2027, 2, 1))
    alex.complete("UT_arrange_review", {"review_meeting_on": "2027-03-01", "family_invited_on": "2027-02-01"},
                  utc(2027, 2, 1, 11))
    alex.complete("UT_family_views", {"family_views_before_review": "Worried."}, utc(2027, 2, 20))
    alex.complete("UT_review", review("2027-03-01", "request_assessment", "little"), utc(2027, 3, 1, 14))
    alex.complete("UT_request_assessment", {"request_reasons": "Little progress.", "requested_by": "Sam Senco, SENCO",
                                            "family_told_on": "2027-03-01"}, utc(2027, 3, 1, 15))

    for who in ("school", "caseworker"):
        client = signed_in(app, world.users[who])
        page = client.get(f"/sen-support/{world.case_id}")
        soup = BeautifulSoup(page.text, "html.parser")
        text = " ".join(soup.get_text(" ").split())
        assert "EHC needs assessment asked for 1 March 2027" in text
        assert "Asked for 8 December 2026, due by 19 January 2027 Received 10 January 2027" in text
        assert "Testshire &lt;b&gt;EP&lt;/b&gt; service" in page.text and "<b>EP</b>" not in page.text
        links = [(a.get_text(strip=True), a["href"]) for a in soup.select("#documents ~ ul a")]
        assert [title for title, _ in links] == [
            "Request for an EHC needs assessment for Alex Taylor: SEN support evidence"]
        letter = client.get(links[0][1])
        assert "Why so slow?" in letter.text and "Cycle 2: planned 11 January 2027, reviewed 1 March 2027" in letter.text
