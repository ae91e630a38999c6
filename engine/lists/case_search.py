"""Finding a case by what is typed: the child's names and the case reference (anywhere in them), a date of birth, a
postcode or a unique pupil number.

The names and references are found through a trigram index where there is one (migration 0019): on SQLite the FTS5
table ``case_search`` that triggers keep in step with the cases, on PostgreSQL GIN indexes on the very expressions
compared here. So a search at 100,000 cases reads the cases that match, not every case. On SQLite fewer than three
characters have no trigram and are compared case by case, column by column; a date, a postcode or a pupil number is
compared as typed.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from sqlalchemy import ColumnElement, bindparam, func, literal_column, or_, select, table
from sqlalchemy.orm import Session

from engine.store.models import Case

#: The shortest text a trigram index can answer.
INDEXED_FROM = 3
#: The SQLite FTS5 table of migration 0019.
SEARCH_TABLE = table("case_search")


def search_clause(session: Session, q: str) -> ColumnElement[bool]:
    """Cases matching what was typed (any case): the child's first, last or full name or the case reference containing
    the words; a date of birth (14/5/2015, 14-05-2015, 14 5 2015, 14 May 2015 or 2015-05-14); a postcode, whole or
    its first part (NS1 4AB, ns14ab, NS1); or a unique pupil number (all 13 characters)."""
    text = typed_words(q)
    clauses = [words_clause(session.get_bind().dialect.name, text)]
    born = _typed_date(text)
    if born is not None:
        clauses.append(Case.date_of_birth == born)
    compact = text.replace(" ", "").upper()
    if _UPN.fullmatch(compact):
        clauses.append(func.upper(Case.upn) == compact)
    if _OUTWARD.fullmatch(compact):  # the first part only: NS1 is NS1 4AB, never NS12 4AB
        clauses.append(or_(func.upper(Case.postcode) == compact,
                           func.upper(Case.postcode).startswith(compact + " ", autoescape=True)))
    elif _POSTCODE.fullmatch(compact):  # stored with its one space (engine.intake.child_details), typed with or without
        clauses.append(func.upper(Case.postcode) == f"{compact[:-3]} {compact[-3:]}")
    return or_(*clauses)


_UPN = re.compile(r"[A-Z][0-9]{11}[0-9A-Z]")
_OUTWARD = re.compile(r"[A-Z]{1,2}[0-9][0-9A-Z]?")
_POSTCODE = re.compile(r"[A-Z]{1,2}[0-9][0-9A-Z]?[0-9][A-Z]{2}")
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")


def _typed_date(text: str) -> date | None:
    """A date as people type one in England (day first), or None."""
    iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    if iso:
        year, month, day = (int(part) for part in iso.groups())
    else:
        parts = re.fullmatch(r"(\d{1,2})[ /.\-]+(\d{1,2}|[a-z]+)[ /.\-]+(\d{4})", text)
        if not parts:
            return None
        month_text = parts.group(2)
        names = [number for number, name in enumerate(_MONTHS, start=1)
                 if len(month_text) >= 3 and name.startswith(month_text)]
        month_number = int(month_text) if month_text.isdigit() else (names[0] if names else None)
        if month_number is None:
            return None
        day, month, year = int(parts.group(1)), month_number, int(parts.group(3))
    try:
        return date(year, month, day)
    except ValueError:
        return None




def typed_words(q: str) -> str:
    """What was typed, lower case, with single spaces; a control character counts as a space (a NUL would end the
    statement PostgreSQL is given, and none can be part of a name or a reference)."""
    return " ".join("".join(" " if unicodedata.category(c) == "Cc" else c for c in q).lower().split())


def words_clause(dialect: str, text: str) -> ColumnElement[bool]:
    """The child's "first last" or "last first" name, or the case reference, contains ``text`` (lower case, single
    spaces), without regard to case."""
    if len(text) >= INDEXED_FROM and dialect == "sqlite":
        # A phrase MATCH on trigrams is "contains" (the phrase quoted, its own quotes doubled); the rowid is the case id.
        phrase = '"' + text.replace('"', '""') + '"'
        matching = select(literal_column("rowid")).select_from(SEARCH_TABLE).where(
            literal_column("case_search").op("MATCH")(bindparam("search_phrase", phrase, unique=True)))
        return Case.id.in_(matching)
    pattern = "%" + text.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"
    if dialect == "sqlite":
        # Too short for a trigram, so every case is read: the plain columns, whose LIKE ignores case as lower() does
        # on SQLite (ASCII letters only), cost a sixth of building and lowering the two full names for each. Fewer
        # than three characters hold no space (typed_words keeps none at either end), so none spans two names.
        return or_(*(column.like(bindparam("search_pattern", pattern, unique=True), escape="/")
                     for column in (Case.child_first_name, Case.child_last_name, Case.reference)))
    space = literal_column("' '")  # in the SQL itself, as in the PostgreSQL indexes' expressions
    # On PostgreSQL the pattern is written into the statement, so the planner sees it and can use a trigram index
    # for any plan it keeps (a bound pattern it cannot see in a reused plan).
    literal = dialect == "postgresql"
    return or_(*(expression.like(bindparam("search_pattern", pattern, unique=True, literal_execute=literal), escape="/")
                 for expression in (func.lower(Case.child_first_name.op("||")(space).op("||")(Case.child_last_name)),
                                    func.lower(Case.child_last_name.op("||")(space).op("||")(Case.child_first_name)),
                                    func.lower(Case.reference))))


__all__ = ["INDEXED_FROM", "search_clause", "typed_words", "words_clause"]
