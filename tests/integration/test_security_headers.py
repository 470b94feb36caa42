"""Security headers and transport (issue 9): a strict content security policy on every response,
frame denial, no-sniff, referrer and permissions policies, HSTS over TLS, nothing personal
cached; and the production settings' secure defaults."""

from __future__ import annotations

import re
from pathlib import Path

import anyio
import pytest
from litestar.testing import TestClient

from api.security_headers import HSTS, security_headers
from config.settings import Settings, transport_settings

TEMPLATES = Path(__file__).resolve().parents[2] / "api" / "templates"
HTML = {"Accept": "text/html"}

FIXED = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}
CSP_DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'none'",
    "object-src": "'none'",
}

# (who, path, what it is): a page, the API, an error, an unknown address, a static asset.
RESPONSES = [
    (None, "/login", "the sign-in page"),
    (None, "/health", "the health check"),
    (None, "/api/cases", "an API refusal (401)"),
    (None, "/no-such-page", "an unknown address"),
    (None, "/static/casework.js", "a static asset"),
    ("oak_lead", "/", "My work"),
    ("oak_lead", "/pupils/{pupil_oak}", "a pupil's page"),
    ("oak_lead", "/api/cases", "API data"),
    ("oak_lead", "/pupils/999999", "the not found page"),
]


def _csp(value: str) -> dict[str, str]:
    parts = [p.strip().split(" ", 1) for p in value.split(";") if p.strip()]
    return {name: rest for name, rest in parts}


def _get(app, client_as, db, who, path):
    client = client_as(who) if who else TestClient(app)
    return client.get(path.format(pupil_oak=db.world.pupil_oak), headers=HTML)


@pytest.mark.parametrize(("who", "path", "what"), RESPONSES)
def test_every_response_carries_the_security_headers(app, client_as, db, who, path, what):
    response = _get(app, client_as, db, who, path)
    for name, value in FIXED.items():
        assert response.headers.get(name) == value, f"{what}: {name}"
    assert "camera=()" in response.headers["permissions-policy"]
    csp = _csp(response.headers["content-security-policy"])
    for name, value in CSP_DIRECTIVES.items():
        assert csp.get(name) == value, f"{what}: {name}"
    # Styles: the service's own, and only the letters' fixed print styles by their hash.
    styles = csp["style-src"].split()
    assert styles[0] == "'self'" and all(s.startswith("'sha256-") for s in styles[1:])
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert "strict-transport-security" not in response.headers  # not served over TLS


@pytest.mark.parametrize(("who", "path", "what"), RESPONSES)
def test_nothing_but_static_assets_may_be_cached(app, client_as, db, who, path, what):
    response = _get(app, client_as, db, who, path)
    if path.startswith("/static/"):
        assert "no-store" not in response.headers.get("cache-control", ""), what
    else:
        assert response.headers["cache-control"] == "no-store", what


def test_a_handlers_own_cache_rule_stands():
    # A calendar feed may be cached briefly by the calendar app; the headers leave it be.
    hook = security_headers(tls=False)
    message = {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"cache-control", b"private, max-age=300")],
    }
    anyio.run(hook, message, {"type": "http", "path": "/feeds/x.ics", "scheme": "http"})
    headers = dict(message["headers"])
    assert headers[b"cache-control"] == b"private, max-age=300"
    assert b"content-security-policy" in headers


def test_hsts_is_sent_when_served_over_tls(db, clock, tmp_path):
    from api.app import create_app

    settings = Settings(db.url, tmp_path, b"test-secret", tls=True)
    client = TestClient(create_app(settings, engine=db.engine, clock=clock, migrate=False))
    assert client.get("/login").headers["strict-transport-security"] == HSTS
    assert HSTS == "max-age=31536000; includeSubDomains"


def test_hsts_is_sent_to_a_request_that_arrived_over_https(app):
    client = TestClient(app, base_url="https://testserver.local")
    assert client.get("/health").headers["strict-transport-security"] == HSTS


