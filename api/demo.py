"""Synthetic demonstration data: one local authority, its schools, families, pupils, users and a
year of casework (``casework demo seed``, ``casework run --demo``).

Everything is invented. Names come from generic first-name and surname lists written here and are
combined at random; streets and towns are made up ("Exampleton"); postcodes use the non-existent
``XX`` area; e-mail addresses are at example.org (staff) and example.net (families); telephone
numbers are in Ofcom's drama range 07700 900000-900999. Schools have URNs 99xxxx.

Timeline. The demo tells the story of academic year 2024/25 and stops on ``DEMO_TODAY``, Friday
18 July 2025, the last week of the summer term: NC years and ages are those of 2024/25, and no
record is dated after that day. Term dates are invented but plausible (autumn 4 Sep-20 Dec 2024,
spring 6 Jan-4 Apr 2025, summer 22 Apr-22 Jul 2025, with half terms in late October, mid-February
and late May); every case event falls on a term day, during the school day. When the application
runs later with the real clock, the histories read as last year's casework: open cases have simply
had no activity since July 2025.

Case histories are built through the services (``workflows.*``) acting as the right person with a
``FixedClock`` moved forward step by step, so every stage change passed the state machine's guards
on the day it is dated (the Knowsley profile: two Level 1 school actions, an Early Help assessment
completed or declined, six school weeks of school action or three of non-engagement before Level 2,
manager approval before Enforce). The services count every working day as a school day, so a wait
measured here in term days is never shorter than the guards' school weeks.

Seeding is deterministic for a given ``seed`` except for case references, which the case service
draws from ``secrets``. All demo users share ``DEMO_PASSWORD``; to keep seeding quick it is hashed
once (by ``create_user`` for the administrator) and that hash is reused for the other accounts.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from casework.clock import FixedClock
from casework.durations import is_working_day
from casework.models import (
    ApprovalRequest,
    Case,
    Contact,
    Enrolment,
    Family,
    Intervention,
    LocalAuthority,
    Pupil,
    PupilContact,
    Referral,
    School,
    User,
    UserSchool,
)
from casework.upn import ALPHABET, check_letter, make_upn
from casework.vocabulary import CaseKind, Outcome, Role, Stage, Team
from casework.vocabulary import Engagement as Eng
from casework.vocabulary import InterventionKind as Kind
from casework.vocabulary import InterventionOutcome as Res
from workflows.approvals import decide_approval, request_approval
from workflows.cases import FireTrigger, OpenCase, fire_trigger, open_case
from workflows.context import Context
from workflows.facts import ListedSession
from workflows.interventions import (
    RecordIntervention,
    RecordOutcome,
    record_intervention,
    record_outcome,
)
from workflows.registry import AddUser, create_user
from workflows.responsibility import MakeReferral, accept_referral, assign, refer, return_referral

DEMO_PASSWORD = "demo-casework-2024"
LA_NUMBER = "340"
LA_NAME = "Knowsley (demo)"
LA_PROFILE = "knowsley"
DEMO_TODAY = date(2025, 7, 18)
ACADEMIC_YEAR = 2024  # the September the demo's school year began
LONDON = ZoneInfo("Europe/London")

TERMS = (
    (date(2024, 9, 4), date(2024, 12, 20)),
    (date(2025, 1, 6), date(2025, 4, 4)),
    (date(2025, 4, 22), date(2025, 7, 22)),
)
HALF_TERMS = (
    (date(2024, 10, 28), date(2024, 11, 1)),
    (date(2025, 2, 17), date(2025, 2, 21)),
    (date(2025, 5, 26), date(2025, 5, 30)),
)

# --- invented vocabulary -------------------------------------------------------------------------

GIRLS = (
    "Amelia", "Ava", "Chloe", "Daisy", "Ella", "Emily", "Erin", "Evie", "Florence", "Freya",
    "Grace", "Hannah", "Harriet", "Holly", "Imogen", "Isla", "Ivy", "Jessica", "Katherine",
    "Layla", "Lily", "Lucy", "Maisie", "Matilda", "Megan", "Mia", "Millie", "Molly", "Niamh",
    "Olivia", "Phoebe", "Poppy", "Rosie", "Ruby", "Scarlett", "Sienna", "Sophie", "Elizabeth",
    "Willow", "Zara",
)  # fmt: skip
BOYS = (
    "Alexander", "Alfie", "Archie", "Benjamin", "Callum", "Charlie", "Daniel", "Dylan", "Ethan",
    "Finley", "Freddie", "George", "Harry", "Harvey", "Henry", "Isaac", "Jack", "Jacob", "James",
    "Jayden", "Joseph", "Kai", "Leo", "Logan", "Lucas", "Mason", "Max", "Noah", "Oliver", "Oscar",
    "Owen", "Reuben", "Riley", "Samuel", "Theo", "Thomas", "Toby", "Tyler", "William", "Zachary",
)  # fmt: skip
PREFERRED = {
    "Alexander": "Alex", "Benjamin": "Ben", "Samuel": "Sam", "Thomas": "Tom", "Joseph": "Joe",
    "Zachary": "Zac", "Katherine": "Katie", "Elizabeth": "Beth", "Jessica": "Jess",
    "Matilda": "Tilly", "Harriet": "Hattie", "Florence": "Flo",
}  # fmt: skip
WOMEN = (
    "Amanda", "Charlotte", "Claire", "Danielle", "Donna", "Emma", "Gemma", "Hayley", "Helen",
    "Jade", "Jennifer", "Joanne", "Karen", "Kelly", "Kirsty", "Laura", "Leanne", "Lisa", "Louise",
    "Michelle", "Natalie", "Nicola", "Rachel", "Rebecca", "Samantha", "Sarah", "Stacey", "Tracey",
    "Victoria", "Zoe",
)  # fmt: skip
MEN = (
    "Adam", "Andrew", "Anthony", "Ben", "Carl", "Chris", "Craig", "Darren", "David", "Dean",
    "Gary", "Ian", "Jamie", "Jason", "Lee", "Mark", "Martin", "Matthew", "Michael", "Neil", "Paul",
    "Peter", "Richard", "Robert", "Scott", "Simon", "Stephen", "Steven", "Stuart", "Wayne",
)  # fmt: skip
GRANDMOTHERS = ("Brenda", "Carol", "Linda", "Margaret", "Maureen", "Patricia", "Pauline", "Susan")
GRANDFATHERS = ("Brian", "Derek", "Graham", "Keith", "Kenneth", "Malcolm", "Roger", "Terry")
SURNAMES = (
    "Ashcombe", "Ashworth", "Bamford", "Birkett", "Blackwood", "Bramley", "Brockley", "Calder",
    "Carwood", "Dalby", "Denholm", "Eastwood", "Elland", "Fairley", "Fenwick", "Garside",
    "Gilmour", "Hadfield", "Harwood", "Hebden", "Holroyd", "Ingham", "Kearsley", "Kirkham",
    "Langley", "Larkin", "Lindley", "Marsden", "Medlock", "Moorcroft", "Netherton", "Oakley",
    "Ormerod", "Pendle", "Pickup", "Quarmby", "Radcliffe", "Ramsden", "Redfern", "Rigby",
    "Rushton", "Sandiford", "Shackleton", "Sowerby", "Stansfield", "Sutcliffe", "Tattersall",
    "Thornber", "Tillotson", "Towneley", "Turton", "Unsworth", "Wadsworth", "Walmsley",
    "Waddington", "Whitworth", "Wilding", "Winstanley", "Worsley", "Yarwood", "Abbott", "Barlow",
    "Chadwick", "Dawson", "Entwistle", "Fletcher", "Greenhalgh", "Haworth", "Kenyon", "Lowe",
    "Mercer", "Nuttall", "Parr", "Riley", "Seddon", "Taylor", "Warburton", "Whittle",
)  # fmt: skip
STREET_NAMES = (
    "Linnet", "Curlew", "Heron", "Kestrel", "Plover", "Wren", "Rowan", "Hawthorn", "Larch",
    "Sycamore", "Juniper", "Bracken", "Foxglove", "Meadow", "Orchard", "Mill", "Church", "Station",
    "Chapel", "Park", "Canal", "Brook", "Field", "Quarry", "Willow", "Alder", "Heather", "Thistle",
)  # fmt: skip
STREET_TYPES = ("Road", "Street", "Close", "Avenue", "Drive", "Way", "Grove", "Lane", "Crescent")
TOWNS = ("Exampleton", "Sampleford", "Demoby", "Testbury", "Mockley Green")
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
SCHOOL_PREFIXES = (
    "Lark", "Oak", "Ash", "Brook", "Hazel", "Willow", "Rowan", "Holly", "Elm", "Birch", "Heather",
    "Thorn", "Fern", "Maple", "Alder", "Beech", "Cedar", "Linden",
)  # fmt: skip
SCHOOL_SUFFIXES = (
    "field", "brook", "wood", "hill", "dale", "mead", "bank", "croft", "lea", "side", "gate",
    "well",
)  # fmt: skip

# What keeps a child from school, and what the school offers about it.
BARRIERS = (
    ("anxiety about coming into school", "a key adult meeting the pupil at the gate each morning"),
    ("frequent minor illness", "a school nurse check and a letter to the GP with consent"),
    ("a late bedtime making mornings difficult", "a morning routine plan and a wake-up text"),
    ("a falling-out with friends in class", "pastoral check-ins twice a week"),
    ("a recent house move and a long journey", "a bus pass application and a breakfast club place"),
    ("a family bereavement", "a referral for bereavement support"),
    ("low mood after a difficult transition", "a transition mentor and a reduced-stress start"),
    ("a parent working early shifts", "a free breakfast club place"),
)
CARING = ("caring for a parent with a long-term illness", "a referral to the young carers service")
SEND = ("needs linked to SEND not yet met in class", "a SENCo review of the support plan")

ROLE_LABELS = {
    Role.ADMIN: "administrator",
    Role.LA_MANAGER: "LA manager",
    Role.STATUTORY_OFFICER: "statutory officer",
    Role.TRADED_OFFICER: "traded officer",
    Role.SCHOOL_STAFF: "school staff",
}
PREDICTABLE = ("admin", "manager", "statutory", "traded", "school")


@dataclass(frozen=True)
class DemoSummary:
    schools: int
    users: int
    families: int
    pupils: int
    cases: int


def seed_demo(
    factory: sessionmaker[Session], schools: int = 20, pupils: int = 5000, seed: int = 2024
) -> DemoSummary:
    """Fill an empty, migrated database with the demo LA and commit it.

    About 5% of pupils get a case (at least one per scenario, so every stage, both case kinds
    and every closing outcome occur even in a small demo). Raises ValueError for sizes the
    demo cannot fill believably."""
    if schools < 2:
        raise ValueError("the demo needs at least 2 schools")
    if pupils < 20 * schools:
        raise ValueError("the demo needs at least 20 pupils per school")
    rng = random.Random(seed)
    with factory() as session:
        registry = _Registry(session, rng)
        registry.build(schools, pupils)
        session.commit()
        cases = _Casework(session, rng, registry).run()
        session.commit()
        return DemoSummary(
            schools=len(registry.schools),
            users=len(registry.users),
            families=registry.family_count,
            pupils=len(registry.kids),
            cases=cases,
        )


def demo_users(session: Session) -> list[tuple[str, str, str]]:
    """Every demo sign-in: (username, role, where they work)."""
    la = session.scalars(select(LocalAuthority).where(LocalAuthority.name == LA_NAME)).first()
    if la is None:
        return []
    names = dict(session.execute(select(School.id, School.name).where(School.la_id == la.id)).all())
    users = session.scalars(select(User).where(User.la_id == la.id, User.active)).all()
    rank = {role: n for n, role in enumerate(ROLE_LABELS)}

    def order(user: User) -> tuple[int, int, int]:
        predictable = 0 if user.username in PREDICTABLE else 1
        return rank[Role(user.role)], predictable, user.id

    listed = []
    for user in sorted(users, key=order):
        role = Role(user.role)
        schools = [names[link.school_id] for link in sorted(user.schools, key=_school_id)]
        if role == Role.ADMIN:
            where = "whole LA: users and settings"
        elif role == Role.LA_MANAGER:
            where = "whole LA"
        elif role == Role.STATUTORY_OFFICER:
            where = "whole LA: Formalise and Enforce"
        elif len(schools) > 2:
            where = f"{schools[0]}, {schools[1]} +{len(schools) - 2} more"
        else:
            where = ", ".join(schools)
        listed.append((user.username, ROLE_LABELS[role], where))
    return listed


def _school_id(link: UserSchool) -> int:
    return link.school_id


# --- the register: LA, schools, users, families, pupils ------------------------------------------


@dataclass
class _Adult:
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
class _Kid:
    forename: str
    surname: str
    sex: str
    year: int
    school: int  # index into the registry's schools
    family: int | None  # index of the family, None for a looked-after child
    adults: list[_Adult]
    traits: dict[str, bool]
    id: int = 0
    upn: str = ""
    enrolment_id: int = 0


@dataclass
class _SchoolPlan:
    stem: str
    phase: str
    town: str
    traded: bool
    establishment: int
    urn: str

    @property
    def name(self) -> str:
        return f"{self.stem} {'Primary School' if self.phase == 'primary' else 'High School'}"


class _Registry:
    """Writes the register in bulk: the services are for casework, not for 5,000 admissions."""

    def __init__(self, session: Session, rng: random.Random):
        self.session = session
        self.rng = rng
        self.plans: list[_SchoolPlan] = []
        self.schools: list[School] = []
        self.users: dict[str, User] = {}
        self.leads: list[User] = []
        self.officer_of: dict[int, User] = {}  # school index -> its traded officer
        self.kids: list[_Kid] = []
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
                _SchoolPlan(
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
        return _Adult(
            title=rng.choice(("Ms", "Mrs", "Miss")) if female else "Mr",
            forename=forename,
            surname=surname,
            relationship=relationship,
            responsibility=pr,
            address=address,
            phone=self.phone() if rng.random() < 0.95 else None,
            email=self.email(forename, surname) if rng.random() < 0.7 else None,
        )

    def _adults(self, surname: str, town: str) -> list[_Adult]:
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

    def _kid(self, surname, year, school, family, adults, family_traits) -> _Kid:
        sex = self.rng.choice("FM")
        return _Kid(
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
            _Adult(
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
                _Adult(
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
            reception = ACADEMIC_YEAR - kid.year  # the September they started school
            joined = ACADEMIC_YEAR - (kid.year - 7) if kid.year >= 7 else reception
            enrolments: list[tuple[int, date, date | None, str]] = []
            first_school = kid.school
            if joined < ACADEMIC_YEAR and rng.random() < 0.04:  # moved school within the LA
                same_phase = [
                    i for i, p in enumerate(self.plans) if p.phase == plan.phase and i != kid.school
                ]
                if same_phase:
                    first_school = rng.choice(same_phase)
                    moved = _weekday_between(
                        rng, max(_september(joined) + timedelta(days=60), date(2023, 1, 9)),
                        date(2024, 7, 12),
                    )  # fmt: skip
                    if moved > _september(joined):
                        enrolments.append((first_school, _september(joined), moved, "main"))
                        joined_new = _weekday_between(rng, moved + timedelta(days=1), moved)
                        enrolments.append((kid.school, joined_new, None, "main"))
            if not enrolments:
                first_school = kid.school
                enrolments.append((kid.school, _september(joined), None, "main"))
            if kid.year >= 10 and rng.random() < 0.02:  # part-time vocational place elsewhere
                others = [
                    i
                    for i, p in enumerate(self.plans)
                    if p.phase == "secondary" and i != kid.school
                ]
                if others:
                    enrolments.append((rng.choice(others), date(2024, 9, 16), None, "dual"))
            enrolment_plan.append(enrolments)
            allocating = self.plans[first_school]
            if kid.year >= 7:
                allocating = self.plans[rng.choice(primaries)]  # the UPN came from primary school
            if kid.traits["eal"] and kid.year <= 2 and rng.random() < 0.05:
                kid.upn = self._temporary_upn(allocating.establishment, reception)
            else:
                kid.upn = self._permanent_upn(allocating.establishment, reception)
            born = _birthday(rng, kid.year)
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
        adults: list[_Adult] = []
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


def _september(year: int) -> date:
    day = date(year, 9, 3)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _birthday(rng: random.Random, nc_year: int) -> date:
    first = date(ACADEMIC_YEAR - 5 - nc_year, 9, 1)  # Reception: four on 1 September
    return first + timedelta(days=rng.randrange(365))


def _weekday_between(rng: random.Random, first: date, last: date) -> date:
    """A weekday from ``first`` to before ``last`` (or the first weekday from ``first``)."""
    day = first + timedelta(days=rng.randrange((last - first).days)) if last > first else first
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def term_days() -> list[date]:
    """The demo's school days from the start of the year up to and including DEMO_TODAY."""
    days = []
    for first, last in TERMS:
        day = first
        while day <= min(last, DEMO_TODAY):
            in_half_term = any(a <= day <= b for a, b in HALF_TERMS)
            if is_working_day(day) and not in_half_term:
                days.append(day)
            day += timedelta(days=1)
    return days


