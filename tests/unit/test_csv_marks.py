"""CSV register imports through named column mappings (pure parsing; synthetic UPNs only)."""

from __future__ import annotations

import gc
from datetime import date
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casework.registers.codes import CODES, IN_FORCE_FROM, LEGACY
from casework.registers.csv_marks import (
    MAPPING_DIR,
    CsvMapping,
    MappingInvalid,
    _permanent_upn_ok,
    load_mapping,
    mapping_names,
    parse_csv,
    write_csv,
)
from casework.registers.records import FileRejected, MarkRow, Problem
from casework.upn import ALPHABET, check_letter, make_upn, upn_problem

UPN = make_upn(340, 2123, 24, 1)  # synthetic, valid
UPN2 = make_upn(340, 2123, 24, 2)
TEMP = check_letter("34021232401A") + "34021232401A"  # temporary: 11 digits and a letter
WRONG = ("B" if UPN[0] != "B" else "C") + UPN[1:]  # same digits, wrong check letter
DAY = "2024-09-30"
HEAD = "upn,date,session,code\n"


def canonical() -> CsvMapping:
    return load_mapping("canonical")


def parse(text: str, mapping: CsvMapping | str = "canonical") -> tuple[list, list]:
    m = load_mapping(mapping) if isinstance(mapping, str) else mapping
    return parse_csv(text.encode(), m)


def custom(**changes: object) -> CsvMapping:
    raw: dict = {
        "name": "test",
        "description": "synthetic test mapping",
        "columns": {"upn": "upn", "date": "date", "session": "session", "code": "code"},
    }
    raw.update(changes)
    return msgspec.convert(raw, CsvMapping)


# --- mapping files ----------------------------------------------------------------------------


def test_shipped_mapping_names() -> None:
    assert {"canonical", "wide", "sims", "arbor", "bromcom"} <= set(mapping_names())


@pytest.mark.parametrize("name", mapping_names())
def test_each_mapping_file_loads(name: str) -> None:
    m = load_mapping(name)
    assert m.name == name
    assert m.code_aliases == {}  # no school has chosen sub-codes in a shipped file
    assert load_mapping(MAPPING_DIR / f"{name}.toml") == m  # by path too


@pytest.mark.parametrize("name", ["sims", "arbor", "bromcom"])
def test_mis_mappings_say_they_are_a_starting_point(name: str) -> None:
    text = " ".join(load_mapping(name).description.split())
    assert "No public specification" in text
    assert "starting point" in text.lower()
    assert "should check" in text


def test_unknown_mapping_name_lists_the_shipped_ones() -> None:
    with pytest.raises(MappingInvalid, match=r"no CSV mapping named 'nope'.*canonical"):
        load_mapping("nope")


GOOD_TOML = """\
name = "own"
description = "a school's own synthetic mapping"
date_formats = ["%d/%m/%Y"]
[columns]
upn = "Pupil UPN"
date = "Day"
session = "AM/PM"
code = "Mark"
[sessions]
am = "AM"
pm = "PM"
"""


def test_custom_mapping_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "own.toml"
    path.write_text(GOOD_TOML)
    m = load_mapping(str(path))
    rows, problems = parse_csv(f"Pupil UPN,Day,AM/PM,Mark\n{UPN},30/09/2024,Am,i\n".encode(), m)
    assert problems == []
    assert rows == [MarkRow(2, UPN, date(2024, 9, 30), "AM", "I")]


BAD_MAPPINGS = [
    pytest.param('session = "AM/PM"', "", "columns: set session and code", id="no-session"),
    pytest.param(
        'code = "Mark"', 'code = "Mark"\nam_code = "am"\npm_code = "pm"', "not both", id="both"
    ),
    pytest.param(
        'code = "Mark"', 'code = "Mark"\nforename = "mark"', "'mark' is also columns.code", id="dup"
    ),
    pytest.param(
        'upn = "Pupil UPN"', 'upn = "Pupil UPN"\nzzz = "x"', "unknown field `zzz`", id="typo"
    ),
    pytest.param('["%d/%m/%Y"]', '["%d/%m"]', "date_formats[0]", id="no-year"),
    pytest.param('["%d/%m/%Y"]', '["%d/%m/%Y", "%m/%d/%Y"]', "reads as another day", id="clash"),
    pytest.param('pm = "PM"', 'pm = "Noon"', "sessions.'pm': 'Noon' is not AM or PM", id="sess"),
    pytest.param('pm = "PM"', 'pm = "AM"', "one text for AM and one for PM", id="no-pm"),
    pytest.param('pm = "PM"', 'pm = "PM"\nAM = "PM"', "both AM and PM", id="case-clash"),
    pytest.param("[sessions]", 'delimiter = "ab"\n[sessions]', "delimiter", id="delimiter"),
    pytest.param('pm = "PM"', 'pm = "PM"\n[code_aliases]\nX01 = "Q9"', "'Q9' is not", id="alias"),
    pytest.param('pm = "PM"', 'pm = "PM"\n[code_aliases]\nn = "O"', "not empty or a nat", id="nat"),
    pytest.param('name = "own"', 'name = "own', "not valid TOML", id="toml"),
]


