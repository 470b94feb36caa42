"""Penalty-notice pages: the officer's queues and threshold list, a school's request and the
decision on it, each notice with what can be done to it, the central register (with its CSV for
finance) and reports; and the leave-of-absence pages a holiday request relies on.

Thin, like the other pages: read the form, call the scoped services in ``workflows.penalties``
inside a unit of work, render. Whether something is allowed is the services' decision; a page
only decides which forms to offer. A record outside the user's scope is "Page not found".
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.enums import MediaType, RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from api.deps import unit_of_work
from api.pages.common import FormError, day, me, render, sentence, words
from casework import queries
from casework.errors import Conflict, Forbidden, InvalidInput, NotFound, NoticeRefused
from casework.models import (
    Case,
    LeaveDecision,
    LeaveRequest,
    PenaltyNotice,
    PenaltyNoticeRequest,
    PenaltyNoticeSession,
    PenaltyPayment,
    Pupil,
    School,
)
from casework.vocabulary import Role, Stage
from workflows.context import Context
from workflows.facts import ListedSession
from workflows.penalties import leave as leave_service
from workflows.penalties import letter, notices, register
from workflows.penalties import requests as request_service
from workflows.penalties.rules import (
    OVERRIDABLE,
    REASON_LABELS,
    WITHDRAWAL_LABELS,
    NoticeReason,
    NoticeStatus,
    WithdrawalGround,
    money,
)

CASEWORK_ROLES = (
    Role.SCHOOL_STAFF,
    Role.TRADED_OFFICER,
    Role.STATUTORY_OFFICER,
    Role.LA_MANAGER,
)
OFFICERS = notices.OFFICERS
LEAVE_DECIDERS = (Role.SCHOOL_STAFF, Role.TRADED_OFFICER)
DATE_FORMAT = "enter the date as YYYY-MM-DD, for example 2024-11-18"
MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
# Pounds, with or without pence: "80", "80.00", "£160". Nothing else ("80p", "80.5", "eighty").
POUNDS = re.compile(r"£?(\d{1,7})(?:\.(\d{2}))?")
PAGE_SIZE = 50
PAGE = "main-content"  # base.html's <main>: where an error with no form on the page points

Short = Annotated[str, msgspec.Meta(max_length=100)]
Text = Annotated[str, msgspec.Meta(max_length=10_000)]
Query = Annotated[str, QueryParameter(max_length=40)]

# What an officer writes to set aside a check the LA may use its discretion on.
RATIONALE_LABELS = {
    "threshold_met": "The LA's discretion to issue below the threshold",
    "notice_to_improve": "Why no Notice to Improve is needed",
}
FLAG_LABELS = {
    "penalty_threshold": "Penalty-notice threshold",
    "late_after_close": "Late after the register closed",
}
REQUEST_STATUS = {
    "pending": "Awaiting the LA's decision",
    "accepted": "Accepted",
    "declined": "Declined",
}
PAYMENT_METHOD_WORDS = {
    "online": "Online",
    "telephone": "Telephone",
    "post": "By post",
    "in_person": "In person",
    "bank_transfer": "Bank transfer",
}
LEAVE_DECISION_WORDS = {
    "authorised": "Authorised",
    "partly_authorised": "Partly authorised",
    "refused": "Refused",
}

# Confirmations shown after a change (the page reads one of these keys, never free text).
NOTICE_DONE = {
    "issued": "The notice is issued.",
    "paid": "The payment is recorded: the notice is paid.",
    "withdrawn": "The notice is withdrawn.",
    "prosecution": "The decision to prosecute is recorded.",
    "cancelled": "The draft is cancelled.",
}
LEAVE_DONE = {
    "recorded": "The leave request is recorded. Record the headteacher's decision next.",
    "decided": "The decision is recorded.",
    "taken": "The leave taken is laid in the register: C where authorised, G where not.",
}

IssueForm = msgspec.defstruct(
    "IssueForm",
    [
        ("expected_version", Short, ""),
        ("posted_on", Short, ""),
        ("contact_ids", str | list[str], msgspec.field(default_factory=list)),
        ("note", Text, ""),
        *((f"rationale_{name}", Text, "") for name in sorted(OVERRIDABLE)),
    ],
)


class DeclineForm(msgspec.Struct):
    expected_version: Short = ""
    reason: Text = ""


class PaymentForm(msgspec.Struct):
    expected_version: Short = ""
    paid_on: Short = ""
    amount: Short = ""
    method: Short = ""
    finance_reference: Short = ""


class WithdrawForm(msgspec.Struct):
    expected_version: Short = ""
    ground: Short = ""
    note: Text = ""


class NoteForm(msgspec.Struct):
    expected_version: Short = ""
    note: Text = ""


class CancelForm(msgspec.Struct):
    expected_version: Short = ""
    reason: Text = ""


class IssueDraftForm(msgspec.Struct):
    expected_version: Short = ""
    posted_on: Short = ""


class RequestForm(msgspec.Struct):
    reason: Short = ""
    summary: Text = ""
    leave_request_id: Short = ""


class LeaveForm(msgspec.Struct):
    school_id: Short = ""
    contact_id: Short = ""
    applied_on: Short = ""
    first_day: Short = ""
    last_day: Short = ""
    reason: Text = ""


class LeaveDecisionForm(msgspec.Struct):
    decision: Short = ""
    exceptional_circumstances: Short = ""
    reasons: Text = ""
    decided_on: Short = ""
    decided_by_name: Annotated[str, msgspec.Meta(max_length=200)] = ""
    decided_by_position: Annotated[str, msgspec.Meta(max_length=200)] = ""
    authorised_from: Short = ""
    authorised_to: Short = ""


class LeaveTakenForm(msgspec.Struct):
    first_absent: Short = ""
    last_absent: Short = ""


# --- small pieces ------------------------------------------------------------------------------


def _role(ctx: Context) -> Role:
    return Role(ctx.actor.role)


def _casework_only(ctx: Context) -> None:
    if _role(ctx) not in CASEWORK_ROLES:
        raise Forbidden(
            "administrators manage users and settings: penalty notices are not shown to them"
        )


def _read_date(
    text: str, field: str, label: str, errors: list[FormError], *, optional: bool = False
) -> date | None:
    text = text.strip()
    if not text and optional:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.append(FormError(field, f"{label}: {DATE_FORMAT}"))
        return None


def pounds_to_pence(text: str) -> int | None:
    """ "80" or "80.00" (or "£80.00") as 8000 pence; None for anything else."""
    found = POUNDS.fullmatch(text.strip())
    if found is None:
        return None
    return int(found.group(1)) * 100 + int(found.group(2) or 0)


def _days_left(until: date | None, today: date) -> int | None:
    """Days left counting today, or None once the day has passed."""
    if until is None or today > until:
        return None
    return (until - today).days + 1


def _version(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _problems(
    exc: InvalidInput, fields: dict[str, tuple[str, str]], fallback: str
) -> list[FormError]:
    """The service's broken rules, each pointed at the field the page shows for it."""
    found = []
    for p in exc.problems:
        if p.field in fields:
            field, label = fields[p.field]
            found.append(FormError(field, f"{label}: {p.rule}"))
        else:
            found.append(FormError(fallback, sentence(p.rule)))
    return found


