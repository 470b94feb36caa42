"""Penalty notices under the National Framework: schools' requests, notices drafted, issued,
paid, withdrawn or taken to prosecution, enquiries to other LAs, and the LA's central register
(with its CSV for finance), report, queues, threshold list and history.

Thin handlers over ``workflows.penalties``: the services check roles and scope (a record
outside the user's scope is "not found") and every rule. Query parameters are read here rather
than by the framework, so a bad one is the usual 422 problem naming the field, the value given
and the rule. Money is in pence; dates are ISO 8601.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy import select

from api import schemas as s
from api.controllers.leave import contact_name
from api.controllers.registers import read_choice, read_id, read_whole
from api.deps import unit_of_work
from casework.errors import Conflict, InvalidInput
from casework.models import (
    PenaltyNotice,
    PenaltyNoticeRequest,
    PenaltyNoticeSession,
    PenaltyPayment,
    School,
)
from casework.vocabulary import Role
from workflows.context import Context
from workflows.facts import ListedSession
from workflows.penalties import letter, register
from workflows.penalties.enquiries import RecordEnquiry, ReportedNotice, record_enquiry
from workflows.penalties.notices import (
    OFFICERS,
    DraftNotices,
    RecordPayment,
    cancel_draft,
    check_parents,
    decide_prosecution,
    display_status,
    draft_notices,
    issue_notice,
    notice_for,
    record_payment,
    windows_of,
    withdraw_notice,
)
from workflows.penalties.requests import (
    ACCEPTED,
    DECLINED,
    PENDING,
    IssueFromRequest,
    MakeRequest,
    decline_request,
    issue_from_request,
    make_request,
    request_for,
)
from workflows.penalties.rules import (
    REASON_LABELS,
    WITHDRAWAL_LABELS,
    NoticeReason,
    NoticeStatus,
    WithdrawalGround,
)

LARGEST_PAGE = 200
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
REQUEST_STATUSES = (PENDING, ACCEPTED, DECLINED, "all")

Note = Annotated[str, msgspec.Meta(max_length=10_000)]
Word = Annotated[str, msgspec.Meta(max_length=60)]
Version = s.Id | None
Sessions = Annotated[list[s.ListedSessionIn], msgspec.Meta(max_length=400)]
Rationales = dict[Word, s.Text]

TextParam = Annotated[str | None, QueryParameter(max_length=40)]
IdParam = Annotated[str | None, QueryParameter(max_length=40, description="A record number")]
WholeParam = Annotated[str | None, QueryParameter(max_length=40, description="A whole number")]
StatusParam = Annotated[
    str | None,
    QueryParameter(max_length=40, description="One of: " + ", ".join(register.STATUS_LABELS)),
]
ReasonParam = Annotated[
    str | None,
    QueryParameter(
        max_length=40, description="One of: " + ", ".join(r.value for r in NoticeReason)
    ),
]
MonthParam = Annotated[
    str | None, QueryParameter(max_length=40, description="The month of issue, YYYY-MM")
]


# --- request shapes ---------------------------------------------------------------------------


class MakeRequestIn(msgspec.Struct, forbid_unknown_fields=True):
    case_id: s.Id
    reason: Word  # holiday, irregular_attendance, lateness
    summary: s.Text  # what the school has done and why
    # Omitted: the best threshold window in the pupil's registers (for a holiday with a leave
    # request, the G marks over the leave).
    sessions: Sessions | None = None
    leave_request_id: s.Id | None = None


class IssueFromRequestIn(msgspec.Struct, forbid_unknown_fields=True):
    posted_on: date
    contact_ids: list[s.Id] | None = None  # omitted: each parent with parental responsibility
    rationales: Rationales | None = None
    note: s.Text = ""
    expected_version: Version = None


class DeclineIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: s.Text
    expected_version: Version = None


class DraftIn(msgspec.Struct, forbid_unknown_fields=True):
    case_id: s.Id
    reason: Word
    # Omitted: the request's sessions, else the best threshold window in the registers.
    sessions: Sessions | None = None
    contact_ids: list[s.Id] | None = None  # omitted: each parent with parental responsibility
    request_id: s.Id | None = None
    rationales: Rationales = {}


class IssueIn(msgspec.Struct, forbid_unknown_fields=True):
    posted_on: date  # the notice is dated the day it is posted
    expected_version: Version = None


class PaymentIn(msgspec.Struct, forbid_unknown_fields=True):
    paid_on: date
    amount_pence: Annotated[int, msgspec.Meta(ge=0, le=10_000_000)]
    method: Word
    finance_reference: Annotated[str, msgspec.Meta(max_length=60)]
    expected_version: Version = None


class WithdrawalIn(msgspec.Struct, forbid_unknown_fields=True):
    ground: Word
    note: s.Text
    expected_version: Version = None


class ProsecutionIn(msgspec.Struct, forbid_unknown_fields=True):
    note: s.Text
    expected_version: Version = None


class CancellationIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: s.Text
    expected_version: Version = None


class ReportedNoticeIn(msgspec.Struct, forbid_unknown_fields=True):
    their_reference: Annotated[str, msgspec.Meta(max_length=60)]
    issued_on: date
    status: Word  # issued, paid, prosecution or withdrawn


class EnquiryIn(msgspec.Struct, forbid_unknown_fields=True):
    pupil_id: s.Id
    contact_id: s.Id
    other_la: Annotated[str, msgspec.Meta(max_length=200)]
    asked_on: date
    answered_on: date
    answer: s.Text
    notices: Annotated[list[ReportedNoticeIn], msgspec.Meta(max_length=50)] = []


# --- response shapes --------------------------------------------------------------------------


class RegisterOut(msgspec.Struct):
    rows: list[register.NoticeRow]
    total: int
    page: int
    page_size: int


class ReportOut(msgspec.Struct):
    by: str
    lines: list[register.ReportLine]


class SessionOut(msgspec.Struct):
    date: date
    session: str
    code: str


class NoticeSessionOut(msgspec.Struct):
    date: date
    session: str
    code: str
    released: bool  # freed for a corrected notice (withdrawn: wrong address or material error)


class PaymentOut(msgspec.Struct):
    paid_on: date
    amount_pence: int
    within_discount: bool
    method: str
    finance_reference: str
    recorded_at: datetime


class WindowsOut(msgspec.Struct):
    posted_on: date
    received_on: date  # deemed receipt
    discount_until: date | None  # last day for the reduced amount (first notices only)
    pay_by: date  # last day of the payment period
    decision_from: date  # unpaid from this day: prosecute or withdraw


class RecipientOut(msgspec.Struct):
    name: str
    address: list[str]


class NoticeOut(msgspec.Struct):
    """One notice with its sessions, payments, windows and days left to pay."""

    id: int
    reference: str
    version: int
    case_id: int
    case_reference: str
    request_id: int | None
    school_id: int
    school: str
    pupil_id: int
    pupil: str
    contact_id: int
    recipient: RecipientOut
    reason: str
    reason_label: str
    ordinal: int
    status: str  # as recorded: drafted, issued, paid, withdrawn, prosecution, cancelled
    display_status: str  # as officers read it (awaiting_payment, unpaid_decision_due, ...)
    status_label: str
    offence_from: date
    offence_to: date
    amount_discounted_pence: int | None
    amount_full_pence: int
    rationales: dict[str, str]
    drafted_at: datetime
    issued_on: date | None
    issued_by_name: str | None
    issued_by_position: str | None
    windows: WindowsOut | None
    days_left: int | None  # days left to pay counting today, while issued (0 once ended)
    paid_on: date | None
    amount_paid_pence: int | None
    paid_within_discount: bool | None
    withdrawn_on: date | None
    withdrawal_ground: str | None
    withdrawal_label: str | None
    prosecution_decided_on: date | None
    closing_note: str | None
    sessions: list[NoticeSessionOut]
    payments: list[PaymentOut]


class UnmetCheckOut(msgspec.Struct):
    check: str
    reason: str
    overridable: bool  # a recorded rationale (the LA's discretion) meets it


class ParentCheckOut(msgspec.Struct):
    """What issuing a notice to this parent today would mean: refused and why, or its place
    among the parent's notices (1 or 2) and amounts."""

    contact_id: int
    parent: str
    parental_responsibility: bool
    allowed: bool
    ordinal: int | None
    amount_discounted_pence: int | None
    amount_full_pence: int | None
    unmet: list[UnmetCheckOut]


