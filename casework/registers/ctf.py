"""Common Transfer File (CTF) XML: a safe reader, a fast writer, and attendance marks laid on a
school's session index (DATA-FORMATS.md §1).

Reading (:func:`parse_ctf`) is defensive. The size is checked before anything else; the bytes
must decode in the declared encoding (UTF-8 when none is declared); then, before any parsing, a
text with ``<!`` anywhere is scanned for markup declarations and any DOCTYPE or ENTITY is refused
(DTDs and entities are not allowed in a CTF). So no entity can be declared, nothing external can
be referenced and nothing is fetched by the time ElementTree's C parser (expat) sees the text.
defusedxml gives the same protections, but only over the pure-Python parser, several times slower
on a county's 250,000 pupils. The scan also finds the 1-based line of each Pupil, Contact and
YearData start tag, which problems name. Element names are matched case-insensitively, namespaces
dropped (``CTFversion`` and ``CTFVersion`` both occur, DATA-FORMATS.md §1.1); elements this
service does not use are ignored. File-level faults raise :class:`FileRejected`; pupil-level
faults come back as :class:`Problem` records naming the line, the XML path, the value and the
rule.

Versions: by default the versions of the current academic year and the one before are accepted
(as MIS suppliers do), plus the version named after the current calendar year, because DfE names a
version by the calendar year it is issued in: One's summer 2024 release writes ``CTFVersion`` 24.0
with ``AcademicYear`` 2023 (DATA-FORMATS.md §1.1). See :func:`default_ctf_versions`.

AttendanceMarks (DATA-FORMATS.md §1.4), as this service reads and writes it:

- Two characters per calendar day from ``AttendanceStartDate``, AM then PM (Follett's layout).
  A session the school is not open for is ``#``; present is ``/`` (AM) and ``\\`` (PM).
- Two-character 2024 codes: the open question in DATA-FORMATS.md §1.4 is answered with the stored
  one-character table of :mod:`casework.registers.marks` (C1 ``a``, C2 ``b``, J1 ``j``, Y1-Y7
  ``1``-``7``; every other code stands for itself). Mark characters are case-sensitive: ``b`` is
  C2, ``B`` is B.
- ``-`` is a session with no mark yet (written for an unmarked session in the middle of the
  string; the string stops at the last marked session, so trailing unmarked sessions are cut off).
- ``#`` on a session the school's calendar says is open is read as the 2024 code ``#`` (a planned
  closure the school recorded), not as filler; ``#`` on a closed session is filler.
- Weekends: a tolerant reader also accepts two characters per weekday (Monday to Friday). Rule: the
  string is read as calendar days; only when that reading puts marks on sessions the school is
  closed is the weekday reading tried, and it is used when it fits strictly better: first fewer
  Sessions* totals contradicted (DATA-FORMATS.md §1.4: cross-check against SessionsPossible), then
  fewer marks on closed sessions plus ``#`` on open sessions. A calendar-day string has ``##`` at
  weekends, so it keeps the calendar reading; a weekday string puts marks on Saturdays under the
  calendar reading, which then loses them from its totals. Only a sparse string whose marks miss
  every weekend under both readings is ambiguous; it is read as calendar days.
"""

from __future__ import annotations

import codecs
import re
from collections import OrderedDict
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from operator import attrgetter, itemgetter
from xml.etree.ElementTree import Element, ParseError, XMLParser
from xml.parsers.expat import ErrorString
from xml.sax.saxutils import escape

from casework.calendars.model import academic_year_of, year_span
from casework.errors import InvalidInput
from casework.registers.codes import (
    ATTENDANCE_CLASSES,
    CODES,
    IN_FORCE_FROM,
    LEGACY,
    StatClass,
    classify,
)
from casework.registers.marks import AM, CHAR_TO_CODE, NO_MARK, PM, MarkString, SessionIndex
from casework.registers.records import (
    CtfAddress,
    CtfContact,
    CtfFile,
    CtfHeader,
    CtfPupil,
    CtfYearData,
    FileRejected,
    Problem,
)
from casework.upn import upn_problem

__all__ = [
    "attendance_marks_text",
    "ctf_file_name",
    "default_ctf_versions",
    "lay_attendance_marks",
    "parse_ctf",
    "write_ctf",
]

DOCUMENT_NAME = "Common Transfer File"
NOT_IN_SESSION = "#"
SECURITY_RULE = "DTDs and entities are not allowed in a CTF (security)"

YEAR_DATA = "Pupil/Attendance/YearData"
MARKS_FIELD = f"{YEAR_DATA}/AttendSessions/AttendanceMarks"
_TOTALS = (
    ("possible", "SessionsPossible"),
    ("attended", "SessionsAttended"),
    ("authorised", "SessionsAuthorised"),
    ("unauthorised", "SessionsUnauthorised"),
)
_CODE_CHARS = frozenset(CHAR_TO_CODE) - {"#"}  # "#" is also the not-in-session filler
_MARK_CHARS = frozenset(CHAR_TO_CODE) | {NO_MARK}
_NOT_A_MARK = re.compile("[^" + re.escape("".join(sorted(_MARK_CHARS))) + "]")
# English, believed English, and not known (NOT obtained, REFused): not EAL.
_ENGLISH_OR_UNKNOWN = frozenset({"ENG", "ENB", "NOT", "REF"})
_TRUE = frozenset({"true", "1", "yes", "y"})
_DATE = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(?:T[0-9:.]+)?")
_YEAR = re.compile(r"([0-9]{4})(?:[/-][0-9]{2}(?:[0-9]{2})?)?")
_DIGITS = re.compile(r"[0-9]+")
_DECLARED = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
# Characters XML 1.0 cannot carry, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ADDRESS_LINES = ("SAON", "PAON", "Street", "Locality")
_MAX_LAY_PROBLEMS = 10  # closed-day marks listed one by one per YearData; the rest are counted


# --- versions and file names ------------------------------------------------------------------


def default_ctf_versions(today: date) -> frozenset[str]:
    """The CTF versions accepted on ``today`` when the caller names none.

    The current academic year's two digits and the year before's (on 23 Nov 2026: 26 and 25),
    plus the calendar year's when it differs (Jan-Jul: on 12 Apr 2024, 24 as well as 23 and 22),
    each written ``"26.0"`` and ``"26"``.
    """
    year = academic_year_of(today)
    numbers = {year % 100, (year - 1) % 100, today.year % 100}
    return frozenset(text for n in numbers for text in (f"{n:02d}.0", f"{n:02d}"))


