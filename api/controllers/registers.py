"""School register reports and the certificates: thin handlers over
``casework.registers.reports`` and ``workflows.certificates``.

Query parameters are read here rather than by the framework, so a bad one is the usual RFC 9457
problem (422) naming the field, the value given and the rule, like any other broken rule.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated

import msgspec
from litestar import Controller, Request, get
from litestar.params import FromPath, QueryParameter

from api.deps import unit_of_work
from casework.analytics.totals import Totals
from casework.errors import InvalidInput
from casework.registers import reports
from casework.registers.store import Amendment
from workflows import certificates

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

DateParam = Annotated[str | None, QueryParameter(max_length=40, description="A date, YYYY-MM-DD")]


def read_date(field: str, value: str | None) -> date | None:
    """``YYYY-MM-DD`` as a date; None when not given; InvalidInput naming the field otherwise."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        if not _DATE.match(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput.one(field, value, "is a calendar date written YYYY-MM-DD") from None


def read_whole(field: str, value: str | None, default: int, *, least: int) -> int:
    if value is None or not value.strip():
        return default
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 6 or int(text) < least:
        raise InvalidInput.one(field, value, f"is a whole number of at least {least}")
    return int(text)


def read_choice(field: str, value: str | None, default: str, choices: tuple[str, ...]) -> str:
    if value is None or not value.strip():
        return default
    text = value.strip().lower()
    if text not in choices:
        raise InvalidInput.one(field, value, "is one of " + ", ".join(f'"{c}"' for c in choices))
    return text


def read_id(field: str, value: str | None) -> int | None:
    if value is None or not value.strip():
        return None
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 10 or not 1 <= int(text) <= 2**31 - 1:
        raise InvalidInput.one(field, value, "is a record number (a whole number from 1)")
    return int(text)


# --- response shapes --------------------------------------------------------------------------


class TotalsOut(msgspec.Struct):
    possible: int
    attended: int
    present: int
    approved_activity: int
    authorised: int
    unauthorised: int
    absent: int
    not_possible: int
    by_code: dict[str, int]
    attendance_percent: float | None
    absence_percent: float | None
    authorised_percent: float | None
    unauthorised_percent: float | None


def totals_out(t: Totals) -> TotalsOut:
    return TotalsOut(
        t.possible,
        t.attended,
        t.present,
        t.approved_activity,
        t.authorised,
        t.unauthorised,
        t.absent,
        t.not_possible,
        dict(t.by_code),
        t.attendance_percent,
        t.absence_percent,
        t.authorised_percent,
        t.unauthorised_percent,
    )


class SchoolRefOut(msgspec.Struct):
    id: int
    name: str
    urn: str


class PupilRefOut(msgspec.Struct):
    id: int
    upn: str
    name: str
    legal_name: str
    nc_year: int


def _school(s: reports.SchoolRef) -> SchoolRefOut:
    return SchoolRefOut(s.id, s.name, s.urn)


def _pupil(p: reports.PupilRef) -> PupilRefOut:
    return PupilRefOut(p.id, p.upn, p.name, p.legal_name, p.nc_year)


class ContactPhoneOut(msgspec.Struct):
    priority: int
    name: str
    relationship: str
    parental_responsibility: bool
    phone: str | None


class AbsenteeOut(msgspec.Struct):
    pupil: PupilRefOut
    sessions: list[str]
    contacts: list[ContactPhoneOut]


class AbsenteesOut(msgspec.Struct):
    school: SchoolRefOut
    date: date
    open_sessions: list[str]
    closed_because: str
    count: int
    rows: list[AbsenteeOut]


class PersistentRowOut(msgspec.Struct):
    pupil: PupilRefOut
    first_mark: date
    possible: int
    absent: int
    authorised: int
    unauthorised: int
    attendance_percent: float | None
    absence_percent: float | None
    severe: bool


class PersistentOut(msgspec.Struct):
    school: SchoolRefOut
    start: date
    end: date
    pupils_counted: int
    persistent: int
    severe: int
    rows: list[PersistentRowOut]


class PupilCodeOut(msgspec.Struct):
    pupil_id: int
    code: str


class SharedSessionOut(msgspec.Struct):
    date: date
    session: str
    codes: list[PupilCodeOut]


class PairOut(msgspec.Struct):
    first: PupilRefOut
    second: PupilRefOut
    shared: int
    sessions: list[SharedSessionOut]


class GroupOut(msgspec.Struct):
    members: list[PupilRefOut]
    pairs: list[PairOut]
    sessions: list[SharedSessionOut]


class AbsenceMapOut(msgspec.Struct):
    school: SchoolRefOut
    start: date
    end: date
    absence: str
    min_shared: int
    sessions_in_range: int
    pupils_absent: int
    pairs: list[PairOut]
    groups: list[GroupOut]


