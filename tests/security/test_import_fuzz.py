"""Hostile and broken register files (hypothesis): CTF XML and CSV marks, mutated from valid files.

Properties:
- the readers either read a file (with per-row problems) or refuse it whole with FileRejected;
  they raise nothing else, whatever the bytes;
- every problem names a field and a rule in plain words (no exception text, no stack trace);
- XML declarations (DTDs, entities: billion laughs, external entities) are refused before parsing;
- through the import service, on SQLite and PostgreSQL, a refused file writes nothing but its
  report: pupils, contacts, enrolments and registers are exactly as before.

All data is synthetic (tests/support/world.py).
"""

from __future__ import annotations

import codecs
import re
from contextlib import contextmanager
from datetime import date

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from casework.models import (
    Contact,
    Enrolment,
    ImportBatch,
    MarkAmendment,
    Pupil,
    PupilContact,
    PupilUpnChange,
    RegisterYear,
    User,
)
from casework.registers.csv_marks import load_mapping, parse_csv
from casework.registers.ctf import parse_ctf, write_ctf
from casework.registers.records import (
    CtfAddress,
    CtfContact,
    CtfFile,
    CtfHeader,
    CtfPupil,
    FileRejected,
    Problem,
)
from casework.upn import make_upn
from workflows.context import Context
from workflows.imports import import_csv, import_ctf, run_import

VERSIONS = {"24.0", "23.0"}
# Rows a refused import must leave as they were (its own report row is the one thing written).
DATA_TABLES = (Pupil, Contact, PupilContact, Enrolment, RegisterYear, MarkAmendment, PupilUpnChange)
# Problem text that would mean an exception leaked into what a user reads.
LEAKS = re.compile(r"Traceback|File \"|Error\(|Exception|0x[0-9a-f]{8,}|<object at")


def _pupil(serial: int, forename: str) -> CtfPupil:
    return CtfPupil(
        line=0,
        upn=make_upn(340, 2001, 24, serial),
        former_upn=None,
        surname="Fuzzpupil",
        forename=forename,
        preferred_surname=None,
        preferred_forename=None,
        date_of_birth=date(2016, 5, 1),
        sex="F",
        nc_year=3,
        fsm=False,
        sen_support=False,
        ehc_plan=False,
        looked_after=False,
        eal=False,
        address=CtfAddress(("1 Example Road",), "Exampletown", "ZZ99 3AA"),
        contacts=(
            CtfContact(0, 1, "Mx", "Fuzzparent", "Robin", "Parent", True, None, True, ("0100",)),
        ),
        attendance=(),
    )


def valid_ctf() -> bytes:
    header = CtfHeader(
        "24.0", "Common Transfer File", None, "full", "Casework fuzz", 2024, "340", "2001",
        "900001", "Oakfield Primary", "340", "XXX",
    )  # fmt: skip
    return write_ctf(CtfFile(header, (_pupil(1, "Ada"), _pupil(2, "Bea"))))


CTF = valid_ctf()
# A pupil at Oakfield in the test world (tests/support/world.py, serial 101).
OAK_UPN = make_upn(340, 2001, 20, 101)
CSV = (
    "upn,date,session,code\n"
    f"{OAK_UPN},2024-11-18,AM,/\n"
    f"{OAK_UPN},2024-11-18,PM,\\\n"
    f"{OAK_UPN},2024-11-19,AM,N\n"
).encode()
CANONICAL = load_mapping("canonical")

