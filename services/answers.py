"""Answers to the questions people ask: each returns a result (`services/results.py`) for `bot/cards` to show.

One short transaction per answer; a status question costs one indexed query for the item and
one for who may act on it (more only when it has a revised or requested due date).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.refs import ItemRef, ListFilter, describe_ref
from domain.search import rank_items
from domain.text import safe_text
from domain.vocabulary import OPEN_STATUSES, Kind, Status
from services.people import Identity
from services.results import Choose, ItemList, ItemStatus, Result, Rights, Said, SearchResults
from storage import ownership, progress, tracker
from storage.database import for_reading
from storage.models import Item, Update

LIST_LIMIT = 15


@dataclass(frozen=True)
class Resolved:
    """What a reference points at: one item, several to choose from, or nothing."""

    item: Item | None = None
    candidates: Sequence[Item] = ()


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _month_end(day: date) -> date:
    next_month = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return next_month - timedelta(days=1)


async def resolve(session: AsyncSession, ref: ItemRef, conversation_id: str | None) -> Resolved:
    """Find the item a reference means, using the conversation's default report when it helps."""
    items = await tracker.find_items(session, number=ref.number, kind=ref.kind, report_code=ref.report_code)
    return await choose(session, items, ref, conversation_id)


async def choose(session: AsyncSession, items: Sequence[Item], ref: ItemRef, conversation_id: str | None) -> Resolved:
    """The item (or the candidates) among those with the reference's number that it means."""
    if ref.kind is None and len({item.kind for item in items}) > 1:
        # "8" alone means recommendation 8 when there is one; AFI 8 must be asked for by name.
        recommendations = [item for item in items if item.kind == Kind.RECOMMENDATION.value]
        items = recommendations or items
    if len(items) <= 1:
        return Resolved(item=items[0] if items else None)
    if conversation_id is not None:
        default_report_id = await tracker.conversation_default_report(session, conversation_id)
        in_default = [item for item in items if item.report_id == default_report_id]
        if len(in_default) == 1:
            return Resolved(item=in_default[0])
    open_items = [item for item in items if Status(item.status).is_open]
    if len(open_items) == 1:
        return Resolved(item=open_items[0])
    return Resolved(candidates=items)


