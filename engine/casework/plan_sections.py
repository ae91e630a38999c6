"""The sections A–K of an EHC plan as structured data: their titles, their stored shape, and normalising to it.

An EHC plan (regulation 12; Code of Practice 9.62) has separately labelled sections A to K. Stored shape of the
sections (the same shape the forms of ``workflows/ehc_plan_drafting.bpmn`` submit in their fields ``section_a`` ...
``section_k``, so that no translation layer can drift from what the caseworker typed)::

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
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from engine.errors import FormInvalid

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

LIST_KEY: dict[str, str] = {
    "B": "needs", "C": "needs", "D": "needs", "E": "outcomes",
    "F": "provision", "G": "provision", "H1": "provision", "H2": "provision", "K": "advice",
}


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

def as_text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def as_bool(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "yes", "1"))


def _ids(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [as_text(v) for v in value if as_text(v)]


def _items(section: str, raw: Any) -> list[dict[str, Any]]:
    """The items of a list section, each with an id: ``B1``, ``B2`` ... given in order where the form left it out."""
    key = LIST_KEY[section]
    items = raw.get(key, []) if isinstance(raw, Mapping) else raw if isinstance(raw, list) else []
    out: list[dict[str, Any]] = []
    for index, item in enumerate(items or [], start=1):
        if not isinstance(item, Mapping):
            item = {"description": item}
        out.append({**item, "id": as_text(item.get("id")) or f"{section}{index}"})
    return out


def _need(item: Mapping[str, Any]) -> dict[str, Any]:
    need = {"id": item["id"], "description": as_text(item.get("description"))}
    if as_text(item.get("area")):
        need["area"] = as_text(item.get("area"))
    return need


def _outcome(item: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": item["id"], "description": as_text(item.get("description")), "by_when": as_text(item.get("by_when")),
            "adult_life": as_bool(item.get("adult_life")), "needs": _ids(item.get("needs"))}


def _provision(item: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": item["id"], "description": as_text(item.get("description")), "amount": as_text(item.get("amount")),
            "provided_by": as_text(item.get("provided_by")), "needs": _ids(item.get("needs")),
            "preparing_for_adulthood": as_bool(item.get("preparing_for_adulthood"))}


def _advice(item: Mapping[str, Any]) -> dict[str, Any]:
    # The assessment route records each piece of advice as {title, given_by, received_on} (or, for existing advice
    # re-used by agreement, {status: "reused", report, report_date}); accept that and the plain spellings.
    provider = (item.get("provider") or item.get("given_by") or item.get("from") or item.get("name")
                or item.get("organisation"))
    kind = item.get("kind") or item.get("advice_type") or item.get("type")
    received = item.get("received_on") or item.get("report_date") or item.get("received") or item.get("date")
    title = as_text(item.get("title") or item.get("summary"))
    if item.get("status") == "reused" and item.get("report"):
        title = f"{title} (existing advice re-used by agreement: {as_text(item.get('report'))})".strip()
    return {"id": item["id"], "provider": as_text(provider), "kind": as_text(kind), "received_on": as_text(received)[:10],
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
        return {key: as_text(src.get(key)) for key in ("views", "interests", "aspirations")}
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
            out[key] = as_text(out[key])
        out["type_only"] = as_bool(out["type_only"])
        return out
    if section == "J":
        src = raw if isinstance(raw, Mapping) else {}
        out = {**BLANK_J, **{k: src[k] for k in BLANK_J if k in src}}
        amount = out["indicative_amount"]
        out["indicative_amount"] = round(float(amount), 2) if amount not in (None, "") else None
        for key in ("status", "provision", "needs_and_outcomes", "dp_needs_and_outcomes", "refusal_reasons"):
            out[key] = as_text(out[key])
        out["direct_payments"] = as_bool(out["direct_payments"])
        out["dp_on_setting_premises"] = as_bool(out["dp_on_setting_premises"])
        agreed = out["dp_setting_agreed"]
        out["dp_setting_agreed"] = None if agreed is None else as_bool(agreed)
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
    return not section_i.get("setting_id") and not as_text(section_i.get("name")) and not as_text(
        section_i.get("setting_type"))


def advice_to_section_k(advice: Iterable[Mapping[str, Any]] | Mapping[str, Any] | None) -> dict[str, Any]:
    """Section K from the advice received: a list, or the assessment's mapping of advice type to advice (kept in
    the order the advice was asked for, the key naming its type when the item does not)."""
    if isinstance(advice, Mapping):
        items = [{"kind": key, **value} if isinstance(value, Mapping) else {"kind": key, "title": value}
                 for key, value in advice.items()]
    else:
        items = list(advice or [])
    return normalise_section("K", {"advice": items})


__all__ = [
    "APPEALABLE_SECTIONS", "PLAN_KINDS", "S39_4_GROUNDS", "SECTION_ORDER", "SECTION_TITLES", "SETTING_TYPES",
    "PlanInvalid", "advice_to_section_k", "normalise_sections",
]
