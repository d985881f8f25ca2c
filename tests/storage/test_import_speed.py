"""Imports write in batches (a few statements per thousand items) and store exactly the rows the
one-item-at-a-time import stored: same tables, same values, same order of ids, same messages."""

from __future__ import annotations

import csv
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Integer, event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain.clock import FixedClock
from domain.records import ItemRecord, ReportRecord
from domain.titles import item_titles
from domain.vocabulary import Kind, Status
from services import importing
from services.export import TRACKER_COLUMNS
from storage import tracker
from storage.models import Base, Item, Person, Report, Update, utcnow

SEED = Path(__file__).resolve().parents[2] / "samples" / "oic-2025-cheshire-pcc-response.txt"
Save = Callable[[AsyncSession, ReportRecord], Awaitable[tracker.ImportOutcome]]


async def _save_one_item_at_a_time(session: AsyncSession, record: ReportRecord) -> tracker.ImportOutcome:
    """`tracker.save_report` as it was before imports were batched (an owner looked up and an item
    flushed per item): the reference the batched import must match row for row."""
    # The report's own fields are stored as they always were, batched or not.
    report, created = await tracker.stored_report(session, record)
    rows = await session.execute(select(Item.kind, Item.number, Item.title).where(Item.report_id == report.id))
    stored = {(kind, number): title for kind, number, title in rows}
    existing = set(stored)
    # Titles as an import derives them (domain.titles), for the items it adds: the first of two with one number.
    new: dict[tuple[str, int], ItemRecord] = {}
    for item_record in record.items:
        new.setdefault((item_record.kind.value, item_record.number), item_record)
    new = {key: item_record for key, item_record in new.items() if key not in existing}
    derived = item_titles(
        [(r.title, r.text) for r in new.values()], topic=record.title, taken=filter(None, stored.values())
    )
    titles = dict(zip(new, derived, strict=True))
    responded_at = datetime.combine(record.published_on, time(), tzinfo=UTC) if record.published_on else utcnow()
    added = 0
    for item_record in record.items:
        if (item_record.kind.value, item_record.number) in existing:
            continue
        owner = await tracker.person_by_email(session, item_record.owner_email) if item_record.owner_email else None
        item = Item(
            report_id=report.id,
            kind=item_record.kind.value,
            number=item_record.number,
            text=item_record.text,
            title=titles[(item_record.kind.value, item_record.number)],
            due_on=item_record.due_on,
            status=item_record.status.value,
            owner_id=owner.id if owner else None,
            last_update_at=responded_at if item_record.response else None,
        )
        session.add(item)
        await session.flush()
        if item_record.response:
            session.add(
                Update(
                    item_id=item.id,
                    created_at=responded_at,
                    author_name=tracker.INITIAL_RESPONSE_AUTHOR,
                    status=item_record.status.value,
                    narrative=item_record.response,
                )
            )
        existing.add((item_record.kind.value, item_record.number))
        added += 1
    await session.flush()
    return tracker.ImportOutcome(report=report, created=created, items_added=added)


