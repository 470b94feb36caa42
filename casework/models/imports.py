"""Register imports and the integrations that push them.

- ``import_batch``: one row per file or push received, whatever became of it (imported,
  imported in part, rejected, already imported), with its SHA-256 so the same file twice
  changes nothing, its counts and its validation report. Append-only: the log of what a school
  sent is evidence of what the registers were built from.
- ``pupil_upn_change``: a temporary UPN replaced by the permanent one (or a corrected UPN), with
  who, when and from which import. Append-only.
- ``api_token``: an integration's bearer token (only its SHA-256 is kept), acting as an
  ``integration`` user scoped to that user's schools. Revoking sets ``revoked_at``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from casework.models.base import Base, JSONType, UTCDateTime


class ImportBatch(Base):
    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    la_id: Mapped[int] = mapped_column(ForeignKey("local_authority.id"), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # ctf, csv, json
    file_name: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(20))  # imported, partial, rejected, unchanged
    partial_requested: Mapped[bool] = mapped_column(Boolean)
    counts: Mapped[dict[str, Any]] = mapped_column(JSONType)
    problems: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    problem_count: Mapped[int] = mapped_column(Integer)
    by_user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PupilUpnChange(Base):
    __tablename__ = "pupil_upn_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    old_upn: Mapped[str] = mapped_column(String(13))
    new_upn: Mapped[str] = mapped_column(String(13))
    reason: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    by_user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    import_sha256: Mapped[str | None] = mapped_column(String(64))


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Migration 0013: every token expires; its last use is recorded; it is scoped to named
    # schools (``api_token_school``), a subset of its integration user's.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_used_address: Mapped[str | None] = mapped_column(String(64), nullable=True)


class ApiTokenSchool(Base):
    """The schools a token may push registers for."""

    __tablename__ = "api_token_school"

    token_id: Mapped[int] = mapped_column(ForeignKey("api_token.id"), primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), primary_key=True)
