"""Penalty notices, one per parent per child: drafted, issued, then paid, withdrawn or taken to
prosecution. Every step is checked, recorded as a case event and moves the notice's 28-day
clock in the same transaction.

Only the LA's statutory officers and managers draft, issue and record; schools request
(``workflows.penalties.requests``). The rules themselves are ``workflows.penalties.rules``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from casework.analytics.timeline import load_timeline
from casework.calendars import OutsideCalendar
from casework.durations import add_months, sessions_on
from casework.errors import Conflict, FieldProblem, InvalidInput, NotFound, NoticeRefused
from casework.models import (
    Case,
    Contact,
    LocalAuthority,
    PenaltyNotice,
    PenaltyNoticeRequest,
    PenaltyNoticeSession,
    PenaltyPayment,
    PriorPenaltyNotice,
    Pupil,
    PupilContact,
)
from casework.vocabulary import EventKind, InterventionKind, Role, Session, Stage
from workflows.cases import current_interventions
from workflows.clocks import on_happenings, with_clocks
from workflows.context import Context
from workflows.facts import InterventionFact, ListedSession
from workflows.guards import long_date
from workflows.letters import send_penalty_notice_letter
from workflows.penalties.rules import (
    OUTSTANDING,
    RELEASES_SESSIONS,
    NoticeFacts,
    NoticeReason,
    NoticeStatus,
    PaymentWindows,
    PriorNotice,
    Threshold,
    WithdrawalGround,
    amount_due,
    amounts,
    best_window,
    money,
    payment_windows,
    place_in_limit,
    unmet_checks,
)

OFFICERS = (Role.STATUTORY_OFFICER, Role.LA_MANAGER)
# A notice is dated the day it is posted; it may be recorded a few days after posting, or
# prepared for the next post, but not further out.
POSTING_AHEAD_DAYS = 7
POSTING_BEHIND_DAYS = 14
REFERENCE_ATTEMPTS = 5
# Magistrates' Courts Act 1980 s127: an information for a summary offence within six months.
PROSECUTION_LIMIT_MONTHS = 6


def subject(notice: PenaltyNotice) -> str:
    """The clock subject of one notice (a case can hold several at once, one per parent)."""
    return f"penalty_notice:{notice.id}"


def windows_of(notice: PenaltyNotice) -> PaymentWindows | None:
    if notice.posted_on is None or notice.received_on is None or notice.pay_by is None:
        return None
    return PaymentWindows(
        notice.posted_on,
        notice.received_on,
        notice.discount_until,
        notice.pay_by,
        notice.pay_by + timedelta(days=1),
    )


# --- reading -----------------------------------------------------------------------------------


def notice_for(ctx: Context, notice_id: int, *, for_update: bool = False) -> PenaltyNotice:
    """A notice on a case the user may see, else "not found"."""
    query = (
        select(PenaltyNotice)
        .join(Case, Case.id == PenaltyNotice.case_id)
        .where(PenaltyNotice.id == notice_id, ctx.scope.cases())
    )
    if for_update:
        query = query.with_for_update(of=PenaltyNotice)
    found = ctx.session.scalars(query).first()
    if found is None:
        raise NotFound("penalty notice", notice_id)
    return found


def parents_of(ctx: Context, pupil_id: int) -> list[PupilContact]:
    """The pupil's contacts, parents with parental responsibility first."""
    return list(
        ctx.session.scalars(
            select(PupilContact)
            .where(PupilContact.pupil_id == pupil_id)
            .order_by(PupilContact.parental_responsibility.desc(), PupilContact.priority)
        )
    )


def prior_notices(ctx: Context, pupil_id: int, contact_id: int, *, besides: int | None = None):
    """Every notice to this parent for this child, here (any LA on this service) and as other
    LAs reported them, for the limit of two in three years."""
    la_names = dict(ctx.session.execute(select(LocalAuthority.id, LocalAuthority.name)).all())
    own = ctx.session.scalars(
        select(PenaltyNotice).where(
            PenaltyNotice.pupil_id == pupil_id,
            PenaltyNotice.contact_id == contact_id,
            PenaltyNotice.issued_on.is_not(None),
        )
    )
    found = [
        PriorNotice(n.reference, n.issued_on, n.status, la_names.get(n.la_id, "this LA"))
        for n in own
        if n.id != besides
    ]
    reported = ctx.session.scalars(
        select(PriorPenaltyNotice).where(
            PriorPenaltyNotice.pupil_id == pupil_id, PriorPenaltyNotice.contact_id == contact_id
        )
    )
    found += [
        PriorNotice(p.their_reference, p.issued_on, p.status, f"reported by {p.issuing_la}")
        for p in reported
    ]
    return sorted(found, key=lambda p: (p.issued_on, p.reference))


