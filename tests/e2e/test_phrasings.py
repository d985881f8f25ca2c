"""The questions officers type, end to end: each phrasing and the items its reply must name (issue 11).

The seed report (R2, R4, R8, R9 of OIC-2025) after a week of work, on the test clock (Monday
2 November 2026, 10:00 UTC), so that every filter picks out something different:

| item | status, assessment | owner | current due | last update | RAG |
|---|---|---|---|---|---|
| R2 | In progress, on track | Jane | 15 Dec 2026 (revised) | Mon 2 Nov 09:00 | Green |
| R4 | Closed | nobody | 31 Dec 2025 | Sun 1 Nov 20:00 (last week) | Blue |
| R8 | In progress (as imported) | nobody | 30 Apr 2026 | 16 May 2025 | Red (overdue, stale) |
| R9 | Blocked, at risk | Sam | 20 Nov 2026 (revised) | Mon 2 Nov 08:30 | Amber |

Jane was assigned R2 on Monday at 08:00. Each row is asked over HTTP of the real server (stub
Bot Connector), on SQLite and PostgreSQL; the references in the reply must be exactly the
expected ones, and a picker must never offer a single option.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import NamedTuple

import pytest

from domain.vocabulary import EventKind
from storage import tracker
from storage.database import create_engine, create_sessionmaker
from storage.models import ItemEvent, Update
from tests.fakes.card_nodes import walk
from tests.fakes.stub_connector import StubConnector
from tests.fakes.teams import JANE, SAM, BotClient, message

R2, R4, R8, R9 = "R2", "R4", "R8", "R9"
ALL = {R2, R4, R8, R9}
OPEN = {R2, R8, R9}


class Phrasing(NamedTuple):
    text: str
    items: set[str]  # the references the reply names (without "OIC-2025 "), exactly
    says: str = ""  # a phrase the reply must contain too


TABLE: list[Phrasing] = [
    # --- one item: what worked before must keep working
    Phrasing("status of recommendation 8", {R8}, "Hydra training package"),
    Phrasing("rec 8?", {R8}),
    Phrasing("R8 status", {R8}),
    Phrasing("recommendation eight", {R8}),
    Phrasing("how is recommendation 8 going", {R8}),
    Phrasing("status of OIC-2025 R8", {R8}),
    Phrasing("STATUS OF REC. 8!!!", {R8}),
    Phrasing("where are we with the hydra training?", {R8}),
    Phrasing("hydra training", {R8}),
    Phrasing("rec 4", {R4}, "31 December 2025"),
    Phrasing("what's the latest on R9", {R9}),
    Phrasing("tell me about recommendation 2", {R2}),
    Phrasing("R2?", {R2}),
    Phrasing("history of recommendation 8", {R8}),
    Phrasing("status of recommendation 42", set(), "can't find recommendation 42"),
    # --- several items in one question
    Phrasing("status of rec 8 and rec 9", {R8, R9}),
    Phrasing("R8, R9 and AFI 2", {R8, R9}, "can't find AFI 2"),
    Phrasing("R8 and R9", {R8, R9}),
    Phrasing("rec 8 & rec 9?", {R8, R9}),
    Phrasing("how are R2 and R4 going", {R2, R4}),
    Phrasing("status of R2, R4, R8 and R9", ALL),
    Phrasing("R8 and 9", {R8, R9}),
    Phrasing("status of 8 and 9", {R8, R9}),
    Phrasing("R8/R9", {R8, R9}),
    Phrasing("what about OIC-2025 R2 and OIC-2025 R4", {R2, R4}),
    Phrasing("status of recommendations 2 and 9 please", {R2, R9}),
    Phrasing("R8 and recommendation 8", {R8}, "Hydra training package"),
    Phrasing("status of R8 and R42", {R8}, "can't find recommendation 42"),
    # --- RAG
    Phrasing("which are red", {R8}, "RAG Red"),
    Phrasing("red items", {R8}),
    Phrasing("list red", {R8}),
    Phrasing("what's red?", {R8}),
    Phrasing("show me the red ones", {R8}),
    Phrasing("which are RAG red", {R8}),
    Phrasing("any reds?", {R8}),
    Phrasing("which recommendations are amber", {R9}),
    Phrasing("amber items", {R9}),
    Phrasing("list green", {R2}),
    Phrasing("green recommendations", {R2}),
    Phrasing("blue items", {R4}),
    Phrasing("list red OIC-2025", {R8}),
    # --- the lead's assessment, owners, silence
    Phrasing("list at risk", {R9}),
    Phrasing("what's at risk?", {R9}),
    Phrasing("which recommendations are at risk", {R9}),
    Phrasing("list off track", set(), "No lead says their item is off track"),
    Phrasing("list unassigned", {R8}),
    Phrasing("unassigned items", {R8}),
    Phrasing("which items have no owner", {R8}),
    Phrasing("recommendations without an owner", {R8}),
    Phrasing("list stale", {R8}, "No update for 30 days"),
    Phrasing("stale items", {R8}),
    Phrasing("which are not updated", {R8}),
    Phrasing("items with no updates", {R8}),
    # --- status
    Phrasing("list blocked", {R9}),
    Phrasing("what's blocked", {R9}),
    Phrasing("list in progress", {R2, R8}),
    Phrasing("list closed", {R4}),
    Phrasing("list open", OPEN),
    Phrasing("list not started", set(), "Everything has been started"),
    Phrasing("list awaiting sign-off", set(), "Nothing is awaiting sign-off"),
    Phrasing("list overdue", {R8}),
    Phrasing("what's overdue?", {R8}),
    # --- due dates, on the clock's today (2 November 2026)
    Phrasing("what's due this month", {R9}, "November 2026"),
    Phrasing("due next month", {R2}, "December 2026"),
    Phrasing("what's due next month?", {R2}),
    Phrasing("list due this quarter", {R2, R9}, "October to December 2026"),
    Phrasing("what is due this quarter", {R2, R9}),
    Phrasing("due next quarter", set(), "January to March 2027"),
    Phrasing("what's due this week", set(), "Nothing open is due this week"),
    Phrasing("due in the next 30 days", {R9}),
    Phrasing("due soon", {R9}),
    # --- whole lists
    Phrasing("list recommendations", ALL),
    Phrasing("list OIC-2025", ALL),
    Phrasing("how is OIC-2025 going", ALL),
    Phrasing("list areas for improvement", set(), "There are no areas for improvement"),
    Phrasing("list AFIs", set(), "There are no areas for improvement"),
    Phrasing("list causes of concern", set(), "There are no causes of concern"),
    Phrasing("my recommendations", {R2}),
    # --- counts
    Phrasing("how many recommendations are there", set(), "All items: 4 items"),
    Phrasing("how many are red", {R8}, "RAG Red: 1 item"),
    Phrasing("how many items are overdue", {R8}, "Overdue: 1 item"),
    Phrasing("how many are open?", OPEN, "3 items"),
    Phrasing("how many recommendations are at risk", {R9}),
    Phrasing("count blocked items", {R9}),
    Phrasing("how many are unassigned", {R8}),
    Phrasing("how many are stale", {R8}),
    Phrasing("RAG breakdown", set(), "By RAG: Red 1, Amber 1, Green 1, Blue 1"),
    Phrasing("how many AFIs are there", set(), "Areas for improvement: 0 items"),
    Phrasing("how many recommendations in OIC-2025", set(), "By status: In progress 2, Blocked 1, Closed 1"),
    # --- what changed (the week starts on Monday 2 November, 00:00 in Europe/London)
    Phrasing("what's changed this week", {R2, R9}, "owner assigned by Pat Admin"),
    Phrasing("what changed this week?", {R2, R9}),
    Phrasing("what's new", {R2, R9}),
    Phrasing("changes this week", {R2, R9}),
    Phrasing("any changes today", {R2, R9}),
    Phrasing("recent changes", {R2, R9}),
    Phrasing("what happened last week", {R4}, "closed"),
    Phrasing("what's changed in the last 7 days", {R2, R4, R9}),
    Phrasing("what's changed this month", {R2, R4, R9}),
    Phrasing("what changed this week in OIC-2025", {R2, R9}),
    Phrasing("help", set(), "list overdue"),
    # --- every answer names items by their titles, derived from the seed's texts
    Phrasing("list red items", {R8}, "OIC-2025 R8 · Hydra training package"),
    Phrasing("which are amber?", {R9}, "OIC-2025 R9 · Four modules of the e-learning package"),
    Phrasing("list green items", {R2}, "OIC-2025 R2 · Required intelligence document"),
    Phrasing("blue recommendations", {R4}, "OIC-2025 R4 · Clear plans to collect, analyse and share information"),
    Phrasing("status of R8 and R9?", {R8, R9}, "OIC-2025 R9 · Four modules of the e-learning package"),
    Phrasing("e-learning package", {R9}, "OIC-2025 R9 · Four modules of the e-learning package"),
    Phrasing("anything changed this week", {R2, R9}, "OIC-2025 R2 · Required intelligence document"),
    Phrasing("how many are amber", {R9}, "Which:\n- OIC-2025 R9 · Four modules of the e-learning package"),
]

REFERENCE = re.compile(r"\bOIC-2025 (R[0-9]+|AFI [0-9]+|CoC [0-9]+)\b")


def test_the_table_is_big_enough_and_has_no_repeats() -> None:
    texts = [row.text for row in TABLE]
    assert len(texts) >= 80
    assert len(set(texts)) == len(texts)


@pytest.fixture
async def a_week_of_work(seeded_database: str) -> None:
    """The seed report as the table above describes it."""
    engine = create_engine(seeded_database)
    async with create_sessionmaker(engine).begin() as session:
        items = {item.number: item for item in await tracker.all_items(session)}
        jane = await tracker.person_by_email(session, JANE.email)
        sam = await tracker.person_by_email(session, SAM.email)
        assert jane is not None and sam is not None
        jane.name, sam.name = JANE.name, SAM.name
        for item in items.values():
            # Imported on the publication day, not on the real day the test runs.
            item.created_at = datetime(2025, 5, 16, tzinfo=UTC)
        r2, r4, r9 = items[2], items[4], items[9]
        monday = datetime(2026, 11, 2, tzinfo=UTC)
        r2.owner_id, r2.revised_due_on, r2.assessment = jane.id, date(2026, 12, 15), "on track"
        r2.last_update_at = monday.replace(hour=9)
        session.add(
            ItemEvent(
                item_id=r2.id,
                created_at=monday.replace(hour=8),
                actor_name="Pat Admin",
                kind=EventKind.ASSIGNED.value,
                subject_id=jane.id,
            )
        )
        session.add(
            Update(
                item_id=r2.id,
                created_at=r2.last_update_at,
                author_id=jane.id,
                author_name=JANE.name,
                status="In progress",
                assessment="on track",
                narrative="Regional Hydra course dates agreed.",
            )
        )
        r4.status, r4.last_update_at = "Closed", datetime(2026, 11, 1, 20, tzinfo=UTC)
        session.add(
            Update(
                item_id=r4.id,
                created_at=r4.last_update_at,
                author_name="Pat Admin",
                status="Closed",
                narrative="Collection plan in place.",
            )
        )
        r9.owner_id, r9.status, r9.assessment, r9.revised_due_on = sam.id, "Blocked", "at risk", date(2026, 11, 20)
        r9.last_update_at = monday.replace(hour=8, minute=30)
        session.add(
            Update(
                item_id=r9.id,
                created_at=r9.last_update_at,
                author_id=sam.id,
                author_name=SAM.name,
                status="Blocked",
                assessment="at risk",
                narrative="E-learning licences lapsed.",
            )
        )
    await engine.dispose()


def _one_option_pickers(card: object) -> int:
    """Pickers offering a single option: a card whose only buttons are one stacked ActionSet."""
    action_sets = [node for node in walk(card) if node.get("type") == "ActionSet"]
    asks = isinstance(card, dict) and "Which one" in str(card.get("fallbackText", ""))
    return int(asks and len(action_sets) == 1)


@pytest.mark.usefixtures("a_week_of_work")
async def test_every_phrasing_names_the_expected_items(bot: BotClient, stub: StubConnector) -> None:
    wrong = []
    for row in TABLE:
        before = len(stub.sent)
        response = await bot.post(message(row.text, stub.url))
        assert response.status == 200
        if len(stub.sent) != before + 1:
            wrong.append(f"{row.text!r}: {len(stub.sent) - before} replies")
            continue
        reply = stub.sent[-1]
        readable = reply.readable
        named = {match.group(1) for match in REFERENCE.finditer(readable)}
        problems = []
        if named != row.items:
            problems.append(f"named {sorted(named)}, expected {sorted(row.items)}")
        if row.says and row.says not in readable:
            problems.append(f"does not say {row.says!r}")
        if "several matches" in readable or _one_option_pickers(reply.card):
            problems.append("offers a picker")
        if problems:
            first_lines = " | ".join(readable.splitlines()[:3])
            wrong.append(f"{row.text!r}: {'; '.join(problems)} — {first_lines}")
    assert wrong == [], "\n".join(wrong)
