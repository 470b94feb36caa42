"""The daily scan on SQLite and PostgreSQL: flags raised on open cases become one case event each
(naming their sessions) and the threshold arms the decision clock; pupils without a case get a
proposal; a second scan the same day changes nothing; a flag that stops holding is cleared."""

from __future__ import annotations

from datetime import UTC, date

from sqlalchemy import func, select

from casework.calendars import school_calendar
from casework.models import CaseEvent, CaseProposal, Deadline, PupilFlag
from casework.registers.marks import session_index
from casework.registers.store import record_marks
from workflows.cases import OpenCase, open_case
from workflows.scan import scan_la

AS_AT = date(2024, 11, 20)  # the clock fixture's day
BY = (None, "Olive Lead", "Attendance lead")
# Pupil at Oakfield: unauthorised other (O) on six days in the weeks of 4 and 11 November: 12
# counted sessions within two school weeks, so the threshold (10 in 10 school weeks) is met.
OAK_ABSENT = {date(2024, 11, d) for d in (4, 5, 6, 11, 12, 13)}
# Pupil at Riverside: ill (I) for three days.
RIVER_ILL = {date(2024, 11, d) for d in (11, 12, 13)}


def _marks(session, school_id, absent: set[date], code: str):
    index = session_index(school_calendar(session, school_id), 2024)
    for day, name in index.sessions:
        if day > AS_AT:
            break
        present = "/" if name == "AM" else "\\"
        yield day, name, code if day in absent else present


def _record(session, pupil_id, school_id, marks, reason=None):
    record_marks(
        session,
        pupil_id=pupil_id,
        school_id=school_id,
        marks=list(marks),
        by=BY,
        reason=reason,
        source="manual",
    )


def _setup(db, context):
    with db.factory() as session:
        _record(
            session,
            db.world.pupil_oak,
            db.world.oakfield,
            _marks(session, db.world.oakfield, OAK_ABSENT, "O"),
        )
        _record(
            session,
            db.world.pupil_river,
            db.world.riverside,
            _marks(session, db.world.riverside, RIVER_ILL, "I"),
        )
        session.commit()
    ctx = context("oak_lead")
    case = open_case(ctx, OpenCase(db.world.pupil_oak, db.world.oakfield, reason="below 95%"))
    ctx.commit()
    return case.id


def _scan(db, clock):
    with db.factory() as session:
        report = scan_la(session, db.world.la, as_at=AS_AT, clock=clock)
        session.commit()
        return report


def _flags(session, pupil_id):
    return set(session.scalars(select(PupilFlag.flag).where(PupilFlag.pupil_id == pupil_id)))


def test_the_scan_records_flags_on_open_cases_and_proposes_cases_for_others(db, context, clock):
    case_id = _setup(db, context)
    report = _scan(db, clock)
    assert report.pupils == 2
    with db.factory() as session:
        oak = _flags(session, db.world.pupil_oak)
        assert {"penalty_threshold", "persistent_absence", "below_95"} <= oak
        events = list(
            session.scalars(
                select(CaseEvent).where(
                    CaseEvent.case_id == case_id, CaseEvent.kind == "flag_raised"
                )
            )
        )
        assert {e.data["flag"] for e in events} == oak  # one event per flag raised
        threshold = next(e for e in events if e.data["flag"] == "penalty_threshold")
        assert "Notice to Improve or penalty notice may be considered" in threshold.reason
        listed = {(s["date"], s["session"], s["code"]) for s in threshold.data["sessions"]}
        assert listed == {(d.isoformat(), s, "O") for d in OAK_ABSENT for s in ("AM", "PM")}
        decision = session.scalars(
            select(Deadline).where(Deadline.case_id == case_id, Deadline.kind == "penalty_decision")
        ).one()
        # 10 school days after Wed 20 Nov 2024: Thu 21 (1), Fri 22 (2), Mon 25 - Fri 29 (3-7),
        # Mon 2 (8), Tue 3 (9), Wed 4 Dec (10).
        assert (decision.status, decision.due_on) == ("pending", date(2024, 12, 4))
        proposal = session.scalars(select(CaseProposal)).one()
        assert (proposal.pupil_id, proposal.school_id, proposal.status) == (
            db.world.pupil_river,
            db.world.riverside,
            "open",
        )
        assert proposal.stage == "monitor"
        assert "attendance" in proposal.explanation.lower()


