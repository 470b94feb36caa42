"""The demo's attendance registers: the calibrated synthetic generator writes each school's CTF
for the year to date, the import service reads them as an LA administrator would, and the
daily scan then raises the flags, case events and proposals a real LA would see.

The marks the case histories already recorded through the services (a week of leave refused
and taken, laid as G by ``workflows.penalties.leave``) are the school's own entries: each CTF
carries them over the generated ones, so the import finds them unchanged and the register, the
penalty-notice requests and the notices agree.

Pupils with a case get the highest absence rates the generator draws (their cases are about
something); every other pupil keeps the generator's calibrated share, so the LA's persistent
and severe absence come out at the national 2023/24 figures (DATA-FORMATS.md §5.1).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from functools import partial as bind

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from casework.calendars import school_calendar
from casework.calendars.model import academic_year_of
from casework.clock import FixedClock
from casework.models import Case, Enrolment, LocalAuthority, Pupil, RegisterYear, School, User
from casework.registers.ctf import attendance_marks_text, write_ctf
from casework.registers.marks import NO_MARK, MarkString, session_index
from casework.registers.records import CtfFile, CtfHeader, CtfPupil, CtfYearData
from casework.synthetic.absence import absence_rates, generate_marks
from casework.synthetic.files import ctf_version, year_totals
from casework.vocabulary import Role
from workflows.context import Context
from workflows.imports import import_ctf, run_import
from workflows.scan import ScanReport, scan_la


@dataclass(frozen=True)
class _School:
    id: int
    urn: str
    establishment_number: str
    name: str
    la_number: str


@dataclass(frozen=True)
class RegisterSeed:
    files: int
    pupils: int
    sessions: int
    scan: ScanReport


def seed_registers(
    factory: sessionmaker[Session], *, la_id: int, as_at: date, seed: int, clock: FixedClock
) -> RegisterSeed:
    """Import a generated CTF per school with marks up to ``as_at``, then scan the LA."""
    year = academic_year_of(as_at)
    with factory() as session:
        admin_id = session.scalars(
            select(User.id).where(User.la_id == la_id, User.role == Role.ADMIN.value)
        ).first()
        la_number = session.get(LocalAuthority, la_id).la_number
        schools = [
            _School(s.id, s.urn, s.establishment_number, s.name, la_number)
            for s in session.scalars(
                select(School).where(School.la_id == la_id).order_by(School.id)
            )
        ]
        on_roll = session.execute(
            select(Pupil, Enrolment.school_id, Enrolment.start_date)
            .join(Enrolment, Enrolment.pupil_id == Pupil.id)
            .where(
                Pupil.la_id == la_id, Enrolment.end_date.is_(None), Enrolment.registration == "main"
            )
            .order_by(Pupil.id)
        ).all()
        with_case = set(session.scalars(select(Case.pupil_id).where(Case.la_id == la_id)))
        recorded = {
            (school_id, pupil_id): marks
            for school_id, pupil_id, marks in session.execute(
                select(RegisterYear.school_id, RegisterYear.pupil_id, RegisterYear.marks).where(
                    RegisterYear.academic_year == year,
                    RegisterYear.school_id.in_([s.id for s in schools]),
                )
            )
        }
        for pupil, _, _ in on_roll:
            session.expunge(pupil)
        indexes = {s.id: session_index(school_calendar(session, s.id), year) for s in schools}
    pupils = [p for p, _, _ in on_roll]
    rates = _rates(pupils, with_case, seed)
    by_school: dict[int, list[int]] = defaultdict(list)
    for i, (_, school_id, _) in enumerate(on_roll):
        by_school[school_id].append(i)
    files = sessions = 0
    for school in schools:
        rows = by_school.get(school.id, [])
        if not rows:
            continue
        index = indexes[school.id]
        marks = generate_marks(
            index, [pupils[i] for i in rows], seed=seed + school.id, as_at=as_at, rates=rates[rows]
        )
        for n, i in enumerate(rows):
            kept = recorded.get((school.id, pupils[i].id))
            if kept is not None:
                marks[n] = _keep(marks[n], kept)
        ctf = _school_file(school, [on_roll[i] for i in rows], marks, index, year, as_at)
        sessions += sum(len(m) - m.count(NO_MARK) for m in marks)
        data, version = write_ctf(ctf), ctf.header.version
        result = run_import(
            lambda: _as_admin(factory, admin_id, clock),
            bind(_import_file, data=data, name=f"{school.urn}_demo.xml", version=version),
            partial=False,
            school_id=school.id,
        )
        if result.status not in ("imported", "unchanged"):
            raise RuntimeError(f"the demo CTF for {school.name} was {result.status}")
        files += 1
    with factory() as session:
        report = scan_la(session, la_id, as_at=as_at, clock=clock)
        session.commit()
    return RegisterSeed(files, len(pupils), sessions, report)


def _keep(generated: str, kept: str) -> str:
    """The generated register with the marks already recorded kept over it."""
    if len(kept) != len(generated):
        raise RuntimeError("a demo register was laid on another calendar")
    return "".join(g if k == NO_MARK else k for g, k in zip(generated, kept, strict=True))


def _import_file(ctx: Context, *, data: bytes, name: str, version: str):
    # The demo writes the CTF version of its own today, which may not be the real today's.
    return import_ctf(ctx, data, file_name=name, accepted_versions={version})


def _rates(pupils: list[Pupil], with_case: set[int], seed: int) -> np.ndarray:
    """The generator's calibrated rates for the whole LA, the highest going to case pupils."""
    rates = absence_rates(pupils, seed=seed)
    chosen = np.array([p.id in with_case for p in pupils])
    k = int(chosen.sum())
    if not k:
        return rates
    ordered = np.sort(rates)
    out = np.empty_like(rates)
    out[chosen] = np.random.default_rng(seed).permutation(ordered[-k:])
    rest = np.flatnonzero(~chosen)
    out[rest[np.argsort(np.argsort(rates[rest]))]] = ordered[:-k]
    return out


