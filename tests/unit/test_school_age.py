"""Compulsory school age: hand-worked tables for the start (prescribed days) and end (school
leaving date) rules, then properties over any date of birth.

Every date in the tables was checked against Python's ``calendar`` before it was written; the
weekday in each working comment is there so it can be checked again.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casework.school_age import (
    CompulsorySchoolAge,
    compulsory_school_age,
    explain,
    not_of_compulsory_school_age,
    school_leaving_date,
)


@pytest.mark.parametrize(
    ("date_of_birth", "first_day"),
    [
        # 31 March boundary
        (date(2014, 3, 30), date(2019, 3, 31)),  # 5th birthday Sat 30 Mar 2019 -> 31 Mar 2019
        (date(2014, 3, 31), date(2019, 3, 31)),  # 5th birthday Sun 31 Mar 2019 is one -> itself
        (date(2014, 4, 1), date(2019, 8, 31)),  # 5th birthday Mon 1 Apr 2019 -> 31 Aug 2019
        # 31 August boundary
        (date(2014, 8, 30), date(2019, 8, 31)),  # 5th birthday Fri 30 Aug 2019 -> 31 Aug 2019
        (date(2014, 8, 31), date(2019, 8, 31)),  # 5th birthday Sat 31 Aug 2019 is one -> itself
        (date(2014, 9, 1), date(2019, 12, 31)),  # 5th birthday Sun 1 Sep 2019 -> 31 Dec 2019
        # 31 December boundary
        (date(2014, 12, 30), date(2019, 12, 31)),  # 5th birthday Mon 30 Dec 2019 -> 31 Dec 2019
        (date(2014, 12, 31), date(2019, 12, 31)),  # 5th birthday Tue 31 Dec 2019 is one -> itself
        (date(2015, 1, 1), date(2020, 3, 31)),  # 5th birthday Wed 1 Jan 2020 -> 31 Mar 2020
        # Further ordinary cases
        (date(2014, 1, 1), date(2019, 3, 31)),  # 5th birthday Tue 1 Jan 2019 -> 31 Mar 2019
        (date(2015, 4, 1), date(2020, 8, 31)),  # 5th birthday Wed 1 Apr 2020 -> 31 Aug 2020
        (date(2015, 9, 1), date(2020, 12, 31)),  # 5th birthday Tue 1 Sep 2020 -> 31 Dec 2020
        (date(2019, 11, 14), date(2024, 12, 31)),  # 5th birthday Thu 14 Nov 2024 -> 31 Dec 2024
        # 29 February births: 2021 and 2025 are not leap years, so the 5th birthday is taken as
        # 1 March (28 February would give the same answer).
        (date(2016, 2, 29), date(2021, 3, 31)),  # 5th birthday taken as Mon 1 Mar 2021 -> 31 Mar
        (date(2020, 2, 29), date(2025, 3, 31)),  # 5th birthday taken as Sat 1 Mar 2025 -> 31 Mar
        (date(2016, 2, 28), date(2021, 3, 31)),  # 5th birthday Sun 28 Feb 2021 -> 31 Mar 2021
        (date(2016, 3, 1), date(2021, 3, 31)),  # 5th birthday Mon 1 Mar 2021 -> 31 Mar 2021
    ],
)
def test_first_day_is_the_prescribed_day_on_or_after_the_fifth_birthday(
    date_of_birth: date, first_day: date
) -> None:
    assert compulsory_school_age(date_of_birth).first_day == first_day


@pytest.mark.parametrize(
    ("date_of_birth", "last_day"),
    [
        # School year boundary (1 September)
        (date(2009, 9, 1), date(2026, 6, 26)),  # 16th Mon 1 Sep 2025: 2025/26 -> Fri 26 Jun 2026
        (date(2010, 8, 31), date(2026, 6, 26)),  # 16th Mon 31 Aug 2026: 2025/26 -> Fri 26 Jun 2026
        (date(2009, 8, 31), date(2025, 6, 27)),  # 16th Sun 31 Aug 2025: 2024/25 -> Fri 27 Jun 2025
        (date(2010, 9, 1), date(2027, 6, 25)),  # 16th Tue 1 Sep 2026: 2026/27 -> Fri 25 Jun 2027
        # Summer birthday after the leaving date: CSA ends before they turn 16
        (date(2010, 7, 15), date(2026, 6, 26)),  # 16th Wed 15 Jul 2026: 2025/26 -> Fri 26 Jun 2026
        # June, around the last Friday (26 Jun 2026)
        (date(2010, 6, 10), date(2026, 6, 26)),  # 16th Wed 10 Jun 2026, before -> Fri 26 Jun 2026
        (date(2010, 6, 26), date(2026, 6, 26)),  # 16th Fri 26 Jun 2026, the day itself
        (date(2010, 6, 27), date(2026, 6, 26)),  # 16th Sat 27 Jun 2026, after -> Fri 26 Jun 2026
        # 2022: the last Friday in June is the earliest it can be, 24 June
        (date(2006, 6, 23), date(2022, 6, 24)),  # 16th Thu 23 Jun 2022, before -> Fri 24 Jun 2022
        (date(2006, 6, 24), date(2022, 6, 24)),  # 16th Fri 24 Jun 2022, the day itself
        (date(2006, 6, 25), date(2022, 6, 24)),  # 16th Sat 25 Jun 2022, after -> Fri 24 Jun 2022
        # 2028: the last Friday in June is the latest it can be, 30 June
        (date(2012, 6, 29), date(2028, 6, 30)),  # 16th Thu 29 Jun 2028, before -> Fri 30 Jun 2028
        (date(2012, 6, 30), date(2028, 6, 30)),  # 16th Fri 30 Jun 2028, the day itself
        (date(2012, 7, 1), date(2028, 6, 30)),  # 16th Sat 1 Jul 2028, after -> Fri 30 Jun 2028
        # 29 February births
        (date(2012, 2, 29), date(2028, 6, 30)),  # 16th Tue 29 Feb 2028: 2027/28 -> Fri 30 Jun 2028
        (date(2084, 2, 29), date(2100, 6, 25)),  # 2100 not leap: 16th 1 Mar 2100 -> Fri 25 Jun 2100
    ],
)
def test_last_day_is_the_leaving_date_of_the_school_year_they_turn_16(
    date_of_birth: date, last_day: date
) -> None:
    assert compulsory_school_age(date_of_birth).last_day == last_day


@pytest.mark.parametrize(
    ("year", "leaving_date"),
    [
        (2022, date(2022, 6, 24)),  # 30 Jun 2022 is a Thu -> Fri 24 Jun (earliest possible)
        (2023, date(2023, 6, 30)),  # 30 Jun 2023 is a Fri -> itself (latest possible)
        (2025, date(2025, 6, 27)),  # 30 Jun 2025 is a Mon -> Fri 27 Jun
        (2026, date(2026, 6, 26)),  # 30 Jun 2026 is a Tue -> Fri 26 Jun
        (2027, date(2027, 6, 25)),  # 30 Jun 2027 is a Wed -> Fri 25 Jun
        (2028, date(2028, 6, 30)),  # 30 Jun 2028 is a Fri -> itself
        (2030, date(2030, 6, 28)),  # 30 Jun 2030 is a Sun -> Fri 28 Jun
        (2033, date(2033, 6, 24)),  # 30 Jun 2033 is a Thu -> Fri 24 Jun
    ],
)
def test_school_leaving_date_is_the_last_friday_in_june(year: int, leaving_date: date) -> None:
    assert school_leaving_date(year) == leaving_date


def test_compulsory_school_age_whole() -> None:
    # 5th birthday Thu 14 Nov 2024 -> 31 Dec 2024; 16th Wed 14 Nov 2035: 2035/36 -> Fri 27 Jun 2036
    assert compulsory_school_age(date(2019, 11, 14)) == CompulsorySchoolAge(
        date(2024, 12, 31), date(2036, 6, 27)
    )


def test_not_of_compulsory_school_age_lists_days_outside_sorted_and_distinct() -> None:
    # CSA for this pupil is 31 Dec 2024 to 27 Jun 2036 (as above).
    days = [
        date(2036, 6, 30),
        date(2024, 12, 31),
        date(2024, 9, 2),
        date(2036, 6, 27),
        date(2024, 12, 30),
        date(2024, 9, 2),
        date(2030, 1, 7),
    ]
    assert not_of_compulsory_school_age(date(2019, 11, 14), days) == [
        date(2024, 9, 2),
        date(2024, 12, 30),
        date(2036, 6, 30),
    ]
    assert not_of_compulsory_school_age(date(2019, 11, 14), iter([])) == []


@pytest.mark.parametrize(
    ("date_of_birth", "day", "expected"),
    [
        (
            date(2019, 11, 14),  # 5th birthday Thu 14 Nov 2024 -> 31 Dec 2024
            date(2024, 9, 2),
            "the pupil was not of compulsory school age on 2 September 2024: it begins on "
            "31 December 2024 (the prescribed day after their fifth birthday on 14 November 2024)",
        ),
        (
            date(2010, 7, 15),  # 16th Wed 15 Jul 2026: 2025/26 -> Fri 26 Jun 2026
            date(2026, 6, 29),
            "the pupil was not of compulsory school age on 29 June 2026: it ended on "
            "26 June 2026 (the school leaving date in the school year they turned 16)",
        ),
        (
            date(2014, 12, 31),  # 5th birthday Tue 31 Dec 2019 is itself a prescribed day
            date(2019, 12, 30),
            "the pupil was not of compulsory school age on 30 December 2019: it begins on "
            "31 December 2019 (their fifth birthday, which is itself a prescribed day)",
        ),
        (
            date(2016, 2, 29),  # 5th birthday taken as Mon 1 Mar 2021 -> 31 Mar 2021
            date(2021, 3, 30),
            "the pupil was not of compulsory school age on 30 March 2021: it begins on "
            "31 March 2021 (the prescribed day after their fifth birthday, taken as "
            "1 March 2021 as they were born on 29 February)",
        ),
    ],
)
def test_explain_names_the_dates(date_of_birth: date, day: date, expected: str) -> None:
    assert explain(date_of_birth, day) == expected


@pytest.mark.parametrize(
    "day",
    [date(2024, 12, 31), date(2030, 1, 7), date(2036, 6, 27)],  # first day, middle, last day
)
def test_explain_is_none_when_of_compulsory_school_age(day: date) -> None:
    assert explain(date(2019, 11, 14), day) is None


# Properties. Dates of birth span well past any real pupil, including 2100 (not a leap year).
births = st.dates(date(1950, 1, 1), date(2150, 12, 31))


def _birthday(date_of_birth: date, age: int) -> date:
    """The test's own reading of a birthday: 29 February becomes 1 March in a non-leap year."""
    try:
        return date(date_of_birth.year + age, date_of_birth.month, date_of_birth.day)
    except ValueError:
        return date(date_of_birth.year + age, 3, 1)


