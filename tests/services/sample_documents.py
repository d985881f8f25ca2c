"""The seed PCC response (samples/oic-2025-cheshire-pcc-response.txt) as a Word document, a PDF and an Excel tracker.

The committed samples in tests/services/documents/ were made by running this module:

    .venv/bin/python -m tests.services.sample_documents

Both are laid out as a PCC's office lays out the original: the commissioner's block at the top of
every page, a heading, the metadata with bold labels, a summary, the recommendations in a two-column
table (label and text on the left, the force's response on the right), then the commissioner's
response. The PDF breaks the page inside the last row, as the seed does. The tracker is what
`recbot export` writes for the seed. The texts come from the seed itself, so the samples must
import as exactly the same report.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

from domain.records import ReportRecord
from services.export import write_xlsx
from services.importers import parse_pcc_document
from tests.services.minimal_pdf import PAGE_HEIGHT, TextLine, pdf_document

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "samples" / "oic-2025-cheshire-pcc-response.txt"
DOCUMENTS = Path(__file__).resolve().parent / "documents"
SAMPLE_DOCX = DOCUMENTS / "oic-2025-cheshire-pcc-response.docx"
SAMPLE_PDF = DOCUMENTS / "oic-2025-cheshire-pcc-response.pdf"
SAMPLE_XLSX = DOCUMENTS / "oic-2025-tracker.xlsx"

HEADER = ("Dan Price", "Cheshire", "Police & Crime", "Commissioner")
HEADING = (
    "Cheshire Police and Crime Commissioner's response to His Majesty's Inspectorate of Police and Fire and "
    "Rescue Services (HMICFRS) Inspections"
)
METADATA = (
    ("Title of inspection: ", "Improving the response to organised immigration crime"),
    ("Published on: ", "16th May 2025"),
    ("Inspection types: ", "Thematic"),
    ("Recommendations: ", "National"),
    ("Cheshire Specific: ", "No"),
)
TABLE_HEADING = "Recommendations from Inspectors and Constabulary response"
TABLE_HEADER_ROW = ("Recommendation", "Constabulary response")


def seed_report() -> ReportRecord:
    """The seed as the .txt importer reads it: what every other format must import as."""
    return parse_pcc_document(SEED.read_text(encoding="utf-8"), source_name=SEED.name)


def _seed_paragraphs(after: str, before: str) -> list[str]:
    """The seed's prose paragraphs between two lines (the summary, the commissioner's response)."""
    text = SEED.read_text(encoding="utf-8")
    section = text[text.index(after) + len(after) : text.index(before, text.index(after))]
    return [line.strip() for line in section.splitlines() if line.strip() and line.strip("* ") not in HEADER]


def summary_paragraphs() -> list[str]:
    return _seed_paragraphs("### **Report summary**", "## Recommendations from")


def commissioner_paragraphs() -> list[str]:
    return _seed_paragraphs("### **Commissioner's Response:**", "**Dan Price**")


def seed_docx() -> bytes:
    """The seed as a Word document: the commissioner's block in the page header, the items in a table."""
    from docx import Document

    report = seed_report()
    document = Document()
    header = document.sections[0].header.paragraphs[0]
    for index, line in enumerate(HEADER):
        run = header.add_run(line)
        run.bold = index == 0
        if index < len(HEADER) - 1:
            run.add_break()
    document.add_heading(HEADING, level=2)
    for label, value in METADATA:
        paragraph = document.add_paragraph()
        paragraph.add_run(label).bold = True
        if value.startswith("16th"):
            paragraph.add_run("16")
            paragraph.add_run("th").font.superscript = True
            paragraph.add_run(value[4:])
        else:
            paragraph.add_run(value)
    document.add_heading("Report summary", level=3)
    for prose in summary_paragraphs():
        document.add_paragraph(prose)
    document.add_heading(TABLE_HEADING, level=2)
    table = document.add_table(rows=1, cols=2)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, TABLE_HEADER_ROW, strict=True):
        cell.paragraphs[0].add_run(text).bold = True
    for item in report.items:
        left, right = table.add_row().cells
        left.paragraphs[0].add_run(f"Recommendation {item.number}").bold = True
        left.add_paragraph(item.text)
        right.paragraphs[0].add_run(item.response)
    document.add_heading("Commissioner's Response:", level=3)
    for prose in commissioner_paragraphs():
        document.add_paragraph(prose)
    document.add_paragraph().add_run("Dan Price").bold = True
    document.add_paragraph("Cheshire Police and Crime Commissioner")
    document.core_properties.author = "RecBot tests"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


