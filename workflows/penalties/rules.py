"""The National Framework for penalty notices as pure rules: windows, amounts, the limit of two
notices in three years, and the checks before issue, each explaining itself in plain English.

Nothing here touches the database, so every rule is tested from tables worked out by hand
(RULES.md §2). The service (``workflows.penalties.notices``) gathers the facts and applies them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from casework.durations import SchoolCalendar, WeekdayCalendar, add
from casework.errors import UnmetGuard
from casework.school_age import explain as school_age_refusal
from config.profiles import PenaltyNoticeRules
from workflows.facts import InterventionFact, ListedSession
from workflows.guards import best_window, long_date


class NoticeReason(StrEnum):
    HOLIDAY = "holiday"
    IRREGULAR_ATTENDANCE = "irregular_attendance"
    LATENESS = "lateness"

    @property
    def label(self) -> str:
        return REASON_LABELS[self]


REASON_LABELS = {
    NoticeReason.HOLIDAY: "Term-time holiday (leave not authorised)",
    NoticeReason.IRREGULAR_ATTENDANCE: "Irregular attendance",
    NoticeReason.LATENESS: "Lateness (late after the register closed)",
}


class NoticeStatus(StrEnum):
    DRAFTED = "drafted"
    ISSUED = "issued"
    PAID = "paid"
    WITHDRAWN = "withdrawn"
    PROSECUTION = "prosecution"
    CANCELLED = "cancelled"  # a draft that was never issued


# Notices that count toward the limit (RULES.md §2.2): paid, taken to prosecution, and issued
# ones still running. Withdrawn notices and drafts never issued do not.
COUNTING = frozenset({NoticeStatus.ISSUED, NoticeStatus.PAID, NoticeStatus.PROSECUTION})
# A draft or an issued notice still needs someone to act on it.
OUTSTANDING = frozenset({NoticeStatus.DRAFTED, NoticeStatus.ISSUED})


class WithdrawalGround(StrEnum):
    """The only grounds on which a notice is withdrawn (RULES.md §2.3, Stockton's list)."""

    NO_OFFENCE = "no_offence"
    OUTSIDE_CODE = "outside_code"
    WRONG_PERSON = "wrong_person"
    WRONG_ADDRESS = "wrong_address"
    MATERIAL_ERROR = "material_error"
    # Unpaid at 28 days and the LA decides not to prosecute (2007 Regs reg 9).
    NOT_PROSECUTING = "not_prosecuting"

    @property
    def label(self) -> str:
        return WITHDRAWAL_LABELS[self]


WITHDRAWAL_LABELS = {
    WithdrawalGround.NO_OFFENCE: "No offence was committed",
    WithdrawalGround.OUTSIDE_CODE: "The notice was issued outside the LA's code of conduct",
    WithdrawalGround.WRONG_PERSON: "The notice was issued to the wrong person",
    WithdrawalGround.WRONG_ADDRESS: "The notice was sent to the wrong address",
    WithdrawalGround.MATERIAL_ERROR: "The notice contains a material error",
    WithdrawalGround.NOT_PROSECUTING: "Unpaid at 28 days and the LA decided not to prosecute",
}

# A corrected notice may be issued for the same sessions only where the first was misaddressed
# or wrong in a detail; the offence itself was not in question.
RELEASES_SESSIONS = frozenset({WithdrawalGround.WRONG_ADDRESS, WithdrawalGround.MATERIAL_ERROR})


def money(pence: int) -> str:
    return f"£{pence // 100:,}.{pence % 100:02d}"


# --- windows --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentWindows:
    posted_on: date
    received_on: date  # deemed receipt
    discount_until: date | None  # last day to pay the reduced amount (first notices only)
    pay_by: date  # last day of the payment period
    decision_from: date  # the day after: unpaid, so prosecute or withdraw

    def days_left(self, today: date) -> int:
        """Days left to pay, counting today (0 once the period has ended)."""
        return max(0, (self.pay_by - today).days + 1)


def payment_windows(posted_on: date, ordinal: int, rules: PenaltyNoticeRules) -> PaymentWindows:
    """The notice's dates. A period of N days *beginning with* the day of receipt ends N - 1
    days after it (SI 2024/210); receipt is deemed on the 2nd working day after posting."""
    received = add(WeekdayCalendar(), posted_on, rules.deemed_receipt.duration())
    pay_by = received + timedelta(days=rules.payment_days - 1)
    discount = received + timedelta(days=rules.discount_days - 1) if ordinal == 1 else None
    return PaymentWindows(posted_on, received, discount, pay_by, pay_by + timedelta(days=1))


def amounts(ordinal: int, rules: PenaltyNoticeRules) -> tuple[int | None, int]:
    """(reduced amount or None, full amount) in pence for a first or second notice."""
    if ordinal == 1:
        return rules.first_discounted_pence, rules.first_full_pence
    return None, rules.repeat_full_pence


def amount_due(windows: PaymentWindows, ordinal: int, rules: PenaltyNoticeRules, paid_on: date):
    """What a payment on ``paid_on`` must be, and whether it falls in the discount window;
    None after the payment period (a late payment cannot discharge the notice)."""
    if paid_on > windows.pay_by:
        return None
    reduced, full = amounts(ordinal, rules)
    if reduced is not None and windows.discount_until and paid_on <= windows.discount_until:
        return reduced, True
    return full, False


# --- the limit: two notices per parent per child within three years --------------------------


@dataclass(frozen=True)
class PriorNotice:
    reference: str
    issued_on: date
    status: str
    issued_by: str = "this LA"

    @property
    def counts(self) -> bool:
        return self.status in COUNTING


def limit_period_end(first: date, years: int) -> date:
    """The last day of the period of ``years`` beginning with ``first``: the day before the
    anniversary (a 29 February start ends on 28 February, the anniversary being 1 March)."""
    try:
        anniversary = first.replace(year=first.year + years)
    except ValueError:  # 29 February in a year without one
        anniversary = date(first.year + years, 3, 1)
    return anniversary - timedelta(days=1)


@dataclass(frozen=True)
class LimitVerdict:
    ordinal: int | None  # 1 or 2; None when refused
    period_first: PriorNotice | None  # the notice that opened the current three-year period
    period_ends: date | None
    refusal: str | None


def place_in_limit(
    prior: list[PriorNotice], issue_on: date, rules: PenaltyNoticeRules
) -> LimitVerdict:
    """Where a notice issued on ``issue_on`` falls among this parent's notices for this child.

    Counting notices are taken in date order: a notice issued when no period is running opens
    one (a first notice); within the period the second costs the full amount with no discount,
    and no third may be issued until the period has ended (RULES.md §2.2).
    """
    counting = sorted(
        (p for p in prior if p.counts and p.issued_on <= issue_on),
        key=lambda p: (p.issued_on, p.reference),
    )
    first: PriorNotice | None = None
    in_period = 0
    for notice in counting:
        if first is None or notice.issued_on > limit_period_end(first.issued_on, rules.limit_years):
            first, in_period = notice, 1
        else:
            in_period += 1
    if first is None or issue_on > limit_period_end(first.issued_on, rules.limit_years):
        return LimitVerdict(1, None, None, None)
    ends = limit_period_end(first.issued_on, rules.limit_years)
    if in_period >= rules.most_in_limit:
        held = [n for n in counting if first.issued_on <= n.issued_on <= ends]
        listed = ", ".join(f"{n.reference} ({long_date(n.issued_on)}, {n.issued_by})" for n in held)
        return LimitVerdict(
            None,
            first,
            ends,
            f"{rules.most_in_limit} penalty notices have already been issued to this parent for "
            f"this child within {rules.limit_years} years of the first ({listed}); no further "
            f"notice can be issued before {long_date(ends + timedelta(days=1))}. Consider "
            "prosecution under section 444 of the Education Act 1996, an attendance contract "
            "or an education supervision order instead",
        )
    return LimitVerdict(in_period + 1, first, ends, None)


# --- the threshold ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Threshold:
    sessions: int
    school_weeks: int
    codes: tuple[str, ...]
    what: str  # "unauthorised sessions (G, N, O, U)"


# --- the checks before issue ------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeFacts:
    """Everything the checks look at for one notice to one parent for one child."""

    reason: NoticeReason
    issue_on: date
    date_of_birth: date
    sessions: tuple[ListedSession, ...]
    counted_codes: tuple[str, ...]  # unauthorised codes a notice may rely on
    threshold: Threshold
    calendar: SchoolCalendar
    rules: PenaltyNoticeRules
    parent_name: str
    parental_responsibility: bool
    # (day, session) -> code in the pupil's registers; None when no registers are held.
    register: dict[tuple[date, str], str] | None = None
    # (day, session) -> reference of another live notice to this parent relying on it.
    used_by: dict[tuple[date, str], str] = field(default_factory=dict)
    notices_to_improve: tuple[InterventionFact, ...] = ()
    prior: tuple[PriorNotice, ...] = ()
    rationales: dict[str, str] = field(default_factory=dict)
    lateness_enabled: bool = True


def _session(s: ListedSession) -> str:
    return f"{long_date(s.day)} {s.session}"


def sessions_given(f: NoticeFacts) -> str | None:
    return None if f.sessions else "no sessions are relied on: list the sessions of absence"


def compulsory_school_age(f: NoticeFacts) -> str | None:
    for day in sorted({s.day for s in f.sessions}):
        refusal = school_age_refusal(f.date_of_birth, day)
        if refusal:
            return refusal
    return None


def unauthorised_only(f: NoticeFacts) -> str | None:
    problems = []
    for s in sorted(f.sessions, key=lambda s: (s.day, s.session)):
        code = s.code if f.register is None else f.register.get((s.day, s.session))
        if code is None:
            problems.append(f"{_session(s)} has no mark in the register")
        elif code not in f.counted_codes:
            problems.append(f"{_session(s)} is marked {code} in the register")
        elif f.register is not None and code != s.code:
            problems.append(f"{_session(s)} is listed as {s.code} but marked {code}")
    if not problems:
        return None
    return (
        "a penalty notice relies only on unauthorised absence ("
        + ", ".join(f.counted_codes)
        + "): "
        + "; ".join(problems[:5])
        + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
    )


def sessions_unused(f: NoticeFacts) -> str | None:
    clashes = sorted(
        (key, ref)
        for key, ref in f.used_by.items()
        if key in {(s.day, s.session) for s in f.sessions}
    )
    if not clashes:
        return None
    listed = "; ".join(f"{long_date(d)} {sess} ({ref})" for (d, sess), ref in clashes[:5])
    return (
        f"{len(clashes)} of these sessions already back another penalty notice to "
        f"{f.parent_name} and cannot be used again: {listed}"
    )


def threshold_met(f: NoticeFacts) -> str | None:
    t = f.threshold
    window = best_window(f.sessions, f.calendar, t.school_weeks, t.codes)
    if len(window) >= t.sessions:
        return None
    return (
        f"the threshold is {t.sessions} {t.what} within {t.school_weeks} school weeks; the most "
        f"relied on within any such window is {len(window)}: record the LA's discretion to "
        "issue below the threshold, or rely on more sessions"
    )


def lateness_allowed(f: NoticeFacts) -> str | None:
    if f.reason == NoticeReason.LATENESS and not f.lateness_enabled:
        return "this LA's profile does not issue penalty notices for lateness"
    return None


def notice_to_improve_given(f: NoticeFacts) -> str | None:
    if f.reason == NoticeReason.HOLIDAY:
        return None  # support is not appropriate for a term-time holiday (RULES.md §2.5)
    given = sorted(
        (n for n in f.notices_to_improve if n.occurred_on <= f.issue_on),
        key=lambda n: n.occurred_on,
    )
    if not given:
        return (
            "no Notice to Improve has been given: one should usually be given first where "
            "support is appropriate; record why it is not needed here"
        )
    latest = given[-1]
    if latest.outcome in ("improved", "some_improvement"):
        return "attendance is recorded as improved under the Notice to Improve"
    expires = latest.details.get("expires_on")
    if expires and f.issue_on < date.fromisoformat(expires):
        since = [s for s in f.sessions if s.day > latest.occurred_on and s.code in f.counted_codes]
        if not since:
            return (
                f"the Notice to Improve given on {long_date(latest.occurred_on)} runs until "
                f"{long_date(date.fromisoformat(expires))} and no unauthorised absence since it "
                "was given is relied on"
            )
    return None


def parental_responsibility(f: NoticeFacts) -> str | None:
    if f.parental_responsibility:
        return None
    return (
        f"{f.parent_name} is not recorded as having parental responsibility for the pupil: a "
        "notice goes to each parent with parental responsibility"
    )


def within_limit(f: NoticeFacts) -> str | None:
    return place_in_limit(list(f.prior), f.issue_on, f.rules).refusal


@dataclass(frozen=True)
class Check:
    name: str
    check: Callable[[NoticeFacts], str | None]
    overridable: bool
    summary: str


CHECKS: tuple[Check, ...] = (
    Check("sessions_given", sessions_given, False, "sessions of absence are relied on"),
    Check("compulsory_school_age", compulsory_school_age, False, "of compulsory school age"),
    Check("unauthorised_only", unauthorised_only, False, "only unauthorised absence"),
    Check("sessions_unused", sessions_unused, False, "no session used for another notice"),
    Check("lateness_allowed", lateness_allowed, False, "the LA issues lateness notices"),
    Check("threshold_met", threshold_met, True, "the threshold met, or the LA's discretion"),
    Check(
        "notice_to_improve",
        notice_to_improve_given,
        True,
        "a Notice to Improve given where support is appropriate",
    ),
    Check("parental_responsibility", parental_responsibility, False, "the right person"),
    Check("within_limit", within_limit, False, "no more than two notices in three years"),
)
CHECK_NAMES = frozenset(c.name for c in CHECKS)
OVERRIDABLE = frozenset(c.name for c in CHECKS if c.overridable)


def unmet_checks(facts: NoticeFacts) -> list[UnmetGuard]:
    """Every check the notice fails, in order; a rationale recorded for an overridable check
    (the LA's discretion) meets it."""
    unmet = []
    for c in CHECKS:
        reason = c.check(facts)
        if reason is None:
            continue
        if c.overridable and (facts.rationales.get(c.name) or "").strip():
            continue
        unmet.append(UnmetGuard(c.name, reason, c.overridable))
    return unmet
