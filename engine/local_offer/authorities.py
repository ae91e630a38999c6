"""The local authorities that publish a Local Offer, found by the code in the page's address."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.store.models import Organisation


def local_authorities(session: Session) -> list[Organisation]:
    return list(session.scalars(select(Organisation).where(
        Organisation.kind == "local_authority", Organisation.active.is_(True), Organisation.code.is_not(None))
        .order_by(Organisation.name)))


def authority(session: Session, code: str) -> Organisation:
    """The active LA whose code this is (any case); NotFound otherwise."""
    la = session.scalars(select(Organisation).where(
        Organisation.kind == "local_authority", Organisation.active.is_(True),
        func.lower(Organisation.code) == (code or "").strip().lower()[:40])).first()
    if la is None:
        raise NotFound("No local authority publishes a Local Offer at this address")
    return la


__all__ = ["authority", "local_authorities"]
