"""School calendars through the API, on SQLite and PostgreSQL: reading a year, adding and
measuring with explanations, and changing a calendar (scope 404, role 403, rules 422), with the
history kept (corrections supersede; rows are never changed)."""

from __future__ import annotations

import pytest
from sqlalchemy import exc, select, text

from casework.models import SchoolCalendarOverride

INSET = {"kind": "inset_day", "first": "2024-11-04", "reason": "Staff training: safeguarding"}


def _calendar(client, school_id, **params):
    return client.get(f"/api/schools/{school_id}/calendar", params=params)


def _add(client, school_id, start, duration):
    return client.get(
        f"/api/schools/{school_id}/calendar/add", params={"from": start, "duration": duration}
    )


def test_a_school_year_from_the_shipped_knowsley_calendar(client_as, db):
    response = _calendar(client_as("oak_lead"), db.world.oakfield, year=2024)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["label"] == "2024/25" and body["provisional"] is False
    assert body["school"] == "Oakfield Primary"
    assert body["terms"][0] == {
        "name": "autumn",
        "first": "2024-09-02",
        "last": "2024-12-20",
        "half_term": ["2024-10-28", "2024-11-01"],
    }
    assert {"date": "2024-12-25", "name": "Christmas Day"} in body["bank_holidays"]
    assert (body["school_days"], body["sessions"]) == (195, 390)
    assert body["inset_days"] == [] and body["closures"] == []


def test_this_year_by_default_and_later_years_are_provisional(client_as, db):
    client = client_as("oak_lead")
    # The test clock says Wed 20 Nov 2024: academic year 2024/25.
    assert _calendar(client, db.world.oakfield).json()["academic_year"] == 2024
    later = _calendar(client, db.world.oakfield, year=2026).json()
    assert later["provisional"] is True and later["source"] == "greater_merseyside pattern"


def test_the_worked_example_through_the_api(client_as, db):
    response = _add(client_as("oak_lead"), db.world.oakfield, "2024-10-14", "3 school weeks")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["result"] == "2024-11-11"
    assert (body["unit"], body["amount"], body["duration"]) == ("school_weeks", 3, "3 school weeks")
    assert "  week of Mon 28 Oct 2024: skipped (October half term)" in body["explanation"]["lines"]
    assert [s["counted"] for s in body["explanation"]["steps"]] == [[1], [], [2], [3]]


