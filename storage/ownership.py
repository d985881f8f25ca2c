"""Who owns an item, who may post updates for it, and who is an admin.

Every function takes a session and never commits: the caller owns the transaction. Changes that
come from a Teams activity write an `ItemEvent` carrying the activity id, so a redelivered
activity changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import cache

from sqlalchemy import (
    ColumnExpressionArgument,
    Label,
    Select,
    String,
    and_,
    bindparam,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.elements import ColumnElement

from domain.vocabulary import EventKind
from storage.models import AdminEvent, Delegate, Item, ItemEvent, Person, Report
from storage.rows import AnyItem


class ItemNotFound(Exception):
    """The item to change does not exist (any more)."""


async def lock_item(session: AsyncSession, item_id: int) -> Item:
    """The item, re-read under a row lock held until the transaction ends; every item change takes it first."""
    if session.get_bind().dialect.name == "sqlite":
        # pysqlite begins a transaction only at the first write, SQLite ignores FOR UPDATE, and a
        # SAVEPOINT opened outside a transaction commits on release: a no-op UPDATE opens the
        # transaction and takes the database write lock now (waiting its turn), before we read.
        await session.execute(update(Item).where(Item.id == item_id).values(status=Item.status))
    # Re-populating the loaded item would unload its relationships: load them again, but lock
    # only the item row (PostgreSQL refuses FOR UPDATE on the nullable side of an outer join).
    item = await session.scalar(
        select(Item)
        .options(joinedload(Item.report), joinedload(Item.owner))
        .where(Item.id == item_id)
        .with_for_update(of=Item)
        .execution_options(populate_existing=True)
    )
    if item is None:
        raise ItemNotFound(f"item {item_id} does not exist")
    return item


def actor_name(person: Person) -> str:
    """The name recorded on events and updates for `person`."""
    return person.display_name


def _event_about(person: Person, item: Item, actor: Person, kind: EventKind, activity_key: str | None) -> ItemEvent:
    """The event of `actor` doing `kind` to `person` on `item` (assigning, adding or removing a delegate)."""
    return ItemEvent(
        item_id=item.id,
        actor_id=actor.id,
        actor_name=actor_name(actor),
        kind=kind.value,
        subject_id=person.id,
        source_activity_key=activity_key,
    )


async def activity_seen(session: AsyncSession, activity_key: str | None) -> bool:
    """True when an item event was already written for this Teams activity."""
    if activity_key is None:
        return False
    found = await session.scalar(select(ItemEvent.id).where(ItemEvent.source_activity_key == activity_key))
    return found is not None


async def write_once(
    session: AsyncSession,
    event: ItemEvent,
    apply: Callable[[], None] = lambda: None,
    *,
    touched: Iterable[object] = (),
) -> bool:
    """Apply a change and write its event in one SAVEPOINT; False (nothing changed) if the activity already did.

    `touched` lists the loaded objects `apply` changes: after a rolled-back SAVEPOINT they are
    reloaded, because SQLAlchemy expires them and an async session cannot lazy-load.
    """
    await lock_item(session, event.item_id)
    if await activity_seen(session, event.source_activity_key):
        return False
    try:
        async with session.begin_nested():
            apply()
            session.add(event)
            await session.flush()
    except IntegrityError:
        # Another instance handled the same redelivered activity between our check and our write.
        for instance in touched:
            await session.refresh(instance)
        return False
    return True


async def assign_owner(
    session: AsyncSession, item: Item, person: Person, actor: Person, activity_key: str | None
) -> ItemEvent | None:
    """Make `person` the owner of `item`; its event, or None when this activity had already done it."""

    def apply() -> None:
        item.owner_id = person.id

    event = _event_about(person, item, actor, EventKind.ASSIGNED, activity_key)
    if not await write_once(session, event, apply, touched=[item]):
        return None
    # Keep the loaded relationship in step, so a card built from `item` names the new owner.
    await session.refresh(item, ["owner"])
    return event


async def is_delegate(session: AsyncSession, item_id: int, person_id: int) -> bool:
    """True when the person is a delegate on the item."""
    return await session.get(Delegate, (item_id, person_id)) is not None


async def add_delegate(
    session: AsyncSession, item: Item, person: Person, actor: Person, activity_key: str | None
) -> ItemEvent | None:
    """Let `person` post updates for `item`; its event, or None when they already could (or this activity did it)."""
    if await is_delegate(session, item.id, person.id):
        return None
    event = _event_about(person, item, actor, EventKind.DELEGATE_ADDED, activity_key)
    added = await write_once(session, event, lambda: session.add(Delegate(item_id=item.id, person_id=person.id)))
    return event if added else None


async def remove_delegate(
    session: AsyncSession, item: Item, person: Person, actor: Person, activity_key: str | None
) -> bool:
    """Stop `person` posting updates for `item`; False when they were not a delegate."""
    delegate = await session.get(Delegate, (item.id, person.id))
    if delegate is None:
        return False
    event = _event_about(person, item, actor, EventKind.DELEGATE_REMOVED, activity_key)
    await lock_item(session, item.id)
    if await activity_seen(session, activity_key):
        return False
    try:
        async with session.begin_nested():
            await session.delete(delegate)
            session.add(event)
            await session.flush()
    except IntegrityError:
        return False
    return True


async def grant_admin(session: AsyncSession, person: Person, actor: Person) -> bool:
    """Make `person` an admin, keeping who did it; False when they already were."""
    if person.is_admin:
        return False
    person.is_admin = True
    session.add(
        AdminEvent(
            actor_id=actor.id, actor_name=actor_name(actor), kind=EventKind.ADMIN_GRANTED.value, subject_id=person.id
        )
    )
    await session.flush()
    return True


async def revoke_admin(session: AsyncSession, person: Person, actor: Person) -> bool:
    """Take admin rights from `person`, keeping who did it; False when they had none stored."""
    if not person.is_admin:
        return False
    person.is_admin = False
    session.add(
        AdminEvent(
            actor_id=actor.id, actor_name=actor_name(actor), kind=EventKind.ADMIN_REVOKED.value, subject_id=person.id
        )
    )
    await session.flush()
    return True


async def admin_history(session: AsyncSession, limit: int) -> tuple[list[tuple[AdminEvent, Person]], int]:
    """The newest admin grants and revocations with the person concerned, and how many there are."""
    total = await session.scalar(select(func.count(AdminEvent.id))) or 0
    rows = await session.execute(
        select(AdminEvent, Person)
        .join(Person, Person.id == AdminEvent.subject_id)
        .order_by(AdminEvent.created_at.desc(), AdminEvent.id.desc())
        .limit(limit)
    )
    return [(event, person) for event, person in rows], total


async def lock_admins(session: AsyncSession) -> None:
    """Lock the set of admins until the transaction ends, so that changes to it queue up."""
    if session.get_bind().dialect.name == "sqlite":
        # As in lock_item: a no-op write takes SQLite's database write lock now, in turn.
        await session.execute(update(Person).where(Person.is_admin.is_(True)).values(is_admin=Person.is_admin))
        return
    await session.execute(select(Person.id).where(Person.is_admin.is_(True)).with_for_update())


async def reload_person(session: AsyncSession, person_id: int) -> Person | None:
    """The person as stored now (not as this session last saw them)."""
    return await session.scalar(select(Person).where(Person.id == person_id).execution_options(populate_existing=True))


async def admins(session: AsyncSession, bootstrap: Sequence[str] = ()) -> Sequence[Person]:
    """The known admins: people flagged in the database plus those named in RECBOT_ADMINS (by e-mail or object id)."""
    named = named_admins(bootstrap)
    conditions = [Person.is_admin.is_(True)]
    if named:
        conditions += [func.lower(Person.email).in_(named), func.lower(Person.aad_object_id).in_(named)]
    return (await session.scalars(select(Person).where(or_(*conditions)).order_by(Person.name, Person.email))).all()


# How a bootstrap admin may be named in RECBOT_ADMINS: e-mail or Entra object id, compared lower-cased.
_ADDRESSES = (func.lower(Person.email), func.lower(Person.aad_object_id))


def _may_act(
    item_id: ColumnExpressionArgument[int], owner_id: ColumnExpressionArgument[int | None], named: tuple[str, ...]
) -> ColumnElement[bool]:
    """People with a Teams id who may act on the item: its owner, its delegates, admins, and the
    bootstrap admins `named` by e-mail or Entra object id (lower-cased)."""
    # The addresses are fixed for the process (RECBOT_ADMINS), so each is a parameter of its own
    # with its value in the statement: an expanding IN would make SQLAlchemy render the statement
    # again on every execution (a twentieth of a status question's CPU on PostgreSQL).
    by_address = [column == literal(address) for address in named for column in _ADDRESSES]
    return and_(
        Person.teams_user_id.is_not(None),
        or_(
            Person.is_admin.is_(True),
            Person.id.in_(select(Delegate.person_id).where(Delegate.item_id == item_id).correlate_except(Delegate)),
            Person.id == owner_id,
            *by_address,
        ),
    )


# The same people as one column of an item query: "id:teams id" records, in no particular order.
_RECORD = "\x1e"
_SEPARATOR = literal_column(f"'{_RECORD}'", String)


@cache
def acting_column(named: tuple[str, ...]) -> Label[str]:
    """Who may act on the enclosing query's item, as one column (`read_acting` reads it); built once
    per list of bootstrap admins (`named_admins`)."""
    # The separator is SQL text: as a parameter, aggregate_strings has SQLAlchemy render it into the
    # statement again on every execution ("literal_execute"), ~80 µs of a status question on PostgreSQL.
    records = func.aggregate_strings(cast(Person.id, String).concat(":").concat(Person.teams_user_id), _SEPARATOR)  # type: ignore[arg-type]
    return (
        select(records).where(_may_act(Item.id, Item.owner_id, named)).correlate(Item).scalar_subquery().label("acting")
    )


@cache
def _acting_people(named: tuple[str, ...]) -> Select[int, str | None]:
    # Built once: a status question runs this on every card; building it each time was a tenth of the turn's CPU.
    return (
        select(Person.id, Person.teams_user_id)
        .where(_may_act(bindparam("item_id"), bindparam("owner_id"), named))
        .order_by(Person.id)
    )


def named_admins(bootstrap: Sequence[str]) -> tuple[str, ...]:
    """Bootstrap admins' addresses (RECBOT_ADMINS), lower-cased, as the statements here take them."""
    return tuple(value.lower() for value in bootstrap if value)


