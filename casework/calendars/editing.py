"""Changing calendars: a school's own term dates, INSET days and closures, and an LA's year.

Append-only: every change is a new row with who, when and why. A correction names the entry it
replaces (``supersedes``), a withdrawal removes one; the replaced row stays, so the history of
any date can be shown. Each change returns the date ranges whose school days it may have moved:
deadlines still pending that were counted across them need recomputing (the caller does that).

Who may change what: school staff their own school's calendar; admins any school's in their LA,
and the LA's own years.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.calendars.config_files import la_calendar
from casework.calendars.documents import TermSpec, to_document
from casework.calendars.model import (
    AcademicYear,
    DateRange,
    TermCalendar,
    academic_year_of,
    year_label,
)
from casework.calendars.rules import check_closure, check_inset, check_terms
from casework.calendars.store import (
    CLOSURE,
    INSET_DAY,
    TERM_DATES,
    WITHDRAWAL,
    calendar_from,
    overrides_in_force,
    recorded_la_years,
    school_calendar,
    session_name,
    sessions_named,
)
from casework.errors import FieldProblem, Forbidden, InvalidInput
from casework.models import LaCalendarYear, LocalAuthority, School, SchoolCalendarOverride
from casework.scope import Scope
from casework.vocabulary import Role


class ChangeKind(StrEnum):
    TERM_DATES = TERM_DATES
    INSET_DAY = INSET_DAY
    CLOSURE = CLOSURE
    WITHDRAWAL = WITHDRAWAL


@dataclass(frozen=True)
class CalendarChange:
    kind: ChangeKind
    reason: str
    first: date | None = None  # the INSET day, or a closure's first day
    last: date | None = None  # a closure's last day (its first, if not given)
    session: str = "both"  # am, pm or both
    academic_year: int | None = None  # own term dates: the year they replace (2024 = 2024/25)
    terms: list[TermSpec] | None = None
    supersedes: int | None = None  # the entry this corrects or withdraws


@dataclass(frozen=True)
class Recorded:
    entry_id: int
    affected: list[DateRange]  # school days may have moved inside these; merged, in order


def change_school_calendar(
    session: Session, scope: Scope, school: School, change: CalendarChange, now: datetime
) -> Recorded:
    """Record ``change`` on ``school``'s calendar (``school`` already found within ``scope``)."""
    allowed = (scope.role is Role.SCHOOL_STAFF and school.id in scope.school_ids) or (
        scope.role is Role.ADMIN and school.la_id == scope.la_id
    )
    if not allowed:
        raise Forbidden("only the school's own staff, or an LA admin, may change its calendar")
    if not change.reason.strip():
        raise InvalidInput.one("reason", change.reason, "say why the calendar changes")
    # One change per school at a time, so two INSET days cannot both be the fifth.
    session.execute(select(School.id).where(School.id == school.id).with_for_update())
    in_force = overrides_in_force(session, school.id)
    replaced = _replaced(in_force, change)
    current = school_calendar(session, school)
    base = calendar_from(
        school.name,
        current.la_years,
        [row for row in in_force if row is not replaced],
        current.pattern,
    )
    before = _range_of(current, base, replaced) if replaced else []
    match change.kind:
        case ChangeKind.WITHDRAWAL:
            assert replaced is not None  # _replaced insists on it
            row, touched = (
                SchoolCalendarOverride(kind=WITHDRAWAL, academic_year=replaced.academic_year),
                [],
            )
        case ChangeKind.TERM_DATES:
            row, touched = _term_dates(current, change, replaced, in_force)
        case ChangeKind.INSET_DAY:
            row, touched = _inset_day(base, change)
        case ChangeKind.CLOSURE:
            row, touched = _closure(base, change)
        case _:
            raise InvalidInput.one("kind", change.kind, "is not a kind of calendar change")
    row.school_id = school.id
    row.reason = change.reason.strip()
    row.recorded_by_id = scope.user_id
    row.recorded_at = now
    row.supersedes_id = replaced.id if replaced else None
    session.add(row)
    session.flush()
    return Recorded(row.id, merge([*before, *touched]))


def _replaced(
    in_force: list[SchoolCalendarOverride], change: CalendarChange
) -> SchoolCalendarOverride | None:
    if change.supersedes is None:
        if change.kind is ChangeKind.WITHDRAWAL:
            raise InvalidInput.one("supersedes", None, "name the entry to withdraw")
        return None
    found = next((row for row in in_force if row.id == change.supersedes), None)
    if found is None:
        raise InvalidInput.one(
            "supersedes", change.supersedes, "names no entry in force on this school's calendar"
        )
    if change.kind is not ChangeKind.WITHDRAWAL and found.kind != change.kind:
        raise InvalidInput.one(
            "supersedes",
            change.supersedes,
            f"a correction replaces an entry of its own kind; entry {found.id} is a {found.kind}",
        )
    return found


