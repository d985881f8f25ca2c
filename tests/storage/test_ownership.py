"""Owners, delegates and admins, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.records import ItemRecord, ReportRecord
from domain.vocabulary import EventKind, Kind
from storage import ownership, tracker
from storage.models import Item, ItemEvent, Person

Sessionmaker = async_sessionmaker[AsyncSession]
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
REPORT = ReportRecord(
    title="Improving the response to organised immigration crime",
    code="OIC-2025",
    published_on=date(2025, 5, 16),
    items=(
        ItemRecord(Kind.RECOMMENDATION, 8, "By 30 April 2026, chief constables should …"),
        ItemRecord(Kind.RECOMMENDATION, 9, "By 30 April 2026, chief constables should also …"),
    ),
)


async def _seed(sessionmaker: Sessionmaker) -> tuple[list[int], int, int, int]:
    """(item ids, owner id, delegate id, admin id)."""
    async with sessionmaker.begin() as session:
        await tracker.save_report(session, REPORT)
        owner = Person(email="jane.doe@force.police.uk", name="Jane Doe")
        delegate = Person(email="sam@force.police.uk", name="Sam Smith")
        admin = Person(email="boss@force.police.uk", name="Pat Admin", is_admin=True)
        session.add_all([owner, delegate, admin])
        await session.flush()
        item_ids = list((await session.scalars(select(Item.id).order_by(Item.number))).all())
        return item_ids, owner.id, delegate.id, admin.id


async def _events(sessionmaker: Sessionmaker, kind: EventKind) -> int:
    async with sessionmaker() as session:
        return await session.scalar(select(func.count(ItemEvent.id)).where(ItemEvent.kind == kind.value)) or 0


async def test_assign_owner_records_an_event_once_per_activity(sessionmaker: Sessionmaker) -> None:
    (item_id, _), owner_id, _, admin_id = await _seed(sessionmaker)
    for _attempt in range(2):
        async with sessionmaker.begin() as session:
            item = await tracker.get_item(session, item_id)
            owner, admin = await session.get(Person, owner_id), await session.get(Person, admin_id)
            assert item is not None and owner is not None and admin is not None
            written = await ownership.assign_owner(session, item, owner, admin, "activity-1")
            assert item.owner_id == owner_id and item.owner is owner
        assert (written is not None) is (_attempt == 0)
    assert await _events(sessionmaker, EventKind.ASSIGNED) == 1
    async with sessionmaker() as session:
        event = await session.scalar(select(ItemEvent))
    assert event is not None and (event.subject_id, event.actor_id, event.actor_name) == (
        owner_id,
        admin_id,
        "Pat Admin",
    )


async def test_a_redelivered_activity_racing_past_the_check_changes_nothing(sessionmaker: Sessionmaker) -> None:
    (item_id, other_id), owner_id, delegate_id, admin_id = await _seed(sessionmaker)
    async with sessionmaker.begin() as session:
        item = await tracker.get_item(session, item_id)
        owner, admin = await session.get(Person, owner_id), await session.get(Person, admin_id)
        assert item is not None and owner is not None and admin is not None
        await ownership.assign_owner(session, item, owner, admin, "activity-1")
    async with sessionmaker.begin() as session:
        other = await tracker.get_item(session, other_id)
        someone, admin = await session.get(Person, delegate_id), await session.get(Person, admin_id)
        assert other is not None and someone is not None and admin is not None

        async def unseen(_session: AsyncSession, _activity_id: str | None) -> bool:
            return False

        # Pretend the check ran before the other instance committed: the UNIQUE index catches it.
        original = ownership.activity_seen
        ownership.activity_seen = unseen  # type: ignore[assignment]
        try:
            written = await ownership.assign_owner(session, other, someone, admin, "activity-1")
        finally:
            ownership.activity_seen = original  # type: ignore[assignment]
        assert written is None
        assert other.owner_id is None  # the SAVEPOINT undid the change, and the session still works
    assert await _events(sessionmaker, EventKind.ASSIGNED) == 1


async def test_delegates_can_be_added_once_and_removed(sessionmaker: Sessionmaker) -> None:
    (item_id, _), owner_id, delegate_id, _ = await _seed(sessionmaker)
    async with sessionmaker.begin() as session:
        item = await tracker.get_item(session, item_id)
        owner, sam = await session.get(Person, owner_id), await session.get(Person, delegate_id)
        assert item is not None and owner is not None and sam is not None
        assert await ownership.add_delegate(session, item, sam, owner, "d1")
        assert not await ownership.add_delegate(session, item, sam, owner, "d2")  # already a delegate
        assert [person.id for person in await ownership.delegates_of(session, item_id)] == [delegate_id]
        assert await ownership.may_update(session, item, delegate_id, is_admin=False)
    async with sessionmaker.begin() as session:
        item = await tracker.get_item(session, item_id)
        owner, sam = await session.get(Person, owner_id), await session.get(Person, delegate_id)
        assert item is not None and owner is not None and sam is not None
        assert await ownership.remove_delegate(session, item, sam, owner, "d3")
        assert not await ownership.remove_delegate(session, item, sam, owner, "d4")
        assert await ownership.delegates_of(session, item_id) == []
        assert not await ownership.may_update(session, item, delegate_id, is_admin=False)
    assert await _events(sessionmaker, EventKind.DELEGATE_ADDED) == 1
    assert await _events(sessionmaker, EventKind.DELEGATE_REMOVED) == 1


async def test_who_may_update(sessionmaker: Sessionmaker) -> None:
    (item_id, _), owner_id, delegate_id, admin_id = await _seed(sessionmaker)
    async with sessionmaker.begin() as session:
        item = await tracker.get_item(session, item_id)
        assert item is not None
        item.owner_id = owner_id
        assert await ownership.may_update(session, item, owner_id, is_admin=False)
        assert await ownership.may_update(session, item, admin_id, is_admin=True)
        assert not await ownership.may_update(session, item, delegate_id, is_admin=False)


async def test_items_followed_by_owned_or_delegated(sessionmaker: Sessionmaker) -> None:
    (eight, nine), owner_id, delegate_id, _ = await _seed(sessionmaker)
    async with sessionmaker.begin() as session:
        item8, item9 = await tracker.get_item(session, eight), await tracker.get_item(session, nine)
        owner, sam = await session.get(Person, owner_id), await session.get(Person, delegate_id)
        assert item8 and item9 and owner and sam
        await ownership.assign_owner(session, item8, owner, owner, None)
        await ownership.assign_owner(session, item9, sam, owner, None)
        await ownership.add_delegate(session, item8, sam, owner, None)
    async with sessionmaker() as session:
        assert [item.number for item in await ownership.items_followed_by(session, owner_id)] == [8]
        followed = await ownership.items_followed_by(session, delegate_id)
        assert [item.number for item in followed] == [8, 9]
        assert followed[0].report.code == "OIC-2025"


async def test_admins_granted_revoked_and_listed_with_bootstrap_ones(sessionmaker: Sessionmaker) -> None:
    _, owner_id, delegate_id, admin_id = await _seed(sessionmaker)
    async with sessionmaker.begin() as session:
        jane, pat = await session.get(Person, owner_id), await session.get(Person, admin_id)
        assert jane is not None and pat is not None
        assert await ownership.grant_admin(session, jane, pat)
        assert not await ownership.grant_admin(session, jane, pat)
        names = [person.name for person in await ownership.admins(session, ("SAM@force.police.uk",))]
        assert names == ["Jane Doe", "Pat Admin", "Sam Smith"]
        assert await ownership.revoke_admin(session, jane, pat)
        assert not await ownership.revoke_admin(session, jane, pat)
        assert [person.id for person in await ownership.admins(session)] == [admin_id]
        # Each change is kept, newest first: who, to whom.
        history, total = await ownership.admin_history(session, limit=10)
        assert total == 2
        assert [(event.kind, event.actor_name, person.name) for event, person in history] == [
            (EventKind.ADMIN_REVOKED.value, "Pat Admin", "Jane Doe"),
            (EventKind.ADMIN_GRANTED.value, "Pat Admin", "Jane Doe"),
        ]


async def test_a_mentioned_person_is_found_or_created(sessionmaker: Sessionmaker) -> None:
    async with sessionmaker.begin() as session:
        first = await ownership.person_for_mention(
            session, tenant_id=TENANT, teams_user_id="29:abc", aad_object_id=None, name="Jo Bloggs"
        )
        again = await ownership.person_for_mention(
            session, tenant_id=TENANT, teams_user_id="29:abc", aad_object_id="aad-1", name="Someone Else"
        )
        by_aad = await ownership.person_for_mention(
            session, tenant_id=TENANT, teams_user_id=None, aad_object_id="aad-1", name=None
        )
        assert first.id == again.id == by_aad.id
        assert (first.name, first.tenant_id, first.aad_object_id, first.teams_user_id) == (
            "Jo Bloggs",
            TENANT,
            "aad-1",
            "29:abc",
        )
        # The same object id in another tenant is someone else.
        elsewhere = await ownership.person_for_mention(
            session, tenant_id="another-tenant", teams_user_id=None, aad_object_id="aad-1", name="Jo Elsewhere"
        )
        assert elsewhere.id != first.id


async def test_nothing_is_kept_when_the_callers_transaction_rolls_back(sessionmaker: Sessionmaker) -> None:
    (item_id, _), owner_id, delegate_id, admin_id = await _seed(sessionmaker)

    class Boom(Exception):
        pass

    try:
        async with sessionmaker.begin() as session:
            item = await tracker.get_item(session, item_id)
            owner, sam = await session.get(Person, owner_id), await session.get(Person, delegate_id)
            admin = await session.get(Person, admin_id)
            assert item and owner and sam and admin
            # The SAVEPOINTs inside must not commit anything on their own (SQLite's trap).
            await ownership.assign_owner(session, item, owner, admin, "a1")
            await ownership.add_delegate(session, item, sam, admin, "a2")
            raise Boom
    except Boom:
        pass
    async with sessionmaker() as session:
        item = await tracker.get_item(session, item_id)
        assert item is not None and item.owner_id is None
        assert await ownership.delegates_of(session, item_id) == []
    assert await _events(sessionmaker, EventKind.ASSIGNED) == 0
