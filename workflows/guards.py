"""Guards: pure predicates over a case's facts, each explaining itself in plain English.

A guard returns None when it is met, or the reason it is not. An *overridable* guard is also met
when the officer records a rationale for it by name (the Essex road map: "no timeline ... or if
indeed a step should be bypassed"); the rationale then goes into the case event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from casework.durations import add, school_weeks_spanned
from casework.vocabulary import (
    OPEN_STAGES,
    Engagement,
    InterventionKind,
    InterventionOutcome,
    Outcome,
    Stage,
)
from workflows.facts import CaseFacts, ListedSession


@dataclass(frozen=True)
class Move:
    trigger: str
    source: str
    dest: str | None  # None for a trigger that stays in its stage (e.g. issuing a notice)


GuardFn = Callable[[CaseFacts, Move], str | None]


@dataclass(frozen=True)
class Guard:
    name: str
    check: GuardFn
    overridable: bool
    summary: str


NOT_ENGAGED = {Engagement.NOT_ENGAGED.value, Engagement.DECLINED.value}


def long_date(day: date) -> str:
    """A date as letters and courts write it: 2 January 2025."""
    return f"{day.day} {day:%B %Y}"


def _label(stage: str) -> str:
    return Stage(stage).label


def skip_needs_rationale(facts: CaseFacts, move: Move) -> str | None:
    if move.dest not in OPEN_STAGES or move.source not in OPEN_STAGES:
        return None
    if facts.is_holiday_case and move.dest == Stage.ENFORCE:
        return None  # support is not appropriate for a term-time holiday (RULES.md §2.6)
    start, end = OPEN_STAGES.index(Stage(move.source)), OPEN_STAGES.index(Stage(move.dest))
    skipped = [s.label for s in OPEN_STAGES[start + 1 : end]]
    if not skipped:
        return None
    return (
        f"moving from {_label(move.source)} to {_label(move.dest)} skips "
        f"{', '.join(skipped)}: record why the skipped stages are bypassed"
    )


def reason_given(facts: CaseFacts, move: Move) -> str | None:
    return None if (facts.given.reason or "").strip() else "a reason for this change is required"


def outcome_given(facts: CaseFacts, move: Move) -> str | None:
    if facts.given.outcome in {o.value for o in Outcome}:
        return None
    return "closing a case needs an outcome: " + ", ".join(o.value for o in Outcome)


def level_1_school_actions(facts: CaseFacts, move: Move) -> str | None:
    rules = facts.profile.facilitate
    actions = facts.of_kind(*rules.school_action_kinds)
    if len(actions) >= rules.min_school_actions:
        return None
    return (
        f"{rules.min_school_actions} school action(s) (calls, letters, meetings, home visits, "
        f"check-ins) must be recorded before wider support; {len(actions)} recorded"
    )


def early_help_completed_or_declined(facts: CaseFacts, move: Move) -> str | None:
    if not facts.profile.facilitate.require_early_help:
        return None
    for early_help in facts.of_kind(InterventionKind.EARLY_HELP_ASSESSMENT):
        if early_help.outcome in {InterventionOutcome.COMPLETED, InterventionOutcome.DECLINED}:
            return None
        if early_help.family_engaged == Engagement.DECLINED:
            return None
    return "an Early Help assessment must be recorded as completed or declined"


def school_action_period(facts: CaseFacts, move: Move) -> str | None:
    rules = facts.profile.facilitate
    actions = sorted(facts.of_kind(*rules.school_action_kinds), key=lambda i: i.occurred_on)
    if not actions:
        return f"no school action recorded, so {rules.school_action_period.duration()} has not run"
    action_due = add(facts.calendar, actions[0].occurred_on, rules.school_action_period.duration())
    if facts.today >= action_due:
        return None
    # Non-engagement runs from the first refusal since the family last engaged.
    last_engaged = max(
        (i.occurred_on for i in facts.interventions if i.family_engaged == Engagement.ENGAGED),
        default=None,
    )
    refusals = sorted(
        i.occurred_on
        for i in facts.interventions
        if i.family_engaged in NOT_ENGAGED
        and (last_engaged is None or i.occurred_on > last_engaged)
    )
    if refusals:
        refusal_due = add(facts.calendar, refusals[0], rules.non_engagement_period.duration())
        if facts.today >= refusal_due:
            return None
    return (
        f"school action began on {long_date(actions[0].occurred_on)}: "
        f"{rules.school_action_period.duration()} of school action run to {long_date(action_due)}, "
        f"or the family must not have engaged for {rules.non_engagement_period.duration()}"
    )


def support_did_not_work(facts: CaseFacts, move: Move) -> str | None:
    offered = facts.of_kind(*facts.profile.formalise.support_kinds)
    if not offered:
        return "no voluntary support has been offered (meeting, Early Help, AIM, referral, ...)"
    for item in offered:
        if item.family_engaged in NOT_ENGAGED or item.outcome == InterventionOutcome.NOT_IMPROVED:
            return None
    return (
        "voluntary support is recorded, but none is recorded as not engaged with or not "
        "improving attendance"
    )


def supervisor_approval(facts: CaseFacts, move: Move) -> str | None:
    if move.dest not in facts.profile.approval_required_before:
        return None
    if move.dest in facts.approved_stages:
        return None
    return f"a manager must approve the move to {_label(move.dest)} first"


def best_window(
    sessions: list[ListedSession] | tuple[ListedSession, ...],
    calendar,
    school_weeks: int,
    codes: tuple[str, ...] | list[str],
) -> list[ListedSession]:
    """The most sessions with ``codes`` inside any rolling run of ``school_weeks`` school weeks
    (a school week is any week with at least one session; RULES.md §2.1). Shared by the Notice
    to Improve guard and the penalty-notice checks."""
    counted = sorted((s for s in sessions if s.code in codes), key=lambda s: (s.day, s.session))
    best: list[ListedSession] = []
    for i, first in enumerate(counted):
        window = [
            s
            for s in counted[i:]
            if school_weeks_spanned(calendar, first.day, s.day) <= school_weeks
        ]
        if len(window) > len(best):
            best = window
    return best


def best_threshold_window(facts: CaseFacts) -> list[ListedSession]:
    """The largest set of listed counted sessions within one rolling school-week window."""
    rules = facts.profile.notice_to_improve
    return best_window(
        facts.given.sessions, facts.calendar, rules.threshold_school_weeks, rules.counted_codes
    )


def threshold_sessions(facts: CaseFacts) -> tuple[list[ListedSession], str]:
    """The sessions the threshold is judged on and where they came from: the pupil's registers
    when the service holds them, else the sessions the officer listed."""
    if facts.register_window is not None:
        return list(facts.register_window), "in the pupil's registers"
    return best_threshold_window(facts), "listed"


def threshold_met(facts: CaseFacts, move: Move) -> str | None:
    rules = facts.profile.notice_to_improve
    window, source = threshold_sessions(facts)
    if len(window) >= rules.threshold_sessions:
        return None
    return (
        f"the national threshold is {rules.threshold_sessions} unauthorised sessions "
        f"({', '.join(rules.counted_codes)}) within {rules.threshold_school_weeks} school weeks; "
        f"the most {source} within any such window is {len(window)}"
    )


def support_offered_before_notice(facts: CaseFacts, move: Move) -> str | None:
    if facts.is_holiday_case:
        return None
    if facts.of_kind(*facts.profile.formalise.support_kinds):
        return None
    return "a Notice to Improve follows support that was offered; none is recorded"


def attendance_contract(facts: CaseFacts, move: Move) -> str | None:
    if facts.is_holiday_case or facts.of_kind(InterventionKind.ATTENDANCE_CONTRACT):
        return None
    return "no attendance contract is recorded: make one, or record why one was not made"


def notice_to_improve_expired(facts: CaseFacts, move: Move) -> str | None:
    if facts.is_holiday_case:
        return None
    notices = sorted(facts.of_kind(InterventionKind.NOTICE_TO_IMPROVE), key=lambda i: i.occurred_on)
    if not notices:
        return "no Notice to Improve has been issued"
    latest = notices[-1]
    expires = latest.details.get("expires_on")
    if expires and facts.today < date.fromisoformat(expires):
        return f"the Notice to Improve runs until {long_date(date.fromisoformat(expires))}"
    if latest.outcome == InterventionOutcome.NOT_IMPROVED:
        return None
    if latest.outcome in {InterventionOutcome.IMPROVED, InterventionOutcome.SOME_IMPROVEMENT}:
        return "attendance is recorded as improved under the Notice to Improve"
    return "the outcome of the Notice to Improve has not been recorded"


def eso_considered(facts: CaseFacts, move: Move) -> str | None:
    if facts.of_kind(InterventionKind.ESO_CONSIDERATION):
        return None
    return (
        "before prosecuting, the LA must consider an education supervision order "
        "(s447 Education Act 1996): record that consideration"
    )


def no_notice_outstanding(facts: CaseFacts, move: Move) -> str | None:
    if not facts.notices_outstanding:
        return None
    return (
        "penalty notices on this case still need action (paid, withdrawn or a decision to "
        "prosecute): " + ", ".join(facts.notices_outstanding)
    )


def prosecution_not_started(facts: CaseFacts, move: Move) -> str | None:
    return "prosecution has already started on this case" if facts.prosecution_started else None


GUARDS: dict[str, Guard] = {
    g.name: g
    for g in (
        Guard("skip_rationale", skip_needs_rationale, True, "skipping a stage needs a rationale"),
        Guard("reason_given", reason_given, False, "a reason is recorded"),
        Guard("outcome_given", outcome_given, False, "an outcome is recorded"),
        Guard("level_1_school_actions", level_1_school_actions, True, "school actions recorded"),
        Guard(
            "early_help",
            early_help_completed_or_declined,
            True,
            "Early Help assessment completed or declined",
        ),
        Guard(
            "school_action_period",
            school_action_period,
            True,
            "school action for its period, or non-engagement for its period",
        ),
        Guard(
            "support_did_not_work",
            support_did_not_work,
            True,
            "voluntary support was offered and did not work or was not engaged with",
        ),
        Guard("supervisor_approval", supervisor_approval, False, "manager approval"),
        Guard("threshold_met", threshold_met, True, "the national penalty-notice threshold"),
        Guard(
            "support_offered",
            support_offered_before_notice,
            True,
            "support was offered before the notice",
        ),
        Guard("attendance_contract", attendance_contract, True, "an attendance contract"),
        Guard(
            "notice_to_improve_expired",
            notice_to_improve_expired,
            True,
            "a Notice to Improve expired without sufficient improvement",
        ),
        Guard("eso_considered", eso_considered, False, "an ESO was considered (s447)"),
        Guard("prosecution_not_started", prosecution_not_started, False, "not already started"),
        Guard(
            "no_notice_outstanding",
            no_notice_outstanding,
            False,
            "no penalty notice awaiting payment or a decision",
        ),
    )
}
