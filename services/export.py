"""`recbot export`: every item of every report as a tracker spreadsheet (CSV or Excel).

The first eleven columns are exactly the ones the CSV tracker importer reads
(`services.importers.csv_tracker`), so an exported CSV imports into an empty database as the same
reports and items. The columns after them are read-only extras for people working in the
spreadsheet; the importer ignores them.

| column | holds |
|---|---|
| `report_code` … `owner_email` | the report's and the item's stored fields; `due_on` is the HMICFRS date |
| `latest_update` | the narrative of the item's latest update (empty when that update has none) |
| `revised_due_on` | the internally agreed later date, if any |
| `rag` | the RAG rating as of `today` (`domain.rag.rag_for_item`) |
| `assessment` | the lead's latest assessment: on track / at risk / off track |
| `last_update_on`, `last_update_by` | the day (in the export's time zone) and author of the latest update |
| `delegates` | the delegates' e-mail addresses (or names), oldest first, separated by "; " |

The round trip keeps every importer column, with two exceptions that come from the importer
itself: it folds runs of whitespace (line breaks included) into one space, and the update history
becomes one update (the latest narrative). Reports without items are not exported.

Formula injection: spreadsheet programs run a CSV cell that starts with `=`, `+`, `-` or `@`
(or a tab or carriage return) as a formula. In CSV such a text cell — judged after any leading
spaces — is written with a leading apostrophe (`'=SUM(A1)`), which spreadsheets show as plain
text. Texts that start with anything else (every normal title, text and narrative) are written
unchanged, so they round-trip exactly; a neutralised text comes back from `recbot import` with
its apostrophe. In xlsx nothing is altered: every text is a typed string cell, and the risky ones
also carry Excel's "quote prefix" so editing the cell keeps it text.

CSV is UTF-8 with a byte order mark and CRLF line ends, which Excel needs to read accents, "£"
and "—" correctly; the importer accepts the mark. Dates are ISO (yyyy-mm-dd) in CSV and real date
cells shown as dd/mm/yyyy in xlsx.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Sequence
from datetime import UTC, date, tzinfo
from pathlib import Path
from typing import BinaryIO, TextIO

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.rag import rag_for_item
from storage import exports

# The importer's columns, in the order a tracker usually has them (services.importers.csv_tracker).
TRACKER_COLUMNS = (
    "report_code",
    "report_title",
    "published_on",
    "inspection_type",
    "kind",
    "number",
    "text",
    "due_on",
    "status",
    "owner_email",
    "latest_update",
)
# `requested_due_on`: a later date a lead asked for, waiting for an admin's decision.
EXTRA_COLUMNS = (
    "revised_due_on",
    "requested_due_on",
    "rag",
    "assessment",
    "last_update_on",
    "last_update_by",
    "delegates",
)
COLUMNS = TRACKER_COLUMNS + EXTRA_COLUMNS

FORMATS = ("csv", "xlsx")
DELEGATE_SEPARATOR = "; "
XLSX_DATE_FORMAT = "dd/mm/yyyy"
# Characters that make a spreadsheet treat a cell as a formula (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Excel refuses longer cell texts; the CSV keeps the whole text.
XLSX_MAX_CELL = 32_767

# Widths in characters: long texts get a wide, wrapped column; codes and dates a narrow one.
_WIDTHS = {
    "report_code": 12,
    "report_title": 40,
    "published_on": 13,
    "inspection_type": 16,
    "kind": 20,
    "number": 9,
    "text": 80,
    "due_on": 12,
    "status": 18,
    "owner_email": 30,
    "latest_update": 80,
    "revised_due_on": 16,
    "requested_due_on": 18,
    "rag": 8,
    "assessment": 12,
    "last_update_on": 16,
    "last_update_by": 24,
    "delegates": 40,
}


class ExportError(Exception):
    """An export that cannot be written where asked; the message says why, for the person running it."""


async def export_rows(session: AsyncSession, *, today: date, tz: tzinfo = UTC) -> list[dict[str, object]]:
    """One row per item (keys `COLUMNS`; values str, int, date or None), in report then item order.

    Two statements whatever the number of items: items with their report, owner and latest update;
    then every delegate.
    """
    items = await exports.items_with_latest_update(session)
    delegates = await exports.delegates_by_item(session)
    rows: list[dict[str, object]] = []
    for item, narrative, updated_at, author_name in items:
        rows.append(
            {
                "report_code": item.report.code,
                "report_title": item.report.title,
                "published_on": item.report.published_on,
                "inspection_type": item.report.inspection_type,
                "kind": item.kind,
                "number": item.number,
                "text": item.text,
                "due_on": item.due_on,
                "status": item.status,
                "owner_email": item.owner.email if item.owner else None,
                "latest_update": narrative,
                "revised_due_on": item.revised_due_on,
                "requested_due_on": item.requested_due_on,
                "rag": rag_for_item(item, today).value,
                "assessment": item.assessment,
                "last_update_on": updated_at.astimezone(tz).date() if updated_at else None,
                "last_update_by": author_name,
                "delegates": DELEGATE_SEPARATOR.join(delegates.get(item.id, ())) or None,
            }
        )
    return rows


def neutralise_formula(text: str) -> str:
    """`text` with a leading apostrophe if a spreadsheet would run it as a formula, else unchanged."""
    return "'" + text if _looks_like_formula(text) else text


def _looks_like_formula(text: str) -> bool:
    return text.lstrip(" ")[:1] in FORMULA_TRIGGERS


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return neutralise_formula(value)
    return str(value)


def write_csv(rows: Sequence[dict[str, object]], stream: TextIO) -> None:
    """Write the rows as a UTF-8 (with BOM) CSV tracker; `stream` should be opened with newline=""."""
    stream.write("\ufeff")
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_csv_cell(row.get(column)) for column in COLUMNS])


def write_xlsx(rows: Sequence[dict[str, object]], path: Path | BinaryIO) -> None:
    """Write the rows as an Excel workbook: bold frozen header, autofilter, wrapped text, real dates."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook always has one sheet
    sheet.title = "Tracker"
    workbook.properties.creator = "RecBot"
    sheet.append(list(COLUMNS))
    bold = Font(bold=True)
    for cell in sheet[1]:
        cell.font = bold
    wrapped = Alignment(wrap_text=True, vertical="top")
    for row_number, row in enumerate(rows, start=2):
        for column_number, column in enumerate(COLUMNS, start=1):
            cell = sheet.cell(row=row_number, column=column_number)
            value = row.get(column)
            if isinstance(value, str):
                cell.value = _xlsx_text(value)
                # openpyxl reads "=…" as a formula: force a plain string cell, as Excel's ' does.
                cell.data_type = "s"
                if _looks_like_formula(value):
                    cell.quotePrefix = True
            else:
                cell.value = value
                if isinstance(value, date):
                    cell.number_format = XLSX_DATE_FORMAT
            cell.alignment = wrapped
    for column_number, column in enumerate(COLUMNS, start=1):
        # Room for the header and its filter button at least.
        width = max(_WIDTHS.get(column, 14), len(column) + 4)
        sheet.column_dimensions[get_column_letter(column_number)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{max(len(rows) + 1, 2)}"
    workbook.save(path)


def _xlsx_text(value: str) -> str:
    # Word's manual line break (vertical tab) is the control character people paste most.
    cleaned = ILLEGAL_CHARACTERS_RE.sub("", value.replace("\x0b", "\n").replace("\x0c", "\n"))
    if len(cleaned) > XLSX_MAX_CELL:
        return cleaned[: XLSX_MAX_CELL - 1] + "…"
    return cleaned


def default_xlsx_name(today: date) -> str:
    """The file an xlsx export goes to when no -o is given: recbot-export-YYYY-MM-DD.xlsx."""
    return f"recbot-export-{today.isoformat()}.xlsx"


def choose_target(format: str | None, output: str | None, *, today: date) -> tuple[str, Path | None]:
    """The format and the file to write (None: stdout) for `--format` and `-o`.

    No `--format`: xlsx when `-o` ends in .xlsx, else csv. `-o -` is stdout. Without `-o`, CSV
    goes to stdout and xlsx to `recbot-export-YYYY-MM-DD.xlsx`.
    """
    if format is None:
        format = "xlsx" if output is not None and output.lower().endswith(".xlsx") else "csv"
    if format not in FORMATS:
        raise ExportError(f"unknown export format {format!r}: choose one of {', '.join(FORMATS)}")
    if output == "-":
        return format, None
    if output is not None:
        return format, Path(output)
    return format, (Path(default_xlsx_name(today)) if format == "xlsx" else None)


async def run_export(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    format: str | None,
    output: str | None,
    today: date,
    tz: tzinfo = UTC,
    stdout: TextIO | None = None,
) -> str:
    """Export every item as `recbot export` does; returns a line for stderr saying what was written."""
    stdout = stdout if stdout is not None else sys.stdout
    format, path = choose_target(format, output, today=today)
    # Refuse before reading the database: the person can fix the command straight away.
    if format == "xlsx" and path is None and stdout.isatty():
        raise ExportError("refusing to write a binary xlsx file to the terminal: give -o FILE or redirect stdout")
    async with sessionmaker() as session:
        rows = await export_rows(session, today=today, tz=tz)
    if format == "csv":
        text = io.StringIO(newline="")
        write_csv(rows, text)
        content = text.getvalue().encode("utf-8")
    else:
        binary = io.BytesIO()
        write_xlsx(rows, binary)
        content = binary.getvalue()
    if path is None:
        stdout.flush()
        stdout.buffer.write(content)
        stdout.buffer.flush()
        return f"exported {len(rows)} items as {format}"
    try:
        path.write_bytes(content)
    except OSError as error:
        raise ExportError(f"cannot write {path}: {error.strerror or error}") from error
    return f"exported {len(rows)} items to {path}"
