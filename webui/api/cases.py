"""Cases: search, one case with its parties, its deadlines, and its documents (need to know, as on the case page)."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask.typing import ResponseReturnValue

import webui.api.schemas as schemas
from engine.lists.cases import case_list, case_parties
from engine.lists.documents import case_documents
from engine.people.access import DocumentReader, document_reader
from engine.runtime.deadlines import deadline_state, deadlines_for_case
from engine.store.models import Case, Document, Organisation
from webui.api.auth import operation, user
from webui.api.blueprint import bp
from webui.api.common import case_or_404, engine_page, one, slice_page
from webui.api.problems import ApiProblem
from webui.api.schemas import load_query
from webui.cases.routes import document_download
from webui.context import db, today

NOT_FOUND = (401, 404, 429)


@bp.get("/cases")
@operation("read", "Search the cases the token may see", "cases", response=schemas.CaseRow, paged=True,
           query=schemas.CaseSearchArgs, errors=(400, 401, 429),
           description="The cases of the token's organisation (its authority's cases, or the cases it acts on), "
                       "searched as the web search does, sorted by the child's name.")
def cases() -> ResponseReturnValue:
    args = load_query(schemas.CaseSearchArgs)
    q = " ".join(args["q"].split())
    found = case_list(db(), user().id, q or None, args["page"], per_page=args["limit"], after=args["after"])
    return engine_page(schemas.CaseRow, found)


@bp.get("/cases/<int:case_id>")
@operation("read", "One case, with the people and organisations on it", "cases", response=schemas.Case,
           errors=NOT_FOUND)
def case(case_id: int) -> ResponseReturnValue:
    row = case_or_404(case_id)
    la = db().get(Organisation, row.la_id)
    parties = [{"role": p.role, "name": p.name, "relationship": p.relationship, "organisation_id": p.organisation_id}
               for p in case_parties(db(), row.id)]
    return one(schemas.Case, {**_case_fields(row), "la_name": la.name if la else "", "parties": parties})


def _case_fields(row: Case) -> dict[str, Any]:
    names = ("id", "reference", "child_first_name", "child_last_name", "date_of_birth", "postcode", "upn", "la_id",
             "status", "stage", "created_at", "closed_at")
    return {name: getattr(row, name) for name in names}


@bp.get("/cases/<int:case_id>/deadlines")
@operation("read", "A case's statutory deadlines", "cases", response=schemas.Deadline, paged=True,
           query=schemas.PageArgs, errors=(400, *NOT_FOUND))
def deadlines(case_id: int) -> ResponseReturnValue:
    row = case_or_404(case_id)
    args = load_query(schemas.PageArgs)
    day = today()
    items = [{**{k: getattr(d, k) for k in ("id", "key", "name", "process_id", "due_date", "started_on", "status",
                                           "missed", "met_at", "exception_reason")},
              "state": deadline_state(d, day)} for d in deadlines_for_case(db(), row.id)]
    return slice_page(schemas.Deadline, items, args["page"], args["limit"])


# ---- documents --------------------------------------------------------------------------------------------------------

def _reader(case: Case) -> DocumentReader:
    return document_reader(db(), user(), case)


def _document(document: Document) -> dict[str, Any]:
    return {"id": document.id, "kind": document.kind, "title": document.title, "issued_at": document.issued_at,
            "appealable": bool(document.appealable),
            "download": url_for("api.document_file", case_id=document.case_id, document_id=document.id)}


def document_or_problem(case: Case, document_id: int) -> Document:
    """As the case page: not on the case is 404; on it but not for this token (need to know) is 403."""
    document = db().get(Document, document_id)
    if document is None or document.case_id != case.id:
        raise ApiProblem(404, "There is no document with this id on the case.")
    if not _reader(case).may_see(document, case.la_id):
        raise ApiProblem(403, "This document was not sent to the token's organisation (need to know).")
    return document


@bp.get("/cases/<int:case_id>/documents")
@operation("read", "The documents on a case that the token may read", "documents", response=schemas.Document,
           paged=True, query=schemas.PageArgs, errors=(400, *NOT_FOUND),
           description="Need to know, as on the case page: the responsible authority reads every document; another "
                       "organisation what was sent to it, what it wrote and advice the family agreed to share.")
def documents(case_id: int) -> ResponseReturnValue:
    row = case_or_404(case_id)
    args = load_query(schemas.PageArgs)
    items = [_document(d) for d in case_documents(db(), row.id, reader=_reader(row))]
    return slice_page(schemas.Document, items, args["page"], args["limit"])


@bp.get("/cases/<int:case_id>/documents/<int:document_id>")
@operation("read", "One document's details", "documents", response=schemas.Document, errors=(401, 403, 404, 429))
def document(case_id: int, document_id: int) -> ResponseReturnValue:
    row = case_or_404(case_id)
    return one(schemas.Document, _document(document_or_problem(row, document_id)))


@bp.get("/cases/<int:case_id>/documents/<int:document_id>/download")
@operation("read", "Download a document (an HTML file)", "documents", produces="text/html",
           errors=(401, 403, 404, 429))
def document_file(case_id: int, document_id: int) -> ResponseReturnValue:
    row = case_or_404(case_id)
    return document_download(document_or_problem(row, document_id))
