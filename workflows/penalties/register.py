"""The LA's central record of penalty notices (RULES.md §2.3): every notice with its status,
amounts paid, withdrawals and their grounds, and the prosecutions that followed; the officer's
work queues; reports by school, reason and month; history by parent and child; CSV for finance.

Read-only and scoped: LA officers and managers see their LA's notices, school users their own
schools'. Payment figures are the recorded payments, not the notices' amounts.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_, false, func, or_, select

from casework.errors import NotFound
from casework.models import (
    Case,
    CaseEvent,
    Contact,
    PenaltyNotice,
    PenaltyNoticeEnquiry,
    PenaltyNoticeRequest,
    PenaltyPayment,
    PriorPenaltyNotice,
    Pupil,
    PupilContact,
    PupilFlag,
    School,
)
from casework.vocabulary import EventKind, Role
from workflows.context import Context
from workflows.penalties.notices import display_status
from workflows.penalties.rules import REASON_LABELS, NoticeReason, NoticeStatus, WithdrawalGround

STATUS_LABELS = {
    "drafted": "Drafted",
    "awaiting_payment": "Issued: awaiting payment",
    "unpaid_decision_due": "Unpaid at 28 days: decision due",
    "paid": "Paid",
    "withdrawn": "Withdrawn",
    "prosecution": "Prosecution",
    "cancelled": "Draft cancelled",
}
THRESHOLD_FLAGS = ("penalty_threshold", "late_after_close")


def visible_notices(ctx: Context) -> ColumnElement[bool]:
    """The notices the user may see: the LA's for its officers, a school's for its staff."""
    scope = ctx.scope
    if scope.role in (Role.STATUTORY_OFFICER, Role.LA_MANAGER):
        return PenaltyNotice.la_id == scope.la_id
    if scope.role in (Role.SCHOOL_STAFF, Role.TRADED_OFFICER):
        return PenaltyNotice.school_id.in_(scope.school_ids)
    return false()


@dataclass
class RegisterFilter:
    status: str | None = None  # a STATUS_LABELS key
    school_id: int | None = None
    reason: str | None = None
    month: str | None = None  # "YYYY-MM" of the date of issue
    pupil_id: int | None = None
    contact_id: int | None = None
    page: int = 1
    page_size: int = 50


@dataclass
class NoticeRow:
    id: int
    reference: str
    case_id: int
    case_reference: str
    school_id: int
    school: str
    school_urn: str
    pupil_id: int
    pupil: str
    upn: str
    contact_id: int
    parent: str
    reason: str
    reason_label: str
    ordinal: int
    status: str
    status_label: str
    issued_on: date | None
    received_on: date | None
    discount_until: date | None
    pay_by: date | None
    days_left: int | None
    amount_discounted_pence: int | None
    amount_full_pence: int
    paid_on: date | None
    amount_paid_pence: int | None
    paid_within_discount: bool | None
    finance_reference: str | None
    withdrawn_on: date | None
    withdrawal_ground: str | None
    withdrawal_label: str | None
    prosecution_decided_on: date | None
    prosecution_started: bool


def _status_clause(status: str, today: date) -> ColumnElement[bool]:
    if status == "awaiting_payment":
        return and_(PenaltyNotice.status == NoticeStatus.ISSUED, PenaltyNotice.pay_by >= today)
    if status == "unpaid_decision_due":
        return and_(PenaltyNotice.status == NoticeStatus.ISSUED, PenaltyNotice.pay_by < today)
    return PenaltyNotice.status == status


def _filtered(ctx: Context, f: RegisterFilter):
    clauses = [visible_notices(ctx)]
    if f.status:
        clauses.append(_status_clause(f.status, ctx.today()))
    if f.school_id:
        clauses.append(PenaltyNotice.school_id == f.school_id)
    if f.reason:
        clauses.append(PenaltyNotice.reason == f.reason)
    if f.month:
        year, month = (int(x) for x in f.month.split("-"))
        first = date(year, month, 1)
        after = date(year + (month == 12), month % 12 + 1, 1)
        clauses.append(and_(PenaltyNotice.issued_on >= first, PenaltyNotice.issued_on < after))
    if f.pupil_id:
        clauses.append(PenaltyNotice.pupil_id == f.pupil_id)
    if f.contact_id:
        clauses.append(PenaltyNotice.contact_id == f.contact_id)
    return and_(*clauses)


def _rows(ctx: Context, notices: list[PenaltyNotice]) -> list[NoticeRow]:
    if not notices:
        return []
    ids = [n.id for n in notices]
    case_ids = {n.case_id for n in notices}
    cases = dict(
        ctx.session.execute(select(Case.id, Case.reference).where(Case.id.in_(case_ids))).all()
    )
    schools = {
        s.id: s
        for s in ctx.session.scalars(
            select(School).where(School.id.in_({n.school_id for n in notices}))
        )
    }
    finance = dict(
        ctx.session.execute(
            select(PenaltyPayment.notice_id, PenaltyPayment.finance_reference).where(
                PenaltyPayment.notice_id.in_(ids)
            )
        ).all()
    )
    prosecuted = set(
        ctx.session.scalars(
            select(CaseEvent.case_id).where(
                CaseEvent.case_id.in_(case_ids),
                CaseEvent.kind == EventKind.PROSECUTION_STARTED.value,
            )
        )
    )
    today = ctx.today()
    rows = []
    for n in notices:
        status = display_status(n, today)
        ground = n.withdrawal_ground
        rows.append(
            NoticeRow(
                id=n.id,
                reference=n.reference,
                case_id=n.case_id,
                case_reference=cases[n.case_id],
                school_id=n.school_id,
                school=schools[n.school_id].name,
                school_urn=schools[n.school_id].urn,
                pupil_id=n.pupil_id,
                pupil=n.pupil.display_name,
                upn=n.pupil.upn,
                contact_id=n.contact_id,
                parent=n.recipient["name"],
                reason=n.reason,
                reason_label=REASON_LABELS[NoticeReason(n.reason)],
                ordinal=n.ordinal,
                status=status,
                status_label=STATUS_LABELS[status],
                issued_on=n.issued_on,
                received_on=n.received_on,
                discount_until=n.discount_until,
                pay_by=n.pay_by,
                days_left=max(0, (n.pay_by - today).days + 1)
                if status == "awaiting_payment"
                else None,
                amount_discounted_pence=n.amount_discounted_pence,
                amount_full_pence=n.amount_full_pence,
                paid_on=n.paid_on,
                amount_paid_pence=n.amount_paid_pence,
                paid_within_discount=n.paid_within_discount,
                finance_reference=finance.get(n.id),
                withdrawn_on=n.withdrawn_on,
                withdrawal_ground=ground,
                withdrawal_label=WithdrawalGround(ground).label if ground else None,
                prosecution_decided_on=n.prosecution_decided_on,
                prosecution_started=n.status == NoticeStatus.PROSECUTION
                and n.case_id in prosecuted,
            )
        )
    return rows


def central_register(ctx: Context, f: RegisterFilter) -> tuple[list[NoticeRow], int]:
    where = _filtered(ctx, f)
    total = ctx.session.scalar(select(func.count()).select_from(PenaltyNotice).where(where))
    notices = list(
        ctx.session.scalars(
            select(PenaltyNotice)
            .where(where)
            .order_by(PenaltyNotice.issued_on.desc().nulls_first(), PenaltyNotice.id.desc())
            .limit(f.page_size)
            .offset((f.page - 1) * f.page_size)
        )
    )
    return _rows(ctx, notices), total or 0


CSV_COLUMNS = (
    ("reference", "Notice"),
    ("case_reference", "Case"),
    ("school_urn", "School URN"),
    ("school", "School"),
    ("parent", "Recipient"),
    ("reason_label", "Reason"),
    ("ordinal", "Notice in 3 years"),
    ("status_label", "Status"),
    ("issued_on", "Issued"),
    ("received_on", "Deemed received"),
    ("discount_until", "Reduced amount until"),
    ("pay_by", "Pay by"),
    ("amount_discounted_pence", "Reduced amount (£)"),
    ("amount_full_pence", "Full amount (£)"),
    ("paid_on", "Paid on"),
    ("amount_paid_pence", "Amount paid (£)"),
    ("paid_within_discount", "Within 21 days"),
    ("finance_reference", "Finance reference"),
    ("withdrawn_on", "Withdrawn on"),
    ("withdrawal_label", "Withdrawal ground"),
    ("prosecution_decided_on", "Prosecution decided"),
    ("prosecution_started", "Prosecution started"),
)


def _cell(name: str, value) -> str:
    if value is None:
        return ""
    if name.endswith("_pence"):
        return f"{value / 100:.2f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    # A cell a spreadsheet would run as a formula is written as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def register_csv(ctx: Context, f: RegisterFilter) -> str:
    """The whole filtered register (not one page) for finance reconciliation."""
    where = _filtered(ctx, f)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([title for _, title in CSV_COLUMNS])
    query = select(PenaltyNotice).where(where).order_by(PenaltyNotice.issued_on, PenaltyNotice.id)
    batch: list[PenaltyNotice] = []
    for notice in ctx.session.scalars(query):
        batch.append(notice)
        if len(batch) == 500:
            _write(writer, ctx, batch)
            batch = []
    _write(writer, ctx, batch)
    return out.getvalue()


def _write(writer, ctx: Context, batch: list[PenaltyNotice]) -> None:
    for row in _rows(ctx, batch):
        writer.writerow([_cell(name, getattr(row, name)) for name, _ in CSV_COLUMNS])


@dataclass
class ReportLine:
    key: str
    label: str
    issued: int = 0
    awaiting_payment: int = 0
    unpaid_decision_due: int = 0
    paid: int = 0
    paid_within_discount: int = 0
    amount_paid_pence: int = 0
    withdrawn: int = 0
    prosecution: int = 0


REPORT_BY = ("school", "reason", "month")


def report(ctx: Context, by: str) -> list[ReportLine]:
    """Issued notices counted by school, reason or month of issue, with what became of them."""
    if by not in REPORT_BY:
        raise ValueError(by)
    today = ctx.today()
    schools = dict(ctx.session.execute(select(School.id, School.name)).all())
    lines: dict[str, ReportLine] = {}
    query = select(PenaltyNotice).where(visible_notices(ctx), PenaltyNotice.issued_on.is_not(None))
    for n in ctx.session.scalars(query):
        if by == "school":
            key, label = str(n.school_id), schools[n.school_id]
        elif by == "reason":
            key, label = n.reason, REASON_LABELS[NoticeReason(n.reason)]
        else:
            key, label = f"{n.issued_on:%Y-%m}", f"{n.issued_on:%B %Y}"
        line = lines.setdefault(key, ReportLine(key, label))
        line.issued += 1
        status = display_status(n, today)
        if status in ("awaiting_payment", "unpaid_decision_due", "withdrawn", "prosecution"):
            setattr(line, status, getattr(line, status) + 1)
        if n.status == NoticeStatus.PAID:
            line.paid += 1
            line.paid_within_discount += bool(n.paid_within_discount)
            line.amount_paid_pence += n.amount_paid_pence or 0
    return [lines[k] for k in sorted(lines)]


# --- the statutory officer's queues -----------------------------------------------------------


@dataclass
class RequestRow:
    id: int
    case_id: int
    case_reference: str
    school: str
    pupil: str
    reason: str
    reason_label: str
    sessions: int
    first_day: date
    last_day: date
    requested_by: str
    requested_on: date
    status: str
    version: int


def requests(ctx: Context, status: str | None = "pending") -> list[RequestRow]:
    query = (
        select(PenaltyNoticeRequest, Case.reference, School.name)
        .join(Case, Case.id == PenaltyNoticeRequest.case_id)
        .join(School, School.id == PenaltyNoticeRequest.school_id)
        .where(ctx.scope.cases())
        .order_by(PenaltyNoticeRequest.requested_at)
    )
    if status:
        query = query.where(PenaltyNoticeRequest.status == status)
    rows = []
    for r, reference, school in ctx.session.execute(query):
        days = [date.fromisoformat(s["date"]) for s in r.sessions]
        rows.append(
            RequestRow(
                r.id,
                r.case_id,
                reference,
                school,
                r.pupil.display_name,
                r.reason,
                REASON_LABELS[NoticeReason(r.reason)],
                len(r.sessions),
                min(days),
                max(days),
                r.requested_by_name,
                r.requested_at.date(),
                r.status,
                r.version,
            )
        )
    return rows


@dataclass
class Queues:
    requests: list[RequestRow]
    drafts: list[NoticeRow]
    awaiting_payment: list[NoticeRow]  # soonest to end first
    decisions_due: list[NoticeRow]  # unpaid at 28 days: prosecute or withdraw


def queues(ctx: Context, limit: int = 200) -> Queues:
    def of(status: str, order) -> list[NoticeRow]:
        notices = ctx.session.scalars(
            select(PenaltyNotice)
            .where(visible_notices(ctx), _status_clause(status, ctx.today()))
            .order_by(order, PenaltyNotice.id)
            .limit(limit)
        )
        return _rows(ctx, list(notices))

    return Queues(
        requests=requests(ctx),
        drafts=of("drafted", PenaltyNotice.drafted_at),
        awaiting_payment=of("awaiting_payment", PenaltyNotice.pay_by),
        decisions_due=of("unpaid_decision_due", PenaltyNotice.pay_by),
    )


@dataclass
class ThresholdRow:
    pupil_id: int
    pupil: str
    school_id: int
    school: str
    flag: str
    raised_on: date
    explanation: str
    case_id: int | None
    case_reference: str | None
    request_id: int | None  # a pending request on the pupil's open case


def threshold_list(ctx: Context) -> list[ThresholdRow]:
    """Pupils in scope at the penalty-notice threshold (or the LA's lateness trigger), with
    their open case and any request awaiting the LA."""
    flags = ctx.session.execute(
        select(PupilFlag, Pupil, School.name)
        .join(Pupil, Pupil.id == PupilFlag.pupil_id)
        .join(School, School.id == PupilFlag.school_id)
        .where(PupilFlag.flag.in_(THRESHOLD_FLAGS), ctx.scope.pupils(), ctx.scope.schools())
        .order_by(PupilFlag.raised_on.desc(), Pupil.legal_surname)
    ).all()
    if not flags:
        return []
    pupil_ids = {f.pupil_id for f, _, _ in flags}
    open_cases = {
        (c.pupil_id, c.school_id): c
        for c in ctx.session.scalars(
            select(Case).where(
                Case.pupil_id.in_(pupil_ids), Case.stage != "closed", ctx.scope.cases()
            )
        )
    }
    pending = dict(
        ctx.session.execute(
            select(PenaltyNoticeRequest.case_id, PenaltyNoticeRequest.id).where(
                PenaltyNoticeRequest.case_id.in_([c.id for c in open_cases.values()] or [0]),
                PenaltyNoticeRequest.status == "pending",
            )
        ).all()
    )
    rows = []
    for flag, pupil, school in flags:
        case = open_cases.get((flag.pupil_id, flag.school_id))
        rows.append(
            ThresholdRow(
                pupil.id,
                pupil.display_name,
                flag.school_id,
                school,
                flag.flag,
                flag.raised_on,
                flag.explanation,
                case.id if case else None,
                case.reference if case else None,
                pending.get(case.id) if case else None,
            )
        )
    return rows


# --- history by parent and child --------------------------------------------------------------


@dataclass
class HistoryEntry:
    kind: str  # notice, reported (by another LA), enquiry
    on: date
    reference: str
    pupil_id: int
    contact_id: int
    parent: str
    status: str
    detail: str


def history(ctx: Context, *, pupil_id: int | None = None, contact_id: int | None = None):
    """Every notice, notice reported by another LA and enquiry for a parent and/or child,
    across schools: what the limit of two in three years is judged on."""
    if pupil_id is None and contact_id is None:
        raise ValueError("name a pupil or a parent")
    _visible_people(ctx, pupil_id, contact_id)
    clauses = []
    if pupil_id is not None:
        clauses.append(lambda model: model.pupil_id == pupil_id)
    if contact_id is not None:
        clauses.append(lambda model: model.contact_id == contact_id)

    def where(model):
        return and_(*(c(model) for c in clauses))

    names = {
        c.id: " ".join(x for x in (c.title, c.forename, c.surname) if x)
        for c in ctx.session.scalars(
            select(Contact).where(
                or_(
                    Contact.id == (contact_id or 0),
                    Contact.id.in_(select(PenaltyNotice.contact_id).where(where(PenaltyNotice))),
                    Contact.id.in_(
                        select(PriorPenaltyNotice.contact_id).where(where(PriorPenaltyNotice))
                    ),
                    Contact.id.in_(
                        select(PenaltyNoticeEnquiry.contact_id).where(where(PenaltyNoticeEnquiry))
                    ),
                )
            )
        )
    }
    entries: list[HistoryEntry] = []
    today = ctx.today()
    for n in ctx.session.scalars(
        select(PenaltyNotice).where(where(PenaltyNotice), visible_notices(ctx))
    ):
        status = display_status(n, today)
        entries.append(
            HistoryEntry(
                "notice",
                n.issued_on or n.drafted_at.date(),
                n.reference,
                n.pupil_id,
                n.contact_id,
                names.get(n.contact_id, ""),
                STATUS_LABELS[status],
                REASON_LABELS[NoticeReason(n.reason)],
            )
        )
    la_clause = PriorPenaltyNotice.la_id == ctx.scope.la_id
    for p in ctx.session.scalars(
        select(PriorPenaltyNotice).where(where(PriorPenaltyNotice), la_clause)
    ):
        entries.append(
            HistoryEntry(
                "reported",
                p.issued_on,
                p.their_reference,
                p.pupil_id,
                p.contact_id,
                names.get(p.contact_id, ""),
                p.status,
                f"issued by {p.issuing_la}",
            )
        )
    for e in ctx.session.scalars(
        select(PenaltyNoticeEnquiry).where(
            where(PenaltyNoticeEnquiry), PenaltyNoticeEnquiry.la_id == ctx.scope.la_id
        )
    ):
        entries.append(
            HistoryEntry(
                "enquiry",
                e.asked_on,
                f"enquiry {e.id}",
                e.pupil_id,
                e.contact_id,
                names.get(e.contact_id, ""),
                f"answered {e.answered_on.isoformat()}",
                f"asked {e.other_la}: {e.notices_reported} notice(s) reported. {e.answer}",
            )
        )
    return sorted(entries, key=lambda x: (x.on, x.reference))


def _visible_people(ctx: Context, pupil_id: int | None, contact_id: int | None) -> None:
    if (
        pupil_id is not None
        and ctx.session.scalar(select(Pupil.id).where(Pupil.id == pupil_id, ctx.scope.pupils()))
        is None
    ):
        raise NotFound("pupil", pupil_id)
    if (
        contact_id is not None
        and ctx.session.scalar(
            select(PupilContact.contact_id)
            .join(Pupil, Pupil.id == PupilContact.pupil_id)
            .where(PupilContact.contact_id == contact_id, ctx.scope.pupils())
            .limit(1)
        )
        is None
    ):
        raise NotFound("contact", contact_id)


def counts_by_status(ctx: Context) -> dict[str, int]:
    found: dict[str, int] = defaultdict(int)
    today = ctx.today()
    for n in ctx.session.scalars(select(PenaltyNotice).where(visible_notices(ctx))):
        found[display_status(n, today)] += 1
    return dict(found)
