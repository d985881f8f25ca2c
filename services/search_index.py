"""The free-text search's index: every item's searchable text, kept per process, read again on change.

A question or a keystroke in the message extension costs one cheap query (`tracker.search_version`:
counts, highest ids and summed text lengths of items and reports, the newest item event) and, for
the few items ranked best, one query by id. Every item's title and text are read again only when
that version differs from the one the index was built at, so an import or an edit by another instance is seen by the next search
here. The ranking is `domain.search.rank_items`' own, over the same texts in the same order, so
the answers are those of ranking every item loaded afresh.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from domain.search import Ranking, rank_positions, searchable
from storage import tracker
from storage.models import Item

# Edits that keep every count, id and length (one word for another of the same length, made
# outside RecBot) are caught when they touch a ranked item, and otherwise after this long.
MAX_AGE_SECONDS = 300.0
# Rankings kept per snapshot: the same words asked again (keystrokes in the message extension,
# a question many people ask) skip the ranking, which is most of a search's time at 10,000 items.
RANKINGS_KEPT = 256


def search_text(title: str | None, text: str, report_title: str) -> str:
    """What the search compares for an item: its title, its text and its report's title."""
    return searchable(f"{title or ''} {text} {report_title}")


@dataclass(frozen=True)
class _Snapshot:
    version: tuple[int | None, ...]
    item_ids: tuple[int, ...]
    texts: tuple[str, ...]
    built_at: float
    rankings: dict[str, Ranking[int]] = field(default_factory=dict, compare=False)

    def ranking(self, query: str) -> Ranking[int]:
        """`rank_positions(query, texts)`, remembered for this snapshot's texts."""
        ranked = self.rankings.get(query)
        if ranked is None:
            ranked = rank_positions(query, self.texts)
            if len(self.rankings) >= RANKINGS_KEPT:
                self.rankings.pop(next(iter(self.rankings)))
            self.rankings[query] = ranked
        return ranked


class SearchIndex:
    """Ranks free text over a cached copy of every item's searchable text, kept in step with the database."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_age: float = MAX_AGE_SECONDS) -> None:
        self._clock = clock
        self._max_age = max_age
        # Replaced whole, never changed in place: a search running meanwhile keeps its own.
        self._snapshot: _Snapshot | None = None

    async def _refresh(self, session: AsyncSession) -> _Snapshot:
        # The version is read before the texts: the texts are at least as new as the version they
        # are filed under, so a change in between costs one more refresh, never a stale index.
        version = await tracker.search_version(session)
        rows = await tracker.search_texts(session)
        snapshot = _Snapshot(
            version=version,
            item_ids=tuple(item_id for item_id, _, _, _ in rows),
            texts=tuple(search_text(title, text, report_title) for _, title, text, report_title in rows),
            built_at=self._clock(),
        )
        self._snapshot = snapshot
        return snapshot

    async def _current(self, session: AsyncSession) -> _Snapshot:
        snapshot = self._snapshot
        if snapshot is None or self._clock() - snapshot.built_at > self._max_age:
            return await self._refresh(session)
        if await tracker.search_version(session) != snapshot.version:
            return await self._refresh(session)
        return snapshot

    async def rank(self, session: AsyncSession, query: str) -> Ranking[Item]:
        """`rank_items(query, all_items, title, text and report title)`, loading only the items it returns."""
        snapshot = await self._current(session)
        for attempt in range(2):
            ranked = snapshot.ranking(query)
            positions = [ranked.best] if ranked.best is not None else list(ranked.candidates)
            wanted = [snapshot.item_ids[position] for position in positions]
            items = await tracker.items_by_ids(session, wanted)
            indexed = [snapshot.texts[position] for position in positions]
            if [item.id for item in items] == wanted and [
                search_text(item.title, item.text, item.report.title) for item in items
            ] == indexed:
                break
            if attempt == 0:
                # A ranked item was removed or edited behind the version's back: read everything again.
                snapshot = await self._refresh(session)
        if ranked.best is not None:
            return Ranking(best=items[0] if items else None, candidates=())
        return Ranking(best=None, candidates=items)

    def forget(self) -> None:
        """Drop the cached texts: the next search reads them again."""
        self._snapshot = None
