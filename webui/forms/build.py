"""Drawing a form: the fields of a schema with the raw values and the error messages in place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from webui.forms.errors import choice_wording, collect_errors
from webui.forms.fields import (
    FormField,
    Option,
    OptionsProvider,
    enum_options,
    field_title,
    has_choices,
    join,
    kind_of,
)
from webui.forms.raw_values import RawValues, first_value, item_count
from webui.forms.reveal import Reveal, reveals


@dataclass
class FormModel:
    fields: list[FormField]
    error_list: list[dict[str, str]]
    has_files: bool
    unplaced_errors: list[str]


def build_form(schema: dict[str, Any], raw: RawValues, errors: dict[str, str] | None = None,
               options: OptionsProvider | None = None, uploads: Callable[[str], Any] | None = None,
               focus: str | None = None) -> FormModel:
    """The fields to draw, with the raw values and the error messages in place."""
    errors = dict(errors or {})
    builder = _Builder(raw, errors, options, uploads, focus)
    fields = builder.object_fields(schema, "", 0)
    placed: list[dict[str, str]] = []
    collect_errors(fields, errors, placed, builder.used)
    unplaced = [message for key, message in errors.items() if key not in builder.used]
    first = fields[0].anchor if fields else "main-content"
    error_list = placed + [{"text": message, "href": "#" + first} for message in unplaced]
    return FormModel(fields, error_list, builder.has_files, unplaced)


class _Builder:
    def __init__(self, raw: RawValues, errors: dict[str, str], options: OptionsProvider | None,
                 uploads: Callable[[str], Any] | None, focus: str | None) -> None:
        self.raw = raw
        self.errors = errors
        self.options = options
        self.uploads = uploads
        self.focus = focus
        self.has_files = False
        self.used: set[str] = set()

    def object_fields(self, schema: dict[str, Any], prefix: str, depth: int) -> list[FormField]:
        required = set(schema.get("required") or [])
        conditional = conditionally_required(schema)
        # Follow-ups revealed by an answer (webui.forms.reveal) are drawn inside that answer, one level deeper.
        nested = reveals(schema)
        built: dict[str, FormField] = {}
        for name, sub in (schema.get("properties") or {}).items():
            if isinstance(sub, dict) and not sub.get("x-hidden"):
                f = self.field(sub, join(prefix, name), name in required, depth + _nesting(name, nested))
                f.conditional = name in conditional
                built[name] = f
        out = []
        for name, f in built.items():
            reveal = nested.get(name)
            question = built.get(reveal.question) if reveal is not None else None
            if reveal is not None and question is not None:
                option = "true" if question.kind == "checkbox" else reveal.option
                question.reveals.setdefault(option, []).append(f)
            else:
                out.append(f)
        return out

    def field(self, schema: dict[str, Any], path: str, required: bool, depth: int) -> FormField:
        kind = kind_of(schema)
        f = FormField(kind=kind, path=path, label=field_title(schema, path), hint=schema.get("description"),
                      required=required, schema=schema, depth=depth)
        error = self.errors.get(path)
        if error is not None:
            self.used.add(path)
            f.error = choice_wording(error, kind, schema)
        if kind == "group":
            f.children = self.object_fields(schema, path, depth + 1)
        elif kind == "repeat":
            item_schema = schema.get("items") or {}
            f.item_label = str(item_schema.get("title") or "Item")
            for index in range(item_count(self.raw, path)):
                item_fields = self.object_fields(item_schema, f"{path}[{index}]", depth + 1)
                if self.focus == f"{path}[{index}]" and item_fields:
                    item_fields[0].autofocus = True
                f.items.append(item_fields)
        elif kind == "date":
            f.date_parts = {p: first_value(self.raw, f"{path}-{p}") for p in ("day", "month", "year")}
        elif kind == "checkboxes":
            f.values = [v for v in self.raw.get(path, []) if v]
            f.options = self._options(schema.get("items") or {})
        elif kind in ("radios", "select"):
            f.value = first_value(self.raw, path)
            f.options = self._options(schema)
        elif kind == "yesno":
            f.value = first_value(self.raw, path)
            f.options = [Option("yes", "Yes"), Option("no", "No")]
        elif kind == "checkbox":
            f.value = "true" if first_value(self.raw, path) else ""
        elif kind == "file":
            self.has_files = True
            f.value = first_value(self.raw, path)
            f.upload = self.uploads(f.value) if (self.uploads and f.value) else None
        elif kind == "files":
            self.has_files = True
            f.values = [v for v in self.raw.get(path, []) if v]
            found = [self.uploads(v) for v in f.values] if self.uploads else []
            f.upload = [u for u in found if u is not None]
        else:
            f.value = first_value(self.raw, path)
        return f

    def _options(self, schema: dict[str, Any]) -> list[Option]:
        if has_choices(schema):
            return enum_options(schema)
        if schema.get("x-options") and self.options is not None:
            return self.options(str(schema["x-options"]), schema)
        return []


def conditionally_required(schema: dict[str, Any]) -> set[str]:
    """Fields an ``allOf`` ``if``/``then`` rule requires when another answer asks for them."""
    names: set[str] = set()
    for rule in schema.get("allOf") or []:
        if isinstance(rule, dict):
            for branch in ("then", "else"):
                names.update((rule.get(branch) or {}).get("required") or [])
    return names


def _nesting(name: str, nested: dict[str, Reveal]) -> int:
    """How many answers a follow-up sits inside (a follow-up of a follow-up is two)."""
    depth = 0
    while name in nested:
        depth += 1
        name = nested[name].question
    return depth
