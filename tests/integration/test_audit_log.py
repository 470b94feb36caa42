"""The audit log as its readers rely on it: every look at a child's record, through the API or
the pages, allowed or refused, leaves a chained entry naming who, what, which route and the
outcome; the chain verifies, and an edited row is found."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from casework import audit
from casework.db import WRITE_INTENT
from casework.models import AuditEntry, User
from workflows.cases import OpenCase, open_case

HTML = {"Accept": "text/html"}


def _entries(db) -> list[AuditEntry]:
    with db.factory() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def _open_case(context, db) -> int:
    ctx = context("oak_lead")
    case_id = open_case(ctx, OpenCase(db.world.pupil_oak, db.world.oakfield, reason="93%")).id
    ctx.commit()
    return case_id


def test_reading_a_pupil_and_a_case_records_who_what_route_and_outcome(client_as, context, db):
    case_id = _open_case(context, db)
    client = client_as("oak_lead")
    before = len(_entries(db))
    assert client.get(f"/api/pupils/{db.world.pupil_oak}?q=Ashdown").status_code == 200
    assert client.get(f"/cases/{case_id}", headers=HTML).status_code == 200
    pupil_read, case_read = _entries(db)[before:]

    assert (pupil_read.actor_id, pupil_read.actor_username) == (
        db.world.users["oak_lead"],
        "oak_lead",
    )
    assert pupil_read.la_id == db.world.la
    assert (pupil_read.action, pupil_read.record_type) == ("read", "pupil")
    assert pupil_read.record_id == str(db.world.pupil_oak)
    assert pupil_read.pupil_id == db.world.pupil_oak
    # The route template: never the query string, never a name.
    assert pupil_read.route == "GET /api/pupils/{pupil_id}"
    assert pupil_read.outcome == "200"
    # A case's entry names the pupil it is about, so the pupil's access history finds it.
    assert (case_read.record_type, case_read.record_id) == ("case", str(case_id))
    assert case_read.pupil_id == db.world.pupil_oak
    assert case_read.route == "GET /cases/{case_id}"
    assert case_read.prev_hash == pupil_read.entry_hash


def test_a_refused_look_outside_scope_is_recorded_with_its_404(client_as, db):
    client = client_as("oak_lead")
    before = len(_entries(db))
    assert client.get(f"/api/pupils/{db.world.pupil_hill}").status_code == 404
    assert client.get(f"/pupils/{db.world.pupil_hill}", headers=HTML).status_code == 404
    api, page = _entries(db)[before:]
    for entry in (api, page):
        assert entry.actor_username == "oak_lead"
        assert entry.pupil_id == db.world.pupil_hill
        assert entry.outcome == "404"


def test_a_write_that_fails_keeps_its_entry(client_as, db):
    client = client_as("oak_lead")
    before = len(_entries(db))
    refused = client.post(
        "/api/cases",
        json={"pupil_id": db.world.pupil_hill, "school_id": db.world.hillcrest, "stage": "expect"},
    )
    assert refused.status_code >= 400
    (entry,) = _entries(db)[before:]
    assert (entry.action, entry.record_type, entry.route) == ("write", "case", "POST /api/cases")
    assert entry.outcome == str(refused.status_code)


def test_downloads_and_exports_are_recorded_as_such(client_as, db):
    client = client_as("manager")
    before = len(_entries(db))
    assert client.get("/caseload/export.csv").status_code == 200
    (entry,) = _entries(db)[before:]
    assert (entry.action, entry.record_type) == ("export", "case")


def test_pages_that_hold_no_child_record_are_not_audited(client_as, db):
    client = client_as("admin")
    before = len(_entries(db))
    for address in ("/admin/profile", "/static/casework.css", "/health"):
        client.get(address, headers=HTML)
    assert _entries(db)[before:] == []


def test_sign_in_and_out_are_recorded_once_each_with_their_outcome(app, db):
    from tests.conftest import csrf_client
    from tests.support.world import PASSWORD

    client = csrf_client(app)
    before = len(_entries(db))
    wrong = client.post("/api/auth/login", json={"username": "nobody", "password": "wrong"})
    assert wrong.status_code == 401
    right = client.post("/api/auth/login", json={"username": "traded", "password": PASSWORD})
    assert right.status_code == 200
    assert client.post("/api/auth/logout").status_code == 204
    failed, signed_in, signed_out = _entries(db)[before:]
    assert (failed.action, failed.outcome, failed.actor_id) == ("sign_in", "refused", None)
    assert failed.actor_username == "nobody"
    assert (signed_in.action, signed_in.outcome) == ("sign_in", "ok")
    assert signed_in.actor_id == db.world.users["traded"]
    assert (signed_out.action, signed_out.outcome) == ("sign_out", "ok")
    assert signed_out.actor_username == "traded"


def test_the_chain_verifies_then_an_edited_row_is_named(client_as, context, db):
    case_id = _open_case(context, db)
    client = client_as("manager")
    for address in (f"/api/pupils/{db.world.pupil_oak}", f"/api/cases/{case_id}", "/api/cases"):
        assert client.get(address).status_code == 200
    with db.factory() as session:
        found = audit.verify(session)
    assert found.intact and found.checked == len(_entries(db)) >= 4

    edited = _entries(db)[1]
    with db.factory() as session:
        # The append-only trigger refuses the edit, so a tamperer would have to drop it first.
        if db.name == "postgresql":
            session.execute(text("DROP TRIGGER audit_entry_append_only ON audit_entry"))
        else:
            session.execute(text("DROP TRIGGER audit_entry_no_update"))
        session.execute(
            text("UPDATE audit_entry SET actor_username = 'someone_else' WHERE id = :id"),
            {"id": edited.id},
        )
        session.commit()
    with db.factory() as session:
        found = audit.verify(session)
    assert not found.intact
    assert found.broken_id == edited.id
    assert found.checked == 1
    assert "contents" in found.problem


def test_the_append_only_trigger_refuses_an_edit(client_as, db):
    client_as("manager").get(f"/api/pupils/{db.world.pupil_oak}")
    with db.factory() as session, pytest.raises(Exception, match="append-only"):
        session.execute(text("UPDATE audit_entry SET outcome = '200'"))
        session.flush()


@pytest.mark.parametrize("threads", [8])
def test_concurrent_writers_keep_one_unbroken_chain(db, threads):
    """Many requests at once (PostgreSQL: the advisory lock; SQLite: the write lock) append to
    one chain: no fork, no duplicate link."""
    each = 15
    errors: list[BaseException] = []
    at = datetime(2024, 11, 20, 10, 0, tzinfo=UTC)

    def write(n: int) -> None:
        try:
            for i in range(each):
                with db.factory() as session:
                    # As every writer does: on SQLite, the write lock from BEGIN on.
                    session.connection(execution_options={WRITE_INTENT: True})
                    actor = session.get(User, db.world.users["manager"])
                    audit.record(
                        session,
                        actor=actor,
                        action="read",
                        record_type="pupil",
                        record_id=n * 1000 + i,
                        pupil_id=db.world.pupil_oak,
                        route="GET /api/pupils/{pupil_id}",
                        outcome="200",
                        at=at,
                    )
                    session.commit()
        except BaseException as exc:  # surfaced below: a thread's failure fails the test
            errors.append(exc)

    workers = [threading.Thread(target=write, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    with db.factory() as session:
        found = audit.verify(session)
        links = session.scalars(select(AuditEntry.prev_hash)).all()
    assert found.intact, found
    assert found.checked == threads * each
    assert len(set(links)) == len(links)


def test_an_integrations_import_names_the_tokens_user(db, app):
    from litestar.testing import TestClient

    from casework.models import Pupil
    from casework.vocabulary import Role
    from tests.support.world import PASSWORD
    from workflows.registry import AddUser, create_user
    from workflows.tokens import issue_token

    with db.factory() as session:
        admin = session.get(User, db.world.users["admin"])
        mis = create_user(
            session,
            AddUser(
                username="oak_mis",
                full_name="Oakfield MIS",
                position="Integration",
                email="mis@example.org",
                role=Role.INTEGRATION,
                password=PASSWORD,
                school_ids=[db.world.oakfield],
            ),
            admin.la_id,
        )
        token = issue_token(
            session, mis, name="Oakfield MIS", by=admin, now=datetime(2024, 11, 20, tzinfo=UTC)
        )
        upn = session.get(Pupil, db.world.pupil_oak).upn
        session.commit()
    before = len(_entries(db))
    pushed = TestClient(app).post(
        "/api/integration/marks",
        json={
            "school_id": db.world.oakfield,
            "marks": [{"upn": upn, "date": "2024-11-18", "session": "AM", "code": "/"}],
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert pushed.status_code == 201, pushed.text
    (entry,) = _entries(db)[before:]
    assert (entry.actor_username, entry.action, entry.record_type) == ("oak_mis", "write", "import")
    assert entry.route == "POST /api/integration/marks" and entry.outcome == "201"


def test_a_reply_is_never_sent_unrecorded(client_as, db, monkeypatch):
    """If the entry cannot be written, the record is not shown: a server error instead."""
    import api.audit

    client = client_as("oak_lead")

    def broken(*_, **__):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(api.audit.audit, "record", broken)
    for address, headers in ((f"/api/pupils/{db.world.pupil_oak}", {}), ("/caseload", HTML)):
        answer = client.get(address, headers=headers)
        assert answer.status_code == 500
        assert "Ashdown" not in answer.text


def test_hostile_path_values_are_still_recorded_within_the_columns(client_as, db):
    client = client_as("manager")
    before = len(_entries(db))
    huge = 10**70
    answer = client.get(f"/api/cases/{huge}")
    assert b"could not record" not in answer.content
    (entry,) = _entries(db)[before:]
    assert entry.record_id == str(huge)[:64] and entry.pupil_id is None
    with db.factory() as session:
        assert audit.verify(session).intact
