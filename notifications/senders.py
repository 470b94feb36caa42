"""Senders: the port the dispatcher delivers through. SMTP in production, ``.eml`` files in
development (nothing leaves the machine), memory in tests. Chosen by settings, never by code.

Every failure comes out as ``DeliveryError``: whether it is worth trying again (``permanent``),
whether it was the connection rather than this message (``connection``: the rest of a batch
would fail the same way), and a short ``reason`` holding only the error's class and SMTP code
with the code's standard meaning, never the server's text (it can quote an address).
"""

from __future__ import annotations

import asyncio
import os
import re
import ssl
import tempfile
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import aiosmtplib

from config.settings import MailSettings

# RFC 5321's meanings, so a reason says what happened without quoting the server.
SMTP_MEANINGS = {
    421: "service not available",
    450: "mailbox unavailable",
    451: "local error in processing",
    452: "insufficient system storage",
    454: "TLS not available",
    500: "syntax error",
    501: "syntax error in parameters",
    502: "command not implemented",
    503: "bad sequence of commands",
    530: "authentication required",
    534: "authentication mechanism too weak",
    535: "authentication credentials invalid",
    541: "message rejected",
    550: "mailbox unavailable",
    551: "user not local",
    552: "exceeded storage allocation",
    553: "mailbox name not allowed",
    554: "transaction failed",
}


class DeliveryError(Exception):
    def __init__(self, reason: str, *, permanent: bool = False, connection: bool = False):
        self.reason = reason[:200]
        self.permanent = permanent
        self.connection = connection
        super().__init__(self.reason)


class Sender(Protocol):
    """Delivers composed messages; ``aclose`` ends a dispatcher pass (and any connection)."""

    async def send(self, message: EmailMessage) -> None: ...

    async def aclose(self) -> None: ...


def _reason(exc: BaseException, code: int | None = None) -> str:
    if code is None:
        return type(exc).__name__
    meaning = SMTP_MEANINGS.get(code, "")
    return f"{type(exc).__name__} {code} {meaning}".strip()


def classify(exc: BaseException) -> DeliveryError:
    """An aiosmtplib (or socket) error as a DeliveryError."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients] or [550]
        code = min(codes)  # a 4xx among them is worth another try
        return DeliveryError(_reason(exc, code), permanent=code >= 500)
    if isinstance(exc, aiosmtplib.SMTPConnectResponseError | aiosmtplib.SMTPAuthenticationError):
        # Refused at the greeting, or our credentials: the server or the settings, not the
        # message. Tried again (with backoff) so fixing the settings sends the backlog.
        return DeliveryError(_reason(exc, exc.code), connection=True)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        if exc.code == 421:  # the server is closing the connection
            return DeliveryError(_reason(exc, exc.code), connection=True)
        return DeliveryError(_reason(exc, exc.code), permanent=exc.code >= 500)
    if isinstance(exc, aiosmtplib.SMTPException | OSError):
        # Refused, timed out, disconnected, no STARTTLS, TLS failure: the connection.
        return DeliveryError(_reason(exc), connection=True)
    raise TypeError(f"not a delivery error: {type(exc).__name__}") from exc


class SmtpSender:
    """aiosmtplib, one connection per dispatcher pass (opened at the first message, reopened
    after a drop), with STARTTLS, implicit TLS or none, optional sign-in and timeouts."""

    def __init__(self, settings: MailSettings, *, tls_context: ssl.SSLContext | None = None):
        self.settings = settings
        self._tls_context = tls_context
        self._client: aiosmtplib.SMTP | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _new_client(self) -> aiosmtplib.SMTP:
        s = self.settings
        return aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.port,
            username=s.smtp_username,
            password=s.smtp_password,
            timeout=s.smtp_timeout_seconds,
            use_tls=s.smtp_security == "tls",
            # True: STARTTLS is required (never silently sent in clear); False: never tried.
            start_tls=s.smtp_security == "starttls",
            tls_context=self._tls_context,
        )

    async def _connected(self) -> aiosmtplib.SMTP:
        loop = asyncio.get_running_loop()
        if self._client is not None and (self._loop is not loop or not self._client.is_connected):
            self._client = None  # a dropped connection, or one from an earlier pass's loop
        if self._client is None:
            client = self._new_client()
            await client.connect()
            self._client, self._loop = client, loop
        return self._client

    async def send(self, message: EmailMessage) -> None:
        try:
            client = await self._connected()
            await client.send_message(message)
        except (aiosmtplib.SMTPException, OSError) as exc:
            error = classify(exc)
            if error.connection:
                await self.aclose()
            raise error from None

    async def aclose(self) -> None:
        client, self._client, self._loop = self._client, None, None
        if client is not None and client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()


_UNSAFE_FILE = re.compile(r"[^A-Za-z0-9_.@-]")


def eml_name(message_id: str) -> str:
    """The file a message is written to: its Message-ID, so a resend overwrites, not adds."""
    return _UNSAFE_FILE.sub("_", message_id.strip().strip("<>")) + ".eml"


class FileSender:
    """Writes each message to ``<directory>/<Message-ID>.eml`` (temp file, then rename, so a
    reader never sees half a message and a crash leaves no partial file under a real name)."""

    def __init__(self, directory: Path):
        self.directory = directory

    async def send(self, message: EmailMessage) -> None:
        message_id = message["Message-ID"]
        if not message_id:
            raise DeliveryError("MissingMessageId", permanent=True)
        data = message.as_bytes(policy=policy.SMTP)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temp, self.directory / eml_name(message_id))
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            # A full or read-only disk fails every message alike: stop the batch.
            raise DeliveryError(_reason(exc), connection=True) from None

    async def aclose(self) -> None:
        return None


@dataclass
class MemorySender:
    """For tests: keeps what it is given; ``failure``, when set, is raised instead."""

    sent: list[EmailMessage] = field(default_factory=list)
    failure: DeliveryError | None = None

    async def send(self, message: EmailMessage) -> None:
        if self.failure is not None:
            raise self.failure
        self.sent.append(message)

    async def aclose(self) -> None:
        return None


def mail_dir(var_dir: Path) -> Path:
    return var_dir / "mail"


def sender_for(settings: MailSettings, var_dir: Path) -> Sender:
    """The sender the settings name: ``file`` (development default) or ``smtp``."""
    if settings.backend == "smtp":
        return SmtpSender(settings)
    return FileSender(mail_dir(var_dir))