def test_measuring_between_two_dates(client_as, db):
    response = client_as("oak_lead").get(
        f"/api/schools/{db.world.oakfield}/calendar/measure",
        params={"from": "2024-10-14", "to": "2024-11-11", "unit": "school weeks"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["count"], body["unit"], body["from"], body["to"]) == (
        3,
        "school_weeks",
        "2024-10-14",
        "2024-11-11",
    )


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        pytest.param("add", {"from": "2024-10-14", "duration": "3 weeks"}, "duration", id="dur"),
        pytest.param(
            "measure", {"from": "2024-10-14", "to": "2024-11-11", "unit": "days"}, "unit", id="unit"
        ),
        pytest.param(
            "measure",
            {"from": "2024-10-14", "to": "2024-10-01", "unit": "school days"},
            "to",
            id="backwards",
        ),
    ],
)
def test_unreadable_questions_are_422_naming_the_field(client_as, db, path, params, field):
    response = client_as("oak_lead").get(
        f"/api/schools/{db.world.oakfield}/calendar/{path}", params=params
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field


def test_schools_outside_scope_are_not_found(client_as, db):
    client = client_as("oak_lead")
    riverside = db.world.riverside
    assert _calendar(client, riverside).status_code == 404
    assert _add(client, riverside, "2024-10-14", "3 school weeks").status_code == 404
    posted = client.post(f"/api/schools/{riverside}/calendar/overrides", json=INSET)
    assert posted.status_code == 404


@pytest.mark.parametrize("username", ["traded", "manager", "statutory"])
def test_only_school_staff_and_admins_change_a_calendar(client_as, db, username):
    client = client_as(username)
    assert _calendar(client, db.world.oakfield).status_code == 200
    refused = client.post(f"/api/schools/{db.world.oakfield}/calendar/overrides", json=INSET)
    assert refused.status_code == 403, refused.text


def test_an_inset_day_changes_what_add_returns(client_as, db):
    client = client_as("oak_lead")
    school = db.world.oakfield
    assert _add(client, school, "2024-10-14", "2 school weeks").json()["result"] == "2024-11-04"
    recorded = client.post(f"/api/schools/{school}/calendar/overrides", json=INSET)
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["affected"] == [{"first": "2024-11-04", "last": "2024-11-04"}]
    after = _add(client, school, "2024-10-14", "2 school weeks").json()
    assert after["result"] == "2024-11-05"
    assert "(INSET day), so the next school day" in after["explanation"]["summary"]
    year = _calendar(client, school, year=2024).json()
    assert year["inset_days"] == [
        {
            "id": recorded.json()["id"],
            "date": "2024-11-04",
            "session": "both",
            "reason": "Staff training: safeguarding",
        }
    ]
    assert year["school_days"] == 194
    # Other schools keep the LA's dates.
    admin = client_as("admin")
    assert _add(admin, db.world.riverside, "2024-10-14", "2 school weeks").json()["result"] == (
        "2024-11-04"
    )


def test_corrections_and_withdrawals_supersede_and_keep_the_history(client_as, db):
    client = client_as("oak_lead")
    school = db.world.oakfield
    first = client.post(f"/api/schools/{school}/calendar/overrides", json=INSET).json()["id"]
    moved = client.post(
        f"/api/schools/{school}/calendar/overrides",
        json={**INSET, "first": "2024-11-05", "reason": "Trainer moved", "supersedes": first},
    )
    assert moved.status_code == 201, moved.text
    assert moved.json()["affected"] == [{"first": "2024-11-04", "last": "2024-11-05"}]
    # Fri 1 Nov: Mon 4 (1), [Tue 5 INSET], Wed 6 (2)
    assert _add(client, school, "2024-11-01", "2 school days").json()["result"] == "2024-11-06"
    again = client.post(
        f"/api/schools/{school}/calendar/overrides",
        json={**INSET, "first": "2024-11-06", "supersedes": first},
    )
    assert again.status_code == 422
    assert again.json()["errors"][0]["field"] == "supersedes"
    withdrawn = client.post(
        f"/api/schools/{school}/calendar/overrides",
        json={"kind": "withdrawal", "supersedes": moved.json()["id"], "reason": "Cancelled"},
    )
    assert withdrawn.status_code == 201, withdrawn.text
    # No INSET day now: Mon 4 (1), Tue 5 (2)
    assert _add(client, school, "2024-11-01", "2 school days").json()["result"] == "2024-11-05"
    assert _calendar(client, school, year=2024).json()["inset_days"] == []
    with db.factory() as session:
        rows = session.scalars(
            select(SchoolCalendarOverride).order_by(SchoolCalendarOverride.id)
        ).all()
        assert [
            (r.kind, r.first_day and r.first_day.isoformat(), r.supersedes_id) for r in rows
        ] == [
            ("inset_day", "2024-11-04", None),
            ("inset_day", "2024-11-05", first),
            ("withdrawal", None, moved.json()["id"]),
        ]
        assert {r.recorded_by_id for r in rows} == {db.world.users["oak_lead"]}


def _post(client, school, body):
    return client.post(f"/api/schools/{school}/calendar/overrides", json=body)


def test_a_sixth_inset_day_is_422_naming_the_field(client_as, db):
    client = client_as("admin")
    school = db.world.oakfield
    for day in ("2024-09-02", "2024-11-04", "2025-01-06", "2025-04-22", "2025-06-02"):
        assert _post(client, school, {**INSET, "first": day}).status_code == 201
    refused = _post(client, school, {**INSET, "first": "2025-06-03"})
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {
            "field": "first",
            "value": "2025-06-03",
            "rule": "a school has at most 5 INSET days a year; 2024/25 already has 5",
        }
    ]


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        pytest.param(
            {"kind": "closure", "first": "2024-11-09", "reason": "Flood"},
            "first",
            "must be a school day; Sat 9 Nov 2024 is not (weekend)",
            id="closure-on-a-weekend",
        ),
        pytest.param(
            {"kind": "closure", "first": "2024-11-04", "last": "2024-11-05", "reason": "Flood"},
            "first",
            "overlaps an INSET day already recorded for Mon 4 Nov 2024",
            id="overlapping",
        ),
        pytest.param(
            {
                "kind": "closure",
                "first": "2024-11-12",
                "last": "2024-11-13",
                "session": "pm",
                "reason": "Flood",
            },
            "session",
            "a closure of one session covers one day",
            id="one-session-several-days",
        ),
        pytest.param(
            {"kind": "closure", "first": "2024-11-12", "reason": "  "},
            "reason",
            "say why the calendar changes",
            id="no-reason",
        ),
        pytest.param(
            {
                "kind": "term_dates",
                "academic_year": 2024,
                "reason": "Academy dates",
                "terms": [
                    {
                        "name": "autumn",
                        "first": "2024-09-02",
                        "last": "2024-12-20",
                        "half_term": ["2024-12-23", "2024-12-27"],
                    },
                    {"name": "spring", "first": "2025-01-06", "last": "2025-04-04"},
                    {"name": "summer", "first": "2025-04-22", "last": "2025-07-22"},
                ],
            },
            "terms[0].half_term",
            "a half-term break starts and ends inside its term, first day first",
            id="half-term-outside-its-term",
        ),
    ],
)
def test_broken_rules_are_422_naming_field_value_and_rule(client_as, db, body, field, rule):
    client = client_as("oak_lead")
    school = db.world.oakfield
    assert _post(client, school, INSET).status_code == 201
    refused = _post(client, school, body)
    assert refused.status_code == 422, refused.text
    error = refused.json()["errors"][0]
    assert error["field"] == field and error["rule"].startswith(rule)


