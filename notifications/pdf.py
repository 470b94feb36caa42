"""Letters to PDF: the small, fixed HTML vocabulary the letter templates use, laid out on A4 with
reportlab Platypus (no browser engine, no system libraries).

The HTML is parsed with the standard library's parser into a tree and every tag is checked
against the vocabulary below: a tag outside it (an image, a link, a script, a form) stops the
render with its line number, so a template can never produce a PDF that silently lost part of a
letter. Presentation comes from a handful of class names (``lines``, ``from``, ``letterhead``,
``callout``, ``keep``, ``signature``, ``grid``); other classes are ignored.

The same HTML gives the same bytes: reportlab's invariant mode, the creation date fixed to the
letter's date, no random IDs. Every page's footer carries the letter reference and "Page x of y".
"""

from __future__ import annotations

import calendar
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import TimeStamp
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    HRFlowable,
    KeepTogether,
    ListFlowable,
    ListItem,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

# --- the vocabulary ---------------------------------------------------------------------------

# Containers: their content is laid out in order; classes may change how.
STRUCTURE = frozenset(
    {"html", "body", "article", "section", "header", "footer", "main", "div", "address"}
)
# Document metadata for browsers: parsed, checked, not printed.
METADATA = frozenset({"head", "title", "style", "meta"})
BLOCKS = frozenset({"h1", "h2", "h3", "p", "ul", "ol", "li", "hr"})
TABLES = frozenset({"table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td"})
INLINE = frozenset({"strong", "b", "em", "i", "span", "small", "br"})
ALLOWED = STRUCTURE | METADATA | BLOCKS | TABLES | INLINE
VOID = frozenset({"br", "hr", "meta"})

MARGIN = 18 * mm
FOOTER_GAP = 9 * mm
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


class PdfRenderError(ValueError):
    """The HTML uses something the PDF renderer does not lay out; nothing is produced."""


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    line: int
    children: list[Element | str] = field(default_factory=list)

    @property
    def classes(self) -> frozenset[str]:
        return frozenset((self.attrs.get("class") or "").split())

    def elements(self) -> list[Element]:
        return [c for c in self.children if isinstance(c, Element)]

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, 0)
        self.stack = [self.root]

    def _check(self, tag: str) -> None:
        if tag not in ALLOWED:
            line = self.getpos()[0]
            raise PdfRenderError(
                f"line {line}: <{tag}> is not part of a letter's HTML; use only "
                + ", ".join(f"<{t}>" for t in sorted(ALLOWED))
            )

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._check(tag)
        element = Element(tag, {k: v or "" for k, v in attrs}, self.getpos()[0])
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._check(tag)
        self.stack[-1].children.append(Element(tag, {k: v or "" for k, v in attrs}, 0))

    def handle_endtag(self, tag: str) -> None:
        self._check(tag)
        if tag in VOID:
            return
        current = self.stack[-1]
        if current.tag != tag:
            raise PdfRenderError(
                f"line {self.getpos()[0]}: </{tag}> closes <{current.tag}> "
                f"(opened on line {current.line}); every element must be closed in order"
            )
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)

    def close(self) -> None:
        super().close()
        if len(self.stack) > 1:
            open_ = self.stack[-1]
            raise PdfRenderError(f"<{open_.tag}> opened on line {open_.line} is never closed")


def parse(html: str) -> Element:
    """The HTML as a checked tree (PdfRenderError for a tag outside the vocabulary)."""
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


# --- fonts and styles --------------------------------------------------------------------------


@dataclass(frozen=True)
class Fonts:
    regular: str
    bold: str
    italic: str
    bold_italic: str


@cache
def fonts() -> Fonts:
    """DejaVu Sans (every accented Latin letter and more, for parents' names) when the system
    has it, embedded as a subset; otherwise the PDF standard Helvetica."""
    files = {
        "CaseworkSans": "DejaVuSans.ttf",
        "CaseworkSans-Bold": "DejaVuSans-Bold.ttf",
        "CaseworkSans-Oblique": "DejaVuSans-Oblique.ttf",
        "CaseworkSans-BoldOblique": "DejaVuSans-BoldOblique.ttf",
    }
    if all((FONT_DIR / name).is_file() for name in files.values()):
        for font_name, file_name in files.items():
            pdfmetrics.registerFont(TTFont(font_name, str(FONT_DIR / file_name)))
        pdfmetrics.registerFontFamily(
            "CaseworkSans",
            normal="CaseworkSans",
            bold="CaseworkSans-Bold",
            italic="CaseworkSans-Oblique",
            boldItalic="CaseworkSans-BoldOblique",
        )
        return Fonts(*files)
    return Fonts("Helvetica", "Helvetica-Bold", "Helvetica-Oblique", "Helvetica-BoldOblique")


