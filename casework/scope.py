"""What the signed-in user may see. Every query for pupils, families, schools and cases goes
through these clauses; a record outside them is "not found", never "forbidden"."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, false, or_, select

from casework.models import (
    Case,
    Enrolment,
    PenaltyNotice,
    PenaltyNoticeRequest,
    Pupil,
    Referral,
    School,
    User,
)
from casework.vocabulary import ReferralStatus, Role, Team


@dataclass(frozen=True)
class Scope:
    user_id: int
    role: Role
    la_id: int
    school_ids: frozenset[int]
    statutory_stages: tuple[str, ...]

    @classmethod
    def for_user(cls, user: User, statutory_stages: list[str] | tuple[str, ...]) -> Scope:
        return cls(user.id, Role(user.role), user.la_id, user.school_ids, tuple(statutory_stages))

    @property
    def by_school(self) -> bool:
        return self.role in (Role.SCHOOL_STAFF, Role.TRADED_OFFICER, Role.INTEGRATION)

    def statutory_case(self) -> ColumnElement[bool]:
        # correlate_except: the referral table is always this subquery's own, even inside a
        # query that itself selects referrals.
        pending_referral = (
            exists()
            .where(
                Referral.case_id == Case.id,
                Referral.to_team == Team.STATUTORY.value,
                Referral.status == ReferralStatus.PENDING.value,
            )
            .correlate_except(Referral)
        )
        # Penalty notices are the LA's: a case with a request or a notice is statutory business
        # whatever its stage (a term-time holiday case may never leave Monitor).
        penalty_request = (
            exists()
            .where(PenaltyNoticeRequest.case_id == Case.id)
            .correlate_except(PenaltyNoticeRequest)
        )
        penalty_notice = (
            exists().where(PenaltyNotice.case_id == Case.id).correlate_except(PenaltyNotice)
        )
        return or_(
            Case.stage.in_(self.statutory_stages),
            Case.team == Team.STATUTORY.value,
            pending_referral,
            penalty_request,
            penalty_notice,
        )

    def cases(self) -> ColumnElement[bool]:
        match self.role:
            case Role.SCHOOL_STAFF | Role.TRADED_OFFICER:
                return Case.school_id.in_(self.school_ids)
            case Role.STATUTORY_OFFICER:
                return and_(Case.la_id == self.la_id, self.statutory_case())
            case Role.LA_MANAGER:
                return Case.la_id == self.la_id
        return false()

    def pupils(self) -> ColumnElement[bool]:
        match self.role:
            case Role.SCHOOL_STAFF | Role.TRADED_OFFICER | Role.INTEGRATION:
                return exists().where(
                    Enrolment.pupil_id == Pupil.id, Enrolment.school_id.in_(self.school_ids)
                )
            case Role.STATUTORY_OFFICER:
                return exists(select(Case.id).where(Case.pupil_id == Pupil.id, self.cases()))
            case Role.LA_MANAGER:
                return Pupil.la_id == self.la_id
        return false()

    def schools(self) -> ColumnElement[bool]:
        if self.by_school:
            return School.id.in_(self.school_ids)
        return School.la_id == self.la_id
