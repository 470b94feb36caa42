"""Adding and measuring durations on a school's term calendar: CALENDARS.md "Counting rules".

Every expected date was worked out by hand from a paper calendar, Knowsley's published term dates
(CALENDARS.md table: 2023/24 and 2024/25) and the England bank holidays; the comment on each row
shows the count. Later years are generated from the Greater Merseyside pattern (provisional):
2025/26 autumn from Mon 1 Sep 2025 (October half term 27-31 Oct); 2026/27 spring Mon 4 Jan -
Fri 2 Apr 2027 (Easter break 5-16 Apr, so Good Friday 26 Mar and Easter Monday 29 Mar fall in
term); 2029/30 summer from Mon 15 Apr 2030 (Easter break 1-12 Apr, so Good Friday 19 Apr and
Easter Monday 22 Apr fall in term). test_calendars_patterns.py checks those generated dates.
"""

from __future__ import annotations

from datetime import date

import pytest

from casework.calendars import AcademicYear, OutsideCalendar, TermCalendar
from casework.calendars.config_files import la_calendar
from casework.calendars.explain import explain_add, explain_measure
from casework.calendars.model import Closure, DateRange, InsetDay, Term
from casework.durations import Duration, SessionOfDay, TermUnit, Unit, add, measure

SHIPPED = la_calendar("knowsley")
K = TermCalendar("Knowsley test school", SHIPPED.years, pattern=SHIPPED.pattern)
# INSET days on the Monday after October half term 2024 and on the last day before it.
K_INSET = K.replace(inset_days=(InsetDay(date(2024, 11, 4)), InsetDay(date(2024, 10, 25))))
# An INSET morning only, on Mon 4 Nov 2024.
K_INSET_AM = K.replace(inset_days=(InsetDay(date(2024, 11, 4), frozenset({SessionOfDay.AM})),))
# Closed for the afternoon of Wed 13 Nov 2024 (one session).
K_CLOSED_PM = K.replace(
    closures=(
        Closure(
            DateRange(date(2024, 11, 13), date(2024, 11, 13)),
            frozenset({SessionOfDay.PM}),
            "heating failure",
        ),
    )
)
# An academy with its own 2024/25 term dates: a two-week October half term (Mon 21 Oct -
# Fri 1 Nov); spring and summer as the LA's. Other years follow the LA.
ACADEMY = K.replace(
    own_terms=(
        AcademicYear(
            2024,
            (
                Term(
                    "autumn",
                    date(2024, 9, 2),
                    date(2024, 12, 20),
                    DateRange(date(2024, 10, 21), date(2024, 11, 1)),
                ),
                Term(
                    "spring",
                    date(2025, 1, 6),
                    date(2025, 4, 4),
                    DateRange(date(2025, 2, 17), date(2025, 2, 21)),
                ),
                Term(
                    "summer",
                    date(2025, 4, 22),
                    date(2025, 7, 22),
                    DateRange(date(2025, 5, 26), date(2025, 5, 30)),
                ),
            ),
            source="academy's own",
        ),
    )
)

d = date
CAL, WD, SD, SW, M = (
    Unit.CALENDAR_DAYS,
    Unit.WORKING_DAYS,
    Unit.SCHOOL_DAYS,
    Unit.SCHOOL_WEEKS,
    Unit.MONTHS,
)
S, EOH = TermUnit.SESSIONS, TermUnit.END_OF_HALF_TERM

