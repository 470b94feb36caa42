"""School calendars as recorded: LA term dates per academic year, and each school's own changes.

Both tables are append-only (database triggers refuse UPDATE and DELETE; see migration 0002), so
a court can see who moved a date, when and why:

- an LA's year is whatever its latest ``la_calendar_year`` row says; earlier rows stay as history;
- a school's change (own term dates, an INSET day, a closure) stays in force until a later row
  names it in ``supersedes_id``: a correction (same kind, new dates) or a ``withdrawal``. A row can
  be superseded once (unique), so two people correcting the same entry cannot both win.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from casework.models.base import Base, JSONType, UTCDateTime


class LaCalendarYear(Base):
    __tablename__ = "la_calendar_year"

    id: Mapped[int] = mapped_column(primary_key=True)
    la_id: Mapped[int] = mapped_column(ForeignKey("local_authority.id"), index=True)
    start_year: Mapped[int] = mapped_column(Integer)
    # [{"name": "autumn", "first": "2024-09-02", "last": ..., "half_term": [first, last]}, ...]
    terms: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SchoolCalendarOverride(Base):
    __tablename__ = "school_calendar_override"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    academic_year: Mapped[int] = mapped_column(Integer)  # the year it starts in: 2024 = 2024/25
    kind: Mapped[str] = mapped_column(String(20))  # term_dates, inset_day, closure, withdrawal
    first_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    last_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    session: Mapped[str | None] = mapped_column(String(4), nullable=True)  # am, pm, both
    terms: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType, nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Named by hand: the naming convention's name would pass PostgreSQL's 63-character limit.
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("school_calendar_override.id", name="fk_school_calendar_override_supersedes"),
        nullable=True,
        unique=True,
    )
