"""Benchmark: building a court pack (PDF and ZIP) for a large case. Prints figures and a ratio;
asserts nothing (``python -m tests.benchmarks.bench_pack``).

Default (``--from record``): a SQLite database in a temporary directory is seeded with the
synthetic world of the tests and one case like ``test_packs``'s Enforce case, grown to about 500
case events, two school years of register marks (2023/24 and 2024/25 to date) and 30 exhibits
(letters rendered by the letter renderer, photographs and notes). Timed separately: assembly
(``document_for``: reading the record into a pack document) and rendering (``build_bundle``:
the PDF with its index, headers and bound-in exhibits, and the ZIP), and the two together, which
is what building a pack costs apart from storing it. Target: under 2 s together.

``--from synthetic``: a made-up document of the same size, rendering only (no database).

The reference, timed in the same run, is a plain reportlab document of the same tables (one
pass, default page furniture, no index, no exhibits, no ZIP): the cost of the rows themselves.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import PageBreak, SimpleDocTemplate
from reportlab.platypus import Paragraph as RlParagraph
from reportlab.platypus import Table as RlTable

from notifications.pdf import render_pdf
from workflows.packs.bundle import Bundle, build_bundle
from workflows.packs.document import (
    Exhibit,
    Facts,
    Heading,
    PackDocument,
    Paragraph,
    Section,
    Signature,
    Table,
)

CREATED = date(2025, 3, 14)
KINDS = ("Telephone call", "Letter sent", "Home visit", "Meeting", "Referral", "Support offered")
OUTCOMES = ("Engaged", "No answer", "Declined", "Attended", "Did not attend", "")
MARKS = ("/", "\\", "N", "O", "I", "M", "G", "#")


def _chronology(events: int) -> Table:
    start = date(2023, 9, 4)
    rows = tuple(
        (
            (start + timedelta(days=n * 600 // max(events, 1))).strftime("%d/%m/%Y"),
            KINDS[n % len(KINDS)],
            f"Officer {n % 4 + 1}",
            f"Event {n + 1}: "
            + "Spoke to the parent about the pupil's absence and the support available. "
            * (1 + n % 3),
            OUTCOMES[n % len(OUTCOMES)],
        )
        for n in range(events)
    )
    return Table(
        headers=("Date", "What", "By", "Details", "Outcome"),
        rows=rows,
        widths=(1.1, 1.3, 1, 4, 1.2),
        caption="Every event on the case in date order",
    )


def _register(weeks: int) -> Table:
    start = date(2023, 9, 4)
    headers = ("Week of", *(f"{d} {s}" for d in ("Mon", "Tue", "Wed", "Thu", "Fri") for s in "AP"))
    rows = tuple(
        (
            (start + timedelta(weeks=w)).strftime("%d/%m/%Y"),
            *(MARKS[(w * 7 + s * 3) % len(MARKS)] for s in range(10)),
        )
        for w in range(weeks)
    )
    return Table(headers, rows, widths=(2, *([1] * 10)), caption="Register extract, by week")


def _graduated_response() -> Table:
    rows = tuple(
        (f"Level {1 + n // 10}", f"Action {n + 1} offered to the family", "Offered", "Declined")
        for n in range(40)
    )
    return Table(("Level", "What was offered", "When", "Engaged"), rows, (1, 4, 1, 1))


def _photo(n: int, size: tuple[int, int] = (1200, 900)) -> bytes:
    """A synthetic 'photograph' (a gradient with a block of colour), as a JPEG of the size a
    phone camera's reduced copy has."""
    from PIL import Image as PilImage

    image = PilImage.linear_gradient("L").resize(size).convert("RGB")
    image.paste(((n * 53) % 256, 90, 160), (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2))
    out = BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()


def _letter_pdf(n: int) -> bytes:
    paragraphs = "".join(
        f"<p>Paragraph {k + 1} of letter {n + 1} about attendance.</p>" for k in range(12)
    )
    return render_pdf(
        f"<h1>Letter {n + 1}</h1>{paragraphs}",
        reference=f"LT-{n + 1}",
        title=f"Letter {n + 1}",
        author="Example Council",
        created=CREATED,
    ).content