@cache
def styles() -> dict[str, ParagraphStyle]:
    f = fonts()
    body = ParagraphStyle(
        "body", fontName=f.regular, fontSize=11.5, leading=15.5, spaceAfter=6, alignment=TA_LEFT
    )
    return {
        "body": body,
        "lines": replace_style(body, "lines", spaceAfter=0),
        "h1": replace_style(
            body, "h1", fontName=f.bold, fontSize=17, leading=21, spaceBefore=8, spaceAfter=6
        ),
        "h2": replace_style(
            body, "h2", fontName=f.bold, fontSize=13.5, leading=17, spaceBefore=9, spaceAfter=4
        ),
        "h3": replace_style(
            body, "h3", fontName=f.bold, fontSize=12, leading=15.5, spaceBefore=6, spaceAfter=3
        ),
        "cell": replace_style(body, "cell", fontSize=10.5, leading=13.5, spaceAfter=2),
        "caption": replace_style(body, "caption", fontName=f.bold, spaceBefore=4, spaceAfter=3),
        "small": replace_style(body, "small", fontSize=10, leading=13, spaceAfter=4),
        "small-lines": replace_style(body, "small-lines", fontSize=10, leading=13, spaceAfter=0),
    }


def replace_style(base: ParagraphStyle, name: str, **changes) -> ParagraphStyle:
    return ParagraphStyle(name, parent=base, **changes)


# --- HTML to flowables -------------------------------------------------------------------------


@dataclass(frozen=True)
class Look:
    """Presentation inherited from the enclosing elements."""

    align: int = TA_LEFT
    lines: bool = False  # address-style lines: no space between paragraphs
    bold: bool = False  # table header cells
    in_table: bool = False
    small: bool = False  # the footer's notes


_SPACE = re.compile(r"\s+")


def _inline(node: Element | str) -> str:
    """reportlab paragraph markup for inline content (text escaped, whitespace collapsed)."""
    if isinstance(node, str):
        return escape(_SPACE.sub(" ", node))
    if node.tag not in INLINE:
        raise PdfRenderError(
            f"line {node.line}: <{node.tag}> cannot sit inside a line of text; "
            "only <strong>, <em>, <span>, <small> and <br> can"
        )
    inner = "".join(_inline(c) for c in node.children)
    match node.tag:
        case "br":
            return "<br/>"
        case "strong" | "b":
            return f"<b>{inner}</b>"
        case "em" | "i":
            return f"<i>{inner}</i>"
        case "small":
            return f'<font size="9">{inner}</font>'
        case _:  # span
            return f"<b>{inner}</b>" if "money" in node.classes else inner


def _clean(markup: str) -> str:
    text = markup.strip()
    # A line break at either end of a paragraph is only whitespace in the source.
    text = re.sub(r"^(<br/>\s*)+|(\s*<br/>)+$", "", text)
    return re.sub(r"\s*<br/>\s*", "<br/>", text)


def _paragraph(markup: str, look: Look, style: str = "body") -> Paragraph | None:
    text = _clean(markup)
    if not text:
        return None
    name = style
    if look.in_table:
        name = "cell"
    elif style == "body" and (look.lines or look.small):
        name = "small-lines" if look.small and look.lines else "small" if look.small else "lines"
    base = styles()[name]
    if look.bold and style in ("body", "cell"):
        text = f"<b>{text}</b>"
    if look.align != base.alignment:
        base = replace_style(base, f"{name}-aligned", alignment=look.align)
    return Paragraph(text, base)


def _look_of(element: Element, look: Look) -> Look:
    classes = element.classes
    if element.tag == "address" or "lines" in classes or "signature" in classes:
        look = replace(look, lines=True)
    if "from" in classes or "right" in classes:
        look = replace(look, align=TA_RIGHT)
    if element.tag == "footer":
        look = replace(look, small=True)
    return look


