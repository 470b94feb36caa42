"""The attendance certificate and the registration certificate, on SQLite and PostgreSQL: the
register extract with meanings, totals, unauthorised absences, amendments with the original entry
and the person, the week grid, who issued it; scoped (404 outside scope) as data, JSON and a
printable page. Marks are synthetic and the expected figures are worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from litestar.testing import TestClient

from casework.errors import InvalidInput, NotFound
from casework.models import Enrolment
from casework.registers.codes import StatClass
from casework.registers.store import record_marks
from casework.upn import make_upn
from tests.support.csrf import csrf_client
from tests.support.world import PASSWORD
from workflows.certificates import STATEMENT, attendance_certificate, registration_certificate

HTML = {"Accept": "text/html,application/xhtml+xml"}
RECORDED = datetime(2024, 11, 19, 9, 30, tzinfo=UTC)
AMENDED = datetime(2024, 11, 20, 9, 15, tzinfo=UTC)
MON_11, FRI_15, MON_18 = date(2024, 11, 11), date(2024, 11, 15), date(2024, 11, 18)
WED_20, FRI_22 = date(2024, 11, 20), date(2024, 11, 22)
WEEK = [
    (MON_18 + timedelta(days=d), s, code)
    for d, (am, pm) in enumerate([("/", "\\"), ("/", "\\"), ("N", "N"), ("L", "\\"), ("/", "I")])
    for s, code in (("AM", am), ("PM", pm))
]


@pytest.fixture
def marked(db):
    """Amelia at Oakfield: a holiday not granted on Fri 15 Nov, the week of 18 Nov, and the
    Wednesday morning N amended to M by the school's attendance lead."""
    w = db.world
    lead = w.users["oak_lead"]
    with db.factory() as session:
        record_marks(
            session,
            pupil_id=w.pupil_oak,
            school_id=w.oakfield,
            marks=[(FRI_15, "AM", "G"), (FRI_15, "PM", "G"), *WEEK],
            by=(lead, "Oak Lead", "School Staff"),
            reason=None,
            source="manual",
            at=RECORDED,
        )
        record_marks(
            session,
            pupil_id=w.pupil_oak,
            school_id=w.oakfield,
            marks=[(WED_20, "AM", "M")],
            by=(lead, "Oak Lead", "School Staff"),
            reason="Dentist letter received",
            source="manual",
            at=AMENDED,
        )
        session.commit()


@pytest.fixture
def dual(db, marked):
    """Amelia is also dual registered at Riverside from Mon 18 Nov (admitted mid-year)."""
    w = db.world
    with db.factory() as session:
        session.add(
            Enrolment(
                pupil_id=w.pupil_oak,
                school_id=w.riverside,
                start_date=MON_18,
                registration="dual",
            )
        )
        session.flush()
        record_marks(
            session,
            pupil_id=w.pupil_oak,
            school_id=w.riverside,
            marks=[
                (MON_18, "AM", "/"),
                (MON_18, "PM", "\\"),
                (MON_18 + timedelta(1), "AM", "/"),
                (MON_18 + timedelta(1), "PM", "O"),
            ],
            by=(None, "River Lead", "Attendance lead"),
            reason=None,
            source="manual",
            at=RECORDED,
        )
        session.commit()


