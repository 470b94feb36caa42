"""The completeness check before a court pack is built: each missing item named in plain words,
blocking items (the pack is refused) separated from warnings (the officer acknowledges them).

Pure: :func:`check` reads a :class:`PackFacts` snapshot the service makes from the case record,
so the rules are table-tested without a database. The wording is the officer's, not the code's:
"no attendance contract and no rationale recorded", "the 6-month limit for this period passes on
14 March 2027".

Sources (RULES.md §4): an information must be laid within 6 months (Magistrates' Courts Act 1980
s127), counted here from the last day of the offence period [UNCONFIRMED: LAs differ]; only
unauthorised absence is evidence (§4.6); an education supervision order must be considered
before prosecuting (s447, §4.2); parents are normally interviewed under caution before s444(1A)
(§4.5); a case that fails the evidential test must not proceed (§4.5); the pre-proceedings panel
decides (Knowsley Level 4). Knowsley's educational-neglect route needs attendance of 75 % or
below (the profile's number) and substantial evidence of attempts to engage the family.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from casework.durations import Duration, Unit, WeekdayCalendar, add
from casework.vocabulary import Engagement, InterventionKind, InterventionOutcome, Stage
from workflows.facts import InterventionFact
from workflows.guards import long_date

# An information is laid within 6 calendar months of the offence (MCA 1980 s127).
LIMIT = Duration(6, Unit.MONTHS)
# Warn as the limit nears (RULES.md §4.4 "the system should warn as the 6-month limit nears"):
# 8 weeks leaves time for the panel, legal services and the summons. [LOCAL]
LIMIT_WARNING_DAYS = 56


class Offence(StrEnum):
    S444_1 = "s444(1)"
    S444_1A = "s444(1A)"

    @property
    def label(self) -> str:
        return OFFENCE_LABELS[self]


OFFENCE_LABELS = {
    Offence.S444_1: "Section 444(1) Education Act 1996: failure to secure regular attendance",
    Offence.S444_1A: "Section 444(1A) Education Act 1996: knowing failure to secure regular "
    "attendance",
}


class Route(StrEnum):
    """Prosecution (a pre-court pack) or Knowsley's educational-neglect referral bundle."""

    PROSECUTION = "prosecution"
    EDUCATIONAL_NEGLECT = "educational_neglect"


class PanelDecision(StrEnum):
    """The pre-proceedings panel's outcomes (Knowsley Level 4)."""

    PROSECUTE = "prosecute"
    EDUCATION_SUPERVISION_ORDER = "education_supervision_order"
    FURTHER_SUPPORT = "further_support"
    NOT_IN_PUBLIC_INTEREST = "not_in_public_interest"

    @property
    def label(self) -> str:
        return PANEL_LABELS[self]


PANEL_LABELS = {
    PanelDecision.PROSECUTE: "proceed to prosecution",
    PanelDecision.EDUCATION_SUPERVISION_ORDER: "apply for an education supervision order",
    PanelDecision.FURTHER_SUPPORT: "further support is required",
    PanelDecision.NOT_IN_PUBLIC_INTEREST: "not in the public interest to prosecute",
}

# The Full Code Test as LA enforcement policies adopt it (RULES.md §4.5), asked of the officer.
# ``knowledge`` is the s444(1A) question and is asked only for that offence.
EVIDENTIAL_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("registered_pupil", "Was the child a registered pupil at the school throughout the period?"),
    ("compulsory_school_age", "Was the child of compulsory school age throughout the period?"),
    ("parent", "Is each person named a parent of the child (s576 Education Act 1996)?"),
    (
        "irregular_attendance",
        "Does the certified register show the child failed to attend regularly, counting only "
        "unauthorised absence?",
    ),
    (
        "no_defence",
        "Is there no evidence of a statutory defence (leave granted, sickness or unavoidable "
        "cause, religious observance, transport)?",
    ),
    (
        "knowledge",
        "s444(1A): does the evidence show the parent knew the child was failing to attend and "
        "failed without reasonable justification to cause attendance?",
    ),
)
PUBLIC_INTEREST_QUESTIONS: tuple[tuple[str, str], ...] = (
    (
        "support_offered",
        "What support was offered, and was it refused or not engaged with?",
    ),
    (
        "consulted",
        "Were the school and agencies asked whether there is any reason the case should not "
        "proceed, and what did they say?",
    ),
    (
        "child_welfare",
        "Is prosecution in the child's interests, given their welfare, health and any special "
        "educational needs?",
    ),
    (
        "family_circumstances",
        "Which family circumstances (illness, bereavement, caring) were weighed, and how?",
    ),
    (
        "proportionate",
        "Is prosecution proportionate, other tools (an education supervision order, further "
        "support) having been considered?",
    ),
)
KNOWLEDGE = "knowledge"


