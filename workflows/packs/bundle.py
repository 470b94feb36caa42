"""A court pack as the files that leave the system: the PDF and a ZIP holding the PDF, every
exhibit file exactly as recorded and ``index.json`` (a machine-readable index).

Both are deterministic: the same document gives the same bytes, so the hash recorded on the case
proves which version went to court. The ZIP's entries are written in a fixed order with a fixed
date (``document.created``), fixed permissions and fixed compression; the JSON has sorted keys.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from workflows.packs.document import PackDocument
from workflows.packs.pdf import RenderedPack, exhibit_path, render_pack, safe_filename

# rw-r--r-- on a regular file, whatever the process's umask.
FILE_MODE = 0o100644
INDEX_FORMAT = 1
COMPRESSED = (".pdf", ".jpg", ".jpeg", ".png", ".gif", ".zip", ".docx", ".xlsx", ".odt", ".mp3")


@dataclass(frozen=True)
class Bundle:
    pdf: bytes
    zip: bytes
    pages: int
    # What index.json holds, as a dict.
    index: dict[str, Any]

    @property
    def pdf_sha256(self) -> str:
        return hashlib.sha256(self.pdf).hexdigest()

    @property
    def zip_sha256(self) -> str:
        return hashlib.sha256(self.zip).hexdigest()


def pdf_name(document: PackDocument) -> str:
    return f"{safe_filename(document.reference)}.pdf"


def _index(document: PackDocument, rendered: RenderedPack) -> dict[str, Any]:
    return {
        "format": INDEX_FORMAT,
        "reference": document.reference,
        "title": document.title,
        "created": document.created.isoformat(),
        "author": document.author,
        "cover": [{"label": label, "value": value} for label, value in document.cover],
        "cover_notes": list(document.cover_notes),
        "pdf": {
            "file": pdf_name(document),
            "sha256": hashlib.sha256(rendered.content).hexdigest(),
            "pages": rendered.pages,
        },
        "sections": [
            {
                "key": s.key,
                "title": s.title,
                "start_page": rendered.sections[s.key].start,
                "page_count": rendered.sections[s.key].pages,
            }
            for s in document.sections
        ],
        "exhibits": [
            {
                "label": e.label,
                "title": e.title,
                "date": e.on.isoformat(),
                "filename": e.filename,
                "file": exhibit_path(e),
                "media_type": e.media_type,
                "size": len(e.content),
                "sha256": e.sha256.lower(),
                "source": e.source,
                "start_page": rendered.exhibits[e.label].start,
                "page_count": rendered.exhibits[e.label].pages,
            }
            for e in document.exhibits
        ],
    }


def _zip(document: PackDocument, pdf: bytes, index: dict[str, Any]) -> bytes:
    when = (document.created.year, document.created.month, document.created.day, 0, 0, 0)
    entries: list[tuple[str, bytes]] = [
        (pdf_name(document), pdf),
        ("index.json", (json.dumps(index, sort_keys=True, indent=2) + "\n").encode()),
        *((exhibit_path(e), e.content) for e in document.exhibits),
    ]
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries:
            info = zipfile.ZipInfo(name, date_time=when)
            info.external_attr = FILE_MODE << 16
            info.create_system = 3  # Unix, so the mode above is read as one everywhere
            # PDFs, images and Office files are compressed already; deflating them again costs
            # time for nothing.
            info.compress_type = (
                zipfile.ZIP_STORED if name.lower().endswith(COMPRESSED) else zipfile.ZIP_DEFLATED
            )
            archive.writestr(info, content, compresslevel=6)
    return buffer.getvalue()


def build_bundle(document: PackDocument) -> Bundle:
    """The PDF, the ZIP and the index for a pack document (PackRenderError if it cannot be laid
    out)."""
    rendered = render_pack(document)
    index = _index(document, rendered)
    return Bundle(rendered.content, _zip(document, rendered.content, index), rendered.pages, index)
