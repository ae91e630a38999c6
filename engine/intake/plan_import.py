"""Bringing in a council's existing plans from a CSV file: every row checked first, then all written in one transaction.

Each row is a child with a plan in force. Importing one opens the case (with its address, postcode and UPN), links the
setting and the parent (a family account with a link to set its password), records the plan as an issued version
whose sections say it was imported, and puts the next annual review on the case's statutory clock exactly as plan
drafting and the review route do: an open ``annual_review`` deadline 12 months after the later of the plan's issue and
its last review, started on that day, which the worker's daily job reads to start the review route on time
(``engine.casework.review_scheduler``). A child already known (same LA and UPN, or same LA, name and date of birth) is
left alone, so the same file imported twice creates nothing the second time. The columns are in docs/import-plans.md.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from engine.casework.plan_rules import check_sections
from engine.casework.plans import issue_plan
from engine.casework.reviews import (
    ReviewSchedule,
    next_phase_transfer,
    schedule_review,
    statutory_review_due,
)
from engine.casework.setting_directory import describe_setting
from engine.intake.accounts import family_account, send_set_password_link
from engine.intake.parties import set_parties, suggested_parties
from engine.intake.questions import EMAIL, POSTCODE, check_upn, parse_date
from engine.people.roles import Role
from engine.statutory import calendar
from engine.store.models import AuditEvent, Case, CaseParty, Deadline, Membership, Organisation, PlanVersion, User
from engine.store.requests import AssessmentRequest

if TYPE_CHECKING:
    from engine.runtime.workflow_engine import WorkflowEngine

COLUMNS = ("child_first_name", "child_last_name", "date_of_birth", "upn", "postcode", "address", "la_code",
           "setting_code", "plan_issued_on", "last_review_on", "phase_transfer_due", "parent_name", "parent_email")
REQUIRED = {"child_first_name": "Enter the child's first name", "child_last_name": "Enter the child's last name",
            "date_of_birth": "Enter the child's date of birth",
            "la_code": "Enter the code of the responsible local authority",
            "plan_issued_on": "Enter the date the plan was issued"}
LIMITS = {"child_first_name": 100, "child_last_name": 100, "address": 500, "parent_name": 200, "parent_email": 200,
          "la_code": 40, "setting_code": 40, "postcode": 10, "upn": 20}
MAX_ROWS = 20_000
#: Who may import into a local authority when a person (not the command line) imports.
IMPORT_ROLES = (Role.ADMIN, Role.CASEWORKER, Role.MANAGER)
OLDEST_AGE = 25


@dataclass(frozen=True)
class Problem:
    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.column + ': ' if self.column else ''}{self.message}"


@dataclass(frozen=True)
class PlanRow:
    """One row as checked: clean values, the LA and setting found from their codes."""

    line: int
    first_name: str
    last_name: str
    date_of_birth: date
    upn: str | None
    postcode: str | None
    address: str | None
    la_id: int
    setting_id: int | None
    issued_on: date
    last_review_on: date | None
    phase_transfer_due: date | None
    parent_name: str
    parent_email: str | None

    @property
    def child_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def last_reviewed_or_issued(self) -> date:
        """The day the 12 months run from: the later of the plan's issue and its last review (CFA s.44(1))."""
        return max(self.issued_on, self.last_review_on or self.issued_on)


@dataclass(frozen=True)
class Outcome:
    """A row imported (``created``) or left alone because the child is already there."""

    line: int
    case_id: int
    reference: str
    child_name: str
    created: bool
    review: ReviewSchedule | None = None
    notes: tuple[str, ...] = ()


@dataclass
class ImportResult:
    created: list[Outcome] = field(default_factory=list)
    already_there: list[Outcome] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    written: bool = False
    dry_run: bool = False

    @property
    def refused_lines(self) -> list[int]:
        return sorted({p.line for p in self.problems})


# ---- reading and checking ----------------------------------------------------------------------------------------

