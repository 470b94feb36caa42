"""The dispatcher: send every due outbox message, at least once, never silently dropping one.

A pass claims due rows in short transactions (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the
write lock taken at BEGIN on SQLite), giving each batch a lease under a fresh token. It renders
and sends outside any transaction, then settles each message in its own transaction by
compare-and-set on (id, lease token, pending): sent; or tried again later with exponential
backoff; or failed (a permanent refusal, or too many attempts), which is recorded on the case.

A crash between sending and settling leaves the row leased; when the lease expires another pass
claims it and sends it again, under the same Message-ID. So a message may arrive twice but is
never lost. A dispatcher that finds its lease taken over settles nothing (``lost``).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from casework.clock import Clock
from casework.db import WRITE_INTENT
from casework.events import Actor, append_event
from casework.models import Attachment, Case
from casework.models.outbox import FAILED, PENDING, SENT, OutboxEvent, OutboxMessage
from casework.vocabulary import EventKind
from config.profiles import MailIdentity
from config.settings import mail_settings
from notifications.compose import AttachedFile, compose
from notifications.outbox import profile_key, render_context, sender_identity
from notifications.rendering import render_email
from notifications.senders import DeliveryError, Sender

log = logging.getLogger("casework.mail")

BATCH = 100
# Long enough for a batch to be sent (the pass hands back what it has not reached by
# LEASE_SAFETY of it), short enough that a crashed dispatcher's messages go out soon after.
LEASE_SECONDS = 300
LEASE_SAFETY = 0.8
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_MOST = timedelta(hours=1)

DISPATCHER = Actor(None, "Casework mail dispatcher", "automatic email delivery")


@dataclass
class DispatchReport:
    sent: int = 0
    retrying: int = 0  # a transient failure: tried again after the backoff
    failed: int = 0  # given up on: refused permanently, or out of attempts
    released: int = 0  # claimed but handed back untried (the lease was running out)
    lost: int = 0  # the lease was taken over before this pass could settle the message
    batches: int = 0
    # Why the pass stopped before the queue was empty (the mail server unreachable, say).
    stopped: str | None = None

    @property
    def anything(self) -> bool:
        return bool(self.sent or self.retrying or self.failed or self.released or self.lost)


@dataclass(frozen=True)
class Claimed:
    """What the dispatcher needs of a row, read at claim time (no session is held while
    sending)."""

    id: int
    la_id: int
    case_id: int | None
    kind: str
    message_id: str
    to_address: str
    subject: str
    template: str
    context: dict[str, Any]
    attachment_ids: tuple[int, ...]
    attempts: int
    next_attempt_at: datetime
    created_at: datetime

    @classmethod
    def of(cls, row: OutboxMessage) -> Claimed:
        return cls(
            row.id,
            row.la_id,
            row.case_id,
            row.kind,
            row.message_id,
            row.to_address,
            row.subject,
            row.template,
            row.context,
            tuple(int(a["attachment_id"]) for a in row.attachments or ()),
            row.attempts,
            row.next_attempt_at,
            row.created_at,
        )


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: 1, 2, 4 ... minutes, at most an hour."""
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MOST)


def dispatch_due(
    factory: sessionmaker[Session],
    clock: Clock,
    sender: Sender,
    *,
    batch: int = BATCH,
    lease_seconds: float = LEASE_SECONDS,
    max_attempts: int | None = None,
) -> DispatchReport:
    """One pass: send everything due now, batch by batch, until nothing due is left or the
    sender is unreachable. For the scheduler, the CLI and tests (not from an event loop)."""
    limit = max_attempts or mail_settings().max_attempts
    pass_ = _Pass(factory, clock, sender, batch, lease_seconds, limit)
    return asyncio.run(pass_.run())


