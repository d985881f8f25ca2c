"""The digest benchmark: plan and compose one run's digests and nudges, counting SQL statements.

A generated tracker (reports of 500 items; owners with Teams ids; a history of updates, some in
the last week; governance events; channel subscriptions, some for one report, and personal ones)
is written straight into a new database. Then, in this process, one run is planned and composed at
a Monday 09:30 when every subscription is due: `services.digest_plan.plan_run` (every query of the
run) and `compose_digest` / `compose_nudge` for each message, i.e. `recbot digest run --dry-run`
without the printing. Statements are counted with a `before_cursor_execute` listener on the engine.
Sending is not included: it costs one claim and one outcome per message, whatever the item count.

Target (issue 4/5): under 10 s for 5,000 items and 200 subscriptions, and a statement count that
does not grow with the number of items (nor with the number of subscriptions).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event, insert

from bench import data
from bot.cards.digest import compose_digest, compose_nudge
from domain.schedule import is_working_day
from services.digest_plan import RunSettings, plan_run
from storage.database import create_engine, create_sessionmaker
from storage.models import ConversationRef, Delegate, DigestSubscription, Item, ItemEvent, Person, Report, Update

LONDON = ZoneInfo("Europe/London")
ITEMS_PER_REPORT = 500
OWNERS = 40
STATUSES = ("Not started", "In progress", "In progress", "Blocked", "Awaiting sign-off", "Closed")
ASSESSMENTS = (None, "on track", "at risk", "off track")
SIZES = ((500, 20), (500, 200), (5000, 20), (5000, 200))
TEAMS_SIZE_LIMIT = 28 * 1024


def run_moment() -> datetime:
    """A working Monday 09:30 (London) at least a week ahead: every subscription is due then."""
    day = datetime.now(LONDON).date() + timedelta(days=7)
    while day.weekday() != 0 or not is_working_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, clock(9, 30), tzinfo=LONDON).astimezone(UTC)


def _reference(conversation_id: str, kind: str, service_url: str) -> dict[str, Any]:
    return {
        "activityId": "1700000000000",
        "user": {"id": "29:1someone", "name": "Someone"},
        "bot": {"id": "28:recbot-app-id", "name": "RecBot"},
        "conversation": {"id": conversation_id, "conversationType": kind, "tenantId": "bench-tenant", "isGroup": True},
        "channelId": "msteams",
        "locale": "en-GB",
        "serviceUrl": service_url,
    }


async def populate(url: str, *, items: int, subscriptions: int, at: datetime) -> None:
    """Write the generated tracker and subscriptions (bulk inserts, a few seconds at most)."""
    today = at.astimezone(LONDON).date()
    now = datetime.now(UTC)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            reports = max(1, items // ITEMS_PER_REPORT)
            await connection.execute(
                insert(Report),
                [
                    {
                        "id": r + 1,
                        "code": f"DIG-{2000 + r}",
                        "title": f"Digest benchmark inspection {r}",
                        "published_on": date(2025, 5, 16),
                    }
                    for r in range(reports)
                ],
            )
            personal = subscriptions // 4
            people = OWNERS + personal
            await connection.execute(
                insert(Person),
                [
                    {
                        "id": p + 1,
                        "email": f"owner{p}@force.police.uk",
                        "name": f"Owner {p}",
                        "aad_object_id": f"00000000-0000-4000-8000-{p:012d}",
                        "teams_user_id": f"29:bench-owner-{p}",
                        "is_admin": False,
                        "reminders_stopped": p % 10 == 9,
                        "created_at": now,
                    }
                    for p in range(people)
                ],
            )
            item_rows = []
            for index in range(items):
                due = today + timedelta(days=(index * 37) % 400 - 200)
                item_rows.append(
                    {
                        "id": index + 1,
                        "report_id": index // ITEMS_PER_REPORT + 1,
                        "kind": "recommendation",
                        "number": index % ITEMS_PER_REPORT + 1,
                        "text": f"By {due:%d %B %Y}, the force should improve area {index}: supervision, training "
                        "and the use of the digital case file system, and report its progress.",
                        "due_on": due if index % 11 else None,
                        "status": STATUSES[index % len(STATUSES)],
                        "assessment": ASSESSMENTS[index % len(ASSESSMENTS)],
                        "owner_id": (index % people) + 1 if index % 7 else None,
                        "last_update_at": None if index % 5 == 0 else now - timedelta(days=(index * 13) % 120),
                        "created_at": now - timedelta(days=3 if index % 97 == 0 else 300),
                    }
                )
            await connection.execute(insert(Item), item_rows)
            await connection.execute(
                insert(Delegate),
                [
                    {"item_id": index + 1, "person_id": ((index + 3) % people) + 1, "created_at": now}
                    for index in range(0, items, 9)
                ],
            )
            updates = []
            for index in range(items):
                if index % 5 == 0:
                    continue
                updates.append(
                    {
                        "item_id": index + 1,
                        "created_at": now - timedelta(days=200),
                        "author_name": "Owner",
                        "status": "In progress",
                        "assessment": "on track",
                        "narrative": "Action plan agreed.",
                    }
                )
                if index % 10 == 1:  # a recent update, some of them changing the status
                    updates.append(
                        {
                            "item_id": index + 1,
                            "created_at": now - timedelta(days=index % 6, hours=1),
                            "author_name": f"Owner {index % people}",
                            "status": STATUSES[index % len(STATUSES)],
                            "assessment": "at risk",
                            "narrative": f"Progress on area {index} reviewed at the board.",
                        }
                    )
            await connection.execute(insert(Update), updates)
            await connection.execute(
                insert(ItemEvent),
                [
                    {
                        "item_id": index + 1,
                        "created_at": now - timedelta(days=2),
                        "actor_name": "Admin",
                        "kind": "assigned",
                        "detail": "",
                    }
                    for index in range(0, items, 50)
                ],
            )
            channels = subscriptions - personal
            await connection.execute(
                insert(ConversationRef),
                [
                    {
                        "conversation_id": f"19:bench-channel-{c}@thread.tacv2",
                        "tenant_id": "bench-tenant",
                        "conversation_type": "channel",
                        "service_url": "https://smba.invalid/uk/",
                        "reference": _reference(
                            f"19:bench-channel-{c}@thread.tacv2", "channel", "https://smba.invalid/uk/"
                        ),
                        "updated_at": now,
                    }
                    for c in range(channels)
                ],
            )
            created = now - timedelta(days=30)
            subscription_rows = [
                {
                    "conversation_id": f"19:bench-channel-{c}@thread.tacv2",
                    "person_id": None,
                    "report_id": None if c % 2 == 0 else (c % reports) + 1,
                    "weekday": 0,
                    "at_time": "09:00",
                    "active": True,
                    "created_at": created,
                }
                for c in range(channels)
            ] + [
                {
                    "conversation_id": None,
                    "person_id": p + 1,
                    "report_id": None,
                    "weekday": 0,
                    "at_time": "09:00",
                    "active": True,
                    "created_at": created,
                }
                for p in range(personal)
            ]
            await connection.execute(insert(DigestSubscription), subscription_rows)
        if engine.dialect.name == "postgresql":
            # Explicit ids were inserted: move the sequences on, and give the planner statistics.
            async with engine.begin() as connection:
                for table in ("reports", "people", "items"):
                    await connection.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
                    )
                await connection.exec_driver_sql("ANALYZE")
        else:
            async with engine.begin() as connection:
                await connection.exec_driver_sql("ANALYZE")
    finally:
        await engine.dispose()


async def compose_run(url: str, at: datetime) -> dict[str, Any]:
    """Plan and compose one run on a fresh engine; seconds, statements and what was composed."""
    engine = create_engine(url)
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        sessionmaker = create_sessionmaker(engine)
        started = time.perf_counter()
        async with sessionmaker() as session:
            plans, nudges, _ = await plan_run(session, at=at, settings=RunSettings())
        planned = time.perf_counter()
        replies = [compose_digest(plan.data) for plan in plans]
        replies += [compose_nudge(nudge.recipient.name or "owner", nudge.items) for nudge in nudges if nudge.items]
        finished = time.perf_counter()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
        await engine.dispose()
    sizes = [len(json.dumps({"text": reply.text, "card": reply.card}, default=str).encode()) for reply in replies]
    return {
        "seconds": finished - started,
        "plan_seconds": planned - started,
        "compose_seconds": finished - planned,
        "statements": len(statements),
        "digests": len(plans),
        "nudges": sum(1 for nudge in nudges if nudge.items),
        "largest_bytes": max(sizes, default=0),
    }


async def bench_digest(backend: str, workdir: Path, *, items: int, subscriptions: int) -> dict[str, Any]:
    at = run_moment()
    url = await data.new_database(backend, workdir)
    try:
        started = time.perf_counter()
        await populate(url, items=items, subscriptions=subscriptions, at=at)
        populate_seconds = time.perf_counter() - started
        cold = await compose_run(url, at)
        warm = await compose_run(url, at)
    finally:
        await data.drop_database(url)
    return {
        "backend": backend,
        "items": items,
        "subscriptions": subscriptions,
        "populate_seconds": populate_seconds,
        **cold,
        "warm_seconds": warm["seconds"],
        "warm_statements": warm["statements"],
    }
