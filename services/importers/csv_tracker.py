"""Read a tracker spreadsheet, exported as CSV, into reports and their items.

The first non-blank row names the columns. Names are matched without regard to case, spaces or
punctuation ("Report Code" = `report_code`), in any order; columns not listed here are ignored.
The human headers of `recbot export`'s xlsx ("HMICFRS due date", "Owner e-mail", …) are read as
the columns they head (`HEADER_ALIASES`).
Rows are numbered as the spreadsheet numbers them (the header is row 1). Blank rows are skipped.
A UTF-8 byte order mark and Excel's `;` (or tab) delimiter are accepted.

| column | required | meaning |
|---|---|---|
| `report_code` | yes | the report's short code, e.g. `OIC-2025`; rows with the same code form one report |
| `report_title` | yes | the inspection report's title; may be left empty on later rows of the same report |
| `published_on` | yes (value may be empty) | the report's publication date: `16/05/2025`, `2025-05-16` or `16 May 2025` |
| `inspection_type` | no | e.g. `Thematic`, `PEEL` |
| `kind` | no | `recommendation` (default), `area for improvement` / `AFI`, `cause of concern` / `CoC` |
| `number` | yes | the item's number in the report: a whole number, 1 or more |
| `title` | no | the item's short title ("Hydra training"); when empty it is derived from the text |
| `text` | yes | the item's full text |
| `due_on` | no | the HMICFRS due date, day first: `30/04/2026`, `2026-04-30` or `30 April 2026`; when empty it is read from the text ("By 30 April 2026, …", "within six months", …) |
| `status` | no | `Not started`, `In progress`, `Blocked`, `Awaiting sign-off`, `Closed` or `Superseded` (any case); when empty, `In progress` if there is a latest update, else `Not started` |
| `owner_email` | no | the owner's e-mail address (stored in lower case) |
| `latest_update` | no | the latest progress narrative; stored as the item's first update |

`recbot export` writes more columns; they restore what the database knew of an item when the item
is new to it (an item already stored is left exactly as it is, so re-importing changes nothing):

| column | restores |
|---|---|
| `revised_due_on` | the revised due date, with a "due date changed" event saying it came from the import |
| `requested_due_on`, `requested_due_reason` | a later date the latest update asked for, still waiting for an admin |
| `assessment` | the lead's latest assessment: on track, at risk, off track |
| `last_update_on` | the day of the latest update (else the publication date) |
| `last_update_by`, `last_update_by_email` | its author: linked by e-mail (created when new, named after the name); with neither, the update is the force's response |
| `evidence_url` | the latest update's evidence link |
| `delegates` | e-mail addresses separated by `;`, each added as a delegate; entries without an `@` (delegates the export knew only by name) are skipped |
| `closed_on`, `closed_by` | for a Closed or Superseded item, who closed it and when, as the closing event |

Any bad row rejects the whole file: the error names every bad row (up to 20) and column.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from domain.dates import parse_due_date, parse_written_date
from domain.records import ItemRecord, ReportRecord
from domain.titles import normal_title, title_problem
from domain.vocabulary import Assessment, Kind, Status
from services.importers import DocumentError

REQUIRED_COLUMNS = ("report_code", "report_title", "published_on", "number", "text")
OPTIONAL_COLUMNS = ("inspection_type", "kind", "title", "due_on", "status", "owner_email", "latest_update")
RESTORED_COLUMNS = (
    "revised_due_on",
    "requested_due_on",
    "requested_due_reason",
    "assessment",
    "last_update_on",
    "last_update_by",
    "last_update_by_email",
    "evidence_url",
    "delegates",
    "closed_on",
    "closed_by",
)
_KNOWN_COLUMNS = frozenset(REQUIRED_COLUMNS + OPTIONAL_COLUMNS + RESTORED_COLUMNS)
# Header keys (`header_key`) of the human headers an exported xlsx has, and the columns they head.
HEADER_ALIASES = {
    "hmicfrs_due_date": "due_on",
    "owner_e_mail": "owner_email",
    "revised_due_date": "revised_due_on",
    "later_date_requested": "requested_due_on",
    "reason_for_later_date": "requested_due_reason",
    "lead_s_assessment": "assessment",
    "last_update_by_e_mail": "last_update_by_email",
    "evidence": "evidence_url",
}
# A header cell longer than this names no column of ours; cut before it is normalised.
_MAX_HEADER = 200

_KINDS = {
    "recommendation": Kind.RECOMMENDATION,
    "recommendations": Kind.RECOMMENDATION,
    "rec": Kind.RECOMMENDATION,
    "r": Kind.RECOMMENDATION,
    "area for improvement": Kind.AREA_FOR_IMPROVEMENT,
    "areas for improvement": Kind.AREA_FOR_IMPROVEMENT,
    "afi": Kind.AREA_FOR_IMPROVEMENT,
    "cause of concern": Kind.CAUSE_OF_CONCERN,
    "causes of concern": Kind.CAUSE_OF_CONCERN,
    "coc": Kind.CAUSE_OF_CONCERN,
}
_STATUSES = {" ".join(status.value.lower().replace("-", " ").split()): status for status in Status}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# Excel writes whole numbers from numeric cells as "8" or, after arithmetic, "8.0".
_WHOLE_NUMBER = re.compile(r"\d{1,6}(?:\.0+)?")
_DELIMITERS = (",", ";", "\t")
_MAX_ERRORS = 20
_MAX_QUOTED = 40
# The database's column widths (storage.models): longer values would fail only at save time.
_MAX_LENGTHS = {
    "report_code": 40,
    "report_title": 500,
    "inspection_type": 200,
    "owner_email": 320,
    "last_update_by": 200,
    "last_update_by_email": 320,
    "evidence_url": 2000,
    "closed_by": 200,
}
_ASSESSMENTS = {assessment.value: assessment for assessment in Assessment}
_DELEGATE_SEPARATORS = str.maketrans({",": ";"})


@dataclass
class _Report:
    code: str
    title: str
    published_on: date | None
    inspection_type: str | None
    first_row: int
    items: list[ItemRecord] = field(default_factory=list)
    rows_by_item: dict[tuple[Kind, int], int] = field(default_factory=dict)


class _RowError(Exception):
    """One problem with one cell; collected so the person importing sees every bad row at once."""


def parse_csv_tracker(text: str, *, source_name: str | None = None) -> list[ReportRecord]:
    """The reports in a tracker CSV export, grouped by `report_code`; any bad row rejects the whole file."""
    name = source_name or "The CSV tracker"
    records = _records(text.lstrip("\ufeff"), name)
    header_at, header = next(records, (0, []))
    if not header:
        raise DocumentError(f"{name} is empty: expected a header row naming the columns {', '.join(REQUIRED_COLUMNS)}")
    columns = _columns(header, name)
    reports: dict[str, _Report] = {}
    errors: list[str] = []
    for row_number, cells in records:
        try:
            _add_row(reports, _cells(cells, columns, len(header)), row_number)
        except _RowError as problem:
            errors.append(f"row {row_number}: {problem}")
            if len(errors) >= _MAX_ERRORS:
                break
    if errors:
        raise DocumentError(f"{name}: " + "; ".join(errors))
    if not reports:
        raise DocumentError(f"{name} has a header row (row {header_at}) but no rows of data below it")
    return [_report_record(report, source_name) for report in reports.values()]


def _records(text: str, name: str) -> Iterator[tuple[int, list[str]]]:
    """Non-blank records with their spreadsheet row numbers."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        for row_number, cells in enumerate(reader, start=1):
            if any(cell.strip() for cell in cells):
                yield row_number, cells
    except csv.Error as problem:
        raise DocumentError(f"{name} is not a readable CSV file (near row {reader.line_num}): {problem}") from None


