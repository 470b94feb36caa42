"""Letters to parents on the synthetic world (Knowsley profile; the Ashdown parents both have
parental responsibility and an email address): one letter per parent, numbered exhibits with
their PDF and data, email or print, nothing written when something is missing, and a Notice to
Improve issued through the case's machine producing its letters."""

from __future__ import annotations

import hashlib
import io
from datetime import date, timedelta
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import exc, func, select, text

from casework.errors import Forbidden, InvalidInput
from casework.models import (
    Attachment,
    CaseEvent,
    Contact,
    Intervention,
    OutboxMessage,
    PupilContact,
)
from casework.models.letters import EMAIL, PRINT, Letter
from casework.registers.store import Recorder, record_marks
from casework.vocabulary import CaseKind, Engagement, EventKind, InterventionOutcome, Stage
from notifications.letters.kinds import KINDS
from notifications.letters.render import missing_elements, render_letter
from tests.integration.test_reminders import golden
from tests.unit.test_letters_golden import SAMPLES
from workflows import letters as letters_service
from workflows.cases import FireTrigger, OpenCase, fire_trigger, open_case
from workflows.facts import ListedSession
from workflows.interventions import RecordIntervention, record_intervention
from workflows.letters import request_letter, send_letter

FIGURES = {"attendance_percent": 86.5, "sessions_missed": 24}
MEETING = {"meeting_date": "2024-11-27", "meeting_time": "09:30", "meeting_place": "School office"}


def open_at_school(context, db, by="oak_lead") -> int:
    ctx = context(by)
    case = open_case(ctx, OpenCase(db.world.pupil_oak, db.world.oakfield, reason="below 90%"))
    ctx.commit()
    return case.id


def contacts(db) -> dict[str, int]:
    with db.factory() as session:
        rows = session.execute(
            select(Contact.forename, Contact.id)
            .join(PupilContact, PupilContact.contact_id == Contact.id)
            .where(PupilContact.pupil_id == db.world.pupil_oak)
        )
        return dict(rows.all())


def change_contact(db, forename: str, **values: Any) -> None:
    with db.factory() as session:
        contact = session.get(Contact, contacts(db)[forename])
        for name, value in values.items():
            setattr(contact, name, value)
        session.commit()


def counts(db) -> dict[str, int]:
    with db.factory() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (Letter, Attachment, OutboxMessage, CaseEvent)
        }


def sent(context, db, case_id, kind, extra=None, by="oak_lead") -> list[Letter]:
    ctx = context(by)
    made = send_letter(ctx, case_id, kind, extra=extra)
    ctx.commit()
    return made