def read_csv(data: bytes | str) -> tuple[list[tuple[int, dict[str, str]]], list[Problem]]:
    """The rows as (line, {column: text}) and the problems of the file itself (encoding, header, shape)."""
    if isinstance(data, bytes):
        if b"\x00" in data:
            return [], [Problem(1, None, "The file is not a CSV file: save it from your spreadsheet as CSV")]
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[:exc.start].count(b"\n") + 1
            return [], [Problem(line, None, "The file is not UTF-8 text: save it from your spreadsheet as "
                                            "\"CSV UTF-8\"")]
    data = data.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(data, newline=""))
    try:
        header = next((r for r in reader if any(c.strip() for c in r)), None)
        if header is None:
            return [], [Problem(1, None, "The file is empty: it needs a header row, then one row for each child")]
        header_line = reader.line_num
        names = [h.strip().lower() for h in header]
        while names and not names[-1]:  # spreadsheets leave empty columns at the end
            names.pop()
        problems = [Problem(header_line, n or None, f"{n!r} is not a column of the import: the columns are "
                                                    f"{', '.join(COLUMNS)}" if n else "A column has no name")
                    for n in names if n not in COLUMNS]
        problems += [Problem(header_line, n, "The column appears more than once") for n in sorted(set(names))
                     if n in COLUMNS and names.count(n) > 1]
        problems += [Problem(header_line, c, "The column is missing: it is required") for c in REQUIRED
                     if c not in names]
        if problems:
            return [], problems
        rows: list[tuple[int, dict[str, str]]] = []
        last = header_line
        for record in reader:
            line, last = last + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(record) > len(names) and any(cell.strip() for cell in record[len(names):]):
                problems.append(Problem(line, None, f"The row has {len(record)} values but the header has "
                                                    f"{len(names)} columns"))
                continue
            rows.append((line, {n: (record[i] if i < len(record) else "") for i, n in enumerate(names)}))
            if len(rows) > MAX_ROWS:
                return [], [Problem(line, None, f"The file has more than {MAX_ROWS:,} rows: split it in smaller "
                                                "files")]
    except csv.Error as exc:
        return [], [Problem(reader.line_num, None, f"The file is not a well-formed CSV file ({exc})")]
    if not rows and not problems:
        problems.append(Problem(header_line + 1, None, "The file has a header row but no children"))
    return rows, problems


def _date(raw: dict[str, str], column: str, problems: list[Problem], line: int) -> date | None:
    text = raw.get(column, "").strip()
    if not text:
        return None
    day = parse_date(text)
    if day is None:
        problems.append(Problem(line, column, f"{text!r} is not a real date: write it as YYYY-MM-DD or DD/MM/YYYY"))
    return day


Directory = dict[tuple[str, str], Organisation]


def directory(session: Session) -> Directory:
    """Local authorities and settings by (kind, code), read once for the whole file; a code typed in other capitals
    is found too."""
    found: Directory = {}
    for org in session.scalars(select(Organisation).where(Organisation.kind.in_(("local_authority", "setting")),
                                                          Organisation.code.is_not(None)).order_by(Organisation.id)):
        found[(org.kind, org.code or "")] = org
        found.setdefault((org.kind, (org.code or "").lower()), org)
    return found


