"""The rules a new password must meet, after the NCSC's password guidance: length over
complexity (no "one capital, one digit" rules, which lead to Password1!), and a deny-list of the
passwords attackers try first. Applied whenever a password is set or changed; signing in with an
older password still works (an account is not locked out by a rule made after its password).

Each refusal is one plain sentence saying the rule; the password itself is never repeated back.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from casework.errors import FieldProblem, InvalidInput

# Matches the API's sign-up schema (``api.schemas.UserIn``) and the CLI: long enough that three
# or four random words fit; the maximum bounds the cost of hashing.
MIN_LENGTH = 12
MAX_LENGTH = 200
# Fewer different characters than this is a repeat ("aaaaaaaaaaaa", "abababababab").
MIN_DISTINCT = 4
SERVICE_NAMES = ("casework",)
DENY_LIST = Path(__file__).parent / "data" / "common_passwords.txt"

# Runs of characters people type as "sequences": the alphabet, digits, keyboard rows.
_SEQUENCES = (
    "abcdefghijklmnopqrstuvwxyz",
    "0123456789",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "qwertyuiopasdfghjklzxcvbnm",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
)
# What people add to a common word to get past a length or composition rule: "password123!".
_DECORATION = re.compile(r"^[\W\d_]+|[\W\d_]+$")


@cache
def common_passwords() -> frozenset[str]:
    lines = DENY_LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _is_sequence(text: str) -> bool:
    """The whole text is a run along one of the sequences, forwards or backwards, wrapping."""
    for run in _SEQUENCES:
        doubled = run * (len(text) // len(run) + 2)
        if text in doubled or text[::-1] in doubled:
            return True
    return False


def password_problems(password: str, *, username: str | None = None) -> list[str]:
    """Every rule this password breaks, in plain English (an empty list when it is acceptable)."""
    if len(password) < MIN_LENGTH:
        return [
            f"must be at least {MIN_LENGTH} characters long (it has {len(password)}); "
            "three or four random words make a strong password that is easy to remember"
        ]
    if len(password) > MAX_LENGTH:
        return [f"must be at most {MAX_LENGTH} characters long (it has {len(password)})"]
    problems = []
    lowered = password.lower()
    squeezed = re.sub(r"\s+", "", lowered)
    core = _DECORATION.sub("", lowered)
    if lowered in common_passwords() or squeezed in common_passwords():
        problems.append("is one of the most common passwords, which attackers try first")
    elif len(core) >= 4 and core in common_passwords():
        problems.append(
            "is a common password with numbers or symbols added, which attackers try first"
        )
    if len(set(lowered)) < MIN_DISTINCT:
        problems.append(f"repeats characters: use at least {MIN_DISTINCT} different characters")
    elif _is_sequence(squeezed):
        problems.append("is a run of characters in order (like abcdef or 123456 or qwerty)")
    name = (username or "").strip().lower()
    if len(name) >= 3 and name in lowered:
        problems.append("must not contain your username")
    if any(service in lowered for service in SERVICE_NAMES):
        problems.append("must not contain the name of this service")
    return problems


def check_new_password(password: str, *, username: str | None, field: str = "password") -> None:
    """Refuse a new password that breaks a rule: InvalidInput naming the field and each rule. The
    value is shown as "(hidden)" so no password reaches a response or a log."""
    problems = password_problems(password, username=username)
    if problems:
        raise InvalidInput([FieldProblem(field, "(hidden)", rule) for rule in problems])