@pytest.mark.parametrize(("old", "new", "fragment"), BAD_MAPPINGS)
def test_bad_mapping_names_file_key_and_rule(
    tmp_path: Path, old: str, new: str, fragment: str
) -> None:
    path = tmp_path / "bad.toml"
    assert old in GOOD_TOML
    path.write_text(GOOD_TOML.replace(old, new, 1))
    with pytest.raises(MappingInvalid) as caught:
        load_mapping(path)
    assert str(path) in str(caught.value)
    assert fragment in str(caught.value)


# --- rows -------------------------------------------------------------------------------------


def test_good_rows_normalised() -> None:
    text = HEAD + f" {UPN.lower()} ,{DAY}, am ,y1 \n{TEMP},{DAY},PM,\\\n"
    rows, problems = parse(text)
    assert problems == []
    assert rows == [
        MarkRow(2, UPN, date(2024, 9, 30), "AM", "Y1"),
        MarkRow(3, TEMP, date(2024, 9, 30), "PM", "\\"),
    ]


def test_legacy_code_before_19_august_2024_is_kept_as_given() -> None:
    rows, problems = parse(HEAD + f"{UPN},2024-07-01,AM,h\n")
    assert problems == []
    assert rows[0].code == "H"


BAD_ROWS = [
    pytest.param(f",{DAY},AM,/", "upn", "", "missing value: the 'upn' column", id="no-upn"),
    pytest.param(f"X12,{DAY},AM,/", "upn", "X12", "a letter then 12 digits", id="upn-form"),
    pytest.param(
        f"{WRONG},{DAY},AM,/", "upn", WRONG, f"it should be {UPN[0]}", id="upn-check-letter"
    ),
    pytest.param(f"{UPN},,AM,/", "date", "", "missing value: the 'date'", id="no-date"),
    pytest.param(f"{UPN},30/09/2024,AM,/", "date", "30/09/2024", "form 2024-09-30", id="date"),
    pytest.param(f"{UPN},2024-02-30,AM,/", "date", "2024-02-30", "not a date", id="no-such-day"),
    pytest.param(f"{UPN},{DAY},,/", "session", "", "missing value: the 'session'", id="no-sess"),
    pytest.param(f"{UPN},{DAY},Noon,/", "session", "Noon", "not a session", id="session"),
    pytest.param(f"{UPN},{DAY},AM,", "code", "", "missing value: the 'code'", id="no-code"),
    pytest.param(f"{UPN},{DAY},AM,Q9", "code", "Q9", "not a national attendance code", id="code"),
    pytest.param(f"{UPN},{DAY},AM,H", "code", "H", "not in the 2024 national set", id="legacy"),
    pytest.param(f"{UPN},{DAY},AM", "code", "", "missing value", id="short-row"),
]


@pytest.mark.parametrize(("row", "field", "value", "fragment"), BAD_ROWS)
def test_each_bad_row_gives_its_problem(row: str, field: str, value: str, fragment: str) -> None:
    rows, problems = parse(HEAD + f"{UPN2},{DAY},AM,/\n" + row + "\n")
    assert [r.line for r in rows] == [2]  # the good row still reads
    assert len(problems) == 1
    p = problems[0]
    assert (p.line, p.field, p.value) == (3, field, value)
    assert fragment in p.rule


def test_every_problem_in_a_row_is_reported() -> None:
    _, problems = parse(HEAD + "X1,yesterday,Noon,Q9\n")
    assert [(p.line, p.field) for p in problems] == [
        (2, "upn"),
        (2, "date"),
        (2, "session"),
        (2, "code"),
    ]


def test_legacy_code_with_unreadable_date_is_not_blamed() -> None:
    _, problems = parse(HEAD + f"{UPN},someday,AM,H\n")
    assert [p.field for p in problems] == ["date"]


def test_conflicting_duplicate_names_both_lines() -> None:
    text = HEAD + f"{UPN},{DAY},AM,/\n{UPN2},{DAY},AM,/\n{UPN},{DAY},am,N\n"
    rows, problems = parse(text)
    assert [r.line for r in rows] == [2, 3]
    assert problems == [
        Problem(
            4,
            "code",
            "N",
            f"line 2 gives / for {UPN} on {DAY} AM and line 4 gives N: a session has one mark",
        )
    ]


