"""A court pack as one paginated A4 PDF: cover, index with page numbers, the sections (each on a
new page), then the exhibits with their labels stamped on every page.

The layout is done by reportlab Platypus in two parts so the expensive part is laid out once:

1. the *body* (sections and exhibit pages) is laid out knowing only how many pages the front
   matter takes, and records the page where every section and exhibit starts;
2. the *front matter* (cover and index) is laid out with those page numbers and the bundle's
   total. The index's page-number column has a fixed width, so its numbers cannot change how many
   pages it takes; if they ever did, the body is laid out again with the new offset until the two
   agree.

pypdf then joins the two and binds in each PDF exhibit: every page of it is scaled into the area
below the bundle header and the body's (otherwise blank) placeholder page for it is laid on top,
which carries the header, the exhibit label and "Page x of y". A JPEG or PNG exhibit gets a page
describing it with the picture printed below, scaled to fit (on a page of its own when the room
left would make it too small). Any other file (or a PDF or image that cannot be read) gets one
page describing it instead. pypdf also adds a bookmark for every section and exhibit and makes
each index entry a link to its page, as electronic court bundles are expected to have.

A heading or a table's caption is never left alone at the foot of a page: ``_RoomFor`` breaks
the page first unless the heading and the start of what follows it (a paragraph's first lines, a
table's header and first rows) fit. A table's header word is never broken across lines: a column
too narrow for it takes the room from the column with the most to spare.

The same document gives the same bytes: reportlab's invariant mode, the creation date fixed to
``document.created``, no file identifiers or other random values, fixed metadata.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

from PIL import Image as PilImage
from PIL import ImageOps
from pypdf import PageObject, PdfReader, PdfWriter, Transformation
from pypdf.annotations import Link
from pypdf.errors import PyPdfError
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Spacer,
)
from reportlab.platypus import Paragraph as RlParagraph
from reportlab.platypus import Table as RlTable
from reportlab.platypus.tables import TableStyle

from notifications.pdf import _canvas_maker as _letter_canvas_maker
from notifications.pdf import fonts
from workflows.packs.document import (
    Block,
    Exhibit,
    Facts,
    Heading,
    PackDocument,
    Paragraph,
    Section,
    Signature,
    Table,
)

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 18 * mm
# The header sits in the top margin: a line of text above a rule.
HEADER_Y = PAGE_HEIGHT - 11 * mm
HEADER_RULE_Y = HEADER_Y - 3 * mm
# Room kept free above a bound-in exhibit page for the header and the label.
EXHIBIT_TOP = HEADER_RULE_Y - 2 * mm
FRAME_WIDTH = PAGE_WIDTH - 2 * MARGIN
FRAME_HEIGHT = PAGE_HEIGHT - 2 * MARGIN

INK = colors.HexColor("#0b0c0c")  # GOV.UK text colour
GREY = colors.HexColor("#505a5f")  # secondary text
RULE = colors.HexColor("#b1b4b6")  # borders
CELL_PADDING = 4
# The index: its page-number column is fixed, so the numbers never change its layout.
NUMBER_WIDTH = 22 * mm
INDEX_SIZE, INDEX_LEADING = 10.5, 13
DATE_WIDTH = 40 * mm  # "30 September 2025" on one line
MAX_FRONT_PASSES = 4


class PackRenderError(ValueError):
    """The document cannot be laid out as a bundle (duplicate keys, a wrong exhibit hash...)."""


@dataclass(frozen=True)
class Span:
    """Where a section or exhibit sits in the bundle: first page (1-based) and how many."""

    start: int
    pages: int


@dataclass(frozen=True)
class RenderedPack:
    content: bytes
    pages: int
    # In document order, keyed by section key and exhibit label.
    sections: dict[str, Span]
    exhibits: dict[str, Span]


# --- styles ------------------------------------------------------------------------------------


def _styles() -> dict[str, ParagraphStyle]:
    f = fonts()
    body = ParagraphStyle(
        "pack-body", fontName=f.regular, fontSize=11, leading=15, spaceAfter=6, textColor=INK
    )

    def derive(name: str, **changes: Any) -> ParagraphStyle:
        return ParagraphStyle(f"pack-{name}", parent=body, **changes)

    return {
        "body": body,
        "bold": derive("bold", fontName=f.bold),
        "title": derive("title", fontName=f.bold, fontSize=24, leading=29, spaceAfter=10),
        "reference": derive("reference", fontSize=14, leading=18, textColor=GREY, spaceAfter=18),
        "h1": derive("h1", fontName=f.bold, fontSize=19, leading=24, spaceAfter=12),
        "h2": derive("h2", fontName=f.bold, fontSize=14, leading=18, spaceBefore=10, spaceAfter=5),
        "caption": derive("caption", fontName=f.bold, spaceBefore=4, spaceAfter=4),
        "cell": derive("cell", fontSize=9.5, leading=12, spaceAfter=0),
        # In a two-column list the rows' padding spaces them; the paragraphs add none.
        "fact": derive("fact", spaceAfter=0),
        "fact-label": derive("fact-label", fontName=f.bold, spaceAfter=0),
        "index": derive("index", fontSize=INDEX_SIZE, leading=INDEX_LEADING, spaceAfter=0),
        "cell-bold": derive("cell-bold", fontName=f.bold, fontSize=9.5, leading=12, spaceAfter=0),
        "small": derive("small", fontSize=10, leading=13, textColor=GREY),
    }


_STYLES: dict[str, ParagraphStyle] | None = None


def styles() -> dict[str, ParagraphStyle]:
    # Built on first use: fonts() registers the TTFs, which must happen before any style refers
    # to them.
    global _STYLES
    if _STYLES is None:
        _STYLES = _styles()
    return _STYLES


def _markup(text: str) -> str:
    """Plain text as reportlab paragraph markup: escaped, line breaks kept."""
    return "<br/>".join(escape(line) for line in text.replace("\r\n", "\n").split("\n"))


def _para(text: str, style: str = "body") -> RlParagraph:
    return RlParagraph(_markup(text), styles()[style])


# --- anchors: where things start ---------------------------------------------------------------


class _Anchor(Flowable):
    """Takes no room; when drawn it tells the canvas that a section or exhibit starts on this
    page (for the index) and what the header should carry from here on: the exhibit label, or
    the section's title (so a reader of page 17 of a 40-page chronology knows where they are)."""

    def __init__(self, kind: str, key: str, label: str | None, running: str = "") -> None:
        super().__init__()
        self.kind, self.key, self.label, self.running = kind, key, label, running
        self.width = self.height = 0

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        self.canv.bundle_anchor(self.kind, self.key, self.label, self.running)


