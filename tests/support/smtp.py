"""A real SMTP server for tests: aiosmtpd's Controller on 127.0.0.1 at a free port, keeping
every message it accepts. It can refuse chosen recipients, be slow, stop and start again."""

from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.content, policy=policy.default)  # type: ignore[return-value]

    @property
    def message_id(self) -> str:
        return self.message["Message-ID"]


@dataclass
class Inbox:
    received: list[Received] = field(default_factory=list)
    # recipient -> the reply to RCPT TO, e.g. "550 5.1.1 mailbox unavailable"
    refuse: dict[str, str] = field(default_factory=dict)
    # seconds each DATA takes (after the message is kept, so a client killed meanwhile has
    # delivered a message it never heard accepted)
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def message_ids(self) -> list[str]:
        with self.lock:
            return [r.message_id for r in self.received]


class _Handler:
    def __init__(self, inbox: Inbox):
        self.inbox = inbox

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.inbox.refuse:
            return self.inbox.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.inbox.lock:
            self.inbox.received.append(
                Received(envelope.mail_from, tuple(envelope.rcpt_tos), envelope.content)
            )
        if self.inbox.delay:
            await asyncio.sleep(self.inbox.delay)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    """``start()`` / ``stop()`` as often as wanted: the port stays the same, so a stopped server
    is a refused connection and a started one is the same server coming back."""

    def __init__(self, inbox: Inbox | None = None, port: int | None = None):
        self.inbox = inbox or Inbox()
        self.port = port or free_port()
        self._controller: Controller | None = None

    def start(self) -> SmtpServer:
        if self._controller is None:
            self._controller = Controller(
                _Handler(self.inbox), hostname="127.0.0.1", port=self.port
            )
            self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
