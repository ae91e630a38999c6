"""Users and roles: an actor can never grant a role above their own."""

from __future__ import annotations

import pytest

from engine.passwords import verify_password
from engine.roles import Role
from engine.services import Services
from engine.users import create_user, grant_role, reset_password, set_active
from tests.conftest import World


def test_admin_grants_roles_in_own_organisation_only(services: Services, world: World) -> None:
    clock = services.engine.clock
    with services.session_factory() as s:
        admin, manager = s.merge(world.users["admin"]), s.merge(world.users["manager"])
        newcomer = create_user(s, "new@test.example", "New Person", "a-long-password", clock)
        grant_role(s, admin, newcomer, s.merge(world.la), Role.CASEWORKER, clock)
        grant_role(s, admin, newcomer, s.merge(world.la), Role.ADMIN, clock)  # equal to own: allowed
        with pytest.raises(ValueError, match="already has"):
            grant_role(s, admin, newcomer, s.merge(world.la), Role.CASEWORKER, clock)
        with pytest.raises(PermissionError):
            grant_role(s, admin, newcomer, s.merge(world.other_la), Role.CASEWORKER, clock)
        with pytest.raises(PermissionError):
            grant_role(s, manager, newcomer, s.merge(world.la), Role.PROCESS_OWNER, clock)
        with pytest.raises(ValueError, match="needs an organisation"):
            grant_role(s, admin, newcomer, None, Role.CASEWORKER, clock)
        s.commit()


def test_deactivate_and_reset_password(services: Services, world: World) -> None:
    clock = services.engine.clock
    with services.session_factory() as s:
        admin, caseworker = s.merge(world.users["admin"]), s.merge(world.users["caseworker"])
        with pytest.raises(ValueError, match="your own"):
            set_active(s, admin, admin, False, clock)
        set_active(s, admin, caseworker, False, clock)
        assert caseworker.active is False
        reset_password(s, admin, caseworker, "brand-new-password", clock)
        assert verify_password(caseworker.password_hash, "brand-new-password")
        assert not verify_password(caseworker.password_hash, "correct-horse-battery")
        with pytest.raises(ValueError, match="at least 10"):
            reset_password(s, admin, caseworker, "short", clock)


def test_create_user_rejects_bad_input(services: Services, world: World) -> None:
    clock = services.engine.clock
    with services.session_factory() as s:
        with pytest.raises(ValueError, match="not an email"):
            create_user(s, "nobody", "Nobody", "a-long-password", clock)
        with pytest.raises(ValueError, match="already exists"):
            create_user(s, "CASEWORKER@test.example", "Dup", "a-long-password", clock)