# --- casework ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scenario:
    name: str
    tell: Callable[[_Story], None]
    window: tuple[int, int]  # earliest and latest start, as indexes into the term days
    weight: float
    holiday: bool = False


class _Casework:
    """Tells each case's story through the services, acting as the right person on the right day."""

    def __init__(self, session: Session, rng: random.Random, registry: _Registry):
        self.session = session
        self.rng = rng
        self.registry = registry
        self.days = term_days()
        self.last = len(self.days) - 1
        self.clock = FixedClock(_at(self.days[0], 8 * 60))
        self.contexts = {
            user.id: Context.build(session, user, self.clock) for user in registry.users.values()
        }
        self.users = registry.users
        self.manager = registry.users["manager"]

    def ctx(self, user: User) -> Context:
        return self.contexts[user.id]

    def statutory_officer(self) -> User:
        return self.users["statutory" if self.rng.random() < 0.6 else "statutory2"]

    def scenarios(self) -> list[_Scenario]:
        end = self.last

        def s(name, tell, earliest, latest, weight, holiday=False):
            window = (max(0, earliest), latest)
            assert window[0] <= window[1], name
            return _Scenario(name, tell, window, weight, holiday)

        return [
            s("expect", _expect, end - 35, end - 3, 12),
            s("monitor", _monitor, end - 50, end - 6, 28),
            s("monitor_stepped_down", _stepped_down, 0, end - 65, 10),
            s("monitor_reopened", _reopened, 0, end - 90, 6),
            s("monitor_holiday_referred", _holiday_referred, end - 35, end - 15, 2, True),
            s("listen", _listen, end - 90, end - 36, 30),
            s("listen_referral_returned", _referral_returned, 0, end - 45, 5),
            s("facilitate", _facilitate, end - 110, end - 62, 35),
            s("formalise_awaiting_statutory", _formalise_awaiting, end - 75, end - 63, 5),
            s("formalise_contract", _formalise_contract, end - 110, end - 82, 12),
            s("formalise_notice_running", _formalise_notice, end - 125, end - 120, 8),
            s("formalise_approval_refused", _approval_refused, 0, end - 132, 3),
            s("enforce", _enforce, 0, end - 152, 7),
            s("enforce_prosecution", _prosecution, 0, end - 155, 6),
            s("enforce_holiday", _holiday_enforce, 5, end - 25, 4, True),
            s("closed_improved_monitor", _improved_monitor, 0, end - 45, 20),
            s("closed_improved_facilitate", _improved_facilitate, 0, end - 72, 14),
            s("closed_improved_formalise", _improved_formalise, 0, end - 130, 6),
            s("closed_moved_away", _moved_away, 0, end - 40, 5),
            s("closed_left_roll", _left_roll, 0, end - 20, 5),
            s("closed_elective_home_education", _home_education, 0, end - 55, 3),
            s("closed_children_missing_education", _missing, 0, end - 45, 2),
            s("closed_holiday_penalty_paid", _holiday_paid, 5, end - 45, 4, True),
        ]

    def plan(self) -> list[_Scenario]:
        every = self.scenarios()
        wanted = max(len(every), round(len(self.registry.kids) * 0.05))
        extra = self.rng.choices(every, weights=[x.weight for x in every], k=wanted - len(every))
        return every + extra

    def pupils_for(self, plan: list[_Scenario]) -> list[_Kid]:
        """Pupils with cases: more often those facing disadvantage, some siblings together, and a
        good share at the first school so its attendance lead sees every stage."""
        rng = self.rng
        kids = self.registry.kids

        def weight(kid: _Kid) -> float:
            t = kid.traits
            w = 1.6 if kid.year >= 7 else 1.0
            for trait, factor in (
                ("fsm", 2.0),
                ("sen_support", 1.5),
                ("ehc_plan", 1.5),
                ("social_worker", 2.0),
                ("young_carer", 1.5),
                ("looked_after", 1.5),
            ):
                if t[trait]:
                    w *= factor
            return w

        priority = sorted(
            range(len(kids)), key=lambda i: rng.random() ** (1 / weight(kids[i])), reverse=True
        )
        taken: set[int] = set()
        chosen: list[_Kid] = []
        minimal = len(self.scenarios())
        for n, _ in enumerate(plan):
            pick = None
            first_school = (n < minimal and n % 2 == 0) or (n >= minimal and n % 16 == 0)
            if first_school:
                at_first = (i for i in priority if i not in taken and kids[i].school == 0)
                pick = next(at_first, None)
            elif chosen and rng.random() < 0.12:
                pick = self._sibling_elsewhere(chosen, taken)
            if pick is None:
                pick = next(i for i in priority if i not in taken)
            taken.add(pick)
            chosen.append(kids[pick])
        return chosen

    def _sibling_elsewhere(self, chosen: list[_Kid], taken: set[int]) -> int | None:
        kids = self.registry.kids
        for kid in reversed(chosen[-20:]):
            if kid.family is None:
                continue
            for index in self.registry.families[kid.family]:
                if index not in taken and kids[index].school != kid.school:
                    return index
        return None

    def run(self) -> int:
        plan = self.plan()
        kids = self.pupils_for(plan)
        holiday_weeks = [
            i
            for i, day in enumerate(self.days)
            if day.weekday() == 0
            and i + 4 <= self.last
            and self.days[i + 4] == day + timedelta(days=4)
        ]
        for n, (scenario, kid) in enumerate(zip(plan, kids, strict=True)):
            lo, hi = scenario.window
            if scenario.holiday:
                start = self.rng.choice([i for i in holiday_weeks if lo <= i <= hi])
            else:
                start = self.rng.randint(lo, hi)
            story = _Story(self, kid, start)
            scenario.tell(story)
            if n % 50 == 49:
                self.session.commit()
        self.clock.set(_at(self.days[self.last], 17 * 60))
        return len(plan)


