"""Letters through the API: sending, listing, the PDF and HTML of one letter, the school's print
batch for the day, scoped like cases; and a penalty notice's letter from the notice."""

from __future__ import annotations

import hashlib
import io
import threading
from datetime import date

from pypdf import PdfReader
from sqlalchemy import select

from casework.models import Contact
from casework.models.letters import PRINT, Letter
from notifications.letters.kinds import KINDS
from notifications.letters.render import missing_elements
from notifications.penalty_notice import REQUIRED_ELEMENTS
from tests.integration.test_penalty_notices import _one_issued_notice
from workflows.letters import send_penalty_notice_letter

FIGURES = {"attendance_percent": 86.5, "sessions_missed": 24}


def new_case(client, db) -> int:
    made = client.post(
        "/api/cases",
        json={"pupil_id": db.world.pupil_oak, "school_id": db.world.oakfield, "reason": "90%"},
    )
    assert made.status_code == 201, made.text
    return made.json()["case"]["id"]


def no_email_for(db, forename: str) -> None:
    with db.factory() as session:
        contact = session.scalars(select(Contact).where(Contact.forename == forename)).one()
        contact.email = None
        session.commit()


def test_school_staff_send_list_and_read_their_letters(client_as, db):
    school = client_as("oak_lead")
    case_id = new_case(school, db)
    made = school.post(f"/api/cases/{case_id}/letters", json={"kind": "first_day_absence"})
    assert made.status_code == 201, made.text
    letters = made.json()
    assert [(x["exhibit_number"], x["recipient"], x["delivery"]) for x in letters] == [
        (1, "Ms Dana Ashdown", "email"),
        (2, "Mr Evan Ashdown", "email"),
    ]
    assert all(x["message_status"] == "pending" for x in letters)
    assert school.get(f"/api/cases/{case_id}/letters").json() == letters

    first = letters[0]
    pdf = school.get(f"/api/cases/{case_id}/letters/{first['id']}/pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["digest"] == f"sha-256={hashlib.sha256(pdf.content).hexdigest()}"
    assert len(PdfReader(io.BytesIO(pdf.content)).pages) == first["pages"]
    preview = school.get(f"/api/cases/{case_id}/letters/{first['id']}/html")
    assert preview.status_code == 200
    assert preview.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in preview.headers["content-security-policy"]
    assert "Ms Dana Ashdown" in preview.text

    # Another school's staff cannot see the case, its letters or their files.
    other = client_as("hill_lead")
    assert other.get(f"/api/cases/{case_id}/letters").status_code == 404
    assert other.get(f"/api/cases/{case_id}/letters/{first['id']}/pdf").status_code == 404
    assert (
        other.post(f"/api/cases/{case_id}/letters", json={"kind": "first_day_absence"}).status_code
        == 404
    )


def test_letters_only_their_own_action_sends_are_refused(client_as, db):
    school = client_as("oak_lead")
    case_id = new_case(school, db)
    contract = {
        "kind": "attendance_contract",
        "extra": {"parent_commitments": ["On time"], "support_commitments": ["Check-ins"]},
    }
    assert school.post(f"/api/cases/{case_id}/letters", json=contract).status_code == 403
    manager = client_as("manager")
    for kind in ("notice_to_improve", "penalty_notice"):
        refused = manager.post(f"/api/cases/{case_id}/letters", json={"kind": kind})
        assert refused.status_code == 403
        assert "own action" in refused.json()["detail"]


def test_a_letter_missing_a_field_is_refused_naming_it(client_as, db):
    school = client_as("oak_lead")
    case_id = new_case(school, db)
    refused = school.post(
        f"/api/cases/{case_id}/letters",
        json={"kind": "attendance_concern_meeting", "extra": {**FIGURES, "meeting_time": "25:00"}},
    )
    assert refused.status_code == 422
    fields = {e["field"] for e in refused.json()["errors"]}
    assert fields == {"extra.meeting_date", "extra.meeting_time", "extra.meeting_place"}
    assert school.get(f"/api/cases/{case_id}/letters").json() == []
    unknown = school.post(f"/api/cases/{case_id}/letters", json={"kind": "postcard"})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "kind"


def test_the_print_batch_holds_the_days_printed_letters_for_the_school(client_as, db):
    no_email_for(db, "Evan")
    school = client_as("oak_lead")
    case_id = new_case(school, db)
    letters = school.post(
        f"/api/cases/{case_id}/letters", json={"kind": "concern_letter", "extra": FIGURES}
    ).json()
    printed = [x for x in letters if x["delivery"] == PRINT]
    assert [x["recipient"] for x in printed] == ["Mr Evan Ashdown"]

    url = f"/api/letters/print-batch?school_id={db.world.oakfield}&date=2024-11-20"
    batch = school.get(url)
    assert batch.status_code == 200, batch.text
    assert batch.headers["content-type"] == "application/pdf"
    assert batch.headers["x-letter-count"] == "1"
    pages = PdfReader(io.BytesIO(batch.content)).pages
    assert len(pages) == printed[0]["pages"]
    assert "Mr Evan Ashdown" in pages[0].extract_text()

    assert client_as("hill_lead").get(url).status_code == 404  # not their school
    river = f"/api/letters/print-batch?school_id={db.world.riverside}&date=2024-11-20"
    assert school.get(river).status_code == 404
    assert school.get(url.replace("2024-11-20", "2024-11-21")).status_code == 404
    kinds = school.get("/api/letters/kinds").json()
    assert {k["kind"] for k in kinds} == set(KINDS)


def test_an_issued_penalty_notice_becomes_a_printed_letter_once(context, db, clock):
    case_id, notice = _one_issued_notice(context, db, clock)
    ctx = context("statutory")
    letter = send_penalty_notice_letter(ctx, notice.id)
    ctx.commit()
    assert (letter.kind, letter.delivery, letter.exhibit_number) == ("penalty_notice", PRINT, 1)
    assert letter.letter_date == date(2024, 11, 12) == notice.posted_on
    assert letter.penalty_notice_id == notice.id and letter.case_id == case_id
    assert "Served by post" in letter.delivery_note
    assert missing_elements(letter.html, REQUIRED_ELEMENTS) == []
    assert letter.data["notice"]["reference"] == notice.reference

    ctx = context("statutory")
    assert send_penalty_notice_letter(ctx, notice.id).id == letter.id  # once only
    with db.factory() as session:
        assert session.scalars(select(Letter)).all() == [session.get(Letter, letter.id)]
    assert KINDS["penalty_notice"].post_only


def test_letters_sent_at_once_get_consecutive_exhibit_numbers(client_as, db):
    first, second = client_as("oak_lead"), client_as("oak_head")
    case_id = new_case(first, db)
    statuses: list[int] = []

    def send(client):
        response = client.post(f"/api/cases/{case_id}/letters", json={"kind": "first_day_absence"})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=send, args=(c,)) for c in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [201, 201]
    listed = first.get(f"/api/cases/{case_id}/letters").json()
    assert sorted(x["exhibit_number"] for x in listed) == [1, 2, 3, 4]