def _used_by(
    ctx: Context, pupil_id: int, contact_id: int, besides: int | None
) -> dict[tuple[date, str], str]:
    rows = ctx.session.execute(
        select(PenaltyNoticeSession.day, PenaltyNoticeSession.session, PenaltyNotice.reference)
        .join(PenaltyNotice, PenaltyNotice.id == PenaltyNoticeSession.notice_id)
        .where(
            PenaltyNoticeSession.pupil_id == pupil_id,
            PenaltyNoticeSession.contact_id == contact_id,
            PenaltyNoticeSession.released.is_(False),
            PenaltyNotice.id != (besides or 0),
        )
    )
    return {(day, sess): ref for day, sess, ref in rows}


def register_marks(
    ctx: Context, pupil_id: int, sessions: list[ListedSession]
) -> dict[tuple[date, str], str] | None:
    """The pupil's marks (any school) over the listed sessions' span; None when none are held,
    so the checks read the codes as listed."""
    if not sessions:
        return None
    days = [s.day for s in sessions]
    timeline = load_timeline(ctx.session, pupil_id, min(days), max(days))
    if not timeline.sessions:
        return None
    return {(m.day, m.session): m.code for m in timeline.sessions}


def threshold_for(ctx: Context, reason: NoticeReason) -> Threshold:
    if reason == NoticeReason.LATENESS:
        a = ctx.profile.analytics
        return Threshold(
            a.late_u_marks,
            a.late_u_school_weeks,
            ("U",),
            "late marks after the register closed (U)",
        )
    t = ctx.profile.notice_to_improve
    codes = tuple(t.counted_codes)
    return Threshold(
        t.threshold_sessions,
        t.threshold_school_weeks,
        codes,
        f"unauthorised sessions ({', '.join(codes)})",
    )


def sessions_from_registers(ctx: Context, case: Case, reason: NoticeReason) -> list[ListedSession]:
    """The threshold window with the most counted sessions in the pupil's last year of marks."""
    today = ctx.today()
    timeline = load_timeline(ctx.session, case.pupil_id, today - timedelta(days=400), today)
    listed = [ListedSession(m.day, m.session, m.code) for m in timeline.sessions]
    t = threshold_for(ctx, reason)
    return best_window(listed, ctx.calendar_for(case.school_id), t.school_weeks, t.codes)


@dataclass
class ParentCheck:
    """What issuing a notice to one parent now would mean: refused (and why) or its amounts."""

    contact: Contact
    parental_responsibility: bool
    unmet: list
    ordinal: int | None
    amount_discounted_pence: int | None
    amount_full_pence: int | None

    @property
    def allowed(self) -> bool:
        return not self.unmet


def _facts(
    ctx: Context,
    case: Case,
    link: PupilContact,
    reason: NoticeReason,
    sessions: list[ListedSession],
    rationales: dict[str, str],
    issue_on: date,
    besides: int | None = None,
    register: dict[tuple[date, str], str] | None = None,
) -> NoticeFacts:
    pupil = ctx.session.get(Pupil, case.pupil_id)
    notices = tuple(
        InterventionFact(i.id, i.kind, i.occurred_on, i.family_engaged, i.outcome, i.details)
        for i in current_interventions(ctx, case)
        if i.kind == InterventionKind.NOTICE_TO_IMPROVE
    )
    return NoticeFacts(
        reason=reason,
        issue_on=issue_on,
        date_of_birth=pupil.date_of_birth,
        sessions=tuple(sessions),
        counted_codes=tuple(ctx.profile.notice_to_improve.counted_codes),
        threshold=threshold_for(ctx, reason),
        calendar=ctx.calendar_for(case.school_id),
        rules=ctx.profile.penalty_notices,
        parent_name=_name(link.contact),
        parental_responsibility=link.parental_responsibility,
        register=register,
        used_by=_used_by(ctx, case.pupil_id, link.contact_id, besides),
        notices_to_improve=notices,
        prior=tuple(prior_notices(ctx, case.pupil_id, link.contact_id, besides=besides)),
        rationales=rationales,
        lateness_enabled=ctx.profile.penalty_notices.lateness_notices,
    )


