"""Opening cases and moving them through the state machine."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from casework.analytics.flags import best_threshold_window as best_register_window
from casework.analytics.timeline import load_timeline
from casework.calendars import OutsideCalendar, TermCalendar
from casework.durations import add
from casework.errors import (
    Conflict,
    FieldProblem,
    Forbidden,
    InvalidInput,
    NotFound,
    TransitionRefused,
    UnmetGuard,
)
from casework.models import (
    ApprovalRequest,
    Case,
    CaseEvent,
    Enrolment,
    Intervention,
    PenaltyNotice,
    Pupil,
    Responsibility,
    School,
    User,
)
from casework.vocabulary import (
    ApprovalStatus,
    CaseKind,
    Engagement,
    EventKind,
    InterventionKind,
    InterventionOutcome,
    Role,
    Session,
    Stage,
)
from workflows.clocks import on_happenings, stage_change, with_clocks
from workflows.context import Context
from workflows.facts import CaseFacts, InterventionFact, ListedSession, TriggerInput
from workflows.guards import GUARDS, threshold_sessions
from workflows.interventions import recorded_by_actor
from workflows.letters import send_letter
from workflows.machine import TRIGGERS, MoveRecord, fire, unmet_guards
from workflows.policy import can_hold, may_fire, team_of

# A case opens at one of the support-first stages; later stages are reached through the machine.
OPENING_STAGES = (Stage.EXPECT, Stage.MONITOR, Stage.LISTEN)


@dataclass
class OpenCase:
    pupil_id: int
    school_id: int
    kind: CaseKind = CaseKind.IRREGULAR_ATTENDANCE
    stage: Stage = Stage.MONITOR
    reason: str = ""
    owner_id: int | None = None


def open_case(ctx: Context, command: OpenCase) -> Case:
    ctx.require_role(
        Role.SCHOOL_STAFF,
        Role.TRADED_OFFICER,
        Role.STATUTORY_OFFICER,
        Role.LA_MANAGER,
        doing="open cases",
    )
    problems: list[FieldProblem] = []
    if command.stage not in OPENING_STAGES:
        problems.append(
            FieldProblem(
                "stage",
                command.stage,
                "a case opens at Expect, Monitor or Listen and understand; later stages are "
                "reached through the case's actions",
            )
        )
    if not command.reason.strip():
        problems.append(FieldProblem("reason", command.reason, "say why the case is opened"))
    pupil = ctx.session.scalars(
        select(Pupil).where(Pupil.id == command.pupil_id, ctx.scope.pupils())
    ).first()
    if pupil is None:
        raise NotFound("pupil", command.pupil_id)
    school = ctx.session.scalars(
        select(School).where(School.id == command.school_id, ctx.scope.schools())
    ).first()
    if school is None:
        raise NotFound("school", command.school_id)
    on_roll = ctx.session.scalar(
        select(Enrolment.id).where(
            Enrolment.pupil_id == pupil.id,
            Enrolment.school_id == school.id,
            Enrolment.start_date <= ctx.today(),
            (Enrolment.end_date.is_(None)) | (Enrolment.end_date >= ctx.today()),
        )
    )
    if on_roll is None:
        problems.append(
            FieldProblem("school_id", command.school_id, "the pupil is not on this school's roll")
        )
    owner = ctx.actor if command.owner_id is None else ctx.session.get(User, command.owner_id)
    if owner is None or not can_hold(owner, school):
        problems.append(
            FieldProblem(
                "owner_id",
                command.owner_id,
                "the case must be held by school staff at this school or an officer of its LA",
            )
        )
    if problems:
        raise InvalidInput(problems)
    already = ctx.session.scalar(
        select(Case.reference).where(
            Case.pupil_id == pupil.id, Case.school_id == school.id, Case.stage != Stage.CLOSED
        )
    )
    if already:
        raise Conflict(f"the pupil already has an open case at this school: {already}")
    # References are the LA's own running numbers per year ("340-24-00017"); two officers
    # opening cases at once may race for one, so the insert retries inside a savepoint.
    for attempt in range(REFERENCE_ATTEMPTS):
        try:
            with ctx.session.begin_nested():
                case = _insert_case(ctx, command, school, owner, _next_reference(ctx, school))
            return case
        except IntegrityError:
            if attempt == REFERENCE_ATTEMPTS - 1:
                raise Conflict("cases are being opened very quickly: try again") from None
    raise AssertionError("unreachable")


REFERENCE_ATTEMPTS = 5


def _next_reference(ctx: Context, school: School) -> str:
    prefix = f"{school.la.la_number}-{ctx.now():%y}-"
    latest = ctx.session.scalar(
        select(func.max(Case.reference)).where(Case.reference.startswith(prefix))
    )
    number = int(latest.removeprefix(prefix)) + 1 if latest else 1
    return f"{prefix}{number:05d}"


def _insert_case(
    ctx: Context, command: OpenCase, school: School, owner: User, reference: str
) -> Case:
    now = ctx.now()
    case = Case(
        reference=reference,
        pupil_id=command.pupil_id,
        school_id=school.id,
        la_id=school.la_id,
        kind=command.kind.value,
        stage=command.stage.value,
        owner=owner,
        team=team_of(owner).value,
        opened_at=now,
        last_event_sequence=0,
    )
    # Case, first holder and first event are inserted in one flush, so a new case is version 1.
    ctx.session.add(case)
    ctx.session.add(
        Responsibility(
            case=case,
            holder_id=owner.id,
            team=case.team,
            via="opened",
            since=now,
            reason=command.reason,
        )
    )
    clocks = on_happenings(ctx, case, [f"stage_entered:{case.stage}"], ctx.today())
    ctx.record(
        case,
        EventKind.OPENED,
        reason=command.reason,
        to_stage=case.stage,
        data=with_clocks({"kind": case.kind, "owner": owner.full_name, "team": case.team}, clocks),
    )
    ctx.session.flush()
    return case


@dataclass
class FireTrigger:
    trigger: str
    expected_version: int
    reason: str | None = None
    rationales: dict[str, str] = field(default_factory=dict)
    outcome: str | None = None
    sessions: list[ListedSession] = field(default_factory=list)


def current_interventions(ctx: Context, case: Case) -> list[Intervention]:
    """Interventions as they now stand: a superseded record gives way to its correction."""
    rows = ctx.session.scalars(
        select(Intervention).where(Intervention.case_id == case.id).order_by(Intervention.id)
    ).all()
    superseded = {r.supersedes_id for r in rows if r.supersedes_id}
    return [r for r in rows if r.id not in superseded]


def facts_for(ctx: Context, case: Case, given: TriggerInput | None = None) -> CaseFacts:
    approved = ctx.session.scalars(
        select(ApprovalRequest.target_stage).where(
            ApprovalRequest.case_id == case.id,
            ApprovalRequest.status == ApprovalStatus.APPROVED.value,
        )
    ).all()
    started = ctx.session.scalar(
        select(CaseEvent.id)
        .where(CaseEvent.case_id == case.id, CaseEvent.kind == EventKind.PROSECUTION_STARTED.value)
        .limit(1)
    )
    return CaseFacts(
        kind=CaseKind(case.kind),
        stage=case.stage,
        today=ctx.today(),
        profile=ctx.profile,
        interventions=tuple(
            InterventionFact(i.id, i.kind, i.occurred_on, i.family_engaged, i.outcome, i.details)
            for i in current_interventions(ctx, case)
        ),
        approved_stages=frozenset(approved),
        prosecution_started=started is not None,
        calendar=ctx.calendar_for(case.school_id),
        given=given or TriggerInput(),
        register_window=register_window(ctx, case.pupil_id),
        notices_outstanding=tuple(_outstanding_notices(ctx, case.id)),
    )


def _outstanding_notices(ctx: Context, case_id: int) -> list[str]:
    return list(
        ctx.session.scalars(
            select(PenaltyNotice.reference).where(
                PenaltyNotice.case_id == case_id,
                PenaltyNotice.status.in_(("drafted", "issued")),
            )
        )
    )


def register_window(ctx: Context, pupil_id: int) -> tuple[ListedSession, ...] | None:
    """The penalty-notice threshold window with the most counted sessions in the pupil's
    registers over the last year (any school), or None when no marks are held for them."""
    today = ctx.today()
    timeline = load_timeline(ctx.session, pupil_id, today - timedelta(days=400), today)
    if not timeline.sessions:
        return None
    best = best_register_window(timeline, ctx.profile.analytics, as_at=today)
    if best is None:
        return ()
    return tuple(ListedSession(m.day, m.session, m.code) for m in best.sessions)


@dataclass
class Action:
    trigger: str
    allowed: bool
    unmet: list[UnmetGuard]
    # The threshold is judged on the pupil's registers, so no sessions need listing.
    registers_held: bool = False


def available_actions(ctx: Context, case_id: int) -> tuple[Case, list[Action]]:
    """Every trigger, whether it is allowed now, and if not each unmet guard's reason."""
    case = ctx.case(case_id)
    facts = facts_for(ctx, case)
    actions = []
    for trigger in TRIGGERS:
        unmet = unmet_guards(facts, trigger)
        refusal = may_fire(Role(ctx.actor.role), trigger)
        if refusal:
            unmet = [UnmetGuard("role", refusal), *unmet]
        actions.append(Action(trigger, not unmet, unmet, facts.register_window is not None))
    return case, actions


