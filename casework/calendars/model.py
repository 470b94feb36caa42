"""A school's calendar: its LA's term dates for each academic year, the school's own changes, and
England bank holidays.

An academic year runs from 1 August to 31 July and is named by the calendar year it starts in
(2024 is 2024/25). It has three terms, autumn, spring and summer, each with an optional half-term
break. A school may replace its LA's terms for a year, take INSET days (a whole day or one
session) and record closures (one session, a day or several days) with a reason.

Years nobody has published: a calendar made with a ``pattern`` (every shipped LA has one; see
``casework.calendars.patterns``) generates them from the pattern and flags them provisional, so a
deadline can still be counted and shows it rests on provisional dates. Without a pattern, or
outside the years a pattern covers, asking about such a day raises ``OutsideCalendar`` naming the
day and the school: no day counts as a school day by default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from casework.durations import (
    NO_SESSIONS,
    WHOLE_DAY,
    SessionOfDay,
    england_bank_holiday_name,
)

TERM_NAMES = ("autumn", "spring", "summer")
HALF_TERM_BREAKS = {
    "autumn": "October half term",
    "spring": "February half term",
    "summer": "May half term",
}
HOLIDAY_AFTER = {"autumn": "Christmas holiday", "spring": "Easter holiday"}
SUMMER_HOLIDAY = "summer holiday"
INSET = "INSET day"
WEEKEND = "weekend"
# Generated years are only offered for these academic years: beyond them a pattern's guesses
# (and the bank holidays they rest on) mean nothing.
PATTERN_YEARS = range(2000, 2100)


def long_date(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def academic_year_of(day: date) -> int:
    return day.year if day.month >= 8 else day.year - 1


def year_label(start_year: int) -> str:
    return f"{start_year}/{(start_year + 1) % 100:02d}"


def year_span(start_year: int) -> DateRange:
    return DateRange(date(start_year, 8, 1), date(start_year + 1, 7, 31))


@dataclass(frozen=True, order=True)
class DateRange:
    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"{self.last} is before {self.first}")

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last

    def days(self) -> Iterator[date]:
        day = self.first
        while day <= self.last:
            yield day
            day += timedelta(days=1)

    def overlaps(self, other: DateRange) -> bool:
        return self.first <= other.last and other.first <= self.last

    def __str__(self) -> str:
        if self.first == self.last:
            return long_date(self.first)
        return f"{long_date(self.first)} to {long_date(self.last)}"


@dataclass(frozen=True)
class Term:
    name: str
    first: date
    last: date
    half_term: DateRange | None = None

    @property
    def span(self) -> DateRange:
        return DateRange(self.first, self.last)


@dataclass(frozen=True)
class AcademicYear:
    start_year: int
    terms: tuple[Term, ...]
    provisional: bool = False
    source: str = ""

    @property
    def label(self) -> str:
        return year_label(self.start_year)

    @property
    def span(self) -> DateRange:
        return year_span(self.start_year)


@dataclass(frozen=True)
class InsetDay:
    day: date
    sessions: frozenset[SessionOfDay] = WHOLE_DAY
    reason: str = ""
    ident: int | None = None


@dataclass(frozen=True)
class Closure:
    days: DateRange
    sessions: frozenset[SessionOfDay]
    reason: str
    ident: int | None = None


@dataclass(frozen=True)
class HalfTerm:
    """A teaching half term: from a term's start to its half-term break (part 1), or from the
    break to the term's end (part 2); a term without a break is one half term (part 0)."""

    term: str
    part: int
    span: DateRange

    @property
    def name(self) -> str:
        return f"{self.term} {self.part}" if self.part else self.term

    @property
    def description(self) -> str:
        """E.g. "the second half of the autumn term (Sat 2 Nov 2024 to Fri 20 Dec 2024)"."""
        if not self.part:
            return f"the {self.term} term ({self.span})"
        half = "first" if self.part == 1 else "second"
        return f"the {half} half of the {self.term} term ({self.span})"


