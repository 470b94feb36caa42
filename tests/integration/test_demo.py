"""The demo LA: a year of believable casework that every demo user can sign in to and explore.

A small demo is seeded once per engine into its own empty database (the ``db`` fixture's world
already holds LA 340, so it cannot be used here).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from api.demo import DEMO_PASSWORD, DEMO_TODAY, demo_users, seed_demo, term_days
from casework.db import make_engine, make_session_factory
from casework.migrate import upgrade
from casework.models import Case, CaseEvent, Enrolment, Pupil, Responsibility, School, User
from casework.passwords import verify_password
from casework.upn import upn_problem
from casework.vocabulary import CaseKind, EventKind, Outcome, Stage
from tests.conftest import PG_ADMIN_URL, REQUIRE_POSTGRES, _pg_admin

SMALL = {"schools": 6, "pupils": 400, "seed": 7}
LONDON = ZoneInfo("Europe/London")


@contextmanager
def _seeded(url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(url)
    try:
        upgrade(engine)
        factory = make_session_factory(engine)
        seed_demo(factory, **SMALL)
        yield factory
    finally:
        engine.dispose()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def demo(request, tmp_path_factory) -> Iterator[sessionmaker[Session]]:
    if request.param == "sqlite":
        with _seeded(f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}") as factory:
            yield factory
        return
    admin = _pg_admin()
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        admin.dispose()
        message = f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(exc).__name__}"
        if REQUIRE_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)
    name = f"casework_demo_{os.getpid()}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        with _seeded(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}") as factory:
            yield factory
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _cases(session: Session) -> list[Case]:
    return list(session.scalars(select(Case).order_by(Case.id)))


def test_cases_reach_every_stage_kind_and_outcome(demo):
    with demo() as session:
        cases = _cases(session)
        events = session.scalars(select(CaseEvent.kind)).all()
    assert {c.stage for c in cases} == {s.value for s in Stage}
    assert {c.kind for c in cases} == {k.value for k in CaseKind}
    assert {c.outcome for c in cases if c.stage == Stage.CLOSED} == {o.value for o in Outcome}
    holiday_stages = {c.stage for c in cases if c.kind == CaseKind.TERM_TIME_HOLIDAY}
    assert Stage.ENFORCE in holiday_stages
    assert EventKind.NOTICE_TO_IMPROVE_ISSUED in events
    assert EventKind.PROSECUTION_STARTED in events
    assert EventKind.REOPENED in events


def test_every_case_history_is_a_consistent_dated_chronology(demo):
    school_days = set(term_days())
    with demo() as session:
        cases = {c.id: c for c in _cases(session)}
        history: dict[int, list[CaseEvent]] = defaultdict(list)
        for event in session.scalars(
            select(CaseEvent).order_by(CaseEvent.case_id, CaseEvent.sequence)
        ):
            history[event.case_id].append(event)
        ended = {
            (r.case_id, r.until): r.holder.full_name
            for r in session.scalars(
                select(Responsibility).where(Responsibility.until.is_not(None))
            )
        }
    assert set(history) == set(cases)
    for case_id, events in history.items():
        case = cases[case_id]
        assert events[0].kind == EventKind.OPENED, case.reference
        assert [e.sequence for e in events] == list(range(1, len(events) + 1)), case.reference
        assert case.last_event_sequence == len(events)
        moves = [e for e in events if e.to_stage is not None]
        assert case.stage == moves[-1].to_stage, case.reference
        times = [e.occurred_at for e in events]
        assert times == sorted(times), case.reference
        for moment in times:
            day = moment.astimezone(LONDON).date()
            assert day in school_days and day <= DEMO_TODAY, (case.reference, day)
        for handover in (e for e in events if e.kind in {"referral_accepted", "assigned"}):
            # Each hand-over names the holder whose period it ended.
            previous = ended[(case_id, handover.occurred_at)]
            assert handover.data["from"] == previous, (case.reference, handover.sequence)


def test_pupils_have_valid_unique_upns_and_a_current_school(demo):
    with demo() as session:
        upns = session.scalars(select(Pupil.upn)).all()
        on_roll = session.scalars(
            select(Enrolment.pupil_id).where(
                Enrolment.registration == "main", Enrolment.end_date.is_(None)
            )
        ).all()
        left = session.scalar(
            select(Case.id).where(
                Case.outcome.in_([Outcome.MOVED_AWAY, Outcome.LEFT_ROLL]),
            )
        )
    assert len(upns) == SMALL["pupils"]
    assert len(set(upns)) == len(upns)
    assert [u for u in upns if upn_problem(u)] == []
    assert len(on_roll) == len(set(on_roll))  # at most one main school at a time
    assert left is not None and len(on_roll) < len(upns)


def test_siblings_attend_different_schools(demo):
    with demo() as session:
        rows = session.execute(
            select(Pupil.family_id, Enrolment.school_id, School.phase)
            .join(Enrolment, Enrolment.pupil_id == Pupil.id)
            .join(School, School.id == Enrolment.school_id)
            .where(Pupil.family_id.is_not(None), Enrolment.end_date.is_(None))
        ).all()
    schools, phases = defaultdict(set), defaultdict(set)
    for family, school, phase in rows:
        schools[family].add(school)
        phases[family].add(phase)
    assert any(len(s) > 1 for s in schools.values())
    assert any(p == {"primary", "secondary"} for p in phases.values())


def test_every_listed_demo_user_signs_in_with_the_demo_password(demo):
    with demo() as session:
        listed = demo_users(session)
        users = {u.username: u for u in session.scalars(select(User))}
        first = session.scalars(
            select(School).where(School.id == users["school"].schools[0].school_id)
        ).one()
    usernames = [username for username, _, _ in listed]
    assert sorted(usernames) == sorted(users)
    assert {"admin", "manager", "statutory", "traded", "school"} <= set(usernames)
    for username in usernames:
        assert verify_password(users[username].password_hash, DEMO_PASSWORD), username
    # The README's school user works at a school that buys the traded service from ``traded``.
    assert first.traded_service and first.traded_officer_id == users["traded"].id
    assert first.id in users["traded"].school_ids


def test_the_same_seed_gives_the_same_demo(demo, tmp_path):
    def snapshot(factory) -> tuple[list, list]:
        with factory() as session:
            upns = sorted(session.scalars(select(Pupil.upn)))
            cases = session.execute(
                select(Pupil.upn, Case.kind, Case.stage, Case.outcome, Case.last_event_sequence)
                .join(Pupil, Pupil.id == Case.pupil_id)
                .order_by(Case.id)
            ).all()
        return upns, [tuple(row) for row in cases]

    with _seeded(f"sqlite:///{tmp_path / 'again.db'}") as again:
        assert snapshot(again) == snapshot(demo)
