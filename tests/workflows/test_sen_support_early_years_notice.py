"""Scenario tests for workflows/early_years_notice.bpmn (issue 19): a health body's notice to the local authority about
a young child (Children and Families Act 2014 s.23), sent by a health professional as the message
``early_years_notice`` (engine/casework/sen_support_early_years.py), which starts the authority's consideration.

Compulsory school age begins on 31 March, 31 August or 31 December, the first on or after the fifth birthday
(Education Act 1996 s.8; the Education (Start of Compulsory School Age) Order 1998).

The notice arrives on Monday 5 October 2026; the authority's practice is to consider it within 4 weeks: by Monday
2 November 2026.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from engine.casework.sen_support_early_years import (
    may_send_notice,
    notices_sent,
    send_notice,
    start_of_compulsory_school_age,
)
from engine.errors import FormInvalid, InvalidState, NotAllowed
from engine.people.roles import Role
from engine.people.users import create_organisation, create_user
from engine.runtime.services import Services
from engine.store.models import Case
from tests.conftest import PASSWORD, World, real_routes
from tests.workflows import flow_coverage
from tests.workflows.drivers import CaseDriver

ROOT = Path(__file__).resolve().parents[2]
PROCESS = "early_years_notice"
COVERAGE = flow_coverage.register(PROCESS, [ROOT / "workflows" / "early_years_notice.bpmn"])
NOTICE = {"concern": "Not yet walking at 2; few sounds. <script>alert(1)</script>", "parents_told_on": "2026-10-01",
          "parents_discussed": "yes", "voluntary_organisations_told": "yes",
          "organisations_named": "Testshire Parent Carer Forum", "notified_by": "Jo Smith, health visitor"}


@pytest.fixture
def route(services: Services, world: World) -> CaseDriver:
    services.engine.deploy(real_routes())
    with services.session_factory() as s:
        case = s.get(Case, world.case_id)
        assert case is not None
        case.date_of_birth = date(2024, 6, 20)  # two years old in October 2026
        s.commit()
    driver = CaseDriver(services, world.users, world.case_id)
    driver.coverage.append(COVERAGE)
    return driver


def _send(route: CaseDriver, world: World) -> int:
    route.at(datetime(2026, 10, 5, 10, tzinfo=UTC))
    instance_id = send_notice(route.engine, world.case_id, NOTICE, world.users["health"])
    route.check()
    return instance_id


def test_the_health_visitors_notice_starts_the_authoritys_consideration_and_an_assessment_to_consider(
        route: CaseDriver, world: World) -> None:
    _send(route, world)
    task = route.task("UT_consider")
    assert (task.role, task.organisation_id, task.due_date, task.detail) == (
        Role.CASEWORKER.value, world.la.id, date(2026, 11, 2), "Jo Smith, health visitor")
    data = route.data(PROCESS)
    assert data["notice"]["concern"] == NOTICE["concern"]  # kept as typed; escaped wherever it is shown
    with route.services.session_factory() as s:
        assert [m.sent_by_id for m in notices_sent(s, world.case_id)] == [world.users["health"].id]
    route.complete("UT_consider", {"decision": "consider_assessment", "decision_reasons": "Global delay.",
                                   "family_told_on": "2026-10-12"}, datetime(2026, 10, 12, 10, tzinfo=UTC))
    assert route.open() == ["MT_start_assessment"]
    route.complete("MT_start_assessment", {}, datetime(2026, 10, 12, 11, tzinfo=UTC))
    assert route.open() == [] and route.instance(PROCESS).status == "completed"


def test_early_years_support_and_information_end_the_consideration(route: CaseDriver, world: World) -> None:
    _send(route, world)
    route.complete("UT_consider", {"decision": "early_years_support", "decision_reasons": "Nursery can meet it.",
                                   "family_told_on": "2026-10-20"}, datetime(2026, 10, 20, 10, tzinfo=UTC))
    assert route.open() == [] and route.instance(PROCESS).status == "completed"


def test_only_a_health_professional_on_the_case_for_a_child_under_compulsory_school_age(
        route: CaseDriver, world: World, services: Services) -> None:
    engine = route.engine
    route.at(datetime(2026, 10, 5, 10, tzinfo=UTC))
    with services.session_factory() as s:
        other_body = create_organisation(s, "Otherham ICB", "health_body", engine.clock)
        stranger = create_user(s, "hv@other.example", "Other HV", PASSWORD, engine.clock, [(other_body, Role.HEALTH)])
        s.commit()
    for who in (stranger, world.users["caseworker"], world.users["school"], world.users["parent"]):
        with pytest.raises(NotAllowed):
            send_notice(engine, world.case_id, NOTICE, who)
    with pytest.raises(FormInvalid) as refused:
        send_notice(engine, world.case_id, {**NOTICE, "parents_told_on": "2026-10-06"}, world.users["health"])
    assert "parents_told_on" in refused.value.errors
    with pytest.raises(FormInvalid):
        send_notice(engine, world.case_id, {**NOTICE, "notified_by": " "}, world.users["health"])
    # Born 20 June 2024: fifth birthday 20 June 2029, compulsory school age from 31 August 2029.
    with services.session_factory() as s:
        case = s.get(Case, world.case_id)
        assert case is not None
        assert may_send_notice(s, world.users["health"], case, date(2029, 8, 30))
        assert not may_send_notice(s, world.users["health"], case, date(2029, 8, 31))
        case.date_of_birth = date(2015, 5, 14)
        s.commit()
    with pytest.raises(InvalidState):
        send_notice(engine, world.case_id, NOTICE, world.users["health"])
    assert route.instances(PROCESS) == []


@pytest.mark.parametrize(("born", "starts"), [
    ("2021-08-31", "2026-08-31"),  # a birthday on a prescribed day: that day
    ("2021-09-01", "2026-12-31"),
    ("2021-12-31", "2026-12-31"),
    ("2022-01-01", "2027-03-31"),
    ("2022-04-01", "2027-08-31"),
    ("2020-02-29", "2025-03-31"),  # a 29 February child: 31 March whichever day counts as the birthday
])
def test_the_start_of_compulsory_school_age(born: str, starts: str) -> None:
    assert start_of_compulsory_school_age(born) == date.fromisoformat(starts)


# ---- coverage: keep this test last ------------------------------------------------------------------------------------
def test_every_flow_node_and_sequence_flow_of_the_route_is_visited(request: pytest.FixtureRequest) -> None:
    flow_coverage.check_whole_module_covered(request, COVERAGE, globals())