def _validate(ctx: Context, case: Case, command: FireTrigger) -> None:
    problems: list[FieldProblem] = []
    if command.trigger not in TRIGGERS:
        problems.append(
            FieldProblem(
                "trigger", command.trigger, "not a case action; see GET /cases/{id}/actions"
            )
        )
    counted = ctx.profile.notice_to_improve.counted_codes
    calendar = ctx.calendar_for(case.school_id)
    seen: set[tuple[date, str]] = set()
    for n, listed in enumerate(command.sessions):
        where = f"sessions[{n}]"
        if listed.session not in {s.value for s in Session}:
            problems.append(FieldProblem(f"{where}.session", listed.session, "AM or PM"))
        if listed.code not in counted:
            problems.append(
                FieldProblem(
                    f"{where}.code",
                    listed.code,
                    f"only unauthorised absence counts toward the threshold: {', '.join(counted)}",
                )
            )
        if listed.day > ctx.today():
            problems.append(
                FieldProblem(
                    f"{where}.date", listed.day.isoformat(), "a session cannot be in the future"
                )
            )
        elif not _is_school_day(calendar, listed.day):
            problems.append(
                FieldProblem(
                    f"{where}.date", listed.day.isoformat(), "not a school day for this school"
                )
            )
        if (listed.day, listed.session) in seen:
            problems.append(
                FieldProblem(
                    where, f"{listed.day} {listed.session}", "the same session is listed twice"
                )
            )
        seen.add((listed.day, listed.session))
    unknown = set(command.rationales) - set(GUARDS)
    for name in sorted(unknown):
        problems.append(
            FieldProblem(f"rationales.{name}", command.rationales[name], "no guard of that name")
        )
    for name in sorted(set(command.rationales) & set(GUARDS)):
        if not GUARDS[name].overridable:
            problems.append(
                FieldProblem(
                    f"rationales.{name}",
                    command.rationales[name],
                    "this requirement cannot be set aside by a rationale",
                )
            )
    if problems:
        raise InvalidInput(problems)


