"""What every admin page shares: the blueprint, who counts as an administrator, reading reasons and choices."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, request
from flask_login import current_user

from engine.people.roles import Role
from webui.numbers import whole_number

bp = Blueprint("admin", __name__, url_prefix="/admin")

REASON_MAX = 2000


def admin_orgs() -> list[int]:
    """The organisations the signed-in user administers; anyone else is refused (403)."""
    orgs = sorted(org for org, role in current_user.holder.roles if org is not None and role == Role.ADMIN.value)
    if not orgs:
        abort(403)
    return orgs


def form_text(name: str, limit: int = 200) -> str:
    """A short field (a name, a choice): anything past the limit is not a real value, so it is dropped."""
    return (request.form.get(name) or "").strip()[:limit]


def form_reason() -> tuple[str, str | None]:
    """The reason typed, whole (so that a refusal shows it back as typed), and what is wrong with it if anything."""
    reason = (request.form.get("reason") or "").strip()
    if not reason:
        return reason, "Enter the reason for doing this"
    if len(reason) > REASON_MAX:
        return reason, f"The reason must be {REASON_MAX:,} characters or fewer (it has {len(reason):,})"
    return reason, None


def form_int(name: str) -> int | None:
    """A whole number from the form that fits an id column (``²`` or twelve digits would not), or None."""
    return whole_number(request.form.get(name))


def arg_int(name: str, default: int | None = None) -> int | None:
    number = whole_number(request.args.get(name))
    return default if number is None else number


def error_list(errors: dict[str, str], anchors: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """GOV.UK error summary items; each links to its field."""
    anchors = anchors or {}
    return [{"text": message, "href": anchors.get(key, f"#{key}")} for key, message in errors.items()]
