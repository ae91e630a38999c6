"""Task forms from their JSON Schema: the fields to draw, and the answers posted turned back into typed data.

The posted form is kept as "raw values" (field name -> list of strings, exactly what the browser sent), so a page
drawn again after an error, an "add another" or a saved draft shows everything as typed, even a date that is not a
real date. Field names are the paths the engine's validator uses in its error keys (``section_b.needs[0].description``)
so that its messages land next to the right field.

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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from webui.numbers import whole_number

RawValues = dict[str, list[str]]
OptionsProvider = Callable[[str, dict[str, Any]], list["Option"]]

COUNT_PREFIX = "_count:"
CHOICE_KINDS = frozenset({"radios", "select", "yesno", "checkboxes"})
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

    @property
    def show_optional(self) -> bool:
        return not self.required and not self.conditional and self.kind not in ("checkbox", "group", "repeat")

    @property
    def id(self) -> str:
        return field_id(self.path)

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
    return [Option(_scalar_text(v), title or humanise(str(v))) for v, title in choice_values(schema)]


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


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
        raw[path] = [_scalar_text(v) for v in value] if isinstance(value, list) else []
    elif kind == "list":
        separator = "\n" if int((schema.get("items") or {}).get("maxLength") or 0) > 100 else ", "
        raw[path] = [separator.join(str(v) for v in value)] if isinstance(value, list) else []
    elif kind == "checkbox":
        if value is True:
            raw[path] = ["true"]
    elif kind == "yesno":
        raw[path] = ["yes" if value else "no"]
    else:
        raw[path] = [_scalar_text(value)]


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


def _first(raw: RawValues, name: str) -> str:
    values = raw.get(name) or [""]
    return values[0] if values else ""


def _title(schema: dict[str, Any], path: str) -> str:
    return str(schema.get("title") or humanise(path.rsplit(".", 1)[-1].split("[")[0]))


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
    return out


def item_count(raw: RawValues, path: str) -> int:
    """How many items a repeating group has: its count field, else the highest index posted, else 1."""
    explicit = raw.get(COUNT_PREFIX + path)
    count = whole_number(explicit[0]) if explicit else None
    if count is not None:
        return min(count, 200)
    pattern = re.compile(re.escape(path) + r"\[(\d+)\]")
    indices = [int(m.group(1)) for key in raw for m in [pattern.match(key.removeprefix(COUNT_PREFIX))] if m]
    return min(max(indices) + 1, 200) if indices else 1


def _value_from_raw(schema: dict[str, Any], raw: RawValues, path: str, errors: dict[str, str],
                    required: bool) -> tuple[bool, Any]:
    kind = kind_of(schema)
    title = _title(schema, path)
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
        text = _first(raw, path)
        parts = [p.strip() for p in re.split(r"[\n,]" if "\n" not in text else r"\n", text) if p.strip()]
        return (bool(parts) or required), parts
    if kind == "checkbox":
        return True, bool(raw.get(path)) and _first(raw, path) != ""
    text = _first(raw, path).strip()
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
    return True, _first(raw, path).replace("\r\n", "\n").strip()


def _has_answer(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_answer(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_answer(v) for v in value)
    return value not in (None, "", False)


def _typed_choice(schema: dict[str, Any], text: str) -> Any:
    for value, _ in choice_values(schema):
        if _scalar_text(value) == text:
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
    parts = {part: _first(raw, f"{path}-{part}").strip() for part in ("day", "month", "year")}
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


# ---- raw values: keeping only what belongs to the form; add and remove -------------------------------------------

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


# ---- drawing -------------------------------------------------------------------------------------------------------

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
    _collect(fields, errors, placed, builder.used)
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
        out = []
        for name, sub in (schema.get("properties") or {}).items():
            if isinstance(sub, dict) and not sub.get("x-hidden"):
                f = self.field(sub, join(prefix, name), name in required, depth)
                f.conditional = name in conditional
                out.append(f)
        return out

    def field(self, schema: dict[str, Any], path: str, required: bool, depth: int) -> FormField:
        kind = kind_of(schema)
        f = FormField(kind=kind, path=path, label=_title(schema, path), hint=schema.get("description"),
                      required=required, schema=schema, depth=depth)
        error = self.errors.get(path)
        if error is not None:
            self.used.add(path)
            f.error = _choice_wording(error, kind, schema)
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
            f.date_parts = {p: _first(self.raw, f"{path}-{p}") for p in ("day", "month", "year")}
        elif kind == "checkboxes":
            f.values = [v for v in self.raw.get(path, []) if v]
            f.options = self._options(schema.get("items") or {})
        elif kind in ("radios", "select"):
            f.value = _first(self.raw, path)
            f.options = self._options(schema)
        elif kind == "yesno":
            f.value = _first(self.raw, path)
            f.options = [Option("yes", "Yes"), Option("no", "No")]
        elif kind == "checkbox":
            f.value = "true" if _first(self.raw, path) else ""
        elif kind == "file":
            self.has_files = True
            f.value = _first(self.raw, path)
            f.upload = self.uploads(f.value) if (self.uploads and f.value) else None
        elif kind == "files":
            self.has_files = True
            f.values = [v for v in self.raw.get(path, []) if v]
            found = [self.uploads(v) for v in f.values] if self.uploads else []
            f.upload = [u for u in found if u is not None]
        else:
            f.value = _first(self.raw, path)
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


def _choice_wording(message: str, kind: str, schema: dict[str, Any]) -> str:
    """GOV.UK asks people to "Select" an option and to "Enter" text (a form's own x-error is used as it is)."""
    if schema.get("x-error") or not message.startswith("Enter "):
        return message
    if kind == "yesno":
        return "Select yes or no"
    if kind in CHOICE_KINDS:
        return "Select " + message[len("Enter "):]
    return message


def _collect(fields: list[FormField], errors: dict[str, str], out: list[dict[str, str]], used: set[str]) -> None:
    for f in fields:
        if f.error:
            out.append({"text": f.error, "href": "#" + f.anchor})
        _collect(f.children, errors, out, used)
        for item in f.items:
            _collect(item, errors, out, used)


# ---- reading a submission ------------------------------------------------------------------------------------------

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
        title = _title(sub, name)
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
        return ", ".join(labels.get(_scalar_text(v), str(v)) for v in value)
    return labels.get(_scalar_text(value), _scalar_text(value))
