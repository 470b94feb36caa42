"""Arming and cancelling a case's clocks as things happen to it, in the same transaction.

What happens to a case is named as a *happening* (``stage_entered:facilitate_support``,
``intervention:attendance_improvement_meeting``, ``outcome:notice_to_improve``,
``case_closed``); the LA profile's clock rules say which happenings start and stop which
clocks (BPMN boundary-timer semantics: a clock lives exactly as long as what it guards).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from casework.calendars import OutsideCalendar
from casework.durations import SchoolCalendar, Unit, add
from casework.errors import InvalidInput
from casework.models import Case
from casework.models.deadlines import Deadline
from config.profiles import ClockRule
from workflows.context import Context

PENDING, FIRED, CANCELLED, FAILED = "pending", "fired", "cancelled", "failed"
# A clock that passed unactioned (fired: escalated) and whose action has since happened.
DONE_LATE = "done_late"
# Clocks still asking for something: waiting, or passed and escalated but not yet actioned.
OPEN = (PENDING, FIRED)


def school_days_before(cal: SchoolCalendar, day: date, n: int) -> date:
    """The Nth school day strictly before ``day``: when to remind ahead of a deadline."""
    counted = 0
    while counted < n:
        day -= timedelta(days=1)
        if cal.is_school_day(day):
            counted += 1
    return day


def stage_change(previous: str, new: str) -> list[str]:
    """The happenings of a stage change: leaving one stage and entering another."""
    happenings = [f"stage_exited:{previous}"]
    happenings.append("case_closed" if new == "closed" else f"stage_entered:{new}")
    if previous == "closed":
        happenings = ["case_reopened", f"stage_entered:{new}"]
    return happenings


def with_clocks(data: dict, changes: dict[str, list[dict[str, str]]]) -> dict:
    """An event's data with the clocks its change started and stopped, if any."""
    return {**data, "clocks": changes} if changes else data


def on_happenings(
    ctx: Context,
    case: Case,
    happenings: list[str],
    on: date,
    *,
    due: date | None = None,
    intervention_id: int | None = None,
    subject: str | None = None,
) -> dict[str, list[dict[str, str]]]:
    """Cancel the clocks these happenings stop, then arm the ones they start, except a clock
    that one of these same happenings would stop (it is over before it began).

    ``subject`` names the record a clock belongs to when a case has several of a kind at once
    (``penalty_notice:17``: one 28-day clock per parent's notice). Happenings with a subject
    stop only that subject's clocks and the case's own (subjectless) ones, and arm beside
    other subjects' clocks rather than replacing them.

    ``due`` is the date for clocks whose rule has no period (the record carries its own date,
    as a Notice to Improve carries its expiry). Returns what changed, for the data of the case
    event that records the happening (so one change stays one event in the chronology).
    Nothing is flushed here, so a case opened in this transaction needs no id yet.
    """
    rules = ctx.profile.active_clocks
    changes: dict[str, list[dict[str, str]]] = {}
    with ctx.session.no_autoflush:
        open_rows = (
            list(
                ctx.session.scalars(
                    select(Deadline).where(Deadline.case_id == case.id, Deadline.status.in_(OPEN))
                )
            )
            if case.id is not None
            else []
        )
    if subject is not None:
        open_rows = [d for d in open_rows if (d.details or {}).get("subject") in (None, subject)]
    for deadline in open_rows:
        rule = rules.get(deadline.kind)
        stoppers = set(rule.cancelled_by) if rule else set()
        hit = next((h for h in happenings if h in stoppers), None)
        if hit:
            _cancel(ctx, deadline, f"stopped by {hit.replace('_', ' ')}", changes)
    for kind, rule in rules.items():
        starter = next((h for h in happenings if h in rule.armed_by), None)
        # A clock whose own stop is among these happenings guards nothing left to do (an Early
        # Help assessment recorded as already declined): starting it would only make it fire.
        if starter is None or any(h in rule.cancelled_by for h in happenings):
            continue
        running = [d for d in open_rows if d.kind == kind and d.status in OPEN]
        if running and not rule.rearm:
            continue
        for deadline in running:
            _cancel(ctx, deadline, "replaced by a new start", changes)
        _arm(ctx, case, kind, rule, starter, on, due, intervention_id, changes, subject)
    return changes


def _arm(
    ctx: Context,
    case: Case,
    kind: str,
    rule: ClockRule,
    starter: str,
    on: date,
    due: date | None,
    intervention_id: int | None,
    changes: dict[str, list[dict[str, str]]],
    subject: str | None = None,
) -> None:
    calendar = ctx.calendar_for(case.school_id)
    try:
        if rule.period is not None:
            cause = starter.replace("_", " ")
            if rule.start_offset is not None:
                offset = rule.start_offset.duration()
                from_day = on
                on = add(calendar, on, offset)
                cause = f"{offset} after {from_day.isoformat()}, {cause}"
            period = rule.period.duration()
            due_on = add(calendar, on, period)
            amount, unit = period.amount, period.unit.value
            how = f"{period} after {on.isoformat()} ({cause})"
        elif due is not None:
            due_on, amount, unit = due, (due - on).days, Unit.CALENDAR_DAYS.value
            how = f"the date set by the record that started it ({starter.replace('_', ' ')})"
        else:
            raise ValueError(f"clock {kind} has no period and its start gave no date")
        remind_on = (
            due_on - timedelta(days=rule.remind_days_before)
            if rule.remind_days_before is not None
            else school_days_before(calendar, due_on, ctx.profile.reminder_school_days)
        )
    except OutsideCalendar as exc:
        # Only a date outside every year the LA's pattern covers gets here: refuse the change
        # (422, nothing written) rather than arm a clock counted on a guess.
        raise InvalidInput.one(
            "date", exc.day.isoformat(), f"the {rule.label} clock cannot be counted: {exc}"
        ) from None
    deadline = Deadline(
        case=case,
        school_id=case.school_id,
        kind=kind,
        label=rule.label,
        rule=f"{ctx.profile.name}: {rule.label}, due {how}",
        starts_on=on,
        amount=amount,
        unit=unit,
        due_on=due_on,
        remind_on=remind_on if remind_on > on else None,
        status=PENDING,
        attempts=0,
        armed_at=ctx.now(),
        details={
            "started_by": starter,
            "intervention_id": intervention_id,
            **({"subject": subject} if subject else {}),
        },
    )
    ctx.session.add(deadline)
    changes.setdefault("armed", []).append(
        {"kind": kind, "label": rule.label, "due_on": due_on.isoformat(), "rule": deadline.rule}
    )


def _cancel(
    ctx: Context, deadline: Deadline, why: str, changes: dict[str, list[dict[str, str]]]
) -> None:
    late = deadline.status == FIRED
    deadline.status = DONE_LATE if late else CANCELLED
    deadline.cancelled_at = ctx.now()
    deadline.cancel_reason = why
    changes.setdefault("stopped", []).append(
        {
            "kind": deadline.kind,
            "label": deadline.label,
            "due_on": deadline.due_on.isoformat(),
            "why": why,
            **({"late": "yes"} if late else {}),
        }
    )
