"""Who calls the API: a bearer token (``Authorization: Bearer <token>``) and nothing else: an API token an
administrator issued, or a member of staff's ID token from their organisation's identity provider (docs/sso.md),
validated in full by ``engine.people.sso.user_for_id_token``.

The session cookie never authenticates an API call (a page's cookie is an ambient credential that another site could
make the browser send); so the API needs no CSRF token and its blueprint is exempt. Each view declares its operation
with ``operation``: the scope it needs (read or write), and what the OpenAPI description says about it. The token's
caller is a ``User`` (the token's own account, engine/people/api_tokens.py), on which the views make the same checks
as the web pages make on the signed-in person.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request
from marshmallow import Schema

from engine.lists.holder import Holder, holder
from engine.people.api_tokens import TOKEN_PREFIX, Caller, authenticate
from engine.people.sso import user_for_id_token
from engine.people.sso_oidc import SsoFailure
from engine.store.models import User
from webui.api.problems import ApiProblem
from webui.api.ratelimit import RateLimiter
from webui.context import clock, db

F = TypeVar("F", bound=Callable[..., Any])

#: The access level of a view called with a token (webui/access.py has the levels of the pages).
TOKEN = "token"
API_ACCESS_LEVELS = (TOKEN,)
DEFAULT_RATE_LIMIT = 120
DEFAULT_RATE_WINDOW = 60


@dataclass(frozen=True)
class Operation:
    """What the OpenAPI description says about one view (webui/api/openapi.py reads it)."""

    scope: str | None  # read, write, or None for the public description itself
    summary: str
    tag: str
    response: type[Schema] | None = None
    paged: bool = False
    query: type[Schema] | None = None
    body: type[Schema] | None = None
    status: int = 200
    errors: tuple[int, ...] = ()
    produces: str = "application/json"
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def operation(scope: str | None, summary: str, tag: str, **details: Any) -> Callable[[F], F]:
    """Declares a view's operation; with a scope, the view needs a token that has it."""
    op = Operation(scope, summary, tag, **details)

    def decorate(view: F) -> F:
        if scope is None:
            wrapped: Any = view
            wrapped.access = "public"
        else:
            @wraps(view)
            def wrapped(*args: Any, **kwargs: Any) -> Any:
                require(scope)
                return view(*args, **kwargs)

            wrapped.access = TOKEN
        wrapped.api_operation = op
        return wrapped  # type: ignore[no-any-return]

    return decorate


def require(scope: str) -> Caller:
    """The request's caller, or a problem: 401 without a working token, 403 when it lacks the scope, 429 when it has
    made too many requests."""
    header = request.headers.get("Authorization", "")
    kind, _, presented = header.partition(" ")
    if kind.lower() != "bearer" or not presented.strip():
        raise ApiProblem(401, "Send an API token in the Authorization header: Authorization: Bearer <token>.")
    presented = presented.strip()
    caller = _person(presented) if _is_id_token(presented) else _token_caller(presented)
    g.api_caller = caller
    g.api_token_id = caller.token.id if caller.token is not None else None
    g.api_user_id = caller.user.id
    db().commit()  # the last use, whatever the call does next
    verdict = limiter().hit(caller.rate_key)
    g.api_rate = verdict
    if not verdict.allowed:
        raise ApiProblem(429, f"This token may make {verdict.limit} requests in "
                              f"{current_app.config.get('API_RATE_WINDOW', DEFAULT_RATE_WINDOW)} seconds. "
                              f"Try again in {verdict.retry_after} seconds.",
                         headers={"Retry-After": str(verdict.retry_after)})
    if scope == "write" and not caller.may_write:
        raise ApiProblem(403, "This token may only read: ask an administrator for a token that may write.")
    return caller


def _is_id_token(presented: str) -> bool:
    """A JWT (three dot-separated parts); our own tokens have a prefix and no dots."""
    return not presented.startswith(TOKEN_PREFIX) and presented.count(".") == 2


def _token_caller(presented: str) -> Caller:
    found = authenticate(db(), presented, clock().now(), clock().today())
    if found.refused is not None:
        if found.token is not None:
            g.api_token_id, g.api_user_id = found.token.id, found.token.user_id
        raise ApiProblem(401, {"unknown": "The API token is not known.",
                               "expired": "The API token has expired: ask an administrator for a new one.",
                               "revoked": "The API token has been revoked."}[found.refused])
    assert found.token is not None and found.user is not None
    return Caller(found.token, found.user)


def _person(presented: str) -> Caller:
    """A member of staff with an ID token their organisation's provider issued to EHC Flow. Refused tokens are not
    audited one by one: nothing in them can be trusted to name anyone."""
    try:
        person, _provider = user_for_id_token(db(), presented, clock().now())
    except SsoFailure as failure:
        raise ApiProblem(401, f"The ID token was refused ({failure.reason}).") from failure
    return Caller(None, person)


def limiter() -> RateLimiter:
    found = current_app.extensions.get("ehcflow_api_limiter")
    if found is None:
        found = RateLimiter(int(current_app.config.get("API_RATE_LIMIT", DEFAULT_RATE_LIMIT)),
                            float(current_app.config.get("API_RATE_WINDOW", DEFAULT_RATE_WINDOW)))
        current_app.extensions["ehcflow_api_limiter"] = found
    return found


def caller() -> Caller:
    found: Caller = g.api_caller
    return found


def user() -> User:
    return caller().user


def who() -> Holder:
    """The token's roles (one), read once per request, as the web pages read the signed-in person's."""
    if "api_holder" not in g:
        g.api_holder = holder(db(), user().id)
    found: Holder = g.api_holder
    return found
