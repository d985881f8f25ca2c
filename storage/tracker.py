"""Queries and commands on reports, items, updates, people and conversations.

Every function takes a session (`*, session` style: the caller owns the transaction).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple, TypeVar, cast

from sqlalchemy import Select, Table, bindparam, delete, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import contains_eager, joinedload

from domain.records import ItemRecord, ReportRecord
from domain.titles import item_titles
from domain.vocabulary import EventKind, Kind, Status
from storage import ownership
from storage.driver_select import DriverSelect
from storage.models import (
    ConversationRef,
    Delegate,
    Delivery,
    DigestSubscription,
    Item,
    ItemEvent,
    Person,
    Report,
    Update,
    utcnow,
)
from storage.rows import ROW_COLUMNS, ItemRow, UpdateRow, read_row
from storage.state import StateAlong

INITIAL_RESPONSE_AUTHOR = "PCC response"


@dataclass(frozen=True)
class ImportOutcome:
    report: Report
    created: bool
    items_added: int


def _items_query() -> Select[Item]:
    return select(Item).options(joinedload(Item.report), joinedload(Item.owner))


async def _unique_code(session: AsyncSession, wanted: str) -> str:
    """`wanted`, or `wanted-2`, `wanted-3`…: codes are unique without regard to case."""
    rows = await session.scalars(
        select(func.upper(Report.code)).where(func.upper(Report.code).startswith(wanted.upper(), autoescape=True))
    )
    taken = set(rows.all())
    if wanted.upper() not in taken:
        return wanted
    suffix = 2
    while f"{wanted}-{suffix}".upper() in taken:
        suffix += 1
    return f"{wanted}-{suffix}"


async def person_by_email(session: AsyncSession, email: str, *, create: bool = True) -> Person | None:
    """The person with this e-mail address (case-insensitive), created when asked and missing."""
    email = _normal_email(email)
    person = await session.scalar(select(Person).where(Person.email == email))
    if person is None and create:
        person = Person(email=email)
        session.add(person)
        await session.flush()
    return person


# Rows per INSERT and addresses per IN (…): a dozen columns a row stays far below the bound
# parameters one statement may carry (32,766 on SQLite, 32,767 on PostgreSQL).
_CHUNK_ROWS = 1000
_Row = TypeVar("_Row")
# Imports write through the tables (Core), not the mapped classes: the ORM's bulk INSERT spent
# more time turning rows into parameters than the database spent storing them. Column defaults
# (`created_at`, `status`, `is_admin`…) apply all the same.
_ITEMS = cast(Table, Item.__table__)
_UPDATES = cast(Table, Update.__table__)
_PEOPLE = cast(Table, Person.__table__)


def _chunks(values: Sequence[_Row]) -> Iterator[Sequence[_Row]]:
    for start in range(0, len(values), _CHUNK_ROWS):
        yield values[start : start + _CHUNK_ROWS]


def _normal_email(email: str) -> str:
    return email.strip().lower()


async def _people_by_email(session: AsyncSession, emails: Sequence[str]) -> dict[str, int]:
    """The id of each person with these (normalised) e-mail addresses; those missing are created, in order."""
    wanted = list(dict.fromkeys(emails))
    ids: dict[str, int] = {}
    for chunk in _chunks(wanted):
        found = await session.execute(select(Person.email, Person.id).where(Person.email.in_(chunk)))
        ids.update((email, person_id) for email, person_id in found if email is not None)
    missing = [email for email in wanted if email not in ids]
    for chunk in _chunks(missing):
        inserted = await session.execute(
            insert(_PEOPLE).returning(Person.email, Person.id), [{"email": email} for email in chunk]
        )
        ids.update((email, person_id) for email, person_id in inserted if email is not None)
    return ids


async def stored_report(session: AsyncSession, record: ReportRecord) -> tuple[Report, bool]:
    """The report a parsed one is (same title and publication date), stored now if it is new; True when it was."""
    report = await session.scalar(
        select(Report).where(Report.title == record.title, Report.published_on == record.published_on)
    )
    if report is not None:
        return report, False
    report = Report(
        code=await _unique_code(session, record.code),
        title=record.title,
        published_on=record.published_on,
        inspection_type=record.inspection_type,
        source_name=record.source_name,
        response_label=record.response_label,
        summary=record.summary,
        commissioner_statement=record.commissioner_statement,
        scope=record.scope,
        force_specific=record.force_specific,
    )
    session.add(report)
    await session.flush()
    return report, True


async def refresh_statistics(engine: AsyncEngine) -> None:
    """Have PostgreSQL read again what the tables an import fills hold, once the import is committed.

    Until autovacuum catches up (a minute or so), the planner's statistics describe the tables as
    they were: status questions were then planned to hash every row of `updates` instead of using
    the item's index (0.1 ms more of PostgreSQL per question with 500 updates, more with more).
    SQLite keeps no such statistics unless asked to, and plans from its indexes."""
    if engine.dialect.name == "postgresql":
        async with engine.connect() as connection:
            await connection.execute(text("ANALYZE reports, items, updates, people"))
            await connection.commit()


async def save_report(session: AsyncSession, record: ReportRecord) -> ImportOutcome:
    """Store a parsed report idempotently: known reports and items are left exactly as they are."""
    report, created = await stored_report(session, record)
    rows = await session.execute(select(Item.kind, Item.number, Item.id, Item.title).where(Item.report_id == report.id))
    stored = {(kind, number): (item_id, title) for kind, number, item_id, title in rows}
    # Known items are left alone (but for a title they lack) and, within the file, the first of
    # two with one number wins.
    seen: set[tuple[str, int]] = set()
    new_items: list[ItemRecord] = []
    untitled: list[tuple[int, ItemRecord]] = []
    for item_record in record.items:
        key = (item_record.kind.value, item_record.number)
        if key in seen:
            continue
        seen.add(key)
        if key not in stored:
            new_items.append(item_record)
        elif stored[key][1] is None:
            untitled.append((stored[key][0], item_record))
    taken = [title for _, title in stored.values() if title]
    titles = _titles(record, [*new_items, *(item for _, item in untitled)], taken)
    await _set_titles(session, [(item_id, titles[(item.kind.value, item.number)]) for item_id, item in untitled])
    if not new_items:
        return ImportOutcome(report=report, created=created, items_added=0)
    # The initial response is dated the day the report was published, the PCC's own answer.
    responded_at = datetime.combine(record.published_on, time(), tzinfo=UTC) if record.published_on else utcnow()
    people = await _people_by_email(session, [_normal_email(email) for item in new_items for email in _emails_of(item)])
    # A few statements per thousand items, not a flush per item: ids come back with RETURNING.
    item_ids: dict[tuple[str, int], int] = {}
    for chunk in _chunks(new_items):
        inserted = await session.execute(
            insert(_ITEMS).returning(Item.id, Item.kind, Item.number),
            [
                {
                    "report_id": report.id,
                    "kind": item.kind.value,
                    "number": item.number,
                    "text": item.text,
                    "title": titles[(item.kind.value, item.number)],
                    "due_on": item.due_on,
                    "revised_due_on": item.revised_due_on,
                    "requested_due_on": item.requested_due_on,
                    "status": item.status.value,
                    "assessment": item.assessment.value if item.assessment else None,
                    "owner_id": people[_normal_email(item.owner_email)] if item.owner_email else None,
                    "last_update_at": _updated_at(item, responded_at) if _has_update(item) else None,
                }
                for item in chunk
            ],
        )
        item_ids.update(((kind, number), item_id) for item_id, kind, number in inserted)
    update_ids: dict[int, int] = {}
    for chunk in _chunks([item for item in new_items if _has_update(item)]):
        written = await session.execute(
            insert(_UPDATES).returning(Update.item_id, Update.id),
            [
                {
                    "item_id": item_ids[(item.kind.value, item.number)],
                    "created_at": _updated_at(item, responded_at),
                    "author_id": people[_normal_email(item.updated_by_email)] if item.updated_by_email else None,
                    "author_name": item.updated_by or item.updated_by_email or INITIAL_RESPONSE_AUTHOR,
                    "status": item.status.value,
                    "assessment": item.assessment.value if item.assessment else None,
                    "narrative": item.response,
                    "evidence_url": item.evidence_url,
                    "revised_due_on": item.requested_due_on,
                    "revised_due_reason": item.requested_due_reason if item.requested_due_on else None,
                }
                for item in chunk
            ],
        )
        update_ids.update((item_id, update_id) for item_id, update_id in written)
    await _restore_exported_state(session, record, new_items, item_ids, update_ids, people)
    return ImportOutcome(report=report, created=created, items_added=len(new_items))


def _titles(
    record: ReportRecord, items: Sequence[ItemRecord], taken: Sequence[str]
) -> dict[tuple[str, int], str | None]:
    """The title each of these items of the report is stored with (domain.titles), told apart from the `taken` ones."""
    titles = item_titles([(item.title, item.text) for item in items], topic=record.title, taken=taken)
    return {(item.kind.value, item.number): title for item, title in zip(items, titles, strict=True)}


async def _set_titles(session: AsyncSession, titles: Sequence[tuple[int, str | None]]) -> None:
    """Give stored items without a title the one derived now; a title already there is never replaced."""
    set_title = (
        update(_ITEMS)
        .where(_ITEMS.c.id == bindparam("titled_item"), _ITEMS.c.title.is_(None))
        .values(title=bindparam("item_title"))
    )
    rows = [{"titled_item": item_id, "item_title": title} for item_id, title in titles if title]
    for chunk in _chunks(rows):
        await session.execute(set_title, chunk)


# What an imported item's restored history is credited to when the tracker does not say who.
IMPORT_ACTOR = "Import"
# A restored update or closure is known only by its day: midday UTC is that day in every UK time zone.
_RESTORED_TIME = time(12)
_EVENTS = cast(Table, ItemEvent.__table__)
_DELEGATES = cast(Table, Delegate.__table__)
_TICK = timedelta(microseconds=1)


def _emails_of(item: ItemRecord) -> Iterator[str]:
    if item.owner_email:
        yield item.owner_email
    if item.updated_by_email:
        yield item.updated_by_email
    yield from item.delegate_emails


def _has_update(item: ItemRecord) -> bool:
    """True when the record carries a latest update: a narrative, a named author or a date still asked for."""
    return bool(item.response or item.updated_by or item.updated_by_email or item.requested_due_on)


def _updated_at(item: ItemRecord, responded_at: datetime) -> datetime:
    return datetime.combine(item.updated_on, _RESTORED_TIME, tzinfo=UTC) if item.updated_on else responded_at


async def _restore_exported_state(
    session: AsyncSession,
    record: ReportRecord,
    new_items: Sequence[ItemRecord],
    item_ids: dict[tuple[str, int], int],
    update_ids: dict[int, int],
    people: dict[str, int],
) -> None:
    """What `recbot export` wrote beyond the item itself, for new items: batched like the items.

    The pending request points at its update; authors get their names; each delegate, revised
    date and closure becomes an event, so the item's history says where they came from.
    """
    detail = f"Restored from {record.source_name}"[:500] if record.source_name else "Restored from a tracker"
    requests: list[dict[str, object]] = []
    names: dict[int, str] = {}
    delegates: list[dict[str, object]] = []
    events: list[dict[str, object]] = []
    now = utcnow()
    for item in new_items:
        item_id = item_ids[(item.kind.value, item.number)]
        if item.requested_due_on is not None and item_id in update_ids:
            requests.append({"restored_item": item_id, "restored_update": update_ids[item_id]})
        if item.updated_by_email and item.updated_by:
            names.setdefault(people[_normal_email(item.updated_by_email)], item.updated_by)
        if item.revised_due_on is not None:
            events.append(_event(item_id, EventKind.DUE_DATE_CHANGED, detail, due_on=item.revised_due_on))
        for position, email in enumerate(item.delegate_emails):
            person_id = people[_normal_email(email)]
            # Oldest first, as the export lists them.
            delegates.append({"item_id": item_id, "person_id": person_id, "created_at": now + position * _TICK})
            events.append(_event(item_id, EventKind.DELEGATE_ADDED, detail, subject_id=person_id))
        if not Status(item.status).is_open and (item.closed_on or item.closed_by):
            kind = EventKind.CLOSURE_APPROVED if item.status is Status.CLOSED else EventKind.SUPERSEDED
            at = datetime.combine(item.closed_on, _RESTORED_TIME, tzinfo=UTC) if item.closed_on else now
            events.append(_event(item_id, kind, detail, actor_name=item.closed_by, created_at=at))
    set_request = (
        update(_ITEMS)
        .where(_ITEMS.c.id == bindparam("restored_item"))
        .values(requested_due_update_id=bindparam("restored_update"))
    )
    for chunk in _chunks(requests):
        await session.execute(set_request, chunk)
    # People created by this import take the name the tracker gives; nobody's own name is replaced.
    set_name = (
        update(_PEOPLE)
        .where(_PEOPLE.c.id == bindparam("person"), _PEOPLE.c.name.is_(None))
        .values(name=bindparam("person_name"))
    )
    for chunk in _chunks([{"person": person_id, "person_name": name} for person_id, name in names.items()]):
        await session.execute(set_name, chunk)
    for chunk in _chunks(delegates):
        await session.execute(insert(_DELEGATES), chunk)
    for chunk in _chunks(events):
        await session.execute(insert(_EVENTS), chunk)


def _event(
    item_id: int,
    kind: EventKind,
    detail: str,
    *,
    actor_name: str | None = None,
    subject_id: int | None = None,
    due_on: date | None = None,
    created_at: datetime | None = None,
) -> dict[str, object]:
    """One restored event's row; every key always present, so the rows share one INSERT."""
    return {
        "item_id": item_id,
        "actor_name": actor_name or IMPORT_ACTOR,
        "kind": kind.value,
        "detail": detail,
        "subject_id": subject_id,
        "due_on": due_on,
        "created_at": created_at or utcnow(),
    }


