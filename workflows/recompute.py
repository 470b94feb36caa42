"""Moving pending deadlines when a school's calendar changes.

A deadline counted in school time rests on the school days between its start and its due date. A
calendar change (an INSET day, a closure, a school's own term dates, an LA's year) reports the
date ranges whose school days may have moved (``casework.calendars.Recorded.affected``); every
PENDING deadline of the schools concerned whose ``starts_on..due_on`` window touches one of them
is counted again on the school's calendar as it now stands, in the same transaction as the
change:

- a deadline with a period: ``add(calendar, starts_on, Duration(amount, unit))``;
- a deadline in calendar days (a Notice to Improve's expiry is the notice's own date) keeps its
  date: calendar days do not depend on the school's calendar;
- ``remind_on`` is counted again from the due date (``reminder_school_days`` school days before
  it; none when that is not after the start, as when the clock was armed).

Each deadline whose due date or reminder date moves gets a ``deadline_moved`` event on its case
naming the old date, the new one and the calendar change that moved it, attributed to the user
who changed the calendar. A row the calendar cannot count (outside every year it covers) keeps its
dates: nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from casework.calendars import DateRange, OutsideCalendar, school_calendar
from casework.calendars.model import long_date
from casework.durations import Duration, Unit, add, unit_named
from casework.events import Actor, append_event
from casework.models import Case
from casework.models.deadlines import Deadline
from casework.vocabulary import EventKind
from workflows.clocks import PENDING, school_days_before


@dataclass(frozen=True)
class MovedDeadline:
    deadline_id: int
    case_id: int
    kind: str
    old_due_on: date
    new_due_on: date
    old_remind_on: date | None
    new_remind_on: date | None


def recompute_deadlines(
    session: Session,
    school_ids: Iterable[int],
    affected: list[DateRange],
    *,
    actor: Actor,
    now: datetime,
    why: str,
    reminder_school_days: int,
) -> list[MovedDeadline]:
    """Count again every pending deadline of ``school_ids`` whose window touches ``affected``
    (see the module docstring); ``why`` names the calendar change for the case events."""
    schools = sorted(set(school_ids))
    if not schools or not affected:
        return []
    touches = or_(
        *(and_(Deadline.starts_on <= r.last, Deadline.due_on >= r.first) for r in affected)
    )
    rows = session.scalars(
        select(Deadline)
        .where(Deadline.status == PENDING, Deadline.school_id.in_(schools), touches)
        .order_by(Deadline.school_id, Deadline.case_id, Deadline.id)
    ).all()
    calendars = {}
    moved: list[MovedDeadline] = []
    for deadline in rows:
        calendar = calendars.get(deadline.school_id)
        if calendar is None:
            calendar = calendars[deadline.school_id] = school_calendar(session, deadline.school_id)
        unit = unit_named(deadline.unit)
        try:
            if unit is Unit.CALENDAR_DAYS:
                due_on = deadline.due_on
            else:
                due_on = add(calendar, deadline.starts_on, Duration(deadline.amount, unit))
            remind_on = school_days_before(calendar, due_on, reminder_school_days)
        except OutsideCalendar:
            continue
        remind_on = remind_on if remind_on > deadline.starts_on else None
        if (due_on, remind_on) == (deadline.due_on, deadline.remind_on):
            continue
        change = MovedDeadline(
            deadline.id,
            deadline.case_id,
            deadline.kind,
            deadline.due_on,
            due_on,
            deadline.remind_on,
            remind_on,
        )
        deadline.due_on, deadline.remind_on = due_on, remind_on
        _record(session, deadline.case, change, deadline.label, actor, now, why)
        moved.append(change)
    return moved


def _record(
    session: Session,
    case: Case,
    change: MovedDeadline,
    label: str,
    actor: Actor,
    now: datetime,
    why: str,
) -> None:
    if change.old_due_on != change.new_due_on:
        what = (
            f"{label}: due date moved from {long_date(change.old_due_on)} "
            f"to {long_date(change.new_due_on)}"
        )
    else:
        what = (
            f"{label}: reminder moved from {_day(change.old_remind_on)} "
            f"to {_day(change.new_remind_on)} (due date unchanged, {long_date(change.new_due_on)})"
        )
    append_event(
        session,
        case,
        actor,
        now,
        EventKind.DEADLINE_MOVED,
        reason=f"{what}, because the school's calendar changed: {why}",
        data={
            "deadline": change.deadline_id,
            "kind": change.kind,
            "old_due_on": change.old_due_on.isoformat(),
            "new_due_on": change.new_due_on.isoformat(),
            "old_remind_on": _iso(change.old_remind_on),
            "new_remind_on": _iso(change.new_remind_on),
            "why": why,
        },
    )


def _day(day: date | None) -> str:
    return long_date(day) if day else "none"


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
