"""Why a duration lands where it does: the days (or weeks) that counted, and those skipped with
the reason (weekend, the bank holiday's name, half term, INSET day, closure).

The result always comes from ``casework.durations.add`` or ``measure``; the steps describe every
day or week between the two dates, numbered the same way, so the two cannot disagree without a
test noticing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta

from casework.calendars.model import (
    DateRange,
    TermCalendar,
    academic_year_of,
    long_date,
    year_label,
)
from casework.durations import (
    Duration,
    SchoolCalendar,
    TermUnit,
    Unit,
    add,
    england_bank_holiday_name,
    is_working_day,
    measure,
    monday_of,
    school_week_landings,
    sessions_on,
)

_DAY = timedelta(days=1)
_WEEK = timedelta(days=7)
_ORDINAL_WORD = {
    Unit.WORKING_DAYS: "working day",
    Unit.SCHOOL_DAYS: "school day",
    Unit.SCHOOL_WEEKS: "school week",
    TermUnit.SESSIONS: "session",
}


@dataclass(frozen=True)
class Step:
    """A day, a run of skipped days, or a week (``first`` a Monday, ``last`` its Sunday)."""

    first: date
    last: date
    counted: tuple[int, ...] = ()  # which units (1st, 2nd, ...) this step holds; () = skipped
    why: str = ""  # why it was skipped, or what was closed in a step that still counted
    days: tuple[date, ...] = ()  # a week's school days
    week: bool = False

    def line(self, unit: Unit | TermUnit) -> str:
        when = (
            f"week of {long_date(self.first)}"
            if self.week
            else str(DateRange(self.first, self.last))
        )
        if not self.counted:
            return f"  {when}: skipped ({self.why})"
        word = _ORDINAL_WORD[unit]
        if len(self.counted) == 1:
            said = f"{word} {self.counted[0]}"
        else:
            said = f"{word}s {self.counted[0]}-{self.counted[-1]}"
        if self.week:
            said += f", {len(self.days)} school day{'s' if len(self.days) != 1 else ''}"
        return f"  {when}: {said}" + (f" ({self.why})" if self.why else "")


@dataclass(frozen=True)
class Explanation:
    start: date
    end: date  # the date reached (adding) or the date measured to
    duration: Duration  # what was added, or what was measured (its amount is the count)
    measured: bool
    steps: tuple[Step, ...]
    summary: str
    provisional_years: tuple[str, ...]

    def lines(self) -> list[str]:
        if self.measured:
            unit = self.duration.unit.value.replace("_", " ")
            head = f"{unit.capitalize()} from {long_date(self.start)} to {long_date(self.end)}:"
        else:
            head = f"{self.duration} after {long_date(self.start)}:"
        lines = [head, *(s.line(self.duration.unit) for s in self.steps), f"  => {self.summary}"]
        if self.provisional_years:
            lines.append(
                "  Provisional: "
                + ", ".join(self.provisional_years)
                + " term dates are generated from the LA's pattern, not published."
            )
        return lines


def explain_add(cal: SchoolCalendar, start: date, duration: Duration) -> Explanation:
    result = add(cal, start, duration)
    steps, summary = _describe(cal, start, result, duration, measured=False)
    return Explanation(
        start, result, duration, False, steps, summary, _provisional(cal, start, result)
    )


def explain_measure(
    cal: SchoolCalendar, start: date, end: date, unit: Unit | TermUnit
) -> Explanation:
    count = measure(cal, start, end, unit)
    duration = Duration(count, unit)
    steps, summary = _describe(cal, start, end, duration, measured=True)
    return Explanation(start, end, duration, True, steps, summary, _provisional(cal, start, end))


def why_not_open(cal: SchoolCalendar, day: date) -> str:
    """Why ``day`` (or some of its sessions) is closed; "" when it is open all day."""
    own = getattr(cal, "why_closed", None)
    if own is not None:
        return own(day)
    if day.weekday() >= 5:
        return "weekend"
    if cal.is_school_day(day):
        return ""
    return england_bank_holiday_name(day) or "not a school day"


def _why_not_working(day: date) -> str:
    return "weekend" if day.weekday() >= 5 else england_bank_holiday_name(day) or ""


def _describe(
    cal: SchoolCalendar, start: date, end: date, duration: Duration, *, measured: bool
) -> tuple[tuple[Step, ...], str]:
    n, unit = duration.amount, duration.unit
    days = [start + _DAY * i for i in range(1, (end - start).days + 1)]
    match unit:
        case Unit.CALENDAR_DAYS:
            return (), f"{long_date(end)}: every day counts ({n} after {long_date(start)})"
        case Unit.MONTHS:
            return (), (
                f"{long_date(end)}: {n} month{'s' if n != 1 else ''} after {long_date(start)}"
                + ("" if measured else " (same day of the month, or the month's last day)")
            )
        case Unit.WORKING_DAYS:
            steps = _day_steps(days, lambda d: int(is_working_day(d)), _why_not_working)
        case Unit.SCHOOL_DAYS:
            steps = _day_steps(
                days, lambda d: int(cal.is_school_day(d)), lambda d: why_not_open(cal, d)
            )
        case TermUnit.SESSIONS:
            steps = _day_steps(
                days, lambda d: len(sessions_on(cal, d)), lambda d: why_not_open(cal, d)
            )
            if not measured:
                steps = _clip(steps, n)
        case Unit.SCHOOL_WEEKS:
            return _week_steps(cal, start, end, n, measured)
        case TermUnit.END_OF_HALF_TERM:
            return (), _half_term_summary(cal, start, end)
        case _:
            raise ValueError(f"unknown unit {unit}")
    word = _ORDINAL_WORD[unit]
    if measured:
        return tuple(steps), f"{n} {word}{'s' if n != 1 else ''}"
    return tuple(steps), f"{long_date(end)} ({word} {n})" if n else f"{long_date(end)} (no change)"


def _day_steps(
    days: Iterable[date], counts: Callable[[date], int], why: Callable[[date], str]
) -> list[Step]:
    steps: list[Step] = []
    ordinal = 0
    for day in days:
        n = counts(day)
        if n:
            steps.append(Step(day, day, tuple(range(ordinal + 1, ordinal + n + 1)), why(day)))
            ordinal += n
            continue
        reason = why(day)
        last = steps[-1] if steps else None
        if last and not last.counted and last.why == reason and last.last == day - _DAY:
            steps[-1] = replace(last, last=day)
        else:
            steps.append(Step(day, day, (), reason))
    return steps


def _clip(steps: list[Step], n: int) -> list[Step]:
    """Adding sessions can stop at a day's AM: leave the PM it did not need uncounted."""
    if steps and steps[-1].counted and steps[-1].counted[-1] > n:
        steps[-1] = replace(steps[-1], counted=tuple(c for c in steps[-1].counted if c <= n))
    return steps