def _version_key(text: str) -> str:
    text = text.strip()
    return text[:-2] if text.endswith(".0") else text


def ctf_file_name(
    source_la: str | int,
    source_estab: str | int,
    dest_la: str | int | None,
    dest_estab: str | int | None,
    seq: int,
) -> str:
    """``<srcLA><srcEstab>_CTF_<destLA><destEstab>_<nnn>.XML`` (DATA-FORMATS.md §1.5, unverified
    pattern), e.g. ``8012000_CTF_8012001_001.XML``. An unknown destination is ``XXX`` + ``XXXX``;
    ``MAN`` is accepted as a destination LA (outside the maintained sector)."""
    src = _code_part("source_la", source_la, 3) + _code_part("source_estab", source_estab, 4)
    if dest_la is None and dest_estab is None:
        dest = "XXXXXXX"
    else:
        dest = _code_part("dest_la", dest_la, 3, ("XXX", "MAN")) + _code_part(
            "dest_estab", dest_estab, 4, ("XXXX",)
        )
    if not isinstance(seq, int) or not 1 <= seq <= 999:
        raise InvalidInput.one("seq", seq, "the sequence number is 1 to 999")
    return f"{src}_CTF_{dest}_{seq:03d}.XML"


def _code_part(field: str, value: object, width: int, words: tuple[str, ...] = ()) -> str:
    text = f"{value:0{width}d}" if isinstance(value, int) and value >= 0 else str(value).strip()
    if text.upper() in words:
        return text.upper()
    if len(text) != width or not text.isascii() or not text.isdigit():
        allowed = f" or {' / '.join(words)}" if words else ""
        raise InvalidInput.one(field, value, f"must be {width} digits{allowed}")
    return text


# --- reading ----------------------------------------------------------------------------------


Lines = dict[str, list[int]]  # canonical tag -> 1-based lines of its start tags, in order
_LINED = ("Pupil", "Contact", "YearData")

# Fast scan: any "<!" (so a comment, CDATA or declaration) or a canonical start tag.
_FAST = re.compile(r"<(?:(!)|(Pupil|Contact|YearData)(?=[\s/>]))")
# Full scan: comments, CDATA, PIs, declarations, and the three tags in any case or namespace.
_FULL = re.compile(
    r"<(?:(!--)|(!\[CDATA\[)|(\?)|(!)|(?:[\w.-]+:)?((?i:pupil|contact|yeardata))(?=[\s/>]))"
)
_ENDS = ("-->", "]]>", "?>")


def _fast_scan(text: str) -> Lines | None:
    """Lines of canonical Pupil/Contact/YearData start tags; None when the text holds ``<!``
    anywhere, for :func:`_full_scan` to look at."""
    lines: Lines = {tag: [] for tag in _LINED}
    line, last = 1, 0
    for found in _FAST.finditer(text):
        if found.group(1):
            return None
        line += text.count("\n", last, found.start())
        last = found.start()
        lines[found.group(2)].append(line)
    return lines


def _full_scan(text: str) -> Lines:
    """Refuses any DTD or markup declaration, and finds the line of each Pupil, Contact and
    YearData start tag in document order, in any case and namespace.

    Comments, CDATA sections and processing instructions are skipped as wholes (unterminated ones
    run to the end, for the parser to report), so every remaining ``<Name`` is a real start tag:
    in XML a literal ``<`` cannot appear in text or attribute values.
    """
    lines: Lines = {tag: [] for tag in _LINED}
    line, last, at = 1, 0, 0
    while found := _FULL.search(text, at):
        *skipped, declaration, tag = found.groups()
        at = found.end()
        end = next((e for e, s in zip(_ENDS, skipped, strict=True) if s), None)
        if end is not None:  # skip the whole comment / CDATA / PI (unterminated: the rest)
            close = text.find(end, at)
            at = len(text) if close < 0 else close + len(end)
            continue
        line += text.count("\n", last, found.start())
        last = found.start()
        if declaration:
            shown = text[last : last + 20].split()[0]  # "<!DOCTYPE", "<!ENTITY"
            raise FileRejected.one("DOCTYPE", shown, SECURITY_RULE, line)
        lines[_CANONICAL[tag.lower()]].append(line)
    return lines


_LINE = " line"  # where an element's line is kept in its attrib: never a valid XML name


def parse_ctf(
    data: bytes,
    *,
    name: str = "file",
    accepted_versions: Collection[str] | None = None,
    max_bytes: int = 200_000_000,
) -> tuple[CtfFile, list[Problem]]:
    """Read a CTF; raise :class:`FileRejected` when the file cannot be read at all, else return
    the file and the pupil-level problems.

    A pupil whose UPN, Surname, Forename, DOB or Gender cannot be read is left out (its problems
    say why); a bad optional value is left empty; a YearData with unreadable totals is left out.
    Problems name the line of the Pupil, Contact or YearData element they are in.
    """
    if len(data) > max_bytes:
        raise FileRejected.one(
            "file", len(data), f"{name} is {len(data):,} bytes; the limit is {max_bytes:,} bytes"
        )
    if not data.strip():
        raise FileRejected.one("file", len(data), f"{name} is empty")
    text = _decode(data, name)
    if not text.lstrip("\ufeff \t\r\n").startswith("<"):
        raise FileRejected.one(
            "file",
            text.lstrip()[:20],
            f"{name} is not XML: a CTF starts with '<?xml' or '<CTfile>'",
        )
    # Before any parsing: a text with "<!" anywhere gets the full scan, which refuses DTDs, so no
    # DTD ever reaches the parser.
    lines = _fast_scan(text)
    if lines is None:
        lines = _full_scan(text)
    accepted = (
        default_ctf_versions(date.today()) if accepted_versions is None else accepted_versions
    )
    return _Reader(name, frozenset(_version_key(v) for v in accepted), lines).read(text)