class _AdminContext:
    def __init__(self, factory, admin_id: int, clock: FixedClock):
        self.factory, self.admin_id, self.clock = factory, admin_id, clock

    def __enter__(self) -> Context:
        self.session = self.factory()
        return Context.build(self.session, self.session.get(User, self.admin_id), self.clock)

    def __exit__(self, *exc: object) -> None:
        self.session.rollback()
        self.session.close()


def _as_admin(factory, admin_id: int, clock: FixedClock) -> _AdminContext:
    return _AdminContext(factory, admin_id, clock)


def _school_file(school: _School, rows, marks: list[str], index, year: int, as_at: date) -> CtfFile:
    pupils = []
    for (pupil, _, started), text in zip(rows, marks, strict=True):
        if started > index.sessions[0][0]:
            # Sessions before the pupil started here are not theirs to be marked for.
            text = "".join(
                NO_MARK if day < started else c
                for (day, _), c in zip(index.sessions, text, strict=True)
            )
        if text.count(NO_MARK) == len(text):
            continue
        start, written = attendance_marks_text(index, MarkString(text))
        possible, attended, authorised, unauthorised = year_totals(text)
        pupils.append(
            CtfPupil(
                line=0,
                upn=pupil.upn,
                former_upn=None,
                surname=pupil.legal_surname,
                forename=pupil.legal_forename,
                preferred_surname=pupil.preferred_surname,
                preferred_forename=pupil.preferred_forename,
                date_of_birth=pupil.date_of_birth,
                sex=pupil.sex,
                nc_year=pupil.nc_year,
                fsm=pupil.fsm,
                sen_support=pupil.sen_support,
                ehc_plan=pupil.ehc_plan,
                looked_after=pupil.looked_after,
                eal=pupil.eal,
                attendance=(
                    CtfYearData(
                        0,
                        year,
                        school.la_number,
                        school.establishment_number,
                        school.name,
                        possible,
                        authorised,
                        attended,
                        unauthorised,
                        start,
                        written,
                    ),
                ),
            )
        )
    header = CtfHeader(
        ctf_version(as_at), "Common Transfer File", None, "full", "Casework demo", year,
        school.la_number, school.establishment_number, school.urn, school.name,
        school.la_number, "XXXX",
    )  # fmt: skip
    return CtfFile(header, tuple(pupils))
