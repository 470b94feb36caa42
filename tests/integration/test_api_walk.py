"""A case walked from Expect to Enforce through the API alone, as its users would.

Every step is first tried too early and must be refused with the evidence it lacks; at the end
the case's events tell the whole story. Dates are on the Knowsley profile and Knowsley's
published 2024/25 term dates (the world's schools have no calendar changes of their own).
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest


def at(clock, day: date) -> None:
    clock.set(datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC))


def move(client, case_id: int, trigger: str, **body):
    version = client.get(f"/api/cases/{case_id}").json()["case"]["version"]
    return client.post(
        f"/api/cases/{case_id}/transitions",
        json={"trigger": trigger, "expected_version": version, **body},
    )


def refused_guards(response) -> set[str]:
    assert response.status_code == 409, response.text
    return {u["guard"] for u in response.json()["unmet"]}


def record(client, case_id: int, kind: str, on: date, **fields):
    response = client.post(
        f"/api/cases/{case_id}/interventions",
        json={"kind": kind, "occurred_on": on.isoformat(), "summary": f"{kind} on {on}", **fields},
    )
    assert response.status_code == 201, response.text
    return response.json()


def unauthorised_sessions(first: date, count: int) -> list[dict]:
    """``count`` O sessions on consecutive weekdays from ``first`` (AM and PM)."""
    sessions, day = [], first
    while len(sessions) < count:
        if day.weekday() < 5:
            for half in ("AM", "PM"):
                if len(sessions) < count:
                    sessions.append({"date": day.isoformat(), "session": half, "code": "O"})
        day += timedelta(days=1)
    return sessions


def test_a_case_walks_from_expect_to_enforce_and_the_events_tell_the_story(client_as, clock, db):
    world = db.world
    school, traded, statutory, manager = (
        client_as("oak_lead"),
        client_as("traded"),
        client_as("statutory"),
        client_as("manager"),
    )
    at(clock, date(2024, 9, 9))
    opened = school.post(
        "/api/cases",
        json={
            "pupil_id": world.pupil_oak,
            "school_id": world.oakfield,
            "stage": "expect",
            "reason": "attendance 93.1% after the first week",
        },
    )
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case"]["id"]
    assert opened.json()["case"]["level"] == 1

    assert move(school, case_id, "advance_to_monitor").status_code == 201
    assert move(school, case_id, "advance_to_listen_and_understand").status_code == 201

    # Level 2 too early: nothing recorded yet.
    assert refused_guards(move(school, case_id, "advance_to_facilitate_support")) == {
        "level_1_school_actions",
        "early_help",
        "school_action_period",
    }
    at(clock, date(2024, 9, 20))
    record(school, case_id, "phone_call", date(2024, 9, 10), family_engaged="engaged")
    record(school, case_id, "letter", date(2024, 9, 12))
    assert refused_guards(move(school, case_id, "advance_to_facilitate_support")) == {
        "early_help",
        "school_action_period",
    }
    record(
        school,
        case_id,
        "early_help_assessment",
        date(2024, 9, 20),
        outcome="completed",
        family_engaged="engaged",
    )
    # Appendix C: 6 school weeks of school action from Tue 10 Sep 2024 (Knowsley 2024/25): weeks
    # of 16 Sep (1), 23 Sep, 30 Sep, 7 Oct, 14 Oct, 21 Oct (6): Tue 22 Oct 2024, the last week
    # before October half term (28 Oct - 1 Nov), so nothing is skipped.
    at(clock, date(2024, 10, 21))
    refusal = move(school, case_id, "advance_to_facilitate_support")
    assert refused_guards(refusal) == {"school_action_period"}
    assert "22 October 2024" in refusal.json()["detail"]

    # The school buys the traded service: it refers, the traded officer accepts.
    at(clock, date(2024, 10, 22))
    referral = school.post(
        f"/api/cases/{case_id}/referrals",
        json={"to_team": "traded", "reason": "Level 1 actions have not improved attendance"},
    )
    assert referral.status_code == 201, referral.text
    assert traded.post(f"/api/referrals/{referral.json()['id']}/accept", json={}).status_code == 201
    assert move(traded, case_id, "advance_to_facilitate_support").status_code == 201

    # Formalise needs support that was not engaged with or did not work.
    assert refused_guards(move(traded, case_id, "advance_to_formalise_support")) == {
        "support_did_not_work"
    }
    at(clock, date(2024, 10, 23))
    aim = record(
        traded,
        case_id,
        "attendance_improvement_meeting",
        date(2024, 10, 23),
        family_engaged="engaged",
        attendees=["Parent", "Attendance lead"],
        details={"action_plan": "walking bus; morning check-in"},
    )
    at(clock, date(2024, 11, 13))
    outcome = traded.post(
        f"/api/cases/{case_id}/interventions/{aim['id']}/outcome",
        json={"outcome": "not_improved", "note": "3-week review: attendance fell to 86%"},
    )
    assert outcome.status_code == 201, outcome.text
    assert move(traded, case_id, "advance_to_formalise_support").status_code == 201
    assert client_as("traded").get(f"/api/cases/{case_id}").json()["case"]["level"] == 3

    referral = traded.post(
        f"/api/cases/{case_id}/referrals",
        json={"to_team": "statutory", "reason": "AIM actions have not worked within the half term"},
    )
    assert referral.status_code == 201, referral.text
    assert (
        statutory.post(
            f"/api/referrals/{referral.json()['id']}/accept", json={"reason": "taken on"}
        ).status_code
        == 201
    )

    # Notice to Improve: 9 sessions is below the national threshold; 10 meets it.
    at(clock, date(2024, 11, 20))
    # Mon 28 Oct - Fri 1 Nov 2024 is Knowsley's October half term (no sessions, so none can be
    # listed): the 10 sessions are AM and PM of Mon 4 - Fri 8 Nov, the first school week after.
    sessions = unauthorised_sessions(date(2024, 11, 4), 10)
    too_few = move(
        statutory,
        case_id,
        "issue_notice_to_improve",
        sessions=sessions[:9],
        reason="final opportunity to engage",
    )
    assert refused_guards(too_few) == {"threshold_met"}
    issued = move(
        statutory,
        case_id,
        "issue_notice_to_improve",
        sessions=sessions,
        reason="final opportunity to engage",
    )
    assert issued.status_code == 201, issued.text

    # Enforce too early: no contract, the notice still running, no manager approval.
    early = move(statutory, case_id, "advance_to_enforce", reason="no improvement")
    assert refused_guards(early) == {
        "attendance_contract",
        "notice_to_improve_expired",
        "supervisor_approval",
    }
    # 6 school weeks after Wed 20 Nov 2024: weeks of 25 Nov (1), 2 Dec (2), 9 Dec (3),
    # 16 Dec (4); the weeks of 23 and 30 Dec are the Christmas holiday (the autumn term ends
    # Fri 20 Dec, spring starts Mon 6 Jan) and are skipped; 6 Jan (5), 13 Jan (6): Wed 15 Jan.
    assert "runs until 15 January 2025" in early.json()["detail"]
    # The traded officer still sees the case (their school's) but legal action is not theirs.
    assert move(traded, case_id, "advance_to_enforce").status_code == 403

    at(clock, date(2024, 11, 21))
    record(
        statutory,
        case_id,
        "attendance_contract",
        date(2024, 11, 21),
        family_engaged="not_engaged",
        outcome="not_improved",
    )
    # The notice runs until Wed 15 Jan 2025 (above): its outcome is recorded that day.
    at(clock, date(2025, 1, 15))
    notice = next(
        i
        for i in statutory.get(f"/api/cases/{case_id}/interventions").json()
        if i["kind"] == "notice_to_improve"
    )
    assert (
        statutory.post(
            f"/api/cases/{case_id}/interventions/{notice['id']}/outcome",
            json={"outcome": "not_improved", "note": "4 more unauthorised sessions in the period"},
        ).status_code
        == 201
    )
    assert refused_guards(move(statutory, case_id, "advance_to_enforce", reason="x")) == {
        "supervisor_approval"
    }
    approval = statutory.post(
        f"/api/cases/{case_id}/approvals",
        json={"target_stage": "enforce", "reason": "support exhausted; notice expired"},
    )
    assert approval.status_code == 201, approval.text
    assert (
        manager.post(
            f"/api/approvals/{approval.json()['id']}/decision",
            json={"approve": True, "reason": "file reviewed: evidential test met"},
        ).status_code
        == 201
    )
    enforced = move(statutory, case_id, "advance_to_enforce", reason="legal intervention")
    assert enforced.status_code == 201, enforced.text
    assert enforced.json()["case"]["level"] == 4

    # Before prosecution the LA must consider an education supervision order (s447).
    assert refused_guards(move(statutory, case_id, "start_prosecution", reason="lay info")) == {
        "eso_considered"
    }
    at(clock, date(2025, 1, 16))  # the next school day, Thu 16 Jan 2025
    record(
        statutory,
        case_id,
        "education_supervision_order_consideration",
        date(2025, 1, 16),
        summary="ESO considered: not appropriate, parent refuses all engagement",
    )
    assert (
        move(statutory, case_id, "start_prosecution", reason="lay information").status_code == 201
    )

    events = statutory.get(f"/api/cases/{case_id}/events").json()
    assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))
    story = [(e["kind"], e["to_stage"]) for e in events if e["kind"] != "intervention_recorded"]
    assert story == [
        ("opened", "expect"),
        ("stage_changed", "monitor"),
        ("stage_changed", "listen_and_understand"),
        ("referred", None),
        ("referral_accepted", None),
        ("stage_changed", "facilitate_support"),
        ("stage_changed", "formalise_support"),
        ("referred", None),
        ("referral_accepted", None),
        ("notice_to_improve_issued", None),
        # One Notice to Improve letter to each parent with parental responsibility.
        ("letter_sent", None),
        ("letter_sent", None),
        ("approval_requested", None),
        ("approval_decided", None),
        ("stage_changed", "enforce"),
        ("prosecution_started", None),
    ]
    assert all(e["actor_name"] and e["actor_position"] for e in events)
    holders = statutory.get(f"/api/cases/{case_id}").json()["responsibility"]
    assert [h["team"] for h in holders] == ["school", "traded", "statutory"]
    assert holders[0]["until"] is not None and holders[-1]["until"] is None


def test_a_stale_version_is_refused_and_changes_nothing(client_as, db):
    client = client_as("oak_lead")
    case = client.post(
        "/api/cases",
        json={
            "pupil_id": db.world.pupil_oak,
            "school_id": db.world.oakfield,
            "reason": "below 95%",
        },
    ).json()["case"]
    stale = client.post(
        f"/api/cases/{case['id']}/transitions",
        json={
            "trigger": "advance_to_listen_and_understand",
            "expected_version": case["version"] + 5,
        },
    )
    assert stale.status_code == 409
    assert "reload" in stale.json()["detail"]
    assert client.get(f"/api/cases/{case['id']}").json()["case"]["stage"] == "monitor"


@pytest.mark.parametrize("attempt", range(3))
def test_two_concurrent_moves_of_one_case_give_one_success_and_one_conflict(attempt, client_as, db):
    first, second = client_as("oak_lead"), client_as("oak_head")
    case = first.post(
        "/api/cases",
        json={
            "pupil_id": db.world.pupil_oak,
            "school_id": db.world.oakfield,
            "reason": "below 95%",
        },
    ).json()["case"]
    events_before = len(first.get(f"/api/cases/{case['id']}/events").json())
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def fire(client, trigger):
        barrier.wait()
        response = client.post(
            f"/api/cases/{case['id']}/transitions",
            json={"trigger": trigger, "expected_version": case["version"], "reason": "concurrent"},
        )
        statuses.append(response.status_code)

    threads = [
        threading.Thread(target=fire, args=(first, "advance_to_listen_and_understand")),
        threading.Thread(target=fire, args=(second, "step_down_to_expect")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(statuses) == [201, 409]
    events = first.get(f"/api/cases/{case['id']}/events").json()
    assert len(events) == events_before + 1


def test_bad_input_names_the_field_the_value_and_the_rule(client_as, db):
    client = client_as("oak_lead")
    case = client.post(
        "/api/cases",
        json={
            "pupil_id": db.world.pupil_oak,
            "school_id": db.world.oakfield,
            "reason": "below 95%",
        },
    ).json()["case"]
    malformed = client.post(
        f"/api/cases/{case['id']}/transitions",
        json={"trigger": "advance_to_listen_and_understand", "expected_version": "latest"},
    )
    assert malformed.status_code == 400
    assert malformed.json()["errors"][0]["field"] == "expected_version"
    assert malformed.json()["errors"][0]["value"] == "latest"

    wrong = client.post(
        f"/api/cases/{case['id']}/transitions",
        json={
            "trigger": "issue_notice_to_improve",
            "expected_version": case["version"],
            "sessions": [{"date": "2024-11-18", "session": "AM", "code": "I"}],
            "rationales": {"outcome_given": "x"},
        },
    )
    assert wrong.status_code == 422
    errors = {e["field"]: e for e in wrong.json()["errors"]}
    assert errors["sessions[0].code"]["value"] == "I"
    assert "unauthorised" in errors["sessions[0].code"]["rule"]
    assert "cannot be set aside" in errors["rationales.outcome_given"]["rule"]
    after = client.get(f"/api/cases/{case['id']}").json()["case"]
    assert after["version"] == case["version"] and after["stage"] == "monitor"

    bad_upn = client.post(
        "/api/pupils",
        json={
            "upn": "A801200005001",
            "legal_forename": "Test",
            "legal_surname": "Pupil",
            "date_of_birth": "2016-05-01",
            "sex": "F",
            "nc_year": 3,
            "school_id": db.world.oakfield,
            "start_date": "2020-09-01",
        },
    )
    assert bad_upn.status_code == 422
    problem = bad_upn.json()["errors"][0]
    assert problem["field"] == "upn" and problem["value"] == "A801200005001"
    assert "should be B" in problem["rule"]