class _Shape(NamedTuple):
    """Which filters a look-up of items by number has: each shape's statement is built once, and
    SQLAlchemy keeps a statement's cache key with it, so each call only binds values."""

    by_kind: bool
    by_report: bool


def _by_number(number: int, kind: Kind | None, report_code: str | None) -> tuple[_Shape, dict[str, object]]:
    parameters: dict[str, object] = {"number": number}
    if kind is not None:
        parameters["kind"] = kind.value
    if report_code is not None:
        parameters["report_code"] = report_code.upper()
    return _Shape(kind is not None, report_code is not None), parameters


_FIND: dict[_Shape, Select[Item]] = {}


async def find_items(
    session: AsyncSession, *, number: int, kind: Kind | None = None, report_code: str | None = None
) -> Sequence[Item]:
    """Items with this number, optionally of one kind and one report (report and owner loaded)."""
    shape, parameters = _by_number(number, kind, report_code)
    query = _FIND.get(shape)
    if query is None:
        query = _items_query().where(Item.number == bindparam("number"))
        if shape.by_kind:
            query = query.where(Item.kind == bindparam("kind"))
        if shape.by_report:
            query = query.join(Report, Item.report_id == Report.id).where(
                func.upper(Report.code) == bindparam("report_code")
            )
        query = _FIND.setdefault(shape, query.order_by(Item.report_id, Item.kind))
    return (await session.scalars(query, parameters)).unique().all()


