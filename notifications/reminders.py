"""Event emails about a case: a deadline coming up, a deadline passed (and escalated to the
owner's manager), a case handed to someone. Each is queued in the transaction of the case
event that causes it, keyed by that event (``event.<case id>-<sequence>.<recipient id>``): the
event is unique, so however often the caller is retried there is one email per reader.

What an email says about the child: the case reference, the pupil's initials and the school.
Enough for the reader (who holds the case) to know which case it is; the rest is one click away
behind sign-in. Email is copied, forwarded and kept outside Casework's access control, so no
full name, date of birth, address or anything about the parents goes in it.

Each reader's preferences decide (``notifications.preferences``): ``email`` queues it,
``digest_only`` leaves it for the daily digest (which lists what is overdue and due), ``off``
drops it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from casework.calendars.model import long_date
from casework.models import Case, LocalAuthority, Pupil, User
from casework.models.deadlines import Deadline
from casework.vocabulary import Stage
from config.profiles import load_profile
from config.settings import base_url
from notifications.outbox import enqueue
from notifications.preferences import (
    DEADLINE_REMINDERS,
    EMAIL,
    ESCALATIONS,
    TRANSFERS,
    choices_for,
    wants_email,
)


def initials(pupil: Pupil) -> str:
    """ "A.A." from the names the child is known by."""
    forename = pupil.preferred_forename or pupil.legal_forename
    surname = pupil.preferred_surname or pupil.legal_surname
    return "".join(f"{name.strip()[:1].upper()}." for name in (forename, surname) if name.strip())


def case_link(case_id: int) -> str:
    return f"{base_url()}/cases/{case_id}"


def event_key(case_id: int, sequence: int, user_id: int) -> str:
    return f"event.{case_id}-{sequence}.{user_id}"


def sender_name(session: Session, la_id: int) -> str:
    return load_profile(session.get(LocalAuthority, la_id).profile).mail.from_name


def _case_fields(session: Session, case: Case) -> dict[str, str]:
    return {
        "case_reference": case.reference,
        "case_link": case_link(case.id),
        "pupil_initials": initials(case.pupil),
        "school_name": case.school.name,
        "sender_name": sender_name(session, case.la_id),
    }


@dataclass(frozen=True)
class Wording:
    subject: str
    headline: str


def reminder_wording(kind: str, label: str, due_on: date, school_days: int) -> Wording:
    """What a reminder is called, by the deadline's kind; any other clock by its label."""
    when = long_date(due_on)
    days = f"{school_days} school day{'s' if school_days != 1 else ''}"
    match kind:
        case "aim_review":
            return Wording(
                f"AIM review due in {days}",
                f"The Attendance Improvement Meeting action plan review is due in {days}, "
                f"on {when}.",
            )
        case "notice_to_improve_expiry":
            return Wording(
                "Notice to Improve expiring",
                f"The Notice to Improve's improvement period ends on {when}. Check attendance "
                "over the period and decide what happens next.",
            )
        case "penalty_notice_unpaid":
            return Wording(
                "Penalty notice unpaid at day 28: decision due",
                f"The 28 days to pay the penalty notice end on {when}. If it is still unpaid, "
                "decide whether to prosecute or withdraw the notice.",
            )
        case "prosecution_limit":
            return Wording(
                "Prosecution time limit approaching",
                f"The six months to lay an information for the absence this case relies on "
                f"end on {when} (Magistrates' Courts Act 1980 s127). After that day no "
                "prosecution for that period is possible: prepare the pre-court pack now.",
            )
    return Wording(f"{label}: due {when}", f"{label} is due in {days}, on {when}.")


def passed_wording(kind: str, label: str, due_on: date) -> Wording:
    when = long_date(due_on)
    if kind == "penalty_notice_unpaid":
        return Wording(
            "Penalty notice unpaid at day 28: decision due",
            f"The 28 days to pay the penalty notice ended on {when} and no payment is "
            "recorded. Decide whether to prosecute or withdraw the notice.",
        )
    if kind == "prosecution_limit":
        return Wording(
            "Prosecution time limit passed",
            f"The six months to lay an information for the absence this case relied on ended "
            f"on {when}. No prosecution for that period is possible now; record the outcome.",
        )
    if kind == "notice_to_improve_expiry":
        return Wording(
            "Notice to Improve expired",
            f"The Notice to Improve's improvement period ended on {when}. Record what "
            "happens next.",
        )
    return Wording(
        f"Overdue: {label}", f"{label} was due on {when} and has not been recorded as done."
    )


