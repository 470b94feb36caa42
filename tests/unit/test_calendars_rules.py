"""What a calendar change must satisfy (casework/calendars/rules.py): each broken rule names the
field, the value and the rule."""

from __future__ import annotations

from datetime import date

import pytest

from casework.calendars import TermCalendar
from casework.calendars.config_files import la_calendar
from casework.calendars.documents import TermSpec, spec_of
from casework.calendars.model import Closure, DateRange, InsetDay
from casework.calendars.rules import check_closure, check_inset, check_terms
from casework.durations import WHOLE_DAY, SessionOfDay

SHIPPED = la_calendar("knowsley")
K = TermCalendar("Oakfield Primary", SHIPPED.years, pattern=SHIPPED.pattern)
AM, PM = frozenset({SessionOfDay.AM}), frozenset({SessionOfDay.PM})
FIVE = tuple(
    InsetDay(d)
    for d in (
        date(2024, 9, 2),
        date(2024, 11, 4),
        date(2025, 1, 6),
        date(2025, 4, 22),
        date(2025, 6, 2),
    )
)


def _one(problems):
    assert len(problems) == 1, problems
    return problems[0]


def test_an_inset_day_on_a_school_day_is_fine():
    assert check_inset(K, date(2024, 11, 4), WHOLE_DAY) == []
    assert check_inset(K.replace(inset_days=FIVE[:4]), date(2025, 6, 2), WHOLE_DAY) == []


def test_a_sixth_inset_day_is_refused():
    problem = _one(check_inset(K.replace(inset_days=FIVE), date(2025, 6, 3), WHOLE_DAY))
    assert (problem.field, problem.value) == ("first", "2025-06-03")
    assert problem.rule == "a school has at most 5 INSET days a year; 2024/25 already has 5"


def test_inset_sessions_count_as_half_days():
    nine_halves = tuple(InsetDay(date(2024, 9, d), AM) for d in (2, 3, 4, 5, 6, 9, 10, 11, 12))
    cal = K.replace(inset_days=nine_halves)
    assert check_inset(cal, date(2024, 9, 13), PM) == []  # the tenth half day: five days
    assert "already has 4.5" in _one(check_inset(cal, date(2024, 9, 13), WHOLE_DAY)).rule
    # The count is per academic year: 2025/26 starts afresh.
    assert check_inset(K.replace(inset_days=FIVE), date(2025, 9, 1), WHOLE_DAY) == []


@pytest.mark.parametrize(
    ("day", "why"),
    [
        pytest.param(date(2024, 11, 9), "weekend", id="weekend"),
        pytest.param(date(2024, 10, 29), "October half term", id="half-term"),
        pytest.param(date(2024, 12, 26), "Boxing Day", id="bank-holiday"),
        pytest.param(date(2024, 8, 20), "summer holiday", id="holiday"),
    ],
)
def test_an_inset_day_must_be_a_school_day(day, why):
    problem = _one(check_inset(K, day, WHOLE_DAY))
    assert problem.field == "first" and problem.value == day.isoformat()
    assert problem.rule.startswith("must be a school day") and f"({why})" in problem.rule


def test_inset_days_and_closures_may_not_overlap():
    cal = K.replace(inset_days=(InsetDay(date(2024, 11, 4), AM, ident=7),))
    problem = _one(check_inset(cal, date(2024, 11, 4), WHOLE_DAY))
    assert problem.rule == "overlaps an INSET day already recorded for Mon 4 Nov 2024 (entry 7)"
    assert check_inset(cal, date(2024, 11, 4), PM) == []  # the other session is free
    closure = _one(check_closure(cal, DateRange(date(2024, 11, 4), date(2024, 11, 5)), WHOLE_DAY))
    assert closure.field == "first" and "overlaps an INSET day" in closure.rule
    snowed = K.replace(
        closures=(
            Closure(DateRange(date(2025, 2, 5), date(2025, 2, 7)), WHOLE_DAY, "snow", ident=9),
        )
    )
    problem = _one(check_closure(snowed, DateRange(date(2025, 2, 7), date(2025, 2, 10)), PM))
    assert problem.field == "session"  # one session, several days: refused before overlap
    problem = _one(check_closure(snowed, DateRange(date(2025, 2, 7), date(2025, 2, 10)), WHOLE_DAY))
    assert "overlaps a closure already recorded for Wed 5 Feb 2025 to Fri 7 Feb 2025" in (
        problem.rule
    )


def test_a_closure_on_a_weekend_is_refused():
    problem = _one(check_closure(K, DateRange(date(2024, 11, 9), date(2024, 11, 9)), WHOLE_DAY))
    assert (problem.field, problem.value) == ("first", "2024-11-09")
    assert problem.rule == "must be a school day; Sat 9 Nov 2024 is not (weekend)"
    ends_on_sunday = DateRange(date(2024, 11, 7), date(2024, 11, 10))
    assert _one(check_closure(K, ends_on_sunday, WHOLE_DAY)).field == "last"
    # A closure running over a weekend is fine: only its first and last days must be open.
    assert check_closure(K, DateRange(date(2024, 11, 7), date(2024, 11, 12)), WHOLE_DAY) == []


def test_a_closure_stays_within_one_academic_year():
    across = DateRange(date(2025, 7, 21), date(2025, 9, 2))
    assert _one(check_closure(K, across, WHOLE_DAY)).field == "last"


def _specs(start_year: int) -> list[TermSpec]:
    return [spec_of(t) for t in K.year(start_year).terms]


def test_published_terms_pass():
    assert check_terms(2024, _specs(2024)) == []


def test_terms_must_be_autumn_spring_summer():
    specs = _specs(2024)
    problem = _one(check_terms(2024, [specs[1], specs[0], specs[2]]))
    assert problem.field == "terms" and problem.value == ["spring", "autumn", "summer"]


def test_term_dates_are_checked_one_by_one():
    autumn, spring, summer = _specs(2024)
    problems = check_terms(
        2024,
        [
            TermSpec(
                "autumn", date(2024, 9, 1), autumn.last, (date(2024, 8, 28), date(2024, 9, 6))
            ),
            TermSpec("spring", date(2024, 12, 19), spring.last, spring.half_term),
            TermSpec("summer", summer.first, date(2025, 8, 4), summer.half_term),
        ],
    )
    assert [(p.field, p.value) for p in problems] == [
        ("terms[0].first", "2024-09-01"),  # a Sunday
        ("terms[0].half_term", ["2024-08-28", "2024-09-06"]),  # not inside the term
        ("terms[1].first", "2024-12-19"),  # before autumn ends
        ("terms[2].last", "2025-08-04"),  # after 31 July
    ]
    assert problems[0].rule == "a term starts and ends on a weekday; Sun 1 Sep 2024 is a weekend"
    assert problems[2].rule == "the spring term starts after the autumn term ends (Fri 20 Dec 2024)"
    assert problems[3].rule == "falls outside 2024/25 (Thu 1 Aug 2024 to Thu 31 Jul 2025)"


def test_a_year_needs_190_days_of_term():
    autumn, spring, summer = _specs(2024)
    # Ending on Fri 11 Jul rather than Tue 22 Jul 2025 loses 7 of the published 195 days.
    short = TermSpec("summer", summer.first, date(2025, 7, 11), summer.half_term)
    problem = _one(check_terms(2024, [autumn, spring, short]))
    assert problem.field == "terms" and problem.value == 188
    assert problem.rule.startswith("a year needs at least 190 days (380 sessions) of term")
