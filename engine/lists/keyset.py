"""Reading a list past its counted pages: keyset paging.

Numbered pages stop at ``LIST_CAP`` rows (engine/lists/paging.py), because an OFFSET reads every row before the page.
Past them a page is found from the row next to it: the link to the next page carries the sort values of the last
row shown ("after"), the link to the previous page those of the first ("before"), and the database reads the page from
there along the sort's index, however deep it is. The links' rows and those of the numbered pages come in the same
order, so "Next" from the last numbered page goes on exactly where it stopped.

A list's order is one or more runs read one after the other (the task lists' due order is three: overdue, dated,
undated), each ordered by its keys, the last of which is unique. A cursor names the run and the values of its keys.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, literal, or_, true, tuple_
from sqlalchemy.orm import Session

from engine.lists.paging import Page, last_page

T = TypeVar("T")


class BadCursor(ValueError):
    """A page link whose position could not be read (cut short, edited, or from another list)."""

    def __init__(self) -> None:
        super().__init__("This link to a page of the list is not valid: it may have been cut short. "
                         "Start again from the first page.")


@dataclass(frozen=True)
class Key:
    """One sort key: what is compared, which way, and the Python type of its values (a cursor's values are checked
    against it before they reach the database)."""

    expr: Any
    kind: type
    descending: bool = False


@dataclass(frozen=True)
class Run:
    """Rows of the list matching ``where`` (None: every row), in the order of ``keys``."""

    where: ColumnElement[bool] | None
    keys: tuple[Key, ...]


@dataclass(frozen=True)
class Cursor:
    run: int
    values: tuple[Any, ...]


@dataclass
class KeysetPage:
    ids: list[int]
    first: Cursor | None  # of the first row: for the page before
    last: Cursor | None  # of the last row: for the page after
    more: bool  # rows follow this page (reading forwards), or precede it (reading backwards)


# ---- cursors as text -------------------------------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    return value


def _typed(value: Any, kind: type) -> Any:
    if kind is datetime and isinstance(value, dict) and isinstance(value.get("t"), str):
        return datetime.fromisoformat(value["t"])
    if kind is date and isinstance(value, dict) and isinstance(value.get("d"), str):
        return date.fromisoformat(value["d"])
    if kind is int and type(value) is int and -(2**63) <= value < 2**63:  # what a database integer holds
        return value
    if kind is str and type(value) is str and "\x00" not in value:  # PostgreSQL refuses a NUL in text
        return value
    raise TypeError(kind)


def encode(cursor: Cursor) -> str:
    """The cursor as a short, URL-safe text."""
    raw = json.dumps([cursor.run, *(_plain(v) for v in cursor.values)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(text: str, runs: Sequence[Run]) -> Cursor:
    """The cursor ``encode`` wrote for this list, or ``BadCursor``."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode())
        run = raw[0]
        if not isinstance(raw, list) or type(run) is not int or not 0 <= run < len(runs):
            raise BadCursor
        keys = runs[run].keys
        if len(raw) != len(keys) + 1:
            raise BadCursor
        return Cursor(run, tuple(_typed(v, key.kind) for v, key in zip(raw[1:], keys, strict=True)))
    except (ValueError, TypeError, KeyError, IndexError, UnicodeDecodeError, binascii.Error, OverflowError):
        raise BadCursor from None


# ---- reading a page --------------------------------------------------------------------------------------------------

def _beyond(keys: Sequence[Key], values: Sequence[Any], backwards: bool) -> ColumnElement[bool]:
    """Rows after ``values`` in the keys' order (before them when ``backwards``): the first key that differs decides.
    Keys all read one way compare as one row value, which the database reads as one index range; mixed ones (a
    descending date, then the id ascending) as the first key that differs."""
    if len({k.descending for k in keys}) == 1:
        row, marks = tuple_(*(k.expr for k in keys)), tuple_(*(literal(v) for v in values))
        return row < marks if keys[0].descending != backwards else row > marks
    options = []
    for n, key in enumerate(keys):
        later = (key.expr < values[n]) if key.descending != backwards else (key.expr > values[n])
        options.append(and_(*(k.expr == v for k, v in zip(keys[:n], values[:n], strict=True)), later))
    return or_(*options)