class Answers:
    """Answers questions, reading the tracker through `storage.tracker`."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        today: Callable[[], date],
        bootstrap_admins: Sequence[str] = (),
    ) -> None:
        self._sessionmaker = sessionmaker
        self._reads = for_reading(sessionmaker)
        self._today = today
        self._bootstrap_admins = tuple(bootstrap_admins)

    async def _status(
        self, session: AsyncSession, item: Item, latest: Update | None, viewer: Identity | None = None
    ) -> ItemStatus:
        """The status card's facts: the pending date request, who set the revised date, who may act."""
        requested = await session.get(Update, item.requested_due_update_id) if item.requested_due_update_id else None
        acting = await ownership.acting_people(session, item, self._bootstrap_admins)
        rights = None
        if viewer is not None:
            is_open = Status(item.status).is_open
            may_act = viewer.is_admin or viewer.person_id in {person_id for person_id, _ in acting}
            rights = Rights(update=is_open and may_act, decide=is_open and viewer.is_admin)
        return ItemStatus(
            item,
            latest,
            self._today(),
            requested=requested,
            revised_by=await progress.revised_by(session, item),
            closed_by=await progress.closed_by(session, item),
            acting=tuple(teams_id for _, teams_id in acting),
            viewer=rights,
        )

    async def status_of(self, item_id: int, viewer: Identity | None, note: str | None = None) -> Result:
        """One item's status as `viewer` sees it (their buttons), e.g. when a card refreshes."""
        async with self._reads() as session:
            item = await tracker.get_item(session, item_id)
            if item is None:
                return Said("This item no longer exists: it may have been removed. Try `list recommendations`.")
            status = await self._status(session, item, await tracker.latest_update(session, item.id), viewer)
        return replace(status, note=note)

    async def status(self, ref: ItemRef, conversation_id: str | None) -> Result:
        """One item's status, or the question of which report is meant."""
        async with self._reads() as session:
            # One statement finds the items and their latest updates (rather than one for each).
            rows = await tracker.find_items_with_latest(
                session, number=ref.number, kind=ref.kind, report_code=ref.report_code
            )
            resolved = await choose(session, [item for item, _ in rows], ref, conversation_id)
            if resolved.item is None and not resolved.candidates:
                return await self._not_found(session, ref)
            if resolved.item is None:
                return Choose(
                    f"{_sentence(describe_ref(ref))} is in more than one report. Which one do you mean?",
                    [
                        (f"{item.reference} · {item.report.title}", f"status of {item.reference}")
                        for item in resolved.candidates
                    ],
                )
            latest = next(update for item, update in rows if item is resolved.item)
            return await self._status(session, resolved.item, latest)

    async def _not_found(self, session: AsyncSession, ref: ItemRef) -> Result:
        if ref.report_code and await tracker.report_by_code(session, ref.report_code) is None:
            return Said(
                f"I don't know a report called {ref.report_code}. Try `list recommendations` to see the reports I track."
            )
        return Said(
            f"I can't find {describe_ref(ref)}. Try `list recommendations` to see what I track, "
            "or describe it in a few words, e.g. `hydra training`."
        )

    async def search(self, query: str) -> Result:
        """The best match for free text, a short list when unsure, or a clear "nothing found"."""
        async with self._reads() as session:
            items = await tracker.all_items(session)
            ranked = rank_items(query, items, lambda item: f"{item.text} {item.report.title}")
            if ranked.best is not None:
                latest = await tracker.latest_update(session, ranked.best.id)
                return await self._status(session, ranked.best, latest)
        if ranked.candidates:
            return SearchResults(query, ranked.candidates)
        return Said(
            f'I couldn\'t find a recommendation matching "{safe_text(query, 80)}". '
            "Ask like `status of recommendation 8`, try other words, or type `help` to see what I can do."
        )

    async def list_items(self, list_filter: ListFilter, report_code: str | None, kind: Kind | None = None) -> Result:
        """The items a `list …` command asks for."""
        today = self._today()
        title, empty_text, filters = self._list_filters(list_filter, today)
        if kind is not None:
            filters["kind"] = kind
            title = f"{title} · {kind.label}s"
        async with self._reads() as session:
            if report_code and await tracker.report_by_code(session, report_code) is None:
                return Said(f"I don't know a report called {report_code}. Try `list recommendations`.")
            items, total = await tracker.list_items(session, report_code=report_code, limit=LIST_LIMIT, **filters)
        if report_code:
            title = f"{title} · {report_code}"
        return ItemList(title=title, items=items, today=today, more=total - len(items), empty_text=empty_text)

    @staticmethod
    def _list_filters(list_filter: ListFilter, today: date) -> tuple[str, str, dict[str, Any]]:
        open_statuses = list(OPEN_STATUSES)
        choices: dict[ListFilter, tuple[str, str, dict[str, Any]]] = {
            ListFilter.ALL: ("All items", "No items yet: import a report with `recbot import`.", {}),
            ListFilter.OPEN: ("Open items", "Nothing is open.", {"statuses": open_statuses}),
            ListFilter.OVERDUE: (
                "Overdue",
                "Nothing is overdue.",
                {"statuses": open_statuses, "due_before": today},
            ),
            ListFilter.DUE_THIS_MONTH: (
                f"Due in {today:%B %Y}",
                f"Nothing open is due in {today:%B}.",
                {
                    "statuses": open_statuses,
                    "due_from": today.replace(day=1),
                    "due_before": _month_end(today) + timedelta(days=1),
                },
            ),
            ListFilter.DUE_NEXT_30_DAYS: (
                "Due in the next 30 days",
                "Nothing open is due in the next 30 days.",
                {"statuses": open_statuses, "due_from": today, "due_before": today + timedelta(days=31)},
            ),
            ListFilter.NOT_STARTED: (
                "Not started",
                "Everything has been started.",
                {"statuses": [Status.NOT_STARTED.value]},
            ),
            ListFilter.IN_PROGRESS: (
                "In progress",
                "Nothing is in progress.",
                {"statuses": [Status.IN_PROGRESS.value]},
            ),
            ListFilter.BLOCKED: ("Blocked", "Nothing is blocked.", {"statuses": [Status.BLOCKED.value]}),
            ListFilter.AWAITING_SIGN_OFF: (
                "Awaiting sign-off",
                "Nothing is awaiting sign-off.",
                {"statuses": [Status.AWAITING_SIGN_OFF.value]},
            ),
            ListFilter.CLOSED: (
                "Closed",
                "Nothing is closed yet.",
                {"statuses": [Status.CLOSED.value, Status.SUPERSEDED.value]},
            ),
        }
        return choices[list_filter]

    async def use_report(self, report_code: str, conversation_id: str) -> Result:
        """Make a report this conversation's default for bare item numbers."""
        async with self._sessionmaker.begin() as session:
            report = await tracker.report_by_code(session, report_code)
            if report is None:
                return Said(f"I don't know a report called {report_code}. Try `list recommendations`.")
            if not await tracker.set_conversation_default_report(session, conversation_id, report.id):
                return Said(
                    "I can only remember a default report for a Teams chat or channel. "
                    f"Name the report instead, e.g. `status of {report.code} R8`."
                )
            return Said(f"From now on in this conversation, numbers like `R8` mean {report.code}: {report.title}.")

    async def mine(self, person: Identity | None) -> Result:
        """The items the asking person owns."""
        if person is None:
            return Said("I couldn't tell who you are, so I can't list your items.")
        async with self._reads() as session:
            items, total = await tracker.list_items(session, owner_id=person.person_id, limit=LIST_LIMIT)
        return ItemList(
            title="Your items",
            items=items,
            today=self._today(),
            more=total - len(items),
            empty_text="You don't own any items yet. An admin can assign one with `assign recommendation 8 to you@…`.",
        )
