"""Sign-in sessions: an encrypted, HttpOnly, SameSite=Lax cookie (Secure behind TLS) naming the
user; the user is re-read (and must still be active) on every request, so disabling an account
takes effect at once.

A session is made anew at every sign-in (a random id; whatever session the browser had is
dropped first), so a session planted before sign-in is never the signed-in one. It ends after
``session_idle_seconds`` unused and ``session_max_age_seconds`` after sign-in, and when the
account's ``sessions_valid_from`` passes its sign-in time (password changed, locked, unlocked,
deactivated): ``api.deps.unit_of_work`` checks that against the user row it reads anyway.

Between the password and a second-factor code the session is "pending": it names the user but
authenticates nothing; only the sign-in steps (public paths, below) read it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.middleware.session.client_side import ClientSideSessionBackend, CookieBackendConfig
from litestar.security.session_auth import SessionAuth

from casework.models import User
from config.settings import Settings

# Paths anyone may reach: signing in, the API description, the health check, feeds.
PUBLIC = [
    "^/api/auth/login$",
    # The sign-in steps: password, then a code or setting up a second factor.
    "^/login(/code|/two-factor)?$",
    "^/schema",
    "^/health$",
    "^/static/",
    # A calendar app cannot sign in: the secret address is the credential.
    "^/feeds/",
    # MIS integrations present a bearer token instead of a session (api.deps).
    "^/api/integration(/|$)",
]

# What a session is for: signed in, or waiting for a code, or for a second factor's setup.
SIGNED_IN = "signed_in"
CODE_PENDING = "code_pending"
SETUP_PENDING = "setup_pending"
# "Last seen" is written back at most this often, so the cookie is not re-issued every request.
SEEN_GRANULARITY = 60


@dataclass(frozen=True)
class SignedIn:
    user_id: int
    signed_in_at: float


def now_seconds(connection: ASGIConnection) -> float:
    return connection.app.state.services.clock.now().timestamp()


def start_session(request: Request, user_id: int, *, stage: str = SIGNED_IN) -> None:
    """A new session for this user: the old one (and anything in it) is dropped."""
    now = now_seconds(request)
    request.clear_session()
    request.set_session(
        {
            "sid": secrets.token_urlsafe(24),
            "user_id": user_id,
            "stage": stage,
            "signed_in_at": now,
            "seen_at": now,
        }
    )


def pending_user(request: Request, stage: str, max_age: int) -> int | None:
    """The user a pending session (a code or a second factor's setup to come) is for."""
    session = request.session or {}
    user_id, at = session.get("user_id"), session.get("signed_in_at")
    if session.get("stage") != stage or not isinstance(user_id, int):
        return None
    if not isinstance(at, int | float) or now_seconds(request) - at > max_age:
        return None
    return user_id


def session_is_void(user: User, signed_in_at: float) -> bool:
    """Signed in before the account's sessions were ended (password change, lock, unlock)."""
    valid_from = user.sessions_valid_from
    return valid_from is not None and signed_in_at < valid_from.timestamp()


def make_session_auth(settings: Settings) -> SessionAuth[SignedIn, ClientSideSessionBackend]:
    max_age = settings.session_max_age_seconds
    idle = settings.session_idle_seconds

    async def retrieve_user(session: dict[str, Any], connection: ASGIConnection) -> SignedIn | None:
        user_id, at, seen = (
            session.get("user_id"),
            session.get("signed_in_at"),
            session.get("seen_at"),
        )
        if session.get("stage") != SIGNED_IN or not isinstance(user_id, int):
            return None
        if not isinstance(at, int | float) or not isinstance(seen, int | float):
            return None
        now = now_seconds(connection)
        if now - at > max_age or now - seen > idle:
            return None
        if now - seen >= SEEN_GRANULARITY:
            session["seen_at"] = now  # the session middleware writes the cookie back
        return SignedIn(user_id, float(at))

    cookie = CookieBackendConfig(
        secret=hashlib.sha256(settings.session_secret).digest(),
        key="casework_session",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        max_age=max_age,
    )
    return SessionAuth[SignedIn, ClientSideSessionBackend](
        retrieve_user_handler=retrieve_user,
        session_backend_config=cookie,
        exclude=PUBLIC,
    )
