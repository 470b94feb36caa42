"""Changing a calendar, and moving the registers and deadlines it moves, in one transaction.

The calendar edits (``casework.calendars.editing``) record the change and say which dates it may
have moved. Then:

- registers: every register of the schools concerned for the academic years the change touched
  is re-laid on the school's new session index (``casework.registers.store.relay_registers``);
  when a register holds a mark on a session the change would remove, the whole change is refused
  with InvalidInput on the change's own field (its date, terms or entry) saying which sessions and
  how many pupils' marks, and nothing changes;
- deadlines: ``workflows.recompute`` counts again the pending deadlines of the schools concerned.

The schools concerned: the school itself for its own change; for an LA year, every school of the
LA (for registers those whose index for the year actually changed, for deadlines those without
term dates of their own for that year). The school rows are locked FOR UPDATE before their
calendars are read as they were, so no other calendar change or register writer
(``record_marks`` holds a share lock on the school) can slip in between. The controller only
commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from casework import calendars
from casework.calendars import CalendarChange, ChangeKind, DateRange, Recorded, TermCalendar
from casework.calendars.documents import TermSpec
from casework.calendars.model import academic_year_of, long_date, year_label
from casework.calendars.store import TERM_DATES, overrides_in_force, school_calendar
from casework.errors import InvalidInput
from casework.events import Actor
from casework.models import LocalAuthority, RegisterYear, School, SchoolCalendarOverride
from casework.registers.store import MarksInTheWay, Relaid, relay_registers
from workflows.context import Context
from workflows.recompute import MovedDeadline, recompute_deadlines


@dataclass(frozen=True)
class CalendarEdit:
    recorded: Recorded
    moved: list[MovedDeadline]
    relaid: Relaid = field(default_factory=Relaid)  # registers moved onto the new calendar


def change_school_calendar(ctx: Context, school: School, change: CalendarChange) -> CalendarEdit:
    # The same lock the edit takes, taken first so the calendar read here is the one replaced.
    ctx.session.execute(select(School.id).where(School.id == school.id).with_for_update())
    before = _calendars_before(ctx, [school.id], years=None)
    recorded = calendars.change_school_calendar(ctx.session, ctx.scope, school, change, ctx.now())
    relaid = _relay(ctx, before, _years_of(recorded.affected), *_changed_field(change))
    why = f"{_what(change)} (calendar entry {recorded.entry_id}): {change.reason.strip()}"
    return CalendarEdit(recorded, _recompute(ctx, [school.id], recorded.affected, why), relaid)


def record_la_year(
    ctx: Context, start_year: int, terms: list[TermSpec], reason: str, *, source: str
) -> CalendarEdit:
    # The LA row first (as the edit does), then every school of the LA, in id order.
    ctx.session.execute(
        select(LocalAuthority.id).where(LocalAuthority.id == ctx.scope.la_id).with_for_update()
    )
    la_schools = list(
        ctx.session.scalars(
            select(School.id)
            .where(School.la_id == ctx.scope.la_id)
            .order_by(School.id)
            .with_for_update()
        )
    )
    before = _calendars_before(ctx, la_schools, years=[start_year])
    recorded = calendars.record_la_year(
        ctx.session, ctx.scope, start_year, terms, reason, ctx.now(), source=source
    )
    relaid = _relay(ctx, before, {start_year}, "terms", _terms_value(terms))
    why = (
        f"the LA's term dates for {year_label(start_year)} recorded "
        f"(calendar entry {recorded.entry_id}): {reason.strip()}"
    )
    schools = _schools_on_la_dates(ctx, ctx.scope.la_id, start_year)
    return CalendarEdit(recorded, _recompute(ctx, schools, recorded.affected, why), relaid)


def _calendars_before(
    ctx: Context, school_ids: list[int], *, years: list[int] | None
) -> dict[int, TermCalendar]:
    """The calendars, as they stand, of those schools that hold registers (for ``years``)."""
    if not school_ids:
        return {}
    query = select(RegisterYear.school_id).where(RegisterYear.school_id.in_(school_ids))
    if years is not None:
        query = query.where(RegisterYear.academic_year.in_(years))
    holding = sorted(set(ctx.session.scalars(query.distinct())))
    return {school_id: school_calendar(ctx.session, school_id) for school_id in holding}


def _relay(
    ctx: Context,
    before: dict[int, TermCalendar],
    years: set[int],
    field_name: str,
    value: object,
) -> Relaid:
    ctx.forget_calendar()  # the cached calendars no longer hold
    if not before:
        return Relaid()
    try:
        return relay_registers(ctx.session, before, years, at=ctx.now())
    except MarksInTheWay as lost:
        raise InvalidInput.one(field_name, value, lost.rule) from None


def _years_of(affected: list[DateRange]) -> set[int]:
    years: set[int] = set()
    for span in affected:
        years.update(range(academic_year_of(span.first), academic_year_of(span.last) + 1))
    return years


def _changed_field(change: CalendarChange) -> tuple[str, object]:
    """The field of the change that says which days it acts on, and its value as given."""
    match change.kind:
        case ChangeKind.INSET_DAY | ChangeKind.CLOSURE:
            return "first", change.first.isoformat() if change.first else None
        case ChangeKind.TERM_DATES:
            return "terms", _terms_value(change.terms or [])
    return "supersedes", change.supersedes


def _terms_value(terms: list[TermSpec]) -> list[str]:
    return [f"{t.first.isoformat()}..{t.last.isoformat()}" for t in terms]


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