class _Pass:
    def __init__(
        self,
        factory: sessionmaker[Session],
        clock: Clock,
        sender: Sender,
        batch: int,
        lease_seconds: float,
        max_attempts: int,
    ):
        self.factory = factory
        self.clock = clock
        self.sender = sender
        self.batch = batch
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts
        self.report = DispatchReport()
        self._identities: dict[int, MailIdentity] = {}
        self._profile_keys: dict[int, str] = {}

    async def run(self) -> DispatchReport:
        after: tuple[datetime, int] | None = None
        try:
            while self.report.stopped is None:
                token = uuid.uuid4().hex
                claimed = self._claim(token, after)
                if not claimed:
                    break
                self.report.batches += 1
                after = (claimed[-1].next_attempt_at, claimed[-1].id)
                await self._deliver(token, claimed)
        finally:
            await self.sender.aclose()
        return self.report

    def _session(self) -> Session:
        session = self.factory()
        session.connection(execution_options={WRITE_INTENT: True})
        return session

    def _claim(self, token: str, after: tuple[datetime, int] | None) -> list[Claimed]:
        now = self.clock.now()
        query = (
            select(OutboxMessage)
            .where(
                OutboxMessage.status == PENDING,
                OutboxMessage.next_attempt_at <= now,
                or_(OutboxMessage.leased_until.is_(None), OutboxMessage.leased_until <= now),
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(self.batch)
        )
        if after is not None:
            # Keyset paging: never rescan rows an earlier batch of this pass took.
            query = query.where(
                or_(
                    OutboxMessage.next_attempt_at > after[0],
                    and_(OutboxMessage.next_attempt_at == after[0], OutboxMessage.id > after[1]),
                )
            )
        with self._session() as session:
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = list(session.scalars(query))
            if not rows:
                return []
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_([r.id for r in rows]))
                .values(
                    lease_token=token,
                    leased_until=now + timedelta(seconds=self.lease_seconds),
                )
                .execution_options(synchronize_session=False)
            )
            claimed = [Claimed.of(r) for r in rows]
            session.commit()
        return claimed

    async def _deliver(self, token: str, claimed: Sequence[Claimed]) -> None:
        started = time.monotonic()
        for index, row in enumerate(claimed):
            # Measured on the monotonic clock: the lease is ours only for so long, and a row
            # sent after another dispatcher has taken it over would go twice.
            if index and time.monotonic() - started > self.lease_seconds * LEASE_SAFETY:
                self._release(token, claimed[index:])
                return
            try:
                message = self._compose(row)
            except SQLAlchemyError:
                raise  # the database, not the message: the lease brings it back later
            except Exception as exc:
                # The template, the data or an attachment: it will not get better by waiting.
                self._settle_failures(
                    token, [row], DeliveryError(type(exc).__name__, permanent=True)
                )
                continue
            try:
                await self.sender.send(message)
            except DeliveryError as error:
                if error.connection:
                    # Unreachable: the rest of the batch would fail the same way. Each counts
                    # it as an attempt, and the pass stops rather than claim more to fail.
                    self._settle_failures(token, claimed[index:], error)
                    self.report.stopped = error.reason
                    return
                self._settle_failures(token, [row], error)
                continue
            except Exception as exc:
                # Not a mail error (a bug, say): counted as an attempt, so it is given up on
                # after the last one instead of coming back with every expired lease.
                self._settle_failures(token, [row], DeliveryError(type(exc).__name__))
                continue
            self._mark_sent(token, row)

    def _compose(self, row: Claimed) -> EmailMessage:
        identity = self._identities.get(row.la_id)
        files: list[AttachedFile] = []
        if identity is None or row.attachment_ids:
            with self.factory() as session:
                if identity is None:
                    self._profile_keys[row.la_id] = profile_key(session, row.la_id)
                    identity = self._identities[row.la_id] = sender_identity(session, row.la_id)
                files = _attachments(session, row.attachment_ids)
        body = render_email(
            row.template,
            render_context(row.context, row.subject),
            self._profile_keys[row.la_id],
        )
        return compose(
            message_id=row.message_id,
            created_at=row.created_at,
            sender=identity,
            to_address=row.to_address,
            subject=row.subject,
            body=body,
            attachments=files,
        )

    def _mine(self, token: str, row_id: int):
        return (
            OutboxMessage.id == row_id,
            OutboxMessage.lease_token == token,
            OutboxMessage.status == PENDING,
        )

    def _mark_sent(self, token: str, row: Claimed) -> None:
        now = self.clock.now()
        with self._session() as session:
            changed = session.execute(
                update(OutboxMessage)
                .where(*self._mine(token, row.id))
                .values(
                    status=SENT,
                    sent_at=now,
                    last_attempt_at=now,
                    attempts=OutboxMessage.attempts + 1,
                    lease_token=None,
                    leased_until=None,
                )
                .execution_options(synchronize_session=False)
            ).rowcount
            if changed != 1:
                self._lost(row)
                return
            session.add(_event(row.id, now, "sent", row.attempts + 1))
            session.commit()
        self.report.sent += 1

    def _settle_failures(self, token: str, rows: Sequence[Claimed], error: DeliveryError) -> None:
        now = self.clock.now()
        with self._session() as session:
            for row in rows:
                attempts = row.attempts + 1
                give_up = error.permanent or attempts >= self.max_attempts
                values: dict[str, Any] = {
                    "attempts": attempts,
                    "last_attempt_at": now,
                    "last_error": error.reason,
                    "lease_token": None,
                    "leased_until": None,
                }
                if give_up:
                    values |= {"status": FAILED, "failed_at": now}
                else:
                    values["next_attempt_at"] = now + backoff(attempts)
                changed = session.execute(
                    update(OutboxMessage)
                    .where(*self._mine(token, row.id))
                    .values(**values)
                    .execution_options(synchronize_session=False)
                ).rowcount
                if changed != 1:
                    self._lost(row)
                    continue
                session.add(
                    _event(row.id, now, "failed" if give_up else "retrying", attempts, error.reason)
                )
                if give_up:
                    self._record_on_case(session, row, attempts, error, now)
                    self.report.failed += 1
                    log.warning(
                        "message %d (%s) failed after %d attempt(s): %s",
                        row.id, row.kind, attempts, error.reason,
                    )  # fmt: skip
                else:
                    self.report.retrying += 1
            session.commit()

    def _record_on_case(
        self,
        session: Session,
        row: Claimed,
        attempts: int,
        error: DeliveryError,
        now: datetime,
    ) -> None:
        if row.case_id is None:
            return
        query = select(Case).where(Case.id == row.case_id)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(of=Case)
        case = session.scalars(query).one()
        why = "refused by the mail server" if error.permanent else "could not be delivered"
        append_event(
            session,
            case,
            DISPATCHER,
            now,
            EventKind.MESSAGE_FAILED,
            reason=f"Email ({row.kind}) {why} after {attempts} attempt(s): {error.reason}. "
            "It will not be sent unless someone retries it.",
            data={
                "message": row.id,
                "kind": row.kind,
                "attempts": attempts,
                "error": error.reason,
                "permanent": error.permanent,
            },
        )
        session.flush()

    def _release(self, token: str, rows: Sequence[Claimed]) -> None:
        """Hand back rows this pass will not reach, untried: claimable again at once."""
        with self._session() as session:
            released = session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id.in_([r.id for r in rows]),
                    OutboxMessage.lease_token == token,
                    OutboxMessage.status == PENDING,
                )
                .values(lease_token=None, leased_until=None)
                .execution_options(synchronize_session=False)
            ).rowcount
            session.commit()
        self.report.released += released

    def _lost(self, row: Claimed) -> None:
        # Another dispatcher took the row over after this lease ran out; it settles it.
        log.warning("message %d: lease lost before it was settled", row.id)
        self.report.lost += 1


