"""Common Transfer File: safe reading, writing, and AttendanceMarks on a school's session index
(DATA-FORMATS.md §1). All people, schools and numbers here are synthetic."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casework.calendars import TermCalendar
from casework.calendars.config_files import la_calendar
from casework.calendars.model import InsetDay
from casework.errors import InvalidInput
from casework.registers.codes import CODES, is_absence, is_possible, is_unauthorised
from casework.registers.ctf import (
    SECURITY_RULE,
    attendance_marks_text,
    ctf_file_name,
    default_ctf_versions,
    lay_attendance_marks,
    parse_ctf,
    write_ctf,
)
from casework.registers.marks import MarkString, session_index, set_mark
from casework.registers.records import (
    CtfAddress,
    CtfContact,
    CtfFile,
    CtfHeader,
    CtfPupil,
    CtfYearData,
    FileRejected,
)
from casework.upn import check_letter, make_upn

SHIPPED = la_calendar("knowsley")
CAL = TermCalendar(
    "Oakfield Primary",
    SHIPPED.years,
    inset_days=(InsetDay(date(2024, 9, 2)),),
    pattern=SHIPPED.pattern,
)
INDEX = session_index(CAL, 2024)  # first session Tue 3 Sep 2024 (Mon 2 Sep is INSET)
INDEX_2023 = session_index(CAL, 2023)
VERSIONS = {"25.0", "24.0"}
TWO_CHARACTER = ["C1", "C2", "J1", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7"]


def temporary_upn(serial: int) -> str:
    body = f"3402123{24:02d}{serial:02d}B"
    return check_letter(body) + body


def totals(marks: MarkString) -> dict[str, int]:
    """Session totals worked out with casework.registers.codes, independently of the CTF code."""
    found = {"possible": 0, "attended": 0, "authorised": 0, "unauthorised": 0}
    for code in marks.codes():
        if code is None or not is_possible(code):
            continue
        found["possible"] += 1
        if not is_absence(code):
            found["attended"] += 1
        elif is_unauthorised(code):
            found["unauthorised"] += 1
        else:
            found["authorised"] += 1
    return found


def year_data(index, marks: MarkString, **changes) -> CtfYearData:
    start, text = attendance_marks_text(index, marks)
    fields = dict(
        line=0,
        academic_year=index.start_year,
        la="340",
        estab="2123",
        school_name="Oakfield Primary",
        start_date=start,
        marks=text,
        **totals(marks),
    )
    return CtfYearData(**(fields | changes))


def marks_with(index, codes: dict[int, str]) -> MarkString:
    """Present at every session up to the last position given, with ``codes`` at positions."""
    last = max(codes)
    chars = [None] * len(index)
    for position in range(last + 1):
        _, session = index.sessions[position]
        chars[position] = codes.get(position, "/" if session == "AM" else "\\")
    return MarkString.of(chars)


HEADER = CtfHeader(
    version="25.0",
    document_name="Common Transfer File",
    generated_at=datetime(2025, 3, 14, 9, 30, 0),
    document_qualifier="full",
    supplier="Synthetic MIS",
    academic_year=2024,
    source_la="340",
    source_estab="2123",
    source_urn="999123",
    source_name="Oakfield Primary",
    dest_la="340",
    dest_estab="4001",
)


def sample_file() -> CtfFile:
    marks_a = marks_with(INDEX, {4: "I", 5: "I", 20: "G", 31: "C2", 40: "Y1", 41: "#"})
    marks_b = marks_with(INDEX, {0: "N", 9: "L", 10: "M"})
    home = CtfAddress(("Flat 2", "7", "Example Street", "Testville"), "Sampletown", "ZZ99 1AA")
    pupils = (
        CtfPupil(
            line=0,
            upn=make_upn(340, 2123, 24, 1),
            former_upn=temporary_upn(7),
            surname="Synthetic-One",
            forename="Alpha",
            preferred_surname=None,
            preferred_forename="Al",
            date_of_birth=date(2016, 5, 4),
            sex="F",
            nc_year=3,
            fsm=True,
            sen_support=True,
            ehc_plan=False,
            looked_after=False,
            eal=True,
            address=home,
            contacts=(
                CtfContact(
                    line=0,
                    order=1,
                    title="Ms",
                    surname="Synthetic-One",
                    forename="Carer",
                    relationship="PAR",
                    responsibility=True,
                    address=None,
                    address_as_pupil=True,
                    phones=("01632 960001", "07700 900001"),
                    email="carer.one@example.invalid",
                ),
                CtfContact(
                    line=0,
                    order=2,
                    title=None,
                    surname="Synthetic-Two",
                    forename="Other & Co <test>",
                    relationship="OTH",
                    responsibility=False,
                    address=CtfAddress(("12 Sample Road",), "Othertown", "ZZ99 2BB"),
                    address_as_pupil=False,
                ),
            ),
            attendance=(year_data(INDEX, marks_a),),
        ),
        CtfPupil(
            line=0,
            upn=make_upn(340, 2123, 24, 2),
            former_upn=None,
            surname="Synthetic-Two",
            forename="Bravo",
            preferred_surname="Synthetic-Three",
            preferred_forename=None,
            date_of_birth=date(2019, 12, 1),
            sex="M",
            nc_year=0,
            fsm=False,
            sen_support=False,
            ehc_plan=True,
            looked_after=True,
            eal=False,
            address=CtfAddress(("3", "Example Lane"), "Sampletown", "ZZ99 3CC"),
            attendance=(
                year_data(INDEX_2023, marks_with(INDEX_2023, {3: "H", 4: "J", 7: "I"})),
                year_data(INDEX, marks_b),
            ),
        ),
        CtfPupil(
            line=0,
            upn=make_upn(340, 2123, 24, 3),
            former_upn=None,
            surname="Synthetic-Four",
            forename="Charlie",
            preferred_surname=None,
            preferred_forename=None,
            date_of_birth=date(2020, 6, 30),
            sex="F",
            nc_year=-1,
            fsm=False,
            sen_support=False,
            ehc_plan=False,
            looked_after=False,
            eal=False,
        ),
    )
    return CtfFile(HEADER, pupils)


def without_lines(value):
    """The same records with every ``line`` set to 0 (lines come from the file)."""
    if isinstance(value, tuple):
        return tuple(without_lines(v) for v in value)
    if dataclasses.is_dataclass(value):
        changes = {f.name: without_lines(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if "line" in changes:
            changes["line"] = 0
        return dataclasses.replace(value, **changes)
    return value


def parse(data: bytes, **kwargs):
    return parse_ctf(data, accepted_versions=VERSIONS, **kwargs)


def rejected(data: bytes, **kwargs) -> FileRejected:
    with pytest.raises(FileRejected) as raised:
        parse(data, **kwargs)
    return raised.value


# --- round trip -------------------------------------------------------------------------------


def test_write_then_parse_gives_the_same_file():
    original = sample_file()
    data = write_ctf(original)
    parsed, problems = parse(data)
    assert problems == []
    assert without_lines(parsed) == without_lines(original)


def test_a_bare_header_round_trips():
    bare = dataclasses.replace(
        HEADER,
        generated_at=None,
        document_qualifier="",
        supplier="",
        source_urn=None,
        dest_la=None,
        dest_estab=None,
    )
    assert parse(write_ctf(CtfFile(bare))) == (CtfFile(bare), [])


def test_lines_name_the_pupil_contact_and_yeardata_elements():
    data = write_ctf(sample_file())
    lines = data.decode().splitlines()
    parsed, _ = parse(data)
    for pupil in parsed.pupils:
        assert lines[pupil.line - 1].strip() == "<Pupil>"
        assert all(lines[c.line - 1].strip() == "<Contact>" for c in pupil.contacts)
        assert all(lines[y.line - 1].strip() == "<YearData>" for y in pupil.attendance)
    assert [p.line for p in parsed.pupils] == sorted({p.line for p in parsed.pupils})


def test_written_file_is_pretty_printed_utf8_with_escaped_text():
    data = write_ctf(sample_file())
    text = data.decode("utf-8")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<CTfile>\n  <Header>')
    assert "<Forename>Other &amp; Co &lt;test&gt;</Forename>" in text
    assert all(line.count("<") <= 2 for line in text.splitlines())  # one element per line
    assert "<AttendanceMarks>" in text and "<CTFversion>25.0</CTFversion>" in text


def test_writer_refuses_text_xml_cannot_carry():
    pupil = dataclasses.replace(sample_file().pupils[2], forename="Bad\x01")
    with pytest.raises(ValueError, match="cannot be written in XML"):
        write_ctf(CtfFile(HEADER, (pupil,)))


def test_reader_is_tolerant_of_case_namespaces_and_other_layouts():
    data = f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- exported by a synthetic MIS; <!DOCTYPE in a comment is only text -->
<CTfile xmlns="urn:example:ctf">
  <Header>
    <DocumentName>Common Transfer File</DocumentName>
    <CTFVersion>24</CTFVersion>
    <SourceSchool><LEA>340</LEA><Estab>2123</Estab><AcademicYear>2024</AcademicYear></SourceSchool>
  </Header>
  <CTFpupilData>
    <pupil>
      <UPN>{make_upn(340, 2123, 24, 5).lower()}</UPN>
      <Surname> Synthetic-Five </Surname><Forename>Delta</Forename>
      <DOB>2015-02-03</DOB><Gender>m</Gender>
      <BasicDetails>
        <NCyearActual>R</NCyearActual>
        <Languages><Type><TypeID>F</TypeID><Language>POL</Language></Type></Languages>
      </BasicDetails>
      <Address>
        <AddressLines><AddressLine1>1 Sample Row</AddressLine1></AddressLines>
        <PostTown>Sampletown</PostTown><Postcode>ZZ99 4DD</Postcode>
      </Address>
      <FSMhistory><FSMinstance><FSMstartDate>2023-01-01</FSMstartDate>
        <FSMendDate>2023-06-01</FSMendDate></FSMinstance></FSMhistory>
      <SENhistory><SEN><SENprovision>K</SENprovision><EndDate>2023-07-01</EndDate></SEN></SENhistory>
      <Contacts><Contact><Surname>Synthetic-Five</Surname><Forename>Echo</Forename>
        <AddressAsPupil>true</AddressAsPupil><Email>echo@example.invalid</Email></Contact></Contacts>
      <Unknown><Anything>ignored</Anything></Unknown>
    </pupil>
  </CTFpupilData>
</CTfile>
""".encode()
    parsed, problems = parse(data)
    assert problems == []
    assert parsed.header.version == "24"
    (pupil,) = parsed.pupils
    assert pupil.upn == make_upn(340, 2123, 24, 5)
    assert (pupil.surname, pupil.sex, pupil.nc_year, pupil.eal) == ("Synthetic-Five", "M", 0, True)
    assert pupil.address == CtfAddress(("1 Sample Row",), "Sampletown", "ZZ99 4DD")
    assert (pupil.fsm, pupil.sen_support) == (False, False)  # both ended
    (contact,) = pupil.contacts
    assert contact.address_as_pupil and contact.email == "echo@example.invalid"


