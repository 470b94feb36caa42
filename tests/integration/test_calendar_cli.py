"""``casework calendar``: the issue's acceptance example on the synthetic world, whose Oakfield
Primary (URN 900001, Knowsley LA 340) takes its calendar from config/calendars/knowsley.toml."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from click.testing import CliRunner

from api.cli import main
from casework.models import SchoolCalendarOverride


@pytest.fixture
def run(db, tmp_path, monkeypatch):
    monkeypatch.setenv("CASEWORK_DATABASE_URL", db.url)
    monkeypatch.setenv("CASEWORK_VAR_DIR", str(tmp_path))

    def invoke(*args: str):
        return CliRunner().invoke(main, ["calendar", *args])

    return invoke


ACCEPTANCE = ["--school", "900001", "--from", "2024-10-14", "--duration", "3 school weeks"]


def test_add_prints_the_date_first(run):
    result = run("add", *ACCEPTANCE)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "2024-11-11"
    assert lines[1] == (
        "counted on Oakfield Primary's calendar: 3 school weeks after Mon 14 Oct 2024 is "
        "Mon 11 Nov 2024"
    )


def test_explain_shows_the_half_term_week_skipped(run):
    result = run("explain", *ACCEPTANCE)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "On Oakfield Primary's calendar:",
        "3 school weeks after Mon 14 Oct 2024:",
        "  week of Mon 21 Oct 2024: school week 1, 5 school days",
        "  week of Mon 28 Oct 2024: skipped (October half term)",
        "  week of Mon 4 Nov 2024: school week 2, 5 school days",
        "  week of Mon 11 Nov 2024: school week 3, 5 school days",
        "  => Mon 11 Nov 2024 (Monday of school week 3)",
    ]


def test_the_schools_own_changes_count(run, db):
    with db.factory() as session:
        session.add(
            SchoolCalendarOverride(
                school_id=db.world.oakfield,
                academic_year=2024,
                kind="inset_day",
                first_day=date(2024, 11, 11),
                last_day=date(2024, 11, 11),
                session="both",
                reason="Staff training",
                recorded_by_id=db.world.users["oak_lead"],
                recorded_at=datetime(2024, 11, 1, tzinfo=UTC),
            )
        )
        session.commit()
    assert run("add", *ACCEPTANCE).output.splitlines()[0] == "2024-11-12"
    # Riverside keeps the LA's dates.
    riverside = ["--school", "900002", *ACCEPTANCE[2:]]
    assert run("add", *riverside).output.splitlines()[0] == "2024-11-11"


def test_show_prints_a_year(run):
    result = run("show", "--school", "900001", "--year", "2024")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Oakfield Primary, 2024/25 (published; source: https://")
    assert "  autumn term: Mon 2 Sep 2024 to Fri 20 Dec 2024" in lines
    assert "    October half term: Mon 28 Oct 2024 to Fri 1 Nov 2024" in lines
    assert "  bank holiday: Fri 18 Apr 2025 Good Friday" in lines
    assert lines[-1] == "  195 school days, 390 sessions"
    later = run("show", "--school", "900001", "--year", "2026").output
    assert "(provisional: generated from the LA's pattern;" in later


def test_unknown_school_and_unreadable_duration_are_refused(run):
    unknown = run("add", "--school", "999999", *ACCEPTANCE[2:])
    assert unknown.exit_code != 0 and "no school with URN 999999" in unknown.output
    vague = run("add", "--school", "900001", "--from", "2024-10-14", "--duration", "3 weeks")
    assert vague.exit_code != 0
    assert "cannot read '3 weeks' as a duration" in vague.output
    assert "school weeks" in vague.output