class AttachmentGone(LookupError):
    """A file the message attaches is no longer there (a permanent failure)."""


def _attachments(session: Session, ids: Sequence[int]) -> list[AttachedFile]:
    if not ids:
        return []
    found = {a.id: a for a in session.scalars(select(Attachment).where(Attachment.id.in_(ids)))}
    missing = [i for i in ids if i not in found]
    if missing:
        raise AttachmentGone(f"attachment(s) {missing} no longer exist")
    return [AttachedFile(found[i].filename, found[i].media_type, found[i].content) for i in ids]


def _event(
    message_id: int, at: datetime, kind: str, attempt: int, error: str | None = None
) -> OutboxEvent:
    return OutboxEvent(
        outbox_message_id=message_id,
        occurred_at=at,
        kind=kind,
        attempt=attempt,
        error=error,
        actor_id=None,
        actor_name=DISPATCHER.name,
    )


@dataclass(frozen=True)
class OutboxHealth:
    due: int
    failed: int


def outbox_health(session: Session, clock: Clock) -> OutboxHealth:
    """Counts only (no personal data): pending and due now, and given up on."""
    counts = dict(
        session.execute(
            select(OutboxMessage.status, func.count())
            .where(
                or_(
                    and_(
                        OutboxMessage.status == PENDING,
                        OutboxMessage.next_attempt_at <= clock.now(),
                    ),
                    OutboxMessage.status == FAILED,
                )
            )
            .group_by(OutboxMessage.status)
        ).all()
    )
    return OutboxHealth(counts.get(PENDING, 0), counts.get(FAILED, 0))
