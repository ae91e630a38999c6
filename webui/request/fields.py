"""A request page's questions as what its template draws: the value to show (as typed, or as saved), the date's three
boxes, the error, whether "(optional)" is said; and the posted answers read back as the strings ``check_page`` takes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from engine.intake.questions import Page, Question

DATE_PARTS = ("day", "month", "year")
# Browsers fill in the requester's own details; the child's are typed.
AUTOCOMPLETE = {"requester_name": "name", "requester_email": "email", "requester_phone": "tel",
                "child_postcode": "postal-code"}
WIDTHS = {"postcode": "govuk-input--width-10", "upn": "govuk-input--width-20", "phone": "govuk-input--width-20"}


@dataclass
class Field:
    question: Question
    value: str = ""
    parts: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    optional: bool = False
    details: Field | None = None  # the textarea shown under this radio question's "Yes" (``<name>_details``)

    @property
    def name(self) -> str:
        return self.question.name

    @property
    def href(self) -> str:
        """Where the error summary links: the first box of a date, the first radio, the field itself."""
        return f"#{self.name}-day" if self.question.kind == "date" else f"#{self.name}"

    @property
    def input_type(self) -> str:
        return {"email": "email", "phone": "tel"}.get(self.question.kind, "text")

    @property
    def autocomplete(self) -> str | None:
        return AUTOCOMPLETE.get(self.name)

    @property
    def width(self) -> str:
        return WIDTHS.get(self.question.kind, "")


def posted(page: Page, form: MultiDict[str, str]) -> tuple[dict[str, str], dict[str, dict[str, str]], dict[str, str]]:
    """The page's answers as strings (a date's boxes joined as "D M YYYY"), the date boxes as typed, and a message for
    a date with some boxes left empty (which ``check_page`` would only call "not a real date")."""
    raw: dict[str, str] = {}
    parts: dict[str, dict[str, str]] = {}
    errors: dict[str, str] = {}
    for q in page.questions:
        if q.kind != "date":
            raw[q.name] = form.get(q.name, "")
            continue
        typed = {p: " ".join(form.get(f"{q.name}-{p}", "").split()) for p in DATE_PARTS}
        parts[q.name] = typed
        missing = [p for p in DATE_PARTS if not typed[p]]
        raw[q.name] = "" if len(missing) == 3 else " ".join(typed[p] for p in DATE_PARTS)
        if 0 < len(missing) < 3:
            errors[q.name] = f"{q.label} must include a {' and '.join(missing)}"
    return raw, parts, errors


def saved_parts(value: str) -> dict[str, str]:
    """A saved date (ISO) as its three boxes."""
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", value or "")
    return {"day": str(int(m.group(3))), "month": str(int(m.group(2))), "year": m.group(1)} if m else \
        dict.fromkeys(DATE_PARTS, "")


def _optional(q: Question, requester_type: str | None) -> bool:
    if q.required:
        return False
    # Online, the requester's own views are needed (engine.intake.questions.check_page).
    return not ((q.name == "parent_views" and requester_type == "parent")
                or (q.name == "young_person_views" and requester_type == "young_person"))


def build(page: Page, values: dict[str, Any], parts: dict[str, dict[str, str]], errors: dict[str, str],
          requester_type: str | None) -> list[Field]:
    """The fields to draw, in order; a ``<name>_details`` question goes inside its radio question's "Yes"."""
    made: dict[str, Field] = {}
    for q in page.questions:
        value = str(values.get(q.name) or "")
        made[q.name] = Field(q, value, parts.get(q.name) or (saved_parts(value) if q.kind == "date" else {}),
                             errors.get(q.name), _optional(q, requester_type))
    if requester_type == "young_person" and "relationship_to_child" in made:
        made["relationship_to_child"].optional = True  # asking for yourself: there is no relationship to give
    out: list[Field] = []
    for name, f in made.items():
        parent = made.get(name.removesuffix("_details")) if name.endswith("_details") else None
        if parent is not None and parent.question.kind == "radios" and "yes" in parent.question.options:
            parent.details = f
            f.optional = False  # asked only when the answer is yes, and then needed
        else:
            out.append(f)
    return out


def error_list(fields: list[Field]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for f in fields:
        if f.error:
            out.append({"text": f.error, "href": f.href})
        if f.details is not None and f.details.error:
            out.append({"text": f.details.error, "href": f.details.href})
    return out
