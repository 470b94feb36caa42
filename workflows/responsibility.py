"""Who holds a case: assignment, transfer and referral between people and teams.

Each change closes the current holder's period and opens the next (responsibility history as
records), moves the case's owner projection and appends a case event, in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from casework.errors import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from casework.models import Case, Referral, Responsibility, School, User
from casework.vocabulary import EventKind, ReferralStatus, Role, Stage, Team
from notifications.reminders import handed_over_email
from workflows.context import Context
from workflows.policy import can_hold, team_of

# The statutory referral form (Knowsley, Level 3): what a school without the traded service sends.
STATUTORY_REFERRAL_FIELDS = ("actions_taken", "attendance_data", "support_offered")


def _hand_over(ctx: Context, case: Case, to: User, via: str, reason: str) -> None:
    now = ctx.now()
    current = ctx.session.scalars(
        select(Responsibility).where(
            Responsibility.case_id == case.id, Responsibility.until.is_(None)
        )
    ).first()
    if current is not None:
        current.until = now
    case.owner = to
    case.team = team_of(to).value
    ctx.session.add(
        Responsibility(
            case_id=case.id, holder_id=to.id, team=case.team, via=via, since=now, reason=reason
        )
    )


def assign(ctx: Context, case_id: int, to_user_id: int, reason: str) -> Case:
    """Give the case to another person: within a team, or by a manager to anyone who may hold it."""
    case = ctx.case(case_id)
    role = Role(ctx.actor.role)
    if role == Role.ADMIN:
        raise Forbidden("administrators manage users and settings, not cases")
    to = ctx.session.get(User, to_user_id)
    school = ctx.session.get(School, case.school_id)
    problems = []
    if to is None or not can_hold(to, school):
        problems.append(
            FieldProblem(
                "to_user_id", to_user_id, "must be an active user who may hold this school's cases"
            )
        )
    elif role != Role.LA_MANAGER and team_of(to).value != case.team:
        problems.append(
            FieldProblem(
                "to_user_id",
                to_user_id,
                "only a manager moves a case between teams; otherwise refer it",
            )
        )
    if not reason.strip():
        problems.append(FieldProblem("reason", reason, "say why the case is reassigned"))
    if case.stage == Stage.CLOSED:
        problems.append(FieldProblem("case", case.reference, "the case is closed"))
    if problems:
        raise InvalidInput(problems)
    if to.id == case.owner_id:
        raise Conflict("the case is already held by this person")
    previous = case.owner.full_name
    _hand_over(ctx, case, to, "transfer" if role == Role.LA_MANAGER else "assignment", reason)
    event = ctx.record(
        case,
        EventKind.ASSIGNED,
        reason=reason,
        data={"from": previous, "to": to.full_name, "team": case.team},
    )
    how = "transferred" if role == Role.LA_MANAGER else "assigned"
    handed_over_email(ctx.session, case, event.sequence, to, how, ctx.actor, ctx.now())
    ctx.session.flush()
    return case


@dataclass
class MakeReferral:
    to_team: str
    reason: str
    to_user_id: int | None = None
    content: dict[str, Any] = field(default_factory=dict)


def refer(ctx: Context, case_id: int, command: MakeReferral) -> Referral:
    """School to traded officer (schools buying the service), or to the statutory team."""
    case = ctx.case(case_id)
    if Role(ctx.actor.role) == Role.ADMIN:
        raise Forbidden("administrators manage users and settings, not cases")
    school = ctx.session.get(School, case.school_id)
    problems = []
    teams = {Team.TRADED.value, Team.STATUTORY.value}
    if command.to_team not in teams:
        problems.append(FieldProblem("to_team", command.to_team, "traded or statutory"))
    elif command.to_team == case.team:
        problems.append(FieldProblem("to_team", command.to_team, "the case is already with it"))
    elif command.to_team == Team.TRADED and not school.traded_service:
        problems.append(
            FieldProblem(
                "to_team",
                command.to_team,
                "the school does not buy the traded service: refer to the statutory team",
            )
        )
    if command.to_team == Team.STATUTORY and case.team == Team.SCHOOL:
        # A school without a traded officer sends the statutory referral form's content.
        for name in STATUTORY_REFERRAL_FIELDS:
            if not str(command.content.get(name, "")).strip():
                problems.append(
                    FieldProblem(
                        f"content.{name}",
                        command.content.get(name),
                        "the statutory referral form needs this section",
                    )
                )
    if command.to_user_id is not None:
        to = ctx.session.get(User, command.to_user_id)
        if to is None or not can_hold(to, school) or team_of(to).value != command.to_team:
            problems.append(
                FieldProblem(
                    "to_user_id", command.to_user_id, "must be an active member of that team"
                )
            )
    if not command.reason.strip():
        problems.append(FieldProblem("reason", command.reason, "say why the case is referred"))
    if case.stage == Stage.CLOSED:
        problems.append(FieldProblem("case", case.reference, "the case is closed"))
    if problems:
        raise InvalidInput(problems)
    pending = ctx.session.scalar(
        select(Referral.id).where(
            Referral.case_id == case.id, Referral.status == ReferralStatus.PENDING.value
        )
    )
    if pending:
        raise Conflict(f"referral {pending} is still awaiting a decision")
    referral = Referral(
        case_id=case.id,
        from_user_id=ctx.actor.id,
        to_team=command.to_team,
        to_user_id=command.to_user_id,
        content={**command.content, "reason": command.reason},
        made_at=ctx.now(),
        status=ReferralStatus.PENDING.value,
    )
    ctx.session.add(referral)
    ctx.session.flush()
    event = ctx.record(
        case,
        EventKind.REFERRED,
        reason=command.reason,
        data={"referral": referral.id, "to_team": command.to_team},
    )
    if command.to_user_id is not None:
        named = ctx.session.get(User, command.to_user_id)
        handed_over_email(
            ctx.session, case, event.sequence, named, "referred", ctx.actor, ctx.now()
        )
    return referral


def _pending_referral(ctx: Context, referral_id: int) -> tuple[Referral, Case]:
    referral = ctx.session.get(Referral, referral_id)
    if referral is None:
        raise NotFound("referral", referral_id)
    case = ctx.case(referral.case_id)  # scope check: out of scope is not found
    if referral.status != ReferralStatus.PENDING:
        raise Conflict(f"the referral was already {referral.status}")
    role = Role(ctx.actor.role)
    if role != Role.LA_MANAGER and team_of(ctx.actor).value != referral.to_team:
        raise Forbidden(f"only the {referral.to_team} team or a manager decides this referral")
    return referral, case


def accept_referral(ctx: Context, referral_id: int, note: str = "") -> Case:
    referral, case = _pending_referral(ctx, referral_id)
    holder = ctx.actor
    if referral.to_user_id is not None:
        holder = ctx.session.get(User, referral.to_user_id)
    if Role(holder.role) == Role.LA_MANAGER:
        raise InvalidInput.one(
            "to_user_id", None, "a manager accepting a referral must name the officer to hold it"
        )
    referral.status = ReferralStatus.ACCEPTED.value
    referral.decided_by_id, referral.decided_at = ctx.actor.id, ctx.now()
    referral.decision_reason = note.strip() or None
    previous = case.owner.full_name
    _hand_over(ctx, case, holder, "referral", referral.content.get("reason", ""))
    event = ctx.record(
        case,
        EventKind.REFERRAL_ACCEPTED,
        reason=note.strip() or None,
        data={"referral": referral.id, "from": previous, "to": holder.full_name, "team": case.team},
    )
    handed_over_email(
        ctx.session, case, event.sequence, holder, "referral_accepted", ctx.actor, ctx.now()
    )
    ctx.session.flush()
    return case


def return_referral(ctx: Context, referral_id: int, reason: str) -> Referral:
    if not reason.strip():
        raise InvalidInput.one("reason", reason, "a returned referral says why")
    referral, case = _pending_referral(ctx, referral_id)
    referral.status = ReferralStatus.RETURNED.value
    referral.decided_by_id, referral.decided_at = ctx.actor.id, ctx.now()
    referral.decision_reason = reason.strip()
    ctx.record(
        case,
        EventKind.REFERRAL_RETURNED,
        reason=reason.strip(),
        data={"referral": referral.id, "to_team": referral.to_team},
    )
    ctx.session.flush()
    return referral
