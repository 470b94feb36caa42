"""Leave of absence and the National Framework for penalty notices: the LA's central records.

What a court or another LA might ask about is kept as it was: leave requests and decisions,
payments, sessions relied on, enquiries to other LAs and notices they reported are append-only
(database triggers refuse UPDATE and DELETE; migration 0007). A request and a notice carry a
status that is a projection of their case events, changed only by ``workflows.penalties`` in the
same transaction as the event that records why (as a case's stage is).

Money is held in pence.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.models.base import Base, JSONType, UTCDateTime
from casework.models.cases import Case
from casework.models.pupils import Contact, Pupil


class LeaveRequest(Base):
    """A parent's application for leave of absence in term time (reg 11, 2024 Regs)."""

    __tablename__ = "leave_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    la_id: Mapped[int] = mapped_column(ForeignKey("local_authority.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    applied_by_contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"))
    applied_on: Mapped[date] = mapped_column(Date)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())

    applied_by: Mapped[Contact] = relationship(lazy="joined")


class LeaveDecision(Base):
    """The headteacher's (or their authorised deputy's) decision on one leave request."""

    __tablename__ = "leave_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("leave_request.id"), unique=True)
    decision: Mapped[str] = mapped_column(String(20))  # authorised, partly_authorised, refused
    exceptional_circumstances: Mapped[bool] = mapped_column(Boolean)
    reasons: Mapped[str] = mapped_column(Text)
    decided_on: Mapped[date] = mapped_column(Date)
    decided_by_name: Mapped[str] = mapped_column(String(200))
    decided_by_position: Mapped[str] = mapped_column(String(200))
    authorised_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    authorised_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    school_days_authorised: Mapped[int] = mapped_column(Integer, default=0)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PenaltyNoticeRequest(Base):
    """A school's request to the LA for penalty notices (or an LA officer's own), with the
    sessions relied on and, for a holiday, the leave request and refusal kept with it."""

    __tablename__ = "penalty_notice_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    la_id: Mapped[int] = mapped_column(ForeignKey("local_authority.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    reason: Mapped[str] = mapped_column(String(30))  # holiday, irregular_attendance, lateness
    leave_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("leave_request.id"), nullable=True
    )
    summary: Mapped[str] = mapped_column(Text)
    # [{"date", "session", "code"}] as the school relied on them, and the register extract
    # (the pupil's marks over the period) as it stood when the request was made.
    sessions: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    register_extract: Mapped[dict[str, Any]] = mapped_column(JSONType)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    requested_by_name: Mapped[str] = mapped_column(String(200))
    requested_by_position: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20), index=True)  # pending, accepted, declined
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    case: Mapped[Case] = relationship()
    pupil: Mapped[Pupil] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}


class PenaltyNotice(Base):
    """One notice to one parent for one child: drafted, issued, then paid, withdrawn or taken
    to prosecution. Dates are fixed when it is issued, so the notice says what it said."""

    __tablename__ = "penalty_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(30), unique=True)
    la_id: Mapped[int] = mapped_column(ForeignKey("local_authority.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("penalty_notice_request.id"), nullable=True, index=True
    )
    reason: Mapped[str] = mapped_column(String(30))
    offence_from: Mapped[date] = mapped_column(Date)
    offence_to: Mapped[date] = mapped_column(Date)
    # 1 or 2: the notice's place among this parent's notices for this child within 3 years.
    ordinal: Mapped[int] = mapped_column(Integer)
    amount_discounted_pence: Mapped[int | None] = mapped_column(Integer, nullable=True)
    amount_full_pence: Mapped[int] = mapped_column(Integer)
    # drafted, issued, paid, withdrawn, prosecution, cancelled (a draft never issued)
    status: Mapped[str] = mapped_column(String(20), index=True)
    drafted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    drafted_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    # Checks an officer set aside with a recorded rationale (the LA's discretion).
    rationales: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    # The parent's name and address as the notice was addressed.
    recipient: Mapped[dict[str, Any]] = mapped_column(JSONType)
    issued_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    posted_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    received_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    discount_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    pay_by: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), nullable=True)
    issued_by_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    issued_by_position: Mapped[str | None] = mapped_column(String(200), nullable=True)
    paid_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    amount_paid_pence: Mapped[int | None] = mapped_column(Integer, nullable=True)
    paid_within_discount: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    withdrawn_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    withdrawal_ground: Mapped[str | None] = mapped_column(String(30), nullable=True)
    prosecution_decided_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    closing_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    case: Mapped[Case] = relationship()
    pupil: Mapped[Pupil] = relationship(lazy="joined")
    contact: Mapped[Contact] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}


class PenaltyNoticeSession(Base):
    """A session a notice relies on. A session backs one live notice per parent: the partial
    unique index refuses a second, even from two officers at once. A notice withdrawn because
    it was misaddressed or wrong in a material detail releases its sessions for a corrected
    one (``released``); every other notice keeps them, withdrawn or not."""

    __tablename__ = "penalty_notice_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("penalty_notice.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"))
    day: Mapped[date] = mapped_column(Date)
    session: Mapped[str] = mapped_column(String(2))
    code: Mapped[str] = mapped_column(String(2))
    released: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        Index(
            "uq_penalty_notice_session_live",
            "pupil_id",
            "contact_id",
            "day",
            "session",
            unique=True,
            sqlite_where=text("released = 0"),
            postgresql_where=text("released = false"),
        ),
        Index("ix_penalty_notice_session_pupil_day", "pupil_id", "day"),
    )


class PenaltyPayment(Base):
    """A payment received by the LA against a notice (all payments go to the LA)."""

    __tablename__ = "penalty_payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("penalty_notice.id"), index=True)
    paid_on: Mapped[date] = mapped_column(Date)
    amount_pence: Mapped[int] = mapped_column(Integer)
    within_discount: Mapped[bool] = mapped_column(Boolean)
    method: Mapped[str] = mapped_column(String(40))
    finance_reference: Mapped[str] = mapped_column(String(60))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PenaltyNoticeEnquiry(Base):
    """An enquiry to another LA about earlier notices to this parent for this child, so the
    limit of two in three years is applied across borders (RULES.md §2.3)."""

    __tablename__ = "penalty_notice_enquiry"

    id: Mapped[int] = mapped_column(primary_key=True)
    la_id: Mapped[int] = mapped_column(ForeignKey("local_authority.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"), index=True)
    other_la: Mapped[str] = mapped_column(String(200))
    asked_on: Mapped[date] = mapped_column(Date)
    answered_on: Mapped[date] = mapped_column(Date)
    # What the other LA said, and how many notices it reported (each one a PriorPenaltyNotice).
    answer: Mapped[str] = mapped_column(Text)
    notices_reported: Mapped[int] = mapped_column(Integer)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PriorPenaltyNotice(Base):
    """A notice another LA issued to this parent for this child, as that LA reported it."""

    __tablename__ = "prior_penalty_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    la_id: Mapped[int] = mapped_column(ForeignKey("local_authority.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"), index=True)
    enquiry_id: Mapped[int] = mapped_column(ForeignKey("penalty_notice_enquiry.id"), index=True)
    issuing_la: Mapped[str] = mapped_column(String(200))
    their_reference: Mapped[str] = mapped_column(String(60))
    issued_on: Mapped[date] = mapped_column(Date)
    # paid, prosecution, withdrawn or issued (awaiting payment): withdrawn ones do not count.
    status: Mapped[str] = mapped_column(String(20))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
