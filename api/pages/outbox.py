"""The outbox page: the emails an LA manager may see (sent, pending, failed; filtered by status,
paginated, newest first) and retrying a failed one, with a confirmation.

Thin, like the JSON API (``api.controllers.outbox``): the listing is
``notifications.listing.list_messages`` in the user's scope, a retry is
``notifications.outbox.retry`` after the same checks the API makes (in scope, else "Page not
found"; an LA manager, else "Not allowed").

Administrators see the outbox's counts only: the messages are about pupils and families, and
administrators see no pupil records (``notifications.listing.visible`` shows them none).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy import func, select

from api.deps import unit_of_work
from api.pages.common import FormError, me, render, sentence, words
from casework.errors import Conflict, Forbidden, NotFound
from casework.events import Actor
from casework.models.outbox import OutboxMessage
from casework.vocabulary import Role
from notifications.listing import list_messages, next_attempt, one_message
from notifications.outbox import retry
from workflows.context import Context

PAGE_SIZE = 25
STATUSES = ("pending", "sent", "failed")
STATUS_WORDS = {"pending": "Pending", "sent": "Sent", "failed": "Failed"}
STATUS_TAGS = {"pending": "govuk-tag--blue", "sent": "govuk-tag--green", "failed": "govuk-tag--red"}
Status = Annotated[str | None, QueryParameter(max_length=20)]


def _allowed(ctx: Context) -> None:
    if Role(ctx.actor.role) not in (Role.LA_MANAGER, Role.ADMIN):
        raise Forbidden("only LA managers and administrators see the outbox")


def _address(status: str | None, page: int = 1, **extra: Any) -> str:
    query = {"status": status or "", "page": page if page > 1 else "", **extra}
    found = urlencode({k: v for k, v in query.items() if v})
    return "/outbox" + (f"?{found}" if found else "")


def _counts(ctx: Context) -> dict[str, int]:
    """How many messages of the LA are in each status (numbers only: no content)."""
    rows = ctx.session.execute(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.la_id == ctx.actor.la_id)
        .group_by(OutboxMessage.status)
    ).all()
    found = dict.fromkeys(STATUSES, 0)
    found.update({status: count for status, count in rows})
    return found


def _row(item, may_retry: bool) -> dict[str, Any]:
    m = item.message
    return {
        "id": m.id,
        "created_at": m.created_at,
        "to": m.to_address,
        "subject": m.subject,
        "kind": words(m.kind),
        "status": m.status,
        "status_words": STATUS_WORDS.get(m.status, words(m.status)),
        "tag": STATUS_TAGS.get(m.status, "govuk-tag--grey"),
        "attempts": m.attempts,
        "next_attempt_at": next_attempt(m),
        "last_attempt_at": m.last_attempt_at,
        "sent_at": m.sent_at,
        "failed_at": m.failed_at,
        "last_error": m.last_error,
        "case_id": m.case_id,
        "case_reference": item.case_reference,
        "may_retry": may_retry and m.status == "failed",
    }


def outbox_page(
    request: Request,
    status: str | None,
    page: int,
    *,
    retried: int | None = None,
    errors: list[FormError] | None = None,
    code: int = 200,
) -> Template:
    status = status if status in STATUSES else None
    with unit_of_work(request) as ctx:
        _allowed(ctx)
        manager = Role(ctx.actor.role) is Role.LA_MANAGER
        rows, total = [], 0
        if manager:
            listed, total = list_messages(
                ctx.session, scope=ctx.scope, status=status, page=page, page_size=PAGE_SIZE
            )
            rows = [_row(item, may_retry=True) for item in listed]
        confirmation = None
        if retried is not None and manager:
            try:
                done = one_message(ctx.session, ctx.scope, retried).message
            except NotFound:
                done = None
            if done is not None and done.status != "failed":
                confirmation = {
                    "title": f"Message {done.id} is queued to be sent again",
                    "detail": f"{words(done.kind)} to {done.to_address}: it will be tried at the "
                    "next send, within a minute.",
                }
        pages = max(1, -(-total // PAGE_SIZE))
        context = {
            "me": me(ctx),
            "active_section": "outbox",
            "manager": manager,
            "counts": _counts(ctx),
            "status": status or "",
            "status_words": STATUS_WORDS,
            "filters": [
                {"text": "All", "href": _address(None), "current": status is None},
                *(
                    {"text": STATUS_WORDS[s], "href": _address(s), "current": status == s}
                    for s in STATUSES
                ),
            ],
            "rows": rows,
            "total": total,
            "page": page,
            "pages": pages,
            "previous": _address(status, page - 1) if page > 1 else None,
            "next": _address(status, page + 1) if page < pages else None,
            "confirmation": confirmation,
            "errors": errors or [],
        }
    return render("outbox.html", context, status=code)


class OutboxPages(Controller):
    path = "/outbox"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def list_page(
        self,
        request: Request,
        status: Status = None,
        page: Annotated[int, QueryParameter(ge=1, le=100_000)] = 1,
        retried: Annotated[int | None, QueryParameter(ge=1)] = None,
    ) -> Template:
        return outbox_page(request, status, page, retried=retried)

    @post("/{message_id:int}/retry", sync_to_thread=True)
    def retry_message(
        self, request: Request, message_id: FromPath[int], status: Status = None
    ) -> Response:
        try:
            with unit_of_work(request, write=True) as ctx:
                _allowed(ctx)
                one_message(ctx.session, ctx.scope, message_id)  # out of scope: not found
                ctx.require_role(Role.LA_MANAGER, doing="retry a failed email")
                actor = Actor(ctx.actor.id, ctx.actor.full_name, ctx.actor.position)
                retry(ctx.session, message_id, actor, ctx.now())
                ctx.commit()
        except Conflict as exc:
            error = FormError("messages", sentence(str(exc)))
            return outbox_page(request, status, 1, errors=[error], code=409)
        return Redirect(_address(status, retried=message_id), status_code=303)
