"""The audit log's hash chain: append one entry, verify the whole chain.

Every entry's ``entry_hash`` is SHA-256 over the previous entry's hash and a canonical
serialisation of the entry's own fields, so editing, deleting or inserting a row anywhere breaks
the chain from that row on, and ``verify`` names the first broken entry.

The chain has one head, so appends are serialised: on PostgreSQL by a transaction-scoped advisory
lock taken before the head is read; on SQLite by the database's single write lock (the entry is
written in a transaction that began with BEGIN IMMEDIATE, or one that already holds the lock; a
transaction whose snapshot went stale fails rather than forking the chain).

Retention: the audit log itself is never purged. It is the record of who saw and changed
children's data, including the purges of everything else (each purge leaves an entry here).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from casework.db import WRITE_INTENT
from casework.models import AuditEntry

GENESIS = "0" * 64

# pg_advisory_xact_lock key for the chain's head ("AUDIT" in ASCII): one constant for every writer.
CHAIN_LOCK = 0x4155444954

ACTIONS = frozenset(
    {"read", "write", "export", "download", "purge", "sign_in", "sign_out", "refused"}
)

# The hashed fields, in their fixed order: changing this order breaks every existing chain.
HASHED_FIELDS = (
    "at",
    "actor_id",
    "actor_username",
    "la_id",
    "action",
    "record_type",
    "record_id",
    "pupil_id",
    "route",
    "outcome",
)


class Actor(Protocol):
    """Who acted: a ``casework.models.User``, or anything with the same three attributes."""

    @property
    def id(self) -> int: ...
    @property
    def username(self) -> str: ...
    @property
    def la_id(self) -> int | None: ...


# Who an entry names when no person acted (a scheduled job, a command run by the operator).
SYSTEM_ACTOR = "system"


def canonical(entry: AuditEntry) -> str:
    """The entry's hashed fields as one JSON array: fixed order, UTC ISO time, no spaces."""
    values = []
    for field in HASHED_FIELDS:
        value = getattr(entry, field)
        if field == "at":
            value = value.astimezone(UTC).isoformat(timespec="microseconds")
        values.append(value)
    return json.dumps(values, ensure_ascii=True, separators=(",", ":"))


def entry_hash(prev_hash: str, entry: AuditEntry) -> str:
    return hashlib.sha256(f"{prev_hash}\n{canonical(entry)}".encode()).hexdigest()


# The columns' bounds: whatever a request's path carried, the entry is still written.
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


def _text(value: str, limit: int) -> str:
    # PostgreSQL text cannot hold NUL; the columns have lengths.
    return value.replace("\x00", "")[:limit]


