"""The Local Offer blueprint (``local_offer``): the public pages under ``/local-offer`` and the LA's editor under
``/local-offer-editor``, and what they share.

The LA's managers edit their authority's Local Offer (there is no separate editor role yet); an entry, page or comment
of another authority is "not found", so that ids cannot be probed.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import Blueprint, abort, current_app, request
from flask_login import current_user

from engine.errors import NotFound
from engine.local_offer.authorities import authority
from engine.people.roles import Role
from engine.store.models import Organisation
from webui.context import db

bp = Blueprint("local_offer", __name__)

EDITOR_ROLES = (Role.MANAGER,)
COMMENTS_PER_HOUR = "LOCAL_OFFER_COMMENTS_PER_HOUR"
DEFAULT_COMMENTS_PER_HOUR = 5


def la_or_404(code: str) -> Organisation:
    try:
        return authority(db(), code)
    except NotFound:
        abort(404)


def editor_las() -> list[Organisation]:
    """The local authorities whose Local Offer the signed-in user edits."""
    if not current_user.is_authenticated:
        return []
    return sorted((org for org_id, org in current_user.organisations.items()
                   if org.kind == "local_authority" and any(current_user.holds(org_id, r) for r in EDITOR_ROLES)),
                  key=lambda o: o.name)


def require_editor() -> list[Organisation]:
    las = editor_las()
    if not las:
        abort(403)
    return las


def chosen_la() -> Organisation:
    """The authority an editor's list page is about: ``?la=<id>`` among theirs, else their first."""
    las = require_editor()
    wanted = request.values.get("la", "")
    return next((la for la in las if str(la.id) == wanted), las[0])


def client_key() -> str:
    """A keyed hash of the connection, for the comment throttle: the address itself is never stored."""
    secret = str(current_app.config.get("SECRET_KEY") or "").encode()
    return hmac.new(secret, (request.remote_addr or "unknown").encode(), hashlib.sha256).hexdigest()


def comments_per_hour() -> int:
    return int(current_app.config.get(COMMENTS_PER_HOUR, DEFAULT_COMMENTS_PER_HOUR))