def test_a_second_scan_the_same_day_changes_nothing(db, context, clock):
    _setup(db, context)
    first = _scan(db, clock)
    assert first.raised > 0
    with db.factory() as session:
        before = (
            session.scalar(select(func.count()).select_from(CaseEvent)),
            session.scalar(select(func.count()).select_from(CaseProposal)),
            session.scalar(select(func.count()).select_from(Deadline)),
        )
    again = _scan(db, clock)
    assert (again.raised, again.cleared, again.case_events, again.proposals) == (0, 0, 0, 0)
    assert again.flags_now == first.flags_now
    with db.factory() as session:
        after = (
            session.scalar(select(func.count()).select_from(CaseEvent)),
            session.scalar(select(func.count()).select_from(CaseProposal)),
            session.scalar(select(func.count()).select_from(Deadline)),
        )
    assert after == before


def test_a_flag_that_stops_holding_is_cleared_on_the_case(db, context, clock):
    case_id = _setup(db, context)
    _scan(db, clock)
    with db.factory() as session:
        # The school learns the absences were illness: O becomes I (authorised), so the
        # penalty-notice threshold no longer holds, though persistent absence still does.
        _record(
            session,
            db.world.pupil_oak,
            db.world.oakfield,
            [(d, s, "I") for d in OAK_ABSENT for s in ("AM", "PM")],
            reason="medical evidence provided",
        )
        session.commit()
    report = _scan(db, clock)
    assert report.cleared >= 1
    with db.factory() as session:
        assert "penalty_threshold" not in _flags(session, db.world.pupil_oak)
        assert "persistent_absence" in _flags(session, db.world.pupil_oak)
        cleared = session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == "flag_cleared")
        ).all()
        assert [e.data["flag"] for e in cleared] == ["penalty_threshold"]


def test_a_school_accepts_or_dismisses_a_proposed_case(db, context, clock, client_as):
    _setup(db, context)
    _scan(db, clock)
    lead = client_as("river_lead")
    page = lead.get("/")
    assert "Cases proposed by the daily attendance scan" in page.text
    (proposal,) = lead.get("/api/proposals/").json()
    assert proposal["school_id"] == db.world.riverside and proposal["stage"] == "monitor"
    # Another school's lead does not see it, and cannot decide it.
    other = client_as("hill_lead")
    assert other.get("/api/proposals/").json() == []
    refused = other.post(
        f"/api/proposals/{proposal['id']}/accept", json={"expected_version": proposal["version"]}
    )
    assert refused.status_code == 404
    no_reason = lead.post(
        f"/api/proposals/{proposal['id']}/dismiss",
        json={"expected_version": proposal["version"], "reason": " "},
    )
    assert no_reason.status_code == 422
    opened = lead.post(
        f"/api/proposals/{proposal['id']}/accept", json={"expected_version": proposal["version"]}
    )
    assert opened.status_code == 201, opened.text
    case = lead.get(f"/api/cases/{opened.json()['case_id']}").json()
    assert case["case"]["stage"] == "monitor"
    assert lead.get("/api/proposals/").json() == []
    again = lead.post(
        f"/api/proposals/{proposal['id']}/accept", json={"expected_version": proposal["version"]}
    )
    assert again.status_code == 409


def test_pupil_and_case_pages_show_each_flag_with_its_sessions(db, context, clock, client_as):
    case_id = _setup(db, context)
    _scan(db, clock)
    lead = client_as("oak_lead")
    pupil = lead.get(f"/pupils/{db.world.pupil_oak}")
    assert pupil.status_code == 200
    assert "Attendance this year" in pupil.text
    assert "The 12 sessions behind it" in pupil.text  # the threshold window's O sessions
    assert "4 November 2024 AM O" in pupil.text
    case = lead.get(f"/cases/{case_id}")
    assert "Attendance flag raised" in case.text
    assert "may be considered" in case.text


