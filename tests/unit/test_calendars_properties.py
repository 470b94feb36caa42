"""Properties of adding and measuring on a real term calendar (Knowsley, with INSET days and
closures), across published and generated years.

``measure(start, end)`` is defined as the largest n with ``add(start, n) <= end``, which makes it
add's inverse in the order sense: for n >= 1, ``add(start, n) <= end`` exactly when
``n <= measure(start, end)``. ``measure(start, add(start, n)) == n`` is then exactly true for day
units and months (each extra unit moves the date on), but not in general:

- sessions: the nth session may be a morning; the same day's afternoon counts too, so the
  measure is n or n + 1;
- school weeks: two school weeks can land on the same day (the last week of a term where D's
  weekday is already a holiday rolls forward into the next term's first week), so the measure is
  at least n, and exactly n when ``add(start, n + 1)`` is later than ``add(start, n)``.
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import example, given, settings
from hypothesis import strategies as st

from casework.calendars import TermCalendar
from casework.calendars.config_files import la_calendar
from casework.calendars.explain import explain_add, explain_measure
from casework.calendars.model import Closure, DateRange, InsetDay
from casework.durations import (
    Duration,
    SessionOfDay,
    TermUnit,
    Unit,
    add,
    england_bank_holidays,
    is_working_day,
    measure,
    sessions_on,
)

SHIPPED = la_calendar("knowsley")
PM = frozenset({SessionOfDay.PM})
AM = frozenset({SessionOfDay.AM})
CAL = TermCalendar(
    "Property Primary",
    SHIPPED.years,
    inset_days=(
        InsetDay(date(2024, 9, 2)),
        InsetDay(date(2024, 11, 4)),
        InsetDay(date(2025, 1, 6), AM),
        # The last day of 2024/25 and the first two of 2025/26 are INSET days, so from a Tuesday
        # "n school weeks" (week of 21 Jul) and "n + 1" (week of 1 Sep) both land on Wed 3 Sep.
        InsetDay(date(2025, 7, 22)),
        InsetDay(date(2025, 9, 1)),
        InsetDay(date(2025, 9, 2)),
        InsetDay(date(2026, 1, 5)),
    ),
    closures=(
        Closure(DateRange(date(2024, 11, 13), date(2024, 11, 13)), PM, "heating failure"),
        Closure(DateRange(date(2025, 2, 5), date(2025, 2, 7)), frozenset(AM | PM), "snow"),
    ),
    pattern=SHIPPED.pattern,
)

starts = st.dates(min_value=date(2023, 8, 1), max_value=date(2029, 7, 31))
SCHOOL_UNITS = (Unit.SCHOOL_DAYS, Unit.SCHOOL_WEEKS, TermUnit.SESSIONS)
COUNT_UNITS = (*SCHOOL_UNITS, Unit.WORKING_DAYS, Unit.CALENDAR_DAYS, Unit.MONTHS)
EXACT_UNITS = (Unit.SCHOOL_DAYS, Unit.WORKING_DAYS, Unit.CALENDAR_DAYS, Unit.MONTHS)
amounts = st.integers(0, 40)
units = st.sampled_from(COUNT_UNITS)


@settings(max_examples=300, deadline=None)
@given(start=starts, n=st.integers(1, 40), unit=units)
@example(start=date(2025, 7, 15), n=1, unit=Unit.SCHOOL_WEEKS)  # weeks 1 and 2 meet: measure 2
@example(start=date(2024, 11, 11), n=1, unit=TermUnit.SESSIONS)  # Tue 12 AM, and PM: 2
def test_measure_undoes_add(start, n, unit):
    landed = add(CAL, start, Duration(n, unit))
    measured = measure(CAL, start, landed, unit)
    if unit in EXACT_UNITS:
        assert measured == n
    elif unit is TermUnit.SESSIONS:
        assert measured in (n, n + 1)
        if measured == n + 1:  # the nth session was a morning; its afternoon counts too
            assert sessions_on(CAL, landed) == AM | PM
    else:
        later = add(CAL, start, Duration(n + 1, unit))
        assert measured >= n
        assert (measured == n) == (later > landed)


@settings(max_examples=300, deadline=None)
@given(start=starts, span=st.integers(0, 400), n=st.integers(1, 60), unit=units)
def test_add_and_measure_are_adjoint(start, span, n, unit):
    end = start + timedelta(days=span)
    assert (add(CAL, start, Duration(n, unit)) <= end) == (n <= measure(CAL, start, end, unit))


@settings(max_examples=300, deadline=None)
@given(start=starts, n1=amounts, n2=amounts, unit=units)
def test_add_is_monotonic_in_n(start, n1, n2, unit):
    lo, hi = sorted((n1, n2))
    earlier, later = add(CAL, start, Duration(lo, unit)), add(CAL, start, Duration(hi, unit))
    assert earlier <= later
    if unit in EXACT_UNITS and lo < hi:
        assert earlier < later


@settings(max_examples=300, deadline=None)
@given(start=starts, span1=st.integers(0, 300), span2=st.integers(0, 300), unit=units)
def test_measure_is_monotonic_in_the_end_date(start, span1, span2, unit):
    lo, hi = sorted((span1, span2))
    near, far = start + timedelta(days=lo), start + timedelta(days=hi)
    assert measure(CAL, start, near, unit) <= measure(CAL, start, far, unit)


@settings(max_examples=300, deadline=None)
@given(start=starts, n=st.integers(1, 40), unit=st.sampled_from(SCHOOL_UNITS))
def test_school_units_land_on_a_school_day_strictly_after_the_start(start, n, unit):
    landed = add(CAL, start, Duration(n, unit))
    assert landed > start
    assert CAL.is_school_day(landed)


@settings(max_examples=200, deadline=None)
@given(start=starts, n=st.integers(1, 30))
def test_working_days_are_never_weekends_or_bank_holidays(start, n):
    landed = add(CAL, start, Duration(n, Unit.WORKING_DAYS))
    assert landed.weekday() < 5 and landed not in england_bank_holidays(landed.year)
    assert is_working_day(landed)


@settings(max_examples=200, deadline=None)
@given(start=starts)
def test_end_of_half_term_is_the_first_half_term_end_on_or_after_the_start(start):
    landed = add(CAL, start, Duration(0, TermUnit.END_OF_HALF_TERM))
    assert landed >= start and CAL.is_school_day(landed)
    half = CAL.half_term_containing(landed)
    assert landed in half.span
    # The last school day of its half term ...
    assert not any(CAL.is_school_day(d) for d in half.span.days() if d > landed)
    # ... and every school day from the start to it is in that same half term.
    between = DateRange(start, landed).days()
    assert all(CAL.half_term_containing(d) == half for d in between if CAL.is_school_day(d))


@settings(max_examples=200, deadline=None)
@given(start=starts, n=st.integers(0, 30), unit=units)
def test_explanations_agree_with_add_and_count_every_unit(start, n, unit):
    explained = explain_add(CAL, start, Duration(n, unit))
    assert explained.end == add(CAL, start, Duration(n, unit))
    counted = [c for step in explained.steps for c in step.counted]
    if unit not in (Unit.CALENDAR_DAYS, Unit.MONTHS):
        assert counted == list(range(1, n + 1))
    # Steps cover the days after the start in order, without gaps or overlaps.
    for before, after in zip(explained.steps, explained.steps[1:], strict=False):
        assert after.first == before.last + timedelta(days=1)


@settings(max_examples=200, deadline=None)
@given(start=starts, span=st.integers(0, 200), unit=units)
def test_measure_explanations_agree_with_measure(start, span, unit):
    end = start + timedelta(days=span)
    explained = explain_measure(CAL, start, end, unit)
    assert explained.duration.amount == measure(CAL, start, end, unit)
    if unit not in (Unit.CALENDAR_DAYS, Unit.MONTHS):
        counted = [c for step in explained.steps for c in step.counted]
        assert counted == list(range(1, len(counted) + 1))
        assert len(counted) >= explained.duration.amount