def _flow(children: Iterable[Element | str], look: Look) -> list[Flowable]:
    """Flowables for a run of children: text and inline elements gather into paragraphs
    (as a browser makes anonymous blocks); block elements lay out in turn."""
    out: list[Flowable] = []
    pending: list[str] = []

    def flush() -> None:
        made = _paragraph("".join(pending), look)
        if made is not None:
            out.append(made)
        pending.clear()

    for child in children:
        if isinstance(child, str) or child.tag in INLINE:
            pending.append(_inline(child))
            continue
        flush()
        out.extend(_block(child, look))
    flush()
    return out


def _block(element: Element, look: Look) -> list[Flowable]:
    tag = element.tag
    if tag in METADATA:
        return []
    if tag in STRUCTURE:
        inner = _look_of(element, look)
        classes = element.classes
        if "letterhead" in classes:
            return _letterhead(element, inner)
        made = _flow(element.children, inner)
        if "callout" in classes:
            made = [_callout(made)]
        if "signature" in classes:
            made = [Spacer(1, 10), *made]
        if tag == "footer" and made:
            made = [
                Spacer(1, 12),
                HRFlowable(width="100%", thickness=0.5, color=colors.grey, spaceAfter=6),
                *made,
            ]
        if classes & {"keep", "signature"} or tag == "address":
            return [KeepTogether(made)] if made else []
        return made
    if tag in ("h1", "h2", "h3"):
        made = _paragraph("".join(_inline(c) for c in element.children), look, tag)
        if made is None:
            return []
        made.keepWithNext = True
        return [made]
    if tag == "p":
        made = _paragraph("".join(_inline(c) for c in element.children), _look_of(element, look))
        return [made] if made is not None else []
    if tag in ("ul", "ol"):
        return _list(element, look)
    if tag == "hr":
        return [HRFlowable(width="100%", thickness=0.6, color=colors.grey, spaceAfter=6)]
    if tag == "table":
        return _table(element, look)
    raise PdfRenderError(f"line {element.line}: <{tag}> is only allowed inside its parent element")


def _only(element: Element, *tags: str) -> list[Element]:
    for child in element.children:
        if isinstance(child, str) and child.strip():
            raise PdfRenderError(
                f"line {element.line}: text directly inside <{element.tag}> must be in "
                + " or ".join(f"<{t}>" for t in tags)
            )
        if isinstance(child, Element) and child.tag not in tags:
            raise PdfRenderError(
                f"line {child.line}: <{child.tag}> cannot sit directly inside <{element.tag}>"
            )
    return element.elements()


def _list(element: Element, look: Look) -> ListFlowable:
    items = [ListItem(_flow(li.children, look) or [Spacer(1, 0)]) for li in _only(element, "li")]
    numbered = element.tag == "ol"
    return [
        ListFlowable(
            items,
            bulletType="1" if numbered else "bullet",
            start=None if numbered else "\u2022",
            leftIndent=16,
            bulletFontName=fonts().regular,
            bulletFontSize=10 if numbered else 11,
            spaceAfter=6,
        )
    ]


