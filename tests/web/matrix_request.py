"""Rows of the authorization matrix (tests/web/test_authorization.py) for the public request pages and the emailed
set-password link, and the objects their URLs name."""

from __future__ import annotations

from typing import Any

PUBLIC = "public"  # as in test_authorization.py (which imports this module)


# Anyone may ask for an assessment (a parent needs no account) and follow a set-password link: the draft is the one
# whose token the session holds, and the link is its own secret. Tests in test_request_pages.py and
# test_set_password.py check that a draft, a confirmation and a link are nobody else's.
EXTRA_MATRIX: dict[tuple[str, str, str], Any] = {
    ("request.start", "GET", ""): PUBLIC,
    ("request.start", "POST", ""): PUBLIC,
    ("request.question", "GET", ""): PUBLIC,
    ("request.question", "POST", ""): PUBLIC,
    ("request.reports", "GET", ""): PUBLIC,
    ("request.reports", "POST", ""): PUBLIC,
    ("request.check", "GET", ""): PUBLIC,
    ("request.send", "POST", ""): PUBLIC,
    ("request.confirmation", "GET", ""): PUBLIC,
    ("auth.set_password", "GET", ""): PUBLIC,
    ("auth.set_password", "POST", ""): PUBLIC,  # an empty form: refused, the link is not used up
}

# What is posted: enough to reach the checks, never enough to change anything.
EXTRA_POST_DATA: dict[str, dict[str, str]] = {"request.reports": {"_action": "continue"}}


def make_extra_targets(services: Any, engine: Any, app: Any, world: Any, case_id: int, clock: Any) -> dict[str, Any]:
    """A question page's slug, and a live set-password link for a new family account."""
    from engine.intake.accounts import family_account, send_set_password_link

    with services.session_factory() as s:
        user, _ = family_account(s, f"matrix-{case_id}@example.com", "Matrix Parent", clock.now())
        token = send_set_password_link(s, user, clock.now(), "For the authorization matrix.")
        s.commit()
    return {"slug": "who", "link_token": token}