def take_chain_lock(session: Session) -> None:
    """Hold the chain's head for the rest of the caller's transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})
    elif not session.in_transaction():
        # SQLite: start the transaction holding the write lock, so the head read below cannot
        # go stale before the insert.
        session.connection(execution_options={WRITE_INTENT: True})


def head(session: Session) -> str:
    latest = session.scalar(select(AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1))
    return latest or GENESIS


def record(
    session: Session,
    *,
    actor: Actor | None,
    action: str,
    record_type: str,
    record_id: str | int | None,
    pupil_id: int | None,
    route: str,
    outcome: str,
    at: datetime,
    la_id: int | None = None,
    actor_username: str | None = None,
) -> AuditEntry:
    """Append one chained entry in the caller's session and transaction (the caller commits).

    On SQLite the caller's transaction must not have begun, or must have begun with write intent
    (``UnitOfWork(write=True)``): a transaction that began by reading fails with "database is
    locked" when another writer got in first, rather than fork the chain. The chain's lock is
    held until the caller's transaction ends, so record late in a transaction and commit soon.

    ``route`` is a route template ("GET /pupils/{pupil_id}") or a command ("cli: casework audit
    export"), never a query string or anything naming a person. ``actor_username`` names the
    account when there is no ``actor`` (a sign-in to an unknown account, a command's operator).
    """
    if action not in ACTIONS:
        raise ValueError(f"action {action!r} is not one of {sorted(ACTIONS)}")
    if at.tzinfo is None:
        raise ValueError(f"at {at!r} must be timezone-aware (UTC)")
    entry = AuditEntry(
        at=at.astimezone(UTC),
        actor_id=actor.id if actor is not None else None,
        actor_username=_text(
            actor.username if actor is not None else (actor_username or SYSTEM_ACTOR), 100
        ),
        la_id=la_id if la_id is not None else (actor.la_id if actor is not None else None),
        action=action,
        record_type=_text(record_type, 40),
        record_id=None if record_id is None else _text(str(record_id), 64),
        pupil_id=pupil_id if pupil_id is None or _INT_MIN <= pupil_id <= _INT_MAX else None,
        route=_text(route, 300),
        outcome=_text(str(outcome), 40),
    )
    if session.get_bind().dialect.name == "postgresql":
        return _append_on_the_server(session, entry)
    take_chain_lock(session)
    entry.prev_hash = head(session)
    entry.entry_hash = entry_hash(entry.prev_hash, entry)
    session.add(entry)
    session.flush()
    return entry


_APPEND = text(
    "SELECT entry_id, prev, hash FROM casework_audit_append(:lock, :at, :actor_id, "
    ":actor_username, :la_id, :action, :record_type, :record_id, :pupil_id, :route, :outcome, "
    ":canonical)"
)


def _append_on_the_server(session: Session, entry: AuditEntry) -> AuditEntry:
    """PostgreSQL: lock, read the head and insert in one call (migration 0014's function), so
    the chain's lock is held for one round trip and the commit. The entry returned is the row's
    copy, not attached to the session."""
    fields = {name: getattr(entry, name) for name in HASHED_FIELDS}
    found = session.execute(
        _APPEND, {"lock": CHAIN_LOCK, **fields, "canonical": canonical(entry)}
    ).one()
    entry.id, entry.prev_hash, entry.entry_hash = found.entry_id, found.prev, found.hash
    return entry


def record_sign_in(
    session: Session,
    *,
    username: str,
    user: Actor | None,
    succeeded: bool,
    route: str,
    at: datetime,
    action: str = "sign_in",
) -> AuditEntry:
    """A sign-in (or sign-out) attempt: the account it was for, and whether it worked.

    An unknown username is recorded as tried (it is a staff login name, not a child's data), so
    a manager can see guessing; it is cut to the column's length.
    """
    return record(
        session,
        actor=user,
        action=action,
        record_type="user",
        record_id=user.id if user is not None else None,
        pupil_id=None,
        route=route,
        outcome="ok" if succeeded else "refused",
        at=at,
        actor_username=username,
    )


@dataclass(frozen=True)
class Verification:
    """What ``verify`` found: how many entries it checked, and the first broken one if any."""

    checked: int
    broken_id: int | None = None
    problem: str | None = None
    # The last entry checked: noted elsewhere (a ticket, a printout), it shows later whether
    # entries were cut from the end, which no chain can show by itself.
    last_id: int | None = None
    last_hash: str = GENESIS

    @property
    def intact(self) -> bool:
        return self.broken_id is None


def _walk(session: Session, batch: int) -> Iterator[AuditEntry]:
    after = 0
    while True:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.id > after).order_by(AuditEntry.id).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].id
        session.expunge_all()


def verify(session: Session, *, batch: int = 5000) -> Verification:
    """Walk the chain by id; stop at the first entry whose links or contents do not match."""
    previous, last_id = GENESIS, None
    checked = 0
    for entry in _walk(session, batch):
        if entry.prev_hash != previous:
            problem = "prev_hash does not match the previous entry's hash"
            return Verification(checked, entry.id, problem, last_id, previous)
        if entry.entry_hash != entry_hash(entry.prev_hash, entry):
            problem = "entry_hash does not match the entry's contents"
            return Verification(checked, entry.id, problem, last_id, previous)
        previous, last_id = entry.entry_hash, entry.id
        checked += 1
    return Verification(checked, last_id=last_id, last_hash=previous)
