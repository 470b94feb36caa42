"""Importing registers and pupils: CTF files, CSV files and JSON pushes, all-or-nothing.

Every import runs the same way:

1. The same bytes already imported for the LA change nothing (status ``unchanged``).
2. The file is parsed (``casework.registers.ctf`` / ``csv_marks``); an unreadable or hostile
   file is rejected whole (:class:`FileRejected`).
3. Every row is checked against the database: the pupil (UPN, or a temporary UPN now replaced
   by the permanent one), the enrolment covering the date, the school's calendar (no marks on a
   closed day), the code. Each problem names line, field, value and rule.
4. With problems and no partial import asked for, nothing is written and the report says why.
   With ``partial=True`` the rows (CSV, JSON) or pupils (CTF) with problems are left out and the
   rest is written. Either way the data is written in one transaction: never half a file.
5. One ``import_batch`` row records what came in, what became of it and the report.

Progress goes to an optional callback ``progress(done, total)`` (the CLI draws a bar).
Changed marks become amendments with the importer's name and position and the reason given
(or "changed in the school's MIS", naming the file).
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session, selectinload

from casework.calendars.model import academic_year_of, long_date
from casework.db import bulk_insert
from casework.errors import Forbidden, InvalidInput, NotFound
from casework.models import (
    Contact,
    Enrolment,
    ImportBatch,
    Pupil,
    PupilContact,
    PupilUpnChange,
    School,
)
from casework.registers.bulk import BulkCounts, write_school_year
from casework.registers.codes import IN_FORCE_FROM as CODES_2024_FROM
from casework.registers.codes import classify
from casework.registers.marks import SessionIndex, encode, session_index
from casework.registers.records import (
    CtfFile,
    CtfPupil,
    CtfYearData,
    FileRejected,
    MarkRow,
    Problem,
)
from casework.registers.store import Recorder
from casework.vocabulary import Role
from workflows.context import Context

Progress = Callable[[int, int], None]
IMPORTERS = (Role.SCHOOL_STAFF, Role.LA_MANAGER, Role.ADMIN, Role.INTEGRATION)
MAX_PROBLEMS_KEPT = 1000
# Kept as they are when a CTF updates a pupil: a CTF does not carry them (or they are the LA's).
NOT_IN_A_CTF = frozenset(
    {"la_id", "family_id", "social_worker", "young_carer"}
)  # the report keeps the first thousand; the count is always exact


@dataclass
class ImportResult:
    batch_id: int | None
    status: str  # imported, partial, rejected, unchanged
    kind: str
    file_name: str
    sha256: str
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.batch_id,
            "status": self.status,
            "kind": self.kind,
            "file_name": self.file_name,
            "sha256": self.sha256,
            "counts": self.counts,
            "problem_count": len(self.problems),
            "problems": [p.as_dict() for p in self.problems[:MAX_PROBLEMS_KEPT]],
        }


# --- entry points -----------------------------------------------------------------------------


def import_ctf(
    ctx: Context,
    data: bytes,
    *,
    file_name: str,
    partial: bool = False,
    reason: str | None = None,
    progress: Progress | None = None,
    accepted_versions: Iterable[str] | None = None,
    parsed: ParsedCtf | None = None,
) -> ImportResult:
    """A Common Transfer File from a school's MIS: pupils, contacts, characteristics, marks.

    ``parsed`` is :func:`read_ctf` of the same bytes when it was read ahead (``read_ahead``)."""
    _require_importer(ctx)
    digest = hashlib.sha256(data).hexdigest()
    run = _Run(ctx, "ctf", file_name, digest, partial, reason)
    if (done := run.already_imported()) is not None:
        return done
    read = parsed or read_ctf(data, file_name=file_name, accepted_versions=accepted_versions)
    if read.file is None:
        return run.rejected(read.problems)
    ctf, problems = read.file, read.problems
    header = ctf.header
    school = _school_by_number(ctx, header.source_la, header.source_estab, header.source_urn)
    if school is None and header.dest_la and header.dest_estab:
        school = _school_by_number(ctx, header.dest_la, header.dest_estab, None)
    if school is None:
        return run.rejected(
            [
                Problem(
                    None,
                    "Header/SourceSchool",
                    f"{header.source_la}/{header.source_estab}",
                    "neither the source nor the destination school is one you may import for",
                )
            ]
        )
    run.school = school
    return run.finish(_CtfImport(run, school, ctf.pupils, problems).apply(progress))


@dataclass(frozen=True)
class ParsedCtf:
    """A CTF read (``file``, with its per-pupil problems) or refused whole (``file`` None)."""

    file: CtfFile | None
    problems: list[Problem]


def read_ctf(
    data: bytes, *, file_name: str, accepted_versions: Iterable[str] | None = None
) -> ParsedCtf:
    """Parse a CTF (pure: no database), so it can run in another process ahead of the import."""
    from casework.registers.ctf import parse_ctf

    try:
        ctf, problems = parse_ctf(
            data,
            name=file_name,
            accepted_versions=frozenset(accepted_versions) if accepted_versions else None,
        )
    except FileRejected as rejected:
        return ParsedCtf(None, rejected.problems)
    return ParsedCtf(ctf, problems)


def read_ahead(
    paths: Iterable[Path], *, accepted_versions: Iterable[str] | None = None
) -> Iterator[tuple[Path, bytes, ParsedCtf]]:
    """Each file with its bytes and :func:`read_ctf`, the next one parsed in a worker process
    while the caller imports this one: a county's files then take the time of the database
    work, not of parsing plus database work."""
    versions = tuple(accepted_versions) if accepted_versions else None
    pending: deque[tuple[Path, bytes, Future[ParsedCtf]]] = deque()
    files = iter(paths)
    with ProcessPoolExecutor(max_workers=1) as pool:

        def submit() -> None:
            path = next(files, None)
            if path is not None:
                data = path.read_bytes()
                job = pool.submit(read_ctf, data, file_name=path.name, accepted_versions=versions)
                pending.append((path, data, job))

        submit()
        submit()
        while pending:
            path, data, job = pending.popleft()
            submit()
            yield path, data, job.result()


def import_csv(
    ctx: Context,
    data: bytes,
    *,
    school_id: int,
    mapping: str,
    file_name: str,
    partial: bool = False,
    reason: str | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """A CSV of marks (UPN, date, session, code) read through a named or custom column mapping."""
    from casework.registers.csv_marks import load_mapping, parse_csv

    _require_importer(ctx)
    school = _school(ctx, school_id)
    digest = hashlib.sha256(data + f"\0{school_id}".encode()).hexdigest()
    run = _Run(ctx, "csv", file_name, digest, partial, reason, school)
    if (done := run.already_imported()) is not None:
        return done
    try:
        found = load_mapping(mapping)
    except (InvalidInput, FileNotFoundError, ValueError) as bad:
        raise InvalidInput.one("mapping", mapping, f"no usable column mapping: {bad}") from None
    try:
        rows, problems = parse_csv(data, found)
    except FileRejected as rejected:
        return run.rejected(rejected.problems)
    return run.finish(_MarksImport(run, school, rows, problems).apply(progress))


def import_marks(
    ctx: Context,
    rows: list[MarkRow],
    problems: list[Problem],
    *,
    school_id: int,
    source_name: str,
    body: bytes,
    partial: bool = False,
    reason: str | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Marks pushed as JSON by an integration (already parsed into rows; ``body`` is the raw
    request, for idempotency)."""
    _require_importer(ctx)
    school = _school(ctx, school_id)
    digest = hashlib.sha256(body + f"\0{school_id}".encode()).hexdigest()
    run = _Run(ctx, "json", source_name, digest, partial, reason, school)
    if (done := run.already_imported()) is not None:
        return done
    return run.finish(_MarksImport(run, school, rows, problems).apply(progress))


