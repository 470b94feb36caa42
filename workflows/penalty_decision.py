"""The officer's decision when the penalty-notice threshold (or the lateness trigger) is met.

Meeting the threshold means a penalty notice "must be considered", not issued (RULES.md §2.1):
the daily scan arms the profile's ``penalty_decision`` clock and the officer answers it with a
Notice to Improve, a penalty notice, or a decision to carry on with support. The first two stop
the clock through their own records; this module records the third, as an append-only
``penalty_considered`` case event with its reason, which stops the clock through the profile's
``cancelled_by`` (the happening ``penalty_considered``).
"""

from __future__ import annotations

from sqlalchemy import select

from casework.errors import FieldProblem, Forbidden, InvalidInput
from casework.models import Case, CaseEvent
from casework.models.deadlines import Deadline
from casework.vocabulary import EventKind, Role, Stage
from workflows.clocks import OPEN, on_happenings, with_clocks
from workflows.context import Context
from workflows.policy import may_fire

CLOCK = "penalty_decision"
HAPPENING = "penalty_considered"
SUPPORT_CONTINUES = "support_continues"
# Long enough to say what support continues and why, short enough to stay a decision note
# (papers belong in documents).
REASON_MIN, REASON_MAX = 10, 2000
# A Notice to Improve decides the same question, so whoever may issue one may decide this.
SAME_AS = "issue_notice_to_improve"


def may_decide(ctx: Context) -> bool:
    return may_fire(Role(ctx.actor.role), SAME_AS) is None


def open_decision(ctx: Context, case: Case) -> Deadline | None:
    """The case's open decision deadline (pending, or passed and escalated), if any."""
    return ctx.session.scalars(
        select(Deadline)
        .where(Deadline.case_id == case.id, Deadline.kind == CLOCK, Deadline.status.in_(OPEN))
        .order_by(Deadline.id)
    ).first()


def _trigger(deadline: Deadline) -> str | None:
    """The flag that armed the clock (``flag_raised:penalty_threshold`` → its flag)."""
    started = str((deadline.details or {}).get("started_by") or "")
    name, _, flag = started.partition(":")
    return flag if name == "flag_raised" and flag else started or None


def record_support_continues(ctx: Context, case_id: int, reason: str | None) -> CaseEvent:
    """Record that the met threshold was considered and a penalty notice is not being pursued
    now: support continues. Refused (nothing changed) on a closed case, without a reason, or
    when no decision is open on the case."""
    case = ctx.case(case_id)
    refusal = may_fire(Role(ctx.actor.role), SAME_AS)
    if refusal:
        raise Forbidden(refusal)
    text = (reason or "").strip()
    problems: list[FieldProblem] = []
    if len(text) < REASON_MIN:
        problems.append(
            FieldProblem(
                "reason",
                reason or "",
                f"say why a penalty notice is not being pursued now and what support continues "
                f"(at least {REASON_MIN} characters)",
            )
        )
    elif len(text) > REASON_MAX:
        # The value is cut: a page of text echoed back helps nobody.
        problems.append(
            FieldProblem(
                "reason",
                f"{text[:40]}… ({len(text)} characters)",
                f"at most {REASON_MAX} characters",
            )
        )
    deadline = None
    if case.stage == Stage.CLOSED:
        problems.append(FieldProblem("case", case.reference, "the case is closed: reopen it first"))
    else:
        deadline = open_decision(ctx, case)
        if deadline is None:
            problems.append(
                FieldProblem(
                    "case",
                    case.reference,
                    "no penalty-notice decision is open on this case: there is nothing to "
                    "decide until the daily scan finds the threshold met",
                )
            )
    if problems or deadline is None:
        raise InvalidInput(problems)
    trigger = _trigger(deadline)
    clocks = on_happenings(ctx, case, [HAPPENING], ctx.today())
    return ctx.record(
        case,
        EventKind.PENALTY_CONSIDERED,
        reason=text,
        data=with_clocks(
            {"decision": SUPPORT_CONTINUES, "reason": text, "trigger": trigger},
            clocks,
        ),
    )
