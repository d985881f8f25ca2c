"""One person, however they were first stored: by e-mail, by Entra object id, or both — and never
someone else: a person is (tenant id, Entra object id), and an e-mail only links a placeholder."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.records import ItemRecord, ReportRecord
from domain.vocabulary import Kind
from storage import ownership, tracker
from storage.models import Delegate, Item, Person

AAD = "6d7b5c2e-1111-4c8e-9a40-000000000001"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OTHER_TENANT = "0b0b0b0b-0000-4000-8000-00000000beef"


async def test_a_person_stored_by_email_and_by_mention_becomes_one(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
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
        mentioned = await ownership.person_for_mention(
            session, tenant_id=TENANT, teams_user_id="29:1jane", aad_object_id=AAD, name="Jane Doe"
        )
        [second] = await tracker.find_items(session, number=2)
        session.add(Delegate(item_id=second.id, person_id=mentioned.id))

    async with sessionmaker.begin() as session:
        # Jane writes to the bot: Teams gives her object id, her profile gives her e-mail.
        jane = await tracker.remember_person(
            session,
            tenant_id=TENANT,
            aad_object_id=AAD,
            email="jane.doe@force.police.uk",
            name="Jane Doe",
            teams_user_id="29:1jane",
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
            session,
            tenant_id=TENANT,
            aad_object_id=AAD,
            email="jane.doe@force.police.uk",
            name="Jane Doe",
            teams_user_id="29:1jane",
        )
        assert again.id == jane_id


async def test_an_email_links_only_a_placeholder_without_an_object_id(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        jane = await tracker.remember_person(
            session,
            tenant_id=TENANT,
            aad_object_id=AAD,
            email="jane.doe@force.police.uk",
            name="Jane",
            teams_user_id="29:1jane",
        )
        # Someone else whose profile claims Jane's address: a person of their own, without it.
        impostor = await tracker.remember_person(
            session,
            tenant_id=TENANT,
            aad_object_id="aad-impostor",
            email="jane.doe@force.police.uk",
            name="Not Jane",
            teams_user_id="29:impostor",
        )
        assert impostor.id != jane.id and impostor.email is None
        await session.refresh(jane)
        assert (jane.aad_object_id, jane.teams_user_id, jane.name) == (AAD, "29:1jane", "Jane")


async def test_the_same_object_id_in_another_tenant_is_another_person(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker.begin() as session:
        home = await tracker.remember_person(
            session, tenant_id=TENANT, aad_object_id=AAD, name="Jane", teams_user_id="29:a"
        )
        away = await tracker.remember_person(
            session, tenant_id=OTHER_TENANT, aad_object_id=AAD, name="Other", teams_user_id="29:b"
        )
        assert home.id != away.id
        await session.refresh(home)
        assert (home.name, home.teams_user_id) == ("Jane", "29:a")
