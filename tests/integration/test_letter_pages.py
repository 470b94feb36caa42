"""Letters on the case page, as school staff and officers use them: the Letters section with its
PDF and HTML links and today's print batch, choosing only the kinds the user may send, the
kind's form with Preview (one letter per parent, nothing written) and Send (stored, back to the
case), a missing field named, and nothing shown to another school's staff.

The synthetic pupil at Oakfield has two parents with parental responsibility, Ms Dana Ashdown
and Mr Evan Ashdown, each with an email address; the clock is Wednesday 20 November 2024."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from casework.models import Attachment, CaseEvent, Intervention, OutboxMessage
from casework.models.letters import Letter
from tests.integration.test_letters_api import FIGURES, new_case, no_email_for
from workflows.cases import FireTrigger, OpenCase, fire_trigger, open_case
from workflows.letters import send_letter

HTML = {"Accept": "text/html,application/xhtml+xml"}
MEETING = {"meeting_date": "2024-11-27", "meeting_time": "15:30", "meeting_place": "Oakfield"}
SCHOOL_KINDS = {
    "first_day_absence",
    "concern_letter",
    "attendance_concern_meeting",
    "aim_invitation",
    "aim_action_plan",
}


def counts(db) -> dict[str, int]:
    with db.factory() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (Letter, Attachment, OutboxMessage, CaseEvent, Intervention)
        }


def section(page: str, anchor: str = 'id="letters"', end: str = 'id="penalty-notices"') -> str:
    first = page.index(anchor)
    return page[first : page.index(end, first)]


def offered_kinds(page: str) -> set[str]:
    form = page[page.index('id="letter-kind"') :]
    form = form[: form.index("</select>")]
    return set(re.findall(r'<option value="([a-z_]+)"', form))


def test_the_letters_section_lists_letters_with_working_links(client_as, db):
    no_email_for(db, "Evan")
    school = client_as("oak_lead")
    case_id = new_case(school, db)
    sent = school.post(
        f"/api/cases/{case_id}/letters", json={"kind": "concern_letter", "extra": FIGURES}
    )
    assert sent.status_code == 201, sent.text

    page = school.get(f"/cases/{case_id}", headers=HTML)
    assert page.status_code == 200
    letters = section(page.text)
    assert "We are worried about your child&#39;s attendance" in letters
    assert "Ms Dana Ashdown" in letters and "Mr Evan Ashdown" in letters
    assert "Emailed" in letters and "Queued for print" in letters
    assert "20 November 2024" in letters
    pdfs = re.findall(r'href="(/api/cases/\d+/letters/\d+/pdf)"', letters)
    views = re.findall(r'href="(/api/cases/\d+/letters/\d+/html)"', letters)
    assert len(pdfs) == len(views) == 2
    for link in pdfs:
        pdf = school.get(link)
        assert pdf.status_code == 200
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")
    view = school.get(views[0])
    assert view.status_code == 200 and "Ms Dana Ashdown" in view.text

    # Mr Ashdown's letter waits in today's print batch, and the section links to it.
    batch = re.search(r'href="(/api/letters/print-batch\?[^"]+)"', letters)
    assert batch, "no print-batch link"
    url = batch.group(1).replace("&amp;", "&")
    assert url == f"/api/letters/print-batch?school_id={db.world.oakfield}&date=2024-11-20"
    printed = school.get(url)
    assert printed.status_code == 200 and printed.headers["x-letter-count"] == "1"

    # The send is support given: one letter intervention for both letters, linked to them.
    interventions = section(page.text, 'id="interventions"', 'id="responsibility"')
    assert (
        "Concern letter sent to Ms Dana Ashdown and Mr Evan Ashdown (exhibits 1 and 2)"
        in interventions
    )
    with db.factory() as session:
        recorded = session.scalars(
            select(Intervention).where(
                Intervention.case_id == case_id, Intervention.kind == "letter"
            )
        ).all()
        assert len(recorded) == 1
        assert (recorded[0].family_engaged, recorded[0].outcome) == ("not_applicable", "pending")
        linked = session.scalars(select(Letter.intervention_id).where(Letter.case_id == case_id))
        assert set(linked) == {recorded[0].id}


def test_a_school_user_is_offered_only_the_schools_letters(client_as, db):
    school = client_as("oak_lead")
    case_id = new_case(school, db)
    page = school.get(f"/cases/{case_id}", headers=HTML).text
    assert offered_kinds(section(page)) == SCHOOL_KINDS
    form = school.get(f"/cases/{case_id}/letters/new", headers=HTML)
    assert form.status_code == 200
    assert offered_kinds(form.text) == SCHOOL_KINDS

    # An officer serving the school may send the LA's letters too, but never those only
    # their own action sends (a Notice to Improve, a penalty notice).
    officer = client_as("traded").get(f"/cases/{case_id}", headers=HTML).text
    assert offered_kinds(section(officer)) == SCHOOL_KINDS | {
        "attendance_contract",
        "penalty_notice_warning",
    }

    before = counts(db)
    refused = school.get(f"/cases/{case_id}/letters/new?kind=attendance_contract", headers=HTML)
    assert refused.status_code == 400
    assert "Choose one of the letters you may send" in refused.text
    sent = school.post(
        f"/cases/{case_id}/letters/new",
        data={
            "kind": "attendance_contract",
            "action": "send",
            "parent_commitments": "On time",
            "support_commitments": "Check-ins",
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert sent.status_code == 403
    assert counts(db) == before


def test_preview_shows_one_letter_per_parent_and_writes_nothing(client_as, db):
    school = client_as("oak_lead")
    case_id = new_case(school, db)
    form = school.get(f"/cases/{case_id}/letters/new?kind=attendance_concern_meeting")
    assert form.status_code == 200
    for name in ("meeting_date", "meeting_time", "meeting_place", "attendance_percent"):
        assert f'id="letter-{name}"' in form.text
    assert 'value="preview"' in form.text and 'value="send"' in form.text

    before = counts(db)
    preview = school.post(
        f"/cases/{case_id}/letters/new",
        data={
            "kind": "attendance_concern_meeting",
            "action": "preview",
            **MEETING,
            "attendance_percent": "86.5",
            "sessions_missed": "24",
        },
        headers=HTML,
    )
    assert preview.status_code == 200, preview.text
    assert counts(db) == before
    frames = re.findall(r"<iframe [^>]*>", preview.text)
    assert len(frames) == 2
    assert all(" sandbox " in f and 'srcdoc="' in f for f in frames)
    # The letter's markup is escaped into the attribute, never loose on the page.
    assert preview.text.count('srcdoc="&lt;') == 2
    shown = preview.text[preview.text.index('id="preview"') :]
    assert "Exhibit 1: to Ms Dana Ashdown" in shown
    assert "Exhibit 2: to Mr Evan Ashdown" in shown
    assert shown.count("By email to") == 2
    # What was typed is kept in the form, ready to send.
    assert 'value="Oakfield"' in preview.text and 'value="15:30"' in preview.text


def test_send_stores_the_letters_and_goes_back_to_the_case(client_as, db):
    school = client_as("oak_lead")
    case_id = new_case(school, db)
    sent = school.post(
        f"/cases/{case_id}/letters/new",
        data={"kind": "first_day_absence", "action": "send", "absence_date": "2024-11-19"},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"] == f"/cases/{case_id}#letters"
    letters = school.get(f"/api/cases/{case_id}/letters").json()
    assert [(x["exhibit_number"], x["recipient"]) for x in letters] == [
        (1, "Ms Dana Ashdown"),
        (2, "Mr Evan Ashdown"),
    ]
    page = school.get(f"/cases/{case_id}", headers=HTML).text
    assert "Your child is absent from school" in section(page)
    assert "Intervention recorded: Letter" in page


def test_a_missing_field_is_named_and_nothing_is_written(client_as, db):
    school = client_as("oak_lead")
    case_id = new_case(school, db)
    before = counts(db)
    for action in ("preview", "send"):
        refused = school.post(
            f"/cases/{case_id}/letters/new",
            data={
                "kind": "attendance_concern_meeting",
                "action": action,
                "meeting_date": "2024-11-27",
                "meeting_time": "25:00",
                "attendance_percent": "86.5",
                "sessions_missed": "24",
            },
            headers=HTML,
            follow_redirects=False,
        )
        assert refused.status_code == 422, refused.text
        summary = refused.text[refused.text.index("error-summary") :]
        summary = summary[: summary.index("</div>")]
        assert '<a href="#letter-meeting_place">Meeting place is required' in summary
        assert '<a href="#letter-meeting_time">Meeting time: a time as HH:MM' in summary
        assert "<iframe" not in refused.text
    bad_number = school.post(
        f"/cases/{case_id}/letters/new",
        data={"kind": "concern_letter", "action": "send", "attendance_percent": "lots"},
        headers=HTML,
        follow_redirects=False,
    )
    assert bad_number.status_code == 422
    assert '<a href="#letter-attendance_percent">Attendance percent: a percentage' in (
        bad_number.text
    )
    assert counts(db) == before


def test_another_schools_user_gets_not_found(client_as, db):
    case_id = new_case(client_as("oak_lead"), db)
    other = client_as("hill_lead")
    before = counts(db)
    assert other.get(f"/cases/{case_id}", headers=HTML).status_code == 404
    assert other.get(f"/cases/{case_id}/letters/new", headers=HTML).status_code == 404
    assert (
        other.get(f"/cases/{case_id}/letters/new?kind=concern_letter", headers=HTML).status_code
        == 404
    )
    for action in ("preview", "send"):
        for data in (
            {"kind": "first_day_absence", "action": action},
            {"kind": "attendance_contract", "action": action},  # not theirs to send either
            {"kind": "concern_letter", "action": action, "attendance_percent": "lots"},
        ):
            answer = other.post(
                f"/cases/{case_id}/letters/new",
                data=data,
                headers=HTML,
                follow_redirects=False,
            )
            assert answer.status_code == 404, (data, answer.status_code)
    assert counts(db) == before


def _letter_interventions(db, case_id: int) -> list[Intervention]:
    with db.factory() as session:
        return list(
            session.scalars(
                select(Intervention)
                .where(Intervention.case_id == case_id, Intervention.kind == "letter")
                .order_by(Intervention.id)
            )
        )


def test_each_send_is_one_letter_intervention_and_a_closed_case_takes_none(context, db):
    ctx = context("oak_lead")
    case = open_case(ctx, OpenCase(db.world.pupil_oak, db.world.oakfield, reason="below 90%"))
    send_letter(ctx, case.id, "first_day_absence")
    send_letter(ctx, case.id, "concern_letter", extra=FIGURES)
    ctx.commit()
    first, second = _letter_interventions(db, case.id)
    assert first.summary == (
        "First-day absence letter sent to Ms Dana Ashdown and Mr Evan Ashdown (exhibits 1 and 2)"
    )
    assert second.summary.startswith("Concern letter sent to") and "3 and 4" in second.summary

    # A closed case records no interventions: the letters are still its exhibits, unlinked.
    ctx = context("oak_lead")
    fire_trigger(
        ctx,
        case.id,
        FireTrigger("close", ctx.case(case.id).version, reason="improved", outcome="other"),
    )
    letters = send_letter(ctx, case.id, "first_day_absence")
    ctx.commit()
    assert [x.exhibit_number for x in letters] == [5, 6]
    assert all(x.intervention_id is None for x in letters)
    assert len(_letter_interventions(db, case.id)) == 2


def test_an_officer_types_lists_and_sessions_one_per_line(client_as, db):
    officer = client_as("traded")
    case_id = new_case(client_as("oak_lead"), db)
    warning = officer.post(
        f"/cases/{case_id}/letters/new",
        data={
            "kind": "penalty_notice_warning",
            "action": "preview",
            "sessions": "2024-11-04 AM O\n\n2024-11-04 pm o\n",
        },
        headers=HTML,
    )
    assert warning.status_code == 200, warning.text
    assert warning.text.count("<iframe") == 2
    bad = officer.post(
        f"/cases/{case_id}/letters/new",
        data={"kind": "penalty_notice_warning", "action": "preview", "sessions": "4 Nov AM O"},
        headers=HTML,
    )
    assert bad.status_code == 422
    assert '<a href="#letter-sessions">Sessions, line 1:' in bad.text

    contract = officer.post(
        f"/cases/{case_id}/letters/new",
        data={
            "kind": "attendance_contract",
            "action": "send",
            "parent_commitments": "Get Sam to school by 8:45\nRead the weekly update",
            "support_commitments": "Daily check-in with the attendance lead",
        },
        follow_redirects=False,
    )
    assert contract.status_code == 303, contract.text
    with db.factory() as session:
        stored = session.scalars(select(Letter).where(Letter.case_id == case_id)).all()
    assert [x.data["parent_commitments"] for x in stored] == [
        ["Get Sam to school by 8:45", "Read the weekly update"]
    ] * 2


def test_a_pupil_with_no_parent_recorded_is_named_at_the_form(client_as, context, db):
    ctx = context("hill_lead")
    case = open_case(ctx, OpenCase(db.world.pupil_hill, db.world.hillcrest, reason="below 90%"))
    ctx.commit()
    refused = client_as("hill_lead").post(
        f"/cases/{case.id}/letters/new",
        data={"kind": "first_day_absence", "action": "preview"},
        headers=HTML,
    )
    assert refused.status_code == 422
    assert '<a href="#letter-form">No parent or carer with parental responsibility' in (
        refused.text
    )
