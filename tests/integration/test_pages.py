"""The server-rendered pages, as a person in a browser uses them: sign in, see My work, read a
case, move it on and record what was done, and never see what is outside their scope."""

from __future__ import annotations

import re

import pytest

from tests.support.csrf import csrf_client
from tests.support.world import PASSWORD
from workflows.cases import OpenCase, open_case
from workflows.responsibility import MakeReferral, refer

HTML = {"Accept": "text/html,application/xhtml+xml"}


def _open(context, username: str, pupil_id: int, school_id: int) -> tuple[int, str]:
    ctx = context(username)
    case = open_case(ctx, OpenCase(pupil_id, school_id, reason="attendance below 95%"))
    ctx.commit()
    return case.id, case.reference


def _version(page: str) -> int:
    found = re.search(r'name="expected_version" value="(\d+)"', page)
    assert found, "the case page offers no action form"
    return int(found.group(1))


def _current_stage(page: str) -> str:
    found = re.search(r'aria-current="step">\s*([^<]+?)\s*<', page)
    assert found, "the stage path marks no current stage"
    return found.group(1)


@pytest.fixture
def browser(app):
    """A browser with no session yet (redirects are not followed, so they can be checked)."""
    with csrf_client(app) as client:
        client.follow_redirects = False
        yield client


def test_signing_in_through_the_form_lands_on_my_work(browser):
    form = browser.get("/login")
    assert form.status_code == 200
    assert 'for="username"' in form.text and 'for="password"' in form.text

    signed_in = browser.post("/login", data={"username": "oak_lead", "password": PASSWORD})
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/"
    assert "casework_session" in browser.cookies

    home = browser.get("/", headers=HTML)
    assert home.status_code == 200
    assert "<h1" in home.text and "My work" in home.text
    assert "Oak Lead" in home.text
    assert "School staff" in home.text
    assert "Oakfield Primary" in home.text
    assert 'action="/logout"' in home.text

    out = browser.post("/logout")
    assert out.status_code == 303 and out.headers["location"] == "/login"
    again = browser.get("/", headers=HTML)
    assert again.status_code in (302, 303) and again.headers["location"].endswith("/login")


def test_a_wrong_password_shows_the_error_summary_and_sets_no_session(browser):
    refused = browser.post(
        "/login", data={"username": "oak_lead", "password": "not-the-password-xyz"}
    )
    assert refused.status_code == 401
    assert "There is a problem" in refused.text
    assert "The username or password is not right" in refused.text
    assert 'href="#username"' in refused.text
    assert "not-the-password-xyz" not in refused.text
    assert 'value="oak_lead"' in refused.text
    assert "casework_session" not in browser.cookies

    missing = browser.post("/login", data={"username": "oak_lead"})
    assert missing.status_code == 400
    assert "Enter your password" in missing.text
    assert 'href="#password"' in missing.text
    assert "casework_session" not in browser.cookies


def test_a_page_request_without_a_session_goes_to_sign_in(browser, context, db):
    case_id, _ = _open(context, "oak_lead", db.world.pupil_oak, db.world.oakfield)
    for path in ("/", f"/cases/{case_id}", f"/pupils/{db.world.pupil_oak}"):
        response = browser.get(path, headers=HTML)
        assert response.status_code in (302, 303), path
        assert response.headers["location"].endswith("/login")
        assert "Amelia" not in response.text
    # The stylesheet and script are served without signing in (the sign-in page uses them).
    assert browser.get("/static/build/casework.css").status_code == 200
    assert browser.get("/static/casework.js").status_code == 200


def test_school_staff_see_their_school_and_nothing_else(client_as, context, db):
    world = db.world
    oak_id, oak_ref = _open(context, "oak_lead", world.pupil_oak, world.oakfield)
    hill_id, hill_ref = _open(context, "hill_lead", world.pupil_hill, world.hillcrest)
    client = client_as("oak_lead")

    home = client.get("/")
    assert oak_ref in home.text and hill_ref not in home.text
    assert f'href="/cases/{oak_id}"' in home.text

    pupil = client.get(f"/pupils/{world.pupil_oak}")
    assert pupil.status_code == 200
    assert "Amelia Ashdown" in pupil.text
    assert "Dana Ashdown" in pupil.text and "Parental responsibility" in pupil.text
    assert oak_ref in pupil.text
    assert "Bella" not in pupil.text  # her sister is at Riverside

    for path in (f"/pupils/{world.pupil_hill}", f"/cases/{hill_id}", "/cases/999999"):
        hidden = client.get(path, headers=HTML)
        assert hidden.status_code == 404, path
        assert "Page not found" in hidden.text
        assert "Cara" not in hidden.text and hill_ref not in hidden.text


