"""Unique Pupil Numbers: format and check letter (DfE data standard, DATA-FORMATS.md §2)."""

from __future__ import annotations

import re

from casework.errors import InvalidInput

# Letters used for the check letter and the temporary-UPN final letter: A-Z without I, O, S.
ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ"
# ASCII digits only (\d would accept other scripts' digits); fullmatch, so no trailing newline.
_FORMAT = re.compile(r"[ABCDEFGHJKLMNPQRTUVWXYZ]([0-9]{12}|[0-9]{11}[ABCDEFGHJKLMNPQRTUVWXYZ])")


def check_letter(body: str) -> str:
    """The check letter for the 12 characters that follow it (positions 2-13)."""
    if len(body) != 12:
        raise ValueError("a UPN body is 12 characters")
    total = 0
    for position, char in enumerate(body, start=2):
        value = int(char) if char.isdigit() else ALPHABET.index(char)
        total += value * position
    return ALPHABET[total % 23]


def is_temporary(upn: str) -> bool:
    return upn[-1].isalpha()


def upn_problem(upn: str) -> str | None:
    """Why ``upn`` is not a valid UPN, or None when it is."""
    if not _FORMAT.fullmatch(upn):
        return (
            "a UPN is a letter then 12 digits (permanent) or 11 digits and a letter (temporary); "
            "the letters I, O and S are never used"
        )
    expected = check_letter(upn[1:])
    if upn[0] != expected:
        return f"the check letter does not match: for these digits it should be {expected}"
    return None


def validate_upn(upn: str, field: str = "upn") -> str:
    """Return the normalised UPN or raise InvalidInput naming the field, value and rule."""
    normalised = upn.strip().upper()
    problem = upn_problem(normalised)
    if problem:
        raise InvalidInput.one(field, upn, problem)
    return normalised


def make_upn(la_number: int, establishment: int, year: int, serial: int) -> str:
    """Build a permanent UPN (used by the synthetic data generator)."""
    body = f"{la_number:03d}{establishment:04d}{year % 100:02d}{serial % 1000:03d}"
    return check_letter(body) + body