def latest_update_id():  # type: ignore[no-untyped-def]
    """The id of the newest update of the item in the enclosing query (as `latest_update` orders them)."""
    return (
        select(Update.id)
        .where(Update.item_id == Item.id)
        .order_by(Update.created_at.desc(), Update.id.desc())
        .limit(1)
        .correlate(Item)
        .scalar_subquery()
    )


# By shape, by the bootstrap admins' addresses (fixed for a process) and by whether a state row is read along.
_WITH_LATEST: dict[tuple[_Shape, tuple[str, ...], bool], DriverSelect] = {}


async def find_items_with_latest(
    connection: AsyncConnection,
    *,
    number: int,
    kind: Kind | None = None,
    report_code: str | None = None,
    bootstrap_admins: Sequence[str] = (),
    state: StateAlong | None = None,
) -> list[tuple[ItemRow, UpdateRow | None, list[tuple[int, str]]]]:
    """The items `find_items` finds, as rows (`storage.rows`), each with its `latest_update` and who may act
    on it (`ownership.acting_people`), in one Core statement: (item, latest update or None, [(person id,
    Teams user id)]). The statement also reads `state`'s row when given (see `StateAlong`)."""
    shape, parameters = _by_number(number, kind, report_code)
    named = ownership.named_admins(bootstrap_admins)
    query = _WITH_LATEST.get((shape, named, state is not None))
    if query is None:
        statement = (
            select(*ROW_COLUMNS, ownership.acting_column(named), *(StateAlong.COLUMNS if state else ()))
            .select_from(Item)
            .join(Report, Item.report_id == Report.id)
            .outerjoin(Person, Item.owner_id == Person.id)
            .outerjoin(Update, Update.id == latest_update_id())
            .where(Item.number == bindparam("number"))
        )
        if shape.by_kind:
            statement = statement.where(Item.kind == bindparam("kind"))
        if shape.by_report:
            statement = statement.where(func.upper(Report.code) == bindparam("report_code"))
        query = _WITH_LATEST.setdefault(
            (shape, named, state is not None), DriverSelect(statement.order_by(Item.report_id, Item.kind))
        )
    found = await query.all(connection, parameters | (state.parameters() if state else {}))
    if state and found:
        state.take(found[0])
    acting_at = len(ROW_COLUMNS)
    return [(*read_row(row), ownership.read_acting(row[acting_at])) for row in found]


