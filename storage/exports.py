"""The two reads behind `recbot export`: every item with its report, owner and latest update, and every delegate."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager

from domain.vocabulary import Kind
from storage.models import Delegate, Item, Person, Report, Update

_KIND_ORDER = {kind.value: position for position, kind in enumerate(Kind)}


async def items_with_latest_update(
    session: AsyncSession,
) -> list[tuple[Item, str | None, datetime | None, str | None]]:
    """(item with report and owner loaded, latest narrative, its time, its author), in report then item order."""
    # The newest update of each item; ties broken by id, so a correction beats its original.
    ranked = select(
        Update.item_id,
        Update.narrative,
        Update.created_at,
        Update.author_name,
        func.row_number()
        .over(partition_by=Update.item_id, order_by=(Update.created_at.desc(), Update.id.desc()))
        .label("recency"),
    ).subquery("ranked_updates")
    query = (
        select(Item, ranked.c.narrative, ranked.c.created_at, ranked.c.author_name)
        .join(Item.report)
        .outerjoin(Item.owner)
        .outerjoin(ranked, and_(ranked.c.item_id == Item.id, ranked.c.recency == 1))
        .options(contains_eager(Item.report), contains_eager(Item.owner))
        # Both backends put reports without a publication date last (they disagree on NULL order).
        .order_by(
            Report.published_on.is_(None),
            Report.published_on,
            Report.id,
            case(_KIND_ORDER, value=Item.kind, else_=len(_KIND_ORDER)),
            Item.number,
        )
    )
    rows = (await session.execute(query)).all()
    return [(item, narrative, at, author) for item, narrative, at, author in rows]


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