class RequestOut(msgspec.Struct):
    id: int
    version: int
    case_id: int
    case_reference: str
    school_id: int
    school: str
    pupil_id: int
    pupil: str
    reason: str
    reason_label: str
    leave_request_id: int | None
    summary: str
    sessions: list[SessionOut]
    # The pupil's marks over the period as they stood when the request was made
    # ({"from", "to", "marks": [{"date", "session", "code", "school"}], "leave"?}).
    register_extract: dict[str, Any]
    requested_by_name: str
    requested_by_position: str
    requested_at: datetime
    status: str
    decided_at: datetime | None
    decision_reason: str | None
    # Per parent, for the LA's officers while the request is pending; null otherwise.
    checks: list[ParentCheckOut] | None


class IssuedOut(msgspec.Struct):
    request: RequestOut
    notices: list[NoticeOut]


class ReportedNoticeOut(msgspec.Struct):
    their_reference: str
    issued_on: date
    status: str


class EnquiryOut(msgspec.Struct):
    id: int
    pupil_id: int
    contact_id: int
    other_la: str
    asked_on: date
    answered_on: date
    answer: str
    notices_reported: int
    notices: list[ReportedNoticeOut]
    recorded_at: datetime


# --- presenting -------------------------------------------------------------------------------


def listed(sessions: list[s.ListedSessionIn] | None) -> list[ListedSession] | None:
    if sessions is None:
        return None
    return [ListedSession(x.date, x.session, x.code.upper()) for x in sessions]


