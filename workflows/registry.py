"""Adding pupils and users by hand (bulk pupils arrive through imports)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from casework.errors import Conflict, FieldProblem, InvalidInput, NotFound
from casework.models import Enrolment, Family, Pupil, School, User, UserSchool
from casework.password_policy import password_problems
from casework.passwords import hash_password
from casework.upn import upn_problem
from casework.vocabulary import CHARACTERISTICS, Role
from workflows.context import Context


@dataclass
class AddPupil:
    upn: str
    legal_forename: str
    legal_surname: str
    date_of_birth: date
    sex: str
    nc_year: int
    school_id: int
    start_date: date
    preferred_forename: str | None = None
    preferred_surname: str | None = None
    family_id: int | None = None
    characteristics: dict[str, bool] | None = None


def add_pupil(ctx: Context, command: AddPupil) -> Pupil:
    ctx.require_role(Role.SCHOOL_STAFF, Role.LA_MANAGER, doing="add pupils")
    school = ctx.session.scalars(
        select(School).where(School.id == command.school_id, ctx.scope.schools())
    ).first()
    if school is None:
        raise NotFound("school", command.school_id)
    upn = command.upn.strip().upper()
    problems = []
    reason = upn_problem(upn)
    if reason:
        problems.append(FieldProblem("upn", command.upn, reason))
    if command.date_of_birth >= ctx.today():
        problems.append(
            FieldProblem("date_of_birth", command.date_of_birth.isoformat(), "must be in the past")
        )
    if command.start_date < command.date_of_birth:
        problems.append(
            FieldProblem(
                "start_date", command.start_date.isoformat(), "cannot be before the date of birth"
            )
        )
    family = None
    if command.family_id is not None:
        family = ctx.session.get(Family, command.family_id)
        if family is None or family.la_id != school.la_id:
            problems.append(FieldProblem("family_id", command.family_id, "no such family"))
    if problems:
        raise InvalidInput(problems)
    if ctx.session.scalar(select(Pupil.id).where(Pupil.upn == upn)):
        raise Conflict("a pupil with this UPN is already registered: ask the LA to link them")
    pupil = Pupil(
        upn=upn,
        legal_forename=command.legal_forename.strip(),
        legal_surname=command.legal_surname.strip(),
        preferred_forename=command.preferred_forename,
        preferred_surname=command.preferred_surname,
        date_of_birth=command.date_of_birth,
        sex=command.sex,
        nc_year=command.nc_year,
        family_id=family.id if family else None,
        la_id=school.la_id,
        **{k: bool((command.characteristics or {}).get(k)) for k in CHARACTERISTICS},
    )
    ctx.session.add(pupil)
    ctx.session.flush()
    ctx.session.add(
        Enrolment(
            pupil_id=pupil.id,
            school_id=school.id,
            start_date=command.start_date,
            registration="main",
        )
    )
    ctx.session.flush()
    return pupil


@dataclass
class AddUser:
    username: str
    full_name: str
    position: str
    email: str
    role: Role
    password: str
    school_ids: list[int]
    manager_id: int | None = None


def add_user(ctx: Context, command: AddUser) -> User:
    ctx.require_role(Role.ADMIN, doing="add users")
    problems = []
    schools = ctx.session.scalars(
        select(School).where(School.id.in_(command.school_ids), School.la_id == ctx.actor.la_id)
    ).all()
    missing = sorted(set(command.school_ids) - {s.id for s in schools})
    if missing:
        problems.append(FieldProblem("school_ids", missing, "no such schools in your LA"))
    if command.role in (Role.SCHOOL_STAFF, Role.TRADED_OFFICER) and not command.school_ids:
        problems.append(
            FieldProblem(
                "school_ids",
                [],
                f"a {command.role.value.replace('_', ' ')} works for named schools",
            )
        )
    if command.role == Role.SCHOOL_STAFF and len(command.school_ids) > 1:
        problems.append(
            FieldProblem("school_ids", command.school_ids, "school staff have one school")
        )
    if command.manager_id is not None:
        manager = ctx.session.get(User, command.manager_id)
        if manager is None or manager.la_id != ctx.actor.la_id:
            problems.append(FieldProblem("manager_id", command.manager_id, "no such user"))
    # NCSC-style rules for a new password (length, not one of the common ones); never echoed.
    problems += [
        FieldProblem("password", "(hidden)", rule)
        for rule in password_problems(command.password, username=command.username)
    ]
    if problems:
        raise InvalidInput(problems)
    if ctx.session.scalar(select(User.id).where(User.username == command.username)):
        raise Conflict(f"the username {command.username} is taken")
    return create_user(ctx.session, command, ctx.actor.la_id)


def create_user(session, command: AddUser, la_id: int) -> User:
    """Insert a user (also used by the CLI and the demo, which act without a signed-in user)."""
    user = User(
        username=command.username,
        full_name=command.full_name,
        position=command.position,
        email=command.email,
        role=command.role.value,
        la_id=la_id,
        manager_id=command.manager_id,
        password_hash=hash_password(command.password),
        active=True,
    )
    user.schools = [UserSchool(school_id=sid) for sid in command.school_ids]
    session.add(user)
    session.flush()
    return user
