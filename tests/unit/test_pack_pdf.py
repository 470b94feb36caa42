"""The court pack renderer: one A4 PDF with a cover, an index whose page numbers are right, a
header with the reference and "Page x of y" on every page, sections on new pages, long tables
with every row, exhibits bound in with their labels, and a deterministic ZIP with index.json.

Everything here is synthetic; the text is read back out of the PDF with pypdf."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfgen.canvas import Canvas

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
from workflows.packs.pdf import PackRenderError, RenderedPack, exhibit_path, render_pack

CREATED = date(2025, 3, 14)


def pdf_file(pages: int, marker: str, size=A4, rotate: int = 0) -> bytes:
    """A small PDF whose every page says "<marker> page k"."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=size, invariant=1)
    for number in range(1, pages + 1):
        canvas.setFont("Helvetica", 14)
        canvas.drawString(72, 400, f"{marker} page {number}")
        if rotate:
            canvas.setPageRotation(rotate)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def exhibit(label: str, content: bytes, filename: str, media_type: str, title: str = "") -> Exhibit:
    return Exhibit(
        label=label,
        title=title or f"Document {label}",
        on=date(2024, 10, 1),
        filename=filename,
        media_type=media_type,
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        source=f"attachment {label}",
    )


def chronology(rows: int) -> Table:
    return Table(
        headers=("Date", "Event", "Detail"),
        rows=tuple(
            (f"{1 + n % 28} October 2024", f"event-{n:04d}", "Telephone call to parent. " * (n % 7))
            for n in range(rows)
        ),
        widths=(1, 1, 3),
        caption="Every event in date order",
    )


def document(
    sections: tuple[Section, ...] | None = None, exhibits: tuple[Exhibit, ...] | None = None
) -> PackDocument:
    if sections is None:
        sections = (
            Section(
                "summary",
                "Summary of the case",
                (
                    Paragraph("The pupil's attendance fell below 50%.\nA second line."),
                    Facts((("Pupil", "Ada Example"), ("Date of birth", "3 May 2013"))),
                    Heading("The offence"),
                    Paragraph("Section 444(1) of the Education Act 1996.", emphasis=True),
                ),
            ),
            Section("chronology", "Chronology", (chronology(500),)),
            Section(
                "witness_statement",
                "Draft witness statement",
                (Paragraph("I am the attendance lead."), Signature("Witness", "Sam Lead")),
            ),
        )
    if exhibits is None:
        exhibits = (
            exhibit("EX1", pdf_file(3, "Letter one"), "letter-one.pdf", "application/pdf"),
            exhibit("EX2", b"a note of a home visit\n", "visit note.txt", "text/plain"),
            exhibit("EX3", pdf_file(1, "Wide", landscape(A4)), "wide.pdf", "application/pdf"),
            exhibit("EX4", pdf_file(1, "Turned", rotate=90), "turned.pdf", "application/pdf"),
        )
    return PackDocument(
        reference="CW-00042-P1",
        title="Pre-court pack",
        created=CREATED,
        author="Pat Officer",
        cover=(("Court", "Knowsley Magistrates' Court"), ("Pupil", "Ada Example")),
        sections=sections,
        exhibits=exhibits,
        cover_notes=("Built by Pat Officer.", "Accepted warning: no home visit recorded."),
    )


def texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture(scope="module")
def bundle() -> Bundle:
    return build_bundle(document())


@pytest.fixture(scope="module")
def pages(bundle: Bundle) -> list[str]:
    return texts(bundle.pdf)


def printed_index(pages: list[str], front: int) -> dict[str, int]:
    """What the index (pages 2 to ``front``) says: the page printed after each section title or
    exhibit label (titles in these tests are short enough not to wrap)."""
    found: dict[str, int] = {}
    for text in pages[1:front]:
        lines = [line.strip() for line in text.splitlines()]
        for n, line in enumerate(lines):
            if n + 1 < len(lines) and lines[n + 1].isdigit() and not line.isdigit():
                found[line] = int(lines[n + 1])  # a section: "<title>" then its page
            if line.startswith("EX") and line[2:].isdigit() and n + 3 < len(lines):
                found[line] = int(lines[n + 3])  # an exhibit: label, title, date, page
    return found


