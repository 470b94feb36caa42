"""Security headers on every response (issue 9): a strict content security policy, frame
denial, no-sniff, referrer and permissions policies, HSTS over TLS, and no caching of anything
but static assets (pages and API answers carry children's personal data).

A Litestar ``before_send`` hook, so it covers every response the app sends: pages, the API,
error pages, unmatched routes and static files alike.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

from notifications.overrides import BUILT_IN, overrides_root


def letter_templates() -> list[Path]:
    """The built-in letters and every LA's own wording (``CASEWORK_TEMPLATE_OVERRIDES``).

    A letter previews in a sandboxed ``srcdoc`` iframe, which inherits the page's policy, and a
    notice opens as a page of its own: their fixed <style> block (the print layout) is allowed
    by its hash, and no other inline style is."""
    return [
        *(BUILT_IN / "letters").glob("*.html"),
        *overrides_root().glob("*/letters/*.html"),
    ]


def _style_hashes(paths) -> list[str]:
    found: set[str] = set()
    for path in paths:
        for block in re.findall(r"<style>(.*?)</style>", path.read_text(), flags=re.S):
            if "{{" in block or "{%" in block:
                continue  # templated: its text varies, so no hash can allow it
            digest = base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
            found.add(f"'sha256-{digest}'")
    return sorted(found)


def content_security_policy() -> str:
    styles = " ".join(["'self'", *_style_hashes(letter_templates())])
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            f"style-src {styles}",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "frame-ancestors 'none'",
            "form-action 'self'",
            "base-uri 'none'",
            "object-src 'none'",
        ]
    )


# The API's documentation viewers (/schema: Redoc, Swagger UI; Litestar's own pages) load from
# jsDelivr and start with an inline script. Those pages hold no personal data and are public, so
# only they may run that script and load those files; every other page keeps the strict policy.
DOCS_PREFIX = "/schema"
DOCS_CDN = "https://cdn.jsdelivr.net"
DOCS_POLICY = "; ".join(
    [
        "default-src 'self'",
        f"script-src 'self' 'unsafe-inline' {DOCS_CDN}",
        f"style-src 'self' 'unsafe-inline' {DOCS_CDN} https://fonts.googleapis.com",
        "font-src 'self' https://fonts.gstatic.com",
        f"img-src 'self' data: {DOCS_CDN}",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)

HSTS = "max-age=31536000; includeSubDomains"
# Feeds and some links carry secret addresses: never send them to another site.
REFERRER_POLICY = "same-origin"
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
)
# Static assets are fingerprint-free but hold no personal data: browsers may cache them.
CACHEABLE_PREFIXES = ("/static/",)


def fixed_headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": REFERRER_POLICY,
        "Permissions-Policy": PERMISSIONS_POLICY,
        "Cross-Origin-Opener-Policy": "same-origin",
    }


def security_headers(*, tls: bool) -> Callable[[Message, Scope], Awaitable[None]]:
    """The ``before_send`` hook. ``tls``: the service is served over HTTPS (settings), so
    Strict-Transport-Security is sent; a request that arrived as https gets it regardless."""
    fixed = fixed_headers()

    async def add_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        # A handler's own, stricter policy stands: a letter's or notice's HTML served alone
        # gets "default-src 'none'" (api/controllers/letters.py, penalties.py).
        own_policy = headers.get("content-security-policy")
        for name, value in fixed.items():
            headers[name] = value
        if own_policy:
            headers["Content-Security-Policy"] = own_policy
        path = scope.get("path", "")
        if path.startswith(DOCS_PREFIX) and not path.endswith((".json", ".yaml", ".yml")):
            headers["Content-Security-Policy"] = DOCS_POLICY
        if tls or scope.get("scheme") == "https":
            headers["Strict-Transport-Security"] = HSTS
        # A handler's own choice stands (a calendar feed may be cached briefly); anything else
        # but static assets is never stored.
        if "cache-control" not in headers and not path.startswith(CACHEABLE_PREFIXES):
            headers["Cache-Control"] = "no-store"

    return add_headers
