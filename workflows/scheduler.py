"""The alarm clock: APScheduler (in-memory job store) runs the sweep at start-up and every
minute. It holds no state of its own: the deadline ledger in the database is the truth, so a
restarted scheduler simply sweeps again and fires whatever was missed, once."""

from __future__ import annotations

import logging
import os
import socket
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.orm import Session, sessionmaker

from casework.clock import Clock
from workflows.sweep import sweep

log = logging.getLogger("casework.scheduler")

SWEEP_SECONDS = 60


def scheduler_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _job(factory: sessionmaker[Session], clock: Clock, name: str) -> None:
    result = sweep(factory, clock, name)
    if result.fired or result.reminded or result.failed:
        log.info(
            "sweep: %d fired, %d reminded, %d failed", result.fired, result.reminded, result.failed
        )


def configure(scheduler, factory: sessionmaker[Session], clock: Clock, name: str):
    # misfire_grace_time=None: a sweep that could not run on time still runs; coalesce folds a
    # backlog of missed runs into one, and max_instances=1 stops sweeps overlapping.
    scheduler.add_job(
        _job,
        "interval",
        seconds=SWEEP_SECONDS,
        args=(factory, clock, name),
        id="sweep",
        next_run_time=datetime.now(UTC),
        misfire_grace_time=None,
        coalesce=True,
        max_instances=1,
    )
    return scheduler


def run_forever(factory: sessionmaker[Session], clock: Clock) -> None:
    """The production scheduler process (``casework scheduler``): one per deployment."""
    configure(BlockingScheduler(timezone=UTC), factory, clock, scheduler_name()).start()


def in_process(factory: sessionmaker[Session], clock: Clock) -> BackgroundScheduler:
    """The development scheduler inside ``casework run`` (single process only)."""
    scheduler = configure(BackgroundScheduler(timezone=UTC), factory, clock, scheduler_name())
    scheduler.start()
    return scheduler