def _at(day: date, minutes: int) -> datetime:
    return datetime.combine(day, time(0, 0), LONDON) + timedelta(minutes=minutes)


def _pct(value: float) -> str:
    return f"{value:.1f}%"


@dataclass
class _Story:
    """One case, told in order. The clock follows the story; each step is one service call."""

    work: _Casework
    kid: _Kid
    i: int
    case: Case | None = None
    minutes: int = 0
    opened_i: int = 0
    first_refusal_i: int | None = None
    engaged: bool = True
    holder: User | None = None
    support: Intervention | None = None
    contract: Intervention | None = None
    notice: Intervention | None = None
    statutory: User | None = None
    attendance: float = 0.0
    barrier: tuple[str, str] = ("", "")
    notes: list[str] = field(default_factory=list)
    early_help: str = ""
    referral: Referral | None = None

    def __post_init__(self) -> None:
        rng = self.work.rng
        self.rng = rng
        self.school = self.work.registry.schools[self.kid.school]
        self.lead = self.work.registry.leads[self.kid.school]
        self.traded = self.work.registry.officer_of.get(self.kid.school)
        self.statutory = self.work.statutory_officer()
        self.manager = self.work.manager
        self.parent = self.kid.adults[0]
        self.attendance = round(rng.uniform(74.0, 89.5), 1)
        if self.kid.traits["young_carer"]:
            self.barrier = CARING
        elif self.kid.traits["sen_support"] or self.kid.traits["ehc_plan"]:
            self.barrier = SEND
        else:
            self.barrier = rng.choice(BARRIERS)
        self.minutes = rng.randint(0, 120)

    # --- time

    @property
    def day(self) -> date:
        return self.work.days[self.i]

    def wait(self, lo: int, hi: int | None = None) -> None:
        self.goto(self.i + self.rng.randint(lo, lo if hi is None else hi))

    def wait_until(self, index: int) -> None:
        self.goto(max(self.i + 1, index))

    def goto(self, index: int) -> None:
        if index > self.work.last:
            raise RuntimeError(f"a demo case history ran past {DEMO_TODAY}: fix its window")
        if index != self.i:
            self.minutes = self.rng.randint(0, 120)
        self.i = index

    def as_(self, user: User) -> Context:
        """Act as ``user`` a little later on the story's current day (school day, from 08:30)."""
        self.minutes += self.rng.randint(4, 30)
        self.work.clock.set(_at(self.day, 8 * 60 + 30 + self.minutes))
        return self.work.ctx(user)

    def drift(self, change: float) -> str:
        self.attendance = round(min(99.0, max(35.0, self.attendance + change)), 1)
        return _pct(self.attendance)

    # --- service calls

    def open(self, reason: str, stage: Stage = Stage.MONITOR, kind=CaseKind.IRREGULAR_ATTENDANCE):
        ctx = self.as_(self.lead)
        self.case = open_case(
            ctx, OpenCase(self.kid.id, self.school.id, kind=kind, stage=stage, reason=reason)
        )
        self.opened_i = self.i
        self.holder = self.lead

    def record(
        self,
        by: User,
        kind: Kind,
        summary: str,
        engaged: Eng = Eng.NOT_APPLICABLE,
        outcome: Res = Res.PENDING,
        attendees: list[str] | None = None,
        details: dict | None = None,
    ) -> Intervention:
        if engaged in (Eng.NOT_ENGAGED, Eng.DECLINED) and self.first_refusal_i is None:
            self.first_refusal_i = self.i
        ctx = self.as_(by)
        return record_intervention(
            ctx,
            self.case.id,
            RecordIntervention(
                kind=kind.value,
                occurred_on=self.day,
                summary=summary,
                family_engaged=engaged.value,
                outcome=outcome.value,
                attendees=attendees or [],
                details=details or {},
            ),
        )

    def result(
        self, by: User, item: Intervention, outcome: Res, note: str, engaged: Eng | None = None
    ) -> Intervention:
        ctx = self.as_(by)
        return record_outcome(
            ctx,
            self.case.id,
            item.id,
            RecordOutcome(outcome.value, engaged.value if engaged else None, note),
        )

    def fire(
        self,
        by: User,
        trigger: str,
        reason: str,
        *,
        rationales: dict[str, str] | None = None,
        outcome: str | None = None,
        sessions: list[ListedSession] | None = None,
    ) -> None:
        ctx = self.as_(by)
        ctx.session.flush()  # the version a user would have read is the stored one
        fire_trigger(
            ctx,
            self.case.id,
            FireTrigger(
                trigger=trigger,
                expected_version=self.case.version,
                reason=reason,
                rationales=rationales or {},
                outcome=outcome,
                sessions=sessions or [],
            ),
        )

    def close(self, by: User, outcome: Outcome, reason: str) -> None:
        self.fire(by, "close", reason, outcome=outcome.value)

    def refer(self, by: User, team: Team, reason: str, content: dict | None = None) -> Referral:
        ctx = self.as_(by)
        return refer(ctx, self.case.id, MakeReferral(team.value, reason, None, content or {}))

    def accept(self, by: User, referral: Referral, note: str) -> None:
        accept_referral(self.as_(by), referral.id, note)
        self.holder = by
        self.handed_over()

    def hand_to(self, by: User, to: User, reason: str) -> None:
        assign(self.as_(by), self.case.id, to.id, reason)
        self.holder = to
        self.handed_over()

    def handed_over(self) -> None:
        # The services move ``case.owner_id`` but leave an already-loaded ``case.owner`` as it
        # was; each API request starts a fresh session, so reload it as the next request would.
        self.work.session.expire(self.case, ["owner"])

    def approval(self, reason: str) -> ApprovalRequest:
        return request_approval(self.as_(self.statutory), self.case.id, Stage.ENFORCE.value, reason)

    def decide(self, request: ApprovalRequest, approve: bool, reason: str) -> None:
        decide_approval(self.as_(self.manager), request.id, approve, reason)

    def leave_roll(self) -> None:
        self.work.session.execute(
            update(Enrolment).where(Enrolment.id == self.kid.enrolment_id).values(end_date=self.day)
        )

    # --- the graduated response, step by step

    @property
    def who(self) -> str:
        return self.kid.forename

    def referral_form(self) -> dict[str, str]:
        return {
            "actions_taken": "; ".join(self.notes) or "Letters and calls home.",
            "attendance_data": f"Attendance this year {_pct(self.attendance)}.",
            "support_offered": f"Support for {self.barrier[0]}: {self.barrier[1]}.",
        }

    def level_one(self, *, engaged: bool, early_help: str) -> None:
        """School action (Level 1): letter, call, check-in, meeting; Listen and understand; then
        an Early Help assessment: 'completed', 'declined', 'pending', 'none' (not offered yet),
        or 'social_care' (a social worker already leads support, so none is offered)."""
        self.engaged = engaged
        self.early_help = early_help
        pct = _pct(self.attendance)
        self.open(f"Attendance {pct} this term, below the school's 90% concern level.")
        self.record(
            self.lead,
            Kind.LETTER,
            f"First attendance concern letter to {self.parent.formal}: attendance {pct}.",
        )
        self.notes.append("attendance concern letter")
        self.wait(1, 4)
        if engaged:
            self.record(
                self.lead,
                Kind.PHONE_CALL,
                f"Phoned {self.parent.formal}: {self.who} has been struggling with "
                f"{self.barrier[0]}. Parent keen to work with school.",
                Eng.ENGAGED,
            )
        else:
            self.record(
                self.lead,
                Kind.PHONE_CALL,
                f"Three calls to {self.parent.formal} on different days: no answer, messages left.",
                Eng.NOT_ENGAGED,
            )
        self.notes.append("phone calls home")
        self.wait(2, 5)
        self.record(
            self.lead,
            Kind.PUPIL_CHECK_IN,
            f"Daily check-in with the learning mentor for two weeks; {self.who} mentioned "
            f"{self.barrier[0]}.",
        )
        self.notes.append("pupil check-ins")
        self.wait(3, 7)
        if engaged:
            self.record(
                self.lead,
                Kind.ATTENDANCE_CONCERN_MEETING,
                f"Attendance concern meeting with {self.parent.formal}. Agreed: {self.barrier[1]}.",
                Eng.ENGAGED,
                attendees=[f"{self.parent.formal} (parent)", f"{self.lead.full_name} (school)"],
                details={"agreed_actions": [self.barrier[1]], "attendance": _pct(self.attendance)},
            )
            reason = f"Meeting held to understand the barriers: {self.barrier[0]}."
        else:
            self.record(
                self.lead,
                Kind.ATTENDANCE_CONCERN_MEETING,
                f"{self.parent.formal} did not attend the attendance concern meeting; "
                "a second invitation was sent by post.",
                Eng.NOT_ENGAGED,
            )
            reason = "Parent not responding to school contact: the school needs to understand why."
        self.notes.append("attendance concern meeting")
        if self.case.stage != Stage.LISTEN:
            self.fire(self.lead, "advance_to_listen_and_understand", reason)
        if early_help == "social_care":
            self.wait(1, 3)
            self.record(
                self.lead,
                Kind.REFERRAL,
                f"Attendance concerns shared with {self.who}'s allocated social worker.",
                details={"agency": "Children's social care"},
            )
            return
        if early_help == "none":
            return
        self.wait(2, 5)
        if early_help == "declined" or not engaged:
            self.record(
                self.lead,
                Kind.EARLY_HELP_ASSESSMENT,
                f"Early Help assessment offered to {self.parent.formal}, who declined it.",
                Eng.DECLINED,
                Res.DECLINED,
            )
            self.notes.append("Early Help assessment offered (declined)")
            return
        assessment = self.record(
            self.lead,
            Kind.EARLY_HELP_ASSESSMENT,
            f"Early Help assessment started with {self.parent.formal}'s consent.",
            Eng.ENGAGED,
        )
        if early_help == "pending":
            return
        self.wait(8, 12)
        self.result(
            self.lead,
            assessment,
            Res.COMPLETED,
            "Early Help assessment completed; family plan shared with the family and school.",
        )
        self.notes.append("Early Help assessment completed")

    def ready_for_level_two(self) -> None:
        """Six school weeks of school action, or three of the family not engaging."""
        due = self.opened_i + 30
        if not self.engaged and self.first_refusal_i is not None:
            due = min(due, self.first_refusal_i + 16)
        self.wait_until(due + self.rng.randint(0, 2))

    def level_two(self) -> None:
        """Facilitate support: the traded officer and an Attendance Improvement Meeting, or at a
        school without the traded service, the school's own Team Around the Family."""
        rationales = {}
        if self.early_help == "social_care":
            rationales["early_help"] = (
                "The family already has a child in need plan with children's social care; "
                "the social worker leads support, so an Early Help assessment would duplicate it."
            )
        pct = _pct(self.attendance)
        if self.traded:
            referral = self.refer(
                self.lead,
                Team.TRADED,
                f"Six weeks of Level 1 action have not improved attendance ({pct}): "
                "please arrange an Attendance Improvement Meeting.",
                self.referral_form(),
            )
            self.wait(1, 3)
            self.accept(self.traded, referral, "Accepted; AIM being arranged with the family.")
            self.fire(
                self.traded,
                "advance_to_facilitate_support",
                "Level 2: traded officer support and an Attendance Improvement Meeting.",
                rationales=rationales,
            )
            self.wait(2, 5)
            review = self.work.days[min(self.i + 15, self.work.last)]
            people = [
                f"{self.parent.formal} (parent)",
                f"{self.lead.full_name} (attendance lead)",
                f"{self.traded.full_name} (traded attendance officer)",
            ]
            if self.kid.year >= 5:
                people.append(f"{self.who} (pupil)")
            siblings = len(self.work.registry.families[self.kid.family]) if self.kid.family else 1
            plan = [self.barrier[1], "attendance reviewed weekly with the attendance lead"]
            if siblings > 1:
                plan.append("the plan covers all the children in the family and their schools")
            self.support = self.record(
                self.traded,
                Kind.ATTENDANCE_IMPROVEMENT_MEETING,
                f"Attendance Improvement Meeting held; attendance at the meeting {pct}."
                if self.engaged
                else f"{self.parent.formal} did not attend the AIM; the action plan was posted.",
                Eng.ENGAGED if self.engaged else Eng.NOT_ENGAGED,
                attendees=people if self.engaged else people[1:3],
                details={
                    "action_plan": plan,
                    "attendance_at_meeting": pct,
                    "review_due": review.isoformat(),
                },
            )
        else:
            self.fire(
                self.lead,
                "advance_to_facilitate_support",
                "Level 2: multi-agency support through a Team Around the Family.",
                rationales=rationales,
            )
            self.wait(2, 5)
            self.support = self.record(
                self.lead,
                Kind.TEAM_AROUND_THE_FAMILY,
                "Team Around the Family meeting: school, school nurse and family support worker."
                if self.engaged
                else f"{self.parent.formal} did not attend the Team Around the Family meeting.",
                Eng.ENGAGED if self.engaged else Eng.NOT_ENGAGED,
                details={"action_plan": [self.barrier[1]], "attendance_at_meeting": pct},
            )
        self.holder = self.traded or self.lead
        self.notes.append("Level 2 support meeting")

    def review_support(self, outcome: Res) -> None:
        self.wait(15, 16)
        before = _pct(self.attendance)
        change = {Res.IMPROVED: 6.5, Res.SOME_IMPROVEMENT: 2.0, Res.NOT_IMPROVED: -3.0}[outcome]
        after = self.drift(change)
        self.support = self.result(
            self.holder,
            self.support,
            outcome,
            f"Three-week review: attendance {before} at the meeting, {after} since.",
        )

    def level_three(self, *, accepted: bool = True) -> None:
        """Formalise support: the statutory team takes the case and offers a contract."""
        self.wait(1, 2)
        pct = _pct(self.attendance)
        if self.traded:
            self.fire(
                self.traded,
                "advance_to_formalise_support",
                f"Voluntary support has not worked (attendance {pct}): formal support needed.",
            )
            referral = self.refer(
                self.traded,
                Team.STATUTORY,
                "Level 3 referral: AIM plan not followed and attendance still falling.",
                {"summary": "; ".join(self.notes)},
            )
        else:
            referral = self.refer(
                self.lead,
                Team.STATUTORY,
                f"Statutory referral: Level 2 support has not improved attendance ({pct}).",
                self.referral_form(),
            )
        if not accepted:
            return
        self.wait(1, 4)
        self.accept(self.statutory, referral, "Accepted by the statutory attendance team.")
        if self.case.stage != Stage.FORMALISE:
            self.fire(
                self.statutory,
                "advance_to_formalise_support",
                "Support through the Team Around the Family was not engaged with or did not "
                "improve attendance: formal support.",
            )
        if self.rng.random() < 0.2:
            colleagues = ("statutory", "statutory2")
            other = next(
                self.work.users[n] for n in colleagues if self.work.users[n].id != self.statutory.id
            )
            self.hand_to(self.statutory, other, "Caseload balancing within the statutory team.")
            self.statutory = other
        self.wait(2, 5)
        terms = [
            f"{self.who} attends every day unless ill, with illness reported by 9am",
            self.barrier[1],
            "weekly attendance update from school to parent",
        ]
        if self.engaged:
            self.contract = self.record(
                self.statutory,
                Kind.ATTENDANCE_CONTRACT,
                f"Attendance contract agreed and signed by {self.parent.formal}.",
                Eng.ENGAGED,
                details={"terms": terms, "review_after": "4 school weeks"},
            )
        else:
            self.contract = self.record(
                self.statutory,
                Kind.ATTENDANCE_CONTRACT,
                f"Attendance contract offered; {self.parent.formal} declined to sign it.",
                Eng.DECLINED,
                Res.DECLINED,
                details={"terms": terms},
            )
        self.notes.append("attendance contract")

    def absences(self) -> list[ListedSession]:
        """Unauthorised sessions from the register, all in the last few school weeks."""
        rng = self.rng
        pool = self.work.days[max(self.opened_i + 1, self.i - 20) : self.i]
        wanted = rng.randint(10, 16)
        listed: list[ListedSession] = []
        for day in rng.sample(pool, len(pool)):
            halves = ("AM", "PM") if rng.random() < 0.75 else (rng.choice(("AM", "PM")),)
            for half in halves:
                code = rng.choices(("O", "N", "U", "G"), weights=(80, 10, 7, 3))[0]
                listed.append(ListedSession(day, half, code))
            if len(listed) >= wanted:
                break
        return sorted(listed, key=lambda s: (s.day, s.session))

    def issue_notice(self, on: int | None = None) -> None:
        if self.contract.outcome == Res.PENDING.value:
            self.wait(15, 18)
            self.contract = self.result(
                self.statutory,
                self.contract,
                Res.NOT_IMPROVED,
                f"Contract review: attendance {self.drift(-2.5)}; commitments not kept.",
            )
        if on is None:
            self.wait(1, 3)
        else:
            self.wait_until(on)
        sessions = self.absences()
        self.fire(
            self.statutory,
            "issue_notice_to_improve",
            f"Notice to Improve issued to each parent: {len(sessions)} unauthorised sessions "
            f"since {sessions[0].day:%d %B %Y}.",
            sessions=sessions,
        )
        self.notice = self.work.session.scalars(
            select(Intervention)
            .where(
                Intervention.case_id == self.case.id,
                Intervention.kind == Kind.NOTICE_TO_IMPROVE.value,
            )
            .order_by(Intervention.id.desc())
        ).first()
        self.notes.append("Notice to Improve")

    def notice_result(self, outcome: Res) -> None:
        self.wait(31, 33)
        expired = self.notice.details["expires_on"]
        if outcome == Res.NOT_IMPROVED:
            note = (
                f"Improvement period ended {expired}: attendance {self.drift(-1.5)}, with "
                f"{self.rng.randint(6, 14)} further unauthorised sessions."
            )
        else:
            note = f"Improvement period ended {expired}: attendance up to {self.drift(8.0)}."
        self.notice = self.result(self.statutory, self.notice, outcome, note)

    def level_four(self, *, refuse_first: bool = False) -> None:
        self.wait(0, 1)
        request = self.approval(
            "Notice to Improve expired without improvement after contract and support: "
            "request approval for legal intervention (Level 4)."
        )
        self.wait(1, 3)
        if refuse_first:
            self.decide(
                request,
                False,
                "Not yet: school reports new health concerns. Ask the school nurse to assess "
                "first, then bring the case back.",
            )
            self.wait(5, 8)
            self.record(
                self.statutory,
                Kind.REFERRAL,
                "School nurse asked to assess the health concerns raised by school.",
                details={"agency": "School nurse"},
            )
            self.wait(3, 5)
            request = self.approval(
                "School nurse found no health reason for the absence: request approval again."
            )
            self.wait(1, 2)
        self.decide(
            request,
            True,
            "Approved: support and the Notice to Improve are documented and did not work.",
        )
        self.wait(0, 2)
        self.fire(
            self.statutory,
            "advance_to_enforce",
            "Level 4: legal intervention approved by the attendance service manager.",
        )

    def consider_supervision_order(self) -> None:
        self.wait(2, 5)
        self.record(
            self.statutory,
            Kind.ESO_CONSIDERATION,
            "Education supervision order considered at the legal planning meeting (s447).",
            details={
                "decision": "not pursued",
                "reason": "Support through a plan has been offered and refused; an order "
                "would add no new support the family has not already declined.",
            },
        )

    def prosecute(self) -> None:
        self.consider_supervision_order()
        self.wait(4, 8)
        came = self.rng.random() < 0.6
        self.record(
            self.statutory,
            Kind.INTERVIEW_UNDER_CAUTION,
            f"{self.parent.formal} interviewed under caution (PACE)."
            if came
            else f"{self.parent.formal} did not attend the interview under caution.",
            Eng.ENGAGED if came else Eng.NOT_ENGAGED,
            Res.COMPLETED,
        )
        self.wait(5, 10)
        self.fire(
            self.statutory,
            "start_prosecution",
            "Information laid at Exampleton Magistrates' Court: s444(1) Education Act 1996.",
        )

    def holiday(self) -> list[ListedSession]:
        """Open a term-time holiday case after a week away (the story starts on that Monday)."""
        away = self.work.days[self.i : self.i + 5]
        sessions = [ListedSession(day, half, "G") for day in away for half in ("AM", "PM")]
        self.wait(5, 8)
        self.open(
            f"Term-time holiday {away[0]:%d %B}-{away[-1]:%d %B %Y}: 10 sessions unauthorised "
            "(G); leave was requested and refused.",
            kind=CaseKind.TERM_TIME_HOLIDAY,
        )
        self.record(
            self.lead,
            Kind.LETTER,
            "Letter to each parent: the absence is recorded as an unauthorised holiday and "
            "referred to the local authority.",
        )
        self.wait(1, 3)
        self.referral = self.refer(
            self.lead,
            Team.STATUTORY,
            "Unauthorised term-time holiday: please consider a penalty notice.",
            {
                "actions_taken": "Leave request refused in writing before the holiday.",
                "attendance_data": f"10 sessions coded G, {away[0]:%d %B}-{away[-1]:%d %B}.",
                "support_offered": "Not appropriate: a holiday in term time, no other concerns.",
            },
        )
        return sessions

    def holiday_penalty(self, sessions: list[ListedSession]) -> Intervention:
        self.wait(1, 3)
        self.accept(self.statutory, self.referral, "Accepted: penalty notice route.")
        request = self.approval(
            "Term-time holiday of 10 sessions: the threshold is met and support is not "
            "appropriate; request approval for a penalty notice."
        )
        self.wait(1, 2)
        self.decide(request, True, "Approved: meets the national framework for a penalty notice.")
        self.fire(
            self.statutory,
            "advance_to_enforce",
            "Term-time holiday: support is not appropriate, so the case moves to Enforce.",
        )
        self.wait(1, 3)
        return self.record(
            self.statutory,
            Kind.PENALTY_NOTICE,
            "Penalty notice issued to each parent: £80 if paid within 21 days, £160 within 28.",
            details={
                "sessions": [
                    {"date": s.day.isoformat(), "session": s.session, "code": s.code}
                    for s in sessions
                ],
                "per_parent": True,
            },
        )


