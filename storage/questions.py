"""Queries for the tracker-wide questions people type: lists by any filter, counts, and what changed.

The filters themselves (RAG, stale, due windows…) are pure rules in `domain/listing.py`, applied
to the few columns read here, so a list and a count of the same question always agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from domain.vocabulary import Kind
from storage.digests import ChangeRow
from storage.digests import _changes as digest_changes
from storage.models import Item, Report


@dataclass(frozen=True, slots=True)
class FactsRow:
    """One item's id and the columns a list or count filter reads."""

    item_id: int
    status: str
    assessment: str | None
    due_on: date | None  # the current due date
    last_update_at: datetime | None
    owner_id: int | None


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; every stored time is UTC.
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=timezone.utc)


async def item_facts(
    session: AsyncSession, *, report_code: str | None = None, kind: Kind | None = None
) -> Sequence[FactsRow]:
    """Every item's facts (of one report and kind, when given), soonest due first as `tracker.list_items` orders."""
    due = func.coalesce(Item.revised_due_on, Item.due_on)
    query = (
        select(Item.id, Item.status, Item.assessment, due, Item.last_update_at, Item.owner_id)
        .join(Report, Item.report_id == Report.id)
        .order_by(due.is_(None), due, Report.id, Item.kind, Item.number)
    )
    if report_code is not None:
        query = query.where(func.upper(Report.code) == report_code.upper())
    if kind is not None:
        query = query.where(Item.kind == kind.value)
    rows = await session.execute(query)
    return [
        FactsRow(item_id, status, assessment, due_on, _aware(last_update_at), owner_id)
        for item_id, status, assessment, due_on, last_update_at, owner_id in rows
    ]


async def items_in_order(session: AsyncSession, item_ids: Sequence[int]) -> Sequence[Item]:
    """The items with these ids (report and owner loaded), in the order given."""
    if not item_ids:
        return []
    query = select(Item).options(joinedload(Item.report), joinedload(Item.owner)).where(Item.id.in_(list(item_ids)))
    found = {item.id: item for item in (await session.scalars(query)).unique()}
    return [found[item_id] for item_id in item_ids if item_id in found]


async def changes_since(session: AsyncSession, since: datetime, *, report_code: str | None = None) -> list[ChangeRow]:
    """Updates, governance events and new items since `since`, oldest first (the digest's own query)."""
    report_ids: list[int] | None = None
    if report_code is not None:
        report_id = await session.scalar(select(Report.id).where(func.upper(Report.code) == report_code.upper()))
        report_ids = [report_id] if report_id is not None else []
    return await digest_changes(session, since=since, report_ids=report_ids, scope=None)
