"""CSRF (issue 9): every unsafe request made with the session cookie must echo the CSRF
cookie's token, in the form's ``_csrf_token`` field or the ``X-CSRFToken`` header; only the
bearer-token integration routes are exempt. A refusal is 403 and changes nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from api.csrf import COOKIE, HEADER, REFUSAL
from casework.models import Case, User
from tests.support.csrf import csrf_client
from tests.support.world import PASSWORD

TEMPLATES = Path(__file__).resolve().parents[2] / "api" / "templates"
HTML = {"Accept": "text/html"}


def _token_in(page: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)


def _without_header(signed_in: TestClient, app) -> TestClient:
    """The same browser (cookies), but a request forged from another site: no token sent."""
    forged = TestClient(app)
    forged.cookies = signed_in.cookies
    forged.follow_redirects = False
    return forged


def _cases(db) -> int:
    with db.factory() as session:
        return session.scalar(select(func.count()).select_from(Case))


def test_every_post_form_in_the_templates_carries_the_token():
    missing = []
    for path in sorted(TEMPLATES.glob("*.html")):
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines):
            if re.search(r'<form\b[^>]*method="post"', line, flags=re.I):
                following = " ".join(lines[number : number + 2])
                if "csrf_input" not in following:
                    missing.append(f"{path.name}:{number + 1}")
    assert not missing, f"POST forms without {{{{ csrf_input | safe }}}}: {missing}"


def test_the_sign_in_form_works_with_its_token_and_is_refused_without(app):
    browser = TestClient(app)
    browser.follow_redirects = False
    page = browser.get("/login", headers=HTML)
    token = _token_in(page.text)
    assert browser.cookies.get(COOKIE)
    forged = browser.post(
        "/login", data={"username": "oak_lead", "password": PASSWORD}, headers=HTML
    )
    assert forged.status_code == 403
    assert REFUSAL in forged.text.replace("&#39;", "'")
    assert "casework_session" not in forged.headers.get("set-cookie", "")
    signed_in = browser.post(
        "/login",
        data={"username": "oak_lead", "password": PASSWORD, "_csrf_token": token},
        headers=HTML,
    )
    assert signed_in.status_code == 303, signed_in.text


def test_a_page_form_posted_without_the_token_changes_nothing(db, app, client_as):
    lead = client_as("oak_lead")
    forged = _without_header(lead, app)
    before = _cases(db)
    form = {
        "school_id": str(db.world.oakfield),
        "stage": "monitor",
        "kind": "irregular_attendance",
        "reason": "below 90%",
    }
    refused = forged.post(f"/pupils/{db.world.pupil_oak}/cases", data=form, headers=HTML)
    assert refused.status_code == 403
    assert "The form could not be sent" in refused.text
    assert _cases(db) == before
    # The same form from the service's own page (with its token) opens the case.
    lead.follow_redirects = False
    opened = lead.post(f"/pupils/{db.world.pupil_oak}/cases", data=form, headers=HTML)
    assert opened.status_code == 303, opened.text
    assert _cases(db) == before + 1


@pytest.mark.parametrize(
    ("token", "why"),
    [
        (None, "no token"),
        ("", "empty"),
        ("0" * 128, "not signed by the service"),
        ("other", "a valid token of another browser"),
        ("tampered", "the cookie's token with its signature changed"),
    ],
)
def test_the_api_refuses_an_unsafe_request_without_the_matching_token(
    db, app, client_as, token, why
):
    manager = client_as("manager")
    forged = _without_header(manager, app)
    own = manager.cookies.get(COOKIE)
    if token == "other":
        token = csrf_client(app).cookies.get(COOKIE)
        assert token != own
    elif token == "tampered":
        token = own[:-1] + ("0" if own[-1] != "0" else "1")
    headers = {} if token is None else {HEADER: token}
    before = _cases(db)
    refused = forged.post(
        "/api/cases",
        json={"pupil_id": db.world.pupil_oak, "school_id": db.world.oakfield, "reason": "x"},
        headers=headers,
    )
    assert refused.status_code == 403, why
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["detail"] == REFUSAL
    assert _cases(db) == before
    # With its own token the same request opens the case.
    opened = manager.post(
        "/api/cases",
        json={"pupil_id": db.world.pupil_oak, "school_id": db.world.oakfield, "reason": "x"},
    )
    assert opened.status_code == 201, opened.text


def test_the_json_sign_in_needs_the_token_too(app):
    script = TestClient(app)
    credentials = {"username": "oak_lead", "password": PASSWORD}
    assert script.post("/api/auth/login", json=credentials).status_code == 403
    script.get("/health")  # any GET sets the cookie: a script's first step
    token = script.cookies.get(COOKIE)
    signed_in = script.post("/api/auth/login", json=credentials, headers={HEADER: token})
    assert signed_in.status_code == 200


def test_signing_out_is_protected(app, client_as, db):
    lead = client_as("oak_lead")
    forged = _without_header(lead, app)
    assert forged.post("/api/auth/logout").status_code == 403
    assert lead.get("/api/auth/me").status_code == 200  # still signed in


def test_safe_requests_need_no_token(app, client_as):
    lead = _without_header(client_as("oak_lead"), app)
    assert lead.get("/api/auth/me").status_code == 200
    assert lead.get("/", headers=HTML).status_code == 200


def test_the_integration_routes_are_exempt_they_carry_a_bearer_token_not_a_cookie(db, app):
    from datetime import UTC, datetime

    from casework.vocabulary import Role
    from workflows.registry import AddUser, create_user
    from workflows.tokens import issue_token

    with db.factory() as session:
        admin = session.get(User, db.world.users["admin"])
        mis = create_user(
            session,
            AddUser("mis", "MIS", "MIS", "m@example.org", Role.INTEGRATION, PASSWORD, [
                db.world.oakfield
            ]),
            admin.la_id,
        )  # fmt: skip
        token = issue_token(
            session, mis, name="MIS", by=admin, now=datetime(2024, 11, 20, tzinfo=UTC)
        )
        session.commit()
    pushed = TestClient(app).post(
        "/api/integration/marks",
        json={"school_id": db.world.oakfield, "marks": []},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert pushed.status_code != 403, pushed.text


def test_the_csrf_cookie_is_lax_and_secure_when_cookies_are(db, clock, tmp_path):
    from api.app import create_app
    from config.settings import Settings

    for secure in (False, True):
        settings = Settings(
            database_url=db.url,
            var_dir=tmp_path,
            session_secret=b"test-secret",
            secure_cookies=secure,
        )
        client = TestClient(create_app(settings, engine=db.engine, clock=clock, migrate=False))
        cookie = client.get("/health").headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE}=") and "SameSite=lax" in cookie
        assert ("Secure" in cookie) is secure


def test_the_openapi_description_tells_api_clients_how_to_send_the_token(app):
    description = TestClient(app).get("/schema/openapi.json").json()["info"]["description"]
    assert "X-CSRFToken" in description and COOKIE in description
