"""One page of a list: the rows shown, how many there are in all (or that there are more than ``LIST_CAP``), and
which page this is.

Lists never count every matching row: at a council's scale (100,000 open tasks) counting them cost more than reading
the page. A count stops at ``LIST_CAP + 1`` rows (``bounded_count``), the page says "more than 1,000", and the numbered pages
stop at the cap, so no page reads more than ``LIST_CAP`` rows before its own. Past them, "Next" goes on by keyset
paging (engine/lists/keyset.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")

#: The most rows a list counts, and the deepest row its pages reach.
LIST_CAP = 1000


def bounded_count(session: Session, query: Select[Any], cap: int = LIST_CAP) -> int:
    """How many rows ``query`` has, counting no further than ``cap + 1`` (which means "more than ``cap``")."""
    return session.scalar(select(func.count()).select_from(query.order_by(None).limit(cap + 1).subquery())) or 0


def last_page(total: int, per_page: int, cap: int = LIST_CAP) -> int:
    """The deepest page offered for ``total`` rows (a bounded count), at least 1."""
    return max(1, math.ceil(min(total, cap) / per_page))


@dataclass
class Page(Generic[T]):
    rows: list[T]
    total: int  # exact up to ``cap``; ``cap + 1`` means more than ``cap``
    page: int
    per_page: int
    cap: int | None = None  # None: the total was counted exactly, whatever its size
    #: Keyset paging past the numbered pages (engine/lists/keyset.py): the cursor for the page after this one, the
    #: cursor for the page before it when that page is not a numbered one, and whether a cursor found this page.
    after: str | None = None
    before: str | None = None
    beyond: bool = False
    here: dict[str, str] = field(default_factory=dict)  # the cursor that found this page, as its link gives it

    @property
    def more(self) -> bool:
        """True when there are more rows than were counted: say "more than {cap}"."""
        return self.cap is not None and self.total > self.cap

    @property
    def pages(self) -> int:
        if self.cap is not None:
            return last_page(self.total, self.per_page, self.cap)
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first_index(self) -> int:
        return 0 if self.total == 0 or (self.beyond and not self.rows) else (self.page - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        if self.beyond:
            return max(0, self.first_index + len(self.rows) - 1)
        return min(self.total, self.page * self.per_page)

    @property
    def total_text(self) -> str:
        """The total as the page says it: "1,234", or "more than 1,000"."""
        return f"more than {self.cap:,}" if self.more else f"{self.total:,}"


__all__ = ["LIST_CAP", "Page", "bounded_count", "last_page"]
