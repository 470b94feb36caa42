"""One penalty notice's page: its amounts and payment windows, sessions and payments, the letter
as sent, and the officer's forms to issue or cancel a draft, record a payment, withdraw it or
record the decision to prosecute. Each change is ``workflows.penalties.notices``'s to allow.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.enums import MediaType
from litestar.params import FromPath
from litestar.response import Template
from sqlalchemy import select

from api.deps import unit_of_work
from api.pages.common import FormError, me, render, sentence, words
from api.pages.penalty_forms import (
    PAGE,
    RATIONALE_LABELS,
    Form,
    IssueDraftForm,
    NoteForm,
    PageForms,
    PaymentForm,
    Query,
    ReasonForm,
    WithdrawForm,
    anchor,
    field_ids,
    pounds_to_pence,
    read_date,
    version,
)
from casework.errors import NotFound
from casework.models import PenaltyNoticeSession, PenaltyPayment, School
from casework.vocabulary import Role
from workflows.context import Context
from workflows.penalties import letter, notices, register
from workflows.penalties.rules import (
    REASON_LABELS,
    WITHDRAWAL_LABELS,
    NoticeReason,
    NoticeStatus,
    WithdrawalGround,
    money,
)

PAYMENT_METHOD_WORDS = {
    "online": "Online",
    "telephone": "Telephone",
    "post": "By post",
    "in_person": "In person",
    "bank_transfer": "Bank transfer",
}
# Confirmations shown after a change (the page reads one of these keys, never free text).
NOTICE_DONE = {
    "issued": "The notice is issued.",
    "paid": "The payment is recorded: the notice is paid.",
    "withdrawn": "The notice is withdrawn.",
    "prosecution": "The decision to prosecute is recorded.",
    "cancelled": "The draft is cancelled.",
}
# Each form on the page: the service's fields as the form's (id, label).
FORMS = {
    "issue": {"posted_on": ("issue-posted_on", "Date of posting")},
    "cancel": {"reason": ("cancel-reason", "Reason")},
    "payment": {
        "paid_on": ("payment-paid_on", "Date paid"),
        "amount_pence": ("payment-amount", "Amount paid"),
        "method": ("payment-method", "How it was paid"),
        "finance_reference": ("payment-finance_reference", "Finance reference"),
    },
    "withdraw": {"ground": ("withdraw-ground", "Ground"), "note": ("withdraw-note", "Note")},
    "prosecute": {"note": ("prosecute-note", "Reasons")},
}
STALE = "Another change to this notice was saved first: check it and try again"


def days_left(until: date | None, today: date) -> int | None:
    """Days left counting today, or None once the day has passed."""
    if until is None or today > until:
        return None
    return (until - today).days + 1


def amounts_text(ctx: Context, ordinal: int | None, reduced: int | None, full: int | None) -> str:
    """What a notice asks the parent to pay, and by when."""
    rules = ctx.profile.penalty_notices
    if ordinal is None or full is None:
        return ""
    if reduced is not None:
        return (
            f"First notice: {money(reduced)} if paid within {rules.discount_days} days, "
            f"{money(full)} within {rules.payment_days} days"
        )
    return (
        f"Second notice within {rules.limit_years} years: {money(full)} within "
        f"{rules.payment_days} days (no reduced amount)"
    )


def notice_page(
    request: Request,
    notice_id: int,
    *,
    errors: list[FormError] | None = None,
    submitted: dict[str, Any] | None = None,
    status: int = 200,
    done: str = "",
) -> Template:
    submitted = submitted or {}
    with unit_of_work(request) as ctx:
        n = notices.notice_for(ctx, notice_id)
        today = ctx.today()
        shown = notices.display_status(n, today)
        windows = notices.windows_of(n)
        officer = Role(ctx.actor.role) in notices.OFFICERS
        sessions = list(
            ctx.session.scalars(
                select(PenaltyNoticeSession)
                .where(PenaltyNoticeSession.notice_id == n.id)
                .order_by(PenaltyNoticeSession.day, PenaltyNoticeSession.session)
            )
        )
        payments = [
            {
                "paid_on": p.paid_on,
                "amount": money(p.amount_pence),
                "within_discount": p.within_discount,
                "method": PAYMENT_METHOD_WORDS.get(p.method, words(p.method)),
                "finance_reference": p.finance_reference,
            }
            for p in ctx.session.scalars(
                select(PenaltyPayment)
                .where(PenaltyPayment.notice_id == n.id)
                .order_by(PenaltyPayment.paid_on, PenaltyPayment.id)
            )
        ]
        after_window = windows is not None and today > windows.pay_by
        grounds = [
            (g.value, g.label)
            for g in WithdrawalGround
            if g != WithdrawalGround.NOT_PROSECUTING or after_window
        ]
        rules = ctx.profile.penalty_notices
        context: dict[str, Any] = {
            "me": me(ctx),
            "n": {
                "id": n.id,
                "reference": n.reference,
                "version": n.version,
                "recipient": n.recipient["name"],
                "address": n.recipient.get("address") or [],
                "pupil_id": n.pupil_id,
                "pupil": n.pupil.display_name,
                "school": ctx.session.get(School, n.school_id).name,
                "case_id": n.case_id,
                "case_reference": n.case.reference,
                "request_id": n.request_id,
                "reason_label": REASON_LABELS[NoticeReason(n.reason)],
                "offence_from": n.offence_from,
                "offence_to": n.offence_to,
                "ordinal": n.ordinal,
                "status": shown,
                "status_label": register.STATUS_LABELS[shown],
                "issued_on": n.issued_on,
                "issued_by": (
                    f"{n.issued_by_name}, {n.issued_by_position}" if n.issued_by_name else ""
                ),
                "drafted_at": n.drafted_at,
                "amounts": amounts_text(
                    ctx, n.ordinal, n.amount_discounted_pence, n.amount_full_pence
                ),
                "amount_discounted": money(n.amount_discounted_pence)
                if n.amount_discounted_pence is not None
                else None,
                "amount_full": money(n.amount_full_pence),
                "rationales": [
                    (RATIONALE_LABELS.get(k, words(k)), v) for k, v in (n.rationales or {}).items()
                ],
                "paid_on": n.paid_on,
                "withdrawn_on": n.withdrawn_on,
                "withdrawal_label": WITHDRAWAL_LABELS[WithdrawalGround(n.withdrawal_ground)]
                if n.withdrawal_ground
                else None,
                "prosecution_decided_on": n.prosecution_decided_on,
                "closing_note": n.closing_note,
            },
            "windows": {
                "received_on": windows.received_on,
                "discount_until": windows.discount_until,
                "discount_days_left": days_left(windows.discount_until, today)
                if shown == "awaiting_payment"
                else None,
                "pay_by": windows.pay_by,
                "days_left": days_left(windows.pay_by, today)
                if shown == "awaiting_payment"
                else None,
                "decision_from": windows.decision_from,
            }
            if windows
            else None,
            "discount_days": rules.discount_days,
            "payment_days": rules.payment_days,
            "sessions": [(s.day, s.session, s.code) for s in sessions],
            "payments": payments,
            "officer": officer,
            "offer": {
                "issue": officer and n.status == NoticeStatus.DRAFTED,
                "cancel": officer and n.status == NoticeStatus.DRAFTED,
                "payment": officer and n.status == NoticeStatus.ISSUED,
                "withdraw": officer and n.status in (NoticeStatus.ISSUED, NoticeStatus.PROSECUTION),
                "prosecute": officer and shown == "unpaid_decision_due",
            },
            "letter": n.issued_on is not None,
            "ground_options": grounds,
            "method_options": [
                (m, PAYMENT_METHOD_WORDS.get(m, words(m))) for m in notices.PAYMENT_METHODS
            ],
            "today": today.isoformat(),
            "done": NOTICE_DONE.get(done, ""),
            "form": submitted.get("form", ""),
            "submitted": submitted,
        }
    known = {"actions"} if context["officer"] else set()
    for name, fields in FORMS.items():
        if context["offer"][name]:
            known |= {name} | field_ids(fields)
    context["errors"] = anchor(errors or [], known, "actions" if known else PAGE)
    return render("penalties_notice.html", context, status=status)


PAGE_FORMS = PageForms(notice_page, "/penalty-notices/{id}?done={done}", FORMS, STALE)


class PenaltyNoticePages(Controller):
    include_in_schema = False

    @get("/penalty-notices/{notice_id:int}", sync_to_thread=True)
    def show_notice(self, request: Request, notice_id: FromPath[int], done: Query = "") -> Template:
        return notice_page(request, notice_id, done=done)

    @get("/penalty-notices/{notice_id:int}/notice", sync_to_thread=True)
    def notice_as_sent(self, request: Request, notice_id: FromPath[int]) -> Response | Template:
        with unit_of_work(request) as ctx:
            notice = notices.notice_for(ctx, notice_id)
            if notice.issued_on is None:
                raise NotFound("penalty notice", notice_id)  # a draft was never sent
            try:
                html = letter.notice_html(ctx, notice_id)
            except ValueError as exc:
                return render(
                    "problem.html",
                    {
                        "me": me(ctx),
                        "title": "The notice cannot be shown",
                        "detail": "A required part of the notice is missing.",
                        "problems": [sentence(p.strip()) for p in str(exc).split(";")],
                    },
                    status=409,
                )
        return Response(
            content=html, media_type=MediaType.HTML, headers={"Cache-Control": "no-store"}
        )

    @post("/penalty-notices/{notice_id:int}/payment", sync_to_thread=True)
    def payment(
        self, request: Request, notice_id: FromPath[int], data: Form[PaymentForm]
    ) -> Response | Template:
        errors: list[FormError] = []
        paid_on = read_date(data.paid_on, "payment-paid_on", "Date paid", errors)
        amount = pounds_to_pence(data.amount)
        if amount is None:
            errors.append(
                FormError(
                    "payment-amount",
                    "Amount paid: enter the amount in pounds, for example 80 or 80.00",
                )
            )
        if errors:
            return PAGE_FORMS.again(request, notice_id, "payment", data, errors)
        command = notices.RecordPayment(
            paid_on=paid_on,
            amount_pence=amount,
            method=data.method,
            finance_reference=data.finance_reference,
            expected_version=version(data.expected_version),
        )
        return PAGE_FORMS.change(
            request,
            notice_id,
            "payment",
            data,
            lambda ctx: notices.record_payment(ctx, notice_id, command),
            "paid",
        )

    @post("/penalty-notices/{notice_id:int}/withdraw", sync_to_thread=True)
    def withdraw(
        self, request: Request, notice_id: FromPath[int], data: Form[WithdrawForm]
    ) -> Response | Template:
        expected = version(data.expected_version)
        return PAGE_FORMS.change(
            request,
            notice_id,
            "withdraw",
            data,
            lambda ctx: notices.withdraw_notice(ctx, notice_id, data.ground, data.note, expected),
            "withdrawn",
        )

    @post("/penalty-notices/{notice_id:int}/prosecute", sync_to_thread=True)
    def prosecute(
        self, request: Request, notice_id: FromPath[int], data: Form[NoteForm]
    ) -> Response | Template:
        expected = version(data.expected_version)
        return PAGE_FORMS.change(
            request,
            notice_id,
            "prosecute",
            data,
            lambda ctx: notices.decide_prosecution(ctx, notice_id, data.note, expected),
            "prosecution",
        )

    @post("/penalty-notices/{notice_id:int}/cancel", sync_to_thread=True)
    def cancel(
        self, request: Request, notice_id: FromPath[int], data: Form[ReasonForm]
    ) -> Response | Template:
        expected = version(data.expected_version)
        return PAGE_FORMS.change(
            request,
            notice_id,
            "cancel",
            data,
            lambda ctx: notices.cancel_draft(ctx, notice_id, data.reason, expected),
            "cancelled",
        )

    @post("/penalty-notices/{notice_id:int}/issue", sync_to_thread=True)
    def issue_draft(
        self, request: Request, notice_id: FromPath[int], data: Form[IssueDraftForm]
    ) -> Response | Template:
        errors: list[FormError] = []
        posted_on = read_date(data.posted_on, "issue-posted_on", "Date of posting", errors)
        if errors:
            return PAGE_FORMS.again(request, notice_id, "issue", data, errors)
        expected = version(data.expected_version)
        return PAGE_FORMS.change(
            request,
            notice_id,
            "issue",
            data,
            lambda ctx: notices.issue_notice(ctx, notice_id, posted_on, expected),
            "issued",
        )
