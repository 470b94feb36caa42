"""The case histories: which steps each kind of case takes, and when in the timeline it may start.

Each scenario is told through ``steps`` (and ``penalties`` for term-time holidays); together they
reach every stage, both case kinds and every closing outcome. A window gives the earliest and
latest start as indexes into the timeline's term days, counted back from the last one, so open
cases are recent whatever the date; closed cases may start as early as the first term day. The
unpaid penalty notice's story is placed back from the day its notices are posted
(``unpaid_issue_index``), so its payment period has ended by today.

The clocks that only a change of stage stops (six weeks of Level 1 school action, Level 2 within
one half term, the Level 3 and Level 4 reviews) are kept from passing by where a story ends: an
open case reached its stage recently enough that its review is still ahead, as in an LA that
moves its cases on in time. A few scenarios keep one passing on purpose (a refused request for
Level 4, a returned referral, a Level 2 case awaiting the statutory team). After its scenario,
``upkeep`` keeps each open case's other clocks actioned up to the last few days.

Three holiday stories are told once each, for the statutory officer's penalty-notice work on
today: a school's request awaiting the LA (``holiday_request_pending``, at least one), notices to
two parents with one paid on day 20 and the other unpaid (``holiday_notice_unpaid``), and a
family that moved in from another LA whose new request the limit of two notices in three years
refuses (``holiday_limit_reached``).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import update

from api.demo.penalties import (
    all_pay,
    enquire_elsewhere,
    holiday,
    la_issues,
    pay,
    payday,
    prosecute_unpaid,
    school_request,
)
from api.demo.population import LA_PROFILE, Kid
from api.demo.steps import (
    LEVEL_TWO_DAYS,
    consider_supervision_order,
    issue_notice,
    level_four,
    level_one,
    level_three,
    level_two,
    notice_result,
    prosecute,
    ready_for_level_two,
    review_support,
)
from api.demo.story import Story, percent
from api.demo.timeline import academic_year, terms
from casework.models import Enrolment
from casework.vocabulary import Engagement as Eng
from casework.vocabulary import InterventionKind as Kind
from casework.vocabulary import InterventionOutcome as Res
from casework.vocabulary import Outcome, Stage, Team
from config.profiles import load_profile
from workflows.penalties.rules import payment_windows
from workflows.responsibility import return_referral

if TYPE_CHECKING:
    from api.demo.caseload import Caseload

# The term days the windows need: the longest history, a prosecution, may start as late as 155
# term days before the end, and takes nearly all of them.
HISTORY_DAYS = 160
# Open cases start within the last school year of term days, so none has stood still for a year.
SCHOOL_YEAR = 190
# The most term days Level 1 (``steps.level_one``) takes, up to a completed Early Help assessment.
LEVEL_ONE_DAYS = 33


@dataclass(frozen=True)
class Scenario:
    name: str
    tell: Callable[[Story], None]
    window: tuple[int, int]  # earliest and latest start, as indexes into the term days
    weight: float  # 0: told once only
    holiday: bool = False  # starts on the Monday of a full school week the family spent away
    fits: Callable[[Kid, Caseload], bool] | None = None  # which pupils the story suits


def scenarios(days: Sequence[date], today: date) -> list[Scenario]:
    """Every scenario, for a timeline of term ``days`` up to ``today``."""
    end = len(days) - 1
    year = end - SCHOOL_YEAR
    issued = unpaid_issue_index(tuple(days), today)
    # A notice was issued here earlier this school year when it has room for one, else late
    # in the last.
    this_year = bisect.bisect_left(days, terms(academic_year(today))[0].first)
    earlier = this_year if this_year <= end - 90 else end - 130

    def s(name, tell, earliest, latest, weight, holiday=False, fits=None) -> Scenario:
        window = (max(0, earliest), latest)
        assert window[0] <= window[1], name
        if holiday:
            fits = fits or _holiday_family
        return Scenario(name, tell, window, weight, holiday, fits)

    return [
        s("expect", _expect, end - 30, end - 3, 12),
        s("monitor", _monitor, end - 30, end - 6, 28),
        s("monitor_stepped_down", _stepped_down, year, end - 65, 10),
        s("monitor_reopened", _reopened, year, end - 90, 6),
        s("holiday_request_pending", _holiday_pending, end - 22, end - 9, 2, True),
        s("holiday_notice_unpaid", _holiday_unpaid, issued - 30, issued - 14, 0, True, _two),
        s("holiday_limit_reached", _holiday_limit, max(5, earlier), end - 80, 0, True, _moved_in),
        s("listen", _listen, end - 30, end - 22, 30),
        s("listen_referral_returned", _referral_returned, end - 40, end - 37, 2),
        s("facilitate", _facilitate, end - 75, end - 42, 35),
        s("formalise_awaiting_statutory", _formalise_awaiting, end - 75, end - 63, 5),
        s("formalise_contract", _formalise_contract, end - 110, end - 90, 12),
        s("formalise_notice_running", _formalise_notice, end - 100, end - 92, 8),
        s("formalise_approval_refused", _approval_refused, end - 140, end - 132, 3),
        s("enforce", _enforce, end - 165, end - 155, 7),
        s("enforce_prosecution", _prosecution, end - 165, end - 155, 6),
        s("enforce_holiday", _holiday_enforce, end - 70, end - 50, 4, True),
        s("closed_improved_monitor", _improved_monitor, 0, end - 45, 20),
        s("closed_improved_facilitate", _improved_facilitate, 0, end - 72, 14),
        s("closed_improved_formalise", _improved_formalise, 0, end - 130, 6),
        s("closed_moved_away", _moved_away, 0, end - 40, 5),
        s("closed_left_roll", _left_roll, 0, end - 20, 5),
        s("closed_elective_home_education", _home_education, 0, end - 55, 3),
        s("closed_children_missing_education", _missing, 0, end - 45, 2),
        s("closed_holiday_penalty_paid", _holiday_paid, 5, end - 45, 4, True),
    ]


@cache
def unpaid_issue_index(days: tuple[date, ...], today: date) -> int:
    """The term day (index) the unpaid-notice story's notices are posted on: the latest at least
    30 days before today whose 20th day of payment (the day of receipt being the first) is a
    term day, so the parent who pays on it is recorded that day, and whose payment period has
    ended before today."""
    rules = load_profile(LA_PROFILE).penalty_notices
    term = set(days)
    for index in range(len(days) - 1, -1, -1):
        posted = days[index]
        if posted > today - timedelta(days=30):
            continue
        windows = payment_windows(posted, 1, rules)
        if windows.received_on + timedelta(days=19) in term and windows.pay_by < today:
            return index
    raise ValueError(f"no day for the unpaid penalty notice before {today}")


def _holiday_family(kid: Kid, work: Caseload) -> bool:
    """A child of compulsory school age on every day of the history (Years 2-10), living with a
    parent who has parental responsibility and can ask for leave."""
    return (
        kid.family is not None
        and 2 <= kid.year <= 10
        and any(adult.responsibility for adult in kid.adults)
    )


def _two(kid: Kid, work: Caseload) -> bool:
    return _holiday_family(kid, work) and sum(a.responsibility for a in kid.adults) == 2


def moved_in_on(days: Sequence[date]) -> date:
    """When the family in ``holiday_limit_reached`` moved into the LA: the start of the school
    year the histories begin in (admissions are dated 1 September)."""
    return date(days[0].year, 9, 1)


def _moved_in(kid: Kid, work: Caseload) -> bool:
    """A single parent's only child, in the LA's schools since no earlier than the move (so the
    pupil's enrolment can say they arrived then) and old enough to have been at school in the
    other LA two years ago."""
    return (
        _holiday_family(kid, work)
        and kid.year >= 3
        and sum(a.responsibility for a in kid.adults) == 1
        and len(work.population.families[kid.family]) == 1
        and kid.id not in work.movers
        and kid.since <= moved_in_on(work.days)
    )


def _engaged(s: Story, deep: bool = False) -> bool:
    return s.rng.random() < (0.5 if deep else 0.75)


def _early_help(s: Story, engaged: bool) -> str:
    if s.kid.traits["social_worker"] and s.rng.random() < 0.7:
        return "social_care"
    if not engaged:
        return "declined"
    return "declined" if s.rng.random() < 0.2 else "completed"


def _to_level_two(s: Story, *, deep: bool = False) -> None:
    engaged = _engaged(s, deep)
    level_one(s, engaged=engaged, early_help=_early_help(s, engaged))
    ready_for_level_two(s)
    level_two(s)


def _to_notice(s: Story, on: int | None = None) -> None:
    _to_level_two(s, deep=True)
    review_support(s, Res.NOT_IMPROVED)
    level_three(s)
    issue_notice(s, on)


def _expect(s: Story) -> None:
    s.open(
        f"Joined with {percent(s.attendance)} attendance at the previous school: set out "
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


def _monitor(s: Story) -> None:
    s.open(f"Attendance {percent(s.attendance)} this half term, below 90%.")
    s.record(s.lead, Kind.LETTER, f"First attendance concern letter to {s.parent.formal}.")
    if s.rng.random() < 0.5:
        s.wait(1, 4)
        s.record(
            s.lead,
            Kind.PHONE_CALL,
            f"Phoned {s.parent.formal}; {s.barrier[0]} mentioned.",
            Eng.ENGAGED,
        )


def _improved_monitor(s: Story) -> None:
    s.open(f"Attendance {percent(s.attendance)} this half term, below 90%.")
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


def _reopened(s: Story) -> None:
    _improved_monitor(s)
    # Reopened within the last few school weeks: its new six weeks of school action are running.
    s.wait_until(max(s.i + 20, s.work.last - s.rng.randint(3, 25)))
    s.fire(s.lead, "reopen", f"Attendance has fallen again to {s.drift(-11.0)}.")
    s.record(s.lead, Kind.LETTER, f"Attendance concern letter to {s.parent.formal}.")


def _left_roll(s: Story) -> None:
    s.open(f"Attendance {percent(s.attendance)} this half term, below 90%.")
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


def _listen(s: Story) -> None:
    engaged = _engaged(s)
    early_help = "pending" if engaged and s.rng.random() < 0.6 else _early_help(s, engaged)
    if early_help == "completed" and s.i + LEVEL_ONE_DAYS > s.work.last:
        early_help = "pending"  # opened too recently for the assessment to have finished
    level_one(s, engaged=engaged, early_help=early_help)


def _referral_returned(s: Story) -> None:
    level_one(s, engaged=True, early_help="pending")
    ready_for_level_two(s)
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


def _moved_away(s: Story) -> None:
    level_one(s, engaged=False, early_help="none")
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


def _missing(s: Story) -> None:
    level_one(s, engaged=False, early_help="none")
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


def _facilitate(s: Story) -> None:
    """At Level 2 since this half term began, as Level 2 must not outlast one half term."""
    engaged = _engaged(s)
    level_one(s, engaged=engaged, early_help=_early_help(s, engaged))
    ready_for_level_two(s, not_before=s.work.half_term_began)
    level_two(s)
    if s.rng.random() < 0.5 and s.i + 16 <= s.work.last:
        review_support(s, Res.SOME_IMPROVEMENT)


def _stepped_down(s: Story) -> None:
    _to_level_two(s)
    review_support(s, Res.IMPROVED)
    s.fire(
        s.holder,
        "step_down_to_monitor",
        f"Attendance up to {percent(s.attendance)} since the meeting: back to school monitoring.",
    )
    if s.traded and s.rng.random() < 0.6:
        s.hand_to(
            s.manager, s.lead, "Stepped down to Level 1: the school monitors attendance again."
        )


def _improved_facilitate(s: Story) -> None:
    _to_level_two(s)
    review_support(s, Res.IMPROVED)
    s.wait(5, 10)
    s.close(
        s.holder,
        Outcome.IMPROVED,
        f"Attendance sustained at {s.drift(2.0)} for five weeks after the plan.",
    )


def _home_education(s: Story) -> None:
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


def _formalise_awaiting(s: Story) -> None:
    """Referred to the statutory team, not yet accepted; at Level 2 since this half term began
    (a school without the traded service holds it at Level 2 until the team accepts)."""
    engaged = _engaged(s, deep=True)
    level_one(s, engaged=engaged, early_help=_early_help(s, engaged))
    ready_for_level_two(s, not_before=s.work.half_term_began, then=LEVEL_TWO_DAYS + 16 + 2)
    level_two(s)
    review_support(s, Res.NOT_IMPROVED)
    level_three(s, accepted=False)


def _formalise_contract(s: Story) -> None:
    _to_level_two(s, deep=True)
    review_support(s, Res.NOT_IMPROVED)
    # At Level 3 for under six school weeks (its review is still ahead).
    s.wait_until(max(s.i + 1, s.work.last - s.rng.randint(21, 26)))
    level_three(s)
    if s.rng.random() < 0.5:
        s.wait(5, 10)
        s.record(
            s.statutory,
            Kind.HOME_VISIT,
            f"Home visit to {s.parent.formal} to go through the contract's commitments.",
            Eng.ENGAGED if s.engaged else Eng.NOT_ENGAGED,
        )


def _formalise_notice(s: Story) -> None:
    """The notice issued within the last few school weeks, its improvement period running; at
    Level 3 for under six school weeks."""
    _to_level_two(s, deep=True)
    review_support(s, Res.NOT_IMPROVED)
    s.wait_until(max(s.i + 1, s.work.last - 30))
    level_three(s)
    issue_notice(s, s.i + 1)


def _improved_formalise(s: Story) -> None:
    _to_notice(s)
    notice_result(s, Res.IMPROVED)
    s.wait(1, 3)
    s.close(s.statutory, Outcome.IMPROVED, "Attendance improved under the Notice to Improve.")


def _approval_refused(s: Story) -> None:
    _to_notice(s)
    notice_result(s, Res.NOT_IMPROVED)
    s.wait(0, 1)
    request = s.approval("Notice to Improve expired without improvement: request Level 4.")
    s.wait(1, 3)
    s.decide(
        request,
        False,
        "Not yet: the SEND review is due next week; hold until it has reported.",
    )


def _enforce(s: Story) -> None:
    _to_notice(s)
    notice_result(s, Res.NOT_IMPROVED)
    # At Level 4 for under a half term (its review is still ahead).
    s.wait_until(max(s.i + 1, s.work.last - 26))
    level_four(s, refuse_first=s.rng.random() < 0.25)
    if s.rng.random() < 0.6:
        consider_supervision_order(s)


def _prosecution(s: Story) -> None:
    _to_notice(s)
    notice_result(s, Res.NOT_IMPROVED)
    s.wait_until(max(s.i + 1, s.work.last - 30))
    level_four(s)
    prosecute(s)


def _holiday_pending(s: Story) -> None:
    """The school's request made a few school days before today, awaiting the LA."""
    holiday(s)
    school_request(s, on=s.work.last - s.rng.randint(1, 4))


def _holiday_unpaid(s: Story) -> None:
    """Notices to both parents about five weeks ago: one paid £80 on day 20, the other unpaid,
    its payment period over, so the LA's decision (prosecute or withdraw) is due."""
    holiday(s)
    school_request(s)
    notices = la_issues(s, on=unpaid_issue_index(s.work.days, s.work.today))
    payer = s.rng.choice(notices)
    pay(s, payer, payer.received_on + timedelta(days=19))


def _holiday_limit(s: Story) -> None:
    """A family that moved in from another LA: that LA reports a notice about two years ago, a
    second was issued here (and paid) earlier, and now a third holiday request awaits the LA,
    which the limit of two notices in three years refuses. The parent is a single parent, so the
    refusal is the whole answer."""
    moved = moved_in_on(s.work.days)
    s.work.session.execute(
        update(Enrolment).where(Enrolment.id == s.kid.enrolment_id).values(start_date=moved)
    )
    s.kid.since = moved
    prior_on = _weekday(s.work.today - timedelta(days=s.rng.randint(715, 745)))
    holiday(s)
    school_request(s)
    enquire_elsewhere(s, prior_on)
    la_issues(s, on=s.i + 1)
    all_pay(s)
    s.wait(1, 3)
    s.close(s.lead, Outcome.OTHER, "Penalty notice paid; no other attendance concerns.")
    closed = s.i
    weeks = [i for i in s.work.holiday_weeks if closed + 12 <= i <= s.work.last - 9]
    if not weeks:
        raise RuntimeError("no week away left for the second holiday: fix the window")
    s.goto(weeks[-1])
    holiday(s, applied_after=closed, reopen=True)
    school_request(s, on=s.work.last - s.rng.randint(1, 4))


def _weekday(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _holiday_enforce(s: Story) -> None:
    """Notices issued; unpaid (by one parent or both) at 28 days: prosecution, at Enforce."""
    holiday(s)
    school_request(s)
    unpaid = list(la_issues(s))
    if len(unpaid) > 1 and s.rng.random() < 0.5:
        payer = unpaid.pop(s.rng.randrange(len(unpaid)))
        pay(s, payer, payday(s.rng, payer))
    prosecute_unpaid(s, unpaid)
    if s.rng.random() < 0.5:
        consider_supervision_order(s)


def _holiday_paid(s: Story) -> None:
    holiday(s)
    school_request(s)
    la_issues(s)
    all_pay(s)
    s.wait(1, 3)
    s.close(s.lead, Outcome.OTHER, "Penalty notices paid; no other attendance concerns.")
