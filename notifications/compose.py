"""Build the MIME message for one outbox row: text and HTML alternatives, attachments, headers."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from config.profiles import MailIdentity
from notifications.rendering import RenderedEmail


@dataclass(frozen=True)
class AttachedFile:
    filename: str
    media_type: str
    content: bytes


def compose(
    *,
    message_id: str,
    created_at: datetime,
    sender: MailIdentity,
    to_address: str,
    subject: str,
    body: RenderedEmail,
    attachments: Sequence[AttachedFile] = (),
) -> EmailMessage:
    """multipart/alternative (text, then HTML), inside multipart/mixed when files are attached."""
    message = EmailMessage()
    message["Message-ID"] = message_id
    # When the message was made (queued), so a resend after a crash is the same message.
    message["Date"] = format_datetime(created_at)
    local, _, domain = sender.from_address.rpartition("@")
    message["From"] = Address(display_name=sender.from_name, username=local, domain=domain)
    message["To"] = to_address
    if sender.reply_to:
        message["Reply-To"] = sender.reply_to
    message["Subject"] = subject
    # RFC 3834: no out-of-office or other automatic replies to an automatic message; the
    # second header is Exchange's way of saying the same, and councils run Exchange.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(body.text)
    message.add_alternative(body.html, subtype="html")
    for item in attachments:
        maintype, _, subtype = item.media_type.partition("/")
        if not maintype or not subtype:
            maintype, subtype = "application", "octet-stream"
        message.add_attachment(
            item.content, maintype=maintype, subtype=subtype, filename=item.filename
        )
    # Boundaries from the Message-ID instead of random ones: a resend after a crash is then
    # the same message byte for byte, not merely under the same Message-ID.
    seed = hashlib.sha256(message_id.encode()).hexdigest()[:24]
    for number, part in enumerate(p for p in message.walk() if p.is_multipart()):
        part.set_boundary(f"=_casework_{seed}_{number}")
    return message
