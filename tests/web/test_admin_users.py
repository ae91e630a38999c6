"""The admin console's people and organisation pages: every action with its refusals, the engine's rule that nobody
grants a role above their own, another authority's admin refused, typed values escaped. CSRF protection stays on."""

from __future__ import annotations

from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from sqlalchemy import select

from engine.people.passwords import verify_password
from engine.people.roles import Role
from engine.people.users import (
    create_organisation_as_admin,
    create_user,
    grant_role,
    reset_password,
    revoke_role,
    set_active,
)
from engine.runtime.services import Services
from engine.store.models import AuditEvent, Membership, Organisation, User
from engine.store.sign_in import WebSession
from tests.conftest import PASSWORD, World
from tests.web.conftest import Client, text_of

XSS = "<script>alert('x')</script>"


def user_by_email(services: Services, email: str) -> User | None:
    with services.session_factory() as s:
        return s.scalars(select(User).where(User.email == email)).first()


def last_event(services: Services, action: str) -> AuditEvent | None:
    with services.session_factory() as s:
        return s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id.desc())).first()


def roles_of(services: Services, user_id: int) -> set[tuple[int | None, str]]:
    with services.session_factory() as s:
        return {(m.organisation_id, m.role) for m in s.scalars(select(Membership).where(Membership.user_id == user_id))}


def confirm(client: Client, url: str, data: dict[str, Any]) -> Any:
    client.get(url)
    return client.post(url, data)


def test_list_and_search_only_the_admins_organisations(as_user: Any, services: Services, world: World) -> None:
    with services.session_factory() as s:
        sneaky = create_user(s, "sneaky@test.example", XSS, PASSWORD, services.engine.clock,
                             [(s.merge(world.la), Role.SCHOOL)])
        s.commit()
        sneaky_id = sneaky.id
    admin = as_user("admin")
    for url in ("/admin/users", f"/admin/users/{sneaky_id}", f"/admin/users/{sneaky_id}/deactivate"):
        body = admin.get(url).get_data(as_text=True)
        assert XSS not in body and "&lt;script&gt;" in body, url
    page = admin.page("/admin/users")
    names = [a.get_text(strip=True) for a in page.select("tbody td:first-child a")]
    assert "Caseworker" in names and "Manager" in names
    assert "Other Caseworker" not in names and "Health" not in names
    found = admin.page("/admin/users?q=manag")
    assert [a.get_text(strip=True) for a in found.select("tbody td:first-child a")] == ["Manager"]
    other = as_user("other_admin").page("/admin/users")
    assert "Caseworker" not in [a.get_text(strip=True) for a in other.select("tbody td:first-child a")]
    as_user("other_admin").get(f"/admin/users/{world.users['caseworker'].id}", status=404)
    as_user("manager").get("/admin/users", status=403)


def test_create_a_user_with_a_temporary_password_shown_once(as_user: Any, services: Services, world: World,
                                                            client: Client) -> None:
    admin = as_user("admin")
    admin.get("/admin/users/new")
    missing = admin.post("/admin/users/new", {"name": XSS, "email": "", "organisation": "", "role": ""})
    body = missing.get_data(as_text=True)
    assert missing.status_code == 200 and "Enter the person&#39;s email address" in body
    assert "Select the organisation" in body and "Select their role" in body
    assert XSS not in body and "&lt;script&gt;" in body  # what was typed is kept, escaped
    created = admin.post("/admin/users/new", {"name": "Nina New", "email": "nina@test.example",
                                              "organisation": str(world.la.id), "role": Role.CASEWORKER.value})
    assert created.status_code == 200
    password = BeautifulSoup(created.get_data(as_text=True), "html.parser").select_one("#temporary-password").text
    assert len(password) >= 10
    nina = user_by_email(services, "nina@test.example")
    assert nina is not None and roles_of(services, nina.id) == {(world.la.id, Role.CASEWORKER.value)}
    assert verify_password(nina.password_hash, password)
    assert last_event(services, "user_created").actor_id == world.users["admin"].id
    client.sign_in("nina@test.example", password)
    # The same email again is refused with the engine's message.
    again = admin.post("/admin/users/new", {"name": "Nina", "email": "nina@test.example",
                                            "organisation": str(world.la.id), "role": Role.CASEWORKER.value})
    assert "already exists" in again.get_data(as_text=True)


