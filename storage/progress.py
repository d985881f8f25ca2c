"""Progress on an item: append-only updates, corrections, due-date changes, closure decisions, history.

Every function takes a session and never commits: the caller owns the transaction. Writes that
change an item lock its row first, so concurrent writers queue up instead of losing a write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

from sqlalchemy import Select, bindparam, case, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, joinedload

from domain.vocabulary import Assessment, EventKind, Status
from storage.models import Item, ItemEvent, Person, Update, utcnow
from storage.ownership import activity_seen, actor_name, lock_item, write_once
from storage.rows import AnyItem
from storage.tracker import INITIAL_RESPONSE_AUTHOR, latest_update, latest_update_id

CORRECTION_WINDOW = timedelta(hours=24)
# What a lead may choose in an update; Closed and Superseded are admin decisions.
LEAD_STATUSES = (Status.NOT_STARTED, Status.IN_PROGRESS, Status.BLOCKED, Status.AWAITING_SIGN_OFF)
# Two rows of one item never share a timestamp, so "newest" is never a tie.
_TICK = timedelta(microseconds=1)


class ProgressError(Exception):
    """A progress change that the item's state does not allow; the message says why."""


class ItemNotOpen(ProgressError):
    """The item is Closed or Superseded: it takes no more updates or decisions."""


class NotAwaitingSignOff(ProgressError):
    """A closure decision on an item that nobody proposed as complete."""


class NotCorrectable(ProgressError):
    """The update to correct is not the author's own latest update of the last 24 hours."""


class ItemOpen(ProgressError):
    """Reopening an item that is not closed or superseded."""


class NoDateRequest(ProgressError):
    """Approving or rejecting a revised due date that nobody has asked for (or that was decided)."""


class InvalidUpdate(ProgressError):
    """A status or assessment outside the vocabulary, or a revised-date request without a reason."""


@dataclass(frozen=True)
class TimelineEntry:
    """One line of an item's history: who did what, when, with the text they typed."""

    at: datetime
    who: str
    what: str  # one line without dates: "Status: In progress → Blocked · at risk", "Owner set to Jane Doe"
    detail: str = ""  # the narrative or reason, exactly as typed
    kind: str = "update"  # "update", "correction", "response" (the force's, imported) or an EventKind value
    due_on: date | None = None  # the date a due-date change set, or the revised date a lead asked for
    reason: str | None = None  # why the lead asked for that revised date
    evidence_url: str | None = None
    superseded: bool = False  # a later correction replaced this update


async def update_for_activity(session: AsyncSession, activity_key: str | None) -> Update | None:
    """The update already recorded for this Teams activity, if any."""
    if activity_key is None:
        return None
    return await session.scalar(select(Update).where(Update.source_activity_key == activity_key))


def _correctable(latest: Update | None, person_id: int, now: datetime) -> bool:
    return latest is not None and latest.author_id == person_id and now - latest.created_at <= CORRECTION_WINDOW


async def correctable_update(session: AsyncSession, item_id: int, person_id: int, now: datetime) -> Update | None:
    """The person's own update that they may still correct: the item's latest, if theirs and under 24 hours old."""
    latest = await latest_update(session, item_id)
    return latest if latest is not None and _correctable(latest, person_id, now) else None