def shape(value: Any) -> Any:
    """The keys of a snapshot, recursively (lists by their first item)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return None


def test_two_parents_get_two_letters_each_addressed_separately(context, db):
    change_contact(
        db, "Evan", address_line1="22 Other Street", town="Othertown", postcode="L99 9ZZ"
    )
    case_id = open_at_school(context, db)
    dana, evan = sent(context, db, case_id, "first_day_absence")
    assert (dana.exhibit_number, evan.exhibit_number) == (1, 2)
    assert dana.reference != evan.reference
    assert dana.data["recipient"]["address"] == ["1 Example Road", "Exampletown", "L00 0AA"]
    assert evan.data["recipient"]["address"] == ["22 Other Street", "Othertown", "L99 9ZZ"]
    assert "Ms Dana Ashdown" in dana.html and "Evan" not in dana.html
    assert "Mr Evan Ashdown" in evan.html and "Dana" not in evan.html
    assert "L99 9ZZ" not in dana.html and "L00 0AA" not in evan.html
    # The stored data re-renders to the stored HTML: the exhibit says what was sent.
    assert render_letter(KINDS["first_day_absence"], dana.data) == dana.html
    assert hashlib.sha256(dana.html.encode()).hexdigest() == dana.html_sha256


def test_a_carer_without_parental_responsibility_gets_the_letter_when_nobody_holds_it(context, db):
    # A looked-after child's foster carer has care of the child (a "parent" for attendance,
    # s576 Education Act 1996) but not parental responsibility: the letter goes to the first
    # contact rather than being refused.
    with db.factory() as session:
        links = session.scalars(
            select(PupilContact).where(PupilContact.pupil_id == db.world.pupil_oak)
        ).all()
        for link in links:
            link.parental_responsibility = False
        [first, second] = sorted(links, key=lambda link: link.contact_id)
        first.priority, second.priority = 1, 2
        session.commit()
        carer = first.contact_id
    case_id = open_at_school(context, db)
    [letter] = sent(context, db, case_id, "first_day_absence")
    assert letter.contact_id == carer


def test_email_where_the_parent_has_one_else_print(context, db):
    change_contact(db, "Evan", email=None)
    case_id = open_at_school(context, db)
    dana, evan = sent(context, db, case_id, "concern_letter", FIGURES)
    assert (dana.delivery, evan.delivery) == (EMAIL, PRINT)
    assert evan.outbox_message_id is None
    with db.factory() as session:
        message = session.get(OutboxMessage, dana.outbox_message_id)
        assert message.to_address == "dana@example.org"
        assert message.case_id == case_id
        assert message.recipient_contact_id == dana.contact_id
        assert message.key == f"letter.{dana.reference}"
        assert message.attachments == [{"attachment_id": dana.attachment_id}]
        assert dana.reference in message.subject
        # The covering email as the parent gets it: no account links, why it was sent.
        golden("letter_to_parent", message)
        pdf = session.get(Attachment, dana.attachment_id)
        assert pdf.case_id == case_id and pdf.media_type == "application/pdf"
        assert pdf.content.startswith(b"%PDF")
        assert pdf.sha256 == hashlib.sha256(pdf.content).hexdigest()
        reader = PdfReader(io.BytesIO(pdf.content))
        assert len(reader.pages) == dana.pages
        assert f"Reference {dana.reference}" in reader.pages[0].extract_text()
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
        events = session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id == case_id, CaseEvent.kind == EventKind.LETTER_SENT)
            .order_by(CaseEvent.sequence)
        ).all()
    assert [(e.data["exhibit"], e.data["delivery"]) for e in events] == [(1, EMAIL), (2, PRINT)]
    assert "exhibit 1" in events[0].reason and "emailed" in events[0].reason
    assert "queued for printing" in events[1].reason
    assert events[0].data["sha256"] == pdf.sha256


def test_exhibits_are_numbered_in_order_on_each_case(context, db):
    case_id = open_at_school(context, db)
    sent(context, db, case_id, "first_day_absence")
    sent(context, db, case_id, "attendance_concern_meeting", {**MEETING, **FIGURES})
    with db.factory() as session:
        rows = session.scalars(select(Letter).where(Letter.case_id == case_id).order_by(Letter.id))
        assert [(r.exhibit_number, r.kind) for r in rows] == [
            (1, "first_day_absence"),
            (2, "first_day_absence"),
            (3, "attendance_concern_meeting"),
            (4, "attendance_concern_meeting"),
        ]


def test_a_missing_field_refuses_the_letter_and_writes_nothing(context, db, monkeypatch):
    case_id = open_at_school(context, db)
    before = counts(db)

    ctx = context("oak_lead")
    with pytest.raises(InvalidInput) as refused:
        send_letter(ctx, case_id, "attendance_concern_meeting", extra=FIGURES)
    assert {p.field for p in refused.value.problems} == {
        "extra.meeting_date",
        "extra.meeting_time",
        "extra.meeting_place",
    }
    ctx.session.rollback()

    # A field the template needs but the data lacks (StrictUndefined), found after the data
    # was gathered: still nothing written, not even the first parent's letter.
    builder = letters_service.BUILDERS["first_day_absence"]

    def without_the_date(ctx, case, given):
        data, linked = builder(ctx, case, given)
        data.pop("absence_date")
        return data, linked

    monkeypatch.setitem(letters_service.BUILDERS, "first_day_absence", without_the_date)
    ctx = context("oak_lead")
    with pytest.raises(InvalidInput) as refused:
        send_letter(ctx, case_id, "first_day_absence")
    assert refused.value.problems[0].field == "absence_date"
    ctx.commit()  # what was (not) written, kept
    assert counts(db) == before


def test_no_parent_with_parental_responsibility_is_named(context, db):
    ctx = context("hill_lead")
    case = open_case(ctx, OpenCase(db.world.pupil_hill, db.world.hillcrest, reason="below 90%"))
    with pytest.raises(InvalidInput) as refused:
        send_letter(ctx, case.id, "first_day_absence")
    assert refused.value.problems[0].field == "parents"


def test_school_staff_send_school_letters_only(context, db):
    case_id = open_at_school(context, db)
    ctx = context("oak_lead")
    contract = {"parent_commitments": ["On time"], "support_commitments": ["Check-ins"]}
    with pytest.raises(Forbidden):
        request_letter(ctx, case_id, "attendance_contract", contract)
    for kind in ("notice_to_improve", "penalty_notice"):
        with pytest.raises(Forbidden, match="own action"):
            request_letter(context("manager"), case_id, kind)


def test_letters_are_append_only(context, db):
    case_id = open_at_school(context, db)
    letter, _ = sent(context, db, case_id, "first_day_absence")
    for sql in (
        f"UPDATE letter SET delivery = 'print' WHERE id = {letter.id}",
        f"DELETE FROM letter WHERE id = {letter.id}",
    ):
        with db.engine.connect() as conn, pytest.raises(exc.DBAPIError, match="append-only"):
            conn.execute(text(sql))


# --- every kind, through the service -------------------------------------------------------------


def _record(ctx, case_id, kind, on, **fields):
    return record_intervention(
        ctx,
        case_id,
        RecordIntervention(kind=kind, occurred_on=on, summary=f"{kind} on {on}", **fields),
    )


def o_sessions() -> list[ListedSession]:
    """AM and PM of Mon 4 - Fri 8 Nov 2024, all O: the national threshold."""
    return [
        ListedSession(date(2024, 11, 4) + timedelta(days=d), half, "O")
        for d in range(5)
        for half in ("AM", "PM")
    ]


def lay_registers(context, db) -> None:
    """Oakfield's register for Amelia: O for the week of 4 Nov 2024, present from 11 to 19 Nov."""
    ctx = context("oak_lead")
    present = [
        (date(2024, 11, 11) + timedelta(days=d), half, "/")
        for d in range(9)
        if (date(2024, 11, 11) + timedelta(days=d)).weekday() < 5
        for half in ("AM", "PM")
    ]
    record_marks(
        ctx.session,
        pupil_id=db.world.pupil_oak,
        school_id=db.world.oakfield,
        marks=[(s.day, s.session, s.code) for s in o_sessions()] + present,
        by=Recorder(ctx.actor.id, ctx.actor.full_name, ctx.actor.position),
        reason=None,
        source="manual",
        at=ctx.now(),
    )
    ctx.commit()