ADD_CASES = [
    # --- school days ------------------------------------------------------------------------------
    # Thu 24 Oct 2024: Fri 25 (1), [weekend, October half term 28 Oct - 1 Nov], Mon 4 Nov (2)
    pytest.param(K, d(2024, 10, 24), 2, SD, d(2024, 11, 4), id="sd-october-half-term"),
    # Wed 18 Dec 2024: Thu 19 (1), Fri 20 (2), [Christmas; 25, 26 Dec, 1 Jan], Mon 6 Jan (3)
    pytest.param(K, d(2024, 12, 18), 3, SD, d(2025, 1, 6), id="sd-christmas"),
    # Thu 13 Feb 2025: Fri 14 (1), [February half term 17-21 Feb], Mon 24 (2), Tue 25 (3)
    pytest.param(K, d(2025, 2, 13), 3, SD, d(2025, 2, 25), id="sd-february-half-term"),
    # Thu 3 Apr 2025: Fri 4 (1), [Easter break 7-18 Apr; Good Friday 18, Easter Monday 21 Apr],
    # Tue 22 Apr (2)
    pytest.param(K, d(2025, 4, 3), 2, SD, d(2025, 4, 22), id="sd-easter-inside-the-break-2025"),
    # Wed 27 Mar 2024: Thu 28 (1), [Good Friday 29 Mar, Easter Monday 1 Apr, break to 12 Apr],
    # Mon 15 Apr (2)
    pytest.param(K, d(2024, 3, 27), 2, SD, d(2024, 4, 15), id="sd-easter-2024"),
    # Thu 25 Mar 2027: [Fri 26 Good Friday, weekend, Mon 29 Easter Monday: in term, still closed],
    # Tue 30 Mar (1)
    pytest.param(K, d(2027, 3, 25), 1, SD, d(2027, 3, 30), id="sd-easter-before-the-break-2027"),
    # Thu 18 Apr 2030: [Fri 19 Good Friday, weekend, Mon 22 Easter Monday: after the break],
    # Tue 23 Apr (1)
    pytest.param(K, d(2030, 4, 18), 1, SD, d(2030, 4, 23), id="sd-easter-after-the-break-2030"),
    # Fri 2 May 2025: [weekend, Mon 5 May Day], Tue 6 May (1)
    pytest.param(K, d(2025, 5, 2), 1, SD, d(2025, 5, 6), id="sd-early-may-bank-holiday"),
    # Fri 23 May 2025: [weekend, Mon 26 spring bank holiday, May half term 27-30], Mon 2 Jun (1)
    pytest.param(K, d(2025, 5, 23), 1, SD, d(2025, 6, 2), id="sd-spring-bank-holiday-half-term"),
    # Thu 21 Dec 2023 (last day of autumn 2023): [to Tue 2 Jan], Wed 3 Jan 2024 (1)
    pytest.param(K, d(2023, 12, 21), 1, SD, d(2024, 1, 3), id="sd-spring-2024-starts-wednesday"),
    # Mon 21 Jul 2025: Tue 22 (1, last day of the year), [summer; Mon 25 Aug bank holiday],
    # Mon 1 Sep 2025 (2)
    pytest.param(K, d(2025, 7, 21), 2, SD, d(2025, 9, 1), id="sd-across-the-summer"),
    # Thu 24 Oct 2024: Fri 25 INSET, [half term], Mon 4 Nov INSET, Tue 5 (1), Wed 6 Nov (2)
    pytest.param(K_INSET, d(2024, 10, 24), 2, SD, d(2024, 11, 6), id="sd-inset-days"),
    # Fri 1 Nov 2024: Mon 4 Nov has its PM session (INSET morning): still a school day (1)
    pytest.param(K_INSET_AM, d(2024, 11, 1), 1, SD, d(2024, 11, 4), id="sd-inset-morning"),
    # Tue 12 Nov 2024: Wed 13 keeps its AM session (PM closed): a school day (1)
    pytest.param(K_CLOSED_PM, d(2024, 11, 12), 1, SD, d(2024, 11, 13), id="sd-closed-afternoon"),
    # Academy: Fri 18 Oct 2024: [two-week half term 21 Oct - 1 Nov], Mon 4 Nov (1);
    # on the LA's dates the answer is Mon 21 Oct
    pytest.param(ACADEMY, d(2024, 10, 18), 1, SD, d(2024, 11, 4), id="sd-own-term-dates"),
    pytest.param(K, d(2024, 10, 18), 1, SD, d(2024, 10, 21), id="sd-la-dates-for-contrast"),
    # --- school weeks -----------------------------------------------------------------------------
    # CALENDARS.md: Mon 14 Oct 2024: 21 Oct (1), [28 Oct half term], 4 Nov (2), 11 Nov (3)
    pytest.param(K, d(2024, 10, 14), 3, SW, d(2024, 11, 11), id="sw-aim-worked-example"),
    # Mon 9 Dec 2024: 16 Dec (1), [23 Dec, 30 Dec], 6 Jan (2), 13 Jan (3)
    pytest.param(K, d(2024, 12, 9), 3, SW, d(2025, 1, 13), id="sw-christmas"),
    # Wed 12 Feb 2025: [17 Feb half term], 24 Feb (1) -> Wed 26 Feb
    pytest.param(K, d(2025, 2, 12), 1, SW, d(2025, 2, 26), id="sw-february-half-term"),
    # Fri 28 Mar 2025: 31 Mar (1), [7 Apr, 14 Apr break], 21 Apr (2: Easter Monday, term from
    # Tue 22) -> Fri 25 Apr
    pytest.param(K, d(2025, 3, 28), 2, SW, d(2025, 4, 25), id="sw-easter-inside-the-break"),
    # Mon 22 Mar 2027: 29 Mar (1); Mon 29 Mar is Easter Monday (in term) -> Tue 30 Mar
    pytest.param(K, d(2027, 3, 22), 1, SW, d(2027, 3, 30), id="sw-easter-monday-in-term-2027"),
    # Fri 12 Apr 2030 (in the break): 15 Apr (1); Fri 19 Apr is Good Friday (in term)
    # -> [weekend, Easter Monday 22 Apr] Tue 23 Apr
    pytest.param(K, d(2030, 4, 12), 1, SW, d(2030, 4, 23), id="sw-good-friday-in-term-2030"),
    # Mon 31 Mar 2025: [7, 14 Apr], 21 Apr (1), 28 Apr (2), 5 May (3: May Day) -> Tue 6 May
    pytest.param(K, d(2025, 3, 31), 3, SW, d(2025, 5, 6), id="sw-lands-on-may-day"),
    # Tue 20 May 2025: [26 May: spring bank holiday and half term], 2 Jun (1) -> Tue 3 Jun
    pytest.param(K, d(2025, 5, 20), 1, SW, d(2025, 6, 3), id="sw-may-half-term"),
    # Thu 17 Jul 2025: 21 Jul (1: Mon and Tue only), [28 Jul - 25 Aug], 1 Sep (2) -> Thu 4 Sep
    pytest.param(K, d(2025, 7, 17), 2, SW, d(2025, 9, 4), id="sw-across-the-summer"),
    # Wed 16 Jul 2025: 21 Jul (1); its Wednesday 23 Jul is the summer holiday -> Mon 1 Sep 2025
    pytest.param(K, d(2025, 7, 16), 1, SW, d(2025, 9, 1), id="sw-rolls-over-the-summer"),
    # Mon 14 Oct 2024: 21 Oct (1), [28 Oct], 4 Nov (2); Mon 4 Nov is an INSET day -> Tue 5 Nov
    pytest.param(K_INSET, d(2024, 10, 14), 2, SW, d(2024, 11, 5), id="sw-lands-on-inset-day"),
    # Academy: Mon 14 Oct 2024: [21 Oct, 28 Oct: two-week half term], 4 Nov (1)
    pytest.param(ACADEMY, d(2024, 10, 14), 1, SW, d(2024, 11, 4), id="sw-own-term-dates"),
    # --- sessions ---------------------------------------------------------------------------------
    # Fri 25 Oct 2024: [half term], Mon 4 Nov AM (1), PM (2), Tue 5 Nov AM (3)
    pytest.param(K, d(2024, 10, 25), 3, S, d(2024, 11, 5), id="s-october-half-term"),
    # Thu 19 Dec 2024: Fri 20 AM (1), PM (2), [Christmas], Mon 6 Jan AM (3), PM (4)
    pytest.param(K, d(2024, 12, 19), 4, S, d(2025, 1, 6), id="s-christmas"),
    # Tue 12 Nov 2024: Wed 13 AM (1) [PM closed], Thu 14 AM (2), PM (3)
    pytest.param(K_CLOSED_PM, d(2024, 11, 12), 3, S, d(2024, 11, 14), id="s-closed-afternoon"),
    # Tue 12 Nov 2024 on the LA's dates: Wed 13 AM (1), PM (2), Thu 14 AM (3)
    pytest.param(K, d(2024, 11, 12), 2, S, d(2024, 11, 13), id="s-two-on-one-day"),
    # Fri 1 Nov 2024: Mon 4 Nov PM (1) [AM INSET], Tue 5 AM (2)
    pytest.param(K_INSET_AM, d(2024, 11, 1), 2, S, d(2024, 11, 5), id="s-inset-morning"),
    # --- working days: Mon-Fri less bank holidays, whatever the term dates ------------------------
    # Fri 23 May 2025: [weekend, Mon 26 spring bank holiday], Tue 27 May (1), in half term
    pytest.param(K, d(2025, 5, 23), 1, WD, d(2025, 5, 27), id="wd-counts-through-half-term"),
    # Thu 17 Apr 2025: [Good Friday, weekend, Easter Monday], Tue 22 (1), Wed 23 (2)
    pytest.param(K, d(2025, 4, 17), 2, WD, d(2025, 4, 23), id="wd-easter"),
    # --- calendar days and months: every day counts -----------------------------------------------
    # Mon 14 Oct 2024 + 21 days = Mon 4 Nov (half term makes no difference)
    pytest.param(K, d(2024, 10, 14), 21, CAL, d(2024, 11, 4), id="cal-21-days"),
    # Fri 20 Dec 2024 + 15 days = Sat 4 Jan 2025
    pytest.param(K, d(2024, 12, 20), 15, CAL, d(2025, 1, 4), id="cal-15-days-to-a-saturday"),
    # 14 Oct 2024 + 6 months = 14 Apr 2025, in the Easter break: months do not move to term
    pytest.param(K, d(2024, 10, 14), 6, M, d(2025, 4, 14), id="months-into-a-holiday"),
    # 31 Aug 2024 + 6 months: 31 Feb does not exist -> 28 Feb 2025
    pytest.param(K, d(2024, 8, 31), 6, M, d(2025, 2, 28), id="months-clamped"),
    # --- end of half term: the last school day of the half term containing D ----------------------
    # Mon 14 Oct 2024: first half of autumn ends before half term on Mon 28 Oct -> Fri 25 Oct
    pytest.param(K, d(2024, 10, 14), 0, EOH, d(2024, 10, 25), id="eoh-autumn-1"),
    # Wed 30 Oct 2024 (half term): the half term that follows, autumn 2 -> Fri 20 Dec
    pytest.param(K, d(2024, 10, 30), 0, EOH, d(2024, 12, 20), id="eoh-from-a-half-term-break"),
    # Sat 26 Oct 2024, after autumn 1's last school day -> the next half term's, Fri 20 Dec
    pytest.param(K, d(2024, 10, 26), 0, EOH, d(2024, 12, 20), id="eoh-weekend-before-the-break"),
    # Fri 20 Dec 2024 is itself the last school day
    pytest.param(K, d(2024, 12, 20), 0, EOH, d(2024, 12, 20), id="eoh-on-the-last-day"),
    # Mon 6 Jan 2025: spring 1 ends before the 17 Feb half term -> Fri 14 Feb
    pytest.param(K, d(2025, 1, 6), 0, EOH, d(2025, 2, 14), id="eoh-spring-1"),
    # Mon 24 Feb 2025: spring 2 ends Fri 4 Apr
    pytest.param(K, d(2025, 2, 24), 0, EOH, d(2025, 4, 4), id="eoh-spring-2"),
    # Wed 9 Apr 2025 (Easter break): summer 1, up to the 26 May half term -> Fri 23 May
    pytest.param(K, d(2025, 4, 9), 0, EOH, d(2025, 5, 23), id="eoh-from-the-easter-break"),
    # Mon 2 Jun 2025: summer 2 ends Tue 22 Jul
    pytest.param(K, d(2025, 6, 2), 0, EOH, d(2025, 7, 22), id="eoh-summer-2"),
    # Wed 23 Jul 2025 (summer holiday): autumn 1 of 2025/26, before 27 Oct -> Fri 24 Oct 2025
    pytest.param(K, d(2025, 7, 23), 0, EOH, d(2025, 10, 24), id="eoh-into-the-next-year"),
    # Fri 25 Oct 2024 is an INSET day: autumn 1's last school day is Thu 24 Oct
    pytest.param(K_INSET, d(2024, 10, 14), 0, EOH, d(2024, 10, 24), id="eoh-inset-last-day"),
    # Academy: autumn 1 ends before its half term on 21 Oct -> Fri 18 Oct
    pytest.param(ACADEMY, d(2024, 10, 14), 0, EOH, d(2024, 10, 18), id="eoh-own-term-dates"),
]