async def record_update(
    session: AsyncSession,
    item: Item,
    *,
    status: str,
    assessment: str,
    narrative: str,
    author: Person,
    activity_key: str | None,
    evidence_url: str | None = None,
    revised_due_on: date | None = None,
    revised_due_reason: str | None = None,
    supersedes_id: int | None = None,
    now: datetime | None = None,
) -> tuple[Update, bool]:
    """Append one update and refresh the item's cached state; (the row, True) if the activity was already recorded.

    `item` is locked already (`lock_item`, in this transaction): concurrent writers of one item queue
    there, and each then reads the rows its predecessors committed (duplicates included). The same
    activity recorded on another item at the same moment fails the transaction with IntegrityError
    (the unique activity key): the caller runs it again, and then finds that record."""
    if status not in {s.value for s in LEAD_STATUSES}:
        raise InvalidUpdate(f"{status!r} is not a status a lead can choose")
    if assessment not in {a.value for a in Assessment}:
        raise InvalidUpdate(f"{assessment!r} is not an assessment")
    if revised_due_on is not None and not (revised_due_reason or "").strip():
        raise InvalidUpdate("a revised due date request needs a reason")
    existing = await update_for_activity(session, activity_key)
    if existing is not None:
        return existing, True
    if not Status(item.status).is_open:
        raise ItemNotOpen(f"{item.label} is {item.status}")
    now = now or utcnow()
    latest = await latest_update(session, item.id)
    if supersedes_id is not None and (
        latest is None or latest.id != supersedes_id or not _correctable(latest, author.id, now)
    ):
        raise NotCorrectable("only your own latest update can be corrected, within 24 hours")
    created_at = now if latest is None or now > latest.created_at else latest.created_at + _TICK
    row = Update(
        item_id=item.id,
        created_at=created_at,
        author_id=author.id,
        author_name=actor_name(author),
        status=status,
        assessment=assessment,
        narrative=narrative,
        evidence_url=evidence_url,
        revised_due_on=revised_due_on,
        revised_due_reason=revised_due_reason,
        supersedes_id=supersedes_id,
        source_activity_key=activity_key,
    )
    session.add(row)
    item.status = status
    item.assessment = assessment
    item.last_update_at = created_at
    await session.flush()
    if revised_due_on is not None:
        item.requested_due_on, item.requested_due_update_id = revised_due_on, row.id
    elif supersedes_id is not None and item.requested_due_update_id == supersedes_id:
        # The corrected update no longer asks for a later date.
        item.requested_due_on = item.requested_due_update_id = None
    return row, False


async def set_due_date(
    session: AsyncSession, item: Item, admin: Person, due_on: date, reason: str, activity_key: str | None
) -> bool:
    """Set the item's revised due date, keeping the change as an event; False when this activity already did."""
    if not reason.strip():
        raise InvalidUpdate("a due date change needs a reason")

    def apply() -> None:
        # An admin setting the date also settles any date a lead asked for.
        item.revised_due_on = due_on
        item.requested_due_on = item.requested_due_update_id = None

    event = ItemEvent(
        item_id=item.id,
        actor_id=admin.id,
        actor_name=actor_name(admin),
        kind=EventKind.DUE_DATE_CHANGED.value,
        due_on=due_on,
        detail=reason,
        source_activity_key=activity_key,
    )
    return await write_once(session, event, apply, touched=[item])


async def set_title(session: AsyncSession, item: Item, admin: Person, title: str, activity_key: str | None) -> bool:
    """Give the item a new title, keeping the old and the new in an event; False when this activity already did."""
    # Locked before the old title is read, so two renames at once each record what they replaced.
    locked = await lock_item(session, item.id)
    previous = locked.title

    def apply() -> None:
        locked.title = title

    event = ItemEvent(
        item_id=locked.id,
        actor_id=admin.id,
        actor_name=actor_name(admin),
        kind=EventKind.TITLE_CHANGED.value,
        detail=f'From "{previous}" to "{title}"' if previous else f'To "{title}"',
        source_activity_key=activity_key,
    )
    return await write_once(session, event, apply, touched=[locked])


async def _decide(
    session: AsyncSession,
    item: Item,
    admin: Person,
    activity_key: str | None,
    *,
    kind: EventKind,
    new_status: Status,
    detail: str,
    required: Status | None,
) -> bool:
    # Lock first: a redelivered decision handled by another instance is then seen as done (its
    # event committed before our lock was granted), which is success, not a wrong state.
    locked = await lock_item(session, item.id)
    if await activity_seen(session, activity_key):
        return False
    if required is not None and locked.status != required.value:
        raise NotAwaitingSignOff(f"{locked.label} is {locked.status}, not {required.value}")
    if not Status(locked.status).is_open:
        raise ItemNotOpen(f"{locked.label} is {locked.status}")

    def apply() -> None:
        locked.status = new_status.value
        if not new_status.is_open:
            # A closed or superseded item needs no later date.
            locked.requested_due_on = locked.requested_due_update_id = None

    event = ItemEvent(
        item_id=locked.id,
        actor_id=admin.id,
        actor_name=actor_name(admin),
        kind=kind.value,
        detail=detail,
        source_activity_key=activity_key,
    )
    return await write_once(session, event, apply, touched=[locked])


