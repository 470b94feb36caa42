"""Penalty notices through the JSON API only: the school records a leave request, its refusal
and the leave taken, opens a holiday case and requests notices; the LA's statutory officer
reads the checks per parent and issues to both; one parent pays at day 20, the other is unpaid
at 28 days and goes to prosecution; the central register, its CSV and the report agree."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest

R = "/api/penalty-notices"


def at(clock, day: date) -> None:
    clock.set(datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC))


def ok(response, status: int = 200):
    assert response.status_code == status, response.text
    return response.json()


def problem(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    if field is not None:
        assert field in {e["field"] for e in body["errors"]}, body
        for e in body["errors"]:
            assert {"field", "value", "rule"} <= set(e)
    return body


def _parents(client, pupil_id: int) -> list[int]:
    return [c["id"] for c in ok(client.get(f"/api/pupils/{pupil_id}"))["contacts"]]


def _holiday_request(client_as, clock, world) -> dict:
    """The school's part: leave asked for Mon 4 - Fri 8 Nov 2024, refused, taken; a holiday
    case and a request relying on the ten G sessions."""
    at(clock, date(2024, 10, 1))
    school = client_as("oak_lead")
    parents = _parents(school, world.pupil_oak)
    leave = ok(
        school.post(
            "/api/leave-requests",
            json={
                "pupil_id": world.pupil_oak,
                "school_id": world.oakfield,
                "contact_id": parents[0],
                "applied_on": "2024-09-30",
                "first_day": "2024-11-04",
                "last_day": "2024-11-08",
                "reason": "family holiday abroad",
            },
        ),
        201,
    )
    leave_id = leave["request"]["id"]
    assert leave["decision"] is None
    decided = ok(
        school.post(
            f"/api/leave-requests/{leave_id}/decision",
            json={
                "decision": "refused",
                "exceptional_circumstances": False,
                "reasons": "a holiday is not an exceptional circumstance",
                "decided_on": "2024-10-01",
                "decided_by_name": "Head Teacher",
                "decided_by_position": "Headteacher",
            },
        ),
        201,
    )
    assert decided["decision"]["decision"] == "refused"
    at(clock, date(2024, 11, 12))
    taken = ok(
        school.post(
            f"/api/leave-requests/{leave_id}/taken",
            json={"first_absent": "2024-11-04", "last_absent": "2024-11-08"},
        ),
        201,
    )
    assert taken["sessions_laid"] == 10
    bundle = ok(school.get(f"/api/leave-requests/{leave_id}"))
    assert [m["code"] for m in bundle["register"]] == ["G"] * 10
    listed = ok(school.get("/api/leave-requests", params={"pupil_id": world.pupil_oak}))
    assert listed["total"] == 1 and listed["items"][0]["decision"] == "refused"
    case = ok(
        school.post(
            "/api/cases",
            json={
                "pupil_id": world.pupil_oak,
                "school_id": world.oakfield,
                "kind": "term_time_holiday",
                "stage": "monitor",
                "reason": "holiday taken after leave was refused",
            },
        ),
        201,
    )["case"]
    made = ok(
        school.post(
            f"{R}/requests",
            json={
                "case_id": case["id"],
                "reason": "holiday",
                "summary": "Leave refused; taken anyway; 10 sessions G",
                "leave_request_id": leave_id,
            },
        ),
        201,
    )
    assert len(made["sessions"]) == 10
    assert made["register_extract"]["leave"]["decision"] == "refused"
    # The checks read the parent's notices across schools: the LA's, not the school's.
    assert made["checks"] is None
    return {"case_id": case["id"], "request": made, "parents": parents, "leave_id": leave_id}


def test_the_holiday_flow_through_the_api(client_as, clock, db):
    world = db.world
    made = _holiday_request(client_as, clock, world)
    request_id = made["request"]["id"]
    school, other_school = client_as("oak_lead"), client_as("river_lead")
    statutory = client_as("statutory")

    at(clock, date(2024, 11, 14))
    pending = ok(statutory.get(f"{R}/requests"))
    assert [r["id"] for r in pending] == [request_id]
    found = ok(statutory.get(f"{R}/requests/{request_id}"))
    assert len(found["checks"]) == 2
    for check in found["checks"]:
        assert check["allowed"] and check["unmet"] == [] and check["parental_responsibility"]
        assert (check["ordinal"], check["amount_discounted_pence"]) == (1, 8000)
        assert check["amount_full_pence"] == 16000

    # The school may not issue or draft, and another school cannot see the request at all.
    refused = school.post(f"{R}/requests/{request_id}/issue", json={"posted_on": "2024-11-14"})
    assert refused.status_code == 403, refused.text
    drafted = school.post(R, json={"case_id": made["case_id"], "reason": "holiday"})
    assert drafted.status_code == 403, drafted.text
    assert other_school.get(f"{R}/requests/{request_id}").status_code == 404
    assert (
        other_school.post(f"{R}/requests/{request_id}/issue", json={"posted_on": "2024-11-14"})
    ).status_code == 403  # the role is refused before any record is looked up

    issued = ok(
        statutory.post(
            f"{R}/requests/{request_id}/issue",
            json={"posted_on": "2024-11-14", "expected_version": found["version"]},
        ),
        201,
    )
    assert issued["request"]["status"] == "accepted"
    notices = issued["notices"]
    assert {n["contact_id"] for n in notices} == set(made["parents"])
    for n in notices:
        # Posted Thu 14 Nov: deemed received Mon 18 Nov; 21 days end Sun 8 Dec, 28 Sun 15 Dec.
        assert n["display_status"] == "awaiting_payment"
        assert n["windows"] == {
            "posted_on": "2024-11-14",
            "received_on": "2024-11-18",
            "discount_until": "2024-12-08",
            "pay_by": "2024-12-15",
            "decision_from": "2024-12-16",
        }
        assert n["days_left"] == 32  # 14 Nov to 15 Dec, counting today
        assert len(n["sessions"]) == 10
    paying, unpaid = notices

    assert ok(school.get(f"{R}/{paying['id']}"))["reference"] == paying["reference"]
    assert other_school.get(f"{R}/{paying['id']}").status_code == 404
    assert ok(other_school.get(R))["total"] == 0
    letter = statutory.get(f"{R}/{paying['id']}/notice")
    assert letter.status_code == 200, letter.text
    assert letter.headers["content-type"].startswith("text/html")
    assert paying["reference"] in letter.text

    # Day 20 counting the day of receipt as day 1 is Sat 7 Dec: the reduced £80. The finance
    # reference starts with "=" as a spreadsheet formula would.
    at(clock, date(2024, 12, 7))
    wrong = statutory.post(
        f"{R}/{paying['id']}/payments",
        json={"paid_on": "2024-12-07", "amount_pence": 16000, "method": "online",
              "finance_reference": "FIN-1"},
    )  # fmt: skip
    assert "£80.00 is due" in problem(wrong, 422, "amount_pence")["detail"]
    paid = ok(
        statutory.post(
            f"{R}/{paying['id']}/payments",
            json={
                "paid_on": "2024-12-07",
                "amount_pence": 8000,
                "method": "online",
                "finance_reference": "=HYPERLINK(1)",
                "expected_version": paying["version"],
            },
        ),
        201,
    )
    assert paid["status"] == "paid" and paid["paid_within_discount"] is True
    assert [p["amount_pence"] for p in paid["payments"]] == [8000]

    # Too soon to prosecute while the payment period runs.
    early = statutory.post(f"{R}/{unpaid['id']}/prosecution", json={"note": "unpaid"})
    problem(early, 422, "notice_id")
    at(clock, date(2024, 12, 16))
    queues = ok(statutory.get(f"{R}/queues"))
    assert [n["id"] for n in queues["decisions_due"]] == [unpaid["id"]]
    assert queues["requests"] == [] and queues["awaiting_payment"] == []
    prosecuted = ok(
        statutory.post(
            f"{R}/{unpaid['id']}/prosecution",
            json={"note": "unpaid at 28 days; no reason given", "expected_version": None},
        ),
        201,
    )
    assert prosecuted["display_status"] == "prosecution" and prosecuted["days_left"] is None

    listed = ok(statutory.get(R, params={"reason": "holiday", "month": "2024-11"}))
    assert listed["total"] == 2
    assert {r["status"] for r in listed["rows"]} == {"paid", "prosecution"}
    only_paid = ok(statutory.get(R, params={"status": "paid"}))
    assert [r["id"] for r in only_paid["rows"]] == [paying["id"]]

    exported = statutory.get(f"{R}/register.csv", params={"reason": "holiday"})
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("text/csv")
    disposition = exported.headers["content-disposition"]
    assert disposition.startswith("attachment;") and "penalty-notices-2024-12-16.csv" in disposition
    rows = {r["Notice"]: r for r in csv.DictReader(io.StringIO(exported.text))}
    assert set(rows) == {paying["reference"], unpaid["reference"]}
    assert rows[paying["reference"]]["Status"] == "Paid"
    assert rows[paying["reference"]]["Amount paid (£)"] == "80.00"
    assert rows[paying["reference"]]["Within 21 days"] == "yes"
    assert rows[paying["reference"]]["Finance reference"] == "'=HYPERLINK(1)"
    assert rows[unpaid["reference"]]["Status"] == "Prosecution"
    assert rows[unpaid["reference"]]["Amount paid (£)"] == ""
    for row in rows.values():
        assert (row["Reduced amount (£)"], row["Full amount (£)"]) == ("80.00", "160.00")
    assert "=HYPERLINK" not in exported.text.replace("'=HYPERLINK", "")

    report = ok(statutory.get(f"{R}/report", params={"by": "reason"}))
    assert report["by"] == "reason"
    [line] = report["lines"]
    assert (line["key"], line["issued"], line["paid"], line["prosecution"]) == (
        "holiday",
        2,
        1,
        1,
    )
    assert line["amount_paid_pence"] == 8000

    # Another LA reports two earlier notices to the paying parent for this child: a third
    # within three years is refused, naming the check.
    parent = paying["contact_id"]
    enquiry = ok(
        statutory.post(
            f"{R}/enquiries",
            json={
                "pupil_id": world.pupil_oak,
                "contact_id": parent,
                "other_la": "Elsewhere Council",
                "asked_on": "2024-12-10",
                "answered_on": "2024-12-12",
                "answer": "Two notices issued while the family lived here",
                "notices": [
                    {"their_reference": "EW-1", "issued_on": "2024-02-05", "status": "paid"},
                    {"their_reference": "EW-2", "issued_on": "2024-06-10", "status": "paid"},
                ],
            },
        ),
        201,
    )
    assert enquiry["notices_reported"] == 2
    third = statutory.post(
        R,
        json={
            "case_id": made["case_id"],
            "reason": "holiday",
            "contact_ids": [parent],
            "sessions": [{"date": "2024-12-02", "session": "AM", "code": "g"}],
        },
    )
    body = problem(third, 409)
    checks = {u["check"] for refusal in body["refusals"] for u in refusal["unmet"]}
    assert "within_limit" in checks
    history = ok(statutory.get(f"{R}/history", params={"contact_id": parent}))
    assert {h["kind"] for h in history} == {"notice", "reported", "enquiry"}
    assert {"EW-1", "EW-2", paying["reference"]} <= {h["reference"] for h in history}
    # The school's view of the history holds its own school's notices only.
    own = ok(school.get(f"{R}/history", params={"pupil_id": world.pupil_oak}))
    assert {h["reference"] for h in own if h["kind"] == "notice"} == {
        paying["reference"],
        unpaid["reference"],
    }


def test_drafts_cancellation_withdrawal_and_refusals(client_as, clock, db):
    world = db.world
    made = _holiday_request(client_as, clock, world)
    request_id = made["request"]["id"]
    statutory = client_as("statutory")
    at(clock, date(2024, 11, 14))
    drafts = ok(
        statutory.post(
            R, json={"case_id": made["case_id"], "reason": "holiday", "request_id": request_id}
        ),
        201,
    )
    assert [d["status"] for d in drafts] == ["drafted", "drafted"]
    assert all(d["windows"] is None and d["days_left"] is None for d in drafts)
    first, second = drafts
    problem(statutory.get(f"{R}/{first['id']}/notice"), 422, "status")
    drafts_queue = ok(statutory.get(f"{R}/queues"))["drafts"]
    assert {d["id"] for d in drafts_queue} == {first["id"], second["id"]}

    cancelled = ok(
        statutory.post(f"{R}/{second['id']}/cancellation", json={"reason": "sent to one only"}),
        201,
    )
    assert cancelled["status"] == "cancelled"
    assert all(s["released"] for s in cancelled["sessions"])
    stale = statutory.post(
        f"{R}/{first['id']}/issue", json={"posted_on": "2024-11-14", "expected_version": 99}
    )
    assert stale.status_code == 409, stale.text
    problem(
        statutory.post(f"{R}/{first['id']}/issue", json={"posted_on": "2024-12-30"}),
        422,
        "posted_on",
    )
    issued = ok(statutory.post(f"{R}/{first['id']}/issue", json={"posted_on": "2024-11-14"}), 201)
    assert issued["display_status"] == "awaiting_payment"
    assert statutory.get(f"{R}/{first['id']}/notice").status_code == 200

    problem(
        statutory.post(
            f"{R}/{first['id']}/withdrawal", json={"ground": "changed_mind", "note": "x"}
        ),
        422,
        "ground",
    )
    withdrawn = ok(
        statutory.post(
            f"{R}/{first['id']}/withdrawal",
            json={"ground": "wrong_address", "note": "the family had moved"},
        ),
        201,
    )
    assert withdrawn["status"] == "withdrawn" and withdrawn["withdrawal_ground"] == "wrong_address"
    assert all(s["released"] for s in withdrawn["sessions"])

    # Drafting from the request accepted it: it can no longer be declined, and it is listed
    # with the accepted requests.
    refused = statutory.post(f"{R}/requests/{request_id}/decline", json={"reason": "dealt with"})
    assert refused.status_code == 409, refused.text
    accepted = ok(statutory.get(f"{R}/requests", params={"status": "accepted"}))
    assert [r["id"] for r in accepted] == [request_id]

    # Bad filters and choices are 422 problems naming the field, the value and the rule.
    for params, field in (
        ({"month": "2024-13"}, "month"),
        ({"month": "Nov 2024"}, "month"),
        ({"status": "lost"}, "status"),
        ({"reason": "truancy"}, "reason"),
        ({"pupil_id": "abc"}, "pupil_id"),
        ({"page_size": "500"}, "page_size"),
    ):
        body = problem(statutory.get(R, params=params), 422, field)
        assert body["errors"][0]["value"] == next(iter(params.values()))
        if field != "page_size":  # the CSV is the whole register, not a page
            problem(statutory.get(f"{R}/register.csv", params=params), 422, field)
    problem(statutory.get(f"{R}/report", params={"by": "week"}), 422, "by")
    problem(statutory.get(f"{R}/requests", params={"status": "open"}), 422, "status")
    problem(statutory.get(f"{R}/history"), 422, "pupil_id")
    bad_reason = statutory.post(R, json={"case_id": made["case_id"], "reason": "truancy"})
    assert problem(bad_reason, 422, "reason")["errors"][0]["value"] == "truancy"
    assert statutory.get(f"{R}/threshold").status_code == 200
    assert statutory.get(f"{R}/999999").status_code == 404


@pytest.mark.parametrize("username", ["river_lead", "hill_lead"])
def test_another_schools_leave_request_is_not_found(username, client_as, clock, db):
    made = _holiday_request(client_as, clock, db.world)
    other = client_as(username)
    assert other.get(f"/api/leave-requests/{made['leave_id']}").status_code == 404
    assert ok(other.get("/api/leave-requests"))["total"] == 0
    taken = other.post(
        f"/api/leave-requests/{made['leave_id']}/taken",
        json={"first_absent": "2024-11-04", "last_absent": "2024-11-08"},
    )
    assert taken.status_code == 404


def test_the_openapi_schema_builds_with_the_penalty_routes(client_as, db):
    schema = ok(client_as("statutory").get("/schema/openapi.json"))
    tags = {
        tag
        for path, item in schema["paths"].items()
        if path.startswith(("/api/penalty-notices", "/api/leave-requests"))
        for operation in item.values()
        for tag in operation.get("tags", [])
    }
    assert tags == {"penalty notices", "leave of absence"}
    assert "/api/penalty-notices/register.csv" in schema["paths"]