def questions_for(offence: Offence) -> tuple[tuple[str, str], ...]:
    """The evidential questions for ``offence`` (the knowledge question only for s444(1A))."""
    return tuple(q for q in EVIDENTIAL_QUESTIONS if q[0] != KNOWLEDGE or offence == Offence.S444_1A)


@dataclass(frozen=True)
class RecordedTests:
    """The officer's latest recorded answers and the panel's decision (a case event)."""

    offence: Offence
    start: date
    end: date
    evidential: dict[str, str]
    public_interest: dict[str, str]
    evidential_met: bool
    public_interest_met: bool
    panel_decision: PanelDecision | None = None
    panel_on: date | None = None
    panel_members: str = ""
    panel_note: str = ""
    # Why no interview under caution took place, when none did.
    no_interview_reason: str = ""
    # The magistrates' court the panel decided to go to (the pack's default court).
    court: str = ""

    def to_data(self) -> dict[str, object]:
        """As the ``pack_tests_recorded`` event's data (JSON)."""
        return {
            "offence": self.offence.value,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "evidential": dict(self.evidential),
            "public_interest": dict(self.public_interest),
            "evidential_met": self.evidential_met,
            "public_interest_met": self.public_interest_met,
            "panel_decision": self.panel_decision.value if self.panel_decision else None,
            "panel_on": self.panel_on.isoformat() if self.panel_on else None,
            "panel_members": self.panel_members,
            "panel_note": self.panel_note,
            "no_interview_reason": self.no_interview_reason,
            "court": self.court,
        }

    @classmethod
    def from_data(cls, data: dict[str, object]) -> RecordedTests:
        def day(key: str) -> date | None:
            value = data.get(key)
            return date.fromisoformat(str(value)) if value else None

        decision = data.get("panel_decision")
        return cls(
            offence=Offence(str(data["offence"])),
            start=date.fromisoformat(str(data["start"])),
            end=date.fromisoformat(str(data["end"])),
            evidential=dict(data.get("evidential") or {}),  # type: ignore[arg-type]
            public_interest=dict(data.get("public_interest") or {}),  # type: ignore[arg-type]
            evidential_met=bool(data.get("evidential_met")),
            public_interest_met=bool(data.get("public_interest_met")),
            panel_decision=PanelDecision(str(decision)) if decision else None,
            panel_on=day("panel_on"),
            panel_members=str(data.get("panel_members") or ""),
            panel_note=str(data.get("panel_note") or ""),
            no_interview_reason=str(data.get("no_interview_reason") or ""),
            court=str(data.get("court") or ""),
        )


@dataclass(frozen=True)
class PackFacts:
    """What the check looks at: the case's evidence and the chosen offence period."""

    route: Route
    offence: Offence
    start: date
    end: date
    today: date
    stage: str
    holiday_case: bool
    interventions: tuple[InterventionFact, ...]
    parents: int  # parents named, each with parental responsibility
    possible: int  # possible sessions marked in the period
    attended: int
    unauthorised: int
    unmarked: int  # open sessions on roll in the period with no mark
    letters: int  # letters to parents on the case
    support_kinds: frozenset[str]
    neglect_at_or_below_percent: float
    contract_rationale: str = ""
    notice_to_improve_rationale: str = ""
    tests: RecordedTests | None = None
    previous_packs: int = 0
    court: str = ""


@dataclass(frozen=True)
class Item:
    """One missing or doubtful thing: a stable key (for the page and tests) and plain words."""

    key: str
    text: str


@dataclass(frozen=True)
class Completeness:
    blocking: tuple[Item, ...]
    warnings: tuple[Item, ...]
    limit: date  # the last day to lay an information for this period
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ready(self) -> bool:
        return not self.blocking

    def warning_keys(self) -> tuple[str, ...]:
        return tuple(w.key for w in self.warnings)


def limit_for(end: date) -> date:
    """The last day of the 6 calendar months from the last day of the offence period."""
    return add(WeekdayCalendar(), end, LIMIT)