async def decide_due_date(
    session: AsyncSession, item: Item, admin: Person, reason: str | None, activity_key: str | None, *, approve: bool
) -> Update | None:
    """Approve or reject the item's pending revised-date request; the request's update, or None when
    this activity already decided it. Raises NoDateRequest when nothing is pending."""
    locked = await lock_item(session, item.id)
    if await activity_seen(session, activity_key):
        return None
    request = await session.get(Update, locked.requested_due_update_id) if locked.requested_due_update_id else None
    if request is None or locked.requested_due_on is None:
        raise NoDateRequest(f"{locked.label} has no revised due date waiting for a decision")
    if not approve and not (reason or "").strip():
        raise InvalidUpdate("rejecting a revised due date needs a reason")
    requested_on = locked.requested_due_on

    def apply() -> None:
        if approve:
            locked.revised_due_on = requested_on
        locked.requested_due_on = locked.requested_due_update_id = None

    event = ItemEvent(
        item_id=locked.id,
        actor_id=admin.id,
        actor_name=actor_name(admin),
        kind=(EventKind.DUE_DATE_APPROVED if approve else EventKind.DUE_DATE_REJECTED).value,
        subject_id=request.author_id,
        due_on=requested_on,
        detail=(request.revised_due_reason or "") if approve else (reason or ""),
        source_activity_key=activity_key,
    )
    return request if await write_once(session, event, apply, touched=[locked]) else None


async def approve_closure(session: AsyncSession, item: Item, admin: Person, activity_key: str | None) -> bool:
    """Close an item awaiting sign-off; False when this activity already did."""
    return await _decide(
        session,
        item,
        admin,
        activity_key,
        kind=EventKind.CLOSURE_APPROVED,
        new_status=Status.CLOSED,
        detail="",
        required=Status.AWAITING_SIGN_OFF,
    )


async def reject_closure(
    session: AsyncSession, item: Item, admin: Person, reason: str, activity_key: str | None
) -> bool:
    """Send an item awaiting sign-off back to In progress with the reason; False when this activity already did."""
    if not reason.strip():
        raise InvalidUpdate("rejecting a closure needs a reason")
    return await _decide(
        session,
        item,
        admin,
        activity_key,
        kind=EventKind.CLOSURE_REJECTED,
        new_status=Status.IN_PROGRESS,
        detail=reason,
        required=Status.AWAITING_SIGN_OFF,
    )


async def supersede(session: AsyncSession, item: Item, admin: Person, reason: str, activity_key: str | None) -> bool:
    """Mark an open item Superseded (an admin decision); False when this activity already did."""
    return await _decide(
        session,
        item,
        admin,
        activity_key,
        kind=EventKind.SUPERSEDED,
        new_status=Status.SUPERSEDED,
        detail=reason,
        required=None,
    )


async def reopen(session: AsyncSession, item: Item, admin: Person, reason: str, activity_key: str | None) -> bool:
    """Put a closed or superseded item back In progress, keeping the reason; False when this activity already did."""
    if not reason.strip():
        raise InvalidUpdate("reopening an item needs a reason")
    locked = await lock_item(session, item.id)
    if await activity_seen(session, activity_key):
        return False
    if Status(locked.status).is_open:
        raise ItemOpen(f"{locked.label} is {locked.status}, not closed")

    def apply() -> None:
        locked.status = Status.IN_PROGRESS.value

    event = ItemEvent(
        item_id=locked.id,
        actor_id=admin.id,
        actor_name=actor_name(admin),
        kind=EventKind.REOPENED.value,
        detail=reason,
        source_activity_key=activity_key,
    )
    return await write_once(session, event, apply, touched=[locked])


# --- requests waiting for an admin -------------------------------------------------------------


@dataclass(frozen=True)
class PendingRequest:
    item: Item  # report and owner loaded
    update: Update  # the update that asks
    closure: bool  # sign-off; else the later date in `update`


