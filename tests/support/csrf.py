"""Test clients that send the CSRF token the way the service's own pages and scripts do."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from api.csrf import COOKIE, HEADER


def csrf_client(app: Litestar, **kwargs: Any) -> TestClient:
    """A TestClient that holds the CSRF cookie (from a GET) and echoes it in the
    ``X-CSRFToken`` header of every request, so tests post forms and JSON unchanged. The cookie
    is read at each request, so a rotated one is followed. Tests of CSRF refusal use a plain
    ``TestClient``."""
    client = TestClient(app, **kwargs)

    def send_token(request) -> None:
        token = client.cookies.get(COOKIE)
        if token and HEADER not in request.headers:
            request.headers[HEADER] = token

    client.event_hooks = {**client.event_hooks, "request": [send_token]}
    client.get("/health")  # any GET sets the cookie
    return client