def _decode(data: bytes, name: str) -> str:
    """The file as text in its declared encoding (UTF-8 when none is declared)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        declared = "UTF-16"
    else:
        found = _DECLARED.match(data.removeprefix(codecs.BOM_UTF8))
        declared = found.group(1).decode("ascii") if found else "UTF-8"
    try:
        codec = codecs.lookup(declared).name
    except LookupError:
        raise FileRejected.one(
            "encoding", declared, f"{name} declares an encoding Python does not know; use UTF-8"
        ) from None
    try:
        return data.decode("utf-8-sig" if codec == "utf-8" else codec)
    except UnicodeDecodeError as bad:
        line = data[: bad.start].count(b"\n") + 1
        raise FileRejected.one(
            "encoding",
            declared,
            f"{name} is not valid {declared}: byte 0x{data[bad.start]:02x} at line {line} cannot "
            "be decoded (CTF files are UTF-8)",
            line,
        ) from None


class _Reader:
    """Parses with ElementTree's C parser: the text has passed the scans, so it holds no DTD,
    no entity can be declared and nothing external is referenced. (Per-element Python callbacks or
    events would triple the time; the price is that the whole tree is in memory while it is read,
    roughly ten times the file, bounded by ``max_bytes``.)"""

    def __init__(self, name: str, accepted: frozenset[str], lines: Lines):
        self.name = name
        self.accepted = accepted
        self.lines = lines
        self.pupils: list[CtfPupil] = []
        self.problems: list[Problem] = []
        self.seen: dict[str, int] = {}

    def read(self, text: str) -> tuple[CtfFile, list[Problem]]:
        _check_root(text)
        parser = XMLParser()
        try:
            parser.feed(text)
            root = parser.close()
        except ParseError as bad:
            line, column = bad.position
            raise FileRejected.one(
                "file",
                f"line {line}, column {column + 1}",
                f"{self.name} is not well-formed XML at line {line}, column {column + 1}: "
                f"{ErrorString(bad.code)} (damaged or cut short?)",
                line,
            ) from None
        _canonical_names(root)
        if root.find("ATFpupilData") is not None:
            raise FileRejected.one("CTfile/ATFpupilData", "ATFpupilData", _ATF_RULE)
        header = root.find("Header")
        if header is None:
            raise FileRejected.one("Header", None, "a CTF needs a Header")
        read_header = _header(header, self.accepted)
        # Start tags in document order, as the scan found them; when the fast scan missed some
        # (other spellings, namespace prefixes), the full scan finds them all (see _full_scan).
        found = {tag: list(root.iter(tag)) for tag in _LINED}
        if any(len(found[tag]) != len(self.lines[tag]) for tag in _LINED):
            self.lines = _full_scan(text)
        for tag in _LINED:
            for element, line in zip(found[tag], self.lines[tag], strict=False):
                element.set(_LINE, line)
        del found  # so cleared pupils' contacts and years can go too
        for pupil in root.iterfind("CTFpupilData/Pupil"):
            self._pupil(pupil)
            pupil.clear()  # read: let its subtree go
        return CtfFile(read_header, tuple(self.pupils)), self.problems

    def _pupil(self, element: Element) -> None:
        line = element.get(_LINE, 0)
        problems = self.problems
        upn = _upn(element, "UPN", "Pupil/UPN", line, problems, required=True)
        former = _upn(
            element, "BasicDetails/FormerUPN", "Pupil/BasicDetails/FormerUPN", line, problems
        )
        surname = _required(element, "Surname", "Pupil/Surname", line, problems)
        forename = _required(element, "Forename", "Pupil/Forename", line, problems)
        dob = _dob(element, line, problems)
        sex = _gender(element, line, problems)
        nc_year = _nc_year(element, line, problems)
        address = element.find("Address")
        contacts = tuple(_contact(c, problems) for c in _all(element, "Contacts/Contact"))
        years = tuple(
            y for y in (_year_data(e, problems) for e in _all(element, "Attendance/YearData")) if y
        )
        if not (upn and surname and forename and dob and sex):
            return  # the problems above say why the pupil is left out
        if upn in self.seen:
            problems.append(
                Problem(
                    line,
                    "Pupil/UPN",
                    upn,
                    f"the UPN appears twice in the file (first at line {self.seen[upn]}); "
                    "the second pupil is left out",
                )
            )
            return
        self.seen[upn] = line
        self.pupils.append(
            CtfPupil(
                line=line,
                upn=upn,
                former_upn=former,
                surname=surname,
                forename=forename,
                preferred_surname=_value(element, "BasicDetails/PreferredSurname"),
                preferred_forename=_value(element, "BasicDetails/PreferredForename"),
                date_of_birth=dob,
                sex=sex,
                nc_year=nc_year,
                fsm=any(
                    _value(i, "FSMendDate") is None for i in _all(element, "FSMhistory/FSMinstance")
                ),
                sen_support=_sen(element, "K"),
                ehc_plan=_sen(element, "E"),
                looked_after=_true(_value(element, "LookedAfter/InCare")),
                eal=_eal(element),
                address=_address(address) if address is not None else None,
                contacts=contacts,
                attendance=years,
            )
        )


_ATF_RULE = (
    "this is an admissions transfer file (ATF, ATFpupilData): it carries no attendance; "
    "send a Common Transfer File (root CTfile with CTFpupilData)"
)
_NAMES = """CTfile Header DocumentName CTFversion DateTime DocumentQualifier SupplierID SourceSchool
DestSchool LEA Estab URN SchoolName AcademicYear CTFpupilData ATFpupilData Pupil UPN Surname
Forename DOB Gender BasicDetails FormerUPN PreferredSurname PreferredForename NCyearActual Languages
Type TypeID Language LookedAfter InCare FSMhistory FSMinstance FSMstartDate FSMendDate SENhistory
SEN SENprovision StartDate EndDate Address BS7666Address SAON PAON Street Locality Town PostTown
PostCode AddressLines AddressAsPupil Contacts Contact Order Title Relationship Responsibility Phones
Phone PhoneNo Email EmailAddress Attendance YearData Year SessionsPossible SessionsAuthorised
SessionsAttended SessionsUnauthorised AttendSessions AttendanceStartDate AttendanceMarks"""
# The element names this reader looks up, as the writer spells them, by lower-case name.
_CANONICAL = {name.lower(): name for name in _NAMES.split()}


def _canonical_names(root: Element) -> None:
    """Rename elements to the canonical spelling (any case, namespace dropped) so lookups can
    use the C finders. Usually nothing needs renaming, and only the distinct tags are checked."""
    renames = {}
    for tag in set(map(attrgetter("tag"), root.iter())):
        local = tag.rpartition("}")[2]
        wanted = _CANONICAL.get(local.lower(), local)
        if wanted != tag:
            renames[tag] = wanted
    if renames:
        for element in root.iter():
            element.tag = renames.get(element.tag, element.tag)


# Whatever may come before the root element (DOCTYPEs are refused by the scan already).
_PROLOG = re.compile(r"(?:\ufeff|\s+|<\?.*?\?>|<!--.*?-->)*", re.S)
_ROOT = re.compile(r"<([^\s/>]+)")


def _check_root(text: str) -> None:
    """The root must be CTfile: checked before parsing, so nothing else is read at all."""
    found = _ROOT.match(text, _PROLOG.match(text).end())
    if found is None:
        return  # not an element: the parser says what is wrong
    tag = found.group(1).rpartition(":")[2]
    if tag.lower() != "ctfile":
        atf = tag.lower() in ("atfile", "atfpupildata")
        rule = _ATF_RULE if atf else "the root element must be CTfile"
        raise FileRejected.one("root", tag, rule)


@cache
def _steps(path: str) -> tuple[str, ...]:
    return tuple(path.split("/"))


def _find(element: Element | None, path: str) -> Element | None:
    """The first element at ``path`` (canonical names), one C-level find per step (a path with
    "/" would go through the slower pure-Python ElementPath)."""
    for step in _steps(path):
        if element is None:
            return None
        element = element.find(step)
    return element


def _all(element: Element, path: str) -> list[Element]:
    """Every element at ``path``: the last step may repeat."""
    head, _, last = path.rpartition("/")
    parent = _find(element, head) if head else element
    return [] if parent is None else parent.findall(last)


def _value(element: Element | None, path: str | None = None) -> str | None:
    """The stripped text at ``path``; None when missing or empty."""
    if element is None:
        text = None
    elif path is None:
        text = element.text
    elif "/" in path:
        found = _find(element, path)
        text = None if found is None else found.text
    else:
        text = element.findtext(path)  # one C call
    return (text.strip() or None) if text else None


def _true(text: str | None) -> bool:
    return text is not None and text.lower() in _TRUE


def _header(element: Element, accepted: frozenset[str]) -> CtfHeader:
    def need(path: str, field: str) -> str:
        value = _value(element, path)
        if value is None:
            raise FileRejected.one(field, None, f"the CTF header must give {field}")
        return value

    document = need("DocumentName", "Header/DocumentName")
    if document.lower() != DOCUMENT_NAME.lower():
        raise FileRejected.one(
            "Header/DocumentName", document, f"DocumentName must be '{DOCUMENT_NAME}'"
        )
    version = need("CTFversion", "Header/CTFversion")
    if _version_key(version) not in accepted:
        wanted = ", ".join(sorted(accepted))
        raise FileRejected.one(
            "Header/CTFversion",
            version,
            f"CTF version {version} is not accepted: this service reads versions {wanted} "
            "(the current version and the one before)",
        )
    stamp = _value(element, "DateTime")
    generated = None
    if stamp is not None:
        try:
            generated = datetime.fromisoformat(stamp)
        except ValueError:
            raise FileRejected.one(
                "Header/DateTime", stamp, "DateTime must be yyyy-MM-ddTHH:mm:ss"
            ) from None
    la = need("SourceSchool/LEA", "Header/SourceSchool/LEA")
    estab = need("SourceSchool/Estab", "Header/SourceSchool/Estab")
    if not (len(la) == 3 and la.isdigit()):
        raise FileRejected.one("Header/SourceSchool/LEA", la, "LEA must be a 3-digit LA number")
    if not (len(estab) == 4 and estab.isdigit()):
        raise FileRejected.one(
            "Header/SourceSchool/Estab", estab, "Estab must be a 4-digit establishment number"
        )
    year_text = need("SourceSchool/AcademicYear", "Header/SourceSchool/AcademicYear")
    year = _YEAR.fullmatch(year_text)
    if year is None:
        raise FileRejected.one(
            "Header/SourceSchool/AcademicYear",
            year_text,
            "AcademicYear must be the year the academic year starts, e.g. 2024",
        )
    return CtfHeader(
        version=version,
        document_name=document,
        generated_at=generated,
        document_qualifier=_value(element, "DocumentQualifier") or "",
        supplier=_value(element, "SupplierID") or "",
        academic_year=int(year.group(1)),
        source_la=la,
        source_estab=estab,
        source_urn=_value(element, "SourceSchool/URN"),
        source_name=_value(element, "SourceSchool/SchoolName") or "",
        dest_la=_value(element, "DestSchool/LEA"),
        dest_estab=_value(element, "DestSchool/Estab"),
    )


def _upn(
    element: Element,
    path: str,
    field: str,
    line: int,
    problems: list[Problem],
    *,
    required: bool = False,
) -> str | None:
    value = _value(element, path)
    if value is None:
        if required:
            problems.append(Problem(line, field, None, "every pupil needs a UPN"))
        return None
    upn = value.upper()
    why = upn_problem(upn)
    if why:
        problems.append(Problem(line, field, value, why))
        return None
    return upn


def _required(
    element: Element, path: str, field: str, line: int, problems: list[Problem]
) -> str | None:
    value = _value(element, path)
    if value is None:
        problems.append(Problem(line, field, None, f"every pupil needs a {field[6:]}"))
    return value


def _date(text: str) -> date | None:
    found = _DATE.fullmatch(text)
    try:
        return date.fromisoformat(found.group(1)) if found else None
    except ValueError:
        return None


def _dob(element: Element, line: int, problems: list[Problem]) -> date | None:
    text = _value(element, "DOB")
    day = _date(text) if text else None
    if day is None or day > date.today():
        rule = "a date of birth in yyyy-MM-dd form, not in the future"
        problems.append(Problem(line, "Pupil/DOB", text, rule))
        return None
    return day


def _gender(element: Element, line: int, problems: list[Problem]) -> str | None:
    text = _value(element, "Gender")
    if text is None or text.upper() not in ("M", "F"):
        problems.append(Problem(line, "Pupil/Gender", text, "Gender is M or F"))
        return None
    return text.upper()


def _nc_year(element: Element, line: int, problems: list[Problem]) -> int | None:
    text = _value(element, "BasicDetails/NCyearActual")
    if text is None or text.upper() == "X":  # X: not following the National Curriculum
        return None
    value = {"R": 0, "N1": -1, "N2": -2}.get(text.upper())
    if value is None and _DIGITS.fullmatch(text) and 1 <= int(text) <= 14:
        value = int(text)
    if value is None:
        problems.append(
            Problem(
                line,
                "Pupil/BasicDetails/NCyearActual",
                text,
                "NCyearActual is N1, N2, R, 1 to 14 or X",
            )
        )
    return value


def _sen(element: Element, provision: str) -> bool:
    return any(
        (_value(sen, "SENprovision") or "").upper() == provision and sen.find("EndDate") is None
        for sen in _all(element, "SENhistory/SEN")
    )


def _eal(element: Element) -> bool:
    languages = _find(element, "BasicDetails/Languages")
    if languages is None:
        return False
    return any(
        (_value(lang) or "ENG").upper() not in _ENGLISH_OR_UNKNOWN
        for lang in languages.iter("Language")
    )


def _texts(element: Element) -> dict[str, str]:
    """Each child's stripped text by tag (the first of a repeated tag), in one pass."""
    texts: dict[str, str] = {}
    for child in element:
        if child.tag not in texts:
            texts[child.tag] = (child.text or "").strip()
    return texts


