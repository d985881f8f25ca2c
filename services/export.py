"""`recbot export`: every item of every report as a tracker spreadsheet (CSV or Excel).

The first twelve columns are the tracker columns the CSV importer reads
(`services.importers.csv_tracker`), so an exported CSV imports into an empty database as the same
reports and items. Most columns after them are read back too (`csv_tracker.RESTORED_COLUMNS`):
they restore an item's revised and requested dates, assessment, delegates, closure, and its latest
update's day, author and evidence. `rag` and `days_overdue` are computed, for people only.

| column | holds |
|---|---|
| `report_code` … `owner_email` | the report's and the item's stored fields; `due_on` is the HMICFRS date |
| `latest_update` | the narrative of the item's latest update (empty when that update has none) |
| `title` | the item's short title ("Hydra training package"), derived on import or set by an admin |
| `revised_due_on` | the internally agreed later date, if any |
| `requested_due_on`, `requested_due_reason` | a later date a lead asked for, waiting for an admin, and why |
| `rag` | the RAG rating as of `today` (`domain.rag.rag_for_item`) |
| `days_overdue` | days past the current due date, for an open item that is late |
| `assessment` | the lead's latest assessment: on track / at risk / off track |
| `last_update_on`, `last_update_by`, `last_update_by_email` | the day (in the export's time zone), author and author's address of the latest update |
| `evidence_url` | the latest update's evidence link |
| `closed_on`, `closed_by` | the day and the admin of the decision that closed (or superseded) the item |
| `delegates` | the delegates' e-mail addresses (or names), oldest first, separated by "; " |

The round trip keeps every importer column, with these exceptions: the importer folds runs of
whitespace (line breaks included) into one space; the update history becomes one update (the
latest, with its author, day, assessment and evidence); a delegate known only by a name is not
restored; restored dates and delegates are credited to "Import" in the item's history. Reports
without items are not exported.

The xlsx is for a board: its first sheet ("Tracker") has the same columns under human headers
(`HEADERS`, which the importer also reads, so an exported xlsx imports like the CSV), RAG cells
filled in their colour, and a second sheet ("Updates") with every update of every item. The CSV
keeps the machine names: scripts and diffs read it.

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
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import BinaryIO, TextIO

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.rag import rag_for_item
from domain.vocabulary import Status
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
    "title",
)
# `requested_due_on`: a later date a lead asked for, waiting for an admin's decision.
EXTRA_COLUMNS = (
    "revised_due_on",
    "requested_due_on",
    "requested_due_reason",
    "rag",
    "days_overdue",
    "assessment",
    "last_update_on",
    "last_update_by",
    "last_update_by_email",
    "evidence_url",
    "closed_on",
    "closed_by",
    "delegates",
)
COLUMNS = TRACKER_COLUMNS + EXTRA_COLUMNS
# The xlsx's headers; `csv_tracker.column_for_header` reads each back as its column.
HEADERS = {
    "report_code": "Report code",
    "report_title": "Report title",
    "published_on": "Published on",
    "inspection_type": "Inspection type",
    "kind": "Kind",
    "number": "Number",
    "text": "Text",
    "due_on": "HMICFRS due date",
    "status": "Status",
    "owner_email": "Owner e-mail",
    "latest_update": "Latest update",
    "title": "Title",
    "revised_due_on": "Revised due date",
    "requested_due_on": "Later date requested",
    "requested_due_reason": "Reason for later date",
    "rag": "RAG",
    "days_overdue": "Days overdue",
    "assessment": "Lead's assessment",
    "last_update_on": "Last update on",
    "last_update_by": "Last update by",
    "last_update_by_email": "Last update by (e-mail)",
    "evidence_url": "Evidence",
    "closed_on": "Closed on",
    "closed_by": "Closed by",
    "delegates": "Delegates",
}
# The "Updates" sheet: every update of every item, oldest first within each item.
UPDATE_COLUMNS = (
    "item",
    "at",
    "author",
    "status",
    "assessment",
    "narrative",
    "evidence_url",
    "revised_due_on",
    "revised_due_reason",
    "correction",
)
UPDATE_HEADERS = {
    "item": "Item",
    "at": "When",
    "author": "Who",
    "status": "Status",
    "assessment": "Assessment",
    "narrative": "Narrative",
    "evidence_url": "Evidence",
    "revised_due_on": "Revised date asked",
    "revised_due_reason": "Reason",
    "correction": "Correction",
}
# Fill (and legible text) of each RAG cell: the colours boards expect.
RAG_COLOURS = {
    "Red": ("FFC00000", "FFFFFFFF"),
    "Amber": ("FFFFC000", "FF000000"),
    "Green": ("FF00B050", "FFFFFFFF"),
    "Blue": ("FF0070C0", "FFFFFFFF"),
}

FORMATS = ("csv", "xlsx")
DELEGATE_SEPARATOR = "; "
XLSX_DATE_FORMAT = "dd/mm/yyyy"
XLSX_TIME_FORMAT = "dd/mm/yyyy hh:mm"
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
    "title": 36,
    "revised_due_on": 16,
    "requested_due_on": 18,
    "requested_due_reason": 40,
    "rag": 8,
    "days_overdue": 10,
    "assessment": 12,
    "last_update_on": 16,
    "last_update_by": 24,
    "last_update_by_email": 30,
    "evidence_url": 40,
    "closed_on": 12,
    "closed_by": 24,
    "delegates": 40,
    # The Updates sheet.
    "item": 14,
    "at": 17,
    "author": 24,
    "narrative": 80,
    "revised_due_reason": 40,
    "correction": 11,
}


class ExportError(Exception):
    """An export that cannot be written where asked; the message says why, for the person running it."""


async def export_rows(session: AsyncSession, *, today: date, tz: tzinfo = UTC) -> list[dict[str, object]]:
    """One row per item (keys `COLUMNS`; values str, int, date or None), in report then item order.

    Three statements whatever the number of items: items with their report, owner and latest
    update; every delegate; every closing decision.
    """
    items = await exports.items_with_latest_update(session)
    delegates = await exports.delegates_by_item(session)
    closures = await exports.closures_by_item(session)
    rows: list[dict[str, object]] = []
    for item, narrative, updated_at, author_name, author_email, evidence_url, request_reason in items:
        closure = closures.get(item.id) if not Status(item.status).is_open else None
        due_on = item.current_due_on
        open_and_late = Status(item.status).is_open and due_on is not None and due_on < today
        rows.append(
            {
                "report_code": item.report.code,
                "report_title": item.report.title,
                "published_on": item.report.published_on,
                "inspection_type": item.report.inspection_type,
                "kind": item.kind,
                "number": item.number,
                "title": item.title,
                "text": item.text,
                "due_on": item.due_on,
                "status": item.status,
                "owner_email": item.owner.email if item.owner else None,
                "latest_update": narrative,
                "revised_due_on": item.revised_due_on,
                "requested_due_on": item.requested_due_on,
                "requested_due_reason": request_reason if item.requested_due_on else None,
                "rag": rag_for_item(item, today).value,
                "days_overdue": (today - due_on).days if open_and_late and due_on is not None else None,
                "assessment": item.assessment,
                "last_update_on": updated_at.astimezone(tz).date() if updated_at else None,
                "last_update_by": author_name,
                "last_update_by_email": author_email,
                "evidence_url": evidence_url,
                "closed_on": closure.closed_at.astimezone(tz).date() if closure else None,
                "closed_by": closure.closed_by if closure else None,
                "delegates": DELEGATE_SEPARATOR.join(delegates.get(item.id, ())) or None,
            }
        )
    return rows


async def export_update_rows(session: AsyncSession, *, tz: tzinfo = UTC) -> list[dict[str, object]]:
    """Every update of every item (keys `UPDATE_COLUMNS`), in the items' order, oldest first; one statement.

    `at` is the local wall-clock time in `tz`, without a zone (spreadsheets keep none).
    """
    return [
        {
            "item": reference,
            "at": update.created_at.astimezone(tz).replace(tzinfo=None),
            "author": update.author_name,
            "status": update.status,
            "assessment": update.assessment,
            "narrative": update.narrative or None,
            "evidence_url": update.evidence_url,
            "revised_due_on": update.revised_due_on,
            "revised_due_reason": update.revised_due_reason,
            "correction": "Yes" if update.supersedes_id is not None else None,
        }
        for reference, update in await exports.every_update(session)
    ]


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


def write_xlsx(
    rows: Sequence[dict[str, object]], path: Path | BinaryIO, *, updates: Sequence[dict[str, object]] = ()
) -> None:
    """Write a board-ready workbook: the "Tracker" sheet (human headers, RAG cells coloured) and "Updates".

    Each sheet has a bold frozen header, an autofilter, wrapped text and real dates.
    """
    workbook = Workbook()
    workbook.properties.creator = "RecBot"
    tracker = workbook.active
    assert tracker is not None  # a new workbook always has one sheet
    tracker.title = "Tracker"
    _fill_sheet(tracker, COLUMNS, HEADERS, rows)
    rag_column = COLUMNS.index("rag") + 1
    for row_number, row in enumerate(rows, start=2):
        colours = RAG_COLOURS.get(str(row.get("rag")))
        if colours is not None:
            fill, text = colours
            cell = tracker.cell(row=row_number, column=rag_column)
            cell.fill = PatternFill(fill_type="solid", start_color=fill, end_color=fill)
            cell.font = Font(bold=True, color=text)
    _fill_sheet(workbook.create_sheet("Updates"), UPDATE_COLUMNS, UPDATE_HEADERS, updates)
    workbook.save(path)


def _fill_sheet(
    sheet: Worksheet, columns: Sequence[str], headers: dict[str, str], rows: Sequence[dict[str, object]]
) -> None:
    sheet.append([headers[column] for column in columns])
    bold = Font(bold=True)
    for cell in sheet[1]:
        cell.font = bold
    wrapped = Alignment(wrap_text=True, vertical="top")
    for row_number, row in enumerate(rows, start=2):
        for column_number, column in enumerate(columns, start=1):
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
                if isinstance(value, datetime):
                    cell.number_format = XLSX_TIME_FORMAT
                elif isinstance(value, date):
                    cell.number_format = XLSX_DATE_FORMAT
            cell.alignment = wrapped
    for column_number, column in enumerate(columns, start=1):
        # Room for the header and its filter button at least.
        width = max(_WIDTHS.get(column, 14), len(headers[column]) + 4)
        sheet.column_dimensions[get_column_letter(column_number)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(len(rows) + 1, 2)}"


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
        updates = await export_update_rows(session, tz=tz) if format == "xlsx" else []
    if format == "csv":
        text = io.StringIO(newline="")
        write_csv(rows, text)
        content = text.getvalue().encode("utf-8")
    else:
        binary = io.BytesIO()
        write_xlsx(rows, binary, updates=updates)
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