def check_row(orgs: Directory, line: int, raw: dict[str, str], today: date,
              la_ids: Collection[int] | None) -> tuple[PlanRow | None, list[Problem]]:
    """The row checked against every rule, each problem on its column; the clean row when there is none."""
    problems: list[Problem] = []
    text = {c: " ".join((raw.get(c) or "").split()) for c in COLUMNS}
    text["address"] = (raw.get("address") or "").strip()
    for column, message in REQUIRED.items():
        if not text[column]:
            problems.append(Problem(line, column, message))
    for column, limit in LIMITS.items():
        if len(text[column]) > limit:
            problems.append(Problem(line, column, f"Must be {limit} characters or fewer"))
    born = _date(raw, "date_of_birth", problems, line)
    issued = _date(raw, "plan_issued_on", problems, line)
    reviewed = _date(raw, "last_review_on", problems, line)
    transfer = _date(raw, "phase_transfer_due", problems, line)
    for column, day, what in (("date_of_birth", born, "The date of birth"),
                              ("plan_issued_on", issued, "The date the plan was issued"),
                              ("last_review_on", reviewed, "The date of the last annual review")):
        if day is not None and day > today:
            problems.append(Problem(line, column, f"{what} must be in the past"))
    if born is not None and born <= today and calendar.age_on(born, today) > OLDEST_AGE:
        problems.append(Problem(line, "date_of_birth", f"The young person is over {OLDEST_AGE}: an EHC plan ends "
                                                       f"by the age of {OLDEST_AGE}"))
    if born is not None and issued is not None and issued <= born:
        problems.append(Problem(line, "plan_issued_on", "The plan must have been issued after the child was born"))
    if issued is not None and reviewed is not None and reviewed < issued:
        problems.append(Problem(line, "last_review_on", "The last annual review cannot be before the plan was issued"))
    if issued is not None and transfer is not None and transfer <= issued:
        problems.append(Problem(line, "phase_transfer_due", "The phase transfer date must be after the plan was "
                                                            "issued"))
    upn = text["upn"].upper().replace(" ", "")
    upn_problem = check_upn(upn) if upn else None
    if upn_problem:
        problems.append(Problem(line, "upn", upn_problem))
    postcode = text["postcode"].upper()
    if postcode and not POSTCODE.match(postcode):
        problems.append(Problem(line, "postcode", "Enter a real postcode, like SW1A 1AA"))
    email = text["parent_email"].lower()
    if email and not EMAIL.match(email):
        problems.append(Problem(line, "parent_email", "Enter an email address in the correct format, like "
                                                      "name@example.com"))
    la = orgs.get(("local_authority", text["la_code"])) or orgs.get(("local_authority", text["la_code"].lower()))
    if text["la_code"] and (la is None or not la.active):
        problems.append(Problem(line, "la_code", f"There is no local authority with the code {text['la_code']!r}"))
    elif la is not None and la_ids is not None and la.id not in la_ids:
        problems.append(Problem(line, "la_code", f"You cannot import plans into {la.name}: it is not one of your "
                                                 "local authorities"))
    setting = orgs.get(("setting", text["setting_code"])) or orgs.get(("setting", text["setting_code"].lower()))
    if text["setting_code"] and (setting is None or not setting.active):
        problems.append(Problem(line, "setting_code",
                                f"There is no school, college or setting with the code {text['setting_code']!r}"))
    if problems:
        return None, sorted(problems, key=lambda p: COLUMNS.index(p.column) if p.column else -1)
    assert la is not None and born is not None and issued is not None
    return PlanRow(line, text["child_first_name"], text["child_last_name"], born, upn or None, postcode or None,
                   text["address"] or None, la.id, setting.id if setting else None, issued, reviewed, transfer,
                   text["parent_name"], email or None), []


def _same_child(rows: list[PlanRow]) -> list[Problem]:
    """Rows naming a child already on an earlier row of the file (same LA and UPN, or same LA, name and birth)."""
    seen: dict[tuple[object, ...], int] = {}
    problems: list[Problem] = []
    for row in rows:
        keys = [(("upn", row.la_id, row.upn), "upn", "the same local authority and UPN")] if row.upn else []
        keys.append((("name", row.la_id, row.first_name.lower(), row.last_name.lower(), row.date_of_birth),
                     "child_last_name", "the same local authority, name and date of birth"))
        for key, column, why in keys:
            if key in seen:
                problems.append(Problem(row.line, column, f"The same child as on line {seen[key]} ({why})"))
                break
        for key, _, _ in keys:
            seen.setdefault(key, row.line)
    return problems


def import_las(session: Session, user: User, roles: Collection[Role] = IMPORT_ROLES) -> set[int]:
    """The local authorities this person may import plans into: those where they hold one of ``roles``."""
    return set(session.scalars(select(Organisation.id).join(Membership, Membership.organisation_id == Organisation.id)
                               .where(Membership.user_id == user.id, Organisation.kind == "local_authority",
                                      Membership.role.in_([r.value for r in roles]))))


def check_file(session: Session, data: bytes | str, today: date,
               la_ids: Collection[int] | None) -> tuple[list[PlanRow], list[Problem]]:
    """Every good row, and every problem (by line)."""
    raw_rows, problems = read_csv(data)
    orgs = directory(session) if raw_rows else {}
    good: list[PlanRow] = []
    for line, raw in raw_rows:
        row, row_problems = check_row(orgs, line, raw, today, la_ids)
        problems += row_problems
        if row is not None:
            good.append(row)
    problems += _same_child(good)
    for row in good:
        # The imported sections meet the rules of an issued plan by design; checked here so that no row fails later.
        year_group = calendar.school_year_group(row.date_of_birth, row.issued_on)
        problems += [Problem(row.line, None, f"The plan record breaks a rule of section {p.section}: {p.message}")
                     for p in check_sections(imported_sections(session, row, today), "final", year_group)]
    bad = {p.line for p in problems}
    return [r for r in good if r.line not in bad], sorted(problems, key=lambda p: p.line)


