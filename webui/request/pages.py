"""One question page of the request (``/request-an-assessment/<slug>``), drawn from ``engine.intake.questions``.

The answers are saved to the draft only when the whole page passes; otherwise the page comes back with every problem
and with exactly what was typed. ``?change=1`` comes from "check your answers" and goes back there;
``?check=1`` (sending found a problem) shows the page's problems with the saved answers.
"""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine.intake.questions import PAGE_BY_SLUG, check_page, first_page_with_problems
from engine.intake.requests import save_answers
from webui.access import public
from webui.context import db, now, today
from webui.request.blueprint import back_url, bp, current_draft, next_url, steps
from webui.request.fields import build, error_list, posted


@bp.route("/<string:slug>", methods=["GET", "POST"])
@public
def question(slug: str) -> ResponseReturnValue:
    """A question page: its answers checked and saved, then the next page (or back to "check your answers")."""
    page = PAGE_BY_SLUG.get(slug)
    if page is None:
        abort(404)
    row = current_draft()
    if row is None:
        return redirect(url_for("request.start"))
    answers = dict(row.answers or {})
    if slug not in steps(answers):
        abort(404)  # "the child's parents" is not asked of a parent or a young person
    change = request.values.get("change") == "1"
    requester_type = answers.get("requester_type")
    if request.method == "POST":
        raw, parts, errors = posted(page, request.form)
        if slug == "who":
            requester_type = raw.get("requester_type") or None
        clean, problems = check_page(page, raw, today(), requester_type)
        errors = {**problems, **errors}
        if not errors:
            save_answers(row, clean, now())
            db().commit()
            return redirect(_after(dict(row.answers), slug, change))
        values: dict[str, str] = raw
    else:
        values, parts = answers, {}
        errors = check_page(page, answers, today(), requester_type)[1] if request.args.get("check") == "1" else {}
    page_fields = build(page, values, parts, errors, requester_type)
    return render_template("request/question.html", page=page, fields=page_fields, change=change,
                           errors=error_list(page_fields), back_url=back_url(answers, slug, change))


def _after(answers: dict[str, str], slug: str, change: bool) -> str:
    if not change:
        return next_url(answers, slug)
    # A changed answer can ask new questions (a different requester has other pages): those first.
    problem = first_page_with_problems(answers, today())
    if problem is not None and problem.slug != slug:
        return url_for("request.question", slug=problem.slug, change="1")
    return url_for("request.check")