def test_grant_a_role_and_its_refusals(as_user: Any, services: Services, world: World) -> None:
    # A manager who administers nothing cannot use the pages; an admin with a manager's rank elsewhere cannot grant
    # admin there: give the LA's admin a second organisation where they are only a caseworker.
    with services.session_factory() as s:
        sideline = Organisation(name="Side Service", kind="service")
        s.add(sideline)
        s.flush()
        s.add(Membership(user_id=world.users["admin"].id, organisation_id=sideline.id, role=Role.ADMIN.value))
        s.commit()
        side_id = sideline.id
    admin = as_user("admin")
    url = f"/admin/users/{world.users['caseworker'].id}/roles/new"
    ok = confirm(admin, url, {"organisation": str(world.la.id), "role": Role.MANAGER.value, "reason": "promoted"})
    assert ok.status_code == 302
    assert (world.la.id, Role.MANAGER.value) in roles_of(services, world.users["caseworker"].id)
    assert last_event(services, "role_granted").detail["reason"] == "promoted"
    dup = confirm(admin, url, {"organisation": str(world.la.id), "role": Role.MANAGER.value, "reason": "again"})
    assert "already has that role" in dup.get_data(as_text=True)
    # Another authority's organisation is not on offer, and posting it anyway is refused.
    forced = admin.post(url, {"organisation": str(world.other_la.id), "role": Role.CASEWORKER.value, "reason": "x"})
    assert "Select the organisation" in forced.get_data(as_text=True)
    assert (world.other_la.id, Role.CASEWORKER.value) not in roles_of(services, world.users["caseworker"].id)
    assert side_id in [int(o["value"]) for o in admin.page(url).select("#organisation option") if o["value"]]


def test_engine_refuses_granting_above_own_rank_through_the_page(app: Flask, services: Services,
                                                                 world: World) -> None:
    """An admin of a service who is only a caseworker at the LA cannot make anyone an LA admin."""
    with services.session_factory() as s:
        service = Organisation(name="Helper Service", kind="service")
        s.add(service)
        s.flush()
        helper = create_user(s, "helper@test.example", "Helper", PASSWORD, services.engine.clock,
                             [(service, Role.ADMIN), (s.merge(world.la), Role.CASEWORKER)])
        s.commit()
        helper_email = helper.email
    helper_client = Client(app)
    helper_client.sign_in(helper_email)
    # The helper administers only the service: the LA's caseworker is not theirs to see.
    helper_client.get(f"/admin/users/{world.users['caseworker'].id}", status=404)
    with services.session_factory() as s:
        target = create_user(s, "target@test.example", "Target", PASSWORD, services.engine.clock)
        grant_role(s, s.merge(world.users["admin"]), target, s.merge(world.la), Role.CASEWORKER, services.engine.clock)
        service_id = s.scalars(select(Organisation.id).where(Organisation.name == "Helper Service")).one()
        s.add(Membership(user_id=target.id, organisation_id=service_id, role=Role.CASEWORKER.value))
        s.commit()
        target_id = target.id
    url = f"/admin/users/{target_id}/roles/new"
    # The LA is not offered (the helper does not administer it); the engine refuses it when posted anyway.
    offered = [o["value"] for o in helper_client.page(url).select("#organisation option") if o["value"]]
    assert offered == [str(service_id)]
    refused = helper_client.post(url, {"organisation": str(world.la.id), "role": Role.ADMIN.value, "reason": "x"})
    assert refused.status_code == 200 and (world.la.id, Role.ADMIN.value) not in roles_of(services, target_id)