def _address(element: Element) -> CtfAddress | None:
    """BS7666 lines (SAON, PAON, Street, Locality) or AddressLines, Town or PostTown, PostCode;
    the BS7666 elements are read inside BS7666Address or directly under Address."""
    outer = _texts(element)
    bs = element.find("BS7666Address")
    inner = outer if bs is None else _texts(bs) | {k: v for k, v in outer.items() if v}
    lines = [v for t in _ADDRESS_LINES if (v := inner.get(t))]
    if not lines:
        free = element.find("AddressLines")
        lines = [v for c in (() if free is None else free) if (v := _value(c))]
    town = inner.get("Town") or inner.get("PostTown") or ""
    postcode = inner.get("PostCode") or ""
    if not (lines or town or postcode):
        return None
    return CtfAddress(tuple(lines), town, postcode)


def _contact(element: Element, problems: list[Problem]) -> CtfContact:
    line = element.get(_LINE, 0)
    order_text = _value(element, "Order")
    order = int(order_text) if order_text and _DIGITS.fullmatch(order_text) else None
    if order_text and order is None:
        problems.append(
            Problem(line, "Pupil/Contacts/Contact/Order", order_text, "Order is a whole number")
        )
    address = element.find("Address")
    as_pupil = _true(_value(element, "AddressAsPupil")) or (
        address is not None and _true(_value(address, "AddressAsPupil"))
    )
    email = element.find("Email")
    return CtfContact(
        line=line,
        order=order,
        title=_value(element, "Title"),
        surname=_value(element, "Surname") or "",
        forename=_value(element, "Forename") or "",
        relationship=_value(element, "Relationship") or "",
        responsibility=_true(_value(element, "Responsibility")),
        address=_address(address) if address is not None else None,
        address_as_pupil=as_pupil,
        phones=tuple(v for p in _all(element, "Phones/Phone") if (v := _value(p, "PhoneNo"))),
        email=(_value(email, "EmailAddress") or _value(email)) if email is not None else None,
    )