# --- the run: idempotency, outcome, batch row -------------------------------------------------


class _Run:
    def __init__(
        self,
        ctx: Context,
        kind: str,
        file_name: str,
        digest: str,
        partial: bool,
        reason: str | None,
        school: School | None = None,
    ):
        self.ctx = ctx
        self.kind = kind
        self.file_name = (file_name or kind).strip()[:300]
        self.digest = digest
        self.partial = partial
        self.reason = (reason or "").strip() or (
            f"changed in the school's MIS; received in {self.file_name}"
        )
        self.school = school
        self.started = ctx.now()
        self.recorder = Recorder(ctx.actor.id, ctx.actor.full_name, ctx.actor.position)
        self.source = f"import:{kind}:{self.file_name}"[:300]

    def already_imported(self) -> ImportResult | None:
        earlier = self.ctx.session.scalars(
            select(ImportBatch)
            .where(
                ImportBatch.la_id == self.ctx.actor.la_id,
                ImportBatch.sha256 == self.digest,
                ImportBatch.status.in_(("imported", "partial")),
            )
            .order_by(ImportBatch.id)
        ).first()
        if earlier is None:
            return None
        result = self._result("unchanged", {"already_imported_as": earlier.id}, [])
        self._log(result)
        return result

    def rejected(self, problems: list[Problem]) -> ImportResult:
        # The data (if any) is not written: the caller's transaction rolls back; the log row is
        # written in a transaction of its own so the school can read the report later.
        return self._result("rejected", {}, problems)

    def finish(self, outcome: tuple[str, dict[str, int], list[Problem]]) -> ImportResult:
        status, counts, problems = outcome
        result = self._result(status, counts, problems)
        if status != "rejected":
            self._log(result)
        return result

    def _result(self, status: str, counts: dict[str, Any], problems: list[Problem]) -> ImportResult:
        return ImportResult(None, status, self.kind, self.file_name, self.digest, counts, problems)

    def _log(self, result: ImportResult) -> None:
        row = _batch_row(
            result,
            self.ctx.actor.la_id,
            self.school.id if self.school else None,
            self.partial,
            self.ctx.actor.id,
            self.started,
            self.ctx.now(),
        )
        self.ctx.session.add(row)
        self.ctx.session.flush()
        result.batch_id = row.id