@given(births)
def test_first_day_is_the_earliest_prescribed_day_from_the_fifth_birthday(
    date_of_birth: date,
) -> None:
    first_day = compulsory_school_age(date_of_birth).first_day
    fifth = _birthday(date_of_birth, 5)
    assert (first_day.month, first_day.day) in {(3, 31), (8, 31), (12, 31)}
    # The longest wait is from a 1 April birthday to 31 August: 152 days.
    assert timedelta(0) <= first_day - fifth <= timedelta(days=152)
    # No prescribed day falls between the birthday and first_day.
    earlier = [
        date(year, month, 31)
        for year in (fifth.year - 1, fifth.year)
        for month in (3, 8, 12)
        if fifth <= date(year, month, 31) < first_day
    ]
    assert earlier == []


@given(births)
def test_last_day_is_a_friday_late_in_june_of_the_school_year_they_turn_16(
    date_of_birth: date,
) -> None:
    csa = compulsory_school_age(date_of_birth)
    last_day = csa.last_day
    assert last_day.weekday() == calendar.FRIDAY
    assert last_day.month == 6
    assert last_day.day >= 24
    sixteenth = _birthday(date_of_birth, 16)
    assert date(last_day.year - 1, 9, 1) <= sixteenth <= date(last_day.year, 8, 31)
    assert csa.first_day < last_day