def test_the_traded_officer_sees_the_schools_they_serve(client_as, context, db):
    world = db.world
    _, oak_ref = _open(context, "oak_lead", world.pupil_oak, world.oakfield)
    _, river_ref = _open(context, "river_lead", world.pupil_river, world.riverside)
    hill_id, hill_ref = _open(context, "hill_lead", world.pupil_hill, world.hillcrest)
    client = client_as("traded")

    home = client.get("/")
    assert "Oakfield Primary, Riverside Primary" in home.text
    assert oak_ref not in home.text  # "my cases" first: these are held by the schools
    everything = client.get("/", params={"show": "all"})
    assert oak_ref in everything.text and river_ref in everything.text
    assert hill_ref not in everything.text
    assert client.get(f"/cases/{hill_id}").status_code == 404

    pupil = client.get(f"/pupils/{world.pupil_oak}")
    assert "Bella Ashdown" in pupil.text and "Riverside Primary" in pupil.text


def _refer_to_statutory(context, case_id: int) -> None:
    ctx = context("oak_lead")
    refer(
        ctx,
        case_id,
        MakeReferral(
            "statutory",
            "no improvement after support",
            content={
                "actions_taken": "calls and letters",
                "attendance_data": "82%",
                "support_offered": "Early Help",
            },
        ),
    )
    ctx.commit()


def test_the_statutory_officer_sees_a_case_once_it_is_referred(client_as, context, db):
    case_id, reference = _open(context, "oak_lead", db.world.pupil_oak, db.world.oakfield)
    client = client_as("statutory")
    assert client.get(f"/cases/{case_id}", headers=HTML).status_code == 404
    assert client.get(f"/pupils/{db.world.pupil_oak}", headers=HTML).status_code == 404

    _refer_to_statutory(context, case_id)

    page = client.get(f"/cases/{case_id}")
    assert page.status_code == 200 and reference in page.text
    assert "no improvement after support" in page.text
    assert client.get(f"/pupils/{db.world.pupil_oak}").status_code == 200


def test_my_work_shows_the_statutory_officer_referrals_waiting(client_as, context, db):
    case_id, reference = _open(context, "oak_lead", db.world.pupil_oak, db.world.oakfield)
    client = client_as("statutory")
    home = client.get("/", params={"show": "all"})
    assert home.status_code == 200
    assert "Statutory cases across Knowsley (synthetic)" in home.text
    assert reference not in home.text

    _refer_to_statutory(context, case_id)

    home = client.get("/")
    assert reference in home.text
    assert f'href="/cases/{case_id}"' in home.text


def test_the_administrator_sees_no_pupils(client_as, context, db):
    _, reference = _open(context, "oak_lead", db.world.pupil_oak, db.world.oakfield)
    client = client_as("admin")
    home = client.get("/")
    assert home.status_code == 200
    assert "Users and settings; no pupil records" in home.text
    assert reference not in home.text and "Amelia" not in home.text
    assert client.get(f"/pupils/{db.world.pupil_oak}").status_code == 404


def test_the_case_page_lists_why_an_action_is_blocked(client_as, context, db):
    case_id, reference = _open(context, "oak_lead", db.world.pupil_oak, db.world.oakfield)
    page = client_as("oak_lead").get(f"/cases/{case_id}")
    assert page.status_code == 200
    assert reference in page.text and "Amelia Ashdown" in page.text
    assert _current_stage(page.text) == "Monitor"
    start = page.text.index('id="action-advance_to_facilitate_support"')
    end = page.text.find('class="blocked__item"', start)
    blocked = page.text[start : end if end > 0 else len(page.text)]
    assert (
        "2 school action(s) (calls, letters, meetings, home visits, check-ins) must be" in blocked
    )
    assert "An Early Help assessment must be recorded as completed or declined" in blocked
    # Every unmet requirement of that move can be bypassed, so a rationale box is offered each.
    assert 'name="rationale_level_1_school_actions"' in page.text
    assert 'name="rationale_early_help"' in page.text
    # Legal action is not a school's: the reason says so.
    assert "Only a statutory officer or an LA manager may take legal action" in page.text


