"""The posted form as "raw values": keeping only the names that belong to the form, adding and removing items.

The posted form is kept as "raw values" (field name -> list of strings, exactly what the browser sent), so a page
drawn again after an error, an "add another" or a saved draft shows everything as typed, even a date that is not a
real date. Field names are the paths the engine's validator uses in its error keys (``section_b.needs[0].description``)
so that its messages land next to the right field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from webui.forms.fields import COUNT_PREFIX, kind_of
from webui.numbers import whole_number

RawValues = dict[str, list[str]]


def first_value(raw: RawValues, name: str) -> str:
    values = raw.get(name) or [""]
    return values[0] if values else ""


def item_count(raw: RawValues, path: str) -> int:
    """How many items a repeating group has: its count field, else the highest index posted, else 1."""
    explicit = raw.get(COUNT_PREFIX + path)
    count = whole_number(explicit[0]) if explicit else None
    if count is not None:
        return min(count, 200)
    pattern = re.compile(re.escape(path) + r"\[(\d+)\]")
    indices = [int(m.group(1)) for key in raw for m in [pattern.match(key.removeprefix(COUNT_PREFIX))] if m]
    return min(max(indices) + 1, 200) if indices else 1


def schema_at(schema: dict[str, Any], path: str) -> dict[str, Any] | None:
    current: dict[str, Any] | None = schema
    for name, index in re.findall(r"([^.\[\]]+)(?:\[(\d+)\])?", path):
        if current is None:
            return None
        props = current.get("properties") or {}
        current = props.get(name) if isinstance(props.get(name), dict) else None
        if current is not None and index:
            if current.get("type") != "array":
                return None
            current = current.get("items") if isinstance(current.get("items"), dict) else None
    return current


def is_known_name(schema: dict[str, Any], name: str) -> bool:
    """Whether a posted name belongs to this form (anything else is dropped before it is kept in a draft)."""
    if name.startswith(COUNT_PREFIX):
        sub = schema_at(schema, name[len(COUNT_PREFIX):])
        return sub is not None and kind_of(sub) == "repeat"
    base = re.sub(r"-(day|month|year)$", "", name)
    sub = schema_at(schema, base)
    if sub is None:
        return False
    if base != name:
        return kind_of(sub) == "date"
    return kind_of(sub) not in ("group", "repeat")


def clean_raw(schema: dict[str, Any], posted: Iterable[tuple[str, list[str]]]) -> RawValues:
    return {name: [v[:20000] for v in values][:100] for name, values in posted if is_known_name(schema, name)}


def add_item(raw: RawValues, path: str) -> tuple[RawValues, int]:
    """Adds an empty item to a repeating group; returns the raw values and the new item's index."""
    count = item_count(raw, path)
    out = dict(raw)
    out[COUNT_PREFIX + path] = [str(count + 1)]
    return out, count


def remove_item(raw: RawValues, path: str, index: int) -> RawValues:
    """Removes one item of a repeating group and renumbers the ones after it."""
    count = item_count(raw, path)
    pattern = re.compile(r"^(" + re.escape(COUNT_PREFIX) + r")?" + re.escape(path) + r"\[(\d+)\](.*)$", re.S)
    out: RawValues = {}
    for key, values in raw.items():
        match = pattern.match(key)
        if not match:
            out[key] = values
            continue
        number = int(match.group(2))
        if number == index:
            continue
        if number > index:
            key = f"{match.group(1) or ''}{path}[{number - 1}]{match.group(3)}"
        out[key] = values
    out[COUNT_PREFIX + path] = [str(max(count - 1, 0))]
    return out
