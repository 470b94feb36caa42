"""The demo's calendar: the term dates the case histories run on, and the moments within a school
day that events are timed at.

The term dates are the ones the case services count on (``Context.calendar_for``): the demo LA
uses the Knowsley profile, so its schools follow Knowsley's shipped calendar
(config/calendars/knowsley.toml: the published years, then the Greater Merseyside pattern,
provisional), with England bank holidays. The demo records no INSET days or closures, so every
demo school's calendar is the LA's, and a story that waits "3 school weeks" waits on the same
school days the guards and clocks count. A term day is a day with sessions on that calendar.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from casework.calendars import TermCalendar
from casework.calendars.config_files import la_calendar

LONDON = ZoneInfo("Europe/London")
# The demo LA's profile (``api.demo.population.LA_PROFILE``), so its calendar file.
PROFILE = "knowsley"


class Term(NamedTuple):
    first: date
    last: date
    half_term: tuple[date, date] | None  # the break, usually Monday to Friday
    school_days: tuple[date, ...]

    def days(self) -> list[date]:
        """The term's school days."""
        return list(self.school_days)


@cache
def calendar() -> TermCalendar:
    """The demo LA's calendar, as ``casework.calendars.school_calendar`` builds it for a demo
    school with no changes of its own."""
    shipped = la_calendar(PROFILE)
    return TermCalendar("the demo LA", shipped.years, pattern=shipped.pattern)


@cache
def terms(year: int) -> tuple[Term, Term, Term]:
    """Autumn, spring and summer terms of the academic year beginning in September ``year``."""
    cal = calendar()
    found = []
    for term in sorted(cal.year(year).terms, key=lambda t: t.first):
        gap = term.half_term
        found.append(
            Term(
                term.first,
                term.last,
                (gap.first, gap.last) if gap else None,
                tuple(d for d in term.span.days() if cal.is_school_day(d)),
            )
        )
    autumn, spring, summer = found
    return autumn, spring, summer


@cache
def _term_days(year: int) -> tuple[date, ...]:
    return tuple(day for term in terms(year) for day in term.days())


def term_days(year: int) -> list[date]:
    """Every school day of the academic year beginning in September ``year``, in order."""
    return list(_term_days(year))


def academic_year(day: date) -> int:
    """The September (year) that began the academic year holding ``day``; it runs to 31 August."""
    return day.year if day.month >= 9 else day.year - 1


def at(day: date, minutes: int) -> datetime:
    """``minutes`` past midnight on ``day``, London time (so 08:30 stays 08:30 across BST)."""
    return datetime.combine(day, time(0, 0), LONDON) + timedelta(minutes=minutes)


@dataclass(frozen=True)
class Timeline:
    """Where the demo stands in time.

    ``academic_year`` holds ``today`` and sets NC years and ages. The case histories run on
    ``days``: the term days from the first day of an autumn term up to the last term day before
    ``today`` (so nothing is timed later than the moment of seeding, and a demo seeded in the
    summer holiday ends on the last day of the summer term). They begin in this academic year's
    autumn term when at least ``history_days`` term days of it have passed, and otherwise in the
    previous year's, so that the longest histories still fit.
    """

    today: date
    academic_year: int
    days: tuple[date, ...]

    @classmethod
    def for_today(cls, today: date, history_days: int) -> Timeline:
        year = academic_year(today)
        first_year = year
        while True:
            days = [d for y in range(first_year, year + 1) for d in term_days(y)]
            days = days[: bisect.bisect_left(days, today)]
            if len(days) >= history_days:
                return cls(today=today, academic_year=year, days=tuple(days))
            first_year -= 1

    @property
    def first(self) -> date:
        return self.days[0]

    @property
    def last(self) -> date:
        return self.days[-1]