def _week_steps(
    cal: SchoolCalendar, start: date, end: date, n: int, measured: bool
) -> tuple[tuple[Step, ...], str]:
    landings = dict(school_week_landings(cal, start, monday_of(end)))
    steps, ordinal = [], 0
    week = monday_of(start) + _WEEK
    last_week = monday_of(end)
    while week <= last_week and (measured or ordinal < n):
        week_days = [week + _DAY * i for i in range(7)]
        if week not in landings:
            steps.append(Step(week, week + 6 * _DAY, (), _week_why(cal, week_days), week=True))
        elif measured and landings[week] > end:
            why = f"not complete: its {landings[week]:%A} is {long_date(landings[week])}"
            steps.append(Step(week, week + 6 * _DAY, (), why, week=True))
        else:
            ordinal += 1
            school_days = tuple(d for d in week_days if cal.is_school_day(d))
            closed = _closed_weekdays(cal, week_days[:5])
            steps.append(Step(week, week + 6 * _DAY, (ordinal,), closed, school_days, True))
        week += _WEEK
    if measured:
        return tuple(steps), f"{n} school week{'s' if n != 1 else ''}"
    if n == 0:
        return tuple(steps), f"{long_date(end)} (no weeks to count)"
    target = monday_of(start) if not steps else steps[-1].first
    target += _DAY * start.weekday()
    if target == end:
        return tuple(steps), f"{long_date(end)} ({end:%A} of school week {n})"
    said = (
        f"{long_date(end)}: {long_date(target)} ({target:%A} of school week {n}) is not a "
        f"school day ({why_not_open(cal, target)}), so the next school day"
    )
    return tuple(steps), said


def _closed_weekdays(cal: SchoolCalendar, weekdays: list[date]) -> str:
    """What was closed in a week that still counted: "Wed 23 Jul to Fri 25 Jul: summer holiday"."""
    runs: list[tuple[date, date, str]] = []
    for day in weekdays:
        why = why_not_open(cal, day)
        if not why:
            continue
        if runs and runs[-1][2] == why and runs[-1][1] == day - _DAY:
            runs[-1] = (runs[-1][0], day, why)
        else:
            runs.append((day, day, why))
    return "; ".join(
        f"{_short(a)}{'' if a == b else ' to ' + _short(b)}: {why}" for a, b, why in runs
    )


def _short(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def _week_why(cal: SchoolCalendar, week_days: list[date]) -> str:
    reasons: list[str] = []
    for day in week_days[:5]:
        why = why_not_open(cal, day)
        if why and why not in reasons:
            reasons.append(why)
    return ", ".join(reasons) or "no sessions"


def _half_term_summary(cal: TermCalendar, start: date, end: date) -> str:
    half = cal.half_term_containing(start)
    if start >= half.span.first and end <= half.span.last:
        where = f"is in {half.description}"
    else:
        why = why_not_open(cal, start) or "after its last school day"
        where = f"is outside a half term ({why}); the next is {half.description}"
        if end > half.span.last:
            where = f"is past the last school day of {half.description}, so the next one's"
    return f"{long_date(end)}, the last school day of the half term: {long_date(start)} {where}"


def _provisional(cal: SchoolCalendar, start: date, end: date) -> tuple[str, ...]:
    year_of = getattr(cal, "year", None)
    if year_of is None:
        return ()
    first, last = sorted((academic_year_of(start), academic_year_of(end)))
    return tuple(year_label(y) for y in range(first, last + 1) if year_of(y).provisional)
