"""Durations as people write them: ``parse_duration`` and ``parse_unit``."""

from __future__ import annotations

import pytest

from casework.durations import Duration, TermUnit, Unit, parse_duration, parse_unit, unit_named

ACCEPTED = [
    pytest.param("3 school weeks", Duration(3, Unit.SCHOOL_WEEKS), id="school-weeks"),
    pytest.param("1 school week", Duration(1, Unit.SCHOOL_WEEKS), id="school-week"),
    pytest.param("10 school days", Duration(10, Unit.SCHOOL_DAYS), id="school-days"),
    pytest.param("2 working days", Duration(2, Unit.WORKING_DAYS), id="working-days"),
    pytest.param("6 months", Duration(6, Unit.MONTHS), id="months"),
    pytest.param("1 month", Duration(1, Unit.MONTHS), id="month"),
    pytest.param("21 calendar days", Duration(21, Unit.CALENDAR_DAYS), id="calendar-days"),
    pytest.param("1 session", Duration(1, TermUnit.SESSIONS), id="session"),
    pytest.param("20 sessions", Duration(20, TermUnit.SESSIONS), id="sessions"),
    pytest.param("  3   School  Weeks ", Duration(3, Unit.SCHOOL_WEEKS), id="spacing-and-case"),
    pytest.param("3 school_weeks", Duration(3, Unit.SCHOOL_WEEKS), id="stored-unit-name"),
    pytest.param("end of half term", Duration(0, TermUnit.END_OF_HALF_TERM), id="end-of-half"),
    pytest.param(
        "by the end of the half term", Duration(0, TermUnit.END_OF_HALF_TERM), id="by-the-end"
    ),
    pytest.param(
        "end of the current half-term", Duration(0, TermUnit.END_OF_HALF_TERM), id="current"
    ),
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_accepted_durations(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("3 weeks", id="bare-weeks-is-ambiguous"),
        pytest.param("21 days", id="bare-days-is-ambiguous"),
        pytest.param("three school weeks", id="number-in-words"),
        pytest.param("-2 school days", id="negative"),
        pytest.param("2.5 school days", id="fraction"),
        pytest.param("school weeks", id="no-amount"),
        pytest.param("3 fortnights", id="unknown-unit"),
        pytest.param("", id="empty"),
    ],
)
def test_refused_durations_name_the_text_and_the_accepted_units(text):
    with pytest.raises(ValueError) as refused:
        parse_duration(text)
    message = str(refused.value)
    assert repr(text) in message
    for unit in ("sessions", "school days", "school weeks", "working days", "calendar days"):
        assert unit in message
    assert "months" in message and "end of half term" in message


def test_units_by_name_or_phrase():
    assert parse_unit("school_weeks") is Unit.SCHOOL_WEEKS
    assert parse_unit("School days") is Unit.SCHOOL_DAYS
    assert parse_unit("sessions") is TermUnit.SESSIONS
    assert unit_named("end_of_half_term") is TermUnit.END_OF_HALF_TERM
    with pytest.raises(ValueError, match="'weeks' is not a unit"):
        parse_unit("weeks")
    with pytest.raises(ValueError, match="not a unit"):
        unit_named("fortnights")


def test_durations_read_back_as_they_parse():
    for text in ("3 school weeks", "1 sessions", "6 months", "end of half term"):
        assert parse_duration(str(parse_duration(text))) == parse_duration(text)