def _batch_row(
    result: ImportResult,
    la_id: int,
    school_id: int | None,
    partial: bool,
    by: int,
    started,
    finished,
) -> ImportBatch:
    return ImportBatch(
        la_id=la_id,
        school_id=school_id,
        kind=result.kind,
        file_name=result.file_name,
        sha256=result.sha256,
        status=result.status,
        partial_requested=partial,
        counts=dict(result.counts),
        problems=[_storable(p.as_dict()) for p in result.problems[:MAX_PROBLEMS_KEPT]],
        problem_count=len(result.problems),
        by_user_id=by,
        started_at=started,
        finished_at=finished,
    )


def log_rejected(
    ctx: Context, result: ImportResult, *, partial: bool, school_id: int | None
) -> int:
    """Write the batch row of a rejected import (call in a fresh transaction) and return its id."""
    row = _batch_row(
        result, ctx.actor.la_id, school_id, partial, ctx.actor.id, ctx.now(), ctx.now()
    )
    ctx.session.add(row)
    ctx.session.flush()
    result.batch_id = row.id
    return row.id


def run_import(
    open_context: Callable[[], AbstractContextManager[Context]],
    call: Callable[[Context], ImportResult],
    *,
    partial: bool,
    school_id: int | None,
) -> ImportResult:
    """Run an import in a write transaction and commit it; a rejected import is rolled back
    whole and only its report is kept (in a transaction of its own)."""
    with open_context() as ctx:
        result = call(ctx)
        if result.status != "rejected":
            ctx.commit()
            return result
    with open_context() as ctx:
        log_rejected(ctx, result, partial=partial, school_id=school_id)
        ctx.commit()
    return result


# --- marks one by one (CSV and JSON) ----------------------------------------------------------


