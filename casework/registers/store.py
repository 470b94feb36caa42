"""Recording and reading attendance registers (``register_year`` and ``mark_amendment``).

``record_marks`` is the only writer of ``RegisterYear.marks``. It checks every mark first (code,
date, session of the school's calendar, reason when a mark changes) and raises
:class:`~casework.errors.InvalidInput` before writing anything; then it loads or creates one row
per academic year touched and writes one ``mark_amendment`` per existing mark it changes. A first
mark into an empty session is not an amendment; the same marks recorded again change nothing.
It flushes but does not commit: the caller's unit of work does.

Rows are optimistically locked (``version``): two writers on the same pupil-year cannot both
win; the loser's flush raises and its unit of work rolls back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.calendars.model import TermCalendar, academic_year_of, year_label
from casework.calendars.store import school_calendar
from casework.errors import Conflict, FieldProblem, InvalidInput
from casework.models import MarkAmendment, RegisterYear
from casework.registers.codes import classify
from casework.registers.marks import (
    MarkString,
    SessionIndex,
    encode,
    entries,
    session_index,
    session_name,
)

# Registers are kept at least 6 years (the 2024 Regulations); an LA may keep them longer.
DEFAULT_RETENTION_YEARS = 6


def retained_until(start_year: int, years: int = DEFAULT_RETENTION_YEARS) -> date:
    """The first day an academic year's register entries may be disposed of."""
    if years < DEFAULT_RETENTION_YEARS:
        raise InvalidInput.one(
            "retention_years", years, "registers are kept at least 6 years from the year's end"
        )
    return date(start_year + 1 + years, 8, 1)


@dataclass(frozen=True)
class Recorder:
    """Who records: their user id (None for a system import), name and position."""

    user_id: int | None
    name: str
    position: str


@dataclass(frozen=True)
class Recorded:
    new: int
    amended: int
    unchanged: int


@dataclass(frozen=True)
class Amendment:
    day: date
    session: str
    original: str
    new: str
    reason: str
    amended_at: datetime
    by_user_id: int | None
    by_name: str
    by_position: str
    source: str


@dataclass(frozen=True)
class _Mark:
    year: int
    position: int
    day: date
    session: str
    code: str


def record_marks(
    session: Session,
    *,
    pupil_id: int,
    school_id: int,
    marks: Iterable[tuple[date, str, str]],
    by: tuple[int | None, str, str] | Recorder,
    reason: str | None,
    source: str,
    at: datetime | None = None,
) -> Recorded:
    """Record ``(date, "AM"|"PM", code)`` marks for a pupil at a school; see the module notes."""
    recorder = by if isinstance(by, Recorder) else Recorder(*by)
    now = at or datetime.now(UTC)
    _check_who(recorder, source)
    calendar = school_calendar(session, school_id)
    indexes: dict[int, SessionIndex] = {}
    wanted = _checked_marks(list(marks), calendar, indexes)

    rows = _rows(session, pupil_id, school_id, list(indexes))
    for year, row in rows.items():
        _check_laid_on(row, indexes[year])
    current = {
        year: MarkString(rows[year].marks) if year in rows else MarkString.empty(len(index))
        for year, index in indexes.items()
    }
    new = amended = unchanged = 0
    changes: list[tuple[_Mark, str]] = []
    for mark in wanted.values():
        before = current[mark.year].code_at(mark.position)
        if before == mark.code:
            unchanged += 1
            continue
        if before is None:
            new += 1
        else:
            amended += 1
            changes.append((mark, before))
        current[mark.year] = current[mark.year].with_code(mark.position, mark.code)
    if changes and not (reason and reason.strip()):
        first, before = changes[0]
        raise InvalidInput.one(
            "reason",
            reason,
            f"a reason is required to change a recorded mark ({first.day} {first.session} "
            f"is {before}; {len(changes)} mark(s) would change)",
        )
    if not new and not amended:
        return Recorded(0, 0, unchanged)

    for year, index in indexes.items():
        row = rows.get(year)
        text = current[year].chars
        if row is None:
            if current[year].marked() == 0:
                continue
            row = RegisterYear(
                pupil_id=pupil_id,
                school_id=school_id,
                academic_year=year,
                marks=text,
                sessions=len(index),
                index_digest=index.digest,
                updated_at=now,
            )
            session.add(row)
            rows[year] = row
        elif row.marks != text:
            row.marks = text
            row.updated_at = now
    session.flush()
    for mark, before in changes:
        session.add(
            MarkAmendment(
                register_year_id=rows[mark.year].id,
                session_date=mark.day,
                session=mark.session,
                original_code=before,
                new_code=mark.code,
                reason=reason.strip(),
                amended_at=now,
                amended_by_id=recorder.user_id,
                amended_by_name=recorder.name,
                amended_by_position=recorder.position,
                source=source,
            )
        )
    session.flush()
    return Recorded(new, amended, unchanged)


