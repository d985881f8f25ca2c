"""`find_items_with_latest` answers exactly what `find_items`, `latest_update` and `acting_people` answer, as rows, in one statement."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, date, datetime

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain.records import ItemRecord, ReportRecord
from domain.vocabulary import Kind
from storage import ownership, tracker
from storage.models import Delegate, Person, Update
from storage.rows import ItemRow, OwnerRow, ReportRow, UpdateRow
from storage.state import StateAlong, StateTable

Sessionmaker = async_sessionmaker[AsyncSession]
BOOTSTRAP = ("NAMED@force.police.uk",)


def _report(code: str, title: str, with_response: bool) -> ReportRecord:
    return ReportRecord(
        title=title,
        code=code,
        published_on=date(2025, 5, 16),
        items=(
            ItemRecord(
                Kind.RECOMMENDATION,
                8,
                "Recommendation eight.",
                date(2026, 4, 30),
                "We will." if with_response else "",
                owner_email="lead@force.police.uk",
            ),
            ItemRecord(Kind.AREA_FOR_IMPROVEMENT, 8, "Area for improvement eight.", None, ""),
            ItemRecord(Kind.RECOMMENDATION, 9, "Recommendation nine.", None, ""),
        ),
    )


async def test_items_with_their_latest_update_in_one_statement(engine: AsyncEngine, sessionmaker: Sessionmaker) -> None:
    async with sessionmaker.begin() as session:
        first = (await tracker.save_report(session, _report("OIC-2025", "Organised immigration crime", True))).report
        await tracker.save_report(session, _report("VAWG-2024", "Violence against women and girls", False))
        item_id = (await tracker.find_items(session, number=8, kind=Kind.RECOMMENDATION, report_code="OIC-2025"))[0].id
        same_time = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)
        # Two updates at the same moment: the later id wins, as in `latest_update`.
        session.add_all(
            [
                Update(item_id=item_id, created_at=same_time, author_name="A", status="In progress", narrative="first"),
                Update(item_id=item_id, created_at=same_time, author_name="B", status="Blocked", narrative="second"),
            ]
        )
        # Who may act: the owner (with a Teams id), a delegate, an admin, a bootstrap admin named by
        # address, and people who may not (no Teams id yet, or no role).
        owner = await session.scalar(select(Person).where(Person.email == "lead@force.police.uk"))
        assert owner is not None
        owner.teams_user_id = "29:owner,with:odd:characters"
        delegate, admin, named, silent, nobody = (
            Person(email=f"{name}@force.police.uk", name=name, teams_user_id=f"29:{name}" if name != "silent" else None)
            for name in ("delegate", "admin", "named", "silent", "nobody")
        )
        admin.is_admin = silent.is_admin = True
        session.add_all([delegate, admin, named, silent, nobody])
        await session.flush()
        session.add(Delegate(item_id=item_id, person_id=delegate.id))

    statements: list[str] = []
    # Listened to, the statement runs through SQLAlchemy rather than on the driver (storage.driver_select);
    # tests/storage/test_driver_select.py checks that both ways give the same rows.
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    cases = [
        {"number": 8},
        {"number": 8, "kind": Kind.RECOMMENDATION},
        {"number": 8, "report_code": "oic-2025"},
        {"number": 8, "kind": Kind.AREA_FOR_IMPROVEMENT, "report_code": "VAWG-2024"},
        {"number": 9, "kind": Kind.RECOMMENDATION},
        {"number": 77},
        {"number": 8, "report_code": "NOPE-1"},
    ]
    for case in cases:
        async with engine.connect() as connection:
            statements.clear()
            rows = await tracker.find_items_with_latest(connection, **case, bootstrap_admins=BOOTSTRAP)  # type: ignore[arg-type]
            assert len(statements) == 1
        found = [(_fields(item), item.report, item.owner, latest, acting) for item, latest, acting in rows]
        async with sessionmaker() as session:
            items = await tracker.find_items(session, **case)  # type: ignore[arg-type]
            expected = []
            for item in items:
                latest = await tracker.latest_update(session, item.id)
                expected.append(
                    (
                        _fields(item),
                        ReportRow(item.report.code, item.report.title, item.report.response_label),
                        OwnerRow(item.owner.name, item.owner.email) if item.owner else None,
                        UpdateRow(*(getattr(latest, field.name) for field in fields(UpdateRow))) if latest else None,
                        await ownership.acting_people(session, item, BOOTSTRAP),
                    )
                )
        assert found == expected, case
        for (item, *_), stored in zip(rows, items, strict=True):
            assert (item.reference, item.label, item.titled_reference, item.current_due_on) == (
                stored.reference,
                stored.label,
                stored.titled_reference,
                stored.current_due_on,
            )
    async with engine.connect() as connection:
        rows = await tracker.find_items_with_latest(
            connection, number=8, kind=Kind.RECOMMENDATION, report_code="OIC-2025"
        )
        assert rows[0][0].report_id == first.id and rows[0][1] is not None and rows[0][1].narrative == "second"


def _fields(item: object) -> dict[str, object]:
    """An item's columns as `ItemRow` has them (a stored Item or a row)."""
    return {field.name: getattr(item, field.name) for field in fields(ItemRow) if field.name not in ("report", "owner")}


async def test_the_same_statement_reads_a_state_row_along(engine: AsyncEngine, sessionmaker: Sessionmaker) -> None:
    """A status question's statement also reads the asker's bot state (storage.state.StateAlong)."""
    async with sessionmaker.begin() as session:
        await tracker.save_report(session, _report("OIC-2025", "Organised immigration crime", True))
    document = {"dialogs": {"$type": "DialogState", "dialog_stack": []}, "note": "café"}
    await StateTable(sessionmaker).write(
        [(None, {"key": "stored", "etag": "e1", "document": document, "updated_at": datetime.now(UTC)})]
    )
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    async def find(key: str, number: int) -> tuple[list[int], StateAlong]:
        along = StateAlong(key)
        async with engine.connect() as connection:
            statements.clear()
            rows = await tracker.find_items_with_latest(connection, number=number, state=along)
            assert len(statements) == 1
        return [item.id for item, _, _ in rows], along

    async with engine.connect() as connection:
        expected = [item.id for item, _, _ in await tracker.find_items_with_latest(connection, number=8)]
    found, stored = await find("stored", 8)
    assert found == expected and len(found) == 2
    assert stored.was_read and stored.stored == ("e1", document)
    found, missing = await find("nobody", 8)
    assert found == expected and missing.was_read and missing.stored is None
    # No item, no row to carry the state: it is left to be read on its own.
    found, unread = await find("stored", 77)
    assert found == [] and not unread.was_read and unread.stored is None
