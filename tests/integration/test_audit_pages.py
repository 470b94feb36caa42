"""A manager finds who looked at a pupil's record this year, from the pupil's page; searches the
log by user, days and record; downloads the access history. Nobody else sees the log."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from casework import audit
from casework.db import WRITE_INTENT
from casework.models import AuditEntry, Pupil, User

HTML = {"Accept": "text/html"}
LINK = "Who has looked at this record this year"


def _rows(page_text: str) -> list[str]:
    body = page_text.split('<tbody class="govuk-table__body">', 1)[-1].split("</tbody>", 1)[0]
    return re.findall(r"<tr class=\"govuk-table__row\">(.*?)</tr>", body, re.S)


def test_from_the_pupil_page_a_manager_sees_who_looked_this_year(client_as, db, clock):
    school, manager = client_as("oak_lead"), client_as("manager")
    assert school.get(f"/pupils/{db.world.pupil_oak}", headers=HTML).status_code == 200
    page = manager.get(f"/pupils/{db.world.pupil_oak}", headers=HTML)
    assert LINK in page.text

    jump = manager.get(f"/audit/pupils/{db.world.pupil_oak}", follow_redirects=False)
    assert jump.status_code == 303
    assert jump.headers["location"] == f"/audit?pupil={db.world.pupil_oak}&from=1+1+2024"
    found = manager.get(jump.headers["location"], headers=HTML)
    assert found.status_code == 200
    assert "Access history of Amelia Ashdown" in found.text
    rows = _rows(found.text)
    # Newest first: the manager's own look, then the school's; only this pupil's entries.
    assert [("manager" in r, "oak_lead" in r) for r in rows[-2:]] == [(True, False), (False, True)]
    assert all("GET /pupils/{pupil_id}" in r or "audit" in r.lower() for r in rows)
    # Reading the history is itself about the pupil, so it joins their history.
    with db.factory() as session:
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (last.route, last.pupil_id) == ("GET /audit", db.world.pupil_oak)


def test_staff_see_no_link_and_are_refused_the_log(client_as, db):
    for username in ("oak_lead", "traded", "statutory"):
        client = client_as(username)
        if username != "statutory":  # statutory officers see no pupil without a referral
            page = client.get(f"/pupils/{db.world.pupil_oak}", headers=HTML)
            assert page.status_code == 200 and LINK not in page.text
        assert client.get("/audit", headers=HTML).status_code == 403
        assert client.get("/api/audit").status_code == 403
        history = f"/api/audit/pupils/{db.world.pupil_oak}/history.csv"
        assert client.get(history).status_code == 403


def test_administrators_search_the_log_from_the_navigation(client_as):
    admin = client_as("admin")
    home = admin.get("/admin", headers=HTML)
    assert 'href="/audit"' in home.text
    assert admin.get("/audit", headers=HTML).status_code == 200


def test_search_by_user_and_record_and_by_upn(client_as, db):
    client_as("oak_lead").get(f"/api/pupils/{db.world.pupil_oak}")
    client_as("traded").get(f"/api/pupils/{db.world.pupil_river}")
    manager = client_as("manager")
    by_user = manager.get("/audit?user=traded&record_type=pupil", headers=HTML)
    assert by_user.status_code == 200
    rows = _rows(by_user.text)
    assert len(rows) == 1 and "traded" in rows[0] and "GET /api/pupils/{pupil_id}" in rows[0]

    with db.factory() as session:
        upn = session.get(Pupil, db.world.pupil_oak).upn
    by_upn = manager.get(f"/audit?pupil={upn.lower()}", headers=HTML)
    assert by_upn.status_code == 200
    assert [("oak_lead" in r) for r in _rows(by_upn.text)] == [True]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("pupil=999999", "pupil", "Pupil '999999': no pupil of your local authority has this id"),
        ("pupil=Ashdown", "pupil", "Pupil 'Ashdown': enter a pupil's id (digits)"),
        ("user=nobody", "user", "User 'nobody': no user of your local authority has this username"),
        ("from=31+02+2024", "from", "From '31 02 2024': enter a real date"),
        ("from=2+1+2024&to=1+1+2024", "to", "To '2024-01-01': must not be before the first day"),
        ("record_type=Pupil%3B", "record_type", "Record type 'Pupil;': a record type is"),
    ],
)
def test_a_filter_that_cannot_be_used_is_named_with_its_value_and_rule(
    client_as, query, field, message
):
    page = client_as("manager").get(f"/audit?{query}", headers=HTML)
    assert page.status_code == 400
    assert f'href="#{field}"' in page.text
    assert message.replace("'", "&#39;") in page.text


def test_the_log_pages_newest_first(client_as, db):
    at = datetime(2024, 11, 20, 10, 0, tzinfo=UTC)
    with db.factory() as session:
        session.connection(execution_options={WRITE_INTENT: True})
        actor = session.get(User, db.world.users["traded"])
        for n in range(60):
            audit.record(
                session,
                actor=actor,
                action="read",
                record_type="case",
                record_id=n,
                pupil_id=None,
                route="GET /api/cases/{case_id}",
                outcome="200",
                at=at,
            )
        session.commit()
    manager = client_as("manager")
    first = manager.get("/audit?user=traded", headers=HTML)
    assert "60 entries, page 1 of 2" in first.text
    assert "Case 59" in _rows(first.text)[0]
    second = manager.get("/audit?user=traded&page=2", headers=HTML)
    assert len(_rows(second.text)) == 10 and "Case 0" in _rows(second.text)[-1]


def test_a_pupils_access_history_downloads_as_csv(client_as, db):
    client_as("oak_lead").get(f"/api/pupils/{db.world.pupil_oak}")
    client_as("river_lead").get(f"/api/pupils/{db.world.pupil_river}")
    manager = client_as("manager")
    got = manager.get(f"/audit/pupils/{db.world.pupil_oak}/history.csv?from=2024-11-20")
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(got.text)))
    assert [(r["user"], r["pupil_id"], r["at_utc"]) for r in rows] == [
        ("oak_lead", str(db.world.pupil_oak), "2024-11-20T10:00:00Z")
    ]
    # Nothing before the day asked for.
    later = manager.get(f"/audit/pupils/{db.world.pupil_oak}/history.csv?from=2024-11-21")
    assert list(csv.DictReader(io.StringIO(later.text))) == []
    assert manager.get("/audit/pupils/999999/history.csv").status_code == 404


def test_the_api_searches_and_exports_the_same_entries(client_as, db):
    client_as("oak_lead").get(f"/api/pupils/{db.world.pupil_oak}")
    manager = client_as("manager")
    found = manager.get("/api/audit", params={"pupil": str(db.world.pupil_oak)})
    assert found.status_code == 200, found.text
    (item,) = found.json()["items"]
    assert (item["actor_username"], item["route"], item["outcome"]) == (
        "oak_lead",
        "GET /api/pupils/{pupil_id}",
        "200",
    )
    history = manager.get(f"/api/audit/pupils/{db.world.pupil_oak}").json()
    assert [h["id"] for h in history][:1] == [item["id"]]
    refused = manager.get("/api/audit", params={"user": "nobody"})
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {
            "field": "user",
            "value": "nobody",
            "rule": "no user of your local authority has this username",
        }
    ]
    # Searching the log is itself recorded.
    with db.factory() as session:
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (last.record_type, last.route, last.outcome) == ("audit_log", "GET /api/audit", "422")


@pytest.mark.parametrize(
    ("params", "field", "rule"),
    [
        ({"user": "trad\x00ed"}, "user", "must not contain control characters"),
        ({"pupil": "\u00b2"}, "pupil", "enter a pupil's id (digits) or their 13-character UPN"),
        ({"pupil": "9" * 30}, "pupil", "enter a pupil's id (digits) or their 13-character UPN"),
        ({"record_id": "x" * 70}, "record_id", "at most 64 characters"),
    ],
)
def test_the_api_refuses_hostile_filters_naming_field_and_rule(client_as, params, field, rule):
    refused = client_as("manager").get("/api/audit", params=params)
    assert refused.status_code == 422, refused.text
    assert [(e["field"], e["rule"]) for e in refused.json()["errors"]] == [(field, rule)]


def test_a_pupil_id_beyond_any_row_is_not_found(client_as):
    manager = client_as("manager")
    for address in ("/api/audit/pupils/99999999999", "/audit/pupils/99999999999/history.csv"):
        assert manager.get(address).status_code == 404


def test_an_administrator_sees_a_pupils_history_by_id_never_by_name(client_as, db):
    client_as("oak_lead").get(f"/api/pupils/{db.world.pupil_oak}")
    page = client_as("admin").get(f"/audit?pupil={db.world.pupil_oak}", headers=HTML)
    assert page.status_code == 200
    assert f"Access history of pupil {db.world.pupil_oak}" in page.text
    assert "Ashdown" not in page.text and "Amelia" not in page.text
