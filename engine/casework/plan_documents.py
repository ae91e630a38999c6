"""The notices of the plan drafting route: their titles, recipient rules and recipients.

engine/casework/documents.py loads them by name (its ``ROUTE_DOCUMENTS``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import object_session

from engine.casework.plan_sections import as_bool
from engine.store.models import Case, Organisation

# The notices of workflows/ehc_plan_drafting.bpmn (engine/casework/templates/documents/pd_*.html): title, recipient rules and
# whether the notice is of an appealable decision (then _letter.html adds the appeal-rights bundle).
PLAN_DOCUMENTS: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "pd_draft_plan_notice": (
        "Draft EHC plan for {{ child.name }}: your comments by {{ data.comments_due | long_date }}", ("family",),
        False),
    "pd_revised_draft": ("Revised draft EHC plan for {{ child.name }}", ("family",), False),
    "pd_setting_consultation": (
        "Consultation about naming your school or college in the EHC plan for {{ child.name }}",
        ("consulted_setting", "copy:maintaining_la"), False),
    "pd_personal_budget_refusal": ("Decision not to provide a personal budget for {{ child.name }}", ("family",),
                                   False),
    "pd_direct_payments_refused": ("Direct payments for provision at the school or college: {{ child.name }}",
                                   ("family", "copy:setting"), False),
    "pd_final_plan_notice": ("Final EHC plan for {{ child.name }}", ("family", "copy:named_setting", "copy:health"),
                             True),
}

# Recipient rules the plan documents need besides engine.casework.documents' own: the setting being consulted, the other
# local authority that maintains it, and the setting named in the final plan (read from the route's data).
PLAN_RECIPIENT_RULES: tuple[str, ...] = ("consulted_setting", "maintaining_la", "named_setting")


def plan_document_templates(factory: Any) -> dict[str, Any]:
    """The route's document templates built with engine.casework.documents.DocumentTemplate (passed in: no import cycle)."""
    return {name: factory(title, recipients, appealable)
            for name, (title, recipients, appealable) in PLAN_DOCUMENTS.items()}


def plan_recipients(rule: str, case: Case, data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The recipients for one of PLAN_RECIPIENT_RULES, in engine.casework.documents' recipient shape."""
    session = object_session(case)
    if session is None:
        raise ValueError("The case must be loaded in a session to find the recipients")
    keys = {"consulted_setting": "consult_setting_id", "named_setting": "named_setting_id",
            "maintaining_la": "other_la_id"}
    if rule not in keys:
        raise KeyError(f"No plan recipient rule {rule!r}")
    if rule == "maintaining_la" and not as_bool(data.get("consult_other_la")):
        return []
    org_id = data.get(keys[rule])
    org = session.get(Organisation, int(org_id)) if org_id else None
    if org is None:
        return []
    return [{"name": org.name, "role": rule, "organisation_id": org.id, "email": org.email, "address": org.address}]


__all__ = ["PLAN_RECIPIENT_RULES", "plan_document_templates", "plan_recipients"]
