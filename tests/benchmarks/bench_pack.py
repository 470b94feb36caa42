"""Benchmark: building a court pack (PDF and ZIP) for a large case. Prints figures and a ratio;
asserts nothing (``python -m tests.benchmarks.bench_pack``).

The document resembles an Enforce case with 500 events (a 500-row chronology), two school years
of register week grids (about 80 rows), a graduated-response table, a witness statement and 30
exhibits (letters rendered by the letter renderer, and other files). ``build_bundle`` lays it out
with its index, headers and bound-in exhibits and writes the ZIP. Target: under 2 s.

The reference, timed in the same run, is a plain reportlab document of the same tables (one
pass, default page furniture, no index, no exhibits, no ZIP): the cost of the rows themselves.

``make_document`` is separate from the timing so a real seeded case can be swapped in later.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta
from io import BytesIO

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import PageBreak, SimpleDocTemplate
from reportlab.platypus import Paragraph as RlParagraph
from reportlab.platypus import Table as RlTable

from notifications.pdf import render_pdf
from workflows.packs.bundle import build_bundle
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


def _exhibits(count: int) -> tuple[Exhibit, ...]:
    made = []
    for n in range(count):
        label = f"EX{n + 1}"
        if n % 3 == 2:
            # Photographs, notes and the like: described on a page, carried in the ZIP.
            content = hashlib.sha256(label.encode()).digest() * 2000
            filename, media_type = f"photo-{n + 1}.jpg", "image/jpeg"
        else:
            paragraphs = "".join(
                f"<p>Paragraph {k + 1} of letter {n + 1} about attendance.</p>" for k in range(12)
            )
            content = render_pdf(
                f"<h1>Letter {n + 1}</h1>{paragraphs}",
                reference=f"LT-{n + 1}",
                title=f"Letter {n + 1}",
                author="Example Council",
                created=CREATED,
            ).content
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
    """The same tables as a plain reportlab document: one pass, nothing else."""
    sheet = getSampleStyleSheet()
    story = []
    for section in document.sections:
        story += [RlParagraph(section.title, sheet["Heading1"])]
        for block in section.blocks:
            if isinstance(block, Table):
                rows = [list(block.headers)] + [
                    [RlParagraph(cell, sheet["BodyText"]) if len(cell) > 20 else cell for cell in r]
                    for r in block.rows
                ]
                story.append(RlTable(rows, repeatRows=1))
        story.append(PageBreak())
    SimpleDocTemplate(BytesIO(), pagesize=A4, invariant=1).build(story)


def _time(run: Callable[[], object], repeats: int) -> float:
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--weeks", type=int, default=80)
    parser.add_argument("--exhibits", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    document = make_document(args.events, args.weeks, args.exhibits)
    bundle = build_bundle(document)  # warm up: fonts, imports
    seconds = _time(lambda: build_bundle(document), args.repeats)
    reference = _time(lambda: _reference(document), args.repeats)
    same = build_bundle(document)
    print(
        f"\npack: {args.events} events, {args.weeks} register weeks, {args.exhibits} exhibits"
        f" -> {bundle.pages} pages, PDF {len(bundle.pdf) / 1024:.0f} KB,"
        f" ZIP {len(bundle.zip) / 1024:.0f} KB"
    )
    print(
        f"  build_bundle: {seconds:.2f} s (median of {args.repeats}; target under 2 s: "
        f"{'met' if seconds < 2 else 'NOT met'}); identical bytes on a rebuild: "
        f"{'yes' if (same.pdf, same.zip) == (bundle.pdf, bundle.zip) else 'NO'}"
    )
    print(
        f"  reference, the same tables as a plain reportlab document: {reference:.2f} s "
        f"(the pack takes {seconds / reference:.1f}x)"
    )


if __name__ == "__main__":
    main()
