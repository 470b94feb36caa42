"""Cross-site request forgery protection (issue 9): Litestar's double-submit cookie.

Every unsafe request (POST, PUT, PATCH, DELETE) must echo the ``casework_csrf`` cookie's token,
in the ``_csrf_token`` form field (every page form carries it as ``{{ csrf_input | safe }}``) or
in the ``X-CSRFToken`` header (htmx, scripts and API clients). Any GET sets the cookie.

Sign-in is protected too, page and API alike: a forged sign-in would put a person into someone
else's account, where what they record about a child lands in the wrong hands. A script first
GETs any address (``/health`` will do), then sends the cookie's value in the header.

Only ``/api/integration/`` is exempt: MIS integrations authenticate with a bearer token that a
browser never sends by itself, so another site cannot forge their requests (there is no cookie).
"""

from __future__ import annotations

import hashlib
import hmac

from litestar import Request, Response
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import PermissionDeniedException
from litestar.response import Template

from api.errors import problem
from config.settings import Settings

COOKIE = "casework_csrf"
HEADER = "x-csrftoken"
FORM_FIELD = "_csrf_token"  # fixed by Litestar's middleware
EXEMPT = ["^/api/integration/"]
# What Litestar's middleware says when the token is missing or does not match the cookie.
_LITESTAR_REFUSAL = "CSRF token verification failed"
REFUSAL = "The form had expired or came from another site. Go back, reload the page and try again."

API_NOTE = (
    " Every POST, PUT, PATCH and DELETE made with the session cookie must send the "
    f"`{COOKIE}` cookie's value in the `X-CSRFToken` header (any GET, e.g. `/health`, sets the "
    "cookie; do this before `POST /api/auth/login` too), or it is refused with 403. "
    "MIS integrations under /api/integration/ send their bearer token instead."
)


def csrf_config(settings: Settings) -> CSRFConfig:
    # Its own key, derived from the session secret, so one secret configures both.
    secret = hmac.new(settings.session_secret, b"casework csrf", hashlib.sha256).hexdigest()
    return CSRFConfig(
        secret=secret,
        cookie_name=COOKIE,
        header_name=HEADER,
        cookie_secure=settings.secure_cookies,
        # Not HttpOnly: casework.js reads it to send the header with htmx requests. It grants
        # nothing by itself; the attacker's problem is reading it, which the same-origin rule
        # prevents.
        cookie_httponly=False,
        cookie_samesite="lax",
        exclude=EXEMPT,
    )


def refused(request: Request, exc: PermissionDeniedException) -> Response:
    """403 for a missing or mismatched token: a page for a person, a problem for the API."""
    if exc.detail != _LITESTAR_REFUSAL:
        return problem(403, exc.detail or "Not allowed", exc.detail or "")
    if request.scope["path"].startswith("/api/"):
        return problem(403, "Cross-site request refused", REFUSAL)
    return Template(
        template_name="problem.html",
        context={"title": "The form could not be sent", "detail": REFUSAL, "errors": []},
        status_code=403,
    )