def test_the_attendance_certificate_worked_by_hand(db, context, marked):
    w = db.world
    cert = attendance_certificate(context("oak_lead"), w.pupil_oak, w.oakfield, MON_11, FRI_22)
    assert (cert.start, cert.end) == (MON_11, FRI_22)
    assert (cert.pupil.legal_name, cert.pupil.upn, cert.pupil.nc_year) == (
        "Amelia Ashdown",
        make_upn(340, 2001, 20, 101),
        4,
    )
    assert cert.pupil.date_of_birth == date(2015, 3, 2)
    assert (cert.school.name, cert.school.urn, cert.school.la_number, cert.school.la_name) == (
        "Oakfield Primary",
        "900001",
        "340",
        "Knowsley (synthetic)",
    )
    assert [(a.starting_day, a.end_date, a.registration) for a in cert.admissions] == [
        (date(2020, 9, 1), None, "main")
    ]
    assert [(e.day, e.session, e.code) for e in cert.extract] == [
        (FRI_15, "AM", "G"),
        (FRI_15, "PM", "G"),
        (MON_18, "AM", "/"),
        (MON_18, "PM", "\\"),
        (date(2024, 11, 19), "AM", "/"),
        (date(2024, 11, 19), "PM", "\\"),
        (WED_20, "AM", "M"),
        (WED_20, "PM", "N"),
        (date(2024, 11, 21), "AM", "L"),
        (date(2024, 11, 21), "PM", "\\"),
        (FRI_22, "AM", "/"),
        (FRI_22, "PM", "I"),
    ]
    assert cert.extract[0].meaning == "Holiday not granted by the school"
    assert cert.extract[6].stat_class is StatClass.AUTHORISED_ABSENCE

    t = cert.totals
    assert (t.possible, t.attended, t.present, t.authorised, t.unauthorised, t.absent) == (
        12,
        7,
        7,
        2,
        3,
        5,
    )
    assert t.not_possible == 0
    assert t.attendance_percent == pytest.approx(700 / 12)

    assert [(e.day, e.session, e.code) for e in cert.unauthorised] == [
        (FRI_15, "AM", "G"),
        (FRI_15, "PM", "G"),
        (WED_20, "PM", "N"),
    ]
    (amendment,) = cert.amendments
    assert (amendment.day, amendment.session, amendment.original, amendment.new) == (
        WED_20,
        "AM",
        "N",
        "M",
    )
    assert (amendment.reason, amendment.by_name, amendment.by_position) == (
        "Dentist letter received",
        "Oak Lead",
        "School Staff",
    )
    assert amendment.amended_at == AMENDED

    assert [(k.code, k.sessions) for k in cert.key] == [
        ("/", 3),
        ("\\", 3),
        ("L", 1),
        ("M", 1),
        ("I", 1),
        ("G", 2),
        ("N", 1),
    ]
    assert [week.monday for week in cert.weeks] == [MON_11, MON_18]
    monday = cert.weeks[0].days[0]
    assert (monday.am.open, monday.am.in_period, monday.am.code) == (True, True, None)
    friday = cert.weeks[0].days[4]
    assert (friday.am.code, friday.pm.code) == ("G", "G")
    assert [(d.am.code, d.pm.code) for d in cert.weeks[1].days][2] == ("M", "N")
    assert cert.unmarked == 8  # Monday to Thursday of the first week: no marks recorded

    assert (cert.issued_by_name, cert.issued_by_position) == ("Oak Lead", "School Staff")
    assert cert.issued_at == datetime(2024, 11, 20, 10, 0, tzinfo=UTC)
    assert cert.statement == STATEMENT == "Certified a true extract of the attendance register"


def test_closed_days_are_shown_closed_with_the_reason(db, context, marked):
    w = db.world
    cert = attendance_certificate(
        context("oak_lead"), w.pupil_oak, w.oakfield, date(2024, 10, 28), FRI_15
    )
    half_term = cert.weeks[0].days[0]
    assert (half_term.am.open, half_term.pm.open) == (False, False)
    assert half_term.closed_because
    assert cert.unmarked == 9 * 2  # 4 to 8 Nov and 11 to 14 Nov: nine open days, no marks


def test_the_default_period_is_the_academic_year_to_date_from_admission(db, context, dual):
    w = db.world
    cert = attendance_certificate(context("manager"), w.pupil_oak, w.oakfield)
    assert (cert.start, cert.end) == (date(2024, 9, 2), WED_20)
    assert cert.totals.possible == 8
    river = attendance_certificate(context("manager"), w.pupil_oak, w.riverside)
    assert (river.start, river.end) == (MON_18, WED_20)
    assert [(a.starting_day, a.registration) for a in river.admissions] == [(MON_18, "dual")]
    assert (river.totals.possible, river.totals.unauthorised) == (4, 1)
    # With no school named, the pupil's latest admission the user may see.
    assert attendance_certificate(context("river_lead"), w.pupil_oak).school.id == w.riverside
    assert attendance_certificate(context("oak_lead"), w.pupil_oak).school.id == w.oakfield


def test_only_users_who_may_see_the_pupil_and_school_get_a_certificate(db, context, marked):
    w = db.world
    for username in ("river_lead", "hill_lead", "traded_two", "statutory", "admin"):
        ctx = context(username)
        with pytest.raises(NotFound):
            attendance_certificate(ctx, w.pupil_oak, w.oakfield, MON_11, FRI_22)
        with pytest.raises(NotFound):
            registration_certificate(ctx, w.pupil_oak)
        ctx.session.close()
    for username in ("oak_lead", "oak_head", "traded", "manager"):
        ctx = context(username)
        cert = attendance_certificate(ctx, w.pupil_oak, w.oakfield, MON_11, FRI_22)
        assert len(cert.extract) == 12
        ctx.session.close()
    # The pupil is visible to the Oakfield lead, but Riverside's register is not.
    with pytest.raises(NotFound):
        attendance_certificate(context("oak_lead"), w.pupil_oak, w.riverside)
    # The traded officer sees Riverside, where the pupil was never admitted.
    with pytest.raises(InvalidInput) as never:
        attendance_certificate(context("traded"), w.pupil_oak, w.riverside)
    assert never.value.problems[0].field == "school_id"