class _MarksImport:
    def __init__(self, run: _Run, school: School, rows: list[MarkRow], problems: list[Problem]):
        self.run = run
        self.school = school
        self.rows = rows
        self.problems = list(problems)
        # A day's push is hundreds of thousands of rows over two sessions and a few codes.
        self._chars: dict[tuple[str, bool], str] = {}
        self._places: dict[tuple[date, str], tuple[int, int]] = {}

    def apply(self, progress: Progress | None) -> tuple[str, dict[str, int], list[Problem]]:
        ctx = self.run.ctx
        enrolled = _enrolments(ctx.session, self.school.id, {r.upn for r in self.rows})
        indexes: dict[int, SessionIndex] = {}
        wanted: dict[int, dict[int, dict[int, str]]] = defaultdict(lambda: defaultdict(dict))
        bad_lines = {p.line for p in self.problems}
        for row in self.rows:
            if row.line in bad_lines:
                continue
            problem = self._check(row, enrolled, indexes, wanted)
            if problem is not None:
                self.problems.append(problem)
        if self.problems and not self.run.partial:
            return "rejected", {"rows": len(self.rows)}, _sorted(self.problems)
        counts = BulkCounts()
        total = sum(len(p) for p in wanted.values())
        done = 0
        for year, pupils in sorted(wanted.items()):
            counts.add(
                write_school_year(
                    ctx.session,
                    school_id=self.school.id,
                    index=indexes[year],
                    incoming=pupils,
                    recorder=self.run.recorder,
                    reason_for=lambda _: self.run.reason,
                    source=self.run.source,
                    now=ctx.now(),
                )
            )
            done += len(pupils)
            if progress:
                progress(done, total)
        status = "partial" if self.problems else "imported"
        summary = vars(counts) | {
            "rows": len(self.rows),
            "rows_skipped": len({p.line for p in self.problems}),
        }
        return status, summary, _sorted(self.problems)

    def _char(self, code: str, day: date) -> str:
        """The stored character of a code valid on the day (checked once per code and era)."""
        key = (code, day >= CODES_2024_FROM)
        char = self._chars.get(key)
        if char is None:
            classify(code, on=day)
            char = self._chars[key] = encode(code)
        return char

    def _place(self, day: date, session: str, indexes: dict[int, SessionIndex]) -> tuple[int, int]:
        """(academic year, position in the school's index) of a session, looked up once."""
        key = (day, session)
        found = self._places.get(key)
        if found is None:
            year = academic_year_of(day)
            index = indexes.get(year)
            if index is None:
                index = indexes[year] = session_index(
                    self.run.ctx.calendar_for(self.school.id), year
                )
            found = self._places[key] = (year, index.position(day, session))
        return found

    def _check(
        self,
        row: MarkRow,
        enrolled: dict[str, tuple[int, list[tuple[date, date | None]]]],
        indexes: dict[int, SessionIndex],
        wanted: dict[int, dict[int, dict[int, str]]],
    ) -> Problem | None:
        found = enrolled.get(row.upn)
        if found is None:
            return Problem(
                row.line, "upn", row.upn, f"no pupil with this UPN is on roll at {self.school.name}"
            )
        pupil_id, spans = found
        day = row.day
        if not any(start <= day and (end is None or day <= end) for start, end in spans):
            return Problem(
                row.line,
                "date",
                row.day.isoformat(),
                f"{long_date(row.day)} is outside the pupil's enrolment at {self.school.name}",
            )
        try:
            char = self._char(row.code, row.day)
            year, position = self._place(row.day, row.session, indexes)
        except InvalidInput as invalid:
            first = invalid.problems[0]
            return Problem(row.line, first.field, _plain(first.value), first.rule)
        earlier = wanted[year][pupil_id].get(position)
        if earlier is not None and earlier != char:
            return Problem(
                row.line,
                "code",
                row.code,
                f"{row.day} {row.session} is given twice with different codes",
            )
        wanted[year][pupil_id][position] = char
        return None