def formal_case(context, db) -> int:
    """A case held by the statutory officer at Formalise support, with support recorded
    (an AIM with its plan, not engaged with; an Early Help assessment declined)."""
    ctx = context("manager")
    case = open_case(
        ctx,
        OpenCase(
            db.world.pupil_oak,
            db.world.oakfield,
            CaseKind.IRREGULAR_ATTENDANCE,
            Stage.MONITOR,
            "attendance 84%",
            owner_id=db.world.users["statutory"],
        ),
    )
    ctx.commit()
    ctx = context("statutory")
    _record(
        ctx,
        case.id,
        "early_help_assessment",
        date(2024, 10, 1),
        family_engaged=Engagement.DECLINED.value,
        outcome=InterventionOutcome.DECLINED.value,
    )
    _record(
        ctx,
        case.id,
        "attendance_improvement_meeting",
        date(2024, 10, 23),
        family_engaged=Engagement.NOT_ENGAGED.value,
        details={"action_plan": "walking bus; morning check-in"},
    )
    ctx.commit()
    ctx = context("statutory")
    case = ctx.case(case.id)
    fire_trigger(
        ctx,
        case.id,
        FireTrigger(
            "advance_to_formalise_support",
            case.version,
            reason="support not engaged with",
            rationales={
                "skip_rationale": "known to the service already",
                "support_did_not_work": "AIM actions not engaged with",
            },
        ),
    )
    ctx.commit()
    return case.id


def issue_notice_to_improve(context, case_id) -> None:
    ctx = context("statutory")
    case = ctx.case(case_id)
    fire_trigger(
        ctx,
        case_id,
        FireTrigger(
            "issue_notice_to_improve",
            case.version,
            reason="final opportunity to engage",
            sessions=o_sessions(),
        ),
    )
    ctx.commit()


