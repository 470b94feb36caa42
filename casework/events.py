"""Appending to a case's chronology, by a person or by the system (the scheduler, the outbox).

In `casework` so both `workflows` and `notifications` append events without importing each
other (DESIGN.md: `notifications -> casework` only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from casework.models import Case, CaseEvent


@dataclass(frozen=True)
class Actor:
    """Who an event is attributed to: a user, or the system with a name a court can read."""

    id: int | None
    name: str
    position: str


SCHEDULER = Actor(None, "Casework scheduler", "automatic deadline check")


def append_event(
    session: Session,
    case: Case,
    actor: Actor,
    at: datetime,
    kind: str,
    *,
    reason: str | None = None,
    from_stage: str | None = None,
    to_stage: str | None = None,
    data: dict[str, Any] | None = None,
    intervention_id: int | None = None,
) -> CaseEvent:
    """Append a case event. It also advances the case's event counter, so the case row's
    version goes up at the next flush: two changes to one case can never interleave."""
    sequence = (case.last_event_sequence or 0) + 1
    event = CaseEvent(
        case=case,
        sequence=sequence,
        occurred_at=at,
        actor_id=actor.id,
        actor_name=actor.name,
        actor_position=actor.position,
        kind=kind,
        from_stage=from_stage,
        to_stage=to_stage,
        reason=reason,
        data=data or {},
        intervention_id=intervention_id,
    )
    session.add(event)
    case.last_event_sequence = sequence
    return event
