"""Cases the daily scan proposes to schools: accepted (a case opens at the proposed stage, with
the scan's explanation as its reason) or dismissed with a reason. Both are kept."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from casework.errors import Conflict, InvalidInput, NotFound
from casework.models import Case, CaseProposal, Pupil, School
from casework.vocabulary import Role, Stage
from workflows.cases import OpenCase, open_case
from workflows.context import Context

DECIDERS = (Role.SCHOOL_STAFF, Role.TRADED_OFFICER, Role.LA_MANAGER)
OPEN = "open"


@dataclass(frozen=True)
class ProposalView:
    id: int
    pupil_id: int
    pupil_name: str
    nc_year: int
    school_id: int
    school_name: str
    flag: str
    stage: str
    explanation: str
    proposed_on: str
    status: str
    version: int
    case_id: int | None
    decision_reason: str | None


def open_proposals(
    ctx: Context, *, school_id: int | None = None, limit: int = 200
) -> list[ProposalView]:
    """The open proposals at schools the user may see, oldest first."""
    query = (
        select(CaseProposal, Pupil, School)
        .join(Pupil, Pupil.id == CaseProposal.pupil_id)
        .join(School, School.id == CaseProposal.school_id)
        .where(CaseProposal.status == OPEN, ctx.scope.schools(), ctx.scope.pupils())
        .order_by(CaseProposal.proposed_on, CaseProposal.id)
        .limit(limit)
    )
    if school_id is not None:
        query = query.where(CaseProposal.school_id == school_id)
    return [_view(p, pupil, school) for p, pupil, school in ctx.session.execute(query)]


def accept(ctx: Context, proposal_id: int, *, expected_version: int) -> Case:
    ctx.require_role(*DECIDERS, doing="accept proposed cases")
    proposal = _proposal(ctx, proposal_id, expected_version)
    case = open_case(
        ctx,
        OpenCase(
            proposal.pupil_id,
            proposal.school_id,
            stage=Stage(proposal.stage),
            reason=f"Proposed by the daily scan on {proposal.proposed_on:%d %b %Y}: "
            f"{proposal.explanation}",
        ),
    )
    ctx.session.flush()
    proposal.status = "accepted"
    proposal.case_id = case.id
    _decided(ctx, proposal, None)
    return case


def dismiss(ctx: Context, proposal_id: int, *, expected_version: int, reason: str) -> None:
    ctx.require_role(*DECIDERS, doing="dismiss proposed cases")
    if not (reason or "").strip():
        raise InvalidInput.one("reason", reason, "say why no case is needed")
    proposal = _proposal(ctx, proposal_id, expected_version)
    proposal.status = "dismissed"
    _decided(ctx, proposal, reason.strip())


def _proposal(ctx: Context, proposal_id: int, expected_version: int) -> CaseProposal:
    found = ctx.session.scalars(
        select(CaseProposal)
        .join(School, School.id == CaseProposal.school_id)
        .join(Pupil, Pupil.id == CaseProposal.pupil_id)
        .where(CaseProposal.id == proposal_id, ctx.scope.schools(), ctx.scope.pupils())
    ).first()
    if found is None:
        raise NotFound("proposal", proposal_id)
    if found.status != OPEN or found.version != expected_version:
        raise Conflict("this proposal was decided or changed since you read it: reload")
    return found


def _decided(ctx: Context, proposal: CaseProposal, reason: str | None) -> None:
    proposal.decided_at = ctx.now()
    proposal.decided_by_id = ctx.actor.id
    proposal.decision_reason = reason
    ctx.session.flush()


def _view(p: CaseProposal, pupil: Pupil, school: School) -> ProposalView:
    name = f"{pupil.preferred_forename or pupil.legal_forename} {pupil.legal_surname}"
    return ProposalView(
        p.id, p.pupil_id, name, pupil.nc_year, p.school_id, school.name, p.flag, p.stage,
        p.explanation, p.proposed_on.isoformat(), p.status, p.version, p.case_id,
        p.decision_reason,
    )  # fmt: skip
