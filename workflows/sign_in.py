"""Interactive sign-in: password, then (when the user has one) a TOTP code; throttled per
account and per address.

- Every try is a ``sign_in_attempt`` row: the username as typed (cut to the column), the client
  address and the outcome. The address throttle counts failures from that address in a window.
- Per account, consecutive wrong passwords or codes count up to ``max_failures``; then the
  account is locked until an administrator unlocks it (``workflows.users.unlock_user``), and
  every session it had is void.
- A username nobody has is answered as a real account would be (the same wording, the same
  countdown and lock, from its attempts), so answers do not reveal which accounts exist.

The caller commits: the attempt and the counters are kept whether the sign-in worked or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import pyotp
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework import audit
from casework.errors import Conflict
from casework.models import LocalAuthority, SignInAttempt, User
from casework.passwords import hash_password, needs_rehash, verify_password
from casework.vocabulary import Role
from config.profiles import load_profile

# After this many failures in a row the page warns how many tries are left before the lock.
WARN_AFTER = 3
USERNAME_KEPT = 100
ADDRESS_KEPT = 64
# How far back an unknown username's failures are counted to mimic a real account's lock.
UNKNOWN_LOOKBACK = timedelta(days=1)
# Attempts that are not a wrong guess: they do not count towards the address throttle.
NOT_GUESSES = ("throttled", "code_needed", "code_reused")
ISSUER = "Casework"
# The reason kept with a sign-in that succeeded with a code: no code is accepted twice.
WITH_CODE = "with_code"


@dataclass(frozen=True)
class Limits:
    max_failures: int = 5
    address_failures: int = 20
    window: timedelta = timedelta(minutes=15)


class Outcome(StrEnum):
    SIGNED_IN = "signed_in"
    # The password was right; a code from the user's authenticator app is needed next.
    CODE_NEEDED = "code_needed"
    # The password was right; the LA requires a second factor this user has not set up yet.
    SETUP_NEEDED = "setup_needed"
    NOT_RIGHT = "not_right"
    LOCKED = "locked"
    THROTTLED = "throttled"
    # A right code, but one already used to sign in: wait for the app's next one.
    CODE_REUSED = "code_reused"


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    user_id: int | None = None
    # Wrong tries left before the lock, once WARN_AFTER have gone wrong; else None.
    tries_left: int | None = None
    # Seconds until the address may try again (THROTTLED only).
    retry_after: int | None = None


def _record(
    session: Session, username: str, address: str, at: datetime, reason: str | None
) -> None:
    session.add(
        SignInAttempt(
            at=at,
            username=username[:USERNAME_KEPT],
            address=(address or "unknown")[:ADDRESS_KEPT],
            succeeded=reason in (None, WITH_CODE),
            reason=reason,
        )
    )
    session.flush()


def _throttled(session: Session, address: str, now: datetime, limits: Limits) -> int | None:
    """Seconds the address must wait, when it has had its share of failures in the window."""
    since = now - limits.window
    failures = list(
        session.scalars(
            select(SignInAttempt.at)
            .where(
                SignInAttempt.address == (address or "unknown")[:ADDRESS_KEPT],
                SignInAttempt.succeeded.is_(False),
                SignInAttempt.reason.not_in(NOT_GUESSES),
                SignInAttempt.at > since,
            )
            .order_by(SignInAttempt.at.desc())
            .limit(limits.address_failures)
        )
    )
    if len(failures) < limits.address_failures:
        return None
    # Free again once the oldest of the latest ``address_failures`` leaves the window.
    oldest = failures[-1]
    return max(1, int((oldest + limits.window - now).total_seconds()) + 1)


def _unknown_failures(session: Session, username: str, now: datetime) -> int:
    """Recent failures for a username that signs nobody in (unknown, or deactivated)."""
    return session.scalar(
        select(func.count(SignInAttempt.id)).where(
            SignInAttempt.username == username[:USERNAME_KEPT],
            SignInAttempt.succeeded.is_(False),
            SignInAttempt.reason.in_(("unknown_user", "inactive")),
            SignInAttempt.at > now - UNKNOWN_LOOKBACK,
        )
    )


def _wrong(failures: int, limits: Limits, user_id: int | None = None) -> Result:
    if failures >= limits.max_failures:
        return Result(Outcome.LOCKED, user_id)
    left = limits.max_failures - failures
    return Result(Outcome.NOT_RIGHT, user_id, left if failures >= WARN_AFTER else None)


def _count_failure(session: Session, user: User, now: datetime, limits: Limits) -> Result:
    user.failed_sign_ins = (user.failed_sign_ins or 0) + 1
    if user.failed_sign_ins >= limits.max_failures and user.locked_at is None:
        user.locked_at = now
        user.sessions_valid_from = now
    session.flush()
    return _wrong(user.failed_sign_ins, limits, user.id)


def two_factor_required(session: Session, user: User) -> bool:
    la = session.get(LocalAuthority, user.la_id)
    return user.role in load_profile(la.profile).security.two_factor_required_for


def _signed_in(
    session: Session, user: User, address: str, route: str, now: datetime, *, code: bool = False
) -> Result:
    user.failed_sign_ins = 0
    _record(session, user.username, address, now, WITH_CODE if code else None)
    audit.record_sign_in(
        session, username=user.username, user=user, succeeded=True, route=route, at=now
    )
    return Result(Outcome.SIGNED_IN, user.id)


def sign_in_with_password(
    session: Session,
    *,
    username: str,
    password: str,
    address: str,
    route: str,
    now: datetime,
    limits: Limits,
) -> Result:
    wait = _throttled(session, address, now, limits)
    if wait is not None:
        _record(session, username, address, now, "throttled")
        return Result(Outcome.THROTTLED, retry_after=wait)
    user = session.scalars(select(User).where(User.username == username)).first()
    # Integrations sign in with their token, never here: as good as unknown.
    if user is not None and user.role == Role.INTEGRATION:
        user = None
    right = verify_password(user.password_hash if user else None, password)
    if user is None or not user.active:
        failures = _unknown_failures(session, username, now) + 1
        _record(session, username, address, now, "unknown_user" if user is None else "inactive")
        audit.record_sign_in(
            session, username=username, user=user, succeeded=False, route=route, at=now
        )
        return _wrong(failures, limits)
    if user.locked_at is not None:
        _record(session, username, address, now, "locked")
        return Result(Outcome.LOCKED, user.id)
    if not right:
        result = _count_failure(session, user, now, limits)
        _record(session, username, address, now, "bad_password")
        audit.record_sign_in(
            session, username=username, user=user, succeeded=False, route=route, at=now
        )
        return result
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    if user.totp_enabled_at is not None:
        _record(session, username, address, now, "code_needed")
        return Result(Outcome.CODE_NEEDED, user.id)
    result = _signed_in(session, user, address, route, now)
    if two_factor_required(session, user):
        return Result(Outcome.SETUP_NEEDED, user.id)
    return result


def code_step_start(secret: str, code: str, now: datetime) -> datetime | None:
    """When the 30-second step the code belongs to began, if it is a right code now; one step
    either side is allowed for a phone's clock being 30 seconds out."""
    digits = "".join(code.split())
    if not digits.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    for offset in (0, -1, 1):
        at = now + timedelta(seconds=offset * totp.interval)
        if totp.verify(digits, for_time=at):
            step = int(at.timestamp()) // totp.interval
            return datetime.fromtimestamp(step * totp.interval, tz=now.tzinfo)
    return None


