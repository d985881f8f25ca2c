"""Answers to the questions people ask: each returns a result (`services/results.py`) for `bot/cards` to show.

One short transaction per answer. A status question costs one Core statement for the items, their
latest updates, who may act and the asker's bot state (more only when an item has a revised or
requested due date, or is closed).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from domain import listing
from domain.listing import Period, period_window
from domain.rag import Rag
from domain.refs import ItemRef, ListFilter, describe_ref, reference_of
from domain.text import safe_text
from domain.titles import with_reference
from domain.vocabulary import EventKind, Kind, Status
from services.digest_plan import RunSettings
from services.digest_plan import _describe as describe_change
from services.people import Identity
from services.results import (
    ChangeLine,
    Changes,
    Choose,
    Counts,
    ForceResponse,
    ItemList,
    ItemStatus,
    ItemStatuses,
    ReportText,
    Result,
    Rights,
    Said,
    SearchResults,
)
from services.search_index import SearchIndex
from storage import ownership, progress, questions, tracker
from storage.database import for_reading
from storage.models import Item, Update
from storage.rows import AnyItem, AnyUpdate, ItemRow
from storage.state import StateAlong

LIST_LIMIT = 15
CHANGES_LIMIT = 20
# Worst first, as the digest counts them.
_RAG_ORDER = (Rag.RED, Rag.AMBER, Rag.GREEN, Rag.BLUE)
_PLURALS = {
    Kind.RECOMMENDATION: "recommendations",
    Kind.AREA_FOR_IMPROVEMENT: "areas for improvement",
    Kind.CAUSE_OF_CONCERN: "causes of concern",
}
# Events that change an item (a notice sent about it, or an admin's rights, change nothing on it).
_ITEM_CHANGES = frozenset(kind.value for kind in EventKind) - {"notified", "admin granted", "admin revoked"}


# A stored Item (resolve) or a row read for a status question (storage.rows).
AnItem = TypeVar("AnItem", Item, ItemRow)


@dataclass(frozen=True)
class Resolved(Generic[AnItem]):
    """What a reference points at: one item, several to choose from, or nothing."""

    item: AnItem | None = None
    candidates: Sequence[AnItem] = ()


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


async def resolve(session: AsyncSession, ref: ItemRef, conversation_id: str | None) -> Resolved[Item]:
    """Find the item a reference means, using the conversation's default report when it helps."""
    items = await tracker.find_items(session, number=ref.number, kind=ref.kind, report_code=ref.report_code)
    return await choose(session, items, ref, conversation_id)


async def choose(
    session: AsyncSession, items: Sequence[AnItem], ref: ItemRef, conversation_id: str | None
) -> Resolved[AnItem]:
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


