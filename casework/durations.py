"""Durations with their unit: adding them to a date, and measuring between two dates, on a school's
calendar.

Counting rules are CALENDARS.md's: "N school weeks after D" is D's weekday in the Nth school week
strictly after D's week (or the next school day); "N school days after D" is the Nth school day
strictly after D. A school week is a Monday-to-Sunday week with at least one session. "N sessions
after D" is the day of the Nth session after D's own day (a date carries no session of its own,
so D's sessions never count). "End of half term" is the last school day of the half term that
contains D (``casework.calendars`` says which half term a holiday belongs to).

``measure(cal, start, end, unit)`` is the number of whole units from ``start`` that have elapsed
by ``end``: the largest n with ``add(start, n) <= end`` (0 when there is none). So for n >= 1,
``add(start, n) <= end`` exactly when ``n <= measure(start, end)``; for day and session units
that is simply how many of them fall in (start, end].
"""

from __future__ import annotations

import calendar as _cal
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Protocol

import holidays


class Unit(StrEnum):
    CALENDAR_DAYS = "calendar_days"
    WORKING_DAYS = "working_days"
    SCHOOL_DAYS = "school_days"
    SCHOOL_WEEKS = "school_weeks"
    MONTHS = "months"


class TermUnit(StrEnum):
    """Units only a calendar with sessions and half terms can count (``casework.calendars``).

    Kept out of ``Unit`` on purpose: every ``Unit`` moves the date on with each extra unit on a
    weekday calendar, while two sessions share one day and "end of half term" has no amount.
    """

    SESSIONS = "sessions"
    END_OF_HALF_TERM = "end_of_half_term"


@dataclass(frozen=True)
class Duration:
    amount: int
    unit: Unit | TermUnit

    def __str__(self) -> str:
        if self.unit is TermUnit.END_OF_HALF_TERM:
            return "end of half term"
        return f"{self.amount} {self.unit.value.replace('_', ' ')}"


def unit_named(value: str) -> Unit | TermUnit:
    """The unit stored as ``value`` (as ``Duration.unit.value`` writes it)."""
    for kind in (Unit, TermUnit):
        try:
            return kind(value)
        except ValueError:
            continue
    names = ", ".join(u.value for u in (*Unit, *TermUnit))
    raise ValueError(f"{value!r} is not a unit: use one of {names}")


class SessionOfDay(StrEnum):
    AM = "am"
    PM = "pm"


WHOLE_DAY: frozenset[SessionOfDay] = frozenset(SessionOfDay)
NO_SESSIONS: frozenset[SessionOfDay] = frozenset()


class SchoolCalendar(Protocol):
    """What durations need from a school's calendar."""

    def is_school_day(self, day: date) -> bool: ...


def sessions_on(cal: SchoolCalendar, day: date) -> frozenset[SessionOfDay]:
    """The day's sessions; a calendar that only knows school days has both on each of them."""
    own = getattr(cal, "sessions_on", None)
    if own is not None:
        return own(day)
    return WHOLE_DAY if cal.is_school_day(day) else NO_SESSIONS


@lru_cache(maxsize=64)
def england_bank_holidays(year: int) -> frozenset[date]:
    # The holidays package also lists a weekend holiday beside its "(observed)" weekday: only
    # weekdays matter here, and weekends are never working or school days anyway.
    return frozenset(d for d in holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in england_bank_holidays(day.year)


@lru_cache(maxsize=64)
def _bank_holiday_names(year: int) -> dict[date, str]:
    return dict(holidays.country_holidays("GB", subdiv="ENG", years=year).items())


def england_bank_holiday_name(day: date) -> str | None:
    """The bank holiday's name ("Good Friday", "Boxing Day (observed)"), or None."""
    return _bank_holiday_names(day.year).get(day)


class WeekdayCalendar:
    """A calendar with no term dates: every working day is a school day.

    Used until a school's own term dates are known (the school-calendar issue sets them).
    """

    def is_school_day(self, day: date) -> bool:
        return is_working_day(day)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def is_school_week(cal: SchoolCalendar, monday: date) -> bool:
    return any(cal.is_school_day(monday + timedelta(days=i)) for i in range(7))


def next_school_day_on_or_after(cal: SchoolCalendar, day: date, limit_days: int = 400) -> date:
    for _ in range(limit_days):
        if cal.is_school_day(day):
            return day
        day += timedelta(days=1)
    raise ValueError("no school day within a year; the calendar has no sessions")


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, _cal.monthrange(year, month)[1]))


def add(cal: SchoolCalendar, start: date, duration: Duration) -> date:
    """The date ``duration`` after ``start``, counted on ``cal``."""
    n = duration.amount
    if n < 0:
        raise ValueError("durations are not negative")
    match duration.unit:
        case TermUnit.SESSIONS:
            return _nth_session_day_after(cal, start, n)
        case TermUnit.END_OF_HALF_TERM:
            if n != 0:
                raise ValueError("'end of half term' takes no amount")
            return _end_of_half_term(cal, start)
        case Unit.CALENDAR_DAYS:
            return start + timedelta(days=n)
        case Unit.MONTHS:
            return add_months(start, n)
        case Unit.WORKING_DAYS:
            return _nth_day_after(start, n, is_working_day)
        case Unit.SCHOOL_DAYS:
            return _nth_day_after(start, n, cal.is_school_day)
        case Unit.SCHOOL_WEEKS:
            week = monday_of(start)
            counted = 0
            for _ in range(n * 60 + 60):
                if counted == n:
                    break
                week += timedelta(days=7)
                if is_school_week(cal, week):
                    counted += 1
            else:
                raise ValueError("too few school weeks in the calendar")
            return next_school_day_on_or_after(cal, week + timedelta(days=start.weekday()))
    raise ValueError(f"unknown unit {duration.unit}")


