"""The ``casework`` command: serve, migrate, seed the demo, add users, draw the machine."""

from __future__ import annotations

import sys

import click
from sqlalchemy import func, select

from api.cli_audit import audit_group
from api.cli_deadlines import deadlines, scheduler
from api.cli_outbox import outbox
from api.cli_registers import registers
from api.cli_reminders import reminders
from api.cli_retention import pupils, retention
from api.cli_synthetic import synthetic
from casework.db import make_engine, make_session_factory
from casework.migrate import upgrade
from casework.models import LocalAuthority, School, User
from casework.vocabulary import Role
from config.profiles import available_profiles
from config.settings import Settings


def _engine(settings: Settings):
    engine = make_engine(settings.database_url)
    upgrade(engine)
    return engine


@click.group()
def main() -> None:
    """School-attendance casework for English local authorities and their schools."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--demo/--no-demo", default=False, help="Seed the demo LA first if the database is empty."
)
@click.option("--workers", default=1, show_default=True, type=int, help="Web worker processes.")
@click.option(
    "--scheduler/--no-scheduler",
    default=True,
    show_default=True,
    help="Also sweep deadlines in this process (development). In production run one "
    "`casework scheduler` and serve with --no-scheduler.",
)
def run(host: str, port: int, demo: bool, workers: int, scheduler: bool) -> None:
    """Serve the web app and API (migrations are applied first)."""
    import uvicorn

    settings = Settings.from_env()
    engine = _engine(settings)
    if demo:
        from api.demo import DEMO_PASSWORD, demo_users, seed_demo
        from api.demo.packs import ready_pack_case

        factory = make_session_factory(engine)
        with factory() as session:
            empty = not session.scalar(select(func.count()).select_from(User))
        if empty:
            click.echo("Seeding the demo local authority (about a minute)...")
            seed_demo(factory)
        with factory() as session:
            click.echo(f"\nDemo sign-ins (password for all: {DEMO_PASSWORD}):")
            for username, role, where in demo_users(session):
                click.echo(f"  {username:<22} {role:<18} {where}")
            ready = ready_pack_case(session)
            if ready is not None:
                click.echo(f"\nA court pack ready to build (as statutory): /cases/{ready}/pack")
    if scheduler:
        from casework.clock import SystemClock
        from workflows.scheduler import in_process

        # One alarm clock in the parent process, however many web workers uvicorn starts.
        in_process(make_session_factory(engine), SystemClock())
        click.echo(
            "Deadline sweeps: in this process, now and every minute; "
            "outgoing email: now and every 30 seconds"
        )
    else:
        engine.dispose()
    click.echo(f"\nCasework on http://{host}:{port}  (API description at /schema)")
    # Forwarded headers are the app's to read (CASEWORK_TRUSTED_PROXIES), not uvicorn's (which
    # would otherwise trust 127.0.0.1 whatever the setting).
    uvicorn.run(
        "api.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=False,
    )


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration to the configured database."""
    settings = Settings.from_env()
    _engine(settings).dispose()
    click.echo("database is up to date")


@main.group()
def demo() -> None:
    """Synthetic demonstration data."""


@demo.command("seed")
@click.option("--schools", default=20, show_default=True)
@click.option("--pupils", default=5000, show_default=True)
@click.option("--seed", "random_seed", default=2024, show_default=True)
def demo_seed(schools: int, pupils: int, random_seed: int) -> None:
    """Create a synthetic LA: schools, pupils, families, users and cases (empty database only)."""
    from api.demo import DEMO_PASSWORD, demo_users, seed_demo

    engine = _engine(Settings.from_env())
    factory = make_session_factory(engine)
    with factory() as session:
        if session.scalar(select(func.count()).select_from(LocalAuthority)):
            raise click.ClickException(
                "the database already holds data; the demo needs an empty one"
            )
    seed_demo(factory, schools=schools, pupils=pupils, seed=random_seed)
    with factory() as session:
        click.echo(f"Demo sign-ins (password for all: {DEMO_PASSWORD}):")
        for username, role, where in demo_users(session):
            click.echo(f"  {username:<22} {role:<18} {where}")


@main.group()
def user() -> None:
    """User accounts."""


