"""Who may see a case, act on a task and read a document. The web UI asks these; the engine enforces them on every
command."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.people.roles import NO_CASE_ACCESS_ROLES, ROLE_PARTY, Role
from engine.store.models import Case, CaseParty, Document, HumanTask, Membership, User
from engine.store.requests import AssessmentRequest

LA_ROLES = frozenset(r.value for r, party in ROLE_PARTY.items() if party == "local_authority")


#: Where a request keeps the roles it read with its user (``remember_roles``), on that user object.
_REQUEST_ROLES = "_ehcflow_request_roles"


def remember_roles(user: User, held: set[tuple[int | None, str]] | frozenset[tuple[int | None, str]]) -> None:
    """Keeps the roles a web request read with its user (its one membership query) on that request's own user object,
    so that the checks of the same request, in the web layer and again in the engine's command, do not read them
    again (three times per completed task). The object lives for one request, so a change to someone's roles counts
    from their next request, as the signed-in user's roles always have."""
    setattr(user, _REQUEST_ROLES, frozenset(held))


def roles_in(session: Session, user: User) -> set[tuple[int | None, str]]:
    held = user.__dict__.get(_REQUEST_ROLES)
    if held is not None:
        return set(held)
    return {(m.organisation_id, m.role) for m in session.scalars(select(Membership).where(Membership.user_id == user.id))}


def is_family_of(session: Session, user: User, case_id: int) -> bool:
    return session.scalars(
        select(CaseParty.id).where(CaseParty.case_id == case_id, CaseParty.user_id == user.id,
                                   CaseParty.role == "family", CaseParty.active.is_(True))
    ).first() is not None


#: The case party a young person's nomination makes of a parent (engine/casework/family_rights.py NAMED_PARENT_ROLE).
ACTING_FOR_YOUNG_PERSON = "acting_for_young_person"


def acts_for_young_person(session: Session, user: User, case_id: int) -> bool:
    """A parent the young person named to act for them (CoP 2.13), still on the case as family."""
    named = session.scalars(select(CaseParty.id).where(
        CaseParty.case_id == case_id, CaseParty.user_id == user.id, CaseParty.role == ACTING_FOR_YOUNG_PERSON,
        CaseParty.active.is_(True))).first() is not None
    return named and is_family_of(session, user, case_id)


def can_act_on_task(session: Session, user: User, task: HumanTask) -> bool:
    if not user.active or task.status != "open":
        return False
    if task.role == Role.FAMILY.value:
        if task.assignee_id is not None and task.assignee_id != user.id:
            return acts_for_young_person(session, user, task.case_id)  # a task the route gave the young person
        return is_family_of(session, user, task.case_id)
    held = roles_in(session, user)
    is_manager = task.role in LA_ROLES and (task.organisation_id, Role.MANAGER.value) in held
    if task.assignee_id is not None and task.assignee_id != user.id and not is_manager:
        return False
    return (task.organisation_id, task.role) in held or is_manager


def can_see_case(session: Session, user: User, case: Case) -> bool:
    """Staff of the responsible LA, staff of organisations acting on the case, and the family on it."""
    if not user.active:
        return False
    held = roles_in(session, user)
    if any(org == case.la_id and role not in NO_CASE_ACCESS_ROLES for org, role in held):
        return True
    party_orgs = set(
        session.scalars(
            select(CaseParty.organisation_id).where(CaseParty.case_id == case.id, CaseParty.active.is_(True),
                                                    CaseParty.organisation_id.is_not(None))
        )
    )
    if any(org in party_orgs for org, _ in held):
        return True
    return is_family_of(session, user, case.id)


# ---- need to know: who may see a document --------------------------------------------------------------------------
# A document's audience (``Document.audience``) is a list of tokens, decided when it is issued
# (engine.casework.documents): who it was sent to, who wrote it, and the family's consent to share advice.
#   "la"                  the responsible authority's SEN staff: everyone at the LA except its own social care and
#                         educational psychology services, who are advisers like health (so "the LA sees all")
#   "family"              the parents, or the young person, on the case
#   "org:<id>"            the staff of that organisation (a school, a health body, another authority)
#   "role:<role>"         the LA's own social care or educational psychology service
#   "advice"              advice: also the organisations the family agreed may see advice (read when it is asked, so
#                         a consent given or withdrawn later counts)
LA_SERVICE_ROLES = frozenset({Role.SOCIAL_CARE.value, Role.EDUCATIONAL_PSYCHOLOGIST.value})
FAMILY_RECIPIENT_ROLES = frozenset({"parent", "young_person", "family"})
#: The answer to the request's ``share_advice_with`` question -> the parties on the case the family agreed may see
#: advice (engine.intake.questions offers the same choices).
ADVICE_SHARING: dict[str, tuple[str, ...]] = {
    "all": ("setting", "health_body", "social_care"),
    "setting": ("setting",),
    "health_body": ("health_body",),
    "social_care": ("social_care",),
    "none": (),
}


def audience_from_recipients(recipients: Sequence[Any] | None, la_id: int) -> set[str]:
    """The audience a document's recipients make: always the LA; the family when it is sent to them (or when no
    recipient is recorded: what the authority issues about the child is theirs to see); each organisation named."""
    audience = {"la"}
    if not recipients:
        audience.add("family")
    for recipient in recipients or []:
        if not isinstance(recipient, dict):
            if str(recipient).lower() in FAMILY_RECIPIENT_ROLES:
                audience.add("family")
            continue
        role = str(recipient.get("role") or "").lower()
        org = recipient.get("organisation_id")
        if role in FAMILY_RECIPIENT_ROLES:
            audience.add("family")
        elif isinstance(org, int) and not isinstance(org, bool):
            if org == la_id:
                audience.add(f"role:{role}" if role in LA_SERVICE_ROLES else "la")
            else:
                audience.add(f"org:{org}")
    return audience


