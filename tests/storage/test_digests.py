"""Digest subscriptions, exactly-once delivery claims and bounded digest queries, on both databases."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import event, insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.digest_plan import RunSettings, plan_run
from storage import deliveries, digests
from storage.models import ConversationRef, Delegate, Delivery, DigestSubscription, Item, Person, Report, Update

# Monday 2 March 2026, 10:00 in London (GMT): after the default Monday 09:00 slot.
AT = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
TODAY = date(2026, 3, 2)


async def _people(session: AsyncSession, count: int) -> list[int]:
    ids = []
    for n in range(count):
        person = Person(email=f"p{n}@force.police.uk", name=f"Person {n}", teams_user_id=f"29:p{n}")
        session.add(person)
        await session.flush()
        ids.append(person.id)
    return ids


async def _seed(sessionmaker: async_sessionmaker[AsyncSession], *, items: int, subscriptions: int) -> None:
    """Two reports, `items` items spread over them and 10 owners, half channel and half personal subscriptions."""
    async with sessionmaker.begin() as session:
        owners = await _people(session, 10)
        reports = [Report(code=f"R{n}-2025", title=f"Report {n}", published_on=date(2025, 5, 16)) for n in range(2)]
        session.add_all(reports)
        await session.flush()
        created = AT - timedelta(days=3)
        statuses = ["Not started", "In progress", "Blocked", "Awaiting sign-off", "Closed"]
        rows = [
            {
                "report_id": reports[n % 2].id,
                "kind": "recommendation",
                "number": n + 1,
                "text": f"Chief constables should do thing {n}. " * 5,
                "due_on": TODAY + timedelta(days=(n % 90) - 30),
                "status": statuses[n % 5],
                "owner_id": owners[n % 10],
                "last_update_at": None if n % 7 == 0 else AT - timedelta(days=n % 80),
                "created_at": created,
            }
            for n in range(items)
        ]
        await session.execute(insert(Item), rows)
        first_item = await session.scalar(Item.__table__.select().with_only_columns(Item.id).limit(1))
        session.add(Delegate(item_id=first_item, person_id=owners[1]))
        session.add(
            Update(
                item_id=first_item,
                created_at=AT - timedelta(days=1),
                author_name="Jane",
                status="Blocked",
                narrative="x",
            )
        )
        for n in range(subscriptions):
            if n % 2 == 0:
                conversation = f"19:channel{n}@thread.tacv2"
                session.add(
                    ConversationRef(
                        conversation_id=conversation,
                        service_url="https://smba.example/",
                        reference={"conversation": {"id": conversation}, "serviceUrl": "https://smba.example/"},
                        conversation_type="channel",
                    )
                )
                subscription = DigestSubscription(
                    conversation_id=conversation,
                    report_id=reports[0].id if n % 4 == 0 else None,
                    created_at=AT - timedelta(days=30),
                )
            else:
                # One personal digest per person and report (up to 40 subscriptions: 10 people × 2).
                subscription = DigestSubscription(
                    person_id=owners[(n // 2) % 10],
                    report_id=None if n < 20 else reports[0].id,
                    created_at=AT - timedelta(days=30),
                )
            session.add(subscription)


class StatementCounter:
    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0
        self._engine = engine.sync_engine

    def _count(self, *_args: object) -> None:
        self.count += 1

    def __enter__(self) -> StatementCounter:
        event.listen(self._engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self._engine, "before_cursor_execute", self._count)


async def _statements_for_plan(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
) -> tuple[int, int, int]:
    async with sessionmaker() as session:
        with StatementCounter(engine) as counter:
            plans, nudges, _ = await plan_run(session, at=AT, settings=RunSettings())
    return counter.count, len(plans), len(nudges)


async def test_building_every_digest_costs_the_same_few_statements(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await _seed(sessionmaker, items=50, subscriptions=2)
    small, small_plans, small_nudges = await _statements_for_plan(engine, sessionmaker)
    assert small_plans == 2 and small_nudges == 8  # two owners hold only closed items

    async with engine.begin() as connection:
        for table in (
            "deliveries",
            "digest_subscriptions",
            "updates",
            "delegates",
            "items",
            "conversation_refs",
            "reports",
            "people",
        ):
            await connection.exec_driver_sql(f"DELETE FROM {table}")
    await _seed(sessionmaker, items=2000, subscriptions=40)
    large, large_plans, large_nudges = await _statements_for_plan(engine, sessionmaker)
    assert large_plans == 40 and large_nudges == 8
    assert small == large
    # subscriptions, due keys, previous digests, places, people, reports, 2 report-wide, 3 personal,
    # 3 kinds of change, nudge owners, their items, their last nudges.
    assert large <= 17


async def test_digest_rows_are_cut_per_report_with_totals(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    await _seed(sessionmaker, items=300, subscriptions=2)
    async with sessionmaker() as session:
        rows = await digests.digest_rows(
            session, report_ids=None, person_ids=[], since=AT - timedelta(days=7), today=TODAY, stale_days=30, limit=3
        )
    assert len(rows.everyone.sections) == 2
    for sections in rows.everyone.sections.values():
        overdue = sections["overdue"]
        assert len(overdue.rows) == 3 and overdue.total > 3
        assert [row.due_on for row in overdue.rows] == sorted(row.due_on for row in overdue.rows)
        assert all(row.due_on < TODAY and row.status not in ("Closed", "Superseded") for row in overdue.rows)
    assert sum(c.count for counts in rows.everyone.counts.values() for c in counts) == 300
    # 300 new items (created three days ago) and one update posted yesterday.
    assert sum(1 for c in rows.changes if c.change == "created") == 300
    assert [c.status for c in rows.changes if c.change == "update"] == ["Blocked"]


async def test_claims_are_exactly_once(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        assert await deliveries.claim(session, key="digest:1:2026-W10", kind="digest", period="2026-W10")
    async with sessionmaker.begin() as session:
        assert not await deliveries.claim(session, key="digest:1:2026-W10", kind="digest", period="2026-W10")
        # In flight (claimed, unfinished) is settled: it may have been sent.
        assert await deliveries.settled_keys(session, ["digest:1:2026-W10", "digest:2:2026-W10"]) == {
            "digest:1:2026-W10"
        }
    async with sessionmaker.begin() as session:
        await deliveries.finish(session, key="digest:1:2026-W10", outcome=deliveries.FAILED, attempts=1, error="503")
    async with sessionmaker.begin() as session:
        assert await deliveries.settled_keys(session, ["digest:1:2026-W10"]) == set()
        # A failed delivery may be taken over by a later run, once.
        assert await deliveries.claim(session, key="digest:1:2026-W10", kind="digest", period="2026-W10")
        assert not await deliveries.claim(session, key="digest:1:2026-W10", kind="digest", period="2026-W10")
        await deliveries.finish(session, key="digest:1:2026-W10", outcome=deliveries.SENT, attempts=1)
    async with sessionmaker.begin() as session:
        assert not await deliveries.claim(session, key="digest:1:2026-W10", kind="digest", period="2026-W10")
        delivery = await session.scalar(Delivery.__table__.select().with_only_columns(Delivery.attempts))
        assert delivery == 2


async def test_failed_claims_stop_being_retried(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        assert await deliveries.claim(session, key="nudge:1:2026-03-02", kind="nudge", period="2026-03-02")
        await deliveries.finish(
            session, key="nudge:1:2026-03-02", outcome=deliveries.FAILED, attempts=deliveries.MAX_DELIVERY_ATTEMPTS
        )
    async with sessionmaker.begin() as session:
        assert not await deliveries.claim(session, key="nudge:1:2026-03-02", kind="nudge", period="2026-03-02")


async def test_concurrent_claims_from_separate_sessions_give_one_winner(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers; the race that matters is on PostgreSQL")

    async def one() -> bool:
        async with sessionmaker.begin() as session:
            won = await deliveries.claim(session, key="digest:7:2026-W10", kind="digest", period="2026-W10")
            await asyncio.sleep(0.05)  # hold the transaction open while the others try
            return won

    results = await asyncio.gather(*(one() for _ in range(8)))
    assert results.count(True) == 1


async def test_since_is_the_previous_sent_digest(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        subscription, created = await digests.subscribe(session, conversation_id="19:c@thread.tacv2", weekday=4)
        assert created
        again, created = await digests.subscribe(
            session, conversation_id="19:c@thread.tacv2", weekday=0, at_time="08:00"
        )
        assert again.id == subscription.id and not created and again.weekday == 0
        sid = subscription.id
        for key, outcome, finished in [
            ("digest:x:W08", deliveries.SENT, AT - timedelta(days=14)),
            ("digest:x:W09", deliveries.SENT, AT - timedelta(days=7)),
            ("digest:x:W10", deliveries.FAILED, AT - timedelta(hours=1)),
        ]:
            session.add(
                Delivery(
                    key=key, kind="digest", period=key[-3:], subscription_id=sid, outcome=outcome, finished_at=finished
                )
            )
    async with sessionmaker.begin() as session:
        assert await deliveries.last_sent_at(session, [sid]) == {sid: AT - timedelta(days=7)}
        assert await digests.unsubscribe(session, conversation_id="19:c@thread.tacv2") == 1
        assert await digests.subscriptions_for(session, conversation_id="19:c@thread.tacv2") == []
    async with sessionmaker.begin() as session:
        _, created = await digests.subscribe(session, conversation_id="19:c@thread.tacv2")
        assert not created
        assert len(await digests.active_subscriptions(session)) == 1


async def test_personal_digest_rows_cover_owned_and_delegated_items(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await _seed(sessionmaker, items=50, subscriptions=0)
    async with sessionmaker() as session:
        person = await session.scalar(
            Person.__table__.select().with_only_columns(Person.id).where(Person.email == "p1@force.police.uk")
        )
        rows = await digests.digest_rows(
            session,
            report_ids=[],
            person_ids=[person],
            since=AT - timedelta(days=7),
            today=TODAY,
            stale_days=30,
            include_everyone=False,
        )
    # Owns items 1, 11, 21, 31, 41 (every tenth from the second) and is a delegate on the first.
    assert len(rows.person_items[person]) == 6
    assert sum(c.count for counts in rows.people[person].counts.values() for c in counts) == 6
    assert not rows.everyone.counts