def _year_data(element: Element, problems: list[Problem]) -> CtfYearData | None:
    line = element.get(_LINE, 0)
    bad = len(problems)
    year_text = _value(element, "Year")
    year = _YEAR.fullmatch(year_text or "")
    if year is None:
        problems.append(
            Problem(
                line,
                f"{YEAR_DATA}/Year",
                year_text,
                "Year is the year the academic year starts, e.g. 2024",
            )
        )
    totals: dict[str, int] = {}
    for key, name in _TOTALS:
        text = _value(element, name)
        if text is None or not _DIGITS.fullmatch(text):
            problems.append(
                Problem(
                    line, f"{YEAR_DATA}/{name}", text, f"{name} must be a whole number of sessions"
                )
            )
        else:
            totals[key] = int(text)
    if len(problems) > bad or year is None:
        return None
    added = totals["attended"] + totals["authorised"] + totals["unauthorised"]
    if added != totals["possible"]:
        problems.append(
            Problem(
                line,
                f"{YEAR_DATA}/SessionsPossible",
                f"possible {totals['possible']}, attended {totals['attended']} + authorised "
                f"{totals['authorised']} + unauthorised {totals['unauthorised']} = {added}",
                "attended + authorised + unauthorised must equal SessionsPossible",
            )
        )
    start_text = _value(element, "AttendSessions/AttendanceStartDate")
    start = _date(start_text) if start_text else None
    marks = _value(element, "AttendSessions/AttendanceMarks")
    start_field = f"{YEAR_DATA}/AttendSessions/AttendanceStartDate"
    if start_text and start is None:
        rule = "AttendanceStartDate is a date in yyyy-MM-dd form; the marks are left out"
        problems.append(Problem(line, start_field, start_text, rule))
        marks = None
    elif marks and start is None:
        rule = "AttendanceMarks needs an AttendanceStartDate; the marks are left out"
        problems.append(Problem(line, start_field, None, rule))
        marks = None
    if marks:
        _check_mark_text(marks, line, problems)
    return CtfYearData(
        line=line,
        academic_year=int(year.group(1)),
        la=_value(element, "LEA") or "",
        estab=_value(element, "Estab") or "",
        school_name=_value(element, "SchoolName") or "",
        possible=totals["possible"],
        authorised=totals["authorised"],
        attended=totals["attended"],
        unauthorised=totals["unauthorised"],
        start_date=start,
        marks=marks,
    )


def _check_mark_text(marks: str, line: int, problems: list[Problem]) -> None:
    """What the string holds, whatever the calendar: characters that are not marks, odd length."""
    bad = sorted(set(marks) - _MARK_CHARS) if _NOT_A_MARK.search(marks) else ()
    for char in bad:
        problems.append(
            Problem(
                line,
                MARKS_FIELD,
                char,
                f"{char!r} (first at character {marks.index(char) + 1}, {marks.count(char)} in "
                "all) is not an attendance mark; marks are the national codes with C1 a, C2 b, "
                "J1 j, Y1-Y7 1-7, # not in session and - no mark; it is read as no mark",
            )
        )
    if len(marks) % 2:
        problems.append(
            Problem(
                line,
                MARKS_FIELD,
                len(marks),
                "AttendanceMarks has two characters (AM, PM) per day, so an even length; "
                "the last character is ignored",
            )
        )


# --- writing ----------------------------------------------------------------------------------