def test_revoke_a_role(as_user: Any, services: Services, world: World) -> None:
    admin = as_user("admin")
    manager = world.users["manager"]
    with services.session_factory() as s:
        membership_id = s.scalars(select(Membership.id).where(Membership.user_id == manager.id)).one()
        own_id = s.scalars(select(Membership.id).where(Membership.user_id == world.users["admin"].id)).one()
    url = f"/admin/users/{manager.id}/roles/{membership_id}/remove"
    missing = confirm(admin, url, {"reason": ""})
    assert "Enter the reason" in missing.get_data(as_text=True) and roles_of(services, manager.id)
    assert confirm(admin, url, {"reason": "left the team"}).status_code == 302
    assert roles_of(services, manager.id) == set()
    assert last_event(services, "role_revoked").detail["reason"] == "left the team"
    own = confirm(admin, f"/admin/users/{world.users['admin'].id}/roles/{own_id}/remove", {"reason": "oops"})
    assert "cannot take away your own administrator role" in own.get_data(as_text=True)
    as_user("other_admin").get(f"/admin/users/{world.users['caseworker'].id}/roles/{own_id}/remove", status=404)


def test_deactivate_reactivate_and_reset_password(as_user: Any, services: Services, world: World,
                                                  client: Client) -> None:
    caseworker = world.users["caseworker"]
    victim = Client(client.app)
    victim.sign_in(caseworker.email)
    victim.get("/tasks/")
    admin = as_user("admin")
    refused = admin.page(f"/admin/users/{caseworker.id}/reactivate")
    assert "already active" in text_of(refused.select_one("#refusal"))
    assert "cannot deactivate your own" in text_of(
        admin.page(f"/admin/users/{world.users['admin'].id}/deactivate").select_one("#refusal"))
    url = f"/admin/users/{caseworker.id}/deactivate"
    assert "Enter the reason" in confirm(admin, url, {"reason": ""}).get_data(as_text=True)
    assert confirm(admin, url, {"reason": "left the council"}).status_code == 302
    assert user_by_email(services, caseworker.email).active is False
    victim.get("/tasks/", status=302)  # their session ended on the server
    with services.session_factory() as s:
        assert s.scalars(select(WebSession).where(WebSession.user_id == caseworker.id,
                                                  WebSession.ended_at.is_(None))).first() is None
    assert last_event(services, "user_deactivated").detail["reason"] == "left the council"
    assert confirm(admin, f"/admin/users/{caseworker.id}/reactivate", {"reason": "came back"}).status_code == 302
    assert user_by_email(services, caseworker.email).active is True
    reset = confirm(admin, f"/admin/users/{caseworker.id}/reset-password", {"reason": "forgot it"})
    password = BeautifulSoup(reset.get_data(as_text=True), "html.parser").select_one("#temporary-password").text
    assert verify_password(user_by_email(services, caseworker.email).password_hash, password)
    assert not verify_password(user_by_email(services, caseworker.email).password_hash, PASSWORD)
    assert last_event(services, "password_reset").actor_id == world.users["admin"].id
    other = as_user("other_admin")
    other.get("/admin/")
    assert other.post(f"/admin/users/{caseworker.id}/deactivate", {"reason": "x"}).status_code == 404
    assert admin.post(f"/admin/users/{caseworker.id}/deactivate", {"reason": "x"}, token=False).status_code == 400
    assert user_by_email(services, caseworker.email).active is True


def test_create_an_organisation_and_become_its_admin(as_user: Any, services: Services, world: World) -> None:
    admin = as_user("admin")
    admin.get("/admin/organisations/new")
    bad = admin.post("/admin/organisations/new", {"name": XSS, "kind": "setting", "setting_type": ""})
    body = bad.get_data(as_text=True)
    assert "Select the type of setting" in body and XSS not in body and "&lt;script&gt;" in body
    dup = admin.post("/admin/organisations/new", {"name": "Testshire Council", "kind": "health_body"})
    assert "already exists" in dup.get_data(as_text=True)
    made = admin.post("/admin/organisations/new", {"name": "Oak Academy", "kind": "setting",
                                                   "setting_type": "academy", "maintaining_la": str(world.la.id),
                                                   "code": "OAK-1"})
    assert made.status_code == 302
    with services.session_factory() as s:
        oak = s.scalars(select(Organisation).where(Organisation.name == "Oak Academy")).one()
        assert (oak.kind, oak.setting_type, oak.maintaining_la_id) == ("setting", "academy", world.la.id)
    assert (oak.id, Role.ADMIN.value) in roles_of(services, world.users["admin"].id)
    assert last_event(services, "organisation_created").actor_id == world.users["admin"].id
    assert "Oak Academy" in text_of(admin.page("/admin/organisations"))
    same_code = admin.post("/admin/organisations/new", {"name": "Elm", "kind": "service", "code": "OAK-1"})
    assert "code OAK-1 already exists" in same_code.get_data(as_text=True)
    as_user("other_admin").get(f"/admin/organisations/{oak.id}", status=404)
    as_user("other_admin").get(f"/admin/organisations/{world.la.id}", status=404)
    # The new setting's first person, with a role the admin may give there.
    admin.get("/admin/users/new")
    added = admin.post("/admin/users/new", {"name": "Sam Senco", "email": "senco@oak.example",
                                            "organisation": str(oak.id), "role": Role.SCHOOL.value,
                                            "password": "a-long-enough-password"})
    assert added.status_code == 200 and "the password you set" in added.get_data(as_text=True)


