"""The optional second factor (a TOTP code from an authenticator app): set up on the account
page, asked for after the password, counted towards the lock when wrong, required for the roles
the LA profile names, and reset by an administrator."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pyotp
import pytest

import workflows.sign_in
from casework.models import User
from config.profiles import SecurityRules, load_profile
from tests.support.csrf import csrf_client
from tests.support.world import PASSWORD

HTML = {"Accept": "text/html,application/xhtml+xml"}


@pytest.fixture
def anon(app):
    with csrf_client(app) as client:
        client.follow_redirects = False
        yield client


def secret_of(db, username) -> str | None:
    with db.factory() as session:
        return session.get(User, db.world.users[username]).totp_secret


def code(secret, clock) -> str:
    return pyotp.TOTP(secret).at(clock.now())


def wrong(secret, clock) -> str:
    right = code(secret, clock)
    return next(c for c in ("000000", "111111") if c != right)


def enrol(client, db, clock, username) -> str:
    client.follow_redirects = False
    page = client.get("/account/two-factor", headers=HTML)
    assert page.status_code == 200
    secret = secret_of(db, username)
    assert "<svg" in page.text and secret[:4] in page.text
    done = client.post("/account/two-factor", data={"code": code(secret, clock)})
    assert done.status_code == 303 and done.headers["location"] == "/account"
    return secret


def test_a_user_sets_up_a_second_factor_on_the_account_page(client_as, db, clock):
    client = client_as("traded")
    client.follow_redirects = False
    assert "Set up a second factor" in client.get("/account", headers=HTML).text
    client.get("/account/two-factor", headers=HTML)
    secret = secret_of(db, "traded")
    refused = client.post("/account/two-factor", data={"code": wrong(secret, clock)})
    assert refused.status_code == 400 and "The code is not right" in refused.text
    with db.factory() as session:
        assert session.get(User, db.world.users["traded"]).totp_enabled_at is None
    # The same secret is offered until it is confirmed, so a scanned QR code stays good.
    assert enrol(client, db, clock, "traded") == secret
    with db.factory() as session:
        assert session.get(User, db.world.users["traded"]).totp_enabled_at == clock.now()
    assert "On: you sign in with a code" in client.get("/account", headers=HTML).text
    # Once on, it is not replaced from a session (an administrator resets it).
    again = client.get("/account/two-factor")
    assert again.status_code == 303 and secret_of(db, "traded") == secret


def nothing_opens_with(app, pending: str) -> None:
    """A copy of a pending session opens no page and no API route."""
    with csrf_client(app) as other:
        other.follow_redirects = False
        other.cookies.set("casework_session", pending)
        assert other.get("/", headers=HTML).headers["location"].endswith("/login")
        other.cookies.set("casework_session", pending)
        assert other.get("/api/auth/me").status_code == 401


def test_sign_in_then_asks_for_the_code_and_nothing_opens_until_it_is_right(
    app, client_as, anon, db, clock
):
    secret = enrol(client_as("traded"), db, clock, "traded")
    step = anon.post("/login", data={"username": "traded", "password": PASSWORD})
    assert step.status_code == 303 and step.headers["location"] == "/login/code"
    pending = anon.cookies["casework_session"]
    nothing_opens_with(app, pending)
    assert "Enter the code from your authenticator app" in anon.get("/login/code").text
    refused = anon.post("/login/code", data={"code": wrong(secret, clock)})
    assert refused.status_code == 401 and "The code is not right" in refused.text
    done = anon.post("/login/code", data={"code": code(secret, clock)})
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert anon.cookies["casework_session"] != pending
    assert anon.get("/api/auth/me").json()["username"] == "traded"


def test_the_api_answers_that_a_code_is_needed_and_takes_it(client_as, anon, db, clock):
    secret = enrol(client_as("traded"), db, clock, "traded")
    body = {"username": "traded", "password": PASSWORD}
    needed = anon.post("/api/auth/login", json=body)
    assert needed.status_code == 401
    assert needed.json()["title"] == "Code needed" and needed.json()["code_needed"] is True
    assert anon.get("/api/auth/me").status_code == 401
    refused = anon.post("/api/auth/login", json={**body, "code": wrong(secret, clock)})
    assert refused.status_code == 401 and refused.json()["detail"] == "the code is not right"
    signed_in = anon.post("/api/auth/login", json={**body, "code": code(secret, clock)})
    assert signed_in.status_code == 200
    assert anon.get("/api/auth/me").json()["username"] == "traded"


def test_wrong_codes_count_towards_the_lock(client_as, anon, db, clock):
    secret = enrol(client_as("traded"), db, clock, "traded")
    body = {"username": "traded", "password": PASSWORD}
    for _ in range(5):
        anon.post("/api/auth/login", json={**body, "code": wrong(secret, clock)})
    locked = anon.post("/api/auth/login", json={**body, "code": code(secret, clock)})
    assert locked.status_code == 401 and locked.json()["title"] == "Account locked"


def test_a_code_from_long_ago_is_refused(client_as, anon, db, clock):
    secret = enrol(client_as("traded"), db, clock, "traded")
    old = pyotp.TOTP(secret).at(clock.now() - timedelta(minutes=5))
    body = {"username": "traded", "password": PASSWORD, "code": old}
    if old != code(secret, clock):
        assert anon.post("/api/auth/login", json=body).status_code == 401


@pytest.fixture
def required_for_statutory(monkeypatch):
    """The LA's profile requires a second factor of statutory officers."""

    def load(key):
        return msgspec.structs.replace(
            load_profile(key),
            security=SecurityRules(two_factor_required_for=["statutory_officer"]),
        )

    monkeypatch.setattr(workflows.sign_in, "load_profile", load)


