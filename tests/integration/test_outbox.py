"""The outbox: enqueue in the caller's transaction (idempotent, checked before anything is
written), the dispatcher's leases, backoff and giving up, a person's retry, the scoped API, the
development mailbox, the CLI, the health figures and the scheduler job. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import exc, func, select, text, update

from api.cli import main
from casework.errors import InvalidInput
from casework.models import Attachment, CaseEvent, OutboxEvent, OutboxMessage
from config.settings import MailSettings, Settings
from notifications import outbox as outbox_module
from notifications.dispatcher import backoff, dispatch_due
from notifications.outbox import enqueue
from notifications.rendering import MissingField
from notifications.senders import DeliveryError, FileSender, MemorySender
from workflows.cases import OpenCase, open_case

CONTEXT = {
    "recipient_name": "Ms Example",
    "paragraphs": ["Your child's attendance is 89%."],
    "reason": "you are the parent named on the case",
    "sender_name": "Attendance Service",
}


@pytest.fixture
def case_id(db, context) -> int:
    ctx = context("oak_lead")
    case = open_case(ctx, OpenCase(db.world.pupil_oak, db.world.oakfield, reason="below 90%"))
    ctx.commit()
    return case.id


@pytest.fixture
def signed_in(client_as):
    """``signed_in("manager")``: one signed-in client per user for the test (signing in is
    the slow part: a password hash)."""
    clients: dict = {}

    def get(username: str):
        if username not in clients:
            clients[username] = client_as(username)
        return clients[username]

    return get


def queue(db, clock, key: str, **extra) -> int:
    with db.factory() as session:
        row = enqueue(
            session,
            **{
                "key": key,
                "kind": "test",
                "la_id": db.world.la,
                "to_address": "parent@example.org",
                "template": "generic",
                "context": CONTEXT,
                "subject": "Attendance",
                "now": clock.now(),
                **extra,
            },
        )
        session.commit()
        return row.id


def rows(db) -> list[OutboxMessage]:
    with db.factory() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def events_of(db, case_id: int, kind: str) -> list[CaseEvent]:
    with db.factory() as session:
        return list(
            session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == kind)
            )
        )


def test_a_key_queues_one_message_however_often_it_is_enqueued(db, clock):
    first = queue(db, clock, "case-1.concern-letter")
    again = queue(db, clock, "case-1.concern-letter", to_address="other@example.org")
    assert again == first
    (row,) = rows(db)
    assert row.to_address == "parent@example.org"  # the second call changed nothing
    assert row.message_id == "<case-1.concern-letter@example.org>"
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 0, clock.now())


def test_a_race_lost_at_the_unique_key_returns_the_winners_row(db, clock, monkeypatch):
    winner = queue(db, clock, "raced")
    real = outbox_module._by_key

    looks = []

    def first_look_misses(session, key):
        # The loser's first look finds nothing: the winner had not committed yet.
        if key == "raced":
            looks.append(key)
            if len(looks) == 1:
                return None
        return real(session, key)

    monkeypatch.setattr(outbox_module, "_by_key", first_look_misses)
    with db.factory() as session:
        # The caller's own earlier change in the same transaction survives the lost race.
        mine = enqueue(
            session,
            key="mine",
            kind="test",
            la_id=db.world.la,
            to_address="parent@example.org",
            template="generic",
            context=CONTEXT,
            subject="Attendance",
            now=clock.now(),
        )
        row = enqueue(
            session,
            key="raced",
            kind="test",
            la_id=db.world.la,
            to_address="parent@example.org",
            template="generic",
            context=CONTEXT,
            subject="Attendance",
            now=clock.now(),
        )
        assert row.id == winner
        session.commit()
    assert [r.key for r in rows(db)] == ["raced", "mine"]
    assert mine.id != winner


def test_a_missing_template_field_fails_at_enqueue_and_writes_nothing(db, clock):
    with db.factory() as session:
        with pytest.raises(MissingField) as caught:
            enqueue(
                session,
                key="incomplete",
                kind="test",
                la_id=db.world.la,
                to_address="parent@example.org",
                template="generic",
                context={k: v for k, v in CONTEXT.items() if k != "reason"},
                subject="Attendance",
                now=clock.now(),
            )
        session.commit()
    assert "'generic'" in str(caught.value) and "'reason'" in str(caught.value)
    assert caught.value.field == "reason"
    assert rows(db) == []


@pytest.mark.parametrize("address", ["parent@", "two@@example.org", "parent@localhost", ""])
def test_an_invalid_address_is_refused_naming_the_field_and_value(db, clock, address):
    with pytest.raises(InvalidInput) as caught:
        queue(db, clock, "bad-address", to_address=address)
    (problem,) = caught.value.problems
    assert (problem.field, problem.value) == ("to_address", address)
    assert problem.rule
    assert rows(db) == []


def test_attachments_must_exist_and_belong_to_the_messages_case(db, clock, context, case_id):
    ctx = context("river_lead")
    other = open_case(ctx, OpenCase(db.world.pupil_river, db.world.riverside, reason="x"))
    ctx.commit()
    theirs = _attach(db, clock, other.id, b"%PDF-1.4 other")
    with pytest.raises(InvalidInput, match="another case"):
        queue(db, clock, "k1", case_id=case_id, attachments=[{"attachment_id": theirs}])
    with pytest.raises(InvalidInput, match="no such attachment"):
        queue(db, clock, "k2", case_id=case_id, attachments=[{"attachment_id": 999_999}])
    with pytest.raises(InvalidInput, match="attachment_id"):
        queue(db, clock, "k3", case_id=case_id, attachments=[{"id": theirs}])
    with pytest.raises(InvalidInput, match="no such case"):
        queue(db, clock, "k4", case_id=999_999)
    assert rows(db) == []


def _attach(db, clock, case_id: int, content: bytes, name: str = "letter.pdf") -> int:
    with db.factory() as session:
        item = Attachment(
            case_id=case_id,
            filename=name,
            media_type="application/pdf",
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            content=content,
            uploaded_by_id=db.world.users["oak_lead"],
            uploaded_at=clock.now(),
        )
        session.add(item)
        session.commit()
        return item.id


def test_dispatch_writes_one_eml_per_message_and_marks_each_sent(db, clock, tmp_path):
    for n in range(3):
        queue(db, clock, f"note-{n}")
    sender = FileSender(tmp_path / "mail")
    report = dispatch_due(db.factory, clock, sender, batch=2)
    assert (report.sent, report.batches) == (3, 2)
    assert sorted(p.name for p in (tmp_path / "mail").iterdir()) == [
        f"note-{n}@example.org.eml" for n in range(3)
    ]
    assert {(r.status, r.attempts, r.sent_at) for r in rows(db)} == {("sent", 1, clock.now())}
    assert dispatch_due(db.factory, clock, sender).sent == 0  # nothing is sent twice


def test_a_leased_row_waits_for_its_lease_to_expire(db, clock):
    queue(db, clock, "leased")
    with db.factory() as session:  # another dispatcher holds it (and may have crashed)
        session.execute(
            update(OutboxMessage).values(
                lease_token="someone-else", leased_until=clock.now() + timedelta(minutes=5)
            )
        )
        session.commit()
    sender = MemorySender()
    assert dispatch_due(db.factory, clock, sender).sent == 0
    clock.set(clock.now() + timedelta(minutes=5))
    assert dispatch_due(db.factory, clock, sender).sent == 1
    assert [m["Message-ID"] for m in sender.sent] == ["<leased@example.org>"]


class SlowSender(MemorySender):
    async def send(self, message) -> None:
        await asyncio.sleep(0.05)
        await super().send(message)


def test_rows_a_pass_cannot_reach_before_its_lease_runs_out_are_handed_back(db, clock):
    for n in range(5):
        queue(db, clock, f"slow-{n}")
    sender = SlowSender()
    # A 0.05 s lease and a 0.05 s send: after the first message the lease is nearly spent.
    report = dispatch_due(db.factory, clock, sender, lease_seconds=0.05)
    assert (report.sent, report.released) == (1, 4)
    assert {(r.status, r.attempts, r.lease_token) for r in rows(db)[1:]} == {("pending", 0, None)}
    assert dispatch_due(db.factory, clock, sender).sent == 4  # at once, untried and unpunished


class TakenOverSender(MemorySender):
    """Sends, but meanwhile another dispatcher takes the row over (our lease had expired)."""

    def __init__(self, db):
        super().__init__()
        self.db = db

    async def send(self, message) -> None:
        await super().send(message)
        with self.db.factory() as session:
            session.execute(update(OutboxMessage).values(lease_token="the-other-dispatcher"))
            session.commit()


def test_a_dispatcher_whose_lease_was_taken_over_settles_nothing(db, clock):
    queue(db, clock, "taken")
    report = dispatch_due(db.factory, clock, TakenOverSender(db))
    assert (report.sent, report.lost) == (0, 1)
    (row,) = rows(db)  # left to the dispatcher that holds it now
    assert (row.status, row.lease_token, row.attempts) == ("pending", "the-other-dispatcher", 0)


class BrokenSender(MemorySender):
    async def send(self, message) -> None:
        raise RuntimeError("a bug, not a mail error")


def test_a_sender_bug_counts_as_an_attempt_and_is_given_up_on(db, clock):
    queue(db, clock, "bug")
    for _ in range(2):
        dispatch_due(db.factory, clock, BrokenSender(), max_attempts=2)
        clock.set(clock.now() + timedelta(hours=1))
    (row,) = rows(db)
    assert (row.status, row.attempts, row.last_error) == ("failed", 2, "RuntimeError")


def test_transient_failures_back_off_then_fail_on_the_case_and_a_manager_retries(
    db, clock, case_id, signed_in
):
    message = queue(
        db, clock, "flaky", case_id=case_id, caused_by_user_id=db.world.users["oak_lead"]
    )
    sender = MemorySender(failure=DeliveryError("SMTPResponseException 451 local error"))
    start = clock.now()
    for attempt in (1, 2):
        report = dispatch_due(db.factory, clock, sender, max_attempts=3)
        assert report.retrying == 1
        (row,) = rows(db)
        assert (row.status, row.attempts, row.lease_token) == ("pending", attempt, None)
        assert row.next_attempt_at == clock.now() + backoff(attempt)
        assert row.last_error == "SMTPResponseException 451 local error"
        assert dispatch_due(db.factory, clock, sender, max_attempts=3).retrying == 0  # not yet
        clock.set(row.next_attempt_at)
    assert backoff(1) == timedelta(minutes=1) and backoff(2) == timedelta(minutes=2)
    assert backoff(20) == timedelta(hours=1)
    assert dispatch_due(db.factory, clock, sender, max_attempts=3).failed == 1
    (row,) = rows(db)
    assert (row.status, row.attempts, row.failed_at) == ("failed", 3, clock.now())
    (failed,) = events_of(db, case_id, "message_failed")
    assert failed.actor_name == "Casework mail dispatcher"
    assert failed.data["message"] == message and failed.data["attempts"] == 3
    assert "parent@example.org" not in (failed.reason or "")
    assert clock.now() - start == timedelta(minutes=3)

    # A failed message is never picked up again on its own...
    clock.set(clock.now() + timedelta(days=1))
    assert dispatch_due(db.factory, clock, MemorySender()).sent == 0
    # ...until a manager retries it (a school's user may see it, but not retry it).
    assert signed_in("oak_lead").post(f"/api/outbox/{message}/retry").status_code == 403
    retried = signed_in("manager").post(f"/api/outbox/{message}/retry")
    assert retried.status_code == 200, retried.text
    assert (retried.json()["status"], retried.json()["attempts"]) == ("pending", 0)
    assert signed_in("manager").post(f"/api/outbox/{message}/retry").status_code == 409
    (note,) = events_of(db, case_id, "message_retried")
    assert note.actor_name == "Manager"
    sender = MemorySender()
    assert dispatch_due(db.factory, clock, sender).sent == 1
    with db.factory() as session:
        history = session.scalars(
            select(OutboxEvent.kind)
            .where(OutboxEvent.outbox_message_id == message)
            .order_by(OutboxEvent.id)
        ).all()
    assert history == ["retrying", "retrying", "failed", "retried", "sent"]


def test_a_messages_history_is_append_only(db, clock):
    queue(db, clock, "history")
    dispatch_due(db.factory, clock, MemorySender())
    with db.engine.connect() as conn:
        for statement in ("UPDATE outbox_event SET error = 'x'", "DELETE FROM outbox_event"):
            with pytest.raises(exc.DBAPIError, match="append-only"):
                conn.execute(text(statement))
            conn.rollback()


def test_a_message_that_cannot_be_rendered_fails_at_once_on_the_case(db, clock, case_id):
    queue(db, clock, "broken", case_id=case_id)
    with db.factory() as session:  # the template changed under a queued message
        session.execute(update(OutboxMessage).values(context={"recipient_name": "x"}))
        session.commit()
    report = dispatch_due(db.factory, clock, MemorySender())
    assert report.failed == 1
    (row,) = rows(db)
    assert (row.status, row.last_error) == ("failed", "MissingField")
    assert len(events_of(db, case_id, "message_failed")) == 1


def test_the_api_shows_each_user_the_messages_in_their_scope(db, clock, signed_in, case_id):
    users = db.world.users
    caused = queue(db, clock, "by-oak-lead", case_id=case_id, caused_by_user_id=users["oak_lead"])
    to_traded = queue(
        db, clock, "to-traded", to_address="traded@example.org", recipient_user_id=users["traded"]
    )
    dispatch_due(db.factory, clock, MemorySender())
    failed = queue(db, clock, "later")  # caused by the system, addressed to a parent
    with db.factory() as session:
        session.execute(
            update(OutboxMessage).where(OutboxMessage.id == failed).values(status="failed")
        )
        session.commit()

    def ids(user: str, query: str = "") -> list[int]:
        response = signed_in(user).get(f"/api/outbox{query}")
        assert response.status_code == 200, response.text
        return [m["id"] for m in response.json()["items"]]

    assert ids("manager") == [failed, to_traded, caused]
    assert ids("manager", "?status=failed") == [failed]
    assert ids("manager", "?status=sent&page_size=1&page=2") == [caused]
    assert ids("oak_lead") == [caused]
    assert ids("traded") == [to_traded]
    assert ids("admin") == [] and ids("river_lead") == []
    one = signed_in("oak_lead").get(f"/api/outbox/{caused}").json()
    assert one["case_reference"] and one["status"] == "sent" and one["next_attempt_at"] is None
    assert signed_in("river_lead").get(f"/api/outbox/{caused}").status_code == 404
    assert signed_in("admin").get(f"/api/outbox/{caused}").status_code == 404
    assert signed_in("oak_lead").get("/api/outbox?status=lost").status_code == 400


def test_the_development_mailbox_lists_and_shows_the_eml_files(db, clock, signed_in, tmp_path):
    queue(db, clock, "mailbox-1")
    # The app fixture's var_dir is tmp_path: its file sender writes to tmp_path/mail.
    dispatch_due(db.factory, clock, FileSender(tmp_path / "mail"))
    listed = signed_in("manager").get("/api/mail")
    assert listed.status_code == 200, listed.text
    (item,) = listed.json()
    assert item["name"] == "mailbox-1@example.org.eml"
    assert (item["to"], item["subject"]) == ("parent@example.org", "Attendance")
    assert item["message_id"] == "<mailbox-1@example.org>"
    shown = signed_in("admin").get(f"/api/mail/{item['name']}")
    assert shown.headers["content-type"].startswith("text/plain")
    assert "Auto-Submitted: auto-generated" in shown.text
    raw = signed_in("admin").get(f"/api/mail/{item['name']}", headers={"Accept": "message/rfc822"})
    assert raw.headers["content-type"].startswith("message/rfc822")
    assert signed_in("admin").get("/api/mail/..%2Fcasework.db").status_code == 404
    assert signed_in("admin").get("/api/mail/nothing.eml").status_code == 404
    assert signed_in("oak_lead").get("/api/mail").status_code == 403


def test_there_is_no_mailbox_when_mail_goes_to_an_smtp_server(db, clock, tmp_path):
    from api.app import create_app
    from tests.support.csrf import csrf_client
    from tests.support.world import PASSWORD

    settings = Settings(
        database_url=db.url,
        var_dir=tmp_path,
        session_secret=b"test-secret",
        mail=MailSettings(backend="smtp", smtp_host="127.0.0.1"),
    )
    client = csrf_client(create_app(settings, engine=db.engine, clock=clock, migrate=False))
    client.post("/api/auth/login", json={"username": "manager", "password": PASSWORD})
    assert client.get("/api/mail").status_code == 404


def test_health_counts_due_and_failed_messages(db, clock, app):
    from litestar.testing import TestClient

    queue(db, clock, "due-1")
    queue(db, clock, "due-2")
    with db.factory() as session:
        session.execute(
            update(OutboxMessage).where(OutboxMessage.key == "due-2").values(status="failed")
        )
        session.commit()
    with TestClient(app) as client:
        body = client.get("/health").json()
    assert (body["outbox_due"], body["outbox_failed"]) == (1, 1)


def test_the_cli_dispatches_lists_and_retries(db, clock, case_id, tmp_path, monkeypatch):
    monkeypatch.setenv("CASEWORK_DATABASE_URL", db.url)
    monkeypatch.setenv("CASEWORK_VAR_DIR", str(tmp_path))
    first = queue(db, clock, "cli-1", case_id=case_id)
    second = queue(db, clock, "cli-2")
    with db.factory() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == first)
            .values(status="failed", attempts=8, last_error="SMTPRecipientsRefused 550")
        )
        session.commit()
    runner = CliRunner()
    sent = runner.invoke(main, ["outbox", "dispatch"])
    assert sent.exit_code == 0, sent.output
    assert "1 sent, 0 to retry, 0 failed" in sent.output
    assert (tmp_path / "mail" / "cli-2@example.org.eml").exists()

    listed = runner.invoke(main, ["outbox", "list", "--status", "failed"])
    assert listed.exit_code == 0, listed.output
    assert f"{first:>7}  test" in listed.output and "SMTPRecipientsRefused 550" in listed.output
    assert "parent@example.org" not in listed.output  # no addresses on the operator's screen
    assert "1 of 1 shown" in listed.output

    refused = runner.invoke(main, ["outbox", "retry", str(second)])
    assert refused.exit_code != 0 and "only a failed message" in refused.output
    retried = runner.invoke(main, ["outbox", "retry", str(first)])
    assert retried.exit_code == 0, retried.output
    (note,) = events_of(db, case_id, "message_retried")
    assert note.actor_name.endswith("(command line)")
    with db.factory() as session:
        assert session.get(OutboxMessage, first).status == "pending"


def test_bad_mail_settings_stop_the_cli_naming_the_variable(db, monkeypatch, tmp_path):
    monkeypatch.setenv("CASEWORK_DATABASE_URL", db.url)
    monkeypatch.setenv("CASEWORK_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CASEWORK_MAIL_BACKEND", "smtp")
    monkeypatch.setenv("CASEWORK_SMTP_HOST", "mail.example.org")
    monkeypatch.setenv("CASEWORK_SMTP_PORT", "70000")
    result = CliRunner().invoke(main, ["outbox", "dispatch"])
    assert result.exit_code != 0
    assert "CASEWORK_SMTP_PORT=70000 is refused: give a port from 1 to 65535" in result.output


def test_the_scheduler_dispatches_every_30_seconds_and_at_start_up(db, clock, tmp_path):
    from apscheduler.schedulers.background import BackgroundScheduler

    from workflows.scheduler import _dispatch_job, configure

    queue(db, clock, "scheduled")
    scheduler = configure(
        BackgroundScheduler(timezone=UTC),
        db.factory,
        clock,
        "test",
        retention_years=6,
        sender=FileSender(tmp_path / "mail"),
    )
    job = scheduler.get_job("mail_dispatch")
    assert job.trigger.interval == timedelta(seconds=30)
    assert job.next_run_time is not None and job.misfire_grace_time is None
    assert job.coalesce and job.max_instances == 1
    _dispatch_job(*job.args)
    assert (tmp_path / "mail" / "scheduled@example.org.eml").exists()
    with db.factory() as session:
        assert session.scalar(select(func.count()).where(OutboxMessage.status == "sent")) == 1
