"""Requests for an EHC needs assessment: filled in online page by page (a draft), received, or recorded by a
caseworker when they came by email, post or phone; then closed when the LA will not take them forward.

The moment of receipt is kept exactly: it is when the online request was sent, or what the caseworker records for a
letter or an email. The needs assessment counts its six weeks from it (``decide_by``).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import FormInvalid, InvalidState, NotFound
from engine.intake.accounts import family_account, send_set_password_link
from engine.intake.questions import CHANNELS, COLUMNS, check_all, first_page_with_problems
from engine.statutory import calendar
from engine.store.models import AuditEvent, Organisation, User
from engine.store.outbox import OutboxEmail
from engine.store.requests import AssessmentRequest

#: Weeks the LA has to decide whether to assess (reg 5(1)); the needs assessment route carries the same figure.
DECIDE_WEEKS = 6
DRAFT_FIELDS_LIMIT = 40


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def decide_by(received_at: datetime) -> date:
    """The date by which the LA must decide whether to assess: six weeks from the day the request counts as received
    (a working day before 17:00 in England, otherwise the next working day), as the route works it out."""
    return calendar.add_weeks(calendar.statutory_start_date(received_at), DECIDE_WEEKS)


def local_authorities(session: Session) -> list[Organisation]:
    query = select(Organisation).where(Organisation.kind == "local_authority", Organisation.active.is_(True),
                                       Organisation.uses_ehcflow.is_(True))
    return list(session.scalars(query.order_by(Organisation.name)))


def start_draft(session: Session, la_id: int, now: datetime, requester: User | None = None,
                requester_org_id: int | None = None) -> tuple[AssessmentRequest, str]:
    """A new draft for this LA; returns it and the token that finds it again (kept in the person's session only)."""
    la = session.get(Organisation, la_id)
    if la is None or la.kind != "local_authority" or not la.active:
        raise NotFound("No such local authority")
    token = secrets.token_urlsafe(32)
    row = AssessmentRequest(la_id=la_id, status="draft", channel="online", answers={}, attachments=[],
                            draft_token_hash=_hash(token), created_at=now, updated_at=now,
                            requester_user_id=requester.id if requester else None, requester_org_id=requester_org_id)
    session.add(row)
    session.flush()
    return row, token


def draft_for(session: Session, token: str | None) -> AssessmentRequest | None:
    if not token:
        return None
    return session.scalar(select(AssessmentRequest).where(AssessmentRequest.draft_token_hash == _hash(token),
                                                          AssessmentRequest.status == "draft"))


def save_answers(row: AssessmentRequest, answers: dict[str, str], now: datetime) -> None:
    if row.status != "draft":
        raise InvalidState("This request has already been sent")
    merged = {**(row.answers or {}), **answers}
    if len(merged) > DRAFT_FIELDS_LIMIT:
        raise FormInvalid({"form": "Too many answers"})
    row.answers = merged
    row.updated_at = now


def _apply(row: AssessmentRequest, answers: dict[str, str]) -> None:
    for name in COLUMNS:
        value = answers.get(name) or None
        if name == "child_date_of_birth" and value:
            value = date.fromisoformat(value)
        setattr(row, name, value)
    row.answers = {k: v for k, v in answers.items() if k not in COLUMNS and v}


def _receive(session: Session, row: AssessmentRequest, received_at: datetime, actor: User | None) -> None:
    row.status = "new"
    row.received_at = received_at
    row.draft_token_hash = None
    session.flush()
    row.reference = f"REQ-{calendar.to_london_date(received_at).year}-{row.id:05d}"
    email = row.requester_email
    if row.requester_type in ("parent", "young_person") and email:
        user, created = family_account(session, email, row.requester_name or "", row.updated_at)
        row.requester_user_id = user.id if user is not None else None
        if user is not None and (created or not user.password_hash):
            send_set_password_link(session, user, row.updated_at,
                                   f"{row.la.name} has received your request for an EHC needs assessment "
                                   f"({row.reference}). With an account you can follow it once the authority has "
                                   "registered it.")
    if email:
        session.add(OutboxEmail(
            key=f"request_received:{row.id}", kind="request_received", to_user_id=row.requester_user_id,
            to_address=email, subject=f"Request {row.reference} received",
            body=(f"Hello,\n\n{row.la.name} received your request {row.reference} on "
                  f"{calendar.to_london_date(received_at):%-d %B %Y}. It must decide whether to carry out an EHC needs "
                  f"assessment by {decide_by(received_at):%-d %B %Y}.\n\nThis email was sent automatically. "
                  "Do not reply to it.\n"),
            link_path="/", case_id=None, created_at=row.updated_at, status="pending", attempts=0,
            next_attempt_at=row.updated_at))
    session.add(AuditEvent(at=row.updated_at, actor_id=actor.id if actor else None, action="request_received",
                           summary=f"Request {row.reference} received ({CHANNELS.get(row.channel, row.channel)})",
                           detail={"request_id": row.id, "received_at": received_at.isoformat()}))


def submit_draft(session: Session, row: AssessmentRequest, now: datetime, actor: User | None = None) -> None:
    """Sends a draft whose every page passes: it is received now."""
    if row.status != "draft":
        raise InvalidState("This request has already been sent")
    answers = dict(row.answers or {})
    if first_page_with_problems(answers, calendar.to_london_date(now)) is not None:
        raise FormInvalid({"form": "Some answers are missing or need changing"})
    clean, _ = check_all(answers, calendar.to_london_date(now))
    _apply(row, clean)
    row.updated_at = now
    _receive(session, row, now, actor)


def record_request(session: Session, la_id: int, raw: dict[str, str], channel: str, received_at: datetime | None,
                   actor: User | None, now: datetime) -> AssessmentRequest:
    """A request that came by email, post or phone, recorded by a caseworker with its real moment of receipt."""
    clean, errors = check_all(raw, calendar.to_london_date(now), online=False)
    if channel not in CHANNELS or channel == "online":
        errors["channel"] = "Select how the request arrived"
    if received_at is None:
        errors["received_at"] = "Enter the date and time the request was received"
    elif received_at.tzinfo is None:
        errors["received_at"] = "The time of receipt needs its time zone"
    elif received_at > now:
        errors["received_at"] = "The date and time the request was received must be in the past"
    if errors:
        raise FormInvalid(errors)
    assert received_at is not None
    row = AssessmentRequest(la_id=la_id, status="draft", channel=channel, answers={}, attachments=[],
                            created_at=now, updated_at=now)
    session.add(row)
    _apply(row, clean)
    session.flush()
    _receive(session, row, received_at, actor)
    return row


def open_requests(session: Session, la_ids: set[int]) -> list[AssessmentRequest]:
    """Requests waiting to be registered, oldest receipt first."""
    if not la_ids:
        return []
    return list(session.scalars(select(AssessmentRequest).where(AssessmentRequest.la_id.in_(la_ids),
                                                                AssessmentRequest.status == "new")
                                .order_by(AssessmentRequest.received_at, AssessmentRequest.id)))


def recent_requests(session: Session, la_ids: set[int], limit: int = 50) -> list[AssessmentRequest]:
    """Requests registered or closed most recently."""
    if not la_ids:
        return []
    return list(session.scalars(select(AssessmentRequest).where(AssessmentRequest.la_id.in_(la_ids),
                                                                AssessmentRequest.status.in_(("registered", "closed")))
                                .order_by(func.coalesce(AssessmentRequest.registered_at, AssessmentRequest.closed_at)
                                          .desc()).limit(limit)))


def close_request(session: Session, row: AssessmentRequest, actor: User, reason: str, now: datetime) -> None:
    """Not taken forward (for example not this LA's area): closed with the reason, and the requester told by email."""
    reason = reason.strip()
    if not reason:
        raise FormInvalid({"reason": "Enter why the request is not being taken forward"})
    if len(reason) > 2000:
        raise FormInvalid({"reason": "The reason must be 2000 characters or fewer"})
    if row.status != "new":
        raise InvalidState("This request has already been registered or closed")
    row.status = "closed"
    row.closed_at = now
    row.closed_by_id = actor.id
    row.closed_reason = reason
    row.updated_at = now
    if row.requester_email:
        session.add(OutboxEmail(
            key=f"request_closed:{row.id}", kind="request_closed", to_user_id=row.requester_user_id,
            to_address=row.requester_email, subject=f"Your request {row.reference}",
            body=(f"Hello,\n\n{row.la.name} will not take your request {row.reference} forward.\n\nThe reason: "
                  f"{reason}\n\nIf you disagree, contact {row.la.name}. This email was sent automatically. "
                  "Do not reply to it.\n"),
            link_path="/", case_id=None, created_at=now, status="pending", attempts=0, next_attempt_at=now))
    session.add(AuditEvent(at=now, actor_id=actor.id, action="request_closed",
                           summary=f"Request {row.reference} closed: {reason[:200]}", detail={"request_id": row.id}))
