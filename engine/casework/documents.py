"""Notices and letters issued on a case, rendered from templates with the case's data.

A BPMN element with the property ``document`` (template names, comma-separated) issues each document when it
completes: ``engine.runtime.projection`` calls ``issue_documents`` in the same transaction as the step. Each template is
``engine/casework/templates/documents/<name>.html``; what is not in the template (its title, who it goes to, whether the
decision it notifies can be appealed) is in ``TEMPLATES`` below for the needs assessment, and in the other routes'
own modules for theirs (``ROUTE_DOCUMENTS``, loaded on first use).

Everything that came from a form is escaped: templates are rendered with autoescaping on, and the only filter that
returns markup, ``paragraphs``, escapes its input first. A notice of an appealable decision always carries the
appeal-rights bundle (send-processes.md §0.4): ``_letter.html`` includes ``_appeal_rights.html`` whenever the
template is marked appealable, so no template can leave it out.

Notices to "the family" go to the parents until the child is over compulsory school age (the last Friday in June of
the school year in which they turn 16), and to the young person after that, and also to a parent the young person
has named to act for them (``engine.casework.family_rights.notice_addressee``, ``name_parent_to_act``).

Need to know: each document is stored with its audience (``Document.audience``), worked out here when it is issued
from the same declaration as its letter's "To" and "Copy" lines, so a process owner has nothing more to write: the
responsible authority; the family when it is sent to them; each organisation it is sent to (as a copy too); whoever
issued it (what a school writes, the school may read again); and for an advice template, the family and the
organisations the family agreed may see advice. ``engine.people.access.may_see_document`` reads it on every page.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.casework.family_rights import NAMED_PARENT_ROLE, notice_addressee
from engine.people.access import audience_from_recipients, author_tokens
from engine.statutory import calendar
from engine.store.models import Case, CaseParty, Document, Organisation

if TYPE_CHECKING:
    from engine.runtime.projection import Projector

TEMPLATE_DIR = Path(__file__).parent / "templates" / "documents"

# ---- settings used in the appeal-rights bundle --------------------------------------------------------------------
#: An appeal must reach the Tribunal within this many calendar months after the notice was sent (HESC Rules
#: r.20(1)(c)). "Months" as calendar months is marked [GK – verify] in send-processes.md §0.2.
APPEAL_MONTHS = 2
#: ...or within this many months of the date the mediation certificate was issued, if that is later (r.20(1)(c)).
APPEAL_MONTHS_AFTER_CERTIFICATE = 1
#: The parent or young person contacts the mediation adviser within this many months of the notice (reg 33).
MEDIATION_ADVISER_MONTHS = 2
#: Mediation must take place within this many days of the LA being told it is wanted ([reg no. verify]).
MEDIATION_WITHIN_DAYS = 30
#: The mediation certificate is issued within this many working days (regs 34, 39).
CERTIFICATE_WORKING_DAYS = 3
#: A request declined because the child was assessed in the last six months is a decision not to secure an
#: assessment, which s.51(2)(a) makes appealable; send-processes.md §9.3 notes a local source that says otherwise
#: ([verify]), so the notice carries the appeal rights unless this is set to False.
DECLINE_RECENT_IS_APPEALABLE = True


class DocumentError(ValueError):
    """A route asked for a document that cannot be made (an unknown template, a recipient rule that is not known)."""


@dataclass(frozen=True)
class DocumentTemplate:
    """What the engine needs to know about a template besides its HTML."""

    title: str  # a Jinja expression template, rendered as plain text with the same context as the body
    recipients: tuple[str, ...]  # recipient rules, see RECIPIENT_RULES; "copy:<rule>" sends a copy
    appealable: bool = False
    #: Advice about the child (reports from professionals): the family always sees it, and so do the organisations
    #: the family agreed may see advice (engine.people.access.advice_shared_with), besides those it was sent to.
    advice: bool = False


TEMPLATES: dict[str, DocumentTemplate] = {
    "decline_recent_assessment": DocumentTemplate(
        "Your request for an EHC needs assessment for {{ child.name }}: not considered now",
        ("family",), appealable=DECLINE_RECENT_IS_APPEALABLE),
    "considering_assessment": DocumentTemplate(
        "We are considering an EHC needs assessment for {{ child.name }}", ("family",)),
    "partner_notification": DocumentTemplate(
        "EHC needs assessment being considered for {{ child.name }}", ("health", "social_care", "setting")),
    "decision_not_to_assess": DocumentTemplate(
        "Decision not to carry out an EHC needs assessment for {{ child.name }}",
        ("family", "copy:health", "copy:social_care", "copy:setting"), appealable=True),
    "decision_to_assess": DocumentTemplate(
        "Decision to carry out an EHC needs assessment for {{ child.name }}",
        ("family", "copy:health", "copy:social_care", "copy:setting")),
    "advice_request": DocumentTemplate(
        "Request for advice for {{ child.name }}: {{ data.advice_request.title }}", ("adviser",)),
    "advice_reminder": DocumentTemplate(
        "Reminder: {{ data.advice_request.title }} for {{ child.name }} is due by {{ data.advice_due | long_date }}",
        ("adviser",)),
    "advice_reuse_agreement": DocumentTemplate(
        "Agreement to re-use existing advice for {{ child.name }}: {{ data.advice_request.title }}",
        ("family", "adviser")),
    "decision_not_to_issue": DocumentTemplate(
        "Decision not to issue an EHC plan for {{ child.name }}",
        ("family", "copy:health", "copy:setting"), appealable=True),
    "decision_to_issue": DocumentTemplate(
        "An EHC plan will be drafted for {{ child.name }}", ("family", "copy:setting")),
    "request_withdrawn": DocumentTemplate(
        "EHC needs assessment request for {{ child.name }} withdrawn",
        ("family", "copy:health", "copy:social_care", "copy:setting")),
    "assessment_ended_moved": DocumentTemplate(
        "EHC needs assessment for {{ child.name }} ended: moved to another local authority",
        ("family", "new_la", "copy:health", "copy:social_care", "copy:setting")),
    # A setting's request for the assessment with its SEN support record as evidence (workflows/sen_support.bpmn,
    # UT_request_assessment): from the setting to the authority, which reads every document; a copy to the family.
    "sen_support_evidence": DocumentTemplate(
        "Request for an EHC needs assessment for {{ child.name }}: SEN support evidence", ("copy:family",)),
}

RECIPIENT_RULES = ("family", "health", "social_care", "setting", "educational_psychology", "adviser", "new_la")

#: Other routes keep the metadata of their notices next to their own code: (module, its templates (a mapping, or a
#: function taking the DocumentTemplate class), its recipient rules, its function (rule, case, data) -> recipients).
#: They are loaded the first time a template or a recipient rule this module does not know is asked for, so a route
#: that is not installed, or not imported yet, costs nothing.
ROUTE_DOCUMENTS: tuple[tuple[str, str, str | None, str | None], ...] = (
    ("engine.casework.plan_documents", "plan_document_templates", "PLAN_RECIPIENT_RULES", "plan_recipients"),
    ("engine.casework.transfer", "document_templates", "RECIPIENT_RULES", "recipients"),
    ("engine.casework.review_documents", "DOCUMENT_TEMPLATES", "RECIPIENT_RULES", "recipients"),
)
_ROUTE_RULES: dict[str, Callable[[str, Case, dict[str, Any]], list[dict[str, Any]]]] = {}


def load_route_documents() -> None:
    """Adds the other routes' templates and recipient rules that are missing (an entry already known wins).

    Called only when a name is not known, so it costs nothing for this route's own notices; the modules are imported
    once by Python, and calling it again restores anything removed in between (tests patch TEMPLATES).
    """
    for module_name, templates_name, rules_name, recipients_name in ROUTE_DOCUMENTS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue  # that route is not part of this installation
            raise
        templates = getattr(module, templates_name, None) or {}
        if callable(templates):
            templates = templates(DocumentTemplate)
        for name, template in templates.items():
            TEMPLATES.setdefault(name, template)
        if rules_name and recipients_name:
            function = getattr(module, recipients_name)
            for rule in getattr(module, rules_name, ()):
                if rule not in RECIPIENT_RULES:
                    _ROUTE_RULES.setdefault(rule, function)


# ---- rendering -----------------------------------------------------------------------------------------------------
def long_date(value: Any) -> str:
    """'2026-03-02' or a date -> '2 March 2026' (GOV.UK style); empty for nothing."""
    if value in (None, ""):
        return ""
    if isinstance(value, str) and len(value) > 10:
        value = datetime.fromisoformat(value)  # a moment, such as received_at: its date in England
    day = calendar.as_date(value)
    return f"{day.day} {day:%B %Y}"


def paragraphs(value: Any) -> Markup:
    """Text someone typed, escaped, as HTML paragraphs (blank lines) and line breaks."""
    if value in (None, ""):
        return Markup("")
    blocks = [block.strip() for block in str(value).replace("\r\n", "\n").split("\n\n") if block.strip()]
    return Markup("\n").join(Markup("<p>{}</p>").format(Markup("<br>").join(escape(line) for line in
                                                                             block.split("\n")))
                             for block in blocks)


def _environment(autoescape: bool) -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATE_DIR), autoescape=autoescape, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["long_date"] = long_date
    env.filters["paragraphs"] = paragraphs
    return env


_BODY_ENV = _environment(autoescape=True)
_TITLE_ENV = _environment(autoescape=False)  # titles are plain text, stored as such and escaped where shown


# ---- recipients ----------------------------------------------------------------------------------------------------
def is_young_person(case: Case, on: date) -> bool:
    """Over compulsory school age on that day: rights (and notices) belong to the young person."""
    if case.date_of_birth is None:
        return False
    return on > calendar.end_of_compulsory_school_age(case.date_of_birth)


def _party_org(parties: list[CaseParty], role: str) -> Organisation | None:
    for party in parties:
        if party.role == role and party.organisation is not None:
            return party.organisation
    return None


def _org_recipient(org: Organisation, role: str) -> dict[str, Any]:
    return {"name": org.name, "role": role, "organisation_id": org.id, "email": org.email, "address": org.address}


def _family(case: Case, parties: list[CaseParty], on: date) -> list[dict[str, Any]]:
    family = [p for p in parties if p.role == "family" and p.user is not None]
    parents = [p for p in family if (p.relationship_to_child or "").lower() != "young person"]
    named = {p.user_id for p in parties if p.role == NAMED_PARENT_ROLE and p.user_id is not None}
    addressee = notice_addressee(case.date_of_birth, on, any(p.user_id in named for p in parents))
    if addressee != "parent":
        own = next((p for p in family if (p.relationship_to_child or "").lower() == "young person"), None)
        young = [{"name": case.child_name, "role": "young_person", "user_id": own.user_id if own else None}]
        if addressee == "parent_for_young_person":  # the young person named them to act for them: both get it
            young += [{"name": p.user.name, "role": "parent", "relationship": p.relationship_to_child,
                       "user_id": p.user_id, "acting_for_young_person": True} for p in parents if p.user_id in named]
        return young
    if not parents:
        return [{"name": f"The parent or carer of {case.child_name}", "role": "parent", "user_id": None}]
    return [{"name": p.user.name, "role": "parent", "relationship": p.relationship_to_child, "user_id": p.user_id}
            for p in parents]


def _adviser(case: Case, parties: list[CaseParty], data: dict[str, Any]) -> list[dict[str, Any]]:
    request = data.get("advice_request") or {}
    provider = request.get("provider")
    if provider == "school":
        return _rule("setting", case, parties, data, date.min)
    if provider == "ep":
        return _rule("educational_psychology", case, parties, data, date.min)
    if provider in ("health", "social_care"):
        return _rule(provider, case, parties, data, date.min)
    adviser = request.get("adviser") or {}
    if adviser.get("name"):
        return [{"name": str(adviser["name"]), "role": "adviser", "organisation": adviser.get("organisation"),
                 "contact": adviser.get("contact"), "organisation_id": None}]
    return [{"name": f"{request.get('title') or 'Adviser'} (arranged by {case.la.name})", "role": "adviser",
             "organisation_id": case.la_id}]


def _rule(rule: str, case: Case, parties: list[CaseParty], data: dict[str, Any], on: date) -> list[dict[str, Any]]:
    if rule == "family":
        return _family(case, parties, on)
    if rule == "health":
        org = _party_org(parties, "health_body")
        if org is None:
            return [{"name": "The responsible commissioning body (health)", "role": "health_body",
                     "organisation_id": None}]
        return [_org_recipient(org, "health_body")]
    if rule == "setting":
        org = _party_org(parties, "setting")
        return [_org_recipient(org, "setting")] if org is not None else []
    if rule == "social_care":
        return [{"name": f"Social care, {case.la.name}", "role": "social_care", "organisation_id": case.la_id}]
    if rule == "educational_psychology":
        return [{"name": f"Educational psychology service, {case.la.name}", "role": "educational_psychologist",
                 "organisation_id": case.la_id}]
    if rule == "adviser":
        return _adviser(case, parties, data)
    if rule == "new_la":
        move = data.get("move") or {}
        return [{"name": str(move.get("new_la") or "The new local authority"), "role": "local_authority",
                 "organisation_id": move.get("new_la_id") if isinstance(move.get("new_la_id"), int) else None}]
    load_route_documents()
    if rule in _ROUTE_RULES:
        return _ROUTE_RULES[rule](rule, case, data)
    known = ", ".join((*RECIPIENT_RULES, *_ROUTE_RULES))
    raise DocumentError(f"No recipient rule {rule!r} (known: {known})")


def recipients_for(template: DocumentTemplate, case: Case, parties: list[CaseParty], data: dict[str, Any],
                   on: date) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for rule in template.recipients:
        copy = rule.startswith("copy:")
        for recipient in _rule(rule.removeprefix("copy:"), case, parties, data, on):
            out.append({**recipient, "copy": copy})
    return out


# ---- the appeal-rights bundle --------------------------------------------------------------------------------------
def appeal_context(case: Case, parties: list[CaseParty], issued_on: date) -> dict[str, Any]:
    return {
        "appeal_by": calendar.add_months(issued_on, APPEAL_MONTHS),
        "appeal_months": APPEAL_MONTHS,
        "months_after_certificate": APPEAL_MONTHS_AFTER_CERTIFICATE,
        "mediation_adviser_by": calendar.add_months(issued_on, MEDIATION_ADVISER_MONTHS),
        "mediation_adviser_months": MEDIATION_ADVISER_MONTHS,
        "mediation_within_days": MEDIATION_WITHIN_DAYS,
        "certificate_working_days": CERTIFICATE_WORKING_DAYS,
        "mediation_adviser": _party_org(parties, "mediation_service"),
        "la": case.la,
    }


# ---- issuing -------------------------------------------------------------------------------------------------------
def template_for(name: str) -> DocumentTemplate:
    """The declaration of a template that exists (DocumentError otherwise)."""
    if name not in TEMPLATES:
        load_route_documents()
    template = TEMPLATES.get(name)
    if template is None or not (TEMPLATE_DIR / f"{name}.html").is_file():
        raise DocumentError(f"No document template {name!r} in engine/casework/templates/documents")
    return template


def audience_for(template: DocumentTemplate, case: Case, recipients: list[dict[str, Any]],
                 author: set[str]) -> list[str]:
    """Who may read the document (need to know): see the module's docstring."""
    audience = audience_from_recipients(recipients, case.la_id) | author
    if template.advice:
        audience |= {"family", "advice"}
    return sorted(audience)