def code_is_right(secret: str, code: str, now: datetime) -> bool:
    return code_step_start(secret, code, now) is not None


def _code_used_already(session: Session, user: User, step_start: datetime) -> bool:
    """A sign-in with a code succeeded since this code's step began: it (or an older one) was
    used then, so a code overheard or read over a shoulder cannot be used again."""
    return (
        session.scalar(
            select(SignInAttempt.id)
            .where(
                SignInAttempt.username == user.username[:USERNAME_KEPT],
                SignInAttempt.reason == WITH_CODE,
                SignInAttempt.at >= step_start,
            )
            .limit(1)
        )
        is not None
    )


def sign_in_with_code(
    session: Session,
    *,
    user_id: int,
    code: str,
    address: str,
    route: str,
    now: datetime,
    limits: Limits,
) -> Result:
    """The second step, after ``CODE_NEEDED``: a wrong code counts towards the lock as a wrong
    password does."""
    wait = _throttled(session, address, now, limits)
    if wait is not None:
        _record(session, str(user_id), address, now, "throttled")
        return Result(Outcome.THROTTLED, retry_after=wait)
    user = session.get(User, user_id)
    if user is None or not user.active or user.totp_secret is None:
        return Result(Outcome.NOT_RIGHT)
    if user.locked_at is not None:
        _record(session, user.username, address, now, "locked")
        return Result(Outcome.LOCKED, user.id)
    step_start = code_step_start(user.totp_secret, code, now)
    if step_start is None:
        result = _count_failure(session, user, now, limits)
        _record(session, user.username, address, now, "bad_code")
        audit.record_sign_in(
            session, username=user.username, user=user, succeeded=False, route=route, at=now
        )
        return result
    if _code_used_already(session, user, step_start):
        # Not counted towards the lock: usually the user signing in again within 30 seconds.
        _record(session, user.username, address, now, "code_reused")
        return Result(Outcome.CODE_REUSED, user.id)
    return _signed_in(session, user, address, route, now, code=True)


# --- Setting up the second factor ------------------------------------------------------------


def start_two_factor(session: Session, user: User) -> str:
    """The secret the user's authenticator app is to hold: kept unconfirmed until a code made
    from it is given (``confirm_two_factor``). Asking again before then gives the same one. A
    second factor already on is not replaced here (whoever holds a session could otherwise swap
    it): an administrator resets it."""
    if user.totp_enabled_at is not None:
        raise Conflict("your second factor is already set up: ask an administrator to reset it")
    if user.totp_secret is None:
        user.totp_secret = pyotp.random_base32()
        session.flush()
    return user.totp_secret


def provisioning_uri(user: User) -> str:
    return pyotp.TOTP(user.totp_secret or "").provisioning_uri(
        name=user.username, issuer_name=ISSUER
    )


def confirm_two_factor(session: Session, user: User, code: str, now: datetime) -> bool:
    """Turn the second factor on once the app shows it holds the secret (a right code)."""
    if user.totp_secret is None or not code_is_right(user.totp_secret, code, now):
        return False
    user.totp_enabled_at = now
    session.flush()
    return True


def reset_two_factor(user: User) -> None:
    """An administrator clears a lost second factor; the user sets one up again."""
    user.totp_secret = None
    user.totp_enabled_at = None