def front_pages(rendered: RenderedPack) -> int:
    """Pages before the first section or exhibit: the cover and the index."""
    spans = [*rendered.sections.values(), *rendered.exhibits.values()]
    return min(span.start for span in spans) - 1


def test_the_index_points_at_the_page_where_each_section_and_exhibit_starts(bundle, pages):
    front = bundle.index["sections"][0]["start_page"] - 1
    assert front == 2
    assert pages[1].startswith("Index")
    printed = printed_index(pages, front)
    assert printed, "the index lists nothing"
    for section in bundle.index["sections"]:
        start = section["start_page"]
        assert printed[section["title"]] == start
        assert pages[start - 1].startswith(section["title"])
        assert not pages[start - 2].startswith(section["title"])
    for item in bundle.index["exhibits"]:
        assert printed[item["label"]] == item["start_page"]
    # The exhibits follow the sections, in order, each on its own pages.
    assert (
        bundle.index["exhibits"][0]["start_page"]
        == sum(s["page_count"] for s in bundle.index["sections"])
        + bundle.index["sections"][0]["start_page"]
    )


def test_every_page_has_the_reference_and_page_x_of_the_whole_bundle(bundle, pages):
    assert bundle.pages == len(pages) == bundle.index["pdf"]["pages"]
    for number, text in enumerate(pages, start=1):
        assert "CW-00042-P1" in text
        assert f"Page {number} of {len(pages)}" in text
    for page in PdfReader(io.BytesIO(bundle.pdf)).pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (
            595,
            842,
        )


def test_the_cover_carries_the_title_parties_and_notes(pages):
    cover = pages[0]
    for words in (
        "Pre-court pack",
        "Knowsley Magistrates' Court",
        "Ada Example",
        "Accepted warning: no home visit recorded.",
        "Prepared by Pat Officer on 14 March 2025",
    ):
        assert words in cover


def test_every_row_of_a_long_table_is_printed_with_the_header_on_every_page(bundle, pages):
    section = next(s for s in bundle.index["sections"] if s["key"] == "chronology")
    spanned = pages[section["start_page"] - 1 : section["start_page"] - 1 + section["page_count"]]
    assert len(spanned) > 5
    joined = "\n".join(spanned)
    for n in range(500):
        assert joined.count(f"event-{n:04d}") == 1
    for text in spanned:
        assert "Date\nEvent\nDetail" in text
    # In order across the page breaks.
    positions = [joined.index(f"event-{n:04d}") for n in range(500)]
    assert positions == sorted(positions)
    # No row is cut across a page: each page holds all the detail of the events it names.
    for text in spanned:
        named = [n for n in range(500) if f"event-{n:04d}" in text]
        flat = " ".join(text.split())
        assert flat.count("Telephone call to parent.") == sum(n % 7 for n in named)


def test_pdf_exhibits_are_bound_in_page_by_page_with_their_label(bundle, pages):
    spans = {e["label"]: e for e in bundle.index["exhibits"]}
    assert spans["EX1"]["page_count"] == 3
    for k in range(3):
        text = pages[spans["EX1"]["start_page"] - 1 + k]
        assert f"Letter one page {k + 1}" in text
        assert "Exhibit EX1" in text
    wide = pages[spans["EX3"]["start_page"] - 1]
    assert "Wide page 1" in wide and "Exhibit EX3" in wide
    turned = pages[spans["EX4"]["start_page"] - 1]
    assert "Turned page 1" in turned and "Exhibit EX4" in turned


def test_other_exhibits_get_a_page_describing_them(bundle, pages):
    item = next(e for e in bundle.index["exhibits"] if e["label"] == "EX2")
    assert item["page_count"] == 1
    text = pages[item["start_page"] - 1].replace("\n", "")
    for words in ("Exhibit EX2", "visit note.txt", "text/plain", "23 bytes", "attachment EX2"):
        assert words in text
    assert item["sha256"] in text
    assert "exhibits/EX2-visit_note.txt" in text


def test_the_same_document_gives_the_same_bytes(bundle, monkeypatch):
    same = document()  # exhibit files made before the environment changes
    # Neither the environment's reproducible-build date nor the clock changes the bundle.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    again = build_bundle(same)
    assert again.pdf == bundle.pdf
    assert again.zip == bundle.zip
    metadata = PdfReader(io.BytesIO(bundle.pdf)).metadata
    assert metadata["/CreationDate"].startswith("D:20250314000000")
    assert metadata["/Title"] == "Pre-court pack"


