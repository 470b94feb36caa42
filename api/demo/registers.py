"""The demo's attendance registers: the calibrated synthetic generator writes each school's CTF
for the year, the import service reads them as an LA administrator would, stage by stage
through the year, and the daily scan on each of those days raises the flags, case events and
proposals a real LA would see, each flag dated when it was first met.

Pupils whose case history writes to or reads the register (a week of leave, the absences a
Notice to Improve lists, a removal from roll) are left out of the stages from the day their
story starts doing so (``Caseload.lays_marks_from``) and come back in the final import.

The marks the case histories already recorded through the services (a week of leave refused
and taken, laid as G by ``workflows.penalties.leave``) are the school's own entries: each CTF
carries them over the generated ones, so the import finds them unchanged and the register, the
penalty-notice requests and the notices agree.

Pupils with a case get the highest absence rates the generator draws (their cases are about
something); every other pupil keeps the generator's calibrated share, so the LA's persistent
and severe absence come out at the national 2023/24 figures (DATA-FORMATS.md §5.1).
"""

from __future__ import annotations

import bisect
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import partial as bind

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.demo.timeline import academic_year, at
from casework.calendars import school_calendar
from casework.calendars.model import academic_year_of
from casework.clock import FixedClock
from casework.models import (
    CaseProposal,
    Enrolment,
    LocalAuthority,
    Pupil,
    RegisterYear,
    School,
    User,
)
from casework.registers.ctf import attendance_marks_text, write_ctf
from casework.registers.marks import NO_MARK, MarkString, session_index
from casework.registers.records import CtfFile, CtfHeader, CtfPupil, CtfYearData
from casework.synthetic.absence import absence_rates, generate_marks
from casework.synthetic.files import ctf_version, year_totals
from casework.vocabulary import Role
from workflows.context import Context
from workflows.imports import import_ctf, run_import
from workflows.proposals import OPEN, dismiss
from workflows.proposals import accept as accept_proposal
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


# Why a school decides a proposed case is not needed (synthetic, no one's real circumstances).
DISMISSALS = (
    "Absence explained by a hospital stay; the medical evidence is on file.",
    "Attendance already improving since the pastoral team's contact with home: keep watching.",
    "Authorised absence after a family bereavement; the school is in touch with the family.",
    "Part-time timetable agreed for a health need and reviewed each half term.",
    "Known to the SENCo: support is in place through the pupil's plan.",
    "Illness with a note from the GP; no pattern of concern.",
)
# Pupils whose story gives them a case: the school already knows them.
KNOWN = "Known to the attendance lead: the school is already working with the family on this."


# The registers come in every STAGE term days (about each half term), then two weeks and one week
# before the last term day, and on it.
STAGE = 35
# Of the proposals a school decides from the last two scans, the share it opens as cases.
ACCEPTED = 0.25
# Of the proposals from a week ago, the share already decided.
DECIDED_SOON = 0.6


def stage_days(days: Sequence[date], year: int) -> list[date]:
    """The term days of academic ``year`` in ``days`` (up to the last) on which the registers
    are imported and scanned before the last one."""
    this_year = [d for d in days if academic_year(d) == year]
    last = len(this_year) - 1
    picks = set(range(STAGE - 1, last - 10, STAGE)) | {last - 10, last - 5}
    return [this_year[i] for i in sorted(picks) if 0 <= i < last]


def through_the_year(
    registers: DemoRegisters,
    days: Sequence[date],
    *,
    leave_out: dict[int, date],
    leads: dict[int, int],
    seed: int,
) -> None:
    """Import and scan on each stage day; each stage's proposals are decided one to four term
    days later, before the next scan. The two latest stages' proposals for pupils the school
    does not know yet are sometimes opened as cases, and a share of the latest stage's are still
    waiting, as recent ones do."""
    rng = random.Random(f"{seed}:proposals")
    stages = stage_days(days, registers.year)
    for n, day in enumerate(stages):
        registers.stage(day, leave_out=leave_out)
        i = days.index(day)
        following = days.index(stages[n + 1]) if n + 1 < len(stages) else len(days) - 1
        if following - 1 <= i:
            continue
        on = days[min(i + rng.randint(1, 4), following - 1)]
        latest = n == len(stages) - 1
        accept = ACCEPTED if n >= len(stages) - 2 else 0.0
        registers.decide(day, on, leads, rng, accept, share=DECIDED_SOON if latest else 1.0)


