"""The demo's caseload: how many cases, for which pupils, starting when; then each story told.

About 5% of pupils get a case, at least one per scenario. Stories are told one after another,
each to its end and then kept up to date (``upkeep``), in roughly the order their cases open,
so the service's running case references (``340-25-00001``, ...) follow the opening dates.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.demo.names import MEN, SURNAMES, WOMEN
from api.demo.population import Kid, Population
from api.demo.stories import Scenario, scenarios
from api.demo.story import Story
from api.demo.timeline import Timeline, academic_year, at, terms
from api.demo.upkeep import keep_up
from casework.clock import FixedClock
from casework.models import Enrolment, User
from workflows.context import Context

# A term-time holiday case opens five to seven term days after the Monday its story starts on.
HOLIDAY_CASE_OPENS = 6
# Scenarios that list absences for a Notice to Improve, and those that take the pupil off roll.
NOTICE_TO_IMPROVE = {
    "formalise_notice_running",
    "formalise_approval_refused",
    "closed_improved_formalise",
    "enforce",
    "enforce_prosecution",
}
LEAVE_ROLL = {
    "closed_moved_away",
    "closed_left_roll",
    "closed_elective_home_education",
    "closed_children_missing_education",
}


class Caseload:
    """Tells each case's story through the services, acting as the right person on the right day."""

    def __init__(
        self, session: Session, rng: random.Random, population: Population, timeline: Timeline
    ):
        self.session = session
        self.rng = rng
        self.population = population
        self.days = timeline.days
        self.today = timeline.today
        self.last = len(self.days) - 1
        self.clock = FixedClock(at(self.days[0], 8 * 60))
        self.contexts = {
            user.id: Context.build(session, user, self.clock) for user in population.users.values()
        }
        self.users = population.users
        self.manager = population.users["manager"]
        # Pupils who changed school within the LA: their history here is not a newcomer's.
        self.movers = set(
            session.scalars(
                select(Enrolment.pupil_id)
                .where(Enrolment.registration == "main")
                .group_by(Enrolment.pupil_id)
                .having(func.count() > 1)
            )
        )
        self.scenarios = scenarios(self.days, self.today)
        # Mondays that begin a full Monday-to-Friday school week: a family's week away.
        self.holiday_weeks = [
            i
            for i, day in enumerate(self.days)
            if day.weekday() == 0
            and i + 4 <= self.last
            and self.days[i + 4] == day + timedelta(days=4)
        ]

    @property
    def half_term_began(self) -> int:
        """The first term day (index) of the half term holding the last term day."""
        last = self.days[-1]
        for term in terms(academic_year(last)):
            if term.first <= last <= term.last:
                if term.half_term and last > term.half_term[1]:
                    return self.on_or_after(term.half_term[1])
                return self.on_or_after(term.first)
        return self.last

    def ctx(self, user: User) -> Context:
        return self.contexts[user.id]

    def joined(self, kid: Kid) -> int:
        """The first term day (index) of the pupil's current enrolment."""
        return bisect.bisect_left(self.days, kid.since)

    def on_or_after(self, day: date) -> int:
        """The index of the first term day on or after ``day``."""
        return bisect.bisect_left(self.days, day)

    def headteacher(self, school: int) -> str:
        """The (invented) headteacher of the school with index ``school``: the same name
        whenever asked, without drawing on the demo's random stream."""
        rng = random.Random(f"headteacher:{self.population.plans[school].urn}")
        return f"{rng.choice(WOMEN + MEN)} {rng.choice(SURNAMES)}"

    def statutory_officer(self) -> User:
        return self.users["statutory" if self.rng.random() < 0.6 else "statutory2"]

    def plan(self) -> list[Scenario]:
        every = self.scenarios
        wanted = max(len(every), round(len(self.population.kids) * 0.05))
        extra = self.rng.choices(every, weights=[x.weight for x in every], k=wanted - len(every))
        return every + extra

    def starts(self, scenario: Scenario, kid: Kid) -> range | list[int]:
        """The term days (indexes) ``kid``'s story may start on: within the scenario's window and
        not before the pupil joined the school, since a case opens only for a pupil on its roll."""
        lo, hi = scenario.window
        lo = max(lo, self.joined(kid))
        if scenario.fits is not None and not scenario.fits(kid, self):
            return []
        if scenario.holiday:
            # On roll for a few days before the week away, to ask for the leave.
            return [i for i in self.holiday_weeks if max(lo, self.joined(kid) + 5) <= i <= hi]
        return range(lo, hi + 1)

    def pupils_for(self, plan: list[Scenario]) -> list[Kid]:
        """Pupils with cases: more often those facing disadvantage, some siblings together, and a
        good share at the first school so its attendance lead sees every stage."""
        rng = self.rng
        kids = self.population.kids

        def weight(kid: Kid) -> float:
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
        chosen: list[Kid] = []
        minimal = len(self.scenarios)
        for n, scenario in enumerate(plan):

            def free(i: int, scenario: Scenario = scenario) -> bool:
                """Not yet chosen, and on the school's roll in time for the story."""
                return i not in taken and bool(self.starts(scenario, kids[i]))

            pick = None
            first_school = (n < minimal and n % 2 == 0) or (n >= minimal and n % 16 == 0)
            if first_school:
                pick = next((i for i in priority if kids[i].school == 0 and free(i)), None)
            elif chosen and rng.random() < 0.12:
                pick = self._sibling_elsewhere(chosen, free)
            if pick is None:
                pick = next((i for i in priority if free(i)), None)
            if pick is None:
                raise ValueError(f"no pupil left for a {scenario.name} case")
            taken.add(pick)
            chosen.append(kids[pick])
        return chosen

    def _sibling_elsewhere(self, chosen: list[Kid], free: Callable[[int], bool]) -> int | None:
        kids = self.population.kids
        for kid in reversed(chosen[-20:]):
            if kid.family is None:
                continue
            for index in self.population.families[kid.family]:
                if kids[index].school != kid.school and free(index):
                    return index
        return None

    def cast(self) -> list[tuple[int, Scenario, Kid]]:
        """Who has a case, in which scenario, starting when: (start index, scenario, pupil), in
        the order the cases open."""
        plan = self.plan()
        kids = self.pupils_for(plan)
        stories = [
            (self.rng.choice(self.starts(scenario, kid)), scenario, kid)
            for scenario, kid in zip(plan, kids, strict=True)
        ]

        def opens(story: tuple[int, Scenario, Kid]) -> int:
            start, scenario, _ = story
            return start + HOLIDAY_CASE_OPENS if scenario.holiday else start

        return sorted(stories, key=opens)

    def lays_marks_from(self, stories: list[tuple[int, Scenario, Kid]]) -> dict[int, date]:
        """The day from which a pupil's story touches the register: a week of leave (asked for
        up to 20 term days before it), a removal from roll, or from the first day the absences
        a Notice to Improve lists (the guard counts them only where no register is held). The
        staged registers leave those pupils out from then until the stories are told, so the
        register such a story reads is the one it writes."""
        found = {}
        for start, scenario, kid in stories:
            if scenario.holiday:
                found[kid.id] = self.days[max(0, start - 25)]
            elif scenario.name in LEAVE_ROLL:
                found[kid.id] = self.days[start]
            elif scenario.name in NOTICE_TO_IMPROVE:
                found[kid.id] = self.days[0]
        return found

    def run(self, stories: list[tuple[int, Scenario, Kid]]) -> int:
        for n, (start, scenario, kid) in enumerate(stories):
            story = Story(self, kid, start)
            scenario.tell(story)
            keep_up(story)
            if n % 50 == 49:
                self.session.commit()
        return len(stories)
