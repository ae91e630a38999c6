"""Server-side validation of submitted task forms against their JSON Schema.

The web form is only a convenience: whatever arrives is checked here, field by field, before it reaches a workflow.
Unknown keys are refused (a form is a contract between the process owner and the process), and so is anything that
is not plain data (engine/library/plain_data.py: the key ``typename`` anywhere, which SpiffWorkflow's serializer
would take for one of its serialized objects, infinite numbers, lone surrogates, deep nesting), whatever the schema
allows: a field declared as an open object must not let a sender damage the instance.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from engine.errors import FormInvalid
from engine.library.plain_data import plain_data_problems


def _closed(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with additionalProperties false wherever an object schema does not say otherwise."""
    if not isinstance(schema, dict):
        return schema
    out = {key: value for key, value in schema.items()}
    if out.get("type") == "object" and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if isinstance(out.get("properties"), dict):
        out["properties"] = {name: _closed(sub) for name, sub in out["properties"].items()}
    if isinstance(out.get("items"), dict):
        out["items"] = _closed(out["items"])
    for key in ("allOf", "anyOf", "oneOf"):
        if isinstance(out.get(key), list):
            out[key] = [_closed(sub) for sub in out[key]]
    for key in ("if", "then", "else"):
        if isinstance(out.get(key), dict):
            # Conditional branches add rules to the same object; closing them would refuse the object's own fields.
            out[key] = {k: v for k, v in out[key].items()}
    return out


def _field_name(error: ValidationError) -> str:
    parts: list[str] = []
    for part in error.absolute_path:
        parts.append(f"[{part}]" if isinstance(part, int) else (f".{part}" if parts else str(part)))
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        parts.append(f".{missing}" if parts else missing)
    if error.validator == "additionalProperties":
        extra = error.message.split("'")[1] if "'" in error.message else ""
        parts.append(f".{extra}" if parts else extra)
    return "".join(parts) or "form"


def _label(schema: dict[str, Any], error: ValidationError) -> str:
    sub = error.schema if isinstance(error.schema, dict) else {}
    return str(sub.get("title") or schema.get("title") or "this field")


def _message(error: ValidationError) -> str:
    sub = error.schema if isinstance(error.schema, dict) else {}
    custom = sub.get("x-error") if isinstance(sub.get("x-error"), str) else None
    title = str(sub.get("title") or "this field").lower() if isinstance(sub, dict) else "this field"
    match error.validator:
        case "required":
            return "Enter or select an answer"
        case "additionalProperties":
            return "This field is not part of the form"
        case "type":
            return custom or f"Enter a valid value for {title}"
        case "enum" | "const":
            return custom or f"Select one of the options for {title}"
        case "format":
            if sub.get("format") == "date":
                return custom or f"Enter {title} as a real date"
            return custom or f"Enter {title} in the right format"
        case "minLength":
            return custom or f"Enter {title}"
        case "maxLength":
            return custom or f"{title.capitalize()} must be {sub.get('maxLength')} characters or fewer"
        case "minItems":
            return custom or f"Add at least {sub.get('minItems')} for {title}"
        case "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum":
            return custom or f"Enter a number in the allowed range for {title}"
        case _:
            return custom or f"Check {title}: {error.message}"


def validate_form(schema: dict[str, Any], data: Any) -> dict[str, Any]:
    """Returns the data if it satisfies the schema; otherwise raises FormInvalid with a message per field."""
    if not isinstance(data, dict):
        raise FormInvalid({"form": "The form must be a set of named answers"})
    # Checked first and alone: the schema validator walks the data recursively, and a value that is not plain data
    # is refused whatever the schema says.
    problems = plain_data_problems(data)
    if problems:
        raise FormInvalid({path or "form": message for path, message in problems.items()})
    errors: dict[str, str] = {}
    validator = Draft202012Validator(_closed(schema), format_checker=FormatChecker())
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        name = _field_name(error)
        # The required message is generic; prefer the field's own title when the schema has one.
        if error.validator == "required":
            props = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
            field_schema = props.get(name.rsplit(".", 1)[-1], {}) if isinstance(props, dict) else {}
            message = field_schema.get("x-error") or (
                f"Enter {str(field_schema['title']).lower()}" if field_schema.get("title") else "Enter or select an answer"
            )
        else:
            message = _message(error)
        errors.setdefault(name, message)
    if errors:
        raise FormInvalid(errors)
    return data
