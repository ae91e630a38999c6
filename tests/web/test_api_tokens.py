"""API tokens: issued by an administrator on the admin pages and shown once, stored hashed, scoped to read or write,
expiring, revocable, their last use recorded, every call audited; and a signed-in browser's cookie never
authenticates an API call."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from engine.errors import FormInvalid, NotAllowed
from engine.people.api_tokens import issue_token
from engine.runtime.services import Services
from engine.statutory.clock import FrozenClock
from engine.store.api_tokens import ApiToken
from engine.store.models import AuditEvent, Membership, User
from tests.conftest import World
from tests.web.conftest import Client, soup, text_of
from tests.web.matrix_api import admin_of, bearer, token_for


def _issue_on_the_admin_page(client: Client, world: World, clock: FrozenClock, **changes: str) -> Any:
    client.get("/admin/api-tokens/new")
    expires = clock.today() + timedelta(days=30)
    form = {"organisation": str(world.la.id), "name": "Education system", "role": "la_caseworker", "scope": "read",
            "expires-day": str(expires.day), "expires-month": str(expires.month), "expires-year": str(expires.year)}
    form.update(changes)
    return client.post("/admin/api-tokens/new", form, status=200)


def test_an_administrator_issues_a_token_shown_once_and_stored_hashed(as_user: Any, world: World, app: Flask,
                                                                      services: Services, clock: FrozenClock) -> None:
    admin = as_user("admin")
    page = _issue_on_the_admin_page(admin, world, clock)
    token = re.search(r'id="api-token">([^<]+)<', page.get_data(as_text=True)).group(1)
    assert token.startswith("ehcf_") and len(token) > 40
    with services.session_factory() as s:
        row = s.scalars(select(ApiToken)).one()
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in {row.token_hash, row.prefix, row.name}
        assert (row.organisation_id, row.role, row.scope) == (world.la.id, "la_caseworker", "read")
        account = s.get(User, row.user_id)
        assert account is not None and account.password_hash is None and account.email.endswith(".invalid")
        audit = s.scalars(select(AuditEvent).where(AuditEvent.action == "api_token_issued")).one()
        assert audit.actor_id == world.users["admin"].id
    listing = text_of(admin.page("/admin/api-tokens"))
    assert "Education system" in listing and "Never" in listing and token not in listing
    assert token[:12] in listing  # the prefix, to tell tokens apart

    clock.advance(seconds=90)
    api = app.test_client()
    assert api.get("/api/v1/cases", headers=bearer(token)).status_code == 200
    with services.session_factory() as s:
        assert s.scalars(select(ApiToken)).one().last_used_at == clock.now()
    assert "Never" not in text_of(admin.page("/admin/api-tokens"))


def test_the_admin_form_refuses_what_it_should(as_user: Any, world: World, clock: FrozenClock,
                                               services: Services) -> None:
    admin = as_user("admin")
    text = text_of(soup(_issue_on_the_admin_page(admin, world, clock, name="", role="family", scope="all",
                                                 **{"expires-year": str(clock.today().year + 3)})))
    for message in ("Enter a name for the token", "Select the role the token acts with",
                    "Select what the token may do", "within 366 days"):
        assert message in text
    text = text_of(soup(_issue_on_the_admin_page(admin, world, clock, **{"expires-month": "13"})))
    assert "must be a real date" in text
    with services.session_factory() as s:
        assert s.scalars(select(ApiToken)).all() == []


def test_only_an_administrator_of_the_organisation_issues_and_never_a_deployment_wide_role(
        services: Services, world: World, clock: FrozenClock) -> None:
    later = clock.today() + timedelta(days=10)
    with services.session_factory() as s:
        caseworker = s.get(User, world.users["caseworker"].id)
        other_admin = s.get(User, world.users["other_admin"].id)
        admin = s.get(User, world.users["admin"].id)
        with pytest.raises(NotAllowed):
            issue_token(s, caseworker, world.la.id, "x", "la_caseworker", "read", later, clock)
        with pytest.raises(NotAllowed):
            issue_token(s, other_admin, world.la.id, "x", "la_caseworker", "read", later, clock)
        for role in ("process_owner", "system_admin", "family"):
            with pytest.raises(FormInvalid) as refused:
                issue_token(s, admin, world.la.id, "x", role, "read", later, clock)
            assert set(refused.value.errors) == {"role"}
        with pytest.raises(FormInvalid) as refused:
            issue_token(s, admin, world.la.id, "x", "la_caseworker", "read", clock.today() - timedelta(days=1), clock)
        assert set(refused.value.errors) == {"expires_on"}
        health_admin = admin_of(s, world.health.id, clock)
        with pytest.raises(FormInvalid):  # a health body's administrator cannot make an LA manager
            issue_token(s, health_admin, world.health.id, "x", "la_manager", "read", later, clock)


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = response.get_json(force=True)
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    return body


def test_no_unknown_expired_or_revoked_token_is_refused_with_401(app: Flask, as_user: Any, world: World,
                                                                 services: Services, clock: FrozenClock) -> None:
    api = app.test_client()
    response = api.get("/api/v1/cases")
    _problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    _problem(api.get("/api/v1/cases", headers={"Authorization": "Basic eDp5"}), 401)
    assert "not known" in _problem(api.get("/api/v1/cases", headers=bearer("ehcf_nonsense")), 401)["detail"]

    token_id, token = token_for(services, world, "caseworker", "read", clock, expires_on=clock.today())
    assert api.get("/api/v1/cases", headers=bearer(token)).status_code == 200  # works through its last day
    clock.advance(days=1)
    assert "expired" in _problem(api.get("/api/v1/cases", headers=bearer(token)), 401)["detail"]

    token_id, token = token_for(services, world, "caseworker", "read", clock)
    admin = as_user("admin")
    assert "Revoke the API token" in text_of(admin.page(f"/admin/api-tokens/{token_id}/revoke"))
    admin.post(f"/admin/api-tokens/{token_id}/revoke", {}, status=200)  # the confirmation page again
    assert api.get("/api/v1/cases", headers=bearer(token)).status_code == 200
    admin.post(f"/admin/api-tokens/{token_id}/revoke", {"_action": "revoke"}, status=302)
    assert "revoked" in _problem(api.get("/api/v1/cases", headers=bearer(token)), 401)["detail"]
    with services.session_factory() as s:
        row = s.get(ApiToken, token_id)
        assert row.revoked_at == clock.now() and row.revoked_by_id == world.users["admin"].id
        assert s.get(User, row.user_id).active is False
        assert s.scalars(select(AuditEvent).where(AuditEvent.action == "api_token_revoked")).one()
    as_user("other_admin").get(f"/admin/api-tokens/{token_id}/revoke", status=404)


def test_a_read_token_cannot_write(app: Flask, world: World, services: Services, clock: FrozenClock,
                                   started: int) -> None:
    from tests.web.conftest import open_task

    task = open_task(services, world.case_id, "UT_record")
    _, token = token_for(services, world, "caseworker", "read", clock)
    response = app.test_client().post(f"/api/v1/tasks/{task.id}/complete", headers=bearer(token), json={"data": {}})
    assert "only read" in _problem(response, 403)["detail"]
    assert open_task(services, world.case_id, "UT_record").id == task.id


def test_a_signed_in_browser_does_not_authenticate_an_api_call(as_user: Any, world: World, services: Services,
                                                               started: int) -> None:
    from tests.web.conftest import open_task

    browser = as_user("caseworker")
    assert browser.get("/api/v1/cases", status=None).status_code == 401
    task = open_task(services, world.case_id, "UT_record")
    response = browser.http.post(f"/api/v1/tasks/{task.id}/complete", json={"data": {"concern": "x"}})
    assert response.status_code == 401
    assert open_task(services, world.case_id, "UT_record").id == task.id


def test_the_tokens_account_cannot_sign_in(client: Client, world: World, services: Services,
                                           clock: FrozenClock) -> None:
    token_id, token = token_for(services, world, "caseworker", "write", clock)
    with services.session_factory() as s:
        email = s.get(User, s.get(ApiToken, token_id).user_id).email
    for password in (token, ""):
        response = client.sign_in(email, password, expect=200)
        assert "/sign-in" not in (response.headers.get("Location") or "")


def test_every_call_is_audited_with_the_token_as_actor(app: Flask, world: World, services: Services,
                                                       clock: FrozenClock) -> None:
    token_id, token = token_for(services, world, "caseworker", "read", clock)
    api = app.test_client()
    api.get(f"/api/v1/cases/{world.case_id}", headers=bearer(token))
    api.get(f"/api/v1/cases/{world.other_case_id}", headers=bearer(token))
    with services.session_factory() as s:
        account = s.get(ApiToken, token_id).user_id
        calls = s.scalars(select(AuditEvent).where(AuditEvent.action == "api_call").order_by(AuditEvent.id)).all()
    assert [(c.actor_id, c.detail["status"], c.detail["case_id"]) for c in calls] == [
        (account, 200, world.case_id), (account, 404, world.other_case_id)]
    assert all(c.detail["api_token_id"] == token_id and c.case_id is None for c in calls)


def test_a_tokens_account_is_nobody_to_email_nor_a_person_on_the_people_page(as_user: Any, world: World,
                                                                             services: Services,
                                                                             clock: FrozenClock) -> None:
    from engine.casework.notifications import task_recipients
    from engine.store.models import HumanTask

    _, token = token_for(services, world, "caseworker", "write", clock)
    with services.session_factory() as s:
        account = s.scalar(select(ApiToken).where(ApiToken.token_hash == hashlib.sha256(token.encode()).hexdigest()))
        account_id = account.user_id
        role = s.scalar(select(Membership.role).where(Membership.user_id == world.users["caseworker"].id))
        task = HumanTask(organisation_id=world.la.id, role=role)  # who would be emailed about such a task
        assert world.users["caseworker"].id in {u.id for u in task_recipients(s, task)}
        assert account_id not in {u.id for u in task_recipients(s, task)}
    admin = as_user("admin")
    people = text_of(admin.page("/admin/users?q=api-token.invalid"))
    assert "api-token.invalid" not in people
    admin.get(f"/admin/users/{account_id}", status=404)