def _name(contact: Contact) -> str:
    return " ".join(x for x in (contact.title, contact.forename, contact.surname) if x)


def check_parents(
    ctx: Context,
    case: Case,
    reason: NoticeReason,
    sessions: list[ListedSession],
    rationales: dict[str, str] | None = None,
    issue_on: date | None = None,
) -> list[ParentCheck]:
    """The checks for a notice to each of the pupil's contacts, as of ``issue_on`` (today)."""
    issue_on = issue_on or ctx.today()
    register = register_marks(ctx, case.pupil_id, sessions)
    found = []
    for link in parents_of(ctx, case.pupil_id):
        facts = _facts(
            ctx, case, link, reason, sessions, rationales or {}, issue_on, register=register
        )
        unmet = unmet_checks(facts)
        verdict = place_in_limit(list(facts.prior), issue_on, facts.rules)
        reduced, full = amounts(verdict.ordinal, facts.rules) if verdict.ordinal else (None, None)
        found.append(
            ParentCheck(
                link.contact, link.parental_responsibility, unmet, verdict.ordinal, reduced, full
            )
        )
    return found


# --- drafting and issuing ----------------------------------------------------------------------


@dataclass
class DraftNotices:
    case_id: int
    reason: str
    # None: the request's sessions, else the best threshold window in the pupil's registers.
    sessions: list[ListedSession] | None = None
    # None: each parent with parental responsibility.
    contact_ids: list[int] | None = None
    request_id: int | None = None
    rationales: dict[str, str] = field(default_factory=dict)
    note: str = ""  # the LA's note accepting the request, if drafted from one


def _reason(value: str) -> NoticeReason:
    try:
        return NoticeReason(value)
    except ValueError:
        raise InvalidInput.one(
            "reason", value, "one of: " + ", ".join(r.value for r in NoticeReason)
        ) from None


def _validate_sessions(ctx: Context, case: Case, sessions: list[ListedSession]) -> None:
    """Each session relied on is a morning or afternoon session the school was open for, on a
    day that has passed, listed once."""
    calendar = ctx.calendar_for(case.school_id)
    today = ctx.today()
    problems = []
    seen: set[tuple[date, str]] = set()
    for n, s in enumerate(sessions):
        where = f"sessions[{n}]"
        if s.session not in {x.value for x in Session}:
            problems.append(FieldProblem(f"{where}.session", s.session, "AM or PM"))
        elif s.day > today:
            problems.append(
                FieldProblem(
                    f"{where}.date", s.day.isoformat(), "a session cannot be in the future"
                )
            )
        elif not _open_for(calendar, s):
            problems.append(
                FieldProblem(
                    f"{where}.date",
                    s.day.isoformat(),
                    f"the school was not open for the {s.session} session that day",
                )
            )
        if (s.day, s.session) in seen:
            problems.append(FieldProblem(where, f"{s.day} {s.session}", "listed twice"))
        seen.add((s.day, s.session))
    if problems:
        raise InvalidInput(problems)


def _open_for(calendar, listed: ListedSession) -> bool:
    try:
        return listed.session.lower() in {x.value for x in sessions_on(calendar, listed.day)}
    except OutsideCalendar:
        return False


def _validate_rationales(rationales: dict[str, str]) -> dict[str, str]:
    from workflows.penalties.rules import CHECK_NAMES, OVERRIDABLE

    problems = []
    for name, text in rationales.items():
        if name not in CHECK_NAMES:
            problems.append(FieldProblem(f"rationales.{name}", text, "no check of that name"))
        elif name not in OVERRIDABLE:
            problems.append(
                FieldProblem(
                    f"rationales.{name}", text, "this check cannot be set aside by a rationale"
                )
            )
    if problems:
        raise InvalidInput(problems)
    return {k: v.strip() for k, v in rationales.items() if v and v.strip()}


