"""The retention purge: delete what each LA's profile says need no longer be kept.

Per LA (its profile's ``[retention]`` table, ``config.profiles.RetentionRules``):

- closed cases, whole (events, interventions, attachments, letters, deadlines, referrals,
  approvals, responsibilities, proposals, penalty-notice requests and notices with their
  sessions and payments, court packs, and the outbox messages about the case), once BOTH
  ``closed_case_years`` (``enforcement_case_years`` for a case with an issued penalty notice or a
  court pack) have passed since closure AND the child has reached ``case_until_age``;
- outbox messages sent more than ``sent_message_days`` ago, or given up on more than
  ``failed_message_days`` ago (a letter's own message stays with its case);
- import batches (with their problem reports) finished more than ``import_batch_years`` ago;
- pupils with no case, no register and no enrolment left that ended within
  ``pupil_after_leaving_years``, with their enrolments, contacts' links, flags, proposals, UPN
  changes, leave requests and penalty-notice enquiries; then their parents/carers and family
  when nothing else refers to them.

Across LAs: sign-in attempts older than the longest ``sign_in_attempt_days`` of any LA in use,
and attendance registers (:func:`purge_registers`: ``casework.registers.retention`` kept the
longest of ``CASEWORK_REGISTER_RETENTION_YEARS`` and every LA's ``registers_years``), which the
scheduler runs as its own daily job and ``casework retention purge`` runs first.

Append-only tables refuse DELETE except inside a purge transaction (migration 0015): each batch
is one transaction that sets the marker, deletes, writes one audit entry per purged record group
(a case, a pupil, an import batch, a batch of messages or attempts, an academic year of
registers) and commits; a crash loses at most the batch in hand, and a rerun carries on
(idempotent). ``dry_run`` counts what is due and writes nothing. Reports and logs hold counts
only, never anything about a child.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, and_, delete, exists, func, or_, select, text
from sqlalchemy.orm import Session, sessionmaker

from casework import audit
from casework.clock import Clock, today
from casework.models import (
    ApprovalRequest,
    Attachment,
    Case,
    CaseEvent,
    CaseProposal,
    Contact,
    CourtPack,
    Deadline,
    Enrolment,
    Family,
    ImportBatch,
    Intervention,
    LeaveDecision,
    LeaveRequest,
    Letter,
    LocalAuthority,
    OutboxEvent,
    OutboxMessage,
    PenaltyNotice,
    PenaltyNoticeEnquiry,
    PenaltyNoticeRequest,
    PenaltyNoticeSession,
    PenaltyPayment,
    PriorPenaltyNotice,
    Pupil,
    PupilContact,
    PupilFlag,
    PupilUpnChange,
    PurgeInProgress,
    Referral,
    RegisterYear,
    Responsibility,
    SignInAttempt,
)
from casework.models.outbox import FAILED, SENT
from casework.registers.retention import PurgeReport as RegisterPurgeReport
from casework.registers.retention import purge_expired
from casework.uow import UnitOfWork
from config.profiles import RetentionRules, load_profile

log = logging.getLogger("casework.retention")

JOB_ROUTE = "job: retention purge"
CLI_ROUTE = "cli: casework retention purge"

# Rows per transaction: small enough that no lock is held for long.
CASES_PER_BATCH = 50
PUPILS_PER_BATCH = 100
ROWS_PER_BATCH = 1000

# Record types in the report, in the order they are purged.
RECORD_TYPES = (
    "registers",
    "register amendments",
    "cases",
    "outbox messages",
    "import batches",
    "pupils",
    "contacts",
    "families",
    "sign-in attempts",
)


@dataclass
class RetentionReport:
    """Counts per record type (``RECORD_TYPES``): purged, or with ``dry_run`` due now."""

    dry_run: bool
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RECORD_TYPES, 0))

    def add(self, record_type: str, n: int) -> None:
        self.counts[record_type] += n

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def lines(self) -> list[str]:
        verb = "due (dry run: nothing was deleted)" if self.dry_run else "deleted"
        lines = [f"{record_type}: {n} {verb}" for record_type, n in self.counts.items()]
        if self.dry_run:
            lines.append("pupils, contacts and families whose cases are due become due after them")
        return lines


def years_before(day: date, years: int) -> date:
    """The same day ``years`` earlier (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _start_of_day_after(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), UTC)


def rules_of(la: LocalAuthority) -> RetentionRules:
    return load_profile(la.profile).retention


# --- the marker that lets a purge transaction delete from append-only tables ----------------------


