"""Court packs through the service and the API, on SQLite and PostgreSQL (issue 7).

The synthetic world is Knowsley (LA 340); Amelia Ashdown is at Oakfield and both Ashdown parents
hold parental responsibility. Dates are Knowsley 2024/25: autumn term Mon 2 Sep - Fri 20 Dec 2024
(half term 28 Oct - 1 Nov), spring term from Mon 6 Jan 2025.

The case built to be complete: O (unauthorised) for the whole week of Mon 4 Nov 2024 and the
week of Mon 13 Jan 2025, present every other school day from Mon 11 Nov (7 weeks: 90 possible
sessions in the offence period, 20 unauthorised, 70 attended); an Early Help assessment declined,
an AIM not engaged with, a home visit and an attendance contract; Formalise support, a Notice to
Improve (two letters, EX1 and EX2; it expires Wed 15 Jan 2025) not improved; manager approval,
Enforce, an ESO considered and an interview under caution; the tests met and the panel's decision
to prosecute. The offence period is Mon 4 Nov 2024 - Fri 17 Jan 2025 (today Mon 20 Jan 2025), so
the 6-month limit passes on 17 July 2025.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from casework.errors import Forbidden, InvalidInput, NotFound
from casework.models import (
    Attachment,
    CaseEvent,
    Contact,
    Deadline,
    Intervention,
    PupilContact,
)
from casework.models.letters import Letter
from casework.models.packs import CourtPack
from casework.registers.store import Recorder, record_marks
from casework.vocabulary import CaseKind, Engagement, EventKind, InterventionOutcome, Stage
from workflows.approvals import decide_approval, request_approval
from workflows.attachments import AddAttachment, add_attachment
from workflows.cases import FireTrigger, OpenCase, fire_trigger, open_case
from workflows.context import Context
from workflows.facts import ListedSession
from workflows.interventions import (
    RecordIntervention,
    RecordOutcome,
    record_intervention,
    record_outcome,
)
from workflows.packs.bundle import build_bundle
from workflows.packs.completeness import EVIDENTIAL_QUESTIONS, PUBLIC_INTEREST_QUESTIONS
from workflows.packs.content import PACK_EVENTS, chronology_rows, exhibits_of, read_record
from workflows.packs.service import (
    Answers,
    PackInput,
    build_pack,
    check_pack,
    document_for,
    download,
    packs_of,
    record_tests,
    request_from,
    sign_off,
)

NOV_4 = date(2024, 11, 4)
NOV_11 = date(2024, 11, 11)
JAN_13 = date(2025, 1, 13)
TODAY = date(2025, 1, 20)
PERIOD = (NOV_4, date(2025, 1, 17))
COURT = "Example Magistrates' Court"


def at(clock, day: date) -> None:
    clock.set(datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC))


@contextmanager
def acting(context, username: str) -> Iterator[Context]:
    ctx = context(username)
    try:
        yield ctx
    except BaseException:
        ctx.session.rollback()
        raise
    ctx.commit()


def week(monday: date, code: str) -> list[ListedSession]:
    return [
        ListedSession(monday + timedelta(days=d), half, code)
        for d in range(5)
        for half in ("AM", "PM")
    ]


def lay(context, db, sessions: list[ListedSession]) -> None:
    with acting(context, "oak_lead") as ctx:
        record_marks(
            ctx.session,
            pupil_id=db.world.pupil_oak,
            school_id=db.world.oakfield,
            marks=[(s.day, s.session, s.code) for s in sessions],
            by=Recorder(ctx.actor.id, ctx.actor.full_name, ctx.actor.position),
            reason=None,
            source="manual",
            at=ctx.now(),
        )


def record(ctx, case_id, kind, on, **fields) -> Intervention:
    return record_intervention(
        ctx,
        case_id,
        RecordIntervention(kind=kind, occurred_on=on, summary=f"{kind} on {on}", **fields),
    )


def fire(context, case_id, trigger, by="statutory", **fields) -> None:
    with acting(context, by) as ctx:
        case = ctx.case(case_id)
        fire_trigger(ctx, case_id, FireTrigger(trigger, case.version, **fields))


def open_monitor_case(context, db) -> int:
    """A case on Amelia at Oakfield held by the statutory officer, at Monitor, nothing else."""
    with acting(context, "manager") as ctx:
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
    return case.id


def enforce_case(context, db, clock) -> int:
    """The complete case described in the module docstring, at Enforce, today 20 Jan 2025."""
    at(clock, date(2024, 11, 20))
    lay(context, db, week(NOV_4, "O") + week(NOV_11, "/"))
    case_id = open_monitor_case(context, db)
    with acting(context, "statutory") as ctx:
        record(
            ctx,
            case_id,
            "early_help_assessment",
            date(2024, 10, 1),
            family_engaged=Engagement.DECLINED.value,
            outcome=InterventionOutcome.DECLINED.value,
        )
        record(
            ctx,
            case_id,
            "attendance_improvement_meeting",
            date(2024, 10, 23),
            family_engaged=Engagement.NOT_ENGAGED.value,
            details={"action_plan": "walking bus; morning check-in"},
        )
        record(ctx, case_id, "home_visit", date(2024, 11, 6), family_engaged="engaged")
        record(
            ctx,
            case_id,
            "attendance_contract",
            date(2024, 11, 7),
            family_engaged=Engagement.NOT_ENGAGED.value,
            outcome=InterventionOutcome.NOT_IMPROVED.value,
        )
    fire(
        context,
        case_id,
        "advance_to_formalise_support",
        reason="support not engaged with",
        rationales={
            "skip_rationale": "known to the service already",
            "support_did_not_work": "AIM actions not engaged with",
        },
    )
    fire(
        context,
        case_id,
        "issue_notice_to_improve",
        reason="final opportunity to engage",
        sessions=week(NOV_4, "O"),
    )
    at(clock, TODAY)
    present = [NOV_11 + timedelta(weeks=n) for n in range(1, 6)] + [date(2025, 1, 6)]
    lay(context, db, [s for monday in present for s in week(monday, "/")] + week(JAN_13, "O"))
    with acting(context, "statutory") as ctx:
        notice = ctx.session.scalars(
            select(Intervention).where(
                Intervention.case_id == case_id, Intervention.kind == "notice_to_improve"
            )
        ).one()
        record_outcome(
            ctx,
            case_id,
            notice.id,
            RecordOutcome("not_improved", note="a further week of unauthorised absence in January"),
        )
        approval = request_approval(ctx, case_id, "enforce", "Notice to Improve not complied with")
    with acting(context, "manager") as ctx:
        decide_approval(ctx, approval.id, True, "agreed")
    fire(context, case_id, "advance_to_enforce", reason="NtI expired, not improved")
    with acting(context, "statutory") as ctx:
        eso = record(
            ctx,
            case_id,
            "education_supervision_order_consideration",
            date(2025, 1, 20),
            outcome=InterventionOutcome.COMPLETED.value,
            details={"decision": "not appropriate: parents refuse all support"},
        )
        record(
            ctx,
            case_id,
            "interview_under_caution",
            date(2025, 1, 20),
            attendees=["statutory officer", "parent"],
            details={"caution_given": "yes", "legal_advice_offered": "yes", "recorded": "audio"},
        )
        add_attachment(
            ctx,
            case_id,
            AddAttachment("eso-minutes.txt", "text/plain", b"ESO consideration minutes", eso.id),
        )
    record_the_tests(context, case_id)
    return case_id


def answers(questions) -> dict[str, str]:
    return {key: f"Yes: see the record ({key})" for key, _ in questions}


def record_the_tests(context, case_id, decision="prosecute", offence="s444(1)", period=PERIOD):
    with acting(context, "statutory") as ctx:
        record_tests(
            ctx,
            case_id,
            Answers(
                offence=offence,
                start=period[0],
                end=period[1],
                evidential=answers(
                    [q for q in EVIDENTIAL_QUESTIONS if q[0] != "knowledge" or offence != "s444(1)"]
                ),
                public_interest=answers(PUBLIC_INTEREST_QUESTIONS),
                evidential_met=True,
                public_interest_met=True,
                panel_decision=decision,
                panel_on=TODAY,
                panel_members="Attendance service manager; two legal services representatives",
                court=COURT,
            ),
        )


def given(**changes) -> PackInput:
    values = dict(start=PERIOD[0], end=PERIOD[1], offence="s444(1)", court=COURT)
    values.update(changes)
    return PackInput(**values)


def events(db, case_id: int) -> list[CaseEvent]:
    with db.factory() as session:
        return list(
            session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.sequence)
            )
        )


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


# --- the content --------------------------------------------------------------------------------


def test_a_complete_case_is_ready_and_its_content_matches_the_record(context, db, clock):
    case_id = enforce_case(context, db, clock)
    ctx = context("statutory")
    completeness = check_pack(ctx, case_id, given())
    assert completeness.blocking == ()
    assert completeness.warnings == ()
    assert completeness.limit == date(2025, 7, 17)
    # Recording the tests for the period started its 6-month limit as a clock on the case,
    # reminded 28 days ahead (calendar time: 19 June 2025).
    with db.factory() as session:
        [limit] = session.scalars(
            select(Deadline).where(
                Deadline.case_id == case_id, Deadline.kind == "prosecution_limit"
            )
        ).all()
    assert (limit.status, limit.due_on, limit.remind_on) == (
        "pending",
        date(2025, 7, 17),
        date(2025, 6, 19),
    )
    assert limit.details["subject"] == "charged_period"

    document = document_for(ctx, case_id, given())
    keys = [s.key for s in document.sections]
    assert keys == [
        "offence",
        "chronology",
        "attendance_certificate",
        "register_year_to_date",
        "register_previous_year",
        "graduated_response",
        "notice_to_improve",
        "penalty_notices",
        "attendance_contract",
        "interview_under_caution",
        "eso_consideration",
        "tests",
        "witness_statement",
        "exhibits",
    ]
    cover = dict(document.cover)
    assert cover["Court"] == COURT
    assert cover["Parent 1"].startswith("Ms Dana Ashdown") or cover["Parent 1"].startswith(
        "Mr Evan Ashdown"
    )
    assert "Parent 2" in cover
    assert cover["Information to be laid by"] == "17 July 2025"

    # The chronology is every case event (pack audit events aside), in date order.
    sections = {s.key: s for s in document.sections}
    [table] = [b for b in sections["chronology"].blocks if hasattr(b, "rows")]
    recorded = [e for e in events(db, case_id) if e.kind not in PACK_EVENTS]
    assert len(table.rows) == len(recorded)
    case = ctx.case(case_id)
    rows = chronology_rows(
        read_record(ctx, case, request_from(ctx, case, given())),
        exhibits_of(read_record(ctx, case, request_from(ctx, case, given()))),
    )
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)
    assert rows[0][0] == date(2024, 10, 1)  # the Early Help assessment, dated when it happened

    # The certificate's totals are the register's: 20 O sessions and 70 present in the period.
    [totals] = [b for b in sections["attendance_certificate"].blocks if hasattr(b, "rows")][1:2]
    facts = dict(totals.rows)
    assert facts["Possible sessions"] == "90"
    assert facts["Unauthorised absence"] == "20 (22.2 %)"
    assert facts["Sessions attended"] == "70 (77.8 %)"

    # Exhibits: the two Notice to Improve letters and the ESO minutes, in date order, each in
    # the exhibit list and referenced from the chronology.
    assert [(x.label, x.source.split()[0]) for x in document.exhibits] == [
        ("EX1", "letter"),
        ("EX2", "letter"),
        ("EX3", "attachment"),
    ]
    [listing] = sections["exhibits"].blocks
    assert [r[0] for r in listing.rows] == ["EX1", "EX2", "EX3"]
    referenced = {cell for row in table.rows for cell in row[-1].split(", ") if cell}
    assert referenced == {"EX1", "EX2", "EX3"}
    with db.factory() as session:
        letters = session.scalars(select(Letter).where(Letter.case_id == case_id)).all()
        pdfs = {a.sha256 for a in session.scalars(select(Attachment))}
    assert len(letters) == 2
    assert {x.sha256 for x in document.exhibits} <= pdfs


def test_the_same_record_gives_the_same_document_and_the_same_bytes(context, db, clock):
    case_id = enforce_case(context, db, clock)
    first = document_for(context("statutory"), case_id, given())
    second = document_for(context("statutory"), case_id, given())
    assert first == second
    one, two = build_bundle(first), build_bundle(second)
    assert (one.pdf, one.zip) == (two.pdf, two.zip)


def test_building_stores_the_pack_with_its_hash_and_records_it(context, db, clock):
    case_id = enforce_case(context, db, clock)
    with acting(context, "statutory") as ctx:
        pack = build_pack(ctx, case_id, given())
        pack_id = pack.id
    with db.factory() as session:
        pack = session.get(CourtPack, pack_id)
        assert pack.number == 1 and pack.reference.endswith("-P1")
        assert pack.pdf_sha256 == hashlib.sha256(pack.pdf).hexdigest()
        assert pack.zip_sha256 == hashlib.sha256(pack.zip).hexdigest()
        text = pdf_text(pack.pdf)
        archive = zipfile.ZipFile(io.BytesIO(pack.zip))
        names = archive.namelist()
        index = json.loads(archive.read("index.json"))
    # Every exhibit is in the machine-readable index and in the bundle's own list of exhibits.
    assert [x["label"] for x in index["exhibits"]] == ["EX1", "EX2", "EX3"]
    assert "exhibits" in [x["key"] for x in index["sections"]]
    assert all(f"Exhibit {label}" in text for label in ("EX1", "EX2", "EX3"))
    built = [e for e in events(db, case_id) if e.kind == EventKind.PACK_BUILT]
    assert [e.data["pdf_sha256"] for e in built] == [pack.pdf_sha256]
    assert pack.reference in text and "Chronology" in text
    assert "index.json" in names and len(names) == 2 + 3

    # Downloads are audit events; a second build is the next number.
    with acting(context, "statutory") as ctx:
        got = download(ctx, case_id, pack_id, "pdf")
        assert got.sha256 == pack.pdf_sha256
        download(ctx, case_id, pack_id, "zip")
    with acting(context, "manager") as ctx:
        second = build_pack(ctx, case_id, given())
        assert second.number == 2
    kinds = [e.kind for e in events(db, case_id)]
    assert kinds.count(EventKind.PACK_DOWNLOADED) == 2
    assert kinds.count(EventKind.PACK_BUILT) == 2


def test_laying_the_information_meets_the_six_month_limit(context, db, clock):
    case_id = enforce_case(context, db, clock)
    with acting(context, "statutory") as ctx:
        build_pack(ctx, case_id, given())  # records the tests: the limit's clock starts

    def limit_status() -> str:
        with db.factory() as session:
            [limit] = session.scalars(
                select(Deadline).where(
                    Deadline.case_id == case_id, Deadline.kind == "prosecution_limit"
                )
            ).all()
            return limit.status

    assert limit_status() == "pending"
    fire(context, case_id, "start_prosecution", reason="Information laid at the magistrates")
    # Nothing is left to warn about: no reminder, no "passed" escalation months later.
    assert limit_status() == "cancelled"
    [started] = [e for e in events(db, case_id) if e.kind == EventKind.PROSECUTION_STARTED]
    assert [c["kind"] for c in started.data["clocks"]["stopped"]] == ["prosecution_limit"]


def test_sign_off_by_the_officer_then_the_manager(context, db, clock):
    case_id = enforce_case(context, db, clock)
    with acting(context, "statutory") as ctx:
        pack_id = build_pack(ctx, case_id, given()).id
    with pytest.raises(InvalidInput) as refused, acting(context, "manager") as ctx:
        sign_off(ctx, case_id, pack_id)
    assert "before the manager" in str(refused.value)
    with acting(context, "statutory") as ctx:
        sign_off(ctx, case_id, pack_id, "checked against the file")
    with pytest.raises(InvalidInput), acting(context, "statutory") as ctx:
        sign_off(ctx, case_id, pack_id)
    with acting(context, "manager") as ctx:
        sign_off(ctx, case_id, pack_id)
    [view] = packs_of(context("manager"), case_id)
    assert [s.role for s in view.sign_offs] == ["statutory_officer", "la_manager"]


# --- completeness on cases built to lack things ---------------------------------------------------


def test_a_bare_case_names_each_missing_item(context, db, clock):
    at(clock, date(2024, 11, 20))
    lay(context, db, week(NOV_4, "O"))
    case_id = open_monitor_case(context, db)
    completeness = check_pack(
        context("statutory"), case_id, given(start=NOV_4, end=date(2024, 11, 8))
    )
    blocking = {b.key: b.text for b in completeness.blocking}
    warnings = {w.key: w.text for w in completeness.warnings}
    assert blocking == {
        "stage": "the case is at Monitor: a pre-court pack is built at Enforce",
        "support": "no support offered to the family is recorded",
        "attendance_contract": "no attendance contract and no rationale recorded",
        "notice_to_improve": "no Notice to Improve and no rationale for none recorded",
        "eso": "no consideration of an education supervision order is recorded (s447 Education "
        "Act 1996)",
        "tests": "the evidential and public-interest tests are not recorded",
    }
    assert warnings == {
        "meeting": "no home visit or meeting recorded",
        "letters": "no letter to the parents is recorded",
        "early_help": "no Early Help assessment offered or considered is recorded",
        "interview": "no interview under caution and no reason for none recorded",
    }
    with pytest.raises(InvalidInput) as refused, acting(context, "statutory") as ctx:
        build_pack(ctx, case_id, given(start=NOV_4, end=date(2024, 11, 8)))
    problems = {(p.field, p.value) for p in refused.value.problems}
    assert ("completeness", "eso") in problems and ("acknowledged", "meeting") in problems


def test_no_unauthorised_absence_and_the_panel_against_are_blocking(context, db, clock):
    case_id = enforce_case(context, db, clock)
    period = (NOV_11, date(2024, 11, 15))  # the present week only
    record_the_tests(context, case_id, decision="further_support", period=period)
    completeness = check_pack(context("statutory"), case_id, given(start=period[0], end=period[1]))
    assert {b.key: b.text for b in completeness.blocking} == {
        "unauthorised": "no unauthorised absence is recorded in the offence period (only "
        "unauthorised absence is evidence)",
        "panel": "the pre-proceedings panel decided: further support is required",
    }


def test_the_limit_nearing_is_a_warning_to_acknowledge(context, db, clock):
    case_id = enforce_case(context, db, clock)
    at(clock, date(2025, 3, 20))  # 119 days before 17 July: no warning yet
    assert check_pack(context("statutory"), case_id, given()).warnings == ()
    at(clock, date(2025, 6, 1))
    completeness = check_pack(context("statutory"), case_id, given())
    assert [w.text for w in completeness.warnings] == [
        "the 6-month limit for this period passes on 17 July 2025"
    ]
    with pytest.raises(InvalidInput), acting(context, "statutory") as ctx:
        build_pack(ctx, case_id, given())
    with acting(context, "statutory") as ctx:
        pack = build_pack(ctx, case_id, given(), acknowledged=["time_limit"])
        assert pack.warnings_acknowledged == [
            "the 6-month limit for this period passes on 17 July 2025"
        ]


def test_s444_1a_needs_an_interview_or_a_reason_and_its_own_tests(context, db, clock):
    case_id = enforce_case(context, db, clock)
    completeness = check_pack(context("statutory"), case_id, given(offence="s444(1A)"))
    assert [b.key for b in completeness.blocking] == ["tests"]
    record_the_tests(context, case_id, offence="s444(1A)")
    assert check_pack(context("statutory"), case_id, given(offence="s444(1A)")).ready


# --- the educational-neglect route --------------------------------------------------------------


def test_the_educational_neglect_referral(context, db, clock):
    case_id = enforce_case(context, db, clock)
    # The week of 13 Jan: attendance 0 of 10 sessions, support declined: ready.
    neglect = given(route="educational_neglect", court="", start=JAN_13, end=date(2025, 1, 17))
    completeness = check_pack(context("statutory"), case_id, neglect)
    assert completeness.blocking == ()
    document = document_for(context("statutory"), case_id, neglect)
    assert [s.key for s in document.sections][:5] == [
        "referral",
        "attendance_certificate",
        "register_year_to_date",
        "engagement_history",
        "support_refused",
    ]
    # The whole offence period: 70 of 90 (77.8 %), above 75 %.
    over = check_pack(context("statutory"), case_id, given(route="educational_neglect"))
    assert [b.text for b in over.blocking] == [
        "attendance in the period is 77.8 %, above the 75 % at or below which educational "
        "neglect is referred"
    ]


# --- who may ------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["oak_lead", "traded"])
def test_only_officers_and_managers(context, db, clock, username):
    case_id = enforce_case(context, db, clock)
    with pytest.raises(Forbidden):
        check_pack(context(username), case_id, given())
    with pytest.raises(Forbidden):
        build_pack(context(username), case_id, given())


def test_out_of_scope_is_not_found(context, db, clock):
    case_id = enforce_case(context, db, clock)
    with pytest.raises(NotFound):
        check_pack(context("hill_lead"), case_id, given())
    with pytest.raises(NotFound):
        download(context("statutory"), case_id, 999999, "pdf")


def test_a_parent_not_the_pupils_is_refused(context, db, clock):
    case_id = enforce_case(context, db, clock)
    with db.factory() as session:
        stranger = Contact(
            forename="Other", surname="Person", address_line1="2 Road", town="T", postcode="L00 0BB"
        )
        session.add(stranger)
        session.commit()
        stranger_id = stranger.id
        mine = session.scalars(
            select(PupilContact.contact_id).where(PupilContact.pupil_id == db.world.pupil_oak)
        ).all()
    with pytest.raises(InvalidInput) as refused:
        check_pack(context("statutory"), case_id, given(contact_ids=[mine[0], stranger_id]))
    assert refused.value.problems[0].field == "contact_ids"


# --- the API ------------------------------------------------------------------------------------


def test_the_api_checks_builds_lists_downloads_and_signs_off(context, db, clock, client_as):
    case_id = enforce_case(context, db, clock)
    body = {"start": "2024-11-04", "end": "2025-01-17", "offence": "s444(1)", "court": COURT}
    officer = client_as("statutory")
    checked = officer.post(f"/api/cases/{case_id}/packs/check", json=body)
    assert checked.status_code == 200, checked.text
    assert checked.json()["ready"] is True
    refused = officer.post(
        f"/api/cases/{case_id}/packs", json={**body, "start": "2024-11-11", "end": "2024-11-15"}
    )
    assert refused.status_code == 422, refused.text
    assert "only unauthorised absence is evidence" in refused.text
    built = officer.post(f"/api/cases/{case_id}/packs", json={**body, "acknowledged": []})
    assert built.status_code == 201, built.text
    pack = built.json()
    listed = officer.get(f"/api/cases/{case_id}/packs").json()
    assert [p["id"] for p in listed] == [pack["id"]]
    pdf = officer.get(f"/api/cases/{case_id}/packs/{pack['id']}/pdf")
    assert pdf.status_code == 200
    assert hashlib.sha256(pdf.content).hexdigest() == pack["pdf_sha256"]
    assert officer.get(f"/api/cases/{case_id}/packs/{pack['id']}/zip").status_code == 200
    signed = officer.post(f"/api/cases/{case_id}/packs/{pack['id']}/sign-off", json={})
    assert signed.status_code == 201, signed.text

    school = client_as("oak_lead")
    assert school.post(f"/api/cases/{case_id}/packs/check", json=body).status_code == 403
    assert school.get(f"/api/cases/{case_id}/packs/{pack['id']}/pdf").status_code == 403
    other = client_as("hill_lead")
    assert other.get(f"/api/cases/{case_id}/packs").status_code == 404

    page = officer.get(f"/cases/{case_id}/pack")
    assert page.status_code == 200, page.text
    assert pack["reference"] in page.text


# --- the demo -----------------------------------------------------------------------------------


def test_a_demo_enforce_case_builds_its_pack_in_one_step(tmp_path):
    """The small demo (as in test_demo) leaves one Enforce case with its tests and panel
    recorded: the statutory officer builds its pack for the period the page offers."""
    from api.demo import seed_demo
    from casework.clock import FixedClock
    from casework.db import make_engine, make_session_factory
    from casework.migrate import upgrade
    from casework.models import User

    today = date(2026, 11, 23)
    engine = make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    try:
        upgrade(engine)
        factory = make_session_factory(engine)
        seed_demo(factory, schools=6, pupils=400, seed=7, today=today)
        with factory() as session:
            ready = session.scalars(
                select(CaseEvent).where(CaseEvent.kind == EventKind.PACK_TESTS_RECORDED)
            ).all()
            assert len(ready) == 1
            case_id = ready[0].case_id
            tests = ready[0].data
            officer = session.scalars(select(User).where(User.username == "statutory")).one()
            ctx = Context.build(
                session, officer, FixedClock(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
            )
            given = PackInput(
                date.fromisoformat(tests["start"]),
                date.fromisoformat(tests["end"]),
                tests["offence"],
                tests["court"],
            )
            found = check_pack(ctx, case_id, given)
            assert found.blocking == ()
            pack = build_pack(ctx, case_id, given, [w.key for w in found.warnings])
            session.commit()
            assert pack.pages > 5
            assert "Chronology" in pdf_text(pack.pdf)
    finally:
        engine.dispose()


def test_the_page_builds_in_one_step_and_shows_refusals(context, db, clock, client_as):
    case_id = enforce_case(context, db, clock)
    officer = client_as("statutory")
    page = officer.get(f"/cases/{case_id}/pack")
    assert page.status_code == 200, page.text
    # The period and court come from the tests as recorded: nothing blocks.
    assert "Nothing blocks the pack." in page.text
    assert 'value="2024-11-04"' in page.text and COURT.replace("'", "&#39;") in page.text
    form = {"start": "2024-11-04", "end": "2025-01-17", "offence": "s444(1)", "court": COURT}
    built = officer.post(f"/cases/{case_id}/pack/build", data=form, follow_redirects=False)
    assert built.status_code == 303, built.text
    shown = officer.get(built.headers["location"])
    assert "The pack is built." in shown.text and "-P1" in shown.text

    missing = officer.post(
        f"/cases/{case_id}/pack/tests", data={**form, "ev_parent": "yes"}, follow_redirects=False
    )
    assert missing.status_code == 422
    assert "There is a problem" in missing.text and 'href="#ev_registered_pupil"' in missing.text

    assert client_as("oak_lead").get(f"/cases/{case_id}/pack").status_code == 403
    assert client_as("hill_lead").get(f"/cases/{case_id}/pack").status_code == 404


def test_the_case_page_leads_officers_to_the_pack_and_hides_it_from_others(
    context, db, clock, client_as
):
    case_id = enforce_case(context, db, clock)
    officer = client_as("statutory")
    before = officer.get(f"/cases/{case_id}")
    assert "No court pack has been built for this case." in before.text
    assert f'href="/cases/{case_id}/pack"' in before.text
    with acting(context, "statutory") as ctx:
        pack = build_pack(ctx, case_id, given())
    after = officer.get(f"/cases/{case_id}")
    assert f"the latest is {pack.reference}" in after.text
    school = client_as("oak_lead").get(f"/cases/{case_id}")
    # The school sees its case (the chronology says a pack was built: it is the witness) but
    # not the pack's section or a way to it.
    assert school.status_code == 200
    assert 'id="court-pack"' not in school.text and f"/cases/{case_id}/pack" not in school.text