def draft_notices(ctx: Context, command: DraftNotices) -> list[PenaltyNotice]:
    """Draft one notice per chosen parent, or refuse every one with each parent's reasons."""
    ctx.require_role(*OFFICERS, doing="draft penalty notices")
    case = ctx.case(command.case_id, for_update=True)
    reason = _reason(command.reason)
    rationales = _validate_rationales(command.rationales)
    if case.stage == Stage.CLOSED:
        raise InvalidInput.one("case_id", case.reference, "the case is closed: reopen it first")
    request = None
    if command.request_id is not None:
        request = ctx.session.get(PenaltyNoticeRequest, command.request_id)
        if request is None or request.case_id != case.id:
            raise NotFound("penalty notice request", command.request_id)
        if request.status == "declined":
            raise InvalidInput.one(
                "request_id", request.id, "the LA declined this request: no notice follows it"
            )
    sessions = command.sessions
    if sessions is None:
        sessions = (
            [
                ListedSession(date.fromisoformat(s["date"]), s["session"], s["code"])
                for s in request.sessions
            ]
            if request is not None
            else sessions_from_registers(ctx, case, reason)
        )
    _validate_sessions(ctx, case, sessions)
    links = {link.contact_id: link for link in parents_of(ctx, case.pupil_id)}
    chosen = command.contact_ids
    if chosen is None:
        chosen = [cid for cid, link in links.items() if link.parental_responsibility]
        if not chosen:
            raise InvalidInput.one(
                "contact_ids", None, "no parent with parental responsibility is recorded"
            )
    unknown = [cid for cid in chosen if cid not in links]
    if unknown or len(set(chosen)) != len(chosen):
        raise InvalidInput.one(
            "contact_ids", chosen, "each must be a different contact recorded for this pupil"
        )
    today = ctx.today()
    register = register_marks(ctx, case.pupil_id, sessions)
    refusals = {}
    placed = {}
    for cid in chosen:
        facts = _facts(
            ctx, case, links[cid], reason, sessions, rationales, today, register=register
        )
        unmet = unmet_checks(facts)
        if unmet:
            refusals[_name(links[cid].contact)] = unmet
        placed[cid] = place_in_limit(list(facts.prior), today, facts.rules).ordinal
    if refusals:
        raise NoticeRefused(refusals)
    drafted = []
    for cid in chosen:
        drafted.append(
            _insert_draft(ctx, case, links[cid], reason, sessions, rationales, placed[cid], request)
        )
    if request is not None and request.status == "pending":
        _accept(ctx, request, command.note or f"Accepted: {len(drafted)} notice(s) drafted")
    return drafted


def _accept(ctx: Context, request: PenaltyNoticeRequest, note: str) -> None:
    """The LA accepts a school's request by drafting notices from it."""
    request.status = "accepted"
    request.decided_by_id = ctx.actor.id
    request.decided_at = ctx.now()
    request.decision_reason = note
    ctx.record(
        request.case,
        EventKind.PENALTY_NOTICE_REQUEST_DECIDED,
        reason=note,
        data={"request_id": request.id, "decision": "accepted"},
    )


def _insert_draft(ctx, case, link, reason, sessions, rationales, ordinal, request):
    reduced, full = amounts(ordinal, ctx.profile.penalty_notices)
    contact = link.contact
    notice = PenaltyNotice(
        la_id=case.la_id,
        school_id=case.school_id,
        pupil_id=case.pupil_id,
        contact_id=contact.id,
        case_id=case.id,
        request_id=request.id if request is not None else None,
        reason=reason.value,
        offence_from=min(s.day for s in sessions),
        offence_to=max(s.day for s in sessions),
        ordinal=ordinal,
        amount_discounted_pence=reduced,
        amount_full_pence=full,
        status=NoticeStatus.DRAFTED.value,
        drafted_at=ctx.now(),
        drafted_by_id=ctx.actor.id,
        rationales=rationales,
        recipient={
            "name": _name(contact),
            "address": [
                x
                for x in (
                    contact.address_line1,
                    contact.address_line2,
                    contact.town,
                    contact.postcode,
                )
                if x
            ],
        },
    )
    for attempt in range(REFERENCE_ATTEMPTS):
        try:
            with ctx.session.begin_nested():
                notice.reference = _next_reference(ctx, case)
                ctx.session.add(notice)
                ctx.session.flush()
                ctx.session.add_all(
                    PenaltyNoticeSession(
                        notice_id=notice.id,
                        pupil_id=case.pupil_id,
                        contact_id=contact.id,
                        day=s.day,
                        session=s.session,
                        code=s.code,
                        released=False,
                    )
                    for s in sorted(sessions, key=lambda s: (s.day, s.session))
                )
                ctx.session.flush()
            break
        except IntegrityError:
            if _clash(ctx, case.pupil_id, contact.id, sessions):
                raise Conflict(
                    "another officer has just used these sessions for a notice to this parent: "
                    "reload and check"
                ) from None
            if attempt == REFERENCE_ATTEMPTS - 1:
                raise Conflict("notices are being drafted very quickly: try again") from None
    ctx.record(
        case,
        EventKind.PENALTY_NOTICE_DRAFTED,
        reason=f"Penalty notice {notice.reference} drafted for {notice.recipient['name']}",
        data={
            "notice": notice.reference,
            "notice_id": notice.id,
            "contact_id": contact.id,
            "reason": reason.value,
            "sessions": len(sessions),
            "offence_from": notice.offence_from.isoformat(),
            "offence_to": notice.offence_to.isoformat(),
            "ordinal": ordinal,
            **({"rationales": rationales} if rationales else {}),
            **({"request_id": request.id} if request is not None else {}),
        },
    )
    return notice


