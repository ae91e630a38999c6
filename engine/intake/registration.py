"""Registering a request: finding the child if EHC Flow already knows them (never merging silently), or opening a
case for them, linking the family and the setting, and starting the needs assessment with the real moment of receipt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from engine.errors import InvalidState, NotFound
from engine.intake.accounts import family_account, send_set_password_link
from engine.intake.parties import set_parties, suggested_parties
from engine.store.models import ACTIVE_STATUSES, AuditEvent, Case, CaseParty, ProcessInstance, User
from engine.store.requests import AssessmentRequest

if TYPE_CHECKING:
    from engine.runtime.workflow_engine import WorkflowEngine

NEEDS_ASSESSMENT = "ehc_needs_assessment"
#: Routes during which the child already has an assessment open: a second request is refused until they end.
OPEN_ASSESSMENT_ROUTES = ("ehc_needs_assessment", "ehc_plan_drafting", "reassessment")
ROUTE_REQUESTER = {"parent": "parent", "young_person": "young_person", "setting": "school", "other": "other"}


@dataclass(frozen=True)
class Match:
    case: Case
    reasons: tuple[str, ...]

    @property
    def strong(self) -> bool:
        return "unique pupil number" in self.reasons or "date of birth and last name" in self.reasons


def _norm(text: str | None) -> str:
    return " ".join((text or "").lower().split())


def likely_matches(session: Session, la_id: int, first_name: str | None, last_name: str | None, date_of_birth,
                   postcode: str | None, upn: str | None, limit: int = 10) -> list[Match]:
    """Cases of this LA that may be the same child, the likeliest first, each with why it matched."""
    first, last = _norm(first_name), _norm(last_name)
    post = (postcode or "").replace(" ", "").upper()
    clauses = []
    if upn:
        clauses.append(Case.upn == upn)
    if date_of_birth:
        clauses.append(Case.date_of_birth == date_of_birth)
    if last:
        clauses.append(func.lower(Case.child_last_name) == last)
    if post:
        clauses.append(func.upper(func.replace(Case.postcode, " ", "")) == post)
    if not clauses:
        return []
    found: list[Match] = []
    for case in session.scalars(select(Case).where(Case.la_id == la_id, or_(*clauses)).limit(200)):
        reasons: list[str] = []
        if upn and case.upn == upn:
            reasons.append("unique pupil number")
        same_dob = bool(date_of_birth) and case.date_of_birth == date_of_birth
        same_last = bool(last) and _norm(case.child_last_name) == last
        same_first = bool(first) and _norm(case.child_first_name) == first
        same_post = bool(post) and (case.postcode or "").replace(" ", "").upper() == post
        if same_dob and same_last:
            reasons.append("date of birth and last name")
        elif same_dob and same_first:
            reasons.append("date of birth and first name")
        if same_post and (same_last or same_first):
            reasons.append("postcode and name")
        if reasons:
            found.append(Match(case, tuple(reasons)))
    found.sort(key=lambda m: (not m.strong, -len(m.reasons), m.case.id))
    return found[:limit]


def matches_for(session: Session, row: AssessmentRequest) -> list[Match]:
    return likely_matches(session, row.la_id, row.child_first_name, row.child_last_name, row.child_date_of_birth,
                          row.child_postcode, row.child_upn)


def open_assessment(session: Session, case_id: int) -> ProcessInstance | None:
    return session.scalars(select(ProcessInstance).where(ProcessInstance.case_id == case_id,
                                                         ProcessInstance.process_id.in_(OPEN_ASSESSMENT_ROUTES),
                                                         ProcessInstance.status.in_(ACTIVE_STATUSES))).first()


def _link_family(session: Session, case: Case, user: User, relationship: str | None) -> None:
    exists = session.scalar(select(CaseParty.id).where(CaseParty.case_id == case.id, CaseParty.user_id == user.id,
                                                       CaseParty.role == "family"))
    if exists is None:
        session.add(CaseParty(case_id=case.id, role="family", user_id=user.id, relationship_to_child=relationship,
                              active=True))


def _link_parties(session: Session, row: AssessmentRequest, case: Case) -> None:
    if row.requester_type in ("parent", "young_person") and row.requester_user_id:
        user = session.get(User, row.requester_user_id)
        assert user is not None
        relation = "young person" if row.requester_type == "young_person" else (row.relationship_to_child or "parent")
        _link_family(session, case, user, relation[:80])
    parent_email = (row.answers or {}).get("parent_email")
    if parent_email:
        user, created = family_account(session, parent_email, (row.answers or {}).get("parent_name") or "",
                                       row.updated_at)
        if user is not None and created:
            send_set_password_link(session, user, row.updated_at,
                                   f"{case.la.name} has opened a case for {case.child_first_name} after a request for "
                                   "an EHC needs assessment. With an account you can follow it and give your views.")
        if user is not None:
            _link_family(session, case, user, "parent")


def register_request(engine: WorkflowEngine, request_id: int, actor: User | None, case_id: int | None = None,
                     parties: dict[str, int | None] | None = None) -> int:
    """Registers the request on an existing case (``case_id``) or a new one, and starts the needs assessment on it.

    ``parties`` names the setting, health body and mediation service (engine/intake/parties.py; by default the
    suggested ones); a case that already has one in a role keeps it. Refused, with nothing changed, when the child
    already has an assessment open. Returns the case id.
    """
    with engine.session_factory() as session:
        row = session.get(AssessmentRequest, request_id)
        if row is None:
            raise NotFound("No such request")
        # Claimed with one conditional UPDATE, so two caseworkers registering it at once start one assessment.
        claimed = session.execute(update(AssessmentRequest).where(AssessmentRequest.id == request_id,
                                                                  AssessmentRequest.status == "new")
                                  .values(status="registered")).rowcount
        if claimed != 1:
            raise InvalidState("This request has already been registered or closed")
        assert row.received_at is not None
        now = engine.clock.now()
        # An earlier attempt opened the case but could not start the assessment: use that case, not a second one.
        case_id = case_id if case_id is not None else row.case_id
        if case_id is not None:
            case = session.get(Case, case_id)
            if case is None or case.la_id != row.la_id:
                raise NotFound("No such case in this local authority")
            running = open_assessment(session, case.id)
            if running is not None:
                session.rollback()
                raise InvalidState(f"{case.child_name} ({case.reference}) already has an open assessment "
                                   f"(started {running.created_at:%-d %B %Y}): it must end before another can start.")
        else:
            # The same unique pupil number is the same child (a shared date of birth and name may be twins).
            for match in matches_for(session, row):
                running = open_assessment(session, match.case.id)
                if "unique pupil number" in match.reasons and running is not None:
                    session.rollback()
                    raise InvalidState(f"{match.case.child_name} ({match.case.reference}) has the same unique pupil "
                                       f"number and already has an open assessment (started "
                                       f"{running.created_at:%-d %B %Y}): it must end before another can start.")
            case = engine.open_case(session, row.la_id, row.child_first_name or "", row.child_last_name or "",
                                    row.child_date_of_birth, actor)
        for name, value in (("address", row.child_address), ("postcode", row.child_postcode), ("upn", row.child_upn)):
            if value and not getattr(case, name):
                setattr(case, name, value)
        _link_parties(session, row, case)
        wanted = suggested_parties(session, row) if parties is None else parties
        set_parties(session, case, wanted, actor, now, only_missing=True)
        row.case_id = case.id
        row.updated_at = now
        session.add(AuditEvent(at=now, case_id=case.id, actor_id=actor.id if actor else None, action="request_registered",
                               summary=f"Request {row.reference} registered on case {case.reference}",
                               detail={"request_id": row.id}))
        session.commit()
        case_id, received_at = case.id, row.received_at
        requester = {"requester_type": ROUTE_REQUESTER.get(row.requester_type or "", "other"),
                     "requester_name": row.requester_name or "", "received_at": received_at.isoformat(),
                     "request_reference": row.reference}
    try:
        instance_id = engine.start(case_id, NEEDS_ASSESSMENT, requester, actor)
    except Exception:
        with engine.session_factory() as session:  # the case stays; the request waits to be registered again
            session.execute(update(AssessmentRequest).where(AssessmentRequest.id == request_id)
                            .values(status="new"))
            session.commit()
        raise
    with engine.session_factory() as session:
        row = session.get(AssessmentRequest, request_id)
        assert row is not None
        row.instance_id = instance_id
        row.registered_at = engine.clock.now()
        row.registered_by_id = actor.id if actor else None
        session.commit()
    return case_id
