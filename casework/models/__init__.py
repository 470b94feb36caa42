"""SQLAlchemy models. Import from here so Alembic and the application see one metadata."""

from casework.models.base import Base
from casework.models.calendars import LaCalendarYear, SchoolCalendarOverride
from casework.models.cases import (
    ApprovalRequest,
    Attachment,
    Case,
    CaseEvent,
    Intervention,
    Referral,
    Responsibility,
)
from casework.models.deadlines import CalendarFeed, Deadline, SchedulerHeartbeat
from casework.models.flags import CaseProposal, PupilFlag
from casework.models.imports import ApiToken, ApiTokenSchool, ImportBatch, PupilUpnChange
from casework.models.letters import Letter
from casework.models.organisation import LocalAuthority, School, User, UserSchool
from casework.models.outbox import OutboxEvent, OutboxMessage
from casework.models.packs import CourtPack
from casework.models.penalties import (
    LeaveDecision,
    LeaveRequest,
    PenaltyNotice,
    PenaltyNoticeEnquiry,
    PenaltyNoticeRequest,
    PenaltyNoticeSession,
    PenaltyPayment,
    PriorPenaltyNotice,
)
from casework.models.preferences import NotificationPreference
from casework.models.pupils import Contact, Enrolment, Family, Pupil, PupilContact
from casework.models.registers import MarkAmendment, RegisterYear
from casework.models.retention import PurgeInProgress
from casework.models.security import AuditEntry, SignInAttempt

__all__ = [
    "ApiToken",
    "ApiTokenSchool",
    "ApprovalRequest",
    "Attachment",
    "AuditEntry",
    "Base",
    "CalendarFeed",
    "Case",
    "CaseEvent",
    "CaseProposal",
    "Contact",
    "CourtPack",
    "Deadline",
    "Enrolment",
    "Family",
    "ImportBatch",
    "Intervention",
    "LaCalendarYear",
    "LeaveDecision",
    "LeaveRequest",
    "Letter",
    "LocalAuthority",
    "MarkAmendment",
    "NotificationPreference",
    "OutboxEvent",
    "OutboxMessage",
    "PenaltyNotice",
    "PenaltyNoticeEnquiry",
    "PenaltyNoticeRequest",
    "PenaltyNoticeSession",
    "PenaltyPayment",
    "PriorPenaltyNotice",
    "Pupil",
    "PupilContact",
    "PupilFlag",
    "PupilUpnChange",
    "PurgeInProgress",
    "Referral",
    "RegisterYear",
    "Responsibility",
    "SchedulerHeartbeat",
    "School",
    "SchoolCalendarOverride",
    "SignInAttempt",
    "User",
    "UserSchool",
]