async def pending_requests(
    session: AsyncSession, *, concerning: int | None = None, limit: int = 50
) -> tuple[list[PendingRequest], int]:
    """Sign-offs and later dates waiting for an admin, oldest first, and how many there are in all.

    `concerning` keeps those on items the person owns or asked about. One query, plus one for an
    item whose later date was asked in an earlier update than its sign-off.
    """
    closure = Item.status == Status.AWAITING_SIGN_OFF.value
    query = (
        select(Item, Update)
        .join(Update, Update.id == case((closure, latest_update_id()), else_=Item.requested_due_update_id))
        .options(joinedload(Item.report), joinedload(Item.owner))
        .where(closure | Item.requested_due_update_id.is_not(None))
    )
    if concerning is not None:
        query = query.where((Item.owner_id == concerning) | (Update.author_id == concerning))
    rows = (await session.execute(query.order_by(Update.created_at, Item.id))).unique().all()
    requests: list[PendingRequest] = []
    for item, asking in rows:
        if item.status == Status.AWAITING_SIGN_OFF.value:
            requests.append(PendingRequest(item, asking, closure=True))
        if item.requested_due_update_id is not None:
            # Usually the same update; a later date may have been asked in an earlier one.
            dated = (
                asking
                if asking.id == item.requested_due_update_id
                else await session.get(Update, item.requested_due_update_id)
            )
            if dated is not None:
                requests.append(PendingRequest(item, dated, closure=False))
    return requests[:limit], len(requests)


_DATE_DECISIONS = (
    EventKind.DUE_DATE_APPROVED.value,
    EventKind.DUE_DATE_REJECTED.value,
    EventKind.DUE_DATE_CHANGED.value,
)
_CLOSURE_DECISIONS = (EventKind.CLOSURE_APPROVED.value, EventKind.CLOSURE_REJECTED.value, EventKind.SUPERSEDED.value)


async def decision_on(session: AsyncSession, request: Update, *, closure: bool) -> ItemEvent | None:
    """The admin's decision that settled a request (sign-off or a later date), None while it waits.

    The first decision of its kind after the request; an admin setting the date themselves, or
    marking the item superseded, settles it too.
    """
    kinds = _CLOSURE_DECISIONS if closure else _DATE_DECISIONS
    return await session.scalar(
        select(ItemEvent)
        .where(
            ItemEvent.item_id == request.item_id,
            ItemEvent.kind.in_(kinds),
            ItemEvent.created_at >= request.created_at,
        )
        .order_by(ItemEvent.created_at, ItemEvent.id)
        .limit(1)
    )


@cache
def _latest_event_query(kinds: tuple[str, ...]) -> Select[ItemEvent]:
    # Built once per call site's kinds, each a parameter with its value in the statement: an expanding
    # IN would make SQLAlchemy render the statement again on every execution.
    return (
        select(ItemEvent)
        .where(ItemEvent.item_id == bindparam("item_id"), or_(*(ItemEvent.kind == literal(kind) for kind in kinds)))
        .order_by(ItemEvent.created_at.desc(), ItemEvent.id.desc())
        .limit(1)
    )


async def _latest_event(session: AsyncSession, item_id: int, kinds: tuple[str, ...]) -> ItemEvent | None:
    return await session.scalar(_latest_event_query(kinds), {"item_id": item_id})


async def closed_by(session: AsyncSession, item: AnyItem) -> ItemEvent | None:
    """The decision that closed or superseded the item (None while it is open)."""
    if Status(item.status).is_open:
        return None
    return await _latest_event(session, item.id, (EventKind.CLOSURE_APPROVED.value, EventKind.SUPERSEDED.value))


async def revised_by(session: AsyncSession, item: AnyItem) -> ItemEvent | None:
    """The decision that set the item's revised due date (approved request or an admin's change)."""
    if item.revised_due_on is None:
        return None
    return await _latest_event(session, item.id, (EventKind.DUE_DATE_APPROVED.value, EventKind.DUE_DATE_CHANGED.value))


# --- history ---------------------------------------------------------------------------------

# After these decisions the item's status is known without an update row.
_STATUS_AFTER = {
    EventKind.CLOSURE_APPROVED.value: Status.CLOSED.value,
    EventKind.CLOSURE_REJECTED.value: Status.IN_PROGRESS.value,
    EventKind.SUPERSEDED.value: Status.SUPERSEDED.value,
    EventKind.REOPENED.value: Status.IN_PROGRESS.value,
}


def _is_response(row: Update) -> bool:
    """The force's own response, imported with the report (not an update anyone posted)."""
    return row.author_id is None and row.author_name == INITIAL_RESPONSE_AUTHOR


