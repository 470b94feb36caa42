"""The LA reports on SQLite and PostgreSQL: absence by school, year group and month, caseload per
officer, deadlines met on time, and attendance before and after interventions, on a small laid
register with every figure worked out by hand; scope (a manager sees the LA, a traded officer
their schools, school staff nothing); and the page.

The clock is Wednesday 20 November 2024. Knowsley's autumn term 2024 runs from Monday 2 September
with half term 28 October to 1 November, so the school weeks used are those of 9, 16, 23 and 30
September, 7, 14 and 21 October, 4, 11 and 18 November (the last not complete by the 20th).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from casework.models import Contact, Intervention, PenaltyNotice
from casework.models.deadlines import Deadline
from casework.registers.store import record_marks
from workflows import reports
from workflows.absence_statistics import absence_statistics
from workflows.cases import OpenCase, open_case

HTML = {"Accept": "text/html,application/xhtml+xml"}
BY = (None, "Olive Lead", "Attendance lead")
AS_AT = date(2024, 11, 20)

SEP_09, SEP_16, SEP_23, SEP_30 = (date(2024, 9, d) for d in (9, 16, 23, 30))
OCT_07, OCT_14, OCT_21 = (date(2024, 10, d) for d in (7, 14, 21))
NOV_04, NOV_11, NOV_18 = (date(2024, 11, d) for d in (4, 11, 18))


def _week(monday: date, present: int, absent: str = "O", sessions: int = 10):
    """``sessions`` marks from Monday AM: ``present`` of them "/", the rest ``absent``."""
    codes = ["/"] * present + [absent] * (sessions - present)
    return [
        (monday + timedelta(days=i // 2), "AM" if i % 2 == 0 else "PM", code)
        for i, code in enumerate(codes)
    ]


def _lay(session, pupil_id, school_id, weeks):
    marks = [m for week in weeks for m in week]
    record_marks(
        session,
        pupil_id=pupil_id,
        school_id=school_id,
        marks=marks,
        by=BY,
        reason=None,
        source="manual",
    )


# --- 1. absence by school, year group and month ----------------------------------------------


@pytest.fixture
def absence_world(db):
    """Amelia (Oakfield, Year 4): 2 unauthorised of 20, exactly 10 %: persistently absent.
    Bella (Riverside, Year 2): 10 ill of 20, 50 %: severely absent. Cara (Hillcrest, Year 3):
    all present. September: the week of the 9th; October: the week of the 7th."""
    w = db.world
    with db.factory() as session:
        _lay(session, w.pupil_oak, w.oakfield, [_week(SEP_09, 10), _week(OCT_07, 8)])
        _lay(session, w.pupil_river, w.riverside, [_week(SEP_09, 0, "I"), _week(OCT_07, 10)])
        _lay(session, w.pupil_hill, w.hillcrest, [_week(SEP_09, 10), _week(OCT_07, 10)])
        session.commit()
    return w


# (label, enrolments, overall %, persistently absent, PA %, severely absent, severe %)
LA_SCHOOLS = [
    ("Hillcrest Primary", 1, 0.0, 0, 0.0, 0, 0.0),
    ("Oakfield Primary", 1, 10.0, 1, 100.0, 0, 0.0),
    ("Riverside Primary", 1, 50.0, 1, 100.0, 1, 100.0),
]
LA_YEARS = [
    ("Year 2", 1, 50.0, 1, 100.0, 1, 100.0),
    ("Year 3", 1, 0.0, 0, 0.0, 0, 0.0),
    ("Year 4", 1, 10.0, 1, 100.0, 0, 0.0),
]


def _figures(rows):
    a = [r.aggregate for r in rows]
    return [
        (
            r.label,
            x.enrolments,
            round(x.sess_overall_percent, 1),
            x.enrolments_pa_10_exact,
            round(x.enrolments_pa_10_exact_percent, 1),
            x.enrolments_pa_50_exact,
            round(x.enrolments_pa_50_exact_percent, 1),
        )
        for r, x in zip(rows, a, strict=True)
    ]


@pytest.mark.parametrize(
    ("user", "schools", "years", "overall"),
    [
        # possible 60, absent 12; PA 2 of 3; severe 1 of 3
        ("manager", LA_SCHOOLS, LA_YEARS, (3, 60, 12, 20.0, 66.7, 33.3)),
        ("statutory", LA_SCHOOLS, LA_YEARS, (3, 60, 12, 20.0, 66.7, 33.3)),
        # Oakfield and Riverside only: possible 40, absent 12
        ("traded", LA_SCHOOLS[1:], [LA_YEARS[0], LA_YEARS[2]], (2, 40, 12, 30.0, 100.0, 50.0)),
    ],
)
def test_absence_by_school_and_year_group(absence_world, context, user, schools, years, overall):
    ctx = context(user)
    report = reports.absence_report(ctx, AS_AT)
    assert _figures(report.by_school) == schools
    assert _figures(report.by_year_group) == years
    o = report.overall
    assert (
        o.enrolments,
        o.sess_possible,
        o.sess_overall,
        round(o.sess_overall_percent, 1),
        round(o.enrolments_pa_10_exact_percent, 1),
        round(o.enrolments_pa_50_exact_percent, 1),
    ) == overall
    # The same figures as the statistics API's (one reading of the registers for both).
    assert [
        {k: v for k, v in row.items() if k != "school"}
        for row in absence_statistics(ctx, as_at=AS_AT, by="school")
    ] == [r.aggregate.row() for r in report.by_school]
    by_cohort = absence_statistics(ctx, as_at=AS_AT, by="cohort")
    assert [
        {k: v for k, v in row.items() if k not in ("cohort", "value")}
        for row in by_cohort
        if row["cohort"] == "nc_year"
    ] == [r.aggregate.row() for r in report.by_year_group]


def test_the_trend_month_by_month(absence_world, context):
    trend = reports.absence_report(context("manager"), AS_AT).trend
    assert [(p.month, p.absence, p.persistent_to_date, p.enrolments) for p in trend] == [
        # September: Bella's 10 of 30 sessions; PA to date: Bella alone (1 of 3)
        (date(2024, 9, 1), pytest.approx(100 / 3), pytest.approx(100 / 3), 3),
        # October: Amelia's 2 of 30; to date Amelia 2/20 (exactly 10 %) and Bella 10/20
        (date(2024, 10, 1), pytest.approx(20 / 3), pytest.approx(200 / 3), 3),
        # November: no sessions marked yet; the year to date is October's
        (date(2024, 11, 1), None, pytest.approx(200 / 3), 3),
    ]
    assert trend[-1].absence_to_date == pytest.approx(20.0)


# --- 2. caseload, deadlines and outcomes -------------------------------------------------------


def _case(context, username, pupil_id, school_id) -> int:
    ctx = context(username)
    case = open_case(ctx, OpenCase(pupil_id, school_id, reason="attendance below 95%"))
    ctx.commit()
    return case.id


def _intervention(session, case_id, kind, on, user_id, supersedes=None) -> int:
    item = Intervention(
        case_id=case_id,
        kind=kind,
        occurred_on=on,
        recorded_at=datetime(2024, 11, 20, 9, tzinfo=UTC),
        recorded_by_id=user_id,
        staff_name="Traded",
        staff_position="Traded officer",
        attendees=[],
        family_engaged="engaged",
        outcome="pending",
        summary="held",
        details={},
        supersedes_id=supersedes,
    )
    session.add(item)
    session.flush()
    return item.id


def _notice(session, world, case_id, contact_id, reference, issued_on, user_id):
    session.add(
        PenaltyNotice(
            reference=reference,
            la_id=world.la,
            school_id=world.oakfield,
            pupil_id=world.pupil_oak,
            contact_id=contact_id,
            case_id=case_id,
            reason="irregular_attendance",
            offence_from=date(2024, 9, 16),
            offence_to=date(2024, 10, 25),
            ordinal=1,
            amount_discounted_pence=8000,
            amount_full_pence=16000,
            status="issued",
            drafted_at=datetime(2024, 11, 1, 9, tzinfo=UTC),
            drafted_by_id=user_id,
            rationales={},
            recipient={"name": reference},
            issued_on=issued_on,
        )
    )


def _deadline(session, case_id, school_id, kind, due_on, status, cancelled_on=None):
    session.add(
        Deadline(
            case_id=case_id,
            school_id=school_id,
            kind=kind,
            label=kind.replace("_", " ").capitalize(),
            rule="laid by hand",
            starts_on=due_on - timedelta(days=10),
            amount=10,
            unit="school_days",
            due_on=due_on,
            status=status,
            attempts=0,
            armed_at=datetime(2024, 10, 1, 9, tzinfo=UTC),
            cancelled_at=(
                datetime.combine(cancelled_on, datetime.min.time(), tzinfo=UTC).replace(hour=12)
                if cancelled_on
                else None
            ),
            details={},
        )
    )


@pytest.fixture
def casework_world(db, context):
    """Registers, cases, interventions, notices and deadlines, each figure worked out by hand.

    Amelia (Oakfield): weeks of 23 and 30 Sep 6/10 each; 7 Oct 0/10 (the AIM's own week, in
    neither window); 14 Oct 9/10; 21 Oct 8/10; 4 Nov 10/10; 11 Nov 10/10; 18 Nov Mon-Tue 4/4.
    An AIM on Wednesday 9 October (recorded, then superseded by its outcome: counted once), and
    a penalty notice to each parent issued on Monday 4 November (one occasion).
    Bella (Riverside): 30 Sep and 7 Oct 10/10; 21 Oct and 4 Nov 5/10; 11 Nov 10/10; 18 Nov 4/4.
    An attendance contract on Monday 14 October.
    Cara (Hillcrest): 11 Nov 10/10, 18 Nov 4/4; an AIM on Wednesday 13 November (too recent).
    """
    w = db.world
    with db.factory() as session:
        _lay(
            session,
            w.pupil_oak,
            w.oakfield,
            [
                _week(SEP_23, 6),
                _week(SEP_30, 6),
                _week(OCT_07, 0),
                _week(OCT_14, 9),
                _week(OCT_21, 8),
                _week(NOV_04, 10),
                _week(NOV_11, 10),
                _week(NOV_18, 4, sessions=4),
            ],
        )
        _lay(
            session,
            w.pupil_river,
            w.riverside,
            [
                _week(SEP_30, 10),
                _week(OCT_07, 10),
                _week(OCT_21, 5),
                _week(NOV_04, 5),
                _week(NOV_11, 10),
                _week(NOV_18, 4, sessions=4),
            ],
        )
        _lay(session, w.pupil_hill, w.hillcrest, [_week(NOV_11, 10), _week(NOV_18, 4, sessions=4)])
        session.commit()
    oak = _case(context, "oak_lead", w.pupil_oak, w.oakfield)
    river = _case(context, "river_lead", w.pupil_river, w.riverside)
    hill = _case(context, "hill_lead", w.pupil_hill, w.hillcrest)
    traded = w.users["traded"]
    with db.factory() as session:
        first = _intervention(
            session, oak, "attendance_improvement_meeting", OCT_07 + timedelta(2), traded
        )
        _intervention(
            session, oak, "attendance_improvement_meeting", OCT_07 + timedelta(2), traded, first
        )
        _intervention(session, river, "attendance_contract", OCT_14, traded)
        _intervention(
            session, hill, "attendance_improvement_meeting", NOV_11 + timedelta(2), traded
        )
        _intervention(session, oak, "phone_call", OCT_14, traded)  # not a compared kind
        contacts = session.scalars(
            select(Contact.id).where(Contact.family_id == w.family).order_by(Contact.id)
        ).all()
        for n, contact in enumerate(contacts):
            _notice(session, w, oak, contact, f"PN-TEST-{n}", NOV_04, w.users["statutory"])
        # Deadlines: on time (stopped before or on the day), late (stopped after, or done after
        # it fired), overdue (fired, still open); pending ones are not counted.
        _deadline(
            session,
            oak,
            w.oakfield,
            "test_review",
            date(2024, 10, 10),
            "cancelled",
            date(2024, 10, 9),
        )
        _deadline(
            session,
            oak,
            w.oakfield,
            "test_review",
            date(2024, 10, 10),
            "cancelled",
            date(2024, 10, 10),
        )
        _deadline(
            session,
            oak,
            w.oakfield,
            "test_review",
            date(2024, 10, 10),
            "cancelled",
            date(2024, 10, 11),
        )
        _deadline(
            session,
            river,
            w.riverside,
            "test_review",
            date(2024, 10, 10),
            "done_late",
            date(2024, 10, 15),
        )
        _deadline(session, river, w.riverside, "test_letter", date(2024, 11, 1), "fired")
        _deadline(
            session,
            hill,
            w.hillcrest,
            "test_letter",
            date(2024, 11, 1),
            "cancelled",
            date(2024, 10, 30),
        )
        _deadline(session, hill, w.hillcrest, "test_letter", date(2024, 12, 1), "pending")
        session.commit()
    return w


def _row(rows, kind):
    return next(r for r in rows if r.kind == kind)


AIM, CONTRACT, PN = "attendance_improvement_meeting", "attendance_contract", "penalty_notice"


@pytest.mark.parametrize(
    ("user", "weeks", "expected"),
    [
        # N = 2. AIM (Amelia, 9 Oct): before 23 + 30 Sep 12/20 = 60 %, after 14 + 21 Oct
        # 17/20 = 85 %: improved; Cara's is too recent. Contract (Bella, 14 Oct): before 30 Sep
        # + 7 Oct 100 %, after 21 Oct + 4 Nov (half term has no marks) 10/20 = 50 %. Penalty
        # notice (Amelia, 4 Nov): after it only 11 Nov is complete: too recent.
        (
            "manager",
            2,
            {
                AIM: (1, 60.0, 85.0, 25.0, 1, 1, 0),
                CONTRACT: (1, 100.0, 50.0, -50.0, 0, 0, 0),
                "notice_to_improve": (0, None, None, None, 0, 0, 0),
                PN: (0, None, None, None, 0, 1, 0),
            },
        ),
        # N = 1. AIM: 30 Sep 60 % -> 14 Oct 90 %. Contract: 7 Oct 100 % -> 21 Oct 50 %.
        # Penalty notice: 21 Oct 80 % -> 11 Nov 100 %.
        (
            "manager",
            1,
            {
                AIM: (1, 60.0, 90.0, 30.0, 1, 1, 0),
                CONTRACT: (1, 100.0, 50.0, -50.0, 0, 0, 0),
                "notice_to_improve": (0, None, None, None, 0, 0, 0),
                PN: (1, 80.0, 100.0, 20.0, 1, 0, 0),
            },
        ),
        # The traded officer sees Oakfield and Riverside's cases: not Cara's AIM.
        (
            "traded",
            2,
            {
                AIM: (1, 60.0, 85.0, 25.0, 1, 0, 0),
                CONTRACT: (1, 100.0, 50.0, -50.0, 0, 0, 0),
                "notice_to_improve": (0, None, None, None, 0, 0, 0),
                PN: (0, None, None, None, 0, 1, 0),
            },
        ),
    ],
)
def test_attendance_before_and_after_interventions(casework_world, context, user, weeks, expected):
    rows = reports.outcomes(context(user), AS_AT, weeks)
    assert [r.kind for r in rows] == [AIM, CONTRACT, "notice_to_improve", PN]
    for kind, (
        counted,
        before,
        after,
        change,
        improved,
        too_recent,
        no_register,
    ) in expected.items():
        row = _row(rows, kind)

        def near(value):
            return None if value is None else pytest.approx(value)

        assert (
            row.counted,
            row.median_before,
            row.median_after,
            row.median_change,
            row.improved,
            row.too_recent,
            row.no_register,
        ) == (
            counted,
            near(before),
            near(after),
            near(change),
            improved,
            too_recent,
            no_register,
        ), kind


def test_the_registers_are_read_in_a_few_queries(casework_world, context, db):
    """Bulk loading: the query count does not grow with the number of interventions."""
    from sqlalchemy import event

    ctx = context("manager")
    reports.outcomes(ctx, AS_AT, 2)  # warm the calendars
    statements = []

    def count(*_args):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        reports.outcomes(ctx, AS_AT, 2)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) <= 4  # interventions, notices, registers (one chunk)


@pytest.mark.parametrize(
    ("user", "lines"),
    [
        (
            "manager",
            [
                ("Hill Lead", {"monitor": 1}),
                ("Oak Lead", {"monitor": 1}),
                ("River Lead", {"monitor": 1}),
            ],
        ),
        ("traded", [("Oak Lead", {"monitor": 1}), ("River Lead", {"monitor": 1})]),
        # A case with a penalty notice is statutory business whatever its stage: only Amelia's.
        ("statutory", [("Oak Lead", {"monitor": 1})]),
    ],
)
def test_caseload_per_officer(casework_world, context, user, lines):
    stages, found = reports.caseload(context(user))
    assert [(c.name, c.by_stage) for c in found] == lines
    assert stages == ["monitor"]


@pytest.mark.parametrize(
    ("user", "overall", "kinds", "officers"),
    [
        (
            "manager",
            (3, 2, 1),  # on time, late, overdue
            {"Test letter": (1, 0, 1), "Test review": (2, 2, 0)},
            {"Hill Lead": (1, 0, 0), "Oak Lead": (2, 1, 0), "River Lead": (0, 1, 1)},
        ),
        (
            "traded",
            (2, 2, 1),
            {"Test letter": (0, 0, 1), "Test review": (2, 2, 0)},
            {"Oak Lead": (2, 1, 0), "River Lead": (0, 1, 1)},
        ),
    ],
)
def test_deadlines_met_on_time(casework_world, context, user, overall, kinds, officers):
    found = reports.deadlines_report(context(user))
    tally = found.overall
    assert (tally.on_time, tally.late, tally.overdue) == overall
    assert {t.label: (t.on_time, t.late, t.overdue) for t in found.by_kind} == kinds
    assert {t.label: (t.on_time, t.late, t.overdue) for t in found.by_officer} == officers


# --- 3. the page and who sees it -----------------------------------------------------------------


def test_the_reports_page_for_a_manager(casework_world, client_as):
    page = client_as("manager").get("/reports", headers=HTML)
    assert page.status_code == 200, page.text
    text = page.text
    assert '<h1 class="govuk-heading-l">Reports</h1>' in text
    for heading in (
        "Persistent and severe absence by school",
        "Persistent and severe absence by year group",
        "Absence over the year",
        "Caseload per officer",
        "Deadlines met on time",
        "Attendance before and after interventions",
    ):
        assert heading in text
    # Every chart is an SVG with a title and description, and a table beside it.
    assert text.count('<svg class="app-chart__svg"') == 7
    assert text.count('role="img"') == 7
    for table in (
        "table-schools",
        "table-years",
        "table-trend",
        "table-caseload",
        "table-outcomes",
    ):
        assert f'id="{table}"' in text
    assert "Oakfield Primary" in text and "Hillcrest Primary" in text
    assert "Attendance Improvement Meeting" in text
    # No inline style or script.
    assert "style=" not in text
    assert "<script>" not in text
    assert 'aria-current="page"' in text or "service-navigation__item--active" in text


@pytest.mark.parametrize(
    ("weeks", "status", "words"),
    [
        ("1", 200, "the last 1 school week before"),
        ("26", 200, "the last 26 school weeks before"),
        ("", 200, "the last 6 school weeks before"),
        ("0", 422, "the last 6 school weeks before"),
        ("27", 422, "the last 6 school weeks before"),
        ("six", 422, "the last 6 school weeks before"),
    ],
)
def test_the_weeks_are_checked(casework_world, client_as, weeks, status, words):
    page = client_as("manager").get("/reports", params={"weeks": weeks}, headers=HTML)
    assert page.status_code == status
    assert words in page.text
    if status == 422:
        assert "There is a problem" in page.text and 'href="#weeks"' in page.text
        assert "Enter a whole number of weeks from 1 to 26" in page.text


def test_the_page_with_nothing_recorded_yet(db, client_as):
    page = client_as("manager").get("/reports", headers=HTML)
    assert page.status_code == 200
    assert "No registers have been recorded for any school this year." in page.text
    assert "No open cases." in page.text
    assert "No deadline has come due yet." in page.text
    assert "No intervention yet has 6 school weeks of register after it to judge by." in page.text


def test_the_statutory_officer_sees_la_absence_and_statutory_cases(casework_world, client_as):
    page = client_as("statutory").get("/reports", headers=HTML)
    assert page.status_code == 200
    assert "Hillcrest Primary" in page.text  # absence across the LA
    assert "Oak Lead" in page.text  # Amelia's case has penalty notices: statutory business
    assert "River Lead" not in page.text and "Hill Lead" not in page.text


def test_the_traded_officer_sees_only_their_schools(casework_world, client_as):
    page = client_as("traded").get("/reports", headers=HTML)
    assert page.status_code == 200
    assert "Oakfield Primary" in page.text and "Riverside Primary" in page.text
    assert "Hillcrest Primary" not in page.text
    assert "Hill Lead" not in page.text


@pytest.mark.parametrize("user", ["oak_lead", "admin"])
def test_school_staff_and_administrators_may_not_see_reports(casework_world, client_as, user):
    page = client_as(user).get("/reports", headers=HTML)
    assert page.status_code == 403
    assert "Oakfield Primary" not in page.text and "Amelia" not in page.text
    assert 'href="/reports"' not in page.text
