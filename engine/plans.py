"""EHC plans: the sections A–K as structured data, the rules they must meet, and every version kept.

An EHC plan (regulation 12; Code of Practice 9.62) has separately labelled sections A to K. Each version of a case's
plan (draft 1, draft 2, final, amended ...) is a row in ``plan_version``; an issued version (final or amended) is a
legal document and never changes: a mapper event and database triggers refuse any UPDATE or DELETE of it, and this
module only ever inserts issued rows, so a change after issue is always a new version.

Stored shape of the sections (the same shape the forms of ``workflows/ehc_plan_drafting.bpmn`` submit in their fields
``section_a`` ... ``section_k``, so that no translation layer can drift from what the caseworker typed)::

    A   {"views": str, "interests": str, "aspirations": str}
    B   {"needs": [{"id": "B1", "area": "communication_and_interaction", "description": str}]}
    C   {"needs": [{"id": "C1", "description": str}]}                          (may be empty)
    D   {"needs": [{"id": "D1", "description": str}]}                          (may be empty)
    E   {"outcomes": [{"id": "E1", "description": str, "by_when": str, "adult_life": bool, "needs": ["B1"]}]}
    F   {"provision": [{"id": "F1", "description": str, "amount": str, "provided_by": str, "needs": ["B1"],
                        "preparing_for_adulthood": bool}]}
    G, H1, H2   as F (may be empty)
    I   {"setting_id": int | None, "name": str, "setting_type": str, "type_only": bool, "basis": str,
         "maintaining_la": str}                                                 (blank in a draft)
    J   {"status": "not_requested" | "requested" | "agreed" | "refused", "indicative_amount": float | None,
         "provision": str, "needs_and_outcomes": str, "direct_payments": bool, "dp_on_setting_premises": bool,
         "dp_setting_agreed": bool | None, "dp_needs_and_outcomes": str, "refusal_reasons": str}
    K   {"advice": [{"provider": str, "kind": str, "received_on": str, "title": str}]}

The process hook ``record_plan_version`` (the ``planVersion`` element property, see docs/bpmn-conventions.md) turns
the route's data into versions; the data keys it reads are listed on that function.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import calendar
from engine.errors import FormInvalid, InvalidState, NotFound
from engine.models import Case, CaseParty, Organisation, PlanVersion

if TYPE_CHECKING:
    from SpiffWorkflow.task import Task

    from engine.projection import Projector

# ---- vocabulary ---------------------------------------------------------------------------------------------------

SECTION_ORDER: tuple[str, ...] = ("A", "B", "C", "D", "E", "F", "G", "H1", "H2", "I", "J", "K")

SECTION_TITLES: dict[str, str] = {
    "A": "The views, interests and aspirations of the child and their parents, or of the young person",
    "B": "Special educational needs",
    "C": "Health needs related to their special educational needs or disability",
    "D": "Social care needs related to their special educational needs or disability",
    "E": "Outcomes sought, including outcomes for adult life",
    "F": "Special educational provision",
    "G": "Health provision",
    "H1": "Social care provision under section 2 of the Chronically Sick and Disabled Persons Act 1970",
    "H2": "Other social care provision",
    "I": "Name and type of school or other institution",
    "J": "Personal budget, including direct payments",
    "K": "Advice and information gathered during the assessment",
}

# Sections the family can appeal to the First-tier Tribunal (SEND) against (send-processes.md §2.8 and §10).
APPEALABLE_SECTIONS: tuple[str, ...] = ("B", "F", "I")

NEED_SECTIONS: tuple[str, ...] = ("B", "C", "D")
PROVISION_SECTIONS: tuple[str, ...] = ("F", "G", "H1", "H2")
# From Year 9 these must include provision to help prepare for adulthood and independent living (reg 12(1)(g)).
ADULTHOOD_SECTIONS: tuple[str, ...] = ("F", "G", "H1", "H2")
YEAR_NINE = 9

# The four broad areas of need (Code of Practice 6.28).
NEED_AREAS: dict[str, str] = {
    "communication_and_interaction": "Communication and interaction",
    "cognition_and_learning": "Cognition and learning",
    "social_emotional_and_mental_health": "Social, emotional and mental health",
    "sensory_and_physical": "Sensory and/or physical",
}

# The institutions a family may ask to be named (CFA s.38(3)), as stored in Organisation.setting_type.
SETTING_TYPES: dict[str, str] = {
    "maintained_school": "Maintained school",
    "maintained_nursery": "Maintained nursery school",
    "academy": "Academy",
    "free_school": "Free school (academy)",
    "fe_college": "Further education college",
    "sixth_form_college": "Sixth-form college",
    "non_maintained_special": "Non-maintained special school",
    "independent_s41": "Independent school or college approved under section 41",
    "early_years": "Early years provider",
}

# Section 39(4) of the Children and Families Act 2014: the only grounds on which a requested school or institution
# may be refused.
S39_4_GROUNDS: dict[str, str] = {
    "unsuitable": "The school or other institution is unsuitable for the age, ability, aptitude or special "
                  "educational needs of the child or young person (section 39(4)(a))",
    "incompatible_efficient_education": "Their attendance would be incompatible with the provision of efficient "
                                        "education for others (section 39(4)(b)(i))",
    "incompatible_efficient_resources": "Their attendance would be incompatible with the efficient use of "
                                        "resources (section 39(4)(b)(ii))",
}

PLAN_KINDS: tuple[str, ...] = ("draft", "final", "amended")
ISSUED_KINDS: tuple[str, ...] = ("final", "amended")

_LIST_KEY: dict[str, str] = {
    "B": "needs", "C": "needs", "D": "needs", "E": "outcomes",
    "F": "provision", "G": "provision", "H1": "provision", "H2": "provision", "K": "advice",
}

_ID = re.compile(r"^[A-Za-z0-9_.-]{1,20}$")


class PlanInvalid(FormInvalid):
    """The sections break a rule of regulation 12; errors are keyed by form field (``section_f``) for the form."""


def field_name(section: str) -> str:
    """The form field (and task data key) that carries a section: ``H1`` -> ``section_h1``."""
    return f"section_{section.lower()}"


def section_of_field(name: str) -> str | None:
    if not name.startswith("section_"):
        return None
    letter = name[len("section_"):].upper()
    return letter if letter in SECTION_TITLES else None


# ---- normalising ----------------------------------------------------------------------------------------------------

def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _bool(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "yes", "1"))


def _ids(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [_text(v) for v in value if _text(v)]


def _items(section: str, raw: Any) -> list[dict[str, Any]]:
    """The items of a list section, each with an id: ``B1``, ``B2`` ... given in order where the form left it out."""
    key = _LIST_KEY[section]
    items = raw.get(key, []) if isinstance(raw, Mapping) else raw if isinstance(raw, list) else []
    out: list[dict[str, Any]] = []
    for index, item in enumerate(items or [], start=1):
        if not isinstance(item, Mapping):
            item = {"description": item}
        out.append({**item, "id": _text(item.get("id")) or f"{section}{index}"})
    return out


def _need(item: Mapping[str, Any]) -> dict[str, Any]:
    need = {"id": item["id"], "description": _text(item.get("description"))}
    if _text(item.get("area")):
        need["area"] = _text(item.get("area"))
    return need


def _outcome(item: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": item["id"], "description": _text(item.get("description")), "by_when": _text(item.get("by_when")),
            "adult_life": _bool(item.get("adult_life")), "needs": _ids(item.get("needs"))}


def _provision(item: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": item["id"], "description": _text(item.get("description")), "amount": _text(item.get("amount")),
            "provided_by": _text(item.get("provided_by")), "needs": _ids(item.get("needs")),
            "preparing_for_adulthood": _bool(item.get("preparing_for_adulthood"))}


def _advice(item: Mapping[str, Any]) -> dict[str, Any]:
    # The assessment route records each piece of advice as {title, given_by, received_on} (or, for existing advice
    # re-used by agreement, {status: "reused", report, report_date}); accept that and the plain spellings.
    provider = (item.get("provider") or item.get("given_by") or item.get("from") or item.get("name")
                or item.get("organisation"))
    kind = item.get("kind") or item.get("advice_type") or item.get("type")
    received = item.get("received_on") or item.get("report_date") or item.get("received") or item.get("date")
    title = _text(item.get("title") or item.get("summary"))
    if item.get("status") == "reused" and item.get("report"):
        title = f"{title} (existing advice re-used by agreement: {_text(item.get('report'))})".strip()
    return {"id": item["id"], "provider": _text(provider), "kind": _text(kind), "received_on": _text(received)[:10],
            "title": title}


BLANK_I: dict[str, Any] = {"setting_id": None, "name": "", "setting_type": "", "type_only": False, "basis": "",
                           "maintaining_la": ""}

BLANK_J: dict[str, Any] = {"status": "not_requested", "indicative_amount": None, "provision": "",
                           "needs_and_outcomes": "", "direct_payments": False, "dp_on_setting_premises": False,
                           "dp_setting_agreed": None, "dp_needs_and_outcomes": "", "refusal_reasons": ""}


def normalise_section(section: str, raw: Any) -> dict[str, Any]:
    """One section in its stored shape: missing fields filled, text trimmed, list items given ids."""
    if section == "A":
        src = raw if isinstance(raw, Mapping) else {"views": raw}
        return {key: _text(src.get(key)) for key in ("views", "interests", "aspirations")}
    if section in NEED_SECTIONS:
        return {"needs": [_need(i) for i in _items(section, raw)]}
    if section == "E":
        return {"outcomes": [_outcome(i) for i in _items(section, raw)]}
    if section in PROVISION_SECTIONS:
        return {"provision": [_provision(i) for i in _items(section, raw)]}
    if section == "I":
        src = raw if isinstance(raw, Mapping) else {}
        out = {**BLANK_I, **{k: src[k] for k in BLANK_I if k in src}}
        out["setting_id"] = int(out["setting_id"]) if out["setting_id"] not in (None, "", 0) else None
        for key in ("name", "setting_type", "basis", "maintaining_la"):
            out[key] = _text(out[key])
        out["type_only"] = _bool(out["type_only"])
        return out
    if section == "J":
        src = raw if isinstance(raw, Mapping) else {}
        out = {**BLANK_J, **{k: src[k] for k in BLANK_J if k in src}}
        amount = out["indicative_amount"]
        out["indicative_amount"] = round(float(amount), 2) if amount not in (None, "") else None
        for key in ("status", "provision", "needs_and_outcomes", "dp_needs_and_outcomes", "refusal_reasons"):
            out[key] = _text(out[key])
        out["direct_payments"] = _bool(out["direct_payments"])
        out["dp_on_setting_premises"] = _bool(out["dp_on_setting_premises"])
        agreed = out["dp_setting_agreed"]
        out["dp_setting_agreed"] = None if agreed is None else _bool(agreed)
        return out
    if section == "K":
        return {"advice": [_advice(i) for i in _items(section, raw)]}
    raise KeyError(f"There is no section {section!r} in an EHC plan")


def normalise_sections(raw: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """All twelve sections in their stored shape. Accepts keys ``B`` or ``section_b``; absent sections are empty."""
    by_letter: dict[str, Any] = {}
    for key, value in raw.items():
        letter = key if key in SECTION_TITLES else section_of_field(key)
        if letter is None:
            raise KeyError(f"{key!r} is not a section of an EHC plan")
        by_letter[letter] = value
    return {s: normalise_section(s, by_letter.get(s)) for s in SECTION_ORDER}


def is_blank_i(section_i: Mapping[str, Any]) -> bool:
    return not section_i.get("setting_id") and not _text(section_i.get("name")) and not _text(
        section_i.get("setting_type"))


# ---- the rules of regulation 12 -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlanProblem:
    section: str
    message: str


def check_sections(sections: Mapping[str, Any], kind: str, year_group: int | None = None, *,
                   amending: bool = False) -> list[PlanProblem]:
    """Every way the sections break the rules for a plan of this kind (draft, final or amended).

    ``year_group`` is the child's national curriculum year on the version's date (None when the date of birth is not
    known: the preparing-for-adulthood rule is then not applied rather than guessed). ``amending`` marks a draft of
    proposed amendments to an issued plan, which keeps the setting already named in section I.
    """
    if kind not in PLAN_KINDS:
        raise ValueError(f"A plan version is a draft, final or amended, not {kind!r}")
    s = normalise_sections(sections)
    problems: list[PlanProblem] = []

    def add(section: str, message: str) -> None:
        problems.append(PlanProblem(section, message))

    if not any(s["A"].values()):
        add("A", "Record the views, interests and aspirations of the child and family, or of the young person")

    for section in ("B", "C", "D", "E", *PROVISION_SECTIONS, "K"):
        items = s[section][_LIST_KEY[section]]
        seen: set[str] = set()
        for item in items:
            if not _ID.match(item["id"]):
                add(section, f"{item['id']!r} is not a usable reference: use letters and numbers, such as "
                             f"{section}1")
            if item["id"] in seen:
                add(section, f"The reference {item['id']} is used twice in section {section}")
            seen.add(item["id"])

    needs_b = {n["id"]: n for n in s["B"]["needs"]}
    if not needs_b:
        add("B", "Describe at least one special educational need: a plan is only made for special educational needs")
    for section in NEED_SECTIONS:
        for need in s[section]["needs"]:
            if not need["description"]:
                add(section, f"Describe need {need['id']}")
            if section == "B" and need.get("area") and need["area"] not in NEED_AREAS:
                add("B", f"Need {need['id']} has an unknown area of need {need['area']!r}")

    if not s["E"]["outcomes"]:
        add("E", "Set out at least one outcome sought")
    for outcome in s["E"]["outcomes"]:
        if not outcome["description"]:
            add("E", f"Describe outcome {outcome['id']}")

    all_needs = {n["id"] for sec in NEED_SECTIONS for n in s[sec]["needs"]}
    for section in PROVISION_SECTIONS:
        for item in s[section]["provision"]:
            if not item["description"]:
                add(section, f"Describe provision {item['id']}")
            for ref in item["needs"]:
                if ref not in all_needs:
                    add(section, f"Provision {item['id']} refers to need {ref}, which is not in sections B, C or D")
    # Section F must be specific and quantified, and must make provision for every need in B (IPSEA; CoP 9.69).
    if not s["F"]["provision"]:
        add("F", "Set out the special educational provision for the needs in section B")
    for item in s["F"]["provision"]:
        if not item["amount"]:
            add("F", f"Provision {item['id']} must be quantified: say how much and how often")
        if not item["provided_by"]:
            add("F", f"Provision {item['id']} must say who will provide it")
    covered = {ref for item in s["F"]["provision"] for ref in item["needs"]}
    for need_id, need in needs_b.items():
        if need_id not in covered:
            add("F", f"Section F has no provision for need {need_id} in section B"
                     f"{': ' + _short(need['description']) if need['description'] else ''}")

    if year_group is not None and year_group >= YEAR_NINE:
        # From Year 9, F, G, H1 and H2 include provision to prepare for adulthood. F always has provision; G, H1
        # and H2 can rightly be empty (no health or social care needs), and an empty section cannot carry it.
        for section in ADULTHOOD_SECTIONS:
            items = s[section]["provision"]
            if (section == "F" or items) and not any(i["preparing_for_adulthood"] for i in items):
                add(section, f"From Year 9, section {section} must include provision to help prepare for adulthood "
                             "and independent living")

    blank_i = is_blank_i(s["I"])
    if kind == "draft" and not amending and not blank_i:
        add("I", "Leave section I blank in a draft plan: the family may ask for a school or college to be named")
    if kind in ISSUED_KINDS and blank_i:
        add("I", "Name the school or other institution, or at least the type of school, in the plan")
    if kind in ISSUED_KINDS and not blank_i and s["I"]["type_only"] and not s["I"]["setting_type"]:
        add("I", "Say which type of school or institution the plan specifies")

    j = s["J"]
    if j["status"] not in ("not_requested", "requested", "agreed", "refused"):
        add("J", f"Unknown personal budget status {j['status']!r}")
    if j["status"] == "agreed":
        if not j["indicative_amount"] or j["indicative_amount"] <= 0:
            add("J", "Give the indicative amount of the personal budget")
        if not j["provision"]:
            add("J", "Say which provision the personal budget covers")
        if j["direct_payments"] and not j["dp_needs_and_outcomes"]:
            add("J", "Say which special educational needs and outcomes the direct payments will meet")
    if j["status"] == "refused" and not j["refusal_reasons"]:
        add("J", "Give the reasons for refusing the personal budget")
    if kind in ISSUED_KINDS and j["status"] == "requested":
        add("J", "Decide the personal budget request before the plan is issued")

    if not s["K"]["advice"]:
        add("K", "List the advice and information gathered during the assessment")
    for item in s["K"]["advice"]:
        # Re-used advice (regulation 6(4)) is known by its report rather than by who gave it.
        if not item["provider"] and not item["title"]:
            add("K", f"Say what advice {item['id']} is and who gave it")
    return problems


def validate_sections(sections: Mapping[str, Any], kind: str, year_group: int | None = None, *,
                      amending: bool = False) -> dict[str, Any]:
    """The normalised sections, or PlanInvalid with one message per section (keyed by its form field)."""
    problems = check_sections(sections, kind, year_group, amending=amending)
    if problems:
        errors: dict[str, str] = {}
        for problem in problems:
            key = field_name(problem.section)
            errors[key] = f"{errors[key]}; {problem.message}" if key in errors else problem.message
        raise PlanInvalid(errors)
    return normalise_sections(sections)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


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


def advice_to_section_k(advice: Iterable[Mapping[str, Any]] | Mapping[str, Any] | None) -> dict[str, Any]:
    """Section K from the advice received: a list, or the assessment's mapping of advice type to advice (kept in
    the order the advice was asked for, the key naming its type when the item does not)."""
    if isinstance(advice, Mapping):
        items = [{"kind": key, **value} if isinstance(value, Mapping) else {"kind": key, "title": value}
                 for key, value in advice.items()]
    else:
        items = list(advice or [])
    return normalise_section("K", {"advice": items})


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
        if section in _LIST_KEY:
            key = _LIST_KEY[section]
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


# ---- the directory of settings -------------------------------------------------------------------------------------

def settings_directory(session: Session, setting_type: str | Iterable[str] | None = None,
                       maintaining_la_id: int | None = None, *, include_inactive: bool = False,
                       name_contains: str | None = None) -> list[Organisation]:
    """The schools, colleges and other institutions that can be named in section I, by type and maintaining LA."""
    query = select(Organisation).where(Organisation.kind == "setting")
    if setting_type is not None:
        types = (setting_type,) if isinstance(setting_type, str) else tuple(setting_type)
        unknown = [t for t in types if t not in SETTING_TYPES]
        if unknown:
            raise ValueError(f"Unknown type of setting: {', '.join(unknown)}")
        query = query.where(Organisation.setting_type.in_(types))
    if maintaining_la_id is not None:
        query = query.where(Organisation.maintaining_la_id == maintaining_la_id)
    if not include_inactive:
        query = query.where(Organisation.active.is_(True))
    if name_contains:
        query = query.where(func.lower(Organisation.name).contains(name_contains.strip().lower()))
    return list(session.scalars(query.order_by(Organisation.name)))


def describe_setting(session: Session, setting_id: int) -> dict[str, Any]:
    """Section I for a named setting, from the directory (name, type and the LA that maintains it)."""
    org = session.get(Organisation, setting_id)
    if org is None or org.kind != "setting":
        raise PlanInvalid({"section_i": "The school or institution to be named is not in the directory of settings"})
    la = session.get(Organisation, org.maintaining_la_id) if org.maintaining_la_id else None
    return {**BLANK_I, "setting_id": org.id, "name": org.name,
            "setting_type": SETTING_TYPES.get(org.setting_type or "", org.setting_type or ""),
            "maintaining_la": la.name if la is not None else ""}


# ---- from the route's data ------------------------------------------------------------------------------------------

def section_i_from_data(session: Session, data: Mapping[str, Any]) -> dict[str, Any]:
    """Section I from the naming decision: ``named_setting_id`` (a setting) or ``named_type`` (a type only)."""
    basis = _text(data.get("section_i_basis"))
    if data.get("named_setting_id"):
        return {**describe_setting(session, int(data["named_setting_id"])), "basis": basis}
    if _text(data.get("named_type")):
        named = _text(data["named_type"])
        return {**BLANK_I, "setting_type": SETTING_TYPES.get(named, named), "type_only": True,
                "basis": basis or "type_only"}
    return dict(BLANK_I)


def section_j_from_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """Section J from the personal budget steps (the ``pb_*`` fields), or "not requested"."""
    if not _bool(data.get("personal_budget_requested")):
        return dict(BLANK_J)
    decision = data.get("pb_decision")
    if decision == "refuse":
        return {**BLANK_J, "status": "refused", "refusal_reasons": _text(data.get("pb_refusal_reasons"))}
    if decision != "agree":
        return {**BLANK_J, "status": "requested"}
    on_premises = _bool(data.get("pb_direct_payments")) and _bool(data.get("pb_dp_on_setting_premises"))
    setting_agreed = _bool(data.get("dp_setting_agrees")) if on_premises else None
    # Direct payments for provision on a school's or college's premises need its agreement: without it, none.
    direct = _bool(data.get("pb_direct_payments")) and (setting_agreed is not False)
    return normalise_section("J", {
        "status": "agreed", "indicative_amount": data.get("pb_indicative_amount"),
        "provision": data.get("pb_provision"), "needs_and_outcomes": data.get("pb_needs_outcomes"),
        "direct_payments": direct, "dp_on_setting_premises": on_premises, "dp_setting_agreed": setting_agreed,
        "dp_needs_and_outcomes": data.get("pb_dp_needs_outcomes") if direct else "",
    })


def draft_sections_from_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """The first draft from the route's data: A, B, E, F from the caseworker; C and G from health; D, H1 and H2
    from social care; J from the personal budget steps; K from the advice received; I blank."""
    raw: dict[str, Any] = {s: data.get(field_name(s)) for s in SECTION_ORDER if s not in ("I", "J", "K")}
    raw["I"] = dict(BLANK_I)
    raw["J"] = data.get("section_j") or section_j_from_data(data)
    raw["K"] = advice_to_section_k(data.get("advice_received") or [])
    return raw


def record_plan_version(projector: Projector, task: Task, kind: str) -> PlanVersion:
    """The ``planVersion`` hook: records a version of the plan from the data of the element that completed.

    Reads from the task data:

    - ``draft``, the first in this route instance: ``section_a`` ... ``section_h2`` (from the forms), J from the
      ``pb_*`` fields, K from ``advice_received``; I is left blank.
    - ``draft``, later ones: the latest version of this instance with the sections in ``plan_changes`` replaced.
    - ``final``: the latest draft with ``final_changes`` applied, I from ``named_setting_id``/``named_type``, J from
      the ``pb_*`` fields; issued (never changes again).
    - ``amended``: the plan in force (or this instance's latest draft) with ``plan_changes``; issued.

    A broken rule raises PlanInvalid, which rolls the whole command back and shows the messages on the form.
    """
    session = projector.session
    instance = projector.instance
    data: Mapping[str, Any] = task.data
    actor_id = projector.actor_id
    kind = kind.strip()
    mine = latest_version(session, instance.case_id, instance_id=instance.id)
    if kind == "draft":
        if mine is None:
            version = create_draft(session, instance.case_id, draft_sections_from_data(data), now=projector.now,
                                   actor_id=actor_id, instance_id=instance.id)
        else:
            changes = dict(data.get("plan_changes") or {})
            if "section_j" not in changes and "J" not in changes:
                # A personal budget decided since the last draft shows in the new one.
                changes["J"] = section_j_from_data(data)
            version = new_draft_version(session, instance.case_id, changes, now=projector.now, actor_id=actor_id,
                                        instance_id=instance.id, based_on=mine)
    elif kind == "final":
        changes = dict(data.get("final_changes") or {})
        if "section_i" not in changes and "I" not in changes:
            changes["I"] = section_i_from_data(session, data)
        if "section_j" not in changes and "J" not in changes:
            changes["J"] = section_j_from_data(data)
        version = issue_plan(session, instance.case_id, "final", changes, now=projector.now, actor_id=actor_id,
                             instance_id=instance.id)
    elif kind == "amended":
        changes = dict(data.get("plan_changes") or {})
        if data.get("named_setting_id") and "section_i" not in changes and "I" not in changes:
            # Naming a new school or college (a phase transfer, or one the family asked for) amends section I.
            changes["I"] = section_i_from_data(session, data)
        version = issue_plan(session, instance.case_id, "amended", changes, now=projector.now, actor_id=actor_id,
                             instance_id=instance.id)
    else:
        raise ValueError(f"planVersion must be draft, final or amended, not {kind!r}")
    if version.is_issued:
        _follow_section_i(projector, version)
    projector.events.append(("plan_version_recorded",
                             f"Plan version recorded: {version.label}"
                             f"{' (issued)' if version.is_issued else ''}",
                             {"plan_version_id": version.id, "number": version.number, "kind": version.kind}))
    return version


def _follow_section_i(projector: Projector, version: PlanVersion) -> None:
    """An issued plan that names a school or college in section I makes it the case's setting: the setting party
    moves there (the old one is kept, inactive), so the setting's tasks, lists and notices follow the child."""
    setting_id = (version.sections.get("I") or {}).get("setting_id")
    if not setting_id:
        return
    session = projector.session
    current = list(session.scalars(select(CaseParty).where(CaseParty.case_id == version.case_id,
                                                           CaseParty.role == "setting", CaseParty.active.is_(True))))
    if [p.organisation_id for p in current] == [setting_id]:
        return
    for party in current:
        party.active = False
    session.add(CaseParty(case_id=version.case_id, role="setting", organisation_id=int(setting_id), active=True))
    session.flush()
    name = (version.sections["I"].get("name") or "").strip()
    projector.events.append(("setting_changed", f"School or college now: {name}",
                             {"organisation_id": int(setting_id), "plan_version_id": version.id,
                              "previous": [p.organisation_id for p in current]}))


# ---- the route's documents ------------------------------------------------------------------------------------------

# The notices of workflows/ehc_plan_drafting.bpmn (engine/templates/documents/pd_*.html): title, recipient rules and
# whether the notice is of an appealable decision (then _letter.html adds the appeal-rights bundle).
PLAN_DOCUMENTS: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "pd_draft_plan_notice": (
        "Draft EHC plan for {{ child.name }}: your comments by {{ data.comments_due | long_date }}", ("family",),
        False),
    "pd_revised_draft": ("Revised draft EHC plan for {{ child.name }}", ("family",), False),
    "pd_setting_consultation": (
        "Consultation about naming your school or college in the EHC plan for {{ child.name }}",
        ("consulted_setting", "copy:maintaining_la"), False),
    "pd_personal_budget_refusal": ("Decision not to provide a personal budget for {{ child.name }}", ("family",),
                                   False),
    "pd_direct_payments_refused": ("Direct payments for provision at the school or college: {{ child.name }}",
                                   ("family", "copy:setting"), False),
    "pd_final_plan_notice": ("Final EHC plan for {{ child.name }}", ("family", "copy:named_setting", "copy:health"),
                             True),
}

