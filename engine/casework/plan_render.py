"""An EHC plan as an accessible HTML page and as a PDF.

HTML is rendered by Jinja2 with autoescaping on for every template: plan text is typed by caseworkers and families,
so nothing in it may become markup. The page uses one heading per section (so a screen reader user can jump from
section to section), tables with captions and column headers for needs, outcomes and provision, and marks the
sections that can be appealed (B, F and I).

The PDF is built with ReportLab from the same normalised sections. It carries the document title and language, an
outline entry (bookmark) per section, page numbers, and a "DRAFT" mark on every page of a draft, so a printed draft is
never taken for the issued plan.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from sqlalchemy.orm import Session

from engine.casework.plan_sections import APPEALABLE_SECTIONS, NEED_AREAS, SECTION_ORDER, SECTION_TITLES, normalise_sections
from engine.casework.plans import SectionChange, compare_versions
from engine.errors import NotFound
from engine.statutory import calendar
from engine.store.models import Case, Organisation, PlanVersion

TEMPLATES = Path(__file__).resolve().parent / "templates" / "plans"


# ---- formatting shared by HTML and PDF -----------------------------------------------------------------------------

def long_date(value: Any) -> str:
    """'14 July 2026' (GOV.UK style); aware datetimes are shown as their London date."""
    if value in (None, ""):
        return ""
    day = calendar.to_london_date(value) if isinstance(value, datetime) and value.tzinfo else calendar.as_date(
        value.date() if isinstance(value, datetime) else value)
    return f"{day.day} {day:%B %Y}"


def money(value: Any) -> str:
    if value in (None, ""):
        return ""
    return f"£{float(value):,.2f}"


def yes_no(value: Any) -> str:
    return "Yes" if value else "No"


def area_label(value: str | None) -> str:
    return NEED_AREAS.get(value or "", value or "")


J_STATUS = {
    "not_requested": "No personal budget has been requested.",
    "requested": "A personal budget has been requested. The local authority will set out the proposed budget.",
    "agreed": "The local authority has agreed a personal budget.",
    "refused": "The local authority has decided not to provide a personal budget.",
}


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True,
                                                                                        default_for_string=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(long_date=long_date, money=money, yes_no=yes_no, area_label=area_label,
                       paragraphs=_paragraphs)
    env.globals.update(SECTION_TITLES=SECTION_TITLES, APPEALABLE=APPEALABLE_SECTIONS, J_STATUS=J_STATUS)
    return env


@cache
def environment() -> Environment:
    return _environment()


def _paragraphs(text: str | None) -> Markup:
    """Blank-line separated text as <p> elements, each escaped (autoescape does not reach a filter's output)."""
    parts = [p.strip() for p in (text or "").replace("\r\n", "\n").split("\n\n") if p.strip()]
    return Markup("".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in parts))


# ---- context -------------------------------------------------------------------------------------------------------

def plan_context(session: Session, version: PlanVersion) -> dict[str, Any]:
    case = session.get(Case, version.case_id)
    if case is None:
        raise NotFound("No such case")
    la = session.get(Organisation, case.la_id)
    sections = normalise_sections(version.sections)
    return {
        "version": version,
        "case": case,
        "la_name": la.name if la is not None else "",
        "sections": sections,
        "order": SECTION_ORDER,
        "is_draft": version.kind == "draft",
        "title": f"EHC plan for {case.child_name}: {version.label}",
    }


def render_plan_html(session: Session, version: PlanVersion, *, standalone: bool = True) -> str:
    """The plan as HTML: a whole page (for download and print) or, with standalone=False, the content for embedding
    in a page of the web UI (its headings then start at h2)."""
    template = environment().get_template("plan.html" if standalone else "plan_fragment.html")
    return template.render(**plan_context(session, version))


def render_comparison_html(session: Session, older: PlanVersion, newer: PlanVersion, *,
                           standalone: bool = False) -> str:
    """Exactly the sections that differ between two versions, each shown before and after."""
    if older.case_id != newer.case_id:
        raise NotFound("Those versions belong to different plans")
    changes: list[SectionChange] = compare_versions(older, newer)
    case = session.get(Case, older.case_id)
    template = environment().get_template("compare.html")
    return template.render(older=older, newer=newer, changes=changes, case=case, standalone=standalone,
                           title=f"Changes from {older.label} to {newer.label}")


# ---- PDF -----------------------------------------------------------------------------------------------------------