def fire_trigger(ctx: Context, case_id: int, command: FireTrigger) -> Case:
    """Fire one trigger on one case, or refuse with every unmet guard's reason."""
    case = ctx.case(case_id)
    refusal = may_fire(Role(ctx.actor.role), command.trigger)
    if refusal:
        raise Forbidden(refusal)
    if case.version != command.expected_version:
        raise Conflict(
            f"the case has changed since it was read (version {command.expected_version}, "
            f"now {case.version}): reload it and try again"
        )
    _validate(ctx, case, command)
    given = TriggerInput(
        reason=command.reason,
        rationales={k: v for k, v in command.rationales.items() if v and v.strip()},
        outcome=command.outcome,
        sessions=tuple(command.sessions),
    )
    facts = facts_for(ctx, case, given)
    model = fire(facts, command.trigger)
    if not model.moves:
        raise TransitionRefused(command.trigger, case.stage, unmet_guards(facts, command.trigger))
    move = model.moves[-1]
    _apply(ctx, case, move, given, facts)
    ctx.session.flush()
    return case


def _apply(ctx: Context, case: Case, move: MoveRecord, given: TriggerInput, facts: CaseFacts):
    data: dict = {"trigger": move.trigger}
    if move.overridden:
        data["rationales"] = move.overridden
    if move.dest is None:
        _apply_internal(ctx, case, move, given, facts, data)
        return
    previous = case.stage
    case.stage = move.dest
    if move.dest == Stage.CLOSED:
        case.closed_at, case.outcome, case.closed_from_stage = ctx.now(), given.outcome, previous
        kind = EventKind.CLOSED
        data["outcome"] = given.outcome
    elif previous == Stage.CLOSED:
        case.closed_at, case.outcome = None, None
        kind = EventKind.REOPENED
    else:
        kind = EventKind.STAGE_CHANGED
    for level, stage in (("from_level", previous), ("to_level", move.dest)):
        found = ctx.profile.level_for(stage)
        if found:
            data[level] = found.number
    clocks = on_happenings(ctx, case, stage_change(previous, move.dest), ctx.today())
    ctx.record(
        case,
        kind,
        reason=given.reason,
        from_stage=previous,
        to_stage=move.dest,
        data=with_clocks(data, clocks),
    )
    _use_approval(ctx, case, move.dest)