def write_ctf(ctf: CtfFile) -> bytes:
    """The CTF as UTF-8 XML, one element per line, with the element names :func:`parse_ctf`
    reads. Text values are written stripped (the reader strips them)."""
    h = ctf.header
    out = ['<?xml version="1.0" encoding="UTF-8"?>', "<CTfile>", "  <Header>"]
    _el(out, 4, "DocumentName", h.document_name)
    _el(out, 4, "CTFversion", h.version)
    _el(out, 4, "DateTime", h.generated_at.isoformat() if h.generated_at else None)
    _el(out, 4, "DocumentQualifier", h.document_qualifier)
    _el(out, 4, "SupplierID", h.supplier)
    out.append("    <SourceSchool>")
    _el(out, 6, "LEA", h.source_la)
    _el(out, 6, "Estab", h.source_estab)
    _el(out, 6, "URN", h.source_urn)
    _el(out, 6, "SchoolName", h.source_name)
    _el(out, 6, "AcademicYear", str(h.academic_year))
    out.append("    </SourceSchool>")
    if h.dest_la or h.dest_estab:
        out.append("    <DestSchool>")
        _el(out, 6, "LEA", h.dest_la)
        _el(out, 6, "Estab", h.dest_estab)
        out.append("    </DestSchool>")
    out += ["  </Header>", "  <CTFpupilData>"]
    for pupil in ctf.pupils:
        _write_pupil(out, pupil)
    out += ["  </CTFpupilData>", "</CTfile>", ""]
    text = "\n".join(out)
    bad = _NOT_XML.search(text)
    if bad:
        raise ValueError(f"character {bad.group()!r} cannot be written in XML")
    return text.encode("utf-8")


def _el(out: list[str], indent: int, tag: str, value: str | None) -> None:
    if value:
        out.append(f"{' ' * indent}<{tag}>{escape(value.strip())}</{tag}>")


def _nc_text(year: int | None) -> str | None:
    if year is None:
        return None
    return {0: "R", -1: "N1", -2: "N2"}.get(year, str(year))


def _write_pupil(out: list[str], p: CtfPupil) -> None:
    out.append("    <Pupil>")
    _el(out, 6, "UPN", p.upn)
    _el(out, 6, "Surname", p.surname)
    _el(out, 6, "Forename", p.forename)
    _el(out, 6, "DOB", p.date_of_birth.isoformat())
    _el(out, 6, "Gender", p.sex)
    out.append("      <BasicDetails>")
    _el(out, 8, "FormerUPN", p.former_upn)
    _el(out, 8, "PreferredSurname", p.preferred_surname)
    _el(out, 8, "PreferredForename", p.preferred_forename)
    _el(out, 8, "NCyearActual", _nc_text(p.nc_year))
    out += [
        "        <Languages>",
        "          <Type>",
        "            <TypeID>F</TypeID>",
        f"            <Language>{'OTH' if p.eal else 'ENG'}</Language>",
        "          </Type>",
        "        </Languages>",
        "      </BasicDetails>",
    ]
    if p.looked_after:
        out.append("      <LookedAfter>\n        <InCare>true</InCare>\n      </LookedAfter>")
    if p.fsm:
        out.append(
            "      <FSMhistory>\n        <FSMinstance>\n          <UKcountry>ENG</UKcountry>\n"
            "        </FSMinstance>\n      </FSMhistory>"
        )
    if p.sen_support or p.ehc_plan:
        out.append("      <SENhistory>")
        for flag, code in ((p.sen_support, "K"), (p.ehc_plan, "E")):
            if flag:
                out.append(
                    f"        <SEN>\n          <SENprovision>{code}</SENprovision>\n        </SEN>"
                )
        out.append("      </SENhistory>")
    if p.address:
        _write_address(out, 6, p.address)
    if p.contacts:
        out.append("      <Contacts>")
        for c in p.contacts:
            _write_contact(out, c)
        out.append("      </Contacts>")
    if p.attendance:
        out.append("      <Attendance>")
        for y in p.attendance:
            _write_year(out, y)
        out.append("      </Attendance>")
    out.append("    </Pupil>")


def _write_address(out: list[str], indent: int, a: CtfAddress, as_pupil: bool = False) -> None:
    pad = " " * indent
    lines = [line for line in a.lines if line.strip()]
    if len(lines) > len(_ADDRESS_LINES):
        raise ValueError(f"a CTF address holds at most 4 lines (SAON, PAON, Street, Locality): {a}")
    # Fewer lines fill the last elements: 2 lines are PAON and Street, 3 add Locality.
    names = {1: ("Street",), 2: ("PAON", "Street"), 3: ("PAON", "Street", "Locality")}.get(
        len(lines), _ADDRESS_LINES
    )
    out.append(f"{pad}<Address>")
    if as_pupil:
        out.append(f"{pad}  <AddressAsPupil>true</AddressAsPupil>")
    out.append(f"{pad}  <BS7666Address>")
    for tag, line in zip(names, lines, strict=False):
        _el(out, indent + 4, tag, line)
    _el(out, indent + 4, "Town", a.town)
    out.append(f"{pad}  </BS7666Address>")
    _el(out, indent + 2, "PostCode", a.postcode)
    out.append(f"{pad}</Address>")


def _write_contact(out: list[str], c: CtfContact) -> None:
    out.append("        <Contact>")
    _el(out, 10, "Order", None if c.order is None else str(c.order))
    _el(out, 10, "Title", c.title)
    _el(out, 10, "Surname", c.surname)
    _el(out, 10, "Forename", c.forename)
    _el(out, 10, "Relationship", c.relationship)
    _el(out, 10, "Responsibility", "true" if c.responsibility else "false")
    if c.address:
        _write_address(out, 10, c.address, c.address_as_pupil)
    elif c.address_as_pupil:
        out.append(
            "          <Address>\n            <AddressAsPupil>true</AddressAsPupil>\n"
            "          </Address>"
        )
    if c.phones:
        out.append("          <Phones>")
        for phone in c.phones:
            out.append("            <Phone>")
            _el(out, 14, "PhoneNo", phone)
            out.append("            </Phone>")
        out.append("          </Phones>")
    if c.email:
        out.append("          <Email>")
        _el(out, 12, "EmailAddress", c.email)
        out.append("          </Email>")
    out.append("        </Contact>")


def _write_year(out: list[str], y: CtfYearData) -> None:
    out.append("        <YearData>")
    _el(out, 10, "Year", str(y.academic_year))
    _el(out, 10, "LEA", y.la)
    _el(out, 10, "Estab", y.estab)
    _el(out, 10, "SchoolName", y.school_name)
    for key, element in _TOTALS:
        out.append(f"          <{element}>{getattr(y, key)}</{element}>")
    if y.start_date or y.marks:
        out.append("          <AttendSessions>")
        _el(out, 12, "AttendanceStartDate", y.start_date.isoformat() if y.start_date else None)
        _el(out, 12, "AttendanceMarks", y.marks)
        out.append("          </AttendSessions>")
    out.append("        </YearData>")


# --- AttendanceMarks on a school's session index ----------------------------------------------

