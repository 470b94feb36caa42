"""Penalty-notice requests: a school asks the LA to issue (or an LA officer starts one), relying
on sessions in the pupil's registers; for a holiday the leave request, the refusal and the
register extract are kept with it. The LA accepts and issues a notice to each parent, or
declines with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from casework.analytics.timeline import load_timeline
from casework.errors import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from casework.models import (
    Case,
    LeaveDecision,
    LeaveRequest,
    PenaltyNotice,
    PenaltyNoticeRequest,
)
from casework.vocabulary import EventKind, Role, Stage
from workflows.context import Context
from workflows.facts import ListedSession
from workflows.guards import long_date
from workflows.penalties.notices import (
    OFFICERS,
    DraftNotices,
    _reason,
    _validate_sessions,
    draft_notices,
    issue_notice,
    sessions_from_registers,
)
from workflows.penalties.rules import NoticeReason

REQUESTERS = (Role.SCHOOL_STAFF, Role.TRADED_OFFICER, *OFFICERS)
PENDING, ACCEPTED, DECLINED = "pending", "accepted", "declined"


@dataclass
class MakeRequest:
    case_id: int
    reason: str
    summary: str
    # None: the best threshold window in the pupil's registers (the school's usual case).
    sessions: list[ListedSession] | None = None
    leave_request_id: int | None = None


def request_for(ctx: Context, request_id: int, *, for_update: bool = False) -> PenaltyNoticeRequest:
    query = (
        select(PenaltyNoticeRequest)
        .join(Case, Case.id == PenaltyNoticeRequest.case_id)
        .where(PenaltyNoticeRequest.id == request_id, ctx.scope.cases())
    )
    if for_update:
        query = query.with_for_update(of=PenaltyNoticeRequest)
    found = ctx.session.scalars(query).first()
    if found is None:
        raise NotFound("penalty notice request", request_id)
    return found


def _leave(ctx: Context, case: Case, leave_request_id: int) -> tuple[LeaveRequest, LeaveDecision]:
    leave = ctx.session.get(LeaveRequest, leave_request_id)
    if leave is None or leave.pupil_id != case.pupil_id:
        raise InvalidInput.one(
            "leave_request_id", leave_request_id, "no leave request for this pupil has that number"
        )
    decision = ctx.session.scalars(
        select(LeaveDecision).where(LeaveDecision.request_id == leave.id)
    ).first()
    if decision is None:
        raise InvalidInput.one(
            "leave_request_id",
            leave_request_id,
            "the headteacher's decision on this leave request is not recorded yet",
        )
    if decision.decision == "authorised":
        raise InvalidInput.one(
            "leave_request_id",
            leave_request_id,
            "this leave was authorised: authorised leave is not an offence",
        )
    return leave, decision


def make_request(ctx: Context, command: MakeRequest) -> PenaltyNoticeRequest:
    """Ask the LA for penalty notices on a case, relying on named sessions."""
    ctx.require_role(*REQUESTERS, doing="request penalty notices")
    case = ctx.case(command.case_id, for_update=True)
    reason = _reason(command.reason)
    problems: list[FieldProblem] = []
    if case.stage == Stage.CLOSED:
        problems.append(FieldProblem("case_id", case.reference, "the case is closed"))
    if not command.summary.strip():
        problems.append(
            FieldProblem("summary", command.summary, "say what the school has done and why")
        )
    leave_block: dict = {}
    if command.leave_request_id is not None:
        leave, decision = _leave(ctx, case, command.leave_request_id)
        leave_block = {
            "leave_request_id": leave.id,
            "applied_on": leave.applied_on.isoformat(),
            "first_day": leave.first_day.isoformat(),
            "last_day": leave.last_day.isoformat(),
            "decision": decision.decision,
            "decided_on": decision.decided_on.isoformat(),
            "decision_reasons": decision.reasons,
        }
    elif reason == NoticeReason.HOLIDAY and "no application" not in command.summary.lower():
        problems.append(
            FieldProblem(
                "leave_request_id",
                None,
                "a holiday request keeps the parent's leave application and the school's "
                'refusal with it; if no application was made, say "no application" in the '
                "summary and attach the school's letters to the case",
            )
        )
    if problems:
        raise InvalidInput(problems)
    sessions = command.sessions
    if sessions is None:
        sessions = sessions_from_registers(ctx, case, reason)
        if reason == NoticeReason.HOLIDAY and leave_block:
            first, last = (
                date.fromisoformat(leave_block["first_day"]),
                date.fromisoformat(leave_block["last_day"]),
            )
            sessions = [s for s in _marks(ctx, case, first, last) if s.code == "G"] or sessions
    _validate_sessions(ctx, case, sessions)
    if not sessions:
        raise InvalidInput.one(
            "sessions", [], "no unauthorised absence is held for the pupil: list the sessions"
        )
    pending = ctx.session.scalar(
        select(PenaltyNoticeRequest.id).where(
            PenaltyNoticeRequest.case_id == case.id, PenaltyNoticeRequest.status == PENDING
        )
    )
    if pending is not None:
        raise Conflict(f"a request on this case is already awaiting the LA's decision: {pending}")
    first, last = min(s.day for s in sessions), max(s.day for s in sessions)
    extract = [
        {"date": m.day.isoformat(), "session": m.session, "code": m.code, "school": m.school}
        for m in _timeline(ctx, case, first, last)
    ]
    request = PenaltyNoticeRequest(
        la_id=case.la_id,
        school_id=case.school_id,
        pupil_id=case.pupil_id,
        case_id=case.id,
        reason=reason.value,
        leave_request_id=command.leave_request_id,
        summary=command.summary.strip(),
        sessions=[
            {"date": s.day.isoformat(), "session": s.session, "code": s.code}
            for s in sorted(sessions, key=lambda s: (s.day, s.session))
        ],
        register_extract={
            "from": first.isoformat(),
            "to": last.isoformat(),
            "marks": extract,
            **({"leave": leave_block} if leave_block else {}),
        },
        requested_by_id=ctx.actor.id,
        requested_by_name=ctx.actor.full_name,
        requested_by_position=ctx.actor.position,
        requested_at=ctx.now(),
        status=PENDING,
    )
    ctx.session.add(request)
    ctx.session.flush()
    ctx.record(
        case,
        EventKind.PENALTY_NOTICE_REQUESTED,
        reason=command.summary.strip(),
        data={
            "request_id": request.id,
            "reason": reason.value,
            "sessions": len(sessions),
            "from": first.isoformat(),
            "to": last.isoformat(),
            **({"leave_request_id": command.leave_request_id} if leave_block else {}),
        },
    )
    return request


def _timeline(ctx: Context, case: Case, first: date, last: date):
    return load_timeline(ctx.session, case.pupil_id, first, last).sessions


def _marks(ctx: Context, case: Case, first: date, last: date) -> list[ListedSession]:
    return [ListedSession(m.day, m.session, m.code) for m in _timeline(ctx, case, first, last)]


def _decide(ctx: Context, request: PenaltyNoticeRequest, status: str, reason: str) -> None:
    if request.status != PENDING:
        raise Conflict(f"the request was already {request.status}")
    request.status = status
    request.decided_by_id = ctx.actor.id
    request.decided_at = ctx.now()
    request.decision_reason = reason
    ctx.record(
        request.case,
        EventKind.PENALTY_NOTICE_REQUEST_DECIDED,
        reason=reason,
        data={"request_id": request.id, "decision": status},
    )


def decline_request(
    ctx: Context, request_id: int, reason: str, expected_version: int | None = None
) -> PenaltyNoticeRequest:
    """The LA declines: the school sees why (not the threshold, support first, out of time)."""
    ctx.require_role(*OFFICERS, doing="decide penalty-notice requests")
    request = request_for(ctx, request_id, for_update=True)
    _expect(request, expected_version)
    if not reason.strip():
        raise InvalidInput.one("reason", reason, "say why the request is declined")
    drafted = ctx.session.scalar(
        select(PenaltyNotice.reference).where(
            PenaltyNotice.request_id == request.id, PenaltyNotice.status != "cancelled"
        )
    )
    if drafted is not None:
        raise Conflict(
            f"notice {drafted} was already drafted from this request: cancel or withdraw it first"
        )
    _decide(ctx, request, DECLINED, reason.strip())
    ctx.session.flush()
    return request


@dataclass
class IssueFromRequest:
    posted_on: date
    contact_ids: list[int] | None = None  # None: each parent with parental responsibility
    rationales: dict[str, str] | None = None
    note: str = ""
    expected_version: int | None = None


def issue_from_request(ctx: Context, request_id: int, command: IssueFromRequest):
    """Accept a request and issue a notice to each chosen parent in one step: every notice is
    checked first, and if any is refused nothing is written."""
    if Role(ctx.actor.role) not in OFFICERS:
        raise Forbidden("only a statutory officer or an LA manager may issue penalty notices")
    request = request_for(ctx, request_id, for_update=True)
    _expect(request, command.expected_version)
    if request.status != PENDING:
        raise Conflict(f"the request was already {request.status}")
    note = command.note.strip() or (
        f"Accepted: notices issued to each parent, posted on {long_date(command.posted_on)}"
    )
    notices = draft_notices(
        ctx,
        DraftNotices(
            case_id=request.case_id,
            reason=request.reason,
            contact_ids=command.contact_ids,
            request_id=request.id,
            rationales=dict(command.rationales or {}),
            note=note,
        ),
    )
    issued = [issue_notice(ctx, n.id, command.posted_on) for n in notices]
    ctx.session.flush()
    return request, issued


def _expect(request: PenaltyNoticeRequest, version: int | None) -> None:
    if version is not None and request.version != version:
        raise Conflict(
            f"the request has changed since it was read (version {version}, now "
            f"{request.version}): reload it and try again"
        )