@asynccontextmanager
async def _session_on(connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """An ORM session on `connection`, closed if it was used: closing one that never was is a hop
    through a greenlet for nothing, ~25 µs of a status question that needs no rarer read."""
    session = AsyncSession(bind=connection)
    try:
        yield session
    finally:
        if session.in_transaction():
            await session.close()


class Answers:
    """Answers questions, reading the tracker through `storage.tracker`."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        today: Callable[[], date],
        bootstrap_admins: Sequence[str] = (),
        *,
        timezone: str = RunSettings.timezone,
        stale_days: int = RunSettings.stale_days,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._reads = for_reading(sessionmaker)
        self._reading: AsyncEngine = self._reads.kw["bind"]
        self._today = today
        self._bootstrap_admins = tuple(bootstrap_admins)
        # Where "this week" starts (RECBOT_TIMEZONE), and the digest's stale rule.
        self._zone = ZoneInfo(timezone)
        self._stale_days = stale_days
        # Free-text search ranks over this process's copy of the item texts, refreshed on change.
        self._search_index = SearchIndex()

    async def _status(
        self,
        session: AsyncSession,
        item: AnyItem,
        latest: AnyUpdate | None,
        viewer: Identity | None = None,
        acting: list[tuple[int, str]] | None = None,
    ) -> ItemStatus:
        """The status card's facts: the pending date request, who set the revised date, who may act
        (`acting`, when the item's query read it already)."""
        requested = await session.get(Update, item.requested_due_update_id) if item.requested_due_update_id else None
        if acting is None:
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
            found = await tracker.item_with_latest(session, item_id)
            if found is None:
                return Said("This item no longer exists: it may have been removed. Try `list recommendations`.")
            status = await self._status(session, *found, viewer)
        return replace(status, note=note)

    async def status(self, ref: ItemRef, conversation_id: str | None, state: StateAlong | None = None) -> Result:
        """One item's status, or the question of which report is meant; its first statement also reads
        `state` (the asker's bot state) when given."""
        # A connection, with an ORM session on it for the rarer reads (which report a bare number means
        # here, a pending date request, the decision that revised or closed the item): through the
        # sessionmaker, the session's own connection cost more than the statement (issue 14).
        async with self._reading.connect() as connection, _session_on(connection) as session:
            # One Core statement finds the items and their latest updates (rather than one for each).
            rows = await tracker.find_items_with_latest(
                connection,
                number=ref.number,
                kind=ref.kind,
                report_code=ref.report_code,
                bootstrap_admins=self._bootstrap_admins,
                state=state,
            )
            resolved = await choose(session, [item for item, _, _ in rows], ref, conversation_id)
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
            latest, acting = next((update, acting) for item, update, acting in rows if item is resolved.item)
            return await self._status(session, resolved.item, latest, acting=acting)

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
            # Not every item: the index ranks cached texts and loads only the items it names.
            ranked = await self._search_index.rank(session, query)
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
        """The items a `list …` command asks for (the rules in `domain/listing.py`)."""
        today = self._today()
        title, empty_text = listing.describe(list_filter, today, stale_days=self._stale_days)
        if kind is not None:
            title = f"{title} · {_PLURALS[kind].capitalize()}"
            if list_filter is ListFilter.ALL:
                empty_text = f"There are no {_PLURALS[kind]} in the tracker."
        async with self._reads() as session:
            if report_code and await tracker.report_by_code(session, report_code) is None:
                return Said(f"I don't know a report called {report_code}. Try `list recommendations`.")
            selected = await self._selected(session, list_filter, report_code, kind, today)
            items = await questions.items_in_order(session, [row.item_id for row, _ in selected[:LIST_LIMIT]])
        if report_code:
            title = f"{title} · {report_code}"
        return ItemList(title=title, items=items, today=today, more=len(selected) - len(items), empty_text=empty_text)

    async def _selected(
        self, session: AsyncSession, list_filter: ListFilter, report_code: str | None, kind: Kind | None, today: date
    ) -> list[tuple[questions.FactsRow, listing.ItemFacts]]:
        """The rows a filter takes, soonest due first, each with the facts the rules read."""
        rows = await questions.item_facts(session, report_code=report_code, kind=kind)
        selected = []
        for row in rows:
            facts = listing.ItemFacts(
                status=row.status,
                assessment=row.assessment,
                due_on=row.due_on,
                last_update_on=row.last_update_at.astimezone(UTC).date() if row.last_update_at else None,
                has_owner=row.owner_id is not None,
            )
            if listing.selects(list_filter, facts, today=today, stale_days=self._stale_days):
                selected.append((row, facts))
        return selected

    async def count_items(self, list_filter: ListFilter, report_code: str | None, kind: Kind | None = None) -> Result:
        """How many items a question selects ("how many are red"), by status and by RAG."""
        today = self._today()
        if list_filter is ListFilter.ALL:
            title = _PLURALS[kind].capitalize() if kind is not None else "All items"
        else:
            title, _ = listing.describe(list_filter, today, stale_days=self._stale_days)
            if kind is not None:
                title = f"{title} · {_PLURALS[kind].capitalize()}"
        async with self._reads() as session:
            if report_code and await tracker.report_by_code(session, report_code) is None:
                return Said(f"I don't know a report called {report_code}. Try `list recommendations`.")
            selected = await self._selected(session, list_filter, report_code, kind, today)
            # Which ones, when the question picked some out; the whole tracker is a list of its own.
            shown = [] if list_filter is ListFilter.ALL else [row.item_id for row, _ in selected[:LIST_LIMIT]]
            items = await questions.items_in_order(session, shown)
        by_status: dict[str, int] = {}
        by_rag: dict[str, int] = {}
        for row, facts in selected:
            by_status[row.status] = by_status.get(row.status, 0) + 1
            rag = listing.rag_of(facts, today).value
            by_rag[rag] = by_rag.get(rag, 0) + 1
        if report_code:
            title = f"{title} · {report_code}"
        return Counts(
            title=title,
            total=len(selected),
            by_status={status.value: by_status[status.value] for status in Status if status.value in by_status},
            by_rag={rag.value: by_rag[rag.value] for rag in _RAG_ORDER if rag.value in by_rag},
            items=items,
            more=len(selected) - len(items) if shown else 0,
            today=today,
        )

    async def statuses(self, refs: Sequence[ItemRef], conversation_id: str | None) -> Result:
        """Several items in one question ("status of R8 and R9"): each one's status, and what was not found."""
        found: list[ItemStatus] = []
        not_found: list[str] = []
        seen: set[int] = set()
        for ref in refs:
            answer = await self.status(ref, conversation_id)
            if isinstance(answer, ItemStatus):
                if answer.item.id not in seen:
                    seen.add(answer.item.id)
                    found.append(answer)
            elif isinstance(answer, Choose):
                options = ", ".join(command.removeprefix("status of ") for _, command in answer.options)
                not_found.append(f"{_sentence(describe_ref(ref))} is in more than one report: ask for {options}.")
            elif isinstance(answer, Said):
                unknown_report = ref.report_code and answer.text.startswith("I don't know a report")
                not_found.append(
                    f"I don't know a report called {ref.report_code}."
                    if unknown_report
                    else f"I can't find {describe_ref(ref)}."
                )
        if len(found) == 1 and not not_found:
            return found[0]  # one item after all ("R8 and rec 8"): its own card
        return ItemStatuses(statuses=found, not_found=not_found, today=self._today())

    async def changes(self, period: Period, report_code: str | None = None) -> Result:
        """What changed in a period ("what's changed this week"): updates, decisions and new items, newest first."""
        today = self._today()
        first, after, title = period_window(period, today)
        since = datetime.combine(first, time(), tzinfo=self._zone)
        # Up to the end of today by the clock (never the real date), so the answer is the clock's.
        until = datetime.combine(after or today + timedelta(days=1), time(), tzinfo=self._zone)
        async with self._reads() as session:
            if report_code and await tracker.report_by_code(session, report_code) is None:
                return Said(f"I don't know a report called {report_code}. Try `list recommendations`.")
            rows = await questions.changes_since(session, since, report_code=report_code)
        lines = [
            ChangeLine(
                row.at,
                with_reference(reference_of(row.report_code, row.kind, row.number), row.title),
                describe_change(row),
            )
            for row in reversed(rows)
            if row.at < until and (row.change != "event" or row.event_kind in _ITEM_CHANGES)
        ]
        if report_code:
            title = f"{title} · {report_code}"
        return Changes(
            title=title,
            changes=lines[:CHANGES_LIMIT],
            more=max(0, len(lines) - CHANGES_LIMIT),
            empty_text=f"Nothing has changed {period.value}.",
        )

    async def search_answer(self, query: str) -> Result:
        """`search`, with one candidate taken as the answer: a one-option picker is never shown."""
        found = await self.search(query)
        if isinstance(found, SearchResults) and len(found.items) == 1:
            return await self.status_of(found.items[0].id, None)
        return found

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

    async def about_report(self, statement: bool, report_code: str | None, conversation_id: str | None) -> Result:
        """The commissioner's statement on a report, or its summary: the report named, else this
        conversation's default, else the only one; asks which when there are several."""
        command = "commissioner's statement on" if statement else "summary of"
        async with self._reads() as session:
            if report_code:
                report = await tracker.report_by_code(session, report_code)
                if report is None:
                    return Said(f"I don't know a report called {report_code}. Try `list recommendations`.")
                return ReportText(report, statement)
            default_id = (
                await tracker.conversation_default_report(session, conversation_id) if conversation_id else None
            )
            reports = await tracker.all_reports(session)
        chosen = [report for report in reports if report.id == default_id] or (reports if len(reports) == 1 else [])
        if chosen:
            return ReportText(chosen[0], statement)
        if not reports:
            return Said("No reports are imported yet.")
        return Choose(
            "Which report do you mean?",
            [(f"{report.code} · {report.title}", f"{command} {report.code}") for report in reports],
        )

    async def response(self, ref: ItemRef, conversation_id: str | None) -> Result:
        """The force's own response to one item, whole, as the report's document gave it."""
        async with self._reads() as session:
            resolved = await resolve(session, ref, conversation_id)
            if resolved.item is None and not resolved.candidates:
                return await self._not_found(session, ref)
            if resolved.item is None:
                return Choose(
                    f"{_sentence(describe_ref(ref))} is in more than one report. Which one do you mean?",
                    [
                        (f"{item.reference} · {item.report.title}", f"response to {item.reference}")
                        for item in resolved.candidates
                    ],
                )
            return ForceResponse(resolved.item, await progress.initial_response(session, resolved.item.id))

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