def read_acting(column: str | None) -> list[tuple[int, str]]:
    """`acting_column`'s value as `acting_people` gives it: (person id, Teams user id), by person id.

    A Teams id holding the record separator (never seen; ids are opaque) loses its tail, not its person."""
    people = []
    for record in (column or "").split(_RECORD):
        person_id, _, teams_id = record.partition(":")
        if person_id.isdigit() and teams_id:
            people.append((int(person_id), teams_id))
    return sorted(people)


async def acting_people(session: AsyncSession, item: AnyItem, bootstrap: Sequence[str] = ()) -> list[tuple[int, str]]:
    """(person id, Teams user id) of everyone who may act on the item: owner, delegates and admins.

    One query; people who have never talked to the bot (no Teams user id yet) are left out.
    """
    parameters = {"item_id": item.id, "owner_id": item.owner_id}
    rows = await session.execute(_acting_people(named_admins(bootstrap)), parameters)
    return [(person_id, teams_id) for person_id, teams_id in rows if teams_id is not None]


async def leads_anything(session: AsyncSession, person_id: int) -> bool:
    """True when the person owns an item or is a delegate on one."""
    owns = select(Item.id).where(Item.owner_id == person_id)
    delegates = select(Delegate.item_id).where(Delegate.person_id == person_id)
    return bool(await session.scalar(select(owns.union_all(delegates).exists())))


