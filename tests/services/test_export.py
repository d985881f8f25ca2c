"""`recbot export`: CSV/xlsx trackers that round-trip through the importer, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain.records import ItemRecord, ReportRecord
from domain.vocabulary import Kind
from services.export import (
    COLUMNS,
    EXTRA_COLUMNS,
    HEADERS,
    TRACKER_COLUMNS,
    ExportError,
    choose_target,
    export_rows,
    neutralise_formula,
    run_export,
    write_csv,
    write_xlsx,
)
from services.importers.csv_tracker import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, RESTORED_COLUMNS, column_for_header
from services.importing import import_file
from storage import ownership, progress, tracker
from storage.models import Base, Delegate, Item, Person, Update

Sessionmaker = async_sessionmaker[AsyncSession]
ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "samples" / "oic-2025-cheshire-pcc-response.txt"
TRACKER = Path(__file__).resolve().parent / "documents" / "tracker.csv"
TODAY = date(2026, 3, 2)
NARRATIVE = 'Hydra dates agreed with the region — "cohort 1" booked, £1,200 spent; Zoë to report back.'


def _csv_text(rows: list[dict[str, object]]) -> str:
    stream = io.StringIO(newline="")
    write_csv(rows, stream)
    return stream.getvalue()


def _tracker_csv(rows: list[dict[str, object]]) -> str:
    return _csv_text([{column: row[column] for column in TRACKER_COLUMNS} for row in rows])


def _parsed(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


async def _export(sessionmaker: Sessionmaker) -> list[dict[str, object]]:
    async with sessionmaker() as session:
        return await export_rows(session, today=TODAY)


async def _empty(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(table.delete())


async def _seed_tracker_and_document(sessionmaker: Sessionmaker) -> None:
    """The CSV tracker, the seed PCC response, then some life: an update, a revised date, a delegate."""
    await import_file(sessionmaker, TRACKER)
    await import_file(sessionmaker, SEED)
    async with sessionmaker.begin() as session:
        (r9,) = await tracker.find_items(session, number=9, report_code="OIC-2025")
        (r2,) = await tracker.find_items(session, number=2, report_code="OIC-2025")
        lead = await tracker.person_by_email(session, "jane.doe@force.police.uk")
        admin = Person(email="boss@force.police.uk", name="Pat Admin", is_admin=True)
        session.add(admin)
        await session.flush()
        assert lead is not None
        lead.name = "Jane Doe"
        await progress.record_update(
            session,
            await ownership.lock_item(session, r9.id),
            status="Blocked",
            assessment="at risk",
            narrative=NARRATIVE,
            author=lead,
            activity_key="activity-1",
            now=datetime(2026, 2, 20, 23, 30, tzinfo=UTC),
        )
        await progress.set_due_date(session, r9, admin, date(2026, 9, 30), "regional dates slipped", "activity-2")
        sam = await tracker.person_by_email(session, "sam@force.police.uk")
        assert sam is not None
        await ownership.add_delegate(session, r2, sam, admin, "activity-3")
        await ownership.add_delegate(session, r2, admin, admin, "activity-4")
        await progress.record_update(
            session,
            await ownership.lock_item(session, r2.id),
            status="In progress",
            assessment="on track",
            narrative="Waiting for the regional panel.",
            author=lead,
            activity_key="activity-5",
            revised_due_on=date(2027, 3, 31),
            revised_due_reason="the regional panel meets in March",
            now=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        )


def test_the_first_columns_are_exactly_the_importers() -> None:
    assert set(TRACKER_COLUMNS) == set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    assert COLUMNS[: len(TRACKER_COLUMNS)] == TRACKER_COLUMNS
    assert len(set(COLUMNS)) == len(COLUMNS)
    # Everything the export knows of an item's state is read back; only computed columns are not.
    assert set(EXTRA_COLUMNS) - set(RESTORED_COLUMNS) == {"rag", "days_overdue"}
    # The xlsx's human headers name the same columns for the importer.
    assert set(HEADERS) == set(COLUMNS)
    assert {column: column_for_header(header) for column, header in HEADERS.items()} == {c: c for c in COLUMNS}


async def test_export_rows_hold_the_items_and_the_extras(sessionmaker: Sessionmaker) -> None:
    await _seed_tracker_and_document(sessionmaker)
    rows = await _export(sessionmaker)
    # Reports by publication date; recommendations, then AFIs, then causes of concern.
    assert [(row["report_code"], row["kind"], row["number"]) for row in rows] == [
        ("VAW-2024", "area for improvement", 3),
        ("VAW-2024", "cause of concern", 1),
        ("OIC-2025", "recommendation", 2),
        ("OIC-2025", "recommendation", 4),
        ("OIC-2025", "recommendation", 8),
        ("OIC-2025", "recommendation", 9),
    ]
    by_number = {(row["report_code"], row["number"]): row for row in rows}
    r9 = by_number["OIC-2025", 9]
    assert r9["status"] == "Blocked" and r9["assessment"] == "at risk"
    assert r9["latest_update"] == NARRATIVE and r9["last_update_by"] == "Jane Doe"
    assert r9["last_update_on"] == date(2026, 2, 20)
    assert r9["due_on"] == date(2026, 4, 30) and r9["revised_due_on"] == date(2026, 9, 30)
    assert r9["rag"] == "Amber"  # the lead says at risk
    r2 = by_number["OIC-2025", 2]
    assert r2["owner_email"] == "jane.doe@force.police.uk"
    assert r2["delegates"] == "sam@force.police.uk; boss@force.police.uk"
    assert r2["last_update_by"] == "Jane Doe" and r2["last_update_on"] == date(2026, 3, 2)
    # A later date asked for and not yet decided: its own column, the revised date untouched.
    assert r2["requested_due_on"] == date(2027, 3, 31) and r2["revised_due_on"] is None
    assert r9["requested_due_on"] is None
    r8 = by_number["OIC-2025", 8]
    assert r8["due_on"] == date(2026, 6, 30) and r8["status"] == "Blocked"
    afi = by_number["VAW-2024", 3]
    assert afi["latest_update"] is None and afi["last_update_on"] is None and afi["delegates"] is None
    assert afi["rag"] == "Amber"  # never updated: stale


async def test_an_exported_csv_reimports_into_an_empty_database_unchanged(
    engine: AsyncEngine, sessionmaker: Sessionmaker, tmp_path: Path
) -> None:
    await _seed_tracker_and_document(sessionmaker)
    before = await _export(sessionmaker)
    exported = tmp_path / "export.csv"
    exported.write_bytes(_csv_text(before).encode("utf-8"))

    await _empty(engine)
    lines = await import_file(sessionmaker, exported)
    assert lines == [
        "imported VAW-2024: Police response to violence against women and girls (2 items)",
        "imported OIC-2025: Improving the response to organised immigration crime (4 items)",
    ]

    after = await _export(sessionmaker)
    assert [{column: row[column] for column in TRACKER_COLUMNS} for row in after] == [
        {column: row[column] for column in TRACKER_COLUMNS} for row in before
    ]
    # The importer's own view agrees too: the items themselves, not just their export.
    async with sessionmaker() as session:
        items = await tracker.all_items(session)
        assert {(item.reference, item.status, item.due_on) for item in items} == {
            (f"{row['report_code']} {Kind(str(row['kind'])).prefix}{row['number']}", row["status"], row["due_on"])
            for row in before
        }
    # And the re-import exports to the same CSV, byte for byte in the importer's columns.
    assert _tracker_csv(after) == _tracker_csv(before)


async def test_the_csv_is_utf8_with_a_bom_crlf_and_iso_dates(sessionmaker: Sessionmaker) -> None:
    await _seed_tracker_and_document(sessionmaker)
    text = _csv_text(await _export(sessionmaker))
    assert text.startswith("\ufeff" + ",".join(COLUMNS) + "\r\n")
    rows = _parsed(text)
    r9 = next(row for row in rows if row["report_code"] == "OIC-2025" and row["number"] == "9")
    assert r9["published_on"] == "2025-05-16" and r9["due_on"] == "2026-04-30"
    assert r9["revised_due_on"] == "2026-09-30" and r9["last_update_on"] == "2026-02-20"
    assert r9["latest_update"] == NARRATIVE


async def test_an_empty_database_exports_the_header_only(sessionmaker: Sessionmaker, tmp_path: Path) -> None:
    rows = await _export(sessionmaker)
    assert rows == []
    assert _csv_text(rows) == "\ufeff" + ",".join(COLUMNS) + "\r\n"
    write_xlsx(rows, tmp_path / "empty.xlsx")
    sheet = load_workbook(tmp_path / "empty.xlsx").active
    assert sheet is not None
    assert [cell.value for cell in sheet[1]] == [HEADERS[column] for column in COLUMNS] and sheet.max_row == 1


async def test_the_xlsx_has_a_bold_frozen_filtered_header_and_typed_cells(
    sessionmaker: Sessionmaker, tmp_path: Path
) -> None:
    await _seed_tracker_and_document(sessionmaker)
    rows = await _export(sessionmaker)
    path = tmp_path / "tracker.xlsx"
    write_xlsx(rows, path)

    sheet = load_workbook(path).active
    assert sheet is not None
    assert [cell.value for cell in sheet[1]][:3] == ["Report code", "Report title", "Published on"]
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    last_column = get_column_letter(len(COLUMNS))
    assert sheet.auto_filter.ref == f"A1:{last_column}{len(rows) + 1}"
    assert sheet.max_row == len(rows) + 1
    header = {name: index for index, name in enumerate(COLUMNS)}
    r9 = next(row for row in sheet.iter_rows(min_row=2) if row[header["number"]].value == 9)
    assert r9[header["published_on"]].value == datetime(2025, 5, 16)
    assert r9[header["published_on"]].number_format == "dd/mm/yyyy"
    assert r9[header["revised_due_on"]].value == datetime(2026, 9, 30)
    assert r9[header["last_update_on"]].is_date
    assert r9[header["number"]].data_type == "n"
    assert r9[header["latest_update"]].value == NARRATIVE
    assert r9[header["text"]].alignment.wrap_text
    assert sheet.column_dimensions["G"].width >= 60  # text
    assert sheet.column_dimensions["A"].width < sheet.column_dimensions["G"].width
    empty_update = next(row for row in sheet.iter_rows(min_row=2) if row[header["kind"]].value == "cause of concern")
    assert empty_update[header["latest_update"]].value is None


def _row(**values: object) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(COLUMNS)
    row.update(report_code="X-1", report_title="A report", kind="recommendation", number=1, status="Not started")
    row.update(values)
    return row


FORMULAS = ['=HYPERLINK("http://evil.example","click")', "+1+2", "-2+3", "@SUM(A1:A2)", "  =1+1", "\t=1+1"]


def test_csv_cells_that_would_run_as_formulas_get_a_leading_apostrophe() -> None:
    rows = [_row(number=n, text=text, latest_update=text) for n, text in enumerate(FORMULAS, start=1)]
    rows.append(
        _row(number=99, text="Chief constables should act; costs −£5 (not a formula) 'quoted'", report_title="=cmd")
    )
    parsed = _parsed(_csv_text(rows))
    for text, row in zip(FORMULAS, parsed, strict=False):
        assert row["text"] == "'" + text and row["latest_update"] == "'" + text
    assert parsed[-1]["text"] == "Chief constables should act; costs −£5 (not a formula) 'quoted'"
    assert parsed[-1]["report_title"] == "'=cmd"
    assert neutralise_formula("") == "" and neutralise_formula("plain") == "plain"


def test_xlsx_cells_that_look_like_formulas_stay_exact_text(tmp_path: Path) -> None:
    rows = [_row(number=n, text=text) for n, text in enumerate(FORMULAS, start=1)]
    rows.append(_row(number=99, text="line one\x0bline two\x01"))
    path = tmp_path / "formulas.xlsx"
    write_xlsx(rows, path)
    sheet = load_workbook(path).active
    assert sheet is not None
    column = COLUMNS.index("text") + 1
    cells = [sheet.cell(row=row, column=column) for row in range(2, len(rows) + 2)]
    for text, cell in zip(FORMULAS, cells, strict=False):
        assert cell.data_type == "s" and cell.value == text and cell.quotePrefix
    assert cells[-1].value == "line one\nline two" and not cells[-1].quotePrefix


async def test_a_text_starting_with_a_formula_character_round_trips(
    engine: AsyncEngine, sessionmaker: Sessionmaker, tmp_path: Path
) -> None:
    """The export's formula guard (a leading apostrophe) is removed again by the importer."""
    record = ReportRecord(
        title="A report", code="X-2025", published_on=date(2025, 1, 1),
        items=(ItemRecord(Kind.RECOMMENDATION, 1, "-1 officers is not a deadline", response="=1+1"),),
    )  # fmt: skip
    async with sessionmaker.begin() as session:
        await tracker.save_report(session, record)
    exported = tmp_path / "export.csv"
    exported.write_bytes(_csv_text(await _export(sessionmaker)).encode("utf-8"))
    await _empty(engine)
    await import_file(sessionmaker, exported)
    (row,) = await _export(sessionmaker)
    assert row["text"] == "-1 officers is not a deadline" and row["latest_update"] == "=1+1"


