"""What is waiting on the signed-in user: referrals to their team, approvals for managers."""

from __future__ import annotations

from casework import queries
from casework.models import ApprovalRequest, Referral
from casework.vocabulary import Role
from workflows.context import Context
from workflows.policy import team_of


def referrals_waiting(ctx: Context) -> list[Referral]:
    """Referrals for the user's team; a manager sees every team's."""
    role = Role(ctx.actor.role)
    if role == Role.ADMIN:
        return []
    team = None if role == Role.LA_MANAGER else team_of(ctx.actor).value
    return queries.pending_referrals(ctx.session, ctx.scope, team)


def approvals_waiting(ctx: Context) -> list[ApprovalRequest]:
    """Approval requests for a manager to decide (nobody else decides them)."""
    if Role(ctx.actor.role) != Role.LA_MANAGER:
        return []
    return queries.pending_approvals(ctx.session, ctx.scope)
