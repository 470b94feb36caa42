"""Term-time holidays and penalty notices, told through the services as the National Framework
has them (``workflows.penalties``).

Before the week away a parent applies for leave and the headteacher refuses it (no exceptional
circumstances); the school records the decision. Once the week has passed the school lays it in
the register as G (holiday not authorised), opens a term-time holiday case and asks the LA for
penalty notices, with the leave request and the refusal attached. A statutory officer accepts the
request and issues a notice to each parent with parental responsibility; payments are recorded
when the LA receives them, on the first school day on or after the day paid (the demo's people
work on school days). A notice unpaid at the end of its 28 days awaits the LA's decision to
prosecute for the original offence or to withdraw it.

The register the scan reads later is imported from each school's CTF (``registers``), which
carries the G marks laid here, so the register, the request and the notices agree.

A family that moved in from another LA is asked about there first (``enquire_elsewhere``): the
other LA's answer and the notice it reported are stored as the service keeps them (append-only
rows; no service records them yet), with a case event saying what was asked and found.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from api.demo.story import Story
from casework.models import PenaltyNotice, PenaltyNoticeEnquiry, PriorPenaltyNotice
from casework.vocabulary import CaseKind, EventKind
from casework.vocabulary import InterventionKind as Kind
from workflows.penalties.leave import (
    ApplyForLeave,
    DecideLeave,
    apply_for_leave,
    decide_leave,
    record_leave_taken,
)
from workflows.penalties.notices import RecordPayment, decide_prosecution, record_payment
from workflows.penalties.requests import (
    IssueFromRequest,
    MakeRequest,
    issue_from_request,
    make_request,
)

# What parents give as the reason for asking for leave in term time.
LEAVE_REASONS = (
    "A family holiday abroad: flights are much cheaper outside the school holidays.",
    "A week with relatives overseas whom the children have not seen for two years.",
    "A family wedding abroad, with a few days' holiday after it.",
    "The only week both parents could take off work this year.",
    "A caravan holiday with the grandparents, booked by them as a surprise.",
    "A holiday won in a competition, which must be taken on these dates.",
)
REFUSAL = (
    "Leave in term time may be granted only in exceptional circumstances, and a family holiday "
    "is not one. If {who} is absent the sessions will be recorded as unauthorised (G) and the "
    "school may ask the local authority to issue a penalty notice to each parent."
)
# The payment methods of the demo LA's payment office (the profile lists them).
METHODS = ("online", "online", "online", "telephone", "bank_transfer")
# The LA a family moved in from (invented, like the demo's other places).
OTHER_LA = "Northshire County Council"


def holiday(s: Story, *, applied_after: int | None = None, reopen: bool = False) -> None:
    """The leave refused before the week away (the story's current day is that Monday), the week
    laid as G once it has passed, and a term-time holiday case opened (or reopened) on it."""
    monday = s.i
    away = s.work.days[monday : monday + 5]
    earliest = max(0, s.work.joined(s.kid), monday - 20)
    if applied_after is not None:
        earliest = max(earliest, applied_after + 1)
    applicant = s.parents()[0]
    s.goto(s.rng.randint(earliest, monday - 3))
    s.leave = apply_for_leave(
        s.as_(s.lead),
        ApplyForLeave(
            pupil_id=s.kid.id,
            school_id=s.school.id,
            contact_id=applicant[1],
            applied_on=s.day,
            first_day=away[0],
            last_day=away[-1],
            reason=s.rng.choice(LEAVE_REASONS),
        ),
    )
    s.goto(min(s.i + s.rng.randint(1, 3), monday - 1))
    decide_leave(
        s.as_(s.lead),
        s.leave.id,
        DecideLeave(
            decision="refused",
            exceptional_circumstances=False,
            reasons=REFUSAL.format(who=s.who),
            decided_on=s.day,
            decided_by_name=s.work.headteacher(s.kid.school),
            decided_by_position="Headteacher",
        ),
    )
    # The first school day after the week away: the school lays it in the register.
    s.goto(monday + 5)
    record_leave_taken(s.as_(s.lead), s.leave.id, away[0], away[-1])
    s.wait(0, 2)
    reason = (
        f"Term-time holiday {away[0]:%d %B}-{away[-1]:%d %B %Y}: 10 sessions unauthorised (G); "
        "leave was requested and refused."
    )
    if reopen:
        s.fire(s.lead, "reopen", f"A second term-time holiday. {reason}")
    else:
        s.open(reason, kind=CaseKind.TERM_TIME_HOLIDAY)
    s.record(
        s.lead,
        Kind.LETTER,
        "Letter to each parent: the absence is recorded as an unauthorised holiday and the "
        "school is asking the local authority to consider a penalty notice.",
    )


def school_request(s: Story, on: int | None = None) -> None:
    """The school asks the LA for penalty notices, relying on the G week and the refusal."""
    if on is None:
        s.wait(1, 3)
    else:
        s.wait_until(on)
    leave = s.leave
    s.request = make_request(
        s.as_(s.lead),
        MakeRequest(
            case_id=s.case.id,
            reason="holiday",
            summary=(
                f"Leave requested on {leave.applied_on:%d %B %Y} and refused by the headteacher; "
                f"{s.who} was away {leave.first_day:%d %B}-{leave.last_day:%d %B}: 10 sessions "
                "recorded as G. No other attendance concerns."
            ),
            leave_request_id=leave.id,
        ),
    )


def la_issues(s: Story, on: int | None = None) -> list[PenaltyNotice]:
    """A statutory officer accepts the request: a notice to each parent, posted that day."""
    if on is None:
        s.wait(2, 5)
    else:
        s.wait_until(on)
    _, s.notices = issue_from_request(
        s.as_(s.statutory), s.request.id, IssueFromRequest(posted_on=s.day)
    )
    s.notes.append("penalty notices")
    return s.notices


def pay(s: Story, notice: PenaltyNotice, paid_on: date) -> None:
    """The parent pays on ``paid_on``; the LA records it on that school day or the next one."""
    s.goto(max(s.i, s.work.on_or_after(paid_on)))
    reduced = notice.amount_discounted_pence
    amount = (
        reduced
        if reduced is not None and paid_on <= notice.discount_until
        else notice.amount_full_pence
    )
    record_payment(
        s.as_(s.statutory),
        notice.id,
        RecordPayment(
            paid_on=paid_on,
            amount_pence=amount,
            method=s.rng.choice(METHODS),
            finance_reference=f"FIN{s.rng.randint(100000, 999999)}",
        ),
    )


def payday(rng: random.Random, notice: PenaltyNotice, *, late_share: float = 0.2) -> date:
    """When a paying parent pays: mostly within the discount period, some nearer the end."""
    received = notice.received_on
    if notice.discount_until is not None and rng.random() >= late_share:
        last = notice.discount_until
    else:
        last = notice.pay_by
    first = received + timedelta(days=1)
    if notice.discount_until is not None and last == notice.pay_by:
        first = notice.discount_until + timedelta(days=1)
    return first + timedelta(days=rng.randint(0, (last - first).days))


def all_pay(s: Story) -> None:
    """Every parent pays; each payment recorded in the order it arrived."""
    for paid_on, notice in sorted(
        ((payday(s.rng, n), n) for n in s.notices), key=lambda x: (x[0], x[1].id)
    ):
        pay(s, notice, paid_on)


def prosecute_unpaid(s: Story, unpaid: list[PenaltyNotice]) -> None:
    """Unpaid at 28 days: the LA decides to prosecute for the original offence, and the case goes
    to the statutory team and, with the manager's approval, to Enforce."""
    ended = max(n.pay_by for n in unpaid)
    s.wait_until(s.work.on_or_after(ended + timedelta(days=1)) + s.rng.randint(0, 2))
    for notice in unpaid:
        decide_prosecution(
            s.as_(s.statutory),
            notice.id,
            f"Not paid by {notice.pay_by:%d %B %Y}; no reply to the reminder. No grounds to "
            "withdraw: the LA will prosecute for the original absence (s444(1)).",
        )
    s.hand_to(
        s.manager,
        s.statutory,
        "Penalty notice unpaid: the statutory team takes the case for prosecution.",
    )
    s.wait(0, 1)
    request = s.approval(
        f"Penalty notice unpaid ({', '.join(n.reference for n in unpaid)}): request approval "
        "to prosecute for the term-time holiday (Level 4)."
    )
    s.wait(1, 3)
    s.decide(
        request, True, "Approved: the notice was not paid and there are no grounds to withdraw."
    )
    s.wait(0, 2)
    s.fire(
        s.statutory,
        "advance_to_enforce",
        "Unpaid penalty notice: prosecution for the original offence (s444(1)).",
    )


def enquire_elsewhere(s: Story, prior_on: date) -> None:
    """Ask the LA the family moved from about earlier notices: it reports one, paid."""
    s.wait(1, 2)
    asked = s.day
    s.wait(2, 4)
    officer = s.statutory
    ctx = s.as_(officer)
    name, contact_id = s.parents()[0]
    reference = f"NCC/PN/{prior_on:%y}/{s.rng.randint(1000, 9999)}"
    answer = (
        f"{OTHER_LA} issued one penalty notice to {name.formal} for {s.who}'s unauthorised "
        f"holiday, issued on {prior_on:%d %B %Y} (their reference {reference}), paid in full."
    )
    enquiry = PenaltyNoticeEnquiry(
        la_id=s.case.la_id,
        pupil_id=s.kid.id,
        contact_id=contact_id,
        other_la=OTHER_LA,
        asked_on=asked,
        answered_on=s.day,
        answer=answer,
        notices_reported=1,
        recorded_by_id=officer.id,
        recorded_at=ctx.now(),
    )
    ctx.session.add(enquiry)
    ctx.session.flush()
    ctx.session.add(
        PriorPenaltyNotice(
            la_id=s.case.la_id,
            pupil_id=s.kid.id,
            contact_id=contact_id,
            enquiry_id=enquiry.id,
            issuing_la=OTHER_LA,
            their_reference=reference,
            issued_on=prior_on,
            status="paid",
            recorded_by_id=officer.id,
            recorded_at=ctx.now(),
        )
    )
    ctx.record(
        s.case,
        EventKind.PENALTY_NOTICE_ENQUIRY,
        reason=f"The family moved here from {OTHER_LA}'s area: asked on {asked:%d %B %Y} about "
        f"earlier penalty notices. {answer}",
        data={
            "enquiry_id": enquiry.id,
            "other_la": OTHER_LA,
            "contact_id": contact_id,
            "asked_on": asked.isoformat(),
            "answered_on": s.day.isoformat(),
            "notices_reported": 1,
        },
    )
    ctx.session.flush()
