"""Letters to parents: a case's letters (its exhibits), sending one, each letter's PDF and HTML,
and a school's print batch for the day. Scoped like cases: a case or school the user cannot
see is "not found"."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from api.controllers.cases import content_disposition
from api.deps import retry_on_conflict, unit_of_work
from casework.models import Contact, OutboxMessage
from casework.models.letters import Letter
from notifications.letters.kinds import KINDS
from workflows.letters import (
    letter_of,
    letter_pdf,
    letters_of,
    print_batch,
    request_letter,
)

# The stored HTML is our own template's, autoescaped; still, a preview runs nothing and loads
# nothing from anywhere.
PREVIEW_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
}


class LetterIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    extra: dict[Annotated[str, msgspec.Meta(max_length=60)], Any] = {}


class LetterOut(msgspec.Struct):
    id: int
    case_id: int
    kind: str
    title: str
    reference: str
    exhibit_number: int
    letter_date: date
    contact_id: int
    recipient: str
    delivery: str
    delivery_note: str | None
    pages: int
    attachment_id: int
    message_id: int | None
    message_status: str | None
    created_by: str
    created_at: datetime


class FieldOut(msgspec.Struct):
    name: str
    type: str
    required: bool
    description: str


class LetterKindOut(msgspec.Struct):
    kind: str
    title: str
    school_may_send: bool
    by_action_only: bool
    fields: list[FieldOut]


def _out(ctx, letter: Letter) -> LetterOut:
    contact = ctx.session.get(Contact, letter.contact_id)
    message = (
        ctx.session.get(OutboxMessage, letter.outbox_message_id)
        if letter.outbox_message_id
        else None
    )
    return LetterOut(
        id=letter.id,
        case_id=letter.case_id,
        kind=letter.kind,
        title=KINDS[letter.kind].title if letter.kind in KINDS else letter.kind,
        reference=letter.reference,
        exhibit_number=letter.exhibit_number,
        letter_date=letter.letter_date,
        contact_id=letter.contact_id,
        recipient=" ".join(p for p in (contact.title, contact.forename, contact.surname) if p),
        delivery=letter.delivery,
        delivery_note=letter.delivery_note,
        pages=letter.pages,
        attachment_id=letter.attachment_id,
        message_id=letter.outbox_message_id,
        message_status=message.status if message is not None else None,
        created_by=letter.created_by_name,
        created_at=letter.created_at,
    )


class LetterController(Controller):
    path = "/cases/{case_id:int}/letters"
    tags = ["letters"]

    @get("/", sync_to_thread=True)
    def list_letters(self, request: Request, case_id: FromPath[int]) -> list[LetterOut]:
        with unit_of_work(request) as ctx:
            return [_out(ctx, letter) for letter in letters_of(ctx, case_id)]

    @post("/", sync_to_thread=True)
    def send(
        self, request: Request, case_id: FromPath[int], data: JSONBody[LetterIn]
    ) -> list[LetterOut]:
        """One letter of ``kind`` to each parent with parental responsibility; ``extra`` holds
        the fields the kind asks for (GET /api/letters/kinds)."""

        def change(ctx):
            return [_out(ctx, x) for x in request_letter(ctx, case_id, data.kind, data.extra)]

        return retry_on_conflict(request, change)

    @get("/{letter_id:int}/pdf", sync_to_thread=True)
    def pdf(self, request: Request, case_id: FromPath[int], letter_id: FromPath[int]) -> Response:
        with unit_of_work(request) as ctx:
            found = letter_pdf(ctx, letter_of(ctx, case_id, letter_id))
            return Response(
                found.content,
                media_type="application/pdf",
                headers={
                    "Content-Disposition": content_disposition(found.filename),
                    "X-Content-Type-Options": "nosniff",
                    "Digest": f"sha-256={found.sha256}",
                },
            )

    @get("/{letter_id:int}/html", sync_to_thread=True)
    def preview(
        self, request: Request, case_id: FromPath[int], letter_id: FromPath[int]
    ) -> Response:
        with unit_of_work(request) as ctx:
            letter = letter_of(ctx, case_id, letter_id)
            return Response(letter.html, media_type="text/html", headers=PREVIEW_HEADERS)


class LettersController(Controller):
    path = "/letters"
    tags = ["letters"]

    @get("/kinds", sync_to_thread=False)
    def kinds(self) -> list[LetterKindOut]:
        return [
            LetterKindOut(
                k.key,
                k.title,
                k.school_may_send,
                k.by_action_only,
                [FieldOut(f.name, f.type, f.required, f.description) for f in k.fields],
            )
            for k in KINDS.values()
        ]

    @get("/print-batch", sync_to_thread=True)
    def print_batch(
        self,
        request: Request,
        school_id: Annotated[int, QueryParameter(ge=1, le=2**31 - 1)],
        date: Annotated[date, QueryParameter()],
    ) -> Response:
        """One PDF of the school's letters to print on ``date``, in the order they were made."""
        with unit_of_work(request) as ctx:
            content, letters = print_batch(ctx, school_id, date)
            return Response(
                content,
                media_type="application/pdf",
                headers={
                    "Content-Disposition": content_disposition(
                        f"letters-{school_id}-{date.isoformat()}.pdf"
                    ),
                    "X-Content-Type-Options": "nosniff",
                    "X-Letter-Count": str(len(letters)),
                },
            )
