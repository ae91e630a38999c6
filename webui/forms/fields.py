"""A JSON Schema property as a form field: which GOV.UK component draws it, its id, label and choices.

How a schema becomes a component (UI hints are ``x-`` keys in the schema):

- ``string``: a text input; a textarea with ``x-widget: textarea`` or a ``maxLength`` over 500 (``x-widget: input``
  keeps an input).
- ``string`` with ``enum``: radios (``x-enum-titles`` for the labels); a select with ``x-widget: select``.
- ``string`` with ``format: date``: the GOV.UK date input (day, month, year), sent as ``YYYY-MM-DD``.
- ``string`` with ``x-widget: file``: a file upload (``x-accept``: extensions, ``x-max-bytes``); the answer is the
  stored file's token.
- ``boolean``: Yes/No radios; a single checkbox with ``x-widget: checkbox``.
- ``integer`` / ``number``: a numeric input.
- ``integer`` with ``x-options``: a select from a directory (``settings_directory``, ``local_authorities``).
- ``array`` of ``enum``: checkboxes.
- ``array`` of ``string``: one input, answers separated by commas (a textarea, one per line, for long items).
- ``array`` of ``object``: a repeating group with "Add another" and "Remove" buttons that work without JavaScript.
- ``object``: a group of fields under a heading.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

OptionsProvider = Callable[[str, dict[str, Any]], list["Option"]]

COUNT_PREFIX = "_count:"
LONG_TEXT = 500


@dataclass
class Option:
    value: str
    text: str


@dataclass
class FormField:
    kind: str
    path: str
    label: str
    hint: str | None
    required: bool
    schema: dict[str, Any]
    depth: int = 0
    options: list[Option] = field(default_factory=list)
    children: list[FormField] = field(default_factory=list)
    items: list[list[FormField]] = field(default_factory=list)
    item_label: str = "Item"
    value: str = ""
    values: list[str] = field(default_factory=list)
    date_parts: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    upload: Any = None  # webui.uploads.StoredUpload for a file field with a file
    autofocus: bool = False
    # Required only when another answer asks for it (an allOf/if/then rule): not marked "(optional)".
    conditional: bool = False
    # Follow-ups drawn inside an answer (option value -> fields), from the form's if/then rules (webui.forms.reveal).
    reveals: dict[str, list[FormField]] = field(default_factory=dict)

    @property
    def show_optional(self) -> bool:
        return not self.required and not self.conditional and self.kind not in ("checkbox", "group", "repeat")

    @property
    def id(self) -> str:
        return field_id(self.path)

    @property
    def select_items(self) -> list[dict[str, Any]]:
        """A select list's choices as the GOV.UK select takes them, with the answer chosen. Built here rather than in
        the template, item by item: a directory of settings can hold thousands."""
        chosen = self.value
        return [{"value": "", "text": "Choose one"}] + [
            {"value": o.value, "text": o.text, "selected": o.value == chosen} for o in self.options]

    @property
    def count_name(self) -> str:
        return COUNT_PREFIX + self.path

    @property
    def anchor(self) -> str:
        """Where the error summary links to: the first input of the field."""
        if self.kind == "date":
            return self.id + "-day"
        if self.kind in ("group", "repeat"):
            first = self.first_input()
            return first.anchor if first is not None else self.id
        return self.id

    def first_input(self) -> FormField | None:
        for child in self.children:
            return child if child.kind not in ("group", "repeat") else child.first_input()
        for item in self.items:
            for child in item:
                return child if child.kind not in ("group", "repeat") else child.first_input()
        return None

    @property
    def can_add(self) -> bool:
        """A repeating group may have another item unless it has its ``maxItems``."""
        limit = self.schema.get("maxItems")
        return not isinstance(limit, int) or len(self.items) < limit

    @property
    def is_long_list(self) -> bool:
        return int((self.schema.get("items") or {}).get("maxLength") or 0) > 100


def field_id(path: str) -> str:
    """An HTML id from a field path: ``a.b[0].c`` -> ``field-a-b-0-c``."""
    return "field-" + re.sub(r"[^A-Za-z0-9_-]+", "-", path.replace("]", "")).strip("-")


def join(parent: str, name: str) -> str:
    return f"{parent}.{name}" if parent else name


def has_choices(schema: dict[str, Any]) -> bool:
    """An ``enum``, or a ``oneOf``/``anyOf`` list of ``{"const": value, "title": label}``."""
    if "enum" in schema:
        return True
    for key in ("oneOf", "anyOf"):
        options = schema.get(key)
        if isinstance(options, list) and options and all(isinstance(o, dict) and "const" in o for o in options):
            return True
    return False


def kind_of(schema: dict[str, Any]) -> str:
    widget = schema.get("x-widget")
    kind = schema.get("type")
    if widget == "file":
        return "files" if kind == "array" else "file"
    if kind == "object":
        return "group"
    if kind == "array":
        items = schema.get("items") or {}
        if items.get("type") == "object":
            return "repeat"
        if widget == "checkboxes" or has_choices(items) or items.get("x-options"):
            return "checkboxes"
        return "list"
    if kind == "boolean":
        # A box to tick when it must be ticked ("I have checked every section": const true), or when asked for.
        return "checkbox" if widget == "checkbox" or schema.get("const") is True else "yesno"
    if has_choices(schema):
        return "select" if widget == "select" else "radios"
    if schema.get("x-options"):
        return "radios" if widget == "radios" else "select"
    if kind in ("integer", "number"):
        return str(kind)
    if kind == "string" and (schema.get("format") == "date" or widget == "date"):
        return "date"
    if widget == "textarea" or (widget != "input" and int(schema.get("maxLength") or 0) > LONG_TEXT):
        return "textarea"
    return "text"


def humanise(name: str) -> str:
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def choice_values(schema: dict[str, Any]) -> list[tuple[Any, str | None]]:
    """(value, label or None) for each choice of an ``enum`` or a ``oneOf``/``anyOf`` of consts."""
    if "enum" in schema:
        titles = schema.get("x-enum-titles") or []
        return [(v, str(titles[i]) if i < len(titles) else None) for i, v in enumerate(schema.get("enum") or [])]
    for key in ("oneOf", "anyOf"):
        options = schema.get(key)
        if isinstance(options, list) and options and all(isinstance(o, dict) and "const" in o for o in options):
            return [(o["const"], str(o["title"]) if o.get("title") else None) for o in options]
    return []


def enum_options(schema: dict[str, Any]) -> list[Option]:
    return [Option(scalar_text(v), title or humanise(str(v))) for v, title in choice_values(schema)]


def scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def field_title(schema: dict[str, Any], path: str) -> str:
    return str(schema.get("title") or humanise(path.rsplit(".", 1)[-1].split("[")[0]))