def test_an_allowed_action_through_the_form_moves_the_stage(client_as, context, db):
    case_id, _ = _open(context, "oak_lead", db.world.pupil_oak, db.world.oakfield)
    client = client_as("oak_lead")
    page = client.get(f"/cases/{case_id}")
    moved = client.post(
        f"/cases/{case_id}/actions",
        data={
            "trigger": "advance_to_listen_and_understand",
            "expected_version": _version(page.text),
            "reason": "Parent asked to meet about anxiety",
        },
        follow_redirects=False,
    )
    assert moved.status_code == 303
    assert moved.headers["location"] == f"/cases/{case_id}"
    after = client.get(f"/cases/{case_id}")
    assert _current_stage(after.text) == "Listen and understand"
    assert "Parent asked to meet about anxiety" in after.text
    assert "Monitor → Listen and understand" in after.text


def test_bypassing_requirements_records_each_rationale(client_as, context, db):
    case_id, _ = _open(context, "oak_lead", db.world.pupil_oak, db.world.oakfield)
    client = client_as("oak_lead")
    version = _version(client.get(f"/cases/{case_id}").text)
    moved = client.post(
        f"/cases/{case_id}/actions",
        data={
            "trigger": "advance_to_facilitate_support",
            "expected_version": version,
            "reason": "Escalating",
            "rationale_skip_rationale": "Family already known to Early Help",
            "rationale_level_1_school_actions": "Contact made by the previous school",
            "rationale_early_help": "Assessment completed last term",
            "rationale_school_action_period": "Six weeks ran at the previous school",
        },
    )
    assert moved.status_code == 200
    assert _current_stage(moved.text) == "Facilitate support"
    assert "Bypassed: school actions recorded" in moved.text
    assert "Contact made by the previous school" in moved.text


def test_a_stale_version_is_refused_and_changes_nothing(client_as, context, db):
    case_id, _ = _open(context, "oak_lead", db.world.pupil_oak, db.world.oakfield)
    client = client_as("oak_lead")
    version = _version(client.get(f"/cases/{case_id}").text)
    stale = client.post(
        f"/cases/{case_id}/actions",
        data={
            "trigger": "advance_to_listen_and_understand",
            "expected_version": version - 1,
            "reason": "Written against an old copy",
        },
    )
    assert stale.status_code == 409
    assert "There is a problem" in stale.text
    assert "has changed since it was read" in stale.text
    assert _current_stage(stale.text) == "Monitor"
    assert _version(stale.text) == version
    assert "Written against an old copy" in stale.text  # kept in the form, not the chronology
    assert client.get(f"/cases/{case_id}").text.count("Written against an old copy") == 0


def test_refusals_and_bad_input_name_the_field(client_as, context, db):
    case_id, _ = _open(context, "oak_lead", db.world.pupil_oak, db.world.oakfield)
    client = client_as("oak_lead")
    version = _version(client.get(f"/cases/{case_id}").text)

    no_outcome = client.post(
        f"/cases/{case_id}/actions",
        data={"trigger": "close", "expected_version": version, "reason": "Attendance is fine"},
    )
    assert no_outcome.status_code == 409
    assert "closing a case needs an outcome" in no_outcome.text
    assert 'href="#close-outcome"' in no_outcome.text

    bad_line = client.post(
        f"/cases/{case_id}/actions",
        data={
            "trigger": "issue_notice_to_improve",
            "expected_version": version,
            "sessions": "2024-11-04 AM N\n\nthe Tuesday after\n",
        },
    )
    assert bad_line.status_code == 422
    assert "Sessions, line 3" in bad_line.text

    no_summary = client.post(
        f"/cases/{case_id}/interventions",
        data={"kind": "phone_call", "occurred_on": "2024-11-19", "summary": "  "},
    )
    assert no_summary.status_code == 422
    assert "Summary: describe what happened" in no_summary.text
    assert 'href="#intervention-summary"' in no_summary.text

    bad_date = client.post(
        f"/cases/{case_id}/interventions",
        data={"kind": "phone_call", "occurred_on": "31/11/2024", "summary": "Called"},
    )
    assert bad_date.status_code == 422
    assert "Date: enter a real date, for example 18 11 2024" in bad_date.text
    assert 'href="#intervention-occurred_on"' in bad_date.text
    assert 'value="Called"' not in bad_date.text  # a summary is a textarea, kept as its text
    assert ">Called</textarea>" in bad_date.text


