"""Cases and everything a court might ask about them.

Case events, interventions and attachments are append-only (database triggers refuse UPDATE and
DELETE; see the initial migration). The case row itself holds only projections of that history
(stage, owner, team) and a version for optimistic locking; it never changes without an event.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.models.base import Base, JSONType, UTCDateTime
from casework.models.organisation import School, User
from casework.models.pupils import Pupil

OPEN_CASES = {
    "postgresql_where": text("closed_at IS NULL"),
    "sqlite_where": text("closed_at IS NULL"),
}


class Case(Base):
    __tablename__ = "case_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(30), unique=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    la_id: Mapped[int] = mapped_column(ForeignKey("local_authority.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    stage: Mapped[str] = mapped_column(String(30), index=True)
    closed_from_stage: Mapped[str | None] = mapped_column(String(30), nullable=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    team: Mapped[str] = mapped_column(String(20), index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(40), nullable=True)
    last_event_sequence: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    pupil: Mapped[Pupil] = relationship(lazy="joined")
    school: Mapped[School] = relationship(lazy="joined")
    owner: Mapped[User] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}
    # Open cases newest first, in an LA, for a holder and at a school: My work and the
    # caseload (migration 0012).
    __table_args__ = (
        Index("ix_case_file_open_la_opened", "la_id", "opened_at", "id", **OPEN_CASES),
        Index("ix_case_file_open_owner_opened", "owner_id", "opened_at", "id", **OPEN_CASES),
        Index("ix_case_file_open_school_opened", "school_id", "opened_at", "id", **OPEN_CASES),
    )


class CaseEvent(Base):
    """One entry in the case chronology: who, when, what, from/to stage, why, evidence."""

    __tablename__ = "case_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), nullable=True)
    actor_name: Mapped[str] = mapped_column(String(200))
    actor_position: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    from_stage: Mapped[str | None] = mapped_column(String(30), nullable=True)
    to_stage: Mapped[str | None] = mapped_column(String(30), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    intervention_id: Mapped[int | None] = mapped_column(
        ForeignKey("intervention.id"), nullable=True
    )

    case: Mapped[Case] = relationship()

    __table_args__ = (UniqueConstraint("case_id", "sequence"),)


class Intervention(Base):
    """Support, contact or a legal step recorded on a case; corrections supersede, never edit."""

    __tablename__ = "intervention"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    kind: Mapped[str] = mapped_column(String(60))
    occurred_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    staff_name: Mapped[str] = mapped_column(String(200))
    staff_position: Mapped[str] = mapped_column(String(200))
    attendees: Mapped[list[str]] = mapped_column(JSONType, default=list)
    family_engaged: Mapped[str] = mapped_column(String(30))
    outcome: Mapped[str] = mapped_column(String(30))
    summary: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("intervention.id"), nullable=True)


class Attachment(Base):
    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    intervention_id: Mapped[int | None] = mapped_column(
        ForeignKey("intervention.id"), nullable=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Responsibility(Base):
    """Who held the case and when. A holder's period ends (``until``) when the next one starts."""

    __tablename__ = "responsibility"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    team: Mapped[str] = mapped_column(String(20))
    via: Mapped[str] = mapped_column(String(20))  # opened, assignment, transfer, referral
    since: Mapped[datetime] = mapped_column(UTCDateTime())
    until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)

    holder: Mapped[User] = relationship(lazy="joined")
    case: Mapped[Case] = relationship()


class Referral(Base):
    """A request for another team to take the case (school to traded officer, traded officer to
    statutory officer or Family First); accepted or returned with reasons."""

    __tablename__ = "referral"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    from_user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    to_team: Mapped[str] = mapped_column(String(20), index=True)
    to_user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), nullable=True)
    content: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    made_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20), index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class ApprovalRequest(Base):
    """Supervisor approval before Formalise or Enforce, where the LA profile asks for it."""

    __tablename__ = "approval_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    target_stage: Mapped[str] = mapped_column(String(30))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
