"""Server errors the security suites found, each pinned by the request that caused it (SQLite and
PostgreSQL), and the ones found by review that are still open (expected failures)."""

from __future__ import annotations

import pytest

from tests.security.world import build_security_world, make_app, sign_in

HUGE = 24877937062217744788750336  # beyond any record id the database can hold


@pytest.mark.parametrize(
    "path",
    [
        f"/api/cases/{HUGE}",
        f"/api/pupils/{HUGE}",
        f"/api/audit/pupils/{HUGE}",  # the audit entry of the refusal could not be written
        f"/cases/{HUGE}",
    ],
)
def test_an_id_too_large_for_any_record_is_not_found(path, client_as):
    response = client_as("manager").get(path)
    assert response.status_code == 404


def test_an_id_too_large_in_a_query_is_refused_as_invalid(client_as):
    response = client_as("manager").get("/api/cases", params={"school_id": HUGE})
    assert response.status_code == 400


def test_a_digit_that_is_not_ascii_is_not_a_record_number(db, client_as):
    # "³" is a digit to str.isdigit() but not to int().
    response = client_as("manager").get(
        f"/api/pupils/{db.world.pupil_oak}/attendance-certificate", params={"school_id": "³"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "school_id"


# Page forms read numbers with str.isdigit(), which takes "³" (int() does not), and numbers too
# large for the database: each answered 500. They now go through api.pages.common.is_number.
PAGE_NUMBERS = [
    ("POST", "/proposals/1/accept", {"expected_version": "³", "reason": "x"}),
    ("POST", "/cases/1/handover", {"to_user_id": "³", "reason": "x"}),
    ("POST", "/cases/1/handover", {"to_user_id": str(HUGE), "reason": "x"}),
    ("GET", "/penalty-notices/register?school=³", None),
]


@pytest.mark.parametrize(("method", "path", "form"), PAGE_NUMBERS)
def test_page_forms_refuse_numbers_they_cannot_use(method, path, form, tmp_path):
    world = build_security_world(f"sqlite:///{tmp_path}/pages.db")
    try:
        client = sign_in(make_app(world, tmp_path), "manager")
        response = client.request(method, path, data=form, follow_redirects=False)
    finally:
        world.engine.dispose()
    assert response.status_code < 500