def test_engine_rules_behind_the_pages(services: Services, world: World) -> None:
    """What the pages rely on, asked of engine.people.users directly: the same refusals whatever a form sends."""
    clock = services.engine.clock
    with services.session_factory() as s:
        other_admin, caseworker = s.merge(world.users["other_admin"]), s.merge(world.users["caseworker"])
        manager = s.merge(world.users["manager"])
        with pytest.raises(PermissionError):
            set_active(s, other_admin, caseworker, False, clock)
        with pytest.raises(PermissionError):
            reset_password(s, other_admin, caseworker, "a-long-new-password", clock)
        membership = s.scalars(select(Membership).where(Membership.user_id == caseworker.id)).one()
        with pytest.raises(PermissionError):
            revoke_role(s, other_admin, membership, clock)
        with pytest.raises(PermissionError):
            revoke_role(s, manager, membership, clock)  # a manager is not the LA's administrator
        with pytest.raises(PermissionError):
            create_organisation_as_admin(s, manager, "Manager's Club", "service", clock)
        with pytest.raises(ValueError, match="already active"):
            set_active(s, s.merge(world.users["admin"]), caseworker, True, clock)
        assert caseworker.active is True
        s.rollback()


def _admin_elsewhere_who_works_here(services: Services, world: World) -> tuple[int, int]:
    """A user who administers the other authority and is also a caseworker at the first one, so that the first
    authority's admin can open their page. Returns (user id, membership id of the caseworker role)."""
    with services.session_factory() as s:
        both = create_user(s, "both@test.example", "Both Places", PASSWORD, services.engine.clock,
                           [(s.merge(world.other_la), Role.ADMIN), (s.merge(world.la), Role.CASEWORKER)])
        s.commit()
        membership_id = s.scalars(select(Membership.id).where(Membership.user_id == both.id,
                                                              Membership.organisation_id == world.la.id)).one()
        return both.id, membership_id


@pytest.mark.parametrize("action", ["reset-password", "deactivate"])
def test_an_admin_cannot_take_over_an_account_that_works_elsewhere_too(as_user: Any, services: Services,
                                                                       world: World, action: str) -> None:
    """Resetting the password of someone who also works for another organisation would give the admin that
    organisation's access (here: the other authority's administrator account); deactivating them would lock that
    organisation out. Both are for an administrator of every organisation the person works for."""
    both_id, _ = _admin_elsewhere_who_works_here(services, world)
    admin = as_user("admin")
    url = f"/admin/users/{both_id}/{action}"
    page = admin.page(url)
    refusal = text_of(page.select_one("#refusal"))
    assert "Otherham Council" in refusal and "administrator" in refusal
    assert page.select_one("form textarea[name=reason]") is None  # refused before anything is typed
    posted = admin.post(url, {"reason": "take it"})
    assert posted.status_code == 200
    person = user_by_email(services, "both@test.example")
    assert person.active is True and verify_password(person.password_hash, PASSWORD)
    assert last_event(services, "password_reset") is None and last_event(services, "user_deactivated") is None
    # The admin can still manage what is theirs: take away the caseworker role at their own authority.
    assert "Reset the password" not in text_of(admin.page(f"/admin/users/{both_id}").select_one("ul.govuk-list"))


