"""``casework registers ...``: operator tools for attendance registers."""

from __future__ import annotations

import click

from casework.clock import SystemClock
from casework.db import make_engine, make_session_factory
from casework.migrate import upgrade
from config.settings import Settings


@click.group("registers")
def registers() -> None:
    """Attendance registers."""


@registers.command("purge")
@click.option("--dry-run", is_flag=True, help="Only count what has expired; delete nothing.")
def purge(dry_run: bool) -> None:
    """Delete registers (and their amendments) kept longer than they must be.

    Registers are kept the longest of CASEWORK_REGISTER_RETENTION_YEARS (at least 6) and every LA
    profile's registers_years, from the end of each academic year; each academic year purged
    leaves an audit entry. Prints counts per academic year, never a pupil.
    """
    from workflows.retention import purge_registers

    try:
        settings = Settings.from_env()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        report = purge_registers(
            make_session_factory(engine),
            SystemClock(),
            settings.register_retention_years,
            route="cli: casework registers purge",
            dry_run=dry_run,
        )
    finally:
        engine.dispose()
    for line in report.lines():
        click.echo(line)


def _factory():
    settings = Settings.from_env()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    return engine, make_session_factory(engine)


def _opener(factory, username: str):
    from contextlib import contextmanager

    from sqlalchemy import select

    from casework.models import User
    from casework.uow import UnitOfWork
    from workflows.context import Context

    @contextmanager
    def opened():
        with UnitOfWork(factory, write=True) as uow:
            user = uow.session.scalars(select(User).where(User.username == username)).first()
            if user is None or not user.active:
                raise click.ClickException(f"no active user {username!r}")
            yield Context.build(uow.session, user, SystemClock())

    return opened


def _report(result) -> None:
    counts = ", ".join(f"{k} {v}" for k, v in sorted(result.counts.items()) if v)
    click.echo(f"{result.file_name}: {result.status}" + (f" ({counts})" if counts else ""))
    for problem in result.problems[:50]:
        where = f"line {problem.line}: " if problem.line else ""
        click.echo(f"  {where}{problem.field} = {problem.value!r}: {problem.rule}")
    if len(result.problems) > 50:
        click.echo(f"  ... and {len(result.problems) - 50} more problems")


def _with_bar(label: str, run):
    """Run ``run(progress)`` with a progress bar over the pupils written."""
    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=max(total, 1), label=label)
            bar.__enter__()
        bar.update(done - bar.pos)

    try:
        return run(progress)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


@registers.command("import-ctf")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--as", "username", required=True, help="The user the import is made as.")
@click.option("--partial", is_flag=True, help="Import the good pupils of a file with problems.")
@click.option("--reason", default=None, help="The reason stored with any amended mark.")
def import_ctf_files(
    files: tuple[str, ...], username: str, partial: bool, reason: str | None
) -> None:
    """Import Common Transfer Files (pupils, contacts, characteristics and attendance marks).

    Each file is all-or-nothing; the same file twice changes nothing. Exits 1 if any file was
    rejected."""
    from pathlib import Path

    from workflows.imports import import_ctf, read_ahead, run_import

    engine, factory = _factory()
    rejected = 0
    try:
        # The next file is parsed in a worker process while this one is written.
        for path, data, parsed in read_ahead([Path(name) for name in files]):
            result = _with_bar(
                path.name,
                lambda progress, data=data, path=path, parsed=parsed: run_import(
                    _opener(factory, username),
                    lambda ctx: import_ctf(
                        ctx,
                        data,
                        file_name=path.name,
                        partial=partial,
                        reason=reason,
                        progress=progress,
                        parsed=parsed,
                    ),
                    partial=partial,
                    school_id=None,
                ),
            )
            _report(result)
            rejected += result.status == "rejected"
    finally:
        engine.dispose()
    if rejected:
        raise SystemExit(1)


