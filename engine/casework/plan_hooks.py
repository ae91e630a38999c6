"""The plan routes' ``planVersion`` hook: versions of the plan recorded from the route's data.

The hook (the ``planVersion`` element property, see docs/bpmn-conventions.md) turns the route's data into versions;
the data keys it reads are listed on ``record_plan_version``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.casework.plan_sections import (
    BLANK_I,
    BLANK_J,
    SECTION_ORDER,
    SETTING_TYPES,
    advice_to_section_k,
    as_bool,
    as_text,
    field_name,
    normalise_section,
)
from engine.casework.plans import create_draft, issue_plan, latest_version, new_draft_version
from engine.casework.setting_directory import describe_setting
from engine.store.models import CaseParty, PlanVersion

if TYPE_CHECKING:
    from SpiffWorkflow.task import Task

    from engine.runtime.projection import Projector


def section_i_from_data(session: Session, data: Mapping[str, Any]) -> dict[str, Any]:
    """Section I from the naming decision: ``named_setting_id`` (a setting) or ``named_type`` (a type only)."""
    basis = as_text(data.get("section_i_basis"))
    if data.get("named_setting_id"):
        return {**describe_setting(session, int(data["named_setting_id"])), "basis": basis}
    if as_text(data.get("named_type")):
        named = as_text(data["named_type"])
        return {**BLANK_I, "setting_type": SETTING_TYPES.get(named, named), "type_only": True,
                "basis": basis or "type_only"}
    return dict(BLANK_I)


def section_j_from_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """Section J from the personal budget steps (the ``pb_*`` fields), or "not requested"."""
    if not as_bool(data.get("personal_budget_requested")):
        return dict(BLANK_J)
    decision = data.get("pb_decision")
    if decision == "refuse":
        return {**BLANK_J, "status": "refused", "refusal_reasons": as_text(data.get("pb_refusal_reasons"))}
    if decision != "agree":
        return {**BLANK_J, "status": "requested"}
    on_premises = as_bool(data.get("pb_direct_payments")) and as_bool(data.get("pb_dp_on_setting_premises"))
    setting_agreed = as_bool(data.get("dp_setting_agrees")) if on_premises else None
    # Direct payments for provision on a school's or college's premises need its agreement: without it, none.
    direct = as_bool(data.get("pb_direct_payments")) and (setting_agreed is not False)
    return normalise_section("J", {
        "status": "agreed", "indicative_amount": data.get("pb_indicative_amount"),
        "provision": data.get("pb_provision"), "needs_and_outcomes": data.get("pb_needs_outcomes"),
        "direct_payments": direct, "dp_on_setting_premises": on_premises, "dp_setting_agreed": setting_agreed,
        "dp_needs_and_outcomes": data.get("pb_dp_needs_outcomes") if direct else "",
    })


def draft_sections_from_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """The first draft from the route's data: A, B, E, F from the caseworker; C and G from health; D, H1 and H2
    from social care; J from the personal budget steps; K from the advice received; I blank."""
    raw: dict[str, Any] = {s: data.get(field_name(s)) for s in SECTION_ORDER if s not in ("I", "J", "K")}
    raw["I"] = dict(BLANK_I)
    raw["J"] = data.get("section_j") or section_j_from_data(data)
    raw["K"] = advice_to_section_k(data.get("advice_received") or [])
    return raw


def record_plan_version(projector: Projector, task: Task, kind: str) -> PlanVersion:
    """The ``planVersion`` hook: records a version of the plan from the data of the element that completed.

    Reads from the task data:

    - ``draft``, the first in this route instance: ``section_a`` ... ``section_h2`` (from the forms), J from the
      ``pb_*`` fields, K from ``advice_received``; I is left blank.
    - ``draft``, later ones: the latest version of this instance with the sections in ``plan_changes`` replaced.
    - ``final``: the latest draft with ``final_changes`` applied, I from ``named_setting_id``/``named_type``, J from
      the ``pb_*`` fields; issued (never changes again).
    - ``amended``: the plan in force (or this instance's latest draft) with ``plan_changes``; issued.

    A broken rule raises PlanInvalid, which rolls the whole command back and shows the messages on the form.
    """
    session = projector.session
    instance = projector.instance
    data: Mapping[str, Any] = task.data
    actor_id = projector.actor_id
    kind = kind.strip()
    mine = latest_version(session, instance.case_id, instance_id=instance.id)
    if kind == "draft":
        if mine is None:
            version = create_draft(session, instance.case_id, draft_sections_from_data(data), now=projector.now,
                                   actor_id=actor_id, instance_id=instance.id)
        else:
            changes = dict(data.get("plan_changes") or {})
            if "section_j" not in changes and "J" not in changes:
                # A personal budget decided since the last draft shows in the new one.
                changes["J"] = section_j_from_data(data)
            version = new_draft_version(session, instance.case_id, changes, now=projector.now, actor_id=actor_id,
                                        instance_id=instance.id, based_on=mine)
    elif kind == "final":
        changes = dict(data.get("final_changes") or {})
        if "section_i" not in changes and "I" not in changes:
            changes["I"] = section_i_from_data(session, data)
        if "section_j" not in changes and "J" not in changes:
            changes["J"] = section_j_from_data(data)
        version = issue_plan(session, instance.case_id, "final", changes, now=projector.now, actor_id=actor_id,
                             instance_id=instance.id)
    elif kind == "amended":
        changes = dict(data.get("plan_changes") or {})
        if data.get("named_setting_id") and "section_i" not in changes and "I" not in changes:
            # Naming a new school or college (a phase transfer, or one the family asked for) amends section I.
            changes["I"] = section_i_from_data(session, data)
        version = issue_plan(session, instance.case_id, "amended", changes, now=projector.now, actor_id=actor_id,
                             instance_id=instance.id)
    else:
        raise ValueError(f"planVersion must be draft, final or amended, not {kind!r}")
    if version.is_issued:
        _follow_section_i(projector, version)
    projector.events.append(("plan_version_recorded",
                             f"Plan version recorded: {version.label}"
                             f"{' (issued)' if version.is_issued else ''}",
                             {"plan_version_id": version.id, "number": version.number, "kind": version.kind}))
    return version


def _follow_section_i(projector: Projector, version: PlanVersion) -> None:
    """An issued plan that names a school or college in section I makes it the case's setting: the setting party
    moves there (the old one is kept, inactive), so the setting's tasks, lists and notices follow the child."""
    setting_id = (version.sections.get("I") or {}).get("setting_id")
    if not setting_id:
        return
    session = projector.session
    current = list(session.scalars(select(CaseParty).where(CaseParty.case_id == version.case_id,
                                                           CaseParty.role == "setting", CaseParty.active.is_(True))))
    if [p.organisation_id for p in current] == [setting_id]:
        return
    for party in current:
        party.active = False
    session.add(CaseParty(case_id=version.case_id, role="setting", organisation_id=int(setting_id), active=True))
    session.flush()
    name = (version.sections["I"].get("name") or "").strip()
    projector.events.append(("setting_changed", f"School or college now: {name}",
                             {"organisation_id": int(setting_id), "plan_version_id": version.id,
                              "previous": [p.organisation_id for p in current]}))


__all__ = ["record_plan_version"]