def test_lines_are_right_for_other_spellings_comments_and_cdata():
    lowered = GOOD.replace(b"Pupil>", b"pupil>")
    commented = GOOD.replace(
        b"  <CTFpupilData>\n",
        b"  <CTFpupilData>\n<!-- an old <Pupil> and <!DOCTYPE x> in a comment -->\n",
    ).replace(b"<Surname>Synthetic-Four", b"<Surname><![CDATA[Synthetic-<Four>]]>")
    for data, start_tag in ((lowered, "    <pupil>"), (commented, "    <Pupil>")):
        parsed, problems = parse(data)
        assert problems == []
        (pupil,) = parsed.pupils
        assert pupil.line == line_of(data, start_tag)
    assert parse(commented)[0].pupils[0].surname == "Synthetic-<Four>"


def test_xinclude_is_not_processed():
    data = GOOD.replace(
        b"<Forename>Charlie</Forename>",
        b'<Forename>Charlie<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
        b'href="file:///etc/passwd" parse="text"/></Forename>',
    )
    assert parse(data)[0].pupils[0].forename == "Charlie"


def test_utf16_with_a_byte_order_mark_is_read():
    data = GOOD.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    assert parse(data)[0].pupils[0].forename == "Charlie"


def test_a_declared_single_byte_encoding_that_decodes_is_read():
    data = write_ctf(sample_file()).decode()
    data = data.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').replace(
        "Oakfield Primary</SchoolName>\n      <AcademicYear>",
        "Ecole Hélène</SchoolName>\n      <AcademicYear>",
    )
    parsed, _ = parse(data.encode("latin-1"))
    assert parsed.header.source_name == "Ecole Hélène"