@user.command("add")
@click.option("--username", required=True)
@click.option("--full-name", required=True)
@click.option("--position", required=True, help="Job title, as it should appear in case records.")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--la", "la_number", required=True, help="The LA number, e.g. 340.")
@click.option("--school", "school_urns", multiple=True, help="URN of a school served (repeatable).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def user_add(username, full_name, position, email, role, la_number, school_urns, password) -> None:
    """Add a user (the first admin of an LA is made this way)."""
    from casework.password_policy import password_problems
    from workflows.registry import AddUser, create_user

    refused = password_problems(password, username=username)
    if refused:
        raise click.BadParameter("; ".join(refused), param_hint="--password")
    engine = _engine(Settings.from_env())
    with make_session_factory(engine)() as session:
        la = session.scalars(
            select(LocalAuthority).where(LocalAuthority.la_number == la_number)
        ).first()
        if la is None:
            raise click.BadParameter(f"no LA numbered {la_number}", param_hint="--la")
        schools = session.scalars(
            select(School).where(School.urn.in_(school_urns), School.la_id == la.id)
        ).all()
        unknown = set(school_urns) - {s.urn for s in schools}
        if unknown:
            raise click.BadParameter(
                f"no such school URN(s): {', '.join(sorted(unknown))}", param_hint="--school"
            )
        if session.scalar(select(User.id).where(User.username == username)):
            raise click.BadParameter(f"{username} is taken", param_hint="--username")
        create_user(
            session,
            AddUser(
                username, full_name, position, email, Role(role), password, [s.id for s in schools]
            ),
            la.id,
        )
        session.commit()
    click.echo(f"added {username} ({role})")


@main.group()
def workflow() -> None:
    """The case state machine."""


@workflow.command("diagram")
def workflow_diagram() -> None:
    """Print the state machine as Mermaid text (the README's diagram is this output)."""
    from workflows.diagram import mermaid

    sys.stdout.write(mermaid())


@main.command("profiles")
def profiles() -> None:
    """List the LA profiles in config/profiles."""
    for key in available_profiles():
        click.echo(key)


@main.group()
def calendar() -> None:
    """School calendars: count a duration on one, explain it, or show a year."""


_DATE = click.DateTime(formats=["%Y-%m-%d"])


def _calendar_of(urn: str):
    """The school with this URN and its calendar (read, then the connection is let go)."""
    from casework.calendars import school_calendar

    engine = _engine(Settings.from_env())
    try:
        with make_session_factory(engine)() as session:
            school = session.scalars(select(School).where(School.urn == urn)).first()
            if school is None:
                raise click.BadParameter(f"no school with URN {urn}", param_hint="--school")
            return school.name, school_calendar(session, school)
    finally:
        engine.dispose()


def _explained(urn: str, start, text: str):
    from casework.calendars import OutsideCalendar, explain_add
    from casework.durations import parse_duration

    try:
        duration = parse_duration(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--duration") from None
    name, cal = _calendar_of(urn)
    try:
        return name, explain_add(cal, start.date(), duration)
    except (OutsideCalendar, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


@calendar.command("add")
@click.option("--school", "urn", required=True, help="The school's URN.")
@click.option("--from", "start", required=True, type=_DATE, help="The date counted from.")
@click.option("--duration", required=True, help='E.g. "3 school weeks", "end of half term".')
def calendar_add(urn: str, start, duration: str) -> None:
    """Print the date DURATION after FROM, counted on the school's calendar."""
    from casework.calendars.model import long_date

    name, explained = _explained(urn, start, duration)
    click.echo(explained.end.isoformat())
    click.echo(
        f"counted on {name}'s calendar: {explained.duration} after "
        f"{long_date(explained.start)} is {long_date(explained.end)}"
    )
    if explained.provisional_years:
        click.echo(f"provisional term dates: {', '.join(explained.provisional_years)}")


@calendar.command("explain")
@click.option("--school", "urn", required=True, help="The school's URN.")
@click.option("--from", "start", required=True, type=_DATE, help="The date counted from.")
@click.option("--duration", required=True, help='E.g. "3 school weeks", "10 school days".')
def calendar_explain(urn: str, start, duration: str) -> None:
    """Show which days or weeks counted, and which were skipped and why."""
    name, explained = _explained(urn, start, duration)
    click.echo(f"On {name}'s calendar:")
    for line in explained.lines():
        click.echo(line)


@calendar.command("show")
@click.option("--school", "urn", required=True, help="The school's URN.")
@click.option("--year", required=True, type=int, help="The academic year's first year: 2024.")
def calendar_show(urn: str, year: int) -> None:
    """Print a school's terms, half terms, INSET days, closures and bank holidays for a year."""
    from casework.calendars import OutsideCalendar
    from casework.calendars.model import HALF_TERM_BREAKS, DateRange, long_date
    from casework.calendars.store import session_name

    name, cal = _calendar_of(urn)
    try:
        found = cal.year(year)
    except OutsideCalendar as exc:
        raise click.ClickException(str(exc)) from None
    flag = "provisional: generated from the LA's pattern" if found.provisional else "published"
    click.echo(f"{name}, {found.label} ({flag}; source: {found.source})")
    for term in found.terms:
        click.echo(f"  {term.name} term: {DateRange(term.first, term.last)}")
        if term.half_term:
            label = HALF_TERM_BREAKS.get(term.name, "half term")
            click.echo(f"    {label}: {term.half_term}")
    for inset in cal.inset_days_in(year):
        click.echo(f"  INSET day: {long_date(inset.day)} ({session_name(inset.sessions)})")
    for closure in cal.closures_in(year):
        click.echo(
            f"  closure: {closure.days} ({session_name(closure.sessions)}): {closure.reason}"
        )
    for day, holiday in cal.bank_holidays(year):
        click.echo(f"  bank holiday: {long_date(day)} {holiday}")
    days = sum(1 for d in found.span.days() if cal.is_school_day(d))
    click.echo(f"  {days} school days, {cal.sessions_in(year)} sessions")


main.add_command(scheduler)
main.add_command(deadlines)
main.add_command(reminders)
main.add_command(registers)
main.add_command(retention)
main.add_command(pupils)
main.add_command(synthetic)
main.add_command(outbox)
main.add_command(audit_group)

if __name__ == "__main__":
    main()
