"""What the dispatcher sends, as a real SMTP server (aiosmtpd on 127.0.0.1) receives it: headers,
recipients, text and HTML parts and a PDF; an outage with 500 messages due; permanent and
transient refusals. SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import timedelta
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import func, select

from casework.models import Attachment, CaseEvent, OutboxEvent, OutboxMessage
from config.settings import MailSettings
from notifications.dispatcher import dispatch_due
from notifications.outbox import enqueue
from notifications.senders import SmtpSender
from tests.support.smtp import SmtpServer
from workflows.cases import OpenCase, open_case

# A tiny but well-formed one-page PDF (no PDF library is a dependency).
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)

CONTEXT = {
    "recipient_name": "Ms Example",
    "paragraphs": ["Attendance is 89% <below 90%> & falling."],
    "reason": "you are the parent named on the case",
    "sender_name": "Attendance Service",
}


@pytest.fixture
def server():
    running = SmtpServer().start()
    yield running
    running.stop()


def smtp_sender(server: SmtpServer) -> SmtpSender:
    return SmtpSender(
        MailSettings(
            backend="smtp",
            smtp_host="127.0.0.1",
            smtp_port=server.port,
            smtp_security="none",
            smtp_timeout_seconds=5,
        )
    )


@pytest.fixture
def case_id(db, context) -> int:
    ctx = context("oak_lead")
    case = open_case(ctx, OpenCase(db.world.pupil_oak, db.world.oakfield, reason="below 90%"))
    ctx.commit()
    return case.id


def queue(session, db, clock, key: str, **extra) -> OutboxMessage:
    return enqueue(
        session,
        **{
            "key": key,
            "kind": "test",
            "la_id": db.world.la,
            "to_address": "parent@example.org",
            "template": "generic",
            "context": CONTEXT,
            "subject": "Your child's attendance",
            "now": clock.now(),
            **extra,
        },
    )


def case_events(db, case_id: int, kind: str) -> list[CaseEvent]:
    with db.factory() as session:
        return list(
            session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == kind)
            )
        )


def test_the_server_receives_headers_parts_and_the_pdf(db, clock, server, case_id):
    with db.factory() as session:
        exhibit = Attachment(
            case_id=case_id,
            filename="concern-letter.pdf",
            media_type="application/pdf",
            size=len(PDF),
            sha256=hashlib.sha256(PDF).hexdigest(),
            content=PDF,
            uploaded_by_id=db.world.users["oak_lead"],
            uploaded_at=clock.now(),
        )
        session.add(exhibit)
        session.flush()
        row = queue(
            session,
            db,
            clock,
            "case-1/concern letter",
            case_id=case_id,
            attachments=[{"attachment_id": exhibit.id}],
        )
        session.commit()

    report = dispatch_due(db.factory, clock, smtp_sender(server))
    assert report.sent == 1

    (received,) = server.inbox.received
    assert received.mail_from == "attendance@example.org"
    assert received.rcpt_tos == ("parent@example.org",)
    message = received.message
    # The key had a slash and a space: replaced, with a digest so no two keys can collide.
    assert message["Message-ID"] == row.message_id
    assert row.message_id.startswith("<case-1-concern-letter.") and row.message_id.endswith(
        "@example.org>"
    )
    (sender,) = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (
        "Attendance Service (Example Council)",
        "attendance@example.org",
    )
    assert message["To"] == "parent@example.org"
    assert message["Reply-To"] == "attendance-team@example.org"
    assert message["Subject"] == "Your child's attendance"
    assert message["Auto-Submitted"] == "auto-generated"
    assert parsedate_to_datetime(message["Date"]) == clock.now()
    assert message.get_content_type() == "multipart/mixed"
    alternative, attached = message.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    text, html = alternative.get_payload()
    assert text.get_content_type() == "text/plain"
    assert "Dear Ms Example," in text.get_content()
    assert "Attendance is 89% <below 90%> & falling." in text.get_content()  # not escaped
    assert html.get_content_type() == "text/html"
    assert "Attendance is 89% &lt;below 90%&gt; &amp; falling." in html.get_content()
    assert "<title>Your child&#39;s attendance</title>" in html.get_content()
    assert attached.get_content_type() == "application/pdf"
    assert attached.get_filename() == "concern-letter.pdf"
    assert attached.get_content() == PDF


def test_500_messages_survive_an_outage_and_arrive_once_each(db, clock, server):
    with db.factory() as session:
        for n in range(500):
            queue(session, db, clock, f"outage-{n:03}")
        session.commit()
    server.stop()  # connection refused
    sender = smtp_sender(server)
    start = clock.now()

    def pass_until_quiet() -> tuple[int, int]:
        sent = retrying = 0
        while True:
            report = dispatch_due(db.factory, clock, sender, batch=100)
            sent, retrying = sent + report.sent, retrying + report.retrying
            if not report.batches:
                return sent, retrying

    # Down: each pass defers a batch (one connection attempt, not 100) until none is due.
    assert pass_until_quiet() == (0, 500)
    clock.set(start + timedelta(minutes=1))
    assert pass_until_quiet() == (0, 500)  # still down a minute later: the second attempt
    with db.factory() as session:
        shown = session.execute(
            select(
                OutboxMessage.status,
                OutboxMessage.attempts,
                OutboxMessage.next_attempt_at,
                OutboxMessage.last_error,
                func.count(),
            ).group_by(
                OutboxMessage.status,
                OutboxMessage.attempts,
                OutboxMessage.next_attempt_at,
                OutboxMessage.last_error,
            )
        ).all()
        retries = session.scalar(select(func.count()).where(OutboxEvent.kind == "retrying"))
    # Retries are visible: 2 attempts each, the next one 2 minutes on (1, then 2: doubling).
    assert shown == [("pending", 2, start + timedelta(minutes=3), "SMTPConnectError", 500)]
    assert retries == 1000
    assert server.inbox.received == []

    server.start()
    clock.set(start + timedelta(minutes=3))
    assert pass_until_quiet() == (500, 0)
    counts = Counter(server.inbox.message_ids())
    assert len(counts) == 500 and set(counts.values()) == {1}
    with db.factory() as session:
        assert set(session.scalars(select(OutboxMessage.message_id))) == set(counts)
        assert (
            session.scalar(
                select(func.count()).where(
                    OutboxMessage.status == "sent", OutboxMessage.attempts == 3
                )
            )
            == 500
        )


def test_a_permanent_refusal_fails_at_once_and_shows_on_the_case(db, clock, server, case_id):
    server.inbox.refuse["moved@example.org"] = "550 5.1.1 <moved@example.org>: no such user"
    with db.factory() as session:
        refused = queue(
            session, db, clock, "to-moved", to_address="moved@example.org", case_id=case_id
        )
        queue(session, db, clock, "to-parent", case_id=case_id)
        session.commit()

    report = dispatch_due(db.factory, clock, smtp_sender(server), max_attempts=8)
    assert (report.sent, report.failed, report.retrying) == (1, 1, 0)
    with db.factory() as session:
        row = session.get(OutboxMessage, refused.id)
        assert (row.status, row.attempts) == ("failed", 1)
        assert row.last_error == "SMTPRecipientsRefused 550 mailbox unavailable"
    (event,) = case_events(db, case_id, "message_failed")
    assert event.data["permanent"] is True and event.data["message"] == refused.id
    assert "moved@example.org" not in f"{event.reason}{event.data}"  # no address in the record
    assert [r.rcpt_tos for r in server.inbox.received] == [("parent@example.org",)]


def test_a_recipient_deferred_each_time_fails_after_the_last_attempt(db, clock, server, case_id):
    server.inbox.refuse["busy@example.org"] = "451 4.3.0 <busy@example.org> try again later"
    with db.factory() as session:
        busy = queue(session, db, clock, "to-busy", to_address="busy@example.org", case_id=case_id)
        session.commit()
    sender = smtp_sender(server)
    for attempt in (1, 2, 3):
        report = dispatch_due(db.factory, clock, sender, max_attempts=3)
        with db.factory() as session:
            row = session.get(OutboxMessage, busy.id)
        assert row.attempts == attempt
        assert row.last_error == "SMTPRecipientsRefused 451 local error in processing"
        if attempt < 3:
            assert (report.retrying, row.status) == (1, "pending")
            clock.set(row.next_attempt_at)
    assert (report.failed, row.status) == (1, "failed")
    (event,) = case_events(db, case_id, "message_failed")
    assert event.data == {
        "message": busy.id,
        "kind": "test",
        "attempts": 3,
        "error": "SMTPRecipientsRefused 451 local error in processing",
        "permanent": False,
    }
    assert server.inbox.received == []
