"""Certificates from the registers: the registration certificate and the attendance certificate.

- :func:`registration_certificate`: a pupil's admission register entries at the schools the user
  may see (school, starting day, end of enrolment, main or dual registration) and, for each, the
  attendance totals for the academic year to date, counted from the starting day when the pupil
  was admitted during the year (RULES.md §1.4, §3.1).
- :func:`attendance_certificate`: for one pupil, school and period, the register extract (every
  marked session with its code and meaning), the totals, the unauthorised absences (the only
  absences that can be used in evidence in some LAs, RULES.md §4.6), every amendment to a session
  in the period with the original entry, reason, who (name and position) and when (RULES.md
  §3.1), a week-by-week grid for printing, and who issued it and when. The court pack reuses
  :class:`AttendanceCertificate` as it is.

Only a user who may see the pupil gets either certificate, and only for schools they may see:
anything else is :class:`~casework.errors.NotFound`. Nothing is written and nothing is logged.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from casework import queries
from casework.analytics.totals import Totals, totals
from casework.calendars import OutsideCalendar
from casework.calendars.model import academic_year_of, year_label
from casework.errors import InvalidInput
from casework.models import Enrolment, LocalAuthority, Pupil, School
from casework.registers.codes import CODES, LEGACY, StatClass, classify
from casework.registers.reports import check_range, year_start
from casework.registers.store import Amendment, amendments_of, register_extract
from workflows.context import Context

STATEMENT = "Certified a true extract of the attendance register"


@dataclass(frozen=True)
class CertificatePupil:
    id: int
    upn: str
    legal_name: str
    preferred_name: str
    date_of_birth: date
    nc_year: int

    @classmethod
    def of(cls, pupil: Pupil) -> CertificatePupil:
        return cls(
            pupil.id,
            pupil.upn,
            f"{pupil.legal_forename} {pupil.legal_surname}",
            pupil.display_name,
            pupil.date_of_birth,
            pupil.nc_year,
        )


@dataclass(frozen=True)
class CertificateSchool:
    id: int
    name: str
    urn: str
    la_number: str
    la_name: str


@dataclass(frozen=True)
class Admission:
    """One admission register entry: the starting day, when it ended, main or dual."""

    starting_day: date
    end_date: date | None
    registration: str


@dataclass(frozen=True)
class RegisterEntry:
    day: date
    session: str  # "AM" or "PM"
    code: str
    meaning: str
    stat_class: StatClass


@dataclass(frozen=True)
class CodeKey:
    code: str
    meaning: str
    sessions: int  # how many sessions in the period carry it


@dataclass(frozen=True)
class GridCell:
    session: str
    open: bool  # the school was open for the session
    in_period: bool
    code: str | None  # None: no mark (or closed, or outside the period)


@dataclass(frozen=True)
class GridDay:
    day: date
    am: GridCell
    pm: GridCell
    closed_because: str  # why sessions are missing ("October half term"); "" when open


@dataclass(frozen=True)
class GridWeek:
    monday: date
    days: tuple[GridDay, ...]  # Monday to Friday


@dataclass(frozen=True)
class AttendanceCertificate:
    pupil: CertificatePupil
    school: CertificateSchool
    admissions: tuple[Admission, ...]
    start: date
    end: date
    extract: tuple[RegisterEntry, ...]
    totals: Totals
    unauthorised: tuple[RegisterEntry, ...]
    amendments: tuple[Amendment, ...]
    key: tuple[CodeKey, ...]
    weeks: tuple[GridWeek, ...]
    unmarked: int  # open sessions in the period, on roll, with no mark recorded
    issued_by_name: str
    issued_by_position: str
    issued_at: datetime
    statement: str = STATEMENT


@dataclass(frozen=True)
class RegistrationEntry:
    school: CertificateSchool
    admission: Admission
    on_roll: bool  # on the admission register on the certificate's date
    period_start: date | None  # the academic year to date this entry counts over
    period_end: date | None
    totals: Totals | None  # None: not on roll in the academic year to date


@dataclass(frozen=True)
class RegistrationCertificate:
    pupil: CertificatePupil
    on: date
    academic_year: str
    entries: tuple[RegistrationEntry, ...]
    issued_by_name: str
    issued_by_position: str
    issued_at: datetime


# --- helpers ----------------------------------------------------------------------------------


def _school_facts(ctx: Context, school: School) -> CertificateSchool:
    la = ctx.session.get(LocalAuthority, school.la_id)
    return CertificateSchool(
        school.id, school.name, school.urn, la.la_number if la else "", la.name if la else ""
    )


def _admission(enrolment: Enrolment) -> Admission:
    return Admission(enrolment.start_date, enrolment.end_date, enrolment.registration)


def _entry(day: date, session: str, code: str) -> RegisterEntry:
    found = classify(code, on=day)
    return RegisterEntry(day, session, code, found.meaning, found.stat_class)


_CODE_ORDER = {code: i for i, code in enumerate([*CODES, *LEGACY])}


def _key(extract: list[RegisterEntry]) -> tuple[CodeKey, ...]:
    used = Counter(e.code for e in extract)
    meanings = {e.code: e.meaning for e in extract}
    return tuple(
        CodeKey(code, meanings[code], used[code])
        for code in sorted(used, key=lambda c: (_CODE_ORDER.get(c, len(_CODE_ORDER)), c))
    )


def _on_roll(admissions: tuple[Admission, ...], day: date) -> bool:
    return any(
        a.starting_day <= day and (a.end_date is None or day <= a.end_date) for a in admissions
    )


def _grid(
    ctx: Context,
    school_id: int,
    start: date,
    end: date,
    extract: list[RegisterEntry],
    admissions: tuple[Admission, ...],
) -> tuple[tuple[GridWeek, ...], int]:
    """Monday-to-Friday weeks covering the period, and how many open sessions on roll in the
    period have no mark."""
    calendar = ctx.calendar_for(school_id)
    codes = {(e.day, e.session): e.code for e in extract}
    weeks = []
    unmarked = 0
    monday = start - timedelta(days=start.weekday())
    while monday <= end:
        days = []
        for offset in range(5):
            day = monday + timedelta(days=offset)
            try:
                info = calendar.info(day)
            except OutsideCalendar as outside:
                raise InvalidInput.one("start", start.isoformat(), str(outside)) from None
            open_now = {which.value.upper() for which in info.sessions}
            in_period = start <= day <= end
            cells = []
            for session in ("AM", "PM"):
                code = codes.get((day, session)) if in_period else None
                is_open = session in open_now
                if is_open and in_period and code is None and _on_roll(admissions, day):
                    unmarked += 1
                cells.append(GridCell(session, is_open, in_period, code))
            days.append(GridDay(day, cells[0], cells[1], info.why))
        weeks.append(GridWeek(monday, tuple(days)))
        monday += timedelta(days=7)
    return tuple(weeks), unmarked


def _enrolments_at(pupil: Pupil, school_id: int) -> list[Enrolment]:
    return sorted(
        (e for e in pupil.enrolments if e.school_id == school_id), key=lambda e: e.start_date
    )


# --- the attendance certificate ---------------------------------------------------------------


def attendance_certificate(
    ctx: Context,
    pupil_id: int,
    school_id: int | None = None,
    start: date | None = None,
    end: date | None = None,
) -> AttendanceCertificate:
    """The attendance certificate for the pupil at the school from ``start`` to ``end``.

    Defaults: the school is the pupil's latest admission at a school the user may see; the
    period is the academic year to date (``end`` today), starting at the pupil's starting day
    when that is later. The period is at most a year. Raises NotFound when the user may not see
    the pupil or the school, and InvalidInput (``school_id``) when the pupil was never on that
    school's admission register.
    """
    pupil = queries.pupil(ctx.session, ctx.scope, pupil_id)
    if school_id is None:
        visible = {s.id for s in queries.schools(ctx.session, ctx.scope)}
        mine = sorted(
            (e for e in pupil.enrolments if e.school_id in visible),
            key=lambda e: (e.start_date, e.registration == "main"),
        )
        if not mine:
            raise InvalidInput.one(
                "school_id", None, "the pupil has no admission at a school you work with"
            )
        school_id = mine[-1].school_id
    school = queries.school(ctx.session, ctx.scope, school_id)
    enrolments = _enrolments_at(pupil, school.id)
    if not enrolments:
        raise InvalidInput.one(
            "school_id", school_id, "the pupil has never been on this school's admission register"
        )
    admissions = tuple(_admission(e) for e in enrolments)
    end = end or ctx.today()
    if start is None:
        start = year_start(ctx.calendar_for(school.id), end, "end")
        admitted = [a.starting_day for a in admissions if a.starting_day <= end]
        if admitted and max(admitted) > start:
            start = max(admitted)
    check_range(start, end)

    extract = [
        _entry(day, session, code)
        for day, session, code in register_extract(ctx.session, pupil.id, school.id, start, end)
    ]
    weeks, unmarked = _grid(ctx, school.id, start, end, extract, admissions)
    return AttendanceCertificate(
        pupil=CertificatePupil.of(pupil),
        school=_school_facts(ctx, school),
        admissions=admissions,
        start=start,
        end=end,
        extract=tuple(extract),
        totals=totals((e.day, e.session, e.code) for e in extract),
        unauthorised=tuple(e for e in extract if e.stat_class is StatClass.UNAUTHORISED_ABSENCE),
        amendments=tuple(amendments_of(ctx.session, pupil.id, school.id, start, end)),
        key=_key(extract),
        weeks=weeks,
        unmarked=unmarked,
        issued_by_name=ctx.actor.full_name,
        issued_by_position=ctx.actor.position,
        issued_at=ctx.now(),
    )


# --- the registration certificate -------------------------------------------------------------


def registration_certificate(
    ctx: Context, pupil_id: int, on: date | None = None
) -> RegistrationCertificate:
    """The pupil's admission register entries at the schools the user may see, on ``on``
    (today by default), each with the attendance totals for the academic year to date: from the
    start of the year, or the starting day when later, to ``on`` or the end of the enrolment."""
    pupil = queries.pupil(ctx.session, ctx.scope, pupil_id)
    on = on or ctx.today()
    visible = {s.id: s for s in queries.schools(ctx.session, ctx.scope)}
    entries = []
    for enrolment in sorted(pupil.enrolments, key=lambda e: (e.start_date, e.id)):
        school = visible.get(enrolment.school_id)
        if school is None:
            continue
        admission = _admission(enrolment)
        start = max(year_start(ctx.calendar_for(school.id), on, "on"), admission.starting_day)
        end = min(on, admission.end_date) if admission.end_date else on
        figures = None
        if start <= end:
            figures = totals(register_extract(ctx.session, pupil.id, school.id, start, end))
        entries.append(
            RegistrationEntry(
                _school_facts(ctx, school),
                admission,
                _on_roll((admission,), on),
                start if start <= end else None,
                end if start <= end else None,
                figures,
            )
        )
    return RegistrationCertificate(
        pupil=CertificatePupil.of(pupil),
        on=on,
        academic_year=year_label(academic_year_of(on)),
        entries=tuple(entries),
        issued_by_name=ctx.actor.full_name,
        issued_by_position=ctx.actor.position,
        issued_at=ctx.now(),
    )
