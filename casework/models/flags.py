"""What the daily scan found, so the next scan only acts on changes.

- ``pupil_flag``: each flag (persistent absence, the penalty-notice threshold, …) a pupil has
  now, since when, and the figures when it was raised. The scan's working state: it raises a
  flag once and deletes it when it stops holding (a row is not touched while it holds, so a
  steady day writes nothing); every change that matters to a case is a case event, which is
  the record.
- ``case_proposal``: a new case the scan proposes to a school for a pupil without an open case
  (e.g. attendance below 95 % → Monitor). The school accepts (a case opens) or dismisses it with
  a reason; both are kept.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from casework.models.base import Base, JSONType, UTCDateTime


class PupilFlag(Base):
    __tablename__ = "pupil_flag"

    id: Mapped[int] = mapped_column(primary_key=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    flag: Mapped[str] = mapped_column(String(40))
    raised_on: Mapped[date] = mapped_column(Date)
    explanation: Mapped[str] = mapped_column(Text)
    figures: Mapped[dict[str, Any]] = mapped_column(JSONType)

    __table_args__ = (
        UniqueConstraint("pupil_id", "school_id", "flag"),
        # Pupils newly flagged, on My work (migration 0012).
        Index("ix_pupil_flag_raised_on", "raised_on"),
    )


class CaseProposal(Base):
    __tablename__ = "case_proposal"

    id: Mapped[int] = mapped_column(primary_key=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    flag: Mapped[str] = mapped_column(String(40))
    stage: Mapped[str] = mapped_column(String(40))
    explanation: Mapped[str] = mapped_column(Text)
    proposed_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))  # open, accepted, dismissed
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_file.id"), nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}
