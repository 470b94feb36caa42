"""``casework retention purge`` and ``casework pupils export``: data protection commands.

Both print counts or file facts only, never anything about a child, and both leave audit
entries (``workflows.retention``, ``workflows.subject_access``).
"""

from __future__ import annotations

from pathlib import Path

import click

from casework.clock import SystemClock
from casework.db import make_engine, make_session_factory
from casework.migrate import upgrade
from config.settings import Settings

EXPORT_ROUTE = "cli: casework pupils export"


def _factory():
    try:
        settings = Settings.from_env()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    engine = make_engine(settings.database_url)
    upgrade(engine)
    return settings, engine, make_session_factory(engine)


@click.group("retention")
def retention() -> None:
    """Keeping records no longer than each LA's profile says."""


@retention.command("purge")
@click.option("--dry-run", is_flag=True, help="Only count what is due; delete nothing.")
def purge(dry_run: bool) -> None:
    """Delete what each LA's [retention] periods say need no longer be kept: closed cases
    (whole), old emails, import batches, pupils with nothing left, sign-in attempts, and
    registers (kept the longest of CASEWORK_REGISTER_RETENTION_YEARS and every LA's
    registers_years). Each purged record leaves an audit entry. Prints counts per record type.
    """
    from workflows.retention import CLI_ROUTE
    from workflows.retention import purge as run

    settings, engine, factory = _factory()
    try:
        report = run(
            factory,
            SystemClock(),
            dry_run=dry_run,
            route=CLI_ROUTE,
            registers=settings.register_retention_years,
        )
    finally:
        engine.dispose()
    for line in report.lines():
        click.echo(line)


@click.group("pupils")
def pupils() -> None:
    """Pupils' records."""


@pupils.command("export")
@click.argument("pupil_id", type=click.IntRange(min=1))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where to write the ZIP (refused if it exists).",
)
@click.option(
    "--as",
    "username",
    required=True,
    help="The LA manager or administrator making the export (recorded in the audit log).",
)
@click.option("--reason", required=True, help="The subject access request's reference.")
def export(pupil_id: int, out: Path, username: str, reason: str) -> None:
    """A subject access export: everything held about one pupil, as a ZIP."""
    from sqlalchemy import select

    from casework.errors import InvalidInput, NotFound
    from casework.models import User
    from casework.uow import UnitOfWork
    from workflows.context import Context
    from workflows.subject_access import export_pupil

    if out.exists():
        raise click.ClickException(f"--out {out}: the file exists; name a new one")
    _, engine, factory = _factory()
    try:
        with UnitOfWork(factory, write=True) as uow:
            user = uow.session.scalars(select(User).where(User.username == username)).first()
            if user is None or not user.active:
                raise click.ClickException(f"--as {username!r}: no active user of that name")
            ctx = Context.build(uow.session, user, SystemClock())
            try:
                found = export_pupil(ctx, pupil_id, reason=reason, route=EXPORT_ROUTE)
            except NotFound:
                raise click.ClickException(
                    f"pupil {pupil_id}: not found among the pupils {username} may export "
                    "(LA managers and administrators of the pupil's LA)"
                ) from None
            except InvalidInput as exc:
                raise click.ClickException(str(exc)) from None
            # Written before the commit: an export that could not be saved is not recorded.
            out.write_bytes(found.content)
            uow.commit()
    finally:
        engine.dispose()
    size = len(found.content)
    click.echo(f"wrote {out}: {found.files} files, {size} bytes, sha256 {found.sha256}")