# --- hostile and broken files -----------------------------------------------------------------

GOOD = write_ctf(CtfFile(HEADER, sample_file().pupils[2:]))
BODY = GOOD.split(b"\n", 1)[1]  # without the XML declaration

HOSTILE = {
    "xxe": b'<?xml version="1.0"?>\n<!DOCTYPE CTfile [\n<!ENTITY xxe SYSTEM "file:///etc/passwd">'
    b"\n]>\n<CTfile><Header><DocumentName>&xxe;</DocumentName></Header></CTfile>",
    "billion-laughs": b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode()
        for i in range(1, 10)
    )
    + b"]>\n<CTfile>&lol9;</CTfile>",
    "plain-doctype": b"<!DOCTYPE CTfile>\n" + BODY,
    "external-dtd": b'<?xml version="1.0"?>\n<!DOCTYPE CTfile SYSTEM "http://example.invalid/c.dtd">'
    b"\n" + BODY,
    "parameter-entity": b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY % p SYSTEM '
    b'"http://example.invalid/p.dtd"> %p;]>\n<CTfile/>',
    "entity-without-doctype": b'<?xml version="1.0"?>\n<!ENTITY x "y">\n<CTfile/>',
}


@pytest.mark.parametrize("data", list(HOSTILE.values()), ids=list(HOSTILE))
def test_dtds_and_entities_are_refused_before_parsing(data):
    problem = rejected(data).problems[0]
    assert problem.field == "DOCTYPE"
    assert problem.rule == SECURITY_RULE
    assert problem.line == 2 or data.startswith(b"<!DOCTYPE")


