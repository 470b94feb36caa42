"""Re-laying registers when a school's calendar changes.

Pure (``casework.registers.relay``): marks move to their sessions' new positions, new sessions
have no mark, a mark on a session that disappears is refused. On SQLite and PostgreSQL
(``workflows.calendar_changes``): a school's own change and an LA's year re-lay every register
they touch in the same transaction, or are refused naming the field, the sessions and how many
pupils' marks, and nothing changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, insert, select

from casework.calendars import CalendarChange, ChangeKind, TermCalendar, school_calendar
from casework.calendars.config_files import la_calendar
from casework.calendars.documents import TermSpec, spec_of
from casework.calendars.model import InsetDay
from casework.durations import SessionOfDay
from casework.errors import Conflict, InvalidInput
from casework.models import Pupil, RegisterYear, School, SchoolCalendarOverride
from casework.registers.marks import NO_MARK, MarkString, entries, session_index
from casework.registers.relay import MarksWouldBeLost, RelayPlan, relay
from casework.registers.store import record_marks, register_extract
from casework.upn import make_upn
from workflows import calendar_changes

SHIPPED = la_calendar("knowsley")
CAL = TermCalendar("Oakfield Primary", SHIPPED.years, pattern=SHIPPED.pattern)
INDEX = session_index(CAL, 2024)


def _with_insets(*days: date, sessions=frozenset(SessionOfDay)) -> TermCalendar:
    return CAL.replace(inset_days=tuple(InsetDay(day, sessions) for day in days))


def _marked(index, marks: dict[tuple[date, str], str]) -> MarkString:
    codes: list[str | None] = [None] * len(index)
    for (day, name), code in marks.items():
        codes[index.position(day, name)] = code
    return MarkString.of(codes)


# --- pure ------------------------------------------------------------------------------------


def test_marks_move_past_a_new_inset_day():
    new = session_index(_with_insets(date(2024, 11, 19)), 2024)
    marks = _marked(
        INDEX,
        {
            (date(2024, 11, 18), "PM"): "/",
            (date(2024, 11, 20), "AM"): "N",
            (date(2025, 7, 22), "PM"): "\\",
        },
    )
    moved = relay(INDEX, new, marks)
    assert len(moved) == len(INDEX) - 2
    assert list(entries(new, moved)) == list(entries(INDEX, marks))
    assert moved.code_at(new.position(date(2024, 11, 20), "AM")) == "N"


def test_sessions_that_are_new_have_no_mark():
    old = session_index(_with_insets(date(2024, 11, 19)), 2024)
    marks = _marked(old, {(date(2024, 11, 18), "AM"): "/", (date(2024, 11, 20), "PM"): "M"})
    moved = relay(old, INDEX, marks)
    assert len(moved) == len(old) + 2
    assert moved.code_at(INDEX.position(date(2024, 11, 19), "AM")) is None
    assert moved.code_at(INDEX.position(date(2024, 11, 19), "PM")) is None
    assert list(entries(INDEX, moved)) == list(entries(old, marks))


def test_a_mark_on_a_session_that_disappears_is_refused_naming_it():
    new = session_index(_with_insets(date(2024, 11, 19), sessions={SessionOfDay.PM}), 2024)
    marks = _marked(INDEX, {(date(2024, 11, 19), "AM"): "/", (date(2024, 11, 19), "PM"): "B"})
    with pytest.raises(MarksWouldBeLost) as raised:
        relay(INDEX, new, marks)
    assert raised.value.positions == (INDEX.position(date(2024, 11, 19), "PM"),)
    assert raised.value.sessions == ((date(2024, 11, 19), "PM"),)
    assert "2024-11-19 PM" in str(raised.value)
    # Only the afternoon went: the morning's mark moves.
    kept = _marked(INDEX, {(date(2024, 11, 19), "AM"): "/"})
    assert list(entries(new, relay(INDEX, new, kept))) == [(date(2024, 11, 19), "AM", "/")]


def test_the_same_index_changes_nothing_and_a_misfit_is_refused():
    plan = RelayPlan.between(INDEX, INDEX)
    assert plan.identity and len(plan.runs) == 1 and not plan.dropped
    marks = _marked(INDEX, {(date(2024, 9, 2), "AM"): "/"})
    assert relay(INDEX, INDEX, marks) == marks
    with pytest.raises(ValueError, match="does not fit"):
        relay(INDEX, INDEX, MarkString.empty(len(INDEX) - 1))


def test_a_plan_is_a_few_runs():
    new = session_index(_with_insets(date(2024, 11, 19), date(2025, 3, 3)), 2024)
    plan = RelayPlan.between(INDEX, new)
    assert len(plan.runs) == 3
    assert [b - a for a, b in plan.dropped] == [2, 2]
    assert len(plan.dropped_sessions) == 4


SCHOOL_DAYS = sorted({day for day, _ in INDEX.sessions})


@settings(max_examples=60, deadline=None)
@given(
    removed=st.sets(st.sampled_from(SCHOOL_DAYS), max_size=6),
    added_back=st.sets(st.sampled_from(SCHOOL_DAYS), max_size=6),
    marked=st.sets(st.sampled_from(INDEX.sessions), max_size=40),
    code=st.sampled_from(["/", "\\", "N", "M", "B", "Y1"]),
)
def test_every_mark_keeps_its_session_whatever_moves(removed, added_back, marked, code):
    old = session_index(_with_insets(*added_back), 2024)
    new = session_index(_with_insets(*removed), 2024)
    kept = {key for key in marked if key[0] not in removed and key[0] not in added_back}
    marks = _marked(old, dict.fromkeys(kept, code))
    moved = relay(old, new, marks)
    assert len(moved) == len(new)
    assert sorted(entries(new, moved)) == sorted(entries(old, marks))
    assert moved.marked() == len(kept)
    lost = {key for key in marked if key[0] in removed and key[0] not in added_back}
    if lost:
        with pytest.raises(MarksWouldBeLost) as raised:
            relay(old, new, _marked(old, dict.fromkeys(kept | lost, code)))
        assert set(raised.value.sessions) == lost


# --- through the workflows, on both engines ----------------------------------------------------

MONDAY = date(2024, 11, 18)
WEEK = [
    (MONDAY + timedelta(days=d), s, code)
    for d in range(5)
    for s, code in (("AM", "/"), ("PM", "\\"))
]
BY = (None, "Olive Lead", "Attendance lead")
WHEN = datetime(2024, 11, 20, 10, 0, tzinfo=UTC)


def _pupils(session, world, school_id: int, count: int, first_serial: int) -> list[int]:
    school = session.get(School, school_id)
    made = []
    for n in range(count):
        pupil = Pupil(
            upn=make_upn(340, int(school.establishment_number), 21, first_serial + n),
            legal_forename="Test",
            legal_surname=f"Pupil{first_serial + n}",
            date_of_birth=date(2016, 1, 1),
            sex="M",
            nc_year=3,
            la_id=world.la,
        )
        session.add(pupil)
        made.append(pupil)
    session.flush()
    return [p.id for p in made]


def _record(session, pupil_id, school_id, marks, reason=None):
    return record_marks(
        session,
        pupil_id=pupil_id,
        school_id=school_id,
        marks=marks,
        by=BY,
        reason=reason,
        source="manual",
        at=WHEN,
    )


def _registers(db, school_id: int | None = None) -> dict[int, tuple]:
    with db.factory() as session:
        query = select(RegisterYear)
        if school_id is not None:
            query = query.where(RegisterYear.school_id == school_id)
        return {
            r.id: (r.marks, r.sessions, r.index_digest, r.version) for r in session.scalars(query)
        }


def _extract(db, pupil_id, school_id, start=date(2024, 9, 1), end=date(2025, 7, 31)):
    with db.factory() as session:
        return register_extract(session, pupil_id, school_id, start, end)


def _index(db, school_id, year=2024):
    with db.factory() as session:
        return session_index(school_calendar(session, school_id), year)


def _inset(day: date, **more) -> CalendarChange:
    return CalendarChange(ChangeKind.INSET_DAY, "Staff training", first=day, **more)


@pytest.fixture
def class_of(db):
    """Three pupils at Oakfield with a week of marks, and one at Riverside."""
    with db.factory() as session:
        pupils = [db.world.pupil_oak, *_pupils(session, db.world, db.world.oakfield, 2, 201)]
        for pupil in pupils:
            _record(session, pupil, db.world.oakfield, WEEK)
        _record(session, db.world.pupil_river, db.world.riverside, WEEK)
        session.commit()
    return pupils


def test_an_inset_day_re_lays_the_schools_registers(db, context, class_of):
    before = _registers(db)
    ctx = context("oak_lead")
    school = ctx.session.get(School, db.world.oakfield)
    edit = calendar_changes.change_school_calendar(ctx, school, _inset(date(2024, 12, 2)))
    ctx.commit()
    assert edit.relaid.by_year == {2024: 3} and edit.relaid.registers == 3

    index = _index(db, db.world.oakfield)
    assert len(index) == 388
    after = _registers(db)
    for row_id, (marks, sessions, digest, version) in after.items():
        if row_id in _registers(db, db.world.riverside):
            assert (marks, sessions, digest, version) == before[row_id]  # another school
            continue
        assert (sessions, len(marks), digest) == (388, 388, index.digest)
        assert version == before[row_id][3] + 1
    for pupil in class_of:
        assert _extract(db, pupil, db.world.oakfield) == WEEK
    # Recording carries on, on the new positions.
    with db.factory() as session:
        _record(session, class_of[0], db.world.oakfield, [(date(2024, 12, 3), "AM", "/")])
        session.commit()
        with pytest.raises(InvalidInput, match="INSET"):
            _record(session, class_of[0], db.world.oakfield, [(date(2024, 12, 2), "AM", "/")])
    assert _extract(db, class_of[0], db.world.oakfield)[-1] == (date(2024, 12, 3), "AM", "/")


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(_inset(date(2024, 11, 19)), id="inset"),
        pytest.param(
            CalendarChange(
                ChangeKind.CLOSURE,
                "Burst pipe",
                first=date(2024, 11, 19),
                last=date(2024, 11, 22),
            ),
            id="closure",
        ),
    ],
)
def test_a_change_that_would_drop_marks_is_refused_and_nothing_changes(
    db, context, class_of, change
):
    before = _registers(db)
    ctx = context("oak_lead")
    school = ctx.session.get(School, db.world.oakfield)
    with pytest.raises(InvalidInput) as raised:
        calendar_changes.change_school_calendar(ctx, school, change)
    ctx.session.rollback()
    (problem,) = raised.value.problems
    assert (problem.field, problem.value) == ("first", "2024-11-19")
    assert "Tue 19 Nov 2024 AM: 3 pupils' marks; Tue 19 Nov 2024 PM: 3 pupils' marks" in (
        problem.rule
    )
    assert "at Oakfield Primary" in problem.rule
    assert "record the closure in the register instead (# for a planned closure" in problem.rule
    if change.kind is ChangeKind.CLOSURE:
        assert "; and 3 more sessions" in problem.rule
    assert _registers(db) == before
    with db.factory() as session:
        overrides = select(func.count()).select_from(SchoolCalendarOverride)
        assert session.scalar(overrides) == 0


def test_withdrawing_an_inset_day_gives_its_sessions_no_mark(db, context, class_of):
    ctx = context("oak_lead")
    school = ctx.session.get(School, db.world.oakfield)
    entry = calendar_changes.change_school_calendar(ctx, school, _inset(date(2024, 11, 25)))
    ctx.commit()
    later = [(date(2024, 11, 26), "AM", "/"), (date(2024, 11, 26), "PM", "N")]
    with db.factory() as session:
        _record(session, class_of[1], db.world.oakfield, later)
        session.commit()

    ctx = context("oak_lead")
    school = ctx.session.get(School, db.world.oakfield)
    withdrawn = CalendarChange(
        ChangeKind.WITHDRAWAL, "Training cancelled", supersedes=entry.recorded.entry_id
    )
    edit = calendar_changes.change_school_calendar(ctx, school, withdrawn)
    ctx.commit()
    assert edit.relaid.registers == 3
    index = _index(db, db.world.oakfield)
    assert len(index) == 390
    with db.factory() as session:
        row = session.scalars(
            select(RegisterYear).where(RegisterYear.pupil_id == class_of[1])
        ).one()
        assert row.index_digest == index.digest
        monday = index.position(date(2024, 11, 25), "AM")
        assert row.marks[monday : monday + 2] == NO_MARK * 2
    assert _extract(db, class_of[1], db.world.oakfield) == WEEK + later


def test_a_row_on_an_older_calendar_is_left_and_still_conflicts(db, context, class_of):
    with db.factory() as session:
        (hill,) = _pupils(session, db.world, db.world.oakfield, 1, 250)
        session.execute(
            insert(RegisterYear),
            [
                {
                    "pupil_id": hill,
                    "school_id": db.world.oakfield,
                    "academic_year": 2024,
                    "marks": "/" * 380,  # would be lost, were it on the index being replaced
                    "sessions": 380,
                    "index_digest": "0" * 32,
                    "updated_at": WHEN,
                    "version": 1,
                }
            ],
        )
        session.commit()
    ctx = context("oak_lead")
    school = ctx.session.get(School, db.world.oakfield)
    edit = calendar_changes.change_school_calendar(ctx, school, _inset(date(2024, 12, 2)))
    ctx.commit()
    assert edit.relaid.registers == 3
    with db.factory() as session:
        row = session.scalars(select(RegisterYear).where(RegisterYear.pupil_id == hill)).one()
        assert (row.index_digest, row.version) == ("0" * 32, 1)
    with pytest.raises(Conflict, match="different calendar"):
        _extract(db, hill, db.world.oakfield)


def test_registers_loaded_in_the_same_transaction_are_read_again(db, context, class_of):
    ctx = context("oak_lead")
    loaded = ctx.session.scalars(
        select(RegisterYear).where(RegisterYear.pupil_id == class_of[0])
    ).one()
    version = loaded.version
    school = ctx.session.get(School, db.world.oakfield)
    calendar_changes.change_school_calendar(ctx, school, _inset(date(2024, 12, 2)))
    assert (loaded.version, loaded.sessions) == (version + 1, 388)
    # And the same unit of work can record on the new positions.
    _record(ctx.session, class_of[0], db.world.oakfield, [(date(2024, 12, 3), "PM", "L")])
    ctx.commit()
    assert _extract(db, class_of[0], db.world.oakfield)[-1] == (date(2024, 12, 3), "PM", "L")


def _la_terms(first: date, last: date):
    """Knowsley's 2024/25 terms with the autumn term's first day and the summer's last moved."""
    terms = [spec_of(t) for t in SHIPPED.years[1].terms]
    autumn, spring, summer = terms
    return [
        TermSpec(autumn.name, first, autumn.last, autumn.half_term),
        spring,
        TermSpec(summer.name, summer.first, last, summer.half_term),
    ]


