"""The request's questions as a caseworker reads them: the online pages speak to the requester ("Your full name"),
the caseworker's pages speak about them. The questions and their checks stay in ``engine.intake.questions``."""

from __future__ import annotations

from types import SimpleNamespace

from engine.intake.questions import QUESTIONS, REQUESTER_TYPES, Page, Question

PAGE_TITLES = {"who": "Who asked", "about-you": "The person asking"}
LABELS = {
    "requester_type": "Who is asking for the assessment?",
    "requester_name": "Their full name",
    "relationship_to_child": "Their relationship to the child or young person",
    "requester_email": "Their email address",
    "requester_phone": "Their phone number",
}
HINTS = {
    "requester_email": "We email them that the request was received. A parent or young person also gets a link to set "
                       "up an account, so that they can follow it.",
    "relationship_to_child": "For example mother, foster carer, SENCO, health visitor. Leave blank for a young person "
                             "asking for themselves.",
}
REQUESTER_LABELS = {**REQUESTER_TYPES, "young_person": "The young person (aged 16 to 25), for themselves"}


def page_title(page: Page) -> str:
    return PAGE_TITLES.get(page.slug, page.title)


def label(question: Question) -> str:
    return LABELS.get(question.name, question.label)


def hint(question: Question) -> str:
    return HINTS.get(question.name, question.hint)


def options(question: Question) -> dict[str, str]:
    return dict(REQUESTER_LABELS if question.name == "requester_type" else question.options)


def staff_message(name: str, message: str) -> str:
    """The engine's "Enter your full name" as "Enter their full name" where the caseworker's label differs."""
    question = QUESTIONS.get(name)
    if question is None or name not in LABELS:
        return message
    said = f"Enter {question.label[0].lower()}{question.label[1:]}"
    return f"Enter {LABELS[name][0].lower()}{LABELS[name][1:]}" if message == said else message


# What the templates call: ``wording.label(q)``.
FOR_TEMPLATES = SimpleNamespace(page_title=page_title, label=label, hint=hint, options=options)
