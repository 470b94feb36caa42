"""load_timeline merges a pupil's registers at two schools, on SQLite and PostgreSQL, and the
penalty-notice threshold is found across the change of school.

The synthetic world's schools use Knowsley's 2024/25 calendar: autumn Mon 2 Sep - Fri 20 Dec
2024, half term 28 Oct - 1 Nov. The pupil is at Oakfield to Fri 18 Oct and at Riverside from
Mon 4 Nov, so the pupil's school weeks are 2 Sep .. 14 Oct (1-7, Oakfield), then 4, 11, 18 and
25 Nov (8-11, Riverside): the week of 21 Oct has no session for the pupil and is skipped.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from casework.analytics.flags import THRESHOLD, pupil_flags
from casework.analytics.timeline import load_timeline
from casework.analytics.totals import totals
from casework.registers.store import record_marks
from config.profiles import load_profile

WHEN = datetime(2024, 11, 29, 16, 0, tzinfo=UTC)
BY = (None, "Olive Lead", "Attendance lead")
RULES = load_profile("knowsley").analytics


def _weekdays(first: date, last: date) -> list[date]:
    return [
        first + timedelta(days=i)
        for i in range((last - first).days + 1)
        if (first + timedelta(days=i)).weekday() < 5
    ]


def _full(first: date, last: date, overrides: dict) -> list[tuple[date, str, str]]:
    return [
        (day, name, overrides.get((day, name), "/" if name == "AM" else "\\"))
        for day in _weekdays(first, last)
        for name in ("AM", "PM")
    ]


def _record(session, world, school_id, marks):
    record_marks(
        session,
        pupil_id=world.pupil_oak,
        school_id=school_id,
        marks=marks,
        by=BY,
        reason=None,
        source="import:test",
        at=WHEN,
    )


def test_two_schools_merge_and_the_threshold_spans_the_move(db):
    world = db.world
    # 1 O on Tue 3 Sep at Oakfield (week 1); 9 O at Riverside Mon 18 - Fri 22 Nov (week 10:
    # Mon-Thu both sessions, Fri AM).
    oakfield = _full(date(2024, 9, 2), date(2024, 10, 18), {(date(2024, 9, 3), "AM"): "O"})
    riverside_o = {
        (day, name): "O"
        for day in _weekdays(date(2024, 11, 18), date(2024, 11, 22))
        for name in ("AM", "PM")
    }
    del riverside_o[(date(2024, 11, 22), "PM")]
    riverside = _full(date(2024, 11, 4), date(2024, 11, 29), riverside_o)
    with db.factory() as session:
        _record(session, world, world.oakfield, oakfield)
        _record(session, world, world.riverside, riverside)
        # Dual registration on Mon 4 Nov: Oakfield records D (attending the other school).
        _record(session, world, world.oakfield, [(date(2024, 11, 4), "AM", "D")])
        session.commit()

    with db.factory() as session:
        pupil = load_timeline(session, world.pupil_oak, date(2024, 9, 1), date(2024, 11, 29))
    assert pupil.pupil_id == world.pupil_oak
    assert len(pupil.sessions) == len(oakfield) + len(riverside) + 1
    keys = [(m.day, m.session, m.school_id) for m in pupil.sessions]
    assert keys == sorted(keys, key=lambda k: (k[0], k[1] != "AM", k[2]))
    first, last = pupil.sessions[0], pupil.sessions[-1]
    assert (first.day, first.session, first.school) == (date(2024, 9, 2), "AM", "Oakfield Primary")
    assert (last.day, last.session, last.school) == (date(2024, 11, 29), "PM", "Riverside Primary")
    both = [m for m in pupil.sessions if (m.day, m.session) == (date(2024, 11, 4), "AM")]
    assert sorted((m.school, m.code) for m in both) == [
        ("Oakfield Primary", "D"),
        ("Riverside Primary", "/"),
    ]
    # The D is not a possible session: each session counts once.
    counted = totals(pupil.sessions)
    assert counted.possible == len(oakfield) + len(riverside)
    assert counted.not_possible == 1

    flags = pupil_flags(pupil, start=date(2024, 9, 1), as_at=date(2024, 11, 29), rules=RULES)
    (threshold,) = [f for f in flags if f.key == THRESHOLD]
    assert threshold.figures["count"] == 10
    assert threshold.figures["first_week"] == "2024-09-02"
    assert threshold.figures["last_week"] == "2024-11-18"
    assert {m.school for m in threshold.sessions} == {"Oakfield Primary", "Riverside Primary"}


def test_the_range_limits_the_timeline_and_an_empty_pupil_has_none(db):
    world = db.world
    with db.factory() as session:
        _record(session, world, world.oakfield, _full(date(2024, 10, 14), date(2024, 10, 25), {}))
        _record(session, world, world.riverside, _full(date(2024, 11, 4), date(2024, 11, 8), {}))
        session.commit()
    with db.factory() as session:
        later = load_timeline(session, world.pupil_oak, date(2024, 10, 21), date(2024, 11, 5))
        assert {m.day for m in later.sessions} == {date(2024, 10, d) for d in range(21, 26)} | {
            date(2024, 11, 4),
            date(2024, 11, 5),
        }
        nobody = load_timeline(session, world.pupil_hill, date(2024, 9, 1), date(2025, 7, 31))
        assert nobody.sessions == ()
