"""``casework registers import-ctf / import-csv / scan / integration-token`` on SQLite and
PostgreSQL: what an operator runs by hand, with the same all-or-nothing rules as the API."""

from __future__ import annotations

from datetime import date

from click.testing import CliRunner
from sqlalchemy import func, select

from api.cli import main
from casework.calendars import school_calendar
from casework.models import ApiToken, ImportBatch, Pupil, PupilFlag, RegisterYear
from casework.registers.marks import session_index
from workflows.tokens import user_for_token


def _env(db, tmp_path, monkeypatch):
    monkeypatch.setenv("CASEWORK_DATABASE_URL", db.url)
    monkeypatch.setenv("CASEWORK_VAR_DIR", str(tmp_path))


def _csv(db, absent_code="O") -> bytes:
    """Oakfield's pupil: present every session from 2 Sep to Wed 20 Nov 2024 except six days
    of ``absent_code`` in the weeks of 4 and 11 November."""
    absent = {date(2024, 11, d) for d in (4, 5, 6, 11, 12, 13)}
    with db.factory() as session:
        upn = session.get(Pupil, db.world.pupil_oak).upn
        index = session_index(school_calendar(session, db.world.oakfield), 2024)
    lines = ["upn,date,session,code"]
    for day, name in index.sessions:
        if day > date(2024, 11, 20):
            break
        code = absent_code if day in absent else ("/" if name == "AM" else "\\")
        lines.append(f"{upn},{day.isoformat()},{name},{code}")
    return ("\n".join(lines) + "\n").encode()


def test_import_a_csv_then_scan(db, tmp_path, monkeypatch):
    _env(db, tmp_path, monkeypatch)
    path = tmp_path / "oakfield.csv"
    path.write_bytes(_csv(db))
    runner = CliRunner()
    args = ["registers", "import-csv", str(path), "--school", "900001", "--as", "oak_lead"]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "oakfield.csv: imported" in first.output
    again = runner.invoke(main, args)
    assert "oakfield.csv: unchanged" in again.output
    scanned = runner.invoke(main, ["registers", "scan", "--date", "2024-11-20"])
    assert scanned.exit_code == 0, scanned.output
    assert f"LA {db.world.la} on 2024-11-20: 1 pupils" in scanned.output
    with db.factory() as session:
        flags = set(session.scalars(select(PupilFlag.flag)))
        assert "penalty_threshold" in flags
        assert [
            b.status for b in session.scalars(select(ImportBatch).order_by(ImportBatch.id))
        ] == [
            "imported",
            "unchanged",
        ]


def test_a_rejected_file_exits_1_and_names_the_problem(db, tmp_path, monkeypatch):
    _env(db, tmp_path, monkeypatch)
    path = tmp_path / "bad.csv"
    path.write_bytes(_csv(db).replace(b",O\n", b",Q9\n", 1))
    result = CliRunner().invoke(
        main, ["registers", "import-csv", str(path), "--school", "900001", "--as", "oak_lead"]
    )
    assert result.exit_code == 1
    assert "bad.csv: rejected" in result.output and "code = 'Q9'" in result.output
    with db.factory() as session:
        assert session.scalar(select(func.count()).select_from(RegisterYear)) == 0


def test_an_administrator_issues_an_integration_token(db, tmp_path, monkeypatch):
    _env(db, tmp_path, monkeypatch)
    result = CliRunner().invoke(
        main,
        [
            "registers", "integration-token", "--la", "340", "--school", "900001",
            "--name", "Oakfield MIS", "--by", "admin",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    with db.factory() as session:
        user = user_for_token(session, token)
        assert user is not None and user.school_ids == frozenset({db.world.oakfield})
        stored = session.scalars(select(ApiToken)).one()
        assert stored.token_sha256 != token and token not in stored.token_sha256


def test_import_ctf_files_read_ahead_each_all_or_nothing(db, tmp_path, monkeypatch):
    from casework.synthetic.files import ctf_version
    from casework.upn import make_upn
    from tests.integration.test_ctf_import import _file, _index, _present, _pupil, _year

    _env(db, tmp_path, monkeypatch)
    index = _index(db)
    good = tmp_path / "good.xml"
    data = _file(_pupil(make_upn(340, 2001, 24, 901), "Rin", year=_year(index, _present)))
    # The command accepts the CTF versions of the real date (the current and the previous).
    current = ctf_version(date.today()).encode()
    assert data.count(b">24.0<") == 1
    good.write_bytes(data.replace(b">24.0<", b">" + current + b"<"))
    hostile = tmp_path / "hostile.xml"
    hostile.write_bytes(b'<!DOCTYPE x [<!ENTITY e "e">]><CTfile/>')
    result = CliRunner().invoke(
        main,
        ["registers", "import-ctf", str(good), str(hostile), "--as", "admin"],
        catch_exceptions=False,
    )
    assert "good.xml: imported" in result.output, result.output
    assert "hostile.xml: rejected" in result.output
    assert result.exit_code == 1
    with db.factory() as session:
        batches = {b.file_name: b.status for b in session.scalars(select(ImportBatch))}
    assert batches == {"good.xml": "imported", "hostile.xml": "rejected"}
