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

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from casework.calendars.model import year_label
from casework.errors import Conflict
from casework.models import MarkAmendment, RegisterYear
from casework.registers.marks import NO_MARK, SessionIndex, decode
from casework.registers.store import Recorder, lock_school_registers

Incoming = str | Mapping[int, str]
_CHUNK = 900  # ids per IN (...) list: well inside both engines' bound-parameter limits


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
    Flushes through the session's connection; the caller's unit of work commits.
    """
    counts = BulkCounts()
    year = index.start_year
    lock_school_registers(session, school_id)  # no calendar change re-lays rows under us
    existing = _existing(session, school_id, year, list(incoming))
    inserts: list[dict] = []
    updates: list[dict] = []
    amendments: list[dict] = []
    for pupil_id, given in incoming.items():
        row = existing.get(pupil_id)
        if row is not None and (row.index_digest != index.digest or len(row.marks) != len(index)):
            raise Conflict(
                f"the {year_label(year)} register (row {row.id}) was recorded on a different "
                f"calendar for {index.school}: it must be re-laid on the current calendar first"
            )
        before = row.marks if row is not None else NO_MARK * len(index)
        after, changed = _merge(before, given, len(index))
        new = amended = 0
        for position, old in changed:
            if old == NO_MARK:
                new += 1
                continue
            amended += 1
            day, name = index.sessions[position]
            amendments.append(
                {
                    "register_year_id": row.id if row is not None else None,
                    "session_date": day,
                    "session": name,
                    "original_code": decode(old),
                    "new_code": decode(after[position]),
                    "reason": reason_for(pupil_id),
                    "amended_at": now,
                    "amended_by_id": recorder.user_id,
                    "amended_by_name": recorder.name,
                    "amended_by_position": recorder.position,
                    "source": source,
                }
            )
        counts.new += new
        counts.amended += amended
        counts.unchanged += _given_count(given) - new - amended
        if not new and not amended:
            continue
        if row is None:
            inserts.append(
                {
                    "pupil_id": pupil_id,
                    "school_id": school_id,
                    "academic_year": year,
                    "marks": after,
                    "sessions": len(index),
                    "index_digest": index.digest,
                    "updated_at": now,
                    "version": 1,
                }
            )
        else:
            updates.append({"rid": row.id, "seen": row.version, "new_marks": after})
    if inserts:
        session.execute(insert(RegisterYear.__table__), inserts)
        counts.registers_created = len(inserts)
    if updates:
        table = RegisterYear.__table__
        statement = (
            update(table)
            .where(table.c.id == bindparam("rid"), table.c.version == bindparam("seen"))
            .values(marks=bindparam("new_marks"), version=table.c.version + 1, updated_at=now)
        )
        done = session.execute(statement, updates)
        if done.rowcount != len(updates):
            raise Conflict(
                f"registers at {index.school} changed while these marks were being recorded; "
                "nothing was saved: try again"
            )
        counts.registers_updated = len(updates)
    if amendments:
        session.execute(insert(MarkAmendment.__table__), amendments)
    # Core statements bypass the identity map: make any loaded register rows re-read.
    session.expire_all()
    return counts


@dataclass(frozen=True)
class _Row:
    id: int
    pupil_id: int
    marks: str
    version: int
    index_digest: str


def _existing(session: Session, school_id: int, year: int, pupil_ids: list[int]) -> dict[int, _Row]:
    table = RegisterYear.__table__
    found: dict[int, _Row] = {}
    for start in range(0, len(pupil_ids), _CHUNK):
        chunk = pupil_ids[start : start + _CHUNK]
        rows = session.execute(
            select(
                table.c.id, table.c.pupil_id, table.c.marks, table.c.version, table.c.index_digest
            ).where(
                table.c.school_id == school_id,
                table.c.academic_year == year,
                table.c.pupil_id.in_(chunk),
            )
        )
        for r in rows:
            found[r.pupil_id] = _Row(r.id, r.pupil_id, r.marks, r.version, r.index_digest)
    return found


def _merge(before: str, given: Incoming, length: int) -> tuple[str, list[tuple[int, str]]]:
    """The new text and each changed position with its old character."""
    if isinstance(given, str):
        if len(given) != length:
            raise ValueError(f"a year's marks are {length} sessions, not {len(given)}")
        if given == before:
            return before, []
        if before.count(NO_MARK) == length:  # nothing recorded yet: take the text as it is
            return given, [(i, NO_MARK) for i, c in enumerate(given) if c != NO_MARK]
        changed = [
            (i, old)
            for i, (old, new) in enumerate(zip(before, given, strict=True))
            if new != NO_MARK and new != old
        ]
        positions: Iterable[tuple[int, str]] = ((i, given[i]) for i, _ in changed)
    else:
        changed = [(i, before[i]) for i, c in given.items() if before[i] != c]
        positions = ((i, given[i]) for i, _ in changed)
    if not changed:
        return before, []
    chars = list(before)
    for i, c in positions:
        chars[i] = c
    return "".join(chars), changed


def _given_count(given: Incoming) -> int:
    if isinstance(given, str):
        return len(given) - given.count(NO_MARK)
    return len(given)
