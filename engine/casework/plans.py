"""Every version of a case's EHC plan, kept: drafts, the final plan and amendments, and how two versions differ.

Each version of a case's plan (draft 1, draft 2, final, amended ...) is a row in ``plan_version``; an issued version
(final or amended) is a legal document and never changes: a mapper event and database triggers refuse any UPDATE or
DELETE of it, and this module only ever inserts issued rows, so a change after issue is always a new version. The
sections' shape is in ``engine.casework.plan_sections``, the rules they must meet in ``engine.casework.plan_rules``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.casework.plan_rules import validate_sections
from engine.casework.plan_sections import (
    APPEALABLE_SECTIONS,
    ISSUED_KINDS,
    LIST_KEY,
    SECTION_ORDER,
    SECTION_TITLES,
    PlanInvalid,
    advice_to_section_k,
    is_blank_i,
    normalise_section,
    normalise_sections,
    section_of_field,
)
from engine.errors import InvalidState, NotFound
from engine.statutory import calendar
from engine.store.models import Case, PlanVersion

# ---- versions -------------------------------------------------------------------------------------------------------

def year_group_on(session: Session, case_id: int, on: date) -> int | None:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("No such case")
    if case.date_of_birth is None or on < case.date_of_birth:
        return None
    return calendar.school_year_group(case.date_of_birth, on)


def list_versions(session: Session, case_id: int) -> list[PlanVersion]:
    """Every version of the case's plan, oldest first."""
    return list(session.scalars(select(PlanVersion).where(PlanVersion.case_id == case_id)
                                .order_by(PlanVersion.number)))


def get_version(session: Session, version_id: int) -> PlanVersion:
    version = session.get(PlanVersion, version_id)
    if version is None:
        raise NotFound("No such version of the plan")
    return version


def latest_version(session: Session, case_id: int, *, instance_id: int | None = None,
                   kinds: Iterable[str] | None = None) -> PlanVersion | None:
    query = select(PlanVersion).where(PlanVersion.case_id == case_id)
    if instance_id is not None:
        query = query.where(PlanVersion.instance_id == instance_id)
    if kinds is not None:
        query = query.where(PlanVersion.kind.in_(tuple(kinds)))
    return session.scalars(query.order_by(PlanVersion.number.desc())).first()


def current_plan(session: Session, case_id: int) -> PlanVersion | None:
    """The plan in force: the latest issued version (final or amended)."""
    return latest_version(session, case_id, kinds=ISSUED_KINDS)


def _label(session: Session, case_id: int, kind: str) -> str:
    count = session.scalar(select(func.count()).select_from(PlanVersion)
                           .where(PlanVersion.case_id == case_id, PlanVersion.kind == kind)) or 0
    if kind == "draft":
        return f"Draft {count + 1}"
    if kind == "final":
        return "Final plan" if count == 0 else f"Final plan ({count + 1})"
    return f"Amended plan {count + 1}"


def _insert(session: Session, case_id: int, kind: str, sections: dict[str, Any], *, now: datetime,
            actor_id: int | None, instance_id: int | None, based_on: PlanVersion | None) -> PlanVersion:
    number = (session.scalar(select(func.max(PlanVersion.number)).where(PlanVersion.case_id == case_id)) or 0) + 1
    issued = kind in ISSUED_KINDS
    version = PlanVersion(case_id=case_id, instance_id=instance_id, number=number, kind=kind,
                          label=_label(session, case_id, kind), sections=sections,
                          based_on_id=based_on.id if based_on is not None else None, created_at=now,
                          created_by_id=actor_id, issued_at=now if issued else None,
                          issued_by_id=actor_id if issued else None)
    session.add(version)
    session.flush()
    return version


def create_draft(session: Session, case_id: int, sections: Mapping[str, Any], *, now: datetime,
                 advice: Iterable[Mapping[str, Any]] | Mapping[str, Any] | None = None, actor_id: int | None = None,
                 instance_id: int | None = None) -> PlanVersion:
    """The first draft of a plan from the assessment: section K lists the advice, section I is left blank.

    ``advice`` (when given) replaces any section K in ``sections``: the draft must list what was actually received.
    """
    raw = dict(sections)
    if advice is not None:
        raw["K"] = advice_to_section_k(advice)
        raw.pop("section_k", None)
    checked = validate_sections(raw, "draft", year_group_on(session, case_id, calendar.to_london_date(now)))
    base = latest_version(session, case_id)
    return _insert(session, case_id, "draft", checked, now=now, actor_id=actor_id, instance_id=instance_id,
                   based_on=base)


def apply_changes(sections: Mapping[str, Any], changes: Mapping[str, Any] | None) -> dict[str, Any]:
    """A copy of the sections with whole sections replaced by ``changes`` (keys ``F`` or ``section_f``)."""
    out = copy.deepcopy(dict(sections))
    for key, value in (changes or {}).items():
        letter = key if key in SECTION_TITLES else section_of_field(key)
        if letter is None:
            raise PlanInvalid({key: f"{key!r} is not a section of an EHC plan"})
        out[letter] = value
    return out


