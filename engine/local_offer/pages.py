"""The fixed pages of an LA's Local Offer (Code 4.30, 4.44, 4.57): how to request an EHC needs assessment, how
decisions are made, how to complain or appeal, the short breaks statement, the personal budgets policy.

The LA writes them in plain text with a few marks, never HTML: a line starting "## " is a heading, lines starting
"- " are a list, a blank line ends a paragraph, and ``[words](address)`` is a link to a page of this site, an https
address or an email. ``blocks`` turns the text into data the page template draws with escaping on, so nothing an
editor types can become markup or script.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import FormInvalid, NotFound
from engine.store.local_offer import LocalOfferPage


@dataclass(frozen=True)
class FixedPage:
    slug: str
    title: str
    body: str  # the text used until the LA writes its own; {la_code} is the LA's code


FIXED_PAGES: tuple[FixedPage, ...] = (
    FixedPage("request-an-assessment", "How to request an EHC needs assessment",
              "A parent, a young person aged 16 to 25, or a school, college or early years setting can ask the "
              "local authority to carry out an education, health and care (EHC) needs assessment.\n\n"
              "## How to ask\n\n- [Request an assessment online](/request-an-assessment/?la={la_code})\n"
              "- or write to the SEND team\n\n"
              "The local authority must tell you within 6 weeks whether it will carry out an assessment."),
    FixedPage("how-decisions-are-made", "How decisions are made",
              "Decisions about assessments and EHC plans are made by a panel of officers from education, health "
              "and social care, using the evidence given by the family and professionals."),
    FixedPage("complaints-and-appeals", "How to complain or appeal",
              "If you disagree with a decision you can talk to us, ask for disagreement resolution or mediation, "
              "and appeal to the First-tier Tribunal (Special Educational Needs and Disability).\n\n"
              "Every decision letter says how to appeal and by when."),
    FixedPage("short-breaks-statement", "Short breaks statement",
              "Our short breaks statement describes the short breaks available, who they are for and how to "
              "get them."),
    FixedPage("personal-budgets", "Personal budgets policy",
              "A young person or a child's parent can ask for a personal budget when an EHC plan is being drawn "
              "up or reviewed."),
)
FIXED_BY_SLUG = {p.slug: p for p in FIXED_PAGES}
LINK = re.compile(r"\[([^\]\n]{1,200})\]\(([^)\s]{1,300})\)")
SAFE_TARGET = re.compile(r"(/(?!/)[^\s]*|https://[^\s]+|mailto:[^\s@]+@[^\s]+)", re.IGNORECASE)
MAX_BODY = 20000


@dataclass(frozen=True)
class Shown:
    """A page as shown: the LA's own text, or the starting text until it writes one."""

    slug: str
    title: str
    body: str
    updated_at: datetime | None


def page_of(session: Session, la_id: int, la_code: str, slug: str) -> Shown:
    fixed = FIXED_BY_SLUG.get(slug)
    if fixed is None:
        raise NotFound("No such page in this Local Offer")
    row = session.scalars(select(LocalOfferPage).where(LocalOfferPage.la_id == la_id,
                                                       LocalOfferPage.slug == slug)).first()
    if row is not None:
        return Shown(slug, row.title, row.body, row.updated_at)
    return Shown(slug, fixed.title, fixed.body.replace("{la_code}", la_code), None)


def pages_of(session: Session, la_id: int, la_code: str) -> list[Shown]:
    return [page_of(session, la_id, la_code, p.slug) for p in FIXED_PAGES]


def save_page(session: Session, la_id: int, slug: str, title: str, body: str, now: datetime,
              user_id: int | None) -> LocalOfferPage:
    if slug not in FIXED_BY_SLUG:
        raise NotFound("No such page in this Local Offer")
    title, body = (title or "").strip(), (body or "").replace("\r\n", "\n").strip()
    errors: dict[str, str] = {}
    if not title or len(title) > 200:
        errors["title"] = "Enter a title of 200 characters or fewer"
    if not body:
        errors["body"] = "Enter the page's text"
    elif len(body) > MAX_BODY:
        errors["body"] = f"Use {MAX_BODY} characters or fewer"
    if errors:
        raise FormInvalid(errors)
    row = session.scalars(select(LocalOfferPage).where(LocalOfferPage.la_id == la_id,
                                                       LocalOfferPage.slug == slug)).first()
    if row is None:
        row = LocalOfferPage(la_id=la_id, slug=slug)
        session.add(row)
    row.title, row.body, row.updated_at, row.updated_by_id = title, body, now, user_id
    session.flush()
    return row


def inline(text: str) -> list[dict[str, str]]:
    """A line's parts: text, and links whose address is safe (a page of this site, https or mailto); any other
    "link" stays as the words the editor typed."""
    parts: list[dict[str, str]] = []
    at = 0
    for match in LINK.finditer(text):
        if not SAFE_TARGET.fullmatch(match.group(2)):
            continue
        if match.start() > at:
            parts.append({"text": text[at:match.start()]})
        parts.append({"text": match.group(1), "href": match.group(2)})
        at = match.end()
    if at < len(text):
        parts.append({"text": text[at:]})
    return parts


def blocks(body: str) -> list[dict[str, object]]:
    """The body as headings, paragraphs and lists, each a list of parts (see ``inline``)."""
    out: list[dict[str, object]] = []
    paragraph: list[str] = []
    items: list[list[dict[str, str]]] = []

    def flush() -> None:
        if paragraph:
            out.append({"kind": "p", "parts": inline(" ".join(paragraph))})
            paragraph.clear()
        if items:
            out.append({"kind": "ul", "items": list(items)})
            items.clear()

    for raw in body.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if not line:
            flush()
        elif line.startswith("## "):
            flush()
            out.append({"kind": "h2", "parts": inline(line[3:].strip())})
        elif line.startswith("- "):
            if paragraph:
                flush()
            items.append(inline(line[2:].strip()))
        else:
            if items:
                flush()
            paragraph.append(line)
    flush()
    return out


__all__ = ["FIXED_BY_SLUG", "FIXED_PAGES", "FixedPage", "Shown", "blocks", "inline", "page_of", "pages_of",
           "save_page"]
