"""The young person's rights page: milestones, and a parent named to act for them.

Sam was born on 1 June 2009. Sam turned 16 on 1 June 2025, in the school year 2024/25, so compulsory school age
ended on the last Friday of June 2025, Friday 27 June; from Saturday 28 June 2025 the rights are Sam's. The world
case's child, Alex (born 14 May 2015), reaches that day only on Saturday 28 June 2031.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.people.roles import Role
from engine.people.users import create_user
from engine.runtime.services import Services
from engine.store.models import AuditEvent, CaseParty
from tests.conftest import PASSWORD, World
from tests.web.conftest import Client, soup, text_of


def _young_person_case(services: Services, world: World) -> tuple[int, int]:
    engine = services.engine
    with services.session_factory() as s:
        case = engine.open_case(s, world.la.id, "Sam", "Okoro", "2009-06-01")
        mother = create_user(s, "mother.okoro@test.example", "Ngozi <b>Okoro</b>", PASSWORD, engine.clock,
                             [(None, Role.FAMILY)])
        sam = create_user(s, "sam.okoro@test.example", "Sam Okoro", PASSWORD, engine.clock, [(None, Role.FAMILY)])
        s.add(CaseParty(case_id=case.id, role="family", user_id=mother.id, relationship_to_child="mother"))
        s.add(CaseParty(case_id=case.id, role="family", user_id=sam.id, relationship_to_child="young person"))
        s.add(CaseParty(case_id=case.id, role="health_body", organisation_id=world.health.id))
        s.add(CaseParty(case_id=case.id, role="setting", organisation_id=world.school.id))
        s.commit()
        return case.id, mother.id


def _named(services: Services, case_id: int) -> list[tuple[int | None, bool]]:
    with services.session_factory() as s:
        return [(p.user_id, p.active) for p in s.scalars(select(CaseParty).where(
            CaseParty.case_id == case_id, CaseParty.role == "acting_for_young_person"))]


def test_a_caseworker_records_the_parent_a_young_person_names(as_user: Any, world: World,
                                                              services: Services) -> None:
    case_id, mother = _young_person_case(services, world)
    client = as_user("caseworker")
    case_page = client.page(f"/cases/{case_id}")
    link = case_page.select_one(f"a[href='/cases/{case_id}/named-parent']")
    assert link is not None
    page = client.page(link["href"])
    text = text_of(page)
    assert "Since 28 June 2025 the rights are Sam Okoro's" in text
    assert "27 June 2025 (passed) End of compulsory school age" in text
    # The parent's name is text, never markup.
    assert page.select_one("td b") is None and "Ngozi <b>Okoro</b> (mother) No" in text

    client.post(f"/cases/{case_id}/named-parent", {"user_id": mother, "action": "name"}, status=302)
    assert _named(services, case_id) == [(mother, True)]
    page = client.page(f"/cases/{case_id}/named-parent")
    assert "Recorded: notices now go to the young person" in text_of(page)
    assert "Ngozi <b>Okoro</b> (mother) Yes" in text_of(page)
    assert "Named by the young person to act for them" in text_of(client.page(f"/cases/{case_id}"))

    response = client.post(f"/cases/{case_id}/named-parent", {"user_id": mother, "action": "name"}, status=302)
    assert "is already named" in text_of(client.page(response.headers["Location"]))
    client.post(f"/cases/{case_id}/named-parent", {"user_id": mother, "action": "withdraw"}, status=302)
    assert _named(services, case_id) == [(mother, False)]
    with services.session_factory() as s:
        actions = list(s.scalars(select(AuditEvent.action).where(AuditEvent.case_id == case_id,
                                                                 AuditEvent.action.like("parent_%"))))
    assert actions == ["parent_named", "parent_nomination_withdrawn"]


def test_bad_choices_and_a_child_under_compulsory_school_age_are_refused(as_user: Any, world: World,
                                                                         services: Services) -> None:
    case_id, _ = _young_person_case(services, world)
    client = as_user("caseworker")
    for data in ({"user_id": "x", "action": "name"}, {"user_id": world.users["parent"].id, "action": "adopt"}):
        response = client.post(f"/cases/{case_id}/named-parent", data, status=302)
        assert "Choose a parent and what to record" in text_of(client.page(response.headers["Location"]))
    # The world's parent is on Alex's case, not Sam's.
    response = client.post(f"/cases/{case_id}/named-parent", {"user_id": world.users["parent"].id,
                                                              "action": "name"}, status=302)
    assert "Only a parent already on the case" in text_of(client.page(response.headers["Location"]))
    # Alex is 10: the parents have the rights until 28 June 2031.
    page = client.page(f"/cases/{world.case_id}/named-parent")
    assert "Until 28 June 2031 the parents have the rights" in text_of(page)
    assert page.select("main form button") == []
    response = client.post(f"/cases/{world.case_id}/named-parent", {"user_id": world.users["parent"].id,
                                                                    "action": "name"}, status=302)
    assert "Until 28 June 2031 the parents have the rights" in text_of(client.page(response.headers["Location"]))
    assert _named(services, world.case_id) == []


def test_only_the_responsible_authoritys_caseworkers_and_managers(as_user: Any, world: World,
                                                                  services: Services) -> None:
    case_id, mother = _young_person_case(services, world)
    as_user("manager").get(f"/cases/{case_id}/named-parent")
    for user, status in (("health", 403), ("school", 403), ("other_caseworker", 404), ("parent", 403)):
        as_user(user).get(f"/cases/{case_id}/named-parent", status=status)
        as_user(user).post(f"/cases/{case_id}/named-parent", {"user_id": mother, "action": "name"}, status=status)
    assert _named(services, case_id) == []
    # The form needs its CSRF token.
    client = as_user("caseworker")
    assert client.post(f"/cases/{case_id}/named-parent", {"user_id": mother, "action": "name"},
                       token=False).status_code == 400
    assert _named(services, case_id) == []
    assert soup(client.get(f"/cases/{case_id}")).select_one("h1").get_text(strip=True) == "Sam Okoro"


def test_the_young_person_chooses_a_parent_from_their_own_pages(app: Any, as_user: Any, world: World,
                                                                services: Services) -> None:
    case_id, mother = _young_person_case(services, world)
    sam = Client(app)
    sam.sign_in("sam.okoro@test.example")
    link = sam.page(f"/family/cases/{case_id}").select_one(f"a[href='/family/cases/{case_id}/parent-acting-for-you']")
    assert link is not None
    page = sam.page(link["href"])
    assert "Since 28 June 2025 the decisions and the letters are yours" in text_of(page)
    assert "Ngozi <b>Okoro</b> No" in text_of(page)  # the young person is not offered to themselves
    sam.post(link["href"], {"user_id": mother, "action": "name"}, status=302)
    assert _named(services, case_id) == [(mother, True)]
    assert "Ngozi <b>Okoro</b> Yes" in text_of(sam.page(link["href"]))
    sam.post(link["href"], {"user_id": mother, "action": "withdraw"}, status=302)
    assert _named(services, case_id) == [(mother, False)]
    with services.session_factory() as s:
        actors = list(s.scalars(select(AuditEvent.actor_id).where(AuditEvent.case_id == case_id,
                                                                  AuditEvent.action.like("parent_%"))))
    assert len(actors) == 2 and len(set(actors)) == 1 and actors[0] != world.users["caseworker"].id


def test_only_the_young_person_chooses_for_themselves(app: Any, as_user: Any, world: World,
                                                      services: Services) -> None:
    case_id, mother = _young_person_case(services, world)
    ngozi = Client(app)
    ngozi.sign_in("mother.okoro@test.example")
    assert ngozi.page(f"/family/cases/{case_id}").select_one("a[href$='/parent-acting-for-you']") is None
    ngozi.get(f"/family/cases/{case_id}/parent-acting-for-you", status=403)
    ngozi.post(f"/family/cases/{case_id}/parent-acting-for-you", {"user_id": mother, "action": "name"}, status=403)
    as_user("parent").get(f"/family/cases/{case_id}/parent-acting-for-you", status=404)  # not their case
    as_user("caseworker").get(f"/family/cases/{case_id}/parent-acting-for-you", status=403)  # staff, not family
    assert _named(services, case_id) == []
