"""The outbox: every email is a row written in the same transaction as the change that causes it.

A dispatcher claims due rows with a lease, sends them outside any transaction and marks each
sent by compare-and-set on its lease token, so a crash between sending and marking can resend a
message (under the same Message-ID) but never lose one. The row is the message's state; its
history (each attempt, each retry by a person) is the append-only ``outbox_event``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from casework.models.base import Base, JSONType, UTCDateTime

# Statuses: waiting (or retrying), delivered to the mail server, given up on (shown to the
# LA's managers and on the case, until someone retries it).
PENDING = "pending"
SENT = "sent"
FAILED = "failed"
STATUSES = (PENDING, SENT, FAILED)


class OutboxMessage(Base):
    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The caller's idempotency key: a second enqueue with the same key changes nothing.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    # ``<sanitised key@domain>``, fixed at enqueue: a resend after a crash carries the same one.
    message_id: Mapped[str] = mapped_column(String(320), unique=True)
    kind: Mapped[str] = mapped_column(String(60))
    la_id: Mapped[int] = mapped_column(ForeignKey("local_authority.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("case_file.id"), nullable=True, index=True
    )
    caused_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id"), nullable=True, index=True
    )
    recipient_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id"), nullable=True, index=True
    )
    recipient_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact.id"), nullable=True, index=True
    )
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    # Rendered at send time from the template and this context (checked once at enqueue).
    template: Mapped[str] = mapped_column(String(200))
    context: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # [{"attachment_id": n}]: case exhibits, read from the attachment table when sending.
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Which dispatcher holds the row, until when; an expired lease makes it claimable again.
    lease_token: Mapped[str | None] = mapped_column(String(64), nullable=True)
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The error's class and SMTP code only: never an address or any of the content.
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)

    __table_args__ = (
        # The dispatcher's question: what is pending and due.
        Index("ix_outbox_message_status_next_attempt_at", "status", "next_attempt_at"),
    )


class OutboxEvent(Base):
    """One thing that happened to a message: an attempt's outcome, or a person's retry.
    Append-only (database triggers), like the case chronology."""

    __tablename__ = "outbox_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_message_id: Mapped[int] = mapped_column(ForeignKey("outbox_message.id"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # sent, retrying (a transient failure), failed (given up), retried (by a person)
    kind: Mapped[str] = mapped_column(String(20))
    attempt: Mapped[int] = mapped_column(SmallInteger)
    error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), nullable=True)
    actor_name: Mapped[str] = mapped_column(String(200))