# ---- writing -------------------------------------------------------------------------------------------------------

def _known(session: Session, row: PlanRow) -> Case | None:
    same_name = ((func.lower(Case.child_first_name) == row.first_name.lower())
                 & (func.lower(Case.child_last_name) == row.last_name.lower())
                 & (Case.date_of_birth == row.date_of_birth))
    clause = or_(Case.upn == row.upn, same_name) if row.upn else same_name
    return session.scalars(select(Case).where(Case.la_id == row.la_id, clause).order_by(Case.id)).first()


def imported_sections(session: Session, row: PlanRow, today: date) -> dict[str, object]:
    """Sections that meet the rules of an issued plan and say where the real content is: the council's records.

    Every section points to the imported plan, so that a review or an amendment replaces them with the real content.
    """
    plan = f"the plan issued on {row.issued_on:%-d %B %Y}"
    as_set_out = f"As set out in {plan} (imported from the council's records)"
    section_i = describe_setting(session, row.setting_id) if row.setting_id else {
        "type_only": True, "setting_type": f"As named in section I of {plan}"}
    return {
        "A": {"views": f"Plan issued on {row.issued_on:%-d %B %Y}, imported from the council's records. The "
                       "sections of this record point to that plan until a review or amendment brings its content "
                       "into EHC Flow."},
        "B": {"needs": [{"id": "B1", "description": f"{as_set_out}, section B"}]},
        "E": {"outcomes": [{"id": "E1", "description": f"{as_set_out}, section E", "needs": ["B1"]}]},
        "F": {"provision": [{"id": "F1", "description": f"{as_set_out}, section F",
                             "amount": f"As specified in {plan}", "provided_by": f"As specified in {plan}",
                             "needs": ["B1"],
                             "preparing_for_adulthood": calendar.school_year_group(row.date_of_birth, today) >= 9}]},
        "I": {**section_i, "basis": "imported"},
        "K": {"advice": [{"provider": "The council's records", "title": f"The advice listed in section K of {plan}",
                          "received_on": row.issued_on.isoformat()}]},
    }


def _phase_note(row: PlanRow) -> tuple[str, ...]:
    """A phase-transfer date other than those worked out from the date of birth: the review scheduler starts
    phase-transfer reviews from the child's year group, so the person importing should know."""
    if row.phase_transfer_due is None:
        return ()
    worked_out: list[date] = []
    transfer = next_phase_transfer(row.date_of_birth, row.last_reviewed_or_issued)
    while transfer is not None and len(worked_out) < 5:
        worked_out.append(transfer.deadline)
        transfer = next_phase_transfer(row.date_of_birth, transfer.transfer_on)
    if row.phase_transfer_due in worked_out:
        return ()
    return (f"The phase transfer date {row.phase_transfer_due:%-d %B %Y} is not one EHC Flow works out from the "
            "date of birth: it is on the case's deadlines, but the review scheduler starts phase-transfer reviews "
            "from the child's year group; start an early review by hand if it is needed sooner",)