def test_an_undeclared_entity_is_a_parse_error_not_a_lookup():
    data = GOOD.replace(b"<DocumentName>Common Transfer File", b"<DocumentName>&xxe;")
    problem = rejected(data).problems[0]
    assert problem.field == "file" and "undefined entity" in problem.rule


@pytest.mark.parametrize(
    ("data", "kwargs", "field", "rule_part"),
    [
        pytest.param(b"", {}, "file", "is empty", id="empty"),
        pytest.param(b"  \n\t", {}, "file", "is empty", id="blank"),
        pytest.param(b"UPN,Surname\nA1,B\n", {}, "file", "is not XML", id="csv"),
        pytest.param(b"%PDF-1.4 binary", {}, "file", "is not XML", id="pdf"),
        pytest.param(GOOD, {"max_bytes": 100}, "file", "the limit is 100 bytes", id="too-big"),
        pytest.param(
            GOOD.replace(b"Common Transfer File", b"Common Transfer Fil\xe9"),
            {},
            "encoding",
            "is not valid UTF-8: byte 0xe9 at line 4",
            id="latin1-as-utf8",
        ),
        pytest.param(
            GOOD.replace(b'encoding="UTF-8"', b'encoding="x-made-up"'),
            {},
            "encoding",
            "does not know",
            id="unknown-encoding",
        ),
        pytest.param(b"<Root><A/></Root>", {}, "root", "must be CTfile", id="wrong-root"),
        pytest.param(b"<ATfile><Header/></ATfile>", {}, "root", "carries no attendance", id="atf"),
        pytest.param(
            GOOD.replace(b"CTFpupilData", b"ATFpupilData"),
            {},
            "CTfile/ATFpupilData",
            "admissions transfer file",
            id="atf-pupils",
        ),
        pytest.param(
            GOOD.replace(b"Common Transfer File", b"Admissions Transfer File"),
            {},
            "Header/DocumentName",
            "must be 'Common Transfer File'",
            id="document-name",
        ),
        pytest.param(
            GOOD.replace(b"<CTFversion>25.0", b"<CTFversion>19.0"),
            {},
            "Header/CTFversion",
            "CTF version 19.0 is not accepted",
            id="version",
        ),
        pytest.param(
            GOOD.replace(b"<LEA>340</LEA>", b"", 1),
            {},
            "Header/SourceSchool/LEA",
            "must give",
            id="missing-lea",
        ),
        pytest.param(
            GOOD.replace(b"<Estab>2123</Estab>", b"<Estab>21X3</Estab>", 1),
            {},
            "Header/SourceSchool/Estab",
            "4-digit",
            id="bad-estab",
        ),
        pytest.param(
            b'<?xml version="1.0"?>\n<CTfile>\n<CTFpupilData/>\n</CTfile>',
            {},
            "Header",
            "needs a Header",
            id="no-header",
        ),
    ],
)
def test_broken_files_are_rejected_with_a_clear_rule(data, kwargs, field, rule_part):
    problem = rejected(data, **kwargs).problems[0]
    assert problem.field == field
    assert rule_part in problem.rule


def test_truncated_xml_names_the_line_it_stopped_at():
    cut = GOOD[: GOOD.index(b"<Forename>")]
    problem = rejected(cut).problems[0]
    assert problem.field == "file"
    assert "not well-formed XML" in problem.rule
    assert problem.line == cut.count(b"\n") + 1


