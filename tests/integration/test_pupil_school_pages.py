"""The pupil page's register heat-map, rates and flags, and the school page's groups, cases by
stage, calendar and targeting support meeting, on SQLite and PostgreSQL; both scoped (404
outside scope). Marks are synthetic; expected figures are counted from the marks laid."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from sqlalchemy import event

from casework.analytics.timeline import SessionMark
from casework.analytics.totals import percent_text, totals
from casework.calendars import school_calendar
from casework.calendars.editing import CalendarChange, ChangeKind
from casework.models import Enrolment, Pupil, School
from casework.registers.marks import session_index
from casework.registers.store import record_marks
from casework.upn import make_upn
from casework.vocabulary import Stage
from workflows.calendar_changes import change_school_calendar
from workflows.cases import OpenCase, open_case
from workflows.scan import scan_la

HTML = {"Accept": "text/html,application/xhtml+xml"}
AS_AT = date(2024, 11, 20)  # the clock fixture's day
BY = (None, "Olive Lead", "Attendance lead")
# Amelia at Oakfield: O (unauthorised) on six days in the weeks of 4 and 11 November (12 counted
# sessions: the penalty-notice threshold, and persistent absence), late on Monday 18 November's
# morning, ill on Tuesday 19 November's afternoon, and no mark yet for Friday 15 November PM.
OAK_ABSENT = {date(2024, 11, d) for d in (4, 5, 6, 11, 12, 13)}
SPECIAL = {(date(2024, 11, 18), "AM"): "L", (date(2024, 11, 19), "PM"): "I"}
UNMARKED = (date(2024, 11, 15), "PM")
# Oakfield's own INSET day: no sessions, so no marks, that Friday.
INSET, TRAINING = date(2024, 10, 4), "Staff training"
# Bella at Riverside: ill (I) three days: below 95 % only.
RIVER_ILL = {date(2024, 11, d) for d in (11, 12, 13)}
# Dora at Oakfield, admitted on 18 November: N on four of her six sessions (severe absence).
DORA = [
    (date(2024, 11, 18), "AM", "N"),
    (date(2024, 11, 18), "PM", "N"),
    (date(2024, 11, 19), "AM", "N"),
    (date(2024, 11, 19), "PM", "N"),
    (date(2024, 11, 20), "AM", "/"),
    (date(2024, 11, 20), "PM", "\\"),
]


def _marks(session, school_id, absent: set[date], code: str, special=None, skip=None):
    index = session_index(school_calendar(session, school_id), 2024)
    found = []
    for day, name in index.sessions:
        if day > AS_AT:
            break
        if (day, name) == skip:
            continue
        mark = (special or {}).get((day, name))
        if mark is None:
            mark = code if day in absent else ("/" if name == "AM" else "\\")
        found.append((day, name, mark))
    return found


def _record(session, pupil_id, school_id, marks):
    record_marks(
        session,
        pupil_id=pupil_id,
        school_id=school_id,
        marks=list(marks),
        by=BY,
        reason=None,
        source="manual",
    )


@pytest.fixture
def world(db, context, clock):
    """The registers laid, Dora admitted to Oakfield, two cases opened and the scan run."""
    w = db.world
    ctx = context("oak_lead")
    oakfield = ctx.session.get(School, w.oakfield)
    change_school_calendar(ctx, oakfield, CalendarChange(ChangeKind.INSET_DAY, TRAINING, INSET))
    ctx.commit()
    with db.factory() as session:
        amelia = _marks(session, w.oakfield, OAK_ABSENT, "O", SPECIAL, UNMARKED)
        _record(session, w.pupil_oak, w.oakfield, amelia)
        _record(session, w.pupil_river, w.riverside, _marks(session, w.riverside, RIVER_ILL, "I"))
        dora = Pupil(
            upn=make_upn(340, 2001, 20, 104),
            legal_forename="Dora",
            legal_surname="Dunmore",
            date_of_birth=date(2016, 5, 5),
            sex="F",
            nc_year=3,
            la_id=w.la,
        )
        session.add(dora)
        session.flush()
        session.add(
            Enrolment(
                pupil_id=dora.id,
                school_id=w.oakfield,
                start_date=date(2024, 11, 18),
                registration="main",
            )
        )
        session.flush()
        _record(session, dora.id, w.oakfield, DORA)
        dora_id = dora.id
        session.commit()
    ctx = context("oak_lead")
    monitor = open_case(ctx, OpenCase(w.pupil_oak, w.oakfield, reason="below 95%"))
    expect = open_case(ctx, OpenCase(dora_id, w.oakfield, stage=Stage.EXPECT, reason="new"))
    ctx.commit()
    with db.factory() as session:
        scan_la(session, w.la, as_at=AS_AT, clock=clock)
        session.commit()
    return {
        "amelia": amelia,
        "dora": dora_id,
        "monitor": (monitor.id, monitor.reference, monitor.stage),
        "expect": (expect.id, expect.reference, expect.stage),
    }


CELL = re.compile(
    r'<td class="app-heatmap__cell app-heatmap__cell--([a-z-]+)" id="(session-[^"]+)" '
    r'title="([^"]*)" data-code="([^"]*)">'
)


def _cells(page: str) -> dict[str, tuple[str, str, str]]:
    return {
        anchor: (kind, html.unescape(title), html.unescape(code))
        for kind, anchor, title, code in CELL.findall(page)
    }


def _part(page: str, start: str, end: str) -> str:
    first = page.index(start)
    return page[first : page.index(end, first)]


def test_the_heat_map_shows_each_marked_session_with_its_code_and_class(client_as, db, world):
    page = client_as("oak_lead").get(f"/pupils/{db.world.pupil_oak}")
    assert page.status_code == 200
    cells = _cells(page.text)
    # Every mark laid has its cell, with its code shown and its class.
    assert len(cells) == len(world["amelia"])
    expected_kind = {
        "/": "present",
        "\\": "present",
        "O": "unauthorised",
        "L": "late",
        "I": "authorised",
    }
    for day, session, code in world["amelia"]:
        kind, title, shown = cells[f"session-{day.isoformat()}-{session.lower()}"]
        assert shown == code
        assert kind == expected_kind[code], (day, session)
        assert title.startswith(f"{day:%a} {day.day} {day:%b %Y} {session}: {code}")
    kind, title, _ = cells["session-2024-11-04-am"]
    assert "Absent in other or unknown circumstances (unauthorised absence)" in title
    # The code's meaning is in the cell for assistive tech, not only in the title.
    assert (
        '<span aria-hidden="true">O</span><span class="govuk-visually-hidden">'
        "Mon 4 Nov 2024 AM: O: Absent in other or unknown circumstances (unauthorised absence)"
        in page.text
    )
    # An open session without a mark, a half-term week, a day to come, and the key.
    assert 'title="Fri 15 Nov 2024 PM: no mark recorded"' in page.text
    assert "app-heatmap__cell--no-mark" in page.text
    assert "October half term" in page.text
    assert 'title="Fri 4 Oct 2024 AM: no session (INSET day)"' in page.text
    assert 'title="Thu 21 Nov 2024 AM: not yet"' in page.text
    assert 'id="register-key"' in page.text and "Unauthorised absence (G N O U)" in page.text
    assert "Autumn term" in page.text
    assert "style=" not in page.text and "<script>" not in page.text


def test_the_rates_and_flags_match_the_marks(client_as, db, world):
    page = client_as("oak_lead").get(f"/pupils/{db.world.pupil_oak}").text
    counted = totals(world["amelia"])
    assert counted.unauthorised == 12 and counted.authorised == 1
    attended = f"<strong>{percent_text(counted.attendance_percent)}</strong>"
    assert f'id="rate-attendance">{attended} ({counted.attended} of {counted.possible}' in page
    assert (
        f'id="rate-unauthorised">{percent_text(counted.unauthorised_percent)} '
        f"({counted.unauthorised} sessions)" in page
    )
    assert f'id="rate-authorised">{percent_text(counted.authorised_percent)} (1 session)' in page
    flags = _part(page, 'id="flags"', 'id="register"')
    assert "Persistent absence" in flags and "Penalty notice threshold met" in flags
    # The sessions behind a flag link to their cells in the heat-map.
    assert 'href="#session-2024-11-04-am"' in flags
    assert f'href="/schools/{db.world.oakfield}"' in flags


def test_the_pupil_page_shows_case_history_siblings_and_links_to_schools(client_as, db, world):
    w = db.world
    page = client_as("traded").get(f"/pupils/{w.pupil_oak}").text
    cases = _part(page, 'id="cases"', "</table>")
    case_id, reference, _ = world["monitor"]
    assert f'href="/cases/{case_id}"' in cases and reference in cases
    assert "Monitor" in cases and "since" in cases and "Open" in cases
    assert f'href="/schools/{w.oakfield}"' in cases
    siblings = _part(page, 'id="siblings"', "</table>")
    assert "Bella Ashdown" in siblings
    assert f'<a href="/schools/{w.riverside}">Riverside Primary</a>' in siblings


def test_a_school_user_gets_not_found_for_another_schools_pupil_and_school(client_as, db, world):
    w = db.world
    client = client_as("oak_lead")
    for path in (f"/pupils/{w.pupil_hill}", f"/schools/{w.hillcrest}", f"/schools/{w.riverside}"):
        hidden = client.get(path, headers=HTML)
        assert hidden.status_code == 404, path
        assert "Page not found" in hidden.text
        assert "Hillcrest" not in hidden.text and "Riverside" not in hidden.text
    assert client.get("/schools/999999", headers=HTML).status_code == 404
    assert client.get(f"/schools/{w.oakfield}").status_code == 200


def test_the_school_page_lists_the_pupils_in_each_group(client_as, db, world):
    w = db.world
    page = client_as("oak_lead").get(f"/schools/{w.oakfield}")
    assert page.status_code == 200
    text = page.text
    amelia, dora = f'href="/pupils/{w.pupil_oak}"', f'href="/pupils/{world["dora"]}"'
    below = _part(text, 'id="below-95"', 'id="persistent"')
    persistent = _part(text, 'id="persistent"', 'id="severe"')
    severe = _part(text, 'id="severe"', 'id="threshold"')
    threshold = _part(text, 'id="threshold"', 'id="cases"')
    assert amelia in below and dora in below
    assert amelia in persistent and dora in persistent
    assert dora in severe and amelia not in severe
    assert amelia in threshold and dora not in threshold
    for part in (below, persistent, severe, threshold):
        assert f'href="/pupils/{w.pupil_river}"' not in part  # Bella is at Riverside
    # Each row links the pupil's open case here.
    assert f'href="/cases/{world["monitor"][0]}"' in threshold
    assert "33.3%" in severe  # Dora attended 2 of 6


def test_the_school_page_counts_open_cases_by_stage_with_links(client_as, db, world):
    w = db.world
    text = client_as("oak_lead").get(f"/schools/{w.oakfield}").text
    stages = _part(text, 'id="cases"', "</table>")
    for _, _, stage in (world["monitor"], world["expect"]):
        row = _part(stages, f'id="stage-{stage}"', "</tr>")
        assert f'href="/caseload?school={w.oakfield}&amp;stage={stage}"' in row
        assert ">1<" in row
    assert ">0<" in _part(stages, 'id="stage-enforce"', "</tr>")
    assert "All open cases" in stages and ">2<" in stages


def test_the_school_page_shows_the_calendar_and_the_next_meeting(client_as, db, world):
    w = db.world
    text = client_as("oak_lead").get(f"/schools/{w.oakfield}").text
    calendar = _part(text, 'id="calendar"', 'id="meeting"')
    assert "2024/25" in calendar
    assert "Autumn term" in calendar and "Spring term" in calendar and "Summer term" in calendar
    assert "Now" in calendar and "Closures" in calendar
    assert "Fri 4 Oct 2024 (Whole day): Staff training" in _part(calendar, "INSET days", "</ul>")
    meeting = _part(text, 'id="meeting"', "</dl>")
    # The Monday from the 8th to the 14th of January after 20 November 2024.
    assert "13 January 2025" in meeting and "Spring 2025" in meeting
    figures = meeting[meeting.index('id="meeting-figures"') :]
    assert re.search(r"Persistently absent</dt>\s*<dd[^>]*>2<", figures)
    assert re.search(r"Severely absent</dt>\s*<dd[^>]*>1<", figures)
    assert re.search(r"penalty-notice threshold</dt>\s*<dd[^>]*>1<", figures)


def test_a_traded_officer_sees_only_the_schools_they_serve(client_as, db, world):
    w = db.world
    client = client_as("traded")
    oak = client.get(f"/schools/{w.oakfield}")
    assert oak.status_code == 200 and "Oakfield Primary" in oak.text
    river = client.get(f"/schools/{w.riverside}")
    assert river.status_code == 200
    below = _part(river.text, 'id="below-95"', 'id="persistent"')
    assert f'href="/pupils/{w.pupil_river}"' in below
    assert f'href="/pupils/{w.pupil_oak}"' not in below
    hidden = client.get(f"/schools/{w.hillcrest}", headers=HTML)
    assert hidden.status_code == 404 and "Hillcrest" not in hidden.text
    assert client_as("traded_two").get(f"/schools/{w.oakfield}", headers=HTML).status_code == 404


def test_the_pupil_page_reads_the_marks_in_one_query(client_as, db, world):
    client = client_as("oak_lead")
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert client.get(f"/pupils/{db.world.pupil_oak}").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    marks = [s for s in statements if re.search(r"FROM register_year\b", s)]
    assert len(marks) == 1, marks


def test_an_administrator_sees_no_school_page(client_as, db, world):
    page = client_as("admin").get(f"/schools/{db.world.oakfield}", headers=HTML)
    assert page.status_code == 403
    assert "Amelia" not in page.text


def test_a_statutory_officer_sees_only_the_pupils_of_their_cases(client_as, db, world):
    page = client_as("statutory").get(f"/schools/{db.world.oakfield}")
    assert page.status_code == 200  # every school of the LA
    below = _part(page.text, 'id="below-95"', 'id="persistent"')
    assert "Amelia" not in below and "Dora" not in below  # no statutory case yet
    figures = page.text[page.text.index('id="meeting-figures"') :]
    assert re.search(r"Persistently absent</dt>\s*<dd[^>]*>2<", figures)  # counts only


def test_a_pupil_admitted_in_the_year_has_a_heat_map_from_their_first_mark(client_as, db, world):
    page = client_as("oak_lead").get(f"/pupils/{world['dora']}").text
    cells = _cells(page)
    assert set(cells) == {
        f"session-{day.isoformat()}-{session.lower()}" for day, session, _ in DORA
    }
    assert cells["session-2024-11-18-am"][:1] == ("unauthorised",)
    rows = _part(page, "<tbody", "</table>")
    assert ">18 Nov</th>" in rows and ">2 Sep</th>" not in rows
    assert 'title="Mon 18 Nov 2024 AM: N: Reason for absence not yet established' in page
    # Cara has no marks this year: no grid of empty sessions.
    hill = client_as("hill_lead").get(f"/pupils/{db.world.pupil_hill}").text
    assert "There is no register to show yet this year." in hill
    assert "app-heatmap__cell" not in hill


def test_a_dual_registered_session_shows_both_codes_and_counts_the_possible_one():
    from api.pages.pupils import mark_heat

    day = date(2024, 11, 4)
    kind, text, label = mark_heat(
        [
            SessionMark(day, "AM", "D", 1, "Oakfield Primary"),
            SessionMark(day, "AM", "O", 2, "Riverside Primary"),
        ]
    )
    assert (kind, text) == ("unauthorised", "D O")
    assert "D at Oakfield Primary: Dual registered" in label
    assert "O at Riverside Primary: Absent in other" in label


def test_the_schools_list_shows_only_schools_in_scope_with_their_open_cases(client_as, context, db):
    ctx = context("oak_lead")
    open_case(ctx, OpenCase(db.world.pupil_oak, db.world.oakfield, reason="below 90%"))
    ctx.commit()
    traded = client_as("traded").get("/schools", headers=HTML)
    assert traded.status_code == 200
    names = re.findall(r'href="/schools/(\d+)">([^<]+)</a>', traded.text)
    assert {int(i) for i, _ in names} == {db.world.oakfield, db.world.riverside}
    row = re.search(r"Oakfield Primary</a></th>(.*?)</tr>", traded.text, re.S).group(1)
    assert re.findall(r"numeric\">(\d+)<", row)[0] == "1"  # one open case
    lead = client_as("oak_lead").get("/schools", headers=HTML).text
    assert re.findall(r'href="/schools/(\d+)"', lead) == [str(db.world.oakfield)]
    assert client_as("admin").get("/schools", headers=HTML).status_code == 403
