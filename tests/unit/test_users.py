"""Users and roles: an actor can never grant a role above their own."""

from __future__ import annotations

import pytest

from engine.people.passwords import verify_password
from engine.people.roles import Role
from engine.people.users import (
    create_user,
    grant_role,
    grantable_roles,
    password_reset_refusal,
    reset_password,
    set_active,
)
from engine.runtime.services import Services
from engine.store.models import Membership
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


def test_an_organisations_admin_cannot_make_anyone_a_process_owner(services: Services, world: World) -> None:
    """The process owner role reaches every organisation (routes are shared: a process owner changes and migrates
    every authority's routes), so it is above what one organisation's administrator holds, whatever its rank in
    that organisation. Otherwise a school's administrator could make themselves the owner of every LA's routes."""
    clock = services.engine.clock
    with services.session_factory() as s:
        school_admin = create_user(s, "head@test.example", "Head", "a-long-password", clock,
                                   [(s.merge(world.school), Role.ADMIN)])
        for who in (school_admin, s.merge(world.users["caseworker"])):
            with pytest.raises(PermissionError, match="process owner"):
                grant_role(s, school_admin, who, s.merge(world.school), Role.PROCESS_OWNER, clock)
        assert Role.PROCESS_OWNER not in grantable_roles(s, school_admin.id, world.school.id)
        assert Role.ADMIN in grantable_roles(s, school_admin.id, world.school.id)
        # A process owner who administers the organisation may pass the role on there.
        owner_admin = s.merge(world.users["processowner"])
        grant_role(s, s.merge(world.users["admin"]), owner_admin, s.merge(world.la), Role.ADMIN, clock)
        newcomer = create_user(s, "po2@test.example", "Second Owner", "a-long-password", clock)
        assert Role.PROCESS_OWNER in grantable_roles(s, owner_admin.id, world.la.id)
        grant_role(s, owner_admin, newcomer, s.merge(world.la), Role.PROCESS_OWNER, clock)
        s.rollback()


def test_an_admin_cannot_reset_the_password_of_a_process_owner_unless_one_themselves(services: Services,
                                                                                    world: World) -> None:
    """Knowing a process owner's new password is being a process owner (of every organisation's routes): the same
    rule as giving the role. Deactivating them gives the admin nothing, so that stays the admin's to do."""
    clock = services.engine.clock
    with services.session_factory() as s:
        admin, owner = s.merge(world.users["admin"]), s.merge(world.users["processowner"])
        with pytest.raises(PermissionError, match="process owner"):
            reset_password(s, admin, owner, "a-long-new-password", clock)
        assert verify_password(owner.password_hash, "correct-horse-battery")
        assert "process owner" in (password_reset_refusal(s, admin, owner) or "")
        set_active(s, admin, owner, False, clock)
        set_active(s, admin, owner, True, clock)
        grant_role(s, admin, admin, s.merge(world.la), Role.CASEWORKER, clock)  # not a process owner still
        assert password_reset_refusal(s, admin, owner) is not None
        s.rollback()


def test_an_admin_cannot_take_over_a_staff_account_that_is_also_a_familys(services: Services, world: World) -> None:
    """A caseworker who is also a parent sees their own child's case (perhaps another authority's) as the family: a
    password reset by their employer's admin would open that case to the admin."""
    clock = services.engine.clock
    with services.session_factory() as s:
        admin, caseworker = s.merge(world.users["admin"]), s.merge(world.users["caseworker"])
        s.add(Membership(user_id=caseworker.id, organisation_id=None, role=Role.FAMILY.value))
        s.flush()
        with pytest.raises(PermissionError, match="parent or young person"):
            reset_password(s, admin, caseworker, "a-long-new-password", clock)
        with pytest.raises(PermissionError, match="parent or young person"):
            set_active(s, admin, caseworker, False, clock)
        s.rollback()
