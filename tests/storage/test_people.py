"""One person, however they were first stored: by e-mail, by Entra object id, or both."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import ownership, tracker
from storage.models import Delegate, Item, Kind, Person
from storage.records import ItemRecord, ReportRecord

AAD = "6d7b5c2e-1111-4c8e-9a40-000000000001"


async def test_a_person_stored_by_email_and_by_mention_becomes_one(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    record = ReportRecord(
        title="A report",
        code="AR-2025",
        published_on=date(2025, 5, 16),
        items=(
            ItemRecord(Kind.RECOMMENDATION, 1, "First.", owner_email="Jane.Doe@force.police.uk"),
            ItemRecord(Kind.RECOMMENDATION, 2, "Second."),
        ),
    )
    async with sessionmaker.begin() as session:
        await tracker.save_report(session, record)
        # An admin @mentions Jane before she has ever talked to the bot: a second row, by object id.
        mentioned = await ownership.person_for_mention(session, teams_user_id="29:1jane", aad_object_id=AAD, name="Jane Doe")
        [second] = await tracker.find_items(session, number=2)
        session.add(Delegate(item_id=second.id, person_id=mentioned.id))

    async with sessionmaker.begin() as session:
        # Jane writes to the bot: Teams gives her object id, her profile gives her e-mail.
        jane = await tracker.remember_person(
            session, aad_object_id=AAD, email="jane.doe@force.police.uk", name="Jane Doe", teams_user_id="29:1jane"
        )
        jane_id = jane.id

    async with sessionmaker() as session:
        assert await session.scalar(select(func.count(Person.id))) == 1
        person = await session.get(Person, jane_id)
        assert person is not None
        assert (person.email, person.aad_object_id, person.name) == ("jane.doe@force.police.uk", AAD, "Jane Doe")
        owners = set((await session.scalars(select(Item.owner_id).where(Item.owner_id.is_not(None)))).all())
        assert owners == {jane_id}
        assert (await session.scalars(select(Delegate.person_id))).all() == [jane_id]

    async with sessionmaker.begin() as session:
        again = await tracker.remember_person(
            session, aad_object_id=AAD, email="jane.doe@force.police.uk", name="Jane Doe", teams_user_id="29:1jane"
        )
        assert again.id == jane_id
