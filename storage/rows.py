"""Items as plain rows, read with SQLAlchemy Core: what a status card shows, without an ORM session.

A status question is RecBot's commonest message, and an ORM session with its loading cost more
CPU than the statement itself (issue 14). `ItemRow` carries every attribute a status card reads
of a stored `Item`, so the cards and answers take either (`AnyItem`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column

from storage.models import Item, ItemNames, Person, Report, Update, display_name


@dataclass(frozen=True, slots=True)
class ReportRow:
    code: str
    title: str
    response_label: str | None


@dataclass(frozen=True, slots=True)
class OwnerRow:
    name: str | None
    email: str | None

    @property
    def display_name(self) -> str:
        return display_name(self.name, self.email)


@dataclass(frozen=True, slots=True)
class UpdateRow:
    id: int
    created_at: datetime
    author_name: str
    status: str
    assessment: str | None
    narrative: str
    evidence_url: str | None


@dataclass(frozen=True, slots=True)
class ItemRow(ItemNames):
    """An item as a status card shows it, with its report and owner."""

    id: int
    report_id: int
    kind: str
    number: int
    text: str
    title: str | None
    due_on: date | None
    revised_due_on: date | None
    requested_due_on: date | None
    requested_due_update_id: int | None
    status: str
    assessment: str | None
    owner_id: int | None
    last_update_at: datetime | None
    report: ReportRow
    owner: OwnerRow | None


# What a status card and the answers take: a stored item (with its report and owner loaded) or a row.
AnyItem = Item | ItemRow
AnyUpdate = Update | UpdateRow


def _columns(row_class: type, model: type) -> tuple[Column[object], ...]:
    """The model's columns named as the row class's fields, in their order (relations left out)."""
    table = model.__table__  # type: ignore[attr-defined]
    return tuple(table.c[field.name] for field in fields(row_class) if field.name in table.c)


_ITEM_COLUMNS = _columns(ItemRow, Item)
_REPORT_COLUMNS = _columns(ReportRow, Report)
_OWNER_COLUMNS = _columns(OwnerRow, Person)
_UPDATE_COLUMNS = _columns(UpdateRow, Update)
# A status question's statement selects these first (storage.tracker.find_items_with_latest).
ROW_COLUMNS = (*_ITEM_COLUMNS, *_REPORT_COLUMNS, *_OWNER_COLUMNS, *_UPDATE_COLUMNS)

_REPORT_AT = len(_ITEM_COLUMNS)
_OWNER_AT = _REPORT_AT + len(_REPORT_COLUMNS)
_UPDATE_AT = _OWNER_AT + len(_OWNER_COLUMNS)
_END = _UPDATE_AT + len(_UPDATE_COLUMNS)
_OWNER_ID = _ITEM_COLUMNS.index(Item.__table__.c.owner_id)


def read_row(row: Sequence[Any]) -> tuple[ItemRow, UpdateRow | None]:
    """The item and its latest update from a row that starts with `ROW_COLUMNS` (the owner and the update are
    outer-joined: None when there is none)."""
    owner = OwnerRow(*row[_OWNER_AT:_UPDATE_AT]) if row[_OWNER_ID] is not None else None
    report = ReportRow(*row[_REPORT_AT:_OWNER_AT])
    item = ItemRow(*[*row[:_REPORT_AT], report, owner])
    return item, UpdateRow(*row[_UPDATE_AT:_END]) if row[_UPDATE_AT] is not None else None
