"""My work and the caseload page: deadlines in the right buckets with how each date was counted,
newly flagged pupils and failed messages shown to the right people, the caseload's scope, filters,
sort, pages and its formula-safe CSV export."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime

import pytest

from casework.models import Enrolment, OutboxMessage, Pupil, PupilFlag
from casework.models.deadlines import Deadline
from casework.upn import make_upn
from workflows.cases import FireTrigger, OpenCase, fire_trigger, open_case
from workflows.responsibility import assign

HTML = {"Accept": "text/html,application/xhtml+xml"}
# The clock fixture's day: Wednesday 20 November 2024 (the week ends on Sunday the 24th).
TODAY = date(2024, 11, 20)


def _pupil(db, serial: int, forename: str, school_id: int, preferred: str | None = None) -> int:
    with db.factory() as session:
        pupil = Pupil(
            upn=make_upn(340, 2001, 22, serial),
            legal_forename=forename,
            preferred_forename=preferred,
            legal_surname="Example",
            date_of_birth=date(2017, 5, 1),
            sex="F",
            nc_year=3,
            la_id=db.world.la,
        )
        session.add(pupil)
        session.flush()
        session.add(Enrolment(pupil_id=pupil.id, school_id=school_id, start_date=date(2021, 9, 1)))
        session.commit()
        return pupil.id


def _open(context, username: str, pupil_id: int, school_id: int):
    ctx = context(username)
    case = open_case(ctx, OpenCase(pupil_id, school_id, reason="attendance below 95%"))
    ctx.commit()
    return case


def _deadline(db, case, due_on: date, label: str, status: str = "pending") -> None:
    with db.factory() as session:
        session.add(
            Deadline(
                case_id=case.id,
                school_id=case.school_id,
                kind="test_clock",
                label=label,
                rule=f"rule for {label}: 10 school days after the letter",
                starts_on=date(2024, 11, 1),
                amount=10,
                unit="school_days",
                due_on=due_on,
                remind_on=None,
                status=status,
                attempts=0,
                armed_at=datetime(2024, 11, 1, 9, tzinfo=UTC),
                details={},
                version=1,
            )
        )
        session.commit()


def _section(page: str, anchor: str) -> str:
    found = re.search(rf'id="{anchor}".*?</table>', page, re.S)
    return found.group(0) if found else ""


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.text)))


@pytest.fixture
def oak_case(db, context):
    return _open(context, "oak_lead", db.world.pupil_oak, db.world.oakfield)


def test_each_bucket_shows_its_deadlines_with_how_the_date_was_counted(
    client_as, context, db, oak_case
):
    case = oak_case
    _deadline(db, case, date(2024, 11, 18), "Overdue review")
    _deadline(db, case, date(2024, 11, 25), "Escalated review", status="fired")
    _deadline(db, case, TODAY, "Today's review")
    _deadline(db, case, date(2024, 11, 22), "Friday review")
    _deadline(db, case, date(2024, 11, 24), "Sunday review")
    _deadline(db, case, date(2024, 11, 25), "Next week review")
    _deadline(db, case, date(2024, 11, 19), "Done review", status="cancelled")

    page = client_as("oak_lead").get("/", headers=HTML)
    assert page.status_code == 200
    overdue = _section(page.text, "deadlines-overdue")
    today = _section(page.text, "deadlines-today")
    week = _section(page.text, "deadlines-this_week")
    later = _section(page.text, "deadlines-later")
    assert "Overdue review" in overdue and "Escalated review" in overdue
    assert "Passed: escalated" in overdue
    assert "Overdue (2)" in overdue
    assert "Today&#39;s review" in today and "Due today (1)" in today
    assert "Friday review" in week and "Sunday review" in week and "Due this week (2)" in week
    assert "Next week review" in later and "Later (1)" in later
    assert "Done review" not in page.text
    # Each row: one click to the case, the pupil and school, what is due and how it was counted.
    assert f'href="/cases/{case.id}#deadlines">{case.reference}</a>' in overdue
    assert "Amelia Ashdown" in overdue and "Oakfield Primary" in overdue
    assert "Rule for Overdue review: 10 school days after the letter" in overdue
    # The counts at a glance.
    assert re.search(
        r'app-glance__count">2</span><span class="app-glance__label">overdue', page.text
    )

    # Another member of staff at the school holds no cases: none of these are theirs.
    other = client_as("oak_head").get("/", headers=HTML)
    assert "No open deadlines on your cases." in other.text
    assert "Overdue review" not in other.text


def test_a_manager_sees_what_escalated_on_their_teams_cases(client_as, context, db, oak_case):
    case = oak_case
    ctx = context("manager")
    assign(ctx, case.id, db.world.users["traded"], "for an AIM")
    ctx.commit()
    _deadline(db, case, date(2024, 11, 18), "AIM review", status="fired")
    _deadline(db, case, date(2024, 11, 19), "Letter follow-up")  # not escalated yet
    page = client_as("manager").get("/", headers=HTML)
    escalated = _section(page.text, "deadlines-escalated")
    assert "AIM review" in escalated and "held by Traded" in escalated
    assert "Escalated on your team&#39;s cases (1)" in escalated
    assert "Letter follow-up" not in page.text
    # The holder sees both as their own overdue deadlines; nobody else sees them.
    traded = _section(client_as("traded").get("/").text, "deadlines-overdue")
    assert "AIM review" in traded and "Letter follow-up" in traded
    assert "AIM review" not in client_as("statutory").get("/").text


def test_newly_flagged_pupils_are_shown_in_scope_only(client_as, db, oak_case):
    world = db.world
    with db.factory() as session:
        session.add_all(
            [
                PupilFlag(
                    pupil_id=world.pupil_oak,
                    school_id=world.oakfield,
                    flag="persistent_absence",
                    raised_on=date(2024, 11, 18),
                    explanation="attendance 88.2% this year",
                    figures={},
                ),
                PupilFlag(
                    pupil_id=world.pupil_hill,
                    school_id=world.hillcrest,
                    flag="severe_absence",
                    raised_on=date(2024, 11, 19),
                    explanation="attendance 48% this year",
                    figures={},
                ),
                PupilFlag(
                    pupil_id=world.pupil_oak,
                    school_id=world.oakfield,
                    flag="declining_trend",  # for the pupil's page: it calls for no decision
                    raised_on=date(2024, 11, 19),
                    explanation="attendance down 6 points over 3 weeks",
                    figures={},
                ),
                PupilFlag(
                    pupil_id=world.pupil_river,
                    school_id=world.riverside,
                    flag="persistent_absence",
                    raised_on=date(2024, 9, 1),  # long ago: not new
                    explanation="attendance 85% this year",
                    figures={},
                ),
            ]
        )
        session.commit()
    oak = client_as("oak_lead").get("/", headers=HTML).text
    flagged = _section(oak, "flagged")
    assert "Amelia Ashdown" in flagged and "Persistent absence" in flagged
    assert f'href="/cases/{oak_case.id}">Open case</a>' in flagged
    assert "Declining" not in flagged and "down 6 points" not in flagged
    assert "Cara" not in oak and "Severe absence" not in oak

    hill = client_as("hill_lead").get("/", headers=HTML).text
    assert "Cara Brook" in _section(hill, "flagged") and "Amelia" not in hill
    assert "No open case" in _section(hill, "flagged")

    manager = _section(client_as("manager").get("/", headers=HTML).text, "flagged")
    assert "Amelia Ashdown" in manager and "Cara Brook" in manager
    assert "Bella" not in manager  # raised in September

    admin = client_as("admin").get("/", headers=HTML).text
    assert "Amelia" not in admin and "Cara" not in admin


def _message(session, db, n: int, *, caused_by: str, status: str, case_id=None) -> None:
    now = datetime(2024, 11, 19, 16, tzinfo=UTC)
    session.add(
        OutboxMessage(
            key=f"test.{n}",
            message_id=f"<test.{n}@casework>",
            kind="letter",
            la_id=db.world.la,
            case_id=case_id,
            caused_by_user_id=db.world.users[caused_by],
            recipient_user_id=None,
            to_address=f"parent{n}@example.org",
            subject=f"Subject {n} from {caused_by}",
            template="letter",
            context={},
            attachments=[],
            status=status,
            attempts=8,
            next_attempt_at=now,
            created_at=now,
            failed_at=now if status == "failed" else None,
            last_error="SMTPRecipientsRefused 550" if status == "failed" else None,
        )
    )


def test_failed_messages_are_shown_to_who_caused_them_and_to_managers(client_as, db, oak_case):
    with db.factory() as session:
        _message(session, db, 1, caused_by="oak_lead", status="failed", case_id=oak_case.id)
        _message(session, db, 2, caused_by="hill_lead", status="failed")
        _message(session, db, 3, caused_by="oak_lead", status="sent")
        session.commit()
    oak = _section(client_as("oak_lead").get("/", headers=HTML).text, "failed-messages")
    assert "Subject 1 from oak_lead" in oak and "SMTPRecipientsRefused 550" in oak
    assert f'href="/cases/{oak_case.id}">{oak_case.reference}</a>' in oak
    assert "Subject 2" not in oak and "Subject 3" not in oak
    hill = _section(client_as("hill_lead").get("/", headers=HTML).text, "failed-messages")
    assert "Subject 2 from hill_lead" in hill and "Subject 1" not in hill
    manager = client_as("manager").get("/", headers=HTML).text
    section = _section(manager, "failed-messages")
    assert "Subject 1 from oak_lead" in section and "Subject 2 from hill_lead" in section
    assert "Subject 3" not in section
    assert 'href="/outbox?status=failed"' in manager
    statutory = client_as("statutory").get("/", headers=HTML).text
    assert "Every message has been sent or is still being tried." in statutory
    assert "Subject 1" not in client_as("admin").get("/", headers=HTML).text


def test_the_administrator_sees_what_they_manage(client_as):
    page = client_as("admin").get("/", headers=HTML)
    assert page.status_code == 200
    assert "What you manage in Knowsley (synthetic)" in page.text
    assert 'href="/admin"' in page.text and "Active users by role" in page.text
    assert client_as("admin").get("/caseload", headers=HTML).status_code == 403


@pytest.fixture
def caseload(db, context):
    """Four open cases: two at Oakfield (one moved on to Listen and understand and given to the
    head), one at Riverside, one at Hillcrest, with deadlines on three; and a closed one."""
    world = db.world
    oak = _open(context, "oak_lead", world.pupil_oak, world.oakfield)
    second = _open(
        context, "oak_lead", _pupil(db, 1, "Zed", world.oakfield, "=HYPERLINK(1)"), world.oakfield
    )
    ctx = context("oak_lead")
    fire_trigger(ctx, second.id, FireTrigger("advance_to_listen_and_understand", second.version))
    assign(ctx, second.id, world.users["oak_head"], "covering")
    ctx.commit()
    river = _open(context, "river_lead", world.pupil_river, world.riverside)
    hill = _open(context, "hill_lead", world.pupil_hill, world.hillcrest)
    _deadline(db, oak, date(2024, 12, 20), "Oak review")
    _deadline(db, second, date(2024, 11, 25), "Second review")
    _deadline(db, second, date(2025, 1, 25), "Second later review")
    _deadline(db, hill, date(2024, 11, 21), "Hill review")
    with db.factory() as session:
        session.add(
            PupilFlag(
                pupil_id=world.pupil_oak,
                school_id=world.oakfield,
                flag="persistent_absence",
                raised_on=date(2024, 11, 1),
                explanation="attendance 88% this year",
                figures={},
            )
        )
        session.commit()
    return {"oak": oak, "second": second, "river": river, "hill": hill}


def _references(page: str) -> list[str]:
    return re.findall(r'href="/cases/\d+">([^<]+)</a>', page)


def test_the_caseload_shows_only_cases_in_scope_sorted_by_next_deadline(client_as, caseload):
    oak, second, river, hill = (caseload[k] for k in ("oak", "second", "river", "hill"))
    lead = client_as("oak_lead")
    page = lead.get("/caseload", headers=HTML)
    assert page.status_code == 200
    assert 'aria-current="page"' in page.text or "govuk-service-navigation__item--active" in (
        page.text
    )
    # Next deadline first: the second case (25 Nov) before Amelia's (20 Dec).
    assert _references(page.text) == [second.reference, oak.reference]
    assert river.reference not in page.text and hill.reference not in page.text
    assert "Second review" in page.text and "Second later review" not in page.text

    traded = client_as("traded").get("/caseload", headers=HTML).text
    # Cases without an open deadline come last.
    assert _references(traded) == [second.reference, oak.reference, river.reference]
    manager = client_as("manager").get("/caseload", headers=HTML).text
    assert _references(manager) == [
        hill.reference,
        second.reference,
        oak.reference,
        river.reference,
    ]
    # Even asked for by filter, another school's cases stay out of scope.
    hidden = lead.get("/caseload", params={"school": str(hill.school_id)}, headers=HTML).text
    assert hill.reference not in hidden and "No open cases match these filters." in hidden


def test_the_caseload_filters_and_sorts(client_as, db, caseload):
    oak, second, river = caseload["oak"], caseload["second"], caseload["river"]
    world = db.world
    traded = client_as("traded")

    def refs(**params) -> list[str]:
        response = traded.get("/caseload", params=params, headers=HTML)
        assert response.status_code == 200
        return _references(response.text)

    assert refs(school=str(world.riverside)) == [river.reference]
    assert refs(stage="listen_and_understand") == [second.reference]
    assert refs(stage="monitor") == [oak.reference, river.reference]
    assert refs(level="1") == [second.reference, oak.reference, river.reference]
    assert refs(level="2") == []
    assert refs(owner=str(world.users["oak_head"])) == [second.reference]
    assert refs(flag="persistent_absence") == [oak.reference]
    assert refs(sort="reference") == sorted([oak.reference, second.reference, river.reference])
    assert refs(sort="opened") == [river.reference, second.reference, oak.reference]
    # Nonsense is ignored, not an error.
    assert refs(stage="nonsense", level="99", sort="nonsense") == [
        second.reference,
        oak.reference,
        river.reference,
    ]
    assert client_as("oak_head").get("/caseload", params={"owner": "me"}).status_code == 200
    assert _references(client_as("oak_head").get("/caseload?owner=me").text) == [second.reference]


def test_the_caseload_pages_through(client_as, monkeypatch, caseload):
    import api.pages.caseload as page_module

    monkeypatch.setattr(page_module, "PAGE_SIZE", 2)
    manager = client_as("manager")
    first = manager.get("/caseload", headers=HTML).text
    assert "Showing 1 to 2 of 4 open cases" in first
    assert 'href="/caseload?page=2"' in first
    second = manager.get("/caseload?page=2", headers=HTML).text
    assert "Showing 3 to 4 of 4 open cases" in second
    assert _references(first) + _references(second) == [
        caseload[k].reference for k in ("hill", "second", "oak", "river")
    ]
    assert 'href="/caseload"' in second  # back to the first page
    opened = [manager.get(f"/caseload?sort=opened&page={n}", headers=HTML).text for n in (1, 2)]
    assert _references(opened[0]) + _references(opened[1]) == [
        caseload[k].reference for k in ("hill", "river", "second", "oak")
    ]


def test_the_csv_export_has_the_filtered_rows_and_is_formula_safe(client_as, db, caseload):
    traded = client_as("traded")
    rows = _csv(traded.get("/caseload/export.csv"))
    assert rows[0][:3] == ["Reference", "Pupil", "Year"]
    assert [r[0] for r in rows[1:]] == [caseload[k].reference for k in ("second", "oak", "river")]
    zed = next(r for r in rows if r[0] == caseload["second"].reference)
    assert zed[1] == "'=HYPERLINK(1) Example"  # written as text, never run as a formula
    assert "2024-11-25" in zed and "Second review" in zed
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)

    filtered = _csv(traded.get("/caseload/export.csv", params={"school": str(db.world.riverside)}))
    assert [r[0] for r in filtered[1:]] == [caseload["river"].reference]
    flagged = _csv(traded.get("/caseload/export.csv?flag=persistent_absence"))
    assert [r[0] for r in flagged[1:]] == [caseload["oak"].reference]
    assert "Persistent absence" in flagged[1]

    # The export respects scope like the page.
    lead = _csv(client_as("hill_lead").get("/caseload/export.csv"))
    assert [r[0] for r in lead[1:]] == [caseload["hill"].reference]
    page = traded.get("/caseload?school=" + str(db.world.riverside), headers=HTML).text
    assert f'href="/caseload/export.csv?school={db.world.riverside}"' in page


def test_my_work_links_the_caseload_and_keeps_the_recent_cases(client_as, caseload):
    page = client_as("oak_lead").get("/", headers=HTML).text
    assert 'href="/caseload?owner=me"' in page
    assert caseload["oak"].reference in page
    assert caseload["hill"].reference not in page
