"""National attendance codes: RULES.md §1.3 and DATA-FORMATS.md §3.1.

The expected rows are written out by hand from RULES.md §1.3, not derived from the module.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from casework.errors import InvalidInput
from casework.registers.codes import (
    CODES,
    LEGACY,
    AttendanceCode,
    StatClass,
    classify,
    counts_toward_threshold,
    is_absence,
    is_possible,
    is_unauthorised,
)
from config.profiles import available_profiles, load_profile

PRESENT = "present"
APPROVED = "approved_educational_activity"
AUTH = "authorised_absence"
UNAUTH = "unauthorised_absence"
NOT_POSSIBLE = "not_possible"

BEFORE = date(2024, 8, 18)
CUTOVER = date(2024, 8, 19)
AFTER = date(2025, 1, 6)

# (code, possible session?, statistical class, new in 2024?) — RULES.md §1.3, row by row.
TABLE = [
    ("/", True, PRESENT, False),
    ("\\", True, PRESENT, False),
    ("L", True, PRESENT, False),
    ("K", True, APPROVED, True),
    ("V", True, APPROVED, False),
    ("P", True, APPROVED, False),
    ("W", True, APPROVED, False),
    ("B", True, APPROVED, False),
    ("D", False, NOT_POSSIBLE, False),
    ("C1", True, AUTH, True),
    ("M", True, AUTH, False),
    ("J1", True, AUTH, True),
    ("S", True, AUTH, False),
    ("X", False, NOT_POSSIBLE, False),  # [UNCONFIRMED-detail]
    ("C2", True, AUTH, True),
    ("C", True, AUTH, False),
    ("T", True, AUTH, False),
    ("R", True, AUTH, False),
    ("I", True, AUTH, False),
    ("E", True, AUTH, False),
    ("Q", False, NOT_POSSIBLE, True),  # [UNCONFIRMED-detail]
    ("Y1", False, NOT_POSSIBLE, True),  # [UNCONFIRMED-detail] for Y1-Y7
    ("Y2", False, NOT_POSSIBLE, True),
    ("Y3", False, NOT_POSSIBLE, True),
    ("Y4", False, NOT_POSSIBLE, True),
    ("Y5", False, NOT_POSSIBLE, True),
    ("Y6", False, NOT_POSSIBLE, True),
    ("Y7", False, NOT_POSSIBLE, True),
    ("G", True, UNAUTH, False),
    ("N", True, UNAUTH, False),
    ("O", True, UNAUTH, False),
    ("U", True, UNAUTH, False),
    ("Z", False, NOT_POSSIBLE, False),
    ("#", False, NOT_POSSIBLE, False),
]

TABLE_PARAMS = [pytest.param(*row, id=row[0]) for row in TABLE]


def test_the_2024_set_is_exactly_the_table():
    assert sorted(CODES) == sorted(row[0] for row in TABLE)
    assert len(CODES) == 34


@pytest.mark.parametrize(("code", "possible", "stat", "new"), TABLE_PARAMS)
def test_each_code_as_in_rules(code, possible, stat, new):
    for on in (BEFORE, CUTOVER, AFTER):
        got = classify(code, on=on)
        assert got.code == code
        assert got.possible_session is possible
        assert got.stat_class == stat
        assert got.new_in_2024 is new
        assert got.legacy_code is None
        assert got.meaning
        assert got.group
    assert is_possible(code) is possible
    assert is_absence(code) is (stat in (AUTH, UNAUTH))
    assert is_unauthorised(code) is (stat == UNAUTH)


# Legacy: (code, date, imported as, historic possible?, historic class)
LEGACY_OK = [
    pytest.param("H", BEFORE, "C", True, AUTH, id="H-before"),
    pytest.param("H", date(2015, 6, 1), "C", True, AUTH, id="H-2015"),
    pytest.param("J", BEFORE, "J1", True, APPROVED, id="J-before"),
    pytest.param("F", date(2013, 3, 4), "C", True, AUTH, id="F-2013"),
    pytest.param("Y", BEFORE, "Y", False, NOT_POSSIBLE, id="Y-before"),
    pytest.param("h", BEFORE, "C", True, AUTH, id="h-lowercase"),
]


@pytest.mark.parametrize(("code", "on", "imported", "possible", "stat"), LEGACY_OK)
def test_legacy_codes_before_cutover_map_and_keep_historic_class(
    code, on, imported, possible, stat
):
    got = classify(code, on=on)
    assert got.code == imported
    assert got.legacy_code == code.upper()
    assert got.possible_session is possible
    assert got.stat_class == stat
    assert got.new_in_2024 is False


def test_legacy_maps_to_existing_2024_codes_or_none():
    assert set(LEGACY) == {"H", "J", "F", "Y"}
    assert LEGACY["H"].maps_to == "C"
    assert LEGACY["J"].maps_to == "J1"
    assert LEGACY["F"].maps_to == "C"
    assert LEGACY["Y"].maps_to is None
    for legacy in LEGACY.values():
        assert legacy.code not in CODES
        assert legacy.maps_to is None or legacy.maps_to in CODES
        assert legacy.source


def test_imported_j_keeps_approved_class_though_j1_is_authorised():
    imported = classify("J", on=BEFORE)
    assert imported.code == "J1"
    assert not is_absence(imported)
    assert is_absence("J1")
    assert is_possible(imported)


@pytest.mark.parametrize(
    ("code", "on", "hint"),
    [
        pytest.param("H", CUTOVER, "use C for exceptional leave", id="H-cutover"),
        pytest.param("H", AFTER, "use C for exceptional leave", id="H-after"),
        pytest.param("J", CUTOVER, "use J1", id="J-cutover"),
        pytest.param("F", AFTER, "use C", id="F-after"),
        pytest.param("Y", CUTOVER, "Y1 to Y7", id="Y-cutover"),
        pytest.param("y", AFTER, "Y1 to Y7", id="y-lowercase-after"),
    ],
)
def test_legacy_codes_on_or_after_cutover_are_refused(code, on, hint):
    with pytest.raises(InvalidInput) as err:
        classify(code, on=on)
    [problem] = err.value.problems
    assert problem.field == "code"
    assert problem.value == code
    assert f"{code.upper()} is not in the 2024 national set: from 19 August 2024" in problem.rule
    assert hint in problem.rule


def test_h_refusal_reads_as_specified():
    with pytest.raises(InvalidInput) as err:
        classify("H", on=CUTOVER)
    assert err.value.problems[0].rule.startswith(
        "H is not in the 2024 national set: from 19 August 2024 use C for exceptional leave"
    )


@pytest.mark.parametrize("on", [BEFORE, AFTER])
@pytest.mark.parametrize("code", ["A", "Y8", "Y0", "J2", "C3", "|", "//", "Y 1", "-", "HOL"])
def test_unknown_codes_are_refused_on_any_date(code, on):
    with pytest.raises(InvalidInput) as err:
        classify(code, on=on)
    [problem] = err.value.problems
    assert problem.field == "code"
    assert problem.value == code
    assert "is not a national attendance code" in problem.rule
    assert "2024" in problem.rule


@pytest.mark.parametrize("code", ["", "   ", None, 7])
def test_empty_or_non_text_codes_are_refused(code):
    with pytest.raises(InvalidInput) as err:
        classify(code, on=AFTER)
    [problem] = err.value.problems
    assert problem.field == "code"
    assert problem.value == code
    assert "non-empty" in problem.rule


@pytest.mark.parametrize(
    ("given", "expected"),
    [("l", "L"), ("y1", "Y1"), ("c2", "C2"), ("j1", "J1"), (" N ", "N"), ("/", "/"), ("#", "#")],
)
def test_lowercase_letters_and_surrounding_space_are_normalised(given, expected):
    assert classify(given, on=AFTER) is CODES[expected]


def test_datetime_is_read_as_its_date():
    assert classify("H", on=datetime(2024, 8, 18, 23, 59)).legacy_code == "H"
    with pytest.raises(InvalidInput):
        classify("H", on=datetime(2024, 8, 19, 0, 0))


# --- statistical invariants --------------------------------------------------------------------

ATTENDING_OR_ABSENT = {
    StatClass.PRESENT,
    StatClass.APPROVED_EDUCATIONAL_ACTIVITY,
    StatClass.AUTHORISED_ABSENCE,
    StatClass.UNAUTHORISED_ABSENCE,
}


def _all_views() -> list[AttendanceCode]:
    return [*CODES.values(), *(classify(c, on=BEFORE) for c in LEGACY)]


@pytest.mark.parametrize("entry", _all_views(), ids=lambda e: e.legacy_code or e.code)
def test_every_possible_session_is_exactly_one_attendance_or_absence_class(entry):
    if entry.possible_session:
        assert entry.stat_class in ATTENDING_OR_ABSENT
    else:
        assert entry.stat_class is StatClass.NOT_POSSIBLE


@pytest.mark.parametrize("entry", _all_views(), ids=lambda e: e.legacy_code or e.code)
def test_not_possible_codes_are_never_absences(entry):
    if not is_possible(entry):
        assert not is_absence(entry)
        assert not is_unauthorised(entry)
        assert not counts_toward_threshold(entry, ["G", "N", "O", "U"])


def test_unauthorised_is_an_absence():
    for entry in _all_views():
        if is_unauthorised(entry):
            assert is_absence(entry)


def test_stat_class_values():
    assert [c.value for c in StatClass] == [PRESENT, APPROVED, AUTH, UNAUTH, NOT_POSSIBLE]


# --- threshold ---------------------------------------------------------------------------------

NATIONAL = ["G", "N", "O", "U"]
WITHOUT_N = ["G", "O", "U"]


@pytest.mark.parametrize(
    ("code", "national", "without_n"),
    [
        ("G", True, True),
        ("N", True, False),
        ("O", True, True),
        ("U", True, True),
        ("L", False, False),
        ("I", False, False),
        ("C", False, False),
        ("B", False, False),
        ("Y1", False, False),
        ("#", False, False),
        ("u", True, True),
    ],
)
def test_counts_toward_threshold(code, national, without_n):
    assert counts_toward_threshold(code, NATIONAL) is national
    assert counts_toward_threshold(code, WITHOUT_N) is without_n


def test_legacy_codes_never_count_toward_threshold():
    for code in LEGACY:
        assert not counts_toward_threshold(classify(code, on=BEFORE), NATIONAL)
        assert not counts_toward_threshold(code, NATIONAL)


@pytest.mark.parametrize("bad", ["I", "L", "H", "A", ""])
def test_counted_codes_must_be_2024_unauthorised_codes(bad):
    with pytest.raises(InvalidInput) as err:
        counts_toward_threshold("G", ["G", bad])
    [problem] = err.value.problems
    assert problem.field == "counted_codes"
    assert problem.value == bad
    assert "only 2024 unauthorised-absence codes (G, N, O, U)" in problem.rule


def test_threshold_refuses_unknown_session_code():
    with pytest.raises(InvalidInput) as err:
        counts_toward_threshold("A", NATIONAL)
    assert err.value.problems[0].field == "code"


@pytest.mark.parametrize("key", available_profiles())
def test_every_profiles_counted_codes_are_accepted(key):
    counted = load_profile(key).notice_to_improve.counted_codes
    assert counts_toward_threshold("G", counted) is ("G" in counted)
