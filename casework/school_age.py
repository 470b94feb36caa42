"""Compulsory school age (CSA) in England: a penalty notice cannot cover sessions on which the
pupil was not of CSA, so casework needs the first and last days of it for each pupil.

- Start (Education Act 1996 s8(2); Education (Start of Compulsory School Age) Order 1998): a child
  is of CSA from the first prescribed day (31 March, 31 August or 31 December) on or after their
  fifth birthday.
- End (s8(3); Education (School Leaving Date) Order 1997): a child stops being of CSA at the end
  of the school leaving date, the last Friday in June, of the school year in which they turn 16.
  That can be before their 16th birthday (a July or August birthday). School years are taken as
  1 September to 31 August; s8(3)(a) speaks of "the beginning of the school year next following",
  which we read as 1 September rather than the first day of a school's autumn term.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

# (month, day), in calendar order: the days the 1998 Order prescribes for the start of CSA.
PRESCRIBED_DAYS = ((3, 31), (8, 31), (12, 31))


@dataclass(frozen=True)
class CompulsorySchoolAge:
    """The days, inclusive, on which a pupil is of compulsory school age."""

    first_day: date
    last_day: date

    def covers(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day


def compulsory_school_age(date_of_birth: date) -> CompulsorySchoolAge:
    fifth = _birthday(date_of_birth, 5)
    # 31 December always qualifies, so there is always a prescribed day in the birthday's year.
    first_day = next(
        prescribed
        for prescribed in (date(fifth.year, month, day) for month, day in PRESCRIBED_DAYS)
        if prescribed >= fifth
    )
    sixteenth = _birthday(date_of_birth, 16)
    # A birthday from September on is in the school year that ends (and has its June) next year.
    school_year_end = sixteenth.year + 1 if sixteenth.month >= 9 else sixteenth.year
    return CompulsorySchoolAge(first_day, school_leaving_date(school_year_end))


def school_leaving_date(year: int) -> date:
    """The last Friday in June of ``year`` (Education (School Leaving Date) Order 1997)."""
    june_30 = date(year, 6, 30)
    return june_30 - timedelta(days=(june_30.weekday() - calendar.FRIDAY) % 7)


def not_of_compulsory_school_age(date_of_birth: date, days: Iterable[date]) -> list[date]:
    """The days (sorted, distinct) on which the pupil was not of CSA: the sessions on those days
    cannot be part of a penalty notice."""
    csa = compulsory_school_age(date_of_birth)
    return sorted({day for day in days if not csa.covers(day)})


def explain(date_of_birth: date, day: date) -> str | None:
    """None when the pupil was of CSA on ``day``; otherwise a plain-English reason naming the
    dates, written for the officer refusing the penalty notice (and so able to check it)."""
    csa = compulsory_school_age(date_of_birth)
    if csa.covers(day):
        return None
    reason = f"the pupil was not of compulsory school age on {_long_date(day)}"
    if day > csa.last_day:
        return (
            f"{reason}: it ended on {_long_date(csa.last_day)} "
            "(the school leaving date in the school year they turned 16)"
        )
    fifth = _birthday(date_of_birth, 5)
    if fifth == csa.first_day:
        why = "their fifth birthday, which is itself a prescribed day"
    elif (date_of_birth.month, date_of_birth.day) == (2, 29):
        why = (
            f"the prescribed day after their fifth birthday, taken as {_long_date(fifth)} "
            "as they were born on 29 February"
        )
    else:
        why = f"the prescribed day after their fifth birthday on {_long_date(fifth)}"
    return f"{reason}: it begins on {_long_date(csa.first_day)} ({why})"


def _birthday(date_of_birth: date, age: int) -> date:
    year = date_of_birth.year + age
    if (date_of_birth.month, date_of_birth.day) == (2, 29) and not calendar.isleap(year):
        # Assumption: a 29 February child turns N on 1 March in a non-leap year (as the age of
        # majority is usually read); there is a case in law for 28 February. The CSA dates are
        # the same either way (both are before 31 March and in the same school year); only the
        # date named by ``explain`` differs.
        return date(year, 3, 1)
    return date_of_birth.replace(year=year)


def _long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"
