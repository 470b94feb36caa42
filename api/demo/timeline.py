"""The demo's calendar: term dates made by rule, the school days the case histories run on, and
the moments within a school day that events are timed at.

Term dates follow simple rules that are plausible anywhere in England; they match no one LA (real
school calendars arrive with their own issue). For the academic year beginning in September of
year ``y``:

- Autumn term: from the first Wednesday on or after 2 September to the Friday before the week
  that holds Christmas Day. October half term is the last Monday-to-Friday week wholly in
  October.
- Spring term: from the first Monday on or after 3 January to the Friday before the first
  Monday-to-Friday week wholly in April, which begins a two-week Easter break. February half
  term is the week beginning the third Monday in February.
- Summer term: from the Monday after the Easter break to 21 July (the Friday before, when 21 July
  falls at a weekend). May half term is the week of the spring bank holiday, the last Monday in
  May.

A term day is a working day (``casework.durations.is_working_day``: Monday to Friday and not an
England bank holiday, so Good Friday, Easter Monday and the May bank holidays are skipped wherever
they fall) within a term and outside its half term.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from casework.durations import is_working_day

LONDON = ZoneInfo("Europe/London")
MONDAY, WEDNESDAY, FRIDAY = 0, 2, 4


class Term(NamedTuple):
    first: date
    last: date
    half_term: tuple[date, date]  # Monday to Friday

    def days(self) -> list[date]:
        """The term's school days."""
        off_first, off_last = self.half_term
        return [
            day
            for n in range((self.last - self.first).days + 1)
            if is_working_day(day := self.first + timedelta(days=n))
            and not off_first <= day <= off_last
        ]


def _on_or_after(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _on_or_before(day: date, weekday: int) -> date:
    return day - timedelta(days=(day.weekday() - weekday) % 7)


def _week_from(monday: date) -> tuple[date, date]:
    return monday, monday + timedelta(days=4)


def terms(year: int) -> tuple[Term, Term, Term]:
    """Autumn, spring and summer terms of the academic year beginning in September ``year``."""
    christmas = date(year, 12, 25)
    autumn = Term(
        first=_on_or_after(date(year, 9, 2), WEDNESDAY),
        last=_on_or_before(christmas, MONDAY) - timedelta(days=3),
        half_term=_week_from(_on_or_before(date(year, 10, 27), MONDAY)),
    )
    easter_break = _on_or_after(date(year + 1, 4, 1), MONDAY)
    spring = Term(
        first=_on_or_after(date(year + 1, 1, 3), MONDAY),
        last=easter_break - timedelta(days=3),
        half_term=_week_from(_on_or_after(date(year + 1, 2, 15), MONDAY)),
    )
    end_of_year = date(year + 1, 7, 21)
    summer = Term(
        first=easter_break + timedelta(days=14),
        last=end_of_year if end_of_year.weekday() <= FRIDAY else _on_or_before(end_of_year, FRIDAY),
        half_term=_week_from(_on_or_before(date(year + 1, 5, 31), MONDAY)),
    )
    return autumn, spring, summer


def term_days(year: int) -> list[date]:
    """Every school day of the academic year beginning in September ``year``, in order."""
    return [day for term in terms(year) for day in term.days()]


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