class DemoRegisters:
    """Each school's register for the year, generated once and imported as the year goes on.

    ``stage`` imports the marks up to a day as a CTF per school and runs the daily scan on that
    day, so each flag is dated when it was first met; ``decide`` has each school's attendance
    lead settle the proposals a stage raised a few days later; ``final`` imports the year to date
    with the marks the case histories recorded kept over the generated ones and scans again.
    Every stage's marks extend the last stage's exactly (one generated string, cut at the day).
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        la_id: int,
        as_at: date,
        seed: int,
        with_case: set[int],
    ):
        self.factory, self.la_id, self.as_at, self.seed = factory, la_id, as_at, seed
        self.with_case = with_case
        self.year = academic_year_of(as_at)
        with factory() as session:
            self.admin_id = session.scalars(
                select(User.id).where(User.la_id == la_id, User.role == Role.ADMIN.value)
            ).first()
            la_number = session.get(LocalAuthority, la_id).la_number
            self.schools = [
                _School(s.id, s.urn, s.establishment_number, s.name, la_number)
                for s in session.scalars(
                    select(School).where(School.la_id == la_id).order_by(School.id)
                )
            ]
            on_roll = _on_roll(session, la_id)
            self.indexes = {
                s.id: session_index(school_calendar(session, s.id), self.year) for s in self.schools
            }
        pupils = [p for p, _, _ in on_roll]
        rates = _rates(pupils, with_case, seed)
        by_school: dict[int, list[int]] = defaultdict(list)
        for i, (_, school_id, _) in enumerate(on_roll):
            by_school[school_id].append(i)
        self.marks: dict[int, str] = {}
        for school in self.schools:
            rows = by_school.get(school.id, [])
            if not rows:
                continue
            generated = generate_marks(
                self.indexes[school.id],
                [pupils[i] for i in rows],
                seed=seed + school.id,
                as_at=as_at,
                rates=rates[rows],
            )
            self.marks.update((pupils[i].id, text) for i, text in zip(rows, generated, strict=True))

    def stage(self, day: date, *, leave_out: dict[int, date]) -> ScanReport:
        """Import every school's marks up to ``day`` and scan the LA on it. Pupils in
        ``leave_out`` are left out from the day given (their story lays marks of its own)."""
        clock = _afternoon(day)
        with self.factory() as session:
            on_roll = _on_roll(session, self.la_id)
        rows = [
            row
            for row in on_roll
            if row[0].id in self.marks and leave_out.get(row[0].id, date.max) > day
        ]
        self._import(rows, day, clock, lambda pupil_id, school_id: None)
        with self.factory() as session:
            report = scan_la(session, self.la_id, as_at=day, clock=clock)
            session.commit()
        return report

    def decide(
        self,
        raised_on: date,
        on: date,
        leads: dict[int, int],
        rng: random.Random,
        accept: float,
        *,
        share: float = 1.0,
    ) -> None:
        """``share`` of the proposals the scan on ``raised_on`` made, decided on ``on`` by each
        school's lead (``leads``: school id to user id): ``accept`` of those for pupils the
        school does not know yet are opened as cases, the rest dismissed with a reason."""
        with self.factory() as session:
            found = session.scalars(
                select(CaseProposal)
                .join(School, School.id == CaseProposal.school_id)
                .where(
                    School.la_id == self.la_id,
                    CaseProposal.status == OPEN,
                    CaseProposal.proposed_on == raised_on,
                )
                .order_by(CaseProposal.school_id, CaseProposal.id)
            ).all()
            clock = FixedClock(at(on, 9 * 60 + rng.randint(0, 90)))
            contexts: dict[int, Context] = {}
            for proposal in found:
                if rng.random() >= share:
                    continue
                lead = leads[proposal.school_id]
                ctx = contexts.get(lead)
                if ctx is None:
                    ctx = contexts[lead] = Context.build(session, session.get(User, lead), clock)
                if proposal.pupil_id in self.with_case:
                    dismiss(ctx, proposal.id, expected_version=proposal.version, reason=KNOWN)
                elif rng.random() < accept:
                    accept_proposal(ctx, proposal.id, expected_version=proposal.version)
                else:
                    reason = rng.choice(DISMISSALS)
                    dismiss(ctx, proposal.id, expected_version=proposal.version, reason=reason)
            session.commit()

    def final(self) -> RegisterSeed:
        """The year to date, with the marks the case histories recorded kept, then the scan."""
        clock = _afternoon(self.as_at)
        with self.factory() as session:
            on_roll = _on_roll(session, self.la_id)
            recorded = {
                (school_id, pupil_id): marks
                for school_id, pupil_id, marks in session.execute(
                    select(RegisterYear.school_id, RegisterYear.pupil_id, RegisterYear.marks).where(
                        RegisterYear.academic_year == self.year,
                        RegisterYear.school_id.in_([s.id for s in self.schools]),
                    )
                )
            }
        rows = [row for row in on_roll if row[0].id in self.marks]
        files, sessions = self._import(
            rows, self.as_at, clock, lambda pupil_id, school_id: recorded.get((school_id, pupil_id))
        )
        with self.factory() as session:
            report = scan_la(session, self.la_id, as_at=self.as_at, clock=clock)
            session.commit()
        return RegisterSeed(files, len(rows), sessions, report)

    def _import(self, rows, day: date, clock: FixedClock, kept_of) -> tuple[int, int]:
        by_school: dict[int, list] = defaultdict(list)
        for row in rows:
            by_school[row[1]].append(row)
        files = sessions = 0
        for school in self.schools:
            chosen = by_school.get(school.id, [])
            if not chosen:
                continue
            index = self.indexes[school.id]
            cut = bisect.bisect_right(index.sessions, (day, "~"))
            marks = []
            for pupil, _, _ in chosen:
                text = self.marks[pupil.id]
                text = text[:cut] + NO_MARK * (len(text) - cut)
                kept = kept_of(pupil.id, school.id)
                if kept is not None:
                    text = _keep(text, kept)
                marks.append(text)
            ctf = _school_file(school, chosen, marks, index, self.year, day)
            sessions += sum(len(m) - m.count(NO_MARK) for m in marks)
            data, version = write_ctf(ctf), ctf.header.version
            name = f"{school.urn}_demo_{day:%Y%m%d}.xml"
            result = run_import(
                lambda: _as_admin(self.factory, self.admin_id, clock),
                bind(_import_file, data=data, name=name, version=version),
                partial=False,
                school_id=school.id,
            )
            if result.status not in ("imported", "unchanged"):
                raise RuntimeError(f"the demo CTF for {school.name} was {result.status}")
            files += 1
        return files, sessions


def _on_roll(session: Session, la_id: int) -> list:
    rows = session.execute(
        select(Pupil, Enrolment.school_id, Enrolment.start_date)
        .join(Enrolment, Enrolment.pupil_id == Pupil.id)
        .where(Pupil.la_id == la_id, Enrolment.end_date.is_(None), Enrolment.registration == "main")
        .order_by(Pupil.id)
    ).all()
    for pupil, _, _ in rows:
        session.expunge(pupil)
    return rows


def _afternoon(day: date) -> FixedClock:
    return FixedClock(datetime.combine(day, time(16, 0), tzinfo=UTC))


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
