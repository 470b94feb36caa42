"""Session totals and the DfE percentages (DATA-FORMATS.md §3.1-3.2, RULES.md §1.3-1.4).

Each marked session is classed by its code (``casework.registers.codes``): present, approved
educational activity (both "attended"), authorised absence, unauthorised absence, or not a
possible session (D, X, Q, Y1-Y7, Z, #; legacy single Y). Possible sessions are the first four;
``absent = authorised + unauthorised`` and ``possible = attended + absent``.

Percentages are unrounded floats of the pupil's own possible sessions (DfE: absence rate =
sessions missed / possible sessions x 100), or None when there are no possible sessions. Round
only when showing them (:func:`percent_text`). The flags compare exactly, in integers, so a pupil
at exactly 10 % absence is persistently absent whatever floating point would say.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from types import MappingProxyType

from casework.analytics.timeline import SessionMark
from casework.registers.codes import IN_FORCE_FROM, AttendanceCode, StatClass, classify

_BEFORE_2024 = date(2024, 8, 18)


@lru_cache(maxsize=256)
def _classified(code: str, from_2024: bool) -> AttendanceCode:
    return classify(code, on=IN_FORCE_FROM if from_2024 else _BEFORE_2024)


def code_class(code: str, day: date) -> AttendanceCode:
    """How ``code`` recorded on ``day`` counts (legacy codes only before 19 August 2024);
    raises :class:`~casework.errors.InvalidInput` as ``classify`` does."""
    return _classified(code, day >= IN_FORCE_FROM)


@dataclass(frozen=True)
class Totals:
    """Counts of a set of marked sessions; ``by_code`` counts each code as recorded."""

    possible: int
    attended: int  # present + approved educational activity
    present: int
    approved_activity: int
    authorised: int
    unauthorised: int
    absent: int  # authorised + unauthorised
    not_possible: int
    by_code: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def attendance_percent(self) -> float | None:
        return _percent(self.attended, self.possible)

    @property
    def absence_percent(self) -> float | None:
        return _percent(self.absent, self.possible)

    @property
    def authorised_percent(self) -> float | None:
        return _percent(self.authorised, self.possible)

    @property
    def unauthorised_percent(self) -> float | None:
        return _percent(self.unauthorised, self.possible)

    @property
    def sessions(self) -> int:
        """Every marked session counted, possible or not."""
        return self.possible + self.not_possible

    def __add__(self, other: Totals) -> Totals:
        if not isinstance(other, Totals):
            return NotImplemented
        return Totals(
            self.possible + other.possible,
            self.attended + other.attended,
            self.present + other.present,
            self.approved_activity + other.approved_activity,
            self.authorised + other.authorised,
            self.unauthorised + other.unauthorised,
            self.absent + other.absent,
            self.not_possible + other.not_possible,
            MappingProxyType(dict(Counter(self.by_code) + Counter(other.by_code))),
        )


EMPTY = Totals(0, 0, 0, 0, 0, 0, 0, 0)


def _percent(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole * 100


def totals(marks: Iterable[SessionMark | tuple[date, str, str]]) -> Totals:
    """Count marked sessions: :class:`SessionMark`\\ s or ``(date, "AM"|"PM", code)`` tuples.

    Raises :class:`~casework.errors.InvalidInput` for an unknown code, or a legacy code (H, J, F,
    single Y) on or after 19 August 2024.
    """
    by_class: Counter[StatClass] = Counter()
    by_code: Counter[str] = Counter()
    for mark in marks:
        if isinstance(mark, SessionMark):
            day, code = mark.day, mark.code
        else:
            day, _session, code = mark
        entry = code_class(code, day)
        by_class[entry.stat_class] += 1
        by_code[entry.legacy_code or entry.code] += 1
    present = by_class[StatClass.PRESENT]
    approved = by_class[StatClass.APPROVED_EDUCATIONAL_ACTIVITY]
    authorised = by_class[StatClass.AUTHORISED_ABSENCE]
    unauthorised = by_class[StatClass.UNAUTHORISED_ABSENCE]
    return Totals(
        possible=present + approved + authorised + unauthorised,
        attended=present + approved,
        present=present,
        approved_activity=approved,
        authorised=authorised,
        unauthorised=unauthorised,
        absent=authorised + unauthorised,
        not_possible=by_class[StatClass.NOT_POSSIBLE],
        by_code=MappingProxyType(dict(sorted(by_code.items()))),
    )


def percent_text(value: float | None) -> str:
    """A percentage for a page: one decimal place ("92.4%"), or "—" when there is none."""
    if value is None:
        return "—"
    return f"{value:.1f}%"
