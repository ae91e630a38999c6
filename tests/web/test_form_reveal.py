"""Follow-up questions revealed by the answer they depend on (GOV.UK conditional reveal), worked out from each form's
own ``if``/``then`` rules, on the project's real forms: drawn nested and not marked "(optional)", shown without
JavaScript, and dropped on the server when their answer was not chosen."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask, render_template_string

from engine.runtime.services import Services
from engine.runtime.workflow_engine import WorkflowEngine
from engine.store.models import HumanTask
from tests.conftest import ROOT, World, deploy_files
from tests.web.conftest import DATA, open_task, soup, text_of
from webui.forms.build import build_form
from webui.forms.conversion import from_raw, to_raw
from webui.forms.reveal import Reveal, reveals

FORMS = ROOT / "forms"
PROJECT_FORMS = sorted(FORMS.glob("*.json"))


def form(name: str) -> dict[str, Any]:
    return json.loads((FORMS / name).read_text())


@pytest.fixture(scope="module")
def template_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    from engine.runtime.services import build
    from webui.app import create_app

    services = build("sqlite://")
    yield create_app({"TESTING": True, "SECRET_KEY": "x", "INSTANCE_PATH": tmp_path_factory.mktemp("i")},
                     services=services)
    services.db.dispose()


def draw(app: Flask, schema: dict[str, Any], raw: dict[str, list[str]] | None = None,
         errors: dict[str, str] | None = None) -> BeautifulSoup:
    fields = build_form(schema, raw if raw is not None else to_raw(schema, {}), errors,
                        options=lambda name, s: []).fields
    with app.test_request_context():
        html = render_template_string(
            '{% from "tasks/_fields.html" import render_fields %}{{ render_fields(fields, 1) }}', fields=fields)
    return BeautifulSoup(html, "html.parser")


def test_the_rules_say_which_answer_reveals_which_follow_up() -> None:
    assert reveals(form("needs_assessment_decide_assess.json")) == {
        "assess_decision_reasons": Reveal("assess_decision", "not_assess", "assess_decision_reasons")}
    # A follow-up of a follow-up: mediation -> health issues -> the health provision sought.
    chain = reveals(form("dr_adviser_contact.json"))
    assert chain["health_issues"].question == "wants_mediation"
    assert chain["health_provision_sought"].question == "health_issues"
    # A yes/no question's answer is the boolean the rule tests; the page draws it as "yes".
    setting = reveals(form("pd_family_response.json"))["requested_setting_id"]
    assert (setting.question, setting.value, setting.option) == ("request_setting", True, "yes")
    # Asked for by two answers ("amend" and "replace"): it cannot sit inside both, so it stays where it is.
    assert "draft_summary" not in reveals(form("ra_outcome.json"))


def test_a_follow_up_sits_inside_the_answer_that_asks_for_it(template_app: Flask) -> None:
    """"Reasons" is inside "Do not carry out an assessment", hidden until chosen when JavaScript runs (GOV.UK
    Frontend hides ``--hidden`` only under ``.govuk-frontend-supported``), and required, so not "(optional)"."""
    page = draw(template_app, form("needs_assessment_decide_assess.json"))
    radios = page.select("input[name=assess_decision]")
    assert [r["value"] for r in radios] == ["assess", "not_assess"]
    assert "data-aria-controls" not in radios[0].attrs
    reveal = page.select_one(f"#{radios[1]['data-aria-controls']}")
    assert reveal is not None and "govuk-radios__conditional" in reveal["class"]
    assert "govuk-radios__conditional--hidden" in reveal["class"]
    assert reveal.select_one("textarea[name=assess_decision_reasons]") is not None
    assert page.select_one("[data-module=govuk-radios]") is not None
    label = page.select_one("label[for=field-assess_decision_reasons]")
    assert text_of(label) == "Reasons (these go in the notice to the family)"  # no "(optional)"
    # Chosen (sent back with an error): shown, with its message in place.
    chosen = draw(template_app, form("needs_assessment_decide_assess.json"), {"assess_decision": ["not_assess"]},
                  {"assess_decision_reasons": "Enter the reasons"})
    reveal = chosen.select_one("#" + chosen.select("input[name=assess_decision]")[1]["data-aria-controls"])
    assert "govuk-radios__conditional--hidden" not in reveal["class"]
    assert "Enter the reasons" in text_of(reveal)


def test_a_follow_up_of_a_follow_up_is_nested_twice(template_app: Flask) -> None:
    page = draw(template_app, form("dr_adviser_contact.json"))
    outer = page.select_one("#" + page.select_one("input[name=wants_mediation][value=yes]")["data-aria-controls"])
    inner_radio = outer.select_one("input[name=health_issues][value=yes]")
    assert inner_radio is not None
    inner = outer.select_one("#" + inner_radio["data-aria-controls"])
    assert inner.select_one("[name=health_provision_sought]") is not None
    # A yes/no question with a follow-up is stacked, not inline (GOV.UK: no conditional reveal on inline radios).
    assert "govuk-radios--inline" not in page.select_one("input[name=wants_mediation]").find_parent(
        class_="govuk-radios")["class"]


@pytest.mark.parametrize("path", PROJECT_FORMS, ids=lambda p: p.name)
def test_every_revealed_follow_up_of_every_form_is_inside_its_answer(path: Path, template_app: Flask) -> None:
    schema = json.loads(path.read_text())
    page = draw(template_app, schema)
    for name, reveal in reveals(schema).items():
        option = "true" if schema["properties"][reveal.question].get("x-widget") == "checkbox" else reveal.option
        question = page.select_one(f"input[name='{reveal.question}'][value='{option}']")
        assert question is not None, f"{path.name}: no answer {option} of {reveal.question}"
        box = page.select_one("#" + question["data-aria-controls"])
        assert box.select_one(f"[name='{name}'], [name^='{name}-'], [name^='{name}.']") is not None, \
            f"{path.name}: {name} is not inside {reveal.question} = {option}"
        # Drawn there only, never a second time outside it.
        named = f"[name='{name}'], [name='{name}-day'], [name^='{name}.'], [name^='{name}[']"
        assert len(page.select(named)) == len(box.select(named)), f"{path.name}: {name} is drawn twice"


def test_answers_to_follow_ups_that_were_not_asked_for_are_dropped() -> None:
    schema = form("needs_assessment_decide_assess.json")
    typed_then_hidden = from_raw(schema, {"assess_decision": ["assess"], "assess_decision_reasons": ["Because"]})
    assert typed_then_hidden.data == {"assess_decision": "assess"}
    kept = from_raw(schema, {"assess_decision": ["not_assess"], "assess_decision_reasons": ["Because"]})
    assert kept.data == {"assess_decision": "not_assess", "assess_decision_reasons": "Because"}
    # A date the family never saw cannot stop the form: its error goes with it.
    schema = form("needs_assessment_register.json")
    hidden = from_raw(schema, {"assessed_in_last_six_months": ["no"], "previous_assessment_on-day": ["31"],
                               "previous_assessment_on-month": ["2"], "previous_assessment_on-year": ["2026"]})
    assert "previous_assessment_on" not in hidden.data and "previous_assessment_on" not in hidden.errors


# ---- on a real task page -------------------------------------------------------------------------------------------

@pytest.fixture
def reveal_route(engine: WorkflowEngine, world: World) -> int:
    """A route with two of the project's own forms: "Decide whether to assess" for the caseworker and "Comment on
    the draft plan" for the family."""
    deploy_files(engine, [DATA / "reveal_route.bpmn"], FORMS)
    return engine.start(world.case_id, "reveal_route")


