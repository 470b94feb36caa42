"""Sessions: made anew at every sign-in, ended by idle and absolute timeouts, by signing out and
by a password change; cookies HttpOnly, SameSite=Lax and Secure behind TLS; hashes upgraded."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from api.app import create_app
from casework.models import AuditEntry, User
from casework.passwords import needs_rehash, verify_password
from config.settings import Settings
from tests.support.csrf import csrf_client
from tests.support.world import PASSWORD

NEW_PASSWORD = "walrus lantern quietly"


@pytest.fixture
def anon(app):
    with csrf_client(app) as client:
        client.follow_redirects = False
        yield client


def sign_in(client, username, password=PASSWORD):
    return client.post("/api/auth/login", json={"username": username, "password": password})


def me(client) -> int:
    return client.get("/api/auth/me").status_code


def test_signing_in_replaces_the_session_the_browser_had(anon):
    assert sign_in(anon, "traded").status_code == 200
    before = anon.cookies["casework_session"]
    assert sign_in(anon, "oak_lead").status_code == 200
    after = anon.cookies["casework_session"]
    assert after != before
    assert anon.get("/api/auth/me").json()["username"] == "oak_lead"
    # A cookie planted before sign-in (here: someone else's session) is not the signed-in one.
    anon.cookies.set("casework_session", before)
    assert anon.get("/api/auth/me").json()["username"] == "traded"


def test_signing_in_through_the_page_replaces_the_session_too(anon):
    assert sign_in(anon, "traded").status_code == 200
    before = anon.cookies["casework_session"]
    page = anon.post("/login", data={"username": "oak_lead", "password": PASSWORD})
    assert page.status_code == 303
    assert anon.cookies["casework_session"] != before


@pytest.mark.session_timeouts
def test_a_session_left_unused_for_30_minutes_ends(client_as, clock):
    client = client_as("traded")
    start = clock.now()
    # Used every 29 minutes, it lasts (each use counts as being seen).
    for step in range(1, 4):
        clock.set(start + timedelta(minutes=29 * step))
        assert me(client) == 200
    clock.set(start + timedelta(minutes=29 * 3 + 31))
    assert me(client) == 401


@pytest.mark.session_timeouts
def test_a_session_ends_10_hours_after_sign_in_however_busy(client_as, clock):
    client = client_as("traded")
    start = clock.now()
    for minutes in range(20, 600, 20):
        clock.set(start + timedelta(minutes=minutes))
        assert me(client) == 200, minutes
    clock.set(start + timedelta(hours=10, minutes=1))
    assert me(client) == 401


def test_signing_in_and_out_are_in_the_audit_log_and_out_ends_the_session(client_as, db):
    client = client_as("traded")
    assert client.post("/api/auth/logout").status_code == 204
    assert me(client) == 401
    with db.factory() as session:
        kept = session.execute(
            select(AuditEntry.action, AuditEntry.outcome, AuditEntry.route)
            .where(AuditEntry.actor_id == db.world.users["traded"])
            .order_by(AuditEntry.id)
        ).all()
    assert [tuple(row) for row in kept] == [
        ("sign_in", "ok", "POST /api/auth/login"),
        ("sign_out", "ok", "POST /api/auth/logout"),
    ]


def test_changing_the_password_ends_every_other_session(client_as, anon, clock, db):
    here, elsewhere = client_as("oak_lead"), client_as("oak_lead")
    here.follow_redirects = False
    clock.set(clock.now() + timedelta(seconds=5))
    changed = here.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 303 and changed.headers["location"] == "/account?changed=true"
    assert "Your password has been changed" in here.get("/account?changed=true").text
    assert me(here) == 200
    assert me(elsewhere) == 401
    assert sign_in(anon, "oak_lead").status_code == 401
    assert sign_in(anon, "oak_lead", NEW_PASSWORD).status_code == 200
    with db.factory() as session:
        assert session.get(User, db.world.users["oak_lead"]).password_changed_at == clock.now()


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        (
            {"current_password": "not-it", "new_password": NEW_PASSWORD},
            "current_password",
            "Your current password is not right",
        ),
        (
            {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": "x"},
            "confirm_password",
            "The new passwords do not match",
        ),
        (
            {"current_password": PASSWORD, "new_password": "password2024!"},
            "new_password",
            "Your new password is a common password with numbers or symbols added",
        ),
        (
            {"current_password": PASSWORD, "new_password": "short one"},
            "new_password",
            "Your new password must be at least 12 characters long",
        ),
        (
            {"current_password": PASSWORD, "new_password": PASSWORD},
            "new_password",
            "Your new password must differ from the current one",
        ),
    ],
)
def test_a_refused_password_change_says_why_and_changes_nothing(
    client_as, db, form, field, message
):
    client = client_as("oak_lead")
    form = {"confirm_password": form["new_password"], **form}
    if "confirm" in form:
        form["confirm_password"] = form.pop("confirm")
    refused = client.post("/account/password", data=form)
    assert refused.status_code == 400
    assert "There is a problem" in refused.text and message in refused.text
    assert f'href="#{field}"' in refused.text
    assert form["new_password"] not in refused.text
    with db.factory() as session:
        user = session.get(User, db.world.users["oak_lead"])
        assert verify_password(user.password_hash, PASSWORD)
        assert user.password_changed_at is None
    assert me(client) == 200


def test_session_cookie_is_httponly_samesite_lax_and_secure_behind_tls(db, clock, tmp_path):
    for secure in (False, True):
        settings = Settings(
            database_url=db.url, var_dir=tmp_path, session_secret=b"s", secure_cookies=secure
        )
        app = create_app(settings, engine=db.engine, clock=clock, migrate=False)
        with csrf_client(app, base_url="https://testserver.local") as client:
            answer = sign_in(client, "traded")
            assert answer.status_code == 200
            cookie = next(
                c for c in answer.headers.get_list("set-cookie") if "casework_session=" in c
            )
            attributes = {part.strip().lower() for part in cookie.split(";")}
            assert "httponly" in attributes and "samesite=lax" in attributes
            assert ("secure" in attributes) is secure


def test_a_hash_made_with_old_parameters_is_upgraded_at_sign_in(anon, db):
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    user_id = db.world.users["oak_lead"]
    with db.factory() as session:
        session.get(User, user_id).password_hash = weak
        session.commit()
    assert needs_rehash(weak)
    assert sign_in(anon, "oak_lead").status_code == 200
    with db.factory() as session:
        stored = session.get(User, user_id).password_hash
    assert stored != weak and not needs_rehash(stored) and verify_password(stored, PASSWORD)


SIGN_IN_VARIABLES = {
    "CASEWORK_SESSION_IDLE": "session_idle_seconds",
    "CASEWORK_SESSION_MAX_AGE": "session_max_age_seconds",
    "CASEWORK_SIGN_IN_MAX_FAILURES": "sign_in_max_failures",
    "CASEWORK_SIGN_IN_ADDRESS_FAILURES": "sign_in_address_failures",
    "CASEWORK_SIGN_IN_WINDOW": "sign_in_window_seconds",
}


@pytest.fixture
def environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CASEWORK_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CASEWORK_SESSION_SECRET", "s" * 40)
    for variable in SIGN_IN_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    return monkeypatch


def test_the_limits_default_to_30_minutes_10_hours_5_failures_and_20_in_15_minutes(environment):
    settings = Settings.from_env()
    assert (settings.session_idle_seconds, settings.session_max_age_seconds) == (1800, 36000)
    assert (settings.sign_in_max_failures, settings.sign_in_address_failures) == (5, 20)
    assert settings.sign_in_window_seconds == 900


@pytest.mark.parametrize(("variable", "name"), list(SIGN_IN_VARIABLES.items()))
def test_each_limit_is_set_by_its_variable_and_nonsense_is_refused(environment, variable, name):
    environment.setenv(variable, "7")
    assert getattr(Settings.from_env(), name) == 7
    for bad in ("0", "ten", "-3"):
        environment.setenv(variable, bad)
        with pytest.raises(ValueError, match=rf"{variable}='?{bad}'? is refused: give a whole"):
            Settings.from_env()
