"""Local Offer entries: the LA's editor saves them (checked, then published), the public searches them, and each is
exported as JSON and as schema.org data. Entries not checked for 12 months go onto the LA's review list."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from engine.errors import FormInvalid, NotFound
from engine.lists.paging import Page
from engine.local_offer.categories import CATEGORY_BY_CODE, MAX_AGE, NEEDS, category_label, need_labels
from engine.statutory.calendar import add_months
from engine.store.local_offer import LocalOfferEntry
from engine.store.models import Organisation

STATUSES = ("draft", "published")
TEXT_FIELDS = ("offers", "who_for", "eligibility", "how_to_access", "opening_hours", "cost")
SHORT_FIELDS = {"title": 200, "area": 100, "contact_name": 200, "contact_email": 200, "contact_phone": 40}
URL_FIELDS = ("website", "sen_report_url")
LONG_TEXT = 5000
PER_PAGE = 20
MAX_WORDS = 8
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
SAFE_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
REVIEW_MONTHS = 12
# The organisations that may be named as an entry's provider (engine/local_offer/proposals.py).
PROVIDER_KINDS = ("health_body", "voluntary_provider", "service", "setting")


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def clean_entry(session: Session, data: dict[str, Any]) -> dict[str, Any]:
    """The entry's values from a form (strings; ``needs`` a list), checked; FormInvalid names every field refused."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for name, limit in SHORT_FIELDS.items():
        out[name] = str(data.get(name) or "").strip()
        if len(out[name]) > limit:
            errors[name] = f"Use {limit} characters or fewer"
    if not out["title"]:
        errors["title"] = "Enter the name of the service or setting"
    if out["contact_email"] and not EMAIL.fullmatch(out["contact_email"]):
        errors["contact_email"] = "Enter an email address like name@example.org"
    for name in TEXT_FIELDS:
        out[name] = str(data.get(name) or "").strip()
        if len(out[name]) > LONG_TEXT:
            errors[name] = f"Use {LONG_TEXT} characters or fewer"
    for name in URL_FIELDS:
        out[name] = str(data.get(name) or "").strip()
        if out[name] and (not SAFE_URL.fullmatch(out[name]) or len(out[name]) > 300):
            errors[name] = "Enter a web address starting with https://"
    out["category"] = str(data.get("category") or "")
    if out["category"] not in CATEGORY_BY_CODE:
        errors["category"] = "Select a category"
    needs = data.get("needs") or []
    out["needs"] = [n for n in NEEDS if n in needs]
    if len(out["needs"]) != len(set(needs)):
        errors["needs"] = "Select the needs from the list"
    age_from, age_to = _int(data.get("age_from", 0)), _int(data.get("age_to", MAX_AGE))
    if age_from is None or not 0 <= age_from <= MAX_AGE:
        errors["age_from"] = f"Enter an age from 0 to {MAX_AGE}"
    if age_to is None or not 0 <= age_to <= MAX_AGE:
        errors["age_to"] = f"Enter an age from 0 to {MAX_AGE}"
    elif age_from is not None and age_from > age_to:
        errors["age_to"] = "The oldest age must be the same as or more than the youngest"
    out["age_from"], out["age_to"] = age_from, age_to
    out["status"] = str(data.get("status") or "draft")
    if out["status"] not in STATUSES:
        errors["status"] = "Select draft or published"
    org_id = str(data.get("organisation_id") or "").strip()
    out["organisation_id"] = None
    if org_id:
        org = session.get(Organisation, _int(org_id) or 0)
        if org is None or org.kind != "setting":
            errors["organisation_id"] = "Select a school or setting from the list"
        else:
            out["organisation_id"] = org.id
    provider_id = str(data.get("provider_id") or "").strip()
    out["provider_id"] = None
    if provider_id:
        provider = session.get(Organisation, _int(provider_id) or 0)
        if provider is None or provider.kind not in PROVIDER_KINDS:
            errors["provider_id"] = "Select the provider from the list"
        else:
            out["provider_id"] = provider.id
    if errors:
        raise FormInvalid(errors)
    return out


