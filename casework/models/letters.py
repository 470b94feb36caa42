"""Letters to parents: each one a numbered exhibit on its case.

A letter row records what was sent to whom and how: the data it was made from (a JSON snapshot),
the HTML it rendered to, and the PDF (an ``attachment`` row, so it is a case exhibit with its
sha256). Delivery is "email" (an outbox message carries the PDF) or "print" (it waits in the
school's print batch for the day). Append-only: a letter is never changed, only followed by
another.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy import UniqueConstraint as Unique
from sqlalchemy.orm import Mapped, mapped_column

from casework.models.base import Base, JSONType, UTCDateTime

EMAIL = "email"
PRINT = "print"
DELIVERIES = (EMAIL, PRINT)


class Letter(Base):
    __tablename__ = "letter"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    # The parent it is addressed to (one letter per parent with parental responsibility).
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"), index=True)
    # The case's school and LA when it was made: the print batch is per school per day.
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    la_id: Mapped[int] = mapped_column(ForeignKey("local_authority.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    # "LT-340-24-00001-03": the case reference and the exhibit number; printed on every page.
    reference: Mapped[str] = mapped_column(String(60), unique=True)
    # 1, 2, 3... per case, in the order the letters were made.
    exhibit_number: Mapped[int] = mapped_column(Integer)
    letter_date: Mapped[date] = mapped_column(Date)
    # Everything the template was filled from, exactly as rendered (JSON).
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    html: Mapped[str] = mapped_column(Text)
    html_sha256: Mapped[str] = mapped_column(String(64))
    # The PDF: an attachment on the case (content and sha256 live there).
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachment.id"), unique=True)
    pages: Mapped[int] = mapped_column(SmallInteger)
    delivery: Mapped[str] = mapped_column(String(10))
    # Why a parent with an email address is sent a printed letter (e.g. served by post).
    delivery_note: Mapped[str | None] = mapped_column(String(200), nullable=True)
    outbox_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_message.id"), nullable=True
    )
    # What the letter is about, when it belongs to a record of its own.
    intervention_id: Mapped[int | None] = mapped_column(
        ForeignKey("intervention.id"), nullable=True
    )
    penalty_notice_id: Mapped[int | None] = mapped_column(
        ForeignKey("penalty_notice.id"), nullable=True, index=True
    )
    created_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_by_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Unique("case_id", "exhibit_number"),
        # The print batch's question: this school's printed letters of one day.
        Index("ix_letter_print_batch", "school_id", "delivery", "letter_date"),
    )