def ordered(keys: Sequence[Key], backwards: bool = False) -> list[Any]:
    """ORDER BY terms for the keys, or for reading them backwards."""
    return [k.expr.desc() if k.descending != backwards else k.expr.asc() for k in keys]


def read_page(session: Session, ids: Select[Any], runs: Sequence[Run], cursor: Cursor, backwards: bool,
              limit: int) -> KeysetPage:
    """The ``limit`` rows of ``ids`` (a select of the row id, with the joins and conditions of the list) just after
    ``cursor``, or just before it when ``backwards``, in the list's order."""
    found: list[tuple[int, Cursor]] = []
    order = range(cursor.run, -1, -1) if backwards else range(cursor.run, len(runs))
    for number in order:
        run = runs[number]
        query = ids.add_columns(*(k.expr for k in run.keys))
        if run.where is not None:
            query = query.where(run.where)
        if number == cursor.run:
            query = query.where(_beyond(run.keys, cursor.values, backwards))
        wanted = limit + 1 - len(found)
        for row in session.execute(query.order_by(*ordered(run.keys, backwards)).limit(wanted)):
            found.append((row[0], Cursor(number, tuple(row[1:]))))
        if len(found) > limit:
            break
    more = len(found) > limit
    found = found[:limit]
    if backwards:
        found.reverse()
    return KeysetPage([i for i, _ in found], found[0][1] if found else None, found[-1][1] if found else None, more)


def cursor_of(session: Session, ids: Select[Any], runs: Sequence[Run], id_column: Any, row_id: int) -> Cursor | None:
    """The cursor of one row of the list (None if it is not in it): the run it belongs to and its key values."""
    for number, run in enumerate(runs):
        query = ids.add_columns(*(k.expr for k in run.keys)).where(id_column == row_id,
                                                                   true() if run.where is None else run.where)
        row = session.execute(query.limit(1)).first()
        if row is not None:
            return Cursor(number, tuple(row[1:]))
    return None


@dataclass
class Paged:
    """Which rows a page of a list shows (their ids) and the cursors for its links: ``after`` for "Next" past the
    numbered pages, ``before`` for "Previous" where the page before is not a numbered one; ``beyond``: a cursor found
    this page, ``here`` that cursor as its link gives it."""

    page: int
    ids: list[int] = field(default_factory=list)
    after: str | None = None
    before: str | None = None
    beyond: bool = False
    here: dict[str, str] = field(default_factory=dict)

    def of(self, rows: list[T], total: int, per_page: int, cap: int) -> Page[T]:
        """The page of ``rows`` (those of ``ids``), as the lists give it."""
        return Page(rows, total, self.page, per_page, cap=cap, after=self.after, before=self.before,
                    beyond=self.beyond, here=self.here)


def paged_ids(session: Session, ids: Select[Any], runs: Sequence[Run], id_column: Any, *, total: int, cap: int,
              asked: int, per_page: int, after: str | None, before: str | None,
              numbered: Callable[[int], list[int]]) -> Paged:
    """One page of a list counted up to ``cap`` (``total``; more than ``cap`` when past it): the numbered page
    ``asked`` (its ids read by ``numbered(page)``), or, past the numbered pages, the page next to the row an ``after``
    or ``before`` cursor names. The last numbered page of a list longer than ``cap`` links on past it."""
    last = last_page(total, per_page, cap)
    if total > cap and (after or before):
        read = read_page(session, ids, runs, decode(after or before or "", runs), backwards=not after, limit=per_page)
        page = max(asked, last + 1)  # the number the link carries, to say "showing 1,001 to 1,025"
        # Read forwards, the rows before the page are those the reader came from; read backwards, those after it.
        later = encode(read.last) if read.last is not None and (read.more or not after) else None
        earlier = encode(read.first) if read.first is not None and (read.more or after) and page - 1 > last else None
        return Paged(page, read.ids, later, earlier, True, {"after": after} if after else {"before": before or ""})
    page = max(1, min(asked, last))
    found = numbered(page)
    mark = cursor_of(session, ids, runs, id_column, found[-1]) if total > cap and page == last and found else None
    return Paged(page, found, encode(mark) if mark is not None else None)


__all__ = ["BadCursor", "Cursor", "Key", "KeysetPage", "Paged", "Run", "cursor_of", "decode", "encode", "ordered",
           "paged_ids", "read_page"]
