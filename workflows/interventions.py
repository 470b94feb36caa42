"""Recording interventions (calls, letters, meetings, referrals, legal steps) and their outcomes.

Interventions are append-only: a later outcome is a new record that supersedes the first, so the
chronology shows both what was expected and what happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from casework.errors import FieldProblem, Forbidden, InvalidInput, NotFound
from casework.models import Case, Intervention
from casework.vocabulary import (
    Engagement,
    EventKind,
    InterventionKind,
    InterventionOutcome,
    Role,
    Stage,
)
from workflows.clocks import on_happenings, with_clocks
from workflows.context import Context
from workflows.policy import may_fire

# Kinds that only the statutory machine creates (with its guards), never by hand.
MACHINE_ONLY = {
    InterventionKind.NOTICE_TO_IMPROVE.value: "a Notice to Improve is issued through the case "
    "action issue_notice_to_improve",
    InterventionKind.PENALTY_NOTICE.value: "a penalty notice is drafted and issued through "
    "/api/penalty-notices, one per parent, with its checks",
}
# How far back a record may be dated: casework is often written up after the fact.
OLDEST_BACKDATE = timedelta(days=3 * 366)


@dataclass
class RecordIntervention:
    kind: str
    occurred_on: date
    summary: str
    family_engaged: str = Engagement.NOT_APPLICABLE.value
    outcome: str = InterventionOutcome.PENDING.value
    attendees: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


def _problems(ctx: Context, command: RecordIntervention) -> list[FieldProblem]:
    problems = []
    kinds = {k.value for k in InterventionKind}
    if command.kind not in kinds:
        problems.append(FieldProblem("kind", command.kind, "one of: " + ", ".join(sorted(kinds))))
    elif command.kind in MACHINE_ONLY:
        problems.append(FieldProblem("kind", command.kind, MACHINE_ONLY[command.kind]))
    if command.family_engaged not in {e.value for e in Engagement}:
        problems.append(
            FieldProblem(
                "family_engaged",
                command.family_engaged,
                "one of: " + ", ".join(e.value for e in Engagement),
            )
        )
    if command.outcome not in {o.value for o in InterventionOutcome}:
        problems.append(
            FieldProblem(
                "outcome",
                command.outcome,
                "one of: " + ", ".join(o.value for o in InterventionOutcome),
            )
        )
    today = ctx.today()
    if command.occurred_on > today:
        problems.append(
            FieldProblem("occurred_on", command.occurred_on.isoformat(), "cannot be in the future")
        )
    elif command.occurred_on < today - OLDEST_BACKDATE:
        problems.append(
            FieldProblem(
                "occurred_on", command.occurred_on.isoformat(), "cannot be more than 3 years ago"
            )
        )
    if not command.summary.strip():
        problems.append(FieldProblem("summary", command.summary, "describe what happened"))
    if (
        command.kind == InterventionKind.REFERRAL
        and not str(command.details.get("agency", "")).strip()
    ):
        problems.append(
            FieldProblem(
                "details.agency",
                command.details.get("agency"),
                "a referral names the agency (Family First, social care, MASH, school nurse, ...)",
            )
        )
    return problems


def recorded_by_actor(ctx: Context, case: Case, **fields: Any) -> Intervention:
    """A new intervention on ``case`` recorded now by the acting user (name and position kept
    as they were on the day, for the chronology and the court)."""
    return Intervention(
        case_id=case.id,
        recorded_at=ctx.now(),
        recorded_by_id=ctx.actor.id,
        staff_name=ctx.actor.full_name,
        staff_position=ctx.actor.position,
        **fields,
    )


def _writable_case(ctx: Context, case_id: int) -> Case:
    case = ctx.case(case_id)
    refusal = may_fire(Role(ctx.actor.role), "record_intervention")
    if refusal:
        raise Forbidden(refusal)
    return case


def record_intervention(ctx: Context, case_id: int, command: RecordIntervention) -> Intervention:
    case = _writable_case(ctx, case_id)
    problems = _problems(ctx, command)
    if case.stage == Stage.CLOSED:
        problems.append(FieldProblem("case", case.reference, "the case is closed: reopen it first"))
    if problems:
        raise InvalidInput(problems)
    item = recorded_by_actor(
        ctx,
        case,
        kind=command.kind,
        occurred_on=command.occurred_on,
        attendees=list(command.attendees),
        family_engaged=command.family_engaged,
        outcome=command.outcome,
        summary=command.summary.strip(),
        details=dict(command.details),
    )
    ctx.session.add(item)
    ctx.session.flush()
    happenings = [f"intervention:{item.kind}"]
    if item.outcome != InterventionOutcome.PENDING.value:
        # Recorded with its outcome already known: that outcome happened too, and stops the
        # clocks it stops (a contract declined at the table has no review to wait for).
        happenings.append(f"outcome:{item.kind}")
    clocks = on_happenings(ctx, case, happenings, item.occurred_on, intervention_id=item.id)
    ctx.record(
        case,
        EventKind.INTERVENTION_RECORDED,
        reason=item.summary,
        data=with_clocks(
            {
                "intervention": item.kind,
                "occurred_on": item.occurred_on.isoformat(),
                "family_engaged": item.family_engaged,
                "outcome": item.outcome,
            },
            clocks,
        ),
        intervention_id=item.id,
    )
    return item


@dataclass
class RecordOutcome:
    outcome: str
    family_engaged: str | None = None
    note: str = ""


def record_outcome(
    ctx: Context, case_id: int, intervention_id: int, command: RecordOutcome
) -> Intervention:
    """Record what came of an intervention, as a new record superseding the original."""
    case = _writable_case(ctx, case_id)
    original = ctx.session.scalars(
        select(Intervention).where(
            Intervention.id == intervention_id, Intervention.case_id == case.id
        )
    ).first()
    if original is None:
        raise NotFound("intervention", intervention_id)
    newer = ctx.session.scalar(
        select(Intervention.id).where(Intervention.supersedes_id == original.id)
    )
    problems = []
    if newer is not None:
        problems.append(
            FieldProblem(
                "intervention_id",
                intervention_id,
                f"this record was already superseded by {newer}: record the outcome on that one",
            )
        )
    if command.outcome not in {o.value for o in InterventionOutcome}:
        problems.append(
            FieldProblem(
                "outcome",
                command.outcome,
                "one of: " + ", ".join(o.value for o in InterventionOutcome),
            )
        )
    engaged = command.family_engaged or original.family_engaged
    if engaged not in {e.value for e in Engagement}:
        problems.append(
            FieldProblem(
                "family_engaged", engaged, "one of: " + ", ".join(e.value for e in Engagement)
            )
        )
    if not command.note.strip():
        problems.append(FieldProblem("note", command.note, "say what the outcome rests on"))
    if problems:
        raise InvalidInput(problems)
    item = recorded_by_actor(
        ctx,
        case,
        kind=original.kind,
        occurred_on=original.occurred_on,
        attendees=list(original.attendees),
        family_engaged=engaged,
        outcome=command.outcome,
        summary=original.summary,
        details={
            **original.details,
            "outcome_note": command.note.strip(),
            "outcome_recorded_on": ctx.today().isoformat(),
        },
        supersedes_id=original.id,
    )
    ctx.session.add(item)
    ctx.session.flush()
    clocks = on_happenings(
        ctx, case, [f"outcome:{item.kind}"], ctx.today(), intervention_id=item.id
    )
    ctx.record(
        case,
        EventKind.INTERVENTION_RECORDED,
        reason=command.note.strip(),
        data=with_clocks(
            {
                "intervention": item.kind,
                "supersedes": original.id,
                "outcome": item.outcome,
                "family_engaged": item.family_engaged,
            },
            clocks,
        ),
        intervention_id=item.id,
    )
    return item