def test_a_backwards_or_long_period_is_refused(db, context):
    w = db.world
    with pytest.raises(InvalidInput) as backwards:
        attendance_certificate(context("oak_lead"), w.pupil_oak, w.oakfield, FRI_22, MON_11)
    assert backwards.value.problems[0].field == "end"
    with pytest.raises(InvalidInput) as long:
        attendance_certificate(
            context("oak_lead"), w.pupil_oak, w.oakfield, date(2023, 9, 4), FRI_22
        )
    assert long.value.problems[0].field == "end"


def test_the_registration_certificate(db, context, dual):
    w = db.world
    cert = registration_certificate(context("traded"), w.pupil_oak)
    assert (cert.on, cert.academic_year) == (WED_20, "2024/25")
    entries = [
        (
            e.school.name,
            e.admission.registration,
            e.admission.starting_day,
            e.on_roll,
            e.period_start,
            e.period_end,
        )
        for e in cert.entries
    ]
    assert entries == [
        ("Oakfield Primary", "main", date(2020, 9, 1), True, date(2024, 9, 2), WED_20),
        ("Riverside Primary", "dual", MON_18, True, MON_18, WED_20),
    ]
    oak, river = (e.totals for e in cert.entries)
    # Oakfield to Wed 20: G G, / \, / \, M N: 8 possible, 4 attended, 1 authorised, 3 not.
    assert (oak.possible, oak.attended, oak.authorised, oak.unauthorised) == (8, 4, 1, 3)
    assert (river.possible, river.attended, river.unauthorised) == (4, 3, 1)
    assert (cert.issued_by_name, cert.issued_by_position) == ("Traded", "Traded Officer")

    # Each user sees only the schools they work with.
    assert [
        e.school.id for e in registration_certificate(context("oak_lead"), w.pupil_oak).entries
    ] == [w.oakfield]
    assert [
        e.school.id for e in registration_certificate(context("river_lead"), w.pupil_oak).entries
    ] == [w.riverside]

    # Before the Riverside admission: not on roll there, no totals.
    earlier = registration_certificate(context("traded"), w.pupil_oak, FRI_15)
    assert [(e.on_roll, e.totals is None) for e in earlier.entries] == [
        (True, False),
        (False, True),
    ]
    assert earlier.entries[0].totals.possible == 2


# --- JSON API ---------------------------------------------------------------------------------


