"""A record whose outcome is already known when it is written starts no clock that outcome stops.

An Early Help assessment offered and declined, or an attendance contract the parent would not
sign, has nothing left to review: arming its review clock would only make it pass, escalate and
sit on the officer's My work as overdue. Clocks the outcome does not stop still start (an AIM
recorded with its result still starts the Level 2 escalation clock). Knowsley's profile, the
synthetic world's: dates on its 2024/25 calendar (see test_deadlines).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from casework.models.deadlines import Deadline
from workflows.cases import FireTrigger, OpenCase, fire_trigger, open_case
from workflows.interventions import (
    RecordIntervention,
    RecordOutcome,
    record_intervention,
    record_outcome,
)

EVERY_RATIONALE = {
    "skip_rationale": "demonstration",
    "level_1_school_actions": "recorded on paper before the service",
    "early_help": "family declined in writing",
    "school_action_period": "risk too high to wait",
}
DAY = date(2024, 11, 20)


def _case(context, db, clock, *, level_two: bool) -> int:
    clock.set(datetime(DAY.year, DAY.month, DAY.day, 10, 0, tzinfo=UTC))
    ctx = context("traded")
    case = open_case(ctx, OpenCase(db.world.pupil_oak, db.world.oakfield, reason="below 90%"))
    if level_two:
        fire_trigger(
            ctx,
            case.id,
            FireTrigger(
                "advance_to_facilitate_support",
                case.version,
                reason="Level 2",
                rationales=EVERY_RATIONALE,
            ),
        )
    ctx.commit()
    return case.id


def _record(context, case_id: int, kind: str, outcome: str):
    ctx = context("traded")
    item = record_intervention(
        ctx,
        case_id,
        RecordIntervention(
            kind=kind,
            occurred_on=DAY,
            summary=f"{kind} recorded",
            family_engaged="declined" if outcome == "declined" else "engaged",
            outcome=outcome,
        ),
    )
    ctx.commit()
    return item


def _open_clocks(db, case_id: int) -> set[str]:
    with db.factory() as session:
        return set(
            session.scalars(
                select(Deadline.kind).where(
                    Deadline.case_id == case_id, Deadline.status == "pending"
                )
            )
        )


# (what is recorded, its outcome when recorded, at Level 2?, the clocks it starts)
RULES = [
    ("early_help_assessment", "pending", False, {"early_help_review"}),
    ("early_help_assessment", "declined", False, set()),
    ("early_help_assessment", "completed", False, set()),
    ("attendance_contract", "pending", False, {"attendance_contract_review"}),
    ("attendance_contract", "declined", False, set()),
    ("attendance_improvement_meeting", "pending", True, {"aim_review", "aim_escalation"}),
    ("attendance_improvement_meeting", "not_improved", True, {"aim_escalation"}),
    # A TAF meeting's outcome stops neither of its clocks: the next meeting and review are due.
    ("team_around_the_family", "completed", True, {"early_help_review", "taf_meeting"}),
    ("phone_call", "improved", False, {"level_1_review"}),
]


@pytest.mark.parametrize(("kind", "outcome", "level_two", "started"), RULES)
def test_a_record_starts_only_the_clocks_its_own_outcome_does_not_stop(
    context, db, clock, kind, outcome, level_two, started
):
    case_id = _case(context, db, clock, level_two=level_two)
    before = _open_clocks(db, case_id)
    _record(context, case_id, kind, outcome)
    assert _open_clocks(db, case_id) - before == started


def test_the_assessments_outcome_ends_its_review_and_the_next_taf_meeting_starts_it_again(
    context, db, clock
):
    case_id = _case(context, db, clock, level_two=True)
    assessment = _record(context, case_id, "early_help_assessment", "pending")
    assert "early_help_review" in _open_clocks(db, case_id)
    ctx = context("traded")
    record_outcome(
        ctx, case_id, assessment.id, RecordOutcome("completed", None, "Assessment completed")
    )
    ctx.commit()
    assert "early_help_review" not in _open_clocks(db, case_id)
    _record(context, case_id, "team_around_the_family", "pending")
    assert {"early_help_review", "taf_meeting"} <= _open_clocks(db, case_id)
