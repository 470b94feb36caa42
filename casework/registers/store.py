"""Recording and reading attendance registers (``register_year`` and ``mark_amendment``).

``record_marks`` is the only writer of ``RegisterYear.marks``. It checks every mark first (code,
date, session of the school's calendar, reason when a mark changes) and raises
:class:`~casework.errors.InvalidInput` before writing anything; then it loads or creates one row
per academic year touched and writes one ``mark_amendment`` per existing mark it changes. A first
mark into an empty session is not an amendment; the same marks recorded again change nothing.
It flushes but does not commit: the caller's unit of work does.

Rows are optimistically locked (``version``): two writers on the same pupil-year cannot both
win. The loser gets :class:`LostRace`, a :class:`~casework.errors.Conflict` (nothing of its call
is saved; its unit of work must roll back and may simply try again): from a version mismatch
(``StaleDataError``), from both inserting the pupil-year's first row (the unique key's
``IntegrityError``) or, on SQLite, from a read snapshot another writer has since committed over
("database is locked").

Calendars: marks are laid on the school's session index for the year, so a calendar change moves
them. ``record_marks`` holds a share lock on the school row for its transaction, and a calendar
change takes that row FOR UPDATE (``workflows.calendar_changes``), so the two never interleave;
:func:`relay_registers` then moves every register of the schools and years the change touched
onto the new index in the same transaction (``casework.registers.relay``), or refuses the change
when a recorded mark would fall on a session that no longer exists.

Retention: :func:`retained_until` says when a year's registers may go;
``casework.registers.retention`` deletes them then.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Text, and_, func, literal, literal_column, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from casework.calendars.model import (
    OutsideCalendar,
    TermCalendar,
    academic_year_of,
    long_date,
    year_label,
)
from casework.calendars.store import school_calendar
from casework.errors import CaseworkError, Conflict, FieldProblem, InvalidInput
from casework.models import MarkAmendment, RegisterYear, School
from casework.registers.codes import classify
from casework.registers.marks import (
    NO_MARK,
    MarkString,
    SessionIndex,
    encode,
    entries,
    session_index,
    session_name,
)
from casework.registers.relay import RelayPlan

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
    lock_school_registers(session, school_id)
    calendar = school_calendar(session, school_id)
    indexes: dict[int, SessionIndex] = {}
    wanted = _checked_marks(list(marks), calendar, indexes)

    rows = _rows(session, pupil_id, school_id, list(indexes))
    for year, row in rows.items():
        check_laid_on(row, indexes[year])
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
    _flush(session)
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
    _flush(session)
    return Recorded(new, amended, unchanged)


class LostRace(Conflict):
    """Another writer changed the pupil-year first; nothing of this call was saved, and running
    the same call again in a new unit of work is safe (it reads the other writer's marks, and a
    change to one of them needs a reason as usual)."""


LOST_RACE = (
    "the register for this pupil and year changed while these marks were being recorded; "
    "nothing was saved — try again"
)


def _flush(session: Session) -> None:
    """Flush, turning a lost race for a pupil-year into :class:`LostRace` (see the notes)."""
    try:
        session.flush()
    except StaleDataError as exc:
        raise LostRace(LOST_RACE) from exc
    except IntegrityError as exc:
        if _register_key(exc):
            raise LostRace(LOST_RACE) from exc
        raise
    except OperationalError as exc:
        if session.get_bind().dialect.name == "sqlite" and "database is locked" in str(exc.orig):
            raise LostRace(LOST_RACE) from exc
        raise


def _register_key(exc: IntegrityError) -> bool:
    """Whether the violation is register_year's (pupil, school, year) key, not another rule."""
    diag = getattr(exc.orig, "diag", None)
    name = getattr(diag, "constraint_name", None)
    if name is not None:
        return name == "uq_register_year_pupil_id"
    text = str(exc.orig)
    return "UNIQUE constraint failed: register_year.pupil_id" in text


def lock_school_registers(session: Session, school_id: int) -> None:
    """Hold a share lock on the school row until the transaction ends, so no calendar change of
    the school (which takes the row FOR UPDATE) can re-lay its registers under a writer that
    has read its calendar. Many writers may hold it at once. No-op on SQLite, whose writers are
    serialised anyway. Every writer of ``register_year`` takes it first."""
    session.execute(select(School.id).where(School.id == school_id).with_for_update(read=True))


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
        check_laid_on(rows[year], index)
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


# --- re-laying registers when a calendar changes ------------------------------------------


@dataclass(frozen=True)
class LostSession:
    """A session a calendar change would remove although registers hold marks for it."""

    day: date
    session: str
    pupils: int  # registers (one per pupil at the school) with a mark on it
    schools: tuple[str, ...]