# --- keeping headings with what follows --------------------------------------------------------

# A table's start, for keeping a heading with it: its header row and this many rows.
START_ROWS = 2
# Never ask for more room than this: a longer demand at the top of an empty page would break
# page after page for ever.
MOST_ROOM = FRAME_HEIGHT / 2


def _height(flowable: Flowable, width: float) -> float:
    _, height = flowable.wrap(width, FRAME_HEIGHT)
    return height + flowable.getSpaceBefore() + flowable.getSpaceAfter()


def _start_height(flowable: Flowable, width: float) -> float:
    """How much of the page the first part of ``flowable`` needs: a paragraph's first two lines,
    a table's header and first rows (measured on a small copy made with the table, never on the
    whole table: wrapping a 500-row chronology twice would double its cost), anything else
    whole."""
    probe = getattr(flowable, "bundle_probe", None)
    if probe is not None:
        return _height(probe, width)
    if isinstance(flowable, RlParagraph):
        style = flowable.style
        return min(_height(flowable, width), style.spaceBefore + 2 * style.leading)
    return _height(flowable, width)


class _RoomFor(CondPageBreak):
    """A page break unless this page has room for ``lead`` (a heading, a caption) and the start
    of ``follow`` (the next block): a heading or a caption is never left alone at the foot of a
    page, and a table after one is not carried whole to a new page either (``keepWithNext``
    would, leaving half a page blank, and it wraps the whole table to find out).

    Measured when laid out, at the width the frame gives."""

    def __init__(self, lead: Sequence[Flowable], follow: Sequence[Flowable]) -> None:
        super().__init__(0)
        self.lead, self.follow = list(lead), list(follow)

    def _needed(self, width: float) -> float:
        needed = sum(_height(f, width) for f in self.lead)
        for flowable in self.follow:
            if isinstance(flowable, CondPageBreak | _Anchor):
                continue
            if getattr(flowable, "bundle_lead", False):
                # A caption between the heading and its table: all of it, and go on.
                needed += _height(flowable, width)
                continue
            needed += _start_height(flowable, width)
            break
        return min(needed, MOST_ROOM)

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.height = self._needed(availWidth)
        return super().wrap(availWidth, availHeight)


# --- blocks to flowables -----------------------------------------------------------------------


def _ruled(commands: list[tuple], rows: int, first: int = 0) -> list[tuple]:
    """A light rule under every row, GOV.UK table style."""
    if rows > first:
        commands.append(("LINEBELOW", (0, first), (-1, -1), 0.5, RULE))
    return commands


def _wrap_lines(text: str, font: str, size: float, width: float) -> list[str]:
    """Plain text broken into lines that fit ``width``: at spaces, and a word longer than the
    column (a file name, a reference) wherever it must be, as a Paragraph would."""
    lines: list[str] = []
    for line in simpleSplit(text.replace("\r\n", "\n"), font, size, width):
        while len(line) > 1 and stringWidth(line, font, size) > width:
            cut = len(line) - 1
            while cut > 1 and stringWidth(line[:cut], font, size) > width:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
        lines.append(line)
    return lines or [""]


def _cell(text: str, width: float, bold: bool) -> str:
    """A table cell as plain lines that fit the column. Not a Paragraph: the text is plain (no
    markup to parse) and the table draws lines of a string itself, measuring each word once
    rather than at every wrap, which is most of the cost of a 500-row chronology."""
    style = styles()["cell-bold" if bold else "cell"]
    if "\n" not in text and stringWidth(text, style.fontName, style.fontSize) <= width:
        return text
    return "\n".join(_wrap_lines(text, style.fontName, style.fontSize, width))


