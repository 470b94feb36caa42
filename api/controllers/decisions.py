"""Decisions waiting on someone: referrals to accept or return, approvals to give or refuse."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody

from api import present
from api import schemas as s
from api.controllers.cases import case_detail
from api.deps import retry_on_conflict, unit_of_work
from workflows.approvals import decide_approval
from workflows.decisions_waiting import approvals_waiting, referrals_waiting
from workflows.responsibility import accept_referral, return_referral


class ReferralController(Controller):
    path = "/referrals"
    tags = ["cases"]

    @get("/", sync_to_thread=True)
    def waiting(self, request: Request) -> list[s.ReferralOut]:
        """Referrals awaiting the signed-in user's team (all of them for a manager)."""
        with unit_of_work(request) as ctx:
            return [present.referral(r) for r in referrals_waiting(ctx)]

    @post("/{referral_id:int}/accept", sync_to_thread=True)
    def accept(
        self, request: Request, referral_id: FromPath[int], data: JSONBody[s.ReferralDecisionIn]
    ) -> s.CaseDetail:
        return retry_on_conflict(
            request, lambda ctx: case_detail(ctx, accept_referral(ctx, referral_id, data.reason))
        )

    @post("/{referral_id:int}/return", sync_to_thread=True)
    def give_back(
        self, request: Request, referral_id: FromPath[int], data: JSONBody[s.ReferralDecisionIn]
    ) -> s.ReferralOut:
        return present.referral(
            retry_on_conflict(request, lambda ctx: return_referral(ctx, referral_id, data.reason))
        )


class ApprovalController(Controller):
    path = "/approvals"
    tags = ["cases"]

    @get("/", sync_to_thread=True)
    def waiting(self, request: Request) -> list[s.ApprovalOut]:
        with unit_of_work(request) as ctx:
            return [present.approval(a) for a in approvals_waiting(ctx)]

    @post("/{approval_id:int}/decision", sync_to_thread=True)
    def decide(
        self, request: Request, approval_id: FromPath[int], data: JSONBody[s.ApprovalDecisionIn]
    ) -> s.ApprovalOut:
        return present.approval(
            retry_on_conflict(
                request, lambda ctx: decide_approval(ctx, approval_id, data.approve, data.reason)
            )
        )
