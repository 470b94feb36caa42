"""Sign-in: an encrypted, HttpOnly session cookie naming the user; the user is re-read (and must
still be active) on every request, so disabling an account takes effect at once."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware.session.client_side import ClientSideSessionBackend, CookieBackendConfig
from litestar.security.session_auth import SessionAuth

from config.settings import Settings

# Paths anyone may reach: signing in, the API description, the health check, feeds.
PUBLIC = [
    "^/api/auth/login$",
    "^/login$",
    "^/schema",
    "^/health$",
    "^/static/",
    # A calendar app cannot sign in: the secret address is the credential.
    "^/feeds/",
    # MIS integrations present a bearer token instead of a session (api.deps).
    "^/api/integration/",
]


@dataclass(frozen=True)
class SignedIn:
    user_id: int
    signed_in_at: float


def make_session_auth(settings: Settings) -> SessionAuth[SignedIn, ClientSideSessionBackend]:
    max_age = settings.session_max_age_seconds

    async def retrieve_user(session: dict[str, Any], _: ASGIConnection) -> SignedIn | None:
        user_id, at = session.get("user_id"), session.get("signed_in_at")
        if not isinstance(user_id, int) or not isinstance(at, int | float):
            return None
        if time.time() - at > max_age:
            return None
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
