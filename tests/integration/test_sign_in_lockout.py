"""Sign-in abuse: wrong passwords lock an account until an administrator unlocks it, one address
guessing many accounts is throttled, and an unknown username is answered as an account is."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from casework.models import AuditEntry, SignInAttempt, User
from tests.support.csrf import csrf_client
from tests.support.world import PASSWORD

HTML = {"Accept": "text/html,application/xhtml+xml"}
LOCKED = (
    "Your account is locked after too many failed sign-ins. Ask your administrator to unlock it."
)


@pytest.fixture
def anon(app):
    with csrf_client(app) as client:
        client.follow_redirects = False
        yield client


def login(client, username, password="not-the-password"):
    return client.post("/api/auth/login", json={"username": username, "password": password})


def answers(client, username, times):
    """(status, title, detail) for each of ``times`` wrong passwords."""
    said = []
    for _ in range(times):
        response = login(client, username)
        body = response.json()
        said.append((response.status_code, body["title"], body["detail"]))
    return said


# The answer to each of six wrong passwords in a row (five allowed, then locked).
EXPECTED = [
    (401, "Sign-in failed", "the username or password is not right"),
    (401, "Sign-in failed", "the username or password is not right"),
    (
        401,
        "Sign-in failed",
        "the username or password is not right; you have 2 more tries before your account "
        "is locked",
    ),
    (
        401,
        "Sign-in failed",
        "the username or password is not right; you have 1 more try before your account is locked",
    ),
    (401, "Account locked", LOCKED),
    (401, "Account locked", LOCKED),
]


def test_five_wrong_passwords_lock_the_account_and_the_right_one_then_fails(anon, db):
    assert answers(anon, "statutory", 6) == EXPECTED
    refused = login(anon, "statutory", PASSWORD)
    assert (refused.status_code, refused.json()["title"]) == (401, "Account locked")
    assert "casework_session" not in anon.cookies
    with db.factory() as session:
        user = session.get(User, db.world.users["statutory"])
        assert user.locked_at is not None and user.failed_sign_ins == 5
        tried = session.scalars(
            select(SignInAttempt.reason)
            .where(SignInAttempt.username == "statutory")
            .order_by(SignInAttempt.id)
        ).all()
    assert tried == ["bad_password"] * 5 + ["locked"] * 2


def test_an_unknown_username_gets_the_same_answers_as_a_real_account(anon):
    assert answers(anon, "no-such-person", 6) == EXPECTED


def test_a_successful_sign_in_starts_the_count_again(anon, db):
    answers(anon, "statutory", 4)
    assert login(anon, "statutory", PASSWORD).status_code == 200
    assert [status for status, *_ in answers(anon, "statutory", 4)] == [401] * 4
    with db.factory() as session:
        user = session.get(User, db.world.users["statutory"])
        assert user.locked_at is None and user.failed_sign_ins == 4


def test_locking_ends_the_sessions_the_account_already_had(app, anon, client_as, clock):
    signed_in = client_as("statutory")
    assert signed_in.get("/api/auth/me").status_code == 200
    clock.set(clock.now() + timedelta(seconds=5))
    answers(anon, "statutory", 5)
    assert signed_in.get("/api/auth/me").status_code == 401


def test_an_administrator_unlocks_the_account_from_its_page(anon, client_as, db):
    answers(anon, "statutory", 5)
    user_id = db.world.users["statutory"]
    admin = client_as("admin")
    admin.follow_redirects = False
    page = admin.get(f"/admin/users/{user_id}", headers=HTML)
    assert "Locked" in page.text and "Unlock account" in page.text
    unlocked = admin.post(f"/admin/users/{user_id}/unlock")
    assert unlocked.status_code == 303
    assert unlocked.headers["location"] == f"/admin/users/{user_id}?done=unlocked"
    assert "The account is unlocked" in admin.get(unlocked.headers["location"], headers=HTML).text
    assert login(anon, "statutory", PASSWORD).status_code == 200
    with db.factory() as session:
        user = session.get(User, user_id)
        assert user.locked_at is None and user.failed_sign_ins == 0
        kept = session.scalars(
            select(AuditEntry).where(
                AuditEntry.outcome == "unlocked", AuditEntry.record_id == str(user_id)
            )
        ).one()
        assert kept.actor_id == db.world.users["admin"]


def test_the_unlock_endpoint_is_for_administrators_only(anon, client_as, db):
    answers(anon, "oak_lead", 5)
    user_id = db.world.users["oak_lead"]
    assert client_as("manager").post(f"/api/users/{user_id}/unlock").status_code == 403
    assert login(anon, "oak_lead", PASSWORD).status_code == 401
    unlocked = client_as("admin").post(f"/api/users/{user_id}/unlock")
    assert unlocked.status_code == 200 and unlocked.json()["username"] == "oak_lead"
    assert login(anon, "oak_lead", PASSWORD).status_code == 200


def test_an_address_guessing_many_accounts_is_refused_for_the_rest_of_the_window(anon, clock):
    # 20 failures from one address, each at a different (unknown) account, a minute apart.
    start = clock.now()
    for n in range(20):
        clock.set(start + timedelta(minutes=n % 10, seconds=n))
        assert login(anon, f"guess-{n}").status_code == 401
    clock.set(start + timedelta(minutes=10))
    refused = login(anon, "oak_lead", PASSWORD)
    assert refused.status_code == 429
    assert refused.json()["detail"].endswith("Try again later.")
    # The oldest failure (at start) leaves the 15-minute window 5 minutes from now.
    assert 295 <= int(refused.headers["retry-after"]) <= 301
    page = anon.post("/login", data={"username": "oak_lead", "password": PASSWORD})
    assert page.status_code == 429 and "Try again later" in page.text
    assert page.headers["retry-after"] == refused.headers["retry-after"]
    assert "casework_session" not in anon.cookies
    clock.set(start + timedelta(minutes=15, seconds=1))
    assert login(anon, "oak_lead", PASSWORD).status_code == 200


def test_the_sign_in_page_warns_then_says_the_account_is_locked(anon):
    said = []
    for _ in range(5):
        page = anon.post("/login", data={"username": "traded", "password": "not-the-password"})
        assert page.status_code == 401
        said.append(page.text)
    assert "The username or password is not right" in said[0]
    assert "before your account is locked" not in said[1]
    assert "You have 2 more tries before your account is locked" in said[2]
    assert "You have 1 more try before your account is locked" in said[3]
    assert "Your account is locked after too many failed sign-ins" in said[4]
    assert "There is a problem" in said[4]
