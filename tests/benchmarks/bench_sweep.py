"""Benchmark: sweeping 100,000 due deadlines after downtime, on SQLite and PostgreSQL.

Prints the wall time, the cost per deadline, and a reference: the same rows marked fired and
the same events inserted by one plain SQL statement each (no claiming, no compare-and-set, no
per-case sequence bookkeeping), in the same database and run. Target: under 30 s per engine.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import insert, text

from casework.clock import FixedClock
from casework.db import make_engine, make_session_factory
from casework.models import Case, Responsibility
from casework.models.deadlines import Deadline
from tests.conftest import _seed
from tests.support.postgres import scratch_database
from workflows.sweep import sweep

NOW = datetime(2025, 3, 3, 9, tzinfo=UTC)


def _load(factory, world, count: int, cases: int = 1_000) -> None:
    started = datetime(2024, 9, 2, 9, tzinfo=UTC)
    with factory() as session:
        rows = [
            {
                "reference": f"340-24-{n:05d}",
                "pupil_id": world.pupil_oak,
                "school_id": world.oakfield,
                "la_id": world.la,
                "kind": "irregular_attendance",
                "stage": "facilitate_support",
                "owner_id": world.users["traded"],
                "team": "traded",
                "opened_at": started,
                "last_event_sequence": 0,
                "version": 1,
            }
            for n in range(cases)
        ]
        session.execute(insert(Case), rows)
        case_ids = list(session.scalars(text("SELECT id FROM case_file ORDER BY id")))
        session.execute(
            insert(Responsibility),
            [
                {
                    "case_id": c,
                    "holder_id": world.users["traded"],
                    "team": "traded",
                    "via": "opened",
                    "since": started,
                }
                for c in case_ids
            ],
        )
        for first in range(0, count, 10_000):
            session.execute(
                insert(Deadline),
                [
                    {
                        "case_id": case_ids[n % len(case_ids)],
                        "school_id": world.oakfield,
                        "kind": "aim_review",
                        "label": "AIM action-plan review",
                        "rule": "bench",
                        "starts_on": date(2024, 9, 2),
                        "amount": 3,
                        "unit": "school_weeks",
                        "due_on": date(2024, 9, 23),
                        "remind_on": None,
                        "status": "pending",
                        "attempts": 0,
                        "armed_at": started,
                        "details": {},
                        "version": 1,
                    }
                    for n in range(first, min(first + 10_000, count))
                ],
            )
        session.commit()


def _reference(engine) -> float:
    start = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO case_event (case_id, sequence, occurred_at, actor_name,"
                " actor_position, kind, reason, data) SELECT case_id, 1000000 + id, :now,"
                " 'ref', 'ref',"
                " 'deadline_passed', label, '{}' FROM deadline WHERE status = 'fired'"
            ),
            {"now": NOW},
        )
    return time.perf_counter() - start


def run(name: str, url: str, count: int) -> None:
    world = _seed(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    _load(factory, world, count)
    start = time.perf_counter()
    result = sweep(factory, FixedClock(NOW), "bench")
    seconds = time.perf_counter() - start
    reference = _reference(engine)
    print(
        f"\n{name}: {result.fired} of {count} deadlines fired in {seconds:.1f} s "
        f"({seconds / count * 1e6:.0f} µs each; target under 30 s: "
        f"{'met' if seconds < 30 else 'NOT met'})"
    )
    print(
        f"  reference, one INSERT ... SELECT of the same events: {reference:.2f} s "
        f"(the sweep takes {seconds / reference:.1f}x)"
    )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deadlines", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run("SQLite", f"sqlite:///{Path(tmp) / 'sweep.db'}", args.deadlines)
    with scratch_database("casework_bench_sweep") as url:
        run("PostgreSQL", url, args.deadlines)


if __name__ == "__main__":
    main()
