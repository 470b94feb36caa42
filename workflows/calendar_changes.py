"""Changing a calendar and moving the deadlines it moves, in one transaction.

The calendar edits (``casework.calendars.editing``) record the change and say which dates it may
have moved; ``workflows.recompute`` then counts again the pending deadlines of the schools
concerned: the school itself for its own change, and for an LA year every school of the LA
without term dates of its own for that year. The controller only commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from casework import calendars
from casework.calendars import CalendarChange, ChangeKind, DateRange, Recorded
from casework.calendars.documents import TermSpec
from casework.calendars.model import long_date, year_label
from casework.calendars.store import TERM_DATES, overrides_in_force
from casework.models import School, SchoolCalendarOverride
from workflows.context import Context
from workflows.events import Actor
from workflows.recompute import MovedDeadline, recompute_deadlines


@dataclass(frozen=True)
class CalendarEdit:
    recorded: Recorded
    moved: list[MovedDeadline]


def change_school_calendar(ctx: Context, school: School, change: CalendarChange) -> CalendarEdit:
    recorded = calendars.change_school_calendar(ctx.session, ctx.scope, school, change, ctx.now())
    why = f"{_what(change)} (calendar entry {recorded.entry_id}): {change.reason.strip()}"
    return CalendarEdit(recorded, _recompute(ctx, [school.id], recorded.affected, why))


def record_la_year(
    ctx: Context, start_year: int, terms: list[TermSpec], reason: str, *, source: str
) -> CalendarEdit:
    recorded = calendars.record_la_year(
        ctx.session, ctx.scope, start_year, terms, reason, ctx.now(), source=source
    )
    why = (
        f"the LA's term dates for {year_label(start_year)} recorded "
        f"(calendar entry {recorded.entry_id}): {reason.strip()}"
    )
    schools = _schools_on_la_dates(ctx, ctx.scope.la_id, start_year)
    return CalendarEdit(recorded, _recompute(ctx, schools, recorded.affected, why))


def _recompute(
    ctx: Context, school_ids: list[int], affected: list[DateRange], why: str
) -> list[MovedDeadline]:
    ctx.forget_calendar()  # the cached calendars no longer hold
    return recompute_deadlines(
        ctx.session,
        school_ids,
        affected,
        actor=Actor(ctx.actor.id, ctx.actor.full_name, ctx.actor.position),
        now=ctx.now(),
        why=why,
        reminder_school_days=ctx.profile.reminder_school_days,
    )


def _schools_on_la_dates(ctx: Context, la_id: int, start_year: int) -> list[int]:
    """The LA's schools that follow its term dates for ``start_year`` (no own dates in force)."""
    schools = list(ctx.session.scalars(select(School.id).where(School.la_id == la_id)))
    with_own = set(
        ctx.session.scalars(
            select(SchoolCalendarOverride.school_id).where(
                SchoolCalendarOverride.school_id.in_(schools),
                SchoolCalendarOverride.kind == TERM_DATES,
                SchoolCalendarOverride.academic_year == start_year,
            )
        )
    )
    own = {
        school_id
        for school_id in with_own
        if any(
            row.kind == TERM_DATES and row.academic_year == start_year
            for row in overrides_in_force(ctx.session, school_id)
        )
    }
    return [s for s in schools if s not in own]


def _what(change: CalendarChange) -> str:
    corrects = f", correcting entry {change.supersedes}" if change.supersedes else ""
    match change.kind:
        case ChangeKind.INSET_DAY:
            return f"INSET day on {long_date(change.first)}{corrects}"
        case ChangeKind.CLOSURE:
            span = DateRange(change.first, change.last or change.first)
            return f"closure {span}{corrects}"
        case ChangeKind.TERM_DATES:
            return f"the school's own term dates for {year_label(change.academic_year)}{corrects}"
        case ChangeKind.WITHDRAWAL:
            return f"calendar entry {change.supersedes} withdrawn"
    return f"calendar change ({change.kind})"
