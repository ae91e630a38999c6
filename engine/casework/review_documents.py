"""The notices of the review routes (annual review, amendment, re-assessment, ceasing): titles, recipients and
whether each is appealable; engine/casework/documents.py loads them by name (its ``ROUTE_DOCUMENTS``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import object_session

from engine.casework.documents import DocumentTemplate
from engine.store.models import Case, CaseParty, Organisation

#: What engine/casework/documents.py needs to know about each notice of the review routes besides its HTML: its title, who it
#: goes to, whether it carries the appeal-rights bundle. engine/casework/documents.py reads them from here (ROUTE_DOCUMENTS).
#: "family" is the parent, or the young person once over compulsory school age. Appealable (CFA s.51,
#: send-processes.md §10): a decision not to amend after a review or re-assessment, an amended or replaced plan, a
#: decision not to re-assess, a decision to cease.
DOCUMENT_TEMPLATES: Mapping[str, DocumentTemplate] = {
    "ar_invitation": DocumentTemplate(
        "Invitation to the review of {{ child.name }}'s EHC plan on {{ data.meeting_date | long_date }}",
        ("family", "setting", "health", "social_care")),
    "ar_advice_pack": DocumentTemplate(
        "Advice and information for the review of {{ child.name }}'s EHC plan on {{ data.meeting_date | long_date }}",
        ("family", "setting", "health", "social_care"), advice=True),
    "ar_review_report": DocumentTemplate(
        "Report of the review of {{ child.name }}'s EHC plan held on {{ data.meeting_held_on | long_date }}",
        ("family", "setting", "health", "social_care")),
    "ar_decision_keep": DocumentTemplate(
        "Decision after the review of {{ child.name }}'s EHC plan: the plan stays as it is",
        ("family", "copy:setting", "copy:health"), appealable=True),
    "am_amendment_notice": DocumentTemplate(
        "Proposed amendments to {{ child.name }}'s EHC plan", ("family", "copy:setting")),
    "am_amended_plan": DocumentTemplate(
        "{{ child.name }}'s amended EHC plan", ("family", "setting", "copy:new_setting", "health"), appealable=True),
    "am_decision_not_to_amend": DocumentTemplate(
        "Decision not to amend {{ child.name }}'s EHC plan", ("family", "copy:setting"), appealable=True),
    "ra_decision_declined": DocumentTemplate(
        "Decision not to re-assess {{ child.name }}'s education, health and care needs",
        ("family", "copy:setting", "copy:health"), appealable=True),
    "ra_decision_reassess": DocumentTemplate(
        "Decision to re-assess {{ child.name }}'s education, health and care needs",
        ("family", "copy:setting", "copy:health", "copy:social_care")),
    "ra_decision_no_change": DocumentTemplate(
        "Decision not to amend or replace {{ child.name }}'s EHC plan after the re-assessment",
        ("family", "copy:setting", "copy:health"), appealable=True),
    "ra_draft_plan": DocumentTemplate(
        "Draft EHC plan for {{ child.name }} after the re-assessment", ("family",)),
    "ra_final_plan": DocumentTemplate(
        "{{ child.name }}'s EHC plan after the re-assessment", ("family", "setting", "copy:new_setting", "health"),
        appealable=True),
    "cp_considering_ceasing": DocumentTemplate(
        "We are considering ceasing {{ child.name }}'s EHC plan", ("family", "setting")),
    "cp_decision_cease": DocumentTemplate(
        "Decision to cease {{ child.name }}'s EHC plan", ("family", "setting", "health"), appealable=True),
    "cp_decision_continue": DocumentTemplate(
        "Decision to keep {{ child.name }}'s EHC plan", ("family", "copy:setting")),
    "cp_plan_ceased": DocumentTemplate(
        "{{ child.name }}'s EHC plan has ceased", ("family", "setting", "health")),
    "cp_plan_continues": DocumentTemplate(
        "{{ child.name }}'s EHC plan continues after the appeal", ("family", "setting", "health")),
}


#: Recipient rules of these notices besides engine/casework/documents.py's own (loaded through its ROUTE_DOCUMENTS).
RECIPIENT_RULES: tuple[str, ...] = ("new_setting",)


def recipients(rule: str, case: Case, data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``new_setting``: the school or college an amended plan names in section I (``named_setting_id``) when it is not
    the case's setting yet (a phase transfer): it gets the plan that names it."""
    if rule != "new_setting":
        raise KeyError(f"No review recipient rule {rule!r}")
    session = object_session(case)
    setting_id = data.get("named_setting_id")
    if session is None or not setting_id:
        return []
    current = set(session.scalars(select(CaseParty.organisation_id).where(
        CaseParty.case_id == case.id, CaseParty.role == "setting", CaseParty.active.is_(True))))
    org = session.get(Organisation, int(setting_id))
    if org is None or org.id in current:
        return []
    return [{"name": org.name, "role": "setting", "organisation_id": org.id, "email": org.email,
             "address": org.address}]


__all__ = ["DOCUMENT_TEMPLATES", "RECIPIENT_RULES", "recipients"]