@pytest.mark.parametrize(("cal", "start", "n", "unit", "expected"), ADD_CASES)
def test_add(cal, start, n, unit, expected):
    assert add(cal, start, Duration(n, unit)) == expected
    assert explain_add(cal, start, Duration(n, unit)).end == expected


MEASURE_CASES = [
    # Mon 14 Oct -> Mon 11 Nov 2024: 21 Oct (1), [28 Oct], 4 Nov (2), 11 Nov (3)
    pytest.param(K, d(2024, 10, 14), d(2024, 11, 11), SW, 3, id="sw-worked-example"),
    # ... to Sun 10 Nov: the third week's Monday (11 Nov) is not reached
    pytest.param(K, d(2024, 10, 14), d(2024, 11, 10), SW, 2, id="sw-not-yet-three"),
    # Wed 16 Jul -> Fri 29 Aug 2025: week 1 (21 Jul) lands on Mon 1 Sep (its Wednesday is a
    # holiday), so not even one school week has passed
    pytest.param(K, d(2025, 7, 16), d(2025, 8, 29), SW, 0, id="sw-none-over-the-summer"),
    # ... to Wed 3 Sep 2025: week 1 lands Mon 1 Sep, week 2 (1 Sep) lands Wed 3 Sep: two
    pytest.param(K, d(2025, 7, 16), d(2025, 9, 3), SW, 2, id="sw-two-land-in-one-week"),
    # Thu 24 Oct -> Mon 4 Nov 2024: Fri 25, Mon 4 Nov
    pytest.param(K, d(2024, 10, 24), d(2024, 11, 4), SD, 2, id="sd-over-half-term"),
    # Fri 30 Aug -> Fri 20 Dec 2024: 8 weeks to 25 Oct, 7 weeks from 4 Nov: 75 school days
    pytest.param(K, d(2024, 8, 30), d(2024, 12, 20), SD, 75, id="sd-autumn-term-2024"),
    # ... and 150 sessions
    pytest.param(K, d(2024, 8, 30), d(2024, 12, 20), S, 150, id="s-autumn-term-2024"),
    # ... less two INSET days (4 Nov and 25 Oct)
    pytest.param(K_INSET, d(2024, 8, 30), d(2024, 12, 20), SD, 73, id="sd-autumn-less-inset"),
    # Tue 12 -> Thu 14 Nov 2024 with Wed 13 PM closed: Wed AM, Thu AM, Thu PM
    pytest.param(K_CLOSED_PM, d(2024, 11, 12), d(2024, 11, 14), S, 3, id="s-closed-afternoon"),
    # Thu 17 -> Wed 23 Apr 2025: Tue 22, Wed 23 (Good Friday and Easter Monday not counted)
    pytest.param(K, d(2025, 4, 17), d(2025, 4, 23), WD, 2, id="wd-easter"),
    # Mon 14 Oct -> Mon 4 Nov 2024: 21 calendar days
    pytest.param(K, d(2024, 10, 14), d(2024, 11, 4), CAL, 21, id="cal-21"),
    # 14 Oct 2024 -> 13 Apr 2025: 5 whole months (the 6th ends on 14 Apr)
    pytest.param(K, d(2024, 10, 14), d(2025, 4, 13), M, 5, id="months-not-quite-six"),
    # 31 Aug 2024 -> 28 Feb 2025: 6 months (31 Aug + 6 months is clamped to 28 Feb)
    pytest.param(K, d(2024, 8, 31), d(2025, 2, 28), M, 6, id="months-clamped"),
    # Academy: Mon 14 Oct -> Mon 4 Nov 2024: [21, 28 Oct], 4 Nov (1)
    pytest.param(ACADEMY, d(2024, 10, 14), d(2024, 11, 4), SW, 1, id="sw-own-term-dates"),
]


