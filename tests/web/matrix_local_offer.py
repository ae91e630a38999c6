"""Rows of the authorization matrix (tests/web/test_authorization.py) for the Local Offer: its public pages, open to
everyone; its editor, for the managers (and Local Offer editors: none in the shared World, see test_local_offer.py) of
the authority that owns the entry, page, comment or proposed change; the providers' pages, for the staff of the
organisation that provides the entry; and the objects the URLs name."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.local_offer import comments, entries, proposals, review_route
from engine.store.models import Case, Organisation
from tests.conftest import ROOT, deploy_files

PUBLIC = "public"  # as in test_authorization.py (which imports this module)
EDITORS = {"manager"}
# Pages with no object of an authority: another authority's manager opens them for their own Local Offer
# (tests/web/test_local_offer.py checks they see none of ours).
ANY_EDITOR = EDITORS | {"other_manager"}
# The matrix entry is provided by the World's health body; the school's SENCO has entries of its own to list.
PROVIDERS = {"school", "health"}
ENTRY_PROVIDER = {"health"}

EXTRA_MATRIX: dict[tuple[str, str, str], Any] = {
    ("local_offer.index", "GET", ""): PUBLIC,
    ("local_offer.directory", "GET", ""): PUBLIC,
    ("local_offer.entries_json", "GET", ""): PUBLIC,
    ("local_offer.entry", "GET", ""): PUBLIC,
    ("local_offer.entry_json", "GET", ""): PUBLIC,
    ("local_offer.fixed_page", "GET", ""): PUBLIC,
    ("local_offer.you_said", "GET", ""): PUBLIC,
    ("local_offer.comment", "GET", ""): PUBLIC,
    ("local_offer.comment", "POST", ""): PUBLIC,  # an empty comment: refused, nothing is kept
    ("local_offer.comment_sent", "GET", ""): PUBLIC,
    ("local_offer.editor_index", "GET", ""): ANY_EDITOR,
    ("local_offer.editor_new_entry", "GET", ""): ANY_EDITOR,
    ("local_offer.editor_new_entry", "POST", ""): ANY_EDITOR,  # an empty form: refused, nothing is saved
    ("local_offer.editor_entry", "GET", ""): EDITORS,
    ("local_offer.editor_entry", "POST", ""): EDITORS,
    ("local_offer.editor_review", "GET", ""): ANY_EDITOR,
    ("local_offer.editor_pages", "GET", ""): ANY_EDITOR,
    ("local_offer.editor_page", "GET", ""): ANY_EDITOR,
    ("local_offer.editor_page", "POST", ""): ANY_EDITOR,
    ("local_offer.editor_comments", "GET", ""): ANY_EDITOR,
    ("local_offer.editor_comment", "GET", ""): EDITORS,
    ("local_offer.editor_comment", "POST", ""): EDITORS,  # no decision: refused, the comment stays pending
    ("local_offer.brand_css", "GET", ""): PUBLIC,
    ("local_offer.editor_changes", "GET", ""): ANY_EDITOR,
    ("local_offer.editor_change", "GET", ""): EDITORS,
    ("local_offer.editor_change", "POST", ""): EDITORS,  # no decision: refused, the change stays pending
    ("local_offer.provider_index", "GET", ""): PROVIDERS,
    ("local_offer.provider_entry", "GET", ""): ENTRY_PROVIDER,
    ("local_offer.provider_entry", "POST", ""): ENTRY_PROVIDER,  # an empty form: refused, nothing is proposed
}

EXTRA_POST_DATA: dict[str, dict[str, str]] = {
    "local_offer.comment": {},
    "local_offer.editor_new_entry": {},
    "local_offer.editor_entry": {},
    "local_offer.editor_page": {},
    "local_offer.editor_comment": {},
    "local_offer.editor_change": {},
    "local_offer.provider_entry": {},
}


def make_extra_targets(services: Any, engine: Any, app: Any, world: Any, case_id: int, clock: Any) -> dict[str, Any]:
    """A published entry (provided by the health body, which has proposed a change to it, waiting on the review
    route) and a pending comment in the Local Offer of the case's authority."""
    deploy_files(engine, [ROOT / "workflows" / "local_offer_review.bpmn"], ROOT / "forms")
    with services.session_factory() as s:
        la = s.get(Organisation, s.scalars(select(Case.la_id).where(Case.id == case_id)).one())
        entry = entries.save_entry(s, la.id, {"title": "Matrix service", "category": "health", "needs": [],
                                              "age_from": "0", "age_to": "25", "status": "published",
                                              "provider_id": str(world.health.id)},
                                   clock.now(), clock.today(), None)
        proposal = proposals.propose(s, entry, world.health.id, {"title": "Matrix service, changed", "age_from": "0",
                                                                 "age_to": "25"}, clock.now(), None)
        review_route.start_review(engine, s, proposal)
        comment = comments.submit_comment(s, la.id, "A comment for the matrix", f"matrix-{case_id}", clock.now(),
                                          limit=100)
        s.commit()
        return {"la_code": la.code, "entry_id": entry.id, "comment_id": comment.id, "proposal_id": proposal.id,
                "page_slug": "request-an-assessment"}