def new_draft_version(session: Session, case_id: int, changes: Mapping[str, Any], *, now: datetime,
                      actor_id: int | None = None, instance_id: int | None = None,
                      based_on: PlanVersion | None = None) -> PlanVersion:
    """A new draft made from the latest version (or ``based_on``) with the agreed changes; earlier drafts are kept."""
    base = based_on or latest_version(session, case_id)
    if base is None:
        raise InvalidState("There is no draft plan to change yet")
    sections = apply_changes(base.sections, changes)
    # Proposed amendments to an issued plan keep its named setting; only a new plan's drafts leave section I blank.
    amending = base.kind in ISSUED_KINDS or not is_blank_i(normalise_section("I", base.sections.get("I")))
    checked = validate_sections(sections, "draft", year_group_on(session, case_id, calendar.to_london_date(now)),
                                amending=amending)
    return _insert(session, case_id, "draft", checked, now=now, actor_id=actor_id, instance_id=instance_id,
                   based_on=base)


def update_draft(session: Session, version_id: int, changes: Mapping[str, Any], *, now: datetime) -> PlanVersion:
    """Corrects a draft in place, before it is sent on. An issued version is refused: make a new version instead."""
    version = get_version(session, version_id)
    if version.is_issued or version.kind in ISSUED_KINDS:
        raise InvalidState("An issued plan never changes: make a new version of it instead")
    latest = latest_version(session, version.case_id)
    if latest is not None and latest.id != version.id:
        # An earlier draft has been sent on and superseded: it is kept as it was, so versions can be compared.
        raise InvalidState(f"{version.label} has been superseded by {latest.label}: change the latest version")
    sections = apply_changes(version.sections, changes)
    base = session.get(PlanVersion, version.based_on_id) if version.based_on_id else None
    version.sections = validate_sections(
        sections, "draft", year_group_on(session, version.case_id, calendar.to_london_date(now)),
        amending=base is not None and base.kind in ISSUED_KINDS)
    session.flush()
    return version


def issue_plan(session: Session, case_id: int, kind: str = "final", changes: Mapping[str, Any] | None = None, *,
               now: datetime, actor_id: int | None = None, instance_id: int | None = None,
               based_on: PlanVersion | None = None) -> PlanVersion:
    """Issues a final (or amended) plan as a new version: the base version with the changes, checked as issued.

    The base is the latest draft for a final plan, and the plan in force for an amended plan, unless given.
    """
    if kind not in ISSUED_KINDS:
        raise ValueError("Only a final or an amended plan is issued")
    if based_on is None and instance_id is not None:
        based_on = latest_version(session, case_id, instance_id=instance_id, kinds=("draft",))
    if based_on is None:
        based_on = latest_version(session, case_id, kinds=("draft",)) if kind == "final" else current_plan(
            session, case_id)
    if based_on is None:
        raise InvalidState("There is no draft plan to finalise" if kind == "final" else "There is no plan to amend")
    sections = apply_changes(based_on.sections, changes)
    checked = validate_sections(sections, kind, year_group_on(session, case_id, calendar.to_london_date(now)))
    return _insert(session, case_id, kind, checked, now=now, actor_id=actor_id, instance_id=instance_id,
                   based_on=based_on)


# ---- comparison -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SectionChange:
    """One section that differs between two versions, with the item references added, removed or changed."""

    section: str
    title: str
    before: dict[str, Any]
    after: dict[str, Any]
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    fields: tuple[str, ...] = field(default=())  # for A, I and J: which fields changed

    @property
    def appealable(self) -> bool:
        return self.section in APPEALABLE_SECTIONS


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _sections_of(version: PlanVersion | Mapping[str, Any]) -> dict[str, Any]:
    raw = version.sections if isinstance(version, PlanVersion) else version
    return normalise_sections(raw)


def compare_versions(older: PlanVersion | Mapping[str, Any],
                     newer: PlanVersion | Mapping[str, Any]) -> list[SectionChange]:
    """Exactly the sections that differ between two versions, in plan order (any two versions, either order)."""
    a, b = _sections_of(older), _sections_of(newer)
    changes: list[SectionChange] = []
    for section in SECTION_ORDER:
        if _canonical(a[section]) == _canonical(b[section]):
            continue
        if section in LIST_KEY:
            key = LIST_KEY[section]
            before = {i["id"]: i for i in a[section][key]}
            after = {i["id"]: i for i in b[section][key]}
            changes.append(SectionChange(
                section, SECTION_TITLES[section], a[section], b[section],
                added=tuple(i for i in after if i not in before),
                removed=tuple(i for i in before if i not in after),
                changed=tuple(i for i in after if i in before and _canonical(before[i]) != _canonical(after[i])),
            ))
        else:
            changed_fields = tuple(k for k in b[section] if _canonical(a[section].get(k)) != _canonical(b[section][k]))
            changes.append(SectionChange(section, SECTION_TITLES[section], a[section], b[section],
                                         fields=changed_fields))
    return changes


__all__ = [
    "SectionChange", "compare_versions", "create_draft", "current_plan", "get_version", "issue_plan",
    "latest_version", "list_versions", "new_draft_version", "update_draft",
]
