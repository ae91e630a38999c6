"""The database: typed SQLAlchemy 2 models.

Workflow state is one JSON document per instance (without the spec, which is stored once per process version).
Everything a list or a report needs is a projection row written in the same transaction as the state, so that no
list ever deserializes a workflow.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from engine.store.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


class Organisation(Base):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # local_authority, health_body, setting, mediation_service, service
    kind: Mapped[str] = mapped_column(String(40), index=True)
    code: Mapped[str | None] = mapped_column(String(40), unique=True)
    # For settings: maintained_school, maintained_nursery, academy, free_school, fe_college, sixth_form_college,
    # non_maintained_special, independent_s41, early_years
    setting_type: Mapped[str | None] = mapped_column(String(40))
    maintaining_la_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    uses_ehcflow: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    email: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(Text)


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    last_sign_in_at: Mapped[datetime | None]
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    # When an administrator (or ``ehcflow users create``) set the password: it is temporary until the person chooses
    # their own, and stops signing in after EHCFLOW_TEMP_PASSWORD_DAYS. None: the person chose it.
    temporary_password_set_at: Mapped[datetime | None]

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", cascade="all, delete-orphan")


class Membership(Base):
    """A role a user holds in an organisation."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id", "role", name="uq_membership_user_org_role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    role: Mapped[str] = mapped_column(String(40))

    user: Mapped[User] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation | None] = relationship()


def full_name(first_name: str, last_name: str) -> str:
    """A child's name as the pages and the routes' data show it (also for a case read as columns)."""
    return f"{first_name} {last_name}"


class Case(Base):
    """One child or young person with one responsible local authority."""

    __tablename__ = "case_record"
    # The case list's order (child's last name, first name): on SQLite the migration makes the names COLLATE NOCASE,
    # so that the list reads this index instead of sorting every case (engine.lists.cases.case_list).
    __table_args__ = (Index("ix_case_record_child_sort", "child_last_name", "child_first_name", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    child_first_name: Mapped[str] = mapped_column(String(100))
    child_last_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date | None] = mapped_column(Date, index=True)
    la_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    # What a caseworker matches a child on when a request arrives (engine/intake/registration.py).
    address: Mapped[str | None] = mapped_column(Text)
    postcode: Mapped[str | None] = mapped_column(String(10))
    upn: Mapped[str | None] = mapped_column(String(13), index=True)
    # Optional identifiers where the family or a service gives them (migration 0013): the NHS number (10 digits, its
    # last a check digit) and the unique learner number (10 digits) a young person has from 14 in further education.
    nhs_number: Mapped[str | None] = mapped_column(String(10))
    uln: Mapped[str | None] = mapped_column(String(10))
    # The DfE's codes for the SEN2 return's person module (engine/intake/child_details.py lists them): sex M, F or U,
    # ethnicity a main code of the common basic data set (WBRI ... REFU, NOBT). None: not recorded yet.
    sex: Mapped[str | None] = mapped_column(String(1))
    ethnicity: Mapped[str | None] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(40), default="open")
    stage: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    closed_reason: Mapped[str | None] = mapped_column(Text)

    la: Mapped[Organisation] = relationship()
    parties: Mapped[list[CaseParty]] = relationship(back_populates="case", cascade="all, delete-orphan")

    @property
    def child_name(self) -> str:
        return full_name(self.child_first_name, self.child_last_name)


class CaseParty(Base):
    """Who is involved in a case: an organisation acting in a role, or a family member (a user)."""

    __tablename__ = "case_party"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    role: Mapped[str] = mapped_column(String(40))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    relationship_to_child: Mapped[str | None] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    case: Mapped[Case] = relationship(back_populates="parties")
    organisation: Mapped[Organisation | None] = relationship()
    user: Mapped[User | None] = relationship()