def percent_text(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "no possible sessions"


def _of(facts: PackFacts, *kinds: str) -> list[InterventionFact]:
    return [i for i in facts.interventions if i.kind in kinds]


# --- the items -----------------------------------------------------------------------------------


def _limit(facts: PackFacts, limit: date) -> Iterable[tuple[bool, Item]]:
    if facts.route != Route.PROSECUTION:
        return
    if facts.today > limit:
        yield (
            True,
            Item(
                "time_limit",
                f"the 6-month limit for this period passed on {long_date(limit)}: an information "
                "can no longer be laid for it",
            ),
        )
    elif (limit - facts.today).days <= LIMIT_WARNING_DAYS:
        yield (
            False,
            Item("time_limit", f"the 6-month limit for this period passes on {long_date(limit)}"),
        )


def _court(facts: PackFacts) -> Iterable[tuple[bool, Item]]:
    if not facts.court.strip():
        yield True, Item("court", "the magistrates' court is not named")


def _register(facts: PackFacts) -> Iterable[tuple[bool, Item]]:
    if facts.possible == 0:
        yield True, Item("register", "no register marks are held for the offence period")
        return
    if facts.route == Route.PROSECUTION and facts.unauthorised == 0:
        yield (
            True,
            Item(
                "unauthorised",
                "no unauthorised absence is recorded in the offence period (only unauthorised "
                "absence is evidence)",
            ),
        )
    if facts.unmarked:
        yield (
            False,
            Item(
                "unmarked",
                f"{facts.unmarked} open session{'s' if facts.unmarked != 1 else ''} in the period "
                f"{'have' if facts.unmarked != 1 else 'has'} no register mark",
            ),
        )


def _parents(facts: PackFacts) -> Iterable[tuple[bool, Item]]:
    if facts.parents == 0:
        yield True, Item("parents", "no parent with parental responsibility is named")


def _contact(facts: PackFacts) -> Iterable[tuple[bool, Item]]:
    meetings = _of(
        facts,
        InterventionKind.HOME_VISIT,
        InterventionKind.MEETING_WITH_PARENT,
        InterventionKind.ATTENDANCE_CONCERN_MEETING,
        InterventionKind.ATTENDANCE_IMPROVEMENT_MEETING,
        InterventionKind.TEAM_AROUND_THE_FAMILY,
    )
    if not meetings:
        yield False, Item("meeting", "no home visit or meeting recorded")
    if facts.letters == 0 and not _of(facts, InterventionKind.LETTER):
        yield False, Item("letters", "no letter to the parents is recorded")


def _support(facts: PackFacts) -> Iterable[tuple[bool, Item]]:
    if facts.holiday_case:
        return
    offered = [i for i in facts.interventions if i.kind in facts.support_kinds]
    if not offered:
        yield True, Item("support", "no support offered to the family is recorded")
    if not _of(facts, InterventionKind.EARLY_HELP_ASSESSMENT):
        yield (
            False,
            Item("early_help", "no Early Help assessment offered or considered is recorded"),
        )


def _contract(facts: PackFacts) -> Iterable[tuple[bool, Item]]:
    if facts.holiday_case or _of(facts, InterventionKind.ATTENDANCE_CONTRACT):
        return
    if not facts.contract_rationale:
        yield True, Item("attendance_contract", "no attendance contract and no rationale recorded")


def _notice_to_improve(facts: PackFacts) -> Iterable[tuple[bool, Item]]:
    if facts.holiday_case:
        return
    notices = sorted(_of(facts, InterventionKind.NOTICE_TO_IMPROVE), key=lambda i: i.occurred_on)
    if not notices:
        if not facts.notice_to_improve_rationale:
            yield (
                True,
                Item(
                    "notice_to_improve", "no Notice to Improve and no rationale for none recorded"
                ),
            )
        return
    if notices[-1].outcome == InterventionOutcome.PENDING:
        yield (
            True,
            Item(
                "notice_to_improve_outcome", "the outcome of the Notice to Improve is not recorded"
            ),
        )


def _eso(facts: PackFacts) -> Iterable[tuple[bool, Item]]:
    if not _of(facts, InterventionKind.ESO_CONSIDERATION):
        yield (
            True,
            Item(
                "eso",
                "no consideration of an education supervision order is recorded (s447 Education "
                "Act 1996)",
            ),
        )


def _interview(facts: PackFacts) -> Iterable[tuple[bool, Item]]:
    if _of(facts, InterventionKind.INTERVIEW_UNDER_CAUTION):
        return
    if facts.tests is not None and facts.tests.no_interview_reason:
        return
    # Parents are normally interviewed under caution before s444(1A) (RULES.md §4.5).
    yield (
        facts.offence == Offence.S444_1A,
        Item("interview", "no interview under caution and no reason for none recorded"),
    )


def _tests(facts: PackFacts) -> Iterable[tuple[bool, Item]]:
    tests = facts.tests
    if tests is None:
        yield True, Item("tests", "the evidential and public-interest tests are not recorded")
        return
    if (tests.offence, tests.start, tests.end) != (facts.offence, facts.start, facts.end):
        yield (
            True,
            Item(
                "tests",
                f"the tests were recorded for {tests.offence.value} from {long_date(tests.start)} "
                f"to {long_date(tests.end)}, not for this offence and period",
            ),
        )
        return
    if facts.offence == Offence.S444_1A and not tests.evidential.get(KNOWLEDGE, "").strip():
        yield True, Item("tests", "the s444(1A) question (the parent knew) is not answered")
    if not tests.evidential_met:
        yield (
            True,
            Item(
                "evidential_test",
                "the evidential test is recorded as not met: a case that fails it must not proceed",
            ),
        )
    if not tests.public_interest_met:
        yield True, Item("public_interest_test", "the public-interest test is recorded as not met")
    if tests.panel_decision is None:
        yield True, Item("panel", "the pre-proceedings panel's decision is not recorded")
    elif tests.panel_decision != PanelDecision.PROSECUTE:
        yield (
            True,
            Item("panel", f"the pre-proceedings panel decided: {tests.panel_decision.label}"),
        )


def _stage(facts: PackFacts) -> Iterable[tuple[bool, Item]]:
    if facts.route == Route.PROSECUTION and facts.stage != Stage.ENFORCE:
        yield (
            True,
            Item(
                "stage",
                f"the case is at {Stage(facts.stage).label}: a pre-court pack is built at Enforce",
            ),
        )
    elif facts.route == Route.EDUCATIONAL_NEGLECT and facts.stage not in (
        Stage.FORMALISE,
        Stage.ENFORCE,
    ):
        yield (
            False,
            Item(
                "stage",
                f"the case is at {Stage(facts.stage).label}: educational neglect is a Level 4 "
                "referral, or where the family refuse Levels 1 to 3",
            ),
        )


def _neglect(facts: PackFacts) -> Iterable[tuple[bool, Item]]:
    if facts.possible:
        at_or_below = facts.attended * 100 <= facts.possible * facts.neglect_at_or_below_percent
        if not at_or_below:
            shown = percent_text(facts.attended, facts.possible)
            limit = f"{facts.neglect_at_or_below_percent:g}"
            yield (
                True,
                Item(
                    "attendance",
                    f"attendance in the period is {shown}, above the {limit} % at or below "
                    "which educational neglect is referred",
                ),
            )
    if not facts.interventions:
        yield True, Item("engagement", "no attempts to engage the family are recorded")
    refused = [
        i
        for i in facts.interventions
        if i.family_engaged in (Engagement.DECLINED, Engagement.NOT_ENGAGED)
        or i.outcome == InterventionOutcome.DECLINED
    ]
    if facts.interventions and not refused:
        yield (
            True,
            Item(
                "support_refused",
                "no support refused or not engaged with by the family is recorded",
            ),
        )


def check(facts: PackFacts) -> Completeness:
    """Every missing item for the pack ``facts`` describes, blocking first then warnings, each
    list in the order a court bundle reads (period, register, people, support, legal steps)."""
    limit = limit_for(facts.end)
    if facts.route == Route.PROSECUTION:
        rules = (
            _stage(facts),
            _limit(facts, limit),
            _court(facts),
            _register(facts),
            _parents(facts),
            _contact(facts),
            _support(facts),
            _contract(facts),
            _notice_to_improve(facts),
            _eso(facts),
            _interview(facts),
            _tests(facts),
        )
    else:
        rules = (
            _stage(facts),
            _register(facts),
            _parents(facts),
            _contact(facts),
            _neglect(facts),
        )
    found = [pair for rule in rules for pair in rule]
    return Completeness(
        blocking=tuple(item for blocking, item in found if blocking),
        warnings=tuple(item for blocking, item in found if not blocking),
        limit=limit,
    )