def notice_out(ctx: Context, n: PenaltyNotice) -> NoticeOut:
    today = ctx.today()
    status = display_status(n, today)
    windows = windows_of(n)
    sessions = ctx.session.scalars(
        select(PenaltyNoticeSession)
        .where(PenaltyNoticeSession.notice_id == n.id)
        .order_by(PenaltyNoticeSession.day, PenaltyNoticeSession.session)
    )
    payments = ctx.session.scalars(
        select(PenaltyPayment)
        .where(PenaltyPayment.notice_id == n.id)
        .order_by(PenaltyPayment.paid_on, PenaltyPayment.id)
    )
    ground = n.withdrawal_ground
    return NoticeOut(
        id=n.id,
        reference=n.reference,
        version=n.version,
        case_id=n.case_id,
        case_reference=n.case.reference,
        request_id=n.request_id,
        school_id=n.school_id,
        school=ctx.session.get(School, n.school_id).name,
        pupil_id=n.pupil_id,
        pupil=n.pupil.display_name,
        contact_id=n.contact_id,
        recipient=RecipientOut(n.recipient["name"], list(n.recipient.get("address", []))),
        reason=n.reason,
        reason_label=REASON_LABELS[NoticeReason(n.reason)],
        ordinal=n.ordinal,
        status=n.status,
        display_status=status,
        status_label=register.STATUS_LABELS[status],
        offence_from=n.offence_from,
        offence_to=n.offence_to,
        amount_discounted_pence=n.amount_discounted_pence,
        amount_full_pence=n.amount_full_pence,
        rationales=dict(n.rationales or {}),
        drafted_at=n.drafted_at,
        issued_on=n.issued_on,
        issued_by_name=n.issued_by_name,
        issued_by_position=n.issued_by_position,
        windows=WindowsOut(
            windows.posted_on,
            windows.received_on,
            windows.discount_until,
            windows.pay_by,
            windows.decision_from,
        )
        if windows
        else None,
        days_left=windows.days_left(today) if windows and n.status == NoticeStatus.ISSUED else None,
        paid_on=n.paid_on,
        amount_paid_pence=n.amount_paid_pence,
        paid_within_discount=n.paid_within_discount,
        withdrawn_on=n.withdrawn_on,
        withdrawal_ground=ground,
        withdrawal_label=WITHDRAWAL_LABELS[WithdrawalGround(ground)] if ground else None,
        prosecution_decided_on=n.prosecution_decided_on,
        closing_note=n.closing_note,
        sessions=[NoticeSessionOut(x.day, x.session, x.code, x.released) for x in sessions],
        payments=[
            PaymentOut(
                p.paid_on,
                p.amount_pence,
                p.within_discount,
                p.method,
                p.finance_reference,
                p.recorded_at,
            )
            for p in payments
        ],
    )


