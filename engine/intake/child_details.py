"""Correcting a child's details on an open case: names, date of birth, address, postcode, unique pupil number, and
the sex and ethnicity the DfE's SEN2 return asks for (as the DfE's codes).

The request for an assessment (``engine.intake.questions``) asks for most of these, but not sex or ethnicity, and a
detail can be wrong or missing once the case is open; the SEN2 export refuses a record missing one
(``engine.reports.sen2``) and sends the caseworker here. It lives in intake, beside the request's own checks, so that a
postcode or UPN is held to the same shape whichever way it came in; the UPN's check letter is checked here too.

Every change is audited with what it was and what it became. Bad input raises ``FormInvalid`` with a message per field
(GOV.UK wording) and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import FormInvalid
from engine.intake.questions import POSTCODE, check_upn, upn_check_letter
from engine.store.models import AuditEvent, Case, User

# The DfE's sex codes (common basic data set; SEN2 person module).
SEX_CODES: dict[str, str] = {"F": "Female", "M": "Male", "U": "Not known"}

# The DfE's main ethnicity codes (common basic data set), in the order the DfE lists them. REFU and NOBT are the DfE's
# own answers for "the family would rather not say" and "not asked yet": a record with either is complete.
ETHNICITY_CODES: dict[str, str] = {
    "WBRI": "White – British",
    "WIRI": "White – Irish",
    "WIRT": "White – Traveller of Irish heritage",
    "WOTH": "White – Any other White background",
    "WROM": "White – Gypsy or Roma",
    "MWBC": "Mixed – White and Black Caribbean",
    "MWBA": "Mixed – White and Black African",
    "MWAS": "Mixed – White and Asian",
    "MOTH": "Mixed – Any other mixed background",
    "AIND": "Asian or Asian British – Indian",
    "APKN": "Asian or Asian British – Pakistani",
    "ABAN": "Asian or Asian British – Bangladeshi",
    "AOTH": "Asian or Asian British – Any other Asian background",
    "BCRB": "Black or Black British – Caribbean",
    "BAFR": "Black or Black British – African",
    "BOTH": "Black or Black British – Any other Black background",
    "CHNE": "Chinese",
    "OOTH": "Any other ethnic group",
    "REFU": "Refused (the family would rather not say)",
    "NOBT": "Information not yet obtained",
}

NAME_LENGTH = 100  # case_record.child_first_name / child_last_name
ADDRESS_LENGTH = 500
FIELDS = ("first_name", "last_name", "date_of_birth", "address", "postcode", "upn", "nhs_number", "uln", "sex",
          "ethnicity")
LABELS = {"first_name": "First name", "last_name": "Last name", "date_of_birth": "Date of birth",
          "address": "Address", "postcode": "Postcode", "upn": "Unique pupil number (UPN)", "nhs_number": "NHS number",
          "uln": "Unique learner number (ULN)", "sex": "Sex", "ethnicity": "Ethnicity"}
_COLUMNS = {"first_name": "child_first_name", "last_name": "child_last_name"}

# A date as typed in a GOV.UK date input: (day, month, year), each as typed.
DateParts = tuple[str, str, str]


def _date_of_birth(raw: str | DateParts | date, today: date) -> tuple[date | None, str | None]:
    if isinstance(raw, date):
        born = raw
    elif isinstance(raw, tuple):
        parts = dict(zip(("day", "month", "year"), (p.strip() for p in raw), strict=True))
        missing = [name for name, value in parts.items() if not value]
        if len(missing) == 3:
            return None, "Enter the child's date of birth"
        if missing:
            return None, f"Date of birth must include a {' and a '.join(missing)}"
        if not all(value.isdigit() for value in parts.values()) or len(parts["year"]) != 4:
            return None, "Date of birth must be a real date"
        try:
            born = date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
        except ValueError:
            return None, "Date of birth must be a real date"
    else:
        text = raw.strip()
        if not text:
            return None, "Enter the child's date of birth"
        try:
            born = date.fromisoformat(text)
        except ValueError:
            return None, "Date of birth must be a real date"
    if born > today:
        return None, "Date of birth must be today or in the past"
    return born, None


def _postcode(text: str) -> str:
    """Upper case with one space before the last three characters (``sw1a1aa`` is ``SW1A 1AA``)."""
    compact = "".join(text.split()).upper()
    return f"{compact[:-3]} {compact[-3:]}" if len(compact) > 3 else compact


@dataclass(frozen=True)
class Change:
    field: str
    old: str
    new: str


def check_child_details(session: Session, case: Case, raw: Mapping[str, str | DateParts | date], today: date) \
        -> dict[str, object]:
    """The details cleaned (None for an optional one left empty); raises FormInvalid with a message per field."""
    errors: dict[str, str] = {}
    clean: dict[str, object] = {}

    def text(name: str) -> str:
        value = raw.get(name) or ""
        return " ".join(value.split()) if isinstance(value, str) else ""

    for name, missing in (("first_name", "Enter the child's first name"), ("last_name", "Enter the child's last name")):
        value = text(name)
        if not value:
            errors[name] = missing
        elif len(value) > NAME_LENGTH:
            errors[name] = f"{LABELS[name]} must be {NAME_LENGTH} characters or fewer"
        clean[name] = value
    born, problem = _date_of_birth(raw.get("date_of_birth") or "", today)
    if problem:
        errors["date_of_birth"] = problem
    clean["date_of_birth"] = born
    address = raw.get("address") or ""
    address = "\n".join(line.strip() for line in address.strip().splitlines() if line.strip()) \
        if isinstance(address, str) else ""
    if len(address) > ADDRESS_LENGTH:
        errors["address"] = f"Address must be {ADDRESS_LENGTH} characters or fewer"
    clean["address"] = address or None
    postcode = _postcode(text("postcode"))
    if postcode and not POSTCODE.match(postcode):
        errors["postcode"] = "Enter a real postcode, like SW1A 1AA"
    clean["postcode"] = postcode or None
    upn = text("upn").upper().replace(" ", "")
    if upn:
        problem = check_upn(upn)
        if problem is None:
            other = session.scalar(select(Case.reference).where(Case.la_id == case.la_id, Case.upn == upn,
                                                                Case.id != case.id).limit(1))
            if other is not None:
                problem = f"Case {other} already has this unique pupil number: check which child it belongs to"
        if problem:
            errors["upn"] = problem
    clean["upn"] = upn or None
    # Optional, and only where given (a caller that does not ask for them keeps what the case has).
    for name, check in (("nhs_number", check_nhs_number), ("uln", check_uln)):
        if name not in raw:
            clean[name] = getattr(case, name)
            continue
        number = "".join(text(name).replace("-", " ").split())
        problem = check(number) if number else None
        if problem:
            errors[name] = problem
        clean[name] = number or None
    for name, codes in (("sex", SEX_CODES), ("ethnicity", ETHNICITY_CODES)):
        code = text(name).upper()
        if code and code not in codes:
            errors[name] = f"Select the child's {name} from the list"
        clean[name] = code or None
    if errors:
        raise FormInvalid({name: errors[name] for name in FIELDS if name in errors})
    return clean


def check_nhs_number(number: str) -> str | None:
    """None for a real NHS number: 10 digits whose last is the check digit (modulus 11: the first nine digits times
    10, 9 ... 2, summed; 11 minus the remainder, 11 meaning 0; a result of 10 is never issued)."""
    if len(number) != 10 or not number.isdigit():
        return "Enter an NHS number with 10 digits, like 943 476 5919"
    total = sum(int(digit) * weight for digit, weight in zip(number[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    if check == 10 or check != int(number[9]):
        return "Enter a real NHS number: check each digit"
    return None


def check_uln(number: str) -> str | None:
    """None for a unique learner number as the Learning Records Service gives it: 10 digits."""
    if len(number) != 10 or not number.isdigit():
        return "Enter a unique learner number with 10 digits"
    return None


def _shown(name: str, value: object) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def update_child_details(session: Session, case: Case, raw: Mapping[str, str | DateParts | date],
                         actor: User | None, now: datetime, today: date) -> list[Change]:
    """Checks and saves the child's details on the case (in the caller's session, committed by the caller) and audits
    what changed, old and new; returns the changes (none: nothing was written). Raises FormInvalid, saving nothing."""
    clean = check_child_details(session, case, raw, today)
    changes: list[Change] = []
    for name in FIELDS:
        column = _COLUMNS.get(name, name)
        old, new = getattr(case, column), clean[name]
        if _shown(name, old) != _shown(name, new):
            changes.append(Change(name, _shown(name, old), _shown(name, new)))
            setattr(case, column, new)
    if changes:
        summary = "; ".join(f"{LABELS[c.field]}: {c.old or 'not recorded'} → {c.new or 'not recorded'}"
                            for c in changes)
        session.add(AuditEvent(at=now, case_id=case.id, actor_id=actor.id if actor else None,
                               action="child_details_changed", summary=f"Child's details changed. {summary}",
                               detail={c.field: {"from": c.old or None, "to": c.new or None} for c in changes}))
    return changes


__all__ = ["ETHNICITY_CODES", "FIELDS", "LABELS", "SEX_CODES", "Change", "DateParts", "check_child_details",
           "check_nhs_number", "check_uln", "check_upn", "update_child_details", "upn_check_letter"]