def render_plan_pdf(session: Session, version: PlanVersion) -> bytes:
    """The plan as an A4 PDF with a bookmark per section."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_LEFT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        Flowable,
        KeepTogether,
        LongTable,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        TableStyle,
    )

    ctx = plan_context(session, version)
    sections: dict[str, Any] = ctx["sections"]
    case: Case = ctx["case"]
    styles = getSampleStyleSheet()
    body = ParagraphStyle("PlanBody", parent=styles["BodyText"], fontName="Helvetica", fontSize=11, leading=15,
                          alignment=TA_LEFT, spaceAfter=6)
    small = ParagraphStyle("PlanSmall", parent=body, fontSize=9.5, leading=12.5, spaceAfter=0)
    cell_head = ParagraphStyle("PlanCellHead", parent=small, fontName="Helvetica-Bold")
    h1 = ParagraphStyle("PlanH1", parent=styles["Heading1"], fontName="Helvetica-Bold", fontSize=22, leading=27,
                        spaceAfter=8)
    h2 = ParagraphStyle("PlanH2", parent=styles["Heading2"], fontName="Helvetica-Bold", fontSize=15, leading=19,
                        spaceBefore=14, spaceAfter=6)
    h3 = ParagraphStyle("PlanH3", parent=styles["Heading3"], fontName="Helvetica-Bold", fontSize=12, leading=15,
                        spaceBefore=6, spaceAfter=3)
    tag = ParagraphStyle("PlanTag", parent=small, textColor=colors.HexColor("#594d00"))

    def para(text: Any, style: ParagraphStyle = body) -> Paragraph:
        # ReportLab paragraphs are XML-like markup: escape whatever the plan's authors typed.
        return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)

    class Bookmark(Flowable):
        """Adds an outline entry at its place in the story, so the PDF has a navigable list of sections."""

        def __init__(self, key: str, title: str) -> None:
            super().__init__()
            self.key, self.title = key, title
            self.width = self.height = 0

        def draw(self) -> None:
            self.canv.bookmarkPage(self.key)
            self.canv.addOutlineEntry(self.title, self.key, level=0, closed=False)

    grid = [("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#b1b4b6")), ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 4), ("RIGHTPADDING", (0, 0), (-1, -1), 4)]

    def table(caption: str, header: list[str], rows: list[list[Any]], widths: list[float]) -> list[Any]:
        data = [[Paragraph(escape(h), cell_head) for h in header]]
        data += [[para(cell, small) for cell in row] for row in rows]
        # repeatRows: a provision table split over pages keeps its column headings on each page.
        t = LongTable(data, colWidths=widths, repeatRows=1)
        t.setStyle(TableStyle([*grid, ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f3f2f1"))]))
        return [para(caption, h3), t, Spacer(1, 4 * mm)]

    width = A4[0] - 36 * mm
    story: list[Any] = [para("Education, health and care plan", h1),
                        para(f"{case.child_name} – {version.label}", h3)]
    facts = [("Child or young person", case.child_name),
             ("Date of birth", long_date(case.date_of_birth) if case.date_of_birth else "Not recorded"),
             ("Local authority", ctx["la_name"]), ("Case reference", case.reference),
             ("Version", f"{version.label} (version {version.number})"),
             ("Status", f"Issued on {long_date(version.issued_at)}" if version.issued_at else
              "Draft: not issued")]
    summary = LongTable([[Paragraph(escape(k), cell_head), para(v, small)] for k, v in facts],
                        colWidths=[width * 0.32, width * 0.68])
    summary.setStyle(TableStyle([*grid, ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f3f2f1"))]))
    story.append(summary)
    story.append(Spacer(1, 4 * mm))
    if ctx["is_draft"]:
        story.append(para("This is a draft plan. Section I (the school or other institution) is left blank: the "
                          "family may ask for a particular school or college to be named.", body))

    for letter in SECTION_ORDER:
        sec = sections[letter]
        title = f"Section {letter}: {SECTION_TITLES[letter]}"
        head: list[Any] = [Bookmark(f"section-{letter.lower()}", f"Section {letter}"), para(title, h2)]
        if letter in APPEALABLE_SECTIONS:
            head.append(para("You can appeal to the First-tier Tribunal (SEND) about this section.", tag))
        parts: list[Any] = []
        if letter == "A":
            for key, label in (("views", "Views"), ("interests", "Interests"), ("aspirations", "Aspirations")):
                if sec[key]:
                    parts += [para(label, h3), para(sec[key])]
            if not parts:
                parts.append(para("Not yet recorded."))
        elif letter in ("B", "C", "D"):
            rows = [[n["id"], area_label(n.get("area")), n["description"]] if letter == "B" else
                    [n["id"], n["description"]] for n in sec["needs"]]
            if rows:
                header = ["Ref", "Area of need", "Need"] if letter == "B" else ["Ref", "Need"]
                widths = [width * 0.1, width * 0.25, width * 0.65] if letter == "B" else [width * 0.1, width * 0.9]
                parts += table(f"Needs in section {letter}", header, rows, widths)
            else:
                parts.append(para("No needs are recorded in this section."))
        elif letter == "E":
            rows = [[o["id"], o["description"], o["by_when"], yes_no(o["adult_life"]), ", ".join(o["needs"])]
                    for o in sec["outcomes"]]
            if rows:
                parts += table("Outcomes", ["Ref", "Outcome", "By when", "For adult life", "Needs"], rows,
                               [width * 0.08, width * 0.47, width * 0.17, width * 0.12, width * 0.16])
            else:
                parts.append(para("No outcomes are recorded."))
        elif letter in ("F", "G", "H1", "H2"):
            rows = [[p["id"], p["description"], p["amount"], p["provided_by"], ", ".join(p["needs"]),
                     yes_no(p["preparing_for_adulthood"])] for p in sec["provision"]]
            if rows:
                parts += table(f"Provision in section {letter}",
                               ["Ref", "Provision", "How much and how often", "Provided by", "Needs met",
                                "Preparing for adulthood"], rows,
                               [width * 0.07, width * 0.35, width * 0.18, width * 0.16, width * 0.1, width * 0.14])
            else:
                parts.append(para("No provision is set out in this section."))
        elif letter == "I":
            if not (sec["setting_id"] or sec["name"] or sec["setting_type"]):
                parts.append(para("Left blank in the draft plan."))
            else:
                if sec["name"]:
                    parts.append(para(f"Name: {sec['name']}"))
                parts.append(para(f"Type: {sec['setting_type']}"))
                # "Area", not "maintained by": academies and independent schools are not maintained by an LA.
                if sec["maintaining_la"]:
                    parts.append(para(f"Local authority area: {sec['maintaining_la']}"))
                if sec["type_only"]:
                    parts.append(para("Only the type of school or institution is specified; the local authority "
                                      "will name it by amending the plan."))
        elif letter == "J":
            parts.append(para(J_STATUS.get(sec["status"], sec["status"])))
            if sec["status"] == "agreed":
                parts.append(para(f"Indicative amount: {money(sec['indicative_amount'])} a year"))
                parts.append(para(f"Provision it covers: {sec['provision']}"))
                if sec["needs_and_outcomes"]:
                    parts.append(para(f"Needs and outcomes it supports: {sec['needs_and_outcomes']}"))
                if sec["direct_payments"]:
                    parts.append(para("Part of the budget is paid as direct payments, to meet: "
                                      f"{sec['dp_needs_and_outcomes']}"))
                elif sec["dp_on_setting_premises"] and sec["dp_setting_agreed"] is False:
                    parts.append(para("Direct payments were asked for provision on the premises of the school or "
                                      "college, which did not agree; the local authority arranges that provision."))
            if sec["status"] == "refused":
                parts.append(para(f"Reasons: {sec['refusal_reasons']}"))
                parts.append(para("You can ask the local authority to review this decision."))
        elif letter == "K":
            rows = [[a["id"], a["title"] or a["kind"], a["provider"], long_date(a["received_on"])
                     if a["received_on"] else ""] for a in sec["advice"]]
            if rows:
                parts += table("Advice and information", ["Ref", "Advice", "From", "Received"], rows,
                               [width * 0.08, width * 0.42, width * 0.32, width * 0.18])
            else:
                parts.append(para("No advice is listed."))
        # Keep a section's heading with the start of its content.
        story.append(KeepTogether(head + parts[:1]))
        story.extend(parts[1:])

    draft = ctx["is_draft"]
    footer = f"EHC plan for {case.child_name} – {version.label}"

    def decorate(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 8.5)
        canvas.setFillColor(colors.HexColor("#505a5f"))
        canvas.drawString(18 * mm, 10 * mm, footer)
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"Page {doc.page}")
        if draft:
            canvas.setFont("Helvetica-Bold", 60)
            canvas.setFillColor(colors.Color(0.8, 0.1, 0.1, alpha=0.12))
            canvas.translate(A4[0] / 2, A4[1] / 2)
            canvas.rotate(45)
            canvas.drawCentredString(0, 0, "DRAFT")
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm,
                            bottomMargin=18 * mm, title=ctx["title"], author=ctx["la_name"],
                            subject="Education, health and care plan", lang="en-GB", displayDocTitle=True,
                            creator="EHC Flow")
    on_page: Callable[[Any, Any], None] = decorate
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()


def pdf_filename(session: Session, version: PlanVersion) -> str:
    case = session.get(Case, version.case_id)
    ref = case.reference if case is not None else str(version.case_id)
    stamp = (version.issued_at or version.created_at)
    day = calendar.to_london_date(stamp) if isinstance(stamp, datetime) else date.today()
    return f"{ref}-plan-v{version.number}-{version.kind}-{day.isoformat()}.pdf"


__all__ = ["render_plan_html", "render_comparison_html", "render_plan_pdf", "plan_context", "pdf_filename"]
