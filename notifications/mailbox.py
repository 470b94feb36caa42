"""The development mailbox: the ``.eml`` files the file sender wrote, for the API to list."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

_NAME = re.compile(r"^[A-Za-z0-9_.@-]+\.eml$")


@dataclass(frozen=True)
class MailFile:
    name: str
    message_id: str | None
    to: str | None
    subject: str | None
    date: datetime | None


def _headers(path: Path) -> MailFile:
    with path.open("rb") as handle:
        headers = BytesParser(policy=policy.default).parse(handle, headersonly=True)
    try:
        date = parsedate_to_datetime(headers["Date"]) if headers["Date"] else None
    except (TypeError, ValueError):
        date = None
    return MailFile(path.name, headers["Message-ID"], headers["To"], headers["Subject"], date)


def list_mail(directory: Path, *, offset: int = 0, limit: int = 50) -> list[MailFile]:
    """Newest file first; only the page asked for is opened."""
    if not directory.is_dir():
        return []
    dated = []
    for path in directory.iterdir():
        if not _NAME.match(path.name):
            continue
        try:  # a resend may be replacing the file as we look
            dated.append((path.stat().st_mtime, path.name, path))
        except FileNotFoundError:
            continue
    dated.sort(key=lambda item: (item[0], item[1]), reverse=True)
    found = []
    for _, _, path in dated[offset : offset + limit]:
        try:
            found.append(_headers(path))
        except FileNotFoundError:
            continue
    return found


def read_mail(directory: Path, name: str) -> bytes | None:
    """One file's bytes, or None: only a plain ``*.eml`` name directly in ``directory``."""
    if not _NAME.match(name) or name.startswith("."):
        return None
    path = directory / name
    return path.read_bytes() if path.is_file() else None