_ITEM_WITH_LATEST = (
    select(Item, Update)
    .join(Report, Item.report_id == Report.id)
    .outerjoin(Person, Item.owner_id == Person.id)
    .outerjoin(Update, Update.id == latest_update_id())
    .options(contains_eager(Item.report), contains_eager(Item.owner))
    .where(Item.id == bindparam("item_id"))
)


async def item_with_latest(session: AsyncSession, item_id: int) -> tuple[Item, Update | None] | None:
    """One item (report and owner loaded) and its latest update, in one statement; None if there is no such item."""
    row = (await session.execute(_ITEM_WITH_LATEST, {"item_id": item_id})).first()
    return None if row is None else (row[0], row[1])


async def item_titled(session: AsyncSession, report_id: int, title: str) -> Item | None:
    """The item of this report with this title (without regard to case), if there is one."""
    query = _items_query().where(Item.report_id == report_id, func.lower(Item.title) == title.lower()).limit(1)
    return (await session.scalars(query)).unique().first()


# Built once: SQLAlchemy keeps a statement's cache key with the statement, so a look-up made on
# every update-dialog turn does not work out the key of a joined-load query each time.
_ITEM_BY_ID = _items_query().where(Item.id == bindparam("item_id"))


async def get_item(session: AsyncSession, item_id: int) -> Item | None:
    return (await session.scalars(_ITEM_BY_ID, {"item_id": item_id})).unique().one_or_none()