def test_malformed_xml_names_its_line():
    data = GOOD.replace(b"<Gender>F</Gender>", b"<Gender>F</Gendr>")
    problem = rejected(data).problems[0]
    expected = data[: data.index(b"</Gendr>")].count(b"\n") + 1
    assert problem.line == expected and "mismatched tag" in problem.rule


def test_default_versions_accept_this_year_and_last():
    assert default_ctf_versions(date(2026, 11, 23)) == {"26.0", "25.0", "26", "25"}
    # January to July also accept the version named after the calendar year (One's summer 2024
    # release writes CTFVersion 24.0 with AcademicYear 2023, DATA-FORMATS.md §1.1).
    assert default_ctf_versions(date(2024, 4, 12)) == {
        "24.0", "23.0", "22.0", "24", "23", "22"
    }  # fmt: skip
    this_year = date.today().year % 100
    data = GOOD.replace(b"<CTFversion>25.0", f"<CTFversion>{this_year}.0".encode())
    assert parse_ctf(data)[0].header.version == f"{this_year}.0"
    with pytest.raises(FileRejected, match="not accepted"):
        parse_ctf(GOOD.replace(b"<CTFversion>25.0", b"<CTFversion>19.0"))


# --- pupil problems ---------------------------------------------------------------------------


def pupil_xml(upn: str, **fields: str) -> str:
    parts = {
        "UPN": upn,
        "Surname": "Synthetic-Six",
        "Forename": "Foxtrot",
        "DOB": "2014-09-09",
        "Gender": "F",
    } | fields
    inner = "".join(f"<{k}>{v}</{k}>" for k, v in parts.items() if v is not None)
    return f"    <Pupil>\n      {inner}\n    </Pupil>\n"


def file_with(*pupils: str) -> bytes:
    head = GOOD.split(b"  <CTFpupilData>\n")[0]
    return head + b"  <CTFpupilData>\n" + "".join(pupils).encode() + b"  </CTFpupilData>\n</CTfile>"


def line_of(data: bytes, needle: str, nth: int = 0) -> int:
    at = -1
    for _ in range(nth + 1):
        at = data.index(needle.encode(), at + 1)
    return data[:at].count(b"\n") + 1


def test_bad_check_letter_names_the_expected_letter_and_its_line():
    good = make_upn(340, 2123, 24, 9)
    wrong = ("A" if good[0] != "A" else "B") + good[1:]
    data = file_with(pupil_xml(make_upn(340, 2123, 24, 8)), pupil_xml(wrong))
    parsed, problems = parse(data)
    assert [p.upn for p in parsed.pupils] == [make_upn(340, 2123, 24, 8)]
    (problem,) = problems
    assert (problem.field, problem.value) == ("Pupil/UPN", wrong)
    assert f"should be {good[0]}" in problem.rule
    assert problem.line == line_of(data, "<Pupil>", 1)


@pytest.mark.parametrize(
    ("fields", "field", "rule_part", "kept"),
    [
        ({"UPN": None}, "Pupil/UPN", "needs a UPN", False),
        ({"UPN": "123"}, "Pupil/UPN", "a UPN is a letter then 12 digits", False),
        ({"DOB": "2014-02-30"}, "Pupil/DOB", "yyyy-MM-dd", False),
        ({"DOB": "09/09/2014"}, "Pupil/DOB", "yyyy-MM-dd", False),
        ({"Gender": "X"}, "Pupil/Gender", "M or F", False),
        ({"Surname": None}, "Pupil/Surname", "needs a Surname", False),
        (
            {"BasicDetails": "<FormerUPN>A00000000000Z</FormerUPN>"},
            "Pupil/BasicDetails/FormerUPN",
            "check letter",
            True,
        ),
        (
            {"BasicDetails": "<NCyearActual>15</NCyearActual>"},
            "Pupil/BasicDetails/NCyearActual",
            "R, 1 to 14",
            True,
        ),
    ],
)
def test_pupil_problems_name_field_value_and_line(fields, field, rule_part, kept):
    data = file_with(pupil_xml(make_upn(340, 2123, 24, 10), **fields))
    parsed, problems = parse(data)
    (problem,) = problems
    assert problem.field == field
    assert rule_part in problem.rule
    assert problem.line == line_of(data, "<Pupil>")
    assert len(parsed.pupils) == int(kept)


def test_a_repeated_upn_is_reported_and_the_second_pupil_left_out():
    upn = make_upn(340, 2123, 24, 11)
    parsed, problems = parse(file_with(pupil_xml(upn), pupil_xml(upn)))
    assert len(parsed.pupils) == 1
    assert "appears twice" in problems[0].rule