def _split_in_row(data: Sequence[Sequence[Any]], widths: Sequence[float]) -> int:
    """reportlab's ``splitInRow`` for a table: 0 (rows move whole to the next page, so an event
    is never cut from its date) unless some row could be taller than a page (a long note), when
    rows may split inside so the bundle can still be made.

    A cell of lines is measured by counting them; for a Paragraph a cheap estimate (generous
    0.6 em per character) picks the cells worth wrapping to learn their real height."""
    limit = FRAME_HEIGHT * 0.9
    leading = styles()["cell"].leading
    for cells in data:
        for cell, width in zip(cells, widths, strict=False):
            if isinstance(cell, str):
                if (cell.count("\n") + 1) * leading > limit:
                    return 36
                continue
            if not isinstance(cell, RlParagraph):
                continue
            style = cell.style
            per_line = max(1, int(width / (0.6 * style.fontSize)))
            text = cell.getPlainText()
            lines = sum(len(part) // per_line + 1 for part in text.split("\n"))
            lines += cell.text.count("<br/>")
            if lines * style.leading > limit / 2 and cell.wrap(width, limit)[1] > limit:
                return 36
    return 0


# Words longer than this are references, file names or addresses: they may break, rather than
# widen their column.
LONGEST_KEPT_WORD = 24


def _widest_word(texts: Iterable[str], font: str, size: float) -> float:
    words = {w for text in texts for w in text.split() if len(w) <= LONGEST_KEPT_WORD}
    return max((stringWidth(w, font, size) for w in words), default=0.0)


def _column_widths(
    count: int,
    weights: Sequence[float] | None,
    headers: Sequence[str] = (),
    rows: Sequence[Sequence[str]] = (),
) -> list[float]:
    if not weights or len(weights) != count or any(w <= 0 for w in weights):
        # A wrong widths tuple is the assembly's mistake; equal columns still print everything.
        weights = [1.0] * count
    total = sum(weights)
    widths = [FRAME_WIDTH * w / total for w in weights]
    # No word is broken across lines ("Exhibi / t", "Complete / d"): a column too narrow for its
    # longest header or cell word takes the room from the columns with the most to spare, when
    # the table can hold every word at all (the widths are a function of the text alone, so the
    # layout stays deterministic).
    bold, cell = styles()["cell-bold"], styles()["cell"]
    need = []
    for n in range(count):
        head = _widest_word(headers[n : n + 1], bold.fontName, bold.fontSize)
        body = _widest_word((r[n] for r in rows if n < len(r)), cell.fontName, cell.fontSize)
        # + 1: reportlab wraps a word that exactly fits.
        need.append(max(head, body) + 2 * CELL_PADDING + 1)
    if sum(need) > FRAME_WIDTH:
        return widths  # no room for every word: the weights as given, long words break
    for n in range(count):
        # From the columns with the most to spare, as much as each can give, until it fits.
        while (short := need[n] - widths[n]) > 0.01:
            spare = max(range(count), key=lambda k: (widths[k] - need[k], -k))
            given = min(short, widths[spare] - need[spare])
            widths[spare] -= given
            widths[n] += given
    return widths


def _table(block: Table) -> list[Flowable]:
    columns = max(1, len(block.headers), *(len(r) for r in block.rows))
    widths = _column_widths(columns, block.widths, block.headers, block.rows)
    inner = [w - 2 * CELL_PADDING for w in widths]

    def row(values: Sequence[str], bold: bool) -> list[str]:
        padded = list(values) + [""] * (columns - len(values))
        return [_cell(v, inner[n], bold) for n, v in enumerate(padded)]

    header = [row(block.headers, True)] if block.headers else []
    data = header + [row(r, False) for r in block.rows]
    caption: list[Flowable] = []
    if block.caption:
        caption = [_para(block.caption, "caption")]
        caption[0].bundle_lead = True
    if not data:
        return caption
    f = fonts()
    style = styles()["cell"]
    commands: list[tuple] = [
        ("FONT", (0, 0), (-1, -1), f.regular, style.fontSize, style.leading),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        commands += [
            ("FONT", (0, 0), (-1, 0), f.bold, style.fontSize, style.leading),
            ("LINEBELOW", (0, 0), (-1, 0), 1, INK),
        ]
    _ruled(commands, len(data), 1 if header else 0)
    table = RlTable(
        data,
        colWidths=widths,
        repeatRows=1 if header else 0,
        hAlign="LEFT",
        splitInRow=_split_in_row(data, inner),
    )
    table.setStyle(TableStyle(commands))
    table.spaceAfter = 10
    # The header and first rows again, in new cells (a flowable must not sit in two tables):
    # what a heading or caption needs on its page to stay with the table.
    first = len(header) + START_ROWS
    probe = RlTable(
        header + [row(r, False) for r in block.rows[: first - len(header)]],
        colWidths=widths,
        hAlign="LEFT",
    )
    probe.setStyle(TableStyle(commands))
    table.bundle_probe = probe
    if caption:
        # The caption stays with the header and first rows; the table then splits across
        # pages with its header row repeated.
        return [_RoomFor(caption, [table]), *caption, table]
    return [table]


def _facts(block: Facts) -> list[Flowable]:
    if not block.rows:
        return []
    label_width, value_width = FRAME_WIDTH * 0.36, FRAME_WIDTH * 0.64
    data = [[_para(label, "fact-label"), _para(value, "fact")] for label, value in block.rows]
    commands: list[tuple] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 8),
        ("TOPPADDING", (0, 0), (-1, -1), 5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
    ]
    table = RlTable(
        data,
        colWidths=[label_width, value_width],
        hAlign="LEFT",
        splitInRow=_split_in_row(data, [label_width - 8, value_width - 8]),
    )
    table.setStyle(TableStyle(_ruled(commands, len(data))))
    table.spaceAfter = 12
    if len(data) > START_ROWS:
        probe_data = [
            [_para(label, "fact-label"), _para(value, "fact")]
            for label, value in block.rows[:START_ROWS]
        ]
        probe = RlTable(probe_data, colWidths=[label_width, value_width], hAlign="LEFT")
        probe.setStyle(TableStyle(commands))  # ruled above already
        table.bundle_probe = probe
    return [table]


def _signature(block: Signature) -> list[Flowable]:
    line = "." * 48
    name = block.name or "." * 48
    # The role is the block's caption, above the three lines.
    rows = [["Signed", line], ["Name", name], ["Date", "." * 30]]
    data = [[_para(label, "bold"), _para(value)] for label, value in rows]
    table = RlTable(data, colWidths=[FRAME_WIDTH * 0.2, FRAME_WIDTH * 0.8], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (0, 0), 14),  # room for a hand signature
            ]
        )
    )
    return [KeepTogether([Spacer(1, 8), _para(block.role, "caption"), table, Spacer(1, 10)])]


