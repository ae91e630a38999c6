"""The public Local Offer: the LA picker, the directory with its filters, an entry (with schema.org data), the fixed
pages, "You said, we did", the comment form, and the JSON exports. No page needs an account."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine.errors import FormInvalid, NotFound
from engine.local_offer import comments, entries, pages
from engine.local_offer.authorities import local_authorities
from engine.local_offer.categories import CATEGORIES, MAX_AGE, NEEDS, category_label, need_labels
from webui.access import public
from webui.context import db, now
from webui.local_offer.blueprint import bp, client_key, colour_of, comments_per_hour, la_or_404

JSON_PER_PAGE = 100


@bp.route("/local-offer/")
@public
def index() -> ResponseReturnValue:
    """Which council's Local Offer: straight there when there is only one."""
    las = local_authorities(db())
    if len(las) == 1:
        return redirect(url_for("local_offer.directory", la_code=las[0].code))
    return render_template("local_offer/index.html", las=las)


def _filters(s: entries.Search) -> dict[str, Any]:
    return {k: v for k, v in (("q", s.words), ("category", s.category), ("need", s.need),
                               ("age", "" if s.age is None else s.age), ("area", s.area)) if v != ""}


@bp.route("/local-offer/<string:la_code>/")
@public
def directory(la_code: str) -> ResponseReturnValue:
    """Search the directory: words, category, need, age and area, twenty to a page."""
    la = la_or_404(la_code)
    areas = entries.areas_of(db(), la.id)
    s = entries.parse_search(request.args.to_dict(), areas)
    found = entries.search(db(), la.id, s)
    filters = _filters(s)

    def href(page: int) -> str:
        return url_for("local_offer.directory", la_code=la.code, page=page, **filters)

    return render_template("local_offer/directory.html", la=la, s=s, found=found, areas=areas, href=href,
                           categories=CATEGORIES, needs=NEEDS, max_age=MAX_AGE, category_label=category_label,
                           need_labels=need_labels, pages=pages.pages_of(db(), la.id, la.code or ""),
                           json_url=url_for("local_offer.entries_json", la_code=la.code, **filters))


@bp.route("/local-offer/<string:la_code>/entries.json")
@public
def entries_json(la_code: str) -> ResponseReturnValue:
    """The published entries matching the same filters as the directory, a hundred to a page."""
    la = la_or_404(la_code)
    s = entries.parse_search(request.args.to_dict(), entries.areas_of(db(), la.id))
    found = entries.search(db(), la.id, s, per_page=JSON_PER_PAGE)
    return jsonify({
        "local_authority": {"name": la.name, "code": la.code}, "total": found.total, "page": found.page,
        "pages": found.pages, "problems": s.problems,
        "entries": [{**entries.entry_json(e), "url": url_for("local_offer.entry", la_code=la.code, entry_id=e.id,
                                                             _external=True)} for e in found.rows],
    })


def _published(la_id: int, entry_id: int) -> Any:
    try:
        return entries.entry_of(db(), la_id, entry_id, published_only=True)
    except NotFound:
        abort(404)


@bp.route("/local-offer/<string:la_code>/entries/<int:entry_id>")
@public
def entry(la_code: str, entry_id: int) -> ResponseReturnValue:
    la = la_or_404(la_code)
    row = _published(la.id, entry_id)
    url = url_for("local_offer.entry", la_code=la.code, entry_id=row.id, _external=True)
    return render_template("local_offer/entry.html", la=la, e=row, category_label=category_label,
                           need_labels=need_labels, schema=entries.entry_schema_org(row, url, la.name))


@bp.route("/local-offer/<string:la_code>/entries/<int:entry_id>.json")
@public
def entry_json(la_code: str, entry_id: int) -> ResponseReturnValue:
    la = la_or_404(la_code)
    row = _published(la.id, entry_id)
    return jsonify({**entries.entry_json(row), "local_authority": {"name": la.name, "code": la.code},
                    "url": url_for("local_offer.entry", la_code=la.code, entry_id=row.id, _external=True)})


@bp.route("/local-offer/<string:la_code>/pages/<string:page_slug>")
@public
def fixed_page(la_code: str, page_slug: str) -> ResponseReturnValue:
    la = la_or_404(la_code)
    try:
        shown = pages.page_of(db(), la.id, la.code or "", page_slug)
    except NotFound:
        abort(404)
    return render_template("local_offer/page.html", la=la, page=shown, blocks=pages.blocks(shown.body))


@bp.route("/local-offer/<string:la_code>/you-said-we-did")
@public
def you_said(la_code: str) -> ResponseReturnValue:
    """The comments the LA has published, with its response and action, by year."""
    la = la_or_404(la_code)
    return render_template("local_offer/you_said.html", la=la, years=comments.published_by_year(db(), la.id))


@bp.route("/local-offer/<string:la_code>/comment", methods=["GET", "POST"])
@public
def comment(la_code: str) -> ResponseReturnValue:
    """Comment on the Local Offer: moderated before it is shown, throttled per connection, CSRF-protected."""
    la = la_or_404(la_code)
    errors: dict[str, str] = {}
    text = ""
    if request.method == "POST":
        text = request.form.get("text", "")
        try:
            comments.submit_comment(db(), la.id, text, client_key(), now(), comments_per_hour())
        except FormInvalid as e:
            errors = e.errors
        except comments.TooManyComments:
            db().rollback()
            return render_template("local_offer/too_many.html", la=la), 429
        else:
            db().commit()
            return redirect(url_for("local_offer.comment_sent", la_code=la.code))
    return render_template("local_offer/comment.html", la=la, errors=errors, text=text,
                           max_text=comments.MAX_TEXT)


@bp.route("/local-offer/<string:la_code>/comment/sent")
@public
def comment_sent(la_code: str) -> ResponseReturnValue:
    la = la_or_404(la_code)
    return render_template("local_offer/comment_sent.html", la=la)


@bp.route("/local-offer/<string:la_code>/brand.css")
@public
def brand_css(la_code: str) -> ResponseReturnValue:
    """The council's colour in the header of its Local Offer, as a stylesheet: the security policy forbids inline
    styles, and ``colour_of`` lets only a hex colour through."""
    la = la_or_404(la_code)
    colour = colour_of(la.code or "")
    css = (f".ehc-header__bar {{ border-bottom-color: {colour}; }}\n"
           f".ehc-header__logo {{ box-shadow: inset 0 0 0 6px {colour}; }}\n")
    return Response(css, mimetype="text/css", headers={"Cache-Control": "public, max-age=3600"})
