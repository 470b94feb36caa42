"""The sweep: fire every due clock exactly once, remind owners ahead of deadlines.

Run at scheduler start-up and every minute, so downtime, crashes and clock changes lose
nothing. Each batch is one transaction: rows are claimed with ``FOR UPDATE SKIP LOCKED`` (on
SQLite the write lock taken at BEGIN does the same job), and each row's ``pending -> fired``
compare-and-set is made in the same transaction as its effects. A crash rolls the whole batch
back, to be done again by the next sweep; nothing is fired twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session, aliased, sessionmaker

from casework.clock import Clock, today
from casework.db import WRITE_INTENT
from casework.events import SCHEDULER, append_event
from casework.models import Case, CaseEvent, User
from casework.models.deadlines import Deadline, SchedulerHeartbeat
from casework.vocabulary import EventKind
from notifications.reminders import (
    deadline_passed_emails,
    deadline_reminder_email,
    deadlines_passed_emails,
)
from workflows.clocks import FAILED, FIRED, PENDING

log = logging.getLogger("casework.sweep")

BATCH = 500
# A row whose effects keep failing (a bug, bad data) is set aside rather than retried forever;
# it shows as failed on the case and in the health figures.
MAX_ATTEMPTS = 5


@dataclass
class SweepResult:
    fired: int = 0
    reminded: int = 0
    failed: int = 0
    batches: int = 0
    errors: list[str] = field(default_factory=list)


def sweep(
    factory: sessionmaker[Session], clock: Clock, name: str = "scheduler", batch: int = BATCH
) -> SweepResult:
    """Fire everything due and send every reminder due, batch by batch, until none is left."""
    result = SweepResult()
    # Keyset paging: each batch starts after the last row the previous one took, so the sweep
    # never rescans rows it has already fired (on PostgreSQL their dead index entries would
    # make every later claim slower).
    after: tuple[date, int] | None = None
    while (after := _fire_batch(factory, clock, result, batch, after)) is not None:
        result.batches += 1
    after = None
    while (after := _remind_batch(factory, clock, result, batch, after)) is not None:
        result.batches += 1
    _heartbeat(factory, clock, name, result)
    return result


def _claim(session: Session, query, batch: int):
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query.limit(batch)))


def _due(day: date, after: tuple[date, int] | None):
    query = (
        select(Deadline)
        .where(Deadline.status == PENDING, Deadline.due_on <= day)
        .order_by(Deadline.due_on, Deadline.id)
    )
    return _after(query, Deadline.due_on, after)


def _after(query, column, after: tuple[date, int] | None):
    """Keyset paging on (column, id): only rows after the last one the sweep took."""
    if after is None:
        return query
    return query.where(or_(column > after[0], and_(column == after[0], Deadline.id > after[1])))


def _fire_batch(
    factory: sessionmaker[Session],
    clock: Clock,
    result: SweepResult,
    batch: int,
    after: tuple[date, int] | None,
) -> tuple[date, int] | None:
    """Claim up to ``batch`` due rows after ``after`` and fire them together; if anything in
    the batch fails, do it again row by row so one bad row cannot hold the others back.
    Returns where the next batch starts, or None when nothing was left."""
    day = today(clock)
    with factory() as session:
        session.connection(execution_options={WRITE_INTENT: True})
        rows = _claim(session, _due(day, after), batch)
        if not rows:
            return None
        last = (rows[-1].due_on, rows[-1].id)
        try:
            result.fired += _fire_together(session, clock, day, rows)
            session.commit()
            return last
        except Exception as exc:
            log.warning("batch fire failed (%s); firing row by row", type(exc).__name__)
            session.rollback()
    with factory() as session:
        session.connection(execution_options={WRITE_INTENT: True})
        rows = _claim(session, _due(day, after), batch)
        for deadline in rows:
            _fire_one(session, clock, day, deadline, result)
        session.commit()
    # Rows that failed stay pending for the next sweep (up to MAX_ATTEMPTS); this one moves on.
    return (rows[-1].due_on, rows[-1].id) if rows else None


def _fire_together(session: Session, clock: Clock, day: date, rows: list[Deadline]) -> int:
    """Compare-and-set every claimed row, then write each one's event in bulk: the case rows are
    locked (PostgreSQL) or the database is (SQLite), so the versions read here are current."""
    now = clock.now()
    fired_ids = set(
        session.scalars(
            update(Deadline)
            .where(
                Deadline.id.in_([d.id for d in rows]),
                Deadline.status == PENDING,
                Deadline.due_on <= day,
            )
            .values(status=FIRED, fired_at=now, version=Deadline.version + 1)
            .returning(Deadline.id)
            .execution_options(synchronize_session=False)
        )
    )
    fired = [d for d in rows if d.id in fired_ids]
    if not fired:
        return 0
    case_ids = sorted({d.case_id for d in fired})
    owner = aliased(User)
    manager = aliased(User)
    cases_query = (
        select(Case.id, Case.last_event_sequence, Case.version, owner.full_name, manager.full_name)
        .join(owner, owner.id == Case.owner_id)
        .outerjoin(manager, manager.id == owner.manager_id)
        .where(Case.id.in_(case_ids))
    )
    if session.get_bind().dialect.name == "postgresql":
        cases_query = cases_query.with_for_update(of=Case)
    cases = {row[0]: list(row[1:]) for row in session.execute(cases_query)}
    events = []
    for deadline in fired:
        case = cases[deadline.case_id]
        case[0] += 1
        events.append(
            {
                "case_id": deadline.case_id,
                "sequence": case[0],
                "occurred_at": now,
                "actor_id": SCHEDULER.id,
                "actor_name": SCHEDULER.name,
                "actor_position": SCHEDULER.position,
                "kind": EventKind.DEADLINE_PASSED.value,
                "reason": f"{deadline.label}: due {deadline.due_on.isoformat()} and not actioned",
                "data": {
                    "deadline": deadline.id,
                    "kind": deadline.kind,
                    "due_on": deadline.due_on.isoformat(),
                    "owner": case[2],
                    "escalated_to": case[3],
                },
            }
        )
    session.execute(insert(CaseEvent), events)
    # One statement for every case's counter and version; the rows are locked (or the database
    # is), and (case_id, sequence) is unique, so a stale count could never be written silently.
    session.execute(
        update(Case.__table__)
        .where(Case.id == bindparam("case"), Case.version == bindparam("seen"))
        .values(last_event_sequence=bindparam("sequence"), version=bindparam("seen") + 1),
        [
            {"case": case_id, "seen": version, "sequence": sequence}
            for case_id, (sequence, version, _, _) in cases.items()
        ],
    )
    # The emails the passed deadlines cause (owners, and their managers), in this transaction.
    deadlines_passed_emails(
        session,
        [
            (deadline, deadline.case_id, event["sequence"])
            for deadline, event in zip(fired, events, strict=True)
        ],
        now,
    )
    return len(fired)


def _fire_one(
    session: Session, clock: Clock, day: date, deadline: Deadline, result: SweepResult
) -> None:
    savepoint = session.begin_nested()
    try:
        # Compare-and-set: only a row still pending and due becomes fired.
        changed = session.execute(
            update(Deadline)
            .where(Deadline.id == deadline.id, Deadline.status == PENDING, Deadline.due_on <= day)
            .values(status=FIRED, fired_at=clock.now(), version=Deadline.version + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        if changed != 1:
            savepoint.rollback()
            return
        case = session.get(Case, deadline.case_id)
        manager = session.get(User, case.owner.manager_id) if case.owner.manager_id else None
        event = append_event(
            session,
            case,
            SCHEDULER,
            clock.now(),
            EventKind.DEADLINE_PASSED,
            reason=f"{deadline.label}: due {deadline.due_on.isoformat()} and not actioned",
            data={
                "deadline": deadline.id,
                "kind": deadline.kind,
                "due_on": deadline.due_on.isoformat(),
                "owner": case.owner.full_name,
                "escalated_to": manager.full_name if manager else None,
            },
        )
        deadline_passed_emails(session, deadline, case, event.sequence, clock.now())
        session.flush()
        savepoint.commit()
        result.fired += 1
    except Exception as exc:
        savepoint.rollback()
        _failed(session, deadline, exc, result)


def _failed(session: Session, deadline: Deadline, exc: Exception, result: SweepResult) -> None:
    # Type only: an exception's text can carry personal data.
    kind = type(exc).__name__
    log.warning("deadline %s failed to fire: %s", deadline.id, kind)
    attempts = deadline.attempts + 1
    session.execute(
        update(Deadline)
        .where(Deadline.id == deadline.id, Deadline.status == PENDING)
        .values(
            attempts=attempts,
            last_error=kind,
            status=FAILED if attempts >= MAX_ATTEMPTS else PENDING,
            version=Deadline.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    result.failed += 1
    result.errors.append(kind)


def _remind_batch(
    factory: sessionmaker[Session],
    clock: Clock,
    result: SweepResult,
    batch: int,
    after: tuple[date, int] | None,
) -> tuple[date, int] | None:
    day = today(clock)
    query = (
        select(Deadline)
        .where(
            Deadline.status == PENDING,
            Deadline.reminded_at.is_(None),
            Deadline.remind_on <= day,
            Deadline.due_on > day,
        )
        .order_by(Deadline.remind_on, Deadline.id)
    )
    query = _after(query, Deadline.remind_on, after)
    with factory() as session:
        session.connection(execution_options={WRITE_INTENT: True})
        rows = _claim(session, query, batch)
        if not rows:
            return None
        for deadline in rows:
            changed = session.execute(
                update(Deadline)
                .where(Deadline.id == deadline.id, Deadline.reminded_at.is_(None))
                .values(reminded_at=clock.now(), version=Deadline.version + 1)
                .execution_options(synchronize_session=False)
            ).rowcount
            if changed != 1:
                continue
            case = session.get(Case, deadline.case_id)
            event = append_event(
                session,
                case,
                SCHEDULER,
                clock.now(),
                EventKind.DEADLINE_REMINDER,
                reason=f"{deadline.label}: due {deadline.due_on.isoformat()}",
                data={
                    "deadline": deadline.id,
                    "kind": deadline.kind,
                    "due_on": deadline.due_on.isoformat(),
                    "owner": case.owner.full_name,
                },
            )
            # The reminder email, in the same transaction as the reminder event.
            deadline_reminder_email(session, deadline, case, event.sequence, clock.now())
            result.reminded += 1
        session.commit()
    return (rows[-1].remind_on, rows[-1].id)


def _heartbeat(factory, clock: Clock, name: str, result: SweepResult) -> None:
    with factory() as session:
        session.connection(execution_options={WRITE_INTENT: True})
        beat = session.get(SchedulerHeartbeat, name)
        if beat is None:
            beat = SchedulerHeartbeat(
                name=name, last_sweep_at=clock.now(), fired=0, reminded=0, failed=0
            )
            session.add(beat)
        beat.last_sweep_at = clock.now()
        beat.fired += result.fired
        beat.reminded += result.reminded
        beat.failed += result.failed
        session.commit()


@dataclass
class Health:
    last_sweep_at: datetime | None
    due_unfired: int
    failed: int


def health(session: Session, clock: Clock) -> Health:
    last = session.scalar(select(func.max(SchedulerHeartbeat.last_sweep_at)))
    due = session.scalar(
        select(func.count())
        .select_from(Deadline)
        .where(Deadline.status == PENDING, Deadline.due_on <= today(clock))
    )
    failed = session.scalar(
        select(func.count()).select_from(Deadline).where(Deadline.status == FAILED)
    )
    return Health(last, due or 0, failed or 0)
