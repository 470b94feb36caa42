"""Benchmark: the cost of the case service against the bare SQL it rests on, on SQLite and
PostgreSQL. Prints figures and ratios; asserts nothing (run with ``make bench``).

For each engine it opens N cases and moves each one stage on through ``fire_trigger`` (facts,
guards, state machine, one event, optimistic lock), and times the same inserts and updates done
as plain SQL in the same database as the reference. Then it times a manager's caseload page
(50 of N cases) through the scoped query.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime

from sqlalchemy import text

from casework import queries
from casework.clock import FixedClock
from casework.db import make_engine, make_session_factory
from casework.models import Enrolment, Pupil, User
from casework.upn import make_upn
from tests.conftest import _seed
from tests.support.postgres import scratch_database
from workflows.cases import FireTrigger, OpenCase, fire_trigger, open_case
from workflows.context import Context


def _pupils(factory, world, count: int, establishment: int) -> list[int]:
    with factory() as session:
        rows = [
            Pupil(
                upn=make_upn(340, establishment, 10 + n // 1000, n % 1000),
                legal_forename="Bench",
                legal_surname=f"Pupil{n}",
                date_of_birth=datetime(2016, 1, 1).date(),
                sex="F",
                nc_year=3,
                la_id=world.la,
            )
            for n in range(count)
        ]
        session.add_all(rows)
        session.flush()
        session.add_all(
            Enrolment(
                pupil_id=p.id, school_id=world.oakfield, start_date=datetime(2021, 9, 1).date()
            )
            for p in rows
        )
        session.commit()
        return [p.id for p in rows]


def _service(factory, world, pupils: list[int]) -> tuple[float, float]:
    clock = FixedClock(datetime(2024, 11, 20, 10, tzinfo=UTC))
    opened = []
    start = time.perf_counter()
    for pupil in pupils:
        with factory() as session:
            ctx = Context.build(session, session.get(User, world.users["oak_lead"]), clock)
            opened.append(open_case(ctx, OpenCase(pupil, world.oakfield, reason="below 95%")))
            ctx.commit()
    open_seconds = time.perf_counter() - start
    start = time.perf_counter()
    for case in opened:
        with factory() as session:
            ctx = Context.build(session, session.get(User, world.users["oak_lead"]), clock)
            fire_trigger(
                ctx,
                case.id,
                FireTrigger("advance_to_listen_and_understand", case.version, reason="bench"),
            )
            ctx.commit()
    return open_seconds, time.perf_counter() - start


def _reference(engine, world, pupils: list[int]) -> tuple[float, float]:
    """The same rows as plain SQL, one transaction each: the floor the service stands on."""
    now = datetime(2024, 11, 20, 10, tzinfo=UTC)
    ids = []
    start = time.perf_counter()
    for n, pupil in enumerate(pupils):
        with engine.begin() as conn:
            case_id = conn.execute(
                text(
                    "INSERT INTO case_file (reference, pupil_id, school_id, la_id, kind, stage, "
                    "owner_id, team, opened_at, last_event_sequence, version) VALUES (:r, :p, :s, "
                    ":la, 'irregular_attendance', 'monitor', :o, 'school', :t, 1, 1) RETURNING id"
                ),
                {
                    "r": f"REF-{n}",
                    "p": pupil,
                    "s": world.oakfield,
                    "la": world.la,
                    "o": world.users["oak_lead"],
                    "t": now,
                },
            ).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO responsibility (case_id, holder_id, team, via, since) "
                    "VALUES (:c, :o, 'school', 'opened', :t)"
                ),
                {"c": case_id, "o": world.users["oak_lead"], "t": now},
            )
            conn.execute(
                text(
                    "INSERT INTO case_event (case_id, sequence, occurred_at, actor_name, "
                    "actor_position, kind, data) VALUES (:c, 1, :t, 'a', 'b', 'opened', '{}')"
                ),
                {"c": case_id, "t": now},
            )
            ids.append(case_id)
    open_seconds = time.perf_counter() - start
    start = time.perf_counter()
    for case_id in ids:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE case_file SET stage='listen_and_understand', last_event_sequence=2, "
                    "version=version+1 WHERE id=:c AND version=1"
                ),
                {"c": case_id},
            )
            conn.execute(
                text(
                    "INSERT INTO case_event (case_id, sequence, occurred_at, actor_name, "
                    "actor_position, kind, data) "
                    "VALUES (:c, 2, :t, 'a', 'b', 'stage_changed', '{}')"
                ),
                {"c": case_id, "t": now},
            )
    return open_seconds, time.perf_counter() - start


def _caseload(factory, world, repeats: int) -> list[float]:
    clock = FixedClock(datetime(2024, 11, 20, 10, tzinfo=UTC))
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        with factory() as session:
            ctx = Context.build(session, session.get(User, world.users["manager"]), clock)
            queries.list_cases(session, ctx.scope, queries.CaseFilter(page_size=50))
        timings.append(time.perf_counter() - start)
    return timings


def run(engine_name: str, url: str, world, count: int) -> None:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    service_pupils = _pupils(factory, world, count, establishment=2001)
    opened, moved = _service(factory, world, service_pupils)
    reference_pupils = _pupils(factory, world, count, establishment=2002)
    ref_open, ref_move = _reference(engine, world, reference_pupils)
    page = _caseload(factory, world, 100)
    per = 1000 / count
    print(f"\n{engine_name}: {count} cases")
    print(
        f"  open a case      {opened * per:7.2f} ms each   (plain SQL {ref_open * per:6.2f} ms;"
        f" ratio {opened / ref_open:4.1f}x)"
    )
    print(
        f"  move a stage on  {moved * per:7.2f} ms each   (plain SQL {ref_move * per:6.2f} ms;"
        f" ratio {moved / ref_move:4.1f}x)"
    )
    print(
        f"  caseload page of 50 from {2 * count} cases: median "
        f"{statistics.median(page) * 1000:.2f} ms, p95 "
        f"{sorted(page)[int(len(page) * 0.95) - 1] * 1000:.2f} ms"
    )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=300)
    args = parser.parse_args()
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        run("SQLite", url, _seed(url), args.cases)
    with scratch_database("casework_bench") as url:
        run("PostgreSQL", url, _seed(url), args.cases)


if __name__ == "__main__":
    main()