# --- the stories ---------------------------------------------------------------------------------


def _engaged(s: _Story, deep: bool = False) -> bool:
    return s.rng.random() < (0.5 if deep else 0.75)


def _early_help(s: _Story, engaged: bool) -> str:
    if s.kid.traits["social_worker"] and s.rng.random() < 0.7:
        return "social_care"
    if not engaged:
        return "declined"
    return "declined" if s.rng.random() < 0.2 else "completed"


def _to_level_two(s: _Story, *, deep: bool = False) -> None:
    engaged = _engaged(s, deep)
    s.level_one(engaged=engaged, early_help=_early_help(s, engaged))
    s.ready_for_level_two()
    s.level_two()


def _to_notice(s: _Story, on: int | None = None) -> None:
    _to_level_two(s, deep=True)
    s.review_support(Res.NOT_IMPROVED)
    s.level_three()
    s.issue_notice(on)


def _expect(s: _Story) -> None:
    s.open(
        f"Joined with {_pct(s.attendance)} attendance at the previous school: set out "
        "expectations early.",
        stage=Stage.EXPECT,
    )
    s.wait(0, 2)
    s.record(
        s.lead,
        Kind.MEETING_WITH_PARENT,
        f"Welcome meeting with {s.parent.formal}: attendance expectations and who to call.",
        Eng.ENGAGED,
    )


