"""The case state machine: one module-level ``transitions`` definition.

A case row is bound to the machine only for one trigger call (``initial=row.stage``); guards read
the case's facts, and the after-callback only *collects* what happened. The case service persists
what was collected in the same transaction (see ``workflows.service``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from transitions import EventData, Machine

from casework.calendars import OutsideCalendar
from casework.errors import UnmetGuard
from casework.vocabulary import OPEN_STAGES, Stage
from workflows.facts import CaseFacts
from workflows.guards import GUARDS, Guard, Move

STATES = [s.value for s in Stage]


def _advance(dest: Stage, *guards: str) -> dict[str, Any]:
    earlier = [s.value for s in OPEN_STAGES[: OPEN_STAGES.index(dest)]]
    return {
        "trigger": f"advance_to_{dest.value}",
        "source": earlier,
        "dest": dest.value,
        "conditions": ["skip_rationale", *guards],
    }


def _step_down(dest: Stage) -> dict[str, Any]:
    later = [s.value for s in OPEN_STAGES[OPEN_STAGES.index(dest) + 1 :]]
    return {
        "trigger": f"step_down_to_{dest.value}",
        "source": later,
        "dest": dest.value,
        "conditions": ["reason_given"],
    }


TRANSITIONS: list[dict[str, Any]] = [
    _advance(Stage.MONITOR),
    _advance(Stage.LISTEN),
    _advance(Stage.FACILITATE, "level_1_school_actions", "early_help", "school_action_period"),
    _advance(Stage.FORMALISE, "support_did_not_work", "supervisor_approval"),
    _advance(
        Stage.ENFORCE, "attendance_contract", "notice_to_improve_expired", "supervisor_approval"
    ),
    *[_step_down(s) for s in OPEN_STAGES[:-1]],
    {
        "trigger": "issue_notice_to_improve",
        "source": Stage.FORMALISE.value,
        "dest": None,
        "conditions": ["threshold_met", "support_offered"],
    },
    {
        "trigger": "start_prosecution",
        "source": Stage.ENFORCE.value,
        "dest": None,
        "conditions": ["eso_considered", "prosecution_not_started"],
    },
    {
        "trigger": "close",
        "source": [s.value for s in OPEN_STAGES],
        "dest": Stage.CLOSED.value,
        "conditions": ["outcome_given", "reason_given", "no_notice_outstanding"],
    },
    {
        "trigger": "reopen",
        "source": Stage.CLOSED.value,
        "dest": Stage.MONITOR.value,
        "conditions": ["reason_given"],
    },
]

TRIGGERS: list[str] = list(dict.fromkeys(t["trigger"] for t in TRANSITIONS))

TRIGGER_LABELS: dict[str, str] = {
    **{f"advance_to_{s.value}": f"Move to {s.label}" for s in OPEN_STAGES},
    **{f"step_down_to_{s.value}": f"Step down to {s.label}" for s in OPEN_STAGES},
    "issue_notice_to_improve": "Issue a Notice to Improve",
    "start_prosecution": "Start prosecution (lay information)",
    "close": "Close the case",
    "reopen": "Reopen the case",
}


@dataclass
class MoveRecord:
    trigger: str
    source: str
    dest: str | None
    overridden: dict[str, str]


@dataclass
class CaseModel:
    """The stand-in a case row is bound as; it carries facts in and collected moves out."""

    facts: CaseFacts
    state: str = ""
    moves: list[MoveRecord] = field(default_factory=list)
    overridden: dict[str, str] = field(default_factory=dict)


def _move(event: EventData) -> Move:
    return Move(event.event.name, event.transition.source, event.transition.dest)


def _reason(guard: Guard, facts: CaseFacts, move: Move) -> str | None:
    """The guard's verdict; a date the school's calendar cannot count (a year outside those its
    LA's pattern covers) is a refusal that says why, never a failed request."""
    try:
        return guard.check(facts, move)
    except OutsideCalendar as exc:
        return f"cannot be checked on the school's calendar: {exc}"


def _condition(name: str):
    guard = GUARDS[name]

    def check(event: EventData) -> bool:
        model: CaseModel = event.model
        if _reason(guard, model.facts, _move(event)) is None:
            return True
        rationale = model.facts.given.rationale_for(name)
        if guard.overridable and rationale:
            model.overridden[name] = rationale
            return True
        return False

    check.__name__ = f"guard_{name}"
    return check


def _record(event: EventData) -> None:
    model: CaseModel = event.model
    model.moves.append(
        MoveRecord(
            event.event.name, event.transition.source, event.transition.dest, dict(model.overridden)
        )
    )


def _compiled() -> list[dict[str, Any]]:
    return [{**t, "conditions": [_condition(c) for c in t["conditions"]]} for t in TRANSITIONS]


MACHINE = Machine(
    model=None,
    states=STATES,
    transitions=_compiled(),
    initial=None,
    auto_transitions=False,
    send_event=True,
    after_state_change=_record,
)


def unmet_guards(facts: CaseFacts, trigger: str) -> list[UnmetGuard]:
    """Every reason ``trigger`` cannot fire now (empty when it can), guard by guard."""
    candidates = [t for t in TRANSITIONS if t["trigger"] == trigger and _from(t, facts.stage)]
    if not candidates:
        return [
            UnmetGuard(
                "stage",
                f"not possible from {Stage(facts.stage).label}",
                overridable=False,
            )
        ]
    t = candidates[0]
    move = Move(trigger, facts.stage, t["dest"])
    unmet = []
    for name in t["conditions"]:
        guard = GUARDS[name]
        reason = _reason(guard, facts, move)
        if reason is None:
            continue
        if guard.overridable and facts.given.rationale_for(name):
            continue
        unmet.append(UnmetGuard(name, reason, guard.overridable))
    return unmet


def _from(transition: dict[str, Any], stage: str) -> bool:
    source = transition["source"]
    return stage in source if isinstance(source, list) else stage == source


def fire(facts: CaseFacts, trigger: str) -> CaseModel:
    """Bind a model at ``facts.stage``, fire ``trigger``, unbind. Raises nothing: the caller checks
    ``model.moves`` (empty means refused) and asks ``unmet_guards`` why."""
    model = CaseModel(facts=facts)
    MACHINE.add_model(model, initial=facts.stage)
    try:
        if trigger in TRIGGERS and MACHINE.get_transitions(trigger, source=facts.stage):
            model.trigger(trigger)
    finally:
        MACHINE.remove_model(model)
    return model