class MarksInTheWay(CaseworkError):
    """A calendar change would remove sessions that registers already hold marks for; nothing
    was re-laid. ``rule`` says which sessions and how many pupils' marks, for an InvalidInput on
    the change's own field (``workflows.calendar_changes``)."""

    SHOWN = 5

    def __init__(self, lost: list[LostSession]):
        self.lost = lost
        super().__init__(self.rule)

    @property
    def rule(self) -> str:
        shown = "; ".join(
            f"{long_date(item.day)} {item.session}: {_pupils(item.pupils)}"
            for item in self.lost[: self.SHOWN]
        )
        more = len(self.lost) - self.SHOWN
        if more > 0:
            shown += f"; and {more} more session{'s' if more > 1 else ''}"
        schools = sorted({name for item in self.lost for name in item.schools})
        where = f" at {_names(schools)}" if schools else ""
        return (
            f"registers have already been taken{where} for sessions this change would remove "
            f"({shown}); the register holds those sessions, so the calendar cannot remove them: "
            "record the closure in the register instead (# for a planned closure, Y1-Y7 for "
            "an unexpected one); nothing was changed"
        )


def _pupils(count: int) -> str:
    return "1 pupil's mark" if count == 1 else f"{count} pupils' marks"


def _names(names: list[str]) -> str:
    if len(names) > 3:
        return f"{len(names)} schools ({', '.join(names[:3])}, …)"
    return " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else names[0]


@dataclass(frozen=True)
class Relaid:
    """What a calendar change re-laid: how many registers, per academic year."""

    by_year: dict[int, int] = field(default_factory=dict)

    @property
    def registers(self) -> int:
        return sum(self.by_year.values())


_ID_CHUNK = 900  # ids per IN (...) list, well inside both engines' bound-parameter limits


@dataclass
class _Group:
    """The schools whose registers for one year move by the same plan (the same two indexes:
    schools on the LA's dates with no changes of their own share one)."""

    year: int
    old: SessionIndex
    new: SessionIndex
    plan: RelayPlan
    schools: list[int] = field(default_factory=list)


def relay_registers(
    session: Session,
    before: Mapping[int, TermCalendar],
    years: Iterable[int],
    *,
    at: datetime,
) -> Relaid:
    """Re-lay the registers of the schools in ``before`` for ``years`` after a calendar change.

    ``before`` maps each school id to its calendar as it was before the change, read after the
    school rows were locked FOR UPDATE; the calendar after it is read now (the change is
    flushed). For each school and year that has registers and whose session index changed,
    every register laid on the old index is laid on the new one in one UPDATE (its marks moved
    as ``casework.registers.relay`` says, the new digest and length, ``version`` bumped). A row
    laid on neither index (an older mismatch) is left as it is, and keeps raising Conflict when
    read or written.

    Raises :class:`MarksInTheWay` before anything is written when any register holds a mark on
    a session the new index does not have. Flushes; the caller's unit of work commits.
    """
    years = sorted(set(years))
    school_ids = sorted(before)
    if not years or not school_ids:
        return Relaid()
    session.flush()
    groups = _relay_groups(session, before, _school_years(session, school_ids, years))
    if not groups:
        return Relaid()
    lost = _lost_sessions(session, groups)
    if lost:
        raise MarksInTheWay(lost)
    done: dict[int, int] = {}
    for group in groups:
        _write_group(session, group, at, done)
    _expire_loaded(session, {(s, g.year) for g in groups for s in g.schools})
    return Relaid(done)


def _school_years(
    session: Session, school_ids: list[int], years: list[int]
) -> set[tuple[int, int]]:
    table = RegisterYear.__table__
    found: set[tuple[int, int]] = set()
    for start in range(0, len(school_ids), _ID_CHUNK):
        chunk = school_ids[start : start + _ID_CHUNK]
        found.update(
            session.execute(
                select(table.c.school_id, table.c.academic_year)
                .where(table.c.school_id.in_(chunk), table.c.academic_year.in_(years))
                .distinct()
            ).tuples()
        )
    return found


def _relay_groups(
    session: Session, before: Mapping[int, TermCalendar], pairs: set[tuple[int, int]]
) -> list[_Group]:
    after: dict[int, TermCalendar] = {}
    groups: dict[tuple[str, str], _Group] = {}
    indexes: dict[tuple, SessionIndex] = {}
    for school_id, year in sorted(pairs):
        if school_id not in after:
            after[school_id] = school_calendar(session, school_id)
        try:
            old = _index_of(before[school_id], year, indexes)
            new = _index_of(after[school_id], year, indexes)
        except InvalidInput:
            continue  # no term dates for the year either side: nothing can be laid on them
        if old.digest == new.digest:
            continue
        group = groups.get((old.digest, new.digest))
        if group is None:
            group = groups[(old.digest, new.digest)] = _Group(
                year, old, new, RelayPlan.between(old, new)
            )
        group.schools.append(school_id)
    return list(groups.values())


def _index_of(calendar: TermCalendar, year: int, known: dict[tuple, SessionIndex]) -> SessionIndex:
    """``session_index(calendar, year)``, built once for the schools whose sessions that year
    are decided by the same things (an LA's schools mostly share one): the year's terms and the
    days and sessions of INSET days and closures (not their reasons)."""
    try:
        span = calendar.year(year).span
    except OutsideCalendar:
        return session_index(calendar, year)  # raises InvalidInput naming the date
    key = (
        year,
        calendar.year(year),
        frozenset((i.day, i.sessions) for i in calendar.inset_days if i.day in span),
        frozenset((c.days, c.sessions) for c in calendar.closures if c.days.overlaps(span)),
    )
    found = known.get(key)
    if found is None:
        found = known[key] = session_index(calendar, year)
    return found