def _monitor(s: _Story) -> None:
    s.open(f"Attendance {_pct(s.attendance)} this half term, below 90%.")
    s.record(s.lead, Kind.LETTER, f"First attendance concern letter to {s.parent.formal}.")
    if s.rng.random() < 0.5:
        s.wait(1, 4)
        s.record(
            s.lead,
            Kind.PHONE_CALL,
            f"Phoned {s.parent.formal}; {s.barrier[0]} mentioned.",
            Eng.ENGAGED,
        )


def _improved_monitor(s: _Story) -> None:
    s.open(f"Attendance {_pct(s.attendance)} this half term, below 90%.")
    s.record(s.lead, Kind.LETTER, f"First attendance concern letter to {s.parent.formal}.")
    s.wait(1, 4)
    s.record(
        s.lead,
        Kind.PHONE_CALL,
        f"Phoned {s.parent.formal}: agreed {s.barrier[1]}.",
        Eng.ENGAGED,
        Res.IMPROVED,
    )
    s.wait(5, 10)
    s.record(s.lead, Kind.PUPIL_CHECK_IN, f"Check-in with {s.who}: things are going better.")
    s.wait(10, 15)
    s.close(
        s.lead,
        Outcome.IMPROVED,
        f"Attendance up to {s.drift(9.0)} over the last six weeks; monitoring ends.",
    )


