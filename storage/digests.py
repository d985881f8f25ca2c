"""Digest subscriptions, reminder settings, and the rows weekly digests and nudges are built from.

Every function takes a session; the caller owns the transaction. Nothing here knows about RAG,
cards or Teams: `services/digest_plan.py` turns these plain rows into `services.delivery` data.

Building a whole run costs a bounded number of statements whatever the number of items and
subscriptions: counts come from one GROUP BY, the section lists from one window-function query
(cut per report, with totals), and the changes from one query per kind, filtered in Python.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.vocabulary import OPEN_STATUSES, Status
from storage.models import Delegate, DigestSubscription, Item, ItemEvent, Person, Report, Update, utcnow

# Enough of an item's text for a one-line summary; the rest never leaves the database.
SHORT_TEXT_CHARS = 200

SECTIONS = ("overdue", "due_soon", "stale", "waiting_for_decision", "unassigned")


# --- subscriptions ---------------------------------------------------------------------------


def _same(column: Any, value: object) -> ColumnElement[bool]:
    # The unique constraint treats NULLs as distinct, so "the same subscription" is matched here.
    return column.is_(None) if value is None else column == value


async def subscribe(
    session: AsyncSession,
    *,
    conversation_id: str | None = None,
    person_id: int | None = None,
    report_id: int | None = None,
    weekday: int = 0,
    at_time: str = "09:00",
    created_by_id: int | None = None,
) -> tuple[DigestSubscription, bool]:
    """Subscribe a conversation (or a person, for a personal digest); True when it is new.

    Subscribing again (same conversation or person, same report) changes the schedule and
    reactivates it rather than adding a second subscription.
    """
    if (conversation_id is None) == (person_id is None):
        raise ValueError("give a conversation_id for a channel digest or a person_id for a personal one")
    if not 0 <= weekday <= 6:
        raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), not {weekday}")
    target = (
        _same(DigestSubscription.conversation_id, conversation_id),
        _same(DigestSubscription.person_id, person_id),
        _same(DigestSubscription.report_id, report_id),
    )
    existing = await session.scalar(select(DigestSubscription).where(*target))
    created = existing is None
    if existing is None:
        try:
            # The unique index on the target settles two "subscribe" messages handled at once.
            async with session.begin_nested():
                session.add(
                    DigestSubscription(
                        conversation_id=conversation_id,
                        person_id=person_id,
                        report_id=report_id,
                        created_by_id=created_by_id,
                        created_at=utcnow(),
                    )
                )
        except IntegrityError:
            created = False
        existing = await session.scalar(select(DigestSubscription).where(*target))
        assert existing is not None
    existing.weekday = weekday
    existing.at_time = at_time
    existing.active = True
    existing.deactivated_reason = None
    await session.flush()
    return existing, created


_ALL_REPORTS: Any = object()


async def unsubscribe(
    session: AsyncSession,
    *,
    conversation_id: str | None = None,
    person_id: int | None = None,
    report_id: int | None | object = _ALL_REPORTS,
    reason: str = "unsubscribed",
) -> int:
    """Deactivate the conversation's (or person's) subscriptions — all, or one report's; how many."""
    if (conversation_id is None) == (person_id is None):
        raise ValueError("give a conversation_id or a person_id")
    conditions = [
        DigestSubscription.active.is_(True),
        _same(DigestSubscription.conversation_id, conversation_id),
        _same(DigestSubscription.person_id, person_id),
    ]
    if report_id is not _ALL_REPORTS:
        conditions.append(_same(DigestSubscription.report_id, report_id))
    result = await session.execute(
        update(DigestSubscription).where(*conditions).values(active=False, deactivated_reason=reason)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def deactivate(session: AsyncSession, subscription_id: int, reason: str) -> None:
    """Stop a subscription (the conversation is gone, the bot was removed), keeping why."""
    await session.execute(
        update(DigestSubscription)
        .where(DigestSubscription.id == subscription_id)
        .values(active=False, deactivated_reason=reason)
    )


async def subscriptions_for(
    session: AsyncSession, *, conversation_id: str | None = None, person_id: int | None = None
) -> Sequence[DigestSubscription]:
    """The active subscriptions of one conversation or one person's personal digest."""
    if (conversation_id is None) == (person_id is None):
        raise ValueError("give a conversation_id or a person_id")
    query = select(DigestSubscription).where(DigestSubscription.active.is_(True))
    if conversation_id is not None:
        query = query.where(DigestSubscription.conversation_id == conversation_id)
    else:
        query = query.where(DigestSubscription.person_id == person_id)
    return (await session.scalars(query.order_by(DigestSubscription.id))).all()


async def active_subscriptions(session: AsyncSession) -> Sequence[DigestSubscription]:
    """Every active subscription, oldest first."""
    query = select(DigestSubscription).where(DigestSubscription.active.is_(True)).order_by(DigestSubscription.id)
    return (await session.scalars(query)).all()


# --- the rows digests are built from ----------------------------------------------------------


@dataclass(frozen=True)
class ItemRow:
    """One item as a digest line needs it; `due_on` is the current (revised or HMICFRS) date."""

    item_id: int
    report_id: int
    report_code: str
    kind: str
    number: int
    short_text: str
    status: str
    assessment: str | None
    due_on: date | None
    last_update_at: datetime | None
    owner_id: int | None
    owner_name: str | None
    requested_due_on: date | None = None  # a later date a lead asked for, waiting for an admin
    title: str | None = None


@dataclass(frozen=True)
class CountRow:
    """How many items of a report (for one audience) share these RAG-relevant inputs.

    `due_bucket` is "none", "past" (before today), "soon" (today … today + due_soon_days) or
    "later"; `update_bucket` is "never", "old" (at least rag_stale_days ago) or "recent".
    """

    report_id: int
    status: str
    assessment: str | None
    due_bucket: str
    update_bucket: str
    count: int


@dataclass(frozen=True)
class SectionRows:
    """The first rows of one section of one report, and how many there are in all."""

    rows: list[ItemRow] = field(default_factory=list)
    total: int = 0


@dataclass(frozen=True)
class ChangeRow:
    """Something that happened to an item: an update, a governance event, or the item's creation."""

    item_id: int
    report_id: int
    report_code: str
    kind: str
    number: int
    change: str  # "update", "event" or "created"
    at: datetime
    actor_name: str | None = None
    status: str | None = None
    previous_status: str | None = None
    event_kind: str | None = None
    title: str | None = None  # the item's title now


@dataclass
class AudienceRows:
    """Everything about the items one audience sees (every item, or one person's), per report."""

    counts: dict[int, list[CountRow]] = field(default_factory=lambda: defaultdict(list))
    sections: dict[int, dict[str, SectionRows]] = field(default_factory=lambda: defaultdict(dict))


@dataclass(frozen=True)
class ReportRow:
    report_id: int
    code: str
    title: str


@dataclass(frozen=True)
class DigestRows:
    """All rows of one run's digests: shared report-wide rows, per-person rows, and changes."""

    reports: dict[int, ReportRow]
    everyone: AudienceRows  # the report-wide view, for channel subscriptions
    people: dict[int, AudienceRows]  # personal digests: person id → the items they own or follow
    person_items: dict[int, frozenset[int]]  # person id → item ids in their personal digest
    changes: list[ChangeRow]  # since the earliest `since` asked for, oldest first


# The report-wide view has no person: a typed NULL, so PostgreSQL knows the column's type.
_NO_PERSON = cast(null(), Integer)


def _due() -> ColumnElement[Any]:
    return func.coalesce(Item.revised_due_on, Item.due_on)


def _start_of_day(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=timezone.utc)


def _item_columns(owner: Any) -> list[Any]:
    return [
        Item.id.label("item_id"),
        Item.report_id.label("report_id"),
        Report.code.label("report_code"),
        Item.kind.label("kind"),
        Item.number.label("number"),
        func.substr(Item.text, 1, SHORT_TEXT_CHARS).label("short_text"),
        Item.status.label("status"),
        Item.assessment.label("assessment"),
        _due().label("due_on"),
        Item.last_update_at.label("last_update_at"),
        Item.owner_id.label("owner_id"),
        func.coalesce(owner.name, owner.email).label("owner_name"),
        Item.requested_due_on.label("requested_due_on"),
        Item.title.label("title"),
    ]


def _item_row(row: Any) -> ItemRow:
    return ItemRow(
        item_id=row.item_id,
        report_id=row.report_id,
        report_code=row.report_code,
        kind=row.kind,
        number=row.number,
        short_text=row.short_text or "",
        status=row.status,
        assessment=row.assessment,
        due_on=row.due_on,
        last_update_at=_aware(row.last_update_at),
        owner_id=row.owner_id,
        owner_name=row.owner_name,
        requested_due_on=row.requested_due_on,
        title=row.title,
    )


def _aware(moment: datetime | None) -> datetime | None:
    # Window and union queries return raw column values: the UTC type decorator may not apply.
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=timezone.utc)