def _exhibits(count: int) -> tuple[Exhibit, ...]:
    made = []
    for n in range(count):
        label = f"EX{n + 1}"
        if n % 3 == 2:
            # Photographs: printed under their description, carried in the ZIP.
            content = _photo(n)
            filename, media_type = f"photo-{n + 1}.jpg", "image/jpeg"
        else:
            content = _letter_pdf(n)
            filename, media_type = f"letter-{n + 1}.pdf", "application/pdf"
        made.append(
            Exhibit(
                label=label,
                title=f"Exhibit document {n + 1}",
                on=CREATED - timedelta(days=count - n),
                filename=filename,
                media_type=media_type,
                content=content,
                sha256=hashlib.sha256(content).hexdigest(),
                source=f"attachment {n + 1}",
            )
        )
    return tuple(made)


def make_document(events: int = 500, weeks: int = 80, exhibits: int = 30) -> PackDocument:
    """A synthetic pack the size of a large case."""
    statement = tuple(
        Paragraph(f"{n + 1}. I make this statement about the pupil's attendance. " * 4)
        for n in range(15)
    )
    return PackDocument(
        reference="CW-00042-P1",
        title="Pre-court pack: failure to secure regular attendance",
        created=CREATED,
        author="Pat Officer, statutory officer",
        cover=(
            ("Court", "Knowsley Magistrates' Court"),
            ("Parent", "Alex Example"),
            ("Parent", "Sam Example"),
            ("Pupil", "Ada Example (born 3 May 2013)"),
            ("School", "Oakfield Primary School"),
            ("Offence", "Section 444(1) Education Act 1996"),
            ("Period", "4 September 2024 to 14 February 2025"),
        ),
        sections=(
            Section(
                "summary",
                "Summary",
                (Facts(tuple((f"Fact {n}", f"Value {n}") for n in range(12))),),
            ),
            Section("chronology", "Chronology", (_chronology(events),)),
            Section(
                "attendance",
                "Attendance certificate and register extracts",
                (
                    Facts((("Possible sessions", "190"), ("Unauthorised absence", "71"))),
                    Heading("Register extracts"),
                    _register(weeks),
                ),
            ),
            Section(
                "graduated_response", "Evidence of graduated response", (_graduated_response(),)
            ),
            Section(
                "witness_statement",
                "Draft witness statement",
                (*statement, Signature("Attendance lead", "Sam Lead")),
            ),
        ),
        exhibits=_exhibits(exhibits),
        cover_notes=("Built by Pat Officer.",),
    )


def _reference(document: PackDocument) -> None:
    """The same tables as a plain reportlab document: one pass, nothing else (column widths as
    the document gives them, long cells as paragraphs, rows allowed to split)."""
    sheet = getSampleStyleSheet()
    width = A4[0] - 2 * 72  # SimpleDocTemplate's default frame
    story = []
    for section in document.sections:
        story += [RlParagraph(escape(section.title), sheet["Heading1"])]
        for block in section.blocks:
            if isinstance(block, Table):
                columns = max(len(block.headers), *(len(r) for r in block.rows), 1)
                weights = block.widths if block.widths and len(block.widths) == columns else None
                weights = weights or (1.0,) * columns
                rows = [list(block.headers) + [""] * (columns - len(block.headers))] + [
                    [
                        RlParagraph(escape(cell), sheet["BodyText"]) if len(cell) > 20 else cell
                        for cell in r
                    ]
                    + [""] * (columns - len(r))
                    for r in block.rows
                ]
                story.append(
                    RlTable(
                        rows,
                        colWidths=[width * w / sum(weights) for w in weights],
                        repeatRows=1,
                        splitInRow=1,
                    )
                )
        story.append(PageBreak())
    SimpleDocTemplate(BytesIO(), pagesize=A4, invariant=1).build(story)


def _time(run: Callable[[], object], repeats: int) -> float:
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


# --- a real record -------------------------------------------------------------------------------

KINDS_TO_RECORD = (
    ("phone_call", "Phoned the parent about the pupil's absence; no answer, message left."),
    ("letter", "Letter to the parents about the pupil's attendance and the support on offer."),
    ("pupil_check_in", "Morning check-in with the learning mentor; the pupil was late again."),
    ("meeting_with_parent", "Met the parent at school to agree a plan for mornings."),
    ("home_visit", "Home visit: no answer at the door; a card was left asking for contact."),
)
ENGAGED = ("engaged", "partly_engaged", "not_engaged", "declined")
OUTCOMES_RECORDED = ("pending", "some_improvement", "not_improved", "completed")


