"""Recording many pupils' marks for one school and academic year at once (imports).

``casework.registers.store.record_marks`` is the careful one-pupil writer the pages use. Imports
bring a whole school (or a county) at a time, so this writer works per school and year: one query
loads the rows it touches, the new strings are built in memory, and rows, amendments and new
registers are written with executemany. The rules are the same: a first mark into an empty
session is new, the same mark again changes nothing, and a changed mark writes an amendment with
the original, the new code, the reason and the person; a row laid on another calendar is
refused (Conflict), and a lost optimistic-lock race is a Conflict (nothing is saved).

Incoming marks per pupil are either a whole-year text laid on the index (one stored character
per session, ``-`` for "no mark given", as a CTF gives them) or a sparse ``{position: char}``
(a day's push). Characters are the stored ones of :mod:`casework.registers.marks`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.calendars.model import year_label
from casework.db import bulk_insert
from casework.errors import Conflict
from casework.models import MarkAmendment, RegisterYear
from casework.registers.marks import NO_MARK, SessionIndex, decode
from casework.registers.store import Recorder, lock_school_registers

Incoming = str | Mapping[int, str]
_CHUNK = 900  # ids per IN (...) list: well inside both engines' bound-parameter limits
_WHOLE_SCHOOL = 200  # more pupils than this: read the school's rows in one query
_UPDATE_CHUNK = 300  # rows per UPDATE … FROM: 900 parameters, inside SQLite's 32,766


@dataclass
class BulkCounts:
    new: int = 0
    amended: int = 0
    unchanged: int = 0
    registers_created: int = 0
    registers_updated: int = 0

    def add(self, other: BulkCounts) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def write_school_year(
    session: Session,
    *,
    school_id: int,
    index: SessionIndex,
    incoming: Mapping[int, Incoming],
    recorder: Recorder,
    reason_for: Callable[[int], str],
    source: str,
    now: datetime,
) -> BulkCounts:
    """Record ``incoming`` marks (pupil id → marks) for the school's year ``index.start_year``.

    ``reason_for(pupil_id)`` gives the reason stored with any amendment for that pupil.
    Only the window of sessions the marks touch is read and written back (a day's push reads
    and splices two characters a pupil, not the year). Flushes through the session's
    connection; the caller's unit of work commits.
    """
    counts = BulkCounts()
    length = len(index)
    lo, hi = _window(incoming.values(), length)
    lock_school_registers(session, school_id)  # no calendar change re-lays rows under us
    existing = _existing(session, school_id, index.start_year, list(incoming), lo, hi - lo + 1)
    inserts: list[dict] = []
    updates: list[tuple[int, int, str]] = []
    amendments: list[dict] = []
    for pupil_id, given in incoming.items():
        row = existing.get(pupil_id)
        if row is None:
            # Nothing recorded yet: every given mark is new and there is nothing to amend.
            after = given if isinstance(given, str) else _apply(NO_MARK * length, given, 0)
            if len(after) != length:
                raise ValueError(f"a year's marks are {length} sessions, not {len(after)}")
            counts.new += length - after.count(NO_MARK)
            inserts.append(
                {
                    "pupil_id": pupil_id,
                    "school_id": school_id,
                    "academic_year": index.start_year,
                    "marks": after,
                    "sessions": length,
                    "index_digest": index.digest,
                    "updated_at": now,
                    "version": 1,
                }
            )
            continue
        if row.index_digest != index.digest or row.length != length:
            raise Conflict(
                f"the {year_label(index.start_year)} register (row {row.id}) was recorded on a "
                f"different calendar for {index.school}: it must be re-laid on the current "
                "calendar first"
            )
        window, changed = _merge(row.window, given, lo)
        given_count = _given_count(given)
        if not changed:
            counts.unchanged += given_count
            continue
        new = 0
        for position, old in changed:
            if old == NO_MARK:
                new += 1
                continue
            day, name = index.sessions[position]
            amendments.append(
                {
                    "register_year_id": row.id,
                    "session_date": day,
                    "session": name,
                    "original_code": decode(old),
                    "new_code": decode(window[position - lo]),
                    "reason": reason_for(pupil_id),
                    "amended_at": now,
                    "amended_by_id": recorder.user_id,
                    "amended_by_name": recorder.name,
                    "amended_by_position": recorder.position,
                    "source": source,
                }
            )
        counts.new += new
        counts.amended += len(changed) - new
        counts.unchanged += given_count - len(changed)
        updates.append((row.id, row.version, window))
    if inserts:
        bulk_insert(session, RegisterYear.__table__, inserts)
        counts.registers_created = len(inserts)
    if updates:
        if _update_rows(session, school_id, updates, now, lo, hi) != len(updates):
            raise Conflict(
                f"registers at {index.school} changed while these marks were being recorded; "
                "nothing was saved: try again"
            )
        counts.registers_updated = len(updates)
    if amendments:
        bulk_insert(session, MarkAmendment.__table__, amendments)
    # Core statements bypass the identity map: make any loaded register rows re-read.
    session.expire_all()
    return counts


def _window(given: Iterable[Incoming], length: int) -> tuple[int, int]:
    """The first and last positions any incoming mark touches (the whole year for a text)."""
    lo, hi = length, -1
    for marks in given:
        if isinstance(marks, str):
            return 0, length - 1
        if marks:
            lo, hi = min(lo, min(marks)), max(hi, max(marks))
    return (lo, hi) if hi >= 0 else (0, 0)


def _update_rows(
    session: Session,
    school_id: int,
    updates: list[tuple[int, int, str]],
    now: datetime,
    lo: int,
    hi: int,
) -> int:
    """Splice each row's new window (positions ``lo`` to ``hi``) into its marks with ``UPDATE …
    FROM`` a derived table of (id, version seen, window), a few hundred rows a statement, each
    row only if its version is still the one read (optimistic locking); returns the rows
    updated. Written for the driver: through the ORM, parameter handling costs more per row
    than the database spends on the update."""
    connection = session.connection()
    dialect = connection.dialect
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    stamp = RegisterYear.__table__.c.updated_at.type.bind_processor(dialect)
    when = stamp(now) if stamp else now
    # Positions are 0-based, substr is 1-based; lo and hi are integers we computed.
    spliced = (
        f"substr(register_year.marks, 1, {int(lo)}) || v.win || "
        f"substr(register_year.marks, {int(hi) + 2})"
    )
    done = 0
    postgres = dialect.name == "postgresql"
    for start in range(0, len(updates), _UPDATE_CHUNK):
        chunk = updates[start : start + _UPDATE_CHUNK]
        if postgres:  # three arrays, not 900 parameters to parse
            source = "unnest(%s::int[], %s::int[], %s::text[]) AS v(id, seen, win)"
            params: list = [
                when,
                [u[0] for u in chunk],
                [u[1] for u in chunk],
                [u[2] for u in chunk],
            ]
        else:
            rows = f" UNION ALL SELECT {mark}, {mark}, {mark}" * (len(chunk) - 1)
            source = f"(SELECT {mark} AS id, {mark} AS seen, {mark} AS win{rows}) AS v"
            params = [when]
            for row_id, seen, window in chunk:
                params.extend((row_id, seen, window))
        sql = (
            f"UPDATE register_year SET marks = {spliced}, version = register_year.version + 1, "
            f"updated_at = {mark} FROM {source} "
            "WHERE register_year.id = v.id AND register_year.version = v.seen "
            # Keeps PostgreSQL's plan on the school's rows (by index), not the whole county's.
            f"AND register_year.school_id = {int(school_id)}"
        )
        done += connection.exec_driver_sql(sql, tuple(params)).rowcount
    return done


@dataclass(frozen=True)
class _Row:
    id: int
    version: int
    index_digest: str
    length: int
    window: str  # the marks at positions lo..hi


def _existing(
    session: Session, school_id: int, year: int, pupil_ids: list[int], lo: int, width: int
) -> dict[int, _Row]:
    table = RegisterYear.__table__
    columns = (
        table.c.id,
        table.c.pupil_id,
        table.c.version,
        table.c.index_digest,
        func.length(table.c.marks),
        func.substr(table.c.marks, lo + 1, width),
    )
    of_school = select(*columns).where(
        table.c.school_id == school_id, table.c.academic_year == year
    )
    if len(pupil_ids) > _WHOLE_SCHOOL:
        # Most of the school: one query for all its rows beats long IN lists.
        queries = [of_school]
    else:
        queries = [
            of_school.where(table.c.pupil_id.in_(pupil_ids[start : start + _CHUNK]))
            for start in range(0, len(pupil_ids), _CHUNK)
        ]
    wanted = set(pupil_ids)
    found: dict[int, _Row] = {}
    for query in queries:
        for row_id, pupil_id, version, digest, length, text in session.execute(query):
            if pupil_id in wanted:
                found[pupil_id] = _Row(row_id, version, digest, length, text)
    return found


def _merge(before: str, given: Incoming, lo: int) -> tuple[str, list[tuple[int, str]]]:
    """The new window and each changed position (of the year) with its old character."""
    if isinstance(given, str):  # a whole year (lo is 0 and the window is the year)
        if given == before:
            return before, []
        changed = [
            (i, old)
            for i, (old, new) in enumerate(zip(before, given, strict=True))
            if new != NO_MARK and new != old
        ]
        chars = list(before)
        for i, _ in changed:
            chars[i] = given[i]
        return "".join(chars), changed
    changed = [(i, before[i - lo]) for i, c in given.items() if before[i - lo] != c]
    if not changed:
        return before, []
    return _apply(before, given, lo), changed


def _apply(before: str, given: Mapping[int, str], lo: int) -> str:
    chars = list(before)
    for i, c in given.items():
        chars[i - lo] = c
    return "".join(chars)


def _given_count(given: Incoming) -> int:
    if isinstance(given, str):
        return len(given) - given.count(NO_MARK)
    return len(given)