def test_issuing_a_notice_to_improve_sends_one_letter_per_parent_as_exhibits(context, db):
    case_id = formal_case(context, db)
    issue_notice_to_improve(context, case_id)
    with db.factory() as session:
        letters = session.scalars(
            select(Letter).where(Letter.case_id == case_id).order_by(Letter.exhibit_number)
        ).all()
        notice = session.scalars(
            select(Intervention).where(
                Intervention.case_id == case_id, Intervention.kind == "notice_to_improve"
            )
        ).one()
        events = session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.sequence)
        ).all()
        messages = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        pdfs = {a.id: a for a in session.scalars(select(Attachment))}
    assert [(x.kind, x.exhibit_number, x.delivery) for x in letters] == [
        ("notice_to_improve", 1, EMAIL),
        ("notice_to_improve", 2, EMAIL),
    ]
    assert {x.data["recipient"]["name"] for x in letters} == {"Ms Dana Ashdown", "Mr Evan Ashdown"}
    assert all(x.intervention_id == notice.id for x in letters)
    assert [e.kind for e in events[-3:]] == [
        EventKind.NOTICE_TO_IMPROVE_ISSUED,
        EventKind.LETTER_SENT,
        EventKind.LETTER_SENT,
    ]
    assert [m.attachments for m in messages] == [
        [{"attachment_id": x.attachment_id}] for x in letters
    ]
    for letter in letters:
        assert missing_elements(letter.html, KINDS["notice_to_improve"].required_elements) == []
        data = letter.data
        assert data["notice"]["expires_on"] == notice.details["expires_on"] == "2025-01-15"
        assert len(data["notice"]["sessions"]) == 10
        assert [s["what"] for s in data["declined"]] == [
            "An Early Help assessment",
            "An Attendance Improvement Meeting and action plan",
        ]
        assert data["sender"]["name"] == "Robin Hartley"  # Knowsley's (invented) signatory
        assert data["contact"]["name"] == "Statutory"  # the officer holding the case
        text = " ".join(
            p.extract_text()
            for p in PdfReader(io.BytesIO(pdfs[letter.attachment_id].content)).pages
        )
        assert "15 January 2025" in text and "section 7 of the Education Act 1996" in text


def test_every_kind_sends_with_the_shape_of_its_golden_sample(context, db):
    """Each letter the service makes renders complete, and its snapshot has the keys the
    golden sample has (so the golden files test what the service really sends)."""
    lay_registers(context, db)
    case_id = formal_case(context, db)
    issue_notice_to_improve(context, case_id)
    extras = {
        "first_day_absence": {},
        "concern_letter": {},  # the registers are held: their figures are quoted
        "attendance_concern_meeting": MEETING,
        "aim_invitation": {**MEETING, "attendees": ["Traded officer"]},
        "aim_action_plan": {"target": "95% each week"},
        "attendance_contract": {
            "parent_commitments": ["Amelia on time every day"],
            "support_commitments": ["A weekly check-in"],
        },
        "penalty_notice_warning": {
            "sessions": [
                {"date": s.day.isoformat(), "session": s.session, "code": s.code}
                for s in o_sessions()
            ]
        },
    }
    for kind, extra in extras.items():
        made = sent(context, db, case_id, kind, extra, by="statutory")
        assert len(made) == 2, kind
        for letter in made:
            assert missing_elements(letter.html, KINDS[kind].required_elements) == [], kind
            assert letter.pages >= 1
        assert shape(made[0].data) == shape(SAMPLES[kind]), kind
    with db.factory() as session:
        nti = session.scalars(select(Letter).where(Letter.kind == "notice_to_improve")).first()
        concern = session.scalars(select(Letter).where(Letter.kind == "concern_letter")).first()
    assert shape(nti.data) == shape(SAMPLES["notice_to_improve"])
    # 24 possible sessions laid, 14 attended: 58.3 %; 10 missed since 1 September.
    assert concern.data["attendance"]["percent"] == 58.3
    assert concern.data["attendance"]["sessions_missed"] == 10
    assert "58.3%" in concern.html

    ctx = context("statutory")
    with pytest.raises(InvalidInput) as refused:
        send_letter(ctx, case_id, "concern_letter", extra=FIGURES)
    assert refused.value.problems[0].field == "extra.attendance_percent"
