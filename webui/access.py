"""Who may open a page: every view declares it with one of these decorators (a test checks that every endpoint does).

- ``public``: anyone (sign in, the static files).
- ``signed_in``: any signed-in user; the view checks the object (a task, a case) itself.
- ``staff``: a signed-in member of an organisation (not only a family member).
- ``family``: a signed-in parent, carer or young person.

Object checks go through ``engine.people.access`` (can_see_case, can_act_on_task). A case or task the user may not see is
"not found" (404), so that ids cannot be probed; a page the user's role never allows is "forbidden" (403).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required

F = TypeVar("F", bound=Callable[..., Any])

ACCESS_LEVELS = ("public", "signed_in", "staff", "family")


def _mark(view: Callable[..., Any], level: str) -> None:
    view.access = level  # type: ignore[attr-defined]


def public(view: F) -> F:
    _mark(view, "public")
    return view


def signed_in(view: F) -> F:
    wrapped = login_required(view)
    _mark(wrapped, "signed_in")
    return wrapped  # type: ignore[return-value]


def staff(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_staff:
            abort(403)
        return view(*args, **kwargs)

    wrapped = login_required(wrapper)
    _mark(wrapped, "staff")
    return wrapped  # type: ignore[return-value]


def family(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_family:
            abort(403)
        return view(*args, **kwargs)

    wrapped = login_required(wrapper)
    _mark(wrapped, "family")
    return wrapped  # type: ignore[return-value]


def access_of(view: Callable[..., Any]) -> str | None:
    return getattr(view, "access", None)
