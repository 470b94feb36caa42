"""What a calendar change must satisfy. Each check returns the broken rules (field, value, rule
in plain English); callers raise ``InvalidInput`` with them, so nothing half-valid is stored."""

from __future__ import annotations

from datetime import date

from casework.calendars.documents import TermSpec
from casework.calendars.model import (
    TERM_NAMES,
    Closure,
    DateRange,
    InsetDay,
    TermCalendar,
    academic_year_of,
    long_date,
    year_label,
    year_span,
)
from casework.durations import WHOLE_DAY, SessionOfDay, is_working_day
from casework.errors import FieldProblem

# CALENDARS.md: "A year has at least 380 sessions (190 days)".
MIN_DAYS_OF_TERM = 190
# Five INSET days a year, in whole days: a one-session INSET day counts as half of one.
MAX_INSET_DAYS = 5


def check_terms(start_year: int, terms: list[TermSpec], field: str = "terms") -> list[FieldProblem]:
    names = [t.name for t in terms]
    if names != list(TERM_NAMES):
        return [FieldProblem(field, names, "a year has three terms: autumn, spring, summer")]
    span = year_span(start_year)
    problems = []
    for i, term in enumerate(terms):
        problems += _check_term(f"{field}[{i}]", term, span, year_label(start_year))
        if i and term.first <= terms[i - 1].last:
            problems.append(
                FieldProblem(
                    f"{field}[{i}].first",
                    term.first.isoformat(),
                    f"the {term.name} term starts after the {terms[i - 1].name} term ends "
                    f"({long_date(terms[i - 1].last)})",
                )
            )
    if problems:
        return problems
    days = sum(_days_of_term(t) for t in terms)
    if days < MIN_DAYS_OF_TERM:
        problems.append(
            FieldProblem(
                field,
                days,
                f"a year needs at least {MIN_DAYS_OF_TERM} days (380 sessions) of term; "
                f"these terms give {days}",
            )
        )
    return problems


def _check_term(where: str, term: TermSpec, span: DateRange, label: str) -> list[FieldProblem]:
    problems = []
    for name, day in (("first", term.first), ("last", term.last)):
        if day not in span:
            problems.append(
                FieldProblem(f"{where}.{name}", day.isoformat(), f"falls outside {label} ({span})")
            )
        elif day.weekday() >= 5:
            problems.append(
                FieldProblem(
                    f"{where}.{name}",
                    day.isoformat(),
                    f"a term starts and ends on a weekday; {long_date(day)} is a weekend",
                )
            )
    if term.last < term.first:
        problems.append(
            FieldProblem(f"{where}.last", term.last.isoformat(), "a term ends after it starts")
        )
    if term.half_term:
        first, last = term.half_term
        if not (term.first < first <= last < term.last):
            problems.append(
                FieldProblem(
                    f"{where}.half_term",
                    [first.isoformat(), last.isoformat()],
                    "a half-term break starts and ends inside its term, first day first",
                )
            )
    return problems


def _days_of_term(term: TermSpec) -> int:
    half = DateRange(*term.half_term) if term.half_term else None
    return sum(
        1
        for day in DateRange(term.first, term.last).days()
        if is_working_day(day) and (half is None or day not in half)
    )


def _weight(sessions: frozenset[SessionOfDay]) -> float:
    return 1.0 if sessions == WHOLE_DAY else 0.5


def check_inset(
    cal: TermCalendar, day: date, sessions: frozenset[SessionOfDay]
) -> list[FieldProblem]:
    """An INSET day on ``cal`` (the school's calendar without the entry it corrects, if any)."""
    problems = _closed_already("first", cal, DateRange(day, day), sessions)
    if problems:
        return problems
    start_year = academic_year_of(day)
    taken = sum(_weight(i.sessions) for i in cal.inset_days_in(start_year))
    if taken + _weight(sessions) > MAX_INSET_DAYS:
        problems.append(
            FieldProblem(
                "first",
                day.isoformat(),
                f"a school has at most {MAX_INSET_DAYS} INSET days a year; "
                f"{year_label(start_year)} already has {taken:g}",
            )
        )
    return problems


def check_closure(
    cal: TermCalendar, days: DateRange, sessions: frozenset[SessionOfDay]
) -> list[FieldProblem]:
    """A closure on ``cal`` (the school's calendar without the entry it corrects, if any)."""
    if sessions != WHOLE_DAY and days.first != days.last:
        return [
            FieldProblem(
                "session",
                "/".join(sorted(sessions)),
                "a closure of one session covers one day",
            )
        ]
    if academic_year_of(days.first) != academic_year_of(days.last):
        return [
            FieldProblem(
                "last",
                days.last.isoformat(),
                "a closure lies within one academic year (1 August to 31 July)",
            )
        ]
    return _closed_already("first", cal, days, sessions)


def _closed_already(
    field: str, cal: TermCalendar, days: DateRange, sessions: frozenset[SessionOfDay]
) -> list[FieldProblem]:
    """Nothing recorded may already close ``sessions`` in ``days``, and both ends of ``days``
    must be school days."""
    problems = []
    for other in _entries(cal):
        other_days = other.days if isinstance(other, Closure) else DateRange(other.day, other.day)
        if other_days.overlaps(days) and other.sessions & sessions:
            what = "a closure" if isinstance(other, Closure) else "an INSET day"
            problems.append(
                FieldProblem(
                    field,
                    days.first.isoformat(),
                    f"overlaps {what} already recorded for {other_days}"
                    + (f" (entry {other.ident})" if other.ident else ""),
                )
            )
    if problems:
        return problems
    ends = [(field, days.first)] + ([("last", days.last)] if days.last != days.first else [])
    for name, day in ends:
        info = cal.info(day)
        if not info.sessions:
            problems.append(
                FieldProblem(
                    name,
                    day.isoformat(),
                    f"must be a school day; {long_date(day)} is not ({info.why})",
                )
            )
    return problems


def _entries(cal: TermCalendar) -> list[InsetDay | Closure]:
    return [*cal.inset_days, *cal.closures]
