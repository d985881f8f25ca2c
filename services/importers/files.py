"""Read a file's bytes — a Word or PDF response document, an Excel tracker, or text — into what `parse_document` reads.

`read_document(file_name, data)` takes bytes, not a path, so a file uploaded in Teams and a file
named on the command line go through the same checks and readers. It returns text:

| file | reader | the text |
|---|---|---|
| `.txt`, `.md`, `.csv` | — | the file decoded as UTF-8 (a UTF-16 byte order mark is honoured too) |
| `.docx` | python-docx | paragraphs and tables in document order, in the shape of the converted `.txt` documents: a paragraph a line (headings as `#` lines, bold runs as `<b>`), a table row a line, its cells joined by a tab and each cell's paragraphs as `<p>…</p>` |
| `.pdf` | pypdf | each page's lines in order, pages separated by a form feed; a table cell drawn beside the previous one (up and to the right) joins it with a tab, a wide gap between lines leaves a blank line |
| `.xlsx` | openpyxl (read-only) | the first sheet as CSV text, blank rows kept so error messages name the spreadsheet's own row numbers; dates as yyyy-mm-dd |

Every refusal is a `DocumentError` whose message says what to do. Sizes are capped before any
parsing (the file) and before any pattern runs (the text), so every parser stays linear in
what it is given. The third-party readers are imported only when a file of theirs arrives, so
`recbot serve` starts without loading them.
"""

from __future__ import annotations

import codecs
import csv
import html
import io
import math
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, time
from itertools import pairwise
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, NamedTuple

from services.importers import DocumentError

if TYPE_CHECKING:
    from docx.table import Table
    from docx.text.paragraph import Paragraph

MAX_FILE_BYTES = 20 * 1024 * 1024
# A PCC response runs to tens of thousands of characters and a force's tracker to a few hundred
# thousand; a combined tracker of 10,000 items (about 330 characters each) is 3.3 million. The
# parsers are linear, so the cap only keeps a wrong file from making them work for nothing.
MAX_TEXT_CHARACTERS = 8_000_000
# .docx and .xlsx are zip files: a small file may unpack to gigabytes (a "zip bomb").
MAX_UNPACKED_BYTES = 200 * 1024 * 1024

TEXT_SUFFIXES = (".txt", ".md", ".csv")
SUPPORTED_SUFFIXES = (".docx", ".pdf", ".xlsx", *TEXT_SUFFIXES)
_OLD_FORMATS = {".doc": ".docx", ".xls": ".xlsx", ".rtf": ".docx", ".odt": ".docx", ".ods": ".xlsx"}

_ZIP_MAGIC = b"PK\x03\x04"
# Office writes password-protected .docx/.xlsx, and the old .doc/.xls, as OLE compound files.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_PDF_MAGIC = b"%PDF-"

# PDF layout, in multiples of the font size: further apart than this, two lines are two paragraphs;
# further right than the text before it on the same baseline, a fragment starts another table cell.
_PARAGRAPH_GAP = 1.6
_COLUMN_GAP = 3.0
# Generous (real text averages about 0.5): overestimating a line's end only misses a gap, never invents one.
_AVERAGE_CHARACTER_WIDTH = 0.75


def read_document(file_name: str, data: bytes) -> str:
    """The text of a .docx, .pdf, .xlsx, .csv, .txt or .md file, ready for `parse_document`."""
    name = PurePath(file_name).name or file_name or "The file"
    suffix = PurePath(name).suffix.lower()
    reader = _READERS.get(suffix)
    if reader is None:
        raise DocumentError(_unsupported(name, suffix))
    if len(data) > MAX_FILE_BYTES:
        raise DocumentError(
            f"{name} is larger than {MAX_FILE_BYTES // 1024 // 1024} MB, the most RecBot imports: "
            "a response document or a tracker is far smaller (are there pictures in it? remove them, or save as .txt)"
        )
    if not data:
        raise DocumentError(f"{name} is empty (0 bytes)")
    text = reader(name, data)
    if not text.strip():
        raise DocumentError(f"{name} has no text in it: {_EXPECTED_CONTENT}")
    return text


