"""The family's forms in plain English (issue 17, point 7; GOV.UK content style): every form of a user task in a
Family lane, found from the routes themselves, asks in short sentences, says "you" and "we", asks yes/no questions
rather than "Tick this if...", and uses none of the staff's words."""

from __future__ import annotations

import json
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest

ROOT = Path(__file__).resolve().parents[2]
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
MAX_WORDS = 25  # GOV.UK: sentences of no more than 25 words
STAFF_WORDS = ("tick this", "representations", "regulation", "s39", "section 39", "finalised", "the local authority's",
               "caseworker", "route")


def family_forms() -> list[str]:
    names: set[str] = set()
    for path in sorted((ROOT / "workflows").glob("*.bpmn")):
        root = ElementTree.parse(path).getroot()
        family = {ref.text for lane in root.iter(f"{BPMN}lane") if "family" in (lane.get("name") or "").lower()
                  for ref in lane.findall(f"{BPMN}flowNodeRef")}
        for task in root.iter(f"{BPMN}userTask"):
            for prop in task.iter():
                if prop.tag.endswith("property") and prop.get("name") == "formJsonSchemaFilename" \
                        and task.get("id") in family:
                    names.add(str(prop.get("value")))
    return sorted(names)


def texts(schema: dict[str, object]) -> list[str]:
    """Every sentence a parent reads on the form: titles, hints, choices and messages."""
    out: list[str] = []
    for key in ("title", "description", "x-error"):
        if isinstance(schema.get(key), str):
            out.append(str(schema[key]))
    for title in schema.get("x-enum-titles") or []:  # type: ignore[union-attr]
        out.append(str(title))
    for choice in schema.get("oneOf") or []:  # type: ignore[union-attr]
        if isinstance(choice, dict) and choice.get("title"):
            out.append(str(choice["title"]))
    for sub in (schema.get("properties") or {}).values():  # type: ignore[union-attr]
        if isinstance(sub, dict):
            out.extend(texts(sub))
    return out


def test_the_family_forms_are_found_from_the_routes() -> None:
    assert {"pd_family_response.json", "am_family_response.json", "needs_assessment_family_views.json"} <= set(
        family_forms())


@pytest.mark.parametrize("name", family_forms())
def test_each_family_form_is_in_plain_english(name: str) -> None:
    schema = json.loads((ROOT / "forms" / name).read_text())
    for text in texts(schema):
        for sentence in re.split(r"(?<=[.?!])\s+", text):
            assert len(sentence.split()) <= MAX_WORDS, f"{name}: {sentence!r} is too long"
        for word in STAFF_WORDS:
            assert word not in text.lower(), f"{name}: {text!r} uses {word!r}"
    # Speaks to the parent.
    assert re.search(r"\b(you|your)\b", str(schema.get("description") or "") + " ".join(texts(schema)), re.I)
    # A yes/no question is a question, not a statement to tick.
    for prop in (schema.get("properties") or {}).values():
        if prop.get("type") == "boolean" and prop.get("x-widget") != "checkbox":
            assert str(prop.get("title", "")).endswith("?"), f"{name}: {prop.get('title')!r} is not a question"