def _request_sessions(r: PenaltyNoticeRequest) -> list[ListedSession]:
    return [
        ListedSession(date.fromisoformat(x["date"]), x["session"], x["code"]) for x in r.sessions
    ]


def _checks(ctx: Context, r: PenaltyNoticeRequest) -> list[ParentCheckOut] | None:
    # The checks read the parent's notices across every school and LA: the LA's business, not
    # the requesting school's (whose register shows its own schools' notices only).
    if r.status != PENDING or Role(ctx.actor.role) not in OFFICERS:
        return None
    found = check_parents(ctx, r.case, NoticeReason(r.reason), _request_sessions(r))
    return [
        ParentCheckOut(
            contact_id=c.contact.id,
            parent=contact_name(c.contact),
            parental_responsibility=c.parental_responsibility,
            allowed=c.allowed,
            ordinal=c.ordinal,
            amount_discounted_pence=c.amount_discounted_pence,
            amount_full_pence=c.amount_full_pence,
            unmet=[UnmetCheckOut(u.guard, u.reason, u.overridable) for u in c.unmet],
        )
        for c in found
    ]


def request_out(ctx: Context, r: PenaltyNoticeRequest) -> RequestOut:
    return RequestOut(
        id=r.id,
        version=r.version,
        case_id=r.case_id,
        case_reference=r.case.reference,
        school_id=r.school_id,
        school=ctx.session.get(School, r.school_id).name,
        pupil_id=r.pupil_id,
        pupil=r.pupil.display_name,
        reason=r.reason,
        reason_label=REASON_LABELS[NoticeReason(r.reason)],
        leave_request_id=r.leave_request_id,
        summary=r.summary,
        sessions=[
            SessionOut(date.fromisoformat(x["date"]), x["session"], x["code"]) for x in r.sessions
        ],
        register_extract=dict(r.register_extract),
        requested_by_name=r.requested_by_name,
        requested_by_position=r.requested_by_position,
        requested_at=r.requested_at,
        status=r.status,
        decided_at=r.decided_at,
        decision_reason=r.decision_reason,
        checks=_checks(ctx, r),
    )


# --- reading query parameters -----------------------------------------------------------------