async def latest_update(session: AsyncSession, item_id: int) -> Update | None:
    """The newest update of an item (ties broken by id, so a correction beats its original)."""
    return await session.scalar(
        select(Update).where(Update.item_id == item_id).order_by(Update.created_at.desc(), Update.id.desc()).limit(1)
    )


async def all_reports(session: AsyncSession) -> Sequence[Report]:
    """Every report, the newest published first."""
    query = select(Report).order_by(Report.published_on.desc().nulls_last(), Report.code)
    return (await session.scalars(query)).all()


async def report_by_code(session: AsyncSession, code: str) -> Report | None:
    return await session.scalar(select(Report).where(func.upper(Report.code) == code.upper()))


async def all_items(session: AsyncSession, *, report_code: str | None = None) -> Sequence[Item]:
    """Every item (report and owner loaded), ordered by report and number."""
    query = _items_query().join(Report, Item.report_id == Report.id)
    if report_code is not None:
        query = query.where(func.upper(Report.code) == report_code.upper())
    return (
        (await session.scalars(query.order_by(Report.published_on, Report.id, Item.kind, Item.number))).unique().all()
    )


# What a search index of item texts and titles depends on. Nothing here rewrites an item's text or
# a report's title (`save_report` only adds) and nothing deletes an item, so counts and highest ids
# change whenever the texts do; a title an admin changes is an item event, and the summed lengths
# also catch most edits made outside RecBot.
_SEARCH_VERSION = select(
    select(func.count(Item.id)).scalar_subquery(),
    select(func.max(Item.id)).scalar_subquery(),
    select(func.coalesce(func.sum(func.length(Item.text)), 0)).scalar_subquery(),
    select(func.coalesce(func.sum(func.length(Item.title)), 0)).scalar_subquery(),
    select(func.max(ItemEvent.id)).scalar_subquery(),
    select(func.count(Report.id)).scalar_subquery(),
    select(func.max(Report.id)).scalar_subquery(),
    select(func.coalesce(func.sum(func.length(Report.title)), 0)).scalar_subquery(),
)


