"""The intake blueprint (``intake``, under ``/intake``) and who may use it: the caseworkers and managers of the local
authority a request was made to. A request of another authority is "not found", so that ids cannot be probed."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user
from sqlalchemy import bindparam, func, select

from engine.people.roles import Role
from engine.store.models import Organisation
from engine.store.requests import AssessmentRequest
from webui.context import db

bp = Blueprint("intake", __name__, url_prefix="/intake")

INTAKE_ROLES = (Role.CASEWORKER, Role.MANAGER)


def intake_la_ids() -> set[int]:
    """The local authorities whose requests the signed-in user registers (as a caseworker or manager)."""
    if not current_user.is_authenticated:
        return set()
    return {org for org, organisation in current_user.organisations.items()
            if organisation.kind == "local_authority" and any(current_user.holds(org, r) for r in INTAKE_ROLES)}


def intake_authorities() -> list[Organisation]:
    return sorted((current_user.organisations[org] for org in intake_la_ids()), key=lambda o: o.name)


def require_intake() -> set[int]:
    """The user's authorities for a page of the intake area; anyone else is forbidden (403)."""
    la_ids = intake_la_ids()
    if not la_ids:
        abort(403)
    return la_ids


def request_or_404(request_id: int) -> AssessmentRequest:
    """A received request of one of the user's authorities; a draft or another authority's is "not found"."""
    row = db().get(AssessmentRequest, request_id)
    if row is None or row.status == "draft" or row.la_id not in intake_la_ids():
        abort(404)
    return row


#: Read on every page of an intake officer (the navigation's count): built once.
_NEW_REQUESTS = select(func.count()).select_from(AssessmentRequest).where(
    AssessmentRequest.la_id.in_(bindparam("la_ids", expanding=True)), AssessmentRequest.status == "new")


def new_request_count() -> int:
    """How many requests wait to be registered in the user's authorities (for the navigation)."""
    la_ids = intake_la_ids()
    if not la_ids:
        return 0
    return db().connection().scalar(_NEW_REQUESTS, {"la_ids": la_ids}) or 0  # Core: half the ORM's cost
