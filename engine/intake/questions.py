"""The questions a request for an EHC needs assessment asks, one page each, and the rules each answer must meet.

The online pages, the caseworker's form for a request that came by email, post or phone, and the command line all
check answers here, so a request is the same however it arrived. Answers are plain strings as typed; ``check_page``
returns them cleaned (trimmed, dates as ISO strings) with a message for every problem.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

REQUESTER_TYPES = {
    "parent": "A parent or carer of the child",
    "young_person": "A young person aged 16 to 25, asking for myself",
    "setting": "A school, college or early years setting",
    "other": "Someone else bringing the child to the local authority's attention (for example health or social care)",
}
CHANNELS = {"online": "Online", "email": "Email", "post": "Post", "phone": "Phone", "in_person": "In person"}
YES_NO = {"yes": "Yes", "no": "No"}
#: Who the family agree may read the advice from the others (the SEND Code of Practice shares advice with the family,
#: and with other professionals only with consent). engine.people.access.ADVICE_SHARING reads the same keys.
SHARE_ADVICE = {
    "all": "The school or setting, health and social care",
    "setting": "Only the school or setting",
    "health_body": "Only health",
    "social_care": "Only social care",
    "none": "No one else",
}

POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$")
# A unique pupil number: a check letter, 11 digits, then a digit or letter (DfE UPN guidance).
UPN = re.compile(r"^[A-Z][0-9]{11}[0-9A-Z]$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# The letters a UPN's check letter (and a temporary UPN's last character) may be: A to Z without I, O and S, each
# standing for its place in this string (DfE UPN guidance).
UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"


def upn_check_letter(upn: str) -> str | None:
    """The check letter the 12 characters after the first call for, or None when they cannot be a UPN's: each
    character from the second is weighted by its position (2 to 13), a temporary UPN's last letter counting as its
    place in UPN_LETTERS, and the sum modulo 23 picks the letter."""
    if len(upn) != 13 or not upn[1:12].isdigit():
        return None
    last = upn[12]
    if not last.isdigit() and last not in UPN_LETTERS:
        return None
    values = [int(c) for c in upn[1:12]] + [int(last) if last.isdigit() else UPN_LETTERS.index(last)]
    return UPN_LETTERS[sum(value * weight for value, weight in zip(values, range(2, 14), strict=True)) % 23]


def check_upn(upn: str) -> str | None:
    """What is wrong with a UPN (GOV.UK wording), or None."""
    if not UPN.match(upn):
        return "Enter a unique pupil number of 13 characters: a letter, 11 digits, then a digit or letter"
    expected = upn_check_letter(upn)
    if expected is None:
        return "A temporary unique pupil number cannot end in I, O or S"
    if upn[0] != expected:
        return "Enter the unique pupil number exactly as the school has it: its first letter does not match the rest"
    return None


OLDEST_AGE = 25


@dataclass(frozen=True)
class Question:
    name: str
    label: str
    kind: str = "text"  # text, textarea, email, date, radios, postcode, upn, phone
    options: Mapping[str, str] = field(default_factory=dict)
    hint: str = ""
    max_length: int = 200
    required: bool = True


@dataclass(frozen=True)
class Page:
    slug: str
    title: str
    questions: tuple[Question, ...]
    caption: str = ""


PAGES: tuple[Page, ...] = (
    Page("who", "Who is asking for the assessment?", (
        Question("requester_type", "Who is asking for the assessment?", "radios", REQUESTER_TYPES),
    )),
    Page("about-you", "Your details", (
        Question("requester_name", "Your full name"),
        Question("relationship_to_child", "Your relationship to the child or young person",
                 hint="For example mother, foster carer, SENCO, health visitor", max_length=80),
        Question("requester_email", "Email address", "email",
                 hint="We use this to tell you about the request. A parent or young person gets an email to set up "
                      "an account so that they can follow it."),
        Question("requester_phone", "Phone number", "phone", required=False, max_length=40),
    )),
    Page("child", "The child or young person", (
        Question("child_first_name", "First name", max_length=100),
        Question("child_last_name", "Last name", max_length=100),
        Question("child_date_of_birth", "Date of birth", "date", hint="For example, 27 3 2015"),
    )),
    Page("address", "Where does the child or young person live?", (
        Question("child_address", "Address", "textarea", max_length=500),
        Question("child_postcode", "Postcode", "postcode", max_length=10),
    )),
    Page("setting", "School, college or early years setting", (
        Question("setting_name", "Name of the school, college or setting", required=False,
                 hint="Leave blank if the child does not attend one"),
        Question("child_upn", "Unique pupil number (UPN)", "upn", required=False, max_length=13,
                 hint="13 characters, for example A123456789012. A school or setting should give it."),
    )),
    Page("family", "The child's parents", (
        Question("parent_name", "Parent or carer's name", required=False),
        Question("parent_email", "Parent or carer's email address", "email", required=False,
                 hint="They will get an email to set up an account and follow the request"),
        Question("family_knows", "Do the parents (or the young person) know about this request?", "radios", YES_NO),
    ), caption="Only for a school, college, setting or someone else asking"),
    Page("views", "Views", (
        Question("parent_views", "The parents' views", "textarea", max_length=5000, required=False,
                 hint="What the child finds hard, what helps, and what they hope an assessment will bring"),
        Question("young_person_views", "The child or young person's own views", "textarea", max_length=5000,
                 required=False),
    )),
    Page("support", "The help tried so far", (
        Question("sen_support", "What special educational provision or SEN support has been tried, and for how long?",
                 "textarea", max_length=5000,
                 hint="You can attach the setting's reports on the next page"),
    )),
    Page("urgent", "Is anything urgent?", (
        Question("urgent", "Is there anything urgent the local authority should know about?", "radios", YES_NO),
        Question("urgent_details", "What is urgent?", "textarea", max_length=2000, required=False),
    )),
    Page("consent", "Sharing the information", (
        Question("consent_to_share", "Do you agree that the local authority may share this request with the people "
                 "it asks for advice (education, health and social care)?", "radios", YES_NO),
        Question("share_advice_with", "Who else may read the advice the local authority gets about the child?",
                 "radios", SHARE_ADVICE, required=False,
                 hint="The local authority and the family always see it. Each adviser sees their own advice. Leave "
                      "this empty if you are not sure: no one else will see it."),
    )),
)
PAGE_BY_SLUG = {p.slug: p for p in PAGES}
QUESTIONS = {q.name: q for p in PAGES for q in p.questions}
# Answers kept in the request's own columns; the others go to its ``answers`` JSON.
COLUMNS = ("requester_type", "requester_name", "relationship_to_child", "requester_email", "requester_phone",
           "child_first_name", "child_last_name", "child_date_of_birth", "child_address", "child_postcode",
           "setting_name", "child_upn")


def pages_for(requester_type: str | None) -> list[Page]:
    """The pages this requester is asked, in order: parents and young people are not asked about "the parents"."""
    return [p for p in PAGES if not (p.slug == "family" and requester_type in ("parent", "young_person"))]


def parse_date(text: str) -> date | None:
    """A date typed as ``YYYY-MM-DD`` or ``D M YYYY`` / ``D/M/YYYY`` (GOV.UK date inputs are joined this way)."""
    text = text.strip()
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    parts = (m.group(1), m.group(2), m.group(3)) if m else None
    if parts is None:
        m = re.fullmatch(r"(\d{1,2})[ /.-]+(\d{1,2})[ /.-]+(\d{4})", text)
        parts = (m.group(3), m.group(2), m.group(1)) if m else None
    if parts is None:
        return None
    try:
        return date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        return None


def _check(q: Question, value: str, today: date) -> tuple[str, str | None]:
    value = value.strip() if q.kind in ("textarea",) else " ".join(value.split())
    if not value:
        return "", (f"Enter {q.label[0].lower()}{q.label[1:]}" if q.kind != "radios" else "Select an answer") \
            if q.required else None
    if len(value) > q.max_length:
        return value, f"{q.label} must be {q.max_length} characters or fewer"
    if q.kind == "radios" and value not in q.options:
        return value, "Select one of the answers"
    if q.kind == "email":
        value = value.lower()
        if not EMAIL.match(value):
            return value, "Enter an email address in the correct format, like name@example.com"
    if q.kind == "postcode":
        value = value.upper()
        if not POSTCODE.match(value):
            return value, "Enter a real postcode, like SW1A 1AA"
    if q.kind == "upn":
        value = value.upper().replace(" ", "")
        problem = check_upn(value)
        if problem:
            return value, problem
    if q.kind == "date":
        day = parse_date(value)
        if day is None:
            return value, f"{q.label} must be a real date"
        if day > today:
            return value, f"{q.label} must be in the past"
        if day.year < today.year - OLDEST_AGE - 1 or (today.year - day.year) * 12 + today.month - day.month \
                > (OLDEST_AGE + 1) * 12:
            return value, "An EHC needs assessment is for children and young people up to the age of 25"
        value = day.isoformat()
    return value, None


def check_page(page: Page, raw: Mapping[str, str], today: date, requester_type: str | None = None,
               online: bool = True) -> tuple[dict[str, str], dict[str, str]]:
    """The page's answers cleaned, and a message for each problem (an empty dict when all is well).

    A request sent online must give the requester's own views; one that came by letter or phone is recorded as it
    came (``online=False``), views or not.
    """
    clean: dict[str, str] = {}
    errors: dict[str, str] = {}
    for q in page.questions:
        value, problem = _check(q, str(raw.get(q.name) or ""), today)
        clean[q.name] = value
        if problem:
            errors[q.name] = problem
    requester_type = requester_type or clean.get("requester_type")
    if page.slug == "about-you" and requester_type == "young_person" and "relationship_to_child" in errors \
            and not clean.get("relationship_to_child"):
        errors.pop("relationship_to_child")  # asking for yourself: there is no relationship to give
    if page.slug == "views" and online:
        if requester_type == "parent" and not clean.get("parent_views"):
            errors["parent_views"] = "Enter your views as the child's parent"
        if requester_type == "young_person" and not clean.get("young_person_views"):
            errors["young_person_views"] = "Enter your views"
    if page.slug == "urgent" and clean.get("urgent") == "yes" and not clean.get("urgent_details"):
        errors["urgent_details"] = "Enter what is urgent"
    if page.slug == "family" and requester_type == "setting" and clean.get("family_knows") == "no":
        errors["family_knows"] = ("A school, college or setting asks for an assessment with the family's knowledge: "
                                  "talk to them first (SEND Code of Practice, 9.9)")
    return clean, errors


def check_all(raw: Mapping[str, str], today: date, online: bool = True) -> tuple[dict[str, str], dict[str, str]]:
    """Every page's answers at once (a request recorded by a caseworker, or the command line)."""
    requester_type = " ".join(str(raw.get("requester_type") or "").split())
    clean: dict[str, str] = {}
    errors: dict[str, str] = {}
    for page in pages_for(requester_type):
        page_clean, page_errors = check_page(page, raw, today, requester_type, online)
        clean.update(page_clean)
        errors.update(page_errors)
    return clean, errors


def first_page_with_problems(answers: Mapping[str, str], today: date) -> Page | None:
    """The first page whose stored answers do not pass (so "check your answers" sends the person back there)."""
    requester_type = answers.get("requester_type")
    for page in pages_for(requester_type):
        if check_page(page, answers, today, requester_type)[1]:
            return page
    return None
