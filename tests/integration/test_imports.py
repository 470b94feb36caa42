"""Register imports by JSON push and CSV, on SQLite and PostgreSQL: recorded all-or-nothing,
idempotent, every bad row reported with line, field, value and rule, amendments kept with the
importer, and integrations authenticated by their token and scoped to their schools."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from casework.errors import NotFound
from casework.models import ImportBatch, MarkAmendment, Pupil, RegisterYear, User
from casework.registers.json_marks import parse_marks_json
from casework.registers.store import amendments_of, register_extract
from casework.vocabulary import Role
from tests.support.csrf import csrf_client
from tests.support.world import PASSWORD
from workflows.imports import import_csv, import_marks, run_import
from workflows.registry import AddUser, create_user
from workflows.tokens import issue_token

MONDAY = date(2024, 11, 18)  # Knowsley 2024/25, autumn term after half term


def _upn(session, pupil_id):
    return session.get(Pupil, pupil_id).upn


def _opener(context, user):
    @contextmanager
    def opened():
        yield context(user)

    return opened


def _items(upn, marks):
    return [{"upn": upn, "date": d, "session": s, "code": c} for d, s, c in marks]


def _push(context, user, items, *, school_id, partial=False, reason=None):
    body = json.dumps({"school_id": school_id, "marks": items}).encode()

    def call(ctx):
        rows, problems = parse_marks_json(items)
        return import_marks(
            ctx,
            rows,
            problems,
            school_id=school_id,
            source_name="test push",
            body=body,
            partial=partial,
            reason=reason,
        )

    return run_import(_opener(context, user), call, partial=partial, school_id=school_id)


def _count(db, model):
    with db.factory() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_push_records_marks_and_the_same_push_again_changes_nothing(db, context):
    with db.factory() as session:
        upn = _upn(session, db.world.pupil_oak)
    items = _items(
        upn, [("2024-11-18", "AM", "/"), ("2024-11-18", "PM", "\\"), ("2024-11-19", "AM", "N")]
    )
    first = _push(context, "oak_lead", items, school_id=db.world.oakfield)
    assert first.status == "imported", first.problems
    assert (first.counts["new"], first.counts["amended"]) == (3, 0)
    with db.factory() as session:
        extract = register_extract(
            session, db.world.pupil_oak, db.world.oakfield, MONDAY, date(2024, 11, 19)
        )
        assert extract == [
            (date(2024, 11, 18), "AM", "/"),
            (date(2024, 11, 18), "PM", "\\"),
            (date(2024, 11, 19), "AM", "N"),
        ]
    again = _push(context, "oak_lead", items, school_id=db.world.oakfield)
    assert again.status == "unchanged"
    assert again.counts["already_imported_as"] == first.batch_id
    assert _count(db, RegisterYear) == 1
    assert _count(db, MarkAmendment) == 0


def test_a_changed_mark_is_an_amendment_with_the_importer_and_the_reason(db, context):
    with db.factory() as session:
        upn = _upn(session, db.world.pupil_oak)
    _push(
        context, "oak_lead", _items(upn, [("2024-11-19", "AM", "N")]), school_id=db.world.oakfield
    )
    later = _push(
        context,
        "oak_lead",
        _items(upn, [("2024-11-19", "AM", "I")]),
        school_id=db.world.oakfield,
        reason="parent phoned: illness",
    )
    assert later.status == "imported"
    assert (later.counts["new"], later.counts["amended"]) == (0, 1)
    with db.factory() as session:
        (amendment,) = amendments_of(
            session, db.world.pupil_oak, db.world.oakfield, MONDAY, date(2024, 11, 22)
        )
    assert (amendment.original, amendment.new, amendment.reason) == (
        "N",
        "I",
        "parent phoned: illness",
    )
    assert (amendment.by_name, amendment.by_position) == ("Oak Lead", "School Staff")
    assert amendment.source == "import:json:test push"


def test_bad_rows_reject_the_whole_push_naming_line_field_value_and_rule(db, context):
    with db.factory() as session:
        upn = _upn(session, db.world.pupil_oak)
        hill_upn = _upn(session, db.world.pupil_hill)
    items = [
        *_items(
            upn,
            [
                ("2024-11-18", "AM", "/"),  # good
                ("2024-11-23", "AM", "/"),  # a Saturday
                ("2024-11-18", "PM", "Q9"),  # not a code
                ("2024-10-29", "AM", "/"),  # half term
            ],
        ),
        {"upn": hill_upn, "date": "2024-11-18", "session": "AM", "code": "/"},  # not on roll
        {"upn": "A123456789012", "date": "2024-11-18", "session": "AM", "code": "/"},  # check
        {"upn": upn, "date": "2024-11-18", "session": "EVE", "code": "/"},
        {"upn": upn, "date": "18/11/2024", "session": "AM", "code": "/"},
    ]
    result = _push(context, "oak_lead", items, school_id=db.world.oakfield)
    assert result.status == "rejected"
    found = {(p.line, p.field): p for p in result.problems}
    assert (
        found[(2, "date")].rule
        == "Sat 23 Nov 2024 AM is not a session of Oakfield Primary (weekend)"
    )
    assert found[(3, "code")].value == "Q9"
    assert found[(4, "date")].rule.startswith("Tue 29 Oct 2024 AM is not a session")
    assert found[(5, "upn")].rule == "no pupil with this UPN is on roll at Oakfield Primary"
    assert found[(6, "upn")].value == "A123456789012"
    assert (7, "session") in found and (8, "date") in found
    assert _count(db, RegisterYear) == 0  # nothing written, not even the good row
    with db.factory() as session:
        batch = session.scalars(select(ImportBatch)).one()
        assert (batch.status, batch.problem_count) == ("rejected", 7)
        assert batch.problems[0]["line"] == 2


def test_partial_import_writes_the_good_rows_and_reports_the_rest(db, context):
    with db.factory() as session:
        upn = _upn(session, db.world.pupil_oak)
    items = _items(upn, [("2024-11-18", "AM", "/"), ("2024-11-23", "AM", "/")])
    result = _push(context, "oak_lead", items, school_id=db.world.oakfield, partial=True)
    assert result.status == "partial"
    assert (result.counts["new"], result.counts["rows_skipped"]) == (1, 1)
    assert [p.line for p in result.problems] == [2]


def test_marks_outside_the_enrolment_are_refused(db, context):
    with db.factory() as session:
        upn = _upn(session, db.world.pupil_oak)
    # Enrolments in the test world start on 1 Sep 2020.
    result = _push(
        context, "oak_lead", _items(upn, [("2019-09-09", "AM", "/")]), school_id=db.world.oakfield
    )
    assert result.status == "rejected"
    (problem,) = result.problems
    assert problem.field == "date" and "outside the pupil's enrolment" in problem.rule


def test_a_school_cannot_import_for_another_school(db, context):
    with pytest.raises(NotFound):
        _push(context, "river_lead", [], school_id=db.world.oakfield)


def test_csv_import_through_a_named_mapping(db, context):
    with db.factory() as session:
        upn = _upn(session, db.world.pupil_oak)
    data = f"upn,date,session,code\n{upn},2024-11-18,AM,/\n{upn},2024-11-18,PM,L\n".encode()

    result = run_import(
        _opener(context, "oak_lead"),
        lambda ctx: import_csv(
            ctx, data, school_id=db.world.oakfield, mapping="canonical", file_name="day.csv"
        ),
        partial=False,
        school_id=db.world.oakfield,
    )
    assert result.status == "imported", result.problems
    assert result.counts["new"] == 2


# --- over HTTP --------------------------------------------------------------------------------


def _integration_token(db, school_key="oakfield") -> str:
    with db.factory() as session:
        admin = session.get(User, db.world.users["admin"])
        user = create_user(
            session,
            AddUser(
                username=f"mis_{school_key}",
                full_name="Oakfield MIS link",
                position="MIS integration",
                email="mis@example.org",
                role=Role.INTEGRATION,
                password=PASSWORD,
                school_ids=[getattr(db.world, school_key)],
            ),
            admin.la_id,
        )
        token = issue_token(
            session,
            user,
            name="Oakfield MIS",
            by=admin,
            now=datetime(2024, 11, 20, 9, 0, tzinfo=UTC),
        )
        session.commit()
        return token


def test_an_integration_pushes_marks_with_its_token(db, app):
    from litestar.testing import TestClient

    token = _integration_token(db)
    with db.factory() as session:
        upn = _upn(session, db.world.pupil_oak)
        hill = db.world.hillcrest
    client = TestClient(app)
    body = {"school_id": db.world.oakfield, "marks": _items(upn, [("2024-11-18", "AM", "/")])}
    refused = client.post("/api/integration/marks", json=body)
    assert refused.status_code == 401, refused.text
    wrong = client.post(
        "/api/integration/marks", json=body, headers={"Authorization": "Bearer cw_nonsense"}
    )
    assert wrong.status_code == 401
    ok = client.post(
        "/api/integration/marks", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["counts"]["new"] == 1
    status = client.get(
        f"/api/integration/{ok.json()['id']}", headers={"Authorization": f"Bearer {token}"}
    )
    assert status.json()["status"] == "imported"
    elsewhere = client.post(
        "/api/integration/marks",
        json={"school_id": hill, "marks": []},
        headers={"Authorization": f"Bearer {token}"},
    )
    # Outside the token's schools: refused naming the school, before anything is written.
    assert elsewhere.status_code == 403
    assert f"school_id = {hill}" in elsewhere.json()["detail"]
    # An integration never signs in interactively, even with a password.
    login = csrf_client(app).post(
        "/api/auth/login", json={"username": "mis_oakfield", "password": PASSWORD}
    )
    assert login.status_code == 401


def test_a_rejected_upload_answers_422_with_the_report(db, client_as):
    client = client_as("oak_lead")
    with db.factory() as session:
        upn = _upn(session, db.world.pupil_oak)
    response = client.post(
        f"/api/imports/csv?school_id={db.world.oakfield}&file_name=bad.csv",
        content=f"upn,date,session,code\n{upn},2024-11-23,AM,/\n".encode(),
    )
    assert response.status_code == 422
    body = response.json()
    assert body["errors"][0]["line"] == 2 and body["errors"][0]["field"] == "date"
    listed = client.get("/api/imports/").json()
    assert listed[0]["status"] == "rejected" and listed[0]["file_name"] == "bad.csv"
    assert client.get(f"/api/imports/{body['import']['id']}").json()["problem_count"] == 1
    # A finished import (even a rejected one) is no longer listed as running.
    assert client.get("/api/imports/running").json() == []
