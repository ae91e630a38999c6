"""What the Local Offer is sorted by: the categories of provision the Code of Practice lists (4.30-4.62) and the four
broad areas of need (Code 6.28-6.35). The codes are stored on entries and used in URLs; the labels are what people read.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    code: str
    label: str
    paragraph: str  # where the Code asks for it
    education: bool = False  # a setting's entry, which may link its SEN information report


CATEGORIES: tuple[Category, ...] = (
    Category("early_years", "Early years education", "4.32, 4.37", True),
    Category("primary", "Primary schools", "4.32, 4.34", True),
    Category("secondary", "Secondary schools", "4.32, 4.34", True),
    Category("special_school", "Special schools and specialist provision", "4.32, 4.39", True),
    Category("post_16", "Post-16 education and training", "4.32, 4.36", True),
    Category("s41_institutions", "Independent special schools and colleges (section 41)", "4.39", True),
    Category("apprenticeships", "Apprenticeships, traineeships and supported internships", "4.46, 4.47"),
    Category("health", "Health services", "4.40, 4.41"),
    Category("social_care", "Social care", "4.42, 4.43"),
    Category("short_breaks", "Short breaks", "4.44"),
    Category("parent_carer_support", "Support for parent carers", "4.45"),
    Category("childcare", "Childcare", "4.37, 4.38"),
    Category("leisure", "Leisure and activities", "4.55"),
    Category("transport", "Travel and transport", "4.48-4.51"),
    Category("preparing_for_adulthood", "Preparing for adulthood", "4.52-4.56"),
    Category("information_advice", "Information and advice", "4.59-4.61"),
    Category("sendiass", "SEND information, advice and support service (SENDIASS)", "4.59, 4.60"),
    Category("disagreement_resolution", "Disagreement resolution and mediation", "4.30"),
    Category("tribunal_rights", "Appeals to the tribunal", "4.30"),
    Category("accessibility_strategy", "Accessibility strategy", "4.30"),
)
CATEGORY_BY_CODE: dict[str, Category] = {c.code: c for c in CATEGORIES}

NEEDS: dict[str, str] = {
    "communication_interaction": "Communication and interaction",
    "cognition_learning": "Cognition and learning",
    "semh": "Social, emotional and mental health",
    "sensory_physical": "Sensory and/or physical needs",
}

MAX_AGE = 25


def category_label(code: str) -> str:
    category = CATEGORY_BY_CODE.get(code)
    return category.label if category is not None else code


def need_labels(codes: list[str]) -> list[str]:
    """The labels of an entry's needs; an entry with none is for every need."""
    return [NEEDS[c] for c in codes if c in NEEDS] or ["All needs"]


__all__ = ["CATEGORIES", "CATEGORY_BY_CODE", "MAX_AGE", "NEEDS", "Category", "category_label", "need_labels"]