@pytest.mark.parametrize(("cal", "start", "end", "unit", "expected"), MEASURE_CASES)
def test_measure(cal, start, end, unit, expected):
    assert measure(cal, start, end, unit) == expected
    assert explain_measure(cal, start, end, unit).duration.amount == expected


def test_knowsley_years_have_195_days_and_190_after_five_inset_days():
    # CALENDARS.md: a year has at least 380 sessions (190 days); the LA's 195 leave room for five
    # INSET days.
    for start_year in (2023, 2024):
        assert K.sessions_in(start_year) == 390
    insets = tuple(
        InsetDay(day)
        for day in (d(2024, 9, 2), d(2024, 9, 3), d(2025, 1, 6), d(2025, 4, 22), d(2025, 6, 2))
    )
    assert K.replace(inset_days=insets).sessions_in(2024) == 380


def test_the_worked_example_explains_the_skipped_half_term_week():
    explained = explain_add(K, d(2024, 10, 14), Duration(3, SW))
    assert explained.lines() == [
        "3 school weeks after Mon 14 Oct 2024:",
        "  week of Mon 21 Oct 2024: school week 1, 5 school days",
        "  week of Mon 28 Oct 2024: skipped (October half term)",
        "  week of Mon 4 Nov 2024: school week 2, 5 school days",
        "  week of Mon 11 Nov 2024: school week 3, 5 school days",
        "  => Mon 11 Nov 2024 (Monday of school week 3)",
    ]
    assert explained.provisional_years == ()


