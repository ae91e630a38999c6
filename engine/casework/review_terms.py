"""The authority's school terms (an LA setting) and which term's list of reviews a due date belongs on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from engine.statutory import calendar

#: Code of Practice 9.172: the termly list of reviews goes out at least two weeks before the term starts.
TERM_LIST_NOTICE_WEEKS = 2


@dataclass(frozen=True)
class Term:
    """A school term in the authority's area (first and last teaching day)."""

    name: str
    starts: date
    ends: date

    @property
    def list_due(self) -> date:
        """The last day the termly list of reviews can go out: two weeks before the term starts (CoP 9.172)."""
        return self.starts - timedelta(weeks=TERM_LIST_NOTICE_WEEKS)

    @property
    def send_on(self) -> date:
        """The day the timer worker sends the list: ``list_due``, or the last working day before it when that is a
        weekend or a bank holiday, so that it reaches schools and offices on a day they are open."""
        day = self.list_due
        while not calendar.is_working_day(day):
            day -= timedelta(days=1)
        return day


#: LA setting: the authority's term dates (maintained schools' calendar), in order. Extend it every year; a date
#: beyond the last term raises LookupError naming this setting rather than guessing.
TERM_DATES: tuple[Term, ...] = (
    Term("Autumn 2025", date(2025, 9, 3), date(2025, 12, 19)),
    Term("Spring 2026", date(2026, 1, 5), date(2026, 3, 27)),
    Term("Summer 2026", date(2026, 4, 13), date(2026, 7, 22)),
    Term("Autumn 2026", date(2026, 9, 2), date(2026, 12, 18)),
    Term("Spring 2027", date(2027, 1, 5), date(2027, 3, 25)),
    Term("Summer 2027", date(2027, 4, 12), date(2027, 7, 21)),
    Term("Autumn 2027", date(2027, 9, 1), date(2027, 12, 17)),
    Term("Spring 2028", date(2028, 1, 4), date(2028, 4, 7)),
    Term("Summer 2028", date(2028, 4, 24), date(2028, 7, 21)),
    Term("Autumn 2028", date(2028, 9, 4), date(2028, 12, 20)),
    Term("Spring 2029", date(2029, 1, 3), date(2029, 3, 29)),
    Term("Summer 2029", date(2029, 4, 16), date(2029, 7, 20)),
    Term("Autumn 2029", date(2029, 9, 3), date(2029, 12, 19)),
    Term("Spring 2030", date(2030, 1, 7), date(2030, 4, 5)),
    Term("Summer 2030", date(2030, 4, 23), date(2030, 7, 19)),
)


def _check_terms(terms: tuple[Term, ...]) -> None:
    for term in terms:
        if term.ends < term.starts:
            raise ValueError(f"TERM_DATES: {term.name} ends before it starts")
    for earlier, later in zip(terms, terms[1:], strict=False):
        if later.starts <= earlier.ends:
            raise ValueError(f"TERM_DATES: {later.name} starts before {earlier.name} ends")


_check_terms(TERM_DATES)


def term_named(name: str, terms: tuple[Term, ...] = TERM_DATES) -> Term:
    for term in terms:
        if term.name == name:
            return term
    raise LookupError(f"No term called {name!r} in TERM_DATES (engine/casework/review_terms.py)")


def term_for(day: calendar.DateLike, terms: tuple[Term, ...] = TERM_DATES) -> Term:
    """The term whose list covers a review due on this day: the term it falls in, or the next one if it falls in a
    holiday, so that no due date is left off every list."""
    d = calendar.as_date(day)
    for term in terms:
        if d <= term.ends:
            return term
    raise LookupError(f"No term dates after {terms[-1].ends.isoformat()}: add the next terms to TERM_DATES "
                      "(engine/casework/review_terms.py)")


def next_term(day: calendar.DateLike, terms: tuple[Term, ...] = TERM_DATES) -> Term:
    """The first term that starts after this day."""
    d = calendar.as_date(day)
    for term in terms:
        if term.starts > d:
            return term
    raise LookupError(f"No term starts after {d.isoformat()}: add the next terms to TERM_DATES "
                      "(engine/casework/review_terms.py)")


def term_window(term: Term, terms: tuple[Term, ...] = TERM_DATES) -> tuple[date, date]:
    """The due dates a term's list covers: from the day after the previous term ended (so holidays belong to the
    term after them) to the last day of the term."""
    index = terms.index(term)
    first = terms[index - 1].ends + timedelta(days=1) if index > 0 else term.starts
    return first, term.ends


def terms_to_send(today: calendar.DateLike, terms: tuple[Term, ...] = TERM_DATES) -> list[Term]:
    """The terms whose list goes out today: from its send day until the term starts (a worker that was down on the
    send day still sends it, late, rather than not at all)."""
    day = calendar.as_date(today)
    return [term for term in terms if term.send_on <= day < term.starts]


__all__ = ["TERM_DATES", "Term", "next_term", "term_for", "term_named", "term_window", "terms_to_send"]