Change = tuple[SchoolCalendarOverride, list[DateRange]]


def _inset_day(base: TermCalendar, change: CalendarChange) -> Change:
    day = _required(change.first, "first")
    sessions = sessions_named(change.session)
    _raise_if(check_inset(base, day, sessions))
    row = SchoolCalendarOverride(
        kind=INSET_DAY,
        academic_year=academic_year_of(day),
        first_day=day,
        last_day=day,
        session=session_name(sessions),
    )
    return row, [DateRange(day, day)]


def _closure(base: TermCalendar, change: CalendarChange) -> Change:
    first = _required(change.first, "first")
    last = change.last or first
    if last < first:
        raise InvalidInput.one("last", last.isoformat(), "a closure ends on or after it starts")
    sessions = sessions_named(change.session)
    _raise_if(check_closure(base, DateRange(first, last), sessions))
    row = SchoolCalendarOverride(
        kind=CLOSURE,
        academic_year=academic_year_of(first),
        first_day=first,
        last_day=last,
        session=session_name(sessions),
    )
    return row, [DateRange(first, last)]


def _term_dates(
    current: TermCalendar,
    change: CalendarChange,
    replaced: SchoolCalendarOverride | None,
    in_force: list[SchoolCalendarOverride],
) -> Change:
    start_year = _required(change.academic_year, "academic_year")
    terms = _required(change.terms, "terms")
    if replaced is not None and replaced.academic_year != start_year:
        raise InvalidInput.one(
            "academic_year",
            start_year,
            f"a correction keeps the year of the entry it corrects "
            f"({year_label(replaced.academic_year)})",
        )
    _raise_if(check_terms(start_year, terms))
    clash = next(
        (
            row
            for row in in_force
            if row.kind == TERM_DATES and row.academic_year == start_year and row is not replaced
        ),
        None,
    )
    if clash is not None:
        raise InvalidInput.one(
            "supersedes",
            change.supersedes,
            f"the school already has its own term dates for {year_label(start_year)} "
            f"(entry {clash.id}): name it in supersedes to correct it",
        )
    row = SchoolCalendarOverride(
        kind=TERM_DATES, academic_year=start_year, terms=to_document(terms)
    )
    was = _terms_span(current.year(start_year))
    return row, [was, DateRange(terms[0].first, terms[-1].last)]


def _range_of(
    current: TermCalendar, base: TermCalendar, row: SchoolCalendarOverride
) -> list[DateRange]:
    """Where the entry being replaced acted: own term dates act across both their span and the
    LA's dates they stood in for."""
    if row.kind == TERM_DATES:
        return [_terms_span(cal.year(row.academic_year)) for cal in (current, base)]
    return [DateRange(row.first_day, row.last_day or row.first_day)]


def _terms_span(year: AcademicYear) -> DateRange:
    return DateRange(min(t.first for t in year.terms), max(t.last for t in year.terms))


def record_la_year(
    session: Session,
    scope: Scope,
    start_year: int,
    terms: list[TermSpec],
    reason: str,
    now: datetime,
    *,
    source: str = "recorded by an LA admin",
) -> Recorded:
    """Record the LA's published term dates for a year (admins only). The affected ranges apply
    to every school of the LA that has no term dates of its own for the year."""
    if scope.role is not Role.ADMIN:
        raise Forbidden("only an LA admin may change the LA's term dates")
    if not reason.strip():
        raise InvalidInput.one("reason", reason, "say why the calendar changes")
    _raise_if(check_terms(start_year, terms))
    la = session.scalars(
        select(LocalAuthority).where(LocalAuthority.id == scope.la_id).with_for_update()
    ).one()
    earlier = recorded_la_years(session, la.id).get(start_year)
    if earlier is None:
        shipped = la_calendar(la.profile)
        earlier = next((y for y in shipped.years if y.start_year == start_year), None)
        earlier = earlier or shipped.pattern(start_year)
    row = LaCalendarYear(
        la_id=la.id,
        start_year=start_year,
        terms=to_document(terms),
        provisional=False,
        source=source,
        reason=reason.strip(),
        recorded_by_id=scope.user_id,
        recorded_at=now,
    )
    session.add(row)
    session.flush()
    return Recorded(
        row.id, merge([_terms_span(earlier), DateRange(terms[0].first, terms[-1].last)])
    )


def merge(ranges: list[DateRange]) -> list[DateRange]:
    """Overlapping or touching ranges as one."""
    merged: list[DateRange] = []
    for r in sorted(ranges):
        if merged and r.first <= merged[-1].last + timedelta(days=1):
            merged[-1] = DateRange(merged[-1].first, max(merged[-1].last, r.last))
        else:
            merged.append(r)
    return merged


def _required(value, field: str):
    if value is None:
        raise InvalidInput.one(field, None, "is required for this kind of change")
    return value


def _raise_if(problems: list[FieldProblem]) -> None:
    if problems:
        raise InvalidInput(problems)