def _use_approval(ctx: Context, case: Case, stage: str) -> None:
    approval = ctx.session.scalars(
        select(ApprovalRequest).where(
            ApprovalRequest.case_id == case.id,
            ApprovalRequest.target_stage == stage,
            ApprovalRequest.status == ApprovalStatus.APPROVED.value,
        )
    ).first()
    if approval is not None:
        approval.status = ApprovalStatus.USED.value


def _apply_internal(ctx, case, move, given, facts, data) -> None:
    if move.trigger == "issue_notice_to_improve":
        rules = ctx.profile.notice_to_improve
        issued = ctx.today()
        window, _ = threshold_sessions(facts)
        notice = recorded_by_actor(
            ctx,
            case,
            kind=InterventionKind.NOTICE_TO_IMPROVE.value,
            occurred_on=issued,
            attendees=[],
            family_engaged=Engagement.NOT_APPLICABLE.value,
            outcome=InterventionOutcome.PENDING.value,
            summary=given.reason or "Notice to Improve issued",
            details={
                "issued_on": issued.isoformat(),
                "period": str(rules.period.duration()),
                "expires_on": add(facts.calendar, issued, rules.period.duration()).isoformat(),
                "sessions_relied_on": [
                    {"date": s.day.isoformat(), "session": s.session, "code": s.code}
                    for s in window
                ],
            },
        )
        ctx.session.add(notice)
        ctx.session.flush()
        data.update(expires_on=notice.details["expires_on"], sessions=len(window))
        clocks = on_happenings(
            ctx,
            case,
            [f"intervention:{InterventionKind.NOTICE_TO_IMPROVE.value}"],
            issued,
            due=date.fromisoformat(notice.details["expires_on"]),
            intervention_id=notice.id,
        )
        ctx.record(
            case,
            EventKind.NOTICE_TO_IMPROVE_ISSUED,
            reason=given.reason,
            data=with_clocks(data, clocks),
            intervention_id=notice.id,
        )
        send_letter(ctx, case.id, "notice_to_improve")  # one letter per parent, as exhibits
    elif move.trigger == "start_prosecution":
        # Laying the information is what the 6-month limit asks for: its clock stops here.
        clocks = on_happenings(ctx, case, ["prosecution_started"], ctx.today())
        ctx.record(
            case, EventKind.PROSECUTION_STARTED, reason=given.reason, data=with_clocks(data, clocks)
        )


def _is_school_day(calendar: TermCalendar, day: date) -> bool:
    """A day the school's calendar cannot answer for (outside every year it covers) is refused
    as a school day, so the officer is told which date to correct."""
    try:
        return calendar.is_school_day(day)
    except OutsideCalendar:
        return False
