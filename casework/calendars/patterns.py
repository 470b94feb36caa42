"""Term-date patterns: how an LA's later years are generated until it publishes them.

Every generated year is provisional. All patterns share these rules (CALENDARS.md, "Greater
Merseyside standard pattern", where it says; our choice, fitted to Knowsley's published years,
where it does not):

- a term starts on a Monday, or on the Tuesday where the Monday is a bank holiday; where a term
  would open for fewer than three days in its first or last week, that week is left out
  (CALENDARS.md: "where a school is open for part of a week, it should be open three or more
  days");
- the autumn term ends on the last weekday before 22 December (our rule; Knowsley ended on
  Thu 21 Dec 2023 and Fri 20 Dec 2024), and the spring term starts on the first Monday in
  January (Tuesday if a bank holiday);
- the May half term is the week of the spring bank holiday (it begins on that Monday except in
  jubilee years);
- the summer term ends on the day the year reaches 195 days of term (190 days of sessions plus
  five INSET days; both published Knowsley years have exactly 195), carried on to a third day in
  that week if it would otherwise end after one or two.

Where the patterns differ:

``greater_merseyside`` (Knowsley; CALENDARS.md): the autumn term starts on the first Monday in
September; the October half term is the last full week (Monday to Friday) in October; the
February half term is the third week in February, a week counting as February's when its Thursday
is in February (as ISO 8601 counts weeks); the Easter break is the first two full weeks in April
whatever the date of Easter (Good Friday and Easter Monday outside it stay bank holidays).

``national`` (our default for an LA without its own calendar, modelled on the most common English
pattern): the autumn term starts on the first Monday in September; the October half term is the
week containing 31 October; the February half term is the week beginning the third Monday in
February; the Easter break is the two weeks around Easter Sunday (Holy Week and the week after).

``essex`` (modelled on Essex County Council's usual pattern; nothing published is held here, so
every Essex year is provisional): the autumn term starts on the first Wednesday in September; the
October half term is the last full week in October; the February half term is the week
containing 14 February; the Easter break is the two weeks around Easter Sunday.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from casework.calendars.model import AcademicYear, DateRange, Term
from casework.durations import england_bank_holiday_name, is_working_day

MONDAY, WEDNESDAY, THURSDAY = 0, 2, 3
DAYS_OF_TERM = 195
_DAY = timedelta(days=1)


def weekday_on_or_after(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def weekday_on_or_before(day: date, weekday: int) -> date:
    return day - timedelta(days=(day.weekday() - weekday) % 7)


def _week(monday: date) -> DateRange:
    return DateRange(monday, monday + timedelta(days=4))


def _open_days_from(day: date) -> int:
    """Open days (weekdays that are not bank holidays) from ``day`` to the Friday of its week."""
    friday = weekday_on_or_after(day, 4)
    return (
        sum(1 for d in DateRange(day, friday).days() if is_working_day(d)) if day <= friday else 0
    )


def _open_days_until(day: date) -> int:
    """Open days from the Monday of ``day``'s week to ``day``."""
    return sum(
        1 for d in DateRange(weekday_on_or_before(day, MONDAY), day).days() if is_working_day(d)
    )


def term_start(day: date) -> date:
    """The first open day on or after ``day``, moved to the next week when this one would leave
    fewer than three open days."""
    for _ in range(10):
        while not is_working_day(day):
            day += _DAY
        if _open_days_from(day) >= 3:
            return day
        day = weekday_on_or_after(day + _DAY, MONDAY)
    raise ValueError(f"no week with three open days after {day}")


def term_end(day: date) -> date:
    """The last open day on or before ``day``, moved to the week before when its week would have
    fewer than three open days."""
    for _ in range(10):
        while not is_working_day(day):
            day -= _DAY
        if _open_days_until(day) >= 3:
            return day
        day = weekday_on_or_before(day, MONDAY) - _DAY
    raise ValueError(f"no week with three open days before {day}")


def _easter_sunday(year: int) -> date:
    good_friday = next(
        d
        for d in DateRange(date(year, 3, 15), date(year, 4, 30)).days()
        if england_bank_holiday_name(d) == "Good Friday"
    )
    return good_friday + timedelta(days=2)


# --- the rules each pattern chooses from ------------------------------------------------------


def first_monday_in_september(year: int) -> date:
    return weekday_on_or_after(date(year, 9, 1), MONDAY)


