"""The case search through its trigram index (migration 0019, engine/lists/case_search.py): the same cases as the
"contains" it stands for, kept in step with every change of a name or reference, and answered from the index, on
SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, select, text

from engine.lists.case_search import search_clause
from engine.lists.cases import case_list
from engine.runtime.services import Services
from engine.store.models import Case
from tests.conftest import World

# (first, last, reference) of the cases added to the world's LA; the world's own case is Alex Taylor.
CHILDREN = [
    ("Amelia", "Smith-Jones", "TST-2026-0101"),
    ("Émile", "O'Neil", "TST-2026-0102"),
    ("Jo", "Li", "TST-2026-0103"),
    ("Kai", "Amelia", "TST-2026-0104"),
    ("Mo", "50%_off", "TST-2026-0105"),
]


@pytest.fixture(params=["sqlite", "postgresql"])
def searched(request: pytest.FixtureRequest) -> tuple[Services, World]:
    services: Services = request.getfixturevalue("services" if request.param == "sqlite" else "pg_services")
    world = World(services)
    with services.session_factory() as s:
        for first, last, reference in CHILDREN:
            case = services.engine.open_case(s, world.la.id, first, last)
            case.reference = reference
        s.commit()
    return services, world


def names(services: Services, world: World, q: str) -> list[str]:
    with services.session_factory() as s:
        return [row.child_name for row in case_list(s, world.users["caseworker"].id, q).rows]


def contains(services: Services, world: World, q: str) -> list[str]:
    """The cases of the LA whose names or reference contain what was typed, worked out here in Python."""
    typed = " ".join("".join(" " if ord(c) < 32 or ord(c) == 127 else c for c in q).lower().split())
    with services.session_factory() as s:
        cases = s.scalars(select(Case).where(Case.la_id == world.la.id)).all()
        found = [c for c in cases if any(typed in text.lower() for text in (
            f"{c.child_first_name} {c.child_last_name}", f"{c.child_last_name} {c.child_first_name}", c.reference))]
    return sorted((c.child_name for c in found), key=lambda name: (name.split()[-1].lower(), name.lower()))


@pytest.mark.parametrize("q", ["amelia", "AMELIA", "lia smi", "smith-jones amelia", "jones", "2026-0103", "tst-2026",
                               "o'neil", "émile o'", "li jo", "jo li", "50%_", "%_o", "0%", "ai am", "lia",
                               "li", "jo", "LI", "-j", "%", "_", "o'", "4", "zzz", '"amelia"', "amelia\nsmith",
                               "  Amelia   Smith  ",
                               "amelia\x00smith", "\x00", "o'\x00neil", "li\x7fjo"])
def test_the_search_finds_exactly_the_cases_containing_what_was_typed(searched: tuple[Services, World],
                                                                      q: str) -> None:
    services, world = searched
    assert names(services, world, q) == contains(services, world, q), q


def test_the_index_follows_every_change_of_a_name_or_a_reference(searched: tuple[Services, World]) -> None:
    services, world = searched
    with services.session_factory() as s:
        case = s.scalars(select(Case).where(Case.reference == "TST-2026-0103")).one()
        case.child_first_name, case.child_last_name, case.reference = "Joanna", "Lindqvist", "TST-2026-9999"
        s.commit()
    assert names(services, world, "lindqvist") == ["Joanna Lindqvist"]
    assert names(services, world, "9999") == ["Joanna Lindqvist"]
    assert names(services, world, "0103") == []
    with services.session_factory() as s:  # a case with nothing on it yet (no audit trail, which is never deleted)
        s.add(Case(reference="TST-2026-7777", child_first_name="Rhiannon", child_last_name="Quist", la_id=world.la.id,
                   created_at=services.engine.clock.now()))
        s.commit()
    assert names(services, world, "quist") == ["Rhiannon Quist"]
    with services.session_factory() as s:
        s.execute(delete(Case).where(Case.reference == "TST-2026-7777"))
        s.commit()
    assert names(services, world, "quist") == []


def _plan(services: Services, q: str) -> str:
    with services.session_factory() as s:
        query = select(Case.id).where(search_clause(s, q))
        compiled = query.compile(s.get_bind(), compile_kwargs={"literal_binds": True})
        if s.get_bind().dialect.name == "sqlite":
            rows: list[Any] = s.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
            return " | ".join(str(row[-1]) for row in rows)
        s.execute(text("SET LOCAL enable_seqscan = off"))  # a few rows: make the planner show what it can use
        rows = s.execute(text(f"EXPLAIN {compiled}")).all()
        return " | ".join(str(row[0]) for row in rows)


def test_a_name_is_found_from_the_index(searched: tuple[Services, World]) -> None:
    services, _ = searched
    plan = _plan(services, "smith")
    if services.db.dialect.name == "postgresql":
        for index in ("ix_case_record_search_name", "ix_case_record_search_reversed",
                      "ix_case_record_search_reference"):
            assert index in plan, plan
        return  # its trigram index also answers two letters (reading the whole index), as its planner sees fit
    assert "SCAN case_search VIRTUAL TABLE INDEX" in plan and "SCAN case_record" not in plan, plan
    assert "VIRTUAL TABLE" not in _plan(services, "sm")  # SQLite: no trigram in two letters, so the cases are read
