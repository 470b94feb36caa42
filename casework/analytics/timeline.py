"""A pupil's register as one chronological list of marked sessions, across schools and years.

``register_year`` holds one mark string per pupil, school and academic year (see
``casework.registers.marks``). :func:`load_timeline` decodes every row of the pupil that overlaps
a date range, with each school's own session index, and merges them by date and session (AM
before PM). Sessions with no mark yet are left out.

Dual registration: when two schools both record the same session, both entries are kept. The
school the pupil did not attend records D ("dual registered, attending the other school"), which
is not a possible session, so counts stay right; the timeline does not pick one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.calendars.model import academic_year_of
from casework.calendars.store import school_calendar
from casework.errors import InvalidInput
from casework.models import RegisterYear, School
from casework.registers.marks import AM, MarkString, entries, session_index
from casework.registers.store import check_laid_on

SESSION_ORDER = {AM: 0, "PM": 1}


@dataclass(frozen=True)
class SessionMark:
    """One marked session: the date, ``"AM"`` or ``"PM"``, the code as recorded (a 2024 code, or
    a legacy code on a date before 19 August 2024), and the school that recorded it."""

    day: date
    session: str
    code: str
    school_id: int
    school: str

    def __str__(self) -> str:
        return f"{self.day:%a} {self.day.day} {self.day:%b %Y} {self.session} {self.code}"


@dataclass(frozen=True)
class Timeline:
    """Every marked session of a pupil, chronological (date, AM before PM, then school id)."""

    pupil_id: int
    sessions: tuple[SessionMark, ...]

    def between(self, start: date, end: date) -> tuple[SessionMark, ...]:
        """The sessions from ``start`` to ``end`` inclusive."""
        return tuple(m for m in self.sessions if start <= m.day <= end)


def sort_key(mark: SessionMark) -> tuple[date, int, int]:
    return (mark.day, SESSION_ORDER.get(mark.session, 2), mark.school_id)


def timeline_of(pupil_id: int, marks: list[SessionMark] | tuple[SessionMark, ...]) -> Timeline:
    """A timeline from marks in any order (sorted here)."""
    return Timeline(pupil_id, tuple(sorted(marks, key=sort_key)))


def load_timeline(session: Session, pupil_id: int, start: date, end: date) -> Timeline:
    """The pupil's marked sessions at every school from ``start`` to ``end`` inclusive.

    Raises :class:`~casework.errors.InvalidInput` when ``end`` is before ``start``, and
    :class:`~casework.errors.Conflict` when a row was laid on a calendar the school has since
    changed (as ``casework.registers.store.register_extract`` does).
    """
    if end < start:
        raise InvalidInput.one("end", end, f"the end date is before the start ({start})")
    years = list(range(academic_year_of(start), academic_year_of(end) + 1))
    rows = list(
        session.scalars(
            select(RegisterYear)
            .where(RegisterYear.pupil_id == pupil_id, RegisterYear.academic_year.in_(years))
            .order_by(RegisterYear.school_id, RegisterYear.academic_year)
        )
    )
    marks: list[SessionMark] = []
    calendars = {}
    names: dict[int, str] = {}
    for row in rows:
        if row.school_id not in calendars:
            calendars[row.school_id] = school_calendar(session, row.school_id)
            school = session.get(School, row.school_id)
            names[row.school_id] = school.name if school is not None else str(row.school_id)
        index = session_index(calendars[row.school_id], row.academic_year)
        check_laid_on(row, index)
        for day, name, code in entries(index, MarkString(row.marks)):
            if start <= day <= end:
                marks.append(SessionMark(day, name, code, row.school_id, names[row.school_id]))
    return timeline_of(pupil_id, marks)
