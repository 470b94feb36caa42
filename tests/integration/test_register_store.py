"""Recording registers as legal records, on SQLite and PostgreSQL: marks per pupil-school-year,
amendments kept with the original and the person, nothing half-written, amendments append-only."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, exc, func, select, text
from sqlalchemy.orm.exc import StaleDataError

from casework.errors import Conflict, InvalidInput
from casework.models import MarkAmendment, RegisterYear
from casework.registers.store import LostRace, amendments_of, record_marks, register_extract

WHEN = datetime(2024, 11, 20, 10, 0, tzinfo=UTC)
BY = (None, "Olive Lead", "Attendance lead")
MONDAY = date(2024, 11, 18)  # Knowsley 2024/25, autumn term after half term
WEEK = [
    (MONDAY + timedelta(days=d), s, code)
    for d, (am, pm) in enumerate([("/", "\\"), ("/", "\\"), ("N", "N"), ("L", "\\"), ("/", "I")])
    for s, code in (("AM", am), ("PM", pm))
]


def _record(session, world, marks, reason=None, by=BY, source="manual"):
    return record_marks(
        session,
        pupil_id=world.pupil_oak,
        school_id=world.oakfield,
        marks=marks,
        by=by,
        reason=reason,
        source=source,
        at=WHEN,
    )


def _counts(session):
    return (
        session.scalar(select(func.count()).select_from(RegisterYear)),
        session.scalar(select(func.count()).select_from(MarkAmendment)),
    )


def test_a_week_is_recorded_and_re_recording_changes_nothing(db):
    with db.factory() as session:
        result = _record(session, db.world, WEEK)
        session.commit()
        assert (result.new, result.amended, result.unchanged) == (10, 0, 0)
        row = session.scalars(select(RegisterYear)).one()
        assert (row.academic_year, row.sessions, len(row.marks)) == (2024, 390, 390)
        version = row.version

    with db.factory() as session:
        again = _record(session, db.world, WEEK)
        session.commit()
        assert (again.new, again.amended, again.unchanged) == (0, 0, 10)
        assert _counts(session) == (1, 0)
        assert session.scalars(select(RegisterYear)).one().version == version
        extract = register_extract(
            session, db.world.pupil_oak, db.world.oakfield, MONDAY, MONDAY + timedelta(days=6)
        )
        assert extract == WEEK


def test_changing_a_mark_records_the_original_and_the_person(db):
    user = db.world.users["oak_lead"]
    with db.factory() as session:
        _record(session, db.world, WEEK)
        session.commit()
    wednesday = MONDAY + timedelta(days=2)
    with db.factory() as session:
        with pytest.raises(InvalidInput) as raised:
            _record(session, db.world, [(wednesday, "AM", "M")])
        assert raised.value.problems[0].field == "reason"
        result = _record(
            session,
            db.world,
            [
                (wednesday, "AM", "M"),
                (wednesday, "PM", "N"),
                (MONDAY + timedelta(days=7), "AM", "/"),
            ],
            reason="Dentist letter received",
            by=(user, "Oak Lead", "Attendance lead"),
        )
        session.commit()
        assert (result.new, result.amended, result.unchanged) == (1, 1, 1)

    with db.factory() as session:
        assert _counts(session) == (1, 1)
        (amendment,) = amendments_of(
            session, db.world.pupil_oak, db.world.oakfield, MONDAY, MONDAY + timedelta(days=7)
        )
        assert (amendment.day, amendment.session) == (wednesday, "AM")
        assert (amendment.original, amendment.new) == ("N", "M")
        assert amendment.reason == "Dentist letter received"
        assert (amendment.by_user_id, amendment.by_name, amendment.by_position) == (
            user,
            "Oak Lead",
            "Attendance lead",
        )
        assert amendment.amended_at == WHEN
        assert amendment.source == "manual"
        extract = register_extract(
            session, db.world.pupil_oak, db.world.oakfield, wednesday, wednesday
        )
        assert extract == [(wednesday, "AM", "M"), (wednesday, "PM", "N")]


@pytest.mark.parametrize(
    "bad",
    [date(2024, 10, 29), date(2024, 11, 23)],
    ids=["half-term", "weekend"],
)
def test_a_mark_on_a_closed_day_is_refused_and_nothing_is_written(db, bad):
    with db.factory() as session:
        with pytest.raises(InvalidInput) as raised:
            _record(session, db.world, [*WEEK, (bad, "AM", "/")])
        (problem,) = raised.value.problems
        assert problem.field == "marks[10].date"
        assert problem.value == bad
        assert f"{bad.day} " in problem.rule
        session.rollback()
        assert _counts(session) == (0, 0)


def test_unknown_code_is_refused_naming_the_mark(db):
    with db.factory() as session:
        with pytest.raises(InvalidInput) as raised:
            _record(session, db.world, [(MONDAY, "AM", "/"), (MONDAY, "PM", "ZZ")])
        (problem,) = raised.value.problems
        assert (problem.field, problem.value) == ("marks[1].code", "ZZ")
        session.rollback()
        assert _counts(session) == (0, 0)


def test_one_row_per_pupil_school_year(db):
    marks_2023 = [(date(2024, 7, 1), "AM", "/")]
    marks_2025 = [(date(2025, 9, 10), "PM", "G")]
    with db.factory() as session:
        for _ in range(2):
            _record(session, db.world, WEEK + marks_2023 + marks_2025)
            session.commit()
        assert _counts(session) == (3, 0)
        years = session.scalars(
            select(RegisterYear.academic_year).order_by(RegisterYear.academic_year)
        )
        assert list(years) == [2023, 2024, 2025]


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param("UPDATE mark_amendment SET reason = 'edited'", id="update"),
        pytest.param("DELETE FROM mark_amendment", id="delete"),
    ],
)
def test_mark_amendments_cannot_be_changed_or_removed(db, statement):
    with db.factory() as session:
        _record(session, db.world, WEEK)
        _record(session, db.world, [(MONDAY, "AM", "L")], reason="late, register corrected")
        session.commit()
    with db.engine.connect() as conn:
        with pytest.raises(exc.DBAPIError, match="append-only"):
            conn.execute(text(statement))
        conn.rollback()
        assert conn.execute(text("SELECT count(*) FROM mark_amendment")).scalar_one() == 1


# --- two writers on the same pupil-year -------------------------------------------------------


def _racing(db, mine, theirs, reason=None):
    """Record ``mine`` in one session; just before its flush, another session records
    ``theirs`` for the same pupil and commits. Returns the Conflict the first one gets."""
    first, second = db.factory(), db.factory()
    try:

        def interleave(*_):
            _record(second, db.world, theirs, reason=reason)
            second.commit()

        event.listen(first, "before_flush", interleave, once=True)
        with pytest.raises(Conflict) as raised:
            _record(first, db.world, mine, reason=reason)
        first.rollback()
    finally:
        first.close()
        second.close()
    return raised.value


# PostgreSQL reports the lost race itself; SQLite refuses the loser's write on a read snapshot
# another writer has committed over ("database is locked") before any row is compared.
_CAUSES = {
    "version": {"postgresql": StaleDataError, "sqlite": exc.OperationalError},
    "first row": {"postgresql": exc.IntegrityError, "sqlite": exc.OperationalError},
}


def test_two_writers_amending_one_pupil_year_the_loser_gets_a_conflict(db):
    with db.factory() as session:
        _record(session, db.world, WEEK)
        session.commit()
    version = _row(db).version
    conflict = _racing(
        db, [(MONDAY, "AM", "L")], [(MONDAY, "AM", "M")], reason="register corrected"
    )
    assert str(conflict) == (
        "the register for this pupil and year changed while these marks were being recorded; "
        "nothing was saved — try again"
    )
    assert isinstance(conflict, LostRace)  # a Conflict (409) the API may retry
    assert isinstance(conflict.__cause__, _CAUSES["version"][db.name])
    row = _row(db)
    assert row.version == version + 1
    with db.factory() as session:
        assert register_extract(session, db.world.pupil_oak, db.world.oakfield, MONDAY, MONDAY) == [
            (MONDAY, "AM", "M"),
            (MONDAY, "PM", "\\"),
        ]
        (amendment,) = amendments_of(session, db.world.pupil_oak, db.world.oakfield, MONDAY, MONDAY)
        assert (amendment.original, amendment.new) == ("/", "M")


def test_two_writers_creating_one_pupil_year_the_loser_gets_a_conflict(db):
    conflict = _racing(db, WEEK, [(MONDAY, "AM", "B")])
    assert "nothing was saved — try again" in str(conflict)
    assert isinstance(conflict.__cause__, _CAUSES["first row"][db.name])
    with db.factory() as session:
        assert _counts(session) == (1, 0)
        assert register_extract(
            session, db.world.pupil_oak, db.world.oakfield, MONDAY, MONDAY + timedelta(days=6)
        ) == [(MONDAY, "AM", "B")]


def test_a_session_that_recorded_before_reads_what_others_recorded_since(db):
    """Sessions keep loaded rows across commits; recording again must not write over the other
    writer's marks from that stale copy (nor fail: nobody raced it)."""
    mine, theirs = db.factory(), db.factory()
    try:
        _record(mine, db.world, WEEK[:2])
        mine.commit()
        _record(theirs, db.world, WEEK[2:4])
        theirs.commit()
        result = _record(mine, db.world, WEEK[4:6])
        mine.commit()
        assert (result.new, result.amended) == (2, 0)
    finally:
        mine.close()
        theirs.close()
    with db.factory() as session:
        extract = register_extract(
            session, db.world.pupil_oak, db.world.oakfield, MONDAY, MONDAY + timedelta(days=6)
        )
        assert extract == WEEK[:6]


def test_other_integrity_errors_are_not_conflicts(db):
    with db.factory() as session:
        with pytest.raises(exc.IntegrityError):
            record_marks(
                session,
                pupil_id=999_999,  # no such pupil: a foreign key, not a race
                school_id=db.world.oakfield,
                marks=WEEK[:1],
                by=BY,
                reason=None,
                source="manual",
                at=WHEN,
            )
        session.rollback()


def _row(db) -> RegisterYear:
    with db.factory() as session:
        return session.scalars(select(RegisterYear)).one()
