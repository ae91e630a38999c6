"""Engine-side figures for the headline benchmark (`python -m bench`): the database's write floor, the engine's
complete-task time against it, case starts per second, and the durability the database runs at.
"""

from __future__ import annotations

import statistics
import time

from sqlalchemy import Engine, text

from bench.engine_bench import complete_latency, percentile
from engine.runtime.workflow_engine import WorkflowEngine

FLOOR_TABLE = "bench_write_floor"


def durability(db: Engine) -> dict[str, str]:
    """What "committed" means on this database, read from the connection itself (not from the settings)."""
    with db.connect() as conn:
        if db.dialect.name == "sqlite":
            level = conn.exec_driver_sql("PRAGMA synchronous").scalar()
            names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
            journal = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
            return {"durability": names.get(int(level or 0), str(level)), "journal_mode": str(journal).upper()}
        if db.dialect.name == "postgresql":
            commit = conn.exec_driver_sql("SHOW synchronous_commit").scalar()
            fsync = conn.exec_driver_sql("SHOW fsync").scalar()
            return {"durability": "postgres", "postgres_synchronous_commit": str(commit), "postgres_fsync": str(fsync)}
    return {"durability": db.dialect.name}


def complete_with_sizes(engine: WorkflowEngine, la_id: int, samples: int) -> tuple[list[float], int]:
    """complete_task, committed, on fresh instances of the demo route; returns the timings (ms) and the median size
    of the state it saved (the bytes the write floor writes)."""
    sizes: list[int] = []
    timings = complete_latency(engine, la_id, samples, state_sizes=sizes)
    return timings, int(statistics.median(sizes))


def write_floor(db: Engine, size: int, samples: int) -> list[float]:
    """The database's own cost of making `size` bytes durable: UPDATE one row of a plain table, then COMMIT, through
    the same engine (the same pragmas, so the same durability). Each write differs from the last, so none is
    skipped. The table is dropped afterwards."""
    with db.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {FLOOR_TABLE}"))
        conn.execute(text(f"CREATE TABLE {FLOOR_TABLE} (id INTEGER PRIMARY KEY, state TEXT NOT NULL)"))
        conn.execute(text(f"INSERT INTO {FLOOR_TABLE} (id, state) VALUES (1, :s)"), {"s": "x" * size})
    timings: list[float] = []
    try:
        for n in range(samples):
            payload = (f"{n:08d}" * (size // 8 + 1))[:size]
            began = time.perf_counter()
            with db.begin() as conn:
                conn.execute(text(f"UPDATE {FLOOR_TABLE} SET state = :s WHERE id = 1"), {"s": payload})
            timings.append((time.perf_counter() - began) * 1000)
    finally:
        with db.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {FLOOR_TABLE}"))
    return timings


def starts_per_second(engine: WorkflowEngine, la_id: int, count: int) -> float:
    """Opening a case and starting its route (runs until the first task waits), each committed, one after another."""
    began = time.perf_counter()
    for n in range(count):
        with engine.session_factory() as s:
            case = engine.open_case(s, la_id, f"Start{n}", "Case")
            s.commit()
            case_id = case.id
        engine.start(case_id, "runtime_demo", {"explode": False})
    return count / (time.perf_counter() - began)


def p(values: list[float], pct: float) -> float:
    return round(percentile(values, pct), 2)