def _update_kind(row: Update) -> str:
    return "correction" if row.supersedes_id is not None else "response" if _is_response(row) else "update"


async def initial_response(session: AsyncSession, item_id: int) -> Update | None:
    """The force's response to the item, as imported with the report (None when the document gave none)."""
    return await session.scalar(
        select(Update)
        .where(Update.item_id == item_id, Update.author_id.is_(None), Update.author_name == INITIAL_RESPONSE_AUTHOR)
        .order_by(Update.created_at, Update.id)
        .limit(1)
    )


def _update_headline(row: Update, previous_status: str | None) -> str:
    if row.supersedes_id is not None:
        prefix = "Correction"
    elif _is_response(row):
        prefix = "Initial response"
    else:
        prefix = "Update"
    if previous_status is not None and previous_status != row.status:
        state = f"Status: {previous_status} → {row.status}"
    else:
        state = row.status
    parts = [prefix, state] + ([row.assessment] if row.assessment else [])
    return " · ".join(parts)


def _event_headline(event: ItemEvent, subject: str | None) -> str:
    who = subject or "someone"
    headlines = {
        EventKind.ASSIGNED.value: f"Owner set to {who}",
        EventKind.DELEGATE_ADDED.value: f"Delegate added: {who}",
        EventKind.DELEGATE_REMOVED.value: f"Delegate removed: {who}",
        EventKind.DUE_DATE_CHANGED.value: "Revised due date set",
        EventKind.DUE_DATE_APPROVED.value: f"Revised due date approved (asked by {who})",
        EventKind.DUE_DATE_REJECTED.value: f"Revised due date not approved (asked by {who})",
        EventKind.CLOSURE_APPROVED.value: f"Closure approved · {Status.CLOSED.value}",
        EventKind.CLOSURE_REJECTED.value: f"Closure rejected · back to {Status.IN_PROGRESS.value}",
        EventKind.SUPERSEDED.value: f"Marked {Status.SUPERSEDED.value}",
        EventKind.REOPENED.value: f"Reopened · {Status.IN_PROGRESS.value}",
        EventKind.NOTIFIED.value: f"Notice to {who}",
    }
    return headlines.get(event.kind, event.kind.capitalize())


async def history(session: AsyncSession, item_id: int) -> list[TimelineEntry]:
    """Every update and governance event of an item, oldest first, from two queries."""
    rows = (await session.scalars(select(Update).where(Update.item_id == item_id))).all()
    subject = aliased(Person)
    events = (
        await session.execute(
            select(ItemEvent, subject)
            .outerjoin(subject, ItemEvent.subject_id == subject.id)
            .where(ItemEvent.item_id == item_id)
        )
    ).all()
    superseded_ids = {row.supersedes_id for row in rows if row.supersedes_id is not None}
    # Merge in time order; on a tie, updates before events, then by id (insertion order).
    merged: list[tuple[datetime, int, int, Update | tuple[ItemEvent, Person | None]]] = [
        (row.created_at, 0, row.id, row) for row in rows
    ]
    merged += [(event.created_at, 1, event.id, (event, person)) for event, person in events]
    merged.sort(key=lambda entry: entry[:3])

    entries: list[TimelineEntry] = []
    current_status: str | None = None
    for at, _, _, source in merged:
        if isinstance(source, Update):
            superseded = source.id in superseded_ids
            entries.append(
                TimelineEntry(
                    at=at,
                    who=source.author_name,
                    what=_update_headline(source, current_status),
                    detail=source.narrative,
                    kind=_update_kind(source),
                    due_on=source.revised_due_on,
                    reason=source.revised_due_reason,
                    evidence_url=source.evidence_url,
                    superseded=superseded,
                )
            )
            # A superseded update no longer counts: its correction compares with what came before it.
            if not superseded:
                current_status = source.status
        else:
            event, person = source
            entries.append(
                TimelineEntry(
                    at=at,
                    who=event.actor_name,
                    what=_event_headline(event, person.display_name if person else None),
                    detail=event.detail or "",
                    kind=event.kind,
                    due_on=event.due_on,
                )
            )
            current_status = _STATUS_AFTER.get(event.kind, current_status)
    return entries
