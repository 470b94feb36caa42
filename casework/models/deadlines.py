"""The deadline ledger: one row per clock on a case, fired exactly once by compare-and-set.

A row is armed in the transaction that starts its clock and cancelled in the one that ends it.
The sweep claims due rows with ``FOR UPDATE SKIP LOCKED`` (so two schedulers take different
rows) and moves ``pending -> fired`` only where the row is still pending and due, in the same
transaction as its effects, so a duplicate, late or stale trigger changes nothing.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.models.base import Base, JSONType, UTCDateTime
from casework.models.cases import Case

# Open deadlines (pending, or passed and escalated but not yet actioned): partial indexes.
OPEN_ONLY = {
    "postgresql_where": text("status IN ('pending', 'fired')"),
    "sqlite_where": text("status IN ('pending', 'fired')"),
}


class Deadline(Base):
    __tablename__ = "deadline"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    kind: Mapped[str] = mapped_column(String(60))
    label: Mapped[str] = mapped_column(String(200))
    # How the date was reached, so an officer (or a court) can check it.
    rule: Mapped[str] = mapped_column(Text)
    starts_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(30))
    due_on: Mapped[date] = mapped_column(Date)
    remind_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    armed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cancel_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    case: Mapped[Case] = relationship()

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # The sweep's two questions: what is due, and what needs a reminder.
        Index("ix_deadline_status_due_on", "status", "due_on"),
        Index("ix_deadline_status_remind_on", "status", "remind_on"),
        # My work and the caseload: open deadlines by date, and each case's next one
        # (migration 0012).
        Index("ix_deadline_open_due_on", "due_on", "case_id", **OPEN_ONLY),
        Index("ix_deadline_open_case_id", "case_id", "due_on", "status", "id", **OPEN_ONLY),
    )


class SchedulerHeartbeat(Base):
    """When each scheduler process last swept, for the health endpoint."""

    __tablename__ = "scheduler_heartbeat"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_sweep_at: Mapped[datetime] = mapped_column(UTCDateTime())
    fired: Mapped[int] = mapped_column(Integer, default=0)
    reminded: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)


class CalendarFeed(Base):
    """A user's secret iCalendar address for their deadlines (Outlook subscribes to it).

    Only the token's hash is stored; a new token revokes the old one.
    """

    __tablename__ = "calendar_feed"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