def _block(block: Block) -> list[Flowable]:
    match block:
        case Paragraph(text=text, emphasis=emphasis):
            return [_para(text, "bold" if emphasis else "body")]
        case Heading(text=text):
            # Kept with the next block by _section.
            return [_para(text, "h2")]
        case Facts():
            return _facts(block)
        case Table():
            return _table(block)
        case Signature():
            return _signature(block)
    raise PackRenderError(f"a pack cannot print a {type(block).__name__}")


def _section(section: Section) -> list[Flowable]:
    # The title opens a new page, so it needs no keeping with what follows.
    story: list[Flowable] = [
        PageBreak(),
        _Anchor("section", section.key, None, section.title),
        _para(section.title, "h1"),
    ]
    parts = [_block(block) for block in section.blocks]
    for n, (block, part) in enumerate(zip(section.blocks, parts, strict=True)):
        if isinstance(block, Heading):
            story.append(_RoomFor(part, parts[n + 1] if n + 1 < len(parts) else []))
        story += part
    return story


# --- exhibits ----------------------------------------------------------------------------------


def safe_filename(name: str) -> str:
    """A file name safe in a ZIP and on any file system: letters, digits, ``.-_`` only."""
    cleaned = "".join(c if c.isascii() and (c.isalnum() or c in ".-_") else "_" for c in name)
    cleaned = cleaned.strip("._") or "file"
    return cleaned[:120]


def exhibit_path(exhibit: Exhibit) -> str:
    """Where the exhibit's file sits in the ZIP (named on its description page too):
    ``exhibits/EX3-<file name>``, the label added once even if the file name already has it."""
    name = safe_filename(exhibit.filename)
    if name.startswith(f"{exhibit.label}-"):
        name = name[len(exhibit.label) + 1 :]
    return f"exhibits/{exhibit.label}-{name}"


@dataclass(frozen=True)
class _Picture:
    """A photograph or scan to print: the image as it should be drawn (the file itself unless
    its EXIF orientation says to turn it) and its size in pixels, upright."""

    content: bytes
    width: int
    height: int
    kind: str  # "JPEG" or "PNG"


@dataclass(frozen=True)
class _Bound:
    """An exhibit ready to lay out: its pages when it is a readable PDF, its picture when it is
    a readable JPEG or PNG, else (``problem``) why neither."""

    exhibit: Exhibit
    pages: tuple[PageObject, ...]
    problem: str = ""
    picture: _Picture | None = None

    @property
    def page_count(self) -> int:
        return len(self.pages) or 1


def _looks_like_pdf(exhibit: Exhibit) -> bool:
    return exhibit.media_type == "application/pdf" or exhibit.content[:5] == b"%PDF-"


# The pictures printed in the bundle: what reportlab draws exactly (JPEG is embedded as it is).
PICTURE_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG"}
PICTURE_MAGIC = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG"}
EXIF_ORIENTATION = 0x0112


def _picture_format(exhibit: Exhibit) -> str | None:
    for magic, kind in PICTURE_MAGIC.items():
        if exhibit.content.startswith(magic):
            return kind
    return PICTURE_TYPES.get(exhibit.media_type.lower())


