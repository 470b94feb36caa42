"""``casework audit verify`` and ``casework audit export``: the acceptance of issue 9's audit log
on a seeded world. People use the service, verify passes; one row is edited behind the
append-only trigger's back, verify fails naming it."""

from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from api.cli import main
from casework.models import AuditEntry

HTML = {"Accept": "text/html"}


@pytest.fixture
def cli(db, tmp_path, monkeypatch):
    monkeypatch.setenv("CASEWORK_DATABASE_URL", db.url)
    monkeypatch.setenv("CASEWORK_VAR_DIR", str(tmp_path))

    def run(*args: str):
        return CliRunner().invoke(main, ["audit", *args])

    return run


def _use_the_service(client_as, db) -> None:
    manager, school = client_as("manager"), client_as("oak_lead")
    for client, address in (
        (manager, f"/pupils/{db.world.pupil_oak}"),
        (manager, f"/api/pupils/{db.world.pupil_river}"),
        (school, f"/api/pupils/{db.world.pupil_oak}"),
        (school, f"/api/pupils/{db.world.pupil_hill}"),  # outside scope: 404, recorded
        (manager, "/caseload/export.csv"),
    ):
        client.get(address, headers=HTML)


def _drop_the_trigger(session, engine_name: str) -> None:
    if engine_name == "postgresql":
        session.execute(text("DROP TRIGGER audit_entry_append_only ON audit_entry"))
    else:
        session.execute(text("DROP TRIGGER audit_entry_no_update"))


def test_verify_passes_then_fails_naming_the_edited_row(cli, client_as, db):
    _use_the_service(client_as, db)
    with db.factory() as session:
        ids = session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)).all()
    assert len(ids) >= 5

    intact = cli("verify")
    assert intact.exit_code == 0, intact.output
    first_line, last_line = intact.output.strip().splitlines()
    assert first_line == f"audit chain intact: {len(ids)} entries"
    with db.factory() as session:
        last = session.get(AuditEntry, ids[-1])
    # The head, to note down: a later verify showing an older head means entries were cut.
    assert last_line == f"last entry {last.id}: {last.entry_hash}"

    edited = ids[len(ids) // 2]
    with db.factory() as session:
        _drop_the_trigger(session, db.name)
        session.execute(
            text("UPDATE audit_entry SET actor_username = 'someone_else' WHERE id = :id"),
            {"id": edited},
        )
        session.commit()
    broken = cli("verify")
    assert broken.exit_code == 1
    assert f"audit chain broken at entry {edited}:" in broken.output
    assert f"({ids.index(edited)} entries before it are intact)" in broken.output


def test_a_deleted_row_breaks_the_link_of_the_next(cli, client_as, db):
    _use_the_service(client_as, db)
    with db.factory() as session:
        ids = session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)).all()
        if db.name == "postgresql":
            session.execute(text("DROP TRIGGER audit_entry_append_only ON audit_entry"))
        else:
            session.execute(text("DROP TRIGGER audit_entry_no_delete"))
        session.execute(text("DELETE FROM audit_entry WHERE id = :id"), {"id": ids[2]})
        session.commit()
    broken = cli("verify")
    assert broken.exit_code == 1
    assert f"entry {ids[3]}: prev_hash does not match" in broken.output


def test_export_writes_one_pupils_access_history_and_is_audited_itself(
    cli, client_as, db, tmp_path
):
    _use_the_service(client_as, db)
    out = tmp_path / "history.csv"
    done = cli("export", "--pupil", str(db.world.pupil_oak), "--out", str(out))
    assert done.exit_code == 0, done.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [(r["user"], r["route"], r["outcome"]) for r in rows] == [
        ("manager", "GET /pupils/{pupil_id}", "200"),
        ("oak_lead", "GET /api/pupils/{pupil_id}", "200"),
    ]
    assert done.output.strip() == f"2 entries written to {out}"
    with db.factory() as session:
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (last.action, last.record_type, last.pupil_id) == (
        "export",
        "audit_log",
        db.world.pupil_oak,
    )
    assert last.route == "cli: casework audit export"
    assert cli("verify").exit_code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pupil", "999999"], "no pupil has id 999999"),
        (["--pupil", "1", "--from", "2024-12-01", "--to", "2024-11-01"], "the range must run"),
        (["--pupil", "1", "--from", "1 December"], "'1 December' does not match the format"),
    ],
)
def test_export_refuses_bad_options_and_writes_nothing(cli, db, tmp_path, args, message):
    out = tmp_path / "history.csv"
    refused = cli("export", *args, "--out", str(out))
    assert refused.exit_code == 2
    assert message in refused.output
    assert not out.exists()