@dataclass(frozen=True)
class Seeded:
    factory: Any
    case_id: int
    statutory_id: int
    given: Any
    events: int
    exhibits: int
    marks: int


def _register_days(ctx: Any, school_id: int, start: date, end: date) -> Iterator[tuple]:
    """Every open session from ``start`` to ``end`` on the school's calendar."""
    calendar = ctx.calendar_for(school_id)
    day = start
    while day <= end:
        if day.weekday() < 5:
            for which in sorted(s.value.upper() for s in calendar.info(day).sessions):
                yield day, which
        day += timedelta(days=1)


def seed_record(path: Path, events: int, exhibits: int) -> Seeded:
    """The Enforce case of ``tests.integration.test_packs`` (built by its own helpers), on two
    school years of marks, grown with interventions to ``events`` case events and with
    attachments to ``exhibits`` exhibits."""
    from PIL import Image as PilImage  # noqa: F401  (Pillow must be there for the photos)
    from sqlalchemy import func, select

    from casework.clock import FixedClock
    from casework.db import make_engine, make_session_factory
    from casework.models import Attachment, CaseEvent, User
    from casework.registers.store import Recorder, record_marks, register_extract
    from tests.conftest import _seed
    from tests.integration import test_packs as built
    from workflows.attachments import AddAttachment, add_attachment
    from workflows.context import Context
    from workflows.interventions import RecordIntervention, record_intervention

    url = f"sqlite:///{path}"
    world = _seed(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    clock = FixedClock(datetime(2024, 11, 1, 16, tzinfo=UTC))
    opened: list[Any] = []

    def context(username: str) -> Context:
        session = factory()
        opened.append(session)
        return Context.build(session, session.get(User, world.users[username]), clock)

    @contextmanager
    def acting(username: str) -> Iterator[Context]:
        ctx = context(username)
        yield ctx
        ctx.commit()

    # 2023/24 whole and 2024/25 up to the half term: mostly present, some illness, and a
    # scatter of unauthorised absence; test_packs' helpers lay November to January.
    with acting("oak_lead") as ctx:
        sessions = list(_register_days(ctx, world.oakfield, date(2023, 9, 1), date(2024, 11, 1)))
        codes = ["/"] * 8 + ["I", "O", "/", "M", "/", "N"]
        record_marks(
            ctx.session,
            pupil_id=world.pupil_oak,
            school_id=world.oakfield,
            marks=[(d, s, codes[n % len(codes)]) for n, (d, s) in enumerate(sessions)],
            by=Recorder(ctx.actor.id, ctx.actor.full_name, ctx.actor.position),
            reason=None,
            source="bench",
            at=ctx.now(),
        )
    db = SimpleNamespace(world=world, factory=factory)
    case_id = built.enforce_case(context, db, clock)  # leaves the clock at 20 January 2025

    def count(model: Any) -> int:
        with factory() as session:
            return session.scalar(
                select(func.count()).select_from(model).where(model.case_id == case_id)
            )

    with acting("statutory") as ctx:
        # Documents first (each adds an event): letters as PDFs, photographs and notes, each an
        # exhibit.
        for n in range(max(exhibits - count(Attachment), 0)):
            if n % 3 == 0:
                made = (f"photo-{n + 1}.jpg", "image/jpeg", _photo(n))
            elif n % 3 == 1:
                made = (f"letter-{n + 1}.pdf", "application/pdf", _letter_pdf(n))
            else:
                note = f"Note {n + 1} of a conversation with the parent.\n" * 20
                made = (f"note-{n + 1}.txt", "text/plain", note.encode())
            add_attachment(ctx, case_id, AddAttachment(*made))
    # Then interventions spread over the two years, until the case has its events.
    missing = events - count(CaseEvent)
    first = date(2023, 9, 11)
    with acting("statutory") as ctx:
        for n in range(max(missing, 0)):
            kind, summary = KINDS_TO_RECORD[n % len(KINDS_TO_RECORD)]
            record_intervention(
                ctx,
                case_id,
                RecordIntervention(
                    kind=kind,
                    occurred_on=first + timedelta(days=n * 490 // max(missing, 1)),
                    summary=f"{summary} (contact {n + 1})",
                    family_engaged=ENGAGED[n % len(ENGAGED)],
                    outcome=OUTCOMES_RECORDED[n % len(OUTCOMES_RECORDED)],
                ),
            )
    for session in opened:
        session.close()
    with factory() as session:
        marks = len(
            register_extract(
                session, world.pupil_oak, world.oakfield, date(2023, 9, 1), date(2025, 1, 20)
            )
        )
        statutory = session.get(User, world.users["statutory"]).id
    return Seeded(
        factory,
        case_id,
        statutory,
        built.given(),
        count(CaseEvent),
        count(Attachment),
        int(marks or 0),
    )


def run_record(args: argparse.Namespace) -> None:
    from casework.clock import FixedClock
    from casework.models import User
    from workflows.context import Context
    from workflows.packs.service import document_for

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        seeded = seed_record(Path(tmp) / "pack.db", args.events, args.exhibits)
        seeding = time.perf_counter() - started
        clock = FixedClock(datetime(2025, 1, 20, 12, tzinfo=UTC))

        def assemble() -> PackDocument:
            # A fresh session each time: nothing cached from the previous run.
            with seeded.factory() as session:
                ctx = Context.build(session, session.get(User, seeded.statutory_id), clock)
                return document_for(ctx, seeded.case_id, seeded.given)

        document = assemble()  # warm up: imports, fonts, calendars
        bundle = build_bundle(document)
        assembly = _time(assemble, args.repeats)
        render = _time(lambda: build_bundle(document), args.repeats)
        together = _time(lambda: build_bundle(assemble()), args.repeats)
        reference = _time(lambda: _reference(document), args.repeats)
        same = build_bundle(assemble())
        seeded.factory.kw["bind"].dispose()
    chronology = next(s for s in document.sections if s.key == "chronology")
    rows = sum(len(b.rows) for b in chronology.blocks if isinstance(b, Table))
    _report(
        f"pack from a seeded record (SQLite; seeded in {seeding:.0f} s): {seeded.events} case "
        f"events ({rows} chronology rows), {seeded.marks} register marks over 2 school years, "
        f"{seeded.exhibits} exhibits",
        bundle,
        same,
        args.repeats,
        reference,
        [("assembly (document_for)", assembly), ("render (build_bundle)", render)],
        together,
    )


def _report(
    title: str,
    bundle: Bundle,
    same: Bundle,
    repeats: int,
    reference: float,
    parts: list[tuple[str, float]],
    total: float,
) -> None:
    print(
        f"\n{title}\n  -> {bundle.pages} pages, PDF {len(bundle.pdf) / 1024:.0f} KB, "
        f"ZIP {len(bundle.zip) / 1024:.0f} KB"
    )
    for name, seconds in parts:
        print(f"  {name}: {seconds:.2f} s (median of {repeats})")
    print(
        f"  total: {total:.2f} s (target under 2 s: {'met' if total < 2 else 'NOT met'}); "
        "identical bytes on a rebuild: "
        f"{'yes' if (same.pdf, same.zip) == (bundle.pdf, bundle.zip) else 'NO'}"
    )
    print(
        f"  reference, the same tables as a plain reportlab document: {reference:.2f} s "
        f"(the pack takes {total / reference:.1f}x)"
    )


def run_synthetic(args: argparse.Namespace) -> None:
    document = make_document(args.events, args.weeks, args.exhibits)
    bundle = build_bundle(document)  # warm up: fonts, imports
    seconds = _time(lambda: build_bundle(document), args.repeats)
    reference = _time(lambda: _reference(document), args.repeats)
    same = build_bundle(document)
    _report(
        f"synthetic pack: {args.events} events, {args.weeks} register weeks, "
        f"{args.exhibits} exhibits (render only)",
        bundle,
        same,
        args.repeats,
        reference,
        [("render (build_bundle)", seconds)],
        seconds,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--from",
        dest="source",
        choices=("record", "synthetic"),
        default="record",
        help="a seeded case record (default) or a made-up document",
    )
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--weeks", type=int, default=80, help="synthetic only")
    parser.add_argument("--exhibits", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.source == "record":
        run_record(args)
    else:
        run_synthetic(args)


if __name__ == "__main__":
    main()