def render(name: str, case: Case, parties: list[CaseParty], data: dict[str, Any],
           issued_on: date) -> tuple[str, str, list[dict[str, Any]], bool]:
    """The title, HTML body, recipients and appealable flag of a document, without storing anything."""
    template = template_for(name)
    recipients = recipients_for(template, case, parties, data, issued_on)
    context: dict[str, Any] = {
        "data": data,
        "case": case,
        "child": {"name": case.child_name, "date_of_birth": case.date_of_birth, "reference": case.reference},
        "la": case.la,
        "issued_on": issued_on,
        "recipients": recipients,
        "to": [r for r in recipients if not r["copy"]],
        "copies": [r for r in recipients if r["copy"]],
        "young_person": is_young_person(case, issued_on),
        "appealable": template.appealable,
        "appeal": appeal_context(case, parties, issued_on),
    }
    title = _TITLE_ENV.from_string(template.title).render(context).strip()
    context["title"] = title
    body = _BODY_ENV.get_template(f"{name}.html").render(context)
    return title, body, recipients, template.appealable


def issue_documents(projector: Projector, task: Any, names: str) -> list[Document]:
    """Issues each named document on the projector's case (the `document` completion hook)."""
    session = projector.session
    case = session.get(Case, projector.instance.case_id)
    if case is None:
        raise DocumentError("The case of this route no longer exists")
    parties = list(session.scalars(select(CaseParty).where(CaseParty.case_id == case.id, CaseParty.active.is_(True))
                                   .order_by(CaseParty.id)))
    issued_on = calendar.to_london_date(projector.now)
    data = dict(task.data)
    documents: list[Document] = []
    author = author_tokens(session, projector.actor_id, case)
    for name in [n.strip() for n in names.split(",") if n.strip()]:
        title, body, recipients, appealable = render(name, case, parties, data, issued_on)
        audience = audience_for(template_for(name), case, recipients, author)
        document = Document(case_id=case.id, instance_id=projector.instance.id, kind=name, title=title[:300],
                            body_html=body, recipients=recipients, appealable=appealable, issued_at=projector.now,
                            issued_by_id=projector.actor_id, audience=audience)
        session.add(document)
        session.flush()
        projector.events.append(("document_issued", f"Issued: {title}",
                                 {"document_id": document.id, "kind": name, "appealable": appealable,
                                  "recipients": [r["name"] for r in recipients], "audience": audience}))
        documents.append(document)
    return documents


def documents_for_case(session: Session, case_id: int) -> list[Document]:
    """The documents issued on a case, oldest first."""
    return list(session.scalars(select(Document).where(Document.case_id == case_id)
                                .order_by(Document.issued_at, Document.id)))


__all__ = ["DocumentError", "DocumentTemplate", "TEMPLATES", "audience_for", "documents_for_case", "issue_documents",
           "load_route_documents", "render", "template_for"]
