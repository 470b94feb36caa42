"""The compact register: a school year's session index and one stored character per session."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casework.calendars import TermCalendar
from casework.calendars.config_files import la_calendar
from casework.calendars.model import Closure, DateRange, InsetDay
from casework.durations import SessionOfDay
from casework.errors import InvalidInput
from casework.registers.codes import CODES, LEGACY
from casework.registers.marks import (
    CHAR_TO_CODE,
    CODE_TO_CHAR,
    NO_MARK,
    MarkString,
    decode,
    encode,
    entries,
    read,
    session_index,
    set_mark,
)

SHIPPED = la_calendar("knowsley")
CAL = TermCalendar(
    "Oakfield Primary",
    SHIPPED.years,
    inset_days=(
        InsetDay(date(2024, 9, 2)),
        InsetDay(date(2025, 1, 6), frozenset({SessionOfDay.AM})),
    ),
    closures=(
        Closure(
            DateRange(date(2024, 11, 13), date(2024, 11, 13)),
            frozenset({SessionOfDay.PM}),
            "heating",
        ),
    ),
    pattern=SHIPPED.pattern,
)
INDEX = session_index(CAL, 2024)
ALL_CODES = sorted(CODES)
positions = st.integers(min_value=0, max_value=len(INDEX) - 1)


def test_every_code_is_one_distinct_character():
    assert set(CODE_TO_CHAR) == set(CODES) | set(LEGACY)
    assert all(len(char) == 1 for char in CODE_TO_CHAR.values())
    assert len(set(CODE_TO_CHAR.values())) == len(CODE_TO_CHAR)
    assert NO_MARK not in CHAR_TO_CODE


def test_index_lists_open_sessions_in_order():
    assert INDEX.sessions == tuple(sorted(INDEX.sessions))
    assert len(INDEX) == CAL.sessions_in(2024)
    assert (date(2024, 9, 2), "AM") not in INDEX.sessions  # INSET day
    assert (date(2024, 9, 3), "AM") == INDEX.sessions[0]
    assert (date(2025, 1, 6), "PM") in INDEX.sessions
    assert (date(2025, 1, 6), "AM") not in INDEX.sessions
    assert (date(2024, 11, 13), "AM") in INDEX.sessions
    assert (date(2024, 11, 13), "PM") not in INDEX.sessions


@pytest.mark.parametrize(
    ("day", "session", "why"),
    [
        (date(2024, 10, 29), "AM", "October half term"),
        (date(2024, 11, 16), "PM", "weekend"),
        (date(2024, 11, 13), "PM", "closure"),
        (date(2024, 9, 2), "AM", "INSET"),
        (date(2025, 9, 3), "AM", "not in 2024/25"),
    ],
)
def test_a_day_the_school_is_not_open_is_refused_naming_it(day, session, why):
    with pytest.raises(InvalidInput) as raised:
        INDEX.position(day, session)
    problem = raised.value.problems[0]
    assert problem.field == "date"
    assert problem.value == day
    assert why in problem.rule


def test_unknown_code_and_session_are_refused():
    marks = MarkString.empty(len(INDEX))
    with pytest.raises(InvalidInput) as raised:
        set_mark(INDEX, marks, date(2024, 9, 3), "AM", "Q1")
    assert raised.value.problems[0].field == "code"
    assert raised.value.problems[0].value == "Q1"
    with pytest.raises(InvalidInput) as raised:
        set_mark(INDEX, marks, date(2024, 9, 3), "EVE", "/")
    assert raised.value.problems[0].field == "session"
    with pytest.raises(InvalidInput, match="2024 national set"):
        set_mark(INDEX, marks, date(2024, 9, 3), "AM", "H")  # legacy code after August 2024


def test_legacy_code_is_kept_as_recorded_before_2024():
    index = session_index(CAL, 2023)
    marks = set_mark(index, MarkString.empty(len(index)), date(2024, 1, 10), "AM", "h")
    assert read(index, marks, date(2024, 1, 10), "AM") == "H"


@given(st.sampled_from(ALL_CODES + sorted(LEGACY)))
def test_encode_decode_round_trip(code):
    assert decode(encode(code)) == code
    assert decode(encode(code.lower())) == code


@given(st.lists(st.one_of(st.none(), st.sampled_from(ALL_CODES)), max_size=50))
def test_mark_string_round_trips_and_has_one_char_per_session(codes):
    marks = MarkString.of(codes)
    assert len(marks) == len(codes)
    assert marks.codes() == codes
    assert MarkString(marks.chars) == marks


@given(st.lists(st.tuples(positions, st.sampled_from(ALL_CODES)), max_size=30))
def test_setting_then_reading_returns_the_code_and_keeps_the_length(changes):
    marks = MarkString.empty(len(INDEX))
    expected: dict[int, str] = {}
    for position, code in changes:
        day, session = INDEX.sessions[position]
        marks = set_mark(INDEX, marks, day, session, code)
        expected[position] = code
        assert len(marks) == len(INDEX)
        assert read(INDEX, marks, day, session) == code
    listed = list(entries(INDEX, marks))
    assert [(INDEX.position(d, s), c) for d, s, c in listed] == sorted(expected.items())
    assert marks.marked() == len(expected)


def test_mark_string_rejects_unknown_characters():
    with pytest.raises(ValueError, match="not stored register characters"):
        MarkString("/?")


def test_index_digest_changes_with_the_calendar():
    moved = CAL.replace(inset_days=(InsetDay(date(2024, 9, 3)),))
    assert session_index(moved, 2024).digest != INDEX.digest
    assert session_index(CAL, 2024).digest == INDEX.digest