def save_entry(session: Session, la_id: int, data: dict[str, Any], now: datetime, today: date,
               user_id: int | None, entry: LocalOfferEntry | None = None) -> LocalOfferEntry:
    """Creates or changes an entry of the LA; saving is checking it, so its "last checked" date becomes today."""
    values = clean_entry(session, data)
    if entry is None:
        entry = LocalOfferEntry(la_id=la_id, created_at=now)
        session.add(entry)
    elif entry.la_id != la_id:
        raise NotFound("No such entry")
    for name, value in values.items():
        setattr(entry, name, value)
    entry.last_checked_on = today
    entry.updated_at = now
    entry.updated_by_id = user_id
    session.flush()
    return entry


def entry_of(session: Session, la_id: int, entry_id: int, *, published_only: bool) -> LocalOfferEntry:
    entry = session.get(LocalOfferEntry, entry_id)
    if entry is None or entry.la_id != la_id or (published_only and entry.status != "published"):
        raise NotFound("No such entry in this Local Offer")
    return entry


@dataclass
class Search:
    """The filters of one search, cleaned: what could not be used is left out and said in ``problems``."""

    words: str = ""
    category: str = ""
    need: str = ""
    age: int | None = None
    area: str = ""
    page: int = 1
    problems: list[str] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.words or self.category or self.need or self.age is not None or self.area)


def parse_search(args: dict[str, str], areas: list[str]) -> Search:
    """The filters from a query string, whatever was typed into it: odd values are dropped, not an error page."""
    s = Search(words=" ".join(str(args.get("q") or "").split())[:200])
    category = str(args.get("category") or "")
    if category in CATEGORY_BY_CODE:
        s.category = category
    elif category:
        s.problems.append("That category is not one of the list, so all categories are shown")
    need = str(args.get("need") or "")
    if need in NEEDS:
        s.need = need
    elif need:
        s.problems.append("That need is not one of the list, so all needs are shown")
    age_text = str(args.get("age") or "").strip()
    age = _int(age_text)
    if age is not None and 0 <= age <= MAX_AGE:
        s.age = age
    elif age_text:
        s.problems.append(f"Enter an age from 0 to {MAX_AGE} as a number; all ages are shown")
    area = str(args.get("area") or "")
    if area in areas:
        s.area = area
    elif area:
        s.problems.append("That area is not one of the list, so all areas are shown")
    page = _int(args.get("page") or 1)
    s.page = page if page is not None and 1 <= page <= 10_000 else 1
    return s


def areas_of(session: Session, la_id: int) -> list[str]:
    """The areas the LA's published entries name, for the area filter."""
    rows = session.scalars(select(LocalOfferEntry.area).distinct()
                           .where(LocalOfferEntry.la_id == la_id, LocalOfferEntry.status == "published",
                                  LocalOfferEntry.area != ""))
    return sorted(rows)