@registers.command("import-csv")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--school", "urn", required=True, help="The school's URN.")
@click.option(
    "--mapping", default="canonical", show_default=True, help="A named mapping or a .toml file."
)
@click.option("--as", "username", required=True, help="The user the import is made as.")
@click.option("--partial", is_flag=True, help="Import the good rows of a file with problems.")
@click.option("--reason", default=None, help="The reason stored with any amended mark.")
def import_csv_file(
    file: str, urn: str, mapping: str, username: str, partial: bool, reason: str | None
) -> None:
    """Import a CSV of marks (UPN, date, session, code) read through a column mapping."""
    from pathlib import Path

    from sqlalchemy import select

    from casework.models import School
    from workflows.imports import import_csv, run_import

    engine, factory = _factory()
    try:
        with factory() as session:
            school_id = session.scalar(select(School.id).where(School.urn == urn))
        if school_id is None:
            raise click.ClickException(f"no school with URN {urn}")
        data = Path(file).read_bytes()
        result = _with_bar(
            Path(file).name,
            lambda progress: run_import(
                _opener(factory, username),
                lambda ctx: import_csv(
                    ctx,
                    data,
                    school_id=school_id,
                    mapping=mapping,
                    file_name=Path(file).name,
                    partial=partial,
                    reason=reason,
                    progress=progress,
                ),
                partial=partial,
                school_id=school_id,
            ),
        )
        _report(result)
    finally:
        engine.dispose()
    if result.status == "rejected":
        raise SystemExit(1)


@registers.command("scan")
@click.option("--date", "as_at", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The day to scan as at (default today).")  # fmt: skip
def scan(as_at) -> None:
    """Run the daily scan now for every LA: flags, case events and proposals (idempotent)."""
    from workflows.scan import run_daily_scan

    engine, factory = _factory()
    try:
        reports = run_daily_scan(factory, SystemClock(), as_at=as_at.date() if as_at else None)
    finally:
        engine.dispose()
    for r in reports:
        click.echo(
            f"LA {r.la_id} on {r.as_at}: {r.pupils} pupils, {r.flags_now} flags "
            f"({r.raised} raised, {r.cleared} cleared), {r.case_events} case events, "
            f"{r.proposals} proposals, {sum(r.seconds.values()):.1f} s"
        )


@registers.command("integration-token")
@click.option("--la", "la_number", required=True, help="The LA number, e.g. 340.")
@click.option("--school", "urns", multiple=True, required=True, help="URN of a school it serves.")
@click.option("--name", required=True, help="What the integration is, e.g. 'Oakfield MIS'.")
@click.option("--by", "admin", required=True, help="The administrator issuing the token.")
@click.option("--days", type=click.IntRange(1, 365), default=90, show_default=True,
              help="How many days the token works for (at most a year).")  # fmt: skip
def integration_token(
    la_number: str, urns: tuple[str, ...], name: str, admin: str, days: int
) -> None:
    """Create an integration account for MIS pushes and print its API token (shown once): it
    pushes registers for the named schools only, and expires after --days."""
    import secrets
    from datetime import timedelta

    from sqlalchemy import select

    from casework.models import LocalAuthority, School, User
    from casework.vocabulary import Role
    from workflows.registry import AddUser, create_user
    from workflows.tokens import issue_token

    engine, factory = _factory()
    try:
        with factory() as session:
            la = session.scalars(
                select(LocalAuthority).where(LocalAuthority.la_number == la_number)
            ).first()
            by = session.scalars(
                select(User).where(User.username == admin, User.role == Role.ADMIN.value)
            ).first()
            schools = list(
                session.scalars(
                    select(School).where(
                        School.urn.in_(urns), School.la_id == (la.id if la else -1)
                    )
                )
            )
            if la is None or by is None or by.la_id != la.id:
                raise click.ClickException("name an LA and one of its administrators")
            if len(schools) != len(set(urns)):
                raise click.ClickException("every --school must be a URN of a school in the LA")
            user = create_user(
                session,
                AddUser(
                    username=f"integration-{secrets.token_hex(4)}",
                    full_name=name,
                    position="MIS integration",
                    email="integration@invalid",
                    role=Role.INTEGRATION,
                    password=secrets.token_urlsafe(32),  # never used: integrations cannot sign in
                    school_ids=[s.id for s in schools],
                ),
                la.id,
            )
            now = SystemClock().now()
            expires = now + timedelta(days=days)
            token = issue_token(
                session,
                user,
                name=name,
                by=by,
                now=now,
                school_ids=[s.id for s in schools],
                expires_at=expires,
            )
            username, serves = user.username, ", ".join(s.name for s in schools)
            session.commit()
    finally:
        engine.dispose()
    click.echo(f"Integration {username} for {serves}; the token expires on {expires:%d %B %Y}.")
    click.echo(f"Its API token (shown once; send it as 'Authorization: Bearer <token>'):\n{token}")
