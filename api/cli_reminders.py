"""``casework reminders digest``: queue the daily (or weekly) digests now, for a given day.

The scheduler does this at 07:00 UK time (weekly on Mondays); this is for a catch-up or a demo.
Digests are keyed by reader and day, so running it twice queues nothing the second time.
"""

from __future__ import annotations

from datetime import date

import click

from casework.clock import SystemClock


@click.group("reminders")
def reminders() -> None:
    """Reminder emails and digests."""


@reminders.command("digest")
@click.option(
    "--date",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The day the digest is for (default today, UK time).",
)
@click.option(
    "--weekly", is_flag=True, help="The schools' weekly digests instead of the officers' daily."
)
def digest(day, weekly: bool) -> None:
    """Queue the digests for a day (sent by the dispatcher, or `casework outbox dispatch`)."""
    from api.cli_outbox import _settings_and_factory
    from workflows.reminders import send_daily_digests, send_weekly_digests

    _, factory = _settings_and_factory()
    on: date | None = day.date() if day else None
    send = send_weekly_digests if weekly else send_daily_digests
    report = send(factory, SystemClock(), on)
    click.echo(
        f"{'weekly' if weekly else 'daily'} digests for {report.day.isoformat()}: "
        f"{report.queued} queued, {report.nothing_to_say} with nothing to say, "
        f"{report.opted_out} opted out, {report.already_sent} already queued"
    )


@reminders.command("tsm")
@click.option(
    "--date",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="A day in the term (default today, UK time).",
)
def tsm(day) -> None:
    """Queue each school's targeting support meeting invitation for the term (once a term)."""
    from api.cli_outbox import _settings_and_factory
    from workflows.reminders import send_tsm_invitations

    _, factory = _settings_and_factory()
    report = send_tsm_invitations(factory, SystemClock(), day.date() if day else None)
    click.echo(
        f"targeting support meeting invitations for {report.day.isoformat()}: "
        f"{report.queued} queued, {report.already_sent} already queued"
    )
