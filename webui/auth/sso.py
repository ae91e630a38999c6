"""Signing staff in with their organisation's identity provider (OpenID Connect, authorization code flow with PKCE).

The sign-in page links to ``sso_start`` for each organisation with an enabled provider (links, not a form: the
content security policy allows forms to post only to this site). ``sso_start`` keeps the state, nonce and PKCE
verifier in the signed session cookie and sends the browser to the provider; ``sso_callback`` checks the state,
exchanges the code and validates the ID token (``engine.people.sso``), then starts the session exactly as a password
sign-in does. Every refusal counts towards the same per-client-address limit as a wrong password and is audited.
"""

from __future__ import annotations

import hmac
from datetime import timedelta

from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.people import sign_in_throttle as throttle
from engine.people import sso
from engine.people.sso_oidc import SsoFailure, authorization_request, discover
from engine.store.sso import IdentityProvider
from webui.access import public
from webui.auth.routes import bp, home_for, start_signed_in_session
from webui.context import clock, db
from webui.security import safe_next

FLOW_KEY = "sso_flow"
# Long enough to sign in at the provider (with a second factor); short enough that a stale flow is useless.
FLOW_MINUTES = 10


@bp.app_template_global("sso_providers")
def sso_providers() -> list[tuple[int, str]]:
    """(provider id, button label) for the sign-in page; called only by the page that shows them."""
    return [(p.id, sso.button_label(p)) for p in sso.enabled_providers(db())]


def _ip_blocked() -> bool:
    cfg = current_app.config
    return throttle.blocked(db(), "ip", request.remote_addr or "unknown", cfg["SIGN_IN_IP_MAX_FAILURES"],
                            timedelta(minutes=cfg["SIGN_IN_IP_WINDOW_MINUTES"]), clock().now())


def _redirect_uri() -> str:
    # The address to register at the provider; behind a proxy EHCFLOW_TRUST_PROXY makes it the public one.
    return url_for("auth.sso_callback", _external=True)


@bp.get("/sign-in/sso/<int:provider_id>")
@public
def sso_start(provider_id: int) -> ResponseReturnValue:
    """Sends the browser to the organisation's identity provider."""
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or home_for(current_user))
    if _ip_blocked():
        return render_template("auth/too_many.html"), 429
    provider = db().get(IdentityProvider, provider_id)
    if provider is None or not provider.enabled or not provider.organisation.active:
        abort(404)
    try:
        auth = authorization_request(discover(provider.issuer), provider.client_id, _redirect_uri())
    except SsoFailure as failure:
        sso.record_refusal(db(), provider, failure, clock().now())
        db().commit()
        return render_template("auth/sso_unavailable.html", label=sso.button_label(provider)), 502
    session[FLOW_KEY] = {"provider": provider.id, "state": auth.state, "nonce": auth.nonce,
                         "verifier": auth.code_verifier, "next": next_url or "",
                         "started": clock().now().timestamp()}
    return redirect(auth.url)


@bp.get("/sign-in/sso/callback")
@public
def sso_callback() -> ResponseReturnValue:
    """Where the provider sends the browser back, with a code (or an error) and the state."""
    flow = session.pop(FLOW_KEY, None)
    if _ip_blocked():
        return render_template("auth/too_many.html"), 429
    provider = db().get(IdentityProvider, flow.get("provider")) if isinstance(flow, dict) else None
    now = clock().now()
    try:
        if provider is None:
            raise SsoFailure("no_sign_in_started")
        if not provider.enabled:
            raise SsoFailure("provider_turned_off")
        if not hmac.compare_digest(str(flow.get("state")), request.args.get("state", "")):
            raise SsoFailure("wrong_state")
        if now.timestamp() - float(flow.get("started", 0)) > FLOW_MINUTES * 60:
            raise SsoFailure("too_slow")
        if request.args.get("error") or not request.args.get("code"):
            raise SsoFailure("provider_error")
        user, claims = sso.finish_sign_in(db(), provider, current_app.config["SECRET_KEY"], _redirect_uri(),
                                          request.args["code"], flow["verifier"], flow["nonce"], now)
    except SsoFailure as failure:
        db().rollback()
        # Without a sign-in started here nothing was tried against anyone's account: no count, nothing to audit.
        if provider is not None:
            _count_failure()
            sso.record_refusal(db(), provider, failure, now)
            db().commit()
        # A refused person gets 403 with what to do; a broken exchange (someone else's state, a bad token) 400.
        status = 403 if failure.email else 400
        return render_template("auth/sso_refused.html", message=str(failure), person=bool(failure.email)), status
    sso.record_sign_in(db(), provider, user, claims, now)
    return start_signed_in_session(user, flow.get("next") or None)


def _count_failure() -> None:
    window = timedelta(minutes=current_app.config["SIGN_IN_IP_WINDOW_MINUTES"])
    throttle.record_failure(db(), "ip", request.remote_addr or "unknown", window, clock().now())