def test_the_decision_page_reveals_the_reasons_and_requires_them_only_for_a_no(
        as_user: Any, world: World, services: Services, reveal_route: int) -> None:
    task = open_task(services, world.case_id, "UT_decide_assess")
    client = as_user("caseworker")
    page = client.page(f"/tasks/{task.id}")
    no = page.select_one("input[name=assess_decision][value=not_assess]")
    assert page.select_one("#" + no["data-aria-controls"]).select_one("textarea[name=assess_decision_reasons]")
    # "No" without reasons: the rule's own message, and the reasons shown open.
    refused = soup(client.post(f"/tasks/{task.id}", {"_action": "submit", "assess_decision": "not_assess"},
                               status=200))
    assert "Enter the reasons for the decision not to assess" in text_of(refused.select_one(".govuk-error-summary"))
    box = refused.select_one("#" + refused.select_one("input[value=not_assess]")["data-aria-controls"])
    assert "govuk-radios__conditional--hidden" not in box["class"]
    # "Yes" with reasons typed and then hidden: accepted, and the reasons are not sent on.
    client.post(f"/tasks/{task.id}", {"_action": "submit", "assess_decision": "assess",
                                      "assess_decision_reasons": "Typed, then changed my mind"}, status=302)
    with services.session_factory() as s:
        done = s.get(HumanTask, task.id)
        assert done is not None and done.status == "completed"
        assert done.submitted_data == {"assess_decision": "assess"}
