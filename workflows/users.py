"""Changing a user (administrators): their role, the schools they work for, whether their
account is active. Adding one is ``workflows.registry.add_user``; the rules on schools are the
same: school staff work for one school, traded officers for the schools they serve.

An administrator cannot deactivate their own account or take away their own admin role (the LA
would be left with nobody to undo it). Deactivating takes effect on the user's next request
(every request re-reads the account)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from casework.errors import Conflict, FieldProblem, InvalidInput, NotFound
from casework.models import School, User, UserSchool
from casework.vocabulary import Role
from workflows.context import Context

# The roles an administrator gives (integrations get theirs from ``casework registers
# integration-token``).
ASSIGNABLE = (
    Role.SCHOOL_STAFF,
    Role.TRADED_OFFICER,
    Role.STATUTORY_OFFICER,
    Role.LA_MANAGER,
    Role.ADMIN,
)
BY_SCHOOL = (Role.SCHOOL_STAFF, Role.TRADED_OFFICER)


@dataclass(frozen=True)
class ChangeUser:
    role: Role
    school_ids: list[int]


def school_problems(ctx: Context, role: Role, school_ids: list[int]) -> list[FieldProblem]:
    """What is wrong with these schools for a user of this role in the admin's LA."""
    problems = []
    found = set(
        ctx.session.scalars(
            select(School.id).where(School.id.in_(school_ids), School.la_id == ctx.actor.la_id)
        )
    )
    missing = sorted(set(school_ids) - found)
    if missing:
        problems.append(FieldProblem("school_ids", missing, "no such schools in your LA"))
    if role in BY_SCHOOL and not school_ids:
        problems.append(
            FieldProblem(
                "school_ids", [], f"a {role.value.replace('_', ' ')} works for named schools"
            )
        )
    if role == Role.SCHOOL_STAFF and len(school_ids) > 1:
        problems.append(FieldProblem("school_ids", school_ids, "school staff have one school"))
    return problems


def user_to_manage(ctx: Context, user_id: int) -> User:
    """A user of the admin's LA (an integration's account is not managed here)."""
    ctx.require_role(Role.ADMIN, doing="manage users")
    user = ctx.session.get(User, user_id)
    if user is None or user.la_id != ctx.actor.la_id or user.role == Role.INTEGRATION:
        raise NotFound("user", user_id)
    return user


def change_user(ctx: Context, user_id: int, command: ChangeUser) -> User:
    user = user_to_manage(ctx, user_id)
    if command.role not in ASSIGNABLE:
        raise InvalidInput.one("role", command.role, "not a role an administrator gives")
    # Only school staff and traded officers work for named schools; other roles see the LA.
    school_ids = sorted(set(command.school_ids)) if command.role in BY_SCHOOL else []
    problems = school_problems(ctx, command.role, school_ids)
    if problems:
        raise InvalidInput(problems)
    if user.id == ctx.actor.id and command.role != Role.ADMIN:
        raise Conflict("you cannot take away your own admin role: ask another administrator")
    user.role = command.role.value
    kept = {link.school_id: link for link in user.schools}
    user.schools = [kept.get(sid) or UserSchool(school_id=sid) for sid in school_ids]
    ctx.session.flush()
    return user


def set_active(ctx: Context, user_id: int, active: bool) -> User:
    user = user_to_manage(ctx, user_id)
    if user.id == ctx.actor.id and not active:
        raise Conflict("you cannot deactivate your own account: ask another administrator")
    user.active = active
    # Sessions from before a deactivation stay ended if the account is reactivated.
    user.sessions_valid_from = ctx.now()
    ctx.session.flush()
    return user


def unlock_user(ctx: Context, user_id: int, *, route: str) -> User:
    """Lift a lock left by too many failed sign-ins (``workflows.sign_in``); the count of failures
    starts again and any session from before is void. Kept in the audit log."""

    user = user_to_manage(ctx, user_id)
    user.locked_at = None
    user.failed_sign_ins = 0
    user.sessions_valid_from = ctx.now()
    return _audited(ctx, user, route, "unlocked")


def reset_second_factor(ctx: Context, user_id: int, *, route: str) -> User:
    """Clear a user's second factor (a lost phone): they set one up again, at their next sign-in
    if their LA requires one for their role. Kept in the audit log."""
    from workflows.sign_in import reset_two_factor

    user = user_to_manage(ctx, user_id)
    reset_two_factor(user)
    # A lost phone may still be signed in somewhere: every session ends with the factor.
    user.sessions_valid_from = ctx.now()
    return _audited(ctx, user, route, "second_factor_reset")


def _audited(ctx: Context, user: User, route: str, outcome: str) -> User:
    """An administrator's change to a sign-in, kept in the audit log."""
    from casework import audit

    ctx.session.flush()
    audit.record(
        ctx.session,
        actor=ctx.actor,
        action="write",
        record_type="user",
        record_id=user.id,
        pupil_id=None,
        route=route,
        outcome=outcome,
        at=ctx.now(),
        la_id=ctx.actor.la_id,
    )
    return user
