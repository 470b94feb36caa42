"""The alarm clock: APScheduler (in-memory job store) runs the sweep at start-up and every
minute. It holds no state of its own: the deadline ledger in the database is the truth, so a
restarted scheduler simply sweeps again and fires whatever was missed, once.

Once a day, at a quiet hour (02:30 UK time), it also deletes the attendance registers kept
longer than they must be (``casework.registers.retention``), logging counts only."""

from __future__ import annotations

import logging
import os
import socket
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.orm import Session, sessionmaker

from casework.clock import Clock, today
from casework.registers.retention import purge_expired
from config.settings import register_retention_years
from workflows.sweep import sweep

log = logging.getLogger("casework.scheduler")

SWEEP_SECONDS = 60
PURGE_AT = {"hour": 2, "minute": 30}  # UK time: after midnight, before any school's day
SCAN_AT = {"hour": 19, "minute": 0}  # UK time: the day's registers are in
SCAN_DELAY_SECONDS = 30  # the start-up scan waits for the first sweep
UK = ZoneInfo("Europe/London")


def scheduler_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _job(factory: sessionmaker[Session], clock: Clock, name: str) -> None:
    result = sweep(factory, clock, name)
    if result.fired or result.reminded or result.failed:
        log.info(
            "sweep: %d fired, %d reminded, %d failed", result.fired, result.reminded, result.failed
        )


def _purge_job(factory: sessionmaker[Session], clock: Clock, years: int) -> None:
    try:
        with factory() as session:
            report = purge_expired(session, today=today(clock), years=years)
            session.commit()
    except Exception as exc:  # the type only: a message could quote a record
        log.error("register purge failed (%s); nothing was deleted", type(exc).__name__)
        return
    per_year = ", ".join(f"{y.label} {y.registers}/{y.amendments}" for y in report.years)
    log.info(
        "register purge (kept %d years): deleted %d registers and %d amendments%s",
        years,
        report.registers,
        report.amendments,
        f"; by academic year (registers/amendments): {per_year}" if per_year else "",
    )


def _scan_job(factory: sessionmaker[Session], clock: Clock) -> None:
    from workflows.scan import run_daily_scan

    try:
        reports = run_daily_scan(factory, clock)
    except Exception as exc:  # the type only: a message could quote a record
        log.error(
            "daily scan failed (%s); it runs again at the next start or evening", type(exc).__name__
        )
        return
    for r in reports:
        log.info(
            "daily scan LA %d on %s: %d pupils, %d flags (%d raised, %d cleared), %d case events, "
            "%d proposals, %.1f s",
            r.la_id, r.as_at, r.pupils, r.flags_now, r.raised, r.cleared, r.case_events,
            r.proposals, sum(r.seconds.values()),
        )  # fmt: skip


def configure(
    scheduler,
    factory: sessionmaker[Session],
    clock: Clock,
    name: str,
    *,
    retention_years: int | None = None,
):
    years = register_retention_years() if retention_years is None else retention_years
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
    # The daily purge: a run that could not start on time (the process busy) still runs, once.
    scheduler.add_job(
        _purge_job,
        CronTrigger(**PURGE_AT, timezone=UK),
        args=(factory, clock, years),
        id="register_purge",
        misfire_grace_time=None,
        coalesce=True,
        max_instances=1,
    )
    # The daily scan after the afternoon registers are in, and once at start-up so a day the
    # process was down is caught up (the scan is idempotent: a repeat changes nothing).
    scheduler.add_job(
        _scan_job,
        CronTrigger(**SCAN_AT, timezone=UK),
        args=(factory, clock),
        id="daily_scan",
        next_run_time=datetime.now(UTC) + timedelta(seconds=SCAN_DELAY_SECONDS),
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