def _reopened(s: _Story) -> None:
    _improved_monitor(s)
    s.wait(20, 40)
    s.fire(s.lead, "reopen", f"Attendance has fallen again to {s.drift(-11.0)}.")
    s.record(s.lead, Kind.LETTER, f"Attendance concern letter to {s.parent.formal}.")


def _left_roll(s: _Story) -> None:
    s.open(f"Attendance {_pct(s.attendance)} this half term, below 90%.")
    s.record(s.lead, Kind.LETTER, f"First attendance concern letter to {s.parent.formal}.")
    s.wait(2, 5)
    s.record(
        s.lead,
        Kind.PHONE_CALL,
        f"{s.parent.formal} says the family is moving and {s.who} will change school.",
        Eng.PARTLY,
    )
    s.wait(3, 10)
    s.leave_roll()
    s.close(
        s.lead,
        Outcome.LEFT_ROLL,
        "Removed from roll: started at a school in another LA; the common transfer file was sent.",
    )


def _listen(s: _Story) -> None:
    engaged = _engaged(s)
    early_help = "pending" if engaged and s.rng.random() < 0.6 else _early_help(s, engaged)
    s.level_one(engaged=engaged, early_help=early_help)


def _referral_returned(s: _Story) -> None:
    s.level_one(engaged=True, early_help="pending")
    s.ready_for_level_two()
    if s.traded:
        referral = s.refer(
            s.lead,
            Team.TRADED,
            "Attendance not improving after school action: please hold an AIM.",
            s.referral_form(),
        )
        s.wait(1, 3)
        return_referral(
            s.as_(s.traded),
            referral.id,
            "The Early Help assessment is still in progress: re-refer once its outcome is "
            "recorded.",
        )
    else:
        referral = s.refer(
            s.lead,
            Team.STATUTORY,
            "Attendance not improving after school action.",
            s.referral_form(),
        )
        s.wait(1, 3)
        return_referral(
            s.as_(s.statutory),
            referral.id,
            "Level 2 support has not been tried yet: complete the Early Help assessment and a "
            "Team Around the Family first.",
        )