def _anchor(errors: list[FormError], known: set[str], fallback: str) -> list[FormError]:
    """Point each error at a field the page shows, else at ``fallback``."""
    return [e if e.field in known else FormError(fallback, e.message) for e in errors]


def _contact_name(contact) -> str:
    return " ".join(x for x in (contact.title, contact.forename, contact.surname) if x)


def _amounts_text(ctx: Context, ordinal: int | None, reduced: int | None, full: int | None) -> str:
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


def _listed(rows: list[dict[str, Any]]) -> list[ListedSession]:
    return [ListedSession(date.fromisoformat(s["date"]), s["session"], s["code"]) for s in rows]


def _by_day(marks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A register extract as one row a day: the AM and PM marks side by side."""
    days: dict[str, dict[str, Any]] = {}
    for m in marks:
        row = days.setdefault(
            m["date"], {"day": date.fromisoformat(m["date"]), "AM": "", "PM": "", "school": ""}
        )
        row[m["session"]] = m["code"]
        row["school"] = m.get("school") or row["school"]
    return [days[k] for k in sorted(days)]


def _notice_row(row: register.NoticeRow, today: date) -> dict[str, Any]:
    return {
        "row": row,
        "discount_days_left": _days_left(row.discount_until, today),
        "days_left": _days_left(row.pay_by, today),
    }


# --- the case page's section -------------------------------------------------------------------


def case_penalties(ctx: Context, case: Case) -> dict[str, Any]:
    """The case's requests and notices, and whether (and how) the user may request notices.
    Called by the case page inside its unit of work, after the case was read in scope."""
    today = ctx.today()
    requests = list(
        ctx.session.scalars(
            select(PenaltyNoticeRequest)
            .where(PenaltyNoticeRequest.case_id == case.id)
            .order_by(PenaltyNoticeRequest.requested_at)
        )
    )
    found_notices = list(
        ctx.session.scalars(
            select(PenaltyNotice)
            .where(PenaltyNotice.case_id == case.id)
            .order_by(PenaltyNotice.drafted_at, PenaltyNotice.id)
        )
    )
    pending = next((r.id for r in requests if r.status == request_service.PENDING), None)
    role = _role(ctx)
    may_request = (
        role in request_service.REQUESTERS and case.stage != Stage.CLOSED and pending is None
    )
    leave_options: list[tuple[int, str]] = []
    if may_request:
        refused = ctx.session.execute(
            select(LeaveRequest, LeaveDecision)
            .join(LeaveDecision, LeaveDecision.request_id == LeaveRequest.id)
            .where(
                LeaveRequest.pupil_id == case.pupil_id,
                LeaveDecision.decision != "authorised",
            )
            .order_by(LeaveRequest.first_day.desc())
        ).all()
        leave_options = [
            (
                leave.id,
                f"{day(leave.first_day)} to {day(leave.last_day)}: "
                f"{LEAVE_DECISION_WORDS.get(decision.decision, words(decision.decision)).lower()}"
                f" on {day(decision.decided_on)}",
            )
            for leave, decision in refused
        ]
    lateness = ctx.profile.penalty_notices.lateness_notices
    threshold = notices.threshold_for(ctx, NoticeReason.IRREGULAR_ATTENDANCE)
    late = notices.threshold_for(ctx, NoticeReason.LATENESS)
    return {
        "requests": [
            {
                "id": r.id,
                "reason_label": REASON_LABELS[NoticeReason(r.reason)],
                "status": REQUEST_STATUS.get(r.status, words(r.status)),
                "requested_by": r.requested_by_name,
                "requested_on": r.requested_at.date(),
                "decision_reason": r.decision_reason,
            }
            for r in requests
        ],
        "notices": [
            {
                "id": n.id,
                "reference": n.reference,
                "parent": n.recipient["name"],
                "status": register.STATUS_LABELS[notices.display_status(n, today)],
                "issued_on": n.issued_on,
            }
            for n in found_notices
        ],
        "pending_id": pending,
        "may_request": may_request,
        "reason_options": [
            (r.value, r.label) for r in NoticeReason if lateness or r != NoticeReason.LATENESS
        ],
        "leave_options": leave_options,
        "sessions_hint": (
            "The sessions relied on are taken from the pupil's registers: the run of "
            f"{threshold.school_weeks} school weeks with the most {threshold.what}"
            + (
                f"; for lateness, the run of {late.school_weeks} school weeks with the most "
                f"{late.what}"
                if lateness
                else ""
            )
            + ". For a holiday with a leave request, the G marks over the dates of the leave."
        ),
        "pupil_id": case.pupil_id,
    }


CASE_REQUEST_FIELDS = {
    "reason": ("penalty-reason", "Reason"),
    "summary": ("penalty-summary", "Summary"),
    "leave_request_id": ("penalty-leave_request_id", "Leave request"),
    "sessions": ("penalty-notices", "Sessions"),
    "case_id": ("penalty-notices", "Case"),
}
CASE_FIELD_IDS = {field for field, _ in CASE_REQUEST_FIELDS.values()}


# --- the request page --------------------------------------------------------------------------


def request_page(
    request: Request,
    request_id: int,
    *,
    errors: list[FormError] | None = None,
    submitted: dict[str, Any] | None = None,
    status: int = 200,
    done: str = "",
) -> Template:
    submitted = submitted or {}
    with unit_of_work(request) as ctx:
        r = request_service.request_for(ctx, request_id)
        case = r.case
        today = ctx.today()
        officer = _role(ctx) in OFFICERS
        leave = None
        if r.leave_request_id is not None:
            try:
                found = leave_service.leave_request_for(ctx, r.leave_request_id)
            except NotFound:
                found = None
            decision = leave_service.decision_of(ctx, found) if found else None
            block = r.register_extract.get("leave") or {}
            leave = {
                "id": r.leave_request_id,
                "visible": found is not None,
                "parent": _contact_name(found.applied_by) if found else "",
                "reason": found.reason if found else "",
                "applied_on": found.applied_on if found else None,
                "first_day": found.first_day if found else None,
                "last_day": found.last_day if found else None,
                "decision": LEAVE_DECISION_WORDS.get(block.get("decision", ""), ""),
                "decided_on": decision.decided_on if decision else None,
                "decided_by": (
                    f"{decision.decided_by_name}, {decision.decided_by_position}"
                    if decision
                    else ""
                ),
                "reasons": block.get("decision_reasons", ""),
            }
        issued = [
            {
                "id": n.id,
                "reference": n.reference,
                "parent": n.recipient["name"],
                "status": register.STATUS_LABELS[notices.display_status(n, today)],
            }
            for n in ctx.session.scalars(
                select(PenaltyNotice)
                .where(PenaltyNotice.request_id == r.id)
                .order_by(PenaltyNotice.id)
            )
        ]
        context: dict[str, Any] = {
            "me": me(ctx),
            "req": {
                "id": r.id,
                "version": r.version,
                "status": r.status,
                "status_label": REQUEST_STATUS.get(r.status, words(r.status)),
                "reason_label": REASON_LABELS[NoticeReason(r.reason)],
                "summary": r.summary,
                "requested_by": f"{r.requested_by_name}, {r.requested_by_position}",
                "requested_at": r.requested_at,
                "decided_at": r.decided_at,
                "decision_reason": r.decision_reason,
                "sessions": _listed(r.sessions),
                "extract_from": date.fromisoformat(r.register_extract["from"]),
                "extract_to": date.fromisoformat(r.register_extract["to"]),
                "extract": _by_day(r.register_extract.get("marks") or []),
            },
            "case": {
                "id": case.id,
                "reference": case.reference,
                "closed": case.stage == Stage.CLOSED,
                "pupil_id": case.pupil_id,
                "pupil": r.pupil.display_name,
                "date_of_birth": r.pupil.date_of_birth,
                "school": ctx.session.get(School, r.school_id).name,
            },
            "leave": leave,
            "issued": issued,
            "officer": officer,
            "decides": officer and r.status == request_service.PENDING and case.stage != "closed",
            "done": "Penalty notices requested: the LA will decide." if done == "requested" else "",
            "today": today.isoformat(),
            "submitted": submitted,
        }
        parents: list[dict[str, Any]] = []
        rationale_guards: list[str] = []
        if context["decides"]:
            checks = notices.check_parents(ctx, case, NoticeReason(r.reason), _listed(r.sessions))
            chosen = submitted.get("contact_ids")
            for check in checks:
                standing = [u for u in check.unmet if not u.overridable]
                for u in check.unmet:
                    if u.overridable and u.guard not in rationale_guards:
                        rationale_guards.append(u.guard)
                cid = check.contact.id
                parents.append(
                    {
                        "id": cid,
                        "name": _contact_name(check.contact),
                        "parental_responsibility": check.parental_responsibility,
                        "allowed": check.allowed,
                        "unmet": check.unmet,
                        "amounts": _amounts_text(
                            ctx,
                            check.ordinal,
                            check.amount_discounted_pence,
                            check.amount_full_pence,
                        ),
                        # Checked where a notice may go, or may once the rationale is recorded.
                        "checked": str(cid) in chosen if chosen is not None else not standing,
                    }
                )
        context["parents"] = parents
        context["rationales"] = [
            {
                "guard": g,
                "label": RATIONALE_LABELS.get(g, words(g)),
                "value": submitted.get(f"rationale_{g}", ""),
            }
            for g in sorted(rationale_guards)
        ]
    names = {p["name"]: p["id"] for p in parents}
    known: set[str] = set()
    if context["decides"]:
        known = {f"parent-{p['id']}" for p in parents} | {
            f"issue-rationale_{g}" for g in rationale_guards
        }
        known |= {"issue-parents", "issue-posted_on", "issue-note", "issue"}
        known |= {"decline-reason", "decline"}
    anchored = []
    for e in errors or []:
        if e.field.startswith("parent:"):
            who, _, guard = e.field.removeprefix("parent:").rpartition("|")
            field = (
                f"issue-rationale_{guard}"
                if f"issue-rationale_{guard}" in known
                else f"parent-{names[who]}"
                if who in names
                else "issue-parents"
            )
            anchored.append(FormError(field, e.message))
        else:
            anchored.append(e)
    context["errors"] = _anchor(anchored, known, "issue" if known else PAGE)
    return render("penalties_request.html", context, status=status)


# --- the notice page ---------------------------------------------------------------------------

PAYMENT_FIELDS = {
    "paid_on": ("payment-paid_on", "Date paid"),
    "amount_pence": ("payment-amount", "Amount paid"),
    "method": ("payment-method", "How it was paid"),
    "finance_reference": ("payment-finance_reference", "Finance reference"),
}
WITHDRAW_FIELDS = {"ground": ("withdraw-ground", "Ground"), "note": ("withdraw-note", "Note")}
PROSECUTE_FIELDS = {"note": ("prosecute-note", "Reasons")}
CANCEL_FIELDS = {"reason": ("cancel-reason", "Reason")}
ISSUE_FIELDS = {"posted_on": ("issue-posted_on", "Date of posting")}


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
        officer = _role(ctx) in OFFICERS
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
                "amounts": _amounts_text(
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
                "discount_days_left": _days_left(windows.discount_until, today)
                if shown == "awaiting_payment"
                else None,
                "pay_by": windows.pay_by,
                "days_left": _days_left(windows.pay_by, today)
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
    forms = {
        "issue": ISSUE_FIELDS,
        "cancel": CANCEL_FIELDS,
        "payment": PAYMENT_FIELDS,
        "withdraw": WITHDRAW_FIELDS,
        "prosecute": PROSECUTE_FIELDS,
    }
    known = {"actions"} if context["officer"] else set()
    for name, fields in forms.items():
        if context["offer"][name]:
            known |= {name} | {field for field, _ in fields.values()}
    context["errors"] = _anchor(errors or [], known, "actions" if known else PAGE)
    return render("penalties_notice.html", context, status=status)


def _notice_change(
    request: Request,
    notice_id: int,
    submitted: dict[str, Any],
    fields: dict[str, tuple[str, str]],
    fallback: str,
    change,
    done: str,
) -> Response | Template:
    """Run one change to a notice; a refusal re-renders the notice with the error summary."""
    try:
        with unit_of_work(request, write=True) as ctx:
            change(ctx)
            ctx.commit()
    except InvalidInput as exc:
        errors, status = _problems(exc, fields, fallback), 422
    except NoticeRefused as exc:
        errors = [
            FormError(fallback, f"{who}: {u.reason}")
            for who, unmet in exc.refusals.items()
            for u in unmet
        ]
        status = 409
    except (Conflict, StaleDataError) as exc:
        message = (
            sentence(str(exc))
            if isinstance(exc, Conflict)
            else "Another change to this notice was saved first: check it and try again"
        )
        errors, status = [FormError(fallback, message)], 409
    except Forbidden as exc:
        errors, status = [FormError(fallback, sentence(str(exc)))], 403
    else:
        return Redirect(f"/penalty-notices/{notice_id}?done={done}", status_code=303)
    return notice_page(request, notice_id, errors=errors, submitted=submitted, status=status)


# --- leave pages -------------------------------------------------------------------------------


LEAVE_FIELDS = {
    "school_id": ("leave-school_id", "School"),
    "contact_id": ("leave-contact_id", "Parent who applied"),
    "applied_on": ("leave-applied_on", "Date of application"),
    "first_day": ("leave-first_day", "First day of leave"),
    "last_day": ("leave-last_day", "Last day of leave"),
    "reason": ("leave-reason", "Reason given"),
}
DECISION_FIELDS = {
    "decision": ("decision-decision", "Decision"),
    "exceptional_circumstances": ("decision-exceptional", "Exceptional circumstances"),
    "reasons": ("decision-reasons", "Reasons"),
    "decided_on": ("decision-decided_on", "Date of decision"),
    "decided_by_name": ("decision-decided_by_name", "Decided by"),
    "decided_by_position": ("decision-decided_by_position", "Their position"),
    "authorised_from": ("decision-authorised_from", "Days authorised"),
    "authorised_to": ("decision-authorised_to", "Last day authorised"),
}
TAKEN_FIELDS = {
    "first_absent": ("taken-first_absent", "First day absent"),
    "last_absent": ("taken-last_absent", "Last day absent"),
}


def _current_schools(ctx: Context, pupil: Pupil) -> list[tuple[int, str]]:
    names = {s.id: s.name for s in queries.schools(ctx.session, ctx.scope)}
    today = ctx.today()
    return [
        (e.school_id, names[e.school_id])
        for e in sorted(pupil.enrolments, key=lambda e: e.start_date)
        if e.school_id in names and (e.end_date is None or e.end_date >= today)
    ]


def leave_list_page(
    request: Request,
    pupil_id: int,
    *,
    errors: list[FormError] | None = None,
    submitted: dict[str, Any] | None = None,
    status: int = 200,
) -> Template:
    with unit_of_work(request) as ctx:
        # Outside the user's scope (an administrator's too) the pupil is "not found".
        pupil = queries.pupil(ctx.session, ctx.scope, pupil_id)
        names = {s.id: s.name for s in ctx.session.scalars(select(School))}
        found = ctx.session.execute(
            select(LeaveRequest, LeaveDecision)
            .outerjoin(LeaveDecision, LeaveDecision.request_id == LeaveRequest.id)
            .where(LeaveRequest.pupil_id == pupil.id)
            .order_by(LeaveRequest.first_day.desc(), LeaveRequest.id.desc())
        ).all()
        schools = _current_schools(ctx, pupil)
        context = {
            "me": me(ctx),
            "pupil": {"id": pupil.id, "name": pupil.display_name},
            "requests": [
                {
                    "id": lr.id,
                    "school": names.get(lr.school_id, ""),
                    "parent": _contact_name(lr.applied_by),
                    "applied_on": lr.applied_on,
                    "first_day": lr.first_day,
                    "last_day": lr.last_day,
                    "decision": LEAVE_DECISION_WORDS.get(d.decision, words(d.decision))
                    if d
                    else "Not decided yet",
                }
                for lr, d in found
            ],
            "may_record": _role(ctx) in leave_service.SCHOOL_ROLES,
            "school_options": schools,
            "contact_options": [
                (
                    link.contact_id,
                    _contact_name(link.contact)
                    + f" ({words(link.relationship_to_pupil).lower()}"
                    + (", parental responsibility)" if link.parental_responsibility else ")"),
                )
                for link in notices.parents_of(ctx, pupil.id)
            ],
            "form": submitted
            or {
                "applied_on": ctx.today().isoformat(),
                "school_id": str(schools[0][0]) if len(schools) == 1 else "",
            },
        }
    offered = context["may_record"] and schools and context["contact_options"]
    known = {field for field, _ in LEAVE_FIELDS.values()} | {"record-leave"} if offered else set()
    context["errors"] = _anchor(errors or [], known, "record-leave" if offered else PAGE)
    return render("leave_list.html", context, status=status)


def leave_page(
    request: Request,
    leave_id: int,
    *,
    errors: list[FormError] | None = None,
    submitted: dict[str, Any] | None = None,
    status: int = 200,
    done: str = "",
) -> Template:
    submitted = submitted or {}
    with unit_of_work(request) as ctx:
        bundle = leave_service.leave_bundle(ctx, leave_id)
        lr, decision = bundle["request"], bundle["decision"]
        pupil = ctx.session.get(Pupil, lr.pupil_id)
        deciders = _role(ctx) in LEAVE_DECIDERS
        marks: dict[date, dict[str, str]] = {}
        for d, session, code in bundle["register"]:
            marks.setdefault(d, {"AM": "", "PM": ""})[session] = code
        context = {
            "me": me(ctx),
            "leave": {
                "id": lr.id,
                "pupil_id": lr.pupil_id,
                "pupil": pupil.display_name,
                "school": ctx.session.get(School, lr.school_id).name,
                "parent": _contact_name(lr.applied_by),
                "applied_on": lr.applied_on,
                "first_day": lr.first_day,
                "last_day": lr.last_day,
                "reason": lr.reason,
            },
            "decision": {
                "decision": LEAVE_DECISION_WORDS.get(decision.decision, words(decision.decision)),
                "exceptional": decision.exceptional_circumstances,
                "reasons": decision.reasons,
                "decided_on": decision.decided_on,
                "decided_by": f"{decision.decided_by_name}, {decision.decided_by_position}",
                "authorised_from": decision.authorised_from,
                "authorised_to": decision.authorised_to,
                "school_days_authorised": decision.school_days_authorised,
            }
            if decision
            else None,
            "register": [(d, marks[d]["AM"], marks[d]["PM"]) for d in sorted(marks)],
            "may_decide": deciders and decision is None,
            "may_record_taken": deciders and decision is not None,
            "decision_options": list(LEAVE_DECISION_WORDS.items()),
            "done": LEAVE_DONE.get(done, ""),
            "form": submitted.get("form", ""),
            "decide": submitted
            if submitted.get("form") == "decision"
            else {"decided_on": ctx.today().isoformat()},
            "taken": submitted
            if submitted.get("form") == "taken"
            else {
                "first_absent": lr.first_day.isoformat(),
                "last_absent": lr.last_day.isoformat(),
            },
        }
    known = {"decision"}
    if context["may_decide"]:
        known |= {field for field, _ in DECISION_FIELDS.values()}
    if context["may_record_taken"]:
        known |= {"taken"} | {field for field, _ in TAKEN_FIELDS.values()}
    context["errors"] = _anchor(errors or [], known, "decision")
    return render("leave.html", context, status=status)


def _leave_change(
    request: Request,
    leave_id: int,
    submitted: dict[str, Any],
    fields: dict[str, tuple[str, str]],
    fallback: str,
    change,
    done: str,
) -> Response | Template:
    try:
        with unit_of_work(request, write=True) as ctx:
            change(ctx)
            ctx.commit()
    except InvalidInput as exc:
        errors, status = _problems(exc, fields, fallback), 422
    except (Conflict, StaleDataError) as exc:
        message = (
            sentence(str(exc))
            if isinstance(exc, Conflict)
            else "Another change to these records was saved first: check them and try again"
        )
        errors, status = [FormError(fallback, message)], 409
    except Forbidden as exc:
        errors, status = [FormError(fallback, sentence(str(exc)))], 403
    else:
        return Redirect(f"/leave/{leave_id}?done={done}", status_code=303)
    return leave_page(request, leave_id, errors=errors, submitted=submitted, status=status)


# --- the register ------------------------------------------------------------------------------


def _register_filter(
    ctx: Context, status: str, school: str, reason: str, month: str, page: int
) -> tuple[register.RegisterFilter, dict[str, str], list[FormError]]:
    errors = []
    asked = {"status": status, "school": school, "reason": reason, "month": month.strip()}
    if status and status not in register.STATUS_LABELS:
        errors.append(FormError("status", "Status: choose one of the statuses listed"))
    if school and not school.isdigit():
        errors.append(FormError("school", "School: choose one of the schools listed"))
    if reason and reason not in {r.value for r in NoticeReason}:
        errors.append(FormError("reason", "Reason: choose one of the reasons listed"))
    if asked["month"] and not MONTH.fullmatch(asked["month"]):
        errors.append(
            FormError("month", "Month of issue: enter it as YYYY-MM, for example 2024-11")
        )
    found = register.RegisterFilter(
        status=status or None,
        school_id=int(school) if school.isdigit() else None,
        reason=reason or None,
        month=asked["month"] or None,
        page=page,
        page_size=PAGE_SIZE,
    )
    return found, asked, errors


def _register_context(ctx: Context, asked: dict[str, str]) -> dict[str, Any]:
    counts = register.counts_by_status(ctx)
    return {
        "me": me(ctx),
        "asked": asked,
        "status_options": list(register.STATUS_LABELS.items()),
        "school_options": [(s.id, s.name) for s in queries.schools(ctx.session, ctx.scope)],
        "reason_options": [(r.value, r.label) for r in NoticeReason],
        "counts": [(label, counts.get(key, 0)) for key, label in register.STATUS_LABELS.items()],
        "counted": sum(counts.values()),
        "csv_link": "/penalty-notices/register.csv"
        + ("?" + urlencode({k: v for k, v in asked.items() if v}) if any(asked.values()) else ""),
    }


# --- the controller ----------------------------------------------------------------------------


class PenaltyPages(Controller):
    include_in_schema = False

    @get("/penalty-notices", sync_to_thread=True)
    def queues(
        self,
        request: Request,
        issued: Annotated[int | None, QueryParameter(ge=1)] = None,
        declined: Annotated[int | None, QueryParameter(ge=1)] = None,
    ) -> Template:
        with unit_of_work(request) as ctx:
            _casework_only(ctx)
            today = ctx.today()
            found = register.queues(ctx)
            confirmation = None
            if issued or declined:
                try:
                    r = request_service.request_for(ctx, issued or declined)
                except NotFound:
                    r = None
                if r is not None and issued and r.status == request_service.ACCEPTED:
                    confirmation = {
                        "title": f"Penalty notices issued for {r.pupil.display_name}",
                        "notices": [
                            (n.id, n.reference, n.recipient["name"])
                            for n in ctx.session.scalars(
                                select(PenaltyNotice)
                                .where(PenaltyNotice.request_id == r.id)
                                .order_by(PenaltyNotice.id)
                            )
                        ],
                    }
                elif r is not None and declined and r.status == request_service.DECLINED:
                    confirmation = {
                        "title": f"The request for {r.pupil.display_name} is declined",
                        "notices": [],
                    }
            context = {
                "me": me(ctx),
                "officer": _role(ctx) in OFFICERS,
                "confirmation": confirmation,
                "requests": found.requests,
                "threshold": [
                    {"row": t, "flag": FLAG_LABELS.get(t.flag, words(t.flag))}
                    for t in register.threshold_list(ctx)
                ],
                "drafts": found.drafts,
                "awaiting": [_notice_row(n, today) for n in found.awaiting_payment],
                "decisions": found.decisions_due,
            }
        return render("penalties.html", context)

    # The request, the checks for each parent and the decision.

    @get("/penalty-notices/requests/{request_id:int}", sync_to_thread=True)
    def show_request(
        self, request: Request, request_id: FromPath[int], done: Query = ""
    ) -> Template:
        return request_page(request, request_id, done=done)

    @post("/penalty-notices/requests/{request_id:int}/issue", sync_to_thread=True)
    def issue(
        self,
        request: Request,
        request_id: FromPath[int],
        data: Annotated[IssueForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response | Template:
        chosen = [data.contact_ids] if isinstance(data.contact_ids, str) else data.contact_ids
        submitted = {"form": "issue", **msgspec.structs.asdict(data), "contact_ids": chosen}
        errors: list[FormError] = []
        version = _version(data.expected_version)
        if version is None:
            errors.append(FormError("issue", "Reload the request and try again"))
        posted_on = _read_date(data.posted_on, "issue-posted_on", "Date of posting", errors)
        if not chosen:
            errors.append(
                FormError("issue-parents", "Parents: choose each parent to issue a notice to")
            )
        elif not all(c.isdigit() for c in chosen):
            errors.append(FormError("issue-parents", "Parents: choose from the parents listed"))
        if errors:
            return request_page(request, request_id, errors=errors, submitted=submitted, status=422)
        command = request_service.IssueFromRequest(
            posted_on=posted_on,
            contact_ids=[int(c) for c in chosen],
            rationales={
                name: text
                for name in OVERRIDABLE
                if (text := getattr(data, f"rationale_{name}")).strip()
            },
            note=data.note,
            expected_version=version,
        )
        try:
            with unit_of_work(request, write=True) as ctx:
                request_service.issue_from_request(ctx, request_id, command)
                ctx.commit()
        except NoticeRefused as exc:
            errors = [
                FormError(f"parent:{who}|{u.guard}", f"{who}: {sentence(u.reason)}")
                for who, unmet in exc.refusals.items()
                for u in unmet
            ]
            status = 409
        except InvalidInput as exc:
            errors = []
            for p in exc.problems:
                if p.field.startswith("rationales."):
                    guard = p.field.split(".", 1)[1]
                    errors.append(FormError(f"issue-rationale_{guard}", f"Rationale: {p.rule}"))
                elif p.field == "posted_on":
                    errors.append(FormError("issue-posted_on", f"Date of posting: {p.rule}"))
                elif p.field == "contact_ids":
                    errors.append(FormError("issue-parents", f"Parents: {p.rule}"))
                else:
                    errors.append(FormError("issue", sentence(p.rule)))
            status = 422
        except (Conflict, StaleDataError) as exc:
            message = (
                sentence(str(exc))
                if isinstance(exc, Conflict)
                else "Another change to this request was saved first: check it and try again"
            )
            errors, status = [FormError("issue", message)], 409
        except Forbidden as exc:
            errors, status = [FormError("issue", sentence(str(exc)))], 403
        else:
            return Redirect(f"/penalty-notices?issued={request_id}", status_code=303)
        return request_page(request, request_id, errors=errors, submitted=submitted, status=status)

    @post("/penalty-notices/requests/{request_id:int}/decline", sync_to_thread=True)
    def decline(
        self,
        request: Request,
        request_id: FromPath[int],
        data: Annotated[DeclineForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response | Template:
        submitted = {"form": "decline", **msgspec.structs.asdict(data)}
        version = _version(data.expected_version)
        if version is None:
            error = FormError("decline", "Reload the request and try again")
            return request_page(
                request, request_id, errors=[error], submitted=submitted, status=400
            )
        try:
            with unit_of_work(request, write=True) as ctx:
                request_service.decline_request(ctx, request_id, data.reason, version)
                ctx.commit()
        except InvalidInput as exc:
            errors = _problems(exc, {"reason": ("decline-reason", "Reason")}, "decline")
            status = 422
        except (Conflict, StaleDataError) as exc:
            message = (
                sentence(str(exc))
                if isinstance(exc, Conflict)
                else "Another change to this request was saved first: check it and try again"
            )
            errors, status = [FormError("decline", message)], 409
        except Forbidden as exc:
            errors, status = [FormError("decline", sentence(str(exc)))], 403
        else:
            return Redirect(f"/penalty-notices?declined={request_id}", status_code=303)
        return request_page(request, request_id, errors=errors, submitted=submitted, status=status)

    # The request form on the case page.

    @post("/cases/{case_id:int}/penalty-notice-requests", sync_to_thread=True)
    def make_request(
        self,
        request: Request,
        case_id: FromPath[int],
        data: Annotated[RequestForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response | Template:
        from api.pages.cases import case_page

        submitted = {"form": "penalty_request", **msgspec.structs.asdict(data)}
        errors = []
        if data.reason not in {r.value for r in NoticeReason}:
            errors.append(FormError("penalty-reason", "Reason: choose one of the reasons listed"))
        leave_id = data.leave_request_id.strip()
        if leave_id and not leave_id.isdigit():
            errors.append(
                FormError("penalty-leave_request_id", "Leave request: choose one of those listed")
            )
        if errors:
            return case_page(request, case_id, errors=errors, submitted=submitted, status=422)
        command = request_service.MakeRequest(
            case_id=case_id,
            reason=data.reason,
            summary=data.summary,
            leave_request_id=int(leave_id) if leave_id else None,
        )
        try:
            with unit_of_work(request, write=True) as ctx:
                made = request_service.make_request(ctx, command)
                ctx.commit()
                made_id = made.id
        except InvalidInput as exc:
            errors, status = _problems(exc, CASE_REQUEST_FIELDS, "penalty-notices"), 422
        except (Conflict, StaleDataError) as exc:
            message = (
                sentence(str(exc))
                if isinstance(exc, Conflict)
                else "Another change to this case was saved first: check it and try again"
            )
            errors, status = [FormError("penalty-notices", message)], 409
        except Forbidden as exc:
            errors, status = [FormError("penalty-notices", sentence(str(exc)))], 403
        else:
            return Redirect(f"/penalty-notices/requests/{made_id}?done=requested", status_code=303)
        return case_page(request, case_id, errors=errors, submitted=submitted, status=status)

    # The central register and reports (static paths before the notice's own).

    @get("/penalty-notices/register", sync_to_thread=True)
    def central_register(
        self,
        request: Request,
        status: Query = "",
        school: Query = "",
        reason: Query = "",
        month: Query = "",
        page: Annotated[int, QueryParameter(ge=1, le=100_000)] = 1,
    ) -> Template:
        with unit_of_work(request) as ctx:
            _casework_only(ctx)
            found, asked, errors = _register_filter(ctx, status, school, reason, month, page)
            context = _register_context(ctx, asked)
            rows, total = ([], 0) if errors else register.central_register(ctx, found)
            today = ctx.today()

            def link(to_page: int) -> str:
                return "/penalty-notices/register?" + urlencode(
                    {**{k: v for k, v in asked.items() if v}, "page": to_page}
                )

            context.update(
                rows=[_notice_row(r, today) for r in rows],
                total=total,
                first=(page - 1) * PAGE_SIZE + 1,
                last=(page - 1) * PAGE_SIZE + len(rows),
                previous=link(page - 1) if page > 1 and not errors else None,
                next=link(page + 1) if page * PAGE_SIZE < total else None,
                errors=errors,
            )
        return render("penalties_register.html", context, status=422 if errors else 200)

    @get("/penalty-notices/register.csv", sync_to_thread=True)
    def register_download(
        self,
        request: Request,
        status: Query = "",
        school: Query = "",
        reason: Query = "",
        month: Query = "",
    ) -> Response | Template:
        with unit_of_work(request) as ctx:
            _casework_only(ctx)
            found, asked, errors = _register_filter(ctx, status, school, reason, month, 1)
            if errors:
                context = _register_context(ctx, asked)
                context.update(rows=[], total=0, errors=errors, previous=None, next=None)
                return render("penalties_register.html", context, status=422)
            text = register.register_csv(ctx, found)
            name = f"penalty-notices-{ctx.today().isoformat()}.csv"
        return Response(
            content=text,
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
            },
        )

    @get("/penalty-notices/reports", sync_to_thread=True)
    def reports(self, request: Request) -> Template:
        with unit_of_work(request) as ctx:
            _casework_only(ctx)
            context = {
                "me": me(ctx),
                "reports": [
                    ("school", "By school", "School", register.report(ctx, "school")),
                    ("reason", "By reason", "Reason", register.report(ctx, "reason")),
                    ("month", "By month of issue", "Month", register.report(ctx, "month")),
                ],
                "money": money,
            }
        return render("penalties_reports.html", context)

    # One notice.

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
        self,
        request: Request,
        notice_id: FromPath[int],
        data: Annotated[PaymentForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response | Template:
        submitted = {"form": "payment", **msgspec.structs.asdict(data)}
        errors: list[FormError] = []
        paid_on = _read_date(data.paid_on, "payment-paid_on", "Date paid", errors)
        amount = pounds_to_pence(data.amount)
        if amount is None:
            errors.append(
                FormError(
                    "payment-amount",
                    "Amount paid: enter the amount in pounds, for example 80 or 80.00",
                )
            )
        if errors:
            return notice_page(request, notice_id, errors=errors, submitted=submitted, status=422)
        command = notices.RecordPayment(
            paid_on=paid_on,
            amount_pence=amount,
            method=data.method,
            finance_reference=data.finance_reference,
            expected_version=_version(data.expected_version),
        )
        return _notice_change(
            request,
            notice_id,
            submitted,
            PAYMENT_FIELDS,
            "payment",
            lambda ctx: notices.record_payment(ctx, notice_id, command),
            "paid",
        )

    @post("/penalty-notices/{notice_id:int}/withdraw", sync_to_thread=True)
    def withdraw(
        self,
        request: Request,
        notice_id: FromPath[int],
        data: Annotated[WithdrawForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response | Template:
        submitted = {"form": "withdraw", **msgspec.structs.asdict(data)}
        return _notice_change(
            request,
            notice_id,
            submitted,
            WITHDRAW_FIELDS,
            "withdraw",
            lambda ctx: notices.withdraw_notice(
                ctx, notice_id, data.ground, data.note, _version(data.expected_version)
            ),
            "withdrawn",
        )

    @post("/penalty-notices/{notice_id:int}/prosecute", sync_to_thread=True)
    def prosecute(
        self,
        request: Request,
        notice_id: FromPath[int],
        data: Annotated[NoteForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response | Template:
        submitted = {"form": "prosecute", **msgspec.structs.asdict(data)}
        return _notice_change(
            request,
            notice_id,
            submitted,
            PROSECUTE_FIELDS,
            "prosecute",
            lambda ctx: notices.decide_prosecution(
                ctx, notice_id, data.note, _version(data.expected_version)
            ),
            "prosecution",
        )

    @post("/penalty-notices/{notice_id:int}/cancel", sync_to_thread=True)
    def cancel(
        self,
        request: Request,
        notice_id: FromPath[int],
        data: Annotated[CancelForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response | Template:
        submitted = {"form": "cancel", **msgspec.structs.asdict(data)}
        return _notice_change(
            request,
            notice_id,
            submitted,
            CANCEL_FIELDS,
            "cancel",
            lambda ctx: notices.cancel_draft(
                ctx, notice_id, data.reason, _version(data.expected_version)
            ),
            "cancelled",
        )

    @post("/penalty-notices/{notice_id:int}/issue", sync_to_thread=True)
    def issue_draft(
        self,
        request: Request,
        notice_id: FromPath[int],
        data: Annotated[IssueDraftForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response | Template:
        submitted = {"form": "issue", **msgspec.structs.asdict(data)}
        errors: list[FormError] = []
        posted_on = _read_date(data.posted_on, "issue-posted_on", "Date of posting", errors)
        if errors:
            return notice_page(request, notice_id, errors=errors, submitted=submitted, status=422)
        return _notice_change(
            request,
            notice_id,
            submitted,
            ISSUE_FIELDS,
            "issue",
            lambda ctx: notices.issue_notice(
                ctx, notice_id, posted_on, _version(data.expected_version)
            ),
            "issued",
        )

    # Leave of absence.

    @get("/pupils/{pupil_id:int}/leave", sync_to_thread=True)
    def leave_list(self, request: Request, pupil_id: FromPath[int]) -> Template:
        return leave_list_page(request, pupil_id)

    @post("/pupils/{pupil_id:int}/leave", sync_to_thread=True)
    def record_leave(
        self,
        request: Request,
        pupil_id: FromPath[int],
        data: Annotated[LeaveForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response | Template:
        submitted = msgspec.structs.asdict(data)
        errors: list[FormError] = []
        if not data.school_id.isdigit():
            errors.append(FormError("leave-school_id", "School: choose the pupil's school"))
        if not data.contact_id.isdigit():
            errors.append(
                FormError("leave-contact_id", "Parent who applied: choose one of those listed")
            )
        applied_on = _read_date(data.applied_on, "leave-applied_on", "Date of application", errors)
        first = _read_date(data.first_day, "leave-first_day", "First day of leave", errors)
        last = _read_date(data.last_day, "leave-last_day", "Last day of leave", errors)
        if errors:
            return leave_list_page(
                request, pupil_id, errors=errors, submitted=submitted, status=422
            )
        command = leave_service.ApplyForLeave(
            pupil_id=pupil_id,
            school_id=int(data.school_id),
            contact_id=int(data.contact_id),
            applied_on=applied_on,
            first_day=first,
            last_day=last,
            reason=data.reason,
        )
        try:
            with unit_of_work(request, write=True) as ctx:
                made = leave_service.apply_for_leave(ctx, command)
                ctx.commit()
                made_id = made.id
        except InvalidInput as exc:
            errors, status = _problems(exc, LEAVE_FIELDS, "record-leave"), 422
        except Forbidden as exc:
            errors, status = [FormError("record-leave", sentence(str(exc)))], 403
        else:
            return Redirect(f"/leave/{made_id}?done=recorded", status_code=303)
        return leave_list_page(request, pupil_id, errors=errors, submitted=submitted, status=status)

    @get("/leave/{leave_id:int}", sync_to_thread=True)
    def show_leave(self, request: Request, leave_id: FromPath[int], done: Query = "") -> Template:
        return leave_page(request, leave_id, done=done)

    @post("/leave/{leave_id:int}/decision", sync_to_thread=True)
    def decide_leave(
        self,
        request: Request,
        leave_id: FromPath[int],
        data: Annotated[LeaveDecisionForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response | Template:
        submitted = {"form": "decision", **msgspec.structs.asdict(data)}
        errors: list[FormError] = []
        if data.decision not in LEAVE_DECISION_WORDS:
            errors.append(FormError("decision-decision", "Decision: choose one"))
        if data.exceptional_circumstances not in ("yes", "no"):
            errors.append(
                FormError(
                    "decision-exceptional",
                    "Exceptional circumstances: say whether there are exceptional circumstances",
                )
            )
        decided_on = _read_date(data.decided_on, "decision-decided_on", "Date of decision", errors)
        start = _read_date(
            data.authorised_from,
            "decision-authorised_from",
            "First day authorised",
            errors,
            optional=True,
        )
        end = _read_date(
            data.authorised_to,
            "decision-authorised_to",
            "Last day authorised",
            errors,
            optional=True,
        )
        if errors:
            return leave_page(request, leave_id, errors=errors, submitted=submitted, status=422)
        command = leave_service.DecideLeave(
            decision=data.decision,
            exceptional_circumstances=data.exceptional_circumstances == "yes",
            reasons=data.reasons,
            decided_on=decided_on,
            decided_by_name=data.decided_by_name,
            decided_by_position=data.decided_by_position,
            authorised_from=start,
            authorised_to=end,
        )
        return _leave_change(
            request,
            leave_id,
            submitted,
            DECISION_FIELDS,
            "decision",
            lambda ctx: leave_service.decide_leave(ctx, leave_id, command),
            "decided",
        )

    @post("/leave/{leave_id:int}/taken", sync_to_thread=True)
    def leave_taken(
        self,
        request: Request,
        leave_id: FromPath[int],
        data: Annotated[LeaveTakenForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Response | Template:
        submitted = {"form": "taken", **msgspec.structs.asdict(data)}
        errors: list[FormError] = []
        first = _read_date(data.first_absent, "taken-first_absent", "First day absent", errors)
        last = _read_date(data.last_absent, "taken-last_absent", "Last day absent", errors)
        if errors:
            return leave_page(request, leave_id, errors=errors, submitted=submitted, status=422)
        return _leave_change(
            request,
            leave_id,
            submitted,
            TAKEN_FIELDS,
            "taken",
            lambda ctx: leave_service.record_leave_taken(ctx, leave_id, first, last),
            "taken",
        )