async def search_version(session: AsyncSession) -> tuple[int | None, ...]:
    """A value that changes when items or reports are added or removed, or their texts or titles edited."""
    row = (await session.execute(_SEARCH_VERSION)).one()
    return tuple(None if value is None else int(value) for value in row)


async def search_texts(session: AsyncSession) -> Sequence[tuple[int, str | None, str, str]]:
    """(item id, item title, item text, report title) of every item, in `all_items`'s order, without loading items."""
    rows = await session.execute(
        select(Item.id, Item.title, Item.text, Report.title)
        .join(Report, Item.report_id == Report.id)
        .order_by(Report.published_on, Report.id, Item.kind, Item.number)
    )
    return [(item_id, title, text, report_title) for item_id, title, text, report_title in rows]


async def items_by_ids(session: AsyncSession, item_ids: Sequence[int]) -> list[Item]:
    """The items with these ids (report and owner loaded), in the order asked; missing ones left out."""
    if not item_ids:
        return []
    found = (await session.scalars(_items_query().where(Item.id.in_(item_ids)))).unique().all()
    by_id = {item.id: item for item in found}
    return [by_id[item_id] for item_id in item_ids if item_id in by_id]


def _due_expression():  # type: ignore[no-untyped-def]
    return func.coalesce(Item.revised_due_on, Item.due_on)