def test_another_process_builds_the_same_bytes(bundle):
    """A rebuild months later runs in a new process: hash seeds and font registration order
    must not matter."""
    script = (
        "import hashlib; from tests.unit.test_pack_pdf import build_bundle, document; "
        "b = build_bundle(document()); "
        "print(hashlib.sha256(b.pdf).hexdigest(), hashlib.sha256(b.zip).hexdigest())"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == [bundle.pdf_sha256, bundle.zip_sha256]


def test_the_zip_holds_the_pdf_every_exhibit_as_it_is_and_the_index(bundle):
    doc = document()
    with zipfile.ZipFile(io.BytesIO(bundle.zip)) as archive:
        names = archive.namelist()
        assert names == [
            "CW-00042-P1.pdf",
            "index.json",
            "exhibits/EX1-letter-one.pdf",
            "exhibits/EX2-visit_note.txt",
            "exhibits/EX3-wide.pdf",
            "exhibits/EX4-turned.pdf",
        ]
        assert archive.read("CW-00042-P1.pdf") == bundle.pdf
        assert archive.read("exhibits/EX2-visit_note.txt") == doc.exhibits[1].content
        assert archive.read("exhibits/EX1-letter-one.pdf") == doc.exhibits[0].content
        for info in archive.infolist():
            assert info.date_time == (2025, 3, 14, 0, 0, 0)
            assert info.external_attr >> 16 == 0o100644
        index = json.loads(archive.read("index.json"))
    assert index == bundle.index
    assert index["pdf"]["sha256"] == hashlib.sha256(bundle.pdf).hexdigest()
    assert index["reference"] == "CW-00042-P1"
    assert index["created"] == "2025-03-14"
    assert [s["key"] for s in index["sections"]] == ["summary", "chronology", "witness_statement"]
    first = index["exhibits"][0]
    assert set(first) >= {
        "label",
        "title",
        "date",
        "filename",
        "media_type",
        "sha256",
        "start_page",
        "page_count",
    }
    assert first["sha256"] == doc.exhibits[0].sha256


def test_an_unreadable_pdf_is_described_instead_of_failing_the_bundle():
    broken = exhibit("EX1", b"%PDF-1.4 not really", "broken.pdf", "application/pdf")
    rendered = render_pack(document(sections=(Section("a", "A", ()),), exhibits=(broken,)))
    text = texts(rendered.content)[rendered.exhibits["EX1"].start - 1]
    assert "cannot be read" in text.replace("\n", " ")


def test_a_cell_taller_than_a_page_splits_instead_of_failing():
    long_note = "\n".join(f"Line {n} of a very long note." for n in range(120))
    table = Table(("Date", "Note"), (("1 October 2024", long_note), ("2 October 2024", "Short")))
    rendered = render_pack(document(sections=(Section("notes", "Notes", (table,)),), exhibits=()))
    joined = "\n".join(texts(rendered.content))
    assert "Line 119 of a very long note." in joined and "Short" in joined
    assert rendered.sections["notes"].pages >= 2


@pytest.mark.parametrize(
    "change, message",
    [
        ({"sections": (Section("a", "A", ()), Section("a", "B", ()))}, "unique"),
        ({"reference": "two\nlines"}, "reference"),
        ({"sections": ()}, "at least one"),
    ],
)
def test_a_document_that_cannot_be_a_bundle_is_refused(change, message):
    base = document(sections=(Section("a", "A", ()),), exhibits=())
    with pytest.raises(PackRenderError, match=message):
        render_pack(PackDocument(**{**base.__dict__, **change}))


def test_an_exhibit_whose_hash_is_wrong_is_refused():
    bad = exhibit("EX1", b"x", "x.txt", "text/plain")
    bad = Exhibit(**{**bad.__dict__, "sha256": "0" * 64})
    with pytest.raises(PackRenderError, match="sha256"):
        render_pack(document(sections=(), exhibits=(bad,)))


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    rows=st.lists(st.integers(min_value=0, max_value=90), min_size=1, max_size=4),
    exhibit_pages=st.lists(st.integers(min_value=0, max_value=3), max_size=3),
)
def test_any_shape_of_pack_has_a_true_index_and_consecutive_page_numbers(rows, exhibit_pages):
    sections = tuple(
        Section(f"s{n}", f"Section number {n}", (chronology(count),))
        for n, count in enumerate(rows)
    )
    # 0 pages stands for a file that is not a PDF.
    exhibits = tuple(
        exhibit(f"EX{n + 1}", pdf_file(count, f"File {n + 1}"), f"f{n}.pdf", "application/pdf")
        if count
        else exhibit(f"EX{n + 1}", b"data", f"f{n}.bin", "application/octet-stream")
        for n, count in enumerate(exhibit_pages)
    )
    rendered = render_pack(document(sections=sections, exhibits=exhibits))
    pages = texts(rendered.content)
    assert rendered.pages == len(pages)
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text
    printed = printed_index(pages, front_pages(rendered))
    # The parts tile the pages after the front matter, in order, with nothing left over.
    spans = [*rendered.sections.values(), *rendered.exhibits.values()]
    expected = spans[0].start if spans else len(pages) + 1
    for span in spans:
        assert span.start == expected and span.pages >= 1
        expected += span.pages
    assert expected == len(pages) + 1
    for section in sections:
        start = rendered.sections[section.key].start
        assert printed[section.title] == start
        assert pages[start - 1].startswith(section.title)
    for item, count in zip(exhibits, exhibit_pages, strict=True):
        span = rendered.exhibits[item.label]
        assert printed[item.label] == span.start
        assert span.pages == max(count, 1)
        for k in range(span.pages):
            assert f"Exhibit {item.label}" in pages[span.start - 1 + k]


