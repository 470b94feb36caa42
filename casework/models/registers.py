"""Attendance registers as legal records.

- ``register_year``: one row per pupil, school and academic year; ``marks`` holds one character
  per session of the school's session index for that year (see ``casework.registers.marks``), so a
  county's daily scan reads one short string per pupil, not 380 rows. ``index_digest`` names the
  index the string was laid on, so a calendar changed afterwards is noticed, not misread.
  Optimistically locked (``version``); changed only through ``casework.registers.store``.
- ``mark_amendment``: every change to an existing mark, with the original and new code, the
  reason, when, and the name and position of the person who made it. Append-only: database
  triggers refuse UPDATE always, and DELETE of anything inside the 6-year minimum (migration
  0005).

Retention: entries are kept at least 6 years (``casework.registers.store.retained_until``, the
years configurable with ``CASEWORK_REGISTER_RETENTION_YEARS``); only the retention purge
(``casework.registers.retention``) deletes, and only what has passed its retention.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from casework.models.base import Base, UTCDateTime


class RegisterYear(Base):
    __tablename__ = "register_year"

    id: Mapped[int] = mapped_column(primary_key=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    academic_year: Mapped[int] = mapped_column(Integer)  # the year it starts in: 2024 = 2024/25
    marks: Mapped[str] = mapped_column(Text)
    sessions: Mapped[int] = mapped_column(Integer)  # len(marks), the index's length
    index_digest: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (UniqueConstraint("pupil_id", "school_id", "academic_year"),)


class MarkAmendment(Base):
    __tablename__ = "mark_amendment"

    id: Mapped[int] = mapped_column(primary_key=True)
    register_year_id: Mapped[int] = mapped_column(ForeignKey("register_year.id"), index=True)
    session_date: Mapped[date] = mapped_column(Date)
    session: Mapped[str] = mapped_column(String(2))  # AM or PM
    original_code: Mapped[str] = mapped_column(String(2))
    new_code: Mapped[str] = mapped_column(String(2))
    reason: Mapped[str] = mapped_column(Text)
    amended_at: Mapped[datetime] = mapped_column(UTCDateTime())
    amended_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), nullable=True)
    amended_by_name: Mapped[str] = mapped_column(String(200))
    amended_by_position: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(300))  # "manual", "import:<file>"