def _scope(person_ids: Sequence[int]) -> Any:
    """(person_id, item_id) for every item a person owns or is a delegate on."""
    owned = select(Item.owner_id.label("person_id"), Item.id.label("item_id")).where(Item.owner_id.in_(person_ids))
    delegated = select(Delegate.person_id.label("person_id"), Delegate.item_id.label("item_id")).where(
        Delegate.person_id.in_(person_ids)
    )
    # UNION (not ALL): an owner who is also a delegate sees the item once.
    return owned.union(delegated).subquery("scope")


async def _counts(
    session: AsyncSession,
    *,
    report_ids: Sequence[int] | None,
    scope: Any | None,
    today: date,
    due_soon_days: int,
    rag_stale_days: int,
) -> list[tuple[int | None, CountRow]]:
    due = _due()
    due_bucket = case(
        (due.is_(None), literal("none")),
        (due < today, literal("past")),
        (due <= today + timedelta(days=due_soon_days), literal("soon")),
        else_=literal("later"),
    ).label("due_bucket")
    # Stale by UTC date, as domain.rag does: today - update date >= rag_stale_days.
    stale_before = _start_of_day(today - timedelta(days=rag_stale_days - 1))
    update_bucket = case(
        (Item.last_update_at.is_(None), literal("never")),
        (Item.last_update_at < stale_before, literal("old")),
        else_=literal("recent"),
    ).label("update_bucket")
    audience = scope.c.person_id if scope is not None else _NO_PERSON
    query: Select[Any] = select(
        audience.label("person_id"),
        Item.report_id,
        Item.status,
        Item.assessment,
        due_bucket,
        update_bucket,
        func.count().label("n"),
    )
    if scope is not None:
        query = query.join(scope, scope.c.item_id == Item.id)
        group: list[Any] = [scope.c.person_id]
    else:
        query = query.select_from(Item)
        group = []
    if report_ids is not None:
        query = query.where(Item.report_id.in_(list(report_ids)))
    query = query.group_by(*group, Item.report_id, Item.status, Item.assessment, due_bucket, update_bucket)
    rows = await session.execute(query)
    return [
        (
            row.person_id,
            CountRow(row.report_id, row.status, row.assessment, row.due_bucket, row.update_bucket, row.n),
        )
        for row in rows
    ]


