"""What register files say, before the database sees them (pure data; no parsing here).

Parsers (``ctf``, ``csv_marks``, the JSON API) turn a file into these records plus a list of
:class:`Problem`; the import service (``casework.registers.importing``) checks them against the
database (pupils, enrolments, calendars) and records them all-or-nothing. The synthetic data
generator writes files from the same records, so a round trip is generate → write → parse → import.

A :class:`Problem` names where (line), what (field), the value given and the rule broken, so a
school can mend its export without guessing. Values are never personal data beyond what the
school itself sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from casework.errors import CaseworkError, FieldProblem


@dataclass(frozen=True)
class Problem:
    """One broken rule in an import: where, which field, the value given, the rule."""

    line: int | None  # 1-based line of the file (XML element, CSV row); item number for JSON
    field: str
    value: Any
    rule: str

    def as_field_problem(self) -> FieldProblem:
        where = f"line {self.line}: " if self.line is not None else ""
        return FieldProblem(self.field, self.value, where + self.rule)

    def as_dict(self) -> dict[str, Any]:
        value = self.value if isinstance(self.value, (str, int, float, bool)) else str(self.value)
        return {"line": self.line, "field": self.field, "value": value, "rule": self.rule}


class FileRejected(CaseworkError):
    """A file that cannot be read at all (hostile, malformed, wrong version, too big, wrong
    encoding). Nothing was written."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(f"{p.field}: {p.rule}" for p in problems))

    @classmethod
    def one(cls, field: str, value: Any, rule: str, line: int | None = None) -> FileRejected:
        return cls([Problem(line, field, value, rule)])


# --- marks one by one (CSV rows, JSON API items) ----------------------------------------------


@dataclass(frozen=True)
class MarkRow:
    """One session's mark as a file gives it, already parsed to types."""

    line: int
    upn: str
    day: date
    session: str  # "AM" or "PM"
    code: str  # as given (upper-cased, stripped); checked by the importer


# --- Common Transfer File ---------------------------------------------------------------------


@dataclass(frozen=True)
class CtfHeader:
    version: str  # "24.0"
    document_name: str
    generated_at: datetime | None
    document_qualifier: str  # "full" or "partial"
    supplier: str
    academic_year: int  # AcademicYear: the year the academic year starts (rolls over 1 Aug)
    source_la: str  # 3-digit LA number
    source_estab: str  # 4-digit establishment number
    source_urn: str | None
    source_name: str
    dest_la: str | None
    dest_estab: str | None


@dataclass(frozen=True)
class CtfAddress:
    lines: tuple[str, ...]  # house/street/locality lines in order
    town: str
    postcode: str


@dataclass(frozen=True)
class CtfContact:
    line: int
    order: int | None
    title: str | None
    surname: str
    forename: str
    relationship: str
    responsibility: bool
    address: CtfAddress | None  # None with address_as_pupil=True: lives with the pupil
    address_as_pupil: bool
    phones: tuple[str, ...] = ()
    email: str | None = None


@dataclass(frozen=True)
class CtfYearData:
    """``Attendance/YearData``: one school's sessions for one academic year."""

    line: int
    academic_year: int  # the year it starts in: 2024 = 2024/25
    la: str
    estab: str
    school_name: str
    possible: int
    authorised: int
    attended: int
    unauthorised: int
    start_date: date | None  # AttendSessions/AttendanceStartDate
    marks: str | None  # AttendSessions/AttendanceMarks, as in the file


@dataclass(frozen=True)
class CtfPupil:
    line: int
    upn: str
    former_upn: str | None
    surname: str
    forename: str
    preferred_surname: str | None
    preferred_forename: str | None
    date_of_birth: date
    sex: str  # "M" or "F"
    nc_year: int | None  # NCyearActual: R = 0, 1..14
    fsm: bool  # an FSM instance with no end date
    sen_support: bool  # SENprovision K
    ehc_plan: bool  # SENprovision E
    looked_after: bool  # LookedAfter/InCare
    eal: bool  # first language other than English
    address: CtfAddress | None = None
    contacts: tuple[CtfContact, ...] = ()
    attendance: tuple[CtfYearData, ...] = ()


@dataclass(frozen=True)
class CtfFile:
    header: CtfHeader
    pupils: tuple[CtfPupil, ...] = field(default_factory=tuple)
