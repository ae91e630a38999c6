"""Downloading a transfer package (a document of kind ``transfer_package``) as its JSON file: the old authority
exports it when the family moves to an authority that does not use EHC Flow, and the case closes on its side.

The package comes from the real route (workflows/plan_transfer.bpmn): a move on Friday 6 March 2026 recorded on
Monday 2 March, so the package goes at the start of 6 March (tests/workflows/test_transfer.py works out the dates).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from engine.casework.transfer_package import PACKAGE_KIND, build_transfer_package, package_from_document, package_html
from engine.people.users import create_organisation
from engine.runtime.services import Services
from engine.statutory.clock import FrozenClock
from engine.store.models import Case, Deadline, Document, Organisation, PlanVersion
from tests.conftest import World
from tests.web.conftest import open_task, soup, text_of

NAME = "Alex</script><script>alert('x')</script>"


def add_package(services: Services, case_id: int, clock: FrozenClock) -> int:
    """A transfer-package document as the route stores it (for tests that need one without running the route)."""
    with services.session_factory() as s:
        package = build_transfer_package(s, case_id, generated_at=clock.now(), reason="Moved away")
        document = Document(case_id=case_id, kind=PACKAGE_KIND, title="Transfer package", body_html=package_html(package),
                            recipients=[{"name": "Farshire Council", "role": "local_authority", "copy": False}],
                            appealable=False, issued_at=clock.now())
        s.add(document)
        s.commit()
        return document.id


@pytest.fixture
def exported(services: Services, world: World, deployed: Any) -> int:
    """The world's case, with a plan, moved to Farshire (not on EHC Flow) by the real route; returns the package's id."""
    engine = services.engine
    with services.session_factory() as s:
        far = create_organisation(s, "Farshire Council", "local_authority", engine.clock, code="FAR",
                                  uses_ehcflow=False)
        case = s.get(Case, world.case_id)
        case.child_first_name = NAME
        issued = datetime(2025, 6, 10, 12, tzinfo=UTC)
        s.add(PlanVersion(case_id=world.case_id, number=1, kind="final", label="Final plan", created_at=issued,
                          issued_at=issued, sections={"B": {"needs": []}, "K": {"advice": []}}))
        s.add(Deadline(case_id=world.case_id, key="annual_review", name="Review the plan", process_id="annual_review",
                       due_date=date(2026, 6, 10), started_on=date(2025, 6, 10), status="open", missed=False))
        s.commit()
        far_id = far.id
    caseworker = world.users["caseworker"]
    engine.start(world.case_id, "plan_transfer", actor=caseworker)
    engine.complete_task(open_task(services, world.case_id, "UT_record_move").id,
                         {"move_date": "2026-03-06", "aware_date": "2026-03-02", "new_la_id": far_id,
                          "health_body_changes": "no"}, caseworker)
    engine.complete_task(open_task(services, world.case_id, "UT_prepare_transfer").id,
                         {"plan_and_advice_checked": True}, caseworker)
    engine.clock.set(datetime(2026, 3, 6, 0, 0, 1, tzinfo=UTC))
    assert engine.fire_due_timers() == 1
    with services.session_factory() as s:
        assert s.get(Case, world.case_id).status == "closed"
        (document,) = s.scalars(select(Document).where(Document.case_id == world.case_id,
                                                       Document.kind == PACKAGE_KIND))
        return document.id


def package_url(case_id: int, document_id: int) -> str:
    return f"/cases/{case_id}/transfer-packages/{document_id}"


@pytest.mark.parametrize("user", ["caseworker", "manager"])
def test_the_old_authority_downloads_the_package_as_its_json_file(services: Services, world: World, as_user: Any,
                                                                  exported: int, user: str) -> None:
    client = as_user(user)
    page = client.page(f"/cases/{world.case_id}")
    link = page.select_one(f"a[href='{package_url(world.case_id, exported)}']")
    assert link is not None and "package file (JSON)" in link.get_text()
    response = client.get(package_url(world.case_id, exported))
    assert response.mimetype == "application/json"
    with services.session_factory() as s:
        case = s.get(Case, world.case_id)
        document = s.get(Document, exported)
        expected = package_from_document(document)
        reference = case.reference
    assert response.headers["Content-Disposition"] == \
        f'attachment; filename="{reference}-transfer-package-2026-03-06.json"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    package = json.loads(response.get_data(as_text=True))
    assert package == expected
    assert package["child"]["first_name"] == NAME  # the JSON carries the name exactly, whatever it holds
    assert package["to_local_authority"]["name"] == "Farshire Council"
    assert [v["label"] for v in package["plan"]["versions"]] == ["Final plan"]
    # The document's page links to the file too, and shows the name as text.
    document_page = client.get(f"/cases/{world.case_id}/documents/{exported}")
    assert "<script>alert" not in document_page.get_data(as_text=True)
    assert soup(document_page).select_one(f"a[href='{package_url(world.case_id, exported)}']") is not None


@pytest.mark.parametrize(("user", "status"), [
    ("other_caseworker", 404), ("other_manager", 404),  # another authority: the case does not exist for it
    ("parent", 403), ("other_parent", 403),  # the family's pages never show the package
    ("school", 403), ("health", 403), ("mediation", 403),  # parties on the case: neither file nor summary
    ("ep", 403), ("socialcare", 403), ("admin", 403),
])
def test_nobody_else_downloads_the_package(world: World, as_user: Any, exported: int, user: str,
                                           status: int) -> None:
    client = as_user(user)
    response = client.get(package_url(world.case_id, exported), status=status)
    assert "Farshire" not in response.get_data(as_text=True)
    if user in ("school", "health", "ep"):
        page = client.page(f"/cases/{world.case_id}")
        assert page.select_one(f"a[href='{package_url(world.case_id, exported)}']") is None
        # Nor its summary page (need to know): the package went to the new authority, not to them.
        assert f"/cases/{world.case_id}/documents/{exported}" not in page.decode()
        summary = client.get(f"/cases/{world.case_id}/documents/{exported}", status=403)
        assert "Farshire" not in summary.get_data(as_text=True)


def test_only_a_transfer_package_of_this_case_is_a_package(services: Services, world: World, as_user: Any,
                                                           clock: FrozenClock) -> None:
    from tests.web.test_cases import add_document

    notice = add_document(services, world.case_id, "A notice", [{"role": "parent"}])
    other_package = add_package(services, world.other_case_id, clock)
    own_package = add_package(services, world.case_id, clock)
    client = as_user("caseworker")
    client.get(package_url(world.case_id, notice), status=404)
    client.get(package_url(world.case_id, other_package), status=404)
    client.get(package_url(world.other_case_id, other_package), status=404)
    assert json.loads(client.get(package_url(world.case_id, own_package)).get_data())["reason"] == "Moved away"
    as_user("other_caseworker").get(package_url(world.other_case_id, other_package), status=200)


# ---- the directories the transfer forms choose from ------------------------------------------------------------------

def test_recording_a_move_chooses_the_authority_and_the_health_body_from_the_directory(
        services: Services, world: World, as_user: Any, deployed: Any) -> None:
    """``x-options: health_bodies`` is a select of the active health bodies, as ``local_authorities`` is of the
    active authorities (webui/forms/options.py)."""
    with services.session_factory() as s:
        for name, active in (("Farshire ICB", True), ("Closed ICB", False), ("<b>Bold</b> ICB", True)):
            body = create_organisation(s, name, "health_body", services.engine.clock)
            body.active = active
        s.commit()
    services.engine.start(world.case_id, "plan_transfer", actor=world.users["caseworker"])
    task = open_task(services, world.case_id, "UT_record_move")
    page = as_user("caseworker").page(f"/tasks/{task.id}")
    health = page.select_one("select[name=new_health_body_id]")
    assert health is not None
    with services.session_factory() as s:
        ids = {o.name: str(o.id) for o in s.scalars(select(Organisation))}
    options = [(o["value"], o.get_text(strip=True)) for o in health.select("option") if o["value"]]
    assert options == [(ids["<b>Bold</b> ICB"], "<b>Bold</b> ICB"), (ids["Farshire ICB"], "Farshire ICB"),
                       (ids["Testshire ICB"], "Testshire ICB")]
    assert "<b>Bold</b>" not in str(health)  # the name is text
    authorities = page.select_one("select[name=new_la_id]")
    assert [o.get_text(strip=True) for o in authorities.select("option") if o["value"]] == [
        "Otherham Council", "Testshire Council"]
    # The choice is sent as the body's id and shown by name once the step is done.
    client = as_user("caseworker")
    client.post(f"/tasks/{task.id}", [
        ("move_date-day", "23"), ("move_date-month", "5"), ("move_date-year", "2026"),
        ("aware_date-day", "2"), ("aware_date-month", "3"), ("aware_date-year", "2026"),
        ("new_la_id", str(world.other_la.id)), ("health_body_changes", "yes"),
        ("new_health_body_id", ids["Farshire ICB"]), ("_action", "submit")], status=302)
    done = client.page(f"/tasks/{task.id}")
    assert "Farshire ICB" in text_of(done) and "Otherham Council" in text_of(done)
