"""A health body's notice to the local authority about a young child (workflows/early_years_notice.bpmn, issue 19).

The Children and Families Act 2014 s.23: a health body (a clinical commissioning group, an NHS trust) that thinks a
child under compulsory school age has, or probably has, special educational needs or a disability must first tell
the parents, give them the chance to discuss it, tell them of any voluntary organisation likely to help, and then
bring the child to the attention of the local authority (the SEND Code of Practice 5.13 and 5.14). EHC Flow carries
the notice as the message ``early_years_notice``, which starts the authority's consideration on the child's case.

Who may send it: a health professional (the health role) of a health body that is a party on the case, for a child
who is not yet of compulsory school age on the day.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import FormInvalid, InvalidState, NotAllowed, NotFound
from engine.library.forms import validate_form
from engine.people.access import roles_in
from engine.people.roles import Role
from engine.statutory import calendar
from engine.store.models import Case, CaseParty, Message, User

MESSAGE = "early_years_notice"
PROCESS_ID = "early_years_notice"

#: The health professional's form: what s.23 asks of them before the notice, and what the authority needs.
NOTICE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["concern", "parents_told_on", "parents_discussed", "voluntary_organisations_told", "notified_by"],
    "properties": {
        "concern": {"type": "string", "minLength": 1, "maxLength": 10000, "x-widget": "textarea",
                    "title": "What you have noticed: the special educational needs or disability you think the child "
                             "has, or probably has",
                    "x-error": "Describe what you have noticed"},
        "parents_told_on": {"type": "string", "format": "date", "x-widget": "date",
                            "title": "Date you told the parents",
                            "x-error": "Enter the date you told the parents, for example 2026-09-14"},
        "parents_discussed": {"type": "string", "enum": ["yes", "no"], "x-enum-titles": ["Yes", "No, they declined"],
                              "x-widget": "radios",
                              "title": "Did you give the parents the chance to discuss it with you?",
                              "x-error": "Select yes or no"},
        "voluntary_organisations_told": {
            "type": "string", "enum": ["yes", "none"],
            "x-enum-titles": ["Yes", "No: we know of none likely to help"], "x-widget": "radios",
            "title": "Did you tell the parents about voluntary organisations likely to help?",
            "x-error": "Select an answer"},
        "organisations_named": {"type": "string", "maxLength": 2000, "x-widget": "textarea",
                                "title": "Which organisations (if you told them of any)"},
        "notified_by": {"type": "string", "minLength": 1, "maxLength": 300,
                        "title": "Your name and role", "description": "For example Jo Smith, health visitor",
                        "x-error": "Enter your name and role"},
    },
}

#: Education Act 1996 s.8 and the Education (Start of Compulsory School Age) Order 1998: a child begins to be of
#: compulsory school age on the first of these days on or after their fifth birthday.
_PRESCRIBED_DAYS = ((3, 31), (8, 31), (12, 31))


def start_of_compulsory_school_age(birth: calendar.DateLike) -> date:
    """The day the child begins to be of compulsory school age: 31 March, 31 August or 31 December, the first on or
    after the fifth birthday (a birthday on one of those days is that day)."""
    fifth = calendar.add_years(birth, 5)
    for year in (fifth.year, fifth.year + 1):
        for month, day in _PRESCRIBED_DAYS:
            if date(year, month, day) >= fifth:
                return date(year, month, day)
    raise AssertionError("unreachable: 31 December is always on or after a day of the same year")


def under_compulsory_school_age(case: Case, on: date) -> bool:
    """The child is not yet of compulsory school age on that day (a case without a date of birth: unknown, no)."""
    return case.date_of_birth is not None and on < start_of_compulsory_school_age(case.date_of_birth)


def health_bodies_of(session: Session, user: User, case: Case) -> set[int]:
    """The health bodies on the case at which the user is a health professional."""
    held = {org for org, role in roles_in(session, user) if role == Role.HEALTH.value and org is not None}
    on_case = set(session.scalars(select(CaseParty.organisation_id).where(
        CaseParty.case_id == case.id, CaseParty.role == "health_body", CaseParty.active.is_(True))))
    return held & on_case


def may_send_notice(session: Session, user: User, case: Case, today: date) -> bool:
    """A health professional of a health body on the open case of a child under compulsory school age."""
    return (user.active and case.status == "open" and under_compulsory_school_age(case, today)
            and bool(health_bodies_of(session, user, case)))


def notices_sent(session: Session, case_id: int) -> list[Message]:
    """The notices already sent on the case, oldest first."""
    return list(session.scalars(select(Message).where(Message.case_id == case_id, Message.name == MESSAGE,
                                                      Message.status == "delivered").order_by(Message.id)))


def check_notice(answers: Mapping[str, Any], today: date) -> dict[str, Any]:
    """The answers, cleaned and checked: FormInvalid with the errors by field."""
    data = {key: (" ".join(str(value).split()) if key != "concern" and key != "organisations_named"
                  else str(value).strip())
            for key, value in answers.items() if key in NOTICE_SCHEMA["properties"] and value not in (None, "")}
    validate_form(NOTICE_SCHEMA, data)
    try:
        told = date.fromisoformat(data["parents_told_on"])
    except ValueError:
        raise FormInvalid({"parents_told_on": "Date you told the parents must be a real date"}) from None
    if told > today:
        raise FormInvalid({"parents_told_on": "Date you told the parents must be today or in the past"})
    return data


def send_notice(engine: Any, case_id: int, answers: Mapping[str, Any], actor: User) -> int:
    """Checks the sender and the answers, then sends the notice: it starts the authority's consideration on the
    case (a new early_years_notice route each time). Returns the instance id; NotFound, NotAllowed, InvalidState or
    FormInvalid otherwise, and nothing is sent."""
    today = engine.clock.today()
    with engine.session_factory() as session:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFound("No such case")
        if not health_bodies_of(session, actor, case):
            raise NotAllowed("Only a health professional of a health body on this case can send this notice")
        if not may_send_notice(session, actor, case, today):
            raise InvalidState("This notice is for a child under compulsory school age, on an open case")
        payload = check_notice(answers, today)
    instance_id: int = engine.send_message(case_id, MESSAGE, payload, actor)
    return instance_id


__all__ = ["MESSAGE", "NOTICE_SCHEMA", "PROCESS_ID", "check_notice", "health_bodies_of", "may_send_notice",
           "notices_sent", "send_notice", "start_of_compulsory_school_age", "under_compulsory_school_age"]
