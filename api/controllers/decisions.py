"""Decisions waiting on someone: referrals to accept or return, approvals to give or refuse."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody

from api import present
from api import schemas as s
from api.controllers.cases import _detail, _retrying
from api.deps import unit_of_work
from casework import queries
from casework.vocabulary import Role
from workflows.approvals import decide_approval
from workflows.policy import team_of
from workflows.responsibility import accept_referral, return_referral


class ReferralController(Controller):
    path = "/referrals"
    tags = ["cases"]

    @get("/", sync_to_thread=True)
    def waiting(self, request: Request) -> list[s.ReferralOut]:
        """Referrals awaiting the signed-in user's team (all of them for a manager)."""
        with unit_of_work(request) as ctx:
            team = None if ctx.actor.role == Role.LA_MANAGER else team_of(ctx.actor).value
            return [
                present.referral(r) for r in queries.pending_referrals(ctx.session, ctx.scope, team)
            ]

    @post("/{referral_id:int}/accept", sync_to_thread=True)
    def accept(
        self, request: Request, referral_id: FromPath[int], data: JSONBody[s.ReferralDecisionIn]
    ) -> s.CaseDetail:
        return _retrying(
            request, lambda ctx: _detail(ctx, accept_referral(ctx, referral_id, data.reason))
        )

    @post("/{referral_id:int}/return", sync_to_thread=True)
    def give_back(
        self, request: Request, referral_id: FromPath[int], data: JSONBody[s.ReferralDecisionIn]
    ) -> s.ReferralOut:
        return present.referral(
            _retrying(request, lambda ctx: return_referral(ctx, referral_id, data.reason))
        )


class ApprovalController(Controller):
    path = "/approvals"
    tags = ["cases"]

    @get("/", sync_to_thread=True)
    def waiting(self, request: Request) -> list[s.ApprovalOut]:
        with unit_of_work(request) as ctx:
            return [present.approval(a) for a in queries.pending_approvals(ctx.session, ctx.scope)]

    @post("/{approval_id:int}/decision", sync_to_thread=True)
    def decide(
        self, request: Request, approval_id: FromPath[int], data: JSONBody[s.ApprovalDecisionIn]
    ) -> s.ApprovalOut:
        return present.approval(
            _retrying(
                request, lambda ctx: decide_approval(ctx, approval_id, data.approve, data.reason)
            )
        )