def _write_tracker(path: Path, rows: list[list[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(TRACKER_COLUMNS)
        writer.writerows(rows)
    return path


def _tracker_rows(items: int, *, extra: int = 0, first_owner: str = "") -> list[list[object]]:
    """Report ALPHA with `items` (+ `extra`) recommendations and BETA with a few, owners and updates varied."""
    owners = ["", "Lead.One@Force.Police.UK", "lead.two@force.police.uk", "", "jane.doe@force.police.uk"]
    rows: list[list[object]] = []
    for number in range(1, items + extra + 1):
        owner = first_owner if number == 1 and first_owner else owners[number % len(owners)]
        if number > items:
            owner = f"new.in.extra{number % 3}@force.police.uk"
        rows.append(
            [
                "ALPHA-2025",
                "Alpha inspection" if number == 1 else "",
                "16/05/2025",
                "Thematic",
                "area for improvement" if number % 7 == 0 else "recommendation",
                number,
                f"By 30 April 2026 the force should do thing {number}.",
                "" if number % 4 == 0 else "30/04/2026",
                ["Not started", "In progress", "Blocked", "Closed"][number % 4],
                owner,
                "" if number % 3 == 0 else f"Update on thing {number}.",
            ]
        )
    for number in range(1, 5):
        rows.append(
            [
                "BETA-2024",
                "Beta inspection" if number == 1 else "",
                "",  # no published date: the initial update is stamped now
                "",
                "cause of concern",
                number,
                f"The force must fix {number}.",
                "",
                "",
                "lead.three@force.police.uk",
                f"We are fixing {number}." if number % 2 else "",
            ]
        )
    return rows


# Records the CSV parser would refuse but other importers may give: a number twice (the first
# wins, and an owner named only on the second is never created), e-mails in mixed case and padded.
RECORDS = ReportRecord(
    title="Gamma inspection",
    code="ALPHA-2025",  # taken by then: stored as ALPHA-2025-2
    published_on=date(2024, 2, 1),
    inspection_type="PEEL",
    items=(
        ItemRecord(
            Kind.RECOMMENDATION, 1, "First.", date(2025, 1, 1), "Done.", Status.CLOSED, " Jane.Doe@force.police.uk"
        ),
        ItemRecord(Kind.RECOMMENDATION, 2, "Second.", None, "", Status.NOT_STARTED, "gamma.owner@force.police.uk"),
        ItemRecord(Kind.RECOMMENDATION, 1, "First again.", None, "Again.", Status.BLOCKED, "only.on.a.duplicate@x.uk"),
        ItemRecord(Kind.AREA_FOR_IMPROVEMENT, 1, "An AFI.", None, "Started.", Status.IN_PROGRESS, None),
    ),
)


async def _scenario(sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path) -> list[str]:
    """Imports of every shape, one after another; what `recbot import` said each time."""
    async with sessionmaker.begin() as session:
        session.add(Person(email="jane.doe@force.police.uk", name="Jane Doe"))
    first = _write_tracker(tmp_path / "tracker.csv", _tracker_rows(40))
    # The same tracker a month later: five more items, and item 1's owner changed (not applied:
    # known items are left as they are, so that owner is not created either).
    later = _write_tracker(
        tmp_path / "tracker-later.csv", _tracker_rows(40, extra=5, first_owner="changed.owner@force.police.uk")
    )
    lines = []
    lines += await importing.import_file(sessionmaker, first)
    lines += await importing.import_file(sessionmaker, SEED)
    lines += await importing.import_file(sessionmaker, first)
    lines += await importing.import_file(sessionmaker, later)
    lines += await importing.import_file(sessionmaker, later)
    async with sessionmaker.begin() as session:
        outcome = await tracker.save_report(session, RECORDS)
        lines.append(f"{outcome.report.code} {outcome.created} {outcome.items_added}")
    return lines


async def _dump(engine: AsyncEngine) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, ids replaced by their rank in their table (PostgreSQL's sequences
    are not reset between tests), foreign keys by the rank of the row they point at."""
    async with engine.connect() as connection:
        raw = {
            table.name: [
                dict(row._mapping)
                for row in await connection.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in Base.metadata.sorted_tables
        }
    ranks = {
        table.name: {row["id"]: rank for rank, row in enumerate(raw[table.name], start=1)}
        for table in Base.metadata.sorted_tables
        if "id" in table.c and isinstance(table.c.id.type, Integer)
    }
    dump: dict[str, list[dict[str, Any]]] = {}
    for table in Base.metadata.sorted_tables:
        rows = []
        for row in raw[table.name]:
            row = dict(row)
            if table.name in ranks:
                row["id"] = ranks[table.name][row["id"]]
            for column in table.c:
                for foreign_key in column.foreign_keys:
                    target = foreign_key.column.table.name
                    if target in ranks and row[column.name] is not None:
                        row[column.name] = ranks[target][row[column.name]]
            rows.append(row)
        dump[table.name] = rows
    return dump


async def _empty(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(table.delete())


@pytest.fixture
def fixed_now(monkeypatch: pytest.MonkeyPatch) -> FixedClock:
    """Column defaults (`created_at`, `imported_at`) and undated responses read this clock."""
    clock = FixedClock(datetime(2026, 3, 2, 9, 30, tzinfo=UTC))
    monkeypatch.setattr("storage.models.SYSTEM_CLOCK", clock)
    return clock


async def test_batched_import_stores_the_rows_the_one_by_one_import_stored(
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fixed_now: FixedClock,
) -> None:
    # Chunks of 7 rows: the 45 items of ALPHA cross several chunk boundaries.
    monkeypatch.setattr(tracker, "_CHUNK_ROWS", 7)
    with monkeypatch.context() as before:
        before.setattr(tracker, "save_report", _save_one_item_at_a_time)
        expected_lines = await _scenario(sessionmaker, tmp_path)
    expected = await _dump(engine)
    await _empty(engine)

    lines = await _scenario(sessionmaker, tmp_path)

    assert lines == expected_lines
    assert lines == [
        "imported ALPHA-2025: Alpha inspection (40 items)",
        "imported BETA-2024: Beta inspection (4 items)",
        "imported OIC-2025: Improving the response to organised immigration crime (4 items)",
        "ALPHA-2025 is already imported: nothing changed",
        "BETA-2024 is already imported: nothing changed",
        "updated ALPHA-2025: 5 new items added",
        "BETA-2024 is already imported: nothing changed",
        "ALPHA-2025 is already imported: nothing changed",
        "BETA-2024 is already imported: nothing changed",
        "ALPHA-2025-2 True 3",
    ]
    dump = await _dump(engine)
    assert {name: len(rows) for name, rows in dump.items()} == {name: len(rows) for name, rows in expected.items()}
    assert len(dump["items"]) == 45 + 4 + 4 + 3 and dump["updates"]
    # Created in the order first named; never an owner named only on a skipped item.
    assert [row["email"] for row in dump["people"]] == [
        "jane.doe@force.police.uk",
        "lead.one@force.police.uk",
        "lead.two@force.police.uk",
        "lead.three@force.police.uk",
        "new.in.extra2@force.police.uk",
        "new.in.extra0@force.police.uk",
        "new.in.extra1@force.police.uk",
        "gamma.owner@force.police.uk",
    ]
    assert dump == expected


async def test_a_failed_import_writes_nothing(
    sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file is one transaction: an item refused after whole chunks and a whole report were written
    leaves no report, item, update or person behind."""
    monkeypatch.setattr(tracker, "_CHUNK_ROWS", 3)
    good = ReportRecord(
        "Good report",
        "GOOD-2025",
        date(2025, 1, 1),
        items=tuple(
            ItemRecord(Kind.RECOMMENDATION, n, f"Item {n}.", None, "Yes.", owner_email=f"o{n}@x.uk")
            for n in range(1, 8)
        ),
    )
    items = [ItemRecord(Kind.RECOMMENDATION, n, f"Item {n}.", None, "Yes.", owner_email="p@x.uk") for n in range(1, 8)]
    # An item without text: the database refuses it (items.text is NOT NULL), after two chunks were written.
    items.append(ItemRecord(Kind.RECOMMENDATION, 8, None, None, "Yes."))  # type: ignore[arg-type]
    bad = ReportRecord("Bad report", "BAD-2025", date(2025, 1, 1), items=tuple(items))
    monkeypatch.setattr(importing, "parse_document", lambda *_args, **_kwargs: [good, bad])
    monkeypatch.setattr(importing, "read_document", lambda *_args: "")

    with pytest.raises(IntegrityError):
        await importing.import_file(sessionmaker, _write_tracker(tmp_path / "any.csv", []))

    async with sessionmaker() as session:
        for model in (Report, Item, Update, Person):
            assert await session.scalar(select(func.count()).select_from(model)) == 0, model.__name__


async def test_statements_per_import_do_not_grow_with_items(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Owners are looked up and items inserted a thousand at a time: 3,000 items take a handful of
    statements more than 30 (before: two or three per item)."""

    def report(title: str, items: int) -> ReportRecord:
        return ReportRecord(
            title,
            title.upper()[:4] + "-2025",
            date(2025, 5, 16),
            items=tuple(
                ItemRecord(
                    Kind.RECOMMENDATION, n, f"Item {n}.", None, f"Update {n}.", owner_email=f"owner{n % 40}@x.uk"
                )
                for n in range(1, items + 1)
            ),
        )

    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    counts = {}
    for title, items in (("small", 30), ("large", 3000)):
        async with sessionmaker.begin() as session:
            statements.clear()
            outcome = await tracker.save_report(session, report(title, items))
            assert outcome.items_added == items
            counts[items] = len(statements)
    # Two more chunks of items and two more of updates; the 40 owners already exist for "large".
    assert counts[3000] <= counts[30] + 4
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count(Item.id))) == 3030
        assert await session.scalar(select(func.count(Update.id))) == 3030
        assert await session.scalar(select(func.count(Person.id))) == 40
