"""Term-date patterns (casework/calendars/patterns.py) and the shipped calendar files.

The Greater Merseyside rules are CALENDARS.md's; this file records exactly where Knowsley's
published 2023/24 and 2024/25 dates differ from what the rules give (the published dates are what
the calendar uses for those years).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from casework.calendars import TermCalendar
from casework.calendars.config_files import la_calendar
from casework.calendars.documents import spec_of
from casework.calendars.model import DateRange, year_span
from casework.calendars.patterns import ESSEX, GREATER_MERSEYSIDE, NATIONAL, PATTERNS
from casework.calendars.rules import check_terms
from casework.durations import england_bank_holiday_name, is_working_day

KNOWSLEY = la_calendar("knowsley")
PUBLISHED = {year.start_year: year for year in KNOWSLEY.years}


def _differences(start_year: int) -> dict[str, tuple[object, object]]:
    """(published, rule) for every term date that differs."""
    found = {}
    published, generated = PUBLISHED[start_year], GREATER_MERSEYSIDE(start_year)
    for ours, theirs in zip(published.terms, generated.terms, strict=True):
        for part in ("first", "last", "half_term"):
            if getattr(ours, part) != getattr(theirs, part):
                found[f"{ours.name}.{part}"] = (getattr(ours, part), getattr(theirs, part))
    return found


def test_where_knowsley_2023_24_differs_from_the_greater_merseyside_rules():
    assert _differences(2023) == {
        # "October half term is the last full week in October": 23-27 Oct. Knowsley took the week
        # containing 31 October instead (it did in 2024 too).
        "autumn.half_term": (
            DateRange(date(2023, 10, 30), date(2023, 11, 3)),
            DateRange(date(2023, 10, 23), date(2023, 10, 27)),
        ),
        # "Terms start on a Monday, or the Tuesday where a bank holiday falls on the Monday":
        # New Year's Day was Mon 1 Jan 2024, so Tue 2 Jan; Knowsley started on Wed 3 Jan.
        "spring.first": (date(2024, 1, 3), date(2024, 1, 2)),
        # Knock-on: with that extra spring day, the 195th day of term is Thu 18 Jul, not Fri 19.
        "summer.last": (date(2024, 7, 19), date(2024, 7, 18)),
    }


def test_where_knowsley_2024_25_differs_from_the_greater_merseyside_rules():
    assert _differences(2024) == {
        # Last full week in October: 21-25 Oct; Knowsley took 28 Oct - 1 Nov (contains 31 Oct).
        "autumn.half_term": (
            DateRange(date(2024, 10, 28), date(2024, 11, 1)),
            DateRange(date(2024, 10, 21), date(2024, 10, 25)),
        ),
        # The 195th day is Tue 22 Jul 2025, which leaves the last week open two days; the
        # "open three or more days" rule carries it to Wed 23 Jul. Knowsley ends on Tue 22 Jul.
        "summer.last": (date(2025, 7, 22), date(2025, 7, 23)),
    }


def test_published_dates_win_over_the_pattern_for_their_years():
    cal = TermCalendar("Oakfield Primary", KNOWSLEY.years, pattern=KNOWSLEY.pattern)
    assert not cal.is_school_day(date(2024, 10, 28))  # published half term
    assert cal.is_school_day(date(2024, 10, 21))  # the rule's half term: a school day
    assert cal.year(2024) is PUBLISHED[2024]
    assert cal.year(2025).provisional and cal.year(2025).source == "greater_merseyside pattern"


ALL_YEARS = range(2000, 2100)


@pytest.mark.parametrize("pattern", list(PATTERNS.values()), ids=list(PATTERNS))
def test_every_generated_year_is_a_valid_provisional_year_of_195_to_197_days(pattern):
    for start_year in ALL_YEARS:
        year = pattern(start_year)
        assert year.provisional
        specs = [spec_of(t) for t in year.terms]
        assert check_terms(start_year, specs) == [], year
        days = sum(
            1
            for t in year.terms
            for day in t.span.days()
            if is_working_day(day) and day not in t.half_term
        )
        # 195 days of term, carried on by at most two days to leave three open in the last week.
        assert 195 <= days <= 197, (start_year, days)
        assert year.terms[-1].last <= year_span(start_year).last


def _open_days(week_of: date) -> list[date]:
    monday = week_of - timedelta(days=week_of.weekday())
    return [monday + timedelta(days=i) for i in range(5) if is_working_day(monday + timedelta(i))]


@pytest.mark.parametrize("pattern", list(PATTERNS.values()), ids=list(PATTERNS))
def test_shared_rules_hold_in_every_generated_year(pattern):
    for start_year in ALL_YEARS:
        year = pattern(start_year)
        for term in year.terms:
            # Terms start on a Monday, or a Tuesday after a bank-holiday Monday (Essex: the
            # autumn term starts on a Wednesday); a part week is open three or more days.
            first = term.first
            opened = first.weekday() == 0 or (
                first.weekday() == 1 and england_bank_holiday_name(first - timedelta(1))
            )
            assert opened or (pattern is ESSEX and term.name == "autumn"), (start_year, term)
            for edge in (term.first, term.last):
                open_in_term = [day for day in _open_days(edge) if day in term.span]
                assert len(open_in_term) >= 3, (start_year, term.name, edge)
        # The May half term is the week of the spring bank holiday (its Monday, but for the
        # jubilees of 2002, 2012 and 2022, when it moved into June).
        may = year.terms[2].half_term
        spring_bank_holiday = [
            day for day in may.days() if england_bank_holiday_name(day) == "Spring Bank Holiday"
        ]
        assert len(spring_bank_holiday) == 1
        assert may.first.weekday() == 0 and may.last - may.first == timedelta(days=4)
        if start_year + 1 not in (2002, 2012, 2022):
            assert spring_bank_holiday == [may.first]


def test_greater_merseyside_rules_hold_in_every_generated_year():
    for start_year in ALL_YEARS:
        autumn, spring, summer = GREATER_MERSEYSIDE(start_year).terms
        october = autumn.half_term
        # The last full (Monday to Friday) week in October.
        assert october.first.weekday() == 0 and october.last.month == 10
        assert (october.first + timedelta(days=7 + 4)).month == 11
        # The third week in February, a week being February's when its Thursday is.
        february = spring.half_term
        thursday = february.first + timedelta(days=3)
        assert thursday.month == 2 and 15 <= thursday.day <= 21
        # The first two full weeks in April, whatever the date of Easter.
        break_first = spring.last + timedelta(days=1)
        while break_first.weekday() != 0:
            break_first += timedelta(days=1)
        assert break_first.month == 4 and break_first.day <= 7
        assert summer.first >= break_first + timedelta(days=14)
        assert summer.first - (break_first + timedelta(days=14)) <= timedelta(days=1)


def test_national_and_essex_rules_in_a_sample_year():
    # 2025/26: Easter Sunday 5 Apr 2026, so a two-week break from Mon 30 Mar to Fri 10 Apr.
    national = NATIONAL(2025)
    assert national.terms[0].first == date(2025, 9, 1)
    assert national.terms[0].half_term == DateRange(date(2025, 10, 27), date(2025, 10, 31))
    assert national.terms[1].half_term == DateRange(date(2026, 2, 16), date(2026, 2, 20))
    assert national.terms[1].last == date(2026, 3, 27)
    assert national.terms[2].first == date(2026, 4, 13)
    essex = ESSEX(2025)
    assert essex.terms[0].first == date(2025, 9, 3)  # first Wednesday in September
    assert essex.terms[1].half_term == DateRange(date(2026, 2, 9), date(2026, 2, 13))  # 14 Feb


def test_shipped_calendar_files():
    assert [y.label for y in KNOWSLEY.years] == ["2023/24", "2024/25"]
    assert all(not y.provisional for y in KNOWSLEY.years)
    assert KNOWSLEY.pattern is GREATER_MERSEYSIDE
    essex = la_calendar("essex")
    assert essex.years == () and essex.pattern is ESSEX
    assert la_calendar("national").pattern is NATIONAL
    # An LA profile without a calendar file of its own gets the national default.
    telford = la_calendar("telford-and-wrekin")
    assert telford.pattern is NATIONAL and telford.path.name == "national.toml"


def test_the_generated_years_used_by_the_counting_tests():
    # test_calendars_counting.py works dates out by hand on these generated years.
    autumn_2025 = GREATER_MERSEYSIDE(2025).terms[0]
    assert autumn_2025.first == date(2025, 9, 1)
    assert autumn_2025.half_term == DateRange(date(2025, 10, 27), date(2025, 10, 31))
    spring_2027 = GREATER_MERSEYSIDE(2026).terms[1]
    assert (spring_2027.first, spring_2027.last) == (date(2027, 1, 4), date(2027, 4, 2))
    summer_2030 = GREATER_MERSEYSIDE(2029).terms[2]
    assert summer_2030.first == date(2030, 4, 15)