async def _sections(
    session: AsyncSession,
    *,
    report_ids: Sequence[int] | None,
    scope: Any | None,
    today: date,
    due_soon_days: int,
    stale_days: int,
    limit: int,
) -> list[tuple[int | None, str, ItemRow, int]]:
    """The first `limit` items of every section of every report (per person), with totals."""
    due = _due()
    is_open = Item.status.in_(OPEN_STATUSES)
    stale_before = _start_of_day(today - timedelta(days=stale_days - 1))
    sections: dict[str, tuple[ColumnElement[bool], list[Any]]] = {
        "overdue": (and_(is_open, due < today), [due, Item.id]),
        "due_soon": (
            and_(is_open, due >= today, due <= today + timedelta(days=due_soon_days)),
            [due, Item.id],
        ),
        "stale": (
            and_(is_open, or_(Item.last_update_at.is_(None), Item.last_update_at < stale_before)),
            # Never updated first, then the longest silent.
            [Item.last_update_at.is_(None).desc(), Item.last_update_at, Item.id],
        ),
        # Sign-off or a later date asked for: the admins' move.
        "waiting_for_decision": (
            or_(Item.status == Status.AWAITING_SIGN_OFF.value, Item.requested_due_on.is_not(None)),
            [due.is_(None), due, Item.id],
        ),
        "unassigned": (and_(is_open, Item.owner_id.is_(None)), [due.is_(None), due, Item.id]),
    }
    owner = Person.__table__.alias("owner")
    selects = []
    for name, (condition, order) in sections.items():
        partition: list[Any] = [Item.report_id]
        audience: Any = _NO_PERSON
        if scope is not None:
            partition.insert(0, scope.c.person_id)
            audience = scope.c.person_id
        inner = select(
            audience.label("person_id"),
            literal(name).label("section"),
            *_item_columns(owner.c),
            func.row_number().over(partition_by=partition, order_by=order).label("position"),
            func.count().over(partition_by=partition).label("total"),
        ).select_from(Item)
        inner = inner.join(Report, Report.id == Item.report_id).outerjoin(owner, owner.c.id == Item.owner_id)
        if scope is not None:
            inner = inner.join(scope, scope.c.item_id == Item.id)
        if report_ids is not None:
            inner = inner.where(Item.report_id.in_(list(report_ids)))
        ranked = inner.where(condition).subquery(f"ranked_{name}")
        selects.append(select(ranked).where(ranked.c.position <= limit))
    rows = await session.execute(union_all(*selects))
    return [(row.person_id, row.section, _item_row(row), row.total) for row in rows]