def _enrolments(
    session: Session, school_id: int, upns: set[str]
) -> dict[str, tuple[int, list[tuple[date, date | None]]]]:
    """UPN → (pupil id, enrolment spans at the school) for the UPNs given. A big push reads
    the whole school's roll in one query rather than long IN lists."""
    query = (
        select(Pupil.upn, Pupil.id, Enrolment.start_date, Enrolment.end_date)
        .join(Enrolment, Enrolment.pupil_id == Pupil.id)
        .where(Enrolment.school_id == school_id)
    )
    wanted = sorted(upns)
    queries = (
        [query]
        if len(wanted) > 200
        else [query.where(Pupil.upn.in_(wanted[a : a + 900])) for a in range(0, len(wanted), 900)]
    )
    found: dict[str, tuple[int, list[tuple[date, date | None]]]] = {}
    for each in queries:
        for upn, pupil_id, begins, ends in session.execute(each):
            if upn in upns:
                found.setdefault(upn, (pupil_id, []))[1].append((begins, ends))
    return found


# --- CTF: pupils and their years --------------------------------------------------------------


class _CtfImport:
    """Pupils upserted by UPN (a temporary UPN replaced by the permanent one), their contacts and
    characteristics, and each ``YearData`` for a school the importer may write to laid on that
    school's calendar. Problems are per pupil: with partial import a pupil is written whole or
    not at all."""

    def __init__(
        self, run: _Run, school: School, pupils: tuple[CtfPupil, ...], problems: list[Problem]
    ):
        self.run = run
        self.school = school
        self.pupils = pupils
        self.problems = list(problems)
        self.counts: dict[str, int] = defaultdict(int)
        self._indexes: dict[tuple[int, int], SessionIndex] = {}

    def _index(self, school_id: int, year: int) -> SessionIndex:
        """One index per school and year for the whole file (building one reads every day of
        the year; the CTF reader caches its lookups on the index object)."""
        key = (school_id, year)
        if key not in self._indexes:
            self._indexes[key] = session_index(self.run.ctx.calendar_for(school_id), year)
        return self._indexes[key]

    def apply(self, progress: Progress | None) -> tuple[str, dict[str, int], list[Problem]]:
        ctx = self.run.ctx
        session = ctx.session
        # The parser leaves out pupils it cannot read; their problems name their own line, so
        # those lines start pupils too when problems are matched to the pupil they belong to.
        starts = sorted(
            {p.line for p in self.pupils}
            | {
                pr.line
                for pr in self.problems
                if pr.line is not None
                and "/Contacts/" not in pr.field
                and "/Attendance/" not in pr.field
            }
        )
        bad_pupils = {_pupil_of(pr.line, starts) for pr in self.problems}
        dropped = len(set(starts) - {p.line for p in self.pupils})
        existing = self._existing_pupils()
        schools = self._writable_schools()
        laid: dict[str, list[tuple[int, SessionIndex, str, date | None]]] = {}
        for pupil in self.pupils:
            if pupil.line in bad_pupils:
                continue
            found = self._check_pupil(pupil, existing, schools, laid)
            if found:
                self.problems.extend(found)
                bad_pupils.add(pupil.line)
        if self.problems and not self.run.partial:
            return "rejected", {"pupils": len(self.pupils)}, _sorted(self.problems)
        good = [p for p in self.pupils if p.line not in bad_pupils]
        ids = self._upsert_pupils(good, existing)
        self._enrol(good, ids, laid)
        marks = BulkCounts()
        by_year: dict[tuple[int, int], dict[int, str]] = defaultdict(dict)
        index_of: dict[tuple[int, int], SessionIndex] = {}
        for pupil in good:
            for school_id, index, year_marks, _ in laid.get(pupil.upn, []):
                key = (school_id, index.start_year)
                by_year[key][ids[pupil.upn]] = year_marks
                index_of[key] = index
        total = sum(len(v) for v in by_year.values())
        done = 0
        for key in sorted(by_year):
            marks.add(
                write_school_year(
                    session,
                    school_id=key[0],
                    index=index_of[key],
                    incoming=by_year[key],
                    recorder=self.run.recorder,
                    reason_for=lambda _: self.run.reason,
                    source=self.run.source,
                    now=ctx.now(),
                )
            )
            done += len(by_year[key])
            if progress:
                progress(done, total)
        status = "partial" if self.problems else "imported"
        summary = (
            dict(self.counts)
            | vars(marks)
            | {
                "pupils": len(self.pupils) + dropped,
                "pupils_skipped": len(self.pupils) + dropped - len(good),
            }
        )
        return status, summary, _sorted(self.problems)

    # -- checks

    def _existing_pupils(self) -> dict[str, Pupil]:
        upns = {p.upn for p in self.pupils} | {p.former_upn for p in self.pupils if p.former_upn}
        found: dict[str, Pupil] = {}
        wanted = sorted(upns)
        for start in range(0, len(wanted), 900):
            for pupil in self.run.ctx.session.scalars(
                select(Pupil)
                .where(Pupil.upn.in_(wanted[start : start + 900]))
                # Their enrolments are checked for every pupil: one query, not one each.
                .options(selectinload(Pupil.enrolments))
            ):
                found[pupil.upn] = pupil
        return found

    def _writable_schools(self) -> dict[tuple[str, str], tuple[School, str]]:
        """(LA number, establishment) → (school, LA number) for every school the importer may
        write registers for."""
        ctx = self.run.ctx
        rows = ctx.session.execute(
            select(School, School.establishment_number).where(ctx.scope.schools())
        ).all()
        la_number = self.school.la.la_number
        return {(la_number, est): (school, la_number) for school, est in rows}

    def _check_pupil(
        self,
        pupil: CtfPupil,
        existing: dict[str, Pupil],
        schools: dict[tuple[str, str], tuple[School, str]],
        laid: dict[str, list[tuple[int, SessionIndex, str, date | None]]],
    ) -> list[Problem]:
        from casework.registers.ctf import lay_attendance_marks

        ctx = self.run.ctx
        problems: list[Problem] = []
        current = existing.get(pupil.upn)
        former = existing.get(pupil.former_upn) if pupil.former_upn else None
        if current is not None and former is not None and current.id != former.id:
            problems.append(
                Problem(
                    pupil.line,
                    "Pupil/BasicDetails/FormerUPN",
                    pupil.former_upn,
                    f"both this UPN and the former UPN belong to pupils already recorded "
                    f"(ids {current.id} and {former.id}): the LA must merge them by hand",
                )
            )
        holder = current or former
        if holder is not None and holder.la_id != ctx.actor.la_id:
            problems.append(
                Problem(
                    pupil.line, "Pupil/UPN", pupil.upn, "this UPN belongs to a pupil in another LA"
                )
            )
        entries: list[tuple[int, SessionIndex, str, date | None]] = []
        for year in pupil.attendance:
            target = schools.get((year.la, year.estab))
            if target is None:
                self.counts["years_for_other_schools"] += 1
                continue
            school = target[0]
            try:
                index = self._index(school.id, year.academic_year)
            except InvalidInput as invalid:
                problems.append(
                    Problem(
                        year.line,
                        "Pupil/Attendance/YearData/Year",
                        year.academic_year,
                        invalid.problems[0].rule,
                    )
                )
                continue
            if not year.marks:
                self.counts["years_without_marks"] += 1
                continue
            marks, found = lay_attendance_marks(year, index)
            problems.extend(found)
            problems.extend(self._outside_enrolment(holder, school, year, index, marks.chars))
            entries.append((school.id, index, marks.chars, _first_marked(index, marks.chars)))
        laid[pupil.upn] = entries
        return problems

    def _outside_enrolment(
        self,
        holder: Pupil | None,
        school: School,
        year: CtfYearData,
        index: SessionIndex,
        text: str,
    ) -> list[Problem]:
        if holder is None:
            return []
        spans = [(e.start_date, e.end_date) for e in holder.enrolments if e.school_id == school.id]
        ended = [end for _, end in spans if end is not None]
        if not spans or any(end is None for _, end in spans):
            return []
        last = max(ended)
        late = [
            index.sessions[i][0]
            for i, c in enumerate(text)
            if c != "-" and index.sessions[i][0] > last
        ]
        if not late:
            return []
        return [
            Problem(
                year.line,
                "Pupil/Attendance/YearData/AttendSessions/AttendanceMarks",
                late[0].isoformat(),
                f"{long_date(late[0])} is after the pupil left {school.name} ({long_date(last)})",
            )
        ]

    # -- writes

    def _upsert_pupils(self, good: list[CtfPupil], existing: dict[str, Pupil]) -> dict[str, int]:
        ctx = self.run.ctx
        ids: dict[str, int] = {}
        new_rows: list[dict[str, Any]] = []
        new_pupils: list[CtfPupil] = []
        for pupil in good:
            holder = existing.get(pupil.upn) or (
                existing.get(pupil.former_upn) if pupil.former_upn else None
            )
            if holder is None:
                new_rows.append(_pupil_values(pupil, ctx.actor.la_id))
                new_pupils.append(pupil)
                continue
            if holder.upn != pupil.upn:
                ctx.session.add(
                    PupilUpnChange(
                        pupil_id=holder.id,
                        old_upn=holder.upn,
                        new_upn=pupil.upn,
                        reason="the CTF gives the permanent UPN with this one as its former UPN",
                        changed_at=ctx.now(),
                        by_user_id=ctx.actor.id,
                        import_sha256=self.run.digest,
                    )
                )
                holder.upn = pupil.upn
                self.counts["upns_replaced"] += 1
            changed = False
            for name, value in _pupil_values(pupil, ctx.actor.la_id).items():
                if name in NOT_IN_A_CTF or (name == "nc_year" and pupil.nc_year is None):
                    continue
                if getattr(holder, name) != value:
                    setattr(holder, name, value)
                    changed = True
            self.counts["pupils_updated" if changed else "pupils_unchanged"] += 1
            ids[pupil.upn] = holder.id
        ctx.session.flush()
        if new_rows:
            fresh = _new_ids(ctx.session, "pupil", len(new_rows))
            for row, pupil_id in zip(new_rows, fresh, strict=True):
                row["id"] = pupil_id
                ids[row["upn"]] = pupil_id
            bulk_insert(ctx.session, Pupil.__table__, new_rows)
            self.counts["pupils_created"] += len(new_rows)
            self._contacts(new_pupils, ids)
        return ids

    def _contacts(self, pupils: list[CtfPupil], ids: dict[str, int]) -> None:
        session = self.run.ctx.session
        values: list[dict[str, Any]] = []
        links: list[tuple[str, int, Any]] = []
        for pupil in pupils:
            for order, contact in enumerate(pupil.contacts, start=1):
                address = contact.address or pupil.address
                if address is None:
                    continue
                lines = [line for line in address.lines if line] or ["(no street given)"]
                values.append(
                    {
                        "title": contact.title,
                        "forename": contact.forename,
                        "surname": contact.surname,
                        "address_line1": lines[0][:200],
                        "address_line2": ", ".join(lines[1:])[:200] or None,
                        "town": address.town[:100],
                        "postcode": address.postcode[:10],
                        "phone": contact.phones[0] if contact.phones else None,
                        "email": contact.email,
                        "family_id": None,
                    }
                )
                links.append((pupil.upn, contact.order or order, contact))
        if not values:
            return
        created = _new_ids(session, "contact", len(values))
        for row, contact_id in zip(values, created, strict=True):
            row["id"] = contact_id
        bulk_insert(session, Contact.__table__, values)
        bulk_insert(
            session,
            PupilContact.__table__,
            [
                {
                    "pupil_id": ids[upn],
                    "contact_id": contact_id,
                    "relationship_to_pupil": (contact.relationship or "Contact")[:40],
                    "parental_responsibility": contact.responsibility,
                    "priority": priority,
                }
                for contact_id, (upn, priority, contact) in zip(created, links, strict=True)
            ],
        )
        self.counts["contacts_created"] += len(created)

    def _enrol(
        self,
        good: list[CtfPupil],
        ids: dict[str, int],
        laid: dict[str, list[tuple[int, SessionIndex, str, date | None]]],
    ) -> None:
        session = self.run.ctx.session
        wanted: dict[tuple[int, int], date] = {}
        for pupil in good:
            for school_id, _, _, first in laid.get(pupil.upn, []):
                if first is None:
                    continue
                key = (ids[pupil.upn], school_id)
                wanted[key] = min(first, wanted.get(key, first))
            key = (ids[pupil.upn], self.school.id)
            if key not in wanted:
                wanted[key] = self.run.ctx.today()
        have: set[tuple[int, int]] = set()
        pupil_ids = sorted({p for p, _ in wanted})
        for start in range(0, len(pupil_ids), 900):
            have.update(
                session.execute(
                    select(Enrolment.pupil_id, Enrolment.school_id).where(
                        Enrolment.pupil_id.in_(pupil_ids[start : start + 900])
                    )
                ).tuples()
            )
        rows = [
            {
                "pupil_id": p,
                "school_id": s,
                "start_date": begins,
                "end_date": None,
                "registration": "main",
            }
            for (p, s), begins in wanted.items()
            if (p, s) not in have
        ]
        if rows:
            bulk_insert(session, Enrolment.__table__, rows)
            self.counts["enrolments_created"] += len(rows)


