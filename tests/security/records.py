"""Path parameters for the matrix: a record of each kind inside a caller's scope, and one outside
it (another school, team or authority). The scope model is casework/scope.py's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, and_, exists, not_, select
from sqlalchemy.orm import Session

from casework.models import (
    ApiToken,
    ApprovalRequest,
    Attachment,
    Case,
    CaseProposal,
    CourtPack,
    Family,
    ImportBatch,
    Intervention,
    LeaveRequest,
    Letter,
    OutboxMessage,
    PenaltyNotice,
    PenaltyNoticeRequest,
    Pupil,
    Referral,
    School,
    SchoolCalendarOverride,
    User,
)
from casework.scope import Scope
from casework.vocabulary import Role
from notifications.listing import visible as visible_messages

# An id no record has: what "other" means when nothing outside the caller's scope exists.
MISSING = 999_999

Params = dict[str, Any]


def _batches(scope: Scope):
    if scope.by_school:
        return ImportBatch.school_id.in_(select(School.id).where(scope.schools()))
    if scope.role in (Role.LA_MANAGER, Role.ADMIN):
        return ImportBatch.la_id == scope.la_id
    return ImportBatch.by_user_id == scope.user_id


def _family(scope: Scope):
    return exists().where(Pupil.family_id == Family.id, scope.pupils())


def _users(scope: Scope):
    return and_(User.la_id == scope.la_id, User.role != Role.INTEGRATION.value)


def _case_child(model) -> Callable[[Scope], Any]:
    def where(scope: Scope):
        return exists().where(Case.id == model.case_id, scope.cases())

    return where


def _calendar_entry(scope: Scope):
    return exists().where(School.id == SchoolCalendarOverride.school_id, scope.schools())


# kind → (query for its key columns, the "in scope" clause, the path parameters it fills)
KINDS: dict[str, tuple[Select, Callable[[Scope], Any], tuple[str, ...]]] = {
    "school": (select(School.id), Scope.schools, ("school_id",)),
    "pupil": (select(Pupil.id), Scope.pupils, ("pupil_id",)),
    # Any pupil of the caller's authority (the audit log's scope).
    "la_pupil": (select(Pupil.id), lambda scope: Pupil.la_id == scope.la_id, ("pupil_id",)),
    "family": (select(Family.id), _family, ("family_id",)),
    "case": (select(Case.id), Scope.cases, ("case_id",)),
    "attachment": (
        select(Attachment.case_id, Attachment.id),
        _case_child(Attachment),
        ("case_id", "attachment_id"),
    ),
    "intervention": (
        select(Intervention.case_id, Intervention.id),
        _case_child(Intervention),
        ("case_id", "intervention_id"),
    ),
    "letter": (select(Letter.case_id, Letter.id), _case_child(Letter), ("case_id", "letter_id")),
    "pack": (
        select(CourtPack.case_id, CourtPack.id),
        _case_child(CourtPack),
        ("case_id", "pack_id"),
    ),
    "approval": (
        select(ApprovalRequest.case_id, ApprovalRequest.id),
        _case_child(ApprovalRequest),
        ("case_id", "approval_id"),
    ),
    "referral": (
        select(Referral.case_id, Referral.id),
        _case_child(Referral),
        ("case_id", "referral_id"),
    ),
    "penalty_request": (
        select(PenaltyNoticeRequest.id),
        _case_child(PenaltyNoticeRequest),
        ("request_id",),
    ),
    "notice": (select(PenaltyNotice.id), _case_child(PenaltyNotice), ("notice_id",)),
    "leave": (
        select(LeaveRequest.id, LeaveRequest.id),
        lambda scope: and_(
            exists().where(Pupil.id == LeaveRequest.pupil_id, scope.pupils()),
            exists().where(School.id == LeaveRequest.school_id, scope.schools()),
        ),
        ("request_id", "leave_id"),
    ),
    "proposal": (
        select(CaseProposal.id),
        lambda scope: and_(
            exists().where(Pupil.id == CaseProposal.pupil_id, scope.pupils()),
            exists().where(School.id == CaseProposal.school_id, scope.schools()),
        ),
        ("proposal_id",),
    ),
    "batch": (select(ImportBatch.id), _batches, ("batch_id",)),
    "message": (select(OutboxMessage.id), visible_messages, ("message_id",)),
    "user": (select(User.id), _users, ("user_id",)),
    "token": (
        select(ApiToken.id),
        lambda scope: exists().where(User.id == ApiToken.user_id, User.la_id == scope.la_id),
        ("token_id",),
    ),
    "calendar_entry": (
        select(SchoolCalendarOverride.school_id, SchoolCalendarOverride.id),
        _calendar_entry,
        ("school_id", "entry_id"),
    ),
}

# Public routes' stand-in parameters: an unknown feed secret, a real asset, an unknown page.
PUBLIC_PARAMS: dict[str, Params] = {
    "feed": {"token": "not-a-feed-secret"},
    "static": {"file_path": "casework.js"},
    "schema_page": {"path": "no-such-page"},
}


def find(session: Session, kind: str, scope: Scope | None, where: str) -> Params | None:
    """Parameters naming a ``kind`` record: "own" (in scope; None when the caller has none),
    "other" (out of scope, preferring the caller's own authority; MISSING ids when none exists)
    or "any" (any record at all)."""
    if kind in PUBLIC_PARAMS:
        return PUBLIC_PARAMS[kind]
    query, in_scope, names = KINDS[kind]
    if where == "own":
        assert scope is not None
        query = query.where(in_scope(scope))
    elif where == "other":
        assert scope is not None
        query = query.where(not_(in_scope(scope)))
    row = session.execute(query.order_by(*query.selected_columns)).first()
    if row is None:
        return None if where == "own" else dict.fromkeys(names, MISSING)
    values = list(row) if len(row) == len(names) else [row[0]] * len(names)
    return dict(zip(names, values, strict=True))
