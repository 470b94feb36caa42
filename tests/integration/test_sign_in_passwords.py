"""The password policy where passwords are set: an administrator adding a user (API and page).
Each refusal names the field and the rule, never the password, and adds nobody."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from casework.models import User

HTML = {"Accept": "text/html,application/xhtml+xml"}


def new_user(password: str) -> dict:
    return {
        "username": "new_officer",
        "full_name": "New Officer",
        "position": "Statutory attendance officer",
        "email": "new.officer@example.org",
        "role": "statutory_officer",
        "password": password,
    }


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("iloveyou1234", "is a common password with numbers or symbols added"),
        ("1q2w3e4r5t6y", "is one of the most common passwords"),
        ("new_officer-2024", "must not contain your username"),
        ("aaaaaaaaaaaaaaaa", "repeats characters"),
    ],
)
def test_the_api_refuses_a_weak_password_for_a_new_user(client_as, db, password, rule):
    refused = client_as("admin").post("/api/users/", json=new_user(password))
    assert refused.status_code == 422
    errors = refused.json()["errors"]
    assert [(e["field"], e["value"]) for e in errors] == [("password", "(hidden)")]
    assert errors[0]["rule"].startswith(rule)
    assert password not in refused.text
    with db.factory() as session:
        assert session.scalar(select(User.id).where(User.username == "new_officer")) is None


def test_the_admin_page_says_why_a_password_is_refused(client_as, db):
    refused = client_as("admin").post("/admin/users", data=new_user("Password2024!"))
    assert refused.status_code == 422
    assert "There is a problem" in refused.text
    assert "Password: is a common password with numbers or symbols added" in refused.text
    assert "Password2024!" not in refused.text
    with db.factory() as session:
        assert session.scalar(select(User.id).where(User.username == "new_officer")) is None


def test_a_long_passphrase_is_accepted(client_as):
    added = client_as("admin").post("/api/users/", json=new_user("walrus lantern quietly"))
    assert added.status_code in (200, 201), added.text