def test_the_las_year_re_lays_every_school_on_its_dates(db, context, class_of):
    # Riverside has an INSET day of its own: a different index, moved by its own plan.
    ctx = context("river_lead")
    school = ctx.session.get(School, db.world.riverside)
    calendar_changes.change_school_calendar(ctx, school, _inset(date(2024, 12, 2)))
    ctx.commit()
    hill_before = _registers(db, db.world.hillcrest)

    ctx = context("admin")
    edit = calendar_changes.record_la_year(
        ctx,
        2024,
        _la_terms(date(2024, 9, 3), date(2025, 7, 23)),
        "Council moved the first and last days",
        source="recorded by an LA admin",
    )
    ctx.commit()
    assert edit.relaid.by_year == {2024: 4}
    for school_id, sessions in ((db.world.oakfield, 390), (db.world.riverside, 388)):
        index = _index(db, school_id)
        assert len(index) == sessions
        for _marks, length, digest, _ in _registers(db, school_id).values():
            assert (length, digest) == (sessions, index.digest)
    for pupil in class_of:
        assert _extract(db, pupil, db.world.oakfield) == WEEK
    assert _extract(db, db.world.pupil_river, db.world.riverside) == WEEK
    assert _registers(db, db.world.hillcrest) == hill_before


def test_an_las_year_removing_marked_sessions_is_refused_naming_the_schools(db, context):
    first_day = [(date(2024, 9, 2), "AM", "/"), (date(2024, 9, 2), "PM", "/")]
    with db.factory() as session:
        _record(session, db.world.pupil_oak, db.world.oakfield, first_day)
        _record(session, db.world.pupil_river, db.world.riverside, first_day[:1])
        session.commit()
    before = _registers(db)
    terms = _la_terms(date(2024, 9, 3), date(2025, 7, 22))
    ctx = context("admin")
    with pytest.raises(InvalidInput) as raised:
        calendar_changes.record_la_year(ctx, 2024, terms, "Moved", source="recorded by an admin")
    ctx.session.rollback()
    (problem,) = raised.value.problems
    assert problem.field == "terms"
    assert problem.value[0] == "2024-09-03..2024-12-20"
    assert problem.rule.startswith(
        "registers have already been taken at Oakfield Primary and Riverside Primary for "
        "sessions this change would remove (Mon 2 Sep 2024 AM: 2 pupils' marks; "
        "Mon 2 Sep 2024 PM: 1 pupil's mark)"
    )
    assert _registers(db) == before


def test_the_api_answers_422_naming_the_field(db, client_as):
    with db.factory() as session:
        _record(session, db.world.pupil_oak, db.world.oakfield, WEEK)
        session.commit()
    response = client_as("oak_lead").post(
        f"/api/schools/{db.world.oakfield}/calendar/overrides",
        json={"kind": "inset_day", "first": "2024-11-21", "reason": "Staff training"},
    )
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert (error["field"], error["value"]) == ("first", "2024-11-21")
    assert (
        "Thu 21 Nov 2024 AM: 1 pupil's mark; Thu 21 Nov 2024 PM: 1 pupil's mark" in (error["rule"])
    )
    assert _extract(db, db.world.pupil_oak, db.world.oakfield) == WEEK
