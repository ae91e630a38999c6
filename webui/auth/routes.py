"""Signing in and out.

Failed sign-ins are throttled three ways, all in the database so the limits hold across every web process: an
account is locked for 15 minutes after 5 failures in a row; an email address that is not an account is treated the
same (``engine.people.sign_in_throttle``), so the messages never tell an attacker which addresses exist; and one
client address may fail only 20 times in 15 minutes, whichever accounts it tries. Every answer about an account
checks a password hash (a dummy one when there is no account, or it is locked), so how long it takes does not tell
which addresses exist either.

A temporary password (one an administrator set) signs in only for ``TEMP_PASSWORD_DAYS``, and then only to the page
where the person chooses their own (``webui.auth.temporary``).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from functools import cache
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select

from engine.errors import FormInvalid
from engine.people import sign_in_throttle as throttle
from engine.people.passwords import hash_password, verify_password
from engine.people.users import change_own_password, temporary_password_expired
from engine.store.models import AuditEvent, User
from webui.access import public, signed_in
from webui.auth.user import SESSION_KEY, end_other_sessions, end_session, load_user, start_session
from webui.context import clock, db
from webui.security import safe_next

bp = Blueprint("auth", __name__)



@cache
def _dummy_hash() -> str:
    """A real Argon2 hash of a random password: checking it costs what checking a real account costs, so the time a
    failed sign-in takes does not reveal whether the account exists."""
    return hash_password(secrets.token_hex(16))


WRONG = "Enter a correct email address and password"
LOCKED = "You have tried to sign in too many times. Wait {minutes} minutes, then try again"
TEMPORARY_EXPIRED = ("Your temporary password has expired: temporary passwords work for {days} days. Ask an "
                     "administrator of your organisation for a new one")



def home_for(user: Any) -> str:
    return url_for("family.index") if user.is_family_only else url_for("tasks.my_tasks")



@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in() -> ResponseReturnValue:
    """The sign-in page."""
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or home_for(current_user))
    errors: dict[str, str] = {}
    email = ""
    if request.method == "POST":
        email = (request.form.get("email") or "").strip().lower()
        password = request.form.get("password") or ""
        if not email:
            errors["email"] = "Enter your email address"
        elif "@" not in email:
            errors["email"] = "Enter an email address in the correct format, like name@example.com"
        if not password:
            errors["password"] = "Enter your password"
        if not errors:
            result = _attempt(email, password)
            if isinstance(result, User):
                return start_signed_in_session(result, next_url)
            if result == "ip":
                return render_template("auth/too_many.html"), 429
            errors["email"] = result
    return render_template("auth/sign_in.html", errors=errors, email=email, next_url=next_url or "")


def _attempt(email: str, password: str) -> User | str:
    """The user when the password is right; else the message to show, or "ip" when the client is throttled.

    Each failure is committed at once (a rolled-back count would not count)."""
    now = clock().now()
    ip = request.remote_addr or "unknown"
    cfg = current_app.config
    s = db()
    ip_window = timedelta(minutes=cfg["SIGN_IN_IP_WINDOW_MINUTES"])
    lock_window = timedelta(minutes=cfg["SIGN_IN_LOCK_MINUTES"])
    locked_message = LOCKED.format(minutes=cfg["SIGN_IN_LOCK_MINUTES"])
    if throttle.blocked(s, "ip", ip, cfg["SIGN_IN_IP_MAX_FAILURES"], ip_window, now):
        return "ip"  # whichever account: the time it takes tells nothing about one
    user = s.scalar(select(User).where(func.lower(User.email) == email))
    if user is None:
        verify_password(_dummy_hash(), password)
        throttle.record_failure(s, "ip", ip, ip_window, now)
        was_blocked = throttle.blocked(s, "email", email, cfg["SIGN_IN_MAX_FAILURES"], lock_window, now)
        if not was_blocked:
            throttle.record_failure(s, "email", email, lock_window, now)
        s.commit()
        if was_blocked or throttle.blocked(s, "email", email, cfg["SIGN_IN_MAX_FAILURES"], lock_window, now):
            return locked_message
        return WRONG
    if user.locked_until is not None and user.locked_until > now:
        # The same hash check as any other answer: a fast "locked" would tell an attacker the account exists.
        verify_password(_dummy_hash(), password)
        throttle.record_failure(s, "ip", ip, ip_window, now)
        s.commit()
        return locked_message
    if verify_password(user.password_hash, password) and user.active:
        if temporary_password_expired(user, now, int(cfg["TEMP_PASSWORD_DAYS"])):
            return TEMPORARY_EXPIRED.format(days=cfg["TEMP_PASSWORD_DAYS"])
        user.failed_sign_ins = 0
        user.locked_until = None
        user.last_sign_in_at = now
        return user
    throttle.record_failure(s, "ip", ip, ip_window, now)
    user.failed_sign_ins = (user.failed_sign_ins or 0) + 1
    if user.failed_sign_ins >= cfg["SIGN_IN_MAX_FAILURES"]:
        user.locked_until = now + lock_window
        user.failed_sign_ins = 0
        s.add(AuditEvent(at=now, actor_id=None, action="account_locked",
                         summary=f"Sign-in locked for {cfg['SIGN_IN_LOCK_MINUTES']} minutes after repeated failures",
                         detail={"user_id": user.id}))
        s.commit()
        return locked_message
    s.commit()
    return WRONG


def start_signed_in_session(user: User, next_url: str | None) -> ResponseReturnValue:
    # A new session on every sign-in: nothing from before (such as a planted session) survives it.
    session.clear()
    token = start_session(user)
    db().add(AuditEvent(at=clock().now(), actor_id=user.id, action="signed_in", summary=f"{user.email} signed in"))
    db().commit()
    session[SESSION_KEY] = token
    session.permanent = True
    web_user = load_user(str(user.id))
    assert web_user is not None
    login_user(web_user, remember=False)
    return redirect(next_url or home_for(web_user))


@bp.route("/sign-out", methods=["GET", "POST"])
@public
def sign_out() -> ResponseReturnValue:
    """Signing out is a POST (from the header's button); GET shows a page with that button, for links."""
    if request.method == "GET":
        if not current_user.is_authenticated:
            return redirect(url_for("auth.sign_in"))
        return render_template("auth/sign_out.html")
    end_session("signed_out")
    logout_user()
    session.clear()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.sign_in"))


@bp.route("/account")
@signed_in
def account() -> ResponseReturnValue:
    """Who you are signed in as, and your roles."""
    return render_template("auth/account.html")


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
def change_password() -> ResponseReturnValue:
    """Change your own password. Your other sessions end (someone who had your old password is signed out there)."""
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = {name: request.form.get(name, "") for name in ("current_password", "new_password",
                                                              "confirm_password")}
        user = db().get(User, current_user.id)
        try:
            change_own_password(db(), user, form["current_password"], form["new_password"],
                                form["confirm_password"], clock())
        except FormInvalid as exc:
            db().rollback()
            errors = dict(exc.errors)
        else:
            end_other_sessions(user.id, "password changed", clock().now())
            db().commit()
            flash("Your password has been changed. You have been signed out everywhere else.", "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/password.html", errors=errors)