_EPOCH_MONDAY = date(2000, 1, 3)


def _weekday_number(day: date) -> int:
    """Weekdays from a fixed Monday to ``day`` (exclusive): a weekend day counts as the Monday
    after it."""
    weeks, rest = divmod((day - _EPOCH_MONDAY).days, 7)
    return 5 * weeks + min(rest, 5)


def _weekday_of(number: int) -> date:
    weeks, rest = divmod(number, 5)
    return _EPOCH_MONDAY + timedelta(days=7 * weeks + rest)


def _picker(slots: list[int]) -> Callable[[str], str]:
    """A C-speed "take these characters in this order" for one fixed list of positions."""
    if not slots:
        return lambda text: ""
    if len(slots) == 1:
        only = slots[0]
        return lambda text: text[only]
    take = itemgetter(*slots)
    return lambda text: "".join(take(text))


@dataclass(frozen=True)
class _Grid:
    """One way of laying a year's sessions out in AttendanceMarks: calendar days or weekdays.

    Characters are addressed by slot (2 per unit: AM, PM) from 1 August of the index's year; a
    string is padded to the whole year plus one sentinel ``-`` so the pickers never miss.
    """

    size: int  # slots in the year
    day_of: Callable[[int], date]  # the day of unit k (any k, also outside the year)
    unit_of: Callable[[date], int]  # the unit of a day (k, relative to 1 August)
    open: Callable[[str], str]  # each index position's character, in index order
    closed: Callable[[str], str]  # the characters on slots the school is closed
    closed_slots: tuple[int, ...]


@dataclass(frozen=True)
class _Layout:
    first: date
    calendar: _Grid
    weekdays: _Grid
    write: Callable[[str], str]  # a year's calendar-day text from ``marks.chars + "#"``
    first_new: int  # first position on or after 19 Aug 2024 (legacy codes refused from there)


_LAYOUTS: OrderedDict[int, tuple[SessionIndex, _Layout]] = OrderedDict()
_LAYOUT_CACHE_SIZE = 512  # a county's schools; entries hold the index, so ids stay unique


def _layout(index: SessionIndex) -> _Layout:
    """Per-index lookups, built once (keyed on the object: the digest costs a hash per call)."""
    hit = _LAYOUTS.get(id(index))
    if hit is not None and hit[0] is index:
        _LAYOUTS.move_to_end(id(index))
        return hit[1]
    layout = _build_layout(index)
    _LAYOUTS[id(index)] = (index, layout)
    if len(_LAYOUTS) > _LAYOUT_CACHE_SIZE:
        _LAYOUTS.popitem(last=False)
    return layout


def _build_layout(index: SessionIndex) -> _Layout:
    span = year_span(index.start_year)
    first = span.first
    days = (span.last - first).days + 1
    base = _weekday_number(first)
    halves = [int(s == PM) for _, s in index.sessions]
    cal_slots = [2 * (d - first).days + h for (d, _), h in zip(index.sessions, halves, strict=True)]
    wd_slots = [
        2 * (_weekday_number(d) - base) + h if d.weekday() < 5 else -1  # -1: the sentinel
        for (d, _), h in zip(index.sessions, halves, strict=True)
    ]

    def grid(
        size: int, slots: list[int], day_of: Callable[[int], date], unit_of: Callable[[date], int]
    ) -> _Grid:
        closed = tuple(sorted(set(range(size)) - set(slots)))
        return _Grid(size, day_of, unit_of, _picker(slots), _picker(list(closed)), closed)

    calendar = grid(
        2 * days,
        cal_slots,
        lambda k: first + timedelta(days=k),
        lambda d: (d - first).days,
    )
    weekdays = grid(
        2 * (_weekday_number(span.last + timedelta(days=1)) - base),
        wd_slots,
        lambda k: _weekday_of(base + k),
        lambda d: _weekday_number(d) - base,
    )
    at = [-1] * (2 * days)  # -1 picks the "#" appended to the marks
    for position, slot in enumerate(cal_slots):
        at[slot] = position
    first_new = next((i for i, (d, _) in enumerate(index.sessions) if d >= IN_FORCE_FROM), None)
    return _Layout(
        first, calendar, weekdays, _picker(at), len(index) if first_new is None else first_new
    )


def attendance_marks_text(
    index: SessionIndex,
    marks: MarkString,
    start: date | None = None,
    end: date | None = None,
) -> tuple[date, str]:
    """``(AttendanceStartDate, AttendanceMarks)`` for a register on a school's index.

    Two characters per calendar day (AM, PM) from ``start`` (default: the first session's date)
    to ``end`` (default: the date of the last marked session, so trailing unmarked sessions are
    cut off; no marks at all gives ``""``). Closed sessions are ``#``; an unmarked session before
    ``end`` is ``-``; each code is its stored character (C2 ``b``, Y1 ``1``...).
    """
    if len(marks) != len(index):
        raise ValueError(
            f"a register of {len(marks)} sessions does not fit an index of {len(index)}"
        )
    layout = _layout(index)
    if start is None:
        start = index.sessions[0][0] if index.sessions else layout.first
    if end is None:
        last = len(marks.chars.rstrip(NO_MARK)) - 1
        if last < 0:
            return start, ""
        end = index.sessions[last][0]
    if end < start:
        return start, ""
    year = layout.write(marks.chars + NOT_IN_SESSION)
    unit = layout.calendar.unit_of
    lo, hi = unit(start), unit(end) + 1
    days = layout.calendar.size // 2
    before = NOT_IN_SESSION * 2 * max(0, min(hi, 0) - lo)
    after = NOT_IN_SESSION * 2 * max(0, hi - max(lo, days))
    return start, before + year[2 * max(lo, 0) : 2 * min(max(hi, 0), days)] + after


@dataclass(frozen=True)
class _Reading:
    grid: _Grid
    padded: str  # the year's slots (+ sentinel), "-" where the string says nothing
    outside: list[tuple[int, str]]  # marks on slots outside the year: (slot, char)
    closed_marks: int  # characters other than # and - on closed or out-of-year slots