def _read_picture(exhibit: Exhibit, kind: str) -> _Bound:
    try:
        with PilImage.open(BytesIO(exhibit.content), formats=[kind]) as image:
            # Decoded now so a broken or truncated file is described, not a failed bundle:
            # reportlab decodes every picture when drawing it (to name it by its pixels), even
            # a JPEG that it then embeds as it is.
            image.load()
            turn = image.getexif().get(EXIF_ORIENTATION, 1)
            if turn == 1:
                return _Bound(exhibit, (), picture=_Picture(exhibit.content, *image.size, kind))
            # A phone photo stored sideways with an EXIF turn: printed as it is seen, turned
            # here and encoded again in its own format with fixed settings (the same bytes for
            # the same file; the file itself travels unchanged in the ZIP).
            upright = ImageOps.exif_transpose(image)
            out = BytesIO()
            if kind == "JPEG":
                upright.convert("RGB").save(out, format="JPEG", quality=90)
            else:
                upright.save(out, format="PNG", optimize=False, compress_level=6)
            return _Bound(exhibit, (), picture=_Picture(out.getvalue(), *upright.size, kind))
    except (OSError, ValueError, SyntaxError, PilImage.DecompressionBombError) as error:
        return _Bound(exhibit, (), f"the image cannot be read ({type(error).__name__})")


def _bind(exhibit: Exhibit) -> _Bound:
    if not _looks_like_pdf(exhibit):
        kind = _picture_format(exhibit)
        if kind is not None:
            return _read_picture(exhibit, kind)
        return _Bound(exhibit, ())
    try:
        reader = PdfReader(BytesIO(exhibit.content))
        if reader.is_encrypted:
            return _Bound(exhibit, (), "the PDF is encrypted and cannot be bound in")
        pages = tuple(reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as error:
        return _Bound(exhibit, (), f"the PDF cannot be read ({type(error).__name__})")
    if not pages:
        return _Bound(exhibit, (), "the PDF has no pages")
    return _Bound(exhibit, pages)


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} bytes"
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KB ({count} bytes)"
    return f"{count / 1024 / 1024:.1f} MB ({count} bytes)"


def _exhibit_story(bound: _Bound) -> list[Flowable]:
    exhibit = bound.exhibit
    story: list[Flowable] = [PageBreak(), _Anchor("exhibit", exhibit.label, exhibit.label)]
    if bound.pages:
        # Placeholder pages: blank but for the header; the exhibit's own pages go under them.
        for n in range(len(bound.pages)):
            if n:
                story += [PageBreak(), _Anchor("page", exhibit.label, exhibit.label)]
        return story
    heading = _para(f"Exhibit {exhibit.label}: {exhibit.title}", "h1")
    facts = Facts(
        rows=(
            ("Exhibit", exhibit.label),
            ("Title", exhibit.title),
            ("Date", _long_date(exhibit.on)),
            ("File name", exhibit.filename),
            ("Media type", exhibit.media_type),
            ("Size", _size(len(exhibit.content))),
            ("SHA-256", exhibit.sha256),
            ("Source in the case record", exhibit.source),
            ("In the ZIP as", exhibit_path(exhibit)),
        )
    )
    if bound.picture is not None:
        note = (
            "The image is printed below, scaled to fit the page. The file travels unchanged in "
            "the bundle's ZIP; its SHA-256 above identifies it exactly."
        )
        return [*story, heading, *_facts(facts), _para(note, "small"), _PictureFlowable(bound)]
    why = bound.problem or "it is not a PDF or an image"
    note = (
        f"This exhibit is not printed in the bundle because {why}. The file travels unchanged in "
        "the bundle's ZIP; its SHA-256 above identifies it exactly."
    )
    return [*story, heading, *_facts(facts), _para(note, "small")]


# Below this share of its whole-page size, a picture squeezed under the description goes to a
# page of its own (still stamped with the exhibit's label) instead.
SMALLEST_SHARE = 0.75


class _PictureFlowable(Flowable):
    """An exhibit's picture, centred, scaled (never enlarged past one point a pixel) to the
    room left under its description, or to a page of its own when that room would make it
    too small to read."""

    def __init__(self, bound: _Bound) -> None:
        super().__init__()
        assert bound.picture is not None
        self.picture = bound.picture
        self.label = bound.exhibit.label
        self.hAlign = "CENTER"
        self.spaceBefore = 6

    def _scale(self, width: float, height: float) -> float:
        return min(width / self.picture.width, height / self.picture.height, 1.0)

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        whole = self._scale(availWidth, FRAME_HEIGHT - self.spaceBefore)
        here = self._scale(availWidth, availHeight - self.spaceBefore)
        # Too small here: ask for the whole-page size, which does not fit, so it moves on.
        scale = here if here >= whole * SMALLEST_SHARE else whole
        self.width = self.picture.width * scale
        self.height = self.picture.height * scale
        return self.width, self.height

    def draw(self) -> None:
        image = ImageReader(BytesIO(self.picture.content))
        # A JPEG goes into the PDF as it is (no loss, small); only a PNG may have transparency,
        # which "auto" makes a soft mask of.
        mask = "auto" if self.picture.kind == "PNG" else None
        self.canv.drawImage(image, 0, 0, self.width, self.height, mask=mask)


