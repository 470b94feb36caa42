"""A court pack as a document: what the assembly (``workflows.packs.content``) makes from the case
record and the renderer (``workflows.packs.pdf`` and ``bundle``) lays out as one paginated PDF and
a ZIP. The two meet only here.

The document holds no domain objects, only text, tables and exhibit files, so the renderer needs no
knowledge of cases and the assembly no knowledge of pages. Everything is frozen and ordered: the
same record gives the same document, and the renderer turns the same document into the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Paragraph:
    """Plain text (never markup: the renderer escapes it). ``emphasis`` prints it in bold."""

    text: str
    emphasis: bool = False


@dataclass(frozen=True)
class Facts:
    """Label and value pairs, laid out as a two-column list ("Date of birth" | "3 May 2013")."""

    rows: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Table:
    """A table with a header row repeated on every page it spans. ``widths`` are relative column
    widths (they need not add up to anything); ``None`` shares the width equally."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...] | None = None
    caption: str = ""


@dataclass(frozen=True)
class Heading:
    """A sub-heading inside a section (sections carry their own, level-1 heading)."""

    text: str


@dataclass(frozen=True)
class Signature:
    """Space to sign: "Signed ........  Name ........  Date ........" for one person."""

    role: str
    name: str = ""


Block = Paragraph | Facts | Table | Heading | Signature


@dataclass(frozen=True)
class Section:
    """One entry in the index: a titled part of the bundle starting on a new page.

    ``key`` is stable and machine-readable ("chronology", "attendance_certificate"); the ZIP's
    index.json names sections by it.
    """

    key: str
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Exhibit:
    """A file from the case record, bound into the bundle after the sections.

    ``label`` ("EX1", "EX2", ...) is stamped on every page of the exhibit and named wherever the
    sections refer to it. A PDF exhibit's own pages are included; any other file gets one page
    describing it (name, type, size, sha256), followed by the picture itself for a JPEG or PNG,
    and travels in the ZIP as it is. ``filename`` is the file's own name (the renderer adds the
    label in the ZIP); ``sha256`` must be the content's (the renderer refuses a mismatch).
    """

    label: str
    title: str
    on: date
    filename: str
    media_type: str
    content: bytes
    sha256: str
    # Where it came from in the record: "letter 3", "attachment 41", "penalty notice PN-...".
    source: str


@dataclass(frozen=True)
class PackDocument:
    """The whole bundle: a cover, then the sections in order, then the exhibits.

    ``reference`` (the case reference and the pack's number, "CW-00042-P1") goes in every page's
    header with "Page x of y". ``created`` is the date the record was read (the PDF's creation
    date, fixed so the bytes do not depend on the clock). ``cover`` holds the court, each parent,
    the pupil, the school, the offence and the period as label and value pairs.
    """

    reference: str
    title: str
    created: date
    author: str
    cover: tuple[tuple[str, str], ...]
    sections: tuple[Section, ...]
    exhibits: tuple[Exhibit, ...] = field(default_factory=tuple)
    # Printed under the cover: who built it and the completeness warnings accepted at build.
    cover_notes: tuple[str, ...] = field(default_factory=tuple)
