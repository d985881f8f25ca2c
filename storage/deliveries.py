"""Deliveries of proactive messages: claimed once in the database, and where each one goes.

A claim is a row with a unique key ("digest:12:2026-W48", "nudge:7:2026-11-30") inserted before
sending, so a period's message goes out once across restarts, overlapping runs and instances.
Every function takes a session; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from domain.vocabulary import EventKind
from storage.models import ConversationRef, Delivery, ItemEvent, Person, SendSlot, utcnow

# Delivery outcomes.
CLAIMED = "claimed"
SENT = "sent"
FAILED = "failed"
GONE = "gone"
# A nudge period in which the owner had nothing to be reminded of: settles the key for the day.
NOTHING = "nothing"
# Who notices are from, in an item's history.
NOTICE_SENDER = "RecBot"
# A 'failed' delivery may be claimed again by a later run until this many send attempts (the
# retries inside each run included) have been spent on it; then it stays failed for the period.
MAX_DELIVERY_ATTEMPTS = 12


# The PostgreSQL advisory lock a digest run holds ("RecB"): one run at a time across instances.
DIGEST_RUN_LOCK = 0x52656342


@asynccontextmanager
async def one_run_at_a_time(engine: AsyncEngine) -> AsyncIterator[bool]:
    """True, held until the block ends, when no other digest run (of any instance) is under way.

    Claims alone already keep each delivery to one send; the lock saves every other instance the
    work of planning the same tick. A session-level advisory lock is released if its process dies.
    SQLite is one file on one machine: there every run goes ahead and the claims settle it.
    """
    if engine.dialect.name != "postgresql":
        yield True
        return
    async with engine.connect() as connection:
        held = bool(await connection.scalar(select(func.pg_try_advisory_lock(DIGEST_RUN_LOCK))))
        await connection.commit()
        try:
            yield held
        finally:
            if held:
                await connection.scalar(select(func.pg_advisory_unlock(DIGEST_RUN_LOCK)))
                await connection.commit()


async def reserve_send_slot(
    session: AsyncSession, *, tenant_id: str, now: Callable[[], datetime], interval: timedelta
) -> datetime:
    """The moment this instance may send to `tenant_id`: the tenant's next free slot (or now), which is taken.

    The tenant's row is locked for the rest of the transaction (SQLite: the insert takes the
    database write lock), so instances reserving at once queue and never share a slot. `now` is
    read once the lock is held: a slot counted from before the wait could already be past.
    """
    await session.execute(
        _insert(session)(SendSlot)
        .values(tenant_id=tenant_id, next_at=now())
        .on_conflict_do_nothing(index_elements=["tenant_id"])
    )
    slot = await session.scalar(
        select(SendSlot)
        .where(SendSlot.tenant_id == tenant_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert slot is not None
    start = max(slot.next_at, now())
    slot.next_at = start + interval
    await session.flush()
    return start


# --- claims ----------------------------------------------------------------------------------


def _insert(session: AsyncSession) -> Any:
    return postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


async def claim(
    session: AsyncSession,
    *,
    key: str,
    kind: str,
    period: str,
    subscription_id: int | None = None,
    person_id: int | None = None,
    retry_failed: bool = True,
) -> bool:
    """Claim one delivery before sending it; False when another run or instance already has it.

    The unique key makes the INSERT the arbiter: on PostgreSQL a concurrent claimer waits for
    the first transaction and then inserts nothing. The caller must commit the claim before it
    sends. With `retry_failed`, a delivery whose last attempt failed (not 'gone', never one
    that may have been sent) is taken over again by a conditional UPDATE, again by one winner.
    """
    now = utcnow()
    inserted = await session.scalar(
        _insert(session)(Delivery)
        .values(
            key=key,
            kind=kind,
            period=period,
            subscription_id=subscription_id,
            person_id=person_id,
            claimed_at=now,
            outcome=CLAIMED,
            attempts=0,
        )
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(Delivery.id)
    )
    if inserted is not None:
        return True
    if not retry_failed:
        return False
    retaken = await session.scalar(
        update(Delivery)
        .where(Delivery.key == key, Delivery.outcome == FAILED, Delivery.attempts < MAX_DELIVERY_ATTEMPTS)
        .values(outcome=CLAIMED, claimed_at=now, finished_at=None)
        .returning(Delivery.id)
    )
    return retaken is not None


async def finish(session: AsyncSession, *, key: str, outcome: str, attempts: int, error: str | None = None) -> None:
    """Record how a claimed delivery ended; `attempts` (this run's sends) adds to earlier runs'."""
    if outcome not in (SENT, FAILED, GONE, NOTHING):
        raise ValueError(f"unknown delivery outcome {outcome!r}")
    await session.execute(
        update(Delivery)
        .where(Delivery.key == key)
        .values(
            outcome=outcome,
            attempts=Delivery.attempts + attempts,
            error=(error or None) and error[:2000],
            finished_at=utcnow(),
        )
    )


async def record_notice(session: AsyncSession, item_id: int, person_id: int, detail: str) -> None:
    """Keep a notice about an item in its history: who was told what (or why they could not be)."""
    session.add(
        ItemEvent(
            item_id=item_id,
            actor_name=NOTICE_SENDER,
            kind=EventKind.NOTIFIED.value,
            subject_id=person_id,
            detail=detail,
        )
    )


async def settled_keys(session: AsyncSession, keys: Collection[str]) -> set[str]:
    """Which of these delivery keys need nothing more (sent, gone, in flight, or out of retries)."""
    if not keys:
        return set()
    rows = await session.execute(
        select(Delivery.key, Delivery.outcome, Delivery.attempts).where(Delivery.key.in_(list(keys)))
    )
    return {key for key, outcome, attempts in rows if not (outcome == FAILED and attempts < MAX_DELIVERY_ATTEMPTS)}


async def last_sent_at(session: AsyncSession, subscription_ids: Collection[int]) -> dict[int, datetime]:
    """When each subscription's previous digest was sent (finished), for "changes since"."""
    if not subscription_ids:
        return {}
    rows = await session.execute(
        select(Delivery.subscription_id, func.max(Delivery.finished_at))
        .where(
            Delivery.subscription_id.in_(list(subscription_ids)),
            Delivery.kind == "digest",
            Delivery.outcome == SENT,
        )
        .group_by(Delivery.subscription_id)
    )
    return {
        subscription_id: finished
        for subscription_id, finished in rows
        if subscription_id is not None and finished is not None
    }


@dataclass(frozen=True)
class PersonRow:
    person_id: int
    name: str
    teams_user_id: str | None


async def people_by_id(session: AsyncSession, person_ids: Collection[int]) -> dict[int, PersonRow]:
    """Names and Teams user ids of these people (one query)."""
    if not person_ids:
        return {}
    rows = await session.execute(
        select(Person.id, func.coalesce(Person.name, Person.email), Person.teams_user_id).where(
            Person.id.in_(list(person_ids))
        )
    )
    return {person_id: PersonRow(person_id, name or "you", teams_id) for person_id, name, teams_id in rows}


async def last_nudged_on(session: AsyncSession, person_ids: Collection[int]) -> dict[int, date]:
    """The last nudge day (the period, a local date) on which each person was sent a nudge.

    Read from the period rather than the send time, so a run for another moment (`--at`) agrees.
    """
    if not person_ids:
        return {}
    rows = await session.execute(
        select(Delivery.person_id, func.max(Delivery.period))
        .where(Delivery.person_id.in_(list(person_ids)), Delivery.kind == "nudge", Delivery.outcome == SENT)
        .group_by(Delivery.person_id)
    )
    found: dict[int, date] = {}
    for person_id, period in rows:
        if person_id is None:
            continue
        try:
            found[person_id] = date.fromisoformat(period)
        except (TypeError, ValueError):
            continue
    return found


# --- where messages go -----------------------------------------------------------------------


@dataclass(frozen=True)
class StoredReference:
    conversation_id: str
    reference: dict[str, Any]
    tenant_id: str | None
    service_url: str
    conversation_type: str | None


def _stored(row: ConversationRef) -> StoredReference:
    return StoredReference(
        row.conversation_id, dict(row.reference), row.tenant_id, row.service_url, row.conversation_type
    )


async def references(session: AsyncSession, conversation_ids: Iterable[str]) -> dict[str, StoredReference]:
    """The stored references of these conversations (one query)."""
    ids = sorted(set(conversation_ids))
    if not ids:
        return {}
    rows = await session.scalars(select(ConversationRef).where(ConversationRef.conversation_id.in_(ids)))
    return {row.conversation_id: _stored(row) for row in rows}


async def personal_reference(session: AsyncSession, teams_user_id: str) -> StoredReference | None:
    """The newest stored 1:1 chat with this Teams user."""
    row = await session.scalar(
        select(ConversationRef)
        .where(ConversationRef.user_id == teams_user_id, ConversationRef.conversation_type == "personal")
        .order_by(ConversationRef.updated_at.desc())
        .limit(1)
    )
    return None if row is None else _stored(row)


async def tenant_reference(session: AsyncSession, tenant_id: str | None) -> StoredReference | None:
    """The newest stored reference in this tenant: its service URL and bot account open new chats.

    With no tenant given, the newest reference of any tenant (a single-tenant deployment).
    """
    query = select(ConversationRef)
    if tenant_id is not None:
        query = query.where(ConversationRef.tenant_id == tenant_id)
    row = await session.scalar(query.order_by(ConversationRef.updated_at.desc()).limit(1))
    return None if row is None else _stored(row)


async def person_tenant(session: AsyncSession, teams_user_id: str) -> str | None:
    """The tenant this Teams user was last seen in (from any conversation they talked in)."""
    return await session.scalar(
        select(ConversationRef.tenant_id)
        .where(ConversationRef.user_id == teams_user_id, ConversationRef.tenant_id.is_not(None))
        .order_by(ConversationRef.updated_at.desc())
        .limit(1)
    )
