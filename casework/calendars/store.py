"""School calendars from the database and the shipped config files.

For each academic year an LA's dates come from, in order: its latest ``la_calendar_year`` row,
the LA's calendar file (config/calendars/<profile>.toml), or the file's pattern (provisional).
Nothing is written to read a calendar: the config file stands in until an admin records a year.
A school's changes in force (not superseded or withdrawn) then apply on top.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.calendars.config_files import la_calendar
from casework.calendars.documents import from_document, year_of
from casework.calendars.model import (
    AcademicYear,
    Closure,
    DateRange,
    InsetDay,
    Pattern,
    TermCalendar,
)
from casework.durations import WHOLE_DAY, SessionOfDay
from casework.models import LaCalendarYear, LocalAuthority, School, SchoolCalendarOverride

TERM_DATES, INSET_DAY, CLOSURE, WITHDRAWAL = "term_dates", "inset_day", "closure", "withdrawal"
BOTH = "both"


def sessions_named(value: str | None) -> frozenset[SessionOfDay]:
    return WHOLE_DAY if value in (None, BOTH) else frozenset({SessionOfDay(value)})


def session_name(sessions: frozenset[SessionOfDay]) -> str:
    return BOTH if sessions == WHOLE_DAY else next(iter(sessions)).value


def recorded_la_years(session: Session, la_id: int) -> dict[int, AcademicYear]:
    """The LA's years recorded in the database, each as its latest row says."""
    rows = session.scalars(
        select(LaCalendarYear).where(LaCalendarYear.la_id == la_id).order_by(LaCalendarYear.id)
    )
    return {
        row.start_year: year_of(
            row.start_year,
            from_document(row.terms),
            provisional=row.provisional,
            source=row.source,
        )
        for row in rows
    }


def overrides_in_force(session: Session, school_id: int) -> list[SchoolCalendarOverride]:
    rows = list(
        session.scalars(
            select(SchoolCalendarOverride)
            .where(SchoolCalendarOverride.school_id == school_id)
            .order_by(SchoolCalendarOverride.id)
        )
    )
    superseded = {row.supersedes_id for row in rows if row.supersedes_id is not None}
    return [row for row in rows if row.id not in superseded and row.kind != WITHDRAWAL]


def school_calendar(session: Session, school: School | int) -> TermCalendar:
    if isinstance(school, int):
        found = session.get(School, school)
        if found is None:
            raise LookupError(f"no school with id {school}")
        school = found
    la = session.get(LocalAuthority, school.la_id)
    shipped = la_calendar(la.profile)
    years = {y.start_year: y for y in shipped.years} | recorded_la_years(session, la.id)
    return calendar_from(
        school.name,
        tuple(years[y] for y in sorted(years)),
        overrides_in_force(session, school.id),
        shipped.pattern,
    )


def calendar_from(
    school_name: str,
    la_years: tuple[AcademicYear, ...],
    overrides: list[SchoolCalendarOverride],
    pattern: Pattern | None,
) -> TermCalendar:
    own, insets, closures = [], [], []
    for row in overrides:
        if row.kind == TERM_DATES:
            own.append(
                year_of(
                    row.academic_year,
                    from_document(row.terms or []),
                    source=f"{school_name}'s own term dates",
                )
            )
        elif row.kind == INSET_DAY:
            insets.append(InsetDay(row.first_day, sessions_named(row.session), row.reason, row.id))
        elif row.kind == CLOSURE:
            closures.append(
                Closure(
                    DateRange(row.first_day, row.last_day or row.first_day),
                    sessions_named(row.session),
                    row.reason,
                    row.id,
                )
            )
    return TermCalendar(
        school_name,
        la_years,
        own_terms=tuple(own),
        inset_days=tuple(insets),
        closures=tuple(closures),
        pattern=pattern,
    )
