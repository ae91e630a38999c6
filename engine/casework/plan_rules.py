"""The rules of regulation 12 a plan's sections must meet, by kind of version (draft, final or amended)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.casework.plan_sections import (
    ISSUED_KINDS,
    LIST_KEY,
    NEED_AREAS,
    NEED_SECTIONS,
    PLAN_KINDS,
    PROVISION_SECTIONS,
    PlanInvalid,
    field_name,
    is_blank_i,
    normalise_sections,
)

# From Year 9 these must include provision to help prepare for adulthood and independent living (reg 12(1)(g)).
ADULTHOOD_SECTIONS: tuple[str, ...] = ("F", "G", "H1", "H2")
YEAR_NINE = 9

_ID = re.compile(r"^[A-Za-z0-9_.-]{1,20}$")


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
        items = s[section][LIST_KEY[section]]
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


__all__ = ["PlanProblem", "check_sections", "validate_sections"]
