"""The directories a form's ``x-options`` names, as choices for a select list."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.store.models import Organisation
from webui.forms.fields import Option

SETTING_TYPE_LABELS = {
    "maintained_school": "maintained school",
    "maintained_nursery": "maintained nursery school",
    "academy": "academy",
    "free_school": "free school",
    "fe_college": "further education college",
    "sixth_form_college": "sixth form college",
    "non_maintained_special": "non-maintained special school",
    "independent_s41": "independent special school (section 41)",
    "early_years": "early years provider",
}


def _settings(session: Session) -> list[Option]:
    # Columns, not objects: an authority's directory holds hundreds or thousands of settings, read on each drawing
    # of a form that names one (2,000 as objects took about 11 ms).
    las = dict(session.execute(select(Organisation.id, Organisation.name).where(
        Organisation.kind == "local_authority")).all())
    rows = session.execute(select(Organisation.id, Organisation.name, Organisation.setting_type,
                                  Organisation.maintaining_la_id)
                           .where(Organisation.kind == "setting", Organisation.active.is_(True))
                           .order_by(Organisation.name))
    out = []
    for org_id, name, setting_type, maintaining_la_id in rows:
        details = [SETTING_TYPE_LABELS.get(setting_type or "", setting_type or "")]
        if maintaining_la_id in las:
            details.append(las[maintaining_la_id])
        out.append(Option(str(org_id), f"{name} ({', '.join(d for d in details if d)})"))
    return out


def _active(session: Session, kind: str) -> list[Option]:
    rows = session.execute(select(Organisation.id, Organisation.name)
                           .where(Organisation.kind == kind, Organisation.active.is_(True))
                           .order_by(Organisation.name))
    return [Option(str(org_id), name) for org_id, name in rows]


def _local_authorities(session: Session) -> list[Option]:
    return _active(session, "local_authority")


def _health_bodies(session: Session) -> list[Option]:
    return _active(session, "health_body")


PROVIDERS = {
    "settings_directory": _settings,
    "local_authorities": _local_authorities,
    "health_bodies": _health_bodies,
}


def provider(session: Session):  # type: ignore[no-untyped-def]
    """An OptionsProvider over the session; unknown directories give no choices (and are logged by the caller)."""
    cache: dict[str, list[Option]] = {}

    def options(name: str, schema: dict[str, Any]) -> list[Option]:
        if name not in cache:
            make = PROVIDERS.get(name)
            cache[name] = make(session) if make else []
        return cache[name]

    return options
