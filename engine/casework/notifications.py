"""Email notifications through an outbox: queued from the projections, sent by the worker.

``queue_notifications`` looks at what changed (tasks opened or reassigned, tasks due soon or overdue, documents
issued) and adds one ``OutboxEmail`` row per event and recipient; a unique key makes it safe to run as often as you
like, from several workers at once. ``deliver_outbox`` sends the pending rows by SMTP, or, when no SMTP server is
configured (development), writes each as an ``.eml`` file in the outbox folder.

An email says only that something is waiting and links to it: no child's name, case reference or task name, since
email is not a safe place for personal data. The person signs in to see what it is about.

The worker calls ``run_notifications`` after each pass::

    Worker(engine).run_forever(after_pass=lambda: run_notifications(session_factory, engine.clock, settings))
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from engine.people.api_tokens import token_accounts
from engine.people.roles import Role
from engine.statutory.clock import Clock
from engine.store.db import instance_dir
from engine.store.models import AuditEvent, CaseParty, Document, HumanTask, Membership, User
from engine.store.outbox import OrganisationNotice, OutboxEmail

log = logging.getLogger(__name__)

#: Paths of the web pages the emails link to (webui routes; a web test checks they exist).
TASK_PATH = "/tasks/{task_id}"
STAFF_DOCUMENT_PATH = "/cases/{case_id}/documents/{document_id}"
FAMILY_DOCUMENT_PATH = "/family/cases/{case_id}/documents/{document_id}"
#: A notice to an organisation about no single case (the termly list of reviews, engine/casework/termly_review_lists.py).
ORGANISATION_NOTICE_PATH = "/notices/{notice_id}"

SUBJECTS = {
    "task_opened": "A task is waiting for you in EHC Flow",
    "task_assigned": "A task has been assigned to you in EHC Flow",
    "task_due_soon": "A task is due soon in EHC Flow",
    "task_overdue": "A task is overdue in EHC Flow",
    "document_issued": "A new document is ready in EHC Flow",
    "organisation_notice": "A new notice for your organisation is ready in EHC Flow",
}

OPENINGS = {
    "task_opened": "A task is waiting for you.",
    "task_assigned": "A task has been assigned to you.",
    "task_due_soon": "A task is due soon.",
    "task_overdue": "A task is overdue.",
    "document_issued": "A new document has been issued.",
    "organisation_notice": "A new notice for your organisation has been issued.",
}

# Which role of an organisation receives a document addressed to that organisation.
DOCUMENT_RECIPIENT_ROLES: dict[str, tuple[str, ...]] = {
    "health_body": (Role.HEALTH.value,),
    "setting": (Role.SCHOOL.value,),
    "social_care": (Role.SOCIAL_CARE.value,),
    "educational_psychologist": (Role.EDUCATIONAL_PSYCHOLOGIST.value,),
    "local_authority": (Role.CASEWORKER.value,),
    "mediation_service": (Role.MEDIATION.value,),
}
FAMILY_ROLES = ("parent", "young_person", "family")


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


@dataclass
class NotificationSettings:
    """Where links point and how email leaves; ``from_env`` reads the ``EHCFLOW_*`` variables."""

    base_url: str = "http://127.0.0.1:5000"
    sender: str = "EHC Flow <no-reply@ehcflow.invalid>"
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    outbox_dir: Path = field(default_factory=lambda: instance_dir() / "outbox")
    due_soon_days: int = 7
    lookback_days: int = 2
    max_attempts: int = 5
    batch_size: int = 50

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> NotificationSettings:
        env = dict(os.environ if environ is None else environ)
        return cls(
            base_url=env.get("EHCFLOW_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
            sender=env.get("EHCFLOW_MAIL_FROM", "EHC Flow <no-reply@ehcflow.invalid>"),
            smtp_host=env.get("EHCFLOW_SMTP_HOST") or None,
            smtp_port=int(env.get("EHCFLOW_SMTP_PORT") or 587),
            smtp_user=env.get("EHCFLOW_SMTP_USER") or None,
            smtp_password=env.get("EHCFLOW_SMTP_PASSWORD") or None,
            smtp_starttls=_flag(env.get("EHCFLOW_SMTP_STARTTLS"), True),
            smtp_ssl=_flag(env.get("EHCFLOW_SMTP_SSL"), False),
            outbox_dir=Path(env["EHCFLOW_OUTBOX_DIR"]) if env.get("EHCFLOW_OUTBOX_DIR") else instance_dir() / "outbox",
        )


# ---- queueing --------------------------------------------------------------------------------------------------------

def body_for(kind: str, url: str) -> str:
    return (
        f"Hello,\n\n{OPENINGS[kind]}\n\nSign in to EHC Flow to see it:\n{url}\n\n"
        "For your privacy this email does not say who or what it is about.\n"
        "This email was sent automatically. Do not reply to it.\n"
    )


class _Queue:
    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now
        self.added = 0
        self._seen: set[str] = set()

    def add(self, key: str, kind: str, user: User, link_path: str, case_id: int | None) -> None:
        if key in self._seen or not user.active or not user.email:
            return
        self._seen.add(key)
        if self.session.scalar(select(OutboxEmail.id).where(OutboxEmail.key == key)) is not None:
            return
        row = OutboxEmail(key=key, kind=kind, to_user_id=user.id, to_address=user.email, subject=SUBJECTS[kind],
                          body="", link_path=link_path, case_id=case_id, created_at=self.now, status="pending",
                          attempts=0, next_attempt_at=self.now)
        try:
            with self.session.begin_nested():  # another worker may queue the same key at the same moment
                self.session.add(row)
        except IntegrityError:
            return
        self.added += 1


def _users_with_role(session: Session, organisation_id: int | None, roles: Iterable[str]) -> list[User]:
    if organisation_id is None:
        return []
    return list(session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == organisation_id, Membership.role.in_(tuple(roles)), User.active.is_(True),
               User.id.not_in(token_accounts()))  # an API token's account has no mailbox
        .order_by(User.id)
    ).unique())


def _family_users(session: Session, case_id: int, young_person_only: bool = False) -> list[User]:
    query = (select(User).join(CaseParty, CaseParty.user_id == User.id)
             .where(CaseParty.case_id == case_id, CaseParty.role == Role.FAMILY.value, CaseParty.active.is_(True),
                    User.active.is_(True)))
    if young_person_only:
        query = query.where(func.lower(CaseParty.relationship_to_child) == "young person")
    return list(session.scalars(query.order_by(User.id)).unique())


def task_recipients(session: Session, task: HumanTask) -> list[User]:
    """Whoever the task is for: its assignee, else the family on the case, else the team holding its role."""
    if task.assignee_id is not None:
        user = session.get(User, task.assignee_id)
        return [user] if user is not None and user.active else []
    if task.role == Role.FAMILY.value:
        return _family_users(session, task.case_id)
    if task.role is None:
        return []
    return _users_with_role(session, task.organisation_id, (task.role,))


def document_recipients(session: Session, document: Document) -> list[tuple[User, bool]]:
    """(user, is_family) for each person a document is addressed to (or copied to) who can sign in."""
    out: list[tuple[User, bool]] = []
    seen: set[int] = set()
    for recipient in document.recipients or []:
        if not isinstance(recipient, dict):
            continue
        role = str(recipient.get("role") or "")
        users: list[tuple[User, bool]] = []
        if role in FAMILY_ROLES:
            if isinstance(recipient.get("user_id"), int):
                user = session.get(User, recipient["user_id"])
                users = [(user, True)] if user is not None and user.active else []
            else:
                # A notice to a young person is theirs: not for the parents, unless named as a recipient themselves.
                users = [(u, True) for u in _family_users(session, document.case_id, role == "young_person")]
        elif role in DOCUMENT_RECIPIENT_ROLES and isinstance(recipient.get("organisation_id"), int):
            users = [(u, False) for u in _users_with_role(session, recipient["organisation_id"],
                                                          DOCUMENT_RECIPIENT_ROLES[role])]
        for user, family in users:
            if user.id not in seen:
                seen.add(user.id)
                out.append((user, family))
    return out


def queue_notifications(session_factory: sessionmaker[Session], clock: Clock,
                        settings: NotificationSettings | None = None) -> int:
    """Adds the emails that recent events call for; returns how many were queued."""
    settings = settings or NotificationSettings()
    now = clock.now()
    today = clock.today()
    since = now - timedelta(days=settings.lookback_days)
    with session_factory() as session:
        queue = _Queue(session, now)
        _queue_opened(session, queue, since)
        _queue_reassigned(session, queue, since)
        _queue_due(session, queue, today, now, settings)
        _queue_documents(session, queue, since)
        session.commit()
        return queue.added


def queue_organisation_notice(session: Session, notice: OrganisationNotice, now: datetime) -> int:
    """Queues an email to each person who holds the notice's recipient role at its organisation (in the caller's
    transaction); returns how many were queued."""
    queue = _Queue(session, now)
    path = ORGANISATION_NOTICE_PATH.format(notice_id=notice.id)
    for user in _users_with_role(session, notice.organisation_id,
                                 DOCUMENT_RECIPIENT_ROLES.get(notice.recipient_role, ())):
        queue.add(f"organisation_notice:{notice.id}:{user.id}", "organisation_notice", user, path, None)
    return queue.added


def _queue_opened(session: Session, queue: _Queue, since: datetime) -> None:
    for task in session.scalars(select(HumanTask).where(HumanTask.status == "open", HumanTask.created_at >= since)):
        for user in task_recipients(session, task):
            queue.add(f"task_opened:{task.id}:{user.id}", "task_opened", user,
                      TASK_PATH.format(task_id=task.id), task.case_id)


def _queue_reassigned(session: Session, queue: _Queue, since: datetime) -> None:
    events = session.scalars(select(AuditEvent).where(AuditEvent.at >= since, AuditEvent.action == "task_reassigned"))
    for event in events:
        task_id = (event.detail or {}).get("task_id")
        task = session.get(HumanTask, task_id) if isinstance(task_id, int) else None
        if task is None or task.status != "open" or task.assignee_id is None or task.assignee_id == event.actor_id:
            continue
        user = session.get(User, task.assignee_id)
        if user is not None:
            queue.add(f"task_assigned:{task.id}:{user.id}:{event.id}", "task_assigned", user,
                      TASK_PATH.format(task_id=task.id), task.case_id)


def _queue_due(session: Session, queue: _Queue, today: date, now: datetime, settings: NotificationSettings) -> None:
    soon = today + timedelta(days=settings.due_soon_days)
    # A task opened in the last day has just been announced; its reminder comes later.
    opened_before = now - timedelta(days=1)
    for task in session.scalars(select(HumanTask).where(HumanTask.status == "open", HumanTask.due_date.is_not(None),
                                                        HumanTask.due_date <= soon)):
        assert task.due_date is not None
        if task.due_date < today:
            kind = "task_overdue"
        elif task.created_at <= opened_before:
            kind = "task_due_soon"
        else:
            continue
        for user in task_recipients(session, task):
            queue.add(f"{kind}:{task.id}:{task.due_date.isoformat()}:{user.id}", kind, user,
                      TASK_PATH.format(task_id=task.id), task.case_id)


def _queue_documents(session: Session, queue: _Queue, since: datetime) -> None:
    for document in session.scalars(select(Document).where(Document.issued_at >= since)):
        for user, family in document_recipients(session, document):
            path = (FAMILY_DOCUMENT_PATH if family else STAFF_DOCUMENT_PATH).format(case_id=document.case_id,
                                                                                     document_id=document.id)
            queue.add(f"document_issued:{document.id}:{user.id}", "document_issued", user, path, document.case_id)


# ---- delivery --------------------------------------------------------------------------------------------------------

class Transport:
    """Sends messages: SMTP when a host is configured, else .eml files in the outbox folder."""

    def __init__(self, settings: NotificationSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except smtplib.SMTPException:
                pass
            self._smtp = None

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            s = self.settings
            assert s.smtp_host is not None
            context = ssl.create_default_context()
            if s.smtp_ssl:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=30, context=context)
            else:
                smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=30)
                if s.smtp_starttls:
                    smtp.starttls(context=context)
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password or "")
            self._smtp = smtp
        return self._smtp

    def send(self, message: EmailMessage, row: OutboxEmail) -> None:
        if self.settings.smtp_host:
            self._connection().send_message(message)
            return
        folder = self.settings.outbox_dir
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{row.created_at:%Y%m%dT%H%M%S}-{row.id:06d}-{row.kind}.eml"
        path.write_bytes(bytes(message))


def build_message(row: OutboxEmail, settings: NotificationSettings, now: datetime) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain="ehcflow.invalid")
    message["Auto-Submitted"] = "auto-generated"
    # A body written when queued may hold a link; the base URL is only known where the email is sent.
    body = row.body.replace("{base_url}", settings.base_url) if row.body else body_for(row.kind,
                                                                                      settings.base_url + row.link_path)
    message.set_content(body)
    return message


def deliver_outbox(session_factory: sessionmaker[Session], settings: NotificationSettings | None = None,
                   clock: Clock | None = None, transport: Callable[[NotificationSettings], Transport] = Transport) -> int:
    """Sends up to ``batch_size`` pending emails; returns how many were sent. Failures are retried with a growing
    delay and given up (status ``failed``) after ``max_attempts``."""
    settings = settings or NotificationSettings.from_env()
    clock = clock or Clock()
    now = clock.now()
    sent = 0
    with session_factory() as session:
        query = (select(OutboxEmail).where(OutboxEmail.status == "pending",
                                           (OutboxEmail.next_attempt_at.is_(None)) | (OutboxEmail.next_attempt_at <= now))
                 .order_by(OutboxEmail.id).limit(settings.batch_size))
        if session.bind is not None and session.bind.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = list(session.scalars(query))
        with transport(settings) as channel:
            for row in rows:
                row.body = row.body or body_for(row.kind, settings.base_url + row.link_path)
                try:
                    channel.send(build_message(row, settings, now), row)
                except (OSError, smtplib.SMTPException) as exc:
                    row.attempts += 1
                    row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                    if row.attempts >= settings.max_attempts:
                        row.status = "failed"
                        log.warning("gave up sending email %s after %d attempts: %s", row.id, row.attempts, exc)
                    else:
                        row.next_attempt_at = now + timedelta(minutes=5 * 2 ** (row.attempts - 1))
                    continue
                row.attempts += 1
                row.status = "sent"
                row.sent_at = now
                row.last_error = None
                sent += 1
        session.commit()
    return sent


def run_notifications(session_factory: sessionmaker[Session], clock: Clock,
                      settings: NotificationSettings | None = None) -> tuple[int, int]:
    """Queues what is due and sends what is queued: (queued, sent). Never raises (the worker must keep going)."""
    settings = settings or NotificationSettings.from_env()
    try:
        queued = queue_notifications(session_factory, clock, settings)
        sent = deliver_outbox(session_factory, settings, clock)
    except Exception:  # noqa: BLE001 - a mail problem must not stop the timer worker
        log.exception("notifications failed; will try again on the next pass")
        return 0, 0
    if queued or sent:
        log.info("notifications: %d queued, %d sent", queued, sent)
    return queued, sent


__all__ = [
    "NotificationSettings", "Transport", "body_for", "build_message", "deliver_outbox", "document_recipients",
    "queue_notifications", "queue_organisation_notice", "run_notifications", "task_recipients",
]