def _new_ids(session: Session, table: str, n: int) -> list[int]:
    """``n`` fresh primary keys for ``table``, taken before a bulk INSERT so its rows can be
    linked without INSERT … RETURNING (which SQLite cannot batch when the order matters).
    PostgreSQL draws them from the table's sequence; on SQLite the import holds the database's
    write lock, so the keys after the largest are ours (a concurrent writer would fail on the
    primary key and roll this import back whole)."""
    if n == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return list(
            session.execute(
                text(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "
                     "FROM generate_series(1, :n)"),
                {"n": n},
            ).scalars()
        )  # fmt: skip
    largest = session.execute(text(f"SELECT coalesce(max(id), 0) FROM {table}")).scalar_one()
    return list(range(largest + 1, largest + 1 + n))


def _pupil_of(line: int | None, starts: list[int]) -> int | None:
    """The line of the pupil a problem belongs to (the nearest pupil start at or before it)."""
    if line is None:
        return None
    at = bisect_right(starts, line)
    return starts[at - 1] if at else None


def _pupil_values(pupil: CtfPupil, la_id: int) -> dict[str, Any]:
    return {
        "upn": pupil.upn,
        "legal_forename": pupil.forename,
        "legal_surname": pupil.surname,
        "preferred_forename": pupil.preferred_forename,
        "preferred_surname": pupil.preferred_surname,
        "date_of_birth": pupil.date_of_birth,
        "sex": pupil.sex,
        "nc_year": pupil.nc_year if pupil.nc_year is not None else 0,
        "family_id": None,
        "la_id": la_id,
        "fsm": pupil.fsm,
        "sen_support": pupil.sen_support,
        "ehc_plan": pupil.ehc_plan,
        "looked_after": pupil.looked_after,
        "social_worker": False,
        "young_carer": False,
        "eal": pupil.eal,
    }


