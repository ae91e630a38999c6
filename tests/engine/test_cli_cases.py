"""``ehcflow cases open`` and ``ehcflow cases list``: a child brought in from the command line, with clear errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from engine.runtime.services import Services
from engine.store.models import Case, ProcessInstance
from engine.store.requests import AssessmentRequest
from tests.conftest import World, real_routes
from webui.cli import cases as cases_command
from webui.cli import main

OPEN = ["cases", "open", "--la", "TST", "--first-name", "Kit", "--last-name", "Marsh", "--dob", "2017-02-03",
        "--address", "2 Low Road", "--postcode", "ts1 4aa", "--upn", "A12345678901C", "--requester-type", "parent",
        "--requester-name", "Lee Marsh", "--requester-email", "lee@example.com", "--relationship", "father",
        "--channel", "post", "--received", "2026-02-27 17:30", "--support", "Small-group reading since Year 2"]


@pytest.fixture
def cli(services: Services, world: World, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    services.engine.deploy(real_routes())
    monkeypatch.setattr(cases_command, "build_services", lambda: services)
    return CliRunner()


def test_cases_open_records_the_request_opens_the_case_and_starts_the_assessment(
        cli: CliRunner, services: Services) -> None:
    result = cli.invoke(main, OPEN)
    assert result.exit_code == 0, result.output
    # Friday 27 February 2026 at 17:30 (GMT) counts from Monday 2 March; six weeks later is Monday 13 April.
    assert "The LA must decide whether to assess by Monday 13 April 2026." in result.output
    with services.session_factory() as s:
        case = s.scalar(select(Case).where(Case.child_last_name == "Marsh"))
        assert (case.postcode, case.upn, case.reference in result.output) == ("TS1 4AA", "A12345678901C", True)
        request = s.scalar(select(AssessmentRequest).where(AssessmentRequest.case_id == case.id))
        assert (request.channel, request.status, request.received_at.isoformat()) == (
            "post", "registered", "2026-02-27T17:30:00+00:00")
        instance = s.get(ProcessInstance, request.instance_id)
        wf = services.engine.load_workflow(instance)
        assert json.loads(services.engine.serializer.dumps(wf)) == json.loads(instance.state)
        assert (wf.last_task.data["start_date"], wf.last_task.data["decide_by"]) == ("2026-03-02", "2026-04-13")

    again = cli.invoke(main, OPEN)
    assert again.exit_code == 1 and f"EHC Flow already knows this child (case {case.reference})" in again.output

    listed = cli.invoke(main, ["cases", "list", "--la", "TST", "--search", "marsh"])
    assert listed.exit_code == 0 and case.reference in listed.output and "Kit Marsh" in listed.output
    assert "Alex Taylor" not in listed.output


@pytest.mark.parametrize(("change", "message"), [
    ({"--dob": "2030-01-01"}, "child_date_of_birth: Date of birth must be in the past"),
    ({"--postcode": "nowhere"}, "child_postcode: Enter a real postcode"),
    ({"--received": "yesterday"}, "give the date and time as YYYY-MM-DD HH:MM"),
    ({"--received": "2026-03-09 10:00"}, "received_at: The date and time the request was received must be in the past"),
    ({"--la": "NOPE"}, "--la: no local authority with the code 'NOPE'"),
])
def test_cases_open_refuses_bad_input_with_exit_status_1_and_saves_nothing(
        cli: CliRunner, services: Services, change: dict[str, str], message: str) -> None:
    args = list(OPEN)
    for option, value in change.items():
        args[args.index(option) + 1] = value
    result = cli.invoke(main, args)
    assert result.exit_code in (1, 2) and message in result.output
    with services.session_factory() as s:
        assert s.scalar(select(AssessmentRequest.id)) is None
        assert s.scalar(select(Case.id).where(Case.child_last_name == "Marsh")) is None


def test_cases_list_refuses_an_unknown_authority(cli: CliRunner) -> None:
    result = cli.invoke(main, ["cases", "list", "--la", "NOPE"])
    assert result.exit_code == 1 and "no organisation with the code 'NOPE'" in result.output