def _shared(s: reports.SharedSession) -> SharedSessionOut:
    return SharedSessionOut(s.day, s.session, [PupilCodeOut(p, c) for p, c in s.codes])


def _pair(p: reports.AbsencePair) -> PairOut:
    return PairOut(_pupil(p.first), _pupil(p.second), p.shared, [_shared(s) for s in p.sessions])


class CertificatePupilOut(msgspec.Struct):
    id: int
    upn: str
    legal_name: str
    preferred_name: str
    date_of_birth: date
    nc_year: int


class CertificateSchoolOut(msgspec.Struct):
    id: int
    name: str
    urn: str
    la_number: str
    la_name: str


class AdmissionOut(msgspec.Struct):
    starting_day: date
    end_date: date | None
    registration: str


class RegisterEntryOut(msgspec.Struct):
    date: date
    session: str
    code: str
    meaning: str
    stat_class: str


class AmendmentOut(msgspec.Struct):
    date: date
    session: str
    original: str
    new: str
    reason: str
    amended_at: datetime
    by_name: str
    by_position: str
    source: str


class CodeKeyOut(msgspec.Struct):
    code: str
    meaning: str
    sessions: int


class AttendanceCertificateOut(msgspec.Struct):
    pupil: CertificatePupilOut
    school: CertificateSchoolOut
    admissions: list[AdmissionOut]
    start: date
    end: date
    extract: list[RegisterEntryOut]
    totals: TotalsOut
    unauthorised: list[RegisterEntryOut]
    amendments: list[AmendmentOut]
    key: list[CodeKeyOut]
    unmarked: int
    issued_by_name: str
    issued_by_position: str
    issued_at: datetime
    statement: str


class RegistrationEntryOut(msgspec.Struct):
    school: CertificateSchoolOut
    admission: AdmissionOut
    on_roll: bool
    period_start: date | None
    period_end: date | None
    totals: TotalsOut | None


class RegistrationCertificateOut(msgspec.Struct):
    pupil: CertificatePupilOut
    on: date
    academic_year: str
    entries: list[RegistrationEntryOut]
    issued_by_name: str
    issued_by_position: str
    issued_at: datetime


def _cert_pupil(p: certificates.CertificatePupil) -> CertificatePupilOut:
    return CertificatePupilOut(
        p.id, p.upn, p.legal_name, p.preferred_name, p.date_of_birth, p.nc_year
    )


def _cert_school(s: certificates.CertificateSchool) -> CertificateSchoolOut:
    return CertificateSchoolOut(s.id, s.name, s.urn, s.la_number, s.la_name)


def _admission(a: certificates.Admission) -> AdmissionOut:
    return AdmissionOut(a.starting_day, a.end_date, a.registration)


def _entry(e: certificates.RegisterEntry) -> RegisterEntryOut:
    return RegisterEntryOut(e.day, e.session, e.code, e.meaning, e.stat_class.value)


def _amendment(a: Amendment) -> AmendmentOut:
    return AmendmentOut(
        a.day,
        a.session,
        a.original,
        a.new,
        a.reason,
        a.amended_at,
        a.by_name,
        a.by_position,
        a.source,
    )


def attendance_certificate_out(c: certificates.AttendanceCertificate) -> AttendanceCertificateOut:
    return AttendanceCertificateOut(
        pupil=_cert_pupil(c.pupil),
        school=_cert_school(c.school),
        admissions=[_admission(a) for a in c.admissions],
        start=c.start,
        end=c.end,
        extract=[_entry(e) for e in c.extract],
        totals=totals_out(c.totals),
        unauthorised=[_entry(e) for e in c.unauthorised],
        amendments=[_amendment(a) for a in c.amendments],
        key=[CodeKeyOut(k.code, k.meaning, k.sessions) for k in c.key],
        unmarked=c.unmarked,
        issued_by_name=c.issued_by_name,
        issued_by_position=c.issued_by_position,
        issued_at=c.issued_at,
        statement=c.statement,
    )


# --- handlers ---------------------------------------------------------------------------------


