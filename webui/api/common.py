"""What the resource views share: JSON responses, pages of a list with their next link, and the case a token may
see (the same rule as the staff pages: webui/cases/blueprint.py)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from flask import Response, jsonify, request, url_for
from marshmallow import Schema

from engine.errors import (
    ConcurrentUpdate,
    FormInvalid,
    InstanceFailed,
    InvalidState,
    NotAllowed,
    NotFound,
    TaskAlreadyCompleted,
)
from engine.lists.cases import staff_can_see_case
from engine.lists.paging import Page
from engine.store.models import Case
from webui.api.auth import who
from webui.api.problems import ApiProblem
from webui.context import db


@contextmanager
def command_problems(invalid: str) -> Iterator[None]:
    """An engine command's refusals as problems: answers a form refuses (422, by field, with ``invalid`` as the
    detail), not allowed (403), and work that is already done, gone or changed meanwhile (409)."""
    try:
        yield
    except FormInvalid as exc:
        raise ApiProblem(422, invalid, errors=dict(exc.errors)) from None
    except NotAllowed as exc:
        raise ApiProblem(403, str(exc)) from None
    except (NotFound, InvalidState, InstanceFailed, ConcurrentUpdate, TaskAlreadyCompleted) as exc:
        raise ApiProblem(409, str(exc)) from None


def json_response(body: Any, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


def one(schema: type[Schema], item: Any, status: int = 200) -> Response:
    return json_response(schema().dump(item), status)


def page_of(schema: type[Schema], items: Sequence[Any], *, page: int, limit: int, total: int,
            pages: int | None = None, capped: bool = False, after: str | None = None,
            beyond: bool = False) -> Response:
    """One page: its items, where it is, how many there are, and the link to the next page (also as a ``Link``
    header, RFC 8288) or null on the last. ``capped``: the list stopped counting (engine/lists/paging.py), so
    ``total`` means "more than" and the numbered pages stop there; past them ``after`` is where the next page starts
    (keyset paging, engine/lists/keyset.py) and ``beyond`` says this page is one of those."""
    last = pages if pages is not None else max(1, -(-total // limit))
    args = {**request.args.to_dict(), **(request.view_args or {}), "page": page + 1, "limit": limit}
    args.pop("after", None)
    if after:
        args["after"] = after
    next_url = url_for(str(request.endpoint), **args) if after or (not beyond and page < last) else None
    response = json_response({"items": schema(many=True).dump(items), "page": page, "limit": limit, "total": total,
                              "total_is_at_least": capped, "next": next_url})
    if next_url:
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return response


def engine_page(schema: type[Schema], found: Page[Any]) -> Response:
    """A page of one of the engine's lists (engine.lists), as the engine cut it (it may have moved a page asked for
    past the end back to the last one)."""
    return page_of(schema, found.rows, page=found.page, limit=found.per_page, total=found.total, pages=found.pages,
                   capped=found.more, after=found.after, beyond=found.beyond)


def slice_page(schema: type[Schema], items: Sequence[Any], page: int, limit: int) -> Response:
    """A page of a list already read whole (a case's documents, its deadlines: tens, not thousands)."""
    start = (page - 1) * limit
    return page_of(schema, items[start:start + limit], page=page, limit=limit, total=len(items))


def case_or_404(case_id: int) -> Case:
    """A case the token may see; any other id is "not found", so that ids cannot be probed."""
    case = db().get(Case, case_id)
    if case is None or not staff_can_see_case(db(), who(), case):
        raise ApiProblem(404, "There is no case with this id that this token may see.")
    return case
