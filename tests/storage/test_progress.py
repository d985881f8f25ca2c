"""Updates, corrections, due dates, closure decisions and history, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.records import ItemRecord, ReportRecord
from domain.vocabulary import EventKind, Kind
from storage import progress, tracker
from storage.models import Item, ItemEvent, Person, Update
from storage.ownership import assign_owner, lock_item
from storage.progress import (
    InvalidUpdate,
    ItemNotOpen,
    NotAwaitingSignOff,
    NotCorrectable,
    approve_closure,
    correctable_update,
    record_update,
    reject_closure,
)

Sessionmaker = async_sessionmaker[AsyncSession]
REPORT = ReportRecord(
    title="Improving the response to organised immigration crime",
    code="OIC-2025",
    published_on=date(2025, 5, 16),
    items=(
        ItemRecord(
            Kind.RECOMMENDATION, 8, "By 30 April 2026, chief constables should …", date(2026, 4, 30), "We will."
        ),
    ),
)
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


async def _seed(sessionmaker: Sessionmaker) -> tuple[int, int, int, int]:
    """(item id, lead id, other lead id, admin id)."""
    async with sessionmaker.begin() as session:
        outcome = await tracker.save_report(session, REPORT)
        lead = Person(email="jane.doe@force.police.uk", name="Jane Doe")
        other = Person(email="sam@force.police.uk", name="Sam Smith")
        admin = Person(email="boss@force.police.uk", name="Pat Admin", is_admin=True)
        session.add_all([lead, other, admin])
        await session.flush()
        item_id = await session.scalar(select(Item.id).where(Item.report_id == outcome.report.id))
        assert item_id is not None
        return item_id, lead.id, other.id, admin.id


async def _record(
    sessionmaker: Sessionmaker,
    item_id: int,
    author_id: int,
    *,
    status: str = "In progress",
    activity_key: str | None = None,
    now: datetime | None = T0,
    **fields: object,
) -> tuple[Update, bool]:
    async with sessionmaker.begin() as session:
        author = await session.get(Person, author_id)
        assert author is not None
        return await record_update(
            session,
            await lock_item(session, item_id),
            status=status,
            assessment=str(fields.pop("assessment", "on track")),
            narrative=str(fields.pop("narrative", "Training booked.")),
            author=author,
            activity_key=activity_key,
            now=now,
            **fields,  # type: ignore[arg-type]
        )


async def _item(sessionmaker: Sessionmaker, item_id: int) -> Item:
    async with sessionmaker() as session:
        item = await tracker.get_item(session, item_id)
        assert item is not None
        return item


async def test_an_update_is_appended_and_the_item_follows_it(sessionmaker: Sessionmaker) -> None:
    item_id, lead, _, _ = await _seed(sessionmaker)
    row, duplicate = await _record(
        sessionmaker,
        item_id,
        lead,
        status="Blocked",
        assessment="at risk",
        narrative="*Supplier* [late](http://x)",
        evidence_url="https://intranet/x",
        revised_due_on=date(2026, 6, 30),
        revised_due_reason="supplier slipped",
    )
    assert not duplicate
    item = await _item(sessionmaker, item_id)
    assert (item.status, item.assessment, item.last_update_at) == ("Blocked", "at risk", row.created_at)
    # A lead's revised date is a request: the item's revised due date waits for an admin.
    assert item.revised_due_on is None
    async with sessionmaker() as session:
        latest = await tracker.latest_update(session, item_id)
    assert latest is not None and latest.id == row.id
    assert latest.narrative == "*Supplier* [late](http://x)"  # stored exactly as typed
    assert (latest.revised_due_on, latest.revised_due_reason) == (date(2026, 6, 30), "supplier slipped")


async def test_the_same_activity_twice_records_one_update(sessionmaker: Sessionmaker) -> None:
    item_id, lead, _, _ = await _seed(sessionmaker)
    first, first_duplicate = await _record(sessionmaker, item_id, lead, activity_key="act-1")
    again, again_duplicate = await _record(sessionmaker, item_id, lead, activity_key="act-1", status="Blocked")
    assert (first_duplicate, again_duplicate) == (False, True)
    assert again.id == first.id
    async with sessionmaker() as session:
        count = await session.scalar(select(func.count(Update.id)).where(Update.author_id == lead))
    assert count == 1
    assert (await _item(sessionmaker, item_id)).status == "In progress"


async def test_statuses_and_assessments_outside_the_vocabulary_are_refused(sessionmaker: Sessionmaker) -> None:
    item_id, lead, _, _ = await _seed(sessionmaker)
    with pytest.raises(InvalidUpdate):
        await _record(sessionmaker, item_id, lead, status="Closed")
    with pytest.raises(InvalidUpdate):
        await _record(sessionmaker, item_id, lead, assessment="fine")
    with pytest.raises(InvalidUpdate):
        await _record(sessionmaker, item_id, lead, revised_due_on=date(2026, 6, 30))


async def test_a_lead_corrects_their_own_latest_update_within_24_hours(sessionmaker: Sessionmaker) -> None:
    item_id, lead, other, _ = await _seed(sessionmaker)
    original, _ = await _record(sessionmaker, item_id, lead, status="Blocked", narrative="typo")
    later = T0 + timedelta(hours=23)
    async with sessionmaker() as session:
        assert (await correctable_update(session, item_id, lead, later)).id == original.id  # type: ignore[union-attr]
        assert await correctable_update(session, item_id, other, later) is None
        assert await correctable_update(session, item_id, lead, T0 + timedelta(hours=25)) is None

    correction, _ = await _record(
        sessionmaker, item_id, lead, status="In progress", narrative="fixed", supersedes_id=original.id, now=later
    )
    assert correction.supersedes_id == original.id
    item = await _item(sessionmaker, item_id)
    assert item.status == "In progress"
    async with sessionmaker() as session:
        kept = await session.get(Update, original.id)
        assert kept is not None and kept.narrative == "typo"  # the original is kept
        entries = await progress.history(session, item_id)
    assert [entry.superseded for entry in entries[-2:]] == [True, False]
    assert entries[-1].kind == "correction"
    assert entries[-1].what == "Correction · Status: Not started → In progress · on track"


async def test_a_correction_after_24_hours_or_by_someone_else_is_refused(sessionmaker: Sessionmaker) -> None:
    item_id, lead, other, _ = await _seed(sessionmaker)
    original, _ = await _record(sessionmaker, item_id, lead)
    with pytest.raises(NotCorrectable):
        await _record(sessionmaker, item_id, lead, supersedes_id=original.id, now=T0 + timedelta(hours=25))
    with pytest.raises(NotCorrectable):
        await _record(sessionmaker, item_id, other, supersedes_id=original.id, now=T0 + timedelta(hours=1))
    # Once someone else has posted, the lead's update is no longer the latest.
    await _record(sessionmaker, item_id, other, now=T0 + timedelta(hours=2))
    with pytest.raises(NotCorrectable):
        await _record(sessionmaker, item_id, lead, supersedes_id=original.id, now=T0 + timedelta(hours=3))


async def _decide(sessionmaker: Sessionmaker, item_id: int, admin_id: int, action: str, **kwargs: object) -> bool:
    async with sessionmaker.begin() as session:
        item = await tracker.get_item(session, item_id)
        admin = await session.get(Person, admin_id)
        assert item is not None and admin is not None
        if action == "approve":
            return await approve_closure(session, item, admin, kwargs.get("activity_key"))  # type: ignore[arg-type]
        if action == "reject":
            return await reject_closure(session, item, admin, str(kwargs["reason"]), kwargs.get("activity_key"))  # type: ignore[arg-type]
        return await progress.supersede(session, item, admin, str(kwargs["reason"]), None)


async def test_closure_approved(sessionmaker: Sessionmaker) -> None:
    item_id, lead, _, admin = await _seed(sessionmaker)
    await _record(sessionmaker, item_id, lead, status="Awaiting sign-off")
    assert await _decide(sessionmaker, item_id, admin, "approve", activity_key="a1") is True
    # A redelivered approval is "already done", not a wrong-state error.
    assert await _decide(sessionmaker, item_id, admin, "approve", activity_key="a1") is False
    assert (await _item(sessionmaker, item_id)).status == "Closed"
    with pytest.raises(NotAwaitingSignOff):
        await _decide(sessionmaker, item_id, admin, "approve", activity_key="a2")
    with pytest.raises(ItemNotOpen):
        await _record(sessionmaker, item_id, lead)


async def test_closure_rejected_with_its_reason(sessionmaker: Sessionmaker) -> None:
    item_id, lead, _, admin = await _seed(sessionmaker)
    with pytest.raises(NotAwaitingSignOff):
        await _decide(sessionmaker, item_id, admin, "reject", reason="no evidence")
    await _record(sessionmaker, item_id, lead, status="Awaiting sign-off")
    with pytest.raises(InvalidUpdate):
        await _decide(sessionmaker, item_id, admin, "reject", reason="  ")
    assert await _decide(sessionmaker, item_id, admin, "reject", reason="no *evidence*", activity_key="r1")
    assert (await _item(sessionmaker, item_id)).status == "In progress"
    async with sessionmaker() as session:
        event = await session.scalar(select(ItemEvent).where(ItemEvent.kind == EventKind.CLOSURE_REJECTED.value))
    assert event is not None and event.detail == "no *evidence*" and event.actor_name == "Pat Admin"


async def test_supersede(sessionmaker: Sessionmaker) -> None:
    item_id, _, _, admin = await _seed(sessionmaker)
    await _decide(sessionmaker, item_id, admin, "supersede", reason="replaced by R9")
    assert (await _item(sessionmaker, item_id)).status == "Superseded"
    with pytest.raises(ItemNotOpen):
        await _decide(sessionmaker, item_id, admin, "supersede", reason="again")


async def test_set_due_date_keeps_every_change(sessionmaker: Sessionmaker) -> None:
    item_id, _, _, admin = await _seed(sessionmaker)
    for number, (day, reason) in enumerate([(date(2026, 6, 30), "supplier slipped"), (date(2026, 9, 30), "again")]):
        async with sessionmaker.begin() as session:
            item = await tracker.get_item(session, item_id)
            person = await session.get(Person, admin)
            assert item is not None and person is not None
            assert await progress.set_due_date(session, item, person, day, reason, f"due-{number}")
            # The same activity again changes nothing.
            assert not await progress.set_due_date(session, item, person, day, reason, f"due-{number}")
    item = await _item(sessionmaker, item_id)
    assert (item.due_on, item.revised_due_on) == (date(2026, 4, 30), date(2026, 9, 30))
    async with sessionmaker() as session:
        entries = await progress.history(session, item_id)
    changes = [(entry.due_on, entry.detail) for entry in entries if entry.kind == EventKind.DUE_DATE_CHANGED.value]
    assert changes == [(date(2026, 6, 30), "supplier slipped"), (date(2026, 9, 30), "again")]


async def test_history_is_one_time_ordered_timeline(sessionmaker: Sessionmaker) -> None:
    item_id, lead, _, admin = await _seed(sessionmaker)
    async with sessionmaker.begin() as session:
        item = await tracker.get_item(session, item_id)
        jane, boss = await session.get(Person, lead), await session.get(Person, admin)
        assert item is not None and jane is not None and boss is not None
        await assign_owner(session, item, jane, boss, "assign-1")
    await _record(sessionmaker, item_id, lead, now=None)
    await _record(sessionmaker, item_id, lead, status="Blocked", assessment="off track", now=None)
    await _record(sessionmaker, item_id, lead, status="Awaiting sign-off", now=None)
    await _decide(sessionmaker, item_id, admin, "reject", reason="show me")
    await _record(sessionmaker, item_id, lead, status="In progress", now=None)

    async with sessionmaker() as session:
        entries = await progress.history(session, item_id)
    assert [entry.what for entry in entries] == [
        "Initial response · Not started",
        "Owner set to Jane Doe",
        "Update · Status: Not started → In progress · on track",
        "Update · Status: In progress → Blocked · off track",
        "Update · Status: Blocked → Awaiting sign-off · on track",
        "Closure rejected · back to In progress",
        "Update · In progress · on track",
    ]
    assert [entry.at for entry in entries] == sorted(entry.at for entry in entries)
    assert entries[1].who == "Pat Admin" and entries[5].detail == "show me"


@pytest.mark.parametrize("writers", [10])
async def test_concurrent_updates_are_all_recorded_in_order(sessionmaker: Sessionmaker, writers: int) -> None:
    item_id, lead, _, _ = await _seed(sessionmaker)
    statuses = ["In progress", "Blocked"]
    # Everyone claims the same moment: the lock and the monotonic clock must still order them.
    moment = datetime.now(timezone.utc)
    results = await asyncio.gather(
        *(
            _record(
                sessionmaker,
                item_id,
                lead,
                status=statuses[n % 2],
                narrative=f"writer {n}",
                now=moment,
                activity_key=f"c{n}",
            )
            for n in range(writers)
        )
    )
    assert not any(duplicate for _, duplicate in results)
    async with sessionmaker() as session:
        rows = (await session.scalars(select(Update).where(Update.author_id == lead).order_by(Update.id))).all()
        item = await tracker.get_item(session, item_id)
    assert len(rows) == writers
    assert all(earlier.created_at < later.created_at for earlier, later in zip(rows, rows[1:], strict=False))
    assert item is not None
    assert (item.status, item.last_update_at) == (rows[-1].status, rows[-1].created_at)
