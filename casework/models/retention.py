"""The retention purge's marker on SQLite.

Append-only tables refuse DELETE by trigger; the retention purge (``workflows.retention``) is the
one exception. On SQLite the triggers let a DELETE through only while this table holds a row,
which the purge inserts and removes inside its own transaction (SQLite has one writer, so no
other transaction can delete meanwhile). PostgreSQL uses ``SET LOCAL casework.purging = 'on'``
instead and leaves this table empty (migration 0015).
"""

from __future__ import annotations

from sqlalchemy.orm import Mapped, mapped_column

from casework.models.base import Base


class PurgeInProgress(Base):
    __tablename__ = "purge_in_progress"

    id: Mapped[int] = mapped_column(primary_key=True)
