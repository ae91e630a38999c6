"""Who may use the process owners' pages.

Routes are shared by every organisation in a deployment, so the role counts wherever it is held. Process owners
change routes (upload, deploy, run scenarios, migrate instances); administrators may look at the routes, versions
and differences, read-only, because they repair instances that run on them. Apply under ``@staff``, which marks the
view's access level for the authorization matrix.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user

from engine.people.roles import Role

F = TypeVar("F", bound=Callable[..., Any])


def holds_anywhere(*roles: Role) -> bool:
    wanted = {r.value for r in roles}
    return any(role in wanted for _, role in current_user.holder.roles)


def is_process_owner() -> bool:
    return holds_anywhere(Role.PROCESS_OWNER)


def _requires(*roles: Role) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not holds_anywhere(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


process_owner = _requires(Role.PROCESS_OWNER)
route_viewer = _requires(Role.PROCESS_OWNER, Role.ADMIN)
