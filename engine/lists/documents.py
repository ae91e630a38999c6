"""A case's issued documents, as the person asking may see them (need to know: engine.people.access)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.people.access import FAMILY_RECIPIENT_ROLES, DocumentReader, document_audience
from engine.store.models import Case, Document


def is_for_family(document: Document, la_id: int) -> bool:
    """A document the family may read: sent to them, about them (advice about their child), or issued before
    audiences were recorded with no recipient but the family's or none at all."""
    return "family" in document_audience(document, la_id)


def case_documents(session: Session, case_id: int, family_only: bool = False,
                   reader: DocumentReader | None = None) -> list[Document]:
    """The case's documents, newest first: those the family may read (``family_only``), those ``reader`` may see
    (engine.people.access.document_reader), or all of them for code that acts for the responsible authority."""
    documents = list(session.scalars(select(Document).where(Document.case_id == case_id)
                                     .order_by(Document.issued_at.desc(), Document.id.desc())))
    if not family_only and reader is None:
        return documents
    case = session.get(Case, case_id)
    if case is None:
        return []
    if family_only:
        documents = [d for d in documents if is_for_family(d, case.la_id)]
    if reader is not None:
        documents = [d for d in documents if reader.may_see(d, case.la_id)]
    return documents


__all__ = ["FAMILY_RECIPIENT_ROLES", "case_documents", "is_for_family"]