async def list_items(
    session: AsyncSession,
    *,
    statuses: Sequence[str] | None = None,
    due_before: date | None = None,
    due_from: date | None = None,
    report_code: str | None = None,
    owner_id: int | None = None,
    kind: Kind | None = None,
    limit: int = 25,
) -> tuple[Sequence[Item], int]:
    """A page of items matching the filters (soonest due first) and how many match in all."""
    conditions = []
    if kind is not None:
        conditions.append(Item.kind == kind.value)
    if statuses is not None:
        conditions.append(Item.status.in_(list(statuses)))
    if due_before is not None:
        conditions.append(_due_expression() < due_before)
    if due_from is not None:
        conditions.append(_due_expression() >= due_from)
    if owner_id is not None:
        conditions.append(Item.owner_id == owner_id)
    query = _items_query().join(Report, Item.report_id == Report.id).where(*conditions)
    count_query = select(func.count(Item.id)).join(Report, Item.report_id == Report.id).where(*conditions)
    if report_code is not None:
        query = query.where(func.upper(Report.code) == report_code.upper())
        count_query = count_query.where(func.upper(Report.code) == report_code.upper())
    due = _due_expression()
    ordered = query.order_by(due.is_(None), due, Report.id, Item.kind, Item.number).limit(limit)
    items = (await session.scalars(ordered)).unique().all()
    total = await session.scalar(count_query) or 0
    return items, total


async def person_by_identity(session: AsyncSession, *, tenant_id: str | None, aad_object_id: str) -> Person | None:
    """The person with this (tenant id, Entra object id), if known."""
    return await session.scalar(
        select(Person).where(Person.tenant_id == tenant_id, Person.aad_object_id == aad_object_id)
    )


async def remember_person(
    session: AsyncSession,
    *,
    tenant_id: str | None,
    aad_object_id: str,
    name: str | None,
    teams_user_id: str | None,
    email: str | None = None,
) -> Person:
    """The person with this (tenant id, Entra object id), created when new, name and Teams id refreshed.

    `email` is given only when the person talks from the bot's own tenant (their Teams profile
    there): it then links the placeholder stored under that address (an import, an assignment)
    if the placeholder has no object id yet, merging the two rows when both exist. An address that
    already belongs to someone else's object id links nothing: an e-mail never proves who anyone is.
    """
    person = await person_by_identity(session, tenant_id=tenant_id, aad_object_id=aad_object_id)
    if person is None and email:
        # Rows stored before tenants were recorded (migration 0002): adopted from the home tenant only.
        person = await session.scalar(
            select(Person).where(Person.tenant_id.is_(None), Person.aad_object_id == aad_object_id)
        )
    email = email.lower() if email else None
    if email and (person is None or person.email != email):
        placeholder = await session.scalar(select(Person).where(Person.email == email))
        if placeholder is not None and placeholder.aad_object_id is None:
            if person is None:
                person = placeholder
            else:
                await _merge_people(session, keep=person, drop=placeholder)
        elif placeholder is None and person is not None and not person.email:
            person.email = email
        elif placeholder is None:
            person = Person(email=email)
            session.add(person)
    if person is None:
        person = Person()
        session.add(person)
    person.tenant_id = tenant_id
    person.aad_object_id = aad_object_id
    if name and person.name != name:
        person.name = name
    if teams_user_id and person.teams_user_id != teams_user_id:
        person.teams_user_id = teams_user_id
    await session.flush()
    return person


async def remember_channel_user(
    session: AsyncSession, *, tenant_id: str | None, user_id: str, name: str | None
) -> Person:
    """Someone without an Entra identity (the Emulator, Web Chat): known only by this user id, never linked."""
    person = await session.scalar(
        select(Person)
        .where(Person.aad_object_id.is_(None), Person.email.is_(None), Person.teams_user_id == user_id)
        .where(Person.tenant_id.is_(None) if tenant_id is None else Person.tenant_id == tenant_id)
        .order_by(Person.id)
        .limit(1)
    )
    if person is None:
        person = Person(tenant_id=tenant_id, teams_user_id=user_id)
        session.add(person)
    if name and person.name != name:
        person.name = name
    await session.flush()
    return person


