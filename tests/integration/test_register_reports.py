"""School register reports on SQLite and PostgreSQL: the first-day contact list (N marks), the
persistent-absentee list (from admission, exactly 10 % counts, severe at 50 %) and absence mapping
(pairs and groups of pupils absent together), as data, JSON and pages, scoped to what the user may
see. All names, phone numbers and marks are synthetic; the expected rows are worked out by hand."""

from __future__ import annotations

import random
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from litestar.testing import TestClient

from casework.calendars import school_calendar
from casework.errors import InvalidInput, NotFound
from casework.models import Contact, Enrolment, Pupil, PupilContact
from casework.registers import reports
from casework.registers.bulk import write_school_year
from casework.registers.marks import session_index
from casework.registers.store import Recorder, record_marks
from casework.upn import make_upn
from tests.support.csrf import csrf_client
from tests.support.world import PASSWORD
from workflows.cases import OpenCase, open_case
from workflows.responsibility import MakeReferral, refer

BY = (None, "Olive Lead", "Attendance lead")
HTML = {"Accept": "text/html,application/xhtml+xml"}
MON_11, MON_18 = date(2024, 11, 11), date(2024, 11, 18)  # Knowsley autumn term 2024/25
WED_20 = date(2024, 11, 20)  # the clock's today


def _add_pupil(session, world, serial, forename, surname, year, school=None, **extra):
    school_id = school or world.oakfield
    pupil = Pupil(
        upn=make_upn(340, 2001, 21, serial),
        legal_forename=forename,
        legal_surname=surname,
        date_of_birth=date(2024 - 5 - year, 3, 1),
        sex="M",
        nc_year=year,
        la_id=world.la,
        **extra,
    )
    session.add(pupil)
    session.flush()
    session.add(Enrolment(pupil_id=pupil.id, school_id=school_id, start_date=date(2020, 9, 1)))
    session.flush()
    return pupil.id


def _mark(session, pupil_id, school_id, marks):
    record_marks(
        session,
        pupil_id=pupil_id,
        school_id=school_id,
        marks=marks,
        by=BY,
        reason=None,
        source="manual",
    )