def search(session: Session, la_id: int, s: Search, per_page: int = PER_PAGE) -> Page[LocalOfferEntry]:
    """The LA's published entries that match every filter, by title. Each word must appear in the title, what is
    offered, who it is for or the area; an entry with no needs named is for every need."""
    query = select(LocalOfferEntry).where(LocalOfferEntry.la_id == la_id, LocalOfferEntry.status == "published")
    for word in s.words.lower().split()[:MAX_WORDS]:
        query = query.where(or_(*(func.lower(col).contains(word, autoescape=True) for col in (
            LocalOfferEntry.title, LocalOfferEntry.offers, LocalOfferEntry.who_for, LocalOfferEntry.area))))
    if s.category:
        query = query.where(LocalOfferEntry.category == s.category)
    if s.area:
        query = query.where(LocalOfferEntry.area == s.area)
    if s.age is not None:
        query = query.where(LocalOfferEntry.age_from <= s.age, LocalOfferEntry.age_to >= s.age)
    rows = list(session.scalars(query.order_by(func.lower(LocalOfferEntry.title), LocalOfferEntry.id)))
    if s.need:
        rows = [r for r in rows if not r.needs or s.need in r.needs]
    pages = max(1, -(-len(rows) // per_page))
    page = min(s.page, pages)
    return Page(rows[(page - 1) * per_page:page * per_page], len(rows), page, per_page)


def review_cutoff(today: date) -> date:
    """Entries last checked on or before this day have gone 12 months unchecked (7 Dec 2026 -> 7 Dec 2025; 29 Feb
    2028 -> 28 Feb 2027, the month-end rule)."""
    return add_months(today, -REVIEW_MONTHS)


def review_list(session: Session, la_id: int, today: date) -> list[LocalOfferEntry]:
    """The LA's entries never checked, or not checked for 12 months, the longest unchecked first."""
    cutoff = review_cutoff(today)
    rows = session.scalars(select(LocalOfferEntry).where(
        LocalOfferEntry.la_id == la_id,
        or_(LocalOfferEntry.last_checked_on.is_(None), LocalOfferEntry.last_checked_on <= cutoff)))
    return sorted(rows, key=lambda e: (e.last_checked_on is not None, e.last_checked_on or date.min, e.title))


def entries_of(session: Session, la_id: int, status: str | None = None) -> list[LocalOfferEntry]:
    query = select(LocalOfferEntry).where(LocalOfferEntry.la_id == la_id)
    if status in STATUSES:
        query = query.where(LocalOfferEntry.status == status)
    return list(session.scalars(query.order_by(func.lower(LocalOfferEntry.title), LocalOfferEntry.id)))


def entry_json(entry: LocalOfferEntry) -> dict[str, Any]:
    """The entry as the JSON export gives it to a council's website or a national directory."""
    org = entry.organisation
    return {
        "id": entry.id, "title": entry.title, "category": entry.category,
        "category_label": category_label(entry.category), "needs": list(entry.needs or []),
        "needs_labels": need_labels(list(entry.needs or [])), "age_from": entry.age_from, "age_to": entry.age_to,
        "area": entry.area, "offers": entry.offers, "who_for": entry.who_for, "eligibility": entry.eligibility,
        "how_to_access": entry.how_to_access,
        "contact": {"name": entry.contact_name, "email": entry.contact_email, "phone": entry.contact_phone,
                    "website": entry.website},
        "opening_hours": entry.opening_hours, "cost": entry.cost, "sen_information_report": entry.sen_report_url,
        "setting": ({"id": org.id, "name": org.name, "setting_type": org.setting_type} if org is not None else None),
        "provider": ({"id": entry.provider.id, "name": entry.provider.name} if entry.provider is not None else None),
        "last_checked_on": entry.last_checked_on.isoformat() if entry.last_checked_on else None,
    }


def entry_schema_org(entry: LocalOfferEntry, url: str, la_name: str) -> dict[str, Any]:
    """schema.org data for the entry's page: a Service with its audience's ages, provider and contact."""
    provider: dict[str, Any] = {"@type": "EducationalOrganization" if entry.organisation_id else "Organization",
                                "name": entry.organisation.name if entry.organisation else entry.title}
    if entry.contact_email:
        provider["email"] = entry.contact_email
    if entry.contact_phone:
        provider["telephone"] = entry.contact_phone
    data: dict[str, Any] = {
        "@context": "https://schema.org", "@type": "Service", "name": entry.title, "url": url,
        "serviceType": category_label(entry.category), "description": entry.offers, "provider": provider,
        "areaServed": entry.area or la_name,
        "audience": {"@type": "PeopleAudience", "suggestedMinAge": entry.age_from, "suggestedMaxAge": entry.age_to,
                     "audienceType": ", ".join(need_labels(list(entry.needs or [])))},
    }
    if entry.website:
        data["sameAs"] = entry.website
    if entry.last_checked_on:
        data["dateModified"] = entry.last_checked_on.isoformat()
    return data


__all__ = ["PROVIDER_KINDS", "STATUSES", "Search", "areas_of", "clean_entry", "entries_of", "entry_json", "entry_of",
           "entry_schema_org", "parse_search", "review_cutoff", "review_list", "save_entry", "search"]
