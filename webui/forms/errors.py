"""Error messages on a drawn form: GOV.UK wording for choices, and the error summary's links to the fields."""

from __future__ import annotations

from typing import Any

from webui.forms.fields import FormField

CHOICE_KINDS = frozenset({"radios", "select", "yesno", "checkboxes"})


def choice_wording(message: str, kind: str, schema: dict[str, Any]) -> str:
    """GOV.UK asks people to "Select" an option and to "Enter" text (a form's own x-error is used as it is)."""
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
        for item in f.items:
            collect_errors(item, errors, out, used)
