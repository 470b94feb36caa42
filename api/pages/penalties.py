"""The statutory officer's penalty-notice pages: the queues and threshold list, the central
register of notices with its CSV for finance, and the reports. For the casework roles only.

A request, a notice and leave have their own pages (``penalty_requests``, ``penalty_notices``,
``leave``); the forms they share are ``penalty_forms``.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get
from litestar.params import QueryParameter
from litestar.response import Template

from api.deps import unit_of_work
from api.pages.common import FormError, is_number, me, render, words
from api.pages.penalty_forms import Query
from api.pages.penalty_notices import days_left
from api.pages.penalty_requests import issued_from
from casework import queries
from casework.errors import Forbidden, NotFound
from casework.vocabulary import Role
from workflows.context import Context
from workflows.penalties import notices, register
from workflows.penalties import requests as request_service
from workflows.penalties.rules import NoticeReason, money
from workflows.policy import CASEWORK_ROLES

MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
PAGE_SIZE = 50
FLAG_LABELS = {
    "penalty_threshold": "Penalty-notice threshold",
    "late_after_close": "Late after the register closed",
}


def _casework_only(ctx: Context) -> None:
    if Role(ctx.actor.role) not in CASEWORK_ROLES:
        raise Forbidden(
            "administrators manage users and settings: penalty notices are not shown to them"
        )


def _notice_row(row: register.NoticeRow, today: date) -> dict[str, Any]:
    return {
        "row": row,
        "discount_days_left": days_left(row.discount_until, today),
        "days_left": days_left(row.pay_by, today),
    }


def _register_filter(
    status: str, school: str, reason: str, month: str, page: int
) -> tuple[register.RegisterFilter, dict[str, str], list[FormError]]:
    """The filter for the register's rows, as asked (to show again) and what is wrong with it."""
    errors = []
    asked = {"status": status, "school": school, "reason": reason, "month": month.strip()}
    if status and status not in register.STATUS_LABELS:
        errors.append(FormError("status", "Status: choose one of the statuses listed"))
    if school and not is_number(school):
        errors.append(FormError("school", "School: choose one of the schools listed"))
    if reason and reason not in {r.value for r in NoticeReason}:
        errors.append(FormError("reason", "Reason: choose one of the reasons listed"))
    if asked["month"] and not MONTH.fullmatch(asked["month"]):
        errors.append(
            FormError("month", "Month of issue: enter it as YYYY-MM, for example 2024-11")
        )
    found = register.RegisterFilter(
        status=status or None,
        school_id=int(school) if is_number(school) else None,
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


def _confirmation(ctx: Context, issued: int | None, declined: int | None) -> dict[str, Any] | None:
    """What the officer has just decided on a request, shown above the queues."""
    if not (issued or declined):
        return None
    try:
        r = request_service.request_for(ctx, issued or declined)
    except NotFound:
        return None
    if issued and r.status == request_service.ACCEPTED:
        return {
            "title": f"Penalty notices issued for {r.pupil.display_name}",
            "notices": [(n.id, n.reference, n.recipient["name"]) for n in issued_from(ctx, r.id)],
        }
    if declined and r.status == request_service.DECLINED:
        return {"title": f"The request for {r.pupil.display_name} is declined", "notices": []}
    return None


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
            context = {
                "me": me(ctx),
                "officer": Role(ctx.actor.role) in notices.OFFICERS,
                "confirmation": _confirmation(ctx, issued, declined),
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

    # The central register and reports (``PenaltyNoticePages`` has the notice's own pages: the
    # int converter keeps /penalty-notices/register apart from /penalty-notices/{notice_id}).

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
            found, asked, errors = _register_filter(status, school, reason, month, page)
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
            found, asked, errors = _register_filter(status, school, reason, month, 1)
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
