"""One case history, told in order through the services.

A ``Story`` acts as the right person on the right day: each step moves the shared ``FixedClock``
to a moment in the school day and makes one service call (``workflows.*``), so every stage change
passed the state machine's guards on the day it is dated. The steps of the graduated response
are in ``steps``; the scenarios that string them together are in ``stories``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from api.demo.population import Adult, Kid
from api.demo.timeline import at
from casework.models import (
    ApprovalRequest,
    Case,
    Enrolment,
    Intervention,
    LeaveRequest,
    PenaltyNotice,
    PenaltyNoticeRequest,
    PupilContact,
    Referral,
    School,
    User,
)
from casework.vocabulary import CaseKind, Outcome, Stage, Team
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
from workflows.responsibility import MakeReferral, accept_referral, assign, refer

if TYPE_CHECKING:
    from api.demo.caseload import Caseload

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


def percent(value: float) -> str:
    return f"{value:.1f}%"


@dataclass
class Story:
    """One case, told in order. The clock follows the story; each step is one service call."""

    work: Caseload
    kid: Kid
    i: int  # today, as an index into the timeline's days
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
    leave: LeaveRequest | None = None
    request: PenaltyNoticeRequest | None = None
    notices: list[PenaltyNotice] = field(default_factory=list)
    rng: random.Random = field(init=False)
    school: School = field(init=False)
    lead: User = field(init=False)
    traded: User | None = field(init=False)
    manager: User = field(init=False)
    parent: Adult = field(init=False)

    def __post_init__(self) -> None:
        rng = self.work.rng
        self.rng = rng
        self.school = self.work.population.schools[self.kid.school]
        self.lead = self.work.population.leads[self.kid.school]
        self.traded = self.work.population.officer_of.get(self.kid.school)
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
            raise RuntimeError(f"a demo case history ran past {self.work.days[-1]}: fix its window")
        if index != self.i:
            self.minutes = self.rng.randint(0, 120)
        self.i = index

    def as_(self, user: User) -> Context:
        """Act as ``user`` a little later on the story's current day (school day, from 08:30)."""
        self.minutes += self.rng.randint(4, 30)
        self.work.clock.set(at(self.day, 8 * 60 + 30 + self.minutes))
        return self.work.ctx(user)

    def drift(self, change: float) -> str:
        self.attendance = round(min(99.0, max(35.0, self.attendance + change)), 1)
        return percent(self.attendance)

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

    def parents(self) -> list[tuple[Adult, int]]:
        """The pupil's parents with parental responsibility and their contact ids, in the
        order the register lists them."""
        ids = self.work.session.scalars(
            select(PupilContact.contact_id)
            .where(PupilContact.pupil_id == self.kid.id)
            .order_by(PupilContact.priority)
        ).all()
        return [
            (adult, contact_id)
            for adult, contact_id in zip(self.kid.adults, ids, strict=True)
            if adult.responsibility
        ]

    # --- words the steps use

    @property
    def who(self) -> str:
        return self.kid.forename

    def referral_form(self) -> dict[str, str]:
        return {
            "actions_taken": "; ".join(self.notes) or "Letters and calls home.",
            "attendance_data": f"Attendance this year {percent(self.attendance)}.",
            "support_offered": f"Support for {self.barrier[0]}: {self.barrier[1]}.",
        }
