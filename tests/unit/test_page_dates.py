"""Dates as people in England type them into the pages' date fields."""

from __future__ import annotations

from datetime import date

import pytest

from api.pages.common import parse_day

NOV_18 = date(2024, 11, 18)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("18 11 2024", NOV_18),
        ("18/11/2024", NOV_18),
        ("18-11-2024", NOV_18),
        ("18.11.2024", NOV_18),
        (" 18 / 11 / 2024 ", NOV_18),
        ("18 November 2024", NOV_18),
        ("18 nov 2024", NOV_18),
        ("2024-11-18", NOV_18),  # what a pre-filled field holds
        ("1 9 2025", date(2025, 9, 1)),
        ("29 2 2028", date(2028, 2, 29)),
        ("4 Sept 2024", date(2024, 9, 4)),
    ],
)
def test_a_date_written_the_usual_ways_is_read(typed, meant):
    assert parse_day(typed) == meant


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "18 11",
        "11/18/2024",  # American order: there is no month 18
        "31 11 2024",  # no 31 November
        "29 2 2027",  # not a leap year
        "18 11 24",  # a two-digit year is ambiguous
        "18 Novem 2024",
        "2024-11-18T10:00",
        "eighteen 11 2024",
    ],
)
def test_anything_else_is_refused(typed):
    with pytest.raises(ValueError):
        parse_day(typed)
