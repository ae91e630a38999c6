"""The JSON API under ``/api/v1`` (docs/api.md): cases, tasks, routes, messages, documents, deadlines and reports for
another system, with a bearer token an administrator issued to its organisation (webui/api/auth.py), its OpenAPI
description (webui/api/openapi.py) and errors as problem+json (webui/api/problems.py).

The views reuse the engine's functions the web pages use, and make the same checks on the token's account as the
pages make on the signed-in person (engine/people/access.py)."""

from __future__ import annotations

from webui.api import (  # noqa: F401  (register the views)
    audit,
    cases,
    messages,
    openapi,
    problems,
    reports,
    starts,
    tasks,
)
from webui.api.blueprint import bp
from webui.extensions import csrf

# A token is not an ambient credential (a browser never sends it by itself), so there is nothing for CSRF to protect.
csrf.exempt(bp)

__all__ = ["bp"]
