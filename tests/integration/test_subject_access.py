"""Subject access export: one pupil's records as a ZIP, complete and described, deterministic,
for LA managers and administrators of the pupil's LA only (404 for anyone else), recorded in
the audit log, over the API, the page and the command. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import zipfile
from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from api.cli import main
from casework.errors import InvalidInput, NotFound
from casework.models import AuditEntry, LocalAuthority, User
from casework.registers.store import record_marks
from casework.vocabulary import Role
from tests.integration.test_retention import CLOSED_AT, closed_case
from tests.support.world import PASSWORD
from workflows.context import Context
from workflows.registry import AddUser, create_user
from workflows.subject_access import export_pupil

MONDAY = date(2024, 11, 18)  # Knowsley 2024/25, autumn term after half term
BY = (None, "Olive Lead", "Attendance lead")
SIBLING = "Bella"  # pupil_river, Amelia's sister: her records are hers


@pytest.fixture
def held(db, context) -> int:
    """Amelia (pupil_oak) with a closed case and a week of marks, one of them amended."""
    case_id = closed_case(db, context)
    with db.factory() as session:
        week = [
            (MONDAY + timedelta(days=d), s, code)
            for d in range(5)
            for s, code in (("AM", "/"), ("PM", "N" if d == 2 else "\\"))
        ]
        for marks, reason in ((week, None), ([(MONDAY + timedelta(days=2), "PM", "M")], "GP")):
            record_marks(
                session,
                pupil_id=db.world.pupil_oak,
                school_id=db.world.oakfield,
                marks=marks,
                by=BY,
                reason=reason,
                source="manual",
                at=CLOSED_AT,
            )
        session.commit()
    return case_id


def _export(context, username: str, pupil_id: int, route: str | None = None):
    ctx = context(username)
    found = export_pupil(ctx, pupil_id, reason="SAR-2024-0031", route=route)
    ctx.commit()
    return found


def _files(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as bundle:
        return {name: bundle.read(name) for name in bundle.namelist()}


def test_the_export_holds_everything_and_describes_every_file(db, context, held):
    found = _export(context, "manager", db.world.pupil_oak)
    files = _files(found.content)
    assert found.sha256 == hashlib.sha256(found.content).hexdigest()
    assert list(files)[:2] == ["README.txt", "index.json"]
    index = json.loads(files["index.json"])
    assert index["request_reference"] == "SAR-2024-0031"
    listed = {f["name"]: f for f in index["files"]}
    assert set(listed) == set(files) - {"README.txt", "index.json"}
    for name, entry in listed.items():
        assert entry["sha256"] == hashlib.sha256(files[name]).hexdigest(), name
        assert entry["about"] and entry["name"] in files["README.txt"].decode()

    pupil = json.loads(files["pupil.json"])
    assert (pupil["legal_forename"], pupil["date_of_birth"]) == ("Amelia", "2015-03-02")
    parents = json.loads(files["contacts.json"])
    assert sorted(p["contact"]["forename"] for p in parents) == ["Dana", "Evan"]
    register = files[f"registers/2024-25-school-{db.world.oakfield}.csv"].decode()
    assert "2024-11-20,PM,M" in register  # the amended mark, as it stands
    assert "2024-11-20,PM,N,M,GP" in files["registers/amendments.csv"].decode()

    [case_dir] = {n.split("/")[1] for n in files if n.startswith("cases/")}
    case = f"cases/{case_dir}"
    assert json.loads(files[f"{case}/case.json"])["id"] == held
    kinds = [e["kind"] for e in json.loads(files[f"{case}/events.json"])]
    assert kinds[0] == "opened" and "closed" in kinds
    assert json.loads(files[f"{case}/interventions.json"])[0]["kind"] == "phone_call"
    [attachment] = [n for n in files if n.startswith(f"{case}/attachments/")]
    assert files[attachment] == b"%PDF-1.4 note"
    [email] = json.loads(files[f"{case}/emails.json"])
    assert [h["kind"] for h in email["history"]] == ["sent"]

    everything = b"".join(files.values()).decode(errors="replace")
    assert SIBLING not in everything


def test_the_export_is_deterministic(db, context, held):
    first = _export(context, "manager", db.world.pupil_oak)
    again = _export(context, "manager", db.world.pupil_oak)
    assert first.content == again.content


def test_the_access_history_is_in_the_export(db, context, held):
    _export(context, "manager", db.world.pupil_oak, route="cli: casework pupils export")
    files = _files(_export(context, "admin", db.world.pupil_oak).content)
    history = files["access_history.csv"].decode().splitlines()
    assert history[0] == "at,actor_username,action,record_type,record_id,route,outcome"
    assert any(",manager,export,pupil," in line for line in history[1:])


@pytest.mark.parametrize(
    ("username", "allowed"),
    [
        ("manager", True),
        ("admin", True),
        ("statutory", False),
        ("traded", False),
        ("oak_lead", False),
    ],
)
def test_only_managers_and_administrators_may_export(db, context, username, allowed):
    if allowed:
        assert _export(context, username, db.world.pupil_oak).files > 2
    else:
        with pytest.raises(NotFound):
            _export(context, username, db.world.pupil_oak)


def test_a_manager_of_another_la_gets_not_found(db, context, clock):
    with db.factory() as session:
        other = LocalAuthority(la_number="341", name="Elsewhere", profile="essex")
        session.add(other)
        session.flush()
        user = create_user(
            session,
            AddUser(
                username="elsewhere_manager",
                full_name="Elsewhere Manager",
                position="Manager",
                email="elsewhere@example.org",
                role=Role.LA_MANAGER,
                password=PASSWORD,
                school_ids=[],
            ),
            other.id,
        )
        session.commit()
        ctx = Context.build(session, session.get(User, user.id), clock)
        with pytest.raises(NotFound):
            export_pupil(ctx, db.world.pupil_oak, reason="SAR-1", route=None)
        with pytest.raises(NotFound):
            export_pupil(ctx, 999_999, reason="SAR-1", route=None)


@pytest.mark.parametrize("reason", ["", "   ", "x" * 201, "SAR-1\nline two"])
def test_a_missing_or_bad_reference_is_refused_naming_the_field(db, context, reason):
    with pytest.raises(InvalidInput) as refused:
        export_pupil(context("manager"), db.world.pupil_oak, reason=reason, route=None)
    assert refused.value.problems[0].field == "reason"


# --- the API, the page and the command ----------------------------------------------------------


def _exports(db) -> list[AuditEntry]:
    with db.factory() as session:
        return list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.action == "export").order_by(AuditEntry.id)
            )
        )


def test_the_api_returns_the_zip_and_records_the_export(db, held, client_as):
    client = client_as("manager")
    url = f"/api/pupils/{db.world.pupil_oak}/subject-access-export"
    response = client.post(url, json={"reason": "SAR-2024-0031"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    assert "pupil.json" in _files(response.content)
    [entry] = _exports(db)
    assert (entry.record_type, entry.pupil_id, entry.actor_username) == (
        "pupil",
        db.world.pupil_oak,
        "manager",
    )

    assert client.post(url, json={"reason": ""}).status_code == 400
    assert client.post(url, json={}).status_code == 400
    refused = client_as("oak_lead").post(url, json={"reason": "SAR-2024-0031"})
    assert refused.status_code == 404


def test_the_page_confirms_with_a_reference_then_downloads(db, held, client_as):
    manager = client_as("manager")
    pupil_page = manager.get(f"/pupils/{db.world.pupil_oak}")
    assert f'href="/pupils/{db.world.pupil_oak}/subject-access"' in pupil_page.text
    page = manager.get(f"/pupils/{db.world.pupil_oak}/subject-access")
    assert page.status_code == 200
    assert "Subject access request reference" in page.text

    blank = manager.post(f"/pupils/{db.world.pupil_oak}/subject-access", data={"reason": ""})
    assert blank.status_code == 422
    assert "Request reference: give the subject access request" in blank.text

    done = manager.post(
        f"/pupils/{db.world.pupil_oak}/subject-access", data={"reason": "SAR-2024-0031"}
    )
    assert done.status_code == 200
    assert done.headers["content-type"] == "application/zip"
    assert "index.json" in _files(done.content)

    school = client_as("oak_lead")
    assert "subject-access" not in school.get(f"/pupils/{db.world.pupil_oak}").text
    assert school.get(f"/pupils/{db.world.pupil_oak}/subject-access").status_code == 404


def test_the_command_writes_the_zip_and_records_the_export(db, held, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("CASEWORK_DATABASE_URL", db.url)
    monkeypatch.setenv("CASEWORK_VAR_DIR", str(tmp_path))
    out = tmp_path / "sar.zip"
    args = ["pupils", "export", str(db.world.pupil_oak), "--out", str(out)]
    with caplog.at_level(logging.DEBUG):
        done = CliRunner().invoke(main, [*args, "--as", "manager", "--reason", "SAR-7"])
    assert done.exit_code == 0, done.output
    assert "pupil.json" in _files(out.read_bytes())
    [entry] = _exports(db)
    assert entry.route == "cli: casework pupils export"
    logged = done.output + "\n".join(r.getMessage() for r in caplog.records)
    for name in ("Amelia", "Ashdown", "Dana"):
        assert name not in logged

    again = CliRunner().invoke(main, [*args, "--as", "manager", "--reason", "SAR-7"])
    assert again.exit_code != 0 and "the file exists" in again.output
    other = tmp_path / "other.zip"
    as_school = ["pupils", "export", str(db.world.pupil_oak), "--out", str(other)]
    refused = CliRunner().invoke(main, [*as_school, "--as", "oak_lead", "--reason", "SAR-7"])
    assert refused.exit_code != 0 and "not found" in refused.output
    assert not other.exists()


def test_the_purge_command_prints_counts(db, held, tmp_path, monkeypatch):
    monkeypatch.setenv("CASEWORK_DATABASE_URL", db.url)
    monkeypatch.setenv("CASEWORK_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("CASEWORK_REGISTER_RETENTION_YEARS", raising=False)
    done = CliRunner().invoke(main, ["retention", "purge", "--dry-run"])
    assert done.exit_code == 0, done.output
    assert "cases: 0 due (dry run: nothing was deleted)" in done.output
    assert "Amelia" not in done.output


@pytest.mark.parametrize("pupil_id", [0, -1, 2**31, 2**63])
def test_an_id_out_of_range_is_not_found(db, context, pupil_id):
    with pytest.raises(NotFound):
        export_pupil(context("manager"), pupil_id, reason="SAR-1", route=None)
