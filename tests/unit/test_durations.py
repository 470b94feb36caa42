"""Durations added on a school's calendar: CALENDARS.md "Counting rules".

Every expected date below was worked out by hand from a paper calendar and the England bank
holidays (gov.uk; the `holidays` package agrees, CALENDARS.md "Bank holidays"); the comment on each
row shows the count.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casework.durations import Duration, Unit, WeekdayCalendar, add, school_weeks_spanned

WEEKDAYS = WeekdayCalendar()

# Knowsley 2024/25 published term dates (CALENDARS.md table), bank holidays also closed.
KNOWSLEY_TERMS_2024_25 = (
    (date(2024, 9, 2), date(2024, 12, 20)),
    (date(2025, 1, 6), date(2025, 4, 4)),
    (date(2025, 4, 22), date(2025, 7, 22)),
)
KNOWSLEY_HALF_TERMS_2024_25 = (
    (date(2024, 10, 28), date(2024, 11, 1)),
    (date(2025, 2, 17), date(2025, 2, 21)),
    (date(2025, 5, 26), date(2025, 5, 30)),
)


@cache
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def _england_bank_holiday(day: date) -> bool:
    return day in _bank_holidays(day.year)


class TermCalendar:
    """A fake school calendar: open on weekdays inside a term, except half terms, extra closed
    days (INSET) and bank holidays."""

    def __init__(self, terms, closed=(), closed_days=()):
        self.terms = terms
        self.closed = closed
        self.closed_days = set(closed_days)

    def is_school_day(self, day: date) -> bool:
        return (
            day.weekday() < 5
            and not _england_bank_holiday(day)
            and day not in self.closed_days
            and any(a <= day <= b for a, b in self.terms)
            and not any(a <= day <= b for a, b in self.closed)
        )


KNOWSLEY = TermCalendar(KNOWSLEY_TERMS_2024_25, KNOWSLEY_HALF_TERMS_2024_25)
# The same, with an INSET day on the Monday after October half term.
KNOWSLEY_INSET = TermCalendar(
    KNOWSLEY_TERMS_2024_25, KNOWSLEY_HALF_TERMS_2024_25, closed_days=[date(2024, 11, 4)]
)


def d(y: int, m: int, day: int) -> date:
    return date(y, m, day)


CAL, WD, SD, SW = Unit.CALENDAR_DAYS, Unit.WORKING_DAYS, Unit.SCHOOL_DAYS, Unit.SCHOOL_WEEKS
MONTHS = Unit.MONTHS


ADD_CASES = [
    # --- calendar days: every day counts --------------------------------------------------------
    pytest.param(WEEKDAYS, d(2024, 12, 2), 28, CAL, d(2024, 12, 30), id="cal-28-days-2+28=30-Dec"),
    pytest.param(WEEKDAYS, d(2024, 12, 6), 21, CAL, d(2024, 12, 27), id="cal-21-over-christmas"),
    pytest.param(WEEKDAYS, d(2024, 2, 28), 1, CAL, d(2024, 2, 29), id="cal-leap-day"),
    # 30 Dec: 31 Dec is day 1, 1 Jan day 2, ... 14 Jan day 15
    pytest.param(WEEKDAYS, d(2024, 12, 30), 15, CAL, d(2025, 1, 14), id="cal-15-over-new-year"),
    # --- working days: deemed receipt = 2nd working day after posting ---------------------------
    # Mon 2 Dec posted: Tue 3 (1), Wed 4 (2)
    pytest.param(WEEKDAYS, d(2024, 12, 2), 2, WD, d(2024, 12, 4), id="wd-plain-week"),
    # Thu 5 Dec posted: Fri 6 (1), [Sat, Sun], Mon 9 (2)
    pytest.param(WEEKDAYS, d(2024, 12, 5), 2, WD, d(2024, 12, 9), id="wd-across-weekend-thu"),
    # Fri 6 Dec posted: Mon 9 (1), Tue 10 (2)
    pytest.param(WEEKDAYS, d(2024, 12, 6), 2, WD, d(2024, 12, 10), id="wd-across-weekend-fri"),
    # Sat 7 Dec posted: Mon 9 (1), Tue 10 (2)
    pytest.param(WEEKDAYS, d(2024, 12, 7), 2, WD, d(2024, 12, 10), id="wd-posted-on-saturday"),
    # Mon 23 Dec posted: Tue 24 (1), [Wed 25 Christmas, Thu 26 Boxing Day], Fri 27 (2)
    pytest.param(WEEKDAYS, d(2024, 12, 23), 2, WD, d(2024, 12, 27), id="wd-christmas-boxing-2024"),
    # Tue 24 Dec posted: [25, 26 bank holidays], Fri 27 (1), [Sat, Sun], Mon 30 (2)
    pytest.param(WEEKDAYS, d(2024, 12, 24), 2, WD, d(2024, 12, 30), id="wd-christmas-eve-2024"),
    # Tue 31 Dec posted: [Wed 1 Jan New Year], Thu 2 Jan (1), Fri 3 Jan (2)
    pytest.param(WEEKDAYS, d(2024, 12, 31), 2, WD, d(2025, 1, 3), id="wd-new-year-2025"),
    # Thu 17 Apr posted: [Fri 18 Good Friday .. Mon 21 Easter Monday], Tue 22 (1), Wed 23 (2)
    pytest.param(WEEKDAYS, d(2025, 4, 17), 2, WD, d(2025, 4, 23), id="wd-easter-2025"),
    # Wed 16 Apr posted: Thu 17 (1), [Good Friday .. Easter Monday], Tue 22 (2)
    pytest.param(WEEKDAYS, d(2025, 4, 16), 2, WD, d(2025, 4, 22), id="wd-easter-2025-wed"),
    # Wed 23 Dec 2026 posted: Thu 24 (1), [Fri 25 Christmas, Sat 26 Boxing Day, Sun 27,
    # Mon 28 Boxing Day (observed)], Tue 29 (2)
    pytest.param(
        WEEKDAYS, d(2026, 12, 23), 2, WD, d(2026, 12, 29), id="wd-boxing-day-observed-2026"
    ),
    # Thu 24 Dec 2026 posted: [25, 26, 27, Mon 28 observed], Tue 29 (1), Wed 30 (2)
    pytest.param(
        WEEKDAYS, d(2026, 12, 24), 2, WD, d(2026, 12, 30), id="wd-boxing-day-observed-2026-thu"
    ),
    # 10 working days from Mon 16 Dec 2024: 17,18,19,20 (4), 23,24 (6), 27 (7), 30,31 (9),
    # [1 Jan], Thu 2 Jan (10)
    pytest.param(WEEKDAYS, d(2024, 12, 16), 10, WD, d(2025, 1, 2), id="wd-ten-over-christmas"),
    # --- school days on a calendar with no term dates (working days) -----------------------------
    # Fri 20 Dec 2024: 23,24 (2), 27 (3), 30,31 (5), [1 Jan], 2,3 (7), 6,7,8 (10)
    pytest.param(WEEKDAYS, d(2024, 12, 20), 10, SD, d(2025, 1, 8), id="sd-weekdays-over-christmas"),
    # Sat 16 Nov: Mon 18 (1)
    pytest.param(WEEKDAYS, d(2024, 11, 16), 1, SD, d(2024, 11, 18), id="sd-from-saturday"),
    # Fri 15 Nov: 18, 19, 20, 21, Fri 22 (5)
    pytest.param(WEEKDAYS, d(2024, 11, 15), 5, SD, d(2024, 11, 22), id="sd-five"),
    # --- school days on Knowsley 2024/25 --------------------------------------------------------
    # Thu 24 Oct: Fri 25 (1), [half term 28 Oct - 1 Nov], Mon 4 Nov (2)
    pytest.param(KNOWSLEY, d(2024, 10, 24), 2, SD, d(2024, 11, 4), id="sd-knowsley-over-half-term"),
    # Wed 18 Dec: Thu 19 (1), Fri 20 (2), [Christmas holiday], Mon 6 Jan (3)
    pytest.param(KNOWSLEY, d(2024, 12, 18), 3, SD, d(2025, 1, 6), id="sd-knowsley-over-christmas"),
    # Fri 4 Apr (end of spring term): [Easter break; Mon 21 Easter Monday], Tue 22 (1) .. Fri 25
    # (4), 28, 29, 30 Apr, 1, 2 May (9), [Mon 5 May May Day], Tue 6 May (10)
    pytest.param(
        KNOWSLEY, d(2025, 4, 4), 10, SD, d(2025, 5, 6), id="sd-knowsley-ten-over-easter-and-may-day"
    ),
    # --- school weeks on a calendar with no term dates -------------------------------------------
    # Wed 20 Nov (week of 18 Nov): weeks of 25 Nov (1), 2 Dec (2), 9 Dec (3), 16 Dec (4),
    # 23 Dec (5), 30 Dec (6); its Wednesday is 1 Jan (New Year) -> Thu 2 Jan
    pytest.param(WEEKDAYS, d(2024, 11, 20), 6, SW, d(2025, 1, 2), id="sw-weekdays-six-new-year"),
    # Mon 14 Oct: 21 Oct (1), 28 Oct (2), 4 Nov (3): no half term without term dates
    pytest.param(WEEKDAYS, d(2024, 10, 14), 3, SW, d(2024, 11, 4), id="sw-weekdays-aim-review"),
    # Mon 17 Mar 2025: 24 Mar (1), 31 Mar (2), 7 Apr (3), 14 Apr (4), 21 Apr (5);
    # Mon 21 Apr is Easter Monday -> Tue 22 Apr
    pytest.param(
        WEEKDAYS,
        d(2025, 3, 17),
        5,
        SW,
        d(2025, 4, 22),
        id="sw-lands-on-easter-monday-rolls-to-tuesday",
    ),
    # Mon 19 Aug 2024: 26 Aug (1); Mon 26 Aug is the late summer bank holiday -> Tue 27 Aug
    pytest.param(
        WEEKDAYS, d(2024, 8, 19), 1, SW, d(2024, 8, 27), id="sw-lands-on-august-bank-holiday-monday"
    ),
    # Mon 21 Dec 2026: 28 Dec (1); Mon 28 Dec is Boxing Day (observed) -> Tue 29 Dec
    pytest.param(
        WEEKDAYS, d(2026, 12, 21), 1, SW, d(2026, 12, 29), id="sw-lands-on-boxing-day-observed-2026"
    ),
    # Fri 11 Apr 2025: 14 Apr (1); Fri 18 Apr is Good Friday -> [Sat, Sun, Easter Monday] Tue 22
    pytest.param(WEEKDAYS, d(2025, 4, 11), 1, SW, d(2025, 4, 22), id="sw-lands-on-good-friday"),
    # Thu 19 Dec 2024: 23 Dec (1); Thu 26 Dec is Boxing Day -> Fri 27 Dec
    pytest.param(
        WEEKDAYS, d(2024, 12, 19), 1, SW, d(2024, 12, 27), id="sw-lands-on-boxing-day-2024"
    ),
    # Sat 23 Nov (week of 18 Nov): 25 Nov (1); its Saturday 30 Nov is no school day -> Mon 2 Dec
    pytest.param(WEEKDAYS, d(2024, 11, 23), 1, SW, d(2024, 12, 2), id="sw-from-saturday"),
    # --- school weeks on Knowsley 2024/25 (CALENDARS.md worked example and friends) -------------
    # AIM Mon 14 Oct: 21 Oct (1), [28 Oct half term, no sessions], 4 Nov (2), 11 Nov (3)
    pytest.param(
        KNOWSLEY, d(2024, 10, 14), 3, SW, d(2024, 11, 11), id="sw-knowsley-aim-worked-example"
    ),
    # Wed 23 Oct: [28 Oct half term], 4 Nov (1) -> Wed 6 Nov
    pytest.param(
        KNOWSLEY, d(2024, 10, 23), 1, SW, d(2024, 11, 6), id="sw-knowsley-skips-half-term"
    ),
    # Wed 30 Oct, during half term: counted strictly after its week: 4 Nov (1) -> Wed 6 Nov
    pytest.param(
        KNOWSLEY, d(2024, 10, 30), 1, SW, d(2024, 11, 6), id="sw-knowsley-from-inside-half-term"
    ),
    # Mon 9 Dec: 16 Dec (1), [23 Dec, 30 Dec closed], 6 Jan (2), 13 Jan (3)
    pytest.param(KNOWSLEY, d(2024, 12, 9), 3, SW, d(2025, 1, 13), id="sw-knowsley-over-christmas"),
    # Fri 28 Mar 2025: 31 Mar (1), [7 Apr, 14 Apr Easter break], 21 Apr (2; Mon is Easter Monday,
    # term starts Tue 22) -> Fri 25 Apr
    pytest.param(
        KNOWSLEY, d(2025, 3, 28), 2, SW, d(2025, 4, 25), id="sw-knowsley-over-easter-break"
    ),
    # Mon 31 Mar 2025: [7, 14 Apr closed], 21 Apr (1), 28 Apr (2), 5 May (3); Mon 5 May is the
    # May Day bank holiday -> Tue 6 May
    pytest.param(KNOWSLEY, d(2025, 3, 31), 3, SW, d(2025, 5, 6), id="sw-knowsley-lands-on-may-day"),
    # Mon 14 Oct: 21 Oct (1), [28 Oct], 4 Nov (2); Mon 4 Nov is an INSET day -> Tue 5 Nov
    pytest.param(
        KNOWSLEY_INSET, d(2024, 10, 14), 2, SW, d(2024, 11, 5), id="sw-knowsley-lands-on-inset-day"
    ),
    # --- months: same day number, clamped to the month's end -------------------------------------
    pytest.param(WEEKDAYS, d(2025, 1, 31), 1, MONTHS, d(2025, 2, 28), id="m-31-jan-to-28-feb"),
    pytest.param(WEEKDAYS, d(2024, 1, 31), 1, MONTHS, d(2024, 2, 29), id="m-31-jan-to-29-feb-leap"),
    pytest.param(WEEKDAYS, d(2024, 2, 29), 12, MONTHS, d(2025, 2, 28), id="m-leap-day-plus-a-year"),
    pytest.param(
        WEEKDAYS, d(2024, 12, 31), 2, MONTHS, d(2025, 2, 28), id="m-year-rollover-and-clamp"
    ),
    # 6-month prosecution limit (MCA 1980 s127): last absence in the charged period ...
    pytest.param(
        WEEKDAYS, d(2024, 12, 20), 6, MONTHS, d(2025, 6, 20), id="m-prosecution-limit-20-dec"
    ),
    pytest.param(
        WEEKDAYS, d(2024, 8, 31), 6, MONTHS, d(2025, 2, 28), id="m-prosecution-limit-31-aug-clamps"
    ),
    pytest.param(
        WEEKDAYS,
        d(2024, 10, 31),
        6,
        MONTHS,
        d(2025, 4, 30),
        id="m-prosecution-limit-31-oct-clamps-to-30-apr",
    ),
    pytest.param(
        WEEKDAYS, d(2024, 9, 30), 6, MONTHS, d(2025, 3, 30), id="m-prosecution-limit-30-sep"
    ),
    pytest.param(
        WEEKDAYS, d(2025, 7, 31), 6, MONTHS, d(2026, 1, 31), id="m-prosecution-limit-into-next-year"
    ),
]


@pytest.mark.parametrize(("cal", "start", "n", "unit", "expected"), ADD_CASES)
def test_add(cal, start, n, unit, expected):
    assert add(cal, start, Duration(n, unit)) == expected


def test_adding_nothing_changes_nothing_for_day_and_month_units():
    for unit in (Unit.CALENDAR_DAYS, Unit.WORKING_DAYS, Unit.SCHOOL_DAYS, Unit.MONTHS):
        assert add(WEEKDAYS, d(2024, 12, 25), Duration(0, unit)) == d(2024, 12, 25)


def test_negative_durations_are_refused():
    with pytest.raises(ValueError):
        add(WEEKDAYS, d(2024, 11, 20), Duration(-1, Unit.SCHOOL_DAYS))


def test_duration_reads_in_plain_english():
    assert str(Duration(6, Unit.SCHOOL_WEEKS)) == "6 school weeks"


SPANNED_CASES = [
    pytest.param(WEEKDAYS, d(2024, 11, 20), d(2024, 11, 20), 1, id="same-day"),
    pytest.param(WEEKDAYS, d(2024, 11, 4), d(2024, 11, 8), 1, id="mon-to-fri"),
    pytest.param(WEEKDAYS, d(2024, 11, 8), d(2024, 11, 11), 2, id="fri-to-next-mon"),
    # weeks of 2, 9, 16, 23, 30 Sep, 7, 14, 21, 28 Oct, 4 Nov
    pytest.param(WEEKDAYS, d(2024, 9, 2), d(2024, 11, 8), 10, id="ten-weeks"),
    # plus the week of 26 Aug (Mon bank holiday, Tue-Fri working: still a school week)
    pytest.param(WEEKDAYS, d(2024, 8, 30), d(2024, 11, 4), 11, id="bank-holiday-week-counts"),
    # weeks of 2 Sep .. 21 Oct (8), [28 Oct half term], 4 Nov (9), 11 Nov (10)
    pytest.param(KNOWSLEY, d(2024, 9, 2), d(2024, 11, 11), 10, id="knowsley-skips-half-term"),
    # week of 16 Dec (1), [23 Dec, 30 Dec], week of 6 Jan (2)
    pytest.param(KNOWSLEY, d(2024, 12, 20), d(2025, 1, 6), 2, id="knowsley-over-christmas"),
    pytest.param(KNOWSLEY, d(2024, 10, 28), d(2024, 11, 1), 0, id="knowsley-half-term-only"),
    pytest.param(KNOWSLEY, d(2024, 12, 23), d(2025, 1, 3), 0, id="knowsley-christmas-only"),
]


@pytest.mark.parametrize(("cal", "first", "last", "expected"), SPANNED_CASES)
def test_school_weeks_spanned(cal, first, last, expected):
    assert school_weeks_spanned(cal, first, last) == expected


# --- properties --------------------------------------------------------------------------------


class PatternCalendar:
    """A synthetic calendar with irregular closures: every sixth ISO week is a holiday week and
    every eleventh day (by ordinal) is an INSET-style closure, on top of bank holidays."""

    def is_school_day(self, day: date) -> bool:
        return (
            day.weekday() < 5
            and not _england_bank_holiday(day)
            and day.isocalendar().week % 6 != 0
            and day.toordinal() % 11 != 0
        )


PATTERN = PatternCalendar()
starts = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
calendars = st.sampled_from([WEEKDAYS, PATTERN])
units = st.sampled_from(list(Unit))
SCHOOL_UNITS = (Unit.SCHOOL_DAYS, Unit.SCHOOL_WEEKS)


@settings(max_examples=200, deadline=None)
@given(cal=calendars, start=starts, unit=units, n1=st.integers(0, 25), n2=st.integers(0, 25))
def test_add_is_monotonic_in_n(cal, start, unit, n1, n2):
    lo, hi = sorted((n1, n2))
    earlier, later = add(cal, start, Duration(lo, unit)), add(cal, start, Duration(hi, unit))
    assert earlier <= later
    if cal is WEEKDAYS and lo < hi:
        # No England week has five weekday bank holidays, so on a weekday calendar every extra unit
        # moves the date on. (On a real school calendar "N school weeks" and "N+1 school weeks" can
        # meet on one date when a week's sessions all fall before D's weekday and the next week's
        # all after it, so only "never earlier" holds in general.)
        assert earlier < later


@settings(max_examples=200, deadline=None)
@given(cal=calendars, start=starts, unit=st.sampled_from(SCHOOL_UNITS), n=st.integers(1, 25))
def test_school_units_land_on_a_school_day_strictly_after_start(cal, start, unit, n):
    result = add(cal, start, Duration(n, unit))
    assert result > start
    assert cal.is_school_day(result)


@settings(max_examples=200, deadline=None)
@given(cal=calendars, start=starts, n=st.integers(1, 40))
def test_n_school_days_after_is_the_nth_school_day(cal, start, n):
    result = add(cal, start, Duration(n, Unit.SCHOOL_DAYS))
    between = [start + timedelta(days=i) for i in range(1, (result - start).days + 1)]
    assert sum(cal.is_school_day(day) for day in between) == n


@settings(max_examples=200, deadline=None)
@given(start=starts, n=st.integers(1, 30))
def test_working_days_are_never_weekends_or_bank_holidays(start, n):
    result = add(WEEKDAYS, start, Duration(n, Unit.WORKING_DAYS))
    assert result.weekday() < 5
    assert not _england_bank_holiday(result)
    between = [start + timedelta(days=i) for i in range(1, (result - start).days + 1)]
    working = [day for day in between if day.weekday() < 5 and not _england_bank_holiday(day)]
    assert len(working) == n
