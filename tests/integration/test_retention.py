"""The retention purge: each LA profile's periods decide what goes; a closed case goes whole; the
purge is the only way rows leave the append-only tables; every purge leaves an audit entry;
dry runs write nothing; batches survive a crash; logs carry counts, never a child's name.
Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, date, datetime, timedelta

import msgspec
import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import exc, func, select, text

import workflows.retention as retention
from casework import audit
from casework.clock import FixedClock
from casework.models import (
    Attachment,
    AuditEntry,
    Case,
    CaseEvent,
    Contact,
    CourtPack,
    Deadline,
    Enrolment,
    Family,
    ImportBatch,
    Intervention,
    OutboxEvent,
    OutboxMessage,
    Pupil,
    RegisterYear,
    SignInAttempt,
)
from casework.vocabulary import Engagement, InterventionKind, InterventionOutcome, Outcome
from workflows.cases import FireTrigger, OpenCase, fire_trigger, open_case
from workflows.interventions import RecordIntervention, record_intervention

CLOSED_AT = datetime(2024, 11, 20, 10, 0, tzinfo=UTC)  # the conftest clock
# Amelia Ashdown (pupil_oak) turns 25 on 2 March 2040; Bella (pupil_river) on 9 June 2042.
OAK_IS_25 = datetime(2040, 3, 3, 12, 0, tzinfo=UTC)


def closed_case(db, context, pupil: str = "pupil_oak", *, pack: bool = False) -> int:
    """A case with an intervention, an attachment, an email (sent, with its history) and,
    with ``pack``, a court pack; closed at ``CLOSED_AT``. Committed."""
    ctx = context("manager")
    world = db.world
    school = world.oakfield if pupil == "pupil_oak" else world.riverside
    case = open_case(ctx, OpenCase(getattr(world, pupil), school, reason="below 90%"))
    item = record_intervention(
        ctx,
        case.id,
        RecordIntervention(
            kind=InterventionKind.PHONE_CALL.value,
            occurred_on=date(2024, 11, 19),
            summary="Spoke to a parent about Monday absences",
            family_engaged=Engagement.ENGAGED.value,
            outcome=InterventionOutcome.PENDING.value,
        ),
    )
    content = b"%PDF-1.4 note"
    ctx.session.add(
        Attachment(
            case_id=case.id,
            intervention_id=item.id,
            filename="note.pdf",
            media_type="application/pdf",
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            content=content,
            uploaded_by_id=ctx.actor.id,
            uploaded_at=ctx.now(),
        )
    )
    message = outbox_message(ctx.session, world.la, f"case-{case.id}", CLOSED_AT, case.id)
    ctx.session.add(
        OutboxEvent(
            outbox_message_id=message.id,
            occurred_at=CLOSED_AT,
            kind="sent",
            attempt=1,
            actor_name="system",
        )
    )
    if pack:
        ctx.session.add(
            CourtPack(
                case_id=case.id,
                number=1,
                reference=f"{case.reference}-P1",
                route="prosecution",
                offence="s444(1)",
                period_start=date(2024, 9, 2),
                period_end=date(2024, 11, 15),
                limit_date=date(2025, 5, 15),
                court="Example Magistrates' Court",
                contact_ids=[],
                built_by_id=ctx.actor.id,
                built_by_name="Manager",
                built_by_position="La Manager",
                built_at=CLOSED_AT,
                warnings_acknowledged=[],
                pdf=b"%PDF",
                pdf_sha256="0" * 64,
                zip=b"PK",
                zip_sha256="1" * 64,
                pages=1,
                index={},
            )
        )
    ctx.session.flush()
    fire_trigger(
        ctx,
        case.id,
        FireTrigger("close", ctx.case(case.id).version, reason="improved", outcome=Outcome.OTHER),
    )
    ctx.commit()
    return case.id


def outbox_message(
    session, la_id: int, key: str, at: datetime, case_id: int | None = None, status="sent"
) -> OutboxMessage:
    message = OutboxMessage(
        key=key,
        message_id=f"<{key}@example.org>",
        kind="test",
        la_id=la_id,
        case_id=case_id,
        to_address="dana@example.org",
        subject="Attendance",
        template="test.txt",
        context={},
        attachments=[],
        status=status,
        attempts=1,
        next_attempt_at=at,
        created_at=at,
        sent_at=at if status == "sent" else None,
        failed_at=at if status == "failed" else None,
    )
    session.add(message)
    session.flush()
    return message


def count(db, model, *where) -> int:
    with db.factory() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def purge_entries(db) -> list[AuditEntry]:
    with db.factory() as session:
        return list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.action == "purge").order_by(AuditEntry.id)
            )
        )


def without_age_rule(monkeypatch) -> None:
    real = retention.rules_of
    monkeypatch.setattr(
        retention, "rules_of", lambda la: msgspec.structs.replace(real(la), case_until_age=0)
    )


# --- the append-only tables ---------------------------------------------------------------------


@pytest.mark.parametrize("table", ["case_event", "intervention", "attachment", "outbox_event"])
def test_an_ordinary_delete_from_an_append_only_table_is_still_refused(db, context, table):
    case_id = closed_case(db, context)
    column = "outbox_message_id" if table == "outbox_event" else "case_id"
    ids = f"(SELECT id FROM outbox_message WHERE case_id = {case_id})"
    where = f"{column} IN {ids}" if table == "outbox_event" else f"{column} = {case_id}"
    with db.engine.connect() as conn:
        with pytest.raises(exc.DBAPIError, match="append-only"):
            conn.execute(text(f"DELETE FROM {table} WHERE {where}"))
        conn.rollback()
        assert conn.execute(text(f"SELECT count(*) FROM {table} WHERE {where}")).scalar_one()


def test_inside_a_purge_transaction_an_update_is_still_refused(db, context):
    case_id = closed_case(db, context)
    refused = pytest.raises(exc.DBAPIError, match="append-only")
    with refused, retention.purging(db.factory) as session:
        session.execute(text(f"UPDATE case_event SET reason = 'x' WHERE case_id = {case_id}"))


def test_the_audit_log_cannot_be_purged(db, context):
    with retention.purging(db.factory) as session:
        audit.record(
            session,
            actor=None,
            action="read",
            record_type="pupil",
            record_id=1,
            pupil_id=1,
            route="test",
            outcome="ok",
            at=CLOSED_AT,
        )
    refused = pytest.raises(exc.DBAPIError, match="append-only")
    with refused, retention.purging(db.factory) as session:
        session.execute(text("DELETE FROM audit_entry"))
    assert count(db, AuditEntry) == 1


def test_the_marker_does_not_outlive_the_purge_transaction(db, context):
    case_id = closed_case(db, context)
    with retention.purging(db.factory):
        pass
    with db.engine.connect() as conn, pytest.raises(exc.DBAPIError, match="append-only"):
        conn.execute(text(f"DELETE FROM case_event WHERE case_id = {case_id}"))


# --- closed cases ------------------------------------------------------------------------------

AFTER = {
    "5 years": datetime(2029, 11, 21, tzinfo=UTC),
    "6 years": datetime(2030, 11, 21, tzinfo=UTC),
    "9 years": datetime(2033, 11, 21, tzinfo=UTC),
    "10 years": datetime(2034, 11, 21, tzinfo=UTC),
}


@pytest.mark.parametrize(
    ("after", "pack", "due"),
    [
        ("5 years", False, False),  # inside closed_case_years (6)
        ("6 years", False, True),
        ("6 years", True, False),  # a court pack: enforcement_case_years (10)
        ("9 years", True, False),
        ("10 years", True, True),
    ],
)
def test_a_closed_case_is_due_after_its_period_from_closure(
    db, context, monkeypatch, after, pack, due
):
    without_age_rule(monkeypatch)
    closed_case(db, context, pack=pack)
    report = retention.purge(db.factory, FixedClock(AFTER[after]), dry_run=True)
    assert report.counts["cases"] == (1 if due else 0)


@pytest.mark.parametrize(
    ("at", "due"),
    [
        (datetime(2040, 3, 1, 12, tzinfo=UTC), False),  # closed 15 years, but she is 24
        (OAK_IS_25, True),
    ],
)
def test_a_closed_case_is_kept_until_the_child_is_25(db, context, at, due):
    closed_case(db, context)
    assert retention.purge(db.factory, FixedClock(at), dry_run=True).counts["cases"] == int(due)


def test_an_open_case_is_never_due(db, context, monkeypatch):
    without_age_rule(monkeypatch)
    ctx = context("manager")
    open_case(ctx, OpenCase(db.world.pupil_oak, db.world.oakfield, reason="below 90%"))
    ctx.commit()
    report = retention.purge(db.factory, FixedClock(datetime(2060, 1, 1, tzinfo=UTC)))
    assert report.counts["cases"] == 0
    assert count(db, Case) == 1


def test_a_due_case_is_purged_whole_with_one_audit_entry(db, context):
    gone = closed_case(db, context, pack=True)
    kept = closed_case(db, context, "pupil_river")  # Bella is 22 in 2040
    report = retention.purge(db.factory, FixedClock(OAK_IS_25), route=retention.CLI_ROUTE)

    assert report.counts["cases"] == 1
    for model in (CaseEvent, Intervention, Attachment, Deadline, CourtPack, OutboxMessage):
        assert count(db, model, model.case_id == gone) == 0, model.__name__
    for model in (CaseEvent, Intervention, Attachment):
        assert count(db, model, model.case_id == kept), model.__name__
    # The kept case's email went too, by the 90-day rule for sent messages (its case event stays).
    assert report.counts["outbox messages"] == 1
    assert count(db, OutboxEvent) == 0
    assert count(db, Case) == 1
    entry, outbox = purge_entries(db)
    assert (entry.record_type, entry.record_id, entry.pupil_id) == (
        "case",
        str(gone),
        db.world.pupil_oak,
    )
    assert (entry.route, entry.outcome, entry.actor_username) == (
        retention.CLI_ROUTE,
        "ok",
        "system",
    )
    assert (outbox.record_type, outbox.pupil_id) == ("outbox_message", None)
    with db.factory() as session:
        assert audit.verify(session).intact


def test_a_second_run_purges_and_records_nothing(db, context):
    closed_case(db, context)
    assert retention.purge(db.factory, FixedClock(OAK_IS_25)).counts["cases"] == 1
    again = retention.purge(db.factory, FixedClock(OAK_IS_25))
    assert again.total == 0
    assert len(purge_entries(db)) == 1  # the case (its email went with it)


def test_a_dry_run_counts_and_writes_nothing(db, context):
    closed_case(db, context)
    report = retention.purge(db.factory, FixedClock(OAK_IS_25), dry_run=True)
    assert report.counts["cases"] == 1
    assert "dry run" in report.lines()[0]
    assert count(db, Case) == 1
    assert purge_entries(db) == []


def test_a_crash_keeps_the_finished_batches_and_a_rerun_finishes(db, context, monkeypatch):
    for _ in range(3):
        closed_case(db, context)
    monkeypatch.setattr(retention, "CASES_PER_BATCH", 1)
    real = audit.record
    calls = []

    def failing_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the power went")
        return real(*args, **kwargs)

    monkeypatch.setattr(audit, "record", failing_second)
    with pytest.raises(RuntimeError):
        retention.purge(db.factory, FixedClock(OAK_IS_25))
    assert count(db, Case) == 2  # the first batch stands; the second rolled back whole
    assert len(purge_entries(db)) == 1

    monkeypatch.setattr(audit, "record", real)
    assert retention.purge(db.factory, FixedClock(OAK_IS_25)).counts["cases"] == 2
    assert count(db, Case) == 0
    assert [e.record_type for e in purge_entries(db)] == ["case"] * 3


# --- outbox, sign-in attempts, import batches ---------------------------------------------------


def test_sent_emails_go_after_90_days_and_failed_ones_after_a_year(db):
    now = datetime(2026, 6, 1, tzinfo=UTC)
    with db.factory() as session:
        for key, days, status in (
            ("sent-old", 91, "sent"),
            ("sent-new", 89, "sent"),
            ("failed-mid", 200, "failed"),
            ("failed-old", 366, "failed"),
            ("pending-old", 400, "pending"),
        ):
            outbox_message(session, db.world.la, key, now - timedelta(days=days), status=status)
        session.commit()
    report = retention.purge(db.factory, FixedClock(now))
    assert report.counts["outbox messages"] == 2
    with db.factory() as session:
        left = set(session.scalars(select(OutboxMessage.key)))
    assert left == {"sent-new", "failed-mid", "pending-old"}
    [entry] = purge_entries(db)
    assert (entry.record_type, entry.outcome) == ("outbox_message", "ok: 2 deleted")


def test_old_sign_in_attempts_and_import_batches_go(db):
    now = datetime(2031, 6, 1, tzinfo=UTC)
    with db.factory() as session:
        for days in (91, 10):
            session.add(
                SignInAttempt(
                    at=now - timedelta(days=days),
                    username="oak_lead",
                    address="192.0.2.1",
                    succeeded=False,
                    reason="bad_password",
                )
            )
        for n, finished in ((1, datetime(2025, 5, 31, tzinfo=UTC)), (2, now)):
            session.add(
                ImportBatch(
                    la_id=db.world.la,
                    school_id=db.world.oakfield,
                    kind="csv",
                    file_name=f"marks-{n}.csv",
                    sha256=str(n) * 64,
                    status="rejected",
                    partial_requested=False,
                    counts={},
                    problems=[{"row": 2, "problem": "no such pupil"}],
                    problem_count=1,
                    by_user_id=db.world.users["oak_lead"],
                    started_at=finished,
                    finished_at=finished,
                )
            )
        session.commit()
    report = retention.purge(db.factory, FixedClock(now))
    assert (report.counts["sign-in attempts"], report.counts["import batches"]) == (1, 1)
    assert count(db, SignInAttempt) == 1
    with db.factory() as session:
        assert list(session.scalars(select(ImportBatch.file_name))) == ["marks-2.csv"]


# --- pupils ---------------------------------------------------------------------------------------


def test_a_pupil_who_left_long_ago_with_nothing_left_goes_with_their_links(db, context):
    with db.factory() as session:
        session.get(Enrolment, _enrolment(session, db.world.pupil_hill)).end_date = date(
            2026, 7, 22
        )
        session.commit()
    early = retention.purge(db.factory, FixedClock(datetime(2032, 7, 21, tzinfo=UTC)))
    assert early.counts["pupils"] == 0  # left a day short of 6 years ago: not yet
    report = retention.purge(db.factory, FixedClock(datetime(2032, 7, 22, tzinfo=UTC)))
    assert report.counts["pupils"] == 1
    assert count(db, Pupil, Pupil.id == db.world.pupil_hill) == 0
    assert count(db, Enrolment, Enrolment.pupil_id == db.world.pupil_hill) == 0
    assert count(db, Pupil) == 2  # the Ashdown children are still on roll
    [entry] = purge_entries(db)
    assert (entry.record_type, entry.pupil_id) == ("pupil", db.world.pupil_hill)


def test_a_pupil_with_a_kept_case_is_kept(db, context):
    closed_case(db, context, "pupil_river")
    with db.factory() as session:
        session.get(Enrolment, _enrolment(session, db.world.pupil_river)).end_date = date(
            2025, 7, 22
        )
        session.commit()
    report = retention.purge(db.factory, FixedClock(datetime(2035, 1, 1, tzinfo=UTC)))
    assert report.counts["pupils"] == 0
    assert count(db, Pupil, Pupil.id == db.world.pupil_river) == 1


def _enrolment(session, pupil_id: int) -> int:
    return session.scalar(select(Enrolment.id).where(Enrolment.pupil_id == pupil_id))


# --- the scheduler and the logs -----------------------------------------------------------------


def test_the_daily_job_logs_counts_and_never_a_name(db, context, caplog):
    from workflows.scheduler import configure

    closed_case(db, context)
    clock = FixedClock(OAK_IS_25)
    scheduler = configure(
        BackgroundScheduler(timezone=UTC), db.factory, clock, "test", retention_years=6
    )
    job = scheduler.get_job("retention_purge")
    fields = {f.name: str(f) for f in job.trigger.fields}
    assert (fields["hour"], fields["minute"]) == ("2", "15")
    with caplog.at_level(logging.DEBUG):
        job.func(*job.args)
    assert count(db, Case) == 0
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "cases: 1 deleted" in logged
    for name in ("Amelia", "Ashdown", "Dana", "dana@example.org"):
        assert name not in logged


def test_a_family_that_has_all_gone_goes_with_its_parents(db):
    with db.factory() as session:
        for pupil in (db.world.pupil_oak, db.world.pupil_river):
            session.get(Enrolment, _enrolment(session, pupil)).end_date = date(2025, 7, 22)
        session.commit()
    report = retention.purge(db.factory, FixedClock(datetime(2031, 7, 22, tzinfo=UTC)))
    assert (report.counts["pupils"], report.counts["contacts"], report.counts["families"]) == (
        2,
        2,
        1,
    )
    assert count(db, Contact) == 0
    assert count(db, Family) == 0


def test_registers_go_through_the_register_purge_with_an_entry_per_year(db):
    with db.factory() as session:
        for year in (2016, 2018):
            session.add(
                RegisterYear(
                    pupil_id=db.world.pupil_hill,
                    school_id=db.world.hillcrest,
                    academic_year=year,
                    marks="",
                    sessions=0,
                    index_digest="0" * 32,
                    updated_at=CLOSED_AT,
                    version=1,
                )
            )
        session.commit()
    # On 20 November 2024, kept 6 years: 2017/18 and earlier have expired.
    report = retention.purge(db.factory, FixedClock(CLOSED_AT), registers=6)
    assert report.counts["registers"] == 1
    with db.factory() as session:
        assert list(session.scalars(select(RegisterYear.academic_year))) == [2018]
    [entry] = purge_entries(db)
    assert (entry.record_type, entry.record_id, entry.pupil_id) == ("register", "2016/17", None)