def _into(audience: AudienceRows, section: str, row: ItemRow, total: int) -> None:
    current = audience.sections[row.report_id].get(section)
    if current is None:
        current = SectionRows(rows=[], total=total)
        audience.sections[row.report_id][section] = current
    current.rows.append(row)


async def _changes(
    session: AsyncSession, *, since: datetime, report_ids: Sequence[int] | None, scope: Any | None
) -> list[ChangeRow]:
    """Updates, governance events and new items since `since`, in one query per kind.

    `report_ids` None means every report; otherwise items of those reports, or in `scope`.
    """

    def within(query: Any) -> Any:
        if report_ids is None:
            return query
        conditions = [Item.report_id.in_(list(report_ids))]
        if scope is not None:
            conditions.append(Item.id.in_(select(scope.c.item_id)))
        return query.where(or_(*conditions))

    item_columns = [Item.id, Item.report_id, Report.code, Item.kind, Item.number, Item.title]
    # The previous status comes from the row before, which may be older than `since`: rank all
    # of an item's updates, then keep the recent ones.
    ordered = (
        within(
            select(
                Update.item_id,
                Update.created_at,
                Update.author_name,
                Update.status,
                Update.supersedes_id,
                func.lag(Update.status)
                .over(partition_by=Update.item_id, order_by=[Update.created_at, Update.id])
                .label("previous_status"),
            ).join(Item, Item.id == Update.item_id)
        )
    ).subquery("ordered_updates")
    updates: Any = await session.execute(
        select(*item_columns, ordered.c.created_at, ordered.c.author_name, ordered.c.status, ordered.c.previous_status)
        .join(Item, Item.id == ordered.c.item_id)
        .join(Report, Report.id == Item.report_id)
        .where(ordered.c.created_at >= since)
    )
    events: Any = await session.execute(
        within(
            select(*item_columns, ItemEvent.created_at, ItemEvent.actor_name, ItemEvent.kind)
            .join(Item, Item.id == ItemEvent.item_id)
            .join(Report, Report.id == Item.report_id)
            .where(ItemEvent.created_at >= since)
        )
    )
    created: Any = await session.execute(
        within(
            select(*item_columns, Item.created_at)
            .join(Report, Report.id == Item.report_id)
            .where(Item.created_at >= since)
        )
    )
    changes: list[ChangeRow] = []
    for item_id, report_id, code, kind, number, title, at, author, status, previous in updates:
        item = (item_id, report_id, code, kind, number)
        changes.append(ChangeRow(*item, "update", _aware(at), author, status, previous, title=title))  # type: ignore[arg-type]
    for item_id, report_id, code, kind, number, title, at, actor, event_kind in events:
        item = (item_id, report_id, code, kind, number)
        changes.append(ChangeRow(*item, "event", _aware(at), actor, event_kind=event_kind, title=title))  # type: ignore[arg-type]
    for item_id, report_id, code, kind, number, title, at in created:
        changes.append(ChangeRow(item_id, report_id, code, kind, number, "created", _aware(at), title=title))  # type: ignore[arg-type]
    changes.sort(key=lambda change: (change.at, change.item_id))
    return changes