def test_an_index_longer_than_a_page_still_points_at_the_right_pages():
    many = tuple(
        exhibit(f"EX{n}", f"note {n}".encode(), f"note-{n}.txt", "text/plain") for n in range(1, 46)
    )
    rendered = render_pack(document(sections=(Section("a", "Summary", ()),), exhibits=many))
    pages = texts(rendered.content)
    front = front_pages(rendered)
    assert front >= 3  # the cover and an index of two pages or more
    printed = printed_index(pages, front)
    assert printed["Summary"] == rendered.sections["a"].start == front + 1
    for item in many:
        start = rendered.exhibits[item.label].start
        assert printed[item.label] == start
        assert pages[start - 1].startswith(f"Exhibit {item.label}: ")


def test_the_bundle_has_a_bookmark_for_every_section_and_exhibit(bundle):
    reader = PdfReader(io.BytesIO(bundle.pdf))

    def flatten(items) -> list[tuple[str, int]]:
        out = []
        for item in items:
            if isinstance(item, list):
                out += flatten(item)
            else:
                out.append((item.title, reader.get_destination_page_number(item) + 1))
        return out

    marks = dict(flatten(reader.outline))
    assert marks["Cover"] == 1 and marks["Index"] == 2
    for n, section in enumerate(bundle.index["sections"], start=1):
        assert marks[f"{n}. {section['title']}"] == section["start_page"]
    for item in bundle.index["exhibits"]:
        assert marks[f"{item['label']} {item['title']}"] == item["start_page"]


def test_exhibit_paths_in_the_zip_are_safe_and_labelled_once():
    def path(label: str, filename: str) -> str:
        return exhibit_path(exhibit(label, b"x", filename, "text/plain"))

    assert path("EX1", "letter.pdf") == "exhibits/EX1-letter.pdf"
    assert path("EX1", "EX1-letter.pdf") == "exhibits/EX1-letter.pdf"
    assert path("EX2", "../../etc/passwd") == "exhibits/EX2-etc_passwd"
    assert path("EX3", "Zoë's note (1).docx") == "exhibits/EX3-Zo__s_note__1_.docx"


def test_every_index_entry_links_to_its_page(bundle):
    reader = PdfReader(io.BytesIO(bundle.pdf))
    targets = []
    for annotation in reader.pages[1].get("/Annots", []):
        link = annotation.get_object()
        assert link["/Subtype"] == "/Link"
        targets.append(reader.get_page_number(link["/Dest"][0].get_object()) + 1)
    starts = [s["start_page"] for s in bundle.index["sections"]]
    starts += [e["start_page"] for e in bundle.index["exhibits"]]
    assert targets == starts