def _clash(ctx, pupil_id, contact_id, sessions) -> bool:
    return bool(
        set(_used_by(ctx, pupil_id, contact_id, None)) & {(s.day, s.session) for s in sessions}
    )


def _next_reference(ctx: Context, case: Case) -> str:
    la = ctx.session.get(LocalAuthority, case.la_id)
    prefix = f"PN-{la.la_number}-{ctx.now():%y}-"
    latest = ctx.session.scalar(
        select(func.max(PenaltyNotice.reference)).where(PenaltyNotice.reference.startswith(prefix))
    )
    number = int(latest.removeprefix(prefix)) + 1 if latest else 1
    return f"{prefix}{number:05d}"


def _expect(notice: PenaltyNotice, version: int | None) -> None:
    if version is not None and notice.version != version:
        raise Conflict(
            f"the notice has changed since it was read (version {version}, now "
            f"{notice.version}): reload it and try again"
        )


def _status_is(notice: PenaltyNotice, *allowed: NoticeStatus, doing: str) -> None:
    if notice.status not in allowed:
        raise InvalidInput.one(
            "status",
            notice.status,
            f"cannot {doing} a notice that is {notice.status}; only one that is "
            + " or ".join(a.value for a in allowed),
        )


def _notice_sessions(ctx: Context, notice: PenaltyNotice) -> list[ListedSession]:
    return [
        ListedSession(r.day, r.session, r.code)
        for r in ctx.session.scalars(
            select(PenaltyNoticeSession)
            .where(PenaltyNoticeSession.notice_id == notice.id)
            .order_by(PenaltyNoticeSession.day, PenaltyNoticeSession.session)
        )
    ]