def test_explanations_name_bank_holidays_inset_days_and_closures():
    easter = explain_add(K, d(2027, 3, 25), Duration(1, SD)).lines()
    assert "  Fri 26 Mar 2027: skipped (Good Friday)" in easter
    assert "  Mon 29 Mar 2027: skipped (Easter Monday)" in easter
    assert any("Provisional: 2026/27" in line for line in easter)
    inset = explain_add(K_INSET, d(2024, 10, 14), Duration(2, SW)).lines()
    assert inset[-1] == (
        "  => Tue 5 Nov 2024: Mon 4 Nov 2024 (Monday of school week 2) is not a school day "
        "(INSET day), so the next school day"
    )
    closed = explain_add(K_CLOSED_PM, d(2024, 11, 12), Duration(3, S)).lines()
    assert "  Wed 13 Nov 2024: session 1 (PM: closure (heating failure))" in closed
    christmas = explain_add(K, d(2024, 12, 9), Duration(3, SW)).lines()
    assert "  week of Mon 23 Dec 2024: skipped (Christmas holiday, Christmas Day, Boxing Day)" in (
        christmas
    )


def test_end_of_half_term_says_which_half_term():
    explained = explain_add(K, d(2024, 10, 30), Duration(0, EOH))
    assert explained.summary == (
        "Fri 20 Dec 2024, the last school day of the half term: Wed 30 Oct 2024 is outside a "
        "half term (October half term); the next is the second half of the autumn term "
        "(Sat 2 Nov 2024 to Fri 20 Dec 2024)"
    )