async def digest_rows(
    session: AsyncSession,
    *,
    report_ids: Collection[int] | None,
    person_ids: Collection[int],
    since: datetime,
    today: date,
    stale_days: int,
    due_soon_days: int = 30,
    rag_stale_days: int = 60,
    limit: int = 5,
    include_everyone: bool = True,
) -> DigestRows:
    """The rows of every digest of one run, in at most eight statements however many there are.

    `report_ids` limits the report-wide view (None: every report); `person_ids` are the people
    with personal digests; `since` is the earliest "changes since" of any digest in the run
    (each digest filters the changes to its own). `include_everyone=False` skips the report-wide
    view when no channel digest is due.
    """
    report_list = None if report_ids is None else sorted(set(report_ids))
    people = sorted(set(person_ids))
    reports = {
        row.id: ReportRow(row.id, row.code, row.title)
        for row in await session.execute(select(Report.id, Report.code, Report.title).order_by(Report.id))
    }

    everyone = AudienceRows()
    if include_everyone:
        for _, count in await _counts(
            session,
            report_ids=report_list,
            scope=None,
            today=today,
            due_soon_days=due_soon_days,
            rag_stale_days=rag_stale_days,
        ):
            everyone.counts[count.report_id].append(count)
        for _, section, row, total in await _sections(
            session,
            report_ids=report_list,
            scope=None,
            today=today,
            due_soon_days=due_soon_days,
            stale_days=stale_days,
            limit=limit,
        ):
            _into(everyone, section, row, total)

    per_person: dict[int, AudienceRows] = {person_id: AudienceRows() for person_id in people}
    person_items: dict[int, set[int]] = {person_id: set() for person_id in people}
    if people:
        pairs = await session.execute(select(_scope(people)))
        for person_id, item_id in pairs:
            person_items[person_id].add(item_id)
        for person_id, count in await _counts(
            session,
            report_ids=None,
            scope=_scope(people),
            today=today,
            due_soon_days=due_soon_days,
            rag_stale_days=rag_stale_days,
        ):
            per_person[person_id].counts[count.report_id].append(count)  # type: ignore[index]
        for person_id, section, row, total in await _sections(
            session,
            report_ids=None,
            scope=_scope(people),
            today=today,
            due_soon_days=due_soon_days,
            stale_days=stale_days,
            limit=limit,
        ):
            _into(per_person[person_id], section, row, total)  # type: ignore[index]

    changes = await _changes(
        session,
        since=since,
        report_ids=report_list if include_everyone else [],
        scope=_scope(people) if people else None,
    )
    return DigestRows(
        reports=reports,
        everyone=everyone,
        people=per_person,
        person_items={person_id: frozenset(items) for person_id, items in person_items.items()},
        changes=changes,
    )


# --- nudges ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NudgeRow:
    """An open item with an owner whose reminders are on."""

    item: ItemRow
    owner_id: int
    owner_name: str
    teams_user_id: str | None


def _reminders_on(owner: Any, today: date) -> list[ColumnElement[bool]]:
    # A snooze "until" a date means reminders come back on that date. People without a Teams
    # user id cannot be messaged yet; they are picked up once they talk to the bot.
    return [
        owner.c.reminders_stopped.is_(False),
        or_(owner.c.reminders_snoozed_until.is_(None), owner.c.reminders_snoozed_until <= today),
        owner.c.teams_user_id.is_not(None),
    ]


async def nudge_owner_ids(session: AsyncSession, *, today: date) -> list[int]:
    """The owners of open items whose reminders are on and who can be messaged."""
    owner = Person.__table__.alias("owner")
    rows = await session.scalars(
        select(Item.owner_id)
        .join(owner, owner.c.id == Item.owner_id)
        .where(Item.status.in_(OPEN_STATUSES), *_reminders_on(owner, today))
        .distinct()
    )
    return sorted(rows.all())  # type: ignore[arg-type]


async def nudge_candidates(session: AsyncSession, *, today: date, owner_ids: Collection[int]) -> list[NudgeRow]:
    """The open items of these owners, if their reminders are on (not stopped, not snoozed)."""
    if not owner_ids:
        return []
    owner = Person.__table__.alias("owner")
    rows = await session.execute(
        select(*_item_columns(owner.c), owner.c.teams_user_id)
        .select_from(Item)
        .join(Report, Report.id == Item.report_id)
        .join(owner, owner.c.id == Item.owner_id)
        .where(Item.status.in_(OPEN_STATUSES), Item.owner_id.in_(list(owner_ids)), *_reminders_on(owner, today))
        .order_by(Item.owner_id, _due().is_(None), _due(), Item.id)
    )
    return [NudgeRow(_item_row(row), row.owner_id, row.owner_name or "there", row.teams_user_id) for row in rows]


async def set_reminders(session: AsyncSession, person_id: int, *, stopped: bool, snoozed_until: date | None) -> None:
    """Turn a person's nudges off, pause them until a date, or back on."""
    await session.execute(
        update(Person)
        .where(Person.id == person_id)
        .values(reminders_stopped=stopped, reminders_snoozed_until=snoozed_until)
    )


async def report_codes(session: AsyncSession, report_ids: Collection[int]) -> list[tuple[int, str]]:
    """(id, code) of these reports."""
    if not report_ids:
        return []
    rows = await session.execute(select(Report.id, Report.code).where(Report.id.in_(list(report_ids))))
    return [(report_id, code) for report_id, code in rows]