def year_xml(**fields: str | None) -> str:
    parts = {
        "Year": "2024",
        "LEA": "340",
        "Estab": "2123",
        "SessionsPossible": "10",
        "SessionsAuthorised": "1",
        "SessionsAttended": "8",
        "SessionsUnauthorised": "1",
        "AttendSessions": "<AttendanceStartDate>2024-09-03</AttendanceStartDate>"
        "<AttendanceMarks>/\\/\\/\\/\\IN</AttendanceMarks>",
    } | fields
    inner = "".join(f"<{k}>{v}</{k}>" for k, v in parts.items() if v is not None)
    return f"\n<YearData>{inner}</YearData>\n"  # inside the pupil's <Attendance>


@pytest.mark.parametrize(
    ("fields", "field", "value", "rule_part", "kept"),
    [
        (
            {"SessionsPossible": "10.5"},
            "Pupil/Attendance/YearData/SessionsPossible",
            "10.5",
            "whole number",
            False,
        ),
        (
            {"SessionsAttended": None},
            "Pupil/Attendance/YearData/SessionsAttended",
            None,
            "whole number",
            False,
        ),
        (
            {"SessionsAttended": "7"},
            "Pupil/Attendance/YearData/SessionsPossible",
            "possible 10, attended 7 + authorised 1 + unauthorised 1 = 9",
            "must equal SessionsPossible",
            True,
        ),
        (
            {
                "AttendSessions": "<AttendanceStartDate>2024-09-03</AttendanceStartDate>"
                "<AttendanceMarks>/\\/?h\\</AttendanceMarks>"
            },
            "Pupil/Attendance/YearData/AttendSessions/AttendanceMarks",
            "?",
            "is not an attendance mark",
            True,
        ),
        (
            {"AttendSessions": "<AttendanceMarks>/\\</AttendanceMarks>"},
            "Pupil/Attendance/YearData/AttendSessions/AttendanceStartDate",
            None,
            "needs an AttendanceStartDate",
            True,
        ),
    ],
)
def test_year_data_problems_name_the_yeardata_line(fields, field, value, rule_part, kept):
    data = file_with(pupil_xml(make_upn(340, 2123, 24, 12), Attendance=year_xml(**fields)))
    parsed, problems = parse(data)
    problem = problems[0]
    assert (problem.field, problem.value) == (field, value)
    assert rule_part in problem.rule
    assert problem.line == line_of(data, "<YearData>")
    assert len(parsed.pupils[0].attendance) == int(kept)


def test_mark_characters_are_case_sensitive():
    sessions = "<AttendanceStartDate>2024-09-03</AttendanceStartDate>"
    sessions += "<AttendanceMarks>/\\b?hB</AttendanceMarks>"  # b is C2, B is B, h is nothing
    upn = make_upn(340, 2123, 24, 13)
    _, problems = parse(file_with(pupil_xml(upn, Attendance=year_xml(AttendSessions=sessions))))
    assert {p.value for p in problems} == {"?", "h"}


# --- AttendanceMarks --------------------------------------------------------------------------


def test_marks_text_is_two_characters_per_calendar_day_with_closed_days_as_hashes():
    marks = marks_with(INDEX, {0: "L", 3: "I", 8: "/"})
    start, text = attendance_marks_text(INDEX, marks)
    assert start == date(2024, 9, 3)
    # Tue 3 Sep .. Fri 6 Sep, a weekend, Mon 9 Sep AM (the last mark; PM not marked yet).
    assert text == "L\\/I/\\/\\####/-"


def test_unmarked_sessions_are_cut_at_the_end_and_dashes_in_the_middle():
    chars = ["/", "\\", None, "\\"] + [None] * (len(INDEX) - 4)
    marks = MarkString.of(chars)
    _, text = attendance_marks_text(INDEX, marks)
    assert text == "/\\-\\"
    assert lay_attendance_marks(year_data(INDEX, marks), INDEX) == (marks, [])
    _, longer = attendance_marks_text(INDEX, marks, end=date(2024, 9, 9))
    assert longer == "/\\-\\----####--"
    assert attendance_marks_text(INDEX, MarkString.empty(len(INDEX)))[1] == ""


