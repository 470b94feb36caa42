"""Local authorities, schools, users and which schools each user serves."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.models.base import Base, UTCDateTime


class LocalAuthority(Base):
    __tablename__ = "local_authority"

    id: Mapped[int] = mapped_column(primary_key=True)
    la_number: Mapped[str] = mapped_column(String(3), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    profile: Mapped[str] = mapped_column(String(50))


class School(Base):
    __tablename__ = "school"

    id: Mapped[int] = mapped_column(primary_key=True)
    urn: Mapped[str] = mapped_column(String(7), unique=True)
    la_id: Mapped[int] = mapped_column(ForeignKey("local_authority.id"), index=True)
    establishment_number: Mapped[str] = mapped_column(String(4))
    name: Mapped[str] = mapped_column(String(200))
    phase: Mapped[str] = mapped_column(String(30))
    traded_service: Mapped[bool] = mapped_column(Boolean, default=False)
    traded_officer_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), nullable=True)
    attendance_lead_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    attendance_lead_email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    attendance_lead_phone: Mapped[str | None] = mapped_column(String(40), nullable=True)

    la: Mapped[LocalAuthority] = relationship()

    __table_args__ = (UniqueConstraint("la_id", "establishment_number"),)


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(30))
    la_id: Mapped[int] = mapped_column(ForeignKey("local_authority.id"), index=True)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), nullable=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Sign-in hardening (migration 0013): consecutive failures since the last success, the lock
    # they led to (an administrator unlocks), when the password last changed, the moment before
    # which every session is void (sign-out everywhere, unlock, password change), and the TOTP
    # second factor (the secret is set at enrolment and counts once confirmed).
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    sessions_valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    totp_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    schools: Mapped[list[UserSchool]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def school_ids(self) -> frozenset[int]:
        return frozenset(link.school_id for link in self.schools)


class UserSchool(Base):
    """The schools a user works for: school staff at their own, traded officers those they serve."""

    __tablename__ = "user_school"

    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), primary_key=True, index=True)

    user: Mapped[User] = relationship(back_populates="schools")
