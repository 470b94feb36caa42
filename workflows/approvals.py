"""Supervisor approval before Formalise and Enforce, where the LA profile asks for it."""

from __future__ import annotations

from sqlalchemy import select

from casework.errors import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from casework.models import ApprovalRequest
from casework.vocabulary import ApprovalStatus, EventKind, Role, Stage
from workflows.context import Context


def request_approval(ctx: Context, case_id: int, target_stage: str, reason: str) -> ApprovalRequest:
    case = ctx.case(case_id)
    if Role(ctx.actor.role) == Role.ADMIN:
        raise Forbidden("administrators manage users and settings, not cases")
    problems = []
    if target_stage not in ctx.profile.approval_required_before:
        needed = ", ".join(Stage(s).label for s in ctx.profile.approval_required_before) or "none"
        problems.append(
            FieldProblem(
                "target_stage", target_stage, f"this LA asks for approval only before: {needed}"
            )
        )
    if not reason.strip():
        problems.append(FieldProblem("reason", reason, "say why the move is needed"))
    if problems:
        raise InvalidInput(problems)
    open_request = ctx.session.scalar(
        select(ApprovalRequest.id).where(
            ApprovalRequest.case_id == case.id,
            ApprovalRequest.target_stage == target_stage,
            ApprovalRequest.status.in_(
                [ApprovalStatus.PENDING.value, ApprovalStatus.APPROVED.value]
            ),
        )
    )
    if open_request:
        raise Conflict(f"approval request {open_request} for this stage is already open")
    request = ApprovalRequest(
        case_id=case.id,
        target_stage=target_stage,
        requested_by_id=ctx.actor.id,
        requested_at=ctx.now(),
        reason=reason.strip(),
        status=ApprovalStatus.PENDING.value,
    )
    ctx.session.add(request)
    ctx.session.flush()
    ctx.record(
        case,
        EventKind.APPROVAL_REQUESTED,
        reason=reason.strip(),
        data={"approval": request.id, "target_stage": target_stage},
    )
    return request


def decide_approval(ctx: Context, approval_id: int, approve: bool, reason: str) -> ApprovalRequest:
    request = ctx.session.get(ApprovalRequest, approval_id)
    if request is None:
        raise NotFound("approval", approval_id)
    case = ctx.case(request.case_id)
    ctx.require_role(Role.LA_MANAGER, doing="approve moves to formal stages")
    if request.status != ApprovalStatus.PENDING:
        raise Conflict(f"the request was already {request.status}")
    if request.requested_by_id == ctx.actor.id:
        raise Forbidden("a request is approved by someone other than the person who made it")
    if not reason.strip():
        raise InvalidInput.one("reason", reason, "record the reason for the decision")
    request.status = (ApprovalStatus.APPROVED if approve else ApprovalStatus.REFUSED).value
    request.decided_by_id, request.decided_at = ctx.actor.id, ctx.now()
    request.decision_reason = reason.strip()
    ctx.record(
        case,
        EventKind.APPROVAL_DECIDED,
        reason=reason.strip(),
        data={
            "approval": request.id,
            "target_stage": request.target_stage,
            "decision": request.status,
        },
    )
    ctx.session.flush()
    return request
