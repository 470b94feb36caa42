"""Keeping registers at least 6 years, and no longer than configured, on SQLite and PostgreSQL:
the purge deletes expired years with their amendments and keeps the rest, the database itself
refuses to delete an amendment inside the minimum (and any UPDATE), the setting refuses less than
6 years, and the CLI and the scheduler's daily job report counts only."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from click.testing import CliRunner
from sqlalchemy import exc, func, insert, select, text

from api.cli import main
from casework.calendars import school_calendar
from casework.calendars.model import academic_year_of
from casework.clock import FixedClock
from casework.errors import InvalidInput
from casework.models import MarkAmendment, RegisterYear
from casework.registers.marks import session_index
from casework.registers.retention import YearPurged, last_expired_year, purge_expired
from casework.registers.store import record_marks, retained_until
from config.settings import Settings, register_retention_years
from workflows.scheduler import _purge_job, configure

BY = (None, "Olive Lead", "Attendance lead")
WHEN = datetime(2024, 11, 20, 10, 0, tzinfo=UTC)
# A date the tests may treat as "today": never after the real date (the purge refuses that).
TODAY = date(2026, 8, 1)  # 2026/27 has begun: with 6 years, 2019/20 and earlier have expired


def _register(session, world, year: int, amended: bool = True) -> None:
    """The Oakfield pupil's register for ``year``: one mark, corrected once if ``amended``."""
    index = session_index(school_calendar(session, world.oakfield), year)
    day, name = index.sessions[20]
    for code, reason in (("/", None), ("N", "register corrected")) if amended else (("/", None),):
        record_marks(
            session,
            pupil_id=world.pupil_oak,
            school_id=world.oakfield,
            marks=[(day, name, code)],
            by=BY,
            reason=reason,
            source="manual",
            at=WHEN,
        )


@pytest.fixture
def years_of_registers(db):
    with db.factory() as session:
        for year in (2016, 2019, 2020, 2024):
            _register(session, db.world, year)
        session.commit()


def _held(db) -> tuple[list[int], list[int]]:
    """Academic years of the registers held, and of the amendments held."""
    with db.factory() as session:
        registers = session.scalars(
            select(RegisterYear.academic_year).order_by(RegisterYear.academic_year)
        )
        amendments = session.scalars(
            select(RegisterYear.academic_year)
            .join(MarkAmendment, MarkAmendment.register_year_id == RegisterYear.id)
            .order_by(RegisterYear.academic_year)
        )
        return list(registers), list(amendments)


def test_the_last_expired_year_follows_retained_until():
    assert last_expired_year(date(2026, 7, 31), 6) == 2018
    assert last_expired_year(date(2026, 8, 1), 6) == 2019
    assert retained_until(2019, 6) == date(2026, 8, 1)
    assert last_expired_year(date(2026, 8, 1), 10) == 2015


def test_purging_deletes_expired_years_and_their_amendments_and_keeps_the_rest(
    db, years_of_registers
):
    with db.factory() as session:
        report = purge_expired(session, today=TODAY, years=6)
        session.commit()
    assert report.years == (YearPurged(2016, 1, 1), YearPurged(2019, 1, 1))
    assert (report.registers, report.amendments, report.last_expired) == (2, 2, 2019)
    assert _held(db) == ([2020, 2024], [2020, 2024])
    assert report.lines() == [
        "registers are kept 6 years from the end of each academic year: on Sat 1 Aug 2026, "
        "2019/20 and earlier have expired",
        "  2016/17: 1 register, 1 amendment deleted",
        "  2019/20: 1 register, 1 amendment deleted",
        "in all: 2 registers, 2 amendments deleted",
    ]
    # Nothing more has expired a day later.
    with db.factory() as session:
        again = purge_expired(session, today=TODAY + timedelta(days=1), years=6)
        session.commit()
    assert again.years == () and again.lines()[-1] == "nothing to delete"


