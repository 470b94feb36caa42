"""What guards may look at: a read-only snapshot of a case, its evidence and the trigger's input.

Guards are pure functions of these facts, so they are tested without a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from casework.durations import SchoolCalendar, WeekdayCalendar
from casework.vocabulary import CaseKind
from config.profiles import Profile


@dataclass(frozen=True)
class InterventionFact:
    id: int
    kind: str
    occurred_on: date
    family_engaged: str
    outcome: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ListedSession:
    """A session the officer relies on for the penalty-notice threshold (date, AM/PM, code)."""

    day: date
    session: str
    code: str


@dataclass(frozen=True)
class TriggerInput:
    reason: str | None = None
    rationales: dict[str, str] = field(default_factory=dict)
    outcome: str | None = None
    sessions: tuple[ListedSession, ...] = ()

    def rationale_for(self, guard: str) -> str | None:
        text = (self.rationales.get(guard) or "").strip()
        return text or None


@dataclass(frozen=True)
class CaseFacts:
    kind: CaseKind
    stage: str
    today: date
    profile: Profile
    interventions: tuple[InterventionFact, ...] = ()
    approved_stages: frozenset[str] = frozenset()
    prosecution_started: bool = False
    calendar: SchoolCalendar = field(default_factory=WeekdayCalendar)
    given: TriggerInput = field(default_factory=TriggerInput)
    # The pupil's registers: the threshold window with the most counted sessions, or None when
    # the service holds no marks for the pupil in the last year (then the officer lists them).
    register_window: tuple[ListedSession, ...] | None = None
    # References of the case's penalty notices still drafted or awaiting payment or a decision.
    notices_outstanding: tuple[str, ...] = ()

    def of_kind(self, *kinds: str) -> list[InterventionFact]:
        return [i for i in self.interventions if i.kind in kinds]

    @property
    def is_holiday_case(self) -> bool:
        return self.kind == CaseKind.TERM_TIME_HOLIDAY
