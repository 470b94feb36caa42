"""Pupils, their families, parents and carers, and enrolments at schools."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.models.base import Base


class Family(Base):
    """Links siblings (possibly at different schools) so officers work with the whole family."""

    __tablename__ = "family"

    id: Mapped[int] = mapped_column(primary_key=True)
    la_id: Mapped[int] = mapped_column(ForeignKey("local_authority.id"), index=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)

    pupils: Mapped[list[Pupil]] = relationship(back_populates="family")


class Pupil(Base):
    __tablename__ = "pupil"

    id: Mapped[int] = mapped_column(primary_key=True)
    upn: Mapped[str] = mapped_column(String(13), unique=True)
    legal_forename: Mapped[str] = mapped_column(String(100))
    legal_surname: Mapped[str] = mapped_column(String(100))
    preferred_forename: Mapped[str | None] = mapped_column(String(100), nullable=True)
    preferred_surname: Mapped[str | None] = mapped_column(String(100), nullable=True)
    date_of_birth: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1))
    nc_year: Mapped[int] = mapped_column(SmallInteger)
    family_id: Mapped[int | None] = mapped_column(ForeignKey("family.id"), index=True)
    la_id: Mapped[int] = mapped_column(ForeignKey("local_authority.id"), index=True)
    fsm: Mapped[bool] = mapped_column(Boolean, default=False)
    sen_support: Mapped[bool] = mapped_column(Boolean, default=False)
    ehc_plan: Mapped[bool] = mapped_column(Boolean, default=False)
    looked_after: Mapped[bool] = mapped_column(Boolean, default=False)
    social_worker: Mapped[bool] = mapped_column(Boolean, default=False)
    young_carer: Mapped[bool] = mapped_column(Boolean, default=False)
    eal: Mapped[bool] = mapped_column(Boolean, default=False)

    family: Mapped[Family | None] = relationship(back_populates="pupils")
    enrolments: Mapped[list[Enrolment]] = relationship(back_populates="pupil")
    contacts: Mapped[list[PupilContact]] = relationship(back_populates="pupil")

    @property
    def display_name(self) -> str:
        forename = self.preferred_forename or self.legal_forename
        surname = self.preferred_surname or self.legal_surname
        return f"{forename} {surname}"


class Contact(Base):
    """A parent or carer. Each has their own address: letters go to each one separately."""

    __tablename__ = "contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int | None] = mapped_column(ForeignKey("family.id"), index=True)
    title: Mapped[str | None] = mapped_column(String(20), nullable=True)
    forename: Mapped[str] = mapped_column(String(100))
    surname: Mapped[str] = mapped_column(String(100))
    address_line1: Mapped[str] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200), nullable=True)
    town: Mapped[str] = mapped_column(String(100))
    postcode: Mapped[str] = mapped_column(String(10))
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)


class PupilContact(Base):
    """How a contact relates to one pupil; parental responsibility is per child."""

    __tablename__ = "pupil_contact"

    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"), primary_key=True, index=True)
    relationship_to_pupil: Mapped[str] = mapped_column(String(40))
    parental_responsibility: Mapped[bool] = mapped_column(Boolean)
    priority: Mapped[int] = mapped_column(SmallInteger, default=1)

    pupil: Mapped[Pupil] = relationship(back_populates="contacts")
    contact: Mapped[Contact] = relationship(lazy="joined")


class Enrolment(Base):
    __tablename__ = "enrolment"

    id: Mapped[int] = mapped_column(primary_key=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupil.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    registration: Mapped[str] = mapped_column(String(10), default="main")  # main or dual

    pupil: Mapped[Pupil] = relationship(back_populates="enrolments")