def test_text_can_start_before_the_first_session_and_still_lays_back():
    marks = marks_with(INDEX, {2: "N"})
    start, text = attendance_marks_text(INDEX, marks, start=date(2024, 8, 30))
    assert text.startswith("##" * 4)  # Fri 30 Aug to Mon 2 Sep (INSET)
    year = dataclasses.replace(year_data(INDEX, marks), start_date=start, marks=text)
    assert lay_attendance_marks(year, INDEX) == (marks, [])


def test_two_character_codes_round_trip_through_stored_characters():
    marks = marks_with(INDEX, {i * 3: code for i, code in enumerate(TWO_CHARACTER)})
    year = year_data(INDEX, marks)
    assert set("abj1234567") <= set(year.marks)
    laid, problems = lay_attendance_marks(year, INDEX)
    assert problems == []
    assert [c for c in laid.codes() if c in TWO_CHARACTER] == TWO_CHARACTER


def test_hash_on_an_open_session_is_a_recorded_closure():
    marks = marks_with(INDEX, {2: "#", 3: "#"})
    laid, problems = lay_attendance_marks(year_data(INDEX, marks), INDEX)
    assert problems == []
    assert laid == marks
    assert laid.codes()[2:4] == ["#", "#"]
    assert not is_possible("#")


def test_legacy_codes_read_before_19_august_2024():
    marks = marks_with(INDEX_2023, {3: "H", 4: "J", 7: "F", 8: "Y"})
    laid, problems = lay_attendance_marks(year_data(INDEX_2023, marks), INDEX_2023)
    assert problems == []
    assert laid.codes()[3:9] == ["H", "J", "\\", "/", "F", "Y"]


def test_legacy_code_on_10_september_2024_is_refused_and_left_unmarked():
    marks = marks_with(INDEX, {5: "I", 40: "/"})
    year = year_data(INDEX, marks)
    position = INDEX.position(date(2024, 9, 10), "AM")
    day_offset = 2 * (date(2024, 9, 10) - year.start_date).days
    text = year.marks[:day_offset] + "H" + year.marks[day_offset + 1 :]
    laid, problems = lay_attendance_marks(dataclasses.replace(year, marks=text), INDEX)
    refused = [p for p in problems if p.value.startswith("H on")]
    (problem,) = refused
    assert problem.value == "H on 2024-09-10 AM"
    assert "not in the 2024 national set" in problem.rule
    assert laid.codes()[position] is None
    totals_problems = [p for p in problems if p not in refused]
    assert {p.field.rsplit("/", 1)[1] for p in totals_problems} == {
        "SessionsPossible",
        "SessionsAttended",
    }


def test_totals_that_disagree_with_the_marks_are_reported():
    marks = marks_with(INDEX, {1: "I", 2: "G"})
    year = dataclasses.replace(year_data(INDEX, marks), line=42, authorised=5, possible=14)
    laid, problems = lay_attendance_marks(year, INDEX)
    assert laid == marks
    possible = totals(marks)["possible"]
    assert {p.field: p.value for p in problems} == {
        "Pupil/Attendance/YearData/SessionsPossible": f"file says 14, marks give {possible}",
        "Pupil/Attendance/YearData/SessionsAuthorised": "file says 5, marks give 1",
    }
    assert {p.line for p in problems} == {42}


def test_marks_on_days_the_school_is_closed_are_reported_with_the_calendars_reason():
    marks = marks_with(INDEX, {5: "I", 40: "/"})
    year = year_data(INDEX, marks)
    # Saturday 7 Sep is the 5th day from Tue 3 Sep; Mon 2 Sep (INSET) the day before the start.
    saturday = 2 * (date(2024, 9, 7) - year.start_date).days
    text = year.marks[:saturday] + "/\\" + year.marks[saturday + 2 :]
    inset = dataclasses.replace(year, start_date=date(2024, 9, 2), marks="/#" + text)
    laid, problems = lay_attendance_marks(inset, INDEX)
    assert laid == marks
    assert [(p.value, p.field) for p in problems] == [
        ("/ on 2024-09-02 AM", "Pupil/Attendance/YearData/AttendSessions/AttendanceMarks"),
        ("/ on 2024-09-07 AM", "Pupil/Attendance/YearData/AttendSessions/AttendanceMarks"),
        ("\\ on 2024-09-07 PM", "Pupil/Attendance/YearData/AttendSessions/AttendanceMarks"),
    ]
    assert "INSET day" in problems[0].rule and "weekend" in problems[1].rule


