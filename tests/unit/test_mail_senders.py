"""Senders: the file sender writes one .eml per Message-ID, atomically; SMTP errors become
DeliveryErrors that say whether to try again and never quote the server."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest

from config.settings import MailSettings
from notifications.senders import (
    DeliveryError,
    FileSender,
    SmtpSender,
    classify,
    eml_name,
    sender_for,
)


def _message(message_id: str, body: str = "hello") -> EmailMessage:
    message = EmailMessage()
    message["Message-ID"] = message_id
    message["From"] = "attendance@example.org"
    message["To"] = "parent@example.org"
    message["Subject"] = "Attendance"
    message.set_content(body)
    return message


def test_the_file_sender_writes_one_file_per_message_id(tmp_path: Path):
    sender = FileSender(tmp_path / "mail")
    asyncio.run(sender.send(_message("<case-1.letter@example.org>", "first")))
    asyncio.run(sender.send(_message("<case-1.letter@example.org>", "again")))  # a resend
    asyncio.run(sender.send(_message("<case-2.letter@example.org>")))
    files = sorted((tmp_path / "mail").iterdir())
    assert [f.name for f in files] == [
        "case-1.letter@example.org.eml",
        "case-2.letter@example.org.eml",
    ]  # no temporary files left behind
    assert b"again" in files[0].read_bytes()


def test_a_message_without_a_message_id_is_refused(tmp_path: Path):
    message = _message("<x@example.org>")
    del message["Message-ID"]
    with pytest.raises(DeliveryError) as caught:
        asyncio.run(FileSender(tmp_path).send(message))
    assert caught.value.permanent


def test_an_unwritable_mail_folder_is_a_transient_connection_failure(tmp_path: Path):
    blocked = tmp_path / "mail"
    blocked.write_text("a file where the folder should be")
    with pytest.raises(DeliveryError) as caught:
        asyncio.run(FileSender(blocked).send(_message("<x@example.org>")))
    assert caught.value.connection and not caught.value.permanent


def test_file_names_cannot_leave_the_folder():
    assert eml_name("<../../etc/passwd@x.org>") == ".._.._etc_passwd@x.org.eml"
    assert "/" not in eml_name("<a/b@x.org>")


def test_smtp_errors_are_classified_without_quoting_the_server():
    refused = aiosmtplib.SMTPRecipientsRefused(
        [aiosmtplib.SMTPRecipientRefused(550, "<jo@example.org> unknown", "jo@example.org")]
    )
    error = classify(refused)
    assert (error.permanent, error.connection) == (True, False)
    assert error.reason == "SMTPRecipientsRefused 550 mailbox unavailable"
    deferred = classify(aiosmtplib.SMTPDataError(451, "try <jo@example.org> later"))
    assert (deferred.permanent, deferred.reason) == (
        False,
        "SMTPDataError 451 local error in processing",
    )
    closing = classify(aiosmtplib.SMTPResponseException(421, "bye"))
    assert closing.connection and not closing.permanent
    login = classify(aiosmtplib.SMTPAuthenticationError(535, "bad password for jo"))
    assert login.connection and not login.permanent  # our settings: retried, not given up
    down = classify(aiosmtplib.SMTPConnectError("refused"))
    assert (down.reason, down.connection) == ("SMTPConnectError", True)
    assert classify(ConnectionRefusedError()).connection


def test_an_unreachable_smtp_server_is_a_connection_failure():
    sender = SmtpSender(
        MailSettings(
            backend="smtp",
            smtp_host="127.0.0.1",
            smtp_port=1,
            smtp_security="none",
            smtp_timeout_seconds=2,
        )
    )
    with pytest.raises(DeliveryError) as caught:
        asyncio.run(sender.send(_message("<x@example.org>")))
    assert caught.value.connection and not caught.value.permanent


def test_the_backend_is_chosen_by_settings(tmp_path: Path):
    assert isinstance(sender_for(MailSettings(), tmp_path), FileSender)
    assert sender_for(MailSettings(), tmp_path).directory == tmp_path / "mail"
    smtp = MailSettings(backend="smtp", smtp_host="smtp.example.org")
    assert isinstance(sender_for(smtp, tmp_path), SmtpSender)