def test_identical_duplicate_is_kept_once() -> None:
    rows, problems = parse(HEAD + f"{UPN},{DAY},AM,n\n{UPN.lower()},{DAY},AM, N\n")
    assert problems == []
    assert [r.line for r in rows] == [2]


def test_line_numbers_are_physical_lines() -> None:
    text = "upn,note,date,session,code\n" + f'{UPN},"two\nlines",{DAY},AM,/\n\n{UPN},,{DAY},PM,Q9\n'
    rows, problems = parse(text)
    assert rows[0].line == 2
    assert [(p.line, p.field) for p in problems] == [(5, "code")]


# --- files ------------------------------------------------------------------------------------


def test_bom_is_ignored() -> None:
    rows, problems = parse_csv(
        b"\xef\xbb\xbf" + (HEAD + f"{UPN},{DAY},AM,/\n").encode(), canonical()
    )
    assert problems == []
    assert len(rows) == 1


@pytest.mark.parametrize(("bom", "offset"), [(b"", 25), (b"\xef\xbb\xbf", 28)])
def test_not_utf8_is_rejected_naming_byte_and_line(bom: bytes, offset: int) -> None:
    data = bom + HEAD.encode() + b"Caf\xe9,2024-09-30,AM,/\n"  # Latin-1, not UTF-8
    assert data[offset] == 0xE9
    with pytest.raises(FileRejected) as caught:
        parse_csv(data, canonical())
    rule = caught.value.problems[0].rule
    assert f"byte {offset}, line 2" in rule
    assert "save it as CSV UTF-8" in rule
    assert caught.value.problems[0].line == 2


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b" \r\n\n"])
def test_empty_file_is_rejected(data: bytes) -> None:
    with pytest.raises(FileRejected, match="the file is empty"):
        parse_csv(data, canonical())


def test_too_big_is_rejected() -> None:
    with pytest.raises(FileRejected, match="the limit is 10"):
        parse_csv((HEAD + f"{UPN},{DAY},AM,/\n").encode(), canonical(), max_bytes=10)


def test_missing_columns_are_named_with_the_columns_found() -> None:
    with pytest.raises(FileRejected) as caught:
        parse("UPN,Date,Mark\n")
    p = caught.value.problems[0]
    assert p.line == 1
    assert "missing column(s) 'session', 'code'" in p.rule
    assert "the file's columns are 'UPN', 'Date', 'Mark'" in p.rule


def test_a_mapped_column_twice_is_rejected() -> None:
    with pytest.raises(FileRejected, match=r"'date' .* appears more than once"):
        parse("upn,date,session,code,Date\n")


def test_an_ignored_column_twice_is_fine() -> None:
    rows, _ = parse(f"upn,date,session,code,Note,note\n{UPN},{DAY},AM,/,a,b\n")
    assert len(rows) == 1


def test_garbage_collection_is_left_on() -> None:
    parse(HEAD + f"{UPN},{DAY},AM,/\n")
    with pytest.raises(FileRejected):
        parse("x\n")
    assert gc.isenabled()


def test_unreadable_csv_is_rejected() -> None:
    with pytest.raises(FileRejected, match="not readable as CSV"):
        parse(HEAD + f"{UPN},{DAY},AM," + "x" * 200_000 + "\n")


def test_header_is_case_insensitive_and_trimmed_in_any_order() -> None:
    text = f" Code ,Extra, SESSION,UPN ,Date\nn,ignored,pm,{UPN},{DAY}\n"
    rows, problems = parse(text)
    assert problems == []
    assert rows == [MarkRow(2, UPN, date(2024, 9, 30), "PM", "N")]


# --- layouts and mappings ---------------------------------------------------------------------


def test_wide_layout_gives_a_mark_per_filled_cell() -> None:
    text = f"upn,date,am,pm\n{UPN},{DAY},/,\\\n{UPN2},{DAY},,n\n{TEMP},{DAY},,\n{UPN},{DAY},/,Q9\n"
    rows, problems = parse(text, "wide")
    d = date(2024, 9, 30)
    assert rows == [
        MarkRow(2, UPN, d, "AM", "/"),
        MarkRow(2, UPN, d, "PM", "\\"),
        MarkRow(3, UPN2, d, "PM", "N"),
    ]
    assert [(p.line, p.field, p.value) for p in problems] == [(5, "pm_code", "Q9")]


