"""A join that SQLite reads from its left table outwards.

SQLite chooses the order of a join's tables itself and keeps no statistics for most of ours, so for "every open task
of mine, in the order of the children's names" it reads every open task and sorts them. Read from the children's name
index instead, each child's tasks looked up by case, a page stops after its rows. ``CROSS JOIN`` is SQLite's way to
fix the order (https://sqlite.org/optoverview.html, "Manual Control Of Query Plans Using CROSS JOIN"); it means the
same as ``JOIN`` there. Other databases get a plain JOIN and plan it from their statistics.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.selectable import Join


class OuterFirst(Join):
    """``left JOIN right ON onclause``, read from ``left`` on SQLite."""

    inherit_cache = True


@compiles(OuterFirst, "sqlite")
def _cross_join(element: OuterFirst, compiler: Any, **kw: Any) -> str:
    joined: str = compiler.visit_join(element, **kw)
    return joined.replace(" JOIN ", " CROSS JOIN ", 1)


__all__ = ["OuterFirst"]