def test_the_scheduler_scans_every_evening_and_at_start_up(db, context, clock, caplog):
    import logging

    from apscheduler.schedulers.background import BackgroundScheduler

    from workflows.scheduler import _scan_job, configure

    _setup(db, context)
    scheduler = configure(
        BackgroundScheduler(timezone=UTC), db.factory, clock, "test", retention_years=6
    )
    job = scheduler.get_job("daily_scan")
    fields = {f.name: str(f) for f in job.trigger.fields}
    assert (fields["hour"], fields["minute"], str(job.trigger.timezone)) == (
        "19",
        "0",
        "Europe/London",
    )
    assert job.next_run_time is not None  # the start-up catch-up
    with caplog.at_level(logging.INFO, logger="casework.scheduler"):
        _scan_job(*job.args)
    (line,) = [r.getMessage() for r in caplog.records if r.name == "casework.scheduler"]
    assert line.startswith(f"daily scan LA {db.world.la} on 2024-11-20: 2 pupils")
    with db.factory() as session:
        assert "penalty_threshold" in _flags(session, db.world.pupil_oak)


def test_absence_statistics_use_the_dfe_columns_and_scope(db, context, client_as):
    _setup(db, context)
    manager = client_as("manager")
    (overall,) = manager.get("/api/statistics/absence?as_at=2024-11-20").json()
    # Two pupils: Oakfield's 12 unauthorised sessions and Riverside's 6 authorised (illness).
    assert overall["sess_unauthorised"] == 12 and overall["sess_authorised"] == 6
    assert overall["enrolments"] == 2
    assert overall["sess_overall"] == 18
    assert overall["sess_overall_percent"] == round(100 * 18 / overall["sess_possible"], 1)
    assert overall["enrolments_pa_10_exact"] == 1  # Oakfield's pupil: 12 of about 100
    by_school = manager.get("/api/statistics/absence?as_at=2024-11-20&by=school").json()
    assert [r["school"] for r in by_school] == ["Oakfield Primary", "Riverside Primary"]
    cohorts = manager.get("/api/statistics/absence?as_at=2024-11-20&by=cohort").json()
    assert {"cohort": "nc_year", "value": "4"}.items() <= next(
        r for r in cohorts if r["cohort"] == "nc_year" and r["value"] == "4"
    ).items()
    # A school sees only its own pupils.
    (own,) = client_as("oak_lead").get("/api/statistics/absence?as_at=2024-11-20").json()
    assert own["enrolments"] == 1 and own["sess_unauthorised"] == 12
    bad = manager.get("/api/statistics/absence?by=region")
    assert bad.status_code == 422 and "by" in bad.text


def test_a_pupil_registered_at_two_schools_is_scanned_on_both_registers(db, clock):
    # Six O sessions at Oakfield (4-6 Nov) and four at Riverside (11-12 Nov): only together do
    # they reach 10 counted sessions within 10 school weeks.
    with db.factory() as session:
        oak = [(d, s, "O") for d in (date(2024, 11, 4), date(2024, 11, 5), date(2024, 11, 6))
               for s in ("AM", "PM")]  # fmt: skip
        river = [
            (d, s, "O") for d in (date(2024, 11, 11), date(2024, 11, 12)) for s in ("AM", "PM")
        ]
        _record(session, db.world.pupil_oak, db.world.oakfield, oak)
        _record(session, db.world.pupil_oak, db.world.riverside, river)
        session.commit()
    report = _scan(db, clock)
    assert report.pupils == 1
    with db.factory() as session:
        flags = session.execute(
            select(PupilFlag.school_id, PupilFlag.flag).where(
                PupilFlag.pupil_id == db.world.pupil_oak
            )
        ).all()
    assert (db.world.riverside, "penalty_threshold") in flags  # counted at the latest school
