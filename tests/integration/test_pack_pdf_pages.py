"""Court packs read back page by page (issue 7, Tests): the PDF a statutory officer downloads is
checked against the case record it was built from, with text extracted by pypdf.

- the index's page numbers land on the page whose title (a section) or stamp (an exhibit) is that
  entry, and every page carries the reference and "Page x of y";
- the chronology pages hold every case event of the record (pack audit events aside), each with
  its date and the start of its text, in date order;
- the attendance certificate's printed totals equal totals counted here from the register marks
  for the offence period;
- every exhibit of the record is in the index, and its label is stamped on each of its pages;
- the completeness check names each missing item on cases built to lack them, and a warning
  accepted at build is printed on the cover;
- the same case built twice gives the same PDF and ZIP bytes.

The demo (seeded once for the module, on SQLite) supplies a realistic Enforce case; the Knowsley
case of ``test_packs`` supplies the cases built to lack things, and one run on PostgreSQL.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.clock import FixedClock
from casework.models import Attachment, Case, CaseEvent, Intervention, User
from casework.registers.codes import ATTENDANCE_CLASSES, StatClass, classify
from casework.registers.store import register_extract
from casework.vocabulary import Engagement, EventKind, InterventionOutcome
from tests.integration.test_packs import (
    COURT,
    JAN_13,
    NOV_4,
    NOV_11,
    PERIOD,
    TODAY,
    acting,
    at,
    enforce_case,
    fire,
    given,
    lay,
    open_monitor_case,
    record,
    record_the_tests,
    week,
)
from workflows.approvals import decide_approval, request_approval
from workflows.context import Context
from workflows.interventions import RecordOutcome, record_outcome
from workflows.packs.bundle import Bundle, build_bundle
from workflows.packs.content import PACK_EVENTS
from workflows.packs.service import PackInput, build_pack, check_pack, document_for

UK = ZoneInfo("Europe/London")
DEMO_TODAY = date(2026, 11, 23)
ON_EVERY_PAGE = "the pack's reference and 'Page x of y'"


# --- reading a built pack ------------------------------------------------------------------------


def flat(text: str) -> str:
    """Text with every run of white space one space: a cell wrapped over lines reads as one."""
    return " ".join(text.split())


def short(day: date) -> str:
    return f"{day.day} {day.strftime('%b %Y')}"


def long(day: date) -> str:
    return f"{day.day} {day.strftime('%B %Y')}"


@dataclass(frozen=True)
class Built:
    """A pack as built from the record, and the record read independently of the pack code."""

    case_id: int
    pupil_id: int
    school_id: int
    start: date
    end: date
    bundle: Bundle
    pages: tuple[str, ...]
    # (date it happened, sequence, text) of every case event the chronology must show.
    events: tuple[tuple[date, int, str], ...]
    # (day, session, code) of every register mark in the offence period.
    marks: tuple[tuple[date, str, str], ...]
    # sha256 of every document the case holds (letters' PDFs and other attachments).
    documents: frozenset[str]


def read_back(session: Session, case_id: int, start: date, end: date, bundle: Bundle) -> Built:
    case = session.get(Case, case_id)
    assert case is not None
    rows = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.sequence)
    ).all()
    events = []
    for event in rows:
        if event.kind in PACK_EVENTS:
            continue
        data = event.data or {}
        # An intervention is dated the day it took place; anything else the (UK) day recorded.
        if data.get("occurred_on"):
            on = date.fromisoformat(data["occurred_on"])
        else:
            on = event.occurred_at.astimezone(UK).date()
        events.append((on, event.sequence, event.reason or ""))
    marks = register_extract(session, case.pupil_id, case.school_id, start, end)
    documents = frozenset(
        a.sha256.lower()
        for a in session.scalars(select(Attachment).where(Attachment.case_id == case_id))
    )
    pages = tuple(page.extract_text() for page in PdfReader(io.BytesIO(bundle.pdf)).pages)
    return Built(
        case_id,
        case.pupil_id,
        case.school_id,
        start,
        end,
        bundle,
        pages,
        tuple(sorted(events)),
        tuple(marks),
        documents,
    )


def span_pages(built: Built, entry: dict) -> list[str]:
    first = entry["start_page"] - 1
    return list(built.pages[first : first + entry["page_count"]])


def section(built: Built, key: str) -> dict:
    return next(s for s in built.bundle.index["sections"] if s["key"] == key)


def front_text(built: Built) -> str:
    """The cover and index pages, flattened."""
    first = min(s["start_page"] for s in built.bundle.index["sections"])
    return flat("\n".join(built.pages[1 : first - 1]))


# --- the checks, shared by the demo and the PostgreSQL run ----------------------------------------


def check_headers(built: Built, reference: str) -> None:
    total = len(built.pages)
    assert built.bundle.pages == total == built.bundle.index["pdf"]["pages"]
    for number, text in enumerate(built.pages, start=1):
        assert reference in text, f"page {number} lacks {ON_EVERY_PAGE}"
        assert f"Page {number} of {total}" in text, f"page {number} lacks {ON_EVERY_PAGE}"


def stamped(text: str, label: str) -> bool:
    # \b so "Exhibit EX1" is not found on EX10's pages.
    return re.search(rf"Exhibit {label}\b", text) is not None


def check_index(built: Built) -> None:
    index = front_text(built)
    for number, entry in enumerate(built.bundle.index["sections"], start=1):
        title = entry["title"]
        printed = re.search(rf"\b{number} {re.escape(flat(title))} (\d+)\b", index)
        assert printed, f"the index does not list section {number} {title!r}"
        start = int(printed.group(1))
        assert start == entry["start_page"]
        # The page the index names opens with the section's title, and the page before it is
        # another section's (or the index).
        assert flat(built.pages[start - 1]).startswith(flat(title)), (title, start)
        assert not flat(built.pages[start - 2]).startswith(flat(title))
        # Every page of the section names it in the running header (drawn last on the page).
        for text in span_pages(built, entry):
            tail = [line.rstrip("…") for line in text.splitlines()[-3:]]
            assert any(line and title.startswith(line) for line in tail), (title, tail)
    for entry in built.bundle.index["exhibits"]:
        label = entry["label"]
        on = long(date.fromisoformat(entry["date"]))
        printed = re.search(rf"\b{label} {re.escape(flat(entry['title']))} {on} (\d+)\b", index)
        assert printed, f"the index does not list exhibit {label}"
        assert int(printed.group(1)) == entry["start_page"]
        # Its label is stamped on every one of its pages and not on the page before.
        for text in span_pages(built, entry):
            assert stamped(text, label), f"a page of {label} lacks its label"
        assert not stamped(built.pages[entry["start_page"] - 2], label)
    # Every document the case holds is an exhibit in the index, and the bundle's list of
    # exhibits names every label.
    assert {e["sha256"] for e in built.bundle.index["exhibits"]} == built.documents
    listing = flat("\n".join(span_pages(built, section(built, "exhibits"))))
    for entry in built.bundle.index["exhibits"]:
        assert re.search(rf"\b{entry['label']}\b", listing)


def bare(text: str) -> str:
    """Text with no white space at all: a narrow cell may wrap a long word anywhere
    ("public-in terest"), so rows are compared without it."""
    return re.sub(r"\s+", "", text)


def check_chronology(built: Built) -> None:
    text = bare("\n".join(span_pages(built, section(built, "chronology"))))
    assert built.events, "the record has no events"
    position = 0
    for on, sequence, reason in built.events:  # in date order, as recorded
        # The row's date, then (after the "What" column) the first words of its text. Rows are
        # never split across pages, so both are on one page. Searching on from the previous
        # row proves the order.
        snippet = re.escape(bare(reason)[:32])
        found = re.compile(rf"{re.escape(bare(short(on)))}.{{0,120}}?{snippet}").search(
            text, position
        )
        assert found, f"event {sequence} ({short(on)}: {reason[:40]!r}) is not in the chronology"
        position = found.end()


def printed_number(text: str, label: str) -> int:
    found = re.search(rf"{label} (\d+)\b", text)
    assert found, f"{label!r} is not printed"
    return int(found.group(1))


def check_certificate(built: Built) -> None:
    # Counted here from the marks: a possible session is any code that counts in the statistics.
    possible = unauthorised = attended = authorised = 0
    for day, _, code in built.marks:
        meaning = classify(code, on=day)
        if not meaning.possible_session:
            continue
        possible += 1
        if meaning.stat_class is StatClass.UNAUTHORISED_ABSENCE:
            unauthorised += 1
        elif meaning.stat_class is StatClass.AUTHORISED_ABSENCE:
            authorised += 1
        elif meaning.stat_class in ATTENDANCE_CLASSES:
            attended += 1
    assert possible, "the period should have register marks"
    text = flat("\n".join(span_pages(built, section(built, "attendance_certificate"))))
    assert printed_number(text, "Possible sessions") == possible
    assert printed_number(text, "Sessions attended") == attended
    assert printed_number(text, "Authorised absence") == authorised
    assert printed_number(text, "Unauthorised absence") == unauthorised
    assert f"Unauthorised absence {unauthorised} ({100 * unauthorised / possible:.1f} %)" in text
    assert long(built.start) in text and long(built.end) in text
    # Every unauthorised session is listed as relied on, each once.
    relied = text.split("Unauthorised absence relied on", 1)[1].split("Register for the period")[0]
    for day, session, code in built.marks:
        if classify(code, on=day).stat_class is StatClass.UNAUTHORISED_ABSENCE:
            assert f"{long(day)} {session} {code}" in relied, (day, session, code)
    assert relied.count(f" {'AM'} ") + relied.count(f" {'PM'} ") == unauthorised


def check_all(built: Built, reference: str) -> None:
    check_headers(built, reference)
    check_index(built)
    check_chronology(built)
    check_certificate(built)


# --- the demo, seeded once -----------------------------------------------------------------------


@dataclass(frozen=True)
class Demo:
    built: Built
    reference: str
    given: PackInput
    path: Path


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[Demo]:
    """The small demo (as in test_packs and test_demo): one Enforce case has its tests and
    panel recorded; the statutory officer builds its pack through the service."""
    from api.demo import seed_demo
    from casework.db import make_engine, make_session_factory
    from casework.migrate import upgrade

    path = tmp_path_factory.mktemp("pack-demo") / "demo.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
        factory = make_session_factory(engine)
        seed_demo(factory, schools=6, pupils=400, seed=7, today=DEMO_TODAY)
        with factory() as session:
            ready = session.scalars(
                select(CaseEvent).where(CaseEvent.kind == EventKind.PACK_TESTS_RECORDED)
            ).one()
            tests = ready.data
            asked = PackInput(
                date.fromisoformat(tests["start"]),
                date.fromisoformat(tests["end"]),
                tests["offence"],
                tests["court"],
            )
            ctx = demo_context(session)
            found = check_pack(ctx, ready.case_id, asked)
            assert found.blocking == ()
            pack = build_pack(ctx, ready.case_id, asked, [w.key for w in found.warnings])
            session.commit()
            bundle = Bundle(pack.pdf, pack.zip, pack.pages, index_of(pack.zip))
            built = read_back(session, ready.case_id, asked.start, asked.end, bundle)
            yield Demo(built, pack.reference, asked, path)
    finally:
        engine.dispose()


def demo_context(session: Session) -> Context:
    officer = session.scalars(select(User).where(User.username == "statutory")).one()
    return Context.build(session, officer, FixedClock(datetime(2026, 11, 23, 12, tzinfo=UTC)))


def index_of(archive: bytes) -> dict:
    import json
    import zipfile

    return json.loads(zipfile.ZipFile(io.BytesIO(archive)).read("index.json"))


def test_every_page_has_the_reference_and_page_x_of_y(demo):
    check_headers(demo.built, demo.reference)


def test_the_index_points_at_each_section_and_exhibit(demo):
    assert demo.built.bundle.index["exhibits"], "the demo case should have letters to exhibit"
    check_index(demo.built)


def test_the_chronology_holds_every_event_in_date_order(demo):
    check_chronology(demo.built)


def test_the_certificate_totals_are_the_registers(demo):
    # The demo makes ready the case with the most unauthorised absence in the period.
    assert any(
        classify(code, on=day).stat_class is StatClass.UNAUTHORISED_ABSENCE
        for day, _, code in demo.built.marks
    )
    check_certificate(demo.built)


def test_every_demo_enforce_case_reads_back_page_by_page(demo):
    """Not only the case made ready: every Enforce case of the demo (a term-time holiday case
    among them) gives a pack whose index, chronology and certificate match its record, for the
    same period."""
    from casework.db import make_engine, make_session_factory

    engine = make_engine(f"sqlite:///{demo.path}")
    try:
        with make_session_factory(engine)() as session:
            ids = session.scalars(
                select(Case.id).where(Case.stage == "enforce").order_by(Case.id)
            ).all()
            assert len(ids) >= 2
            for case_id in ids:
                document = document_for(demo_context(session), case_id, demo.given)
                bundle = build_bundle(document)
                built = read_back(session, case_id, demo.given.start, demo.given.end, bundle)
                check_all(built, document.reference)
    finally:
        engine.dispose()


def test_the_same_demo_case_twice_gives_the_same_bytes(demo):
    from casework.db import make_engine, make_session_factory

    engine = make_engine(f"sqlite:///{demo.path}")
    try:
        factory = make_session_factory(engine)
        bundles = []
        for _ in range(2):
            # Each read in its own session, as a rebuild months later would be.
            with factory() as session:
                document = document_for(demo_context(session), demo.built.case_id, demo.given)
            bundles.append(build_bundle(document))
    finally:
        engine.dispose()
    one, two = bundles
    assert (one.pdf, one.zip) == (two.pdf, two.zip)
    # And it is the pack that was built and hashed on the case: its audit event is not part of
    # the record the pack is made from.
    assert one.pdf_sha256 == demo.built.bundle.pdf_sha256
    assert one.zip_sha256 == demo.built.bundle.zip_sha256


# --- the Knowsley case of test_packs, on PostgreSQL -------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_the_enforce_case_page_by_page_on_postgresql(context, db, clock):
    case_id = enforce_case(context, db, clock)
    with acting(context, "statutory") as ctx:
        pack = build_pack(ctx, case_id, given())
        reference, pdf, archive, pages = pack.reference, pack.pdf, pack.zip, pack.pages
    bundle = Bundle(pdf, archive, pages, index_of(archive))
    with db.factory() as session:
        built = read_back(session, case_id, *PERIOD, bundle)
    check_all(built, reference)
    # The case of test_packs: 90 possible sessions, 20 unauthorised, three exhibits.
    assert len(built.marks) == 90
    assert [e["label"] for e in bundle.index["exhibits"]] == ["EX1", "EX2", "EX3"]
    again = build_bundle(document_for(context("statutory"), case_id, given()))
    assert (again.pdf, again.zip) == (pdf, archive)


# --- cases built to lack things (SQLite) ----------------------------------------------------------


def bare_enforce_case(
    context,
    db,
    clock,
    *,
    meetings: bool = True,
    contract: bool = True,
    rationale: str = "",
    eso: bool = True,
    interview: bool = True,
) -> int:
    """``enforce_case`` of test_packs, optionally without the home visit and AIM (``meetings``),
    the attendance contract (with ``rationale`` recorded for none when given), the education
    supervision order consideration or the interview under caution."""
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
        if meetings:
            record(ctx, case_id, "attendance_improvement_meeting", date(2024, 10, 23))
            record(ctx, case_id, "home_visit", date(2024, 11, 6), family_engaged="engaged")
        if contract:
            record(
                ctx,
                case_id,
                "attendance_contract",
                date(2024, 11, 7),
                family_engaged=Engagement.NOT_ENGAGED.value,
                outcome=InterventionOutcome.NOT_IMPROVED.value,
            )
    rationales = {
        "skip_rationale": "known to the service already",
        "support_did_not_work": "support not engaged with",
    }
    fire(
        context,
        case_id,
        "advance_to_formalise_support",
        reason="support not engaged with",
        rationales=rationales,
    )
    fire(context, case_id, "issue_notice_to_improve", reason="final", sessions=week(NOV_4, "O"))
    at(clock, TODAY)
    present = [NOV_11 + timedelta(weeks=n) for n in range(1, 6)] + [date(2025, 1, 6)]
    lay(context, db, [s for monday in present for s in week(monday, "/")] + week(JAN_13, "O"))
    with acting(context, "statutory") as ctx:
        notice = ctx.session.scalars(
            select(Intervention).where(
                Intervention.case_id == case_id, Intervention.kind == "notice_to_improve"
            )
        ).one()
        record_outcome(ctx, case_id, notice.id, RecordOutcome("not_improved", note="no better"))
        approval = request_approval(ctx, case_id, "enforce", "Notice to Improve not complied with")
    with acting(context, "manager") as ctx:
        decide_approval(ctx, approval.id, True, "agreed")
    if not contract and not rationale:
        # The case cannot move to Enforce without a contract or the reason for none: it stays
        # at Formalise support.
        return case_id
    fire(
        context,
        case_id,
        "advance_to_enforce",
        reason="NtI expired, not improved",
        rationales={"attendance_contract": rationale} if rationale else {},
    )
    with acting(context, "statutory") as ctx:
        if eso:
            record(
                ctx,
                case_id,
                "education_supervision_order_consideration",
                date(2025, 1, 20),
                outcome=InterventionOutcome.COMPLETED.value,
            )
        if interview:
            record(ctx, case_id, "interview_under_caution", date(2025, 1, 20))
    record_the_tests(context, case_id)
    return case_id


def built_pack(context, db, case_id: int, acknowledged: list[str]) -> Built:
    with acting(context, "statutory") as ctx:
        pack = build_pack(ctx, case_id, given(), acknowledged)
        bundle = Bundle(pack.pdf, pack.zip, pack.pages, index_of(pack.zip))
    with db.factory() as session:
        return read_back(session, case_id, *PERIOD, bundle)


SQLITE = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


@SQLITE
def test_no_contract_and_no_rationale_is_named_and_blocks(context, db, clock):
    case_id = bare_enforce_case(context, db, clock, contract=False)
    completeness = check_pack(context("statutory"), case_id, given())
    blocking = {b.key: b.text for b in completeness.blocking}
    assert blocking["attendance_contract"] == "no attendance contract and no rationale recorded"
    assert blocking["stage"].startswith("the case is at Formalise support")


@SQLITE
def test_a_rationale_for_no_contract_is_printed_in_its_section(context, db, clock):
    why = "the family refused to meet to agree a contract (synthetic rationale 7)"
    case_id = bare_enforce_case(context, db, clock, contract=False, rationale=why)
    assert check_pack(context("statutory"), case_id, given()).blocking == ()
    built = built_pack(context, db, case_id, [])
    text = flat("\n".join(span_pages(built, section(built, "attendance_contract"))))
    assert f"No attendance contract was made. Rationale recorded: {why}" in text


@SQLITE
def test_no_eso_consideration_is_named_and_blocks(context, db, clock):
    case_id = bare_enforce_case(context, db, clock, eso=False)
    completeness = check_pack(context("statutory"), case_id, given())
    assert [(b.key, b.text) for b in completeness.blocking] == [
        (
            "eso",
            "no consideration of an education supervision order is recorded (s447 Education "
            "Act 1996)",
        )
    ]


@SQLITE
@pytest.mark.parametrize(
    ("lacking", "key", "text"),
    [
        ({"meetings": False}, "meeting", "no home visit or meeting recorded"),
        (
            {"interview": False},
            "interview",
            "no interview under caution and no reason for none recorded",
        ),
    ],
)
def test_a_missing_item_that_warns_is_printed_on_the_cover_once_accepted(
    context, db, clock, lacking, key, text
):
    case_id = bare_enforce_case(context, db, clock, **lacking)
    completeness = check_pack(context("statutory"), case_id, given())
    assert completeness.blocking == ()
    assert [(w.key, w.text) for w in completeness.warnings] == [(key, text)]
    built = built_pack(context, db, case_id, [key])
    assert f"Warning acknowledged at build: {text}." in flat(built.pages[0])
    check_all(built, built.bundle.index["reference"])


@SQLITE
def test_the_limit_nearing_is_printed_on_the_cover(context, db, clock):
    case_id = enforce_case(context, db, clock)
    at(clock, date(2025, 6, 1))
    built = built_pack(context, db, case_id, ["time_limit"])
    cover = flat(built.pages[0])
    assert (
        "Warning acknowledged at build: the 6-month limit for this period passes on "
        "17 July 2025." in cover
    )
    assert "Information to be laid by 17 July 2025" in cover
    assert COURT in cover
