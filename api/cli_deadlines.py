"""``casework scheduler`` and ``casework deadlines ...``: the alarm clock and its operator tools."""

from __future__ import annotations

import click

from casework.clock import SystemClock
from casework.db import make_engine, make_session_factory
from casework.migrate import upgrade
from config.settings import Settings


def _factory():
    engine = make_engine(Settings.from_env().database_url)
    upgrade(engine)
    return make_session_factory(engine)


@click.command("scheduler")
def scheduler() -> None:
    """Run the one scheduler process: sweep due deadlines at start-up and every minute."""
    from workflows.scheduler import run_forever

    click.echo("Casework scheduler: sweeping now and every minute (Ctrl+C to stop)")
    run_forever(_factory(), SystemClock())


@click.group("deadlines")
def deadlines() -> None:
    """The deadline ledger."""


@deadlines.command("sweep")
@click.option("--batch", default=500, show_default=True, help="Deadlines per transaction.")
def sweep_now(batch: int) -> None:
    """Fire every due deadline and send every due reminder now, once."""
    from workflows.scheduler import scheduler_name
    from workflows.sweep import sweep

    result = sweep(_factory(), SystemClock(), scheduler_name(), batch=batch)
    click.echo(f"{result.fired} fired, {result.reminded} reminded, {result.failed} failed")