def test_every_page_of_a_section_names_it_in_the_header(bundle, pages):
    section = next(s for s in bundle.index["sections"] if s["key"] == "chronology")
    for k in range(section["page_count"]):
        lines = pages[section["start_page"] - 1 + k].splitlines()
        assert "Chronology" in lines[-3:]  # the header is drawn last: title, reference, page


def test_every_kind_of_block_prints(bundle, pages):
    start = {s["key"]: s["start_page"] for s in bundle.index["sections"]}
    summary = pages[start["summary"] - 1]
    for words in (
        "The pupil's attendance fell below 50%.\nA second line.",
        "Date of birth",
        "3 May 2013",
        "The offence",
        "Section 444(1) of the Education Act 1996.",
    ):
        assert words in summary
    statement = pages[start["witness_statement"] - 1]
    for words in ("I am the attendance lead.", "Witness", "Signed", "Name", "Sam Lead", "Date"):
        assert words in statement


# --- headings kept with what follows ----------------------------------------------------------


def _page_of(pages: list[str], words: str) -> int:
    [found] = [n for n, text in enumerate(pages) if words in text]
    return found


@pytest.mark.parametrize("filler", range(24, 44))
def test_a_heading_or_caption_is_never_left_alone_at_the_foot_of_a_page(filler):
    """Filler moves the heading down the page a line at a time, through the foot of the page:
    wherever it lands, the heading, the caption and the table's first row share a page, and so
    do a heading and the first line of the paragraph after it."""
    rows = tuple((f"row-{n:02d}", "A row of the table") for n in range(40))
    blocks = (
        *(Paragraph(f"Filler line {n}.") for n in range(filler)),
        Heading("Kept heading"),
        Table(("Key", "Value"), rows, caption="Kept caption"),
        *(Paragraph(f"More filler {n}.") for n in range(filler % 7)),
        Heading("Second heading"),
        Paragraph("First words of the paragraph after the heading. " * 12),
    )
    made = build_bundle(document(sections=(Section("s", "Section", blocks),), exhibits=()))
    pages = texts(made.pdf)
    heading = _page_of(pages, "Kept heading")
    assert _page_of(pages, "Kept caption") == heading
    assert _page_of(pages, "row-00") == heading
    second = _page_of(pages, "Second heading")
    assert "First words of the paragraph" in pages[second]
    # Not carried whole to a new page: the table still splits once it has started.
    assert _page_of(pages, "row-39") >= heading


def test_a_long_table_after_a_heading_starts_on_the_same_page():
    """Keeping a heading with a table keeps its start only: a table longer than a page is not
    pushed whole to the next page, leaving the heading's page blank."""
    rows = tuple((f"row-{n:03d}", "x") for n in range(200))
    blocks = (Paragraph("Intro."), Heading("Big table"), Table(("Key", "Value"), rows))
    made = build_bundle(document(sections=(Section("s", "Section", blocks),), exhibits=()))
    pages = texts(made.pdf)
    assert _page_of(pages, "Big table") == _page_of(pages, "row-000") == _page_of(pages, "Intro.")


# --- pictures -----------------------------------------------------------------------------------