def _moved_away(s: _Story) -> None:
    s.level_one(engaged=False, early_help="none")
    s.wait(3, 6)
    s.record(
        s.lead,
        Kind.HOME_VISIT,
        "Home visit: the house is empty; a neighbour says the family has moved away.",
        Eng.NOT_ENGAGED,
    )
    s.wait(2, 5)
    s.leave_roll()
    s.close(
        s.lead,
        Outcome.MOVED_AWAY,
        f"Confirmed the family moved to {s.rng.choice(('Northshire', 'Westmoor', 'Eastdale'))}; "
        "the new school requested the pupil's file.",
    )


def _missing(s: _Story) -> None:
    s.level_one(engaged=False, early_help="none")
    for _ in range(2):
        s.wait(2, 4)
        s.record(
            s.lead,
            Kind.HOME_VISIT,
            "Home visit: no answer, curtains drawn; calling card left.",
            Eng.NOT_ENGAGED,
        )
    s.wait(2, 4)
    s.record(
        s.lead,
        Kind.REFERRAL,
        f"Whereabouts unknown: {s.who} referred to the children missing education officer.",
        details={"agency": "Children missing education team"},
    )
    s.wait(3, 6)
    s.leave_roll()
    s.close(
        s.lead,
        Outcome.CHILDREN_MISSING_EDUCATION,
        "Reasonable enquiries made; removed from roll and recorded as missing education.",
    )


