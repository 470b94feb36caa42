"""A pupil's register for one academic year at one school, held compactly (pure, no database).

DESIGN.md ("Attendance registers"): marks are stored per pupil and year on the school's session
index, not one row per session, so a daily scan of a county reads one short string per pupil.

- :class:`SessionIndex`: the sessions a school is open in an academic year, in order, from its
  :class:`~casework.calendars.TermCalendar` (index ``i`` is the ``i``-th open session: each open
  day gives its AM session, then its PM session, when it has them).
- :class:`MarkString`: one character per session of the index. Every code is stored as ONE
  character through the fixed table :data:`CODE_TO_CHAR`, so the string's length is always the
  number of sessions and the ``i``-th character is the ``i``-th session's mark. ``-`` is "no mark
  yet".

The table is part of the stored format: never change an entry, only add new ones. Single
character 2024 codes stand for themselves; the two-character codes take characters no code uses
(C1 ``a``, C2 ``b``, J1 ``j``, Y1-Y7 ``1``-``7``). Legacy codes (H, J, F, single Y), accepted for
sessions before 19 August 2024 by :func:`casework.registers.codes.classify`, are stored as recorded
(their own letter), so the register shows the entry as the school made it.

An index is tied to the calendar it was built from: if a school's calendar changes after marks
were recorded (a new INSET day, a closure), positions move. :attr:`SessionIndex.digest` names the
index so a stored string can be checked against the calendar it was laid on.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from casework.calendars.model import (
    OutsideCalendar,
    TermCalendar,
    academic_year_of,
    long_date,
    year_label,
    year_span,
)
from casework.durations import SessionOfDay
from casework.errors import InvalidInput
from casework.registers.codes import CODES, LEGACY, classify

NO_MARK = "-"
AM, PM = "AM", "PM"
SESSION_NAMES = (AM, PM)

_TWO_CHARACTER = {"C1": "a", "C2": "b", "J1": "j"} | {f"Y{n}": str(n) for n in range(1, 8)}

# Stored format: one character per code. Append only; never change or reuse a character.
CODE_TO_CHAR: dict[str, str] = {
    **{code: _TWO_CHARACTER.get(code, code) for code in CODES},
    **{code: code for code in LEGACY},
}
CHAR_TO_CODE: dict[str, str] = {char: code for code, char in CODE_TO_CHAR.items()}

assert all(len(c) == 1 for c in CODE_TO_CHAR.values()), "every code must be one character"
assert len(CHAR_TO_CODE) == len(CODE_TO_CHAR), "two codes share a character"
assert NO_MARK not in CHAR_TO_CODE
_STORED = frozenset(CHAR_TO_CODE) | {NO_MARK}


def encode(code: str) -> str:
    """The stored character of a code (upper or lower case accepted, as :func:`classify` reads
    codes). Raises :class:`InvalidInput` on field ``code`` for anything that is not a code."""
    norm = code.strip().upper() if isinstance(code, str) else code
    char = CODE_TO_CHAR.get(norm) if isinstance(norm, str) else None
    if char is None:
        classify(code, on=date(2000, 1, 1))  # raises the national-set message
        raise InvalidInput.one("code", code, "not an attendance code")  # pragma: no cover
    return char


def decode(char: str) -> str | None:
    """The code a stored character stands for; None for no mark yet."""
    if char == NO_MARK:
        return None
    code = CHAR_TO_CODE.get(char)
    if code is None:
        raise ValueError(f"{char!r} is not a stored register character")
    return code


def session_name(value: str | SessionOfDay) -> str:
    """``"AM"`` or ``"PM"`` from either case or a :class:`SessionOfDay`; InvalidInput otherwise."""
    text = value.value if isinstance(value, SessionOfDay) else value
    norm = text.strip().upper() if isinstance(text, str) else None
    if norm not in SESSION_NAMES:
        raise InvalidInput.one("session", value, "a register session is AM or PM")
    return norm


@dataclass(frozen=True)
class SessionIndex:
    """The sessions a school is open in one academic year, in order."""

    school: str
    start_year: int
    sessions: tuple[tuple[date, str], ...]
    _positions: dict[tuple[date, str], int] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _why: dict[date, str] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for i, key in enumerate(self.sessions):
            self._positions[key] = i

    def __len__(self) -> int:
        return len(self.sessions)

    @property
    def label(self) -> str:
        return year_label(self.start_year)

    @cached_property  # a frozen dataclass still has a __dict__ for it; imports ask per pupil
    def digest(self) -> str:
        """A short name for exactly this list of sessions (changes when the calendar does)."""
        text = ",".join(f"{d.isoformat()}{s}" for d, s in self.sessions)
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def position(self, day: date, session: str | SessionOfDay) -> int:
        """Where the session is in the index; InvalidInput naming the date when the school is
        not open for it (weekend, holiday, INSET day, closure, another academic year)."""
        name = session_name(session)
        found = self._positions.get((day, name))
        if found is not None:
            return found
        if academic_year_of(day) != self.start_year:
            rule = f"{long_date(day)} is not in {self.label}"
        else:
            why = self._why.get(day) or "the school is not open for it"
            rule = f"{long_date(day)} {name} is not a session of {self.school} ({why})"
        raise InvalidInput.one("date", day, rule)


_INDEXES: OrderedDict[tuple, SessionIndex] = OrderedDict()
_INDEX_CACHE_SIZE = 2048  # a county's schools over two years, with room


def session_index(calendar: TermCalendar, start_year: int) -> SessionIndex:
    """The school's open sessions in the academic year starting in ``start_year``.

    Built once per calendar content and year in a process (an index reads every day of the
    year; the daily scan needs one per school): the key is everything the calendar is made of
    except its pattern, which comes from the LA's configuration files and does not change while
    the process runs. Indexes are immutable, so sharing them is safe.

    Raises :class:`InvalidInput` on field ``date`` when the calendar has no term dates for it.
    """
    if not isinstance(calendar, TermCalendar):
        return _build_index(calendar, start_year)
    key = (
        calendar.school,
        calendar.la_years,
        calendar.own_terms,
        calendar.inset_days,
        calendar.closures,
        id(calendar.pattern),
        start_year,
    )
    try:
        found = _INDEXES.get(key)
    except TypeError:  # a calendar part that cannot be hashed: build, do not cache
        return _build_index(calendar, start_year)
    if found is not None:
        _INDEXES.move_to_end(key)
        return found
    index = _build_index(calendar, start_year)
    _INDEXES[key] = index
    if len(_INDEXES) > _INDEX_CACHE_SIZE:
        _INDEXES.popitem(last=False)
    return index


def _build_index(calendar: TermCalendar, start_year: int) -> SessionIndex:
    try:
        calendar.year(start_year)
        days = list(year_span(start_year).days())
        infos = [calendar.info(day) for day in days]
    except OutsideCalendar as outside:
        raise InvalidInput.one("date", outside.day, str(outside)) from outside
    sessions = []
    for info in infos:
        for which in (SessionOfDay.AM, SessionOfDay.PM):
            if which in info.sessions:
                sessions.append((info.day, which.value.upper()))
    index = SessionIndex(calendar.school, start_year, tuple(sessions))
    for info in infos:
        if info.why:
            index._why[info.day] = info.why
    return index


@dataclass(frozen=True)
class MarkString:
    """One stored character per session of a :class:`SessionIndex`; immutable."""

    chars: str

    def __post_init__(self) -> None:
        bad = set(self.chars) - _STORED  # a set difference: this runs for every register read
        if bad:
            raise ValueError(f"not stored register characters: {sorted(bad)}")

    @classmethod
    def empty(cls, sessions: int) -> MarkString:
        return cls(NO_MARK * sessions)

    @classmethod
    def of(cls, codes: list[str | None]) -> MarkString:
        return cls("".join(NO_MARK if c is None else encode(c) for c in codes))

    def __len__(self) -> int:
        return len(self.chars)

    def code_at(self, position: int) -> str | None:
        if not 0 <= position < len(self.chars):
            raise IndexError(f"session {position} is outside a register of {len(self.chars)}")
        return decode(self.chars[position])

    def with_code(self, position: int, code: str | None) -> MarkString:
        """A copy with ``code`` (None clears) at ``position``; the length never changes."""
        if not 0 <= position < len(self.chars):
            raise IndexError(f"session {position} is outside a register of {len(self.chars)}")
        char = NO_MARK if code is None else encode(code)
        return MarkString(self.chars[:position] + char + self.chars[position + 1 :])

    def codes(self) -> list[str | None]:
        return [decode(c) for c in self.chars]

    def marked(self) -> int:
        return len(self.chars) - self.chars.count(NO_MARK)


def read(index: SessionIndex, marks: MarkString, day: date, session: str) -> str | None:
    """The code recorded for a session (None: no mark yet)."""
    _check_fits(index, marks)
    return marks.code_at(index.position(day, session))


def set_mark(
    index: SessionIndex, marks: MarkString, day: date, session: str, code: str
) -> MarkString:
    """``marks`` with ``code`` recorded for the session, checked with :func:`classify` on the
    session's date (so a legacy code is refused from 19 August 2024)."""
    _check_fits(index, marks)
    position = index.position(day, session)
    classify(code, on=day)
    return marks.with_code(position, code)


def entries(
    index: SessionIndex, marks: MarkString, *, include_empty: bool = False
) -> Iterator[tuple[date, str, str | None]]:
    """``(date, "AM"|"PM", code)`` for each session in order; unmarked ones only on request."""
    _check_fits(index, marks)
    for (day, session), char in zip(index.sessions, marks.chars, strict=True):
        if char != NO_MARK or include_empty:
            yield day, session, decode(char)


def _check_fits(index: SessionIndex, marks: MarkString) -> None:
    if len(index) != len(marks):
        raise ValueError(
            f"a register of {len(marks)} sessions does not fit {index.school}'s {index.label} "
            f"index of {len(index)} sessions"
        )
