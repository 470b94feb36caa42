"""``casework audit ...``: verify the audit log's hash chain; export one pupil's access history."""

from __future__ import annotations

import getpass
from datetime import datetime, timedelta
from pathlib import Path

import click

from casework import audit
from casework.audit_search import AuditQuery, csv_text, history, start_of_day
from casework.clock import SystemClock
from casework.db import WRITE_INTENT, make_engine, make_session_factory
from casework.migrate import upgrade
from casework.models import Pupil
from config.settings import Settings


def _factory():
    engine = make_engine(Settings.from_env().database_url)
    upgrade(engine)
    return make_session_factory(engine)


@click.group("audit")
def audit_group() -> None:
    """The audit log of who read and changed children's records."""


@audit_group.command("verify")
def verify() -> None:
    """Check every entry's hash and link; exit 1 naming the first broken entry."""
    with _factory()() as session:
        found = audit.verify(session)
    if found.intact:
        click.echo(f"audit chain intact: {found.checked} entries")
        if found.last_id is not None:
            click.echo(f"last entry {found.last_id}: {found.last_hash}")
        return
    click.echo(
        f"audit chain broken at entry {found.broken_id}: {found.problem} "
        f"({found.checked} entries before it are intact)",
        err=True,
    )
    raise SystemExit(1)


@audit_group.command("export")
@click.option(
    "--pupil", "pupil_id", required=True, type=click.IntRange(1, 2**31 - 1), help="The pupil's id."
)
@click.option("--from", "since", type=click.DateTime(["%Y-%m-%d"]), help="First day (YYYY-MM-DD).")
@click.option("--to", "until", type=click.DateTime(["%Y-%m-%d"]), help="Last day, included.")
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="CSV file."
)
def export(pupil_id: int, since: datetime | None, until: datetime | None, out: Path) -> None:
    """Write one pupil's access history (who, when, which record and route, outcome) as CSV."""
    if since and until and until < since:
        raise click.BadParameter(
            f"{until:%Y-%m-%d} is before --from {since:%Y-%m-%d}: the range must run forwards",
            param_hint="--to",
        )
    query = AuditQuery(
        la_id=None,
        pupil_id=pupil_id,
        since=start_of_day(since.date()) if since else None,
        until=start_of_day(until.date() + timedelta(days=1)) if until else None,
    )
    with _factory()() as session:
        session.connection(execution_options={WRITE_INTENT: True})
        pupil = session.get(Pupil, pupil_id)
        if pupil is None:
            raise click.BadParameter(f"no pupil has id {pupil_id}", param_hint="--pupil")
        entries = history(session, query)
        # The export is itself an access to the pupil's data, so it is audited too: the entry
        # is written first, and kept only if the file is.
        audit.record(
            session,
            actor=None,
            actor_username=f"{getpass.getuser()} (command line)",
            action="export",
            record_type="audit_log",
            record_id=pupil_id,
            pupil_id=pupil_id,
            route="cli: casework audit export",
            outcome="ok",
            at=SystemClock().now(),
            la_id=pupil.la_id,
        )
        out.write_text(csv_text(entries), encoding="utf-8")
        session.commit()
    click.echo(f"{len(entries)} entries written to {out}")