async def _seed_many(sessionmaker: Sessionmaker, count: int) -> None:
    items = tuple(
        ItemRecord(Kind.RECOMMENDATION, n, f"Recommendation {n} text.", owner_email=f"lead{n % 7}@force.police.uk")
        for n in range(1, count + 1)
    )
    async with sessionmaker.begin() as session:
        await tracker.save_report(
            session, ReportRecord(title="Many", code="MANY-2025", published_on=date(2025, 1, 1), items=items)
        )
        people = [Person(email=f"delegate{n}@force.police.uk") for n in range(3)]
        session.add_all(people)
        await session.flush()
        item_ids = (await session.scalars(select(Item.id))).all()
        for item_id in item_ids:
            session.add_all(
                [
                    Update(item_id=item_id, author_name="A", status="In progress", narrative="first",
                           created_at=datetime(2025, 2, 1, tzinfo=UTC)),
                    Update(item_id=item_id, author_name="B", status="In progress", narrative="second",
                           created_at=datetime(2025, 3, 1, tzinfo=UTC)),
                ]
            )  # fmt: skip
            session.add_all([Delegate(item_id=item_id, person_id=person.id) for person in people[: item_id % 3]])


async def _statements_to_export(engine: AsyncEngine, sessionmaker: Sessionmaker) -> tuple[int, list[dict[str, object]]]:
    statements: list[str] = []

    def count(_connection: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        rows = await _export(sessionmaker)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    return len(statements), rows


async def test_the_export_runs_a_bounded_number_of_statements(engine: AsyncEngine, sessionmaker: Sessionmaker) -> None:
    await _seed_many(sessionmaker, 10)
    few, rows = await _statements_to_export(engine, sessionmaker)
    assert len(rows) == 10
    await _empty(engine)
    await _seed_many(sessionmaker, 200)
    many, rows = await _statements_to_export(engine, sessionmaker)
    assert len(rows) == 200
    assert few == many <= 3
    assert {row["latest_update"] for row in rows} == {"second"}
    assert {row["delegates"] for row in rows} == {
        None,
        "delegate0@force.police.uk",
        "delegate0@force.police.uk; delegate1@force.police.uk",
    }


def test_the_target_follows_format_and_output() -> None:
    assert choose_target(None, None, today=TODAY) == ("csv", None)
    assert choose_target("xlsx", None, today=TODAY) == ("xlsx", Path("recbot-export-2026-03-02.xlsx"))
    assert choose_target(None, "out.XLSX", today=TODAY) == ("xlsx", Path("out.XLSX"))
    assert choose_target(None, "out.csv", today=TODAY) == ("csv", Path("out.csv"))
    assert choose_target("csv", "out.xlsx", today=TODAY) == ("csv", Path("out.xlsx"))
    assert choose_target("xlsx", "-", today=TODAY) == ("xlsx", None)
    with pytest.raises(ExportError):
        choose_target("ods", None, today=TODAY)


class _Stdout(io.TextIOWrapper):
    def __init__(self, *, tty: bool) -> None:
        super().__init__(io.BytesIO(), encoding="utf-8", newline="")
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty

    def written(self) -> bytes:
        self.flush()
        raw = self.buffer
        assert isinstance(raw, io.BytesIO)
        return raw.getvalue()


async def test_run_export_writes_csv_to_stdout_and_xlsx_to_a_dated_file(
    sessionmaker: Sessionmaker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await import_file(sessionmaker, SEED)
    stdout = _Stdout(tty=True)
    message = await run_export(sessionmaker, format=None, output=None, today=TODAY, stdout=stdout)
    assert message == "exported 4 items as csv"
    assert len(_parsed(stdout.written().decode("utf-8-sig"))) == 4

    monkeypatch.chdir(tmp_path)
    message = await run_export(sessionmaker, format="xlsx", output=None, today=TODAY, stdout=_Stdout(tty=True))
    assert message == "exported 4 items to recbot-export-2026-03-02.xlsx"
    sheet = load_workbook(tmp_path / "recbot-export-2026-03-02.xlsx").active
    assert sheet is not None and sheet.max_row == 5

    piped = _Stdout(tty=False)
    await run_export(sessionmaker, format="xlsx", output="-", today=TODAY, stdout=piped)
    assert piped.written().startswith(b"PK")

    with pytest.raises(ExportError, match="terminal"):
        await run_export(sessionmaker, format="xlsx", output="-", today=TODAY, stdout=_Stdout(tty=True))
    with pytest.raises(ExportError, match="cannot write"):
        await run_export(sessionmaker, format="csv", output=str(tmp_path / "missing" / "x.csv"), today=TODAY)