def _long_date(on: date) -> str:
    return f"{on.day} {on.strftime('%B %Y')}"


def _fit(text: str, font: str, size: float, width: float = 90 * mm) -> str:
    """The text cut short with an ellipsis to fit ``width`` (a running head is one line)."""
    text = " ".join(text.split())
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


# --- the canvas: header, page x of y, anchors --------------------------------------------------


def _canvas_maker(reference: str, created: date, offset: int, after: int) -> type:
    """A canvas that holds every page until the end, so each header can say "Page x of y" with
    x counted from the start of the whole bundle (``offset`` pages come before this part and
    ``after`` pages after it), and records the anchors drawn on each page."""
    base = _letter_canvas_maker(reference, created)  # the house deterministic date and ID
    f = fonts()

    class BundleCanvas(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.anchors: list[tuple[str, str, int]] = []
            self.links: list[tuple[int, int, tuple[float, float, float, float]]] = []
            self.bundle_label: str | None = None
            self.bundle_running = ""

        def bundle_anchor(self, kind: str, key: str, label: str | None, running: str) -> None:
            self.bundle_label, self.bundle_running = label, running
            self.anchors.append((kind, key, self.getPageNumber()))

        def bundle_link(self, target: int, rect: tuple[float, float, float, float]) -> None:
            self.links.append((self.getPageNumber(), target, rect))

        def save(self) -> None:
            total = offset + len(self._held) + after
            for number, state in enumerate(self._held, start=1):
                self.__dict__.update(state)
                self._header(
                    offset + number,
                    total,
                    state.get("bundle_label"),
                    state.get("bundle_running", ""),
                )
                # The letter canvas's showPage holds pages; the real one writes them.
                Canvas.showPage(self)
            self.pages_written = len(self._held)
            Canvas.save(self)

        def _header(self, number: int, total: int, label: str | None, running: str) -> None:
            self.saveState()
            self.setFillColor(INK)
            self.setFont(f.regular, 9)
            self.drawString(MARGIN, HEADER_Y, reference)
            self.drawRightString(PAGE_WIDTH - MARGIN, HEADER_Y, f"Page {number} of {total}")
            if label:
                # Boxed, so the label stands out from whatever the exhibit itself prints.
                text = f"Exhibit {label}"
                self.setFont(f.bold, 11)
                box = stringWidth(text, f.bold, 11) + 12
                self.setLineWidth(1)
                self.rect((PAGE_WIDTH - box) / 2, HEADER_Y - 4, box, 16, stroke=1, fill=0)
                self.drawCentredString(PAGE_WIDTH / 2, HEADER_Y, text)
            elif running:
                self.setFillColor(GREY)
                self.drawCentredString(PAGE_WIDTH / 2, HEADER_Y, _fit(running, f.regular, 9))
            self.setStrokeColor(RULE)
            self.setLineWidth(0.5)
            self.line(MARGIN, HEADER_RULE_Y, PAGE_WIDTH - MARGIN, HEADER_RULE_Y)
            self.restoreState()

    return BundleCanvas


@dataclass(frozen=True)
class _Part:
    content: bytes
    pages: int
    anchors: tuple[tuple[str, str, int], ...]
    # Index entries: (page, target page, rectangle) for a link from one to the other.
    links: tuple[tuple[int, int, tuple[float, float, float, float]], ...]


def _lay_out(document: PackDocument, story: list[Flowable], offset: int, after: int) -> _Part:
    buffer = BytesIO()
    template = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=document.title,
        author=document.author,
        subject=document.reference,
        creator="Casework",
        invariant=1,
        initialFontName=fonts().regular,
    )
    frame = Frame(MARGIN, MARGIN, FRAME_WIDTH, FRAME_HEIGHT, id="body", showBoundary=0)
    template.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    made: dict[str, Any] = {}
    maker = _canvas_maker(document.reference, document.created, offset, after)

    def canvasmaker(*args: Any, **kwargs: Any) -> Any:
        made["canvas"] = maker(*args, **kwargs)
        return made["canvas"]

    template.build(story, canvasmaker=canvasmaker)
    canvas = made["canvas"]
    return _Part(
        buffer.getvalue(), canvas.pages_written, tuple(canvas.anchors), tuple(canvas.links)
    )


# --- front matter ------------------------------------------------------------------------------


class _PageNumber(Flowable):
    """An index entry's page number, right-aligned. When drawn it tells the canvas where its row
    is, so the entry can be made a link to that page."""

    def __init__(self, text: str, target: int | None) -> None:
        super().__init__()
        self.text, self.target = text, target

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width, self.height = availWidth, INDEX_LEADING
        return self.width, self.height

    def draw(self) -> None:
        self.canv.setFont(fonts().regular, INDEX_SIZE)
        self.canv.setFillColor(INK)
        self.canv.drawRightString(self.width, self.height - INDEX_SIZE, self.text)
        if self.target is not None:
            _, y = self.canv.absolutePosition(0, 0)
            rect = (MARGIN, y - 4, PAGE_WIDTH - MARGIN, y + self.height + 4)
            self.canv.bundle_link(self.target, rect)


