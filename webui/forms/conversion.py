"""Typed answers to raw values (to draw a submission or the defaults) and back (for the engine), with the answers
that could not be read."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from webui.forms.fields import COUNT_PREFIX, choice_values, field_title, join, kind_of, scalar_text
from webui.forms.raw_values import RawValues, first_value, item_count
from webui.forms.reveal import drop_hidden

# ---- typed data -> raw values ----------------------------------------------------------------------------------------

def to_raw(schema: dict[str, Any], data: dict[str, Any] | None, use_defaults: bool = True) -> RawValues:
    """The raw values that draw ``data`` (a submission, or the schema's defaults)."""
    raw: RawValues = {}
    _object_to_raw(schema, data or {}, "", raw, use_defaults)
    return raw


def _object_to_raw(schema: dict[str, Any], data: dict[str, Any], prefix: str, raw: RawValues,
                   use_defaults: bool) -> None:
    for name, sub in (schema.get("properties") or {}).items():
        if not isinstance(sub, dict):
            continue
        path = join(prefix, name)
        value = data.get(name) if isinstance(data, dict) else None
        if value is None and use_defaults and "default" in sub:
            value = sub["default"]
        _value_to_raw(sub, value, path, raw, use_defaults)


def _value_to_raw(schema: dict[str, Any], value: Any, path: str, raw: RawValues, use_defaults: bool) -> None:
    kind = kind_of(schema)
    if kind == "group":
        _object_to_raw(schema, value if isinstance(value, dict) else {}, path, raw, use_defaults)
        return
    if kind == "repeat":
        items = value if isinstance(value, list) else []
        if items:
            raw[COUNT_PREFIX + path] = [str(len(items))]
        for index, item in enumerate(items):
            _object_to_raw(schema.get("items") or {}, item if isinstance(item, dict) else {}, f"{path}[{index}]", raw,
                           use_defaults)
        return
    if value is None:
        return
    if kind == "date":
        try:
            day = date.fromisoformat(str(value))
        except ValueError:
            return
        raw[path + "-day"], raw[path + "-month"], raw[path + "-year"] = [str(day.day)], [str(day.month)], [str(day.year)]
    elif kind in ("checkboxes", "files"):
        raw[path] = [scalar_text(v) for v in value] if isinstance(value, list) else []
    elif kind == "list":
        separator = "\n" if int((schema.get("items") or {}).get("maxLength") or 0) > 100 else ", "
        raw[path] = [separator.join(str(v) for v in value)] if isinstance(value, list) else []
    elif kind == "checkbox":
        if value is True:
            raw[path] = ["true"]
    elif kind == "yesno":
        raw[path] = ["yes" if value else "no"]
    else:
        raw[path] = [scalar_text(value)]


# ---- raw values -> typed data ----------------------------------------------------------------------------------------

@dataclass
class Conversion:
    data: dict[str, Any]
    errors: dict[str, str]


def from_raw(schema: dict[str, Any], raw: RawValues) -> Conversion:
    """The typed answers for the engine, and the answers that could not be read (a date that is not a real date)."""
    errors: dict[str, str] = {}
    data = _object_from_raw(schema, raw, "", errors)
    return Conversion(data, errors)


def _object_from_raw(schema: dict[str, Any], raw: RawValues, prefix: str, errors: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    required = set(schema.get("required") or [])
    for name, sub in (schema.get("properties") or {}).items():
        if not isinstance(sub, dict):
            continue
        path = join(prefix, name)
        present, value = _value_from_raw(sub, raw, path, errors, name in required)
        if present:
            out[name] = value
    drop_hidden(schema, out, errors, prefix)  # answers to follow-ups whose answer was not chosen (GOV.UK)
    return out


def _value_from_raw(schema: dict[str, Any], raw: RawValues, path: str, errors: dict[str, str],
                    required: bool) -> tuple[bool, Any]:
    kind = kind_of(schema)
    title = field_title(schema, path)
    if kind == "group":
        # An optional group left blank is left out, so it can never overwrite answers given in another task.
        value = _object_from_raw(schema, raw, path, errors)
        return (_has_answer(value) or required), value
    if kind == "repeat":
        items = []
        for index in range(item_count(raw, path)):
            item = _object_from_raw(schema.get("items") or {}, raw, f"{path}[{index}]", errors)
            if _has_answer(item):
                items.append(item)
        return (bool(items) or required), items
    if kind == "date":
        return _date_from_raw(raw, path, title, errors)
    if kind == "files":
        tokens = [v for v in raw.get(path, []) if v]
        return (bool(tokens) or required), tokens
    if kind == "checkboxes":
        chosen = [v for v in raw.get(path, []) if v != ""]
        item_schema = schema.get("items") or {}
        return (bool(chosen) or required), [_typed_choice(item_schema, v) for v in chosen]
    if kind == "list":
        text = first_value(raw, path)
        parts = [p.strip() for p in re.split(r"[\n,]" if "\n" not in text else r"\n", text) if p.strip()]
        return (bool(parts) or required), parts
    if kind == "checkbox":
        return True, bool(raw.get(path)) and first_value(raw, path) != ""
    text = first_value(raw, path).strip()
    if text == "":
        return False, None
    if kind == "yesno":
        if text not in ("yes", "no"):
            errors[path] = f"Select yes or no for {title.lower()}"
            return False, None
        return True, text == "yes"
    if kind in ("integer", "number") or (kind in ("select", "radios") and schema.get("type") in ("integer", "number")):
        return _number_from_text(schema, text, path, title, errors)
    if kind in ("select", "radios"):
        return True, _typed_choice(schema, text)
    return True, first_value(raw, path).replace("\r\n", "\n").strip()


def _has_answer(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_answer(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_answer(v) for v in value)
    return value not in (None, "", False)


def _typed_choice(schema: dict[str, Any], text: str) -> Any:
    for value, _ in choice_values(schema):
        if scalar_text(value) == text:
            return value
    if schema.get("type") == "integer" and re.fullmatch(r"-?\d+", text):
        return int(text)
    return text


def _number_from_text(schema: dict[str, Any], text: str, path: str, title: str,
                      errors: dict[str, str]) -> tuple[bool, Any]:
    cleaned = text.replace(",", "").replace("£", "").strip()
    if schema.get("type") == "integer":
        if not re.fullmatch(r"-?\d+", cleaned):
            errors[path] = str(schema.get("x-error") or f"{title} must be a whole number")
            return False, None
        return True, int(cleaned)
    try:
        number = float(cleaned)
    except ValueError:
        errors[path] = str(schema.get("x-error") or f"{title} must be a number")
        return False, None
    if number != number or number in (float("inf"), float("-inf")):
        errors[path] = f"{title} must be a number"
        return False, None
    return True, number


def _date_from_raw(raw: RawValues, path: str, title: str, errors: dict[str, str]) -> tuple[bool, Any]:
    parts = {part: first_value(raw, f"{path}-{part}").strip() for part in ("day", "month", "year")}
    if not any(parts.values()):
        return False, None
    missing = [p for p in ("day", "month", "year") if not parts[p]]
    if missing:
        errors[path] = f"{title} must include a {' and a '.join(missing)}"
        return False, None
    if not all(re.fullmatch(r"\d{1,4}", v) for v in parts.values()):
        errors[path] = f"{title} must be a real date"
        return False, None
    if len(parts["year"]) != 4:
        errors[path] = "Year must include 4 numbers"
        return False, None
    try:
        value = date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
    except ValueError:
        errors[path] = f"{title} must be a real date"
        return False, None
    return True, value.isoformat()