def document_audience(document: Document, la_id: int) -> set[str]:
    """The stored audience; a document made before audiences were recorded (and not migrated) by its recipients."""
    if document.audience is not None:
        return {str(token) for token in document.audience}
    return audience_from_recipients(document.recipients, la_id)


def staff_tokens(held: set[tuple[int | None, str]] | frozenset[tuple[int | None, str]], la_id: int) -> set[str]:
    """The audience tokens a member of staff answers to on a case of that authority (their roles, not the family)."""
    tokens: set[str] = set()
    for org, role in held:
        if role in NO_CASE_ACCESS_ROLES or org is None:
            continue
        if org == la_id:
            tokens.add(f"role:{role}" if role in LA_SERVICE_ROLES else "la")
        else:
            tokens.add(f"org:{org}")
    return tokens


def author_tokens(session: Session, user_id: int | None, case: Case) -> set[str]:
    """Who wrote a document, as audience tokens: what they write they may read again."""
    user = session.get(User, user_id) if user_id is not None else None
    if user is None:
        return set()
    tokens = staff_tokens(roles_in(session, user), case.la_id)
    if is_family_of(session, user, case.id):
        tokens.add("family")
    return tokens


def advice_shared_with(session: Session, case: Case) -> set[str]:
    """The audience tokens the family agreed may see advice on this case: their answer on the request for the
    assessment (``share_advice_with``), unless they refused consent to share at all. Nothing recorded is no one."""
    answers = session.scalars(select(AssessmentRequest.answers).where(AssessmentRequest.case_id == case.id)
                              .order_by(AssessmentRequest.id.desc())).first() or {}
    if answers.get("consent_to_share") == "no":
        return set()
    tokens: set[str] = set()
    for party in ADVICE_SHARING.get(str(answers.get("share_advice_with") or "none"), ()):
        if party == "social_care":
            tokens.add("role:social_care")
            continue
        for org in session.scalars(select(CaseParty.organisation_id).where(
                CaseParty.case_id == case.id, CaseParty.role == party, CaseParty.active.is_(True),
                CaseParty.organisation_id.is_not(None))):
            tokens.add(f"org:{org}")
    return tokens


@dataclass(frozen=True)
class DocumentReader:
    """Someone reading a case's documents, worked out once for a page that lists many."""

    tokens: frozenset[str]
    consented: frozenset[str]

    def may_see(self, document: Document, la_id: int) -> bool:
        if "la" in self.tokens:
            return True  # the responsible authority sees every document on its case
        audience = document_audience(document, la_id)
        if self.tokens & audience:
            return True
        return "advice" in audience and bool(self.tokens & self.consented)


def document_reader(session: Session, user: User, case: Case, as_family: bool = False) -> DocumentReader:
    """The reader for the staff pages (the user's roles), or for the family pages (``as_family``: the family only).
    Someone who may not see the case sees none of its documents."""
    if not user.active:
        return DocumentReader(frozenset(), frozenset())
    if as_family:
        tokens = {"family"} if is_family_of(session, user, case.id) else set()
    elif can_see_case(session, user, case):
        tokens = staff_tokens(roles_in(session, user), case.la_id)
    else:
        tokens = set()
    consented = advice_shared_with(session, case) if tokens and "la" not in tokens else set()
    return DocumentReader(frozenset(tokens), frozenset(consented))


def may_see_document(session: Session, user: User, case: Case, document: Document, as_family: bool = False) -> bool:
    """Need to know: the LA sees all; the family what was sent to them or about them; a school, health body or
    service what was sent to it or that it wrote, and advice the family agreed to share with it."""
    if document.case_id != case.id:
        return False
    return document_reader(session, user, case, as_family).may_see(document, case.la_id)


#: The roles whose tasks are advice about the child: shared beyond their writer only as the family agreed.
ADVISER_ROLES = frozenset({Role.HEALTH.value, Role.SOCIAL_CARE.value, Role.EDUCATIONAL_PSYCHOLOGIST.value,
                           Role.SCHOOL.value})


def may_see_task_answers(session: Session, user: User, case: Case, task: HumanTask) -> bool:
    """Need to know, as for documents: the responsible authority sees every task's answers; anyone else those of
    their own organisation's or service's tasks, those they did, and advice the family agreed to share with them."""
    if can_act_on_task(session, user, task) or (task.completed_by_id is not None and task.completed_by_id == user.id):
        return True
    if task.role == Role.FAMILY.value and is_family_of(session, user, case.id):
        return True
    tokens = staff_tokens(roles_in(session, user), case.la_id) if can_see_case(session, user, case) else set()
    if "la" in tokens:
        return True
    own = {f"role:{task.role}"} if task.role in LA_SERVICE_ROLES and task.organisation_id == case.la_id else set()
    if task.organisation_id is not None and task.organisation_id != case.la_id:
        own.add(f"org:{task.organisation_id}")
    if tokens & own:
        return True
    return task.role in ADVISER_ROLES and bool(tokens & advice_shared_with(session, case))