async def _merge_people(session: AsyncSession, *, keep: Person, drop: Person) -> None:
    """Move everything that points at `drop` to `keep`, take over its details, and delete it."""
    moves = (
        (Item.owner_id, Item),
        (Update.author_id, Update),
        (ItemEvent.actor_id, ItemEvent),
        (ItemEvent.subject_id, ItemEvent),
        (DigestSubscription.created_by_id, DigestSubscription),
        (Delivery.person_id, Delivery),
    )
    for column, model in moves:
        await session.execute(update(model).where(column == drop.id).values({column.key: keep.id}))
    # Delegations and personal digests are unique per person: keep's own win over drop's.
    kept_items = select(Delegate.item_id).where(Delegate.person_id == keep.id).scalar_subquery()
    await session.execute(delete(Delegate).where(Delegate.person_id == drop.id, Delegate.item_id.in_(kept_items)))
    await session.execute(update(Delegate).where(Delegate.person_id == drop.id).values(person_id=keep.id))
    kept_reports = select(func.coalesce(DigestSubscription.report_id, 0)).where(DigestSubscription.person_id == keep.id)
    await session.execute(
        delete(DigestSubscription).where(
            DigestSubscription.person_id == drop.id,
            func.coalesce(DigestSubscription.report_id, 0).in_(kept_reports.scalar_subquery()),
        )
    )
    await session.execute(
        update(DigestSubscription).where(DigestSubscription.person_id == drop.id).values(person_id=keep.id)
    )
    details = {
        "email": drop.email,
        "name": keep.name or drop.name,
        "teams_user_id": keep.teams_user_id or drop.teams_user_id,
        "is_admin": keep.is_admin or drop.is_admin,
    }
    await session.delete(drop)
    await session.flush()  # frees drop's unique e-mail before keep takes it
    for field, value in details.items():
        setattr(keep, field, value)


async def remember_conversation(
    session: AsyncSession,
    *,
    conversation_id: str,
    reference: dict[str, object],
    service_url: str,
    tenant_id: str | None,
    conversation_type: str | None,
    user_id: str | None = None,
) -> bool:
    """Store or refresh a conversation's reference; True when the conversation is new to us."""
    values = {
        "conversation_id": conversation_id,
        "reference": reference,
        "service_url": service_url,
        "tenant_id": tenant_id,
        "conversation_type": conversation_type,
        "user_id": user_id,
        "updated_at": utcnow(),
    }
    # INSERT … ON CONFLICT DO NOTHING tells "new" from "known" atomically, even when two first
    # messages of one conversation arrive at once.
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    inserted = await session.scalar(
        insert(ConversationRef).values(**values).on_conflict_do_nothing().returning(ConversationRef.conversation_id)
    )
    if inserted is not None:
        return True
    await session.execute(
        update(ConversationRef)
        .where(ConversationRef.conversation_id == conversation_id)
        .values(
            reference=reference,
            service_url=service_url,
            tenant_id=func.coalesce(tenant_id, ConversationRef.tenant_id),
            conversation_type=func.coalesce(conversation_type, ConversationRef.conversation_type),
            user_id=func.coalesce(user_id, ConversationRef.user_id),
            updated_at=values["updated_at"],
        )
    )
    return False


async def forget_conversation(session: AsyncSession, conversation_id: str) -> None:
    row = await session.get(ConversationRef, conversation_id)
    if row is not None:
        await session.delete(row)


async def conversation_default_report(session: AsyncSession, conversation_id: str) -> int | None:
    return await session.scalar(
        select(ConversationRef.default_report_id).where(ConversationRef.conversation_id == conversation_id)
    )


async def set_conversation_default_report(session: AsyncSession, conversation_id: str, report_id: int | None) -> bool:
    """Remember the conversation's default report; False when the conversation is not stored."""
    row = await session.get(ConversationRef, conversation_id)
    if row is None:
        return False
    row.default_report_id = report_id
    return True
