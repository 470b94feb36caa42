"""Request and response shapes. msgspec enforces the constraints it publishes in OpenAPI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar.datastructures import UploadFile

from casework.vocabulary import CaseKind, Role

Text = Annotated[str, msgspec.Meta(max_length=10_000)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Id = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]


class LoginIn(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    # The 6-digit code from an authenticator app, for an account with a second factor.
    code: Annotated[str, msgspec.Meta(max_length=20)] | None = None


class UserOut(msgspec.Struct):
    id: int
    username: str
    full_name: str
    position: str
    role: str
    la_id: int
    school_ids: list[int]


class UserIn(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9._-]{3,100}$")]
    full_name: Name
    position: Name
    email: Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320)]
    role: Role
    password: Annotated[str, msgspec.Meta(min_length=12, max_length=200)]
    school_ids: list[Id] = []
    manager_id: Id | None = None


class SchoolOut(msgspec.Struct):
    id: int
    urn: str
    name: str
    phase: str
    la_number: str
    establishment_number: str
    traded_service: bool
    traded_officer: str | None
    attendance_lead_name: str | None
    attendance_lead_email: str | None


class ContactOut(msgspec.Struct):
    id: int
    name: str
    relationship: str
    parental_responsibility: bool
    address: str
    phone: str | None
    email: str | None


class EnrolmentOut(msgspec.Struct):
    school_id: int
    school_name: str
    start_date: date
    end_date: date | None
    registration: str


class PupilSummary(msgspec.Struct):
    id: int
    upn: str
    name: str
    date_of_birth: date
    nc_year: int
    family_id: int | None


class CaseSummary(msgspec.Struct):
    id: int
    reference: str
    pupil_id: int
    pupil_name: str
    school_id: int
    school_name: str
    kind: str
    stage: str
    stage_label: str
    level: int | None
    level_name: str | None
    owner_id: int
    owner_name: str
    team: str
    opened_at: datetime
    closed_at: datetime | None
    outcome: str | None
    version: int


class PupilOut(msgspec.Struct):
    id: int
    upn: str
    temporary_upn: bool
    legal_name: str
    preferred_name: str
    date_of_birth: date
    sex: str
    nc_year: int
    family_id: int | None
    characteristics: dict[str, bool]
    contacts: list[ContactOut]
    enrolments: list[EnrolmentOut]
    siblings: list[PupilSummary]
    cases: list[CaseSummary]


class PupilIn(msgspec.Struct, forbid_unknown_fields=True):
    upn: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
    legal_forename: Name
    legal_surname: Name
    date_of_birth: date
    sex: Literal["F", "M"]
    nc_year: Annotated[int, msgspec.Meta(ge=-3, le=14)]
    school_id: Id
    start_date: date
    preferred_forename: Name | None = None
    preferred_surname: Name | None = None
    family_id: Id | None = None
    fsm: bool = False
    sen_support: bool = False
    ehc_plan: bool = False
    looked_after: bool = False
    social_worker: bool = False
    young_carer: bool = False
    eal: bool = False


class FamilyOut(msgspec.Struct):
    id: int
    reference: str
    pupils: list[PupilSummary]
    contacts: list[ContactOut]


class OpenCaseIn(msgspec.Struct, forbid_unknown_fields=True):
    pupil_id: Id
    school_id: Id
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=10_000)]
    kind: CaseKind = CaseKind.IRREGULAR_ATTENDANCE
    stage: Literal["expect", "monitor", "listen_and_understand"] = "monitor"
    owner_id: Id | None = None


class ListedSessionIn(msgspec.Struct, forbid_unknown_fields=True):
    date: date
    session: Literal["AM", "PM"]
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=3)]


class TransitionIn(msgspec.Struct, forbid_unknown_fields=True):
    trigger: Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
    expected_version: Id
    reason: Text | None = None
    rationales: dict[Annotated[str, msgspec.Meta(max_length=60)], Text] = {}
    outcome: Annotated[str, msgspec.Meta(max_length=60)] | None = None
    sessions: Annotated[list[ListedSessionIn], msgspec.Meta(max_length=400)] = []


class UnmetGuardOut(msgspec.Struct):
    guard: str
    reason: str
    overridable: bool


class ActionOut(msgspec.Struct):
    trigger: str
    label: str
    allowed: bool
    unmet: list[UnmetGuardOut]


class ActionsOut(msgspec.Struct):
    case_id: int
    stage: str
    version: int
    actions: list[ActionOut]


class EventOut(msgspec.Struct):
    id: int
    sequence: int
    occurred_at: datetime
    actor_name: str
    actor_position: str
    kind: str
    from_stage: str | None
    to_stage: str | None
    reason: str | None
    data: dict[str, Any]
    intervention_id: int | None


class InterventionIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: Annotated[str, msgspec.Meta(max_length=60)]
    occurred_on: date
    summary: Annotated[str, msgspec.Meta(min_length=1, max_length=10_000)]
    family_engaged: Annotated[str, msgspec.Meta(max_length=30)] = "not_applicable"
    outcome: Annotated[str, msgspec.Meta(max_length=30)] = "pending"
    attendees: Annotated[list[Name], msgspec.Meta(max_length=50)] = []
    details: dict[Annotated[str, msgspec.Meta(max_length=60)], Any] = {}


class OutcomeIn(msgspec.Struct, forbid_unknown_fields=True):
    outcome: Annotated[str, msgspec.Meta(max_length=30)]
    note: Annotated[str, msgspec.Meta(min_length=1, max_length=10_000)]
    family_engaged: Annotated[str, msgspec.Meta(max_length=30)] | None = None


class InterventionOut(msgspec.Struct):
    id: int
    kind: str
    occurred_on: date
    recorded_at: datetime
    staff_name: str
    staff_position: str
    attendees: list[str]
    family_engaged: str
    outcome: str
    summary: str
    details: dict[str, Any]
    supersedes_id: int | None
    superseded: bool


class AssignIn(msgspec.Struct, forbid_unknown_fields=True):
    to_user_id: Id
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=10_000)]


class ReferralIn(msgspec.Struct, forbid_unknown_fields=True):
    to_team: Literal["traded", "statutory"]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=10_000)]
    to_user_id: Id | None = None
    content: dict[Annotated[str, msgspec.Meta(max_length=60)], Text] = {}


class ReferralOut(msgspec.Struct):
    id: int
    case_id: int
    to_team: str
    to_user_id: int | None
    status: str
    made_at: datetime
    content: dict[str, Any]
    decision_reason: str | None


class ReferralDecisionIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Text = ""


class ApprovalIn(msgspec.Struct, forbid_unknown_fields=True):
    target_stage: Literal["formalise_support", "enforce"]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=10_000)]


class PenaltyDecisionIn(msgspec.Struct, forbid_unknown_fields=True):
    # Checked (blank, too short, too long) by workflows.penalty_decision so each refusal names
    # its rule; the cap here only bounds what is read.
    reason: Annotated[str, msgspec.Meta(max_length=10_000)] = ""


class ApprovalDecisionIn(msgspec.Struct, forbid_unknown_fields=True):
    approve: bool
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=10_000)]


class ApprovalOut(msgspec.Struct):
    id: int
    case_id: int
    target_stage: str
    status: str
    reason: str
    requested_at: datetime
    decision_reason: str | None


class ResponsibilityOut(msgspec.Struct):
    holder_id: int
    holder_name: str
    team: str
    via: str
    since: datetime
    until: datetime | None
    reason: str | None


class CaseDetail(msgspec.Struct):
    case: CaseSummary
    responsibility: list[ResponsibilityOut]
    referrals: list[ReferralOut]
    approvals: list[ApprovalOut]


class CasePage(msgspec.Struct):
    items: list[CaseSummary]
    total: int
    page: int
    page_size: int


class PupilPage(msgspec.Struct):
    items: list[PupilSummary]
    total: int
    page: int
    page_size: int


class AttachmentOut(msgspec.Struct):
    id: int
    filename: str
    media_type: str
    size: int
    sha256: str
    intervention_id: int | None
    uploaded_at: datetime


@dataclass
class AttachmentUpload:
    """A multipart upload: the file, and optionally the intervention it evidences."""

    file: UploadFile
    intervention_id: int | None = None