ACADEMY_TERMS = [
    {
        "name": "autumn",
        "first": "2024-09-02",
        "last": "2024-12-20",
        "half_term": ["2024-10-21", "2024-11-01"],
    },
    {
        "name": "spring",
        "first": "2025-01-06",
        "last": "2025-04-04",
        "half_term": ["2025-02-17", "2025-02-21"],
    },
    {
        "name": "summer",
        "first": "2025-04-22",
        "last": "2025-07-22",
        "half_term": ["2025-05-26", "2025-05-30"],
    },
]


def test_own_term_dates_and_a_closed_afternoon(client_as, db):
    client = client_as("oak_lead")
    school = db.world.oakfield
    own = _post(
        client,
        school,
        {
            "kind": "term_dates",
            "academic_year": 2024,
            "terms": ACADEMY_TERMS,
            "reason": "Governors set a two-week October half term",
        },
    )
    assert own.status_code == 201, own.text
    assert own.json()["affected"] == [{"first": "2024-09-02", "last": "2025-07-22"}]
    assert _add(client, school, "2024-10-14", "1 school week").json()["result"] == "2024-11-04"
    year = _calendar(client, school, year=2024).json()
    assert year["terms"][0]["half_term"] == ["2024-10-21", "2024-11-01"]
    assert year["source"] == "Oakfield Primary's own term dates" and year["school_days"] == 190
    # A second set for the same year must say which it corrects.
    clash = _post(
        client,
        school,
        {"kind": "term_dates", "academic_year": 2024, "terms": ACADEMY_TERMS, "reason": "again"},
    )
    assert clash.status_code == 422 and clash.json()["errors"][0]["field"] == "supersedes"
    closed = _post(
        client,
        school,
        {"kind": "closure", "first": "2024-11-13", "session": "pm", "reason": "Heating failure"},
    )
    assert closed.status_code == 201, closed.text
    assert _add(client, school, "2024-11-12", "2 sessions").json()["result"] == "2024-11-14"


def test_an_admin_records_the_las_dates_for_a_year(client_as, db):
    terms = [
        {
            "name": "autumn",
            "first": "2025-09-03",
            "last": "2025-12-19",
            "half_term": ["2025-10-27", "2025-10-31"],
        },
        {
            "name": "spring",
            "first": "2026-01-05",
            "last": "2026-03-27",
            "half_term": ["2026-02-16", "2026-02-20"],
        },
        {
            "name": "summer",
            "first": "2026-04-13",
            "last": "2026-07-21",
            "half_term": ["2026-05-25", "2026-05-29"],
        },
    ]
    body = {"academic_year": 2025, "terms": terms, "reason": "Published by the LA"}
    assert client_as("manager").post("/api/calendar/years", json=body).status_code == 403
    admin = client_as("admin")
    recorded = admin.post("/api/calendar/years", json=body)
    assert recorded.status_code == 201, recorded.text
    # The pattern's year ran 1 Sep 2025 - 22 Jul 2026; the published one 3 Sep - 21 Jul.
    assert recorded.json()["affected"] == [{"first": "2025-09-01", "last": "2026-07-22"}]
    year = _calendar(client_as("oak_lead"), db.world.oakfield, year=2025).json()
    assert year["provisional"] is False and year["terms"][0]["first"] == "2025-09-03"
    short = {**body, "terms": [terms[0], terms[1], {**terms[2], "last": "2026-06-30"}]}
    refused = admin.post("/api/calendar/years", json=short)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "terms"


@pytest.mark.parametrize("table", ["school_calendar_override", "la_calendar_year"])
@pytest.mark.parametrize("statement", ["UPDATE {table} SET reason = 'x'", "DELETE FROM {table}"])
def test_calendar_history_cannot_be_changed_or_removed(client_as, db, table, statement):
    admin = client_as("admin")
    assert _post(admin, db.world.oakfield, INSET).status_code == 201
    year = _calendar(admin, db.world.oakfield, year=2024).json()
    assert (
        admin.post(
            "/api/calendar/years",
            json={"academic_year": 2024, "terms": year["terms"], "reason": "Confirmed"},
        ).status_code
        == 201
    )
    with db.engine.connect() as conn:
        with pytest.raises(exc.DBAPIError, match="append-only"):
            conn.execute(text(statement.format(table=table)))
        conn.rollback()
        assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 1
