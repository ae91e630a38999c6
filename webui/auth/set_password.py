"""Setting the password of an account a request for an assessment created, from the one-off link in its email.

The link works once, for a week (``engine.intake.accounts``); on success the person is signed in as on the sign-in
page (a new session) and lands on their home page. Wrong links and refused passwords count against the client
address, so links cannot be guessed by trying many.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, flash, render_template, request
from flask.typing import ResponseReturnValue

from engine.errors import FormInvalid, NotFound
from engine.intake.accounts import TOKEN_DAYS, set_password_with_token, user_for_token
from engine.people import sign_in_throttle as throttle
from engine.people.passwords import MIN_LENGTH
from webui.access import public
from webui.auth.routes import bp, start_signed_in_session
from webui.context import db, now

EXPIRED = (f"This link has expired or has already been used. A link to set your password works once, for {TOKEN_DAYS} "
           "days. Contact your local authority's SEND team and ask for a new one.")


WINDOW = timedelta(minutes=15)


def _client() -> str:
    return request.remote_addr or "unknown"


def _blocked() -> bool:
    """Counted in the database (``engine.people.sign_in_throttle``), so the limit holds across web processes."""
    return throttle.blocked(db(), "set_password", _client(), int(current_app.config["SET_PASSWORD_IP_MAX_ATTEMPTS"]),
                            WINDOW, now())


def _failed() -> None:
    """Counts a failed attempt and commits it (the page's own changes were rolled back before)."""
    throttle.record_failure(db(), "set_password", _client(), WINDOW, now())
    db().commit()


def _expired() -> ResponseReturnValue:
    _failed()
    return render_template("errors/error.html", title="This link cannot be used", message=EXPIRED), 410


@bp.route("/account/set-password/<string:link_token>", methods=["GET", "POST"])
@public
def set_password(link_token: str) -> ResponseReturnValue:
    """Choose a password for an account a request created; then you are signed in."""
    if _blocked():
        return render_template("errors/error.html", title="Too many attempts",
                               message="There have been too many attempts from your connection: wait 15 minutes, "
                                       "then try the link again."), 429
    try:
        user = user_for_token(db(), link_token, now())
    except NotFound:
        return _expired()
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            user = set_password_with_token(db(), link_token, request.form.get("password", ""),
                                           request.form.get("confirm_password", ""), now())
        except FormInvalid as exc:
            db().rollback()
            _failed()
            errors = dict(exc.errors)
        except NotFound:
            db().rollback()
            return _expired()
        else:
            db().commit()
            response = start_signed_in_session(user, None)
            flash("Your password has been set and you are signed in.", "success")
            return response
    return render_template("auth/set_password.html", email=user.email, errors=errors, link_token=link_token,
                           min_length=MIN_LENGTH)