_EXPECTED_CONTENT = "expected a PCC response document or a tracker with a header row"


def _unsupported(name: str, suffix: str) -> str:
    supported = ", ".join(SUPPORTED_SUFFIXES)
    what = f"{suffix} files" if suffix else "files without an extension"
    hint = f": save it as {_OLD_FORMATS[suffix]} and import that" if suffix in _OLD_FORMATS else ""
    return f"{name}: RecBot cannot import {what}{hint}. It imports {supported} files"


def _refuse_long(name: str, length: int) -> None:
    if length > MAX_TEXT_CHARACTERS:
        raise DocumentError(
            f"{name} holds more than {MAX_TEXT_CHARACTERS:,} characters of text: too long for a PCC response "
            "document or a tracker; import the part with the recommendations"
        )


class _Text:
    """Text gathered piece by piece, refused as soon as it passes the cap (before any pattern reads it)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.parts: list[str] = []
        self.length = 0

    def add(self, part: str) -> None:
        self.length += len(part)
        _refuse_long(self.name, self.length)
        self.parts.append(part)

    def joined(self, separator: str) -> str:
        return separator.join(self.parts)


# --- text files ---------------------------------------------------------------------------


def _plain_text(name: str, data: bytes) -> str:
    if data.startswith((_ZIP_MAGIC, _OLE_MAGIC, _PDF_MAGIC)):
        raise DocumentError(
            f"{name} is a Word, Excel or PDF file, not text: give it its real extension (.docx, .xlsx or .pdf)"
        )
    # Excel's "Unicode text" and some editors write UTF-16 with a byte order mark.
    encoding = "utf-16" if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        raise DocumentError(
            f"{name} is not a UTF-8 text file: expected a PCC response document (.txt/.md) or a CSV tracker "
            "saved as UTF-8"
        ) from error
    _refuse_long(name, len(text))
    return text


# --- Word ---------------------------------------------------------------------------------


def _docx_text(name: str, data: bytes) -> str:
    _check_office_zip(name, data, "a Word document (.docx)", "Word 97-2003 (.doc)", ".docx")
    from docx import Document

    try:
        document = Document(io.BytesIO(data))
    except Exception as error:  # python-docx raises KeyError, ValueError, XML errors … for a damaged file
        raise DocumentError(
            f"{name} could not be opened as a Word document (.docx): it is damaged, or another kind of file "
            "renamed .docx; open it in Word and save it again"
        ) from error
    collected = _Text(name)
    for block in _docx_blocks(document.iter_inner_content()):
        collected.add(block)
    return collected.joined("\n\n")


def _docx_blocks(blocks: Iterable[Paragraph | Table]) -> Iterator[str]:
    """Each paragraph as a line (a heading with its `#`s), each table as its rows, one row a line."""
    from docx.text.paragraph import Paragraph

    for block in blocks:
        if isinstance(block, Paragraph):
            line = _paragraph_markup(block)
            if not line.strip():
                continue
            level = _heading_level(block)
            if level:
                yield "#" * level + " " + line.replace("\n", " ")
            else:
                # A paragraph starting with "#" must not read as a heading.
                yield "\\" + line if line.startswith("#") else line
        else:
            rows = [row for row in _table_rows(block) if row.strip()]
            if rows:
                yield "\n".join(rows)


def _heading_level(paragraph: Paragraph) -> int:
    style_name = (paragraph.style.name if paragraph.style is not None else "") or ""
    if style_name == "Title":
        return 1
    words = style_name.split()
    if len(words) == 2 and words[0] == "Heading" and words[1].isdigit():
        return min(int(words[1]), 6)
    return 0


def _table_rows(table: Table) -> Iterator[str]:
    """A row's cells joined by tabs; a merged cell counts once, in the first row and column it covers."""
    seen: set[Any] = set()
    for row in table.rows:
        cells: list[tuple[Any, str]] = []
        for cell in row.cells:
            # python-docx repeats a merged cell for each grid column and row it spans.
            element = cell._tc
            if element in seen:
                if cells and cells[-1][0] is element:
                    continue
                cells.append((element, ""))
                continue
            seen.add(element)
            cells.append((element, _cell_markup(cell.iter_inner_content())))
        yield "\t".join(markup for _, markup in cells).rstrip("\t")


