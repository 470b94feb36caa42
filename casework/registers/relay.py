"""Moving a stored register onto a school's new session index (pure, no database).

When a school's calendar changes (an INSET day, a closure, its own term dates, the LA's year), its
session index for the year changes and every stored :class:`~casework.registers.marks.MarkString`
laid on the old index must be laid again on the new one: each session that is still a session
keeps its mark at its new position, and each new session starts with no mark (``-``). A marked
session that is no longer a session would lose a register entry: that is refused
(:class:`MarksWouldBeLost`, naming the positions), never done.

A :class:`RelayPlan` is worked out once per pair of indexes and then applied to any number of
registers: it is a short list of runs (old positions ``a..b`` land at new position ``n`` onwards)
plus the old positions that disappear, so re-laying a row is a few string slices, and the same
plan can be written as one SQL expression (``casework.registers.store``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from casework.registers.marks import NO_MARK, MarkString, SessionIndex


class MarksWouldBeLost(ValueError):
    """Marks are recorded on sessions the new index does not have.

    ``positions`` are old positions; ``sessions`` the same as ``(date, "AM"|"PM")``.
    """

    def __init__(self, positions: tuple[int, ...], sessions: tuple[tuple[date, str], ...]):
        self.positions = positions
        self.sessions = sessions
        shown = ", ".join(f"{day.isoformat()} {name}" for day, name in sessions[:5])
        more = f" and {len(sessions) - 5} more" if len(sessions) > 5 else ""
        super().__init__(f"marks recorded on sessions that would no longer exist: {shown}{more}")


@dataclass(frozen=True)
class Run:
    """Old positions ``old_start`` up to (not including) ``old_end`` go to ``new_start`` on."""

    old_start: int
    old_end: int
    new_start: int

    @property
    def length(self) -> int:
        return self.old_end - self.old_start


@dataclass(frozen=True)
class RelayPlan:
    """How to move a register from ``old`` to ``new`` (see the module notes)."""

    old_length: int
    new_length: int
    runs: tuple[Run, ...]  # in order of both old and new position
    dropped: tuple[tuple[int, int], ...]  # old position ranges [a, b) that are not sessions now
    dropped_sessions: dict[int, tuple[date, str]]  # old position -> its session, for messages

    @classmethod
    def between(cls, old: SessionIndex, new: SessionIndex) -> RelayPlan:
        positions = {key: i for i, key in enumerate(new.sessions)}
        runs: list[Run] = []
        dropped: list[tuple[int, int]] = []
        dropped_sessions: dict[int, tuple[date, str]] = {}
        for i, key in enumerate(old.sessions):
            j = positions.get(key)
            if j is None:
                dropped_sessions[i] = key
                if dropped and dropped[-1][1] == i:
                    dropped[-1] = (dropped[-1][0], i + 1)
                else:
                    dropped.append((i, i + 1))
                continue
            last = runs[-1] if runs else None
            if last is not None and last.old_end == i and last.new_start + last.length == j:
                runs[-1] = Run(last.old_start, i + 1, last.new_start)
            else:
                runs.append(Run(i, i + 1, j))
        return cls(len(old), len(new), tuple(runs), tuple(dropped), dropped_sessions)

    @property
    def identity(self) -> bool:
        """True when nothing moves (the same sessions in the same places)."""
        return (
            self.old_length == self.new_length
            and not self.dropped
            and all(r.old_start == r.new_start for r in self.runs)
        )

    def lost(self, chars: str) -> tuple[int, ...]:
        """The old positions holding a mark that the new index has no session for."""
        found: list[int] = []
        for a, b in self.dropped:
            segment = chars[a:b]
            if segment.count(NO_MARK) != b - a:
                found.extend(a + k for k, c in enumerate(segment) if c != NO_MARK)
        return tuple(found)

    def apply(self, chars: str) -> str:
        """``chars`` (laid on the old index) laid on the new one; raises
        :class:`MarksWouldBeLost` when a marked session would disappear, and ValueError when
        ``chars`` does not fit the old index."""
        if len(chars) != self.old_length:
            raise ValueError(
                f"a register of {len(chars)} sessions does not fit an index of {self.old_length}"
            )
        lost = self.lost(chars)
        if lost:
            raise MarksWouldBeLost(lost, tuple(self.dropped_sessions[i] for i in lost))
        parts: list[str] = []
        at = 0
        for run in self.runs:
            if run.new_start > at:
                parts.append(NO_MARK * (run.new_start - at))
            parts.append(chars[run.old_start : run.old_end])
            at = run.new_start + run.length
        if at < self.new_length:
            parts.append(NO_MARK * (self.new_length - at))
        return "".join(parts)


def relay(old: SessionIndex, new: SessionIndex, marks: MarkString) -> MarkString:
    """``marks``, laid on ``old``, laid on ``new``: every marked session that is still a session
    keeps its mark at its new position; new sessions have no mark. Raises
    :class:`MarksWouldBeLost` (nothing is returned) when a marked session is not in ``new``."""
    if len(marks) != len(old):
        raise ValueError(
            f"a register of {len(marks)} sessions does not fit {old.school}'s {old.label} "
            f"index of {len(old)} sessions"
        )
    return MarkString(RelayPlan.between(old, new).apply(marks.chars))