class ProcessVersion(Base):
    """One deployed version of a process: the hash of its files, the files, and its parsed spec stored once."""

    __tablename__ = "process_version"
    __table_args__ = (UniqueConstraint("process_id", "version_hash", name="uq_process_version_process_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    version_hash: Mapped[str] = mapped_column(String(64))
    files: Mapped[dict[str, Any]]
    spec_json: Mapped[str] = mapped_column(Text)
    deployed_at: Mapped[datetime]
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    is_current: Mapped[bool] = mapped_column(Boolean, default=True, index=True)

    deployed_by: Mapped[User | None] = relationship()

    @property
    def short_hash(self) -> str:
        return self.version_hash[:10]


# The statuses of an instance that can still move on by itself (take a message, fire a timer, open a task).
ACTIVE_STATUSES = ("running", "waiting_person", "waiting_timer")


class ProcessInstance(Base):
    __tablename__ = "process_instance"
    __table_args__ = (
        Index("ix_process_instance_status_timer", "status", "next_timer_due"),
        Index("ix_process_instance_earliest_due", "earliest_due", "id"),
        Index("ix_process_instance_status_earliest_due", "status", "earliest_due", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(100), index=True)
    parent_instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    # running, waiting_person, waiting_timer, suspended, failed, completed, terminated
    status: Mapped[str] = mapped_column(String(20), index=True)
    state: Mapped[str] = mapped_column(Text)
    serializer_version: Mapped[str] = mapped_column(String(20))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    next_timer_due: Mapped[datetime | None] = mapped_column(index=True)
    last_error: Mapped[dict[str, Any] | None]
    status_before_suspend: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The earliest due date of the instance's unfinished work (an open or missed-and-unmet deadline, an open task);
    # overdue exactly when before today. Written only by the database's triggers (migration 0021), never by the ORM.
    earliest_due: Mapped[date | None] = mapped_column(Date, deferred=True)

    # Read-only links: the rows are written by their id columns, so a flush has no links to work out (every command
    # flushes an instance and its tasks, and the unit of work's dependency pass was an eighth of its flush).
    case: Mapped[Case] = relationship(viewonly=True)
    version: Mapped[ProcessVersion] = relationship(viewonly=True)

    # A concurrent writer that saw an older revision gets StaleDataError instead of silently overwriting.
    __mapper_args__ = {"version_id_col": revision}


class HumanTask(Base):
    """Projection of the user tasks of an instance, open and completed."""

    __tablename__ = "human_task"
    __table_args__ = (
        UniqueConstraint("instance_id", "task_guid", name="uq_human_task_instance_guid"),
        Index("ix_human_task_open_role_org", "status", "role", "organisation_id"),
        # The task lists' due order, read as index ranges (engine.lists.tasks._due_order_ids).
        Index("ix_human_task_status_due", "status", "due_date", "id"),
        # Read by instance, and by instance and status in due order to keep process_instance.earliest_due.
        Index("ix_human_task_instance_status_due", "instance_id", "status", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    task_guid: Mapped[str] = mapped_column(String(36))
    process_id: Mapped[str] = mapped_column(String(100))
    bpmn_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300))
    # What the task is about (the adviser, the setting, the review): the task's ``taskDetail`` expression, worked out
    # when it opened. None: the route declares none.
    detail: Mapped[str | None] = mapped_column(String(300))
    lane: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str | None] = mapped_column(String(40))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    due_date: Mapped[date | None] = mapped_column(Date, index=True)
    form: Mapped[str | None] = mapped_column(String(200))
    documentation: Mapped[str | None] = mapped_column(Text)
    # open, completed, cancelled
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    submitted_data: Mapped[dict[str, Any] | None]
    draft_data: Mapped[dict[str, Any] | None]

    # Read-only links, as on ProcessInstance: written by their id columns only.
    case: Mapped[Case] = relationship(viewonly=True)
    instance: Mapped[ProcessInstance] = relationship(viewonly=True)
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id], viewonly=True)
    completed_by: Mapped[User | None] = relationship(foreign_keys=[completed_by_id], viewonly=True)