def _cell_markup(blocks: Iterable[Paragraph | Table]) -> str:
    """A cell's paragraphs as `<p>…</p>` on one line; a table inside the cell adds its rows' paragraphs."""
    from docx.text.paragraph import Paragraph

    parts = []
    for block in blocks:
        if isinstance(block, Paragraph):
            markup = _paragraph_markup(block).replace("\t", " ").replace("\n", "<br>")
            if markup.strip():
                parts.append(f"<p>{markup}</p>")
        else:
            parts.extend(row.replace("\t", " ") for row in _table_rows(block) if row.strip())
    return " ".join(parts)


def _paragraph_markup(paragraph: Paragraph) -> str:
    """The paragraph's text, HTML-escaped, with bold runs in `<b>` as the converted documents have them."""
    from docx.text.run import Run

    runs: list[tuple[bool, str]] = []
    for item in paragraph.iter_inner_content():
        for run in [item] if isinstance(item, Run) else item.runs:
            text = run.text
            if not text:
                continue
            bold = run.bold is True
            if runs and runs[-1][0] == bold:
                runs[-1] = (bold, runs[-1][1] + text)
            else:
                runs.append((bold, text))
    markup = []
    for bold, text in runs:
        escaped = html.escape(text, quote=False)
        markup.append(f"<b>{escaped}</b>" if bold and text.strip() else escaped)
    return "".join(markup)


# --- PDF ----------------------------------------------------------------------------------


class _Line(NamedTuple):
    x: float
    y: float
    size: float
    text: str


class _PageLines:
    """The lines of one page in drawing order, with where each starts, from pypdf's text visitor."""

    def __init__(self) -> None:
        self.lines: list[_Line] = []
        self._open = False

    def visit(self, text: str, cm: list[float], tm: list[float], font_dict: object, font_size: float) -> None:
        # Where the fragment starts on the page, and how tall its letters are: the text matrix within
        # the current transformation (producers scale the font by either).
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        size = abs(font_size) * math.hypot(tm[2] * cm[0] + tm[3] * cm[2], tm[2] * cm[1] + tm[3] * cm[3]) or 1.0
        for index, part in enumerate(text.split("\n")):
            if index:
                self._open = False
            if not part:
                continue
            if self._open and self._starts_a_cell(x, y, part):
                self._open = False
            if self._open:
                last = self.lines[-1]
                self.lines[-1] = last._replace(text=last.text + part)
            else:
                self.lines.append(_Line(x, y, size, part.lstrip(" ")))
                self._open = True

    def _starts_a_cell(self, x: float, y: float, part: str) -> bool:
        """Far to the right of the text so far on the same baseline: the next cell of a table row."""
        last = self.lines[-1]
        if abs(y - last.y) > last.size / 2:
            return False
        estimated_end = last.x + len(last.text) * last.size * _AVERAGE_CHARACTER_WIDTH
        return x - estimated_end > _COLUMN_GAP * last.size

    def text(self) -> str:
        if not self.lines:
            return ""
        out = [self.lines[0].text]
        for previous, line in pairwise(self.lines):
            out.append(_separator(previous, line))
            out.append(line.text)
        return "".join(out)


def _separator(previous: _Line, line: _Line) -> str:
    # A Word table is drawn cell by cell: the next cell starts back up at the row's top, to the right.
    if line.x > previous.x + _COLUMN_GAP * previous.size and line.y > previous.y - previous.size / 2:
        return "\t"
    if previous.y - line.y > _PARAGRAPH_GAP * previous.size:
        return "\n\n"
    return "\n"