def test_the_engine_refuses_account_actions_on_someone_who_works_elsewhere_too(services: Services,
                                                                               world: World) -> None:
    both_id, _ = _admin_elsewhere_who_works_here(services, world)
    clock = services.engine.clock
    with services.session_factory() as s:
        admin, both = s.merge(world.users["admin"]), s.get(User, both_id)
        with pytest.raises(PermissionError, match="Otherham Council"):
            reset_password(s, admin, both, "a-long-new-password", clock)
        with pytest.raises(PermissionError, match="Otherham Council"):
            set_active(s, admin, both, False, clock)
        both.active = False
        with pytest.raises(PermissionError, match="Otherham Council"):
            set_active(s, admin, both, True, clock)
        s.rollback()
        # An administrator of both may.
        s.add(Membership(user_id=world.users["admin"].id, organisation_id=world.other_la.id, role=Role.ADMIN.value))
        s.flush()
        reset_password(s, s.merge(world.users["admin"]), s.get(User, both_id), "a-long-new-password", clock)
        s.rollback()


def test_adding_a_person_puts_each_refusal_on_its_own_field_and_keeps_what_was_typed(as_user: Any,
                                                                                   services: Services,
                                                                                   world: World) -> None:
    """The engine's messages used to be put on a field by the words in them: an email address with "password" in it
    was reported against the password; a name over 200 characters was cut short without a word."""
    with services.session_factory() as s:
        create_user(s, "password.desk@test.example", "Desk", PASSWORD, services.engine.clock,
                    [(s.merge(world.la), Role.CASEWORKER)])
        s.commit()
    admin = as_user("admin")
    admin.get("/admin/users/new")
    base = {"organisation": str(world.la.id), "role": Role.CASEWORKER.value}

    def field_errors(data: dict[str, str]) -> dict[str, str]:
        page = BeautifulSoup(admin.post("/admin/users/new", {**base, **data}).get_data(as_text=True), "html.parser")
        return {e["id"].removesuffix("-error"): text_of(e) for e in page.select(".govuk-error-message[id]")}

    dup = field_errors({"name": "Desk Two", "email": "password.desk@test.example"})
    assert list(dup) == ["email"] and "already exists" in dup["email"]
    short = field_errors({"name": "Shorty", "email": "shorty@test.example", "password": "short"})
    assert list(short) == ["password"] and "at least 10 characters" in short["password"]
    long_name = "N" * 250
    response = admin.post("/admin/users/new", {**base, "name": long_name, "email": "long@test.example"})
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert "200 characters or fewer" in text_of(page.select_one("#name-error"))
    assert page.select_one("#name")["value"] == long_name and user_by_email(services, "long@test.example") is None


def test_an_organisation_name_too_long_is_refused_not_cut_short(as_user: Any, services: Services) -> None:
    admin = as_user("admin")
    admin.get("/admin/organisations/new")
    name = "Very Long Name Academy Trust " * 9
    response = admin.post("/admin/organisations/new", {"name": name, "kind": "service"})
    page = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert response.status_code == 200 and "200 characters or fewer" in text_of(page.select_one("#name-error"))
    assert page.select_one("#name")["value"] == name.strip()
    with services.session_factory() as s:
        assert s.scalars(select(Organisation).where(Organisation.kind == "service")).first() is None


def test_adding_an_organisation_reports_each_refusal_on_its_field(as_user: Any, services: Services,
                                                                  world: World) -> None:
    admin = as_user("admin")
    admin.get("/admin/organisations/new")

    def field_errors(data: dict[str, str]) -> dict[str, str]:
        page = BeautifulSoup(admin.post("/admin/organisations/new", data).get_data(as_text=True), "html.parser")
        return {e["id"].removesuffix("-error"): text_of(e) for e in page.select(".govuk-error-message[id]")}

    assert admin.post("/admin/organisations/new", {"name": "Barcode Services", "kind": "service"}).status_code == 302
    dup = field_errors({"name": "Barcode Services", "kind": "service"})  # "code" is in its name, not in the problem
    assert list(dup) == ["name"] and "already exists" in dup["name"]
    # Another authority as the maintaining LA is not on offer; posted anyway, it is refused rather than dropped.
    other = field_errors({"name": "Elm School", "kind": "setting", "setting_type": "academy",
                          "maintaining_la": str(world.other_la.id)})
    assert list(other) == ["maintaining_la"]