# --- hostile files, written out --------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<CTfile><Header><CTFversion>&lol3;</CTFversion></Header></CTfile>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE CTfile [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<CTfile><Header><DocumentName>&secret;</DocumentName></Header></CTfile>"""
PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE CTfile [<!ENTITY % remote SYSTEM "http://example.invalid/x.dtd"> %remote;]>
<CTfile/>"""
HOSTILE = {
    "billion laughs": BILLION_LAUGHS,
    "external entity": EXTERNAL_ENTITY,
    "parameter entity": PARAMETER_ENTITY,
    "doctype after the root's start": CTF.replace(b"<Header>", b"<!DOCTYPE x []><Header>", 1),
    "entity in a comment's neighbour": CTF.replace(b"<Header>", b"<!ENTITY x 'y'><Header>", 1),
    "utf-16 without a BOM": CTF.decode().encode("utf-16-le"),
    "undeclared latin-1": CTF.replace(b"Ada", "Zoë".encode("latin-1")),
    "unknown encoding": CTF.replace(b'encoding="UTF-8"', b'encoding="x-klingon"', 1),
    "truncated": CTF[: len(CTF) // 2],
    "not xml": b"upn,date\n1,2\n",
    "empty": b"",
    "only whitespace": b"  \n\t ",
}


# --- mutations ---------------------------------------------------------------------------------

TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            " ",
            "2016-02-30",
            "2016-13-01",
            "01/05/2016",
            "0000-00-00",
            "9999-12-31",
            "-1",
            "99",
            "NaN",
            "A" * 100_000,
            "<b>bold</b>",
            "&amp;",
            "\x00",
            "\ud7ff",
            "Zoë O\u2019Brien-Łukasz",
            "ZZ",
            "//",
            "XM",
            "=cmd|' /C calc'!A0",
        ]
    ),
)


@st.composite
def mutated(draw, base: bytes, fields: re.Pattern[bytes]) -> bytes:
    """``base`` broken in one to three ways: a field's text replaced, bytes flipped, inserted or
    cut, a block duplicated, the file truncated or re-encoded."""
    data = base
    for _ in range(draw(st.integers(1, 3))):
        how = draw(
            st.sampled_from(["field", "flip", "insert", "cut", "duplicate", "truncate", "encode"])
        )
        if how == "field":
            spans = [m.span(1) for m in fields.finditer(data)]
            if spans:
                start, end = draw(st.sampled_from(spans))
                value = draw(TEXT).encode("utf-8", "surrogatepass")
                data = data[:start] + value + data[end:]
        elif how in ("flip", "insert", "cut") and data:
            at = draw(st.integers(0, len(data) - 1))
            noise = draw(st.binary(min_size=1, max_size=8))
            if how == "flip":
                data = data[:at] + noise + data[at + len(noise) :]
            elif how == "insert":
                data = data[:at] + noise + data[at:]
            else:
                data = data[:at] + data[at + len(noise) :]
        elif how == "duplicate" and data:
            start = draw(st.integers(0, len(data) - 1))
            end = draw(st.integers(start, min(len(data), start + 400)))
            data = data[:end] + data[start:end] + data[end:]
        elif how == "truncate":
            data = data[: draw(st.integers(0, len(data)))]
        elif how == "encode":
            codec = draw(st.sampled_from(["utf-16", "utf-16-le", "utf-32", "latin-1", "cp1252"]))
            text = data.decode("utf-8", "replace")
            prefix = draw(st.sampled_from([b"", codecs.BOM_UTF8]))
            data = prefix + text.encode(codec, "replace")
    return data


XML_FIELDS = re.compile(rb">([^<>]*)<")
CSV_FIELDS = re.compile(rb"([^,\n]*)")


def well_formed(problem: Problem) -> None:
    """A problem a person can act on: which field, the rule in words, no exception text."""
    assert isinstance(problem.field, str) and problem.field.strip(), problem
    assert isinstance(problem.rule, str) and problem.rule.strip(), problem
    assert not LEAKS.search(problem.rule), problem.rule
    assert problem.line is None or problem.line >= 0, problem


def read_ctf(data: bytes) -> list[Problem]:
    try:
        _, problems = parse_ctf(data, name="fuzz.xml", accepted_versions=VERSIONS)
    except FileRejected as rejected:
        assert rejected.problems, "a refusal names at least one problem"
        problems = rejected.problems
    return problems


def read_csv(data: bytes) -> list[Problem]:
    try:
        _, problems = parse_csv(data, CANONICAL)
    except FileRejected as rejected:
        assert rejected.problems, "a refusal names at least one problem"
        problems = rejected.problems
    return problems


# --- the readers, alone ------------------------------------------------------------------------


def test_the_valid_files_are_read_without_problems():
    ctf, problems = parse_ctf(CTF, name="fuzz.xml", accepted_versions=VERSIONS)
    assert problems == [] and len(ctf.pupils) == 2
    rows, problems = parse_csv(CSV, CANONICAL)
    assert problems == [] and len(rows) == 3


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_ctf_files_are_refused_whole_before_parsing(name):
    with pytest.raises(FileRejected) as refused:
        parse_ctf(HOSTILE[name], name="hostile.xml", accepted_versions=VERSIONS)
    for problem in refused.value.problems:
        well_formed(problem)
    # Nothing was expanded or fetched: no entity text and no file contents in the refusal.
    assert "lollol" not in str(refused.value) and "root:x:0" not in str(refused.value)


def test_an_oversized_file_is_refused_by_its_size_alone():
    with pytest.raises(FileRejected) as refused:
        parse_ctf(CTF, name="big.xml", accepted_versions=VERSIONS, max_bytes=100)
    assert refused.value.problems[0].field == "file"
    with pytest.raises(FileRejected):
        parse_csv(CSV, CANONICAL, max_bytes=10)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated(CTF, XML_FIELDS))
def test_any_broken_ctf_is_read_or_refused_with_plain_problems(data):
    for problem in read_ctf(data):
        well_formed(problem)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated(CSV, CSV_FIELDS))
def test_any_broken_csv_is_read_or_refused_with_plain_problems(data):
    for problem in read_csv(data):
        well_formed(problem)


# --- through the import service: nothing written on refusal ------------------------------------


def _counts(db) -> dict[str, int]:
    with db.factory() as session:
        counts = {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in DATA_TABLES
        }
        counts["rejected reports"] = session.scalar(
            select(func.count()).select_from(ImportBatch).where(ImportBatch.status == "rejected")
        )
        return counts


def _run(db, clock, kind: str, data: bytes):
    # A session per unit of work, closed with it (conftest's ``context`` keeps each open to the
    # end of the test, which a hundred examples would run out of connections for).
    @contextmanager
    def opened():
        with db.factory() as session:
            yield Context.build(session, session.get(User, db.world.users["oak_lead"]), clock)

    def call(ctx):
        if kind == "ctf":
            return import_ctf(ctx, data, file_name="fuzz.xml", accepted_versions=VERSIONS)
        return import_csv(
            ctx, data, school_id=db.world.oakfield, mapping="canonical", file_name="fuzz.csv"
        )

    school_id = None if kind == "ctf" else db.world.oakfield
    return run_import(opened, call, partial=False, school_id=school_id)


FILES = st.one_of(
    st.tuples(st.just("ctf"), mutated(CTF, XML_FIELDS)),
    st.tuples(st.just("csv"), mutated(CSV, CSV_FIELDS)),
    st.tuples(st.just("ctf"), st.sampled_from(sorted(HOSTILE.values()))),
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(file=FILES)
# Found by this test: a NUL in a refused file's report broke its write on PostgreSQL.
@example(file=("ctf", b"\x00\x00 not a CTF"))
@example(file=("csv", CSV.replace(b"2024-11-19", b"2024-11-\x0019")))
def test_a_refused_import_writes_nothing_but_its_report(file, db, clock):
    kind, data = file
    before = _counts(db)
    result = _run(db, clock, kind, data)
    after = _counts(db)
    assert result.status in {"imported", "partial", "rejected", "unchanged"}
    for problem in result.problems:
        well_formed(problem)
    if result.status == "rejected":
        assert result.problems, "a refusal says why"
        expected = {**before, "rejected reports": before["rejected reports"] + 1}
        assert after == expected, "a refused file changed the data"