def test_the_attendance_certificate_as_json(client_as, db, marked):
    w = db.world
    response = client_as("oak_lead").get(
        f"/api/pupils/{w.pupil_oak}/attendance-certificate",
        params={"school_id": str(w.oakfield), "start": "2024-11-11", "end": "2024-11-22"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["start"], body["end"], body["statement"]) == (
        "2024-11-11",
        "2024-11-22",
        STATEMENT,
    )
    assert body["school"] == {
        "id": w.oakfield,
        "name": "Oakfield Primary",
        "urn": "900001",
        "la_number": "340",
        "la_name": "Knowsley (synthetic)",
    }
    assert len(body["extract"]) == 12
    assert body["extract"][8] == {
        "date": "2024-11-21",
        "session": "AM",
        "code": "L",
        "meaning": "Late, arrived before the register closed",
        "stat_class": "present",
    }
    assert (body["totals"]["possible"], body["totals"]["unauthorised"]) == (12, 3)
    assert body["totals"]["by_code"]["G"] == 2
    assert [u["code"] for u in body["unauthorised"]] == ["G", "G", "N"]
    assert body["amendments"] == [
        {
            "date": "2024-11-20",
            "session": "AM",
            "original": "N",
            "new": "M",
            "reason": "Dentist letter received",
            "amended_at": "2024-11-20T09:15:00Z",
            "by_name": "Oak Lead",
            "by_position": "School Staff",
            "source": "manual",
        }
    ]
    assert (body["issued_by_name"], body["issued_by_position"]) == ("Oak Lead", "School Staff")
    assert body["unmarked"] == 8


def test_the_registration_certificate_as_json(client_as, db, dual):
    w = db.world
    response = client_as("manager").get(
        f"/api/pupils/{w.pupil_oak}/registration-certificate", params={"on": "2024-11-20"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [e["admission"]["registration"] for e in body["entries"]] == ["main", "dual"]
    assert body["entries"][1]["period_start"] == "2024-11-18"
    assert body["entries"][0]["totals"]["attendance_percent"] == pytest.approx(50.0)


@pytest.mark.parametrize(
    ("path", "params", "field", "value"),
    [
        pytest.param(
            "attendance-certificate",
            {"start": "2024-11-22", "end": "2024-11-11"},
            "end",
            "2024-11-11",
            id="backwards",
        ),
        pytest.param(
            "attendance-certificate", {"start": "2024-02-30"}, "start", "2024-02-30", id="no-day"
        ),
        pytest.param(
            "attendance-certificate", {"school_id": "oak"}, "school_id", "oak", id="school"
        ),
        pytest.param("registration-certificate", {"on": "yesterday"}, "on", "yesterday", id="on"),
    ],
)
def test_bad_query_parameters_are_problems(client_as, db, path, params, field, value):
    response = client_as("oak_lead").get(f"/api/pupils/{db.world.pupil_oak}/{path}", params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    (error,) = response.json()["errors"]
    assert (error["field"], error["value"]) == (field, value)
    assert error["rule"]


@pytest.mark.parametrize(
    ("username", "expected"),
    [("oak_lead", 200), ("traded", 200), ("manager", 200), ("river_lead", 404), ("hill_lead", 404)],
)
def test_api_scope(client_as, db, marked, username, expected):
    w = db.world
    client = client_as(username)
    for path in ("attendance-certificate", "registration-certificate"):
        response = client.get(f"/api/pupils/{w.pupil_oak}/{path}")
        assert response.status_code == expected, (path, response.text)
    named = client.get(
        f"/api/pupils/{w.pupil_oak}/attendance-certificate", params={"school_id": w.oakfield}
    )
    assert named.status_code == expected


# --- pages ------------------------------------------------------------------------------------


@pytest.fixture
def browser(app):
    def signed_in(username: str) -> TestClient:
        client = csrf_client(app)
        client.follow_redirects = False
        response = client.post("/login", data={"username": username, "password": PASSWORD})
        assert response.status_code == 303
        return client

    return signed_in


def test_the_printable_certificate_page(browser, db, marked):
    w = db.world
    client = browser("oak_lead")
    pupil_page = client.get(f"/pupils/{w.pupil_oak}", headers=HTML)
    assert f'href="/pupils/{w.pupil_oak}/registration-certificate"' in pupil_page.text
    assert (
        f'href="/pupils/{w.pupil_oak}/attendance-certificate?school_id={w.oakfield}"'
        in pupil_page.text
    )

    page = client.get(
        f"/pupils/{w.pupil_oak}/attendance-certificate",
        params={"school_id": w.oakfield, "start": "2024-11-11", "end": "2024-11-22"},
        headers=HTML,
    )
    assert page.status_code == 200
    text = page.text
    assert "certificate.css" in text and 'class="register-grid"' in text
    assert "<h1" in text and "Attendance certificate" in text
    assert "Oakfield Primary (URN 900001)" in text and "Knowsley (synthetic)" in text
    assert STATEMENT in text
    assert "Oak Lead" in text and "School Staff" in text
    assert "Dentist letter received" in text
    assert "Key to the codes used" in text and "Late, arrived before the register closed" in text
    assert "Unauthorised absences (3)" in text
    assert "58.3%" in text


def test_the_certificate_pages_refuse_bad_parameters_and_other_schools(browser, db, marked):
    w = db.world
    client = browser("oak_lead")
    backwards = client.get(
        f"/pupils/{w.pupil_oak}/attendance-certificate",
        params={"start": "2024-11-22", "end": "2024-11-11"},
        headers=HTML,
    )
    assert backwards.status_code == 422
    assert "There is a problem" in backwards.text and 'href="#end"' in backwards.text
    assert STATEMENT not in backwards.text
    assert (
        client.get(f"/pupils/{w.pupil_hill}/attendance-certificate", headers=HTML).status_code
        == 404
    )
    other_school = client.get(
        f"/pupils/{w.pupil_oak}/attendance-certificate",
        params={"school_id": w.riverside},
        headers=HTML,
    )
    assert other_school.status_code == 404


def test_the_registration_certificate_page(browser, db, marked):
    w = db.world
    client = browser("oak_lead")
    page = client.get(f"/pupils/{w.pupil_oak}/registration-certificate", headers=HTML)
    assert page.status_code == 200
    assert "Registration certificate" in page.text and "Oakfield Primary" in page.text
    assert "50.0%" in page.text  # 4 attended of 8 possible to Wed 20 Nov
    assert "2 September 2024 to 20 November 2024" in page.text
    bad = client.get(
        f"/pupils/{w.pupil_oak}/registration-certificate", params={"on": "soon"}, headers=HTML
    )
    assert bad.status_code == 422 and 'href="#on"' in bad.text
