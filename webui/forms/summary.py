"""Reading a submitted form back as label and answer rows (for a completed task)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from webui.forms.fields import OptionsProvider, enum_options, field_title, has_choices, kind_of, scalar_text


@dataclass
class SummaryRow:
    label: str
    text: str
    depth: int
    file_tokens: list[str] = field(default_factory=list)


def summarise(schema: dict[str, Any], data: dict[str, Any] | None, options: OptionsProvider | None = None,
              depth: int = 0) -> list[SummaryRow]:
    """The answers of a submitted form as label/text rows (for a completed task)."""
    rows: list[SummaryRow] = []
    for name, sub in (schema.get("properties") or {}).items():
        if not isinstance(sub, dict) or not isinstance(data, dict) or name not in data:
            continue
        value = data[name]
        kind = kind_of(sub)
        title = field_title(sub, name)
        if kind == "group":
            rows.append(SummaryRow(title, "", depth))
            rows.extend(summarise(sub, value if isinstance(value, dict) else {}, options, depth + 1))
        elif kind == "repeat":
            item_schema = sub.get("items") or {}
            for index, item in enumerate(value if isinstance(value, list) else [], start=1):
                rows.append(SummaryRow(f"{item_schema.get('title') or title} {index}", "", depth))
                rows.extend(summarise(item_schema, item if isinstance(item, dict) else {}, options, depth + 1))
        elif kind in ("file", "files"):
            tokens = [str(v) for v in value] if isinstance(value, list) else [str(value)]
            rows.append(SummaryRow(title, f"{len(tokens)} file{'s' if len(tokens) != 1 else ''} uploaded", depth,
                                   file_tokens=tokens))
        else:
            rows.append(SummaryRow(title, _answer_text(sub, value, kind, options), depth))
    return rows


def _answer_text(schema: dict[str, Any], value: Any, kind: str, options: OptionsProvider | None) -> str:
    if value is None:
        return ""
    if kind in ("yesno", "checkbox"):
        return "Yes" if value else "No"
    if kind == "date":
        try:
            day = date.fromisoformat(str(value))
            return f"{day.day} {day:%B %Y}"
        except ValueError:
            return str(value)
    choice_schema = schema.get("items") or {} if kind == "checkboxes" else schema
    labels = {o.value: o.text for o in enum_options(choice_schema)} if has_choices(choice_schema) else {}
    if not labels and choice_schema.get("x-options") and options is not None:
        labels = {o.value: o.text for o in options(str(choice_schema["x-options"]), choice_schema)}
    if isinstance(value, list):
        return ", ".join(labels.get(scalar_text(v), str(v)) for v in value)
    return labels.get(scalar_text(value), scalar_text(value))