def _facilitate(s: _Story) -> None:
    _to_level_two(s)
    if s.rng.random() < 0.5:
        s.review_support(Res.SOME_IMPROVEMENT)


def _stepped_down(s: _Story) -> None:
    _to_level_two(s)
    s.review_support(Res.IMPROVED)
    s.fire(
        s.holder,
        "step_down_to_monitor",
        f"Attendance up to {_pct(s.attendance)} since the meeting: back to school monitoring.",
    )
    if s.traded and s.rng.random() < 0.6:
        s.hand_to(
            s.manager, s.lead, "Stepped down to Level 1: the school monitors attendance again."
        )


def _improved_facilitate(s: _Story) -> None:
    _to_level_two(s)
    s.review_support(Res.IMPROVED)
    s.wait(5, 10)
    s.close(
        s.holder,
        Outcome.IMPROVED,
        f"Attendance sustained at {s.drift(2.0)} for five weeks after the plan.",
    )


def _home_education(s: _Story) -> None:
    _to_level_two(s)
    s.wait(4, 8)
    s.record(
        s.holder,
        Kind.LETTER,
        f"Written notice from {s.parent.formal} of elective home education received; the EHE "
        "team informed.",
    )
    s.leave_roll()
    s.close(s.holder, Outcome.ELECTIVE_HOME_EDUCATION, "Removed from roll for home education.")


def _formalise_awaiting(s: _Story) -> None:
    _to_level_two(s, deep=True)
    s.review_support(Res.NOT_IMPROVED)
    s.level_three(accepted=False)


def _formalise_contract(s: _Story) -> None:
    _to_level_two(s, deep=True)
    s.review_support(Res.NOT_IMPROVED)
    s.level_three()
    if s.rng.random() < 0.5:
        s.wait(5, 10)
        s.record(
            s.statutory,
            Kind.HOME_VISIT,
            f"Home visit to {s.parent.formal} to go through the contract's commitments.",
            Eng.ENGAGED if s.engaged else Eng.NOT_ENGAGED,
        )


def _formalise_notice(s: _Story) -> None:
    _to_notice(s, on=s.work.last - s.rng.randint(2, 28))


def _improved_formalise(s: _Story) -> None:
    _to_notice(s)
    s.notice_result(Res.IMPROVED)
    s.wait(1, 3)
    s.close(s.statutory, Outcome.IMPROVED, "Attendance improved under the Notice to Improve.")


def _approval_refused(s: _Story) -> None:
    _to_notice(s)
    s.notice_result(Res.NOT_IMPROVED)
    s.wait(0, 1)
    request = s.approval("Notice to Improve expired without improvement: request Level 4.")
    s.wait(1, 3)
    s.decide(
        request,
        False,
        "Not yet: the SEND review is due next week; hold until it has reported.",
    )


def _enforce(s: _Story) -> None:
    _to_notice(s)
    s.notice_result(Res.NOT_IMPROVED)
    s.level_four(refuse_first=s.rng.random() < 0.25)
    if s.rng.random() < 0.6:
        s.consider_supervision_order()


def _prosecution(s: _Story) -> None:
    _to_notice(s)
    s.notice_result(Res.NOT_IMPROVED)
    s.level_four()
    s.prosecute()


def _holiday_referred(s: _Story) -> None:
    s.holiday()


def _holiday_enforce(s: _Story) -> None:
    s.holiday_penalty(s.holiday())


def _holiday_paid(s: _Story) -> None:
    notice = s.holiday_penalty(s.holiday())
    s.wait(12, 18)
    s.result(s.statutory, notice, Res.COMPLETED, "Penalty paid in full by each parent.")
    s.close(s.statutory, Outcome.OTHER, "Penalty notices paid; no other attendance concerns.")
