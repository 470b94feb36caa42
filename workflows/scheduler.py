"""The alarm clock: APScheduler (in-memory job store) runs the sweep at start-up and every
minute. It holds no state of its own: the deadline ledger in the database is the truth, so a
restarted scheduler simply sweeps again and fires whatever was missed, once.

Once a day, at a quiet hour (02:30 UK time), it also deletes the attendance registers kept
longer than they must be (``casework.registers.retention``), logging counts only; at 02:15 the
retention purge (``workflows.retention``) deletes what each LA's profile no longer keeps. Both
leave audit entries.

Every 30 seconds (and at start-up) it dispatches the email outbox (``notifications.dispatcher``):
the outbox rows are the truth, so a missed or overlapping run loses and duplicates nothing.

At 07:00 UK time it queues each officer's daily digest, and on Mondays each school's weekly
digest (``workflows.reminders``), and each term the schools' targeting support meeting
invitations; a run up to an hour late still runs."""

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

from casework.clock import Clock
from config.settings import MailSettings, default_var_dir, mail_settings, register_retention_years
from notifications.dispatcher import dispatch_due
from notifications.senders import Sender, sender_for
from workflows.retention import purge_registers, run_job
from workflows.sweep import sweep

log = logging.getLogger("casework.scheduler")

SWEEP_SECONDS = 60
PURGE_AT = {"hour": 2, "minute": 30}  # UK time: after midnight, before any school's day
RETENTION_AT = {"hour": 2, "minute": 15}  # UK time: cases, outbox, pupils (workflows.retention)
SCAN_AT = {"hour": 19, "minute": 0}  # UK time: the day's registers are in
SCAN_DELAY_SECONDS = 30  # the start-up scan waits for the first sweep
DISPATCH_SECONDS = 30
DAILY_DIGEST_AT = {"hour": 7, "minute": 0}  # UK time: before the working day
DIGEST_DELAY_SECONDS = 60
WEEKLY_DIGEST_AT = {"day_of_week": "mon", "hour": 7, "minute": 0}
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
    # Kept the longest of ``years`` and every LA profile's, with an audit entry per year.
    try:
        report = purge_registers(factory, clock, years)
        years = report.years_kept
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


def _dispatch_job(
    factory: sessionmaker[Session], clock: Clock, sender: Sender, max_attempts: int
) -> None:
    try:
        report = dispatch_due(factory, clock, sender, max_attempts=max_attempts)
    except Exception as exc:  # the type only: a message could quote an address
        log.error("mail dispatch failed (%s); unsent messages stay queued", type(exc).__name__)
        return
    if report.anything:
        log.info(
            "mail: %d sent, %d to retry, %d failed, %d handed back%s",
            report.sent, report.retrying, report.failed, report.released,
            f"; stopped early: {report.stopped}" if report.stopped else "",
        )  # fmt: skip


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


def _digest_job(factory: sessionmaker[Session], clock: Clock, which: str) -> None:
    from workflows.reminders import send_daily_digests, send_tsm_invitations, send_weekly_digests

    send = {
        "daily": send_daily_digests,
        "weekly": send_weekly_digests,
        "tsm": send_tsm_invitations,
    }[which]
    try:
        report = send(factory, clock)
    except Exception as exc:  # the type only: a message could quote a record
        log.error(
            "%s digests failed (%s); a rerun queues what is missing", which, type(exc).__name__
        )
        return
    log.info(
        "%s digests for %s: %d queued, %d with nothing to say, %d opted out, %d already queued, "
        "%d schools not in term",
        which, report.day, report.queued, report.nothing_to_say, report.opted_out,
        report.already_sent, report.not_in_term,
    )  # fmt: skip


def configure(
    scheduler,
    factory: sessionmaker[Session],
    clock: Clock,
    name: str,
    *,
    retention_years: int | None = None,
    mail: MailSettings | None = None,
    sender: Sender | None = None,
):
    years = register_retention_years() if retention_years is None else retention_years
    # Refused at start-up, naming the variable, like the retention years.
    mail = mail_settings() if mail is None else mail
    if sender is None:
        sender = sender_for(mail, default_var_dir())
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
    # The retention purge of everything but registers (the job above), with audit entries.
    scheduler.add_job(
        run_job,
        CronTrigger(**RETENTION_AT, timezone=UK),
        args=(factory, clock, None),
        id="retention_purge",
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
    # The outbox, now and every 30 seconds; like the sweep, a late run still runs, a backlog of
    # runs folds into one, and runs never overlap (a second dispatcher would be harmless anyway:
    # rows are leased).
    scheduler.add_job(
        _dispatch_job,
        "interval",
        seconds=DISPATCH_SECONDS,
        args=(factory, clock, sender, mail.max_attempts),
        id="mail_dispatch",
        next_run_time=datetime.now(UTC),
        misfire_grace_time=None,
        coalesce=True,
        max_instances=1,
    )
    # The digests: each keyed by reader and day, so a late or repeated run queues nothing twice.
    # The daily and weekly ones also run at start-up (after the first sweep), so a day or a
    # Monday the process was down at 07:00 is caught up (the weekly one keyed by its Monday).
    # The termly targeting support meeting invitations: the second Monday of September, January
    # and April (``workflows.reminders.TSM_AT``), keyed by term.
    from workflows.reminders import TSM_AT

    for which, job_id, at in (
        ("daily", "daily_digest", DAILY_DIGEST_AT),
        ("weekly", "weekly_digest", WEEKLY_DIGEST_AT),
        ("tsm", "tsm_invitations", TSM_AT),
    ):
        at_start = {}
        if which in ("daily", "weekly"):
            # One after the other: each is one long write transaction.
            delay = DIGEST_DELAY_SECONDS * (1 if which == "daily" else 2)
            at_start["next_run_time"] = datetime.now(UTC) + timedelta(seconds=delay)
        scheduler.add_job(
            _digest_job,
            CronTrigger(**at, timezone=UK),
            args=(factory, clock, which),
            id=job_id,
            misfire_grace_time=3600,
            coalesce=True,
            max_instances=1,
            **at_start,
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