def _laid_on_old(group: _Group, schools: list[int]):
    table = RegisterYear.__table__
    return and_(
        table.c.school_id.in_(schools),
        table.c.academic_year == group.year,
        table.c.index_digest == group.old.digest,
        table.c.sessions == len(group.old),
        func.length(table.c.marks) == len(group.old),
    )


def _marked_where_dropped(group: _Group):
    """SQL: the register holds a mark on a session the new index does not have."""
    marks = RegisterYear.__table__.c.marks
    return or_(
        *(
            func.substr(marks, _int(a + 1), _int(b - a), type_=Text) != NO_MARK * (b - a)
            for a, b in group.plan.dropped
        )
    )


def _int(value: int):
    # Inlined: PostgreSQL has substr(text, integer, integer) and no cast from a bigint parameter.
    return literal_column(str(int(value)))


def _lost_sessions(session: Session, groups: list[_Group]) -> list[LostSession]:
    table = RegisterYear.__table__
    counts: dict[tuple[date, str], int] = {}
    where: dict[tuple[date, str], set[int]] = {}
    for group in groups:
        if not group.plan.dropped:
            continue
        for start in range(0, len(group.schools), _ID_CHUNK):
            chunk = group.schools[start : start + _ID_CHUNK]
            found = session.execute(
                select(table.c.school_id, table.c.marks).where(
                    _laid_on_old(group, chunk), _marked_where_dropped(group)
                )
            )
            for school_id, marks in found:
                for position in group.plan.lost(marks):
                    key = group.old.sessions[position]
                    counts[key] = counts.get(key, 0) + 1
                    where.setdefault(key, set()).add(school_id)
    if not counts:
        return []
    names = dict(
        session.execute(
            select(School.id, School.name).where(
                School.id.in_(sorted({s for ids in where.values() for s in ids}))
            )
        ).all()
    )
    return [
        LostSession(
            day, name, counts[(day, name)], tuple(sorted(names[s] for s in where[(day, name)]))
        )
        for day, name in sorted(counts)
    ]


def _relaid_marks(group: _Group):
    """SQL: the register's marks laid on the new index (the plan's runs, gaps of ``-``)."""
    marks = RegisterYear.__table__.c.marks
    parts = []
    position = 0
    for run in group.plan.runs:
        if run.new_start > position:
            parts.append(literal(NO_MARK * (run.new_start - position), Text))
        parts.append(func.substr(marks, _int(run.old_start + 1), _int(run.length), type_=Text))
        position = run.new_start + run.length
    if position < group.plan.new_length:
        parts.append(literal(NO_MARK * (group.plan.new_length - position), Text))
    if not parts:
        return literal("", Text)
    expression = parts[0]
    for part in parts[1:]:
        expression = expression.concat(part)
    return expression


def _write_group(session: Session, group: _Group, at: datetime, done: dict[int, int]) -> None:
    table = RegisterYear.__table__
    for start in range(0, len(group.schools), _ID_CHUNK):
        chunk = group.schools[start : start + _ID_CHUNK]
        keep = [_laid_on_old(group, chunk)]
        if group.plan.dropped:  # checked just now; never drop a mark written since
            keep.append(~_marked_where_dropped(group))
        moved = session.execute(
            update(table)
            .where(*keep)
            .values(
                marks=_relaid_marks(group),
                sessions=len(group.new),
                index_digest=group.new.digest,
                version=table.c.version + 1,
                updated_at=at,
            )
        )
        # Anything still on the old index was written after the check: refuse, never guess.
        left = session.execute(
            select(func.count()).select_from(table).where(_laid_on_old(group, chunk))
        ).scalar_one()
        if left:
            raise Conflict(
                f"registers at the school changed while its {year_label(group.year)} calendar "
                "was being changed; nothing was saved — try again"
            )
        done[group.year] = done.get(group.year, 0) + moved.rowcount


def _expire_loaded(session: Session, touched: set[tuple[int, int]]) -> None:
    """The UPDATEs bypassed the identity map: loaded register rows of those schools and years
    are re-read on next use (with their new version)."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, RegisterYear):
            state = obj.__dict__
            if (state.get("school_id"), state.get("academic_year")) in touched:
                session.expire(obj)


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


def check_laid_on(row: RegisterYear, index: SessionIndex) -> None:
    """Conflict when the row was laid on another calendar than ``index`` (re-lay it first)."""
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
        select(RegisterYear)
        .where(
            RegisterYear.pupil_id == pupil_id,
            RegisterYear.school_id == school_id,
            RegisterYear.academic_year.in_(years),
        )
        # What the database holds now, not what an earlier transaction of the session loaded
        # (sessions keep loaded rows across commits): the version check then only catches a
        # writer that really raced this one.
        .execution_options(populate_existing=True)
    )
    return {row.academic_year: row for row in found}
