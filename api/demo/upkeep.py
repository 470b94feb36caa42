"""After a case's scenario is told, the people on it keep it up to date, as in a well-run LA.

A scenario stops acting once its point is made, but the case's clocks keep running: left alone,
every review would pass unactioned and escalate the first time the scheduler sweeps. So each
open deadline that falls due before the last few term days gets the natural action, on (or just
before) its due day, by the person who would take it: the Early Help assessment's outcome, the
next Team Around the Family meeting, the AIM's three-week review, the attendance contract's
review. None of them changes the case's stage (the scenario chose it). Of the deadlines due in
the last ``QUIET`` term days about one in ``LEFT_BEHIND`` is left undone (a busy week), and later
ones are not reached yet, so My work shows a few items overdue, due today and this week. Clocks
that only a change of stage stops (the Level 1-4 reviews, the Level 2 cap) are kept from passing
by the scenarios' windows instead (``stories``).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from api.demo.story import Story, percent
from casework.models import Intervention
from casework.models.deadlines import Deadline
from casework.vocabulary import Engagement as Eng
from casework.vocabulary import InterventionKind as Kind
from casework.vocabulary import InterventionOutcome as Res
from casework.vocabulary import Stage
from workflows.clocks import PENDING

# The last term days, in which some deadlines are still waiting for their action.
QUIET = 5
LEFT_BEHIND = 4
# A safety stop: no case needs more than this many catch-up actions in a school year.
MOST_ACTIONS = 40


def keep_up(s: Story) -> int:
    """Action each deadline of ``s``'s open case falling due before the quiet days; returns how
    many actions were recorded."""
    if s.case is None or s.case.stage == Stage.CLOSED:
        return 0
    quiet_from = s.work.days[s.work.last - QUIET + 1]
    left: list[int] = []
    done = 0
    while done < MOST_ACTIONS:
        s.work.session.flush()
        deadline = s.work.session.scalars(
            select(Deadline)
            .where(
                Deadline.case_id == s.case.id,
                Deadline.status == PENDING,
                Deadline.kind.in_(ACTIONS),
                Deadline.due_on <= s.work.days[-1],
                Deadline.id.not_in(left),
            )
            .order_by(Deadline.due_on, Deadline.id)
        ).first()
        if deadline is None:
            return done
        if deadline.due_on >= quiet_from and s.rng.randrange(LEFT_BEHIND) == 0:
            left.append(deadline.id)
            continue
        # On the due day or a day or two before, never before what the story already did.
        due_i = s.work.on_or_after(deadline.due_on)
        s.goto(max(s.i, min(due_i, s.work.last) - s.rng.randint(0, 2)))
        ACTIONS[deadline.kind](s)
        done += 1
    raise RuntimeError(f"case {s.case.reference} kept asking for catch-up actions")


def _latest(s: Story, kind: Kind) -> Intervention | None:
    """The current record of ``kind`` on the case (not superseded by a later outcome)."""
    newer = select(Intervention.supersedes_id).where(Intervention.supersedes_id.is_not(None))
    return s.work.session.scalars(
        select(Intervention)
        .where(
            Intervention.case_id == s.case.id,
            Intervention.kind == kind.value,
            Intervention.id.not_in(newer),
        )
        .order_by(Intervention.id.desc())
    ).first()


def _holder(s: Story):
    return s.holder or s.lead


def _early_help_review(s: Story) -> None:
    """The assessment still open is completed; once it is, the TAF meetings carry the review."""
    assessment = _latest(s, Kind.EARLY_HELP_ASSESSMENT)
    if assessment is not None and assessment.outcome == Res.PENDING.value:
        s.result(
            s.lead,
            assessment,
            Res.COMPLETED,
            "Early Help assessment completed; family plan shared with the family and school.",
        )
        return
    _taf_meeting(s)


def _taf_meeting(s: Story) -> None:
    s.record(
        _holder(s),
        Kind.TEAM_AROUND_THE_FAMILY,
        f"Team Around the Family review: attendance {s.drift(s.rng.uniform(-1.0, 2.5))}; "
        "actions updated."
        if s.engaged
        else f"{s.parent.formal} did not attend the Team Around the Family review; the "
        "updated plan was posted.",
        Eng.ENGAGED if s.engaged else Eng.NOT_ENGAGED,
        details={"action_plan": [s.barrier[1]], "attendance_at_meeting": percent(s.attendance)},
    )


def _aim_review(s: Story) -> None:
    meeting = _latest(s, Kind.ATTENDANCE_IMPROVEMENT_MEETING)
    before = percent(s.attendance)
    outcome = Res.SOME_IMPROVEMENT if s.engaged else Res.NOT_IMPROVED
    after = s.drift(2.0 if s.engaged else -1.0)
    s.support = s.result(
        _holder(s),
        meeting,
        outcome,
        f"Three-week review: attendance {before} at the meeting, {after} since.",
    )


def _contract_review(s: Story) -> None:
    contract = _latest(s, Kind.ATTENDANCE_CONTRACT)
    outcome = Res.SOME_IMPROVEMENT if s.engaged else Res.NOT_IMPROVED
    s.contract = s.result(
        s.statutory,
        contract,
        outcome,
        f"Contract review: attendance {s.drift(1.5 if s.engaged else -2.0)}; "
        + ("commitments mostly kept." if s.engaged else "commitments not kept."),
    )


ACTIONS: dict[str, Callable[[Story], None]] = {
    "early_help_review": _early_help_review,
    "taf_meeting": _taf_meeting,
    "aim_review": _aim_review,
    "attendance_contract_review": _contract_review,
}