def test_sims_starting_point_reads_uk_dates_and_session_words() -> None:
    text = f"Surname,Forename,UPN,Date,Session,Mark\nSynth,Pupil,{UPN},30/09/2024,Morning,L\n"
    rows, problems = parse(text, "sims")
    assert problems == []
    assert rows == [MarkRow(2, UPN, date(2024, 9, 30), "AM", "L")]


@pytest.mark.parametrize(
    ("name", "am", "pm"), [("arbor", "AM Mark", "PM Mark"), ("bromcom", "AM", "PM")]
)
def test_wide_mis_starting_points(name: str, am: str, pm: str) -> None:
    rows, problems = parse(f"UPN,Date,{am},{pm}\n{UPN},2024-09-30,/,I\n", name)
    assert problems == []
    assert [(r.session, r.code) for r in rows] == [("AM", "/"), ("PM", "I")]


def test_code_aliases_map_the_schools_own_codes() -> None:
    m = custom(code_aliases={"X01": "X", "h1": "H"})
    text = HEAD + f"{UPN},{DAY},AM,x01\n{UPN},{DAY},PM,H1\n{UPN2},2024-07-01,AM,h1\n"
    rows, problems = parse_csv(text.encode(), m)
    assert [(r.line, r.code) for r in rows] == [(2, "X"), (4, "H")]
    assert [(p.line, p.value) for p in problems] == [(3, "H1")]
    assert "H1 is read as H through the mapping's code_aliases" in problems[0].rule


def test_other_delimiter() -> None:
    m = custom(delimiter=";")
    rows, problems = parse_csv(f"upn;date;session;code\n{UPN};{DAY};AM;/\n".encode(), m)
    assert problems == []
    assert len(rows) == 1


def test_mapping_built_in_code_is_checked_too() -> None:
    with pytest.raises(ValueError, match="date_formats: name at least one"):
        custom(date_formats=[])


# --- writing and round trips ------------------------------------------------------------------

MARKS = [
    MarkRow(0, UPN, date(2024, 9, 30), "AM", "/"),
    MarkRow(0, UPN, date(2024, 9, 30), "PM", "C1"),
    MarkRow(0, TEMP, date(2024, 7, 1), "PM", "H"),
]


def _marks(rows: list[MarkRow]) -> set[tuple]:
    return {(r.upn, r.day, r.session, r.code) for r in rows}


@pytest.mark.parametrize("name", mapping_names())
def test_round_trip(name: str) -> None:
    m = load_mapping(name)
    data = write_csv(MARKS, m)
    rows, problems = parse_csv(data, m)
    assert problems == []
    assert _marks(rows) == _marks(MARKS)


def test_wide_writes_a_row_per_pupil_and_day() -> None:
    data = write_csv(MARKS, load_mapping("wide")).decode()
    assert data.splitlines() == [
        "upn,date,am,pm",
        f"{UPN},2024-09-30,/,C1",
        f"{TEMP},2024-07-01,,H",
    ]


def test_canonical_writes_the_documented_header() -> None:
    data = write_csv(MARKS[:1], canonical()).decode()
    assert data.splitlines() == ["upn,date,session,code", f"{UPN},2024-09-30,AM,/"]


_bodies = st.text("0123456789", min_size=11, max_size=11).flatmap(
    lambda d: st.sampled_from([d + c for c in "0123456789" + ALPHABET])
)
_upns = _bodies.map(lambda b: check_letter(b) + b)
_days = st.dates(date(2015, 9, 1), date(2030, 7, 31))
_mark_keys = st.tuples(_upns, _days, st.sampled_from(["AM", "PM"]))


def _code_for(day: date) -> st.SearchStrategy[str]:
    legacy = list(LEGACY) if day < IN_FORCE_FROM else []
    return st.sampled_from(list(CODES) + legacy)


_markrows = st.lists(_mark_keys, max_size=30, unique=True).flatmap(
    lambda keys: st.tuples(*(_code_for(k[1]).map(lambda c, k=k: MarkRow(0, *k, c)) for k in keys))
)


@settings(max_examples=60, deadline=None)
@given(marks=_markrows, name=st.sampled_from(mapping_names()))
def test_write_then_parse_returns_the_same_marks(marks: tuple[MarkRow, ...], name: str) -> None:
    m = load_mapping(name)
    rows, problems = parse_csv(write_csv(marks, m), m)
    assert problems == []
    assert _marks(rows) == _marks(list(marks))
    assert len(rows) == len(marks)


@given(
    upn=st.text(ALPHABET, min_size=1, max_size=1).flatmap(
        lambda c: st.text("0123456789", min_size=12, max_size=12).map(lambda d: c + d)
    )
)
def test_fast_upn_check_agrees_with_upn_problem(upn: str) -> None:
    assert _permanent_upn_ok(upn) == (upn_problem(upn) is None)