def _delimiter(text: str) -> str:
    """The delimiter used most in the first non-blank line: Excel writes ";" where "," is the decimal mark."""
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    return max(_DELIMITERS, key=first_line.count)


def _columns(header: list[str], name: str) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        column = column_for_header(cell)
        if column in columns:
            raise DocumentError(f"{name}: the column {column} appears twice in the header row")
        if column in _KNOWN_COLUMNS:
            columns[column] = index
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        raise DocumentError(
            f"{name}: missing required columns: {', '.join(missing)} "
            f"(expected a header row naming {', '.join(REQUIRED_COLUMNS)})"
        )
    return columns


def header_key(cell: str) -> str:
    """A header cell as a key: lower case, every run of spaces and punctuation one "_" ("Owner e-mail" → owner_e_mail)."""
    return "_".join("".join(ch if ch.isalnum() else " " for ch in cell[:_MAX_HEADER].lower()).split())


def column_for_header(cell: str) -> str:
    """The column a header cell names: its key, or the column a human header (`HEADER_ALIASES`) stands for."""
    key = header_key(cell)
    return HEADER_ALIASES.get(key, key)


def _cells(cells: list[str], columns: dict[str, int], header_width: int) -> dict[str, str]:
    if len(cells) > header_width and any(cell.strip() for cell in cells[header_width:]):
        raise _RowError(
            f"it has {len(cells)} cells but the header row has {header_width} (is there an unquoted comma in a text?)"
        )
    # Spreadsheets drop trailing empty cells, so a short row just has empty values.
    return {column: _clean(cells[index]) if index < len(cells) else "" for column, index in columns.items()}


