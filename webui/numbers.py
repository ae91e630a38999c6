"""Whole numbers from what a browser sent (query strings, hidden fields).

``str.isdigit`` is true for characters such as "²" that ``int`` refuses, and an id of thousands of digits overflows
the database's integer column: both would be a server error instead of "not found" or a clear message.
"""

from __future__ import annotations

import re

_DIGITS = re.compile(r"[0-9]{1,9}\Z")


def whole_number(value: str | None) -> int | None:
    """The number written in plain ASCII digits (at most nine, so it fits any id column), or None."""
    text = (value or "").strip()
    return int(text) if _DIGITS.match(text) else None


def page_number(value: str | None) -> int:
    """A page number from the query string: 1 unless a positive whole number was given."""
    number = whole_number(value)
    return number if number and number > 0 else 1


def cursor(value: str | None) -> str | None:
    """A keyset paging cursor from the query string (engine/lists/keyset.py reads and checks it), or None."""
    return (value or "")[:1000] or None
