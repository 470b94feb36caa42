"""The email outbox (scoped: see notifications/listing.py) and, in development, the mailbox of
``.eml`` files the file sender wrote."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, QueryParameter

from api.deps import services, unit_of_work
from casework.errors import Forbidden, NotFound
from casework.events import Actor
from casework.vocabulary import Role
from notifications.listing import Listed, list_messages, next_attempt, one_message
from notifications.mailbox import list_mail, read_mail
from notifications.outbox import retry
from notifications.senders import mail_dir

Page = Annotated[int, QueryParameter(ge=1, le=100_000)]
PageSize = Annotated[int, QueryParameter(ge=1, le=200)]


class MessageStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class MessageOut(msgspec.Struct):
    id: int
    kind: str
    status: str
    attempts: int
    # Only a pending message has one: when it will next be tried.
    next_attempt_at: datetime | None
    # The error's class and SMTP code: never an address or any content.
    last_error: str | None
    to_address: str
    subject: str
    message_id: str
    case_id: int | None
    case_reference: str | None
    created_at: datetime
    last_attempt_at: datetime | None
    sent_at: datetime | None
    failed_at: datetime | None


class MessagePage(msgspec.Struct):
    items: list[MessageOut]
    total: int
    page: int
    page_size: int


class MailFileOut(msgspec.Struct):
    name: str
    message_id: str | None
    to: str | None
    subject: str | None
    date: datetime | None


def _out(item: Listed) -> MessageOut:
    m = item.message
    return MessageOut(
        m.id,
        m.kind,
        m.status,
        m.attempts,
        next_attempt(m),
        m.last_error,
        m.to_address,
        m.subject,
        m.message_id,
        m.case_id,
        item.case_reference,
        m.created_at,
        m.last_attempt_at,
        m.sent_at,
        m.failed_at,
    )


class OutboxController(Controller):
    path = "/outbox"
    tags = ["email"]

    @get("/", sync_to_thread=True)
    def list_outbox(
        self,
        request: Request,
        status: Annotated[MessageStatus | None, QueryParameter()] = None,
        page: Page = 1,
        page_size: PageSize = 50,
    ) -> MessagePage:
        """Emails you may see, newest first: an LA manager's are all the LA's; anyone else's
        are those they caused and those sent to them."""
        with unit_of_work(request) as ctx:
            rows, total = list_messages(
                ctx.session,
                scope=ctx.scope,
                status=status.value if status else None,
                page=page,
                page_size=page_size,
            )
            return MessagePage([_out(r) for r in rows], total, page, page_size)

    @get("/{message_id:int}", sync_to_thread=True)
    def get_message(self, request: Request, message_id: FromPath[int]) -> MessageOut:
        with unit_of_work(request) as ctx:
            return _out(one_message(ctx.session, ctx.scope, message_id))

    @post("/{message_id:int}/retry", sync_to_thread=True, status_code=200)
    def retry_message(self, request: Request, message_id: FromPath[int]) -> MessageOut:
        """Queue a failed email again (LA managers); recorded on the message and its case."""
        with unit_of_work(request, write=True) as ctx:
            one_message(ctx.session, ctx.scope, message_id)  # out of scope: not found
            ctx.require_role(Role.LA_MANAGER, doing="retry a failed email")
            actor = Actor(ctx.actor.id, ctx.actor.full_name, ctx.actor.position)
            retry(ctx.session, message_id, actor, ctx.now())
            ctx.commit()
            return _out(one_message(ctx.session, ctx.scope, message_id))


class MailboxController(Controller):
    """Development only (``CASEWORK_MAIL_BACKEND=file``): what would have been sent."""

    path = "/mail"
    tags = ["email"]

    @get("/", sync_to_thread=True)
    def list_files(
        self, request: Request, page: Page = 1, page_size: PageSize = 50
    ) -> list[MailFileOut]:
        """The ``.eml`` files written, newest first (LA managers and admins)."""
        directory = _mailbox(request)
        found = list_mail(directory, offset=(page - 1) * page_size, limit=page_size)
        return [MailFileOut(f.name, f.message_id, f.to, f.subject, f.date) for f in found]

    @get("/{name:str}", sync_to_thread=True)
    def read_file(self, request: Request, name: FromPath[str]) -> Response[bytes]:
        """One message as written: ``text/plain`` to read in a browser, or
        ``message/rfc822`` (ask with ``Accept: message/rfc822``) to open in a mail program."""
        data = read_mail(_mailbox(request), name)
        if data is None:
            raise NotFound("mail file", name)
        wanted = request.headers.get("accept", "")
        media = "message/rfc822" if "message/rfc822" in wanted else "text/plain; charset=utf-8"
        return Response(data, media_type=media, headers={"Cache-Control": "no-store"})


def _mailbox(request: Request):
    found = services(request)
    if found.settings.mail.backend != "file":
        raise NotFound("mailbox", "(mail goes to the SMTP server)")
    with unit_of_work(request) as ctx:
        if Role(ctx.actor.role) not in (Role.LA_MANAGER, Role.ADMIN):
            raise Forbidden("only LA managers and admins may read the development mailbox")
    return mail_dir(found.settings.var_dir)