def test_temporary_passwords_are_kept_nowhere_but_the_page(as_user: Any, services: Services, world: World,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    admin = as_user("admin")
    admin.get("/admin/users/new")
    created = admin.post("/admin/users/new", {"name": "Tam Temp", "email": "tam@test.example",
                                              "organisation": str(world.la.id), "role": Role.SCHOOL.value})
    first = BeautifulSoup(created.get_data(as_text=True), "html.parser").select_one("#temporary-password").text
    tam = user_by_email(services, "tam@test.example")
    reset = confirm(admin, f"/admin/users/{tam.id}/reset-password", {"reason": "lost it"})
    second = BeautifulSoup(reset.get_data(as_text=True), "html.parser").select_one("#temporary-password").text
    assert first != second and reset.headers["Cache-Control"] == "no-store"
    with services.session_factory() as s:
        stored = " ".join(f"{e.summary} {e.detail}" for e in s.scalars(select(AuditEvent)))
        assert s.get(User, tam.id).password_hash not in (first, second)
    for password in (first, second):
        assert password not in stored and password not in caplog.text
    # Shown once: the person's page afterwards does not show it again.
    assert second not in admin.get(f"/admin/users/{tam.id}").get_data(as_text=True)


def test_the_process_owner_role_is_not_offered_to_an_admin_who_does_not_hold_it(as_user: Any, services: Services,
                                                                               world: World) -> None:
    admin = as_user("admin")
    for url in ("/admin/users/new", f"/admin/users/{world.users['admin'].id}/roles/new"):
        offered = [o["value"] for o in admin.page(url).select("#role option") if o["value"]]
        assert Role.PROCESS_OWNER.value not in offered and Role.ADMIN.value in offered, url
    own = f"/admin/users/{world.users['admin'].id}/roles/new"
    forced = admin.post(own, {"organisation": str(world.la.id), "role": Role.PROCESS_OWNER.value, "reason": "x"})
    assert forced.status_code == 200 and "Select the role" in forced.get_data(as_text=True)
    assert (world.la.id, Role.PROCESS_OWNER.value) not in roles_of(services, world.users["admin"].id)


def test_a_process_owners_password_is_not_the_admins_to_reset(as_user: Any, services: Services,
                                                              world: World) -> None:
    admin = as_user("admin")
    owner = world.users["processowner"]
    page = admin.page(f"/admin/users/{owner.id}")
    assert page.select_one("a[href$='/reset-password']") is None
    assert "process owner" in text_of(page.select_one("#account-refusal"))
    assert page.select_one("a[href$='/deactivate']") is not None
    refused = admin.page(f"/admin/users/{owner.id}/reset-password")
    assert "process owner" in text_of(refused.select_one("#refusal"))
    assert admin.post(f"/admin/users/{owner.id}/reset-password", {"reason": "x"}).status_code == 200
    assert verify_password(user_by_email(services, owner.email).password_hash, PASSWORD)


def test_taking_away_your_own_admin_role_is_refused_before_anything_is_typed(as_user: Any, services: Services,
                                                                              world: World) -> None:
    """So that an organisation always keeps an administrator: whoever removes an administrator is one, and nobody
    removes themselves. Said on the page that offers it, not after the reason has been typed."""
    admin = as_user("admin")
    with services.session_factory() as s:
        own_id = s.scalars(select(Membership.id).where(Membership.user_id == world.users["admin"].id)).one()
    page = admin.page(f"/admin/users/{world.users['admin'].id}")
    assert page.select_one(f"a[href$='/roles/{own_id}/remove']") is None
    assert page.select_one("a[href$='/deactivate']") is None  # nor your own account
    assert admin.page(f"/admin/users/{world.users['caseworker'].id}").select_one("a[href$='/deactivate']")
    refused = admin.page(f"/admin/users/{world.users['admin'].id}/roles/{own_id}/remove")
    assert "ask another administrator" in text_of(refused.select_one("#refusal"))
    assert refused.select_one("textarea[name=reason]") is None
