"""Notices to an organisation (the termly list of reviews due): only its own staff read them, and safely."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from engine.runtime.services import Services
from engine.store.outbox import OrganisationNotice
from tests.conftest import World
from tests.web.conftest import text_of


def add_notice(services: Services, organisation_id: int, body: str = "<p>Reviews due: Alex Taylor</p>") -> int:
    with services.session_factory() as s:
        notice = OrganisationNotice(key=f"test:{organisation_id}:{body[:20]}", kind="termly_review_list",
                                    organisation_id=organisation_id, recipient_role="setting",
                                    title="Annual reviews due in the summer term 2027", body_html=body, case_ids=[],
                                    issued_at=datetime(2027, 3, 25, 8, 0, tzinfo=UTC))
        s.add(notice)
        s.commit()
        return notice.id


def test_the_school_reads_its_notice_and_no_one_else_does(as_user: Any, world: World, services: Services) -> None:
    notice_id = add_notice(services, world.school.id,
                           '<p>Reviews due</p><script>alert(1)</script><a href="javascript:alert(2)">x</a>')
    school = as_user("school")
    listing = school.page("/notices/")
    link = listing.select_one(f"a[href='/notices/{notice_id}']")
    assert link is not None and link.get_text(strip=True) == "Annual reviews due in the summer term 2027"
    page = school.page(f"/notices/{notice_id}")
    assert "Test Primary School – 25 March 2027" in text_of(page)
    assert page.select("main script") == [] and page.select("a[href^=javascript]") == []
    for user in ("caseworker", "health", "other_caseworker"):
        as_user(user).get(f"/notices/{notice_id}", status=404)
        assert as_user(user).page("/notices/").select_one(f"a[href='/notices/{notice_id}']") is None
    as_user("parent").get(f"/notices/{notice_id}", status=403)
    as_user("school").get("/notices/999999", status=404)
