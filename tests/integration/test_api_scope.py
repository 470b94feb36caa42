"""Each role sees only its scope through the API; anything outside it is 404, never 403."""

from __future__ import annotations

import pytest

from workflows.cases import OpenCase, open_case
from workflows.responsibility import MakeReferral, refer

# Which of the world's pupils each user may see: (oakfield, riverside, hillcrest).
PUPIL_SCOPE = {
    "oak_lead": (True, False, False),
    "river_lead": (False, True, False),
    "hill_lead": (False, False, True),
    "traded": (True, True, False),
    "traded_two": (False, False, True),
    "statutory": (False, False, False),
    "manager": (True, True, True),
    "admin": (False, False, False),
}


def _open_cases(context, world) -> dict[str, int]:
    opened = {}
    for lead, pupil, school in (
        ("oak_lead", world.pupil_oak, world.oakfield),
        ("river_lead", world.pupil_river, world.riverside),
        ("hill_lead", world.pupil_hill, world.hillcrest),
    ):
        ctx = context(lead)
        opened[lead] = open_case(ctx, OpenCase(pupil, school, reason="attendance below 95%")).id
        ctx.commit()
    return opened


@pytest.mark.parametrize("username", sorted(PUPIL_SCOPE))
def test_pupils_and_cases_outside_scope_are_not_found(username, client_as, context, db):
    world = db.world
    cases = _open_cases(context, world)
    client = client_as(username)
    pupils = (world.pupil_oak, world.pupil_river, world.pupil_hill)
    case_ids = (cases["oak_lead"], cases["river_lead"], cases["hill_lead"])
    for visible, pupil_id, case_id in zip(PUPIL_SCOPE[username], pupils, case_ids, strict=True):
        expected = 200 if visible else 404
        assert client.get(f"/api/pupils/{pupil_id}").status_code == expected
        assert client.get(f"/api/cases/{case_id}").status_code == expected
        assert client.get(f"/api/cases/{case_id}/events").status_code == expected
        assert client.get(f"/api/cases/{case_id}/actions").status_code == expected
        refused = client.post(
            f"/api/cases/{case_id}/transitions",
            json={"trigger": "advance_to_listen_and_understand", "expected_version": 99},
        )
        assert refused.status_code in ((409, 403) if visible else (404,))
    listed = client.get("/api/cases").json()
    assert listed["total"] == sum(PUPIL_SCOPE[username])
    pupil_list = client.get("/api/pupils").json()
    assert pupil_list["total"] == sum(PUPIL_SCOPE[username])


def test_a_404_does_not_say_whether_the_record_exists(client_as, context, db):
    cases = _open_cases(context, db.world)
    client = client_as("oak_lead")
    hidden = client.get(f"/api/cases/{cases['hill_lead']}")
    missing = client.get("/api/cases/999999")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["title"] == missing.json()["title"]
    assert "Brook" not in hidden.text


def test_statutory_officers_see_a_case_once_it_is_referred_to_them(client_as, context, db):
    world = db.world
    cases = _open_cases(context, world)
    client = client_as("statutory")
    case_id = cases["hill_lead"]
    assert client.get(f"/api/cases/{case_id}").status_code == 404
    ctx = context("hill_lead")
    refer(
        ctx,
        case_id,
        MakeReferral(
            to_team="statutory",
            reason="no improvement after school action",
            content={
                "actions_taken": "calls and letters",
                "attendance_data": "88.2% this year",
                "support_offered": "school nurse, mentor",
            },
        ),
    )
    ctx.commit()
    assert client.get(f"/api/cases/{case_id}").status_code == 200
    assert client.get(f"/api/pupils/{world.pupil_hill}").status_code == 200
    # ...but still not the other schools' cases.
    assert client.get(f"/api/cases/{cases['oak_lead']}").status_code == 404


def test_traded_officer_sees_siblings_across_the_schools_served(client_as, db):
    world = db.world
    pupil = client_as("traded").get(f"/api/pupils/{world.pupil_oak}").json()
    assert [s["id"] for s in pupil["siblings"]] == [world.pupil_river]
    # The school sees its own pupil's family contacts but not the sibling at another school.
    own = client_as("oak_lead").get(f"/api/pupils/{world.pupil_oak}").json()
    assert own["siblings"] == []
    assert {c["name"] for c in own["contacts"]} == {"Ms Dana Ashdown", "Mr Evan Ashdown"}
    assert all(c["parental_responsibility"] for c in own["contacts"])


def test_admins_manage_users_but_cannot_open_cases(client_as, db):
    world = db.world
    admin = client_as("admin")
    made = admin.post(
        "/api/users",
        json={
            "username": "new.lead",
            "full_name": "Nia Example",
            "position": "Attendance lead",
            "email": "nia@example.org",
            "role": "school_staff",
            "password": "a-long-passphrase",
            "school_ids": [world.oakfield],
        },
    )
    assert made.status_code == 201, made.text
    refused = admin.post(
        "/api/cases",
        json={"pupil_id": world.pupil_oak, "school_id": world.oakfield, "reason": "test"},
    )
    # Refused for the role, before any record is looked up, so it says nothing about the pupil.
    assert refused.status_code == 403
    assert (
        client_as("manager")
        .post(
            "/api/users",
            json={
                "username": "other",
                "full_name": "O",
                "position": "P",
                "email": "o@example.org",
                "role": "la_manager",
                "password": "a-long-passphrase",
            },
        )
        .status_code
        == 403
    )


def test_signing_in_is_required_and_wrong_passwords_are_refused(app, db):
    from tests.support.csrf import csrf_client

    with csrf_client(app) as client:
        assert client.get("/api/cases").status_code == 401
        wrong = client.post("/api/auth/login", json={"username": "oak_lead", "password": "nope"})
        assert wrong.status_code == 401
        assert client.get("/api/cases").status_code == 401
        unknown = client.post("/api/auth/login", json={"username": "ghost", "password": "nope"})
        assert unknown.json()["detail"] == wrong.json()["detail"]