def test_the_letter_styles_allowed_by_hash_are_exactly_the_letters_style_blocks():
    import base64
    import hashlib

    from api.security_headers import content_security_policy

    layout = Path(__file__).resolve().parents[2] / "notifications/templates/letters/_layout.html"
    block = re.search(r"<style>(.*?)</style>", layout.read_text(), flags=re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in _csp(content_security_policy())["style-src"]


def test_no_template_has_inline_script_or_style():
    """The policy refuses them; a template that used one would break in the browser."""
    found = []
    for path in sorted(TEMPLATES.glob("*.html")):
        text = path.read_text()
        for pattern, what in (
            (r"<script(?![^>]*\bsrc=)[^>]*>", "inline script"),
            (r"<style\b", "style element"),
            (r"\sstyle=", "style attribute"),
            (r"\son[a-z]+=", "event handler attribute"),
        ):
            if re.search(pattern, text, flags=re.I):
                found.append(f"{path.name}: {what}")
    assert not found, found


# --- production settings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "secure_cookies", "tls"),
    [
        ({}, False, False),
        ({"CASEWORK_ENV": "development"}, False, False),
        ({"CASEWORK_ENV": "demo"}, False, False),
        ({"CASEWORK_ENV": "production"}, True, True),
        ({"CASEWORK_ENV": "production", "CASEWORK_TLS": "0"}, True, False),
        ({"CASEWORK_ENV": "production", "CASEWORK_SECURE_COOKIES": "0"}, False, True),
        ({"CASEWORK_SECURE_COOKIES": "1", "CASEWORK_TLS": "yes"}, True, True),
    ],
)
def test_production_defaults_to_secure_cookies_and_tls(environ, secure_cookies, tls):
    found = transport_settings(environ)
    assert (found.secure_cookies, found.tls) == (secure_cookies, tls)


@pytest.mark.parametrize(
    ("environ", "variable", "value"),
    [
        ({"CASEWORK_ENV": "live"}, "CASEWORK_ENV", "live"),
        ({"CASEWORK_TLS": "maybe"}, "CASEWORK_TLS", "maybe"),
        ({"CASEWORK_SECURE_COOKIES": "2"}, "CASEWORK_SECURE_COOKIES", "2"),
    ],
)
def test_a_bad_transport_setting_is_refused_naming_it(environ, variable, value):
    with pytest.raises(ValueError) as refused:
        transport_settings(environ)
    assert variable in str(refused.value) and repr(value) in str(refused.value)


@pytest.mark.parametrize(
    ("secret", "starts"),
    [(None, False), ("short-secret", False), ("x" * 32, True)],
)
def test_production_refuses_to_start_without_its_own_session_secret(
    monkeypatch, tmp_path, secret, starts
):
    monkeypatch.setenv("CASEWORK_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CASEWORK_ENV", "production")
    monkeypatch.delenv("CASEWORK_SECURE_COOKIES", raising=False)
    monkeypatch.delenv("CASEWORK_TLS", raising=False)
    if secret is None:
        monkeypatch.delenv("CASEWORK_SESSION_SECRET", raising=False)
    else:
        monkeypatch.setenv("CASEWORK_SESSION_SECRET", secret)
    if not starts:
        with pytest.raises(ValueError, match="CASEWORK_SESSION_SECRET") as refused:
            Settings.from_env()
        assert secret is None or secret not in str(refused.value)  # never echoed
        assert not (tmp_path / "session-secret").exists()  # no fallback to a file
        return
    settings = Settings.from_env()
    assert settings.environment == "production"
    assert settings.secure_cookies and settings.tls


def test_development_keeps_a_generated_secret_under_var(monkeypatch, tmp_path):
    monkeypatch.setenv("CASEWORK_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("CASEWORK_ENV", raising=False)
    monkeypatch.delenv("CASEWORK_SESSION_SECRET", raising=False)
    first = Settings.from_env()
    assert first.environment == "development" and not first.secure_cookies
    assert Settings.from_env().session_secret == first.session_secret
    assert (tmp_path / "session-secret").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("path", ["/schema", "/schema/swagger", "/schema/redoc"])
def test_only_the_api_documentation_may_run_its_viewers_inline_start_and_cdn_files(app, path):
    # The viewers' page has no personal data; it still may not be framed or post elsewhere.
    response = TestClient(app).get(path)
    assert response.status_code == 200, path
    csp = _csp(response.headers["content-security-policy"])
    assert (
        "'unsafe-inline'" in csp["script-src"] and "https://cdn.jsdelivr.net" in csp["script-src"]
    )
    assert csp["frame-ancestors"] == "'none'" and csp["form-action"] == "'self'"
    # The description itself, and every other page, keep the strict policy.
    strict = _csp(TestClient(app).get("/schema/openapi.json").headers["content-security-policy"])
    assert strict["script-src"] == "'self'"