def _first_marked(index: SessionIndex, text: str) -> date | None:
    for i, c in enumerate(text):
        if c != "-":
            return index.sessions[i][0]
    return None


# --- shared -----------------------------------------------------------------------------------


def _require_importer(ctx: Context) -> None:
    ctx.require_role(*IMPORTERS, doing="import registers")


def _school(ctx: Context, school_id: int) -> School:
    school = ctx.session.scalars(
        select(School).where(School.id == school_id, ctx.scope.schools())
    ).first()
    if school is None:
        raise NotFound("school", school_id)
    if Role(ctx.actor.role) not in IMPORTERS:
        raise Forbidden("only school staff, LA managers, administrators and integrations import")
    return school


def _school_by_number(ctx: Context, la: str, estab: str, urn: str | None) -> School | None:
    query = select(School).where(ctx.scope.schools(), School.establishment_number == estab)
    for school in ctx.session.scalars(query):
        if school.la.la_number == la and (not urn or school.urn == urn):
            return school
    return None


def _storable(value: Any) -> Any:
    """A problem as the database can keep it: PostgreSQL text cannot hold NUL, which a broken
    file's values may contain, so each is kept as U+FFFD (the replacement character)."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {key: _storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_storable(item) for item in value]
    return value


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line is None, p.line or 0))
