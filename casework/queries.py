"""Read-side queries, each filtered by the signed-in user's scope."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from casework.errors import NotFound
from casework.models import (
    ApprovalRequest,
    Case,
    CaseEvent,
    Enrolment,
    Family,
    Intervention,
    Pupil,
    PupilContact,
    Referral,
    Responsibility,
    School,
)
from casework.scope import Scope


@dataclass(frozen=True)
class CaseFilter:
    owner_id: int | None = None
    school_id: int | None = None
    stages: tuple[str, ...] = ()
    open_only: bool = False
    page: int = 1
    page_size: int = 50


def list_cases(session: Session, scope: Scope, f: CaseFilter) -> tuple[list[Case], int]:
    where = [scope.cases()]
    if f.owner_id is not None:
        where.append(Case.owner_id == f.owner_id)
    if f.school_id is not None:
        where.append(Case.school_id == f.school_id)
    if f.stages:
        where.append(Case.stage.in_(f.stages))
    if f.open_only:
        where.append(Case.closed_at.is_(None))
    total = session.scalar(select(func.count()).select_from(Case).where(*where)) or 0
    rows = session.scalars(
        select(Case)
        .where(*where)
        .order_by(Case.opened_at.desc(), Case.id.desc())
        .offset((f.page - 1) * f.page_size)
        .limit(f.page_size)
    ).all()
    return list(rows), total


def pupil(session: Session, scope: Scope, pupil_id: int) -> Pupil:
    found = session.scalars(
        select(Pupil)
        .where(Pupil.id == pupil_id, scope.pupils())
        .options(
            selectinload(Pupil.contacts).joinedload(PupilContact.contact),
            selectinload(Pupil.enrolments),
        )
    ).first()
    if found is None:
        raise NotFound("pupil", pupil_id)
    return found


def siblings(session: Session, scope: Scope, of: Pupil) -> list[Pupil]:
    """Brothers and sisters the user may see, at this school or any other."""
    if of.family_id is None:
        return []
    return list(
        session.scalars(
            select(Pupil)
            .where(Pupil.family_id == of.family_id, Pupil.id != of.id, scope.pupils())
            .order_by(Pupil.date_of_birth)
        ).all()
    )


def cases_of_pupil(session: Session, scope: Scope, pupil_id: int) -> list[Case]:
    return list(
        session.scalars(
            select(Case).where(Case.pupil_id == pupil_id, scope.cases()).order_by(Case.opened_at)
        ).all()
    )


def list_pupils(
    session: Session,
    scope: Scope,
    school_id: int | None,
    search: str | None,
    page: int,
    page_size: int,
) -> tuple[list[Pupil], int]:
    where = [scope.pupils()]
    if school_id is not None:
        where.append(
            select(Enrolment.id)
            .where(Enrolment.pupil_id == Pupil.id, Enrolment.school_id == school_id)
            .exists()
        )
    if search:
        like = f"%{search.lower()}%"
        where.append(
            or_(
                func.lower(Pupil.legal_surname).like(like),
                func.lower(Pupil.legal_forename).like(like),
                func.lower(Pupil.preferred_forename).like(like),
                Pupil.upn == search.upper(),
            )
        )
    total = session.scalar(select(func.count()).select_from(Pupil).where(*where)) or 0
    rows = session.scalars(
        select(Pupil)
        .where(*where)
        .order_by(Pupil.legal_surname, Pupil.legal_forename, Pupil.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return list(rows), total


def family(session: Session, scope: Scope, family_id: int) -> tuple[Family, list[Pupil]]:
    members = list(
        session.scalars(
            select(Pupil)
            .where(Pupil.family_id == family_id, scope.pupils())
            .options(selectinload(Pupil.contacts).joinedload(PupilContact.contact))
            .order_by(Pupil.date_of_birth)
        ).all()
    )
    found = session.get(Family, family_id)
    if found is None or not members:
        raise NotFound("family", family_id)
    return found, members


def schools(session: Session, scope: Scope) -> list[School]:
    return list(session.scalars(select(School).where(scope.schools()).order_by(School.name)))


def school(session: Session, scope: Scope, school_id: int) -> School:
    found = session.scalars(select(School).where(School.id == school_id, scope.schools())).first()
    if found is None:
        raise NotFound("school", school_id)
    return found


def events(session: Session, case: Case) -> list[CaseEvent]:
    return list(
        session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.sequence)
        )
    )


def interventions(session: Session, case: Case) -> list[tuple[Intervention, bool]]:
    rows = list(
        session.scalars(
            select(Intervention)
            .where(Intervention.case_id == case.id)
            .order_by(Intervention.occurred_on, Intervention.id)
        )
    )
    superseded = {r.supersedes_id for r in rows if r.supersedes_id}
    return [(r, r.id in superseded) for r in rows]


def responsibility(session: Session, case: Case) -> list[Responsibility]:
    return list(
        session.scalars(
            select(Responsibility)
            .where(Responsibility.case_id == case.id)
            .order_by(Responsibility.since, Responsibility.id)
        )
    )


def referrals_of(session: Session, case: Case) -> list[Referral]:
    return list(
        session.scalars(
            select(Referral).where(Referral.case_id == case.id).order_by(Referral.made_at)
        )
    )


def approvals_of(session: Session, case: Case) -> list[ApprovalRequest]:
    return list(
        session.scalars(
            select(ApprovalRequest)
            .where(ApprovalRequest.case_id == case.id)
            .order_by(ApprovalRequest.requested_at)
        )
    )


def pending_referrals(session: Session, scope: Scope, team: str | None) -> list[Referral]:
    query = (
        select(Referral)
        .join(Case, Case.id == Referral.case_id)
        .where(Referral.status == "pending", scope.cases())
    )
    if team:
        query = query.where(Referral.to_team == team)
    return list(session.scalars(query.order_by(Referral.made_at)))


def pending_approvals(session: Session, scope: Scope) -> list[ApprovalRequest]:
    return list(
        session.scalars(
            select(ApprovalRequest)
            .join(Case, Case.id == ApprovalRequest.case_id)
            .where(ApprovalRequest.status == "pending", scope.cases())
            .order_by(ApprovalRequest.requested_at)
        )
    )
