"""The LA's Local Offer editor: entries (create, change, publish; saving marks an entry checked), the fixed pages,
moderating comments with the LA's response and action, and the review list of entries unchecked for 12 months."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from engine.casework.setting_directory import settings_directory
from engine.errors import FormInvalid, NotFound
from engine.local_offer import comments, entries, pages
from engine.local_offer.categories import CATEGORIES, NEEDS, category_label
from engine.local_offer.entries import PROVIDER_KINDS
from engine.local_offer.proposals import pending_for
from engine.store.local_offer import LocalOfferComment, LocalOfferEntry
from engine.store.models import Organisation
from webui.access import staff
from webui.context import db, now, today
from webui.local_offer.blueprint import bp, chosen_la, own_la, require_editor

FORM_FIELDS = ("title", "category", "organisation_id", "age_from", "age_to", "area", "offers", "who_for",
               "eligibility", "how_to_access", "contact_name", "contact_email", "contact_phone", "website",
               "opening_hours", "cost", "sen_report_url", "status", "provider_id")


def _providers() -> list[Organisation]:
    """The organisations an entry may name as its provider, other than schools (a setting's entry is its own)."""
    return list(db().scalars(select(Organisation).where(
        Organisation.kind.in_([k for k in PROVIDER_KINDS if k != "setting"]), Organisation.active.is_(True))
        .order_by(Organisation.name)))


@bp.route("/local-offer-editor/")
@staff
def editor_index() -> ResponseReturnValue:
    la = chosen_la()
    status = request.args.get("status", "")
    return render_template("local_offer/editor/index.html", la=la, las=require_editor(), status=status,
                           rows=entries.entries_of(db(), la.id, status or None), category_label=category_label,
                           review_count=len(entries.review_list(db(), la.id, today())),
                           pending=len(comments.comments_of(db(), la.id, "pending")),
                           changes=len(pending_for(db(), la.id)))


def _values(row: LocalOfferEntry | None) -> dict[str, Any]:
    if request.method == "POST":
        out: dict[str, Any] = {name: request.form.get(name, "") for name in FORM_FIELDS}
        out["needs"] = request.form.getlist("needs")
        return out
    if row is None:
        return {**{name: "" for name in FORM_FIELDS}, "age_from": 0, "age_to": 25, "status": "draft", "needs": []}
    out = {name: getattr(row, name) for name in FORM_FIELDS}
    out["organisation_id"] = row.organisation_id or ""
    out["provider_id"] = row.provider_id or ""
    out["needs"] = list(row.needs or [])
    return out


def _entry_form(la: Organisation, row: LocalOfferEntry | None) -> ResponseReturnValue:
    values = _values(row)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            saved = entries.save_entry(db(), la.id, values, now(), today(), current_user.id, row)
        except FormInvalid as e:
            errors = e.errors
            db().rollback()
        else:
            db().commit()
            flash(f"“{saved.title}” saved and marked as checked today ({saved.status}).", "success")
            return redirect(url_for("local_offer.editor_index", la=la.id))
    return render_template("local_offer/editor/entry_form.html", la=la, row=row, values=values, errors=errors,
                           categories=CATEGORIES, needs=NEEDS, settings=settings_directory(db()),
                           providers=_providers())


@bp.route("/local-offer-editor/entries/new", methods=["GET", "POST"])
@staff
def editor_new_entry() -> ResponseReturnValue:
    return _entry_form(chosen_la(), None)


@bp.route("/local-offer-editor/entries/<int:entry_id>", methods=["GET", "POST"])
@staff
def editor_entry(entry_id: int) -> ResponseReturnValue:
    require_editor()
    row = db().get(LocalOfferEntry, entry_id)
    if row is None:
        abort(404)
    return _entry_form(own_la(row.la_id), row)


@bp.route("/local-offer-editor/review")
@staff
def editor_review() -> ResponseReturnValue:
    """Entries never checked, or not checked for 12 months: open one, check it and save it."""
    la = chosen_la()
    return render_template("local_offer/editor/review.html", la=la, rows=entries.review_list(db(), la.id, today()),
                           cutoff=entries.review_cutoff(today()), category_label=category_label)


@bp.route("/local-offer-editor/pages")
@staff
def editor_pages() -> ResponseReturnValue:
    la = chosen_la()
    return render_template("local_offer/editor/pages.html", la=la, pages=pages.pages_of(db(), la.id, la.code or ""))


@bp.route("/local-offer-editor/pages/<string:page_slug>", methods=["GET", "POST"])
@staff
def editor_page(page_slug: str) -> ResponseReturnValue:
    la = chosen_la()
    try:
        shown = pages.page_of(db(), la.id, la.code or "", page_slug)
    except NotFound:
        abort(404)
    values = {"title": shown.title, "body": shown.body}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {"title": request.form.get("title", ""), "body": request.form.get("body", "")}
        try:
            pages.save_page(db(), la.id, page_slug, values["title"], values["body"], now(), current_user.id)
        except FormInvalid as e:
            errors = e.errors
            db().rollback()
        else:
            db().commit()
            flash(f"“{values['title'].strip()}” saved.", "success")
            return redirect(url_for("local_offer.editor_pages", la=la.id))
    return render_template("local_offer/editor/page_form.html", la=la, slug=page_slug, values=values, errors=errors)


@bp.route("/local-offer-editor/comments")
@staff
def editor_comments() -> ResponseReturnValue:
    la = chosen_la()
    status = request.args.get("status", "pending")
    return render_template("local_offer/editor/comments.html", la=la, status=status,
                           rows=comments.comments_of(db(), la.id, status if status in comments.STATUSES else None))


@bp.route("/local-offer-editor/comments/<int:comment_id>", methods=["GET", "POST"])
@staff
def editor_comment(comment_id: int) -> ResponseReturnValue:
    """Publish a comment with the LA's response and action (taking out any personal details), or reject it."""
    require_editor()
    row = db().get(LocalOfferComment, comment_id)
    if row is None:
        abort(404)
    la = own_la(row.la_id)
    values = {"decision": "", "text": row.text, "response": row.response, "action": row.action}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in values}
        try:
            comments.moderate(db(), row, values["decision"], values["text"], values["response"], values["action"],
                              now(), current_user.id)
        except FormInvalid as e:
            errors = e.errors
            db().rollback()
        else:
            db().commit()
            flash("Comment published with your response." if row.status == "published" else "Comment rejected.",
                  "success")
            return redirect(url_for("local_offer.editor_comments", la=la.id))
    return render_template("local_offer/editor/comment_form.html", la=la, row=row, values=values, errors=errors)
