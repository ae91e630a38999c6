"""Follow-up questions revealed by the answer they depend on, worked out from the form's own ``if``/``then`` rules.

A form says when a follow-up is required with an ``allOf`` rule such as::

    {"if": {"properties": {"assess_decision": {"const": "not_assess"}}, "required": ["assess_decision"]},
     "then": {"required": ["assess_decision_reasons"]}}

The server checks that rule (``engine.library.forms``); the page draws the same rule as a GOV.UK conditional reveal:
"reasons" sits inside the "Do not carry out an assessment" radio and is shown only when it is chosen (all follow-ups
show without JavaScript). There is no second list of conditions. A follow-up is nested only when exactly one rule asks
for it, on one answer of a radio, yes/no or single-checkbox question of the same object; any other follow-up stays where
it is, as before (not marked "(optional)"). Answers to a follow-up whose answer was not chosen are dropped on the
server (``drop_hidden``), as GOV.UK asks, so that text typed and then hidden is never sent on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from webui.forms.fields import choice_values, kind_of, scalar_text

# The components GOV.UK Frontend reveals follow-ups in, and the option value each draws for an answer.
REVEALING_KINDS = frozenset({"radios", "yesno", "checkbox"})


@dataclass(frozen=True)
class Reveal:
    """``follow_up`` is shown under the answer ``value`` (as the option's posted text) of ``question``."""

    question: str
    value: Any  # the typed answer, as the rule's ``const``
    follow_up: str

    @property
    def option(self) -> str:
        return scalar_text(self.value)


def _simple_rule(rule: Any) -> tuple[str, Any, list[str]] | None:
    """(question, answer, follow-ups) of a rule "if <question> is <answer> then <follow-ups> are required"."""
    if not isinstance(rule, dict) or not isinstance(rule.get("if"), dict) or not isinstance(rule.get("then"), dict):
        return None
    condition = rule["if"].get("properties")
    if not isinstance(condition, dict) or len(condition) != 1:
        return None
    ((question, test),) = condition.items()
    if not isinstance(test, dict) or set(test) != {"const"}:
        return None
    follow_ups = [name for name in rule["then"].get("required") or [] if isinstance(name, str)]
    return question, test["const"], follow_ups


def reveals(schema: dict[str, Any]) -> dict[str, Reveal]:
    """The follow-ups of an object schema that are revealed by another answer, by follow-up name."""
    properties = schema.get("properties") or {}
    always = set(schema.get("required") or [])
    asked_by: dict[str, list[tuple[str, Any]]] = {}
    for rule in schema.get("allOf") or []:
        simple = _simple_rule(rule)
        if simple is None:
            continue
        question, value, follow_ups = simple
        for name in follow_ups:
            asked_by.setdefault(name, []).append((question, value))
    out: dict[str, Reveal] = {}
    for name, askers in asked_by.items():
        if len(askers) != 1 or name in always or not _visible(properties.get(name)):
            continue
        question, value = askers[0]
        sub = properties.get(question)
        if question == name or not _visible(sub) or not _offers(sub, value):
            continue
        out[name] = Reveal(question, value, name)
    # A follow-up that reveals its own question (through others) would never show: leave such a loop alone.
    for name in list(out):
        seen, at = {name}, out[name].question
        while at in out:
            if at in seen:
                out.pop(name, None)
                break
            seen.add(at)
            at = out[at].question
    return out


def _visible(sub: Any) -> bool:
    return isinstance(sub, dict) and not sub.get("x-hidden")


def _offers(sub: dict[str, Any], value: Any) -> bool:
    """Whether the question is drawn as choices that include the rule's answer."""
    kind = kind_of(sub)
    if kind not in REVEALING_KINDS:
        return False
    if kind == "checkbox":
        return value is True
    if kind == "yesno":
        return isinstance(value, bool)
    return any(v == value and type(v) is type(value) for v, _ in choice_values(sub))


def drop_hidden(schema: dict[str, Any], data: dict[str, Any], errors: dict[str, str], prefix: str = "") -> None:
    """Leaves out the answers to follow-ups whose answer was not chosen (and any error reading them)."""
    for name, reveal in reveals(schema).items():
        answer = data.get(reveal.question)
        if reveal.question not in data or answer != reveal.value or type(answer) is not type(reveal.value):
            data.pop(name, None)
            path = f"{prefix}.{name}" if prefix else name
            for key in [k for k in errors if k == path or k.startswith(path + ".") or k.startswith(path + "[")]:
                errors.pop(key)
