"""Durations with their unit, and adding them to a date on a school's calendar.

Counting rules are CALENDARS.md's: "N school weeks after D" is D's weekday in the Nth school week
strictly after D's week (or the next school day); "N school days after D" is the Nth school day
strictly after D. A school week is a Monday-to-Sunday week with at least one session.
"""

from __future__ import annotations

import calendar as _cal
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


@dataclass(frozen=True)
class Duration:
    amount: int
    unit: Unit

    def __str__(self) -> str:
        return f"{self.amount} {self.unit.value.replace('_', ' ')}"


class SchoolCalendar(Protocol):
    """What durations need from a school's calendar."""

    def is_school_day(self, day: date) -> bool: ...


@lru_cache(maxsize=64)
def england_bank_holidays(year: int) -> frozenset[date]:
    # The holidays package also lists a weekend holiday beside its "(observed)" weekday: only
    # weekdays matter here, and weekends are never working or school days anyway.
    return frozenset(d for d in holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in england_bank_holidays(day.year)


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


def _nth_day_after(start: date, n: int, counts) -> date:
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
