"""Demo cases part-way through each route, so that every stage can be seen in the UI.

Each route adds a seeder here: a function (engine, ctx) -> None that starts its route on demo cases and drives it
through the engine (never by writing rows directly), so the demo shows exactly what real use produces.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.demo import DemoContext
    from engine.runtime import WorkflowEngine

Seeder = Callable[["WorkflowEngine", "DemoContext"], None]

SEEDERS: list[Seeder] = []


def seed_routes(engine: WorkflowEngine, ctx: DemoContext) -> None:
    deployed = set()
    from sqlalchemy import select

    from engine.models import ProcessVersion

    with engine.session_factory() as session:
        deployed = set(session.scalars(select(ProcessVersion.process_id).where(ProcessVersion.is_current.is_(True))))
    for seeder in SEEDERS:
        needs = getattr(seeder, "process_id", None)
        if needs is None or needs in deployed:
            seeder(engine, ctx)