def first_wednesday_in_september(year: int) -> date:
    return weekday_on_or_after(date(year, 9, 1), WEDNESDAY)


def last_full_week_in_october(year: int) -> DateRange:
    return _week(weekday_on_or_before(date(year, 10, 27), MONDAY))


def week_containing_31_october(year: int) -> DateRange:
    return _week(weekday_on_or_before(date(year, 10, 31), MONDAY))


def third_week_in_february_by_thursday(year: int) -> DateRange:
    first_thursday = weekday_on_or_after(date(year, 2, 1), THURSDAY)
    return _week(first_thursday - timedelta(days=3) + timedelta(weeks=2))


def week_of_third_monday_in_february(year: int) -> DateRange:
    return _week(weekday_on_or_after(date(year, 2, 1), MONDAY) + timedelta(weeks=2))


def week_containing_14_february(year: int) -> DateRange:
    return _week(weekday_on_or_before(date(year, 2, 14), MONDAY))


def first_two_full_weeks_in_april(year: int) -> DateRange:
    monday = weekday_on_or_after(date(year, 4, 1), MONDAY)
    return DateRange(monday, monday + timedelta(days=11))


def two_weeks_around_easter(year: int) -> DateRange:
    easter = _easter_sunday(year)
    return DateRange(easter - timedelta(days=6), easter + timedelta(days=5))


def spring_bank_holiday_week(year: int) -> DateRange:
    # Usually the last Monday in May, but jubilee years moved it (Tue 4 Jun 2002, Thu 2 Jun 2022).
    holiday = next(
        d
        for d in DateRange(date(year, 5, 25), date(year, 6, 7)).days()
        if england_bank_holiday_name(d) == "Spring Bank Holiday"
    )
    return _week(weekday_on_or_before(holiday, MONDAY))


@dataclass(frozen=True)
class PatternRules:
    name: str
    autumn_start: Callable[[int], date]
    october_half_term: Callable[[int], DateRange]
    february_half_term: Callable[[int], DateRange]
    easter_break: Callable[[int], DateRange]

    def __call__(self, start_year: int) -> AcademicYear:
        return generate(self, start_year)


def _days_of_term(term: Term) -> int:
    return sum(
        1
        for d in term.span.days()
        if is_working_day(d) and (term.half_term is None or d not in term.half_term)
    )


def _summer_end(first: date, may: DateRange, days_needed: int) -> date:
    day, counted = first - _DAY, 0
    while counted < days_needed:
        day += _DAY
        if is_working_day(day) and day not in may:
            counted += 1
    while _open_days_until(day) < 3:
        day += _DAY
    return day


def generate(rules: PatternRules, start_year: int) -> AcademicYear:
    y, y1 = start_year, start_year + 1
    autumn = Term(
        "autumn",
        term_start(rules.autumn_start(y)),
        term_end(date(y, 12, 21)),
        rules.october_half_term(y),
    )
    easter = rules.easter_break(y1)
    spring = Term(
        "spring",
        term_start(weekday_on_or_after(date(y1, 1, 1), MONDAY)),
        term_end(easter.first - _DAY),
        rules.february_half_term(y1),
    )
    summer_first = term_start(easter.last + _DAY)
    may = spring_bank_holiday_week(y1)
    needed = DAYS_OF_TERM - _days_of_term(autumn) - _days_of_term(spring)
    summer = Term("summer", summer_first, _summer_end(summer_first, may, needed), may)
    return AcademicYear(
        y, (autumn, spring, summer), provisional=True, source=f"{rules.name} pattern"
    )


GREATER_MERSEYSIDE = PatternRules(
    "greater_merseyside",
    first_monday_in_september,
    last_full_week_in_october,
    third_week_in_february_by_thursday,
    first_two_full_weeks_in_april,
)
NATIONAL = PatternRules(
    "national",
    first_monday_in_september,
    week_containing_31_october,
    week_of_third_monday_in_february,
    two_weeks_around_easter,
)
ESSEX = PatternRules(
    "essex",
    first_wednesday_in_september,
    last_full_week_in_october,
    week_containing_14_february,
    two_weeks_around_easter,
)
PATTERNS: dict[str, PatternRules] = {p.name: p for p in (GREATER_MERSEYSIDE, NATIONAL, ESSEX)}


def pattern_named(name: str) -> PatternRules:
    try:
        return PATTERNS[name]
    except KeyError:
        raise ValueError(
            f"no term-date pattern named {name!r}: use one of {sorted(PATTERNS)}"
        ) from None
