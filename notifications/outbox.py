"""Queue an email: ``enqueue`` adds an outbox row to the caller's transaction, so the message
exists exactly when the change that causes it does; ``retry`` puts a failed one back.

Everything that can be checked is checked here, before anything is written: the address, the
template against the context (a missing field raises ``MissingField`` naming both), the files
to attach. The dispatcher then only renders what is known to render.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from casework.errors import Conflict, InvalidInput, NotFound
from casework.events import Actor, append_event
from casework.models import Attachment, Case, LocalAuthority
from casework.models.outbox import FAILED, PENDING, OutboxEvent, OutboxMessage
from casework.vocabulary import EventKind
from config.profiles import MailIdentity, load_profile
from config.settings import mail_settings
from notifications.addresses import checked_address, domain_of, message_id_for
from notifications.rendering import render_email

LONGEST = {"key": 200, "kind": 60, "subject": 300}


def enqueue(
    session: Session,
    *,
    key: str,
    kind: str,
    la_id: int,
    to_address: str,
    template: str,
    context: Mapping[str, Any],
    subject: str,
    now: datetime,
    case_id: int | None = None,
    caused_by_user_id: int | None = None,
    recipient_user_id: int | None = None,
    recipient_contact_id: int | None = None,
    attachments: Sequence[Mapping[str, Any]] = (),
) -> OutboxMessage:
    """Queue one email in the caller's transaction (never commits). ``key`` names the message
    for good: a second call with it returns the first row and changes nothing, even when two
    transactions race (the unique key decides, inside a savepoint)."""
    existing = _by_key(session, key)
    if existing is not None:
        return existing
    for name, value in (("key", key), ("kind", kind), ("subject", subject)):
        _one_line(name, value)
    address = checked_address("to_address", to_address)
    stored = _as_json(context)
    # Rendered once now, from exactly what will be stored, so a missing field fails here.
    render_email(template, render_context(stored, subject), profile_key(session, la_id))
    if case_id is not None:
        case_la = session.scalar(select(Case.la_id).where(Case.id == case_id))
        if case_la != la_id:
            rule = "no such case" if case_la is None else "the case belongs to another LA"
            raise InvalidInput.one("case_id", case_id, rule)
    files = _checked_attachments(session, attachments, case_id)
    row = OutboxMessage(
        key=key,
        message_id=message_id_for(key, _message_id_domain(session, la_id)),
        kind=kind,
        la_id=la_id,
        case_id=case_id,
        caused_by_user_id=caused_by_user_id,
        recipient_user_id=recipient_user_id,
        recipient_contact_id=recipient_contact_id,
        to_address=address,
        subject=subject,
        template=template,
        context=stored,
        attachments=files,
        status=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raced = _by_key(session, key)
        if raced is None:
            raise  # not the key: a foreign key or another constraint, for the caller to see
        return raced
    return row


def render_context(context: Mapping[str, Any], subject: str) -> dict[str, Any]:
    """What a template sees: the stored context, and the message's subject as ``subject``."""
    return {**context, "subject": subject}


def profile_key(session: Session, la_id: int) -> str:
    """The LA's profile: its rules, its sender identity and its own wording. Looked up once per
    session (a sweep batch queues many messages for one LA)."""
    known: dict[int, str] = session.info.setdefault("la_profile_keys", {})
    if la_id not in known:
        key = session.scalar(select(LocalAuthority.profile).where(LocalAuthority.id == la_id))
        if key is None:
            raise InvalidInput.one("la_id", la_id, "no such local authority")
        known[la_id] = key
    return known[la_id]


def sender_identity(session: Session, la_id: int) -> MailIdentity:
    """The LA's ``[mail]`` profile table: who its emails come from."""
    return load_profile(profile_key(session, la_id)).mail


def retry(session: Session, message_id: int, actor: Actor, now: datetime) -> OutboxMessage:
    """A failed message back to pending, to be tried afresh (its attempts start again), with
    who did it recorded on the message and, when it has one, on the case."""
    row = session.get(OutboxMessage, message_id)
    if row is None:
        raise NotFound("message", message_id)
    given_up_after = row.attempts
    changed = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == FAILED)
        .values(
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
            failed_at=None,
            lease_token=None,
            leased_until=None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise Conflict(
            f"only a failed message can be retried; message {message_id} is {row.status}"
        )
    session.add(
        OutboxEvent(
            outbox_message_id=message_id,
            occurred_at=now,
            kind="retried",
            attempt=given_up_after,
            error=row.last_error,
            actor_id=actor.id,
            actor_name=actor.name,
        )
    )
    if row.case_id is not None:
        case = _locked_case(session, row.case_id)
        append_event(
            session,
            case,
            actor,
            now,
            EventKind.MESSAGE_RETRIED,
            reason=f"Email ({row.kind}) queued to be sent again after {given_up_after} "
            f"failed attempt(s)",
            data={"message": message_id, "kind": row.kind, "attempts": given_up_after},
        )
    session.flush()
    session.refresh(row)
    return row


def _locked_case(session: Session, case_id: int) -> Case:
    query = select(Case).where(Case.id == case_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Case)
    return session.scalars(query).one()


def _by_key(session: Session, key: str) -> OutboxMessage | None:
    return session.scalars(select(OutboxMessage).where(OutboxMessage.key == key)).first()


def _one_line(field: str, value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput.one(field, value, "must be given")
    if "\r" in value or "\n" in value:
        raise InvalidInput.one(field, value, "must be one line")
    if len(value) > LONGEST[field]:
        raise InvalidInput.one(field, value, f"at most {LONGEST[field]} characters")


def _as_json(context: Mapping[str, Any]) -> dict[str, Any]:
    """The context as it will be stored (JSON), so what is checked is what will be sent."""
    if not isinstance(context, Mapping):
        raise InvalidInput.one("context", type(context).__name__, "must be a mapping of fields")
    try:
        return json.loads(json.dumps(dict(context)))
    except (TypeError, ValueError) as exc:
        # The type only: the context holds the message's personal data.
        raise InvalidInput.one(
            "context", type(exc).__name__, "fields must be text, numbers, lists or mappings"
        ) from None


def _checked_attachments(
    session: Session, attachments: Sequence[Mapping[str, Any]], case_id: int | None
) -> list[dict[str, int]]:
    ids = []
    for item in attachments:
        ident = item.get("attachment_id") if isinstance(item, Mapping) else None
        if not isinstance(ident, int) or isinstance(ident, bool) or set(item) != {"attachment_id"}:
            raise InvalidInput.one("attachments", item, 'each is {"attachment_id": <number>}')
        ids.append(ident)
    if not ids:
        return []
    if case_id is None:
        raise InvalidInput.one("attachments", ids, "only a message about a case may attach files")
    owners = dict(
        session.execute(
            select(Attachment.id, Attachment.case_id).where(Attachment.id.in_(ids))
        ).all()
    )
    for ident in ids:
        if ident not in owners:
            raise InvalidInput.one("attachments", ident, "no such attachment")
        if owners[ident] != case_id:
            raise InvalidInput.one("attachments", ident, "the attachment belongs to another case")
    return [{"attachment_id": ident} for ident in ids]


def _message_id_domain(session: Session, la_id: int) -> str:
    return mail_settings().message_id_domain or domain_of(
        sender_identity(session, la_id).from_address
    )