def _clean(cell: str) -> str:
    text = " ".join(cell.replace("\x00", "").split())
    # `recbot export` guards cells that spreadsheets would run as formulas with an apostrophe.
    if text.startswith("'") and text[1:2] in ("=", "+", "-", "@"):
        text = text[1:]
    return text


def _add_row(reports: dict[str, _Report], row: dict[str, str], row_number: int) -> None:
    for column, limit in _MAX_LENGTHS.items():
        if len(row.get(column, "")) > limit:
            raise _RowError(f"{column} is longer than {limit} characters")
    report = _report_for(reports, row, row_number)
    item = _item(row, report.published_on)
    key = (item.kind, item.number)
    if key in report.rows_by_item:
        raise _RowError(
            f"{item.kind.value} {item.number} of {report.code} is already given on row {report.rows_by_item[key]}"
        )
    report.rows_by_item[key] = row_number
    report.items.append(item)


def _report_for(reports: dict[str, _Report], row: dict[str, str], row_number: int) -> _Report:
    """The report this row belongs to, created on its first row; later rows must agree with it."""
    code, title = row["report_code"], row["report_title"]
    if not code:
        raise _RowError("report_code is empty")
    published_on = _date(row, "published_on")
    report = reports.get(code)
    if report is None:
        if not title:
            raise _RowError(f"report_title is empty on the first row of report {code}")
        for other in reports.values():
            if other.title == title and other.published_on == published_on:
                raise _RowError(f"report_title '{_quoted(title)}' is already used by report {other.code}")
        report = reports[code] = _Report(code, title, published_on, row.get("inspection_type") or None, row_number)
        return report
    if title and title != report.title:
        raise _RowError(f"report_title '{_quoted(title)}' differs from row {report.first_row} of report {code}")
    if published_on is not None and published_on != report.published_on:
        raise _RowError(f"published_on '{row['published_on']}' differs from row {report.first_row} of report {code}")
    return report


