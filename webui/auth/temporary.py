"""Choosing your own password after signing in with a temporary one (one an administrator set).

Until they do, a person signed in with a temporary password can open only this page (and sign out): every other
request is sent here. So a password someone else knows never becomes the way the account is used day to day. How
long a temporary password signs in at all is ``TEMP_PASSWORD_DAYS`` (``webui.auth.routes``).
"""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.errors import FormInvalid
from engine.people.passwords import MIN_LENGTH
from engine.people.users import choose_own_password
from engine.store.models import User
from webui.access import signed_in
from webui.auth.routes import bp, home_for
from webui.auth.user import end_other_sessions
from webui.context import clock, db

#: What a person with a temporary password may still reach.
ALLOWED_ENDPOINTS = frozenset({"auth.choose_password", "auth.sign_out", "static"})


def must_choose_password() -> bool:
    return bool(current_user.is_authenticated and current_user.record.temporary_password_set_at is not None)


@bp.before_app_request
def send_to_choose_password() -> Response | None:
    # The API never uses the session (webui/api/auth.py): its calls are not the browser's pages.
    if request.endpoint in ALLOWED_ENDPOINTS or request.path.startswith("/api/") or not must_choose_password():
        return None
    return redirect(url_for("auth.choose_password"))


@bp.route("/account/choose-password", methods=["GET", "POST"])
@signed_in
def choose_password() -> ResponseReturnValue:
    """Replace the temporary password you signed in with by your own; then the rest of the service opens."""
    if not must_choose_password():
        return redirect(home_for(current_user))
    errors: dict[str, str] = {}
    if request.method == "POST":
        user = db().get(User, current_user.id)
        assert user is not None
        try:
            choose_own_password(db(), user, request.form.get("new_password", ""),
                                request.form.get("confirm_password", ""), clock())
        except FormInvalid as exc:
            db().rollback()
            errors = dict(exc.errors)
        else:
            # Whoever else signed in with the temporary password (it was known to someone else) is signed out.
            end_other_sessions(user.id, "password changed", clock().now())
            db().commit()
            flash("Your password has been set. Use it from now on.", "success")
            return redirect(home_for(current_user))
    return render_template("auth/choose_password.html", errors=errors, min_length=MIN_LENGTH)