def _index_table(
    headers: tuple[str, ...], rows: list[tuple[tuple[str, ...], int | None]], widths: list[float]
) -> RlTable:
    """An index table whose last column (the page) is fixed-width and one line high, so the
    numbers printed in it cannot change the table's height."""
    f = fonts()
    style = styles()["index"]
    data: list[list[Any]] = [list(headers)]
    for texts, page in rows:
        number = _PageNumber("" if page is None else str(page), page)
        data.append([RlParagraph(_markup(t), style) for t in texts] + [number])
    commands: list[tuple] = [
        ("FONT", (0, 0), (-1, -1), f.regular, INDEX_SIZE, INDEX_LEADING),
        ("FONT", (0, 0), (-1, 0), f.bold, INDEX_SIZE, INDEX_LEADING),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ALIGN", (-1, 0), (-1, -1), "RIGHT"),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("TOPPADDING", (0, 0), (-1, -1), 4),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
        ("LINEBELOW", (0, 0), (-1, 0), 1, INK),
    ]
    table = RlTable(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle(_ruled(commands, len(data), 1)))
    table.spaceAfter = 14
    return table


def _front(document: PackDocument, starts: dict[tuple[str, str], int] | None) -> list[Flowable]:
    """Cover and index. ``starts`` maps ("section", key) and ("exhibit", label) to first pages;
    None lays the index out with blank numbers to measure it."""

    def page(kind: str, key: str) -> int | None:
        return None if starts is None else starts[(kind, key)]

    story: list[Flowable] = [
        Spacer(1, 20 * mm),
        _para(document.title, "title"),
        _para(document.reference, "reference"),
        *_facts(Facts(rows=document.cover)),
    ]
    prepared = f"Prepared by {document.author} on {_long_date(document.created)}."
    story.append(_para(prepared, "small"))
    if document.cover_notes:
        story.append(_para("Notes", "h2"))
        story += [_para(note) for note in document.cover_notes]
    story += [PageBreak(), _para("Index", "h1")]
    sections = [
        ((str(n), s.title), page("section", s.key)) for n, s in enumerate(document.sections, 1)
    ]
    story.append(
        _index_table(
            ("", "Section", "Page"),
            sections,
            [12 * mm, FRAME_WIDTH - 12 * mm - NUMBER_WIDTH, NUMBER_WIDTH],
        )
    )
    if document.exhibits:
        exhibits = [
            ((e.label, e.title, _long_date(e.on)), page("exhibit", e.label))
            for e in document.exhibits
        ]
        # Not keepWithNext: that would carry the whole table to a new page; the table splits.
        story += [
            CondPageBreak(80),
            _para("Exhibits", "h2"),
            _index_table(
                ("Exhibit", "Description", "Date", "Page"),
                exhibits,
                [
                    18 * mm,
                    FRAME_WIDTH - 18 * mm - DATE_WIDTH - NUMBER_WIDTH,
                    DATE_WIDTH,
                    NUMBER_WIDTH,
                ],
            ),
        ]
    return story


# --- putting it together -----------------------------------------------------------------------


def _check(document: PackDocument) -> None:
    if not document.reference.strip() or any(c in document.reference for c in "\r\n"):
        raise PackRenderError("a pack needs its reference (one line) for the page headers")
    if not document.sections and not document.exhibits:
        raise PackRenderError("a pack needs at least one section or exhibit")
    keys = [s.key for s in document.sections]
    if len(set(keys)) != len(keys):
        raise PackRenderError(f"section keys must be unique: {keys}")
    labels = [e.label for e in document.exhibits]
    if len(set(labels)) != len(labels):
        raise PackRenderError(f"exhibit labels must be unique: {labels}")
    for exhibit in document.exhibits:
        if hashlib.sha256(exhibit.content).hexdigest() != exhibit.sha256.lower():
            # The hash is printed in the bundle and index as proof of the file; it must be true.
            raise PackRenderError(f"exhibit {exhibit.label}: sha256 does not match its content")


def _spans(
    anchors: Iterable[tuple[str, str, int]], kind: str, keys: Sequence[str], end: int
) -> dict[str, Span]:
    """First page and page count for each section or exhibit, from the anchors; each runs up to
    the next one's start (or to ``end``, the page after the last)."""
    firsts = {key: page for k, key, page in anchors if k == kind}
    starts = [firsts[key] for key in keys]
    ends = [*starts[1:], end][: len(starts)]
    return {key: Span(s, e - s) for key, s, e in zip(keys, starts, ends, strict=True)}


