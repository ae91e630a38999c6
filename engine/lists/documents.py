"""A case's issued documents, and which of them the family receive."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.store.models import Document

FAMILY_RECIPIENT_ROLES = frozenset({"parent", "young_person", "family"})


def is_for_family(document: Document) -> bool:
    """A document the family receives (to them or as a copy). Documents with no recipients recorded are shown too:
    the family may see what the authority issues about their child unless it is addressed only to others."""
    recipients: Sequence[Any] = document.recipients or []
    if not recipients:
        return True
    for recipient in recipients:
        role = recipient.get("role") if isinstance(recipient, dict) else str(recipient)
        if str(role).lower() in FAMILY_RECIPIENT_ROLES:
            return True
    return False


def case_documents(session: Session, case_id: int, family_only: bool = False) -> list[Document]:
    documents = list(session.scalars(select(Document).where(Document.case_id == case_id)
                                     .order_by(Document.issued_at.desc(), Document.id.desc())))
    return [d for d in documents if is_for_family(d)] if family_only else documents


__all__ = ["FAMILY_RECIPIENT_ROLES", "case_documents", "is_for_family"]