def test_recording_an_intervention_through_the_form_adds_it(client_as, context, db):
    case_id, _ = _open(context, "oak_lead", db.world.pupil_oak, db.world.oakfield)
    client = client_as("oak_lead")
    recorded = client.post(
        f"/cases/{case_id}/interventions",
        data={
            "kind": "phone_call",
            "occurred_on": "2024-11-19",
            "summary": "Called mum about Monday absences",
            "family_engaged": "engaged",
            "outcome": "pending",
            "attendees": "Dana Ashdown, Oak Lead",
        },
        follow_redirects=False,
    )
    assert recorded.status_code == 303
    page = client.get(f"/cases/{case_id}").text
    section = page[page.index('id="interventions"') :]
    assert "Called mum about Monday absences" in section
    assert "Phone call" in section and "19 November 2024" in section
    assert "Dana Ashdown, Oak Lead" in section
    assert "Intervention recorded: Phone call" in page


def test_opening_a_case_from_the_pupil_page(client_as, db):
    client = client_as("oak_lead")
    page = client.get(f"/pupils/{db.world.pupil_oak}")
    assert "Open a case" in page.text
    form = {"school_id": db.world.oakfield, "stage": "monitor", "kind": "irregular_attendance"}

    no_reason = client.post(f"/pupils/{db.world.pupil_oak}/cases", data=form)
    assert no_reason.status_code == 422
    assert "Reason: say why the case is opened" in no_reason.text

    opened = client.post(
        f"/pupils/{db.world.pupil_oak}/cases",
        data={**form, "reason": "Attendance 88% this term"},
        follow_redirects=False,
    )
    assert opened.status_code == 303
    case_page = client.get(opened.headers["location"])
    assert "Attendance 88% this term" in case_page.text
    assert _current_stage(case_page.text) == "Monitor"

    again = client.post(
        f"/pupils/{db.world.pupil_oak}/cases", data={**form, "reason": "A second one"}
    )
    assert again.status_code == 409
    assert "already has an open case" in again.text


def test_the_case_page_lists_open_deadlines_with_how_they_were_counted(client_as, context, db):
    from workflows.interventions import RecordIntervention, record_intervention

    case_id, _ = _open(context, "oak_lead", db.world.pupil_oak, db.world.oakfield)
    ctx = context("oak_lead")
    record_intervention(
        ctx,
        case_id,
        RecordIntervention(
            kind="phone_call",
            occurred_on=ctx.today(),
            summary="first call",
            family_engaged="engaged",
        ),
    )
    ctx.commit()
    page = client_as("oak_lead").get(f"/cases/{case_id}")
    assert page.status_code == 200
    assert "Level 1: six weeks of school action" in page.text
    assert "6 school weeks after" in page.text
    assert "Deadlines started:" in page.text


def test_my_work_lists_my_deadlines_by_when_they_fall(client_as, context, db):
    from workflows.interventions import RecordIntervention, record_intervention

    case_id, reference = _open(context, "oak_lead", db.world.pupil_oak, db.world.oakfield)
    ctx = context("oak_lead")
    record_intervention(
        ctx,
        case_id,
        RecordIntervention(kind="letter", occurred_on=ctx.today(), summary="concern letter"),
    )
    ctx.commit()
    home = client_as("oak_lead").get("/")
    assert home.status_code == 200
    assert "Your deadlines" in home.text and "Later (1)" in home.text
    assert f'href="/cases/{case_id}#deadlines">{reference}</a>' in home.text
    assert "No open deadlines on your cases." in client_as("oak_head").get("/").text