def render_pack(document: PackDocument) -> RenderedPack:
    """The bundle as one A4 PDF, and where each section and exhibit starts in it."""
    _check(document)
    bound = [_bind(e) for e in document.exhibits]
    body_story: list[Flowable] = []
    for section in document.sections:
        body_story += _section(section)
    for item in bound:
        body_story += _exhibit_story(item)
    # Every section and exhibit begins with a page break; the body's first page is new anyway.
    if body_story and isinstance(body_story[0], PageBreak):
        body_story.pop(0)

    front_pages = _lay_out(document, _front(document, None), 0, 0).pages
    for _ in range(MAX_FRONT_PASSES):
        body = _lay_out(document, list(body_story), front_pages, 0)
        absolute = [(k, key, front_pages + page) for k, key, page in body.anchors]
        total = front_pages + body.pages
        sections = _spans(
            absolute,
            "section",
            [s.key for s in document.sections],
            _first_exhibit(absolute, total + 1),
        )
        exhibits = _spans(absolute, "exhibit", [e.label for e in document.exhibits], total + 1)
        starts = {("section", k): s.start for k, s in sections.items()}
        starts |= {("exhibit", k): s.start for k, s in exhibits.items()}
        front = _lay_out(document, _front(document, starts), 0, body.pages)
        if front.pages == front_pages:
            break
        front_pages = front.pages
    else:  # pragma: no cover - the index's numbers have a fixed-width column
        raise PackRenderError("the index does not settle on a page count")
    content = _join(document, front, body, bound, sections, exhibits)
    return RenderedPack(content, total, sections, exhibits)


def _first_exhibit(anchors: Iterable[tuple[str, str, int]], default: int) -> int:
    return min((page for kind, _, page in anchors if kind == "exhibit"), default=default)


def _join(
    document: PackDocument,
    front: _Part,
    body: _Part,
    bound: list[_Bound],
    sections: dict[str, Span],
    exhibits: dict[str, Span],
) -> bytes:
    writer = PdfWriter()
    for page in PdfReader(BytesIO(front.content)).pages:
        writer.add_page(page)
    body_pages = PdfReader(BytesIO(body.content)).pages
    # Page index in the body of every exhibit page, with the exhibit page to lay under it.
    under: dict[int, PageObject] = {}
    for item in bound:
        start = exhibits[item.exhibit.label].start - front.pages - 1
        for n, page in enumerate(item.pages):
            under[start + n] = page
    for n, page in enumerate(body_pages):
        if n in under:
            _bind_page(writer, under[n], page)
        else:
            writer.add_page(page)
    for page, target, rect in front.links:
        link = Link(rect=rect, border=[0, 0, 0], target_page_index=target - 1)
        writer.add_annotation(page_number=page - 1, annotation=link)
    _bookmarks(writer, document, front.pages, sections, exhibits)
    when = document.created.strftime("D:%Y%m%d000000+00'00'")
    writer.add_metadata(
        {
            "/Title": document.title,
            "/Author": document.author,
            "/Subject": document.reference,
            "/Creator": "Casework",
            "/Producer": "Casework (reportlab, pypdf)",
            "/CreationDate": when,
            "/ModDate": when,
        }
    )
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def _bookmarks(
    writer: PdfWriter,
    document: PackDocument,
    front_pages: int,
    sections: dict[str, Span],
    exhibits: dict[str, Span],
) -> None:
    """Bookmarks for the cover, the index, every section and every exhibit, as electronic court
    bundles are expected to have, opened beside the pages."""
    writer.add_outline_item(title="Cover", page_number=0)
    if front_pages > 1:
        writer.add_outline_item(title="Index", page_number=1)
    for n, section in enumerate(document.sections, start=1):
        writer.add_outline_item(
            title=f"{n}. {section.title}", page_number=sections[section.key].start - 1
        )
    if document.exhibits:
        first = exhibits[document.exhibits[0].label].start - 1
        parent = writer.add_outline_item(title="Exhibits", page_number=first)
        for item in document.exhibits:
            writer.add_outline_item(
                title=f"{item.label} {item.title}",
                page_number=exhibits[item.label].start - 1,
                parent=parent,
            )
    writer.page_mode = "/UseOutlines"


def _bind_page(writer: PdfWriter, exhibit_page: PageObject, overlay: PageObject) -> None:
    """An exhibit page scaled (never enlarged) into the area below the header, centred, with
    the placeholder page (header, label, page number) laid over it."""
    box = exhibit_page.cropbox
    left, bottom = float(box.left), float(box.bottom)
    width, height = float(box.width), float(box.height)
    # /Rotate turns the page clockwise when shown; turn its content instead so the page reads
    # upright on an A4 page of the bundle.
    turn = exhibit_page.rotation % 360
    shift = {90: (0.0, width), 180: (width, height), 270: (height, 0.0)}.get(turn, (0.0, 0.0))
    if turn in (90, 270):
        width, height = height, width
    scale = min(PAGE_WIDTH / width, EXHIBIT_TOP / height, 1.0)
    x = (PAGE_WIDTH - width * scale) / 2
    y = EXHIBIT_TOP - height * scale
    placed = (
        Transformation()
        .translate(-left, -bottom)
        .rotate(-turn)
        .translate(*shift)
        .scale(scale, scale)
        .translate(x, y)
    )
    new = writer.add_blank_page(PAGE_WIDTH, PAGE_HEIGHT)
    new.merge_transformed_page(exhibit_page, placed)
    new.merge_page(overlay)
