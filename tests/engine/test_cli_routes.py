"""``ehcflow routes list`` and ``ehcflow routes start``: starting a route by hand from the command line, with the case
page's checks, clear errors and exit status 1 on bad input."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from engine.runtime.services import Services
from engine.store.models import AuditEvent, Case, ProcessInstance
from tests.conftest import World, real_routes
from tests.engine.test_route_starts import give_plan
from webui.cli import main
from webui.cli import routes as routes_command


@pytest.fixture
def cli(services: Services, world: World, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    services.engine.deploy(real_routes())
    monkeypatch.setattr(routes_command, "build_services", lambda: services)
    return CliRunner()


def reference(services: Services, case_id: int) -> str:
    with services.session_factory() as s:
        case = s.get(Case, case_id)
        assert case is not None
        return case.reference


def started(services: Services, case_id: int, process_id: str) -> int:
    with services.session_factory() as s:
        return s.scalar(select(func.count()).select_from(ProcessInstance).where(
            ProcessInstance.case_id == case_id, ProcessInstance.process_id == process_id)) or 0


def test_help_describes_the_commands(cli: CliRunner) -> None:
    result = cli.invoke(main, ["routes", "start", "--help"])

    assert result.exit_code == 0
    assert "Start the route PROCESS_ID on CASE" in result.output
    assert "--data JSON" in result.output and "--as EMAIL" in result.output


def test_list_then_start_an_early_review_by_reference(cli: CliRunner, services: Services, world: World) -> None:
    give_plan(services, world)
    ref = reference(services, world.case_id)

    listed = cli.invoke(main, ["routes", "list", ref])
    first = cli.invoke(main, ["routes", "start", ref.lower(), "annual_review"])
    again = cli.invoke(main, ["routes", "start", str(world.case_id), "annual_review"])

    assert listed.exit_code == 0, listed.output
    assert "annual_review" in listed.output and "Start an early review" in listed.output
    assert first.exit_code == 0, first.output
    assert first.output.startswith(f"Started annual_review on case {ref} (instance ")
    assert again.exit_code == 1 and "already under way on this case" in again.output
    assert started(services, world.case_id, "annual_review") == 1
    with services.session_factory() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "route_started_by_hand")).one()
        assert event.actor_id is None  # the operator, acting for the authority


def test_start_data_is_checked_against_the_start_form(cli: CliRunner, services: Services, world: World) -> None:
    ref = reference(services, world.case_id)
    good = {"requester_type": "parent", "requester_name": "Sam Taylor", "received_at": "2026-02-27 17:30"}

    overwrite = cli.invoke(main, ["routes", "start", ref, "ehc_needs_assessment", "--data",
                                  json.dumps({**good, "case_id": world.other_case_id})])
    missing = cli.invoke(main, ["routes", "start", ref, "ehc_needs_assessment", "--data",
                                json.dumps({"requester_type": "parent"})])
    no_form = cli.invoke(main, ["routes", "start", ref, "complaint", "--data", '{"about": "x"}'])
    not_json = cli.invoke(main, ["routes", "start", ref, "complaint", "--data", "{about"])
    not_object = cli.invoke(main, ["routes", "start", ref, "complaint", "--data", "[1]"])
    ok = cli.invoke(main, ["routes", "start", ref, "ehc_needs_assessment", "--data", json.dumps(good)])

    assert overwrite.exit_code == 1 and "case_id: This comes from the case and cannot be given" in overwrite.output
    assert missing.exit_code == 1 and "requester_name: Enter the name of the person who asked" in missing.output
    assert no_form.exit_code == 1 and "takes no details when it starts" in no_form.output
    assert not_json.exit_code == 1 and "--data: not valid JSON" in not_json.output
    assert not_object.exit_code == 1 and "--data: give a JSON object" in not_object.output
    assert ok.exit_code == 0, ok.output
    assert started(services, world.case_id, "ehc_needs_assessment") == 1
    assert started(services, world.other_case_id, "ehc_needs_assessment") == 0


def test_acting_as_a_user_applies_their_permissions(cli: CliRunner, services: Services, world: World) -> None:
    give_plan(services, world)
    ref = reference(services, world.case_id)

    family = cli.invoke(main, ["routes", "list", ref, "--as", "parent@test.example"])
    asked = cli.invoke(main, ["routes", "start", ref, "reassessment", "--as", "PARENT@test.example"])
    other_la = cli.invoke(main, ["routes", "start", ref, "cease_plan", "--as", "other_caseworker@test.example"])
    family_cease = cli.invoke(main, ["routes", "start", ref, "cease_plan", "--as", "parent@test.example"])

    assert family.exit_code == 0 and "Ask for a re-assessment" in family.output and "cease_plan" not in family.output
    assert asked.exit_code == 0, asked.output
    assert other_la.exit_code == 1 and "You cannot start “Consider ceasing the plan” on this case" in other_la.output
    assert family_cease.exit_code == 1 and "You cannot start" in family_cease.output
    assert started(services, world.case_id, "cease_plan") == 0


@pytest.mark.parametrize(("args", "message"), [
    (["routes", "start", "EHC-1999-99999", "complaint"], "case: no case with the reference or number"),
    (["routes", "start", "{case}", "no_such_route"], "The route 'no_such_route' is not deployed"),
    (["routes", "start", "{case}", "mediation"], "is not started by hand"),
    (["routes", "start", "{case}", "annual_review"], "the case has no EHC plan in force"),
    (["routes", "start", "{case}", "complaint", "--as", "nobody@test.example"], "--as: no user with the email"),
])
def test_bad_input_is_refused_with_exit_status_1(cli: CliRunner, services: Services, world: World,
                                                 args: list[str], message: str) -> None:
    ref = reference(services, world.case_id)

    result = cli.invoke(main, [a.replace("{case}", ref) for a in args])

    assert result.exit_code == 1, result.output
    assert message in result.output
    with services.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(ProcessInstance)) == 0