def issue_notice(
    ctx: Context, notice_id: int, posted_on: date, expected_version: int | None = None
) -> PenaltyNotice:
    """Issue a drafted notice, dated the day it is posted; every check runs again as of that
    day, and the amounts follow its place among the parent's notices then."""
    ctx.require_role(*OFFICERS, doing="issue penalty notices")
    notice = notice_for(ctx, notice_id, for_update=True)
    _expect(notice, expected_version)
    _status_is(notice, NoticeStatus.DRAFTED, doing="issue")
    today = ctx.today()
    if posted_on > today + timedelta(days=POSTING_AHEAD_DAYS):
        raise InvalidInput.one(
            "posted_on",
            posted_on.isoformat(),
            f"at most {POSTING_AHEAD_DAYS} days ahead: a notice is dated the day it is posted",
        )
    if posted_on < today - timedelta(days=POSTING_BEHIND_DAYS):
        raise InvalidInput.one(
            "posted_on",
            posted_on.isoformat(),
            f"more than {POSTING_BEHIND_DAYS} days ago: a notice is recorded when it is posted; "
            "check the date of posting",
        )
    later = [
        p
        for p in prior_notices(ctx, notice.pupil_id, notice.contact_id, besides=notice.id)
        if p.counts and p.issued_on > posted_on
    ]
    if later:
        raise InvalidInput.one(
            "posted_on",
            posted_on.isoformat(),
            f"notice {later[0].reference} to this parent for this child was issued on "
            f"{long_date(later[0].issued_on)}: a notice cannot be dated before one already "
            "issued, or its place among them (and its amount) would be wrong",
        )
    case = notice.case
    link = ctx.session.get(PupilContact, (notice.pupil_id, notice.contact_id))
    sessions = _notice_sessions(ctx, notice)
    facts = _facts(
        ctx,
        case,
        link,
        NoticeReason(notice.reason),
        sessions,
        notice.rationales,
        posted_on,
        besides=notice.id,
        register=register_marks(ctx, notice.pupil_id, sessions),
    )
    unmet = unmet_checks(facts)
    if unmet:
        raise NoticeRefused({notice.recipient["name"]: unmet})
    rules = ctx.profile.penalty_notices
    ordinal = place_in_limit(list(facts.prior), posted_on, rules).ordinal
    windows = payment_windows(posted_on, ordinal, rules)
    notice.ordinal = ordinal
    notice.amount_discounted_pence, notice.amount_full_pence = amounts(ordinal, rules)
    notice.status = NoticeStatus.ISSUED.value
    notice.issued_on = notice.posted_on = posted_on
    notice.received_on = windows.received_on
    notice.discount_until = windows.discount_until
    notice.pay_by = windows.pay_by
    notice.issued_by_id = ctx.actor.id
    notice.issued_by_name = ctx.actor.full_name
    notice.issued_by_position = ctx.actor.position
    clocks = on_happenings(
        ctx,
        case,
        ["penalty_notice:issued"],
        posted_on,
        due=windows.decision_from,
        subject=subject(notice),
    )
    reduced = notice.amount_discounted_pence
    amount_text = (
        f"{money(reduced)} by {long_date(windows.discount_until)}, "
        f"{money(notice.amount_full_pence)} by {long_date(windows.pay_by)}"
        if reduced is not None
        else f"{money(notice.amount_full_pence)} by {long_date(windows.pay_by)} (a second "
        "notice within three years: no reduced amount)"
    )
    ctx.record(
        case,
        EventKind.PENALTY_NOTICE_ISSUED,
        reason=f"Penalty notice {notice.reference} issued to {notice.recipient['name']}: "
        + amount_text,
        data=with_clocks(
            {
                "notice": notice.reference,
                "notice_id": notice.id,
                "contact_id": notice.contact_id,
                "ordinal": ordinal,
                "posted_on": posted_on.isoformat(),
                "received_on": windows.received_on.isoformat(),
                "discount_until": windows.discount_until.isoformat()
                if windows.discount_until
                else None,
                "pay_by": windows.pay_by.isoformat(),
                "amount_discounted_pence": reduced,
                "amount_full_pence": notice.amount_full_pence,
            },
            clocks,
        ),
    )
    ctx.session.flush()
    # The notice itself, served by post: stored as a case exhibit and queued for the school's
    # print batch in this transaction, so an issued notice always has its letter.
    send_penalty_notice_letter(ctx, notice.id)
    return notice


def cancel_draft(
    ctx: Context, notice_id: int, reason: str, expected_version: int | None = None
) -> PenaltyNotice:
    """Discard a draft never issued; its sessions are free again."""
    ctx.require_role(*OFFICERS, doing="cancel penalty notices")
    notice = notice_for(ctx, notice_id, for_update=True)
    _expect(notice, expected_version)
    _status_is(notice, NoticeStatus.DRAFTED, doing="cancel")
    if not reason.strip():
        raise InvalidInput.one("reason", reason, "say why the draft is cancelled")
    notice.status = NoticeStatus.CANCELLED.value
    notice.closing_note = reason.strip()
    _release_sessions(ctx, notice)
    ctx.record(
        notice.case,
        EventKind.PENALTY_NOTICE_CANCELLED,
        reason=reason.strip(),
        data={"notice": notice.reference, "notice_id": notice.id},
    )
    ctx.session.flush()
    return notice


def _release_sessions(ctx: Context, notice: PenaltyNotice) -> None:
    for row in ctx.session.scalars(
        select(PenaltyNoticeSession).where(PenaltyNoticeSession.notice_id == notice.id)
    ):
        row.released = True


# --- after issue -------------------------------------------------------------------------------


@dataclass
class RecordPayment:
    paid_on: date
    amount_pence: int
    method: str
    finance_reference: str
    expected_version: int | None = None


PAYMENT_METHODS = ("online", "telephone", "post", "in_person", "bank_transfer")


