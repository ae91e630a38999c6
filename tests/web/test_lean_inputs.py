"""The task form's written-out components (tasks/_inputs.html) give the markup govuk-frontend-jinja's macros give for
the same parameters, for every combination _fields.html passes: the same page for the person and their browser's
assistive technology, at a fraction of the CPU."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from flask import Flask
from markupsafe import Markup

MACROS = {"input": ("govukInput", "ehcInput", "input"), "textarea": ("govukTextarea", "ehcTextarea", "textarea"),
          "select": ("govukSelect", "ehcSelect", "select"),
          "date": ("govukDateInput", "ehcDateInput", "date-input"), "radios": ("govukRadios", "ehcRadios", "radios"),
          "checkboxes": ("govukCheckboxes", "ehcCheckboxes", "checkboxes")}

LABELS = [{"text": "Child's name & school", "classes": "govuk-label--s"}, {"text": "Note", "classes": ""}]
LEGENDS = [{"legend": {"text": "When did <it> start?", "classes": "govuk-fieldset__legend--s"}},
           {"legend": {"text": "Which", "classes": ""}}]
HINTS = [None, {"text": "Say <why> in a sentence"}]
ERRORS = [None, {"text": "Enter the child's \"first\" name"}]
FOCUS = [{}, {"autofocus": True}]


def _normal(html: str) -> str:
    """Whitespace between tags and runs of whitespace do not change what the page says (a textarea's own text is
    compared apart, exactly)."""
    return re.sub(r"\s+>", ">", re.sub(r"\s+", " ", re.sub(r">\s+<", "><", html))).strip()


def _same(app: Flask, kind: str, params: dict[str, Any]) -> None:
    govuk, ours, component = MACROS[kind]
    source = (f'{{% from "govuk_frontend_jinja/components/{component}/macro.html" import {govuk} %}}'
              f'{{% from "tasks/_inputs.html" import {ours} %}}{{{{ {govuk}(p) }}}}@@{{{{ {ours}(p) }}}}')
    with app.test_request_context():
        theirs, mine = app.jinja_env.from_string(source).render(p=params).split("@@")
    assert _normal(mine) == _normal(theirs), params
    inner = re.compile(r"<textarea[^>]*>(.*?)</textarea>", re.S)
    assert [m.group(1) for m in inner.finditer(mine)] == [m.group(1) for m in inner.finditer(theirs)]


@pytest.mark.parametrize(("value", "spellcheck", "inputmode", "classes"), [
    ("", None, None, ""), ("x<y & \"z\"", False, "numeric", "govuk-input--width-10"), (None, True, "decimal", ""),
    ("12", False, None, ""),
])
def test_text_input_is_govuk_input(app: Flask, value: Any, spellcheck: Any, inputmode: Any, classes: str) -> None:
    for label, hint, error, focus in itertools.product(LABELS, HINTS, ERRORS, FOCUS):
        params = {"id": "child.name", "name": "child.name", "value": value, "label": label, "hint": hint,
                  "errorMessage": error, "attributes": focus}
        params.update({k: v for k, v in (("spellcheck", spellcheck), ("inputmode", inputmode), ("classes", classes))
                       if v is not None})
        _same(app, "input", params)


@pytest.mark.parametrize(("value", "rows", "spellcheck"), [
    ("", 6, True), ("line one\nline <two>\n\n  indented", 4, None), ("one", 6, False),
])
def test_textarea_is_govuk_textarea(app: Flask, value: str, rows: int, spellcheck: Any) -> None:
    for label, hint, error, focus in itertools.product(LABELS, HINTS, ERRORS, FOCUS):
        params = {"id": "t", "name": "t", "value": value, "rows": rows, "label": label, "hint": hint,
                  "errorMessage": error, "attributes": focus}
        if spellcheck is not None:
            params["spellcheck"] = spellcheck
        _same(app, "textarea", params)


@pytest.mark.parametrize("chosen", [None, "", "2", "3"])
def test_select_is_govuk_select(app: Flask, chosen: str | None) -> None:
    options = [("1", "Oak Academy (academy, Someshire)"), ("2", "Elm & Ash <Special> School"), ("3", "Yew \"Free\"")]
    for label, hint, error, focus in itertools.product(LABELS, HINTS, ERRORS, FOCUS):
        items = [{"value": "", "text": "Choose one"}] + [
            {"value": value, "text": text, "selected": value == chosen} for value, text in options]
        _same(app, "select", {"id": "setting", "name": "setting", "items": items, "label": label, "hint": hint,
                              "errorMessage": error, "attributes": focus})


@pytest.mark.parametrize("parts", [("", "", ""), ("7", "<3", "2026"), (None, None, None)])
def test_date_input_is_govuk_date_input(app: Flask, parts: tuple[Any, Any, Any]) -> None:
    for fieldset, hint, error, focus in itertools.product(LEGENDS, HINTS, ERRORS, FOCUS):
        cls = " govuk-input--error" if error else ""
        items = [{"name": "day", "classes": "govuk-input--width-2" + cls, "value": parts[0], "attributes": focus},
                 {"name": "month", "classes": "govuk-input--width-2" + cls, "value": parts[1]},
                 {"name": "year", "classes": "govuk-input--width-4" + cls, "value": parts[2]}]
        _same(app, "date", {"id": "dob", "namePrefix": "child.dob", "fieldset": fieldset, "hint": hint,
                            "errorMessage": error, "items": items})


def _items(checked: int | None, reveal: int | None) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for n, (value, text) in enumerate([("yes", "Yes"), ("no", "No <not> now"), ("later", "Later & after")]):
        item: dict[str, Any] = {"value": value, "text": text, "checked": n == checked}
        if n == reveal:
            item["conditional"] = {"html": Markup('\n  <div class="govuk-form-group"><p>More</p></div>\n')}
        items.append(item)
    return items


@pytest.mark.parametrize(("checked", "reveal", "classes"), [
    (None, None, ""), (1, None, "govuk-radios--inline"), (0, 0, ""), (2, 0, ""),
])
def test_radios_are_govuk_radios(app: Flask, checked: int | None, reveal: int | None, classes: str) -> None:
    for fieldset, hint, error in itertools.product(LEGENDS, HINTS, ERRORS):
        _same(app, "radios", {"idPrefix": "q", "name": "q.answer", "items": _items(checked, reveal),
                              "classes": classes, "fieldset": fieldset, "hint": hint, "errorMessage": error})


@pytest.mark.parametrize(("checked", "reveal"), [(None, None), (1, None), (0, 0), (2, 1)])
def test_checkboxes_are_govuk_checkboxes(app: Flask, checked: int | None, reveal: int | None) -> None:
    for fieldset, hint, error in itertools.product(LEGENDS, HINTS, ERRORS):
        _same(app, "checkboxes", {"idPrefix": "c", "name": "c", "items": _items(checked, reveal),
                                  "fieldset": fieldset, "hint": hint, "errorMessage": error})


@pytest.mark.parametrize(("checked", "reveal"), [(None, None), (0, None), (0, 0), (None, 0)])
def test_one_checkbox_is_govuk_checkbox(app: Flask, checked: int | None, reveal: int | None) -> None:
    """The single checkbox (a yes/no ticked or not): no fieldset, the hint on the item, the error on the field."""
    for hint, error in itertools.product(HINTS, ERRORS):
        item = {**_items(checked, reveal)[0], "hint": hint}
        _same(app, "checkboxes", {"idPrefix": "agree", "name": "agree", "errorMessage": error, "items": [item]})


OLD_NAVIGATION = """{% from "govuk_frontend_jinja/components/service-navigation/macro.html" import govukServiceNavigation %}
{% set navigation_end %}{% include "components/account_links.html" %}{% endset %}
{{ govukServiceNavigation({'serviceName': config.SERVICE_NAME, 'serviceUrl': url_for('common.home'),
    'navigation': navigation_items, 'navigationLabel': 'Menu', 'slots': {'navigationEnd': navigation_end}}) }}"""


class _Person:
    def __init__(self, signed_in: bool) -> None:
        self.is_authenticated = signed_in
        self.name = "Sam <Caseworker> O'Neil"


@pytest.mark.parametrize("signed_in", [False, True])
@pytest.mark.parametrize("items", [
    [], [{"text": "Your cases", "href": "/family/", "active": True}],
    [{"text": "My tasks", "href": "/tasks/", "active": False}, {"text": "Cases & <more>", "href": "/cases/?a=1&b=2",
                                                                   "active": True},
     {"text": "New requests (3)", "href": "/intake/", "active": False}],
])
def test_service_navigation_is_govuk_service_navigation(app: Flask, signed_in: bool,
                                                        items: list[dict[str, Any]]) -> None:
    """The layout's written-out service navigation (components/service_navigation.html) against the GOV.UK macro
    with the same items and the account links in its navigationEnd slot, as the layout called it before."""
    ours = '{% include "components/service_navigation.html" %}'
    with app.test_request_context():
        context = {"navigation_items": items, "current_user": _Person(signed_in), "csrf_token": lambda: "tok"}
        theirs = app.jinja_env.from_string(OLD_NAVIGATION).render(**context)
        mine = app.jinja_env.from_string(ours).render(**context)
    assert _normal(mine) == _normal(theirs)


def test_skip_link_and_phase_banner_are_govuk_ones(app: Flask) -> None:
    """The layout's written-out skip link and phase banner (base.html) are what the GOV.UK macros give."""
    source = ('{% from "govuk_frontend_jinja/components/skip-link/macro.html" import govukSkipLink %}'
              '{% from "govuk_frontend_jinja/components/phase-banner/macro.html" import govukPhaseBanner %}'
              "{{ govukSkipLink({'href': '#main-content', 'text': 'Skip to main content'}) }}@@"
              "{{ govukPhaseBanner({'tag': {'text': 'Beta'}, 'html': 'This is a new service. Tell your SEND team if "
              "something does not work as you expect.'}) }}")
    with app.test_request_context():
        skip_link, phase_banner = app.jinja_env.from_string(source).render().split("@@")
    page = _normal(app.test_client().get("/cookies").get_data(as_text=True))
    assert _normal(skip_link) in page
    assert _normal(phase_banner) in page