def _week(monday, codes):
    """Ten codes, Monday AM to Friday PM, as marks."""
    assert len(codes) == 10
    return [
        (monday + timedelta(days=i // 2), "AM" if i % 2 == 0 else "PM", code)
        for i, code in enumerate(codes)
        if code
    ]


PRESENT = ["/", "\\"] * 5


# --- 1. the first-day contact list ------------------------------------------------------------


@pytest.fixture
def absentees_world(db):
    """Oakfield on Wed 20 Nov 2024: who is marked N, and the Ashdowns' phones in contact order."""
    w = db.world
    with db.factory() as session:
        zed = _add_pupil(session, w, 201, "Zed", "Adams", 3)
        yara = _add_pupil(session, w, 202, "Yara", "Aaron", 4, preferred_surname="Cole")
        will = _add_pupil(session, w, 203, "Will", "Dale", 4)
        for contact in session.query(Contact).filter(Contact.family_id == w.family):
            contact.phone = "07700 900001" if contact.forename == "Dana" else "07700 900002"
            link = session.get(PupilContact, (w.pupil_oak, contact.id))
            link.priority = 2 if contact.forename == "Dana" else 1
        _mark(session, w.pupil_oak, w.oakfield, [(WED_20, "AM", "N"), (WED_20, "PM", "n")])
        _mark(session, zed, w.oakfield, [(WED_20, "AM", "/"), (WED_20, "PM", "N")])
        _mark(session, yara, w.oakfield, [(WED_20, "AM", "N")])  # PM not taken yet
        _mark(session, will, w.oakfield, [(WED_20, "AM", "I"), (WED_20 - timedelta(1), "AM", "N")])
        _mark(session, w.pupil_river, w.riverside, [(WED_20, "AM", "N")])
        session.commit()
    return {"zed": zed, "yara": yara, "will": will}


def test_absentees_are_the_n_marks_with_contacts_in_order(db, context, absentees_world):
    w = db.world
    report = reports.absentees(context("oak_lead"), w.oakfield)  # today: Wed 20 Nov
    assert (report.day, report.open_sessions, report.closed_because) == (WED_20, ("AM", "PM"), "")
    assert report.school.name == "Oakfield Primary" and report.school.urn == "900001"
    rows = [(r.pupil.id, r.pupil.name, r.pupil.nc_year, r.sessions) for r in report.rows]
    assert rows == [
        (absentees_world["zed"], "Zed Adams", 3, ("PM",)),
        (w.pupil_oak, "Amelia Ashdown", 4, ("AM", "PM")),
        (absentees_world["yara"], "Yara Cole", 4, ("AM",)),  # preferred surname sorts
    ]
    assert report.rows[2].pupil.legal_name == "Yara Aaron"
    amelia = report.rows[1].contacts
    assert [(c.priority, c.name, c.relationship, c.phone) for c in amelia] == [
        (1, "Mr Evan Ashdown", "parent", "07700 900002"),
        (2, "Ms Dana Ashdown", "parent", "07700 900001"),
    ]
    assert report.rows[0].contacts == ()


def test_absentees_on_another_day_and_a_closed_day(db, context, absentees_world):
    w = db.world
    tuesday = reports.absentees(context("oak_lead"), w.oakfield, WED_20 - timedelta(1))
    assert [r.pupil.id for r in tuesday.rows] == [absentees_world["will"]]
    saturday = reports.absentees(context("oak_lead"), w.oakfield, date(2024, 11, 23))
    assert saturday.open_sessions == () and saturday.rows == ()
    assert saturday.closed_because


def test_absentees_are_scoped_to_the_school_and_the_pupils_the_user_may_see(
    db, context, absentees_world
):
    w = db.world
    with pytest.raises(NotFound):
        reports.absentees(context("river_lead"), w.oakfield)
    assert len(reports.absentees(context("manager"), w.oakfield).rows) == 3
    assert len(reports.absentees(context("traded"), w.oakfield).rows) == 3
    # A statutory officer sees the school but only the pupils of their (statutory) cases.
    assert reports.absentees(context("statutory"), w.oakfield).rows == ()
    river = reports.absentees(context("river_lead"), w.riverside)
    assert [r.pupil.id for r in river.rows] == [w.pupil_river]


# --- 3. persistent absence --------------------------------------------------------------------


@pytest.fixture
def persistent_world(db):
    w = db.world
    with db.factory() as session:
        ids = {
            "zed": _add_pupil(session, w, 211, "Zed", "Adams", 3),
            "yara": _add_pupil(session, w, 212, "Yara", "Cole", 4),
            "will": _add_pupil(session, w, 213, "Will", "Dale", 4),
            "vic": _add_pupil(session, w, 214, "Vic", "Evans", 5),
            "uma": _add_pupil(session, w, 215, "Uma", "Ford", 6),
        }
        # Amelia: 1 absence in 10 possible sessions, exactly 10 %: persistent, not severe.
        _mark(session, w.pupil_oak, w.oakfield, _week(MON_18, ["/", "\\"] * 4 + ["/", "I"]))
        # Zed: 5 in 10 (N N I I I): exactly 50 %, severe.
        _mark(session, ids["zed"], w.oakfield, _week(MON_18, ["N", "N", "I", "I", "I"] + ["/"] * 5))
        # Yara: never absent.
        _mark(session, ids["yara"], w.oakfield, _week(MON_18, PRESENT))
        # Will: admitted Wednesday, 1 absence (O) in his 6 sessions: 16.7 %, counted from 20 Nov.
        _mark(
            session,
            ids["will"],
            w.oakfield,
            _week(MON_18, [None] * 4 + ["/", "\\", "O", "\\", "/", "\\"]),
        )
        # Vic: dual registered, 8 D (not possible), 1 present, 1 N: 1 in 2 = 50 %, severe.
        _mark(session, ids["vic"], w.oakfield, _week(MON_18, ["D"] * 8 + ["/", "N"]))
        # Uma: 1 absence in 12 (Friday 15 too): 8.3 %, not persistent.
        _mark(
            session,
            ids["uma"],
            w.oakfield,
            [
                (date(2024, 11, 15), "AM", "/"),
                (date(2024, 11, 15), "PM", "\\"),
                *_week(MON_18, ["M"] + ["/"] * 9),
            ],
        )
        session.commit()
    return ids


def test_persistent_absentees_worked_by_hand(db, context, persistent_world):
    w, ids = db.world, persistent_world
    report = reports.persistent_absentees(
        context("oak_lead"), w.oakfield, date(2024, 11, 15), date(2024, 11, 22)
    )
    assert (report.start, report.end, report.pupils_counted) == (
        date(2024, 11, 15),
        date(2024, 11, 22),
        6,
    )
    rows = [
        (
            r.pupil.id,
            r.first_mark,
            r.totals.possible,
            r.totals.absent,
            r.totals.authorised,
            r.totals.unauthorised,
            r.severe,
        )
        for r in report.rows
    ]
    assert rows == [
        (ids["zed"], MON_18, 10, 5, 3, 2, True),  # 50 %, Year 3 before Year 5 on a tie
        (ids["vic"], MON_18, 2, 1, 0, 1, True),  # 50 % of 2 possible: D is not possible
        (ids["will"], WED_20, 6, 1, 0, 1, False),  # 16.7 % from admission
        (w.pupil_oak, MON_18, 10, 1, 1, 0, False),  # exactly 10 %
    ]
    assert report.severe == 2
    assert report.rows[3].totals.attendance_percent == pytest.approx(90.0)
    assert report.rows[2].totals.absence_percent == pytest.approx(100 / 6)


def test_persistent_absentees_default_to_the_academic_year_to_date(db, context, persistent_world):
    report = reports.persistent_absentees(context("oak_lead"), db.world.oakfield)
    assert (report.start, report.end) == (date(2024, 9, 2), WED_20)
    # Only marks up to Wednesday count: Zed 5 absent in 6; Uma 1 in 8 (Friday 15 too); Will and
    # Amelia are not absent by then; Vic's 6 D marks are no possible sessions.
    assert {r.pupil.id: r.totals.possible for r in report.rows} == {
        persistent_world["zed"]: 6,
        persistent_world["uma"]: 8,
    }


def test_a_range_backwards_or_over_a_year_is_refused(db, context):
    with pytest.raises(InvalidInput) as backwards:
        reports.persistent_absentees(
            context("oak_lead"), db.world.oakfield, date(2024, 11, 22), date(2024, 11, 1)
        )
    assert backwards.value.problems[0].field == "end"
    with pytest.raises(InvalidInput) as long:
        reports.persistent_absentees(
            context("oak_lead"), db.world.oakfield, date(2023, 9, 1), date(2024, 11, 1)
        )
    assert long.value.problems[0].field == "end"


# --- 4. absence mapping -----------------------------------------------------------------------


@pytest.fixture
def map_world(db):
    """Two weeks at Oakfield. Amelia and Zed are absent together (unauthorised) on 3 sessions,
    Zed and Yara on 3 others; Will and Vic on 2 unauthorised and 2 authorised sessions (Wed and
    Thu of the first week); Uma on holiday alone in the second week.
    """
    w = db.world
    with db.factory() as session:
        ids = {
            "zed": _add_pupil(session, w, 221, "Zed", "Adams", 3),
            "yara": _add_pupil(session, w, 222, "Yara", "Cole", 4),
            "will": _add_pupil(session, w, 223, "Will", "Dale", 5),
            "vic": _add_pupil(session, w, 224, "Vic", "Evans", 5),
            "uma": _add_pupil(session, w, 225, "Uma", "Ford", 6),
        }
        amelia = ["O", "O", "G"] + ["/", "\\"] * 3 + ["/"]
        zed = ["O", "G", "O", "\\", "/", "\\", "/", "U", "N", "\\"]
        yara = ["/", "\\"] * 3 + ["/", "U", "N", "\\"]
        will = ["/", "\\", "/", "\\", "N", "N", "I", "I", "/", "\\"]
        vic = ["/", "\\", "/", "\\", "O", "O", "I", "I", "/", "\\"]
        uma = PRESENT
        second_week = {
            "yara": ["O", "\\"] + ["/", "\\"] * 4,
            "zed": ["N", "\\"] + ["/", "\\"] * 4,
            "uma": ["/", "\\"] + ["G"] * 8,
        }
        for key, codes in (
            ("amelia", amelia),
            ("zed", zed),
            ("yara", yara),
            ("will", will),
            ("vic", vic),
            ("uma", uma),
        ):
            pupil_id = w.pupil_oak if key == "amelia" else ids[key]
            marks = _week(MON_11, codes) + _week(MON_18, second_week.get(key, PRESENT))
            _mark(session, pupil_id, w.oakfield, marks)
        session.commit()
    return ids


def _pair(pair):
    return (
        pair.first.id,
        pair.second.id,
        [(s.day, s.session, s.codes) for s in pair.sessions],
    )


def test_absence_map_pairs_and_groups_worked_by_hand(db, context, map_world):
    w, ids = db.world, map_world
    found = reports.absence_map(context("oak_lead"), w.oakfield, MON_11, date(2024, 11, 22))
    assert (found.absence, found.min_shared, found.sessions_in_range) == ("unauthorised", 3, 20)
    assert found.pupils_absent == 6
    zed, yara, amelia = ids["zed"], ids["yara"], w.pupil_oak
    tue, thu, fri = date(2024, 11, 12), date(2024, 11, 14), date(2024, 11, 15)
    assert [_pair(p) for p in found.pairs] == [
        # Zed (Year 3) first in each pair: year group, then surname.
        (
            zed,
            amelia,
            [
                (MON_11, "AM", ((zed, "O"), (amelia, "O"))),
                (MON_11, "PM", ((zed, "G"), (amelia, "O"))),
                (tue, "AM", ((zed, "O"), (amelia, "G"))),
            ],
        ),
        (
            zed,
            yara,
            [
                (thu, "PM", ((zed, "U"), (yara, "U"))),
                (fri, "AM", ((zed, "N"), (yara, "N"))),
                (MON_18, "AM", ((zed, "N"), (yara, "O"))),
            ],
        ),
    ]
    (group,) = found.groups
    assert [m.id for m in group.members] == [zed, amelia, yara]
    assert [_pair(p)[:2] for p in group.pairs] == [(zed, amelia), (zed, yara)]
    assert [(s.day, s.session, s.codes) for s in group.sessions] == [
        (MON_11, "AM", ((zed, "O"), (amelia, "O"))),
        (MON_11, "PM", ((zed, "G"), (amelia, "O"))),
        (tue, "AM", ((zed, "O"), (amelia, "G"))),
        (thu, "PM", ((zed, "U"), (yara, "U"))),
        (fri, "AM", ((zed, "N"), (yara, "N"))),
        (MON_18, "AM", ((zed, "N"), (yara, "O"))),
    ]


def test_absence_map_options_fewer_shared_sessions_and_all_absence(db, context, map_world):
    w, ids = db.world, map_world
    two = reports.absence_map(
        context("oak_lead"), w.oakfield, MON_11, date(2024, 11, 22), min_shared=2
    )
    assert [len(g.members) for g in two.groups] == [3, 2]
    assert [m.id for m in two.groups[1].members] == [ids["will"], ids["vic"]]
    assert two.groups[1].pairs[0].shared == 2

    every = reports.absence_map(
        context("oak_lead"), w.oakfield, MON_11, date(2024, 11, 22), absence="all"
    )
    will_vic = [p for p in every.pairs if {p.first.id, p.second.id} == {ids["will"], ids["vic"]}]
    wed, thu = date(2024, 11, 13), date(2024, 11, 14)
    assert [(s.day, s.session, s.codes) for s in will_vic[0].sessions] == [
        (wed, "AM", ((ids["will"], "N"), (ids["vic"], "O"))),
        (wed, "PM", ((ids["will"], "N"), (ids["vic"], "O"))),
        (thu, "AM", ((ids["will"], "I"), (ids["vic"], "I"))),
        (thu, "PM", ((ids["will"], "I"), (ids["vic"], "I"))),
    ]
    assert [len(g.members) for g in every.groups] == [3, 2]
    # Uma was absent on her own: she is in no pair and no group.
    assert ids["uma"] not in {m.id for g in every.groups for m in g.members}

    with pytest.raises(InvalidInput) as raised:
        reports.absence_map(context("oak_lead"), w.oakfield, min_shared=1)
    assert raised.value.problems[0].field == "min_shared"


def test_absence_map_defaults_to_this_term_to_date(db, context, map_world):
    found = reports.absence_map(context("oak_lead"), db.world.oakfield)
    assert (found.start, found.end) == (date(2024, 9, 2), WED_20)


def test_absence_map_for_a_school_of_1500_over_a_term_is_quick(db, context):
    """1,500 pupils with unauthorised absence on about 3 % of sessions over the autumn term to
    date, recorded with the bulk register writer the imports use; the map is one pass over the
    mark strings plus pair counting per session (the timing bounds the report, not the set-up).
    """
    w = db.world
    rng = random.Random(20241120)
    first_day, last_day = date(2024, 9, 2), WED_20
    with db.factory() as session:
        index = session_index(school_calendar(session, w.oakfield), 2024)
        positions = [i for i, (day, _) in enumerate(index.sessions) if first_day <= day <= last_day]
        pupils = [
            Pupil(
                upn=make_upn(340, 2001, 30 + serial // 1000, serial),
                legal_forename=f"Pupil{serial}",
                legal_surname="Example",
                date_of_birth=date(2014, 1, 1),
                sex="F",
                nc_year=1 + serial % 6,
                la_id=w.la,
            )
            for serial in range(1500)
        ]
        session.add_all(pupils)
        session.flush()
        session.add_all(
            Enrolment(pupil_id=p.id, school_id=w.oakfield, start_date=date(2020, 9, 1))
            for p in pupils
        )
        incoming = {
            p.id: {i: rng.choice("NOGU") if rng.random() < 0.03 else "/" for i in positions}
            for p in pupils
        }
        write_school_year(
            session,
            school_id=w.oakfield,
            index=index,
            incoming=incoming,
            recorder=Recorder(None, "Olive Lead", "Attendance lead"),
            reason_for=lambda _: "synthetic term",
            source="import:synthetic",
            now=datetime(2024, 11, 20, 18, 0, tzinfo=UTC),
        )
        session.commit()
    began = time.perf_counter()
    found = reports.absence_map(context("manager"), w.oakfield, first_day, last_day)
    took = time.perf_counter() - began
    # 2 Sep to 25 Oct (8 weeks), half term off, then 4 to 20 Nov (13 days): 53 school days.
    assert found.sessions_in_range == len(positions) == 2 * 53
    assert found.pupils_absent > 1400
    assert found.pairs and all(p.shared >= 3 for p in found.pairs)
    assert took < 10, f"the absence map took {took:.1f}s"


# --- JSON API ---------------------------------------------------------------------------------


def test_api_absentees(client_as, db, absentees_world):
    w = db.world
    client = client_as("oak_lead")
    base = f"/api/schools/{w.oakfield}/registers"
    absent = client.get(f"{base}/absentees", params={"date": "2024-11-20"})
    assert absent.status_code == 200, absent.text
    body = absent.json()
    assert (body["date"], body["count"], body["open_sessions"]) == ("2024-11-20", 3, ["AM", "PM"])
    assert body["rows"][1]["pupil"]["name"] == "Amelia Ashdown"
    assert [c["phone"] for c in body["rows"][1]["contacts"]] == ["07700 900002", "07700 900001"]


def test_api_persistent_absentees(client_as, db, persistent_world):
    client = client_as("oak_lead")
    base = f"/api/schools/{db.world.oakfield}/registers"
    persistent = client.get(
        f"{base}/persistent-absentees", params={"start": "2024-11-15", "end": "2024-11-22"}
    )
    assert persistent.status_code == 200, persistent.text
    body = persistent.json()
    assert (body["persistent"], body["severe"], body["pupils_counted"]) == (4, 2, 6)
    assert body["rows"][0]["absence_percent"] == pytest.approx(50.0)
    assert [r["severe"] for r in body["rows"]] == [True, True, False, False]


def test_api_absence_map(client_as, db, map_world):
    client = client_as("oak_lead")
    base = f"/api/schools/{db.world.oakfield}/registers"
    mapped = client.get(
        f"{base}/absence-map",
        params={"start": "2024-11-18", "end": "2024-11-22", "min_shared": "2"},
    )
    assert mapped.status_code == 200, mapped.text
    assert mapped.json()["min_shared"] == 2


@pytest.mark.parametrize(
    ("path", "params", "field", "value"),
    [
        pytest.param("absentees", {"date": "2024-13-01"}, "date", "2024-13-01", id="bad-date"),
        pytest.param("absentees", {"date": "20/11/2024"}, "date", "20/11/2024", id="not-iso"),
        pytest.param(
            "persistent-absentees",
            {"start": "2024-11-22", "end": "2024-11-01"},
            "end",
            "2024-11-01",
            id="backwards",
        ),
        pytest.param(
            "absence-map",
            {"start": "2023-09-01", "end": "2024-11-01"},
            "end",
            "2024-11-01",
            id="over-a-year",
        ),
        pytest.param("absence-map", {"min_shared": "1"}, "min_shared", "1", id="one-shared"),
        pytest.param("absence-map", {"min_shared": "x"}, "min_shared", "x", id="not-a-number"),
        pytest.param("absence-map", {"absence": "some"}, "absence", "some", id="absence-kind"),
    ],
)
def test_bad_query_parameters_are_problems_naming_field_value_and_rule(
    client_as, db, path, params, field, value
):
    response = client_as("oak_lead").get(
        f"/api/schools/{db.world.oakfield}/registers/{path}", params=params
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    (error,) = response.json()["errors"]
    assert (error["field"], error["value"]) == (field, value)
    assert error["rule"]


@pytest.mark.parametrize(
    ("username", "oakfield", "riverside"),
    [
        ("oak_lead", 200, 404),
        ("river_lead", 404, 200),
        ("hill_lead", 404, 404),
        ("traded", 200, 200),
        ("traded_two", 404, 404),
        ("manager", 200, 200),
        ("statutory", 200, 200),
    ],
)
def test_api_scope_school_reports(client_as, db, username, oakfield, riverside):
    client = client_as(username)
    for school_id, expected in ((db.world.oakfield, oakfield), (db.world.riverside, riverside)):
        for path in ("absentees", "persistent-absentees", "absence-map"):
            response = client.get(f"/api/schools/{school_id}/registers/{path}")
            assert response.status_code == expected, (path, response.text)


def test_a_statutory_officer_sees_the_pupils_of_their_cases(
    client_as, context, db, absentees_world
):
    w = db.world
    ctx = context("oak_lead")
    case_id = open_case(ctx, OpenCase(w.pupil_oak, w.oakfield, reason="attendance below 90%")).id
    ctx.commit()
    ctx = context("oak_lead")
    refer(
        ctx,
        case_id,
        MakeReferral(
            to_team="statutory",
            reason="no improvement after school action",
            content={
                "actions_taken": "calls and letters",
                "attendance_data": "80.0% this year",
                "support_offered": "mentor",
            },
        ),
    )
    ctx.commit()
    body = (
        client_as("statutory")
        .get(f"/api/schools/{w.oakfield}/registers/absentees", params={"date": "2024-11-20"})
        .json()
    )
    assert [r["pupil"]["id"] for r in body["rows"]] == [w.pupil_oak]


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


def test_the_school_registers_page_links_the_reports(browser, db):
    client = browser("oak_lead")
    home = client.get("/", headers=HTML)
    assert f'href="/schools/{db.world.oakfield}/registers"' in home.text
    page = client.get(f"/schools/{db.world.oakfield}/registers", headers=HTML)
    assert page.status_code == 200
    assert "<h1" in page.text and "Registers" in page.text and "Oakfield Primary" in page.text
    for path in ("absentees", "persistent-absentees", "absence-map"):
        assert f'action="/schools/{db.world.oakfield}/registers/{path}"' in page.text
    assert 'value="2024-11-20"' in page.text
    outside = client.get(f"/schools/{db.world.riverside}/registers", headers=HTML)
    assert outside.status_code == 404


def test_the_absentees_page(browser, db, absentees_world):
    client = browser("oak_lead")
    base = f"/schools/{db.world.oakfield}/registers"
    absent = client.get(f"{base}/absentees", headers=HTML)
    assert absent.status_code == 200
    assert "Absent with no reason yet" in absent.text
    assert "Amelia Ashdown" in absent.text and "07700 900002" in absent.text
    assert absent.text.index("Zed Adams") < absent.text.index("Amelia Ashdown")


def test_the_persistent_absence_page(browser, db, persistent_world):
    client = browser("oak_lead")
    base = f"/schools/{db.world.oakfield}/registers"
    persistent = client.get(
        f"{base}/persistent-absentees", params={"start": "2024-11-15", "end": "2024-11-22"}
    )
    assert persistent.status_code == 200
    assert "Severe" in persistent.text and "90.0%" in persistent.text


def test_the_absence_map_page(browser, db, map_world):
    client = browser("oak_lead")
    base = f"/schools/{db.world.oakfield}/registers"
    mapped = client.get(f"{base}/absence-map", params={"start": "2024-11-11", "end": "2024-11-22"})
    assert mapped.status_code == 200
    assert "Group 1" in mapped.text and "3 sessions together" in mapped.text


def test_report_pages_show_bad_parameters_in_the_error_summary(browser, db):
    client = browser("oak_lead")
    base = f"/schools/{db.world.oakfield}/registers"
    page = client.get(
        f"{base}/persistent-absentees", params={"start": "2024-11-22", "end": "2024-11-01"}
    )
    assert page.status_code == 422
    assert "There is a problem" in page.text and 'href="#end"' in page.text
    bad = client.get(f"{base}/absentees", params={"date": "tomorrow"})
    assert bad.status_code == 422 and 'href="#date"' in bad.text
    assert client.get(f"/schools/{db.world.hillcrest}/registers/absence-map").status_code == 404