# Recipient rules the plan documents need besides engine.documents' own: the setting being consulted, the other
# local authority that maintains it, and the setting named in the final plan (read from the route's data).
PLAN_RECIPIENT_RULES: tuple[str, ...] = ("consulted_setting", "maintaining_la", "named_setting")


def plan_document_templates(factory: Any) -> dict[str, Any]:
    """The route's document templates built with engine.documents.DocumentTemplate (passed in: no import cycle)."""
    return {name: factory(title, recipients, appealable)
            for name, (title, recipients, appealable) in PLAN_DOCUMENTS.items()}


def plan_recipients(rule: str, case: Case, data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The recipients for one of PLAN_RECIPIENT_RULES, in engine.documents' recipient shape."""
    from sqlalchemy.orm import object_session

    session = object_session(case)
    if session is None:
        raise ValueError("The case must be loaded in a session to find the recipients")
    keys = {"consulted_setting": "consult_setting_id", "named_setting": "named_setting_id",
            "maintaining_la": "other_la_id"}
    if rule not in keys:
        raise KeyError(f"No plan recipient rule {rule!r}")
    if rule == "maintaining_la" and not _bool(data.get("consult_other_la")):
        return []
    org_id = data.get(keys[rule])
    org = session.get(Organisation, int(org_id)) if org_id else None
    if org is None:
        return []
    return [{"name": org.name, "role": rule, "organisation_id": org.id, "email": org.email, "address": org.address}]


__all__ = [
    "APPEALABLE_SECTIONS", "PLAN_KINDS", "S39_4_GROUNDS", "SECTION_ORDER", "SECTION_TITLES", "SETTING_TYPES",
    "PlanInvalid", "PlanProblem", "SectionChange", "check_sections", "compare_versions", "create_draft",
    "current_plan", "describe_setting", "get_version", "issue_plan", "latest_version", "list_versions",
    "new_draft_version", "normalise_sections", "record_plan_version", "settings_directory", "update_draft",
    "validate_sections",
]