def _item(row: dict[str, str], published_on: date | None) -> ItemRecord:
    text, response = row["text"], row.get("latest_update", "")
    if not text:
        raise _RowError("text is empty")
    due_on = _date(row, "due_on") if row.get("due_on") else parse_due_date(text, published_on)
    return ItemRecord(
        kind=_kind(row.get("kind", "")),
        number=_number(row["number"]),
        text=text,
        due_on=due_on,
        response=response,
        status=_status(row.get("status", ""), has_update=bool(response)),
        owner_email=_email(row, "owner_email"),
        revised_due_on=_date(row, "revised_due_on"),
        requested_due_on=_date(row, "requested_due_on"),
        requested_due_reason=row.get("requested_due_reason") or None,
        assessment=_assessment(row.get("assessment", "")),
        updated_on=_date(row, "last_update_on"),
        updated_by=row.get("last_update_by") or None,
        updated_by_email=_email(row, "last_update_by_email"),
        evidence_url=row.get("evidence_url") or None,
        delegate_emails=_delegates(row.get("delegates", "")),
        closed_on=_date(row, "closed_on"),
        closed_by=row.get("closed_by") or None,
        title=_title(row.get("title", "")),
    )


def _title(value: str) -> str | None:
    if not value:
        return None
    problem = title_problem(value)
    if problem is not None:
        raise _RowError(f"title '{_quoted(value)}': {problem}")
    return normal_title(value)


def _number(value: str) -> int:
    if not _WHOLE_NUMBER.fullmatch(value):
        raise _RowError(f"number '{_quoted(value)}' is not a whole number")
    number = int(float(value))
    if number < 1:
        raise _RowError(f"number '{value}' must be 1 or more")
    return number


def _date(row: dict[str, str], column: str) -> date | None:
    value = row.get(column, "")
    if not value:
        return None
    parsed = parse_written_date(value)
    if parsed is None:
        raise _RowError(
            f"{column} '{_quoted(value)}' is not a date (write e.g. 30/04/2026, 2026-04-30 or 30 April 2026)"
        )
    return parsed


def _kind(value: str) -> Kind:
    if not value:
        return Kind.RECOMMENDATION
    kind = _KINDS.get(" ".join(value.lower().split()))
    if kind is None:
        raise _RowError(
            f"kind '{_quoted(value)}' is not one of: recommendation, area for improvement (AFI), cause of concern"
        )
    return kind


def _status(value: str, *, has_update: bool) -> Status:
    if not value:
        return Status.IN_PROGRESS if has_update else Status.NOT_STARTED
    status = _STATUSES.get(" ".join(value.lower().replace("-", " ").split()))
    if status is None:
        raise _RowError(f"status '{_quoted(value)}' is not one of: {', '.join(choice.value for choice in Status)}")
    return status


def _assessment(value: str) -> Assessment | None:
    if not value:
        return None
    assessment = _ASSESSMENTS.get(" ".join(value.lower().split()))
    if assessment is None:
        raise _RowError(
            f"assessment '{_quoted(value)}' is not one of: {', '.join(choice.value for choice in Assessment)}"
        )
    return assessment


def _email(row: dict[str, str], column: str) -> str | None:
    value = row.get(column, "")
    if not value:
        return None
    if len(value) > _MAX_LENGTHS["owner_email"] or not _EMAIL.fullmatch(value):
        raise _RowError(f"{column} '{_quoted(value)}' is not an e-mail address")
    return value.lower()


def _delegates(value: str) -> tuple[str, ...]:
    """The e-mail addresses in a `delegates` cell, once each, in order; names (no "@") are skipped."""
    emails: dict[str, None] = {}
    for entry in value.translate(_DELEGATE_SEPARATORS).split(";"):
        entry = entry.strip()
        if "@" in entry:
            email = _email({"delegates": entry}, "delegates")
            if email is not None:
                emails[email] = None
    return tuple(emails)


def _quoted(value: str) -> str:
    return value if len(value) <= _MAX_QUOTED else value[: _MAX_QUOTED - 1] + "…"


def _report_record(report: _Report, source_name: str | None) -> ReportRecord:
    return ReportRecord(
        title=report.title,
        code=report.code,
        published_on=report.published_on,
        inspection_type=report.inspection_type,
        source_name=source_name,
        items=tuple(report.items),
    )
