"""A small synthetic LA every database test starts from (names are invented).

Knowsley profile (LA 340). Schools: Oakfield (buys the traded service), Riverside (buys it, same
traded officer) and Hillcrest (does not). The Ashdown siblings attend Oakfield and Riverside; a
Hillcrest pupil has no siblings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from casework.models import (
    Contact,
    Enrolment,
    Family,
    LocalAuthority,
    Pupil,
    PupilContact,
    School,
)
from casework.upn import make_upn
from casework.vocabulary import Role
from workflows.registry import AddUser, create_user

PASSWORD = "correct-horse-battery"


@dataclass(frozen=True)
class World:
    la: int
    oakfield: int
    riverside: int
    hillcrest: int
    pupil_oak: int
    pupil_river: int
    pupil_hill: int
    family: int
    users: dict[str, int]


def build_world(session: Session) -> World:
    la = LocalAuthority(la_number="340", name="Knowsley (synthetic)", profile="knowsley")
    session.add(la)
    session.flush()
    schools = {}
    for key, urn, est, traded in (
        ("oakfield", "900001", "2001", True),
        ("riverside", "900002", "2002", True),
        ("hillcrest", "900003", "2003", False),
    ):
        school = School(
            urn=urn,
            la_id=la.id,
            establishment_number=est,
            name=f"{key.title()} Primary",
            phase="primary",
            traded_service=traded,
        )
        session.add(school)
        schools[key] = school
    session.flush()
    users = {}

    def user(username, role, school_keys=(), manager=None):
        made = create_user(
            session,
            AddUser(
                username=username,
                full_name=username.replace("_", " ").title(),
                position=role.value.replace("_", " ").title(),
                email=f"{username}@example.org",
                role=role,
                password=PASSWORD,
                school_ids=[schools[k].id for k in school_keys],
                manager_id=users.get(manager),
            ),
            la.id,
        )
        users[username] = made.id
        return made

    user("manager", Role.LA_MANAGER)
    user("admin", Role.ADMIN)
    user("statutory", Role.STATUTORY_OFFICER, manager="manager")
    traded = user("traded", Role.TRADED_OFFICER, ("oakfield", "riverside"), manager="manager")
    user("traded_two", Role.TRADED_OFFICER, ("hillcrest",), manager="manager")
    user("oak_lead", Role.SCHOOL_STAFF, ("oakfield",))
    user("oak_head", Role.SCHOOL_STAFF, ("oakfield",))
    user("river_lead", Role.SCHOOL_STAFF, ("riverside",))
    user("hill_lead", Role.SCHOOL_STAFF, ("hillcrest",))
    schools["oakfield"].traded_officer_id = traded.id
    schools["riverside"].traded_officer_id = traded.id

    family = Family(la_id=la.id, reference="FAM-0001")
    session.add(family)
    session.flush()

    def pupil(serial, forename, surname, born, year, school_key, family_id=None):
        made = Pupil(
            upn=make_upn(340, int(schools[school_key].establishment_number), 20, serial),
            legal_forename=forename,
            legal_surname=surname,
            date_of_birth=born,
            sex="F",
            nc_year=year,
            family_id=family_id,
            la_id=la.id,
        )
        session.add(made)
        session.flush()
        session.add(
            Enrolment(
                pupil_id=made.id,
                school_id=schools[school_key].id,
                start_date=date(2020, 9, 1),
                registration="main",
            )
        )
        return made

    oak = pupil(101, "Amelia", "Ashdown", date(2015, 3, 2), 4, "oakfield", family.id)
    river = pupil(102, "Bella", "Ashdown", date(2017, 6, 9), 2, "riverside", family.id)
    hill = pupil(103, "Cara", "Brook", date(2016, 1, 20), 3, "hillcrest")
    for title, forename in (("Ms", "Dana"), ("Mr", "Evan")):
        contact = Contact(
            family_id=family.id,
            title=title,
            forename=forename,
            surname="Ashdown",
            address_line1="1 Example Road",
            town="Exampletown",
            postcode="L00 0AA",
            email=f"{forename.lower()}@example.org",
        )
        session.add(contact)
        session.flush()
        for child in (oak, river):
            session.add(
                PupilContact(
                    pupil_id=child.id,
                    contact_id=contact.id,
                    relationship_to_pupil="parent",
                    parental_responsibility=True,
                )
            )
    session.flush()
    return World(
        la.id,
        schools["oakfield"].id,
        schools["riverside"].id,
        schools["hillcrest"].id,
        oak.id,
        river.id,
        hill.id,
        family.id,
        users,
    )
