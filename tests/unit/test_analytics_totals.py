"""Session totals and DfE percentages (DATA-FORMATS.md §3.1-3.2): possible sessions, attended
(present + approved educational activity), authorised / unauthorised, not possible."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casework.analytics.timeline import SessionMark
from casework.analytics.totals import EMPTY, Totals, percent_text, totals
from casework.errors import InvalidInput
from casework.registers.codes import CODES, StatClass

DAY = date(2024, 9, 3)
OLD = date(2024, 3, 5)


def _marks(codes, day=DAY):
    return [(day, "AM" if i % 2 == 0 else "PM", code) for i, code in enumerate(codes)]


def test_each_class_is_counted():
    found = totals(_marks(["/", "\\", "L", "K", "B", "M", "I", "G", "N", "O", "U", "D", "#", "Y1"]))
    assert found.present == 3
    assert found.approved_activity == 2
    assert found.attended == 5
    assert found.authorised == 2
    assert found.unauthorised == 4
    assert found.absent == 6
    assert found.possible == 11
    assert found.not_possible == 3
    assert found.sessions == 14
    assert found.by_code["U"] == 1 and found.by_code["Y1"] == 1


def test_percentages_are_of_possible_sessions_unrounded():
    found = totals(_marks(["/"] * 2 + ["O"] + ["D"] * 5))
    assert found.possible == 3
    assert found.attendance_percent == pytest.approx(200 / 3)
    assert found.absence_percent == pytest.approx(100 / 3)
    assert found.unauthorised_percent == pytest.approx(100 / 3)
    assert found.authorised_percent == 0


def test_no_possible_sessions_gives_no_percentages():
    found = totals(_marks(["D", "#", "Z"]))
    assert found.possible == 0
    assert found.attendance_percent is None
    assert found.absence_percent is None
    assert totals([]) == EMPTY


def test_session_marks_and_tuples_count_the_same():
    tuples = _marks(["/", "O", "I"])
    marks = [SessionMark(d, s, c, 1, "Oakfield") for d, s, c in tuples]
    assert totals(tuples) == totals(marks)


def test_legacy_codes_keep_their_historic_class_before_august_2024():
    found = totals(_marks(["H", "J", "F", "Y"], day=OLD))
    assert found.authorised == 2  # H, F
    assert found.approved_activity == 1  # J counted as an approved activity
    assert found.not_possible == 1  # single Y
    assert found.by_code == {"F": 1, "H": 1, "J": 1, "Y": 1}


def test_a_legacy_code_after_august_2024_is_refused():
    with pytest.raises(InvalidInput):
        totals(_marks(["H"]))


def test_totals_add_up():
    a, b = totals(_marks(["/", "O"])), totals(_marks(["I", "D"]))
    assert a + b == totals(_marks(["/", "O", "I", "D"]))


@pytest.mark.parametrize(
    ("value", "text"),
    [(92.44, "92.4%"), (92.46, "92.5%"), (100.0, "100.0%"), (0.0, "0.0%"), (None, "—")],
)
def test_percent_text(value, text):
    assert percent_text(value) == text


@given(st.lists(st.sampled_from(sorted(CODES)), max_size=60))
def test_the_classes_partition_the_sessions(codes):
    found = totals(_marks(codes))
    assert found.attended + found.absent == found.possible
    assert found.present + found.approved_activity == found.attended
    assert found.authorised + found.unauthorised == found.absent
    assert found.possible + found.not_possible == len(codes)
    assert sum(found.by_code.values()) == len(codes)
    expected = sum(CODES[c].stat_class is not StatClass.NOT_POSSIBLE for c in codes)
    assert found.possible == expected
    assert isinstance(found, Totals)
