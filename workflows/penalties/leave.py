"""Leave of absence in term time: the parent's application, the headteacher's decision with
reasons, and the leave as taken laid in the register (C where authorised, G where refused).

Leave may be granted only in exceptional circumstances, only on an application made in advance
by a parent the pupil normally lives with, and never retrospectively (RULES.md §2.6; the school
policy seed's "Leave of absence"). The request, the refusal and the register extract are what a
holiday penalty-notice request relies on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from casework.durations import sessions_on
from casework.errors import FieldProblem, InvalidInput, NotFound
from casework.models import Enrolment, LeaveDecision, LeaveRequest, Pupil, PupilContact, School
from casework.registers.codes import ATTENDANCE_CLASSES, CODES
from casework.registers.store import Recorder, record_marks, register_extract
from casework.vocabulary import Role
from workflows.context import Context
from workflows.guards import long_date

SCHOOL_ROLES = (Role.SCHOOL_STAFF, Role.TRADED_OFFICER, Role.STATUTORY_OFFICER, Role.LA_MANAGER)
DECISIONS = ("authorised", "partly_authorised", "refused")
LONGEST_LEAVE_DAYS = 366


@dataclass
class ApplyForLeave:
    pupil_id: int
    school_id: int
    contact_id: int
    applied_on: date
    first_day: date
    last_day: date
    reason: str


def _pupil_at_school(ctx: Context, pupil_id: int, school_id: int) -> tuple[Pupil, School]:
    pupil = ctx.session.scalars(
        select(Pupil).where(Pupil.id == pupil_id, ctx.scope.pupils())
    ).first()
    if pupil is None:
        raise NotFound("pupil", pupil_id)
    school = ctx.session.scalars(
        select(School).where(School.id == school_id, ctx.scope.schools())
    ).first()
    if school is None:
        raise NotFound("school", school_id)
    return pupil, school


def apply_for_leave(ctx: Context, command: ApplyForLeave) -> LeaveRequest:
    ctx.require_role(*SCHOOL_ROLES, doing="record leave requests")
    pupil, school = _pupil_at_school(ctx, command.pupil_id, command.school_id)
    problems: list[FieldProblem] = []
    link = ctx.session.get(PupilContact, (pupil.id, command.contact_id))
    if link is None:
        problems.append(
            FieldProblem("contact_id", command.contact_id, "not a contact recorded for the pupil")
        )
    on_roll = ctx.session.scalar(
        select(Enrolment.id).where(
            Enrolment.pupil_id == pupil.id,
            Enrolment.school_id == school.id,
            Enrolment.start_date <= command.first_day,
            (Enrolment.end_date.is_(None)) | (Enrolment.end_date >= command.first_day),
        )
    )
    if on_roll is None:
        problems.append(
            FieldProblem("school_id", school.id, "the pupil is not on this school's roll then")
        )
    if command.last_day < command.first_day:
        problems.append(
            FieldProblem(
                "last_day",
                command.last_day.isoformat(),
                f"before the first day ({command.first_day.isoformat()})",
            )
        )
    elif (command.last_day - command.first_day).days > LONGEST_LEAVE_DAYS:
        problems.append(
            FieldProblem("last_day", command.last_day.isoformat(), "leave longer than a year")
        )
    if command.applied_on > ctx.today():
        problems.append(
            FieldProblem("applied_on", command.applied_on.isoformat(), "cannot be in the future")
        )
    if not command.reason.strip():
        problems.append(FieldProblem("reason", command.reason, "the reason the parent gave"))
    if problems:
        raise InvalidInput(problems)
    request = LeaveRequest(
        la_id=school.la_id,
        school_id=school.id,
        pupil_id=pupil.id,
        applied_by_contact_id=command.contact_id,
        applied_on=command.applied_on,
        first_day=command.first_day,
        last_day=command.last_day,
        reason=command.reason.strip(),
        recorded_by_id=ctx.actor.id,
        recorded_at=ctx.now(),
    )
    ctx.session.add(request)
    ctx.session.flush()
    return request


def leave_request_for(ctx: Context, request_id: int) -> LeaveRequest:
    """A leave request for a pupil the user may see, at a school the user may see (a pupil on
    two schools' rolls has each school's requests seen by that school)."""
    found = ctx.session.scalars(
        select(LeaveRequest)
        .join(Pupil, Pupil.id == LeaveRequest.pupil_id)
        .join(School, School.id == LeaveRequest.school_id)
        .where(LeaveRequest.id == request_id, ctx.scope.pupils(), ctx.scope.schools())
    ).first()
    if found is None:
        raise NotFound("leave request", request_id)
    return found


def decision_of(ctx: Context, request: LeaveRequest) -> LeaveDecision | None:
    return ctx.session.scalars(
        select(LeaveDecision).where(LeaveDecision.request_id == request.id)
    ).first()


@dataclass
class DecideLeave:
    decision: str
    exceptional_circumstances: bool
    reasons: str
    decided_on: date
    decided_by_name: str
    decided_by_position: str
    authorised_from: date | None = None
    authorised_to: date | None = None


def school_days_between(ctx: Context, school_id: int, first: date, last: date) -> int:
    calendar = ctx.calendar_for(school_id)
    return sum(
        1
        for n in range((last - first).days + 1)
        if calendar.is_school_day(first + timedelta(days=n))
    )


def decide_leave(ctx: Context, request_id: int, command: DecideLeave) -> LeaveDecision:
    """Record the headteacher's decision. Leave is authorised only for exceptional
    circumstances and only on an application made before the leave began."""
    ctx.require_role(Role.SCHOOL_STAFF, Role.TRADED_OFFICER, doing="record leave decisions")
    request = leave_request_for(ctx, request_id)
    if decision_of(ctx, request) is not None:
        raise InvalidInput.one(
            "request_id", request_id, "a decision is already recorded for this request"
        )
    problems: list[FieldProblem] = []
    if command.decision not in DECISIONS:
        problems.append(
            FieldProblem("decision", command.decision, "one of: " + ", ".join(DECISIONS))
        )
    granting = command.decision in ("authorised", "partly_authorised")
    if granting and not command.exceptional_circumstances:
        problems.append(
            FieldProblem(
                "exceptional_circumstances",
                False,
                "leave in term time may be granted only in exceptional circumstances",
            )
        )
    if granting and request.applied_on >= request.first_day:
        problems.append(
            FieldProblem(
                "decision",
                command.decision,
                f"the application was made on {long_date(request.applied_on)}, not before the "
                f"leave began ({long_date(request.first_day)}): leave cannot be authorised "
                "retrospectively",
            )
        )
    if not command.reasons.strip():
        problems.append(FieldProblem("reasons", command.reasons, "the reasons for the decision"))
    for name in ("decided_by_name", "decided_by_position"):
        if not getattr(command, name).strip():
            problems.append(
                FieldProblem(
                    name,
                    getattr(command, name),
                    "the headteacher, or the person they authorised, who decided",
                )
            )
    if command.decided_on < request.applied_on or command.decided_on > ctx.today():
        problems.append(
            FieldProblem(
                "decided_on",
                command.decided_on.isoformat(),
                "between the application and today",
            )
        )
    days = 0
    start, end = command.authorised_from, command.authorised_to
    if command.decision == "authorised":
        start, end = start or request.first_day, end or request.last_day
    if granting:
        if start is None or end is None or start > end:
            problems.append(
                FieldProblem(
                    "authorised_from", f"{start}..{end}", "the first and last day authorised"
                )
            )
        elif start < request.first_day or end > request.last_day:
            problems.append(
                FieldProblem(
                    "authorised_from", f"{start}..{end}", "inside the dates the parent asked for"
                )
            )
        else:
            days = school_days_between(ctx, request.school_id, start, end)
    else:
        start = end = None
    if problems:
        raise InvalidInput(problems)
    decision = LeaveDecision(
        request_id=request.id,
        decision=command.decision,
        exceptional_circumstances=command.exceptional_circumstances,
        reasons=command.reasons.strip(),
        decided_on=command.decided_on,
        decided_by_name=command.decided_by_name.strip(),
        decided_by_position=command.decided_by_position.strip(),
        authorised_from=start,
        authorised_to=end,
        school_days_authorised=days,
        recorded_by_id=ctx.actor.id,
        recorded_at=ctx.now(),
    )
    ctx.session.add(decision)
    ctx.session.flush()
    return decision


def record_leave_taken(ctx: Context, request_id: int, first_absent: date, last_absent: date) -> int:
    """Lay the leave as taken in the register: C (leave for exceptional circumstances) on the
    days authorised, G (holiday not granted) on the rest, within the dates asked for and never
    over a mark showing the pupil attending. Returns the sessions changed."""
    ctx.require_role(Role.SCHOOL_STAFF, Role.TRADED_OFFICER, doing="record marks")
    request = leave_request_for(ctx, request_id)
    decision = decision_of(ctx, request)
    if decision is None:
        raise InvalidInput.one(
            "request_id", request_id, "record the headteacher's decision before the leave taken"
        )
    problems = []
    if first_absent < request.first_day or first_absent > request.last_day:
        problems.append(
            FieldProblem(
                "first_absent",
                first_absent.isoformat(),
                f"within the leave asked for ({request.first_day.isoformat()} to "
                f"{request.last_day.isoformat()}); other absence is marked in the register",
            )
        )
    if last_absent < first_absent or last_absent > request.last_day or last_absent > ctx.today():
        problems.append(
            FieldProblem(
                "last_absent",
                last_absent.isoformat(),
                f"from {first_absent.isoformat()} to the last day of leave asked for "
                f"({request.last_day.isoformat()}), and not in the future",
            )
        )
    if problems:
        raise InvalidInput(problems)
    calendar = ctx.calendar_for(request.school_id)
    marks = []
    day = first_absent
    while day <= last_absent:
        authorised = (
            decision.authorised_from is not None
            and decision.authorised_from <= day <= decision.authorised_to
        )
        for session in sorted(sessions_on(calendar, day)):
            marks.append((day, session.value.upper(), "C" if authorised else "G"))
        day += timedelta(days=1)
    if not marks:
        raise InvalidInput.one(
            "first_absent", first_absent.isoformat(), "no school sessions fall in these dates"
        )
    held = {
        (day, name): code
        for day, name, code in register_extract(
            ctx.session, request.pupil_id, request.school_id, first_absent, last_absent
        )
    }
    present = [
        f"{day.isoformat()} {name} ({held[day, name]})"
        for day, name, _ in marks
        if (day, name) in held
        and CODES.get(held[day, name]) is not None
        and CODES[held[day, name]].stat_class in ATTENDANCE_CLASSES
    ]
    if present:
        raise InvalidInput.one(
            "first_absent",
            first_absent.isoformat(),
            "the register shows the pupil attending on "
            + ", ".join(present[:5])
            + ": lay leave only on the days the pupil was away",
        )
    recorded = record_marks(
        ctx.session,
        pupil_id=request.pupil_id,
        school_id=request.school_id,
        marks=marks,
        by=Recorder(ctx.actor.id, ctx.actor.full_name, ctx.actor.position),
        reason=f"leave of absence request {request.id}: {decision.decision}",
        source="leave_of_absence",
        at=ctx.now(),
    )
    return recorded.new + recorded.amended


def leave_bundle(ctx: Context, request_id: int) -> dict:
    """The request, the decision and the register extract over the leave, kept together for a
    holiday penalty-notice request."""
    request = leave_request_for(ctx, request_id)
    decision = decision_of(ctx, request)
    extract = register_extract(
        ctx.session, request.pupil_id, request.school_id, request.first_day, request.last_day
    )
    return {"request": request, "decision": decision, "register": extract}
