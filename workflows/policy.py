"""Who may do what to a case they can see (seeing is ``casework.scope``'s job)."""

from __future__ import annotations

from casework.models import School, User
from casework.vocabulary import ROLE_TEAM, Role, Team

# Legal action is the LA's: a school or traded officer refers, a statutory officer acts.
STATUTORY_TRIGGERS = frozenset({"advance_to_enforce", "start_prosecution"})
CASEWORK_ROLES = (Role.SCHOOL_STAFF, Role.TRADED_OFFICER, Role.STATUTORY_OFFICER, Role.LA_MANAGER)


def may_fire(role: Role, trigger: str) -> str | None:
    """None when ``role`` may fire ``trigger``; otherwise why not."""
    if role not in CASEWORK_ROLES:
        return "administrators manage users and settings, not cases"
    if trigger in STATUTORY_TRIGGERS and role not in (Role.STATUTORY_OFFICER, Role.LA_MANAGER):
        return "only a statutory officer or an LA manager may take legal action"
    return None


def can_hold(user: User, school: School) -> bool:
    """Whether ``user`` may hold a case for a pupil at ``school``."""
    if not user.active or user.la_id != school.la_id:
        return False
    role = Role(user.role)
    if role in (Role.SCHOOL_STAFF, Role.TRADED_OFFICER):
        return school.id in user.school_ids
    return role in (Role.STATUTORY_OFFICER, Role.LA_MANAGER)


def team_of(user: User) -> Team:
    """The team a case joins when ``user`` holds it (a manager holds for the statutory team)."""
    return ROLE_TEAM.get(Role(user.role), Team.STATUTORY)
