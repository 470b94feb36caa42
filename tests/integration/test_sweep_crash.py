"""Crash test: 2,000 due deadlines; the sweeping process is killed (SIGKILL) at random moments
and restarted until a sweep completes; every deadline is fired exactly once and its effect (one
``deadline_passed`` event) exists exactly once. On SQLite and PostgreSQL."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime

from sqlalchemy import func, insert, select

from casework.models import Case, CaseEvent, Responsibility
from casework.models.deadlines import Deadline

COUNT = 2_000


def _due_deadlines(db) -> None:
    """Cases for the world's three pupils and 2,000 clocks on them, all long overdue."""
    now = datetime(2024, 9, 2, 9, tzinfo=UTC)
    world = db.world
    with db.factory() as session:
        case_ids = []
        for n, (pupil, school) in enumerate(
            (
                (world.pupil_oak, world.oakfield),
                (world.pupil_river, world.riverside),
                (world.pupil_hill, world.hillcrest),
            )
        ):
            case = Case(
                reference=f"340-24-9{n:04d}",
                pupil_id=pupil,
                school_id=school,
                la_id=world.la,
                kind="irregular_attendance",
                stage="facilitate_support",
                owner_id=world.users["traded"],
                team="traded",
                opened_at=now,
                last_event_sequence=0,
            )
            session.add(case)
            session.flush()
            session.add(
                Responsibility(
                    case_id=case.id,
                    holder_id=world.users["traded"],
                    team="traded",
                    via="opened",
                    since=now,
                )
            )
            case_ids.append((case.id, school))
        session.execute(
            insert(Deadline),
            [
                {
                    "case_id": case_ids[n % 3][0],
                    "school_id": case_ids[n % 3][1],
                    "kind": "aim_review",
                    "label": "AIM action-plan review",
                    "rule": "test",
                    "starts_on": date(2024, 9, 2),
                    "amount": 3,
                    "unit": "school_weeks",
                    "due_on": date(2024, 9, 23),
                    "remind_on": None,
                    "status": "pending",
                    "attempts": 0,
                    "armed_at": now,
                    "details": {},
                    "version": 1,
                }
                for n in range(COUNT)
            ],
        )
        session.commit()


def _fired(db) -> int:
    with db.factory() as session:
        return session.scalar(
            select(func.count()).select_from(Deadline).where(Deadline.status == "fired")
        )


def _sweeper(db) -> subprocess.Popen:
    env = {**os.environ, "CASEWORK_DATABASE_URL": db.url}
    return subprocess.Popen(
        # Small batches: many commits, so a kill lands between and inside them.
        [sys.executable, "-m", "api.cli", "deadlines", "sweep", "--batch", "10"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_killed_sweeps_fire_every_deadline_exactly_once(db):
    _due_deadlines(db)
    rng = random.Random(7)
    kills = mid_sweep = 0
    # Start-up takes a moment: a kill that lands before the sweep got further than the last one
    # (on a busy machine, before it even starts once everything is fired) moves the next later.
    delay = 0.6
    done = 0
    for _ in range(80):
        process = _sweeper(db)
        time.sleep(rng.uniform(delay, delay + 0.5))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += 1
            before, done = done, _fired(db)
            mid_sweep += 0 < done < COUNT
            if done == before:
                delay += 0.15
            continue
        assert process.returncode == 0, process.stderr.read().decode()
        break
    else:
        raise AssertionError("the sweep never completed")
    final = _sweeper(db)
    assert final.wait(timeout=120) == 0
    with db.factory() as session:
        statuses = dict(
            session.execute(select(Deadline.status, func.count()).group_by(Deadline.status)).all()
        )
        assert statuses == {"fired": COUNT}
        per_deadline = Counter(
            event.data["deadline"]
            for event in session.scalars(
                select(CaseEvent).where(CaseEvent.kind == "deadline_passed")
            )
        ).items()
        assert len(per_deadline) == COUNT and all(n == 1 for _, n in per_deadline)
    assert mid_sweep >= 1, "no sweep was killed part-way: the test proved nothing"
