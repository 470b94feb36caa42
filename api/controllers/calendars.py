"""School calendars: read one, change it (own term dates, INSET days, closures), and add or
measure durations on it with the explanation. LA admins also record the LA's published years."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from api.deps import unit_of_work
from casework import queries
from casework.calendars import (
    CalendarChange,
    ChangeKind,
    Explanation,
    OutsideCalendar,
    TermCalendar,
    explain_add,
    explain_measure,
    school_calendar,
)
from casework.calendars.documents import TermSpec, spec_of
from casework.calendars.model import academic_year_of
from casework.calendars.store import session_name
from casework.durations import parse_duration, parse_unit
from casework.errors import InvalidInput
from workflows import calendar_changes
from workflows.calendar_changes import CalendarEdit

Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
StartYear = Annotated[int, msgspec.Meta(ge=2000, le=2099)]


class RangeOut(msgspec.Struct):
    first: date
    last: date


class InsetOut(msgspec.Struct):
    id: int | None
    date: date
    session: str
    reason: str


class ClosureOut(msgspec.Struct):
    id: int | None
    first: date
    last: date
    session: str
    reason: str


class BankHolidayOut(msgspec.Struct):
    date: date
    name: str


class CalendarOut(msgspec.Struct):
    school_id: int
    school: str
    academic_year: int
    label: str
    provisional: bool
    source: str
    terms: list[TermSpec]
    inset_days: list[InsetOut]
    closures: list[ClosureOut]
    bank_holidays: list[BankHolidayOut]
    school_days: int
    sessions: int


class OverrideIn(msgspec.Struct, forbid_unknown_fields=True):
    """One change: ``inset_day`` (``first``, ``session``), ``closure`` (``first``, ``last``,
    ``session``), ``term_dates`` (``academic_year``, ``terms``) or ``withdrawal``
    (``supersedes``). Naming ``supersedes`` on the others corrects that entry."""

    kind: ChangeKind
    reason: Reason
    first: date | None = None
    last: date | None = None
    session: Literal["am", "pm", "both"] = "both"
    academic_year: StartYear | None = None
    terms: list[TermSpec] | None = None
    supersedes: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)] | None = None


class LaYearIn(msgspec.Struct, forbid_unknown_fields=True):
    academic_year: StartYear
    terms: list[TermSpec]
    reason: Reason
    source: Annotated[str, msgspec.Meta(min_length=1, max_length=300)] = "recorded by an LA admin"


class MovedOut(msgspec.Struct):
    deadline_id: int
    case_id: int
    kind: str
    old_due_on: date
    new_due_on: date


class RecordedOut(msgspec.Struct):
    id: int
    affected: list[RangeOut]  # pending deadlines counted across these dates were recomputed
    moved: list[MovedOut] = []  # the ones whose due (or reminder) date moved


class StepOut(msgspec.Struct):
    first: date
    last: date
    counted: list[int]
    why: str
    days: list[date]


class ExplanationOut(msgspec.Struct):
    summary: str
    lines: list[str]
    steps: list[StepOut]
    provisional_years: list[str]


class AddOut(msgspec.Struct):
    school_id: int
    start: date = msgspec.field(name="from")
    duration: str
    unit: str
    amount: int
    result: date
    explanation: ExplanationOut


class MeasureOut(msgspec.Struct):
    school_id: int
    start: date = msgspec.field(name="from")
    end: date = msgspec.field(name="to")
    unit: str
    count: int
    explanation: ExplanationOut


def _calendar_out(school_id: int, cal: TermCalendar, start_year: int) -> CalendarOut:
    year = cal.year(start_year)
    return CalendarOut(
        school_id,
        cal.school,
        start_year,
        year.label,
        year.provisional,
        year.source,
        [spec_of(t) for t in year.terms],
        [
            InsetOut(i.ident, i.day, session_name(i.sessions), i.reason)
            for i in cal.inset_days_in(start_year)
        ],
        [
            ClosureOut(c.ident, c.days.first, c.days.last, session_name(c.sessions), c.reason)
            for c in cal.closures_in(start_year)
        ],
        [BankHolidayOut(d, name) for d, name in cal.bank_holidays(start_year)],
        sum(1 for d in year.span.days() if cal.is_school_day(d)),
        cal.sessions_in(start_year),
    )


def _explanation_out(explained: Explanation) -> ExplanationOut:
    return ExplanationOut(
        explained.summary,
        explained.lines(),
        [StepOut(s.first, s.last, list(s.counted), s.why, list(s.days)) for s in explained.steps],
        list(explained.provisional_years),
    )


def _recorded_out(edit: CalendarEdit) -> RecordedOut:
    recorded = edit.recorded
    return RecordedOut(
        recorded.entry_id,
        [RangeOut(r.first, r.last) for r in recorded.affected],
        [
            MovedOut(m.deadline_id, m.case_id, m.kind, m.old_due_on, m.new_due_on)
            for m in edit.moved
        ],
    )


class CalendarController(Controller):
    path = "/"
    tags = ["calendars"]

    @get("/schools/{school_id:int}/calendar", sync_to_thread=True)
    def show(
        self,
        request: Request,
        school_id: FromPath[int],
        year: Annotated[int | None, QueryParameter(name="year", ge=2000, le=2099)] = None,
    ) -> CalendarOut:
        """A school's academic year (2024 = 2024/25; this year by default): terms, half terms,
        INSET days, closures and bank holidays, and whether the dates are provisional."""
        with unit_of_work(request) as ctx:
            school = queries.school(ctx.session, ctx.scope, school_id)
            start_year = year if year is not None else academic_year_of(ctx.today())
            return _calendar_out(school.id, school_calendar(ctx.session, school), start_year)

    @post("/schools/{school_id:int}/calendar/overrides", sync_to_thread=True)
    def change(
        self, request: Request, school_id: FromPath[int], data: JSONBody[OverrideIn]
    ) -> RecordedOut:
        """Add an INSET day, a closure or the school's own term dates, or correct or withdraw
        one (school staff for their school, admins for their LA's schools)."""
        with unit_of_work(request, write=True) as ctx:
            school = queries.school(ctx.session, ctx.scope, school_id)
            change = CalendarChange(
                kind=data.kind,
                reason=data.reason,
                first=data.first,
                last=data.last,
                session=data.session,
                academic_year=data.academic_year,
                terms=data.terms,
                supersedes=data.supersedes,
            )
            edit = calendar_changes.change_school_calendar(ctx, school, change)
            ctx.commit()
            return _recorded_out(edit)

    @get("/schools/{school_id:int}/calendar/add", sync_to_thread=True)
    def add(
        self,
        request: Request,
        school_id: FromPath[int],
        start: Annotated[date, QueryParameter(name="from")],
        duration: Annotated[str, QueryParameter(name="duration", max_length=100)],
    ) -> AddOut:
        """The date ``duration`` after ``from`` on the school's calendar, and how it was found."""
        try:
            parsed = parse_duration(duration)
        except ValueError as exc:
            raise InvalidInput.one("duration", duration, str(exc)) from None
        with unit_of_work(request) as ctx:
            school = queries.school(ctx.session, ctx.scope, school_id)
            cal = school_calendar(ctx.session, school)
            explained = _counted("from", start, lambda: explain_add(cal, start, parsed))
            return AddOut(
                school.id,
                start,
                str(parsed),
                parsed.unit.value,
                parsed.amount,
                explained.end,
                _explanation_out(explained),
            )

    @get("/schools/{school_id:int}/calendar/measure", sync_to_thread=True)
    def measure(
        self,
        request: Request,
        school_id: FromPath[int],
        start: Annotated[date, QueryParameter(name="from")],
        end: Annotated[date, QueryParameter(name="to")],
        unit: Annotated[str, QueryParameter(name="unit", max_length=100)],
    ) -> MeasureOut:
        """How many whole ``unit`` (school days, school weeks, sessions, ...) from ``from`` have
        elapsed by ``to``, and which days or weeks counted."""
        try:
            parsed = parse_unit(unit)
        except ValueError as exc:
            raise InvalidInput.one("unit", unit, str(exc)) from None
        if end < start:
            raise InvalidInput.one("to", end.isoformat(), "is on or after from")
        with unit_of_work(request) as ctx:
            school = queries.school(ctx.session, ctx.scope, school_id)
            cal = school_calendar(ctx.session, school)
            explained = _counted("unit", unit, lambda: explain_measure(cal, start, end, parsed))
            return MeasureOut(
                school.id,
                start,
                end,
                parsed.value,
                explained.duration.amount,
                _explanation_out(explained),
            )

    @post("/calendar/years", sync_to_thread=True)
    def record_year(self, request: Request, data: JSONBody[LaYearIn]) -> RecordedOut:
        """Record the signed-in admin's LA's term dates for an academic year; it wins over the
        shipped config file and the pattern for that year."""
        with unit_of_work(request, write=True) as ctx:
            edit = calendar_changes.record_la_year(
                ctx, data.academic_year, data.terms, data.reason, source=data.source
            )
            ctx.commit()
            return _recorded_out(edit)


def _counted(field: str, value: object, count):
    """Run ``count``, turning a question the calendar cannot answer into a 422 naming a field."""
    try:
        return count()
    except OutsideCalendar as exc:
        raise InvalidInput.one("from", exc.day.isoformat(), str(exc)) from None
    except ValueError as exc:
        raise InvalidInput.one(field, str(value), str(exc)) from None
