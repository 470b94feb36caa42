"""Penalty-notice requests: the case page's section and request form, and a request's page with
each parent's checks, where a statutory officer issues the notices or declines the request.
Each decision is ``workflows.penalties.requests``'s to allow.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import select

from api.deps import unit_of_work
from api.pages.common import FormError, day, is_number, me, render, sentence, words
from api.pages.penalty_forms import (
    LEAVE_DECISION_WORDS,
    PAGE,
    RATIONALE_LABELS,
    Form,
    IssueForm,
    Query,
    ReasonForm,
    RequestForm,
    Saved,
    anchor,
    contact_name,
    field_ids,
    read_date,
    save,
    submitted,
    version,
)
from api.pages.penalty_notices import amounts_text
from casework.errors import InvalidInput, NotFound, NoticeRefused
from casework.models import (
    Case,
    LeaveDecision,
    LeaveRequest,
    PenaltyNotice,
    PenaltyNoticeRequest,
    School,
)
from casework.vocabulary import Role, Stage
from workflows.context import Context
from workflows.facts import ListedSession
from workflows.penalties import leave as leave_service
from workflows.penalties import notices, register
from workflows.penalties import requests as request_service
from workflows.penalties.rules import OVERRIDABLE, REASON_LABELS, NoticeReason

REQUEST_STATUS = {
    "pending": "Awaiting the LA's decision",
    "accepted": "Accepted",
    "declined": "Declined",
}
STALE = "Another change to this request was saved first: check it and try again"
# The request form on the case page: the service's fields as the form's (id, label).
CASE_REQUEST_FIELDS = {
    "reason": ("penalty-reason", "Reason"),
    "summary": ("penalty-summary", "Summary"),
    "leave_request_id": ("penalty-leave_request_id", "Leave request"),
    "sessions": ("penalty-notices", "Sessions"),
    "case_id": ("penalty-notices", "Case"),
}
CASE_FIELD_IDS = field_ids(CASE_REQUEST_FIELDS)


def issued_from(ctx: Context, request_id: int) -> list[PenaltyNotice]:
    """The notices issued from a request, in the order they were made."""
    return list(
        ctx.session.scalars(
            select(PenaltyNotice)
            .where(PenaltyNotice.request_id == request_id)
            .order_by(PenaltyNotice.id)
        )
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
    role = Role(ctx.actor.role)
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


def _leave(ctx: Context, r: PenaltyNoticeRequest) -> dict[str, Any] | None:
    """The leave request a holiday request relies on: the decision as the request recorded it,
    and the request itself where the user may see it."""
    if r.leave_request_id is None:
        return None
    try:
        found = leave_service.leave_request_for(ctx, r.leave_request_id)
    except NotFound:
        found = None
    decision = leave_service.decision_of(ctx, found) if found else None
    block = r.register_extract.get("leave") or {}
    return {
        "id": r.leave_request_id,
        "visible": found is not None,
        "parent": contact_name(found.applied_by) if found else "",
        "reason": found.reason if found else "",
        "applied_on": found.applied_on if found else None,
        "first_day": found.first_day if found else None,
        "last_day": found.last_day if found else None,
        "decision": LEAVE_DECISION_WORDS.get(block.get("decision", ""), ""),
        "decided_on": decision.decided_on if decision else None,
        "decided_by": (
            f"{decision.decided_by_name}, {decision.decided_by_position}" if decision else ""
        ),
        "reasons": block.get("decision_reasons", ""),
    }


def _parent_checks(
    ctx: Context, r: PenaltyNoticeRequest, submitted: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Each parent's checks for the issue form, and the checks a rationale may set aside."""
    parents: list[dict[str, Any]] = []
    guards: list[str] = []
    chosen = submitted.get("contact_ids")
    for check in notices.check_parents(ctx, r.case, NoticeReason(r.reason), _listed(r.sessions)):
        standing = [u for u in check.unmet if not u.overridable]
        for u in check.unmet:
            if u.overridable and u.guard not in guards:
                guards.append(u.guard)
        cid = check.contact.id
        parents.append(
            {
                "id": cid,
                "name": contact_name(check.contact),
                "parental_responsibility": check.parental_responsibility,
                "allowed": check.allowed,
                "unmet": check.unmet,
                "amounts": amounts_text(
                    ctx, check.ordinal, check.amount_discounted_pence, check.amount_full_pence
                ),
                # Checked where a notice may go, or may once the rationale is recorded.
                "checked": str(cid) in chosen if chosen is not None else not standing,
            }
        )
    return parents, guards


def _point(
    errors: list[FormError], parents: list[dict[str, Any]], guards: list[str], decides: bool
) -> list[FormError]:
    """Point each error at the field the page shows for it: a parent's refusal at the rationale
    that sets it aside, else at the parent; the rest at the decision forms, else the page."""
    names = {p["name"]: p["id"] for p in parents}
    known: set[str] = set()
    if decides:
        known = {f"parent-{p['id']}" for p in parents} | {f"issue-rationale_{g}" for g in guards}
        known |= {"issue-parents", "issue-posted_on", "issue-note", "issue"}
        known |= {"decline-reason", "decline"}
    anchored = []
    for e in errors:
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
    return anchor(anchored, known, "issue" if known else PAGE)


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
        officer = Role(ctx.actor.role) in notices.OFFICERS
        issued = [
            {
                "id": n.id,
                "reference": n.reference,
                "parent": n.recipient["name"],
                "status": register.STATUS_LABELS[notices.display_status(n, today)],
            }
            for n in issued_from(ctx, r.id)
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
            "leave": _leave(ctx, r),
            "issued": issued,
            "officer": officer,
            "decides": officer and r.status == request_service.PENDING and case.stage != "closed",
            "done": "Penalty notices requested: the LA will decide." if done == "requested" else "",
            "today": today.isoformat(),
            "submitted": submitted,
        }
        parents, guards = _parent_checks(ctx, r, submitted) if context["decides"] else ([], [])
        context["parents"] = parents
        context["rationales"] = [
            {
                "guard": g,
                "label": RATIONALE_LABELS.get(g, words(g)),
                "value": submitted.get(f"rationale_{g}", ""),
            }
            for g in sorted(guards)
        ]
    context["errors"] = _point(errors or [], parents, guards, context["decides"])
    return render("penalties_request.html", context, status=status)


