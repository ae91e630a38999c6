"""The organisations that work with a child on a case: the school or setting, the health body and the mediation
service. The routes send their tasks and notices to these parties, so a case opened from a request needs them.

When a request is registered, the likeliest organisation for each is suggested (the setting the request named, the
health body and mediation service the authority's other cases use); a caseworker changes them on the case page.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import FormInvalid
from engine.store.models import AuditEvent, Case, CaseParty, Organisation, User
from engine.store.requests import AssessmentRequest

#: Case party role -> the kind of organisation that plays it.
ORGANISATION_ROLES = {"setting": "setting", "health_body": "health_body", "mediation_service": "mediation_service"}
ROLE_LABELS = {"setting": "School, college or setting", "health_body": "Health body",
               "mediation_service": "Mediation service"}


def choices(session: Session, role: str) -> list[Organisation]:
    """The active organisations that may play this role, by name."""
    return list(session.scalars(select(Organisation).where(Organisation.kind == ORGANISATION_ROLES[role],
                                                           Organisation.active.is_(True)).order_by(Organisation.name)))


def _most_used(session: Session, la_id: int, role: str) -> int | None:
    """The organisation most of this authority's cases have in this role (the LA's usual health body, say)."""
    row = session.execute(
        select(CaseParty.organisation_id, func.count()).join(Case, Case.id == CaseParty.case_id)
        .where(Case.la_id == la_id, CaseParty.role == role, CaseParty.active.is_(True),
               CaseParty.organisation_id.is_not(None))
        .group_by(CaseParty.organisation_id).order_by(func.count().desc(), CaseParty.organisation_id).limit(1)).first()
    if row is not None:
        return int(row[0])
    only = choices(session, role)
    return only[0].id if len(only) == 1 else None


def suggested_parties(session: Session, row: AssessmentRequest) -> dict[str, int | None]:
    """For each role, the organisation a request's case most likely has (None when there is no good guess)."""
    setting = row.setting_org_id
    if setting is None and row.setting_name:
        setting = session.scalar(select(Organisation.id).where(
            Organisation.kind == "setting", Organisation.active.is_(True),
            func.lower(Organisation.name) == row.setting_name.strip().lower()))
    return {"setting": setting, "health_body": _most_used(session, row.la_id, "health_body"),
            "mediation_service": _most_used(session, row.la_id, "mediation_service")}


def current_parties(session: Session, case_id: int) -> dict[str, CaseParty]:
    rows = session.scalars(select(CaseParty).where(CaseParty.case_id == case_id, CaseParty.active.is_(True),
                                                   CaseParty.role.in_(tuple(ORGANISATION_ROLES))).order_by(CaseParty.id))
    return {party.role: party for party in rows}


def check_choice(session: Session, role: str, organisation_id: int | None) -> None:
    if organisation_id is None:
        return
    org = session.get(Organisation, organisation_id)
    if org is None or org.kind != ORGANISATION_ROLES[role] or not org.active:
        raise FormInvalid({role: f"Choose a {ROLE_LABELS[role].lower()} from the list"})


def set_parties(session: Session, case: Case, wanted: dict[str, int | None], actor: User | None, now: datetime,
                only_missing: bool = False) -> list[str]:
    """Links each role to the organisation given (None: nobody); returns the roles that changed.

    With ``only_missing`` a role the case already has is left as it is (registering on a known child)."""
    for role, organisation_id in wanted.items():
        check_choice(session, role, organisation_id)
    present = current_parties(session, case.id)
    changed: list[str] = []
    for role, organisation_id in wanted.items():
        old = present.get(role)
        if (old is not None and only_missing) or (old.organisation_id if old else None) == organisation_id:
            continue
        if old is not None:
            old.active = False
        if organisation_id is not None:
            session.add(CaseParty(case_id=case.id, role=role, organisation_id=organisation_id, active=True))
        changed.append(role)
    if changed:
        names = {o.id: o.name for o in session.scalars(select(Organisation).where(
            Organisation.id.in_([v for v in wanted.values() if v is not None])))}
        summary = "; ".join(f"{ROLE_LABELS[r]}: {names.get(wanted[r], 'none')}" for r in changed)
        session.add(AuditEvent(at=now, case_id=case.id, actor_id=actor.id if actor else None,
                               action="case_parties_changed", summary=f"Organisations on the case: {summary}",
                               detail={r: wanted[r] for r in changed}))
    return changed
