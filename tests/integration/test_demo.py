"""The demo LA: about a year of believable casework up to today, which every demo user can sign in
to and explore.

A small demo is seeded once per engine and per ``today`` into its own empty database (the ``db``
fixture's world already holds LA 340, so it cannot be used here). The todays are fixed so the
tests repeat: one well into the autumn term, one early in it (the histories then begin in the
previous school year) and one in the summer holiday (they end on the last day of the summer term).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Date, DateTime, func, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from api.demo import DEMO_PASSWORD, demo_users, seed_demo
from api.demo.stories import HISTORY_DAYS
from api.demo.timeline import Timeline, academic_year, term_days, terms
from casework.analytics.flags import pupil_flags
from casework.analytics.timeline import load_timeline
from casework.calendars import TermCalendar
from casework.calendars.config_files import la_calendar
from casework.calendars.model import academic_year_of
from casework.db import make_engine, make_session_factory
from casework.durations import is_working_day
from casework.migrate import upgrade
from casework.models import (
    Base,
    Case,
    CaseEvent,
    CaseProposal,
    Enrolment,
    ImportBatch,
    Pupil,
    PupilFlag,
    RegisterYear,
    Responsibility,
    School,
    User,
)
from casework.models.base import UTCDateTime
from casework.models.deadlines import Deadline
from casework.passwords import verify_password
from casework.upn import upn_problem
from casework.vocabulary import CaseKind, EventKind, Outcome, Stage
from config.profiles import load_profile
from tests.support.postgres import require_postgres, scratch_database

SMALL = {"schools": 6, "pupils": 400, "seed": 7}
LONDON = ZoneInfo("Europe/London")
TODAYS = {
    "autumn": date(2026, 11, 23),
    "early_autumn": date(2026, 9, 10),
    "summer_holiday": date(2026, 8, 10),
}
# Deadlines look forward: they are the only dates a demo record may hold after today.
FORWARD = {"due_on", "remind_on"}


@dataclass(frozen=True)
class Demo:
    factory: sessionmaker[Session]
    today: date

    @property
    def timeline(self) -> Timeline:
        return Timeline.for_today(self.today, HISTORY_DAYS)


@contextmanager
def _seeded(url: str, today: date) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(url)
    try:
        upgrade(engine)
        factory = make_session_factory(engine)
        seed_demo(factory, **SMALL, today=today)
        yield factory
    finally:
        engine.dispose()


@pytest.fixture(scope="module", params=list(TODAYS))
def today(request) -> date:
    return TODAYS[request.param]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def demo(request, today, tmp_path_factory) -> Iterator[Demo]:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("demo") / "demo.db"
        with _seeded(f"sqlite:///{path}", today) as factory:
            yield Demo(factory, today)
        return
    require_postgres()
    with (
        scratch_database(f"casework_demo_{os.getpid()}_{today:%Y%m%d}") as url,
        _seeded(url, today) as factory,
    ):
        yield Demo(factory, today)


def _cases(session: Session) -> list[Case]:
    return list(session.scalars(select(Case).order_by(Case.id)))


# --- the term dates -------------------------------------------------------------------------------


def test_the_demo_runs_on_knowsleys_published_2024_25_term_dates():
    # config/calendars/knowsley.toml, as published (CALENDARS.md).
    autumn, spring, summer = terms(2024)
    assert (autumn.first, autumn.last) == (date(2024, 9, 2), date(2024, 12, 20))
    assert autumn.half_term == (date(2024, 10, 28), date(2024, 11, 1))
    assert (spring.first, spring.last) == (date(2025, 1, 6), date(2025, 4, 4))
    assert spring.half_term == (date(2025, 2, 17), date(2025, 2, 21))
    assert (summer.first, summer.last) == (date(2025, 4, 22), date(2025, 7, 22))
    assert summer.half_term == (date(2025, 5, 26), date(2025, 5, 30))
    days = term_days(2024)
    assert date(2025, 4, 21) not in days  # Easter Monday (and the Easter holiday)
    assert date(2025, 5, 5) not in days  # early May bank holiday
    assert date(2024, 10, 28) not in days  # October half term
    assert date(2025, 4, 22) in days and date(2024, 11, 4) in days


@pytest.mark.parametrize("year", range(2020, 2036))
def test_the_demo_term_days_are_the_school_days_the_services_count(year):
    # The demo LA's schools have no calendar changes of their own, so their calendar is the
    # LA's: every term day is a school day there, and every school day a term day.
    shipped = la_calendar("knowsley")
    cal = TermCalendar("a demo school", shipped.years, pattern=shipped.pattern)
    autumn, spring, summer = terms(year)
    span = [autumn.first + timedelta(days=n) for n in range((summer.last - autumn.first).days + 1)]
    assert term_days(year) == [d for d in span if cal.is_school_day(d)]
    assert autumn.first.month == 9 and summer.last.month == 7
    for term in (autumn, spring, summer):
        monday, friday = term.half_term
        assert monday.weekday() == 0 and (friday - monday).days == 4
        assert term.first < monday and friday < term.last
    days = term_days(year)
    # 195 days of term (the published years, and the pattern's rule), the pattern carrying the
    # summer term on to a third day of its last week where needed; no INSET days in the demo.
    assert 195 <= len(days) <= 197
    assert days == sorted(days) and all(is_working_day(d) for d in days)


def test_the_histories_begin_in_an_autumn_term_with_room_for_the_longest():
    autumn = Timeline.for_today(TODAYS["autumn"], HISTORY_DAYS)
    assert autumn.academic_year == 2026
    assert autumn.last == date(2026, 11, 20)  # the Friday before that Monday
    # Twelve weeks into the year is too few for a prosecution: they began a year earlier.
    assert autumn.first == terms(2025)[0].first
    early = Timeline.for_today(TODAYS["early_autumn"], HISTORY_DAYS)
    assert (early.academic_year, early.first) == (2026, terms(2025)[0].first)
    assert early.last == date(2026, 9, 9)
    holiday = Timeline.for_today(TODAYS["summer_holiday"], HISTORY_DAYS)
    assert holiday.academic_year == 2025 == academic_year(TODAYS["summer_holiday"])
    assert (holiday.first, holiday.last) == (terms(2025)[0].first, terms(2025)[2].last)
    late = Timeline.for_today(date(2027, 7, 2), HISTORY_DAYS)
    assert late.first == terms(2026)[0].first  # this year's autumn: room enough
    for timeline in (autumn, early, holiday, late):
        assert len(timeline.days) >= HISTORY_DAYS
        assert timeline.last < timeline.today


# --- the demo, seeded for each today --------------------------------------------------------------


def test_cases_reach_every_stage_kind_and_outcome(demo):
    with demo.factory() as session:
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
    school_days = set(demo.timeline.days)
    with demo.factory() as session:
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
            local = moment.astimezone(LONDON)
            assert local.date() in school_days and local.date() < demo.today, (
                case.reference,
                local,
            )
            assert time(8, 30) <= local.time() <= time(17, 0), (case.reference, local)
        # The service numbers cases in each year they open in.
        opened = case.opened_at.astimezone(LONDON)
        assert case.reference.startswith(f"340-{opened:%y}-"), case.reference
        for handover in (e for e in events if e.kind in {"referral_accepted", "assigned"}):
            # Each hand-over names the holder whose period it ended.
            previous = ended[(case_id, handover.occurred_at)]
            assert handover.data["from"] == previous, (case.reference, handover.sequence)


def test_no_record_is_dated_after_today(demo):
    with demo.factory() as session:
        engine = session.get_bind()
        present = set(inspect(engine).get_table_names())
        latest = {}
        for table in Base.metadata.sorted_tables:
            if table.name not in present:
                continue
            for column in table.columns:
                if (
                    isinstance(column.type, Date | DateTime | UTCDateTime)
                    and column.name not in FORWARD
                ):
                    latest[f"{table.name}.{column.name}"] = session.scalar(select(func.max(column)))
    assert latest["case_event.occurred_at"] is not None
    for name, value in latest.items():
        if isinstance(value, datetime):
            value = value.astimezone(LONDON).date()
        assert value is None or value <= demo.today, (name, value)


def test_pupils_have_valid_unique_upns_and_a_current_school(demo):
    year = academic_year(demo.today)
    with demo.factory() as session:
        pupils = session.execute(select(Pupil.upn, Pupil.nc_year, Pupil.date_of_birth)).all()
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
    upns = [upn for upn, _, _ in pupils]
    assert len(upns) == SMALL["pupils"]
    assert len(set(upns)) == len(upns)
    assert [u for u in upns if upn_problem(u)] == []
    assert len(on_roll) == len(set(on_roll))  # at most one main school at a time
    assert left is not None and len(on_roll) < len(upns)
    # NC years are those of the academic year holding today: Reception children are four on
    # 1 September of it.
    for upn, nc_year, born in pupils:
        first = date(year - 5 - nc_year, 9, 1)
        assert first <= born < date(first.year + 1, 9, 1), (upn, nc_year, born)


def test_siblings_attend_different_schools(demo):
    with demo.factory() as session:
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
    with demo.factory() as session:
        listed = demo_users(session)
        users = {u.username: u for u in session.scalars(select(User))}
        first = session.scalars(
            select(School).where(School.id == users["school"].schools[0].school_id)
        ).one()
    usernames = [username for username, _, _ in listed]
    assert sorted(usernames) == sorted(users)
    assert {"admin", "manager", "statutory", "traded", "school"} <= set(usernames)
    # The accounts share one hash (seeding hashes the password once): check each hash once.
    for password_hash in {users[username].password_hash for username in usernames}:
        assert verify_password(password_hash, DEMO_PASSWORD)
    # The README's school user works at a school that buys the traded service from ``traded``.
    assert first.traded_service and first.traded_officer_id == users["traded"].id
    assert first.id in users["traded"].school_ids


def test_the_same_seed_and_today_give_the_same_demo(demo, tmp_path):
    def snapshot(factory) -> tuple[list, list]:
        with factory() as session:
            upns = sorted(session.scalars(select(Pupil.upn)))
            cases = session.execute(
                select(
                    Case.reference,
                    Pupil.upn,
                    Case.kind,
                    Case.stage,
                    Case.outcome,
                    Case.last_event_sequence,
                    Case.opened_at,
                )
                .join(Pupil, Pupil.id == Case.pupil_id)
                .order_by(Case.id)
            ).all()
        return upns, [tuple(row) for row in cases]

    with _seeded(f"sqlite:///{tmp_path / 'again.db'}", demo.today) as again:
        assert snapshot(again) == snapshot(demo.factory)


# --- the registers (the generator's CTF files, imported, then the daily scan) ---------------------


def test_the_registers_come_from_ctf_imports_and_the_scan_matches_the_calibration(demo):
    """Acceptance (issue 4): the generator's CTF files for the demo LA, imported, then the daily
    scan: persistent and severe absence within a point of DfE 2023/24 (20.0 %, 2.3 %)."""
    with demo.factory() as session:
        batches = list(session.scalars(select(ImportBatch)))
        assert batches and {(b.kind, b.status) for b in batches} == {("ctf", "imported")}
        year = session.scalar(select(func.max(RegisterYear.academic_year)))
        scanned = session.scalar(
            select(func.count(func.distinct(RegisterYear.pupil_id))).where(
                RegisterYear.academic_year == year
            )
        )
        counts = dict(
            session.execute(select(PupilFlag.flag, func.count()).group_by(PupilFlag.flag)).all()
        )
    assert scanned >= SMALL["pupils"] * 0.9
    persistent = 100 * counts.get("persistent_absence", 0) / scanned
    severe = 100 * counts.get("severe_absence", 0) / scanned
    assert abs(persistent - 20.0) <= 1.0, persistent
    assert abs(severe - 2.3) <= 1.0, severe


def test_every_flag_the_scan_raised_names_its_sessions(demo):
    with demo.factory() as session:
        flagged = session.execute(
            select(PupilFlag.pupil_id, PupilFlag.flag, PupilFlag.raised_on)
        ).all()
        assert flagged
        by_pupil: dict[int, set[str]] = defaultdict(set)
        for pupil_id, flag, _ in flagged:
            by_pupil[pupil_id].add(flag)
        # Flags are raised at each staged scan; every one standing holds on the last scan's day.
        as_at = demo.timeline.last
        profile = load_profile("knowsley")
        year = academic_year_of(as_at)
        for pupil_id, flags in by_pupil.items():
            timeline = load_timeline(session, pupil_id, date(year - 1, 8, 1), as_at)
            start = next(m.day for m in timeline.sessions if academic_year_of(m.day) == year)
            explained = {
                f.key: f
                for f in pupil_flags(timeline, start=start, as_at=as_at, rules=profile.analytics)
            }
            assert flags <= set(explained), (flags, set(explained))
            for key in flags:
                assert explained[key].sessions, key


# --- a well-run LA: My work shows a handful of real items --------------------------------------

# Deadlines a scenario leaves passed on purpose: a Level 4 request refused, so the case waits at
# Level 3; a referral to Level 2 returned, so the school is still at Level 1; a Level 2 case
# awaiting the statutory team's acceptance past its half term; an unpaid penalty notice awaiting
# the LA's decision (and the school's letter on that holiday case).
KEPT_PASSING = {"level_3_review", "level_1_review", "level_2_cap", "penalty_notice_unpaid"}
# "Long overdue": due more than this many term days before the last one.
LONG_OVERDUE_DAYS = 10


def test_the_casework_is_kept_up_to_date(demo):
    """Every clock whose action a person takes was actioned on time, except a few in the last
    days: only the scenarios that keep a deadline passing on purpose leave one long overdue."""
    days = demo.timeline.days
    long_ago = days[-1 - LONG_OVERDUE_DAYS]
    with demo.factory() as session:
        rows = session.execute(
            select(Deadline.kind, Deadline.due_on)
            .join(Case, Case.id == Deadline.case_id)
            .where(Deadline.status.in_(("pending", "fired")), Case.closed_at.is_(None))
        ).all()
        open_cases = session.scalar(select(func.count()).where(Case.closed_at.is_(None)))
    long_overdue = [(kind, due) for kind, due in rows if due < long_ago]
    assert {kind for kind, _ in long_overdue} <= KEPT_PASSING, long_overdue
    assert len(long_overdue) <= 5, long_overdue
    # A few overdue at most: fewer than one open case in two has anything overdue.
    overdue = [kind for kind, due in rows if due < demo.today]
    assert len(overdue) <= open_cases // 2, overdue


def test_only_recent_flags_are_new_and_only_recent_proposals_are_open(demo):
    """The registers came in through the year, so a flag is dated when it was first met and
    the schools decided the older proposals; My work's "newly flagged" (the last fortnight) is
    then a part of the flags, not all of them."""
    recent = demo.today - timedelta(days=14)
    with demo.factory() as session:
        raised = session.scalars(select(PupilFlag.raised_on)).all()
        proposals = session.execute(select(CaseProposal.status, CaseProposal.proposed_on)).all()
    # Open: those of the last fortnight of term (the registers stop with it).
    last_weeks = demo.timeline.last - timedelta(days=14)
    assert all(on >= last_weeks for status, on in proposals if status == "open"), proposals
    year = academic_year_of(demo.timeline.last)
    if (demo.today - terms(year)[0].first).days < 8 * 7:
        return  # the year's registers began too recently for older flags
    assert sum(on >= recent for on in raised) < len(raised) / 2
    decided = [status for status, on in proposals if on < last_weeks]
    assert decided and set(decided) <= {"accepted", "dismissed"}
