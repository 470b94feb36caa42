"""Carrying on with support after the penalty-notice threshold is met, on SQLite and PostgreSQL.

The daily scan arms the "threshold met: decide" deadline on an open case; the officer records
that a penalty notice is not being pursued now and support continues, with a reason. The
deadline is then met (not overdue, never swept as passed), the chronology shows who decided
and why, refusals name field, value and rule and change nothing, and a later fresh meeting of
the threshold arms a new deadline.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from casework.models import CaseEvent, Deadline
from config.profiles import available_profiles, load_profile
from tests.integration.test_daily_scan import OAK_ABSENT, _record, _scan, _setup
from workflows.penalty_decision import REASON_MAX
from workflows.sweep import sweep

REASON = "Mum has engaged with the AIM plan; weekly check-ins and a breakfast-club place go on."


def _decision_deadlines(db, case_id: int) -> list[tuple[str, date]]:
    with db.factory() as session:
        return [
            (d.status, d.due_on)
            for d in session.scalars(
                select(Deadline)
                .where(Deadline.case_id == case_id, Deadline.kind == "penalty_decision")
                .order_by(Deadline.id)
            )
        ]


def _state(db, case_id: int) -> tuple:
    """Everything a refused request must leave as it was."""
    with db.factory() as session:
        events = session.scalar(
            select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case_id)
        )
    return events, _decision_deadlines(db, case_id)


def _armed(db, context, clock) -> int:
    case_id = _setup(db, context)
    _scan(db, clock)
    return case_id


def _post(client, case_id: int, reason):
    body = {} if reason is None else {"reason": reason}
    return client.post(f"/api/cases/{case_id}/penalty-decision", json=body)


def test_the_threshold_met_arms_a_decision_that_support_continuing_meets(
    db, context, clock, client_as
):
    case_id = _armed(db, context, clock)
    # 10 school days after Wed 20 Nov 2024 (test_daily_scan counts them).
    assert _decision_deadlines(db, case_id) == [("pending", date(2024, 12, 4))]
    lead = client_as("oak_lead")
    page = lead.get(f"/cases/{case_id}").text
    assert "Threshold met: decide on a Notice to Improve or penalty notice" in page
    assert f'action="/cases/{case_id}/penalty-decision"' in page

    answer = _post(lead, case_id, f"  {REASON}  ")
    assert answer.status_code == 201, answer.text
    event = answer.json()
    assert event["kind"] == "penalty_considered"
    assert event["reason"] == REASON
    assert event["actor_name"] == "Oak Lead"
    assert event["data"]["decision"] == "support_continues"
    assert event["data"]["reason"] == REASON
    assert event["data"]["trigger"] == "penalty_threshold"
    (stopped,) = event["data"]["clocks"]["stopped"]
    assert stopped["kind"] == "penalty_decision"
    assert stopped["why"] == "stopped by penalty considered"

    # Met, not open: off the case's deadlines and My work's, and the day it was due passes
    # without the sweep firing or escalating it.
    assert _decision_deadlines(db, case_id) == [("cancelled", date(2024, 12, 4))]
    assert lead.get(f"/api/deadlines/cases/{case_id}").json() == []
    clock.set(datetime(2024, 12, 9, 10, 0, tzinfo=UTC))
    assert sweep(db.factory, clock).fired == 0
    assert _decision_deadlines(db, case_id) == [("cancelled", date(2024, 12, 4))]
    with db.factory() as session:
        passed = session.scalar(
            select(func.count())
            .select_from(CaseEvent)
            .where(CaseEvent.case_id == case_id, CaseEvent.kind == "deadline_passed")
        )
    assert passed == 0

    # The chronology (API and page) says what was decided, why and by whom.
    chronology = lead.get(f"/api/cases/{case_id}/events").json()
    assert [(e["kind"], e["reason"], e["actor_name"]) for e in chronology][-1] == (
        "penalty_considered",
        REASON,
        "Oak Lead",
    )
    page = lead.get(f"/cases/{case_id}").text
    assert "Penalty notice considered: not pursued now, support continues" in page
    assert "breakfast-club place go on" in page
    assert f'action="/cases/{case_id}/penalty-decision"' not in page  # nothing left to decide


def test_a_passed_and_escalated_decision_recorded_late_is_done_late(db, context, clock, client_as):
    case_id = _armed(db, context, clock)
    clock.set(datetime(2024, 12, 5, 10, 0, tzinfo=UTC))
    assert sweep(db.factory, clock).fired == 1
    assert _decision_deadlines(db, case_id) == [("fired", date(2024, 12, 4))]
    answer = _post(client_as("traded"), case_id, REASON)
    assert answer.status_code == 201, answer.text
    assert answer.json()["data"]["clocks"]["stopped"][0]["late"] == "yes"
    assert _decision_deadlines(db, case_id) == [("done_late", date(2024, 12, 4))]


LONG = "x" * (REASON_MAX + 1)


@pytest.mark.parametrize(
    ("reason", "field", "rule"),
    [
        (None, "reason", "what support continues"),
        ("", "reason", "what support continues"),
        ("   \n  ", "reason", "what support continues"),
        ("support", "reason", "at least 10 characters"),
        (LONG, "reason", f"at most {REASON_MAX} characters"),
    ],
    ids=["missing", "empty", "blank", "too-short", "too-long"],
)
def test_a_decision_without_a_proper_reason_is_refused_and_changes_nothing(
    db, context, clock, client_as, reason, field, rule
):
    case_id = _armed(db, context, clock)
    before = _state(db, case_id)
    answer = _post(client_as("oak_lead"), case_id, reason)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    (error,) = answer.json()["errors"]
    assert error["field"] == field and rule in error["rule"]
    if reason is LONG:
        assert f"({len(LONG)} characters)" in error["value"]  # named, not echoed in full
    else:
        assert error["value"] == (reason or "")
    assert _state(db, case_id) == before


def _close(client, case_id: int):
    version = client.get(f"/api/cases/{case_id}").json()["case"]["version"]
    closed = client.post(
        f"/api/cases/{case_id}/transitions",
        json={
            "trigger": "close",
            "expected_version": version,
            "reason": "Attendance back above 95 %",
            "outcome": "improved",
        },
    )
    assert closed.status_code == 201, closed.text


@pytest.mark.parametrize(
    ("situation", "rule"),
    [
        ("no threshold met", "no penalty-notice decision is open on this case"),
        ("already decided", "no penalty-notice decision is open on this case"),
        ("case closed", "the case is closed: reopen it first"),
    ],
)
def test_a_decision_with_nothing_to_decide_is_refused_and_changes_nothing(
    db, context, clock, client_as, situation, rule
):
    lead = client_as("oak_lead")
    if situation == "no threshold met":
        case_id = _setup(db, context)  # a case, but no scan: nothing was met
    else:
        case_id = _armed(db, context, clock)
        if situation == "already decided":
            assert _post(lead, case_id, REASON).status_code == 201
        else:
            _close(lead, case_id)
    before = _state(db, case_id)
    answer = _post(lead, case_id, REASON)
    assert answer.status_code == 422, answer.text
    (error,) = answer.json()["errors"]
    reference = lead.get(f"/api/cases/{case_id}").json()["case"]["reference"]
    assert (error["field"], error["value"]) == ("case", reference)
    assert rule in error["rule"]
    assert _state(db, case_id) == before


def test_another_schools_lead_is_told_not_found_and_sees_no_form(db, context, clock, client_as):
    case_id = _armed(db, context, clock)
    before = _state(db, case_id)
    other = client_as("hill_lead")
    assert _post(other, case_id, REASON).status_code == 404
    assert other.post(
        f"/cases/{case_id}/penalty-decision", data={"reason": REASON}
    ).status_code == (404)
    assert other.get(f"/cases/{case_id}").status_code == 404
    assert _state(db, case_id) == before


def test_the_page_form_refuses_a_blank_reason_then_records_the_decision(
    db, context, clock, client_as
):
    case_id = _armed(db, context, clock)
    lead = client_as("oak_lead")  # a csrf_client: it sends the token as the pages' forms do
    before = _state(db, case_id)
    refused = lead.post(f"/cases/{case_id}/penalty-decision", data={"reason": "  "})
    assert refused.status_code == 422
    assert "There is a problem" in refused.text
    assert 'href="#penalty-decision-reason"' in refused.text
    assert "Reason: say why a penalty notice is not being pursued now" in refused.text
    assert _state(db, case_id) == before

    done = lead.post(
        f"/cases/{case_id}/penalty-decision", data={"reason": REASON}, follow_redirects=False
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/cases/{case_id}?done=penalty-decision"
    page = lead.get(done.headers["location"]).text
    assert "Decision recorded: a penalty notice is not being pursued now" in page
    assert "Penalty notice considered: not pursued now, support continues" in page
    assert _decision_deadlines(db, case_id) == [("cancelled", date(2024, 12, 4))]


def test_the_form_is_only_offered_while_a_decision_is_open(db, context, clock, client_as):
    case_id = _setup(db, context)
    page = client_as("oak_lead").get(f"/cases/{case_id}").text
    assert "/penalty-decision" not in page and "Carry on with support" not in page


def test_a_fresh_meeting_of_the_threshold_arms_a_new_decision(db, context, clock, client_as):
    case_id = _armed(db, context, clock)
    assert _post(client_as("oak_lead"), case_id, REASON).status_code == 201
    # The absences turn out to be illness: the flag clears. Later the school corrects them back
    # to unauthorised: the threshold is met afresh and needs a fresh decision.
    for code, why in (("I", "medical evidence provided"), ("O", "medical evidence withdrawn")):
        with db.factory() as session:
            _record(
                session,
                db.world.pupil_oak,
                db.world.oakfield,
                [(d, s, code) for d in OAK_ABSENT for s in ("AM", "PM")],
                reason=why,
            )
            session.commit()
        _scan(db, clock)
    assert _decision_deadlines(db, case_id) == [
        ("cancelled", date(2024, 12, 4)),
        ("pending", date(2024, 12, 4)),
    ]


@pytest.mark.parametrize("name", available_profiles())
def test_every_la_profile_lets_support_continuing_meet_the_decision(name):
    rule = load_profile(name).active_clocks.get("penalty_decision")
    if rule is not None:
        assert "penalty_considered" in rule.cancelled_by
