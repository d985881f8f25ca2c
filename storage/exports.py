"""The reads behind `recbot export`: every item with its latest update, every delegate, every closure, every update."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, contains_eager

from domain.refs import reference_of
from domain.titles import with_reference
from domain.vocabulary import EventKind, Kind
from storage.models import Delegate, Item, ItemEvent, Person, Report, Update

_KIND_ORDER = {kind.value: position for position, kind in enumerate(Kind)}
# Both backends put reports without a publication date last (they disagree on NULL order).
_ITEM_ORDER = (
    Report.published_on.is_(None),
    Report.published_on,
    Report.id,
    case(_KIND_ORDER, value=Item.kind, else_=len(_KIND_ORDER)),
    Item.number,
)


class ExportedItem(NamedTuple):
    item: Item  # report and owner loaded
    narrative: str | None  # of the latest update
    updated_at: datetime | None
    author_name: str | None
    author_email: str | None
    evidence_url: str | None
    requested_due_reason: str | None  # why the pending later date was asked for


class ExportedUpdate(NamedTuple):
    reference: str  # "OIC-2025 R8 · Hydra training package"
    update: Update


class Closure(NamedTuple):
    closed_at: datetime
    closed_by: str


async def items_with_latest_update(session: AsyncSession) -> list[ExportedItem]:
    """Every item with its latest update's narrative, time, author and evidence, in report then item order."""
    # The newest update of each item; ties broken by id, so a correction beats its original.
    ranked = select(
        Update.item_id,
        Update.narrative,
        Update.created_at,
        Update.author_name,
        Update.author_id,
        Update.evidence_url,
        func.row_number()
        .over(partition_by=Update.item_id, order_by=(Update.created_at.desc(), Update.id.desc()))
        .label("recency"),
    ).subquery("ranked_updates")
    author = aliased(Person)
    request = aliased(Update)
    query = (
        select(
            Item,
            ranked.c.narrative,
            ranked.c.created_at,
            ranked.c.author_name,
            author.email,
            ranked.c.evidence_url,
            request.revised_due_reason,
        )
        .join(Item.report)
        .outerjoin(Item.owner)
        .outerjoin(ranked, and_(ranked.c.item_id == Item.id, ranked.c.recency == 1))
        .outerjoin(author, author.id == ranked.c.author_id)
        .outerjoin(request, request.id == Item.requested_due_update_id)
        .options(contains_eager(Item.report), contains_eager(Item.owner))
        .order_by(*_ITEM_ORDER)
    )
    return [ExportedItem(*row) for row in (await session.execute(query)).all()]


async def delegates_by_item(session: AsyncSession) -> dict[int, list[str]]:
    """Every item's delegates (e-mail, else name), oldest first, in one statement."""
    rows = await session.execute(
        select(Delegate.item_id, Person.id, Person.email, Person.name)
        .join(Person, Delegate.person_id == Person.id)
        .order_by(Delegate.item_id, Delegate.created_at, Person.id)
    )
    delegates: dict[int, list[str]] = {}
    for item_id, person_id, email, name in rows:
        delegates.setdefault(item_id, []).append(email or name or f"person {person_id}")
    return delegates


_CLOSING = (EventKind.CLOSURE_APPROVED.value, EventKind.SUPERSEDED.value)


async def closures_by_item(session: AsyncSession) -> dict[int, Closure]:
    """The latest closing decision (closure approved or superseded) of every item that has one, in one statement."""
    rows = await session.execute(
        select(ItemEvent.item_id, ItemEvent.created_at, ItemEvent.actor_name)
        .where(ItemEvent.kind.in_(_CLOSING))
        .order_by(ItemEvent.item_id, ItemEvent.created_at, ItemEvent.id)
    )
    # Oldest first, so each item keeps its newest.
    return {item_id: Closure(closed_at, actor_name) for item_id, closed_at, actor_name in rows}


async def every_update(session: AsyncSession) -> list[ExportedUpdate]:
    """Every update of every item, in the items' export order and then oldest first, in one statement."""
    rows = await session.execute(
        select(Update, Report.code, Item.kind, Item.number, Item.title)
        .join(Item, Update.item_id == Item.id)
        .join(Report, Item.report_id == Report.id)
        .order_by(*_ITEM_ORDER, Update.created_at, Update.id)
    )
    return [
        ExportedUpdate(with_reference(reference_of(code, kind, number), title), row)
        for row, code, kind, number, title in rows
    ]
