"""The ``casework`` command line: migrations, users and the workflow diagram."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from api.cli import main
from casework.db import make_engine, make_session_factory
from casework.models import LocalAuthority, User
from casework.passwords import verify_password
from workflows.diagram import mermaid


def test_workflow_diagram_prints_the_machine():
    result = CliRunner().invoke(main, ["workflow", "diagram"])
    assert result.exit_code == 0
    assert result.output == mermaid()


def test_db_upgrade_then_user_add(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("CASEWORK_DATABASE_URL", url)
    monkeypatch.setenv("CASEWORK_VAR_DIR", str(tmp_path))
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        session.add(LocalAuthority(la_number="881", name="Essex (synthetic)", profile="essex"))
        session.commit()
    args = [
        "user",
        "add",
        "--username",
        "first.admin",
        "--full-name",
        "Ada Example",
        "--position",
        "System administrator",
        "--email",
        "ada@example.org",
        "--role",
        "admin",
        "--la",
        "881",
    ]
    added = runner.invoke(main, args, input="a-long-passphrase\na-long-passphrase\n")
    assert added.exit_code == 0, added.output
    with make_session_factory(engine)() as session:
        user = session.scalars(select(User).where(User.username == "first.admin")).one()
        assert user.role == "admin"
        assert verify_password(user.password_hash, "a-long-passphrase")

    again = runner.invoke(main, args, input="a-long-passphrase\na-long-passphrase\n")
    assert again.exit_code != 0 and "first.admin is taken" in again.output
    short = runner.invoke(main, [*args[:3], "second", *args[4:]], input="short\nshort\n")
    assert short.exit_code != 0 and "at least 12 characters" in short.output
    unknown_la = runner.invoke(
        main,
        [*args[:3], "third", *args[4:-1], "999"],
        input="a-long-passphrase\na-long-passphrase\n",
    )
    assert unknown_la.exit_code != 0 and "no LA numbered 999" in unknown_la.output
    engine.dispose()
