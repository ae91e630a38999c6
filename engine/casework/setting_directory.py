"""The directory of schools, colleges and other institutions that section I of a plan can name."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.casework.plan_sections import BLANK_I, SETTING_TYPES, PlanInvalid
from engine.store.models import Organisation


def settings_directory(session: Session, setting_type: str | Iterable[str] | None = None,
                       maintaining_la_id: int | None = None, *, include_inactive: bool = False,
                       name_contains: str | None = None) -> list[Organisation]:
    """The schools, colleges and other institutions that can be named in section I, by type and maintaining LA."""
    query = select(Organisation).where(Organisation.kind == "setting")
    if setting_type is not None:
        types = (setting_type,) if isinstance(setting_type, str) else tuple(setting_type)
        unknown = [t for t in types if t not in SETTING_TYPES]
        if unknown:
            raise ValueError(f"Unknown type of setting: {', '.join(unknown)}")
        query = query.where(Organisation.setting_type.in_(types))
    if maintaining_la_id is not None:
        query = query.where(Organisation.maintaining_la_id == maintaining_la_id)
    if not include_inactive:
        query = query.where(Organisation.active.is_(True))
    if name_contains:
        query = query.where(func.lower(Organisation.name).contains(name_contains.strip().lower()))
    return list(session.scalars(query.order_by(Organisation.name)))


def describe_setting(session: Session, setting_id: int) -> dict[str, Any]:
    """Section I for a named setting, from the directory (name, type and the LA that maintains it)."""
    org = session.get(Organisation, setting_id)
    if org is None or org.kind != "setting":
        raise PlanInvalid({"section_i": "The school or institution to be named is not in the directory of settings"})
    la = session.get(Organisation, org.maintaining_la_id) if org.maintaining_la_id else None
    return {**BLANK_I, "setting_id": org.id, "name": org.name,
            "setting_type": SETTING_TYPES.get(org.setting_type or "", org.setting_type or ""),
            "maintaining_la": la.name if la is not None else ""}


__all__ = ["describe_setting", "settings_directory"]
