"""A tiny PDF writer for the tests: pages of text lines in Helvetica, placed where asked.

pypdf reads PDFs but cannot write text, and reportlab is not a dependency; this is just enough
PDF (catalog, pages, one standard font, one content stream per page, a cross-reference table)
for pypdf to extract the text the way it extracts a PDF saved from Word.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

PAGE_WIDTH = 595  # A4, in points
PAGE_HEIGHT = 842
FONT_SIZE = 10


class TextLine(NamedTuple):
    """One line of text with its baseline's start, in points from the page's bottom-left corner."""

    x: float
    y: float
    text: str


def pdf_document(pages: Sequence[Sequence[TextLine]]) -> bytes:
    """A valid PDF whose pages hold these lines, drawn in the order given."""
    font_id = 3
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        font_id: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    }
    page_ids = []
    for number, lines in enumerate(pages):
        page_id, content_id = 4 + 2 * number, 5 + 2 * number
        page_ids.append(page_id)
        content = b"".join(
            b"BT /F1 %d Tf 1 0 0 1 %.2f %.2f Tm (%s) Tj ET\n" % (FONT_SIZE, line.x, line.y, _pdf_string(line.text))
            for line in lines
        )
        objects[content_id] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content)
        objects[page_id] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Resources << /Font << /F1 %d 0 R >> >> "
            b"/Contents %d 0 R >>" % (PAGE_WIDTH, PAGE_HEIGHT, font_id, content_id)
        )
    kids = b" ".join(b"%d 0 R" % page_id for page_id in page_ids)
    objects[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(page_ids))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for object_id in sorted(objects):
        offsets[object_id] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (object_id, objects[object_id])
    xref_at = len(out)
    count = max(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % count
    for object_id in range(1, count):
        out += b"%010d 00000 n \n" % offsets[object_id]
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (count, xref_at)
    return bytes(out)


def _pdf_string(text: str) -> bytes:
    """A literal string in WinAnsi (cp1252), with the three characters PDF strings escape."""
    raw = text.encode("cp1252")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
