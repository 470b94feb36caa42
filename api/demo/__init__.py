"""Synthetic demonstration data: one local authority, its schools, families, pupils, users and
its casework up to today (``casework demo seed``, ``casework run --demo``).

Everything is invented (``names``). ``timeline`` makes term dates by rule and places the demo in
time: NC years and ages are those of the academic year holding today, and the case histories run
on term days from an autumn term up to the last term day before today, so no record is dated
after it; open cases began within about the last school year. ``population`` writes the register
in bulk. ``registers`` writes each school's attendance for the year as CTFs with the calibrated
generator and imports them stage by stage through the year, running the daily scan on each
stage's day (so flags are dated when first met) and having the schools decide the cases it
proposed; the last fortnight's proposals are still open. ``caseload`` picks the pupils
with cases and tells each case's story (``stories``, built
from the graduated response's ``steps``) through the services, acting as the right person with a
``FixedClock`` moved forward step by step (``story``), so every stage change passed the state
machine's guards on the day it is dated.

Seeding is deterministic for a given ``seed`` and ``today``, case references included: the case
service numbers them ``340-<yy>-00001``, ... in each year: first the few cases the schools
opened from the scan's proposals, then the stories, told in roughly the order their cases open.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.demo.caseload import Caseload
from api.demo.packs import prepare_pack
from api.demo.population import DEMO_PASSWORD, LA_NAME, Population
from api.demo.registers import DemoRegisters, through_the_year
from api.demo.stories import HISTORY_DAYS
from api.demo.timeline import Timeline
from casework.clock import SystemClock
from casework.clock import today as clock_today
from casework.models import LocalAuthority, School, User, UserSchool
from casework.vocabulary import Role

__all__ = ["DEMO_PASSWORD", "DemoSummary", "demo_users", "seed_demo"]

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
    sessions: int = 0  # register marks imported
    flags: int = 0  # attendance flags standing after today's daily scan
    proposals: int = 0  # cases it proposed


def seed_demo(
    factory: sessionmaker[Session],
    schools: int = 20,
    pupils: int = 5000,
    seed: int = 2024,
    today: date | None = None,
) -> DemoSummary:
    """Fill an empty, migrated database with the demo LA and commit it.

    ``today`` is the demo's today: by default the real date in England. About 5% of pupils get
    a case (at least one per scenario, so every stage, both case kinds and every closing outcome
    occur even in a small demo). Raises ValueError for sizes the demo cannot fill believably."""
    if schools < 2:
        raise ValueError("the demo needs at least 2 schools")
    if pupils < 20 * schools:
        raise ValueError("the demo needs at least 20 pupils per school")
    timeline = Timeline.for_today(
        clock_today(SystemClock()) if today is None else today, HISTORY_DAYS
    )
    rng = random.Random(seed)
    as_at = timeline.days[-1]
    with factory() as session:
        population = Population(session, rng, timeline.academic_year)
        population.build(schools, pupils)
        session.commit()
        caseload = Caseload(session, rng, population, timeline)
        stories = caseload.cast()
        la_id = population.la.id
        leads = {
            school.id: lead.id
            for school, lead in zip(population.schools, population.leads, strict=True)
        }
        leave_out = caseload.lays_marks_from(stories)
        session.commit()
        # The registers through the year up to the last fortnight, as the LA imported and scanned
        # them, each stage's proposals decided by the schools; then the case histories.
        registers = DemoRegisters(
            factory,
            la_id=la_id,
            as_at=as_at,
            seed=seed,
            with_case={kid.id for _, _, kid in stories},
        )
        through_the_year(registers, timeline.days, leave_out=leave_out, leads=leads, seed=seed)
        cases = caseload.run(stories)
        session.commit()
    # The registers to date come last, with the marks the histories recorded, and today's scan.
    final = registers.final()
    # One Enforce case made ready for its court pack (the tests and panel recorded).
    prepare_pack(factory, la_id=la_id, as_at=as_at)
    return DemoSummary(
        schools=len(population.schools),
        users=len(population.users),
        families=population.family_count,
        pupils=len(population.kids),
        cases=cases,
        sessions=final.sessions,
        flags=final.scan.flags_now,
        proposals=final.scan.proposals,
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