@dataclass(frozen=True)
class DayInfo:
    day: date
    sessions: frozenset[SessionOfDay]
    why: str  # why sessions are missing ("PM: INSET day", "October half term"); "" when none is


class OutsideCalendar(ValueError):
    """A day in an academic year the calendar has no term dates for."""

    def __init__(self, school: str, day: date):
        self.school = school
        self.day = day
        super().__init__(
            f"{school}'s calendar has no term dates for {year_label(academic_year_of(day))} "
            f"(asked about {long_date(day)}): record the LA's dates for that year"
        )


Pattern = Callable[[int], AcademicYear]


@dataclass(frozen=True, eq=False)
class TermCalendar:
    """One school's calendar; implements ``casework.durations.SchoolCalendar``.

    ``la_years`` are the LA's years; ``own_terms`` replace them for the years they cover. Frozen:
    the two private dicts only cache generated years and each year's day-by-day answers.
    """

    school: str
    la_years: tuple[AcademicYear, ...] = ()
    own_terms: tuple[AcademicYear, ...] = ()
    inset_days: tuple[InsetDay, ...] = ()
    closures: tuple[Closure, ...] = ()
    pattern: Pattern | None = None
    _years: dict[int, AcademicYear] = field(default_factory=dict, init=False, repr=False)
    _days: dict[int, dict[date, DayInfo]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for year in (*self.la_years, *self.own_terms):  # own terms come last, so they win
            self._years[year.start_year] = year

    def replace(self, **changes: object) -> TermCalendar:
        """A copy with some of the school's changes swapped (validation tries a change on it)."""
        fields = {
            "school": self.school,
            "la_years": self.la_years,
            "own_terms": self.own_terms,
            "inset_days": self.inset_days,
            "closures": self.closures,
            "pattern": self.pattern,
        }
        return TermCalendar(**(fields | changes))  # type: ignore[arg-type]

    # --- years --------------------------------------------------------------------------------

    def year(self, start_year: int, *, asked_about: date | None = None) -> AcademicYear:
        found = self._years.get(start_year)
        if found is None:
            if self.pattern is None or start_year not in PATTERN_YEARS:
                raise OutsideCalendar(self.school, asked_about or date(start_year, 9, 1))
            found = self._years.setdefault(start_year, self.pattern(start_year))
        return found

    def academic_year(self, day: date) -> AcademicYear:
        return self.year(academic_year_of(day), asked_about=day)

    def is_provisional(self, day: date) -> bool:
        return self.academic_year(day).provisional

    # --- days ---------------------------------------------------------------------------------

    def info(self, day: date) -> DayInfo:
        start_year = academic_year_of(day)
        table = self._days.get(start_year)
        if table is None:
            table = self._days.setdefault(start_year, self._day_table(start_year, day))
        return table[day]

    def sessions_on(self, day: date) -> frozenset[SessionOfDay]:
        return self.info(day).sessions

    def is_school_day(self, day: date) -> bool:
        return bool(self.info(day).sessions)

    def why_closed(self, day: date) -> str:
        return self.info(day).why

    def _day_table(self, start_year: int, asked_about: date) -> dict[date, DayInfo]:
        year = self.year(start_year, asked_about=asked_about)
        terms = sorted(year.terms, key=lambda t: t.first)
        insets: dict[date, list[InsetDay]] = {}
        for inset in self.inset_days:
            insets.setdefault(inset.day, []).append(inset)
        span = year.span
        closures = [c for c in self.closures if c.days.overlaps(span)]
        table = {}
        for day in span.days():
            table[day] = self._day(day, terms, insets.get(day, ()), closures)
        return table

    def _day(
        self,
        day: date,
        terms: list[Term],
        insets: Iterable[InsetDay],
        closures: list[Closure],
    ) -> DayInfo:
        if day.weekday() >= 5:
            return DayInfo(day, NO_SESSIONS, WEEKEND)
        bank_holiday = england_bank_holiday_name(day)
        if bank_holiday:
            return DayInfo(day, NO_SESSIONS, bank_holiday)
        term = next((t for t in terms if day in t.span), None)
        if term is None:
            return DayInfo(day, NO_SESSIONS, _holiday(day, terms))
        if term.half_term is not None and day in term.half_term:
            return DayInfo(day, NO_SESSIONS, HALF_TERM_BREAKS.get(term.name, "half term"))
        sessions, whys = WHOLE_DAY, []
        for inset in insets:
            sessions -= inset.sessions
            whys.append(_partly(inset.sessions, INSET))
        for closure in closures:
            if day in closure.days:
                sessions -= closure.sessions
                whys.append(_partly(closure.sessions, f"closure ({closure.reason})"))
        return DayInfo(day, sessions, "; ".join(whys))

    # --- half terms ---------------------------------------------------------------------------

    def half_terms(self, start_year: int) -> tuple[HalfTerm, ...]:
        found = []
        for term in sorted(self.year(start_year).terms, key=lambda t: t.first):
            gap = term.half_term
            if gap is None:
                found.append(HalfTerm(term.name, 0, term.span))
                continue
            found.append(HalfTerm(term.name, 1, DateRange(term.first, gap.first - _DAY)))
            found.append(HalfTerm(term.name, 2, DateRange(gap.last + _DAY, term.last)))
        return tuple(found)

    def half_term_containing(self, day: date) -> HalfTerm:
        """The half term ``day`` falls in; in a holiday, the half term that follows it."""
        start_year = academic_year_of(day)
        for candidate in (start_year, start_year + 1):
            asked = day if candidate == start_year else date(candidate, 9, 1)
            self.year(candidate, asked_about=asked)
            for half in self.half_terms(candidate):
                if day <= half.span.last:
                    return half
        raise OutsideCalendar(self.school, day)

    def end_of_half_term(self, day: date) -> date:
        """The last school day of the half term containing ``day`` (the next half term's when
        ``day`` is past that one's last school day, e.g. the weekend before a break)."""
        half = self.half_term_containing(day)
        for _ in range(12):
            last = next(
                (d for d in _days_back(half.span) if d >= day and self.is_school_day(d)), None
            )
            if last is not None:
                return last
            half = self.half_term_containing(half.span.last + _DAY)
        raise ValueError(f"no school day in the half terms after {long_date(day)}")

    # --- what a year holds ----------------------------------------------------------------------

    def bank_holidays(self, start_year: int) -> list[tuple[date, str]]:
        return [
            (day, name)
            for day in year_span(start_year).days()
            if day.weekday() < 5 and (name := england_bank_holiday_name(day))
        ]

    def inset_days_in(self, start_year: int) -> list[InsetDay]:
        span = year_span(start_year)
        return sorted((i for i in self.inset_days if i.day in span), key=lambda i: i.day)

    def closures_in(self, start_year: int) -> list[Closure]:
        span = year_span(start_year)
        return sorted((c for c in self.closures if c.days.overlaps(span)), key=lambda c: c.days)

    def sessions_in(self, start_year: int) -> int:
        return sum(len(self.sessions_on(day)) for day in year_span(start_year).days())


_DAY = timedelta(days=1)


def _days_back(span: DateRange) -> Iterator[date]:
    day = span.last
    while day >= span.first:
        yield day
        day -= _DAY


def _partly(sessions: frozenset[SessionOfDay], why: str) -> str:
    if sessions == WHOLE_DAY:
        return why
    return f"{'/'.join(s.value.upper() for s in sorted(sessions))}: {why}"


def _holiday(day: date, terms: Iterable[Term]) -> str:
    before = [t for t in terms if t.last < day]
    after = [t for t in terms if t.first > day]
    if not before or not after:
        return SUMMER_HOLIDAY
    return HOLIDAY_AFTER.get(before[-1].name, "holiday")