def deadline_reminder_email(
    session: Session, deadline: Deadline, case: Case, sequence: int, now: datetime
) -> int:
    """The reminder ahead of a deadline, to the case's owner. Returns how many were queued."""
    owner = case.owner
    if not owner.active or not wants_email(session, owner.id, DEADLINE_REMINDERS):
        return 0
    profile = load_profile(session.get(LocalAuthority, case.la_id).profile)
    wording = reminder_wording(
        deadline.kind, deadline.label, deadline.due_on, profile.reminder_school_days
    )
    subject = f"{case.reference}: {wording.subject}"
    enqueue(
        session,
        key=event_key(case.id, sequence, owner.id),
        kind="deadline_reminder",
        la_id=case.la_id,
        to_address=owner.email,
        template="event/deadline_reminder",
        subject=subject,
        context={
            **_case_fields(session, case),
            "recipient_name": owner.full_name,
            "headline": wording.headline,
            "label": deadline.label,
            "due_on": deadline.due_on.isoformat(),
            "due_on_text": long_date(deadline.due_on),
            "rule": deadline.rule,
            "reason": f"you hold case {case.reference} and this deadline on it falls due soon",
        },
        now=now,
        case_id=case.id,
        recipient_user_id=owner.id,
    )
    return 1


# A reader with more passed deadlines than this in one sweep (a scheduler back after downtime)
# gets one email listing them, not one each: a hundred emails help nobody.
PER_EVENT_MOST = 3
# A summary names the first few and counts the rest: enough to act on, cheap to build when a
# sweep after downtime passes thousands at once.
LISTED_MOST = 10


def deadline_passed_emails(
    session: Session, deadline: Deadline, case: Case, sequence: int, now: datetime
) -> int:
    """A deadline passed: to the case's owner, and escalated to the owner's manager."""
    return deadlines_passed_emails(session, [(deadline, case.id, sequence)], now)


def deadlines_passed_emails(
    session: Session, passed: list[tuple[Deadline, int, int]], now: datetime
) -> int:
    """The emails a sweep's passed deadlines ``(deadline, case id, event sequence)`` cause, for
    each owner and each owner's manager: one per deadline, or for a reader with more than
    ``PER_EVENT_MOST``, one listing them (keyed by the first deadline's id: a batch rolled back
    is recomputed whole). Cases are loaded only for what is written about them."""
    case_ids = sorted({case_id for _, case_id, _ in passed})
    holders = {
        case_id: (owner_id, manager_id)
        for case_id, owner_id, manager_id in session.execute(
            select(Case.id, Case.owner_id, User.manager_id)
            .join(User, User.id == Case.owner_id)
            .where(Case.id.in_(case_ids))
        )
    }
    readers: dict[int, list[tuple[bool, Deadline, int, int]]] = {}
    for deadline, case_id, sequence in passed:
        owner_id, manager_id = holders[case_id]
        readers.setdefault(owner_id, []).append((False, deadline, case_id, sequence))
        if manager_id is not None and manager_id != owner_id:
            readers.setdefault(manager_id, []).append((True, deadline, case_id, sequence))
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(list(readers))))}
    choices = choices_for(session, list(readers), ESCALATIONS)
    queued = 0
    for reader_id, items in readers.items():
        reader = users[reader_id]
        if not reader.active or choices[reader_id] != EMAIL:
            continue
        if len(items) <= PER_EVENT_MOST:
            for escalated, deadline, case_id, sequence in items:
                case = session.get(Case, case_id)
                _passed_email(session, reader, deadline, case, sequence, now, escalated)
                queued += 1
        else:
            _passed_summary(session, reader, items, now)
            queued += 1
    return queued


def _passed_fields(session: Session, deadline: Deadline, case: Case) -> dict[str, Any]:
    owner = case.owner
    manager = session.get(User, owner.manager_id) if owner.manager_id else None
    wording = passed_wording(deadline.kind, deadline.label, deadline.due_on)
    return {
        **_case_fields(session, case),
        "headline": wording.headline,
        "subject_words": wording.subject,
        "label": deadline.label,
        "due_on": deadline.due_on.isoformat(),
        "due_on_text": long_date(deadline.due_on),
        "owner_name": owner.full_name,
        "escalated_to": manager.full_name if manager else None,
    }