class Timer(Base):
    """Projection of a waiting timer: the worker reads the instance's next_timer_due; this is for people."""

    __tablename__ = "timer"
    __table_args__ = (UniqueConstraint("instance_id", "task_guid", name="uq_timer_instance_guid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    task_guid: Mapped[str] = mapped_column(String(36))
    bpmn_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(String(300))
    due_at: Mapped[datetime] = mapped_column(index=True)
    # waiting, fired, cancelled
    status: Mapped[str] = mapped_column(String(20), default="waiting")
    fired_at: Mapped[datetime | None]


class Deadline(Base):
    """A statutory deadline on a case: due date, met or missed, and any timescale exception claimed."""

    __tablename__ = "deadline"
    __table_args__ = (
        Index("ix_deadline_case_key", "case_id", "key"),
        # Read by instance, and by instance and status in due order to keep process_instance.earliest_due.
        Index("ix_deadline_instance_status_due", "instance_id", "status", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    key: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    process_id: Mapped[str | None] = mapped_column(String(100))
    # The timer that measures it, and the task that meets it, when the deadline comes from a BPMN timer.
    timer_guid: Mapped[str | None] = mapped_column(String(36), index=True)
    attached_task_guid: Mapped[str | None] = mapped_column(String(36))
    due_date: Mapped[date] = mapped_column(Date, index=True)
    started_on: Mapped[date | None] = mapped_column(Date)
    met_at: Mapped[datetime | None]
    missed: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    missed_at: Mapped[datetime | None]
    # open, met, missed, cancelled (the work it timed no longer has to be done, e.g. the request was withdrawn)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    exception_reason: Mapped[str | None] = mapped_column(String(60))
    exception_detail: Mapped[str | None] = mapped_column(Text)
    exception_family_told_on: Mapped[date | None] = mapped_column(Date)
    exception_claimed_at: Mapped[datetime | None]
    exception_claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    @property
    def met_on_time(self) -> bool:
        return self.met_at is not None and not self.missed


class AuditEvent(Base):
    """Append-only: the migration adds database triggers that refuse UPDATE and DELETE."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id"), index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(String(60))
    summary: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any] | None]

    actor: Mapped[User | None] = relationship()


class Message(Base):
    """A message sent to a case from outside a process (e.g. "mediation requested")."""

    __tablename__ = "message"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any] | None]
    sent_at: Mapped[datetime]
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    # delivered, undeliverable
    status: Mapped[str] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text)


class Incident(Base):
    """A failed command on an instance, with where it failed, kept for an admin to read and retry."""

    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    at: Mapped[datetime]
    command: Mapped[str] = mapped_column(String(40))
    command_args: Mapped[dict[str, Any] | None]
    file: Mapped[str | None] = mapped_column(String(200))
    element_id: Mapped[str | None] = mapped_column(String(100))
    line: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class Document(Base):
    """A generated document on a case. Issued documents are never changed; a new one is made.

    ``audience`` is who may read it (need to know), decided when it is issued: tokens such as "la", "family",
    "org:<id>", "role:social_care", "advice" (engine.people.access explains them). None only for a row written
    without one, which is read by its recipients.
    """

    __tablename__ = "document"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    kind: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(300))
    body_html: Mapped[str] = mapped_column(Text)
    recipients: Mapped[list[Any] | None]
    appealable: Mapped[bool] = mapped_column(Boolean, default=False)
    issued_at: Mapped[datetime]
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    audience: Mapped[list[Any] | None]


@event.listens_for(AuditEvent, "before_update")
def _refuse_audit_update(mapper: Any, connection: Any, target: AuditEvent) -> None:
    raise PermissionError("the audit trail is append-only")


@event.listens_for(AuditEvent, "before_delete")
def _refuse_audit_delete(mapper: Any, connection: Any, target: AuditEvent) -> None:
    raise PermissionError("the audit trail is append-only")


class PlanVersion(Base):
    """One version of a case's EHC plan: its sections A–K as structured data.

    Draft versions may be edited; an issued version (final or amended) never changes: the migration adds a trigger
    that refuses any UPDATE of an issued row's content, and a new version is made instead.
    """

    __tablename__ = "plan_version"
    __table_args__ = (UniqueConstraint("case_id", "number", name="uq_plan_version_case_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"), index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    number: Mapped[int] = mapped_column(Integer)
    # draft, final, amended
    kind: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(80))
    sections: Mapped[dict[str, Any]]
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("plan_version.id"))
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    issued_at: Mapped[datetime | None]
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    @property
    def is_issued(self) -> bool:
        return self.issued_at is not None


@event.listens_for(PlanVersion, "before_update")
def _refuse_issued_plan_change(mapper: Any, connection: Any, target: PlanVersion) -> None:
    from sqlalchemy import inspect as sa_inspect

    history = sa_inspect(target).attrs.issued_at.history
    was_issued = bool(history.deleted and history.deleted[0] is not None) or (
        not history.has_changes() and target.issued_at is not None)
    if was_issued:
        raise PermissionError("an issued plan never changes; make a new version")
