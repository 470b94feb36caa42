"""Which emails each user receives: per category, ``email`` (one per event), ``digest_only``
(no email per event; the item appears in the user's digest) or ``off``.

A row exists where the user has made a choice; no row means the category's default
(``notifications.preferences.CATEGORIES``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from casework.models.base import Base, UTCDateTime


class NotificationPreference(Base):
    __tablename__ = "notification_preference"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    category: Mapped[str] = mapped_column(String(40))
    choice: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("user_id", "category"),)
