"""The register, written in bulk: the LA, its schools, users, families, pupils, contacts and
enrolments (the services are for casework, not for 5,000 admissions).

E-mail addresses are at example.org (staff) and example.net (families); telephone numbers are in
Ofcom's drama range 07700 900000-900999; schools have URNs 99xxxx. NC years, ages and admissions
follow the demo's academic year. All demo users share ``DEMO_PASSWORD``; to keep seeding quick it
is hashed once (by ``create_user`` for the administrator) and that hash is reused for the others.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import insert
from sqlalchemy.orm import Session

from api.demo.names import (
    BOYS,
    GIRLS,
    GRANDFATHERS,
    GRANDMOTHERS,
    MEN,
    POSTCODE_LETTERS,
    PREFERRED,
    SCHOOL_PREFIXES,
    SCHOOL_SUFFIXES,
    STREET_NAMES,
    STREET_TYPES,
    SURNAMES,
    TOWNS,
    WOMEN,
)
from api.demo.timeline import term_days, terms
from casework.models import (
    Contact,
    Enrolment,
    Family,
    LocalAuthority,
    Pupil,
    PupilContact,
    School,
    User,
    UserSchool,
)
from casework.upn import ALPHABET, check_letter, make_upn
from casework.vocabulary import Role
from workflows.registry import AddUser, create_user

# A passphrase the sign-in policy would accept as a new password (no service name, not common).
DEMO_PASSWORD = "kettle-harbour-lantern"
LA_NUMBER = "340"
LA_NAME = "Knowsley (demo)"
LA_PROFILE = "knowsley"


@dataclass
class Adult:
    title: str
    forename: str
    surname: str
    relationship: str
    responsibility: bool
    address: tuple[str, str | None, str, str]
    phone: str | None
    email: str | None

    @property
    def formal(self) -> str:
        return f"{self.title} {self.surname}"


@dataclass
class Kid:
    forename: str
    surname: str
    sex: str
    year: int
    school: int  # index into the population's schools
    family: int | None  # index of the family, None for a looked-after child
    adults: list[Adult]
    traits: dict[str, bool]
    id: int = 0
    upn: str = ""
    enrolment_id: int = 0  # the current main enrolment, at ``school``
    since: date = date.min  # when that enrolment began: no case there can open earlier


@dataclass
class SchoolPlan:
    stem: str
    phase: str
    town: str
    traded: bool
    establishment: int
    urn: str

    @property
    def name(self) -> str:
        return f"{self.stem} {'Primary School' if self.phase == 'primary' else 'High School'}"


class Population:
    """Plans the LA's schools, people and their links in memory, then inserts them in bulk."""

    def __init__(self, session: Session, rng: random.Random, academic_year: int):
        self.session = session
        self.rng = rng
        self.year = academic_year  # NC years and ages are this school year's
        # Pupils who changed school did so between the spring term two school years ago and the
        # last week of the summer term just gone, so a case at the new school can open any time.
        self._move_days = (term_days(self.year - 2) + term_days(self.year - 1))[:-5]
        self.plans: list[SchoolPlan] = []
        self.schools: list[School] = []
        self.users: dict[str, User] = {}
        self.leads: list[User] = []
        self.officer_of: dict[int, User] = {}  # school index -> its traded officer
        self.kids: list[Kid] = []
        self.families: list[list[int]] = []  # family index -> kid indexes
        self.family_count = 0
        self.la: LocalAuthority | None = None
        self._phone = rng.randrange(1000)
        self._upn_next: dict[tuple[int, int], int] = {}
        self._temporary_next: dict[tuple[int, int], int] = {}

    # small generators

    def phone(self) -> str:
        self._phone = (self._phone + self.rng.randint(1, 7)) % 1000
        return f"07700 900{self._phone:03d}"

    def address(self, town: str) -> tuple[str, str | None, str, str]:
        rng = self.rng
        street = f"{rng.choice(STREET_NAMES)} {rng.choice(STREET_TYPES)}"
        line1 = f"{rng.randint(1, 180)} {street}"
        line2 = None
        if rng.random() < 0.12:
            line1, line2 = (
                f"Flat {rng.randint(1, 24)}",
                f"{rng.choice(STREET_NAMES)} Court, {street}",
            )
        district = TOWNS.index(town) + 1 if town in TOWNS else 9
        postcode = (
            f"XX{district} {rng.randint(1, 9)}"
            f"{rng.choice(POSTCODE_LETTERS)}{rng.choice(POSTCODE_LETTERS)}"
        )
        return line1, line2, town, postcode

    def email(self, forename: str, surname: str) -> str:
        return f"{forename}.{surname}{self.rng.randint(1, 99)}@example.net".lower()

    # the build

    def build(self, school_count: int, pupil_count: int) -> None:
        self.la = LocalAuthority(la_number=LA_NUMBER, name=LA_NAME, profile=LA_PROFILE)
        self.session.add(self.la)
        self.session.flush()
        self._schools(school_count)
        self._users()
        self._people(pupil_count)

    def _schools(self, n: int) -> None:
        rng = self.rng
        stems = [p + s for p in SCHOOL_PREFIXES for s in SCHOOL_SUFFIXES]
        if n > len(stems):
            raise ValueError(f"the demo names at most {len(stems)} schools")
        rng.shuffle(stems)
        secondaries = set(rng.sample(range(1, n), max(1, round(n * 0.3))))
        traded = {0, *rng.sample(range(1, n), max(1, round(n * 2 / 3)) - 1)}
        towns = TOWNS[: max(1, min(len(TOWNS), n // 4))]
        primary_numbers = iter(sorted(rng.sample(range(2001, 3000), n)))
        secondary_numbers = iter(sorted(rng.sample(range(4001, 5000), n)))
        for i in range(n):
            phase = "secondary" if i in secondaries else "primary"
            number = next(secondary_numbers if phase == "secondary" else primary_numbers)
            self.plans.append(
                SchoolPlan(
                    stem=stems[i],
                    phase=phase,
                    town=towns[i % len(towns)],
                    traded=i in traded,
                    establishment=number,
                    urn=f"99{1001 + i * 7:04d}",
                )
            )
        for plan in self.plans:
            school = School(
                urn=plan.urn,
                la_id=self.la.id,
                establishment_number=f"{plan.establishment:04d}",
                name=plan.name,
                phase=plan.phase,
                traded_service=plan.traded,
            )
            self.schools.append(school)
        self.session.add_all(self.schools)
        self.session.flush()

    def _staff_name(self) -> str:
        return f"{self.rng.choice(WOMEN + MEN)} {self.rng.choice(SURNAMES)}"

    def _users(self) -> None:
        la_id = self.la.id
        admin = create_user(
            self.session,
            AddUser(
                username="admin",
                full_name=self._staff_name(),
                position="System administrator",
                email="admin@example.org",
                role=Role.ADMIN,
                password=DEMO_PASSWORD,
                school_ids=[],
            ),
            la_id,
        )
        self.users["admin"] = admin
        shared_hash = admin.password_hash

        def add(username, position, role, school_ids=(), manager=None) -> User:
            user = User(
                username=username,
                full_name=self._staff_name(),
                position=position,
                email=f"{username}@example.org",
                role=role.value,
                la_id=la_id,
                manager_id=manager.id if manager else None,
                password_hash=shared_hash,
                active=True,
            )
            user.schools = [UserSchool(school_id=sid) for sid in school_ids]
            self.session.add(user)
            self.users[username] = user
            return user

        manager = add("manager", "Attendance service manager", Role.LA_MANAGER)
        self.session.flush()
        for username in ("statutory", "statutory2"):
            add(username, "Statutory attendance officer", Role.STATUTORY_OFFICER, manager=manager)
        traded = [i for i, plan in enumerate(self.plans) if plan.traded]
        officers = min(3, len(traded))
        for k in range(officers):
            served = traded[k::officers]
            officer = add(
                "traded" if k == 0 else f"traded{k + 1}",
                "Traded attendance officer",
                Role.TRADED_OFFICER,
                [self.schools[i].id for i in served],
                manager,
            )
            for i in served:
                self.officer_of[i] = officer
        for i, (plan, school) in enumerate(zip(self.plans, self.schools, strict=True)):
            username = "school" if i == 0 else f"lead.{plan.stem.lower()}"
            lead = add(username, "Attendance lead", Role.SCHOOL_STAFF, [school.id])
            self.leads.append(lead)
        self.session.flush()
        for i, (plan, school) in enumerate(zip(self.plans, self.schools, strict=True)):
            lead = self.leads[i]
            school.attendance_lead_name = lead.full_name
            school.attendance_lead_email = lead.email
            school.attendance_lead_phone = self.phone()
            if plan.traded:
                school.traded_officer_id = self.officer_of[i].id
        self.session.flush()

    # families and pupils

    def _pick_school(self, phase: str, town: str) -> int:
        local = [i for i, p in enumerate(self.plans) if p.phase == phase and p.town == town]
        anywhere = [i for i, p in enumerate(self.plans) if p.phase == phase]
        return self.rng.choice(local or anywhere)

    def _adult(
        self, female: bool, relationship: str, pr: bool, surname: str, address, *, elder=False
    ):
        rng = self.rng
        if elder:
            forename = rng.choice(GRANDMOTHERS if female else GRANDFATHERS)
        else:
            forename = rng.choice(WOMEN if female else MEN)
        return Adult(
            title=rng.choice(("Ms", "Mrs", "Miss")) if female else "Mr",
            forename=forename,
            surname=surname,
            relationship=relationship,
            responsibility=pr,
            address=address,
            phone=self.phone() if rng.random() < 0.95 else None,
            email=self.email(forename, surname) if rng.random() < 0.7 else None,
        )

    def _adults(self, surname: str, town: str) -> list[Adult]:
        """One or two parents or carers, each with their own address (often the same one)."""
        rng = self.rng
        home = self.address(town)
        mother_surname = surname if rng.random() < 0.75 else rng.choice(SURNAMES)
        mother = self._adult(True, "mother", True, mother_surname, home)
        shape = rng.random()
        if shape < 0.05:  # a parent, and a grandparent without parental responsibility
            female = rng.random() < 0.6
            grand = self._adult(
                female,
                "grandmother" if female else "grandfather",
                False,
                rng.choice((surname, mother_surname)),
                home if rng.random() < 0.5 else self.address(rng.choice(TOWNS)),
                elder=True,
            )
            return [mother, grand]
        if shape < 0.35:  # a single parent
            return [
                mother if rng.random() < 0.85 else self._adult(False, "father", True, surname, home)
            ]
        father_home = home if rng.random() < 0.7 else self.address(rng.choice(TOWNS))
        return [mother, self._adult(False, "father", True, surname, father_home)]

    def _people(self, pupil_count: int) -> None:
        rng = self.rng
        while len(self.kids) < pupil_count:
            town = rng.choice([p.town for p in self.plans])
            if rng.random() < 0.012:
                self._looked_after_child(town)
                continue
            size = 1 if rng.random() < 0.7 else (2 if rng.random() < 0.72 else 3)
            size = min(size, pupil_count - len(self.kids))
            self._family(size, town)
        self._write()

    def _traits(self, family_traits: dict[str, bool]) -> dict[str, bool]:
        rng = self.rng
        need = rng.random()
        return {
            "fsm": family_traits["fsm"],
            "eal": family_traits["eal"],
            "social_worker": family_traits["social_worker"],
            "ehc_plan": need < 0.04,
            "sen_support": 0.04 <= need < 0.17,
            "looked_after": False,
            "young_carer": rng.random() < 0.02,
        }

    def _family(self, size: int, town: str) -> None:
        rng = self.rng
        surname = rng.choice(SURNAMES)
        adults = self._adults(surname, town)
        family_traits = {
            "fsm": rng.random() < 0.25,
            "eal": rng.random() < 0.2,
            "social_worker": rng.random() < 0.03,
        }
        years = [rng.randint(0, 11)]
        while len(years) < size:
            gap = 0 if rng.random() < 0.03 else rng.randint(1, 5)
            year = years[-1] + gap if years[-1] + gap <= 11 else years[0] - gap
            if 0 <= year <= 11 and (gap == 0 or year not in years):
                years.append(year)
            elif gap and all(y in years for y in range(12)):
                break
        home_schools = {phase: self._pick_school(phase, town) for phase in ("primary", "secondary")}
        index = len(self.families)
        members = []
        for year in years:
            phase = "primary" if year <= 6 else "secondary"
            school = home_schools[phase]
            if rng.random() < (0.15 if phase == "primary" else 0.1):
                school = self._pick_school(phase, rng.choice(TOWNS))
            members.append(len(self.kids))
            self.kids.append(self._kid(surname, year, school, index, adults, family_traits))
        self.families.append(members)

    def _kid(self, surname, year, school, family, adults, family_traits) -> Kid:
        sex = self.rng.choice("FM")
        return Kid(
            forename=self.rng.choice(GIRLS if sex == "F" else BOYS),
            surname=surname,
            sex=sex,
            year=year,
            school=school,
            family=family,
            adults=adults,
            traits=self._traits(family_traits),
        )

    def _looked_after_child(self, town: str) -> None:
        rng = self.rng
        year = rng.randint(0, 11)
        school = self._pick_school("primary" if year <= 6 else "secondary", town)
        carer_f = rng.random() < 0.6
        carer_forename = rng.choice(WOMEN if carer_f else MEN)
        carer_surname = rng.choice(SURNAMES)
        adults = [
            Adult(
                title=rng.choice(("Ms", "Mrs")) if carer_f else "Mr",
                forename=carer_forename,
                surname=carer_surname,
                relationship="foster carer",
                responsibility=False,
                address=self.address(town),
                phone=self.phone(),
                email=self.email(carer_forename, carer_surname),
            )
        ]
        surname = rng.choice(SURNAMES)
        if rng.random() < 0.7:  # under a care order the birth parent keeps parental responsibility
            forename = rng.choice(WOMEN)
            adults.append(
                Adult(
                    title="Ms",
                    forename=forename,
                    surname=surname,
                    relationship="mother",
                    responsibility=True,
                    address=self.address(rng.choice(TOWNS)),
                    phone=self.phone() if rng.random() < 0.8 else None,
                    email=None,
                )
            )
        traits = {"fsm": True, "eal": False, "social_worker": True}
        kid = self._kid(surname, year, school, None, adults, traits)
        kid.traits.update(looked_after=True, social_worker=True)
        self.kids.append(kid)

    def _move(self, joined: int) -> tuple[date, date]:
        """A move between schools in the year and a half before this school year: the last day
        at the old school and the next school day, the first at the new one."""
        days = self._move_days
        earliest = max(_admission(joined) + timedelta(days=60), terms(self.year - 2)[1].first)
        n = self.rng.randrange(bisect.bisect_left(days, earliest), len(days) - 1)
        return days[n], days[n + 1]

    # UPNs

    def _permanent_upn(self, establishment: int, year: int) -> str:
        for back in range(100):
            key = (establishment, (year - back) % 100)
            serial = self._upn_next.setdefault(key, self.rng.randint(1, 40))
            if serial <= 999:
                self._upn_next[key] = serial + 1
                return make_upn(int(LA_NUMBER), establishment, key[1], serial)
        raise ValueError("no UPN serials left for this establishment")

    def _temporary_upn(self, establishment: int, year: int) -> str:
        key = (establishment, year % 100)
        n = self._temporary_next.get(key, 0)
        self._temporary_next[key] = n + 1
        body = f"{LA_NUMBER}{establishment:04d}{year % 100:02d}{n % 100:02d}{ALPHABET[n // 100]}"
        return check_letter(body) + body

    # writing

    def _write(self) -> None:
        rng = self.rng
        session = self.session
        la_id = self.la.id
        family_rows = [
            {"la_id": la_id, "reference": f"FAM-{n + 1:05d}"} for n in range(len(self.families))
        ]
        self.family_count = len(family_rows)
        family_ids = _insert_returning(session, Family, family_rows)
        primaries = [i for i, p in enumerate(self.plans) if p.phase == "primary"]
        pupil_rows, enrolment_plan = [], []
        for kid in self.kids:
            plan = self.plans[kid.school]
            reception = self.year - kid.year  # the September they started school
            joined = self.year - (kid.year - 7) if kid.year >= 7 else reception
            enrolments: list[tuple[int, date, date | None, str]] = []
            first_school = kid.school
            if joined < self.year and rng.random() < 0.04:  # moved school within the LA
                same_phase = [
                    i for i, p in enumerate(self.plans) if p.phase == plan.phase and i != kid.school
                ]
                if same_phase:
                    first_school = rng.choice(same_phase)
                    moved, arrived = self._move(joined)
                    enrolments.append((first_school, _admission(joined), moved, "main"))
                    enrolments.append((kid.school, arrived, None, "main"))
            if not enrolments:
                enrolments.append((kid.school, _admission(joined), None, "main"))
            kid.since = enrolments[-1][1]
            if kid.year >= 10 and rng.random() < 0.02:  # part-time vocational place elsewhere
                others = [
                    i
                    for i, p in enumerate(self.plans)
                    if p.phase == "secondary" and i != kid.school
                ]
                if others:
                    enrolments.append((rng.choice(others), _admission(self.year), None, "dual"))
            enrolment_plan.append(enrolments)
            allocating = self.plans[first_school]
            if kid.year >= 7:
                allocating = self.plans[rng.choice(primaries)]  # the UPN came from primary school
            if kid.traits["eal"] and kid.year <= 2 and rng.random() < 0.05:
                kid.upn = self._temporary_upn(allocating.establishment, reception)
            else:
                kid.upn = self._permanent_upn(allocating.establishment, reception)
            born = _birthday(rng, self.year, kid.year)
            preferred = PREFERRED.get(kid.forename) if rng.random() < 0.5 else None
            pupil_rows.append(
                {
                    "upn": kid.upn,
                    "legal_forename": kid.forename,
                    "legal_surname": kid.surname,
                    "preferred_forename": preferred,
                    "preferred_surname": None,
                    "date_of_birth": born,
                    "sex": kid.sex,
                    "nc_year": kid.year,
                    "family_id": None if kid.family is None else family_ids[kid.family],
                    "la_id": la_id,
                    **kid.traits,
                }
            )
        pupil_ids = _insert_returning(session, Pupil, pupil_rows)
        enrolment_rows, current = [], []
        for kid, pupil_id, enrolments in zip(self.kids, pupil_ids, enrolment_plan, strict=True):
            kid.id = pupil_id
            for school, start, end, registration in enrolments:
                current.append(school == kid.school and end is None and registration == "main")
                enrolment_rows.append(
                    {
                        "pupil_id": pupil_id,
                        "school_id": self.schools[school].id,
                        "start_date": start,
                        "end_date": end,
                        "registration": registration,
                    }
                )
        enrolment_ids = _insert_returning(session, Enrolment, enrolment_rows)
        owners = iter(row["pupil_id"] for row in enrolment_rows)
        by_pupil = {kid.id: kid for kid in self.kids}
        for enrolment_id, is_current in zip(enrolment_ids, current, strict=True):
            pupil_id = next(owners)
            if is_current:
                by_pupil[pupil_id].enrolment_id = enrolment_id
        self._write_contacts(family_ids)

    def _write_contacts(self, family_ids: list[int]) -> None:
        adults: list[Adult] = []
        seen: dict[int, int] = {}
        families: list[int | None] = []
        for kid in self.kids:
            for adult in kid.adults:
                if id(adult) not in seen:
                    seen[id(adult)] = len(adults)
                    adults.append(adult)
                    families.append(None if kid.family is None else family_ids[kid.family])
        rows = [
            {
                "family_id": family,
                "title": a.title,
                "forename": a.forename,
                "surname": a.surname,
                "address_line1": a.address[0],
                "address_line2": a.address[1],
                "town": a.address[2],
                "postcode": a.address[3],
                "phone": a.phone,
                "email": a.email,
            }
            for a, family in zip(adults, families, strict=True)
        ]
        contact_ids = _insert_returning(self.session, Contact, rows)
        links = [
            {
                "pupil_id": kid.id,
                "contact_id": contact_ids[seen[id(adult)]],
                "relationship_to_pupil": adult.relationship,
                "parental_responsibility": adult.responsibility,
                "priority": priority,
            }
            for kid in self.kids
            for priority, adult in enumerate(kid.adults, start=1)
        ]
        self.session.execute(insert(PupilContact), links)


def _insert_returning(session: Session, model, rows: list[dict]) -> list[int]:
    if not rows:
        return []
    result = session.execute(insert(model).returning(model.id, sort_by_parameter_order=True), rows)
    return list(result.scalars())


def _admission(year: int) -> date:
    # Admissions and placements are dated 1 September, when the academic year begins: the demo
    # year's are then never after today, even before its autumn term has started.
    return date(year, 9, 1)


def _birthday(rng: random.Random, academic_year: int, nc_year: int) -> date:
    first = date(academic_year - 5 - nc_year, 9, 1)  # Reception: four on 1 September
    return first + timedelta(days=rng.randrange(365))
