"""The search index answers what ranking every item loaded afresh answers, before and after changes."""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pytest
from rapidfuzz import process, utils
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bench.data import write_csv
from domain import search
from domain.records import ItemRecord, ReportRecord
from domain.vocabulary import Kind
from services import search_index
from services.importing import import_file
from services.search_index import SearchIndex
from storage import progress, tracker
from storage.models import Item
from tests.conftest import SEED

Sessionmaker = async_sessionmaker[AsyncSession]

QUERIES = [
    "hydra",
    "hydra training",
    "where are we with the hydra training?",
    "hydra trainng",
    "e-learning package",
    "organised immigration crime",
    "case file quality area 123",
    "case file quality area 7",
    "digital case file",
    "supervision",
    "training",
    "governance board",
    "benchmark inspection 2001",
    "modern slavery",
    "xyzzy plugh",
    "hy",
    "the",
    "",
]


def _old_ranking(query: str, items: Sequence[Item]) -> list[int]:
    """The ranking as it was: every item loaded, `_score` called by rapidfuzz once per item."""
    wanted = search._meaningful(query)
    if len(re.sub(r"\W", "", wanted)) < 3 or not items:
        return []
    texts = [utils.default_process(f"{item.title or ''} {item.text} {item.report.title}") for item in items]
    matches = process.extract(
        wanted, texts, scorer=search._score, limit=search.MAX_CANDIDATES + 1, score_cutoff=search.CANDIDATE
    )
    if not matches:
        return []
    top, runner_up = matches[0][1], (matches[1][1] if len(matches) > 1 else 0)
    if top >= search.SURE and top - runner_up >= search.CLEAR_LEAD:
        return [items[matches[0][2]].id, -1]  # -1 marks "the one answer", as against one candidate
    return [items[index].id for _, _, index in matches[: search.MAX_CANDIDATES]]


async def _new_ranking(index: SearchIndex, session: AsyncSession, query: str) -> list[int]:
    ranked = await index.rank(session, query)
    if ranked.best is not None:
        return [ranked.best.id, -1]
    return [item.id for item in ranked.candidates]


async def _assert_same(index: SearchIndex, sessionmaker: Sessionmaker, queries: Sequence[str] = QUERIES) -> None:
    async with sessionmaker() as session:
        items = await tracker.all_items(session)
        for query in queries:
            assert await _new_ranking(index, session, query) == _old_ranking(query, items), query


def _varied_csv(path: Path) -> None:
    """A generated tracker (bench/data.py) plus rows of mixed words, for ties and near misses alike."""
    write_csv(path, reports=2, items_per_report=150)
    words = ["hydra", "training", "custody", "stop and search", "e-learning", "vetting", "crime data", "package"]
    with path.open("a", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        for number in range(1, 41):
            phrase = " ".join(words[(number * step) % len(words)] for step in (1, 3, 5))
            writer.writerow(
                ["MIXED-2024", "Mixed words inspection" if number == 1 else "", "01/02/2024", "Thematic"]
                + ["recommendation", number, f"The force should improve {phrase} by area {number}.", "", "", "", ""]
            )


async def test_same_ranking_as_loading_every_item_on_the_seed_and_a_generated_tracker(
    sessionmaker: Sessionmaker, tmp_path: Path
) -> None:
    index = SearchIndex()
    await import_file(sessionmaker, SEED)
    await _assert_same(index, sessionmaker)
    tracker_csv = tmp_path / "generated.csv"
    _varied_csv(tracker_csv)
    # An import adds items: the next search sees them without being told.
    await import_file(sessionmaker, tracker_csv)
    await _assert_same(index, sessionmaker)


async def test_edits_and_other_instances_are_seen(sessionmaker: Sessionmaker) -> None:
    await import_file(sessionmaker, SEED)
    here, there = SearchIndex(), SearchIndex()
    await _assert_same(here, sessionmaker, ["modern slavery", "hydra training"])
    await _assert_same(there, sessionmaker, ["modern slavery"])
    # Another instance imports a report: both indexes see it on their next search.
    async with sessionmaker.begin() as session:
        record = ReportRecord(
            title="Modern slavery and human trafficking",
            code="MSHT-2025",
            published_on=date(2025, 9, 1),
            items=(ItemRecord(Kind.RECOMMENDATION, 1, "Modern slavery training for all call handlers.", None, ""),),
        )
        await tracker.save_report(session, record)
    await _assert_same(here, sessionmaker, ["modern slavery"])
    await _assert_same(there, sessionmaker, ["modern slavery"])
    # Texts and titles edited outside RecBot, one of them keeping its length ("hydra" → "kraken" does not).
    async with sessionmaker.begin() as session:
        await session.execute(text("UPDATE items SET text = replace(text, 'Hydra', 'Kraken')"))
        await session.execute(text("UPDATE reports SET title = 'Modern slavery and human traffickers'"))
    await _assert_same(here, sessionmaker, ["hydra training", "kraken training", "human traffickers", "modern slavery"])
    async with sessionmaker.begin() as session:
        await session.execute(text("UPDATE items SET text = replace(text, 'Kraken', 'Krakan')"))
    await _assert_same(here, sessionmaker, ["kraken training", "krakan training"])
    # An admin renames an item, keeping its title's length: the title change (an item event) tells both.
    async with sessionmaker.begin() as session:
        (r8,) = await tracker.find_items(session, number=8, report_code="OIC-2025")
        admin = await tracker.person_by_email(session, "pat@force.police.uk")
        assert admin is not None and r8.title == "Hydra training package"
        assert await progress.set_title(session, r8, admin, "Custody pods for Hydra", None)
    for index in (here, there):
        async with sessionmaker() as session:
            ranked = await index.rank(session, "custody pods")
        assert ranked.best is not None and ranked.best.number == 8
    await _assert_same(there, sessionmaker, ["custody pods", "hydra training"])


async def test_a_search_does_not_read_every_item(engine: AsyncEngine, sessionmaker: Sessionmaker) -> None:
    await import_file(sessionmaker, SEED)
    index = SearchIndex()
    async with sessionmaker() as session:
        await index.rank(session, "hydra training")
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    async with sessionmaker() as session:
        ranked = await index.rank(session, "hydra training")
    assert ranked.best is not None
    # The version, then the one item by id: no statement reads every item's text.
    assert len(statements) == 2, statements
    assert "IN (" in statements[1].upper() or "= ANY" in statements[1].upper() or "IN (__[" in statements[1]


async def test_the_same_words_asked_again_are_not_ranked_again(
    sessionmaker: Sessionmaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    await import_file(sessionmaker, SEED)
    calls: list[str] = []
    rank = search_index.rank_positions
    monkeypatch.setattr(search_index, "rank_positions", lambda query, texts: calls.append(query) or rank(query, texts))
    index = SearchIndex()
    for _ in range(3):
        async with sessionmaker() as session:
            assert (await index.rank(session, "hydra training")).best is not None
    assert calls == ["hydra training"]
    index.forget()  # a new snapshot ranks afresh
    async with sessionmaker() as session:
        await index.rank(session, "hydra training")
    assert calls == ["hydra training", "hydra training"]
