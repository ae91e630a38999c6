"""People: the users of your organisations, adding them, their roles, deactivating them and resetting passwords.

The rules are the engine's (``engine.people.users``): an administrator manages only the people of the organisations they
administer and never grants or takes away a role above their own; its refusals are shown as they are.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.admin.user_admin import administered_organisations, grantable_roles, roles_of_user, user_for_admin, users_list
from engine.people.passwords import MIN_LENGTH
from engine.people.roles import ROLE_RANK, Role
from engine.people.users import (
    account_refusal,
    create_user,
    grant_role,
    password_reset_refusal,
    removable_roles,
    revoke_refusal,
    revoke_role,
    set_active,
)
from engine.people.users import reset_password as engine_reset_password
from engine.store.models import Membership, Organisation, User
from webui.access import staff
from webui.admin.common import admin_orgs, arg_int, bp, error_list, form_reason, form_text
from webui.auth.user import end_all_sessions
from webui.context import clock, db, now

NAME_MAX = 200  # the columns' size


def user_or_404(user_id: int) -> User:
    user = user_for_admin(db(), admin_orgs(), user_id)
    if user is None:
        abort(404)
    return user


def temporary_password() -> str:
    return secrets.token_urlsafe(12)


def _role_choices(orgs: list[int]) -> list[Role]:
    """Roles the administrator can give in at least one of their organisations, lowest first."""
    allowed: set[Role] = set()
    for org in orgs:
        allowed |= set(grantable_roles(db(), current_user.id, org))
    return sorted(allowed, key=lambda r: (ROLE_RANK[r], r.label))


@bp.get("/users")
@staff
def users() -> ResponseReturnValue:
    """The people of your organisations, searched by name or email."""
    orgs = admin_orgs()
    q = " ".join((request.args.get("q") or "").split())[:100]
    organisation = arg_int("organisation")
    page = users_list(db(), orgs, q or None, organisation, arg_int("page", 1) or 1)
    chosen = {"q": q, "organisation": str(organisation) if organisation in orgs else ""}

    def list_url(**changes: Any) -> str:
        params = {k: v for k, v in {**chosen, **changes}.items() if v not in ("", None, 1, "1")}
        return url_for("admin.users", **params)

    return render_template("admin/users.html", page=page, chosen=chosen, url_for_list=list_url,
                           organisations=administered_organisations(db(), orgs))


@bp.route("/users/new", methods=["GET", "POST"])
@staff
def new_user() -> ResponseReturnValue:
    """Add a person with a role in one of your organisations; a temporary password is shown once."""
    orgs = admin_orgs()
    organisations = administered_organisations(db(), orgs)
    roles = _role_choices(orgs)
    values = {"name": "", "email": "", "organisation": "", "role": "", "password": ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {"name": form_text("name", 1000), "email": form_text("email", 1000),
                  "organisation": form_text("organisation", 12), "role": form_text("role", 40), "password": ""}
        typed_password = request.form.get("password") or ""
        for key, what in (("name", "name"), ("email", "email address")):
            if not values[key]:
                errors[key] = f"Enter the person's {what}"
            elif len(values[key]) > NAME_MAX:
                errors[key] = f"The {what} must be {NAME_MAX} characters or fewer"
        if typed_password and len(typed_password) < MIN_LENGTH:
            errors["password"] = f"The password must be at least {MIN_LENGTH} characters long, or leave it empty"
        organisation = next((o for o in organisations if str(o.id) == values["organisation"]), None)
        if organisation is None:
            errors["organisation"] = "Select the organisation they work for"
        role = next((r for r in roles if r.value == values["role"]), None)
        if role is None:
            errors["role"] = "Select their role"
        if not errors:
            assert organisation is not None and role is not None
            password = typed_password or temporary_password()
            # The name and password were checked above, so what the engine refuses is the email, then the role.
            key = "email"
            try:
                # Typed or made up, the administrator knows it: temporary, until the person chooses their own.
                user = create_user(db(), values["email"], values["name"], password, clock(), actor=current_user.record,
                                   temporary=True)
                key = "role"
                grant_role(db(), current_user.record, user, organisation, role, clock())
            except (ValueError, PermissionError) as exc:
                db().rollback()
                errors[key] = str(exc)
            else:
                db().commit()
                return render_template("admin/password_shown.html", user=user,
                                       password=None if typed_password else password, created=True,
                                       days=current_app.config["TEMP_PASSWORD_DAYS"])
    return render_template("admin/user_new.html", values=values, errors=errors, organisations=organisations,
                           roles=roles, error_items=error_list(errors))


@bp.get("/users/<int:user_id>")
@staff
def user(user_id: int) -> ResponseReturnValue:
    """One person: their roles and what you can do about their account."""
    person = user_or_404(user_id)
    return render_template("admin/user.html", person=person, roles=roles_of_user(db(), person.id),
                           removable=removable_roles(db(), current_user.record, person),
                           account_refusal=account_refusal(db(), current_user.record, person),
                           reset_refusal=password_reset_refusal(db(), current_user.record, person))


def _user_confirm(person: User, endpoint: str, *, heading: str, intro: list[str], button: str,
                  refusal: str | None, perform: Any, danger: bool = False, selects: list[dict[str, Any]] | None = None,
                  url_values: dict[str, Any] | None = None) -> ResponseReturnValue:
    """A confirmation page with a reason (and any selects); ``perform(values)`` returns a message (shown on the
    person's page) or a response of its own."""
    selects = selects or []
    values: dict[str, str] = {"reason": ""} | {s["name"]: "" for s in selects}
    errors: dict[str, str] = {}
    if request.method == "POST" and refusal is not None:
        values["reason"] = form_reason()[0]  # shown back with the refusal, not lost
    if request.method == "POST" and refusal is None:
        reason, reason_error = form_reason()
        values = {"reason": reason} | {s["name"]: form_text(s["name"], 40) for s in selects}
        for select in selects:
            if values[select["name"]] not in {str(i["value"]) for i in select["items"]}:
                errors[select["name"]] = select["error"]
        if reason_error:
            errors["reason"] = reason_error
        if not errors:
            try:
                result = perform(values)
            except (ValueError, PermissionError) as exc:
                db().rollback()
                errors["form"] = str(exc)
            else:
                db().commit()
                if isinstance(result, str):
                    flash(result, "success")
                    return redirect(url_for("admin.user", user_id=person.id))
                return result
    return render_template("admin/user_confirm.html", person=person, heading=heading, intro=intro, button=button,
                           refusal=refusal, danger=danger, selects=selects, values=values, errors=errors,
                           error_items=error_list(errors, {"form": "#reason"}),
                           action_url=url_for(endpoint, **(url_values or {"user_id": person.id})))


@bp.route("/users/<int:user_id>/deactivate", methods=["GET", "POST"])
@staff
def deactivate_user(user_id: int) -> ResponseReturnValue:
    """Stop a person signing in; their sessions end at once. Their tasks stay, to be reassigned."""
    person = user_or_404(user_id)
    refusal = "This account is already deactivated." if not person.active else \
        "You cannot deactivate your own account." if person.id == current_user.id else \
        account_refusal(db(), current_user.record, person)

    def perform(v: dict[str, str]) -> str:
        set_active(db(), current_user.record, person, False, clock(), v["reason"])
        end_all_sessions(person.id, "user_inactive", now())
        return f"{person.name} can no longer sign in."

    return _user_confirm(person, "admin.deactivate_user", heading=f"Deactivate {person.name}", danger=True,
                         intro=["They are signed out at once and cannot sign in again until the account is "
                                "reactivated. Tasks assigned to them stay assigned: reassign them."],
                         button="Deactivate the account", refusal=refusal, perform=perform)


@bp.route("/users/<int:user_id>/reactivate", methods=["GET", "POST"])
@staff
def reactivate_user(user_id: int) -> ResponseReturnValue:
    """Let a deactivated person sign in again."""
    person = user_or_404(user_id)
    refusal = "This account is already active." if person.active else account_refusal(db(), current_user.record, person)

    def perform(v: dict[str, str]) -> str:
        set_active(db(), current_user.record, person, True, clock(), v["reason"])
        return f"{person.name} can sign in again."

    return _user_confirm(person, "admin.reactivate_user", heading=f"Reactivate {person.name}",
                         intro=["They can sign in again with their password."], button="Reactivate the account",
                         refusal=refusal, perform=perform)


@bp.route("/users/<int:user_id>/reset-password", methods=["GET", "POST"])
@staff
def reset_password(user_id: int) -> ResponseReturnValue:
    """Give a person a new temporary password, shown once; any lock after failed sign-ins is lifted."""
    person = user_or_404(user_id)

    def perform(v: dict[str, str]) -> ResponseReturnValue:
        password = temporary_password()
        engine_reset_password(db(), current_user.record, person, password, clock(), v["reason"])
        end_all_sessions(person.id, "password_reset", now())
        db().commit()  # before the page is made: a password that was not saved must never be shown
        return make_response(render_template("admin/password_shown.html", user=person, password=password,
                                             created=False, days=current_app.config["TEMP_PASSWORD_DAYS"]))

    return _user_confirm(person, "admin.reset_password", heading=f"Reset the password of {person.name}",
                         intro=["A new temporary password is made and shown to you once. Give it to them in person "
                                "or by phone, never by email. Their sessions end."]
                         + (["This is your own account: you are signed out too, and sign in again with the new "
                             "password."] if person.id == current_user.id else []),
                         button="Reset the password",
                         refusal=password_reset_refusal(db(), current_user.record, person),
                         perform=perform)


@bp.route("/users/<int:user_id>/roles/new", methods=["GET", "POST"])
@staff
def grant(user_id: int) -> ResponseReturnValue:
    """Give a person another role in one of your organisations (never above your own)."""
    person = user_or_404(user_id)
    orgs = admin_orgs()
    organisations = administered_organisations(db(), orgs)
    selects = [
        {"name": "organisation", "label": "Organisation", "error": "Select the organisation",
         "items": [{"value": o.id, "text": o.name} for o in organisations]},
        {"name": "role", "label": "Role", "error": "Select the role",
         "items": [{"value": r.value, "text": r.label} for r in _role_choices(orgs)]},
    ]

    def perform(v: dict[str, str]) -> str:
        organisation = db().get(Organisation, int(v["organisation"]))
        role = Role(v["role"])
        grant_role(db(), current_user.record, person, organisation, role, clock(), v["reason"])
        return f"{person.name} now has the role {role.label} at {organisation.name if organisation else ''}."

    return _user_confirm(person, "admin.grant", heading=f"Give {person.name} a role", selects=selects,
                         intro=["You can give roles up to your own in the organisations you administer."],
                         button="Give the role", refusal=None, perform=perform)


@bp.route("/users/<int:user_id>/roles/<int:membership_id>/remove", methods=["GET", "POST"])
@staff
def revoke(user_id: int, membership_id: int) -> ResponseReturnValue:
    """Take a role away from a person."""
    person = user_or_404(user_id)
    membership = db().get(Membership, membership_id)
    if membership is None or membership.user_id != person.id or membership.organisation_id not in admin_orgs():
        abort(404)
    role = Role(membership.role)
    organisation = db().get(Organisation, membership.organisation_id)
    assert organisation is not None

    def perform(v: dict[str, str]) -> str:
        revoke_role(db(), current_user.record, membership, clock(), v["reason"])
        return f"{person.name} no longer has the role {role.label} at {organisation.name}."

    return _user_confirm(person, "admin.revoke", heading=f"Take away the role {role.label} at {organisation.name}",
                         intro=[f"{person.name} will no longer see or do the work of this role. Tasks assigned to "
                                "them stay assigned: reassign them."], danger=True, button="Take away the role",
                         refusal=revoke_refusal(db(), current_user.record, membership), perform=perform,
                         url_values={"user_id": person.id, "membership_id": membership.id})
