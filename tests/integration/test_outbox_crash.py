"""Crash test: ``casework outbox dispatch`` is killed (SIGKILL) in the middle of a batch, while a
slow SMTP server is taking its messages, then run again once the dead process's lease has
expired. Every message arrives at least once, a message that arrives twice is byte-for-byte the
same message (same Message-ID), and no row is left unsent. SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from casework.clock import FixedClock
from casework.models import OutboxMessage
from notifications.outbox import enqueue
from tests.support.smtp import SmtpServer

COUNT = 100
LEASE_SECONDS = 2


def _dispatcher(db, server: SmtpServer, var_dir) -> subprocess.Popen:
    env = {
        **os.environ,
        "CASEWORK_DATABASE_URL": db.url,
        "CASEWORK_VAR_DIR": str(var_dir),
        "CASEWORK_MAIL_BACKEND": "smtp",
        "CASEWORK_SMTP_HOST": "127.0.0.1",
        "CASEWORK_SMTP_PORT": str(server.port),
        "CASEWORK_SMTP_SECURITY": "none",
    }
    options = ["--batch", "20", "--lease-seconds", str(LEASE_SECONDS)]
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", "outbox", "dispatch", *options],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _state(db) -> list[OutboxMessage]:
    with db.factory() as session:
        return list(session.scalars(select(OutboxMessage)))


def test_a_dispatcher_killed_mid_batch_loses_nothing(db, tmp_path):
    # Queued a minute ago by the real clock: the subprocess dispatches on the system clock.
    clock = FixedClock(datetime.now(UTC) - timedelta(minutes=1))
    with db.factory() as session:
        for n in range(COUNT):
            enqueue(
                session,
                key=f"crash-{n:03}",
                kind="test",
                la_id=db.world.la,
                to_address=f"parent{n}@example.org",
                template="generic",
                context={
                    "recipient_name": f"Parent {n}",
                    "paragraphs": ["A message that must not be lost."],
                    "reason": "a test",
                    "sender_name": "Attendance Service",
                },
                subject=f"Message {n}",
                now=clock.now(),
            )
        session.commit()
    server = SmtpServer().start()
    server.inbox.delay = 0.02  # each message takes a while, so the kill lands mid-batch
    try:
        first = _dispatcher(db, server, tmp_path)
        deadline = time.monotonic() + 20
        while len(server.inbox.received) < 25:  # inside the second batch of 20
            assert first.poll() is None, first.stderr.read().decode()
            assert time.monotonic() < deadline, "the dispatcher never got going"
            time.sleep(0.01)
        first.send_signal(signal.SIGKILL)
        first.wait()

        killed = _state(db)
        held = [r for r in killed if r.status == "pending" and r.lease_token is not None]
        assert held, "no batch was in flight when the dispatcher died: the test proved nothing"
        assert any(r.status == "sent" for r in killed)
        # The dead process's lease must run out before anyone may send those rows again.
        wait = max(r.leased_until for r in held) - datetime.now(UTC)
        time.sleep(max(wait.total_seconds(), 0) + 0.1)

        second = _dispatcher(db, server, tmp_path)
        out, err = second.communicate(timeout=60)
        assert second.returncode == 0, err.decode()
        assert b"0 failed" in out
    finally:
        server.stop()

    final = _state(db)
    assert {r.status for r in final} == {"sent"}
    assert all(r.lease_token is None for r in final)
    copies = Counter(server.inbox.message_ids())
    assert set(copies) == {r.message_id for r in final}  # every message arrived
    for message_id, n in copies.items():
        if n > 1:  # a duplicate is the same message: same Message-ID, same bytes
            sent = {r.content for r in server.inbox.received if r.message_id == message_id}
            assert len(sent) == 1
    # At most the messages in flight when it died can have gone twice.
    assert sum(copies.values()) - COUNT <= len(held)