def test_marks_outside_the_academic_year_name_it():
    marks = marks_with(INDEX, {0: "I"})
    year = year_data(INDEX, marks)
    early = dataclasses.replace(
        year, start_date=date(2024, 7, 31), marks="NN" + "##" * 33 + year.marks
    )
    laid, problems = lay_attendance_marks(early, INDEX)
    assert laid == marks
    assert [p.value for p in problems] == ["N on 2024-07-31 AM", "N on 2024-07-31 PM"]
    assert "not in 2024/25" in problems[0].rule


def weekdays_only(start: date, text: str) -> str:
    pairs = [text[i : i + 2] for i in range(0, len(text), 2)]
    return "".join(
        pair for i, pair in enumerate(pairs) if (start + timedelta(days=i)).weekday() < 5
    )


@pytest.mark.parametrize("index", [INDEX, INDEX_2023], ids=["2024", "2023"])
def test_with_and_without_weekends_read_the_same(index):
    marks = marks_with(index, {1: "I", 2: "M", 30: "N", 31: "b", 100: "O"})
    year = year_data(index, marks)
    short = dataclasses.replace(year, marks=weekdays_only(year.start_date, year.marks))
    assert len(short.marks) < len(year.marks)
    assert lay_attendance_marks(year, index) == (marks, [])
    assert lay_attendance_marks(short, index) == (marks, [])


def test_a_weekday_only_string_with_a_mark_on_a_closed_weekday_still_reads_as_weekdays():
    marks = marks_with(INDEX, {3: "I", 200: "/"})
    year = year_data(INDEX, marks)
    short = weekdays_only(year.start_date, year.marks)
    closed = date(2024, 10, 28)  # a Monday in the October half term
    assert CAL.info(closed).sessions == frozenset()
    days = (closed - year.start_date).days
    k = sum(1 for d in range(days) if (year.start_date + timedelta(days=d)).weekday() < 5)
    text = short[: 2 * k] + "O" + short[2 * k + 1 :]
    laid, problems = lay_attendance_marks(dataclasses.replace(year, marks=text), INDEX)
    assert laid == marks
    assert [p.value for p in problems] == ["O on 2024-10-28 AM"]
    assert "half term" in problems[0].rule


def test_no_marks_lay_as_an_empty_register():
    year = dataclasses.replace(year_data(INDEX, marks_with(INDEX, {0: "/"})), marks=None)
    assert lay_attendance_marks(year, INDEX) == (MarkString.empty(len(INDEX)), [])


def test_set_mark_and_lay_agree_on_every_code():
    marks = MarkString.empty(len(INDEX))
    for i, code in enumerate(sorted(CODES)):
        day, session = INDEX.sessions[i]
        marks = set_mark(INDEX, marks, day, session, code)
    assert lay_attendance_marks(year_data(INDEX, marks), INDEX) == (marks, [])


CODE_OR_NONE = st.one_of(st.none(), st.sampled_from(sorted(CODES)))
REGISTER = st.lists(CODE_OR_NONE, min_size=len(INDEX), max_size=len(INDEX))


@settings(max_examples=60, deadline=None)
@given(REGISTER)
def test_marks_text_then_lay_gives_back_the_register(codes):
    marks = MarkString.of(codes)
    assert lay_attendance_marks(year_data(INDEX, marks), INDEX) == (marks, [])


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=len(INDEX)), REGISTER)
def test_a_register_marked_up_to_a_day_reads_the_same_without_weekends(marked, codes):
    # Registers are marked session by session up to a day (only a sparse string, with marks
    # that never touch a weekend under either reading, could be read both ways).
    codes = [c or "O" for c in codes[:marked]] + [None] * (len(INDEX) - marked)
    marks = MarkString.of(codes)
    year = year_data(INDEX, marks)
    short = dataclasses.replace(year, marks=weekdays_only(year.start_date, year.marks or ""))
    assert lay_attendance_marks(short, INDEX) == (marks, [])


# --- file names -------------------------------------------------------------------------------


def test_file_names_follow_the_ctf_pattern():
    assert ctf_file_name("801", "2000", "801", "2001", 1) == "8012000_CTF_8012001_001.XML"
    assert ctf_file_name(340, 2123, None, None, 12) == "3402123_CTF_XXXXXXX_012.XML"
    assert ctf_file_name(340, 2123, "MAN", "xxxx", 999) == "3402123_CTF_MANXXXX_999.XML"
    with pytest.raises(InvalidInput, match="3 digits"):
        ctf_file_name("34", "2123", None, None, 1)
    with pytest.raises(InvalidInput, match="1 to 999"):
        ctf_file_name("340", "2123", None, None, 1000)
