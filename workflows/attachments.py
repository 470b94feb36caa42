"""Documents kept on a case (letters, meeting notes, medical evidence): stored with their hash so
the copy that went to court can be proved, and never replaced in place."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import defer

from casework.errors import FieldProblem, Forbidden, InvalidInput, NotFound
from casework.models import Attachment, Intervention
from casework.vocabulary import EventKind, Role
from workflows.context import Context
from workflows.policy import may_fire

MAX_BYTES = 10 * 1024 * 1024
# What evidence arrives as; anything executable or scriptable (HTML, SVG) is refused.
MEDIA_TYPES = {
    "application/pdf": b"%PDF",
    "image/png": b"\x89PNG",
    "image/jpeg": b"\xff\xd8\xff",
    "text/plain": None,
    "message/rfc822": None,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": b"PK",
}


@dataclass
class AddAttachment:
    filename: str
    media_type: str
    content: bytes
    intervention_id: int | None = None


def add_attachment(ctx: Context, case_id: int, command: AddAttachment) -> Attachment:
    case = ctx.case(case_id)
    refusal = may_fire(Role(ctx.actor.role), "add_attachment")
    if refusal:
        raise Forbidden(refusal)
    name = command.filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    problems = []
    if not name or len(name) > 255:
        problems.append(
            FieldProblem("file", command.filename, "a file name of 1 to 255 characters")
        )
    magic = MEDIA_TYPES.get(command.media_type, b"?")
    if magic == b"?":
        problems.append(
            FieldProblem(
                "file", command.media_type, "PDF, PNG, JPEG, Word (.docx), plain text or email only"
            )
        )
    elif magic and not command.content.startswith(magic):
        problems.append(
            FieldProblem("file", command.media_type, "the file's content is not what its type says")
        )
    if not command.content:
        problems.append(FieldProblem("file", 0, "the file is empty"))
    if len(command.content) > MAX_BYTES:
        problems.append(FieldProblem("file", len(command.content), "at most 10 MB"))
    if command.intervention_id is not None and not ctx.session.scalar(
        select(Intervention.id).where(
            Intervention.id == command.intervention_id, Intervention.case_id == case.id
        )
    ):
        problems.append(
            FieldProblem(
                "intervention_id", command.intervention_id, "no such intervention on this case"
            )
        )
    if problems:
        raise InvalidInput(problems)
    attachment = Attachment(
        case_id=case.id,
        intervention_id=command.intervention_id,
        filename=name,
        media_type=command.media_type,
        size=len(command.content),
        sha256=hashlib.sha256(command.content).hexdigest(),
        content=command.content,
        uploaded_by_id=ctx.actor.id,
        uploaded_at=ctx.now(),
    )
    ctx.session.add(attachment)
    ctx.session.flush()
    ctx.record(
        case,
        EventKind.ATTACHMENT_ADDED,
        data={
            "attachment": attachment.id,
            "filename": name,
            "sha256": attachment.sha256,
            "intervention": command.intervention_id,
        },
        intervention_id=command.intervention_id,
    )
    return attachment


def attachments_of(ctx: Context, case_id: int) -> list[Attachment]:
    """The case's files to list: their bytes are left in the database (a letter's PDF or a
    photo each), to be read only by ``attachment`` when one is downloaded."""
    case = ctx.case(case_id)
    return list(
        ctx.session.scalars(
            select(Attachment)
            .where(Attachment.case_id == case.id)
            .options(defer(Attachment.content))
            .order_by(Attachment.id)
        )
    )


def attachment(ctx: Context, case_id: int, attachment_id: int) -> Attachment:
    case = ctx.case(case_id)
    found = ctx.session.scalars(
        select(Attachment).where(Attachment.id == attachment_id, Attachment.case_id == case.id)
    ).first()
    if found is None:
        raise NotFound("attachment", attachment_id)
    return found