class RegisterReportController(Controller):
    path = "/schools/{school_id:int}/registers"
    tags = ["registers"]

    @get("/absentees", sync_to_thread=True)
    def absentees(
        self,
        request: Request,
        school_id: FromPath[int],
        day: Annotated[
            str | None, QueryParameter(name="date", max_length=40, description="YYYY-MM-DD")
        ] = None,
    ) -> AbsenteesOut:
        """The first-day contact list: pupils marked N (no reason yet) on a day (today by
        default), with their parents' and carers' phone numbers in contact order."""
        on = read_date("date", day)
        with unit_of_work(request) as ctx:
            found = reports.absentees(ctx, school_id, on)
            return AbsenteesOut(
                _school(found.school),
                found.day,
                list(found.open_sessions),
                found.closed_because,
                len(found.rows),
                [
                    AbsenteeOut(
                        _pupil(r.pupil),
                        list(r.sessions),
                        [
                            ContactPhoneOut(
                                c.priority,
                                c.name,
                                c.relationship,
                                c.parental_responsibility,
                                c.phone,
                            )
                            for c in r.contacts
                        ],
                    )
                    for r in found.rows
                ],
            )

    @get("/persistent-absentees", sync_to_thread=True)
    def persistent(
        self,
        request: Request,
        school_id: FromPath[int],
        start: DateParam = None,
        end: DateParam = None,
    ) -> PersistentOut:
        """Pupils with absence of at least 10 % of their possible sessions (severe at 50 %),
        the academic year to date by default, each counted from their admission."""
        first, last = read_date("start", start), read_date("end", end)
        with unit_of_work(request) as ctx:
            found = reports.persistent_absentees(ctx, school_id, first, last)
            return PersistentOut(
                _school(found.school),
                found.start,
                found.end,
                found.pupils_counted,
                len(found.rows),
                found.severe,
                [
                    PersistentRowOut(
                        _pupil(r.pupil),
                        r.first_mark,
                        r.totals.possible,
                        r.totals.absent,
                        r.totals.authorised,
                        r.totals.unauthorised,
                        r.totals.attendance_percent,
                        r.totals.absence_percent,
                        r.severe,
                    )
                    for r in found.rows
                ],
            )

    @get("/absence-map", sync_to_thread=True)
    def absence_map(
        self,
        request: Request,
        school_id: FromPath[int],
        start: DateParam = None,
        end: DateParam = None,
        min_shared: Annotated[str | None, QueryParameter(max_length=40)] = None,
        absence: Annotated[
            str | None, QueryParameter(max_length=40, description='"unauthorised" or "all"')
        ] = None,
    ) -> AbsenceMapOut:
        """Pupils absent together: pairs sharing at least ``min_shared`` (3) absent sessions and
        the groups they join, this term to date by default; unauthorised absence unless
        ``absence=all``."""
        first, last = read_date("start", start), read_date("end", end)
        shared = read_whole("min_shared", min_shared, reports.DEFAULT_MIN_SHARED, least=2)
        kind = read_choice("absence", absence, "unauthorised", reports.ABSENCE_KINDS)
        with unit_of_work(request) as ctx:
            found = reports.absence_map(
                ctx, school_id, first, last, min_shared=shared, absence=kind
            )
            return AbsenceMapOut(
                _school(found.school),
                found.start,
                found.end,
                found.absence,
                found.min_shared,
                found.sessions_in_range,
                found.pupils_absent,
                [_pair(p) for p in found.pairs],
                [
                    GroupOut(
                        [_pupil(m) for m in g.members],
                        [_pair(p) for p in g.pairs],
                        [_shared(s) for s in g.sessions],
                    )
                    for g in found.groups
                ],
            )


class CertificateController(Controller):
    path = "/pupils/{pupil_id:int}"
    tags = ["registers"]

    @get("/registration-certificate", sync_to_thread=True)
    def registration(
        self, request: Request, pupil_id: FromPath[int], on: DateParam = None
    ) -> RegistrationCertificateOut:
        """The pupil's admission register entries at schools you may see, each with the
        attendance totals for the academic year to date (from admission when later)."""
        day = read_date("on", on)
        with unit_of_work(request) as ctx:
            found = certificates.registration_certificate(ctx, pupil_id, day)
            return RegistrationCertificateOut(
                _cert_pupil(found.pupil),
                found.on,
                found.academic_year,
                [
                    RegistrationEntryOut(
                        _cert_school(e.school),
                        _admission(e.admission),
                        e.on_roll,
                        e.period_start,
                        e.period_end,
                        totals_out(e.totals) if e.totals else None,
                    )
                    for e in found.entries
                ],
                found.issued_by_name,
                found.issued_by_position,
                found.issued_at,
            )

    @get("/attendance-certificate", sync_to_thread=True)
    def attendance(
        self,
        request: Request,
        pupil_id: FromPath[int],
        school_id: Annotated[str | None, QueryParameter(max_length=40)] = None,
        start: DateParam = None,
        end: DateParam = None,
    ) -> AttendanceCertificateOut:
        """The attendance certificate: the register extract, totals, unauthorised absences and
        amendments for the pupil at a school over a period (the academic year to date)."""
        school = read_id("school_id", school_id)
        first, last = read_date("start", start), read_date("end", end)
        with unit_of_work(request) as ctx:
            found = certificates.attendance_certificate(ctx, pupil_id, school, first, last)
            return attendance_certificate_out(found)