_LEFT = 56
_RIGHT_COLUMN = 310
_TOP = PAGE_HEIGHT - 50
_LINE = 12
_PARAGRAPH = 24
_BODY_WIDTH = 95
_CELL_WIDTH = 45


class _Pages:
    """Lines placed top to bottom, page by page, with the commissioner's block at the top of each page."""

    def __init__(self) -> None:
        self.pages: list[list[TextLine]] = []
        self.y = 0.0
        self.new_page()

    def new_page(self) -> None:
        self.pages.append([])
        self.y = _TOP
        for line in HEADER:
            self.line(line)
        self.y -= _PARAGRAPH - _LINE

    def line(self, text: str, x: float = _LEFT) -> None:
        self.pages[-1].append(TextLine(x, self.y, text))
        self.y -= _LINE

    def paragraph(self, text: str) -> None:
        for line in textwrap.wrap(text, _BODY_WIDTH, break_on_hyphens=False):
            self.line(line)
        self.y -= _PARAGRAPH - _LINE

    def row(self, left: list[str], right: list[str]) -> None:
        """A table row: the left cell's lines, then the right cell's from the row's top again."""
        top = self.y
        for line in left:
            self.line(line)
        bottom = self.y
        self.y = top
        for line in right:
            self.line(line, _RIGHT_COLUMN)
        self.y = min(bottom, self.y) - (_PARAGRAPH - _LINE)


def seed_pdf() -> bytes:
    """The seed as a PDF saved from Word: the items in a two-column table, the last row cut by a page break."""
    report = seed_report()
    pages = _Pages()
    pages.paragraph(HEADING)
    for label, value in METADATA:
        pages.paragraph(label + value)
    pages.paragraph("Report summary")
    for paragraph in summary_paragraphs():
        pages.paragraph(paragraph)
    pages.paragraph(TABLE_HEADING)
    pages.row([TABLE_HEADER_ROW[0]], [TABLE_HEADER_ROW[1]])
    *whole_rows, last = report.items
    for item in whole_rows:
        pages.row([f"Recommendation {item.number}", *_wrap(item.text)], _wrap(item.response))
    left, right = [f"Recommendation {last.number}", *_wrap(last.text)], _wrap(last.response)
    pages.row(left[:3], right[:2])
    pages.new_page()
    pages.row(left[3:], right[2:])
    pages.paragraph("Commissioner's Response:")
    for paragraph in commissioner_paragraphs():
        pages.paragraph(paragraph)
    pages.paragraph("Dan Price")
    pages.paragraph("Cheshire Police and Crime Commissioner")
    return pdf_document(pages.pages)


def _wrap(text: str) -> list[str]:
    # Word wraps only at spaces unless told to hyphenate; a PDF's text cannot tell a wrapped "pro-actively".
    return textwrap.wrap(text, _CELL_WIDTH, break_on_hyphens=False)


def seed_xlsx() -> bytes:
    """The seed as `recbot export` writes it to Excel (services.export.write_xlsx), straight after importing it."""
    report = seed_report()
    rows: list[dict[str, object]] = [
        {
            "report_code": report.code,
            "report_title": report.title,
            "published_on": report.published_on,
            "inspection_type": report.inspection_type,
            "kind": item.kind.value,
            "number": item.number,
            "text": item.text,
            "due_on": item.due_on,
            "status": item.status.value,
            "owner_email": None,
            "latest_update": item.response or None,
        }
        for item in report.items
    ]
    out = io.BytesIO()
    write_xlsx(rows, out)
    return out.getvalue()


if __name__ == "__main__":
    SAMPLE_DOCX.write_bytes(seed_docx())
    SAMPLE_PDF.write_bytes(seed_pdf())
    SAMPLE_XLSX.write_bytes(seed_xlsx())
    for sample in (SAMPLE_DOCX, SAMPLE_PDF, SAMPLE_XLSX):
        print(f"wrote {sample.relative_to(ROOT)}")