def _nth_session_day_after(cal: SchoolCalendar, start: date, n: int) -> date:
    day, counted = start, 0
    while counted < n:
        day += timedelta(days=1)
        counted += len(sessions_on(cal, day))
    return day


def _end_of_half_term(cal: SchoolCalendar, start: date) -> date:
    own = getattr(cal, "end_of_half_term", None)
    if own is None:
        raise ValueError("this calendar has no half terms: 'end of half term' needs term dates")
    return own(start)


def _nth_day_after(start: date, n: int, counts: Callable[[date], bool]) -> date:
    day = start
    counted = 0
    while counted < n:
        day += timedelta(days=1)
        if counts(day):
            counted += 1
    return day


def school_weeks_spanned(cal: SchoolCalendar, first: date, last: date) -> int:
    """How many school weeks the run from ``first``'s week to ``last``'s week covers, inclusive."""
    week, end = monday_of(first), monday_of(last)
    count = 0
    while week <= end:
        if is_school_week(cal, week):
            count += 1
        week += timedelta(days=7)
    return count


def school_week_landings(cal: SchoolCalendar, start: date, last_week: date):
    """(Monday, landing day) for each school week after ``start``'s week, up to ``last_week``.

    The landing day is where "k school weeks after start" falls for the kth week listed:
    ``start``'s weekday in that week, or the next school day.
    """
    week = monday_of(start) + timedelta(days=7)
    while week <= last_week:
        if is_school_week(cal, week):
            yield week, next_school_day_on_or_after(cal, week + timedelta(days=start.weekday()))
        week += timedelta(days=7)


def measure(cal: SchoolCalendar, start: date, end: date, unit: Unit | TermUnit) -> int:
    """How many whole ``unit`` from ``start`` have elapsed by ``end`` (see the module docstring)."""
    if end < start:
        raise ValueError(f"{end.isoformat()} is before {start.isoformat()}: nothing to measure")
    days = [start + timedelta(days=i) for i in range(1, (end - start).days + 1)]
    match unit:
        case Unit.CALENDAR_DAYS:
            return len(days)
        case Unit.WORKING_DAYS:
            return sum(1 for day in days if is_working_day(day))
        case Unit.SCHOOL_DAYS:
            return sum(1 for day in days if cal.is_school_day(day))
        case TermUnit.SESSIONS:
            return sum(len(sessions_on(cal, day)) for day in days)
        case Unit.MONTHS:
            months = (end.year - start.year) * 12 + end.month - start.month
            while months > 0 and add_months(start, months) > end:
                months -= 1
            return months
        case Unit.SCHOOL_WEEKS:
            # Landing days never go down as weeks go on, so stop at the first one past ``end``.
            count = 0
            for _, landing in school_week_landings(cal, start, monday_of(end)):
                if landing > end:
                    break
                count += 1
            return count
        case TermUnit.END_OF_HALF_TERM:
            raise ValueError("'end of half term' is a date, not a count: measure another unit")
    raise ValueError(f"unknown unit {unit}")


# Phrases people write for each unit (singular and plural); bare "days" or "weeks" are refused
# because they are ambiguous between calendar, working and school days.
_UNIT_PHRASES: dict[str, Unit | TermUnit] = {
    "session": TermUnit.SESSIONS,
    "sessions": TermUnit.SESSIONS,
    "school day": Unit.SCHOOL_DAYS,
    "school days": Unit.SCHOOL_DAYS,
    "school week": Unit.SCHOOL_WEEKS,
    "school weeks": Unit.SCHOOL_WEEKS,
    "working day": Unit.WORKING_DAYS,
    "working days": Unit.WORKING_DAYS,
    "calendar day": Unit.CALENDAR_DAYS,
    "calendar days": Unit.CALENDAR_DAYS,
    "month": Unit.MONTHS,
    "months": Unit.MONTHS,
}
_END_OF_HALF_TERM = re.compile(r"^(by )?(the )?end of (the )?(current )?half[ -]?term$")
_AMOUNT_AND_UNIT = re.compile(r"^(\d{1,4}) ([a-z ]+)$")
ACCEPTED_DURATIONS = (
    "a whole number and one of: sessions, school days, school weeks, working days, "
    "calendar days, months; or 'end of half term'"
)


def parse_unit(text: str) -> Unit | TermUnit:
    """A unit from its stored name ("school_weeks") or as people write it ("school weeks")."""
    words = " ".join(text.strip().lower().replace("_", " ").split())
    if words in _UNIT_PHRASES:
        return _UNIT_PHRASES[words]
    if _END_OF_HALF_TERM.match(words):
        return TermUnit.END_OF_HALF_TERM
    raise ValueError(f"{text!r} is not a unit: use {ACCEPTED_DURATIONS}")


def parse_duration(text: str) -> Duration:
    """``Duration`` from "3 school weeks", "1 session", "6 months", "end of half term", ..."""
    words = " ".join(text.strip().lower().replace("_", " ").split())
    if _END_OF_HALF_TERM.match(words):
        return Duration(0, TermUnit.END_OF_HALF_TERM)
    found = _AMOUNT_AND_UNIT.match(words)
    if found and found.group(2) in _UNIT_PHRASES:
        return Duration(int(found.group(1)), _UNIT_PHRASES[found.group(2)])
    raise ValueError(f"cannot read {text!r} as a duration: write {ACCEPTED_DURATIONS}")
