"""The Local Offer blueprint (``local_offer``): the public pages under ``/local-offer``, the LA's editor under
``/local-offer-editor`` and the providers' pages under ``/local-offer-provider``, and what they share.

The LA's managers and its Local Offer editors edit their authority's Local Offer; a school's SENCO, a health body's
staff or a charity's staff (role ``local_offer_provider``) propose changes to the entries their organisation
provides. An entry, page, comment or proposed change of another authority or provider is "not found", so that ids
cannot be probed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re

from flask import Blueprint, abort, current_app, g, request
from flask_login import current_user

from engine.errors import NotFound
from engine.local_offer.authorities import authority
from engine.local_offer.provider_notices import PROVIDER_ROLES
from engine.people.roles import Role
from engine.store.models import Organisation
from webui.context import db

bp = Blueprint("local_offer", __name__)

EDITOR_ROLES = (Role.MANAGER, Role.LOCAL_OFFER_EDITOR)
COMMENTS_PER_HOUR = "LOCAL_OFFER_COMMENTS_PER_HOUR"
DEFAULT_COMMENTS_PER_HOUR = 5
# The council's colour in the header of its Local Offer: {"TST": "#00703c"} in the app's config, or
# EHCFLOW_LOCAL_OFFER_COLOURS="TST=#00703c,OTH=#4c2c92" in the environment. Only a six-digit hex colour is used.
BRANDING = "LOCAL_OFFER_COLOURS"
DEFAULT_COLOUR = "#1d70b8"
COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


def la_or_404(code: str) -> Organisation:
    """The authority of a public page; its name goes into the header (the council's branding)."""
    try:
        la = authority(db(), code)
    except NotFound:
        abort(404)
    g.header_organisation = la.name
    return la


def colour_of(code: str) -> str:
    """The council's colour: configured for its code (any case), else the default blue."""
    colours = current_app.config.get(BRANDING)
    if colours is None:
        pairs = (p.partition("=") for p in os.environ.get("EHCFLOW_" + BRANDING, "").split(","))
        colours = {k.strip(): v.strip() for k, _, v in pairs if k.strip()}
    wanted = next((str(v) for k, v in dict(colours).items() if str(k).lower() == code.lower()), "")
    return wanted if COLOUR.fullmatch(wanted) else DEFAULT_COLOUR


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


def own_la(la_id: int) -> Organisation:
    """One of the editor's authorities; another's objects are "not found"."""
    la = next((la for la in require_editor() if la.id == la_id), None)
    if la is None:
        abort(404)
    return la


def chosen_la() -> Organisation:
    """The authority an editor's list page is about: ``?la=<id>`` among theirs, else their first."""
    las = require_editor()
    wanted = request.values.get("la", "")
    return next((la for la in las if str(la.id) == wanted), las[0])


def provider_orgs() -> list[int]:
    """The organisations whose Local Offer entries the signed-in user keeps up to date (as SENCO, health staff or a
    charity's staff)."""
    if not current_user.is_authenticated:
        return []
    return sorted(org_id for org_id in current_user.organisations
                  if any(current_user.holds(org_id, r) for r in PROVIDER_ROLES))


def require_provider() -> list[int]:
    orgs = provider_orgs()
    if not orgs:
        abort(403)
    return orgs


def client_key() -> str:
    """A keyed hash of the connection, for the comment throttle: the address itself is never stored."""
    secret = str(current_app.config.get("SECRET_KEY") or "").encode()
    return hmac.new(secret, (request.remote_addr or "unknown").encode(), hashlib.sha256).hexdigest()


def comments_per_hour() -> int:
    return int(current_app.config.get(COMMENTS_PER_HOUR, DEFAULT_COMMENTS_PER_HOUR))
