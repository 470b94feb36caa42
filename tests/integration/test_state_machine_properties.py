"""Random case histories through the real services: the chronology always tells the truth.

A case is opened by the Oakfield attendance lead on the synthetic Knowsley world, then hypothesis
drives it through random sequences of interventions, outcomes, approval requests and decisions,
case actions (with random reasons, rationales, outcomes and listed sessions, by random users) and
the passing of time. Each step is its own unit of work: committed when the service accepts it,
rolled back when it refuses. After every step the case, its events and its evidence are re-read
from the database and checked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from casework.durations import is_working_day
from casework.errors import CaseworkError
from casework.models import ApprovalRequest, Case, CaseEvent, Intervention, User
from casework.vocabulary import (
    ApprovalStatus,
    Engagement,
    EventKind,
    InterventionKind,
    InterventionOutcome,
    Outcome,
    Stage,
)
from workflows.approvals import decide_approval, request_approval
from workflows.cases import FireTrigger, OpenCase, fire_trigger, open_case
from workflows.context import Context
from workflows.facts import ListedSession
from workflows.guards import GUARDS
from workflows.interventions import (
    RecordIntervention,
    RecordOutcome,
    record_intervention,
    record_outcome,
)
from workflows.machine import TRANSITIONS, TRIGGERS
from workflows.policy import STATUTORY_TRIGGERS

START = datetime(2024, 11, 20, 10, 0, tzinfo=UTC)  # the clock fixture's Wednesday
ACTORS = ["oak_lead", "oak_head", "traded", "statutory", "manager"]
LEGAL_ACTORS = {"statutory", "manager"}  # the only users who may take legal action
STAGES = {s.value for s in Stage}
OVERRIDABLE = sorted(name for name, guard in GUARDS.items() if guard.overridable)

# --- steps -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Intervene:
    actor: str
    kind: str
    days_ago: int
    engaged: str
    outcome: str
    agency: str | None


@dataclass(frozen=True)
class RecordResult:
    actor: str
    pick: int
    outcome: str
    engaged: str | None
    note: str


@dataclass(frozen=True)
class RequestApproval:
    actor: str
    target: str
    reason: str


@dataclass(frozen=True)
class Decide:
    actor: str
    pick: int
    approve: bool
    reason: str


@dataclass(frozen=True)
class Fire:
    actor: str
    trigger: str
    reason: str | None
    rationales: tuple[str, ...]
    rationale_text: str
    outcome: str | None
    sessions: str  # "none", "threshold" or "random"
    codes: tuple[str, ...]
    stale: bool


@dataclass(frozen=True)
class Wait:
    days: int


actors = st.sampled_from(ACTORS)
texts = st.sampled_from(["", "   ", "discussed with the family"])

intervene = st.builds(
    Intervene,
    actors,
    st.sampled_from([k.value for k in InterventionKind]),
    st.integers(-2, 60),  # a negative age is a date in the future, which must be refused
    st.sampled_from([e.value for e in Engagement] + ["bogus"]),
    st.sampled_from([o.value for o in InterventionOutcome]),
    st.sampled_from([None, "", "Family First"]),
)
record_result = st.builds(
    RecordResult,
    actors,
    st.integers(0, 50),
    st.sampled_from([o.value for o in InterventionOutcome] + ["bogus"]),
    st.sampled_from([None, *[e.value for e in Engagement]]),
    texts,
)
request = st.builds(
    RequestApproval,
    actors,
    st.sampled_from([Stage.ENFORCE.value, Stage.FORMALISE.value]),
    texts,
)
decide = st.builds(Decide, actors, st.integers(0, 10), st.booleans(), texts)
fire = st.builds(
    Fire,
    actors,
    st.sampled_from([*TRIGGERS, "advance_to_nowhere"]),
    st.sampled_from([None, "", "  ", "agreed at the review meeting"]),
    st.one_of(
        st.just(()),
        st.just(tuple(OVERRIDABLE)),
        st.lists(st.sampled_from([*sorted(GUARDS), "no_such_guard"]), max_size=3).map(tuple),
    ),
    st.sampled_from(["bypassed: agreed with the manager", "  "]),
    st.sampled_from([None, Outcome.IMPROVED.value, Outcome.LEFT_ROLL.value, "fined"]),
    st.sampled_from(["none", "none", "threshold", "random"]),
    st.lists(st.sampled_from("GNOUCX"), min_size=1, max_size=12).map(tuple),
    st.booleans(),
)


# Steps with a purpose, so that histories reach the later stages often enough: an officer firing
# a trigger possible from the case's current stage with a reason, an outcome, every rationale and
# the threshold sessions listed; the evidence later stages ask for; a request for approval and the
# manager granting it.
def _possible_from(stage: str) -> list[str]:
    possible = [
        t["trigger"]
        for t in TRANSITIONS
        if stage in (t["source"] if isinstance(t["source"], list) else [t["source"]])
    ]
    onward = [t for t in possible if not t.startswith(("step_down_to_", "close"))]
    return possible + onward * 3  # moving on is three times as likely as stepping down


def purposeful_fire(stage: str) -> st.SearchStrategy[Fire]:
    def by_someone_who_may(trigger: str) -> st.SearchStrategy[Fire]:
        who = LEGAL_ACTORS if trigger in STATUTORY_TRIGGERS else {"oak_lead", *LEGAL_ACTORS}
        return st.builds(
            Fire,
            st.sampled_from(sorted(who)),
            st.just(trigger),
            st.just("the family has not engaged"),
            st.just(tuple(OVERRIDABLE)),
            st.just("bypassed: agreed with the manager"),
            st.just(Outcome.IMPROVED.value),
            st.just("threshold"),
            st.sampled_from([("O",), ("G", "U")]),
            st.just(False),
        )

    return st.sampled_from(_possible_from(stage)).flatmap(by_someone_who_may)


def purposeful_evidence(stage: str) -> st.SearchStrategy[Intervene]:
    kinds = [
        InterventionKind.ESO_CONSIDERATION.value,
        InterventionKind.ATTENDANCE_CONTRACT.value,
        InterventionKind.ATTENDANCE_IMPROVEMENT_MEETING.value,
    ]
    return st.builds(
        Intervene,
        st.just("oak_lead"),
        st.sampled_from(kinds[:1] if stage == Stage.ENFORCE else kinds),
        st.integers(0, 5),
        st.just(Engagement.NOT_ENGAGED.value),
        st.just(InterventionOutcome.NOT_IMPROVED.value),
        st.none(),
    )


purposeful_request = st.builds(
    RequestApproval, st.just("oak_lead"), st.just(Stage.ENFORCE.value), st.just("no improvement")
)
purposeful_decide = st.builds(
    Decide, st.just("manager"), st.just(-1), st.just(True), st.just("agreed")
)
wait = st.builds(Wait, st.integers(1, 30))


def next_step(stage: str) -> st.SearchStrategy:
    approvals = [purposeful_request, purposeful_decide] * (2 if stage == Stage.FORMALISE else 1)
    evidence = [purposeful_evidence(stage)] * (3 if stage == Stage.ENFORCE else 1)
    return st.one_of(
        intervene,
        record_result,
        request,
        decide,
        fire,
        wait,
        purposeful_fire(stage),
        purposeful_fire(stage),
        *evidence,
        *approvals,
    )


# --- reading the case back ------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    stage: str
    version: int
    last_sequence: int
    closed_at: datetime | None
    outcome: str | None
    events: list[CaseEvent]
    interventions: list[int]
    approvals: list[tuple[int, str, str, int, int | None]]


def snapshot(db, case_id: int) -> Snapshot:
    with db.factory() as session:
        case = session.get(Case, case_id)
        events = session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
        ).all()
        interventions = session.scalars(
            select(Intervention.id).where(Intervention.case_id == case_id).order_by(Intervention.id)
        ).all()
        approvals = session.execute(
            select(
                ApprovalRequest.id,
                ApprovalRequest.target_stage,
                ApprovalRequest.status,
                ApprovalRequest.requested_by_id,
                ApprovalRequest.decided_by_id,
            )
            .where(ApprovalRequest.case_id == case_id)
            .order_by(ApprovalRequest.id)
        ).all()
        return Snapshot(
            case.stage,
            case.version,
            case.last_event_sequence,
            case.closed_at,
            case.outcome,
            list(events),
            list(interventions),
            [tuple(a) for a in approvals],
        )


def check_invariants(snap: Snapshot, users: dict[str, int]) -> None:
    assert snap.stage in STAGES
    sequences = [e.sequence for e in snap.events]
    assert sequences == list(range(1, len(snap.events) + 1))
    assert snap.last_sequence == len(snap.events)
    staged = [e for e in snap.events if e.to_stage is not None]
    assert staged and staged[-1].to_stage == snap.stage
    assert (snap.stage == Stage.CLOSED) == (snap.closed_at is not None)
    assert (snap.stage == Stage.CLOSED) == (snap.outcome is not None)
    assert snap.outcome is None or snap.outcome in {o.value for o in Outcome}
    for entry in snap.events:
        assert entry.from_stage is None or entry.from_stage in STAGES
        assert entry.to_stage is None or entry.to_stage in STAGES
        if entry.data.get("trigger") in STATUTORY_TRIGGERS:
            assert entry.actor_id in {users[name] for name in LEGAL_ACTORS}
    prosecutions = [e for e in snap.events if e.kind == EventKind.PROSECUTION_STARTED]
    assert len(prosecutions) <= 1
    # Knowsley asks approval before Enforce: every move into Enforce used up one approval, which
    # someone other than its requester gave.
    into_enforce = [
        e for e in snap.events if e.kind == EventKind.STAGE_CHANGED and e.to_stage == Stage.ENFORCE
    ]
    used = [a for a in snap.approvals if a[2] == ApprovalStatus.USED]
    assert len(used) == len(into_enforce)
    for _, _, status, requested_by, decided_by in snap.approvals:
        if status != ApprovalStatus.PENDING:
            assert decided_by is not None and decided_by != requested_by


# --- running a step -------------------------------------------------------------------------


def _sessions(step: Fire, today: date) -> list[ListedSession]:
    if step.sessions == "none":
        return []
    if step.sessions == "threshold":
        # the last five working days before today, AM and PM: ten sessions in at most two weeks
        days, day = [], today
        while len(days) < 5:
            day -= timedelta(days=1)
            if is_working_day(day):
                days.append(day)
        slots = [(d, s) for d in days for s in ("AM", "PM")]
    else:
        slots = [(today - timedelta(days=3 * n + 1), "AM" if n % 2 else "PM") for n in range(12)]
    codes = (step.codes * len(slots))[: len(slots)]
    return [ListedSession(d, s, c) for (d, s), c in zip(slots, codes, strict=True)]


def run_step(step, ctx: Context, case_id: int, before: Snapshot) -> str:
    """Do ``step``; return what kind of change it is (the caller commits)."""
    match step:
        case Intervene():
            record_intervention(
                ctx,
                case_id,
                RecordIntervention(
                    kind=step.kind,
                    occurred_on=ctx.today() - timedelta(days=step.days_ago),
                    summary="Contact with the family",
                    family_engaged=step.engaged,
                    outcome=step.outcome,
                    details={"agency": step.agency} if step.agency is not None else {},
                ),
            )
            return "intervention"
        case RecordResult():
            if not before.interventions:
                return "nothing"
            target = before.interventions[step.pick % len(before.interventions)]
            record_outcome(
                ctx,
                case_id,
                target,
                RecordOutcome(step.outcome, step.engaged, step.note),
            )
            return "intervention"
        case RequestApproval():
            request_approval(ctx, case_id, step.target, step.reason)
            return "approval"
        case Decide():
            if not before.approvals:
                return "nothing"
            approval_id = before.approvals[step.pick % len(before.approvals)][0]
            decide_approval(ctx, approval_id, step.approve, step.reason)
            return "approval"
        case Fire():
            fire_trigger(
                ctx,
                case_id,
                FireTrigger(
                    trigger=step.trigger,
                    expected_version=before.version - 1 if step.stale else before.version,
                    reason=step.reason,
                    rationales={name: step.rationale_text for name in step.rationales},
                    outcome=step.outcome,
                    sessions=_sessions(step, ctx.today()),
                ),
            )
            return "trigger"
    raise AssertionError(step)


def check_change(change: str, step, before: Snapshot, after: Snapshot, users, now) -> None:
    """An accepted change: exactly one new event, by the actor, now, and a higher version
    (issuing a Notice to Improve is followed by one letter_sent event per parent)."""
    added = after.events[len(before.events) :]
    letters = 2 if change == "trigger" and step.trigger == "issue_notice_to_improve" else 0
    assert len(added) == 1 + letters  # the Ashdown parents both have parental responsibility
    for letter in added[1:]:
        assert letter.kind == EventKind.LETTER_SENT and letter.actor_id == users[step.actor]
    new = added[0]
    assert new.actor_id == users[step.actor]
    assert new.occurred_at == now
    assert after.version > before.version
    assert after.interventions[: len(before.interventions)] == before.interventions
    match change:
        case "intervention":
            assert new.kind == EventKind.INTERVENTION_RECORDED
            assert len(after.interventions) == len(before.interventions) + 1
            assert new.intervention_id == after.interventions[-1]
            assert after.stage == before.stage
        case "approval":
            assert new.kind in {EventKind.APPROVAL_REQUESTED, EventKind.APPROVAL_DECIDED}
            assert after.interventions == before.interventions
            assert after.stage == before.stage
        case "trigger" if step.trigger == "issue_notice_to_improve":
            assert new.kind == EventKind.NOTICE_TO_IMPROVE_ISSUED
            assert len(after.interventions) == len(before.interventions) + 1
            assert new.intervention_id == after.interventions[-1]
            assert after.stage == before.stage == Stage.FORMALISE
        case "trigger" if step.trigger == "start_prosecution":
            assert new.kind == EventKind.PROSECUTION_STARTED
            assert after.interventions == before.interventions
            assert after.stage == before.stage == Stage.ENFORCE
        case "trigger":
            assert (new.from_stage, new.to_stage) == (before.stage, after.stage)
            assert new.to_stage != new.from_stage
            assert after.interventions == before.interventions
            if after.stage == Stage.CLOSED:
                assert new.kind == EventKind.CLOSED
            elif before.stage == Stage.CLOSED:
                assert new.kind == EventKind.REOPENED
                assert after.stage == Stage.MONITOR
            else:
                assert new.kind == EventKind.STAGE_CHANGED
        case _:
            raise AssertionError(change)
    if change == "trigger":
        assert new.data["trigger"] == step.trigger
        for name, text in new.data.get("rationales", {}).items():
            assert GUARDS[name].overridable
            assert text.strip()


def check_nothing_changed(before: Snapshot, after: Snapshot) -> None:
    assert after.version == before.version
    assert after.stage == before.stage
    assert [e.id for e in after.events] == [e.id for e in before.events]
    assert after.interventions == before.interventions
    assert after.approvals == before.approvals


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_case_histories_keep_the_chronology_consistent(db, clock, data):
    users = db.world.users

    def as_user(name: str) -> Context:
        session = db.factory()
        return Context.build(session, session.get(User, users[name]), clock)

    def in_unit_of_work(name: str, work: Callable[[Context], object]) -> bool:
        """Commit what ``work`` did, or roll back when a service refuses (True if committed)."""
        ctx = as_user(name)
        try:
            work(ctx)
            ctx.commit()
            return True
        except CaseworkError as refusal:
            event(f"refused: {type(refusal).__name__}")
            ctx.session.rollback()
            return False
        finally:
            ctx.session.close()

    clock.set(START)
    opened: list[int] = []
    assert in_unit_of_work(
        "oak_lead",
        lambda ctx: opened.append(
            open_case(
                ctx, OpenCase(db.world.pupil_oak, db.world.oakfield, reason="attendance 88%")
            ).id
        ),
    )
    [case_id] = opened
    try:
        snap = snapshot(db, case_id)
        check_invariants(snap, users)
        assert [e.kind for e in snap.events] == [EventKind.OPENED]
        for _ in range(data.draw(st.integers(15, 40), label="steps")):
            step = data.draw(next_step(snap.stage))
            if isinstance(step, Wait):
                clock.set(clock.now() + timedelta(days=step.days))
                continue
            before, done = snap, []
            ok = in_unit_of_work(
                step.actor,
                lambda ctx, step=step, before=before, done=done: done.append(
                    run_step(step, ctx, case_id, before)
                ),
            )
            snap = snapshot(db, case_id)
            check_invariants(snap, users)
            event(f"{type(step).__name__}: {'accepted' if ok else 'refused'}")
            event(f"reached {snap.stage}")
            if ok and isinstance(step, Fire):
                event(f"fired {step.trigger}")
            if ok and done != ["nothing"]:
                check_change(done[0], step, before, snap, users, clock.now())
            else:
                check_nothing_changed(before, snap)
    finally:
        # Leave no open case behind: the next example opens a new case for the same pupil.
        final = snapshot(db, case_id)
        if final.stage != Stage.CLOSED:
            in_unit_of_work(
                "oak_lead",
                lambda ctx: fire_trigger(
                    ctx,
                    case_id,
                    FireTrigger(
                        "close", final.version, reason="end of example", outcome=Outcome.OTHER.value
                    ),
                ),
            )
