"""Which outbox messages a user may see, and the listing the API and the CLI show.

An LA manager sees every message of their LA (failed ones are theirs to act on); other casework
users see the messages they caused and those addressed to them; admins and integrations see
none. As elsewhere, a message outside scope is "not found".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, false, func, or_, select
from sqlalchemy.orm import Session

from casework.errors import NotFound
from casework.models import Case
from casework.models.outbox import OutboxMessage
from casework.scope import Scope
from casework.vocabulary import Role


def visible(scope: Scope) -> ColumnElement[bool]:
    match scope.role:
        case Role.LA_MANAGER:
            return OutboxMessage.la_id == scope.la_id
        case Role.SCHOOL_STAFF | Role.TRADED_OFFICER | Role.STATUTORY_OFFICER:
            return or_(
                OutboxMessage.caused_by_user_id == scope.user_id,
                OutboxMessage.recipient_user_id == scope.user_id,
            )
    return false()


@dataclass(frozen=True)
class Listed:
    message: OutboxMessage
    case_reference: str | None


def _query(where: list[ColumnElement[bool]]):
    return (
        select(OutboxMessage, Case.reference)
        .outerjoin(Case, Case.id == OutboxMessage.case_id)
        .where(*where)
    )


def list_messages(
    session: Session,
    *,
    scope: Scope | None,
    status: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[Listed], int]:
    """The newest first. ``scope=None`` is the operator's view (the CLI): everything."""
    where = [] if scope is None else [visible(scope)]
    if status is not None:
        where.append(OutboxMessage.status == status)
    total = session.scalar(select(func.count()).select_from(OutboxMessage).where(*where))
    rows = session.execute(
        _query(where)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    return [Listed(m, ref) for m, ref in rows], total or 0


def one_message(session: Session, scope: Scope | None, message_id: int) -> Listed:
    where = [OutboxMessage.id == message_id]
    if scope is not None:
        where.append(visible(scope))
    found = session.execute(_query(where)).first()
    if found is None:
        raise NotFound("message", message_id)
    return Listed(found[0], found[1])


def next_attempt(message: OutboxMessage) -> datetime | None:
    """When it will next be tried: only a pending message has one."""
    return message.next_attempt_at if message.status == "pending" else None
