"""Recording registers as legal records, on SQLite and PostgreSQL: marks per pupil-school-year,
amendments kept with the original and the person, nothing half-written, amendments append-only."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import exc, func, select, text

from casework.errors import InvalidInput
from casework.models import MarkAmendment, RegisterYear
from casework.registers.store import amendments_of, record_marks, register_extract

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