def _callout(made: list[Flowable]) -> Table:
    box = Table([[made]], colWidths=["100%"])
    box.setStyle(
        TableStyle(
            [
                ("LINEBEFORE", (0, 0), (0, 0), 3, colors.black),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    box.spaceAfter = 6
    return box


def _letterhead(element: Element, look: Look) -> list[Flowable]:
    """Two blocks side by side (the recipient's address, the sender's); anything else stacks."""
    parts = element.elements()
    if len(parts) != 2 or any(isinstance(c, str) and c.strip() for c in element.children):
        return _flow(element.children, look)
    left, right = (_block(part, look) for part in parts)
    table = Table([[left, right]], colWidths=["50%", "50%"])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    table.spaceAfter = 10
    return [table]


def _rows(table: Element) -> tuple[list[Element], int, Element | None]:
    rows: list[Element] = []
    header = 0
    caption = None
    for child in _only(table, "caption", "thead", "tbody", "tfoot", "tr"):
        if child.tag == "caption":
            caption = child
        elif child.tag == "tr":
            rows.append(child)
        else:
            group = _only(child, "tr")
            if child.tag == "thead" and not rows:
                header += len(group)
            rows.extend(group)
    return rows, header, caption


def _table(element: Element, look: Look) -> list[Flowable]:
    rows, header, caption = _rows(element)
    out: list[Flowable] = []
    if caption is not None:
        made = _paragraph("".join(_inline(c) for c in caption.children), look, "caption")
        if made is not None:
            # The caption and the first rows stay together; a long table then splits across
            # pages with its header rows repeated.
            out += [CondPageBreak(70), made]
    if not rows:
        return out
    data, weights = [], []
    for row in rows:
        cells = _only(row, "th", "td")
        data.append(
            [
                _flow(cell.children, replace(look, in_table=True, bold=cell.tag == "th")) or ""
                for cell in cells
            ]
        )
        for n, cell in enumerate(cells):
            size = min(max(len(_SPACE.sub(" ", cell.text()).strip()), 6), 48)
            if n == len(weights):
                weights.append(size)
            else:
                weights[n] = max(weights[n], size)
    columns = len(weights)
    for row in data:
        row.extend([""] * (columns - len(row)))
    width = A4[0] - 2 * MARGIN
    total = sum(weights)
    grid = "grid" in element.classes
    table = Table(
        data,
        colWidths=[width * w / total for w in weights],
        repeatRows=header,
        hAlign="LEFT",
    )
    commands = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 4 if grid else 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 6),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if grid:
        commands.append(("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#505a5f")))
        if header:
            commands.append(("BACKGROUND", (0, 0), (-1, header - 1), colors.HexColor("#f3f2f1")))
    table.setStyle(TableStyle(commands))
    table.spaceAfter = 8
    out.append(table)
    return out


# --- the document ------------------------------------------------------------------------------


def _stamp(on: date) -> TimeStamp:
    """A timestamp fixed at midnight UTC of the letter's date (not the clock, not the
    environment's SOURCE_DATE_EPOCH)."""
    stamp = TimeStamp(invariant=1)
    seconds = calendar.timegm(on.timetuple())
    stamp.t = seconds
    stamp.lt = (on.year, on.month, on.day, 0, 0, 0, on.weekday(), on.timetuple().tm_yday, 0)
    stamp.YMDhms = (on.year, on.month, on.day, 0, 0, 0)
    stamp.dhh = stamp.dmm = 0
    stamp.tzname = "UTC"
    return stamp


def _canvas_maker(reference: str, created: date):
    footer_font = fonts().regular

    class NumberedCanvas(Canvas):
        """Holds each page until the end, so every footer can say "Page x of y"."""

        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            # The document's date, and its ID (a digest seeded with that date), from the
            # letter's date alone.
            stamp = self._doc._timeStamp = _stamp(created)
            self._doc.signature = hashlib.md5(b"a reportlab document", usedforsecurity=False)
            self._doc.signature.update(ascii(stamp.t).encode())
            self._held: list[dict] = []

        def showPage(self) -> None:
            self._held.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._held)
            for number, state in enumerate(self._held, start=1):
                self.__dict__.update(state)
                self._footer(number, total)
                super().showPage()
            super().save()

        def _footer(self, number: int, total: int) -> None:
            width, _ = self._pagesize
            y = MARGIN - FOOTER_GAP
            self.saveState()
            self.setStrokeColor(colors.HexColor("#b1b4b6"))
            self.setLineWidth(0.5)
            self.line(MARGIN, y + 11, width - MARGIN, y + 11)
            self.setFont(footer_font, 9)
            self.setFillColor(colors.black)
            self.drawString(MARGIN, y, f"Reference {reference}")
            self.drawRightString(width - MARGIN, y, f"Page {number} of {total}")
            self.restoreState()

    return NumberedCanvas


@dataclass(frozen=True)
class RenderedPdf:
    content: bytes
    pages: int


def render_pdf(
    html: str,
    *,
    reference: str,
    title: str,
    author: str,
    created: date,
    subject: str = "",
) -> RenderedPdf:
    """The letter's HTML as an A4 PDF. PdfRenderError when the HTML strays outside the
    letter vocabulary or holds nothing to print."""
    if not reference.strip() or any(c in reference for c in "\r\n"):
        raise PdfRenderError("a letter's PDF needs its reference (one line) for the footer")
    tree = parse(html)
    story = _flow(tree.children, Look())
    if not story:
        raise PdfRenderError("the HTML holds nothing to print")
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 4 * mm,
        title=title,
        author=author,
        subject=subject,
        creator="Casework",
        invariant=1,
        initialFontName=fonts().regular,
    )
    document.build(story, canvasmaker=_canvas_maker(reference, created))
    content = buffer.getvalue()
    return RenderedPdf(content, page_count(content))


_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def page_count(pdf: bytes) -> int:
    """Pages in a PDF reportlab wrote (its page objects are not in compressed object streams)."""
    return len(_PAGE.findall(pdf))