def read_month(field: str, value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if not _MONTH.match(value.strip()):
        raise InvalidInput.one(field, value, "a month written YYYY-MM (01 to 12)")
    return value.strip()


def read_page_size(value: str | None) -> int:
    size = read_whole("page_size", value, 50, least=1)
    if size > LARGEST_PAGE:
        raise InvalidInput.one("page_size", value, f"a whole number from 1 to {LARGEST_PAGE}")
    return size


def read_filter(
    status: str | None,
    school_id: str | None,
    reason: str | None,
    month: str | None,
    pupil_id: str | None,
    contact_id: str | None,
    page: str | None = None,
    page_size: str | None = None,
) -> register.RegisterFilter:
    return register.RegisterFilter(
        status=read_choice("status", status, "", tuple(register.STATUS_LABELS)) or None,
        school_id=read_id("school_id", school_id),
        reason=read_choice("reason", reason, "", tuple(r.value for r in NoticeReason)) or None,
        month=read_month("month", month),
        pupil_id=read_id("pupil_id", pupil_id),
        contact_id=read_id("contact_id", contact_id),
        page=read_whole("page", page, 1, least=1),
        page_size=read_page_size(page_size),
    )


# --- handlers ---------------------------------------------------------------------------------


def _change(request: Request, change: Callable[[Context], PenaltyNotice]) -> NoticeOut:
    """One change to one notice, the notice as it now stands returned (a stale
    ``expected_version`` or a lost race is 409)."""
    with unit_of_work(request, write=True) as ctx:
        found = notice_out(ctx, change(ctx))
        ctx.commit()
        return found


class PenaltyRequestController(Controller):
    path = "/penalty-notices/requests"
    tags = ["penalty notices"]

    @get("/", sync_to_thread=True)
    def list_requests(
        self,
        request: Request,
        status: Annotated[
            str | None,
            QueryParameter(max_length=40, description="pending (default), accepted, declined, all"),
        ] = None,
    ) -> list[register.RequestRow]:
        """Requests for penalty notices on cases you may see, the oldest first."""
        chosen = read_choice("status", status, PENDING, REQUEST_STATUSES)
        with unit_of_work(request) as ctx:
            found = register.requests(ctx, None if chosen == "all" else chosen)
            return found

    @post("/", sync_to_thread=True)
    def make(self, request: Request, data: JSONBody[MakeRequestIn]) -> RequestOut:
        """Ask the LA for penalty notices on a case, relying on sessions in the registers; a
        holiday request names the parent's leave request (with its refusal)."""
        command = MakeRequest(
            data.case_id, data.reason, data.summary, listed(data.sessions), data.leave_request_id
        )
        with unit_of_work(request, write=True) as ctx:
            made = make_request(ctx, command)
            found = request_out(ctx, made)
            ctx.commit()
            return found

    @get("/{request_id:int}", sync_to_thread=True)
    def get_request(self, request: Request, request_id: FromPath[int]) -> RequestOut:
        """The request with its sessions and register extract, and for the LA's officers
        while it is pending, the checks for a notice to each parent today."""
        with unit_of_work(request) as ctx:
            return request_out(ctx, request_for(ctx, request_id))

    @post("/{request_id:int}/issue", sync_to_thread=True)
    def issue(
        self, request: Request, request_id: FromPath[int], data: JSONBody[IssueFromRequestIn]
    ) -> IssuedOut:
        """Accept the request and issue a notice to each chosen parent in one step; if any
        parent's notice is refused (409, with each parent's unmet checks) nothing is written."""
        command = IssueFromRequest(
            data.posted_on,
            list(data.contact_ids) if data.contact_ids is not None else None,
            dict(data.rationales) if data.rationales is not None else None,
            data.note,
            data.expected_version,
        )
        with unit_of_work(request, write=True) as ctx:
            decided, issued = issue_from_request(ctx, request_id, command)
            found = IssuedOut(request_out(ctx, decided), [notice_out(ctx, n) for n in issued])
            ctx.commit()
            return found

    @post("/{request_id:int}/decline", sync_to_thread=True)
    def decline(
        self, request: Request, request_id: FromPath[int], data: JSONBody[DeclineIn]
    ) -> RequestOut:
        with unit_of_work(request, write=True) as ctx:
            decided = decline_request(ctx, request_id, data.reason, data.expected_version)
            found = request_out(ctx, decided)
            ctx.commit()
            return found


class PenaltyNoticeController(Controller):
    path = "/penalty-notices"
    tags = ["penalty notices"]

    @get("/", sync_to_thread=True)
    def central_register(
        self,
        request: Request,
        status: StatusParam = None,
        school_id: IdParam = None,
        reason: ReasonParam = None,
        month: MonthParam = None,
        pupil_id: IdParam = None,
        contact_id: IdParam = None,
        page: WholeParam = None,
        page_size: WholeParam = None,
    ) -> RegisterOut:
        """The central record of notices you may see, the latest issued first (drafts first of
        all), with their status, amounts and what became of them."""
        f = read_filter(status, school_id, reason, month, pupil_id, contact_id, page, page_size)
        with unit_of_work(request) as ctx:
            rows, total = register.central_register(ctx, f)
            return RegisterOut([r for r in rows], total, f.page, f.page_size)

    @get("/register.csv", sync_to_thread=True)
    def register_csv(
        self,
        request: Request,
        status: StatusParam = None,
        school_id: IdParam = None,
        reason: ReasonParam = None,
        month: MonthParam = None,
        pupil_id: IdParam = None,
        contact_id: IdParam = None,
    ) -> Response[str]:
        """The whole filtered register as CSV for finance reconciliation (pounds and pence)."""
        f = read_filter(status, school_id, reason, month, pupil_id, contact_id)
        with unit_of_work(request) as ctx:
            body = register.register_csv(ctx, f)
            today = ctx.today()
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": (
                    f'attachment; filename="penalty-notices-{today.isoformat()}.csv"'
                ),
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "no-store",
            },
        )

    @get("/report", sync_to_thread=True)
    def report(
        self,
        request: Request,
        by: Annotated[
            str | None, QueryParameter(max_length=40, description="school (default), reason, month")
        ] = None,
    ) -> ReportOut:
        """Issued notices counted by school, reason or month of issue, with what became of them
        (amounts paid are the recorded payments)."""
        chosen = read_choice("by", by, register.REPORT_BY[0], register.REPORT_BY)
        with unit_of_work(request) as ctx:
            return ReportOut(chosen, register.report(ctx, chosen))

    @get("/queues", sync_to_thread=True)
    def queues(self, request: Request) -> register.Queues:
        """The officer's work: requests pending, drafts, notices awaiting payment (soonest to
        end first) and notices unpaid at 28 days awaiting the decision."""
        with unit_of_work(request) as ctx:
            return register.queues(ctx)

    @get("/threshold", sync_to_thread=True)
    def threshold(self, request: Request) -> list[register.ThresholdRow]:
        """Pupils at the penalty-notice threshold (or the lateness trigger), with their open
        case and any request awaiting the LA."""
        with unit_of_work(request) as ctx:
            return [r for r in register.threshold_list(ctx)]

    @get("/history", sync_to_thread=True)
    def history(
        self, request: Request, pupil_id: IdParam = None, contact_id: IdParam = None
    ) -> list[register.HistoryEntry]:
        """Every notice, notice reported by another LA and enquiry for a child and/or a parent:
        what the limit of two notices in three years is judged on."""
        pupil = read_id("pupil_id", pupil_id)
        contact = read_id("contact_id", contact_id)
        if pupil is None and contact is None:
            raise InvalidInput.one(
                "pupil_id", pupil_id, "name a pupil (pupil_id) or a parent (contact_id), or both"
            )
        with unit_of_work(request) as ctx:
            found = register.history(ctx, pupil_id=pupil, contact_id=contact)
            return [e for e in found]

    @post("/", sync_to_thread=True)
    def draft(self, request: Request, data: JSONBody[DraftIn]) -> list[NoticeOut]:
        """Draft a notice to each chosen parent, or refuse them all (409, with each parent's
        unmet checks). Overridable checks are met by a rationale naming the check."""
        command = DraftNotices(
            case_id=data.case_id,
            reason=data.reason,
            sessions=listed(data.sessions),
            contact_ids=list(data.contact_ids) if data.contact_ids is not None else None,
            request_id=data.request_id,
            rationales=dict(data.rationales),
        )
        with unit_of_work(request, write=True) as ctx:
            drafted = draft_notices(ctx, command)
            found = [notice_out(ctx, n) for n in drafted]
            ctx.commit()
            return found

    @post("/enquiries", sync_to_thread=True)
    def enquiry(self, request: Request, data: JSONBody[EnquiryIn]) -> EnquiryOut:
        """Record another LA's answer about earlier notices to a parent for a child; each
        notice it reports counts toward the limit like one issued here (withdrawn ones do not)."""
        command = RecordEnquiry(
            data.pupil_id,
            data.contact_id,
            data.other_la,
            data.asked_on,
            data.answered_on,
            data.answer,
            [ReportedNotice(n.their_reference, n.issued_on, n.status) for n in data.notices],
        )
        with unit_of_work(request, write=True) as ctx:
            made = record_enquiry(ctx, command)
            found = EnquiryOut(
                made.id,
                made.pupil_id,
                made.contact_id,
                made.other_la,
                made.asked_on,
                made.answered_on,
                made.answer,
                made.notices_reported,
                [
                    ReportedNoticeOut(n.their_reference.strip(), n.issued_on, n.status)
                    for n in data.notices
                ],
                made.recorded_at,
            )
            ctx.commit()
            return found

    @get("/{notice_id:int}", sync_to_thread=True)
    def get_notice(self, request: Request, notice_id: FromPath[int]) -> NoticeOut:
        with unit_of_work(request) as ctx:
            return notice_out(ctx, notice_for(ctx, notice_id))

    @get("/{notice_id:int}/notice", sync_to_thread=True)
    def notice_document(self, request: Request, notice_id: FromPath[int]) -> Response[str]:
        """The notice as the parent receives it (HTML). A draft has no date of issue or
        payment period yet, so it is refused (422) until issued."""
        with unit_of_work(request) as ctx:
            notice = notice_for(ctx, notice_id)
            if notice.issued_on is None:
                raise InvalidInput.one(
                    "status",
                    notice.status,
                    "a notice has its date of issue and payment period only once issued",
                )
            try:
                html = letter.notice_html(ctx, notice_id)
            except ValueError as exc:
                raise Conflict(f"the notice cannot be shown complete: {exc}") from None
        return Response(
            html,
            media_type=MediaType.HTML,
            headers={
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
                "Cache-Control": "no-store",
            },
        )

    @post("/{notice_id:int}/issue", sync_to_thread=True)
    def issue(
        self, request: Request, notice_id: FromPath[int], data: JSONBody[IssueIn]
    ) -> NoticeOut:
        """Issue a draft, dated the day it is posted: every check runs again as of that day."""
        return _change(
            request, lambda ctx: issue_notice(ctx, notice_id, data.posted_on, data.expected_version)
        )

    @post("/{notice_id:int}/payments", sync_to_thread=True)
    def payment(
        self, request: Request, notice_id: FromPath[int], data: JSONBody[PaymentIn]
    ) -> NoticeOut:
        """Record the LA's receipt of payment: the amount due on the day paid, inside the
        payment period (methods: online, telephone, post, in_person, bank_transfer)."""
        command = RecordPayment(
            data.paid_on,
            data.amount_pence,
            data.method,
            data.finance_reference,
            data.expected_version,
        )
        return _change(request, lambda ctx: record_payment(ctx, notice_id, command))

    @post("/{notice_id:int}/withdrawal", sync_to_thread=True)
    def withdrawal(
        self, request: Request, notice_id: FromPath[int], data: JSONBody[WithdrawalIn]
    ) -> NoticeOut:
        """Withdraw an issued notice (or one taken to prosecution) on a recorded ground only:
        no_offence, outside_code, wrong_person, wrong_address, material_error, or
        not_prosecuting once the payment period has ended unpaid."""
        return _change(
            request,
            lambda ctx: withdraw_notice(
                ctx, notice_id, data.ground, data.note, data.expected_version
            ),
        )

    @post("/{notice_id:int}/prosecution", sync_to_thread=True)
    def prosecution(
        self, request: Request, notice_id: FromPath[int], data: JSONBody[ProsecutionIn]
    ) -> NoticeOut:
        """Unpaid at the end of the payment period: prosecute for the original offence."""
        return _change(
            request,
            lambda ctx: decide_prosecution(ctx, notice_id, data.note, data.expected_version),
        )

    @post("/{notice_id:int}/cancellation", sync_to_thread=True)
    def cancellation(
        self, request: Request, notice_id: FromPath[int], data: JSONBody[CancellationIn]
    ) -> NoticeOut:
        """Discard a draft never issued; its sessions are free again."""
        return _change(
            request,
            lambda ctx: cancel_draft(ctx, notice_id, data.reason, data.expected_version),
        )