def test_a_role_the_profile_names_sets_one_up_before_anything_else(
    required_for_statutory, app, anon, db, clock
):
    step = anon.post("/login", data={"username": "statutory", "password": PASSWORD})
    assert step.status_code == 303 and step.headers["location"] == "/login/two-factor"
    nothing_opens_with(app, anon.cookies["casework_session"])
    setup = anon.get("/login/two-factor")
    assert setup.status_code == 200 and "asks everyone in your role" in setup.text
    secret = secret_of(db, "statutory")
    done = anon.post("/login/two-factor", data={"code": code(secret, clock)})
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert anon.get("/api/auth/me").json()["username"] == "statutory"
    # Next time it is the code step.
    anon.post("/api/auth/logout")
    again = anon.post("/login", data={"username": "statutory", "password": PASSWORD})
    assert again.headers["location"] == "/login/code"


def test_the_api_refuses_a_role_that_must_set_one_up_first(required_for_statutory, anon):
    refused = anon.post("/api/auth/login", json={"username": "statutory", "password": PASSWORD})
    assert refused.status_code == 401 and refused.json()["title"] == "Second factor needed"
    assert anon.get("/api/auth/me").status_code == 401
    other = anon.post("/api/auth/login", json={"username": "traded", "password": PASSWORD})
    assert other.status_code == 200


def test_an_administrator_resets_a_lost_second_factor(client_as, anon, db, clock):
    enrol(client_as("traded"), db, clock, "traded")
    user_id = db.world.users["traded"]
    admin = client_as("admin")
    admin.follow_redirects = False
    assert "Reset second factor" in admin.get(f"/admin/users/{user_id}", headers=HTML).text
    reset = admin.post(f"/admin/users/{user_id}/second-factor-reset")
    assert reset.status_code == 303
    assert secret_of(db, "traded") is None
    signed_in = anon.post("/api/auth/login", json={"username": "traded", "password": PASSWORD})
    assert signed_in.status_code == 200


def test_a_code_is_accepted_once(client_as, anon, db, clock):
    secret = enrol(client_as("traded"), db, clock, "traded")
    body = {"username": "traded", "password": PASSWORD, "code": code(secret, clock)}
    assert anon.post("/api/auth/login", json=body).status_code == 200
    anon.post("/api/auth/logout")
    replayed = anon.post("/api/auth/login", json=body)
    assert replayed.status_code == 401
    assert replayed.json()["detail"] == (
        "that code has been used already: wait for your app to show a new one"
    )
    # Not a wrong guess: it does not count towards the lock.
    with db.factory() as session:
        assert session.get(User, db.world.users["traded"]).failed_sign_ins == 0
    clock.set(clock.now() + timedelta(seconds=30))
    fresh = {**body, "code": code(secret, clock)}
    assert anon.post("/api/auth/login", json=fresh).status_code == 200