def _write(engine: WorkflowEngine, session: Session, row: PlanRow, actor: User | None, now: datetime,
           today: date) -> Outcome:
    known = _known(session, row)
    if known is not None:
        return Outcome(row.line, known.id, known.reference, known.child_name, created=False)
    case = engine.open_case(session, row.la_id, row.first_name, row.last_name, row.date_of_birth, actor)
    case.address, case.postcode, case.upn = row.address, row.postcode, row.upn
    # The review routes send their tasks to the case's setting, health body and mediation service: the setting is
    # the row's, the others the authority's usual ones, as for a registered request (a caseworker changes them on the
    # case page). The request is never stored: it only carries the LA and the setting to the suggestion.
    suggested = suggested_parties(session, AssessmentRequest(la_id=row.la_id, setting_org_id=row.setting_id))
    set_parties(session, case, {**suggested, "setting": row.setting_id}, actor, now)
    if row.parent_email:
        parent, created = family_account(session, row.parent_email, row.parent_name, now)
        if parent is not None and created:
            send_set_password_link(session, parent, now,
                                   f"{case.la.name} now keeps {row.first_name}'s EHC plan in EHC Flow. With an "
                                   "account you can follow the plan's reviews and give your views.")
        if parent is not None:
            session.add(CaseParty(case_id=case.id, role="family", user_id=parent.id, relationship_to_child="parent",
                                  active=True))
    issued_at = datetime.combine(row.issued_on, time(12), tzinfo=calendar.LONDON)
    # Issued once, from the imported sections: there is no draft in EHC Flow, so the base is a version never stored.
    plan = issue_plan(session, case.id, "final", now=issued_at, actor_id=actor.id if actor else None,
                      based_on=PlanVersion(sections=imported_sections(session, row, today)))
    last = row.last_reviewed_or_issued
    due = statutory_review_due(last)
    # The row plan drafting (first review) or the review route (later ones) would have opened on that day.
    session.add(Deadline(case_id=case.id, key="annual_review", status="open", missed=False, due_date=due,
                         started_on=last, process_id="annual_review" if row.last_review_on else "ehc_plan_drafting",
                         name="Annual review of the EHC plan (12 months)" if row.last_review_on
                         else "First review of the EHC plan (within 12 months of issue)"))
    if row.phase_transfer_due:
        session.add(Deadline(case_id=case.id, key="phase_transfer", status="open", missed=False,
                             due_date=row.phase_transfer_due, started_on=today, process_id="annual_review",
                             name="Phase transfer: plan reviewed and amended to name the new setting"))
    review = schedule_review(last, row.date_of_birth, statutory_due=due)
    session.add(AuditEvent(
        at=now, case_id=case.id, actor_id=actor.id if actor else None, action="case_imported",
        summary=f"Case {case.reference} imported with the plan issued on {row.issued_on:%-d %B %Y}; next review "
                f"due {review.due:%-d %B %Y}",
        detail={"line": row.line, "plan_version_id": plan.id, "plan_issued_on": row.issued_on.isoformat(),
                "last_review_on": row.last_review_on.isoformat() if row.last_review_on else None,
                "annual_review_due": due.isoformat(), "review_due": review.due.isoformat(),
                "review_starts_on": review.start_on.isoformat(),
                "phase_transfer_due": row.phase_transfer_due.isoformat() if row.phase_transfer_due else None}))
    session.flush()
    return Outcome(row.line, case.id, case.reference, case.child_name, created=True, review=review,
                   notes=_phase_note(row))


def import_plans(engine: WorkflowEngine, data: bytes | str, actor: User | None = None, *,
                 la_ids: Collection[int] | None = None, skip_bad: bool = False, dry_run: bool = False) -> ImportResult:
    """Checks every row, then imports in one transaction: all rows, or with ``skip_bad`` the good ones only.

    ``la_ids`` are the local authorities that may be imported into; without it, those where ``actor`` is an
    administrator, caseworker or manager, or any LA when there is no actor (the command line). With ``dry_run``
    everything is done and then rolled back, so the result says exactly what an import would do.
    """
    now = engine.clock.now()
    today = calendar.to_london_date(now)
    result = ImportResult(dry_run=dry_run)
    with engine.session_factory() as session:
        if la_ids is None and actor is not None:
            la_ids = import_las(session, actor)
        good, result.problems = check_file(session, data, today, la_ids)
        if (result.problems and not skip_bad) or not good:
            return result
        # No savepoint per row (on SQLite one taken before the first write commits when released): every rule is
        # checked above, so an error here is unexpected, and leaving the block unfinished rolls everything back.
        for row in good:
            outcome = _write(engine, session, row, actor, now, today)
            (result.created if outcome.created else result.already_there).append(outcome)
        if dry_run or not result.created:
            session.rollback()
            return result
        session.commit()
        result.written = True
    return result


__all__ = ["COLUMNS", "ImportResult", "Outcome", "PlanRow", "Problem", "check_file", "import_las", "import_plans",
           "imported_sections", "parse_date", "read_csv"]