def _mark(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL casework.purging = 'on'"))
    else:
        session.add(PurgeInProgress(id=1))
        session.flush()


def _unmark(session: Session) -> None:
    if session.get_bind().dialect.name != "postgresql":
        session.execute(delete(PurgeInProgress))


@contextmanager
def purging(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One purge transaction: marked, committed if the block finishes, rolled back otherwise."""
    with UnitOfWork(factory, write=True) as uow:
        _mark(uow.session)
        yield uow.session
        _unmark(uow.session)
        uow.commit()


def _gone(session: Session, model, *where) -> int:
    return session.execute(
        delete(model).where(*where).execution_options(synchronize_session=False)
    ).rowcount


# --- closed cases -----------------------------------------------------------------------------


def due_cases(la: LocalAuthority, rules: RetentionRules, on: date) -> Select:
    """Closed cases of the LA due for purging on ``on`` (id and pupil id, oldest id first)."""
    enforced = or_(
        exists().where(PenaltyNotice.case_id == Case.id, PenaltyNotice.issued_on.is_not(None)),
        exists().where(CourtPack.case_id == Case.id),
    )
    ordinary_cut = _start_of_day_after(years_before(on, rules.closed_case_years))
    enforced_cut = _start_of_day_after(years_before(on, rules.enforcement_case_years))
    query = (
        select(Case.id, Case.pupil_id)
        .join(Pupil, Pupil.id == Case.pupil_id)
        .where(
            Case.la_id == la.id,
            Case.closed_at.is_not(None),
            or_(
                and_(~enforced, Case.closed_at < ordinary_cut),
                and_(enforced, Case.closed_at < enforced_cut),
            ),
        )
        .order_by(Case.id)
    )
    if rules.case_until_age:
        query = query.where(Pupil.date_of_birth <= years_before(on, rules.case_until_age))
    return query


def delete_cases(session: Session, case_ids: list[int]) -> None:
    """Everything hanging off these cases, then the cases, children before parents."""
    in_cases = Case.id.in_(case_ids)
    messages = select(OutboxMessage.id).where(OutboxMessage.case_id.in_(case_ids))
    notices = select(PenaltyNotice.id).where(PenaltyNotice.case_id.in_(case_ids))
    _gone(session, CaseProposal, CaseProposal.case_id.in_(case_ids))
    _gone(session, CaseEvent, CaseEvent.case_id.in_(case_ids))
    _gone(session, Letter, Letter.case_id.in_(case_ids))
    _gone(session, OutboxEvent, OutboxEvent.outbox_message_id.in_(messages))
    _gone(session, OutboxMessage, OutboxMessage.case_id.in_(case_ids))
    _gone(session, CourtPack, CourtPack.case_id.in_(case_ids))
    _gone(session, PenaltyNoticeSession, PenaltyNoticeSession.notice_id.in_(notices))
    _gone(session, PenaltyPayment, PenaltyPayment.notice_id.in_(notices))
    _gone(session, PenaltyNotice, PenaltyNotice.case_id.in_(case_ids))
    _gone(session, PenaltyNoticeRequest, PenaltyNoticeRequest.case_id.in_(case_ids))
    for model in (Deadline, Responsibility, Referral, ApprovalRequest, Attachment, Intervention):
        _gone(session, model, model.case_id.in_(case_ids))
    _gone(session, Case, in_cases)


# --- pupils, their contacts and families ------------------------------------------------------


def due_pupils(la: LocalAuthority, rules: RetentionRules, on: date) -> Select:
    """Pupils of the LA with nothing left to keep them: no case, no register, no penalty record
    and no enrolment that is open or ended within ``pupil_after_leaving_years``."""
    left_by = years_before(on, rules.pupil_after_leaving_years)
    recent_enrolment = exists().where(
        Enrolment.pupil_id == Pupil.id,
        or_(Enrolment.end_date.is_(None), Enrolment.end_date > left_by),
    )
    return (
        select(Pupil.id)
        .where(
            Pupil.la_id == la.id,
            ~exists().where(Case.pupil_id == Pupil.id),
            ~exists().where(RegisterYear.pupil_id == Pupil.id),
            ~exists().where(PenaltyNotice.pupil_id == Pupil.id),
            ~exists().where(PenaltyNoticeRequest.pupil_id == Pupil.id),
            ~exists().where(PenaltyNoticeSession.pupil_id == Pupil.id),
            ~recent_enrolment,
        )
        .order_by(Pupil.id)
    )


def delete_pupils(session: Session, pupil_ids: list[int]) -> tuple[int, int]:
    """The pupils and what is only about them; then their contacts and families if nothing
    else refers to them. Returns (contacts, families) deleted."""
    contact_ids = list(
        session.scalars(
            select(PupilContact.contact_id).where(PupilContact.pupil_id.in_(pupil_ids)).distinct()
        )
    )
    family_ids = [
        f
        for f in session.scalars(select(Pupil.family_id).where(Pupil.id.in_(pupil_ids)).distinct())
        if f is not None
    ]
    requests = select(LeaveRequest.id).where(LeaveRequest.pupil_id.in_(pupil_ids))
    _gone(session, LeaveDecision, LeaveDecision.request_id.in_(requests))
    for model in (
        LeaveRequest,
        PriorPenaltyNotice,
        PenaltyNoticeEnquiry,
        PupilFlag,
        CaseProposal,
        PupilUpnChange,
        Enrolment,
        PupilContact,
    ):
        _gone(session, model, model.pupil_id.in_(pupil_ids))
    _gone(session, Pupil, Pupil.id.in_(pupil_ids))
    contacts = _gone(
        session,
        Contact,
        Contact.id.in_(contact_ids),
        *(
            ~exists().where(column == Contact.id)
            for column in (
                PupilContact.contact_id,
                Letter.contact_id,
                PenaltyNotice.contact_id,
                PenaltyNoticeSession.contact_id,
                OutboxMessage.recipient_contact_id,
                LeaveRequest.applied_by_contact_id,
                PenaltyNoticeEnquiry.contact_id,
                PriorPenaltyNotice.contact_id,
            )
        ),
    )
    families = _gone(
        session,
        Family,
        Family.id.in_(family_ids),
        ~exists().where(Pupil.family_id == Family.id),
        ~exists().where(Contact.family_id == Family.id),
    )
    return contacts, families


# --- the purge ----------------------------------------------------------------------------------


def register_years(session: Session, deployment_years: int) -> int:
    """Registers are kept the longest of the deployment's setting and every LA's profile."""
    profiles = {la.profile for la in session.scalars(select(LocalAuthority))}
    return max([deployment_years, *(load_profile(p).retention.registers_years for p in profiles)])


def purge_registers(
    factory: sessionmaker[Session],
    clock: Clock,
    deployment_years: int,
    *,
    route: str = JOB_ROUTE,
    dry_run: bool = False,
) -> RegisterPurgeReport:
    """``casework.registers.retention.purge_expired`` kept ``register_years``, in one purge
    transaction with an audit entry per academic year deleted (registers are per pupil and
    year; the entry names the year, not the pupils)."""
    if dry_run:
        with factory() as session:
            years = register_years(session, deployment_years)
            return purge_expired(session, today=today(clock), years=years, dry_run=True)
    with purging(factory) as session:
        years = register_years(session, deployment_years)
        found = purge_expired(session, today=today(clock), years=years)
        for year in found.years:
            audit.record(
                session,
                actor=None,
                action="purge",
                record_type="register",
                record_id=year.label,
                pupil_id=None,
                route=route,
                outcome=f"ok: registers {year.registers}, amendments {year.amendments}",
                at=clock.now(),
            )
    return found


def purge(
    factory: sessionmaker[Session],
    clock: Clock,
    *,
    dry_run: bool = False,
    route: str = JOB_ROUTE,
    registers: int | None = None,
) -> RetentionReport:
    """Purge (or with ``dry_run`` count) everything due on the clock's date, batch by batch.

    ``registers``: the deployment's ``CASEWORK_REGISTER_RETENTION_YEARS`` to purge registers
    too; None leaves them to ``casework registers purge``.
    """
    report = RetentionReport(dry_run)
    on = today(clock)
    with factory() as session:
        las = list(session.scalars(select(LocalAuthority).order_by(LocalAuthority.id)))
        session.expunge_all()
    job = _Job(factory, clock, route, report, dry_run)
    if registers is not None:
        job.registers(registers)
    for la in las:
        rules = rules_of(la)
        job.cases(la, rules, on)
        job.outbox(la, rules)
        job.imports(la, rules)
        job.pupils(la, rules, on)
    if las:
        job.sign_in_attempts(max(rules_of(la).sign_in_attempt_days for la in las))
    return report


@dataclass
class _Job:
    factory: sessionmaker[Session]
    clock: Clock
    route: str
    report: RetentionReport
    dry_run: bool

    def _audit(
        self,
        session: Session,
        record_type: str,
        record_id: str | int | None,
        *,
        la_id: int | None,
        pupil_id: int | None = None,
        outcome: str = "ok",
    ) -> None:
        audit.record(
            session,
            actor=None,
            action="purge",
            record_type=record_type,
            record_id=record_id,
            pupil_id=pupil_id,
            route=self.route,
            outcome=outcome,
            at=self.clock.now(),
            la_id=la_id,
        )

    def _count(self, query: Select) -> int:
        with self.factory() as session:
            return session.scalar(select(func.count()).select_from(query.subquery())) or 0

    def _batches(self, query: Select, size: int) -> Iterator[tuple[Session, list]]:
        """Each batch of due rows in its own purge transaction, until none is left."""
        while True:
            with purging(self.factory) as session:
                rows = list(session.execute(query.limit(size)).all())
                if not rows:
                    return
                yield session, rows

    def registers(self, deployment_years: int) -> None:
        found = purge_registers(
            self.factory, self.clock, deployment_years, route=self.route, dry_run=self.dry_run
        )
        self.report.add("registers", found.registers)
        self.report.add("register amendments", found.amendments)

    def cases(self, la: LocalAuthority, rules: RetentionRules, on: date) -> None:
        query = due_cases(la, rules, on)
        if self.dry_run:
            self.report.add("cases", self._count(query))
            return
        for session, rows in self._batches(query, CASES_PER_BATCH):
            delete_cases(session, [case_id for case_id, _ in rows])
            for case_id, pupil_id in rows:
                self._audit(session, "case", case_id, la_id=la.id, pupil_id=pupil_id)
            self.report.add("cases", len(rows))

    def outbox(self, la: LocalAuthority, rules: RetentionRules) -> None:
        now = self.clock.now()
        query = (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.la_id == la.id,
                or_(
                    and_(
                        OutboxMessage.status == SENT,
                        OutboxMessage.sent_at < now - timedelta(days=rules.sent_message_days),
                    ),
                    and_(
                        OutboxMessage.status == FAILED,
                        OutboxMessage.failed_at < now - timedelta(days=rules.failed_message_days),
                    ),
                ),
                # A letter's email is part of the letter's record: it goes with its case.
                ~exists().where(Letter.outbox_message_id == OutboxMessage.id),
            )
            .order_by(OutboxMessage.id)
        )
        self._bulk(query, OutboxMessage, "outbox messages", "outbox_message", la.id)

    def imports(self, la: LocalAuthority, rules: RetentionRules) -> None:
        cut = _start_of_day_after(years_before(today(self.clock), rules.import_batch_years))
        query = (
            select(ImportBatch.id)
            .where(ImportBatch.la_id == la.id, ImportBatch.finished_at < cut)
            .order_by(ImportBatch.id)
        )
        self._bulk(query, ImportBatch, "import batches", "import", la.id)

    def sign_in_attempts(self, days: int) -> None:
        query = (
            select(SignInAttempt.id)
            .where(SignInAttempt.at < self.clock.now() - timedelta(days=days))
            .order_by(SignInAttempt.id)
        )
        self._bulk(query, SignInAttempt, "sign-in attempts", "sign_in_attempt", None)

    def _bulk(
        self, query: Select, model, report_as: str, record_type: str, la_id: int | None
    ) -> None:
        """Rows purged a batch at a time, one audit entry per batch naming its id range."""
        if self.dry_run:
            self.report.add(report_as, self._count(query))
            return
        for session, rows in self._batches(query, ROWS_PER_BATCH):
            ids = [row[0] for row in rows]
            if model is OutboxMessage:
                _gone(session, OutboxEvent, OutboxEvent.outbox_message_id.in_(ids))
            _gone(session, model, model.id.in_(ids))
            self._audit(
                session,
                record_type,
                f"{ids[0]}-{ids[-1]}",
                la_id=la_id,
                outcome=f"ok: {len(ids)} deleted",
            )
            self.report.add(report_as, len(ids))

    def pupils(self, la: LocalAuthority, rules: RetentionRules, on: date) -> None:
        query = due_pupils(la, rules, on)
        if self.dry_run:
            self.report.add("pupils", self._count(query))
            return
        for session, rows in self._batches(query, PUPILS_PER_BATCH):
            ids = [pupil_id for (pupil_id,) in rows]
            contacts, families = delete_pupils(session, ids)
            for pupil_id in ids:
                self._audit(session, "pupil", pupil_id, la_id=la.id, pupil_id=pupil_id)
            self.report.add("pupils", len(ids))
            self.report.add("contacts", contacts)
            self.report.add("families", families)


def run_job(factory: sessionmaker[Session], clock: Clock, registers: int | None) -> None:
    """The scheduler's daily run: counts in the log, the type of any failure, nothing else."""
    try:
        report = purge(factory, clock, registers=registers)
    except Exception as exc:  # the type only: a message could quote a record
        log.error("retention purge failed (%s); finished batches stay purged", type(exc).__name__)
        return
    log.info("retention purge: %s", "; ".join(report.lines()))