def picture(size: tuple[int, int], kind: str = "JPEG", orientation: int = 1) -> bytes:
    """A synthetic picture: a two-colour block (no real photograph)."""
    from PIL import Image as PilImage

    image = PilImage.new("RGB", size, (200, 40, 40))
    image.paste((40, 40, 200), (0, 0, size[0] // 2, size[1]))
    out = io.BytesIO()
    if orientation != 1:
        exif = PilImage.Exif()
        exif[0x0112] = orientation
        image.save(out, format=kind, exif=exif.tobytes())
    else:
        image.save(out, format=kind)
    return out.getvalue()


def images_on(pdf: bytes) -> list[list[tuple[int, int]]]:
    """Per page, the pixel size of each image drawn on it."""
    return [
        [(image.image.width, image.image.height) for image in page.images]
        for page in PdfReader(io.BytesIO(pdf)).pages
    ]


def pictures_document() -> PackDocument:
    return document(
        exhibits=(
            exhibit("EX1", picture((640, 480)), "photo.jpg", "image/jpeg", "Photo of a door"),
            exhibit("EX2", picture((300, 200), "PNG"), "scan.png", "image/png", "A scan"),
            # Tall: squeezed under the description it would be tiny; it gets its own page.
            exhibit("EX3", picture((400, 1600)), "tall.jpg", "image/jpeg", "Tall picture"),
            # Stored sideways with an EXIF turn of 90 degrees: printed upright.
            exhibit("EX4", picture((300, 100), orientation=6), "turn.jpg", "image/jpeg"),
            exhibit("EX5", b"\xff\xd8\xff not really", "broken.jpg", "image/jpeg"),
            # A photo cut short in transfer: its header reads, its pixels do not.
            exhibit("EX6", picture((800, 600))[:1500], "cut.jpg", "image/jpeg"),
        )
    )


@pytest.fixture(scope="module")
def pictures() -> Bundle:
    return build_bundle(pictures_document())


def test_jpeg_and_png_exhibits_are_printed_under_their_description(pictures):
    pages = texts(pictures.pdf)
    drawn = images_on(pictures.pdf)
    spans = {e["label"]: e for e in pictures.index["exhibits"]}
    for label, size in (("EX1", (640, 480)), ("EX2", (300, 200))):
        first = spans[label]["start_page"] - 1
        assert spans[label]["page_count"] == 1
        assert drawn[first] == [size]
        assert f"Exhibit {label}" in pages[first]
        assert "The image is printed below" in pages[first].replace("\n", " ")
    # The tall picture goes to a page of its own, which carries the exhibit's label too.
    tall = spans["EX3"]
    assert tall["page_count"] == 2
    assert drawn[tall["start_page"] - 1] == [] and drawn[tall["start_page"]] == [(400, 1600)]
    assert "Exhibit EX3" in pages[tall["start_page"]]
    # Turned upright as its EXIF says: 100 wide by 300 high.
    assert drawn[spans["EX4"]["start_page"] - 1] == [(100, 300)]
    # A file that only claims to be an image, or one cut short, is described, not printed, and
    # says why; the bundle is still made.
    for label in ("EX5", "EX6"):
        broken = spans[label]["start_page"] - 1
        assert drawn[broken] == []
        assert "the image cannot be read" in pages[broken].replace("\n", " ")


def test_pictures_are_bound_in_the_same_bytes_every_time(pictures):
    """Pictures included, the same document gives the same bytes, in this process (files made
    afresh) and in a new one with another hash seed (Pillow's PNG of a turned photo, reportlab's
    image objects)."""
    again = build_bundle(pictures_document())
    assert (again.pdf, again.zip) == (pictures.pdf, pictures.zip)
    script = (
        "import hashlib; from tests.unit.test_pack_pdf import build_bundle, pictures_document; "
        "b = build_bundle(pictures_document()); "
        "print(hashlib.sha256(b.pdf).hexdigest(), hashlib.sha256(b.zip).hexdigest())"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONHASHSEED": "54321"},
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == [pictures.pdf_sha256, pictures.zip_sha256]


# --- column widths ------------------------------------------------------------------------------


def test_no_word_of_a_narrow_column_is_broken_across_lines():
    """Narrow columns ("Exhibit" in a 0.7-weight column of seven, "improvement" in another) are
    widened from the columns with room to spare, so no header or cell word is cut in two."""
    headers = ("Date", "What", "Details", "By", "Engaged", "Outcome", "Exhibit")
    rows = (
        ("1 Oct 2024", "Call", "Spoke to the parent. " * 3, "A", "Yes", "Some improvement", "EX1"),
        ("2 Oct 2024", "Visit", "Nobody in. " * 3, "A", "Declined", "Completed", "EX2"),
    )
    table = Table(headers, rows, widths=(1.0, 1.4, 2.6, 1.4, 1.1, 0.9, 0.7))
    made = build_bundle(document(sections=(Section("s", "Section", (table,)),), exhibits=()))
    lines = texts(made.pdf)[2].splitlines()
    for word in ("Exhibit", "Engaged", "improvement", "Completed", "Declined"):
        assert any(word in line.split() for line in lines), word