def test_an_la_keeping_longer_keeps_more(db, years_of_registers):
    with db.factory() as session:
        report = purge_expired(session, today=TODAY, years=7)
        session.commit()
    assert [y.academic_year for y in report.years] == [2016]
    assert _held(db) == ([2019, 2020, 2024], [2019, 2020, 2024])


def test_a_dry_run_counts_and_deletes_nothing(db, years_of_registers):
    with db.factory() as session:
        report = purge_expired(session, today=TODAY, years=6, dry_run=True)
        session.commit()
    assert report.years == (YearPurged(2016, 1, 1), YearPurged(2019, 1, 1))
    assert "would be deleted (dry run: nothing was deleted)" in report.lines()[1]
    assert _held(db) == ([2016, 2019, 2020, 2024], [2016, 2019, 2020, 2024])


def test_less_than_six_years_or_a_future_date_is_refused(db, years_of_registers):
    with db.factory() as session:
        with pytest.raises(InvalidInput) as raised:
            purge_expired(session, today=TODAY, years=5)
        assert raised.value.problems[0].field == "retention_years"
        future = datetime.now(UTC).date() + timedelta(days=30)
        with pytest.raises(InvalidInput) as raised:
            purge_expired(session, today=future, years=6)
        assert raised.value.problems[0].field == "today"
    assert _held(db)[0] == [2016, 2019, 2020, 2024]


# --- the database's own guard --------------------------------------------------------------


def _keep_from() -> date:
    """What the triggers compute: 1 August of (the current academic year's first year - 6)."""
    return date(academic_year_of(datetime.now(UTC).date()) - 6, 8, 1)


def _amendment_on(db, day: date) -> int:
    with db.factory() as session:
        register = session.execute(
            insert(RegisterYear).returning(RegisterYear.id),
            [
                {
                    "pupil_id": db.world.pupil_hill,
                    "school_id": db.world.hillcrest,
                    "academic_year": academic_year_of(day),
                    "marks": "N",
                    "sessions": 1,
                    "index_digest": "0" * 32,
                    "updated_at": WHEN,
                    "version": 1,
                }
            ],
        ).scalar_one()
        amendment = session.execute(
            insert(MarkAmendment).returning(MarkAmendment.id),
            [
                {
                    "register_year_id": register,
                    "session_date": day,
                    "session": "AM",
                    "original_code": "/",
                    "new_code": "N",
                    "reason": "synthetic",
                    "amended_at": WHEN,
                    "amended_by_id": None,
                    "amended_by_name": "Olive Lead",
                    "amended_by_position": "Attendance lead",
                    "source": "manual",
                }
            ],
        ).scalar_one()
        session.commit()
    return amendment


def _delete(db, amendment: int) -> None:
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM mark_amendment WHERE id = :id"), {"id": amendment})


def _amendments(db) -> int:
    with db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(MarkAmendment)).scalar_one()


@pytest.mark.parametrize(
    "day",
    [
        pytest.param(date(2024, 11, 20), id="2024"),
        pytest.param(_keep_from(), id="first-day-kept"),
    ],
)
def test_the_database_refuses_to_delete_an_amendment_inside_the_minimum(db, day):
    amendment = _amendment_on(db, day)
    with pytest.raises(exc.DBAPIError, match="append-only: DELETE refused"):
        _delete(db, amendment)
    assert _amendments(db) == 1


def test_the_database_lets_an_expired_amendment_go_but_never_changes_one(db):
    old = _amendment_on(db, _keep_from() - timedelta(days=1))
    with (
        pytest.raises(exc.DBAPIError, match="append-only: UPDATE refused"),
        db.engine.begin() as conn,
    ):
        conn.execute(
            text("UPDATE mark_amendment SET reason = 'edited' WHERE id = :id"), {"id": old}
        )
    _delete(db, old)
    assert _amendments(db) == 0


# --- the setting ---------------------------------------------------------------------------


