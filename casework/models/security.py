"""Sign-in attempts (for throttling per account and per address) and the audit log.

- ``sign_in_attempt``: every interactive sign-in tried, with the address it came from and whether
  it succeeded; the throttle counts recent failures per username and per address.
- ``audit_entry``: who read or changed what, when, through which route or command, and the
  outcome. Append-only (database triggers) and tamper-evident: each entry's ``entry_hash`` covers
  its own fields and the previous entry's hash, so editing or deleting one row breaks the chain
  from there on (``casework audit verify``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from casework.models.base import Base, UTCDateTime

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a bigint identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class SignInAttempt(Base):
    __tablename__ = "sign_in_attempt"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    username: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean)
    # Why it failed (bad_password, unknown_user, locked, throttled, bad_code, inactive).
    reason: Mapped[str | None] = mapped_column(String(40), nullable=True)

    __table_args__ = (
        Index("ix_sign_in_attempt_username_at", "username", "at"),
        Index("ix_sign_in_attempt_address_at", "address", "at"),
    )


class AuditEntry(Base):
    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    # No foreign keys: the log outlives what it mentions (purged records, removed users).
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor_username: Mapped[str] = mapped_column(String(100))
    la_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # read, write, export, download, purge, sign_in, sign_out, refused …
    action: Mapped[str] = mapped_column(String(20))
    # pupil, family, case, register, pack, letter, attachment, import, user, token …
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The pupil the record is about, when there is one: a pupil's access history is a lookup.
    pupil_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # "GET /pupils/{pupil_id}" or "cli: casework registers purge".
    route: Mapped[str] = mapped_column(String(300))
    # The HTTP status or the command's result ("ok", "refused", "404").
    outcome: Mapped[str] = mapped_column(String(40))
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (
        Index("ix_audit_entry_pupil_at", "pupil_id", "at"),
        Index("ix_audit_entry_actor_at", "actor_id", "at"),
        Index("ix_audit_entry_at", "at"),
    )