@given(st.integers(1, 9998))
def test_school_leaving_date_is_the_last_friday_in_june_for_any_year(year: int) -> None:
    leaving_date = school_leaving_date(year)
    assert leaving_date.weekday() == calendar.FRIDAY
    assert leaving_date.month == 6
    assert (leaving_date + timedelta(days=7)).month == 7
    # Against calendar.monthcalendar: the Friday column's last non-zero entry.
    fridays = [week[calendar.FRIDAY] for week in calendar.monthcalendar(year, 6)]
    assert leaving_date == date(year, 6, max(fridays))


@given(births, st.integers(-400, 400), st.booleans())
def test_covers_exactly_first_to_last_day(date_of_birth: date, offset: int, near_end: bool) -> None:
    csa = compulsory_school_age(date_of_birth)
    # Days near either edge, where a slip by one would show.
    day = (csa.last_day if near_end else csa.first_day) + timedelta(days=offset)
    assert csa.covers(day) == (csa.first_day <= day <= csa.last_day)
    assert csa.covers(csa.first_day)
    assert csa.covers(csa.last_day)
    assert not csa.covers(csa.first_day - timedelta(days=1))
    assert not csa.covers(csa.last_day + timedelta(days=1))
    assert (explain(date_of_birth, day) is None) == csa.covers(day)


@given(births, st.lists(st.dates(date(1950, 1, 1), date(2170, 12, 31)), max_size=30))
def test_not_of_compulsory_school_age_is_the_sorted_distinct_uncovered_days(
    date_of_birth: date, days: list[date]
) -> None:
    csa = compulsory_school_age(date_of_birth)
    result = not_of_compulsory_school_age(date_of_birth, days)
    assert result == sorted(set(result))
    assert set(result) == {day for day in days if not csa.covers(day)}
