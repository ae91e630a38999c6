"""The form builder on its own: schema -> fields, posted strings -> typed answers, and every form of the project."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask, render_template_string

from engine.errors import FormInvalid
from engine.library.forms import validate_form
from webui.forms.build import build_form
from webui.forms.conversion import from_raw, to_raw
from webui.forms.fields import kind_of
from webui.forms.raw_values import add_item, clean_raw, item_count, remove_item
from webui.forms.summary import summarise
from webui.sanitize import clean_html

ROOT = Path(__file__).resolve().parents[2]
PROJECT_FORMS = sorted((ROOT / "forms").glob("*.json"))
TEST_FORMS = sorted((Path(__file__).parent / "data" / "forms").glob("*.json"))


@pytest.mark.parametrize(("schema", "kind"), [
    ({"type": "string"}, "text"),
    ({"type": "string", "maxLength": 4000}, "textarea"),
    ({"type": "string", "maxLength": 4000, "x-widget": "input"}, "text"),
    ({"type": "string", "x-widget": "textarea"}, "textarea"),
    ({"type": "string", "enum": ["a"]}, "radios"),
    ({"type": "string", "enum": ["a"], "x-widget": "select"}, "select"),
    ({"type": "string", "format": "date"}, "date"),
    ({"type": "string", "x-widget": "file"}, "file"),
    ({"type": "boolean"}, "yesno"),
    ({"type": "boolean", "x-widget": "checkbox"}, "checkbox"),
    ({"type": "integer"}, "integer"),
    ({"type": "number"}, "number"),
    ({"type": "integer", "x-options": "settings_directory"}, "select"),
    ({"type": "array", "items": {"type": "string", "enum": ["a"]}}, "checkboxes"),
    ({"type": "array", "items": {"type": "string"}}, "list"),
    ({"type": "array", "items": {"type": "string"}, "x-widget": "file"}, "files"),
    ({"type": "array", "items": {"type": "string"}, "x-widget": "checkboxes"}, "checkboxes"),
    ({"type": "array", "items": {"type": "string", "oneOf": [{"const": "a", "title": "A"}]}}, "checkboxes"),
    ({"type": "string", "oneOf": [{"const": "a", "title": "A"}], "x-widget": "radios"}, "radios"),
    ({"type": "string", "x-widget": "date"}, "date"),
    ({"type": "boolean", "const": True}, "checkbox"),
    ({"type": "array", "items": {"type": "object", "properties": {}}}, "repeat"),
    ({"type": "object", "properties": {}}, "group"),
])
def test_each_schema_has_its_component(schema: dict[str, Any], kind: str) -> None:
    assert kind_of(schema) == kind


def test_posted_strings_become_the_schemas_types() -> None:
    schema = {"type": "object", "properties": {
        "n": {"type": "integer"}, "x": {"type": "number"}, "b": {"type": "boolean"},
        "c": {"type": "boolean", "x-widget": "checkbox"}, "d": {"type": "string", "format": "date"},
        "e": {"type": "integer", "enum": [1, 2]}, "tags": {"type": "array", "items": {"type": "string"}},
        "blank": {"type": "string"}, "g": {"type": "object", "properties": {"inner": {"type": "string"}}},
    }}
    raw = {"n": ["12"], "x": ["1,234.5"], "b": ["yes"], "d-day": ["9"], "d-month": ["11"], "d-year": ["2026"],
           "e": ["2"], "tags": ["a, b ,, c"], "blank": ["   "], "g.inner": [" text "]}
    converted = from_raw(schema, raw)
    assert converted.errors == {}
    assert converted.data == {"n": 12, "x": 1234.5, "b": True, "c": False, "d": "2026-11-09", "e": 2,
                              "tags": ["a", "b", "c"], "g": {"inner": "text"}}
    # And back: what is drawn for a submission.
    back = to_raw(schema, converted.data)
    assert back["d-day"] == ["9"] and back["b"] == ["yes"] and back["x"] == ["1234.5"] and back["tags"] == ["a, b, c"]


@pytest.mark.parametrize(("raw", "message"), [
    ({"d-day": ["1"], "d-year": ["2026"]}, "Date must include a month"),
    ({"d-day": ["1"]}, "Date must include a month and a year"),
    ({"d-day": ["30"], "d-month": ["2"], "d-year": ["2026"]}, "Date must be a real date"),
    ({"d-day": ["1"], "d-month": ["2"], "d-year": ["26"]}, "Year must include 4 numbers"),
    ({"d-day": ["one"], "d-month": ["2"], "d-year": ["2026"]}, "Date must be a real date"),
])
def test_date_errors_use_govuk_wording(raw: dict[str, list[str]], message: str) -> None:
    schema = {"type": "object", "properties": {"d": {"type": "string", "format": "date", "title": "Date"}}}
    assert from_raw(schema, raw).errors == {"d": message}


def test_repeating_groups_add_remove_and_drop_blank_items() -> None:
    schema = {"type": "object", "properties": {"people": {"type": "array", "items": {
        "type": "object", "title": "Person", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}}}}}
    raw: dict[str, list[str]] = {"people[0].name": ["Ann"]}
    assert item_count(raw, "people") == 1
    raw, index = add_item(raw, "people")
    assert index == 1 and item_count(raw, "people") == 2
    raw["people[1].name"] = ["Bob"]
    raw, _ = add_item(raw, "people")
    raw["people[2].name"] = ["Cat"]
    raw["people[2].age"] = ["7"]
    raw = remove_item(raw, "people", 1)
    assert from_raw(schema, raw).data == {"people": [{"name": "Ann"}, {"name": "Cat", "age": 7}]}
    raw, _ = add_item(raw, "people")  # left blank
    assert from_raw(schema, raw).data == {"people": [{"name": "Ann"}, {"name": "Cat", "age": 7}]}
    form = build_form(schema, raw)
    assert [[f.path for f in item] for item in form.fields[0].items][1] == ["people[1].name", "people[1].age"]


def test_only_the_forms_own_names_are_kept() -> None:
    schema = json.loads((Path(__file__).parent / "data" / "forms" / "web_record.json").read_text())
    posted = [("concern", ["x"]), ("received_on-day", ["1"]), ("contacts[3].name", ["a"]), ("_count:contacts", ["4"]),
              ("contacts", ["x"]), ("typename", ["x"]), ("concern-day", ["1"]), ("csrf_token", ["t"]),
              ("_action", ["submit"]), ("contacts[0].nope", ["x"])]
    assert set(clean_raw(schema, posted)) == {"concern", "received_on-day", "contacts[3].name", "_count:contacts"}


def test_engine_errors_land_next_to_their_fields() -> None:
    schema = json.loads((ROOT / "forms" / "pd_draft_plan.json").read_text())
    try:
        validate_form(schema, {"section_b": {"needs": [{"area": "cognition_and_learning"}]}})
    except FormInvalid as exc:
        errors = exc.errors
    form = build_form(schema, to_raw(schema, {"section_b": {"needs": [{"area": "cognition_and_learning"}]}}), errors)
    hrefs = {e["href"] for e in form.error_list}
    assert "#field-section_b-needs-0-description" in hrefs
    assert form.unplaced_errors == []


@pytest.fixture(scope="module")
def template_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """An app for drawing templates only (no database is touched)."""
    from engine.runtime.services import build
    from webui.app import create_app

    services = build("sqlite://")
    yield create_app({"TESTING": True, "SECRET_KEY": "x", "INSTANCE_PATH": tmp_path_factory.mktemp("i")},
                     services=services)
    services.db.dispose()


@pytest.mark.parametrize("path", PROJECT_FORMS + TEST_FORMS, ids=lambda p: p.name)
def test_every_form_of_the_project_draws_and_reports_every_error(path: Path, template_app: Flask) -> None:
    """Each form in forms/ renders with strict templates, empty and with every error the validator finds."""
    schema = json.loads(path.read_text())
    errors: dict[str, str] = {}
    try:
        validate_form(schema, from_raw(schema, {}).data)
    except FormInvalid as exc:
        errors = exc.errors
    form = build_form(schema, to_raw(schema, {}), errors, options=lambda name, s: [])
    assert form.unplaced_errors == [], f"{path.name}: errors with no field: {form.unplaced_errors}"
    with template_app.test_request_context():
        html = render_template_string(
            '{% from "tasks/_fields.html" import render_fields %}{{ render_fields(fields, 1) }}', fields=form.fields)
    shown = " ".join(BeautifulSoup(html, "html.parser").get_text(" ").split())
    for error in form.error_list:
        assert error["text"] in shown, f"{path.name}: {error['text']!r} is not next to its field"
        assert f'id="{error["href"][1:]}"' in html, f"{path.name}: {error['href']} does not exist"


def test_the_plan_form_round_trips_a_real_draft() -> None:
    from tests.workflows.test_plan_drafting import DRAFT  # the route's own example (sections C, D, G, H left blank)

    schema = json.loads((ROOT / "forms" / "pd_draft_plan.json").read_text())
    converted = from_raw(schema, to_raw(schema, DRAFT, use_defaults=False))
    assert converted.errors == {}
    assert converted.data == DRAFT


def test_answers_read_back_as_a_summary() -> None:
    schema = json.loads((Path(__file__).parent / "data" / "forms" / "web_record.json").read_text())
    rows = summarise(schema, {"request_from": "school", "urgent": True, "received_on": "2026-03-02",
                              "contacts": [{"name": "Ann"}], "evidence": "abc"})
    assert [(r.label, r.text, r.depth) for r in rows] == [
        ("Date the request was received", "2 March 2026", 0), ("Who made the request", "The school or college", 0),
        ("Is the request urgent?", "Yes", 0), ("Contact 1", "", 0), ("Name", "Ann", 1),
        ("The request letter", "1 file uploaded", 0)]


@pytest.mark.parametrize(("html", "expected"), [
    ("<p onclick='x()'>Hi</p>", "<p>Hi</p>"),
    ("<script>alert(1)</script><p>ok</p>", "<p>ok</p>"),
    ("<style>p{}</style><b>b</b>", "<b>b</b>"),
    ('<a href="javascript:alert(1)">x</a>', '<a rel="noopener noreferrer">x</a>'),
    ('<a href=" JaVaScRiPt:alert(1)">x</a>', '<a rel="noopener noreferrer">x</a>'),
    ('<a href="https://gov.uk/x">x</a>', '<a href="https://gov.uk/x" rel="noopener noreferrer">x</a>'),
    ("<img src=x onerror=alert(1)>text", "text"),
    ("<iframe src='//evil'></iframe><table><tr><td colspan=2>a</td></tr></table>",
     '<table><tr><td colspan="2">a</td></tr></table>'),
    ("<p>1 &lt; 2 &amp; &quot;x&quot;</p>", "<p>1 &lt; 2 &amp; \"x\"</p>"),
    ("<div><p>unclosed", "<div><p>unclosed</p></div>"),
    ("<svg><script>alert(1)</script></svg><p>after</p>", "<p>after</p>"),
])
def test_document_html_is_cleaned(html: str, expected: str) -> None:
    assert str(clean_html(html)) == expected
