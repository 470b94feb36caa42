"""Court packs: each pre-court pack (or educational-neglect referral) built from a case, kept
exactly as it was built so the version that went to court can be proved by its sha256.

Append-only (database triggers refuse UPDATE and DELETE): a rebuilt pack is a new row with the
next number. Sign-offs and downloads are case events naming the pack, not changes to it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy import UniqueConstraint as Unique
from sqlalchemy.orm import Mapped, mapped_column

from casework.models.base import Base, JSONType, UTCDateTime


class CourtPack(Base):
    __tablename__ = "court_pack"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    # 1, 2, 3... per case; the pack's reference is the case reference and "-P<number>".
    number: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(60), unique=True)
    route: Mapped[str] = mapped_column(String(30))  # prosecution, educational_neglect
    offence: Mapped[str] = mapped_column(String(20))  # s444(1), s444(1A)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    # The last day to lay an information for the period (6 calendar months after its end).
    limit_date: Mapped[date] = mapped_column(Date)
    court: Mapped[str] = mapped_column(String(200))
    # The parents named, as contact ids in the order given.
    contact_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    built_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    built_by_name: Mapped[str] = mapped_column(String(200))
    built_by_position: Mapped[str] = mapped_column(String(200))
    built_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The completeness warnings the builder acknowledged (their plain words, as shown).
    warnings_acknowledged: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Megabytes each: loaded only when downloaded, never for a list of packs.
    pdf: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    zip: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    zip_sha256: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int] = mapped_column(Integer)
    # The machine-readable index (sections, exhibits, pages) as the ZIP's index.json holds it.
    index: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (Unique("case_id", "number"),)