def test_a_day_in_a_year_nobody_published_is_refused_without_a_pattern():
    unpatterned = TermCalendar("Hillcrest Primary", SHIPPED.years)
    assert unpatterned.is_school_day(d(2025, 7, 22))
    with pytest.raises(OutsideCalendar, match=r"Hillcrest Primary.*2025/26.*Mon 1 Sep 2025"):
        unpatterned.is_school_day(d(2025, 9, 1))
    with pytest.raises(OutsideCalendar):
        add(unpatterned, d(2025, 7, 21), Duration(2, SD))


def test_generated_years_are_flagged_provisional_and_published_ones_are_not():
    assert not K.is_provisional(d(2024, 11, 11))
    assert not K.is_provisional(d(2023, 9, 4))
    assert K.is_provisional(d(2025, 9, 1))
    assert not ACADEMY.is_provisional(d(2024, 11, 11))


def test_end_of_half_term_needs_a_calendar_with_half_terms():
    from casework.durations import WeekdayCalendar

    with pytest.raises(ValueError, match="no half terms"):
        add(WeekdayCalendar(), d(2024, 10, 14), Duration(0, EOH))
    with pytest.raises(ValueError, match="takes no amount"):
        add(K, d(2024, 10, 14), Duration(2, EOH))
    with pytest.raises(ValueError, match="not a count"):
        measure(K, d(2024, 10, 14), d(2024, 12, 1), EOH)


def test_measuring_backwards_is_refused():
    with pytest.raises(ValueError, match="is before"):
        measure(K, d(2024, 10, 14), d(2024, 10, 13), SD)
