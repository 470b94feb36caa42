"""Password hashing with argon2id."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified against when the username is unknown, so a wrong username costs as much as a wrong
# password and response times do not reveal which accounts exist.
_DUMMY = _hasher.hash("casework-no-such-user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """The hash was made with other parameters than today's (a library upgrade or a stronger
    setting): after a successful sign-in the password is hashed again with the current ones."""
    try:
        return _hasher.check_needs_rehash(stored)
    except InvalidHashError:
        return True