def _pdf_text(name: str, data: bytes) -> str:
    if _PDF_MAGIC not in data[:1024]:
        raise DocumentError(
            f"{name} is not a PDF file: it is damaged, or another kind of file renamed .pdf; "
            "save the document as PDF again, or import the Word document"
        )
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    protected = (
        f"{name} is password-protected: save a copy without the password (or import the Word document) and import that"
    )
    collected = _Text(name)
    try:
        # PdfReader opens files protected only against editing (an empty user password) by itself.
        reader = PdfReader(io.BytesIO(data))
        for page in reader.pages:
            lines = _PageLines()
            page.extract_text(visitor_text=lines.visit)
            collected.add(lines.text())
    except DocumentError:
        raise
    except (FileNotDecryptedError, DependencyError) as error:
        raise DocumentError(protected) from error
    except Exception as error:  # pypdf raises many kinds of error for a damaged file
        raise DocumentError(
            f"{name} could not be read as a PDF: it is damaged; save the document as PDF again, "
            "or import the Word document"
        ) from error
    text = collected.joined("\x0c")
    if collected.parts and not text.strip():
        raise DocumentError(
            f"{name} has no text layer: it is probably a scan; import the Word document, "
            "or a PDF saved from Word rather than scanned"
        )
    return text


# --- Excel --------------------------------------------------------------------------------


def _xlsx_text(name: str, data: bytes) -> str:
    _check_office_zip(name, data, "an Excel workbook (.xlsx)", "Excel 97-2003 (.xls)", ".xlsx")
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises KeyError, InvalidFileException, XML errors … for a damaged file
        raise DocumentError(
            f"{name} could not be opened as an Excel workbook (.xlsx): it is damaged, or another kind of file "
            "renamed .xlsx; open it in Excel and save it again"
        ) from error
    try:
        if not workbook.worksheets:
            raise DocumentError(f"{name} has no worksheet: expected the tracker on its first sheet")
        return _sheet_as_csv(name, workbook.worksheets[0].iter_rows(values_only=True))
    finally:
        workbook.close()


def _sheet_as_csv(name: str, rows: Iterable[tuple[object, ...]]) -> str:
    """CSV text of the rows; blank rows stay, so the CSV's row numbers are the sheet's."""
    collected = _Text(name)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        cells = [_cell_text(value) for value in row]
        while cells and not cells[-1]:
            cells.pop()
        writer.writerow(cells)
        collected.add(buffer.getvalue())
        buffer.seek(0)
        buffer.truncate()
    return collected.joined("")


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        # Excel has only date-times: a date cell is midnight of its day.
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


# --- shared -------------------------------------------------------------------------------


def _check_office_zip(name: str, data: bytes, kind: str, old_kind: str, suffix: str) -> None:
    """Refuse what is not an Office zip, or would unpack to more than MAX_UNPACKED_BYTES, before parsing it."""
    if data.startswith(_OLE_MAGIC):
        raise DocumentError(
            f"{name} is password-protected, or in the old {old_kind} format: remove the password "
            f"or save it as {suffix}, and import it again"
        )
    damaged = f"{name} is not {kind}: it is damaged, or another kind of file renamed {suffix}"
    if not data.startswith(_ZIP_MAGIC):
        raise DocumentError(damaged)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise DocumentError(damaged) from error
    if unpacked > MAX_UNPACKED_BYTES:
        raise DocumentError(
            f"{name} unpacks to more than {MAX_UNPACKED_BYTES // 1024 // 1024} MB, the most RecBot reads: "
            "it is not a response document or a tracker"
        )


_READERS: dict[str, Callable[[str, bytes], str]] = {
    ".docx": _docx_text,
    ".pdf": _pdf_text,
    ".xlsx": _xlsx_text,
    **dict.fromkeys(TEXT_SUFFIXES, _plain_text),
}
