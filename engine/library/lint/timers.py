"""Timer events: each has an expression, literals are quoted, and their values are ISO 8601 that SpiffWorkflow reads."""

from __future__ import annotations

import ast
import re
from datetime import datetime

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.library.lint.document import Document, bpmn_tag, flow_element_id
from engine.library.lint.expressions import check_expression
from engine.library.lint.problems import Findings

# ISO 8601 pieces, for spotting a timer literal written without quotes (it would be read as a Python name or fail
# to parse, and only break when the timer is armed).
_ISO_DURATION = re.compile(r"P(?=\d|T\d)(\d+(?:[.,]\d+)?[YMWD])*(T(\d+(?:[.,]\d+)?[HMS])+)?\Z", re.IGNORECASE)
_ISO_DATE = re.compile(
    r"\d{4}-?\d{2}-?\d{2}([T ]\d{2}(:?\d{2}(:?\d{2}([.,]\d+)?)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?\Z", re.IGNORECASE
)
_ISO_REPEAT = re.compile(r"R\d*\Z", re.IGNORECASE)

_TIMER_TAGS = ("timeDate", "timeDuration", "timeCycle")


# ---- 7. timers -----------------------------------------------------------------------------------------------------
def check_timers(findings: Findings, doc: Document) -> None:
    for definition in doc.root.iter(bpmn_tag("timerEventDefinition")):
        event_id = flow_element_id(definition)
        for child in definition.iterchildren(*(bpmn_tag(tag) for tag in _TIMER_TAGS)):
            text = (child.text or "").strip()
            if not text:
                findings.add(doc.path, child.sourceline, event_id, "the timer has no expression")
                continue
            if _is_iso_literal(text):
                findings.add(doc.path, child.sourceline, event_id,
                             f'timer literal must be a quoted string, e.g. "{text}"')
                continue
            tree = check_expression(findings, doc, child.text or "", child.sourceline, event_id, "timer expression")
            if tree is not None and isinstance(tree.body, ast.Constant) and isinstance(tree.body.value, str):
                message = _timer_value_problem(etree.QName(child).localname, tree.body.value)
                if message:
                    findings.add(doc.path, child.sourceline, event_id, message)


def _is_iso_literal(text: str) -> bool:
    parts = text.split("/")
    if len(parts) > 1 and _ISO_REPEAT.match(parts[0]):
        parts = parts[1:]
    return len(parts) <= 2 and all(_ISO_DURATION.match(p) or _ISO_DATE.match(p) for p in parts)


def _timer_value_problem(kind: str, value: str) -> str | None:
    """A quoted timer literal is read by SpiffWorkflow when the timer is armed: check it now instead."""
    try:
        if kind == "timeDate":
            TimerEventDefinition.get_datetime(value)
            if datetime.fromisoformat(value).tzinfo is None:
                return (f"timer date {value!r} has no UTC offset, so it would be read in the server's time zone; "
                        "add one (e.g. +00:00) or use deadline_at()")
        elif kind == "timeDuration":
            TimerEventDefinition.parse_iso_duration(value)
            if not value.upper().startswith("P"):
                raise ValueError(value)
        else:
            TimerEventDefinition.parse_iso_recurring_interval(value)
    except Exception:  # noqa: BLE001 - SpiffWorkflow raises plain Exception for a bad duration
        expected = {"timeDate": "an ISO 8601 date and time", "timeDuration": "an ISO 8601 duration such as \"P6W\""}
        return f"timer value {value!r} is not {expected.get(kind, 'an ISO 8601 repeating interval such as R3/PT1H')}"
    return None