def record_payment(ctx: Context, notice_id: int, command: RecordPayment) -> PenaltyNotice:
    """Record the LA's receipt of payment. It must be the amount due on the day it was paid
    (the reduced amount within the discount period) and inside the payment period: a late
    payment cannot discharge the notice (the LA prosecutes or withdraws)."""
    ctx.require_role(*OFFICERS, doing="record penalty-notice payments")
    notice = notice_for(ctx, notice_id, for_update=True)
    _expect(notice, command.expected_version)
    _status_is(notice, NoticeStatus.ISSUED, doing="record a payment on")
    windows = windows_of(notice)
    problems = []
    if command.method not in PAYMENT_METHODS:
        problems.append(
            FieldProblem("method", command.method, "one of: " + ", ".join(PAYMENT_METHODS))
        )
    if not command.finance_reference.strip():
        problems.append(
            FieldProblem(
                "finance_reference",
                command.finance_reference,
                "the finance system's receipt reference, for reconciliation",
            )
        )
    if command.paid_on > ctx.today():
        problems.append(
            FieldProblem("paid_on", command.paid_on.isoformat(), "cannot be in the future")
        )
    elif command.paid_on < notice.issued_on:
        problems.append(
            FieldProblem(
                "paid_on",
                command.paid_on.isoformat(),
                f"before the notice was issued ({long_date(notice.issued_on)})",
            )
        )
    due = amount_due(windows, notice.ordinal, ctx.profile.penalty_notices, command.paid_on)
    if due is None:
        problems.append(
            FieldProblem(
                "paid_on",
                command.paid_on.isoformat(),
                f"the payment period ended on {long_date(windows.pay_by)}: a late payment "
                "cannot discharge the notice; the LA must prosecute or withdraw it",
            )
        )
    elif command.amount_pence != due[0]:
        window = (
            f"within the discount period ending {long_date(windows.discount_until)}"
            if due[1]
            else f"within the payment period ending {long_date(windows.pay_by)}"
        )
        problems.append(
            FieldProblem(
                "amount_pence",
                command.amount_pence,
                f"{money(due[0])} is due for a payment on {long_date(command.paid_on)} "
                f"({window}); {money(max(command.amount_pence, 0))} was recorded",
            )
        )
    if problems:
        raise InvalidInput(problems)
    amount, within = due
    ctx.session.add(
        PenaltyPayment(
            notice_id=notice.id,
            paid_on=command.paid_on,
            amount_pence=amount,
            within_discount=within,
            method=command.method,
            finance_reference=command.finance_reference.strip(),
            recorded_by_id=ctx.actor.id,
            recorded_at=ctx.now(),
        )
    )
    notice.status = NoticeStatus.PAID.value
    notice.paid_on = command.paid_on
    notice.amount_paid_pence = amount
    notice.paid_within_discount = within
    clocks = on_happenings(
        ctx, notice.case, ["penalty_notice:paid"], command.paid_on, subject=subject(notice)
    )
    day = (command.paid_on - notice.received_on).days + 1
    ctx.record(
        notice.case,
        EventKind.PENALTY_NOTICE_PAID,
        reason=f"Penalty notice {notice.reference}: {money(amount)} paid on "
        f"{long_date(command.paid_on)}" + (" within the discount period" if within else ""),
        data=with_clocks(
            {
                "notice": notice.reference,
                "notice_id": notice.id,
                "paid_on": command.paid_on.isoformat(),
                "amount_pence": amount,
                "within_discount": within,
                "day_of_period": day,
                "method": command.method,
            },
            clocks,
        ),
    )
    ctx.session.flush()
    return notice


