"""``casework outbox ...``: send what is due now, see the queue, put a failed message back."""

from __future__ import annotations

import getpass

import click

from casework.clock import SystemClock
from casework.db import WRITE_INTENT, make_engine, make_session_factory
from casework.migrate import upgrade
from casework.models.outbox import STATUSES
from config.settings import Settings


def _settings_and_factory():
    try:
        settings = Settings.from_env()  # bad mail settings are refused, naming the variable
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    engine = make_engine(settings.database_url)
    upgrade(engine)
    return settings, make_session_factory(engine)


@click.group("outbox")
def outbox() -> None:
    """The email outbox."""


@outbox.command("dispatch")
@click.option("--batch", default=100, show_default=True, help="Messages claimed at a time.")
@click.option(
    "--lease-seconds",
    default=300,
    show_default=True,
    type=click.IntRange(1, 3600),
    help="How long a claimed message is this process's before another may take it.",
)
def dispatch(batch: int, lease_seconds: int) -> None:
    """Send every message due now, once (the scheduler does this every 30 seconds)."""
    from notifications.dispatcher import dispatch_due
    from notifications.senders import sender_for

    settings, factory = _settings_and_factory()
    report = dispatch_due(
        factory,
        SystemClock(),
        sender_for(settings.mail, settings.var_dir),
        batch=batch,
        lease_seconds=lease_seconds,
        max_attempts=settings.mail.max_attempts,
    )
    click.echo(
        f"{report.sent} sent, {report.retrying} to retry, {report.failed} failed, "
        f"{report.released} handed back"
    )
    if report.stopped:
        click.echo(f"stopped early: {report.stopped}")


@outbox.command("list")
@click.option("--status", type=click.Choice(STATUSES), help="Only messages in this status.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
def list_command(status: str | None, limit: int) -> None:
    """The newest messages: number, kind, status, attempts, next attempt, case, last error.
    Addresses and contents are left out; the API shows them to those in scope."""
    from notifications.listing import list_messages, next_attempt

    _, factory = _settings_and_factory()
    with factory() as session:
        rows, total = list_messages(session, scope=None, status=status, page_size=limit)
    click.echo(f"{'id':>7}  {'kind':<28} {'status':<8} {'tries':>5}  {'next attempt':<25} case")
    for item in rows:
        m = item.message
        due = next_attempt(m)
        click.echo(
            f"{m.id:>7}  {m.kind[:28]:<28} {m.status:<8} {m.attempts:>5}  "
            f"{due.isoformat(timespec='seconds') if due else '-':<25} {item.case_reference or '-'}"
            + (f"  ({m.last_error})" if m.last_error else "")
        )
    click.echo(f"{len(rows)} of {total} shown")


@outbox.command("retry")
@click.argument("message_id", type=int)
def retry_command(message_id: int) -> None:
    """Put a failed message back in the queue (recorded on it and on its case)."""
    from casework.errors import CaseworkError
    from casework.events import Actor
    from notifications.outbox import retry

    _, factory = _settings_and_factory()
    clock = SystemClock()
    actor = Actor(None, f"{getpass.getuser()} (command line)", "system operator")
    with factory() as session:
        session.connection(execution_options={WRITE_INTENT: True})
        try:
            retry(session, message_id, actor, clock.now())
        except CaseworkError as exc:
            raise click.ClickException(str(exc)) from None
        session.commit()
    click.echo(f"message {message_id} queued again")