def _passed_email(
    session: Session,
    reader: User,
    deadline: Deadline,
    case: Case,
    sequence: int,
    now: datetime,
    escalated: bool,
) -> None:
    """One passed deadline's email: to the case's owner, or escalated to the owner's manager."""
    fields = _passed_fields(session, deadline, case)
    words = fields.pop("subject_words")
    if escalated:
        kind, subject = "deadline_escalated", f"Escalated: {case.reference}: {words}"
        reason = (
            f"you manage {case.owner.full_name}, who holds case {case.reference}, "
            "and a deadline on it has passed"
        )
    else:
        kind, subject = "deadline_passed", f"{case.reference}: {words}"
        reason = f"you hold case {case.reference} and this deadline on it has passed"
    enqueue(
        session,
        key=event_key(case.id, sequence, reader.id),
        kind=kind,
        la_id=case.la_id,
        to_address=reader.email,
        template=f"event/{kind}",
        subject=subject,
        context={**fields, "recipient_name": reader.full_name, "reason": reason},
        now=now,
        case_id=case.id,
        recipient_user_id=reader.id,
    )


def _passed_summary(
    session: Session,
    reader: User,
    items: list[tuple[bool, Deadline, int, int]],
    now: datetime,
) -> None:
    ordered = sorted(items, key=lambda item: (item[1].due_on, item[1].id))
    escalated = any(item[0] for item in items)
    first_few = ordered[:LISTED_MOST]
    ids = {case_id for _, _, case_id, _ in first_few}
    cases = {
        c.id: c
        for c in session.scalars(
            select(Case)
            .where(Case.id.in_(ids))
            .options(selectinload(Case.pupil), selectinload(Case.school), selectinload(Case.owner))
        )
    }
    shown = [(d, cases[case_id]) for _, d, case_id, _ in first_few]
    listed = [
        {
            "case_reference": case.reference,
            "pupil_initials": initials(case.pupil),
            "school_name": case.school.name,
            "label": deadline.label,
            "due_on_text": long_date(deadline.due_on),
            "owner_name": case.owner.full_name,
            "link": case_link(case.id),
        }
        for deadline, case in shown
    ]
    first = min(item[1].id for item in items)
    whose = "cases you hold or that people you manage hold" if escalated else "cases you hold"
    enqueue(
        session,
        key=f"sweep.passed.{first}.{reader.id}",
        kind="deadlines_escalated" if escalated else "deadlines_passed",
        la_id=reader.la_id,
        to_address=reader.email,
        template="event/deadlines_passed_summary",
        subject=f"{len(items)} deadlines have passed on {whose}",
        context={
            "recipient_name": reader.full_name,
            "count": len(items),
            "items": listed,
            "more": max(0, len(items) - LISTED_MOST),
            "deadlines_link": f"{base_url()}/deadlines",
            "sender_name": sender_name(session, reader.la_id),
            "reason": f"deadlines on {whose} have passed, and there were too many at once "
            "to send one email each",
        },
        now=now,
        recipient_user_id=reader.id,
    )


HANDOVER_WORDS = {
    "assigned": ("assigned to you", "{by} has assigned case {ref} to you."),
    "transferred": ("transferred to you", "{by} has transferred case {ref} to you."),
    "referral_accepted": (
        "passed to you on a referral",
        "{by} has accepted a referral of case {ref} and passed it to you.",
    ),
    "referred": (
        "referred to you",
        "{by} has referred case {ref} to you. It stays with its current holder until the "
        "referral is accepted or returned.",
    ),
}


def handed_over_email(
    session: Session,
    case: Case,
    sequence: int,
    to: User,
    how: str,
    by: User | None,
    now: datetime,
) -> int:
    """A case assigned, transferred or referred to ``to`` (not when they did it themselves).
    The reason typed for the handover stays on the case: free text may carry family details."""
    if by is not None and by.id == to.id:
        return 0
    if not to.active or not wants_email(session, to.id, TRANSFERS):
        return 0
    words, sentence = HANDOVER_WORDS[how]
    by_name = by.full_name if by else "Casework"
    enqueue(
        session,
        key=event_key(case.id, sequence, to.id),
        kind=f"case_{how}",
        la_id=case.la_id,
        to_address=to.email,
        template="event/case_handed_over",
        subject=f"{case.reference}: case {words}",
        context={
            **_case_fields(session, case),
            "recipient_name": to.full_name,
            "summary": sentence.format(by=by_name, ref=case.reference),
            "stage": Stage(case.stage).label,
            "reason": f"case {case.reference} was {words}"
            + (" and you now hold it" if how != "referred" else ""),
        },
        now=now,
        case_id=case.id,
        caused_by_user_id=by.id if by else None,
        recipient_user_id=to.id,
    )
    return 1
