"""What a request gets when its session is missing or has ended: the sign-in page, and the form being typed kept as a
draft (the task pages' rescue) so that a session that ended mid-form loses nothing."""

from __future__ import annotations

from flask import current_app, flash, g, redirect, request, url_for
from flask.typing import ResponseReturnValue

from webui.tasks.form_page import rescue_draft


def unauthorized_response() -> ResponseReturnValue:
    """Not signed in (or the session has ended): to the sign-in page, coming back here afterwards."""
    reason = g.pop("session_ended", None)
    rescued = False
    if reason in ("idle", "expired") and request.method == "POST" and request.endpoint == "tasks.task_page":
        rescued = rescue_draft(g.pop("session_ended_user_id", None), (request.view_args or {}).get("task_id"))
    kept = " What you had typed has been saved as a draft." if rescued else ""
    if reason == "idle":
        flash(f"You were signed out because you did nothing for {current_app.config['SESSION_IDLE_MINUTES']} minutes."
              f"{kept} Sign in again to continue.", "info")
    elif reason == "expired":
        flash(f"You were signed out because your session ended.{kept} Sign in again to continue.", "info")
    if request.path.endswith(".json"):
        return {"error": "Sign in to see this"}, 401
    target = request.full_path if request.method == "GET" else request.path
    return redirect(url_for("auth.sign_in", next=target.rstrip("?")))