def withdraw_notice(
    ctx: Context, notice_id: int, ground: str, note: str, expected_version: int | None = None
) -> PenaltyNotice:
    """Withdraw an issued notice on one of the recorded grounds only. A misaddressed or
    materially wrong notice frees its sessions for a corrected one; a withdrawn notice never
    counts toward the limit."""
    ctx.require_role(*OFFICERS, doing="withdraw penalty notices")
    notice = notice_for(ctx, notice_id, for_update=True)
    _expect(notice, expected_version)
    _status_is(notice, NoticeStatus.ISSUED, NoticeStatus.PROSECUTION, doing="withdraw")
    try:
        why = WithdrawalGround(ground)
    except ValueError:
        raise InvalidInput.one(
            "ground",
            ground,
            "a notice is withdrawn only on a recorded ground: "
            + ", ".join(g.value for g in WithdrawalGround),
        ) from None
    problems = []
    if not note.strip():
        problems.append(FieldProblem("note", note, "say what the ground rests on"))
    if why == WithdrawalGround.NOT_PROSECUTING and ctx.today() <= notice.pay_by:
        problems.append(
            FieldProblem(
                "ground",
                ground,
                f"the payment period runs until {long_date(notice.pay_by)}: the decision not "
                "to prosecute comes after it",
            )
        )
    if problems:
        raise InvalidInput(problems)
    notice.status = NoticeStatus.WITHDRAWN.value
    notice.withdrawn_on = ctx.today()
    notice.withdrawal_ground = why.value
    notice.closing_note = note.strip()
    if why in RELEASES_SESSIONS:
        _release_sessions(ctx, notice)
    clocks = on_happenings(
        ctx, notice.case, ["penalty_notice:withdrawn"], ctx.today(), subject=subject(notice)
    )
    ctx.record(
        notice.case,
        EventKind.PENALTY_NOTICE_WITHDRAWN,
        reason=f"Penalty notice {notice.reference} withdrawn: {why.label}. {note.strip()}",
        data=with_clocks(
            {
                "notice": notice.reference,
                "notice_id": notice.id,
                "ground": why.value,
                "sessions_released": why in RELEASES_SESSIONS,
            },
            clocks,
        ),
    )
    ctx.session.flush()
    return notice


def decide_prosecution(
    ctx: Context, notice_id: int, note: str, expected_version: int | None = None
) -> PenaltyNotice:
    """Unpaid at the end of the payment period: prosecute for the original s444 offence (not for
    non-payment). The notice still counts toward the limit."""
    ctx.require_role(*OFFICERS, doing="decide to prosecute")
    notice = notice_for(ctx, notice_id, for_update=True)
    _expect(notice, expected_version)
    _status_is(notice, NoticeStatus.ISSUED, doing="decide to prosecute on")
    if ctx.today() <= notice.pay_by:
        raise InvalidInput.one(
            "notice_id",
            notice.reference,
            f"the payment period runs until {long_date(notice.pay_by)}: no prosecution for this "
            "absence may begin before it has ended unpaid",
        )
    if not note.strip():
        raise InvalidInput.one("note", note, "record the reasons for the decision")
    notice.status = NoticeStatus.PROSECUTION.value
    notice.prosecution_decided_on = ctx.today()
    notice.closing_note = note.strip()
    clocks = on_happenings(
        ctx,
        notice.case,
        ["penalty_notice:prosecution_decided"],
        ctx.today(),
        due=prosecution_limit(ctx, notice),
        subject=subject(notice),
    )
    ctx.record(
        notice.case,
        EventKind.PENALTY_NOTICE_PROSECUTION,
        reason=f"Penalty notice {notice.reference} unpaid: prosecution for the original offence "
        f"(s444 Education Act 1996). {note.strip()}",
        data=with_clocks(
            {
                "notice": notice.reference,
                "notice_id": notice.id,
                "unpaid_since": (notice.pay_by + timedelta(days=1)).isoformat(),
            },
            clocks,
        ),
    )
    ctx.session.flush()
    return notice


def prosecution_limit(ctx: Context, notice: PenaltyNotice) -> date:
    """The last day to lay an information for the absence a notice relied on: six calendar
    months from its last session (RULES.md §4.4, the start [UNCONFIRMED])."""
    last = max(s.day for s in _notice_sessions(ctx, notice))
    return add_months(last, PROSECUTION_LIMIT_MONTHS)


def outstanding_on_case(ctx: Context, case_id: int) -> list[str]:
    """References of the case's notices still drafted or awaiting payment or a decision."""
    return list(
        ctx.session.scalars(
            select(PenaltyNotice.reference).where(
                PenaltyNotice.case_id == case_id,
                PenaltyNotice.status.in_([s.value for s in OUTSTANDING]),
            )
        )
    )


def display_status(notice: PenaltyNotice, today: date) -> str:
    """The status as officers read it: an issued notice past its payment period is unpaid and
    awaits the prosecute-or-withdraw decision."""
    if notice.status == NoticeStatus.ISSUED and notice.pay_by and today > notice.pay_by:
        return "unpaid_decision_due"
    if notice.status == NoticeStatus.ISSUED:
        return "awaiting_payment"
    return notice.status