def test_the_retention_setting_refuses_fewer_than_six_years(monkeypatch, tmp_path):
    assert register_retention_years({}) == 6
    assert register_retention_years({"CASEWORK_REGISTER_RETENTION_YEARS": " 8 "}) == 8
    with pytest.raises(ValueError) as raised:
        register_retention_years({"CASEWORK_REGISTER_RETENTION_YEARS": "5"})
    assert str(raised.value).startswith(
        "CASEWORK_REGISTER_RETENTION_YEARS=5 is refused: attendance registers must be kept at "
        "least 6 years"
    )
    with pytest.raises(ValueError, match="CASEWORK_REGISTER_RETENTION_YEARS='six' is refused"):
        register_retention_years({"CASEWORK_REGISTER_RETENTION_YEARS": "six"})
    with pytest.raises(ValueError, match="at least 6 years"):
        Settings("sqlite://", tmp_path, b"secret", register_retention_years=5)

    monkeypatch.setenv("CASEWORK_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CASEWORK_REGISTER_RETENTION_YEARS", "5")
    with pytest.raises(ValueError, match="CASEWORK_REGISTER_RETENTION_YEARS=5 is refused"):
        Settings.from_env()
    monkeypatch.setenv("CASEWORK_REGISTER_RETENTION_YEARS", "10")
    assert Settings.from_env().register_retention_years == 10


# --- the CLI and the scheduler --------------------------------------------------------------


@pytest.fixture
def cli(db, tmp_path, monkeypatch):
    monkeypatch.setenv("CASEWORK_DATABASE_URL", db.url)
    monkeypatch.setenv("CASEWORK_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("CASEWORK_REGISTER_RETENTION_YEARS", raising=False)

    def invoke(*args: str):
        return CliRunner().invoke(main, ["registers", "purge", *args])

    return invoke


def test_the_purge_command_prints_counts_per_year(db, cli, years_of_registers, monkeypatch):
    with db.factory() as session:
        _register(session, db.world, 2010, amended=False)
        session.commit()
    dry = cli("--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "  2010/11: 1 register, 0 amendments would be deleted" in dry.output
    assert "  2016/17: 1 register, 1 amendment would be deleted" in dry.output
    assert "Ashdown" not in dry.output and "Amelia" not in dry.output
    assert _held(db)[0] == [2010, 2016, 2019, 2020, 2024]

    done = cli()
    assert done.exit_code == 0, done.output
    assert "  2016/17: 1 register, 1 amendment deleted" in done.output
    assert [year for year in _held(db)[0] if year <= 2019] == []  # real date: 2019/20 expired

    monkeypatch.setenv("CASEWORK_REGISTER_RETENTION_YEARS", "3")
    refused = cli()
    assert refused.exit_code != 0
    assert "CASEWORK_REGISTER_RETENTION_YEARS=3 is refused" in refused.output


def test_the_scheduler_purges_daily_at_half_past_two_and_logs_counts(
    db, years_of_registers, caplog, monkeypatch
):
    scheduler = configure(
        BackgroundScheduler(timezone=UTC),
        db.factory,
        FixedClock(datetime(2026, 8, 1, 1, 30, tzinfo=UTC)),
        "test",
        retention_years=6,
    )
    job = scheduler.get_job("register_purge")
    fields = {f.name: str(f) for f in job.trigger.fields}
    assert (fields["hour"], fields["minute"]) == ("2", "30")
    assert str(job.trigger.timezone) == "Europe/London"

    with caplog.at_level(logging.INFO, logger="casework.scheduler"):
        _purge_job(*job.args)
    assert [r.getMessage() for r in caplog.records if r.name == "casework.scheduler"] == [
        "register purge (kept 6 years): deleted 2 registers and 2 amendments; "
        "by academic year (registers/amendments): 2016/17 1/1, 2019/20 1/1"
    ]
    assert _held(db)[0] == [2020, 2024]

    monkeypatch.setenv("CASEWORK_REGISTER_RETENTION_YEARS", "4")
    with pytest.raises(ValueError, match="CASEWORK_REGISTER_RETENTION_YEARS=4 is refused"):
        configure(BackgroundScheduler(timezone=UTC), db.factory, FixedClock(WHEN), "test")
