"""Error messages on a drawn form: GOV.UK wording for choices, and the error summary's links to the fields."""

from __future__ import annotations

from typing import Any

from webui.forms.fields import FormField

CHOICE_KINDS = frozenset({"radios", "select", "yesno", "checkboxes"})
GENERIC_REQUIRED = "Enter or select an answer"  # engine.library.forms, for a field it cannot name


def choice_wording(message: str, kind: str, schema: dict[str, Any]) -> str:
    """GOV.UK asks people to "Select" an option and to "Enter" text (a form's own x-error is used as it is)."""
    if message == GENERIC_REQUIRED:
        # A follow-up required by an if/then rule: the validator sees the rule, not the field, so the field's own
        # wording is found here.
        if isinstance(schema.get("x-error"), str):
            return str(schema["x-error"])
        if schema.get("title"):
            message = f"Enter {str(schema['title']).lower()}"
    if schema.get("x-error") or not message.startswith("Enter "):
        return message
    if kind == "yesno":
        return "Select yes or no"
    if kind in CHOICE_KINDS:
        return "Select " + message[len("Enter "):]
    return message


def collect_errors(fields: list[FormField], errors: dict[str, str], out: list[dict[str, str]], used: set[str]) -> None:
    for f in fields:
        if f.error:
            out.append({"text": f.error, "href": "#" + f.anchor})
        collect_errors(f.children, errors, out, used)
        for revealed in f.reveals.values():
            collect_errors(revealed, errors, out, used)
        for item in f.items:
            collect_errors(item, errors, out, used)
