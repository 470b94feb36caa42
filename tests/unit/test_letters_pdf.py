"""The letter PDF renderer: A4, deterministic, numbered pages with the reference, and strict
about the HTML it is given."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from notifications.pdf import PdfRenderError, page_count, parse, render_pdf
from tests.unit.test_letters_golden import rendered_html, rendered_pdf

SIMPLE = "<h1>Title</h1><p>Hello <strong>there</strong>.</p>"


def _render(html: str = SIMPLE, **changes) -> bytes:
    args = {
        "reference": "LT-1",
        "title": "A letter",
        "author": "Example Council",
        "created": date(2024, 11, 20),
        **changes,
    }
    return render_pdf(html, **args).content


def test_the_same_letter_gives_the_same_bytes(monkeypatch):
    first = rendered_pdf("notice_to_improve")
    # Neither the environment's reproducible-build date nor the time of day changes it.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert rendered_pdf("notice_to_improve") == first


def test_the_creation_date_is_the_letters_date():
    reader = PdfReader(io.BytesIO(_render(created=date(2025, 1, 15))))
    assert reader.metadata["/CreationDate"].startswith("D:20250115000000")
    assert reader.metadata["/Title"] == "A letter"
    assert _render(created=date(2025, 1, 15)) != _render(created=date(2025, 1, 16))


def test_every_page_is_a4_and_carries_the_reference_and_page_x_of_y():
    content = rendered_pdf("notice_to_improve")
    reader = PdfReader(io.BytesIO(content))
    total = len(reader.pages)
    assert total >= 2
    assert page_count(content) == total
    for number, page in enumerate(reader.pages, start=1):
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert (round(width), round(height)) == (595, 842)
        text = page.extract_text()
        assert "Reference LT-340-24-00001-03" in text
        assert f"Page {number} of {total}" in text


def test_the_existing_penalty_notice_renders_with_its_contents():
    content = rendered_pdf("penalty_notice")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    for words in ("Penalty notice", "£80.00", "You cannot appeal", "PN-"):
        assert words in " ".join(text.split())
    assert "Penalty notice" in rendered_html("penalty_notice")


def test_accented_names_survive():
    text = PdfReader(io.BytesIO(_render("<p>Zoë Łukasz Ștefan Nguyễn</p>"))).pages[0]
    assert "Zoë" in text.extract_text()


@pytest.mark.parametrize(
    ("html", "complaint"),
    [
        ('<p>See <img src="x.png"></p>', "<img> is not part of a letter"),
        ('<p><a href="https://example.org">link</a></p>', "<a> is not part of a letter"),
        ("<script>alert(1)</script>", "<script> is not part of a letter"),
        ("<p>Open <strong>bold</p>", "</p> closes <strong>"),
        ("<div><p>never closed</p>", "<div> opened on line 1 is never closed"),
        ("<ul>loose text<li>x</li></ul>", "text directly inside <ul>"),
        ("<p><h2>heading in a paragraph</h2></p>", "<h2> cannot sit inside a line of text"),
        ("<td>a cell alone</td>", "<td> is only allowed inside its parent element"),
        ("<head><title>nothing</title></head>", "holds nothing to print"),
    ],
)
def test_html_outside_the_letter_vocabulary_is_refused_loudly(html, complaint):
    with pytest.raises(PdfRenderError, match="(?s)" + __import__("re").escape(complaint)):
        _render(html)


def test_the_line_of_an_unknown_tag_is_named():
    with pytest.raises(PdfRenderError, match="line 3: <iframe>"):
        parse("<p>one</p>\n<p>two</p>\n<iframe></iframe>")


def test_a_reference_is_required_for_the_footer():
    with pytest.raises(PdfRenderError, match="reference"):
        _render(reference=" ")


def test_tables_lists_and_breaks_render():
    html = """
    <table class="grid"><caption>Sessions</caption>
      <thead><tr><th>Date</th><th>Code</th></tr></thead>
      <tbody><tr><td>4 November 2024</td><td>O</td></tr></tbody>
    </table>
    <ol><li>First</li><li>Second</li></ol>
    <address>1 Example Road<br>Exampletown</address>
    <p class="lines">A<br>B</p>
    """
    text = PdfReader(io.BytesIO(_render(html))).pages[0].extract_text()
    for words in ("Sessions", "4 November 2024", "1\nFirst", "2\nSecond", "Exampletown"):
        assert words in text