def _read(grid: _Grid, text: str, offset: int) -> _Reading:
    size = grid.size
    lo = min(len(text), max(0, -offset))  # characters before 1 August
    hi = max(lo, min(len(text), size - offset))  # characters up to 31 July
    if hi > lo:
        padded = NO_MARK * (offset + lo) + text[lo:hi] + NO_MARK * (size - offset - hi + 1)
    else:
        padded = NO_MARK * (size + 1)
    # Usually empty: a string that starts before 1 August or runs past 31 July.
    outside = [(offset + i, c) for i, c in enumerate(text[:lo]) if c not in "#-"]
    outside += [(offset + hi + i, c) for i, c in enumerate(text[hi:]) if c not in "#-"]
    closed = grid.closed(padded)
    bad = len(closed) - closed.count(NOT_IN_SESSION) - closed.count(NO_MARK) + len(outside)
    return _Reading(grid, padded, outside, bad)


def _era_rule(char: str, after: bool) -> str | None:
    """Why the code is refused before / from 19 Aug 2024 (None: it is fine)."""
    day = IN_FORCE_FROM if after else IN_FORCE_FROM - timedelta(days=1)
    try:
        classify(CHAR_TO_CODE[char], on=day)
    except InvalidInput as refused:
        return refused.problems[0].rule
    return None


# Each code classified once per side of 19 Aug 2024, here, not once per session: only legacy
# codes (H, J, F, Y) are refused, and only from that date.
_REFUSED = {
    after: {char: rule for char in CHAR_TO_CODE if (rule := _era_rule(char, after))}
    for after in (False, True)
}


def _weight(code: str) -> int:
    """How a code counts: 0 not a possible session, 1 attended, 2 authorised, 3 unauthorised."""
    entry = CODES.get(code) or LEGACY[code]
    if not entry.possible_session:
        return 0
    if entry.stat_class in ATTENDANCE_CLASSES:
        return 1
    return 2 if entry.stat_class is StatClass.AUTHORISED_ABSENCE else 3


_WEIGHT = {char: _weight(code) for char, code in CHAR_TO_CODE.items()}


def lay_attendance_marks(
    year: CtfYearData, index: SessionIndex
) -> tuple[MarkString, list[Problem]]:
    """The file's AttendanceMarks placed on the school's session index, and what did not fit.

    Problems (all on the YearData's line): a mark on a session the school is not open for (the
    calendar's reason, e.g. weekend or INSET day); a legacy code (H, J, F, Y) on a session from 19
    Aug 2024; each Sessions* total the laid marks disagree with ("file says X, marks give Y").
    ``#`` on an open session is the 2024 code ``#`` (a planned closure the school recorded).
    Characters that are not marks are read as no mark here: :func:`parse_ctf` reports them.
    Cost is linear in the string, with per-index lookups built once.
    """
    problems: list[Problem] = []
    text, start = year.marks, year.start_date
    if not text or start is None:
        return MarkString.empty(len(index)), problems
    text = text[: len(text) // 2 * 2]
    layout = _layout(index)
    reading = _read(layout.calendar, text, 2 * layout.calendar.unit_of(start))
    out = reading.grid.open(reading.padded)
    if reading.closed_marks:  # perhaps a weekday-only string: the reading that fits better
        weekday = _read(layout.weekdays, text, 2 * layout.weekdays.unit_of(start))
        weekday_out = weekday.grid.open(weekday.padded)
        if _misfit(year, weekday, weekday_out) < _misfit(year, reading, out):
            reading, out = weekday, weekday_out
    if reading.closed_marks:
        problems += _closed_day_problems(year, index, reading)
    chars = set(out)
    for char in chars - _MARK_CHARS:
        out = out.replace(char, NO_MARK)
    split = layout.first_new
    for lo, hi, after in ((0, split, False), (split, len(out), True)):
        for char in _REFUSED[after].keys() & chars:
            at = out.find(char, lo, hi)
            if at >= 0:
                day, session = index.sessions[at]
                n = out.count(char, lo, hi)
                value = f"{CHAR_TO_CODE[char]} on {day} {session}" + (
                    f" and {n - 1} more sessions" if n > 1 else ""
                )
                rule = f"{_REFUSED[after][char]}; left unmarked"
                problems.append(Problem(year.line, MARKS_FIELD, value, rule))
                out = out[:lo] + out[lo:hi].replace(char, NO_MARK) + out[hi:]
    problems += _total_problems(year, out)
    return MarkString(out), problems


def _misfit(year: CtfYearData, reading: _Reading, out: str) -> tuple[int, int]:
    """How badly a reading fits: totals it contradicts first (the file's Sessions* figures are
    the authority), then marks on closed sessions plus ``#`` on open ones."""
    return (
        len(_total_problems(year, out)),
        reading.closed_marks + out.count(NOT_IN_SESSION),
    )


def _closed_day_problems(
    year: CtfYearData, index: SessionIndex, reading: _Reading
) -> list[Problem]:
    grid, padded = reading.grid, reading.padded
    # Characters that are not marks are parse_ctf's to report, not a calendar problem.
    found = [(s, padded[s]) for s in grid.closed_slots if padded[s] in _CODE_CHARS]
    found += [(s, c) for s, c in reading.outside if c in _CODE_CHARS]
    problems = []
    for slot, char in sorted(found)[:_MAX_LAY_PROBLEMS]:
        day = grid.day_of(slot // 2)
        session = PM if slot % 2 else AM
        try:
            index.position(day, session)
            rule = "the school is not open for it"  # pragma: no cover - closed by construction
        except InvalidInput as closed:
            rule = closed.problems[0].rule
        problems.append(
            Problem(
                year.line,
                MARKS_FIELD,
                f"{CHAR_TO_CODE.get(char, char)} on {day} {session}",
                f"{rule}: a mark cannot be recorded on it",
            )
        )
    if len(found) > _MAX_LAY_PROBLEMS:
        problems.append(
            Problem(
                year.line,
                MARKS_FIELD,
                len(found),
                f"and {len(found) - _MAX_LAY_PROBLEMS} more marks on sessions the school is not "
                "open for (the marks may be laid out for another calendar)",
            )
        )
    return problems


def _total_problems(year: CtfYearData, out: str) -> list[Problem]:
    given = [0, 0, 0, 0]  # not possible, attended, authorised, unauthorised
    for char in set(out):
        weight = _WEIGHT.get(char)
        if weight is not None:
            given[weight] += out.count(char)
    counted = {
        "possible": given[1] + given[2] + given[3],
        "attended": given[1],
        "authorised": given[2],
        "unauthorised": given[3],
    }
    return [
        Problem(
            year.line,
            f"{YEAR_DATA}/{element}",
            f"file says {getattr(year, key)}, marks give {counted[key]}",
            f"{element} does not agree with the AttendanceMarks",
        )
        for key, element in _TOTALS
        if getattr(year, key) != counted[key]
    ]