def register_extract(
    session: Session, pupil_id: int, school_id: int, start: date, end: date
) -> list[tuple[date, str, str]]:
    """The marks recorded for the pupil at the school from ``start`` to ``end`` inclusive, in
    session order (sessions with no mark yet are left out)."""
    if end < start:
        raise InvalidInput.one("end", end, f"the end date is before the start ({start})")
    years = list(range(academic_year_of(start), academic_year_of(end) + 1))
    rows = _rows(session, pupil_id, school_id, years)
    if not rows:
        return []
    calendar = school_calendar(session, school_id)
    found: list[tuple[date, str, str]] = []
    for year in sorted(rows):
        index = session_index(calendar, year)
        _check_laid_on(rows[year], index)
        for day, name, code in entries(index, MarkString(rows[year].marks)):
            if start <= day <= end:
                found.append((day, name, code))
    return found


def amendments_of(
    session: Session, pupil_id: int, school_id: int, start: date, end: date
) -> list[Amendment]:
    """Every amendment to the pupil's marks at the school for sessions from ``start`` to ``end``,
    in session order and then in the order made, each with its original mark."""
    found = session.scalars(
        select(MarkAmendment)
        .join(RegisterYear, RegisterYear.id == MarkAmendment.register_year_id)
        .where(
            RegisterYear.pupil_id == pupil_id,
            RegisterYear.school_id == school_id,
            MarkAmendment.session_date >= start,
            MarkAmendment.session_date <= end,
        )
        .order_by(MarkAmendment.session_date, MarkAmendment.session, MarkAmendment.id)
    )
    return [
        Amendment(
            a.session_date,
            a.session,
            a.original_code,
            a.new_code,
            a.reason,
            a.amended_at,
            a.amended_by_id,
            a.amended_by_name,
            a.amended_by_position,
            a.source,
        )
        for a in found
    ]


# --- checks -----------------------------------------------------------------------------------


def _check_who(recorder: Recorder, source: str) -> None:
    problems = []
    if not (isinstance(recorder.name, str) and recorder.name.strip()):
        problems.append(FieldProblem("by.name", recorder.name, "the recorder's name is required"))
    if not (isinstance(recorder.position, str) and recorder.position.strip()):
        problems.append(
            FieldProblem("by.position", recorder.position, "the recorder's position is required")
        )
    if not (isinstance(source, str) and source.strip()):
        problems.append(
            FieldProblem("source", source, 'say where the marks came from ("manual", "import:…")')
        )
    if problems:
        raise InvalidInput(problems)


def _checked_marks(
    marks: list[tuple[date, str, str]],
    calendar: TermCalendar,
    indexes: dict[int, SessionIndex],
) -> dict[tuple[int, int], _Mark]:
    """Every mark checked (all problems reported together), keyed by (year, position)."""
    problems: list[FieldProblem] = []
    wanted: dict[tuple[int, int], _Mark] = {}
    for i, item in enumerate(marks):
        try:
            day, raw_session, raw_code = item
            if not isinstance(day, date) or isinstance(day, datetime):
                raise InvalidInput.one("date", day, "a session's date is a calendar date")
            name = session_name(raw_session)
            classify(raw_code, on=day)
            code = _stored_code(raw_code)
            year = academic_year_of(day)
            if year not in indexes:
                indexes[year] = session_index(calendar, year)
            position = indexes[year].position(day, name)
        except InvalidInput as invalid:
            problems.extend(
                FieldProblem(f"marks[{i}].{p.field}", p.value, p.rule) for p in invalid.problems
            )
            continue
        except (TypeError, ValueError):
            problems.append(FieldProblem(f"marks[{i}]", item, "a mark is (date, AM|PM, code)"))
            continue
        mark = _Mark(year, position, day, name, code)
        earlier = wanted.get((year, position))
        if earlier is not None and earlier.code != code:
            problems.append(
                FieldProblem(
                    f"marks[{i}]",
                    item,
                    f"{day} {name} is given twice with different codes ({earlier.code}, {code})",
                )
            )
            continue
        wanted[(year, position)] = mark
    if problems:
        raise InvalidInput(problems)
    return wanted


def _stored_code(raw: str) -> str:
    encode(raw)
    return raw.strip().upper()


def _check_laid_on(row: RegisterYear, index: SessionIndex) -> None:
    if (
        row.index_digest != index.digest
        or row.sessions != len(index)
        or len(row.marks) != len(index)
    ):
        raise Conflict(
            f"the {year_label(row.academic_year)} register (row {row.id}) was recorded on a "
            f"different calendar for {index.school} ({row.sessions} sessions then, "
            f"{len(index)} now): it must be re-laid on the current calendar before use"
        )


def _rows(
    session: Session, pupil_id: int, school_id: int, years: list[int]
) -> dict[int, RegisterYear]:
    if not years:
        return {}
    found = session.scalars(
        select(RegisterYear).where(
            RegisterYear.pupil_id == pupil_id,
            RegisterYear.school_id == school_id,
            RegisterYear.academic_year.in_(years),
        )
    )
    return {row.academic_year: row for row in found}