async def may_update(session: AsyncSession, item: Item, person_id: int, is_admin: bool) -> bool:
    """True when the person may post updates for the item: its owner, a delegate or an admin."""
    if is_admin or item.owner_id == person_id:
        return True
    return await is_delegate(session, item.id, person_id)


async def delegates_of(session: AsyncSession, item_id: int) -> list[Person]:
    """The delegates of an item, in the order they were added."""
    query = (
        select(Person)
        .join(Delegate, Delegate.person_id == Person.id)
        .where(Delegate.item_id == item_id)
        .order_by(Delegate.created_at, Person.id)
    )
    return list((await session.scalars(query)).all())


async def items_followed_by(session: AsyncSession, person_id: int) -> Sequence[Item]:
    """The items a person owns or is a delegate on (report and owner loaded), by report and number."""
    delegated = select(Delegate.item_id).where(Delegate.person_id == person_id)
    query = (
        select(Item)
        .options(joinedload(Item.report), joinedload(Item.owner))
        .join(Report, Item.report_id == Report.id)
        .where(or_(Item.owner_id == person_id, Item.id.in_(delegated)))
        .order_by(Report.published_on, Report.id, Item.kind, Item.number)
    )
    return (await session.scalars(query)).unique().all()


async def person_for_mention(
    session: AsyncSession,
    *,
    tenant_id: str | None,
    teams_user_id: str | None,
    aad_object_id: str | None,
    name: str | None,
) -> Person:
    """The person an @mention names, found by (tenant, Entra object id) or Teams user id, created when new."""
    person: Person | None = None
    if aad_object_id:
        person = await session.scalar(
            select(Person).where(Person.tenant_id == tenant_id, Person.aad_object_id == aad_object_id)
        )
    if person is None and teams_user_id:
        # Teams often leaves the object id out of a mention: the Teams user id finds them then.
        same_tenant = or_(Person.tenant_id == tenant_id, Person.tenant_id.is_(None))
        unclaimed = (
            Person.aad_object_id.is_(None)
            if not aad_object_id
            else or_(Person.aad_object_id.is_(None), Person.aad_object_id == aad_object_id)
        )
        person = await session.scalar(
            select(Person)
            .where(Person.teams_user_id == teams_user_id, same_tenant, unclaimed)
            .order_by(Person.id)
            .limit(1)
        )
    if person is None:
        person = Person()
        session.add(person)
    if aad_object_id and not person.aad_object_id:
        person.tenant_id, person.aad_object_id = tenant_id, aad_object_id
    if teams_user_id and not person.teams_user_id:
        person.teams_user_id = teams_user_id
    # A mention carries the display name Teams shows: better than none, never overwrite a known one.
    if name and not person.name:
        person.name = name
    await session.flush()
    return person
