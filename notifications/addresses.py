"""Email addresses checked on entry, and the Message-ID an idempotency key becomes."""

from __future__ import annotations

import hashlib
import re

from email_validator import EmailNotValidError, validate_email

from casework.errors import InvalidInput

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_DOTS = re.compile(r"\.{2,}")
LONGEST_LOCAL = 120  # keeps the Message-ID, and the .eml file named after it, short


def checked_address(field: str, value: str) -> str:
    """The address in its normal form, or InvalidInput naming the field, the value and the rule.
    Only the syntax is checked (no DNS look-up: a school's domain may be briefly unreachable).
    The part before the @ must be ASCII: a council's mail server may not accept SMTPUTF8."""
    try:
        found = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise InvalidInput.one(field, value, f"not an email address: {exc}") from None
    return found.ascii_email or found.normalized


def message_id_for(key: str, domain: str) -> str:
    """``<key@domain>`` with anything outside [A-Za-z0-9_.-] replaced; a key that had to be
    changed (or shortened) gets a digest of the original, so two keys never share a Message-ID."""
    local = _DOTS.sub(".", _UNSAFE.sub("-", key)).strip(".")
    if local != key or len(local) > LONGEST_LOCAL:
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        local = f"{local[:LONGEST_LOCAL].rstrip('.') or 'message'}.{digest}"
    return f"<{local}@{domain.lower()}>"


def domain_of(address: str) -> str:
    return address.rsplit("@", 1)[1].lower()