def _issue_problems(exc: InvalidInput) -> list[FormError]:
    """The issue form's broken rules: a rationale, the date of posting, the parents chosen."""
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
    return errors


def _issue_refusals(exc: NoticeRefused) -> list[FormError]:
    """Each parent's failed checks, for ``request_page`` to point at the parent or rationale."""
    return [
        FormError(f"parent:{who}|{u.guard}", f"{who}: {sentence(u.reason)}")
        for who, unmet in exc.refusals.items()
        for u in unmet
    ]


def _decided(
    request: Request, request_id: int, shown: dict[str, Any], saved: Saved, done: str
) -> Response | Template:
    """Back to the queue, which confirms what was ``done``; or the request again with the error
    summary."""
    if saved.errors:
        return request_page(
            request, request_id, errors=saved.errors, submitted=shown, status=saved.status
        )
    return Redirect(f"/penalty-notices?{done}={request_id}", status_code=303)


class PenaltyRequestPages(Controller):
    include_in_schema = False

    @get("/penalty-notices/requests/{request_id:int}", sync_to_thread=True)
    def show_request(
        self, request: Request, request_id: FromPath[int], done: Query = ""
    ) -> Template:
        return request_page(request, request_id, done=done)

    @post("/penalty-notices/requests/{request_id:int}/issue", sync_to_thread=True)
    def issue(
        self, request: Request, request_id: FromPath[int], data: Form[IssueForm]
    ) -> Response | Template:
        chosen = [data.contact_ids] if isinstance(data.contact_ids, str) else data.contact_ids
        shown = {**submitted("issue", data), "contact_ids": chosen}
        errors: list[FormError] = []
        expected = version(data.expected_version)
        if expected is None:
            errors.append(FormError("issue", "Reload the request and try again"))
        posted_on = read_date(data.posted_on, "issue-posted_on", "Date of posting", errors)
        if not chosen:
            errors.append(
                FormError("issue-parents", "Parents: choose each parent to issue a notice to")
            )
        elif not all(is_number(c) for c in chosen):
            errors.append(FormError("issue-parents", "Parents: choose from the parents listed"))
        if errors:
            return request_page(request, request_id, errors=errors, submitted=shown, status=422)
        command = request_service.IssueFromRequest(
            posted_on=posted_on,
            contact_ids=[int(c) for c in chosen],
            rationales={
                name: text
                for name in OVERRIDABLE
                if (text := getattr(data, f"rationale_{name}")).strip()
            },
            note=data.note,
            expected_version=expected,
        )
        saved = save(
            request,
            lambda ctx: request_service.issue_from_request(ctx, request_id, command),
            fields={},
            fallback="issue",
            stale=STALE,
            invalid=_issue_problems,
            refused=_issue_refusals,
        )
        return _decided(request, request_id, shown, saved, "issued")

    @post("/penalty-notices/requests/{request_id:int}/decline", sync_to_thread=True)
    def decline(
        self, request: Request, request_id: FromPath[int], data: Form[ReasonForm]
    ) -> Response | Template:
        shown = submitted("decline", data)
        expected = version(data.expected_version)
        if expected is None:
            error = FormError("decline", "Reload the request and try again")
            return request_page(request, request_id, errors=[error], submitted=shown, status=400)
        saved = save(
            request,
            lambda ctx: request_service.decline_request(ctx, request_id, data.reason, expected),
            fields={"reason": ("decline-reason", "Reason")},
            fallback="decline",
            stale=STALE,
        )
        return _decided(request, request_id, shown, saved, "declined")

    # The request form on the case page.

    @post("/cases/{case_id:int}/penalty-notice-requests", sync_to_thread=True)
    def make_request(
        self, request: Request, case_id: FromPath[int], data: Form[RequestForm]
    ) -> Response | Template:
        from api.pages.cases import case_page  # the case page shows this module's section

        shown = submitted("penalty_request", data)
        errors = []
        if data.reason not in {r.value for r in NoticeReason}:
            errors.append(FormError("penalty-reason", "Reason: choose one of the reasons listed"))
        leave_id = data.leave_request_id.strip()
        if leave_id and not is_number(leave_id):
            errors.append(
                FormError("penalty-leave_request_id", "Leave request: choose one of those listed")
            )
        if errors:
            return case_page(request, case_id, errors=errors, submitted=shown, status=422)
        command = request_service.MakeRequest(
            case_id=case_id,
            reason=data.reason,
            summary=data.summary,
            leave_request_id=int(leave_id) if leave_id else None,
        )
        saved = save(
            request,
            lambda ctx: request_service.make_request(ctx, command).id,
            fields=CASE_REQUEST_FIELDS,
            fallback="penalty-notices",
            stale="Another change to this case was saved first: check it and try again",
        )
        if saved.errors:
            return case_page(
                request, case_id, errors=saved.errors, submitted=shown, status=saved.status
            )
        return Redirect(f"/penalty-notices/requests/{saved.value}?done=requested", status_code=303)
