"""What the use cases answer: plain results that `bot/cards/render.py` turns into messages and cards."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from storage.models import Item, ItemEvent, Report, Update
from storage.progress import TimelineEntry
from storage.rows import AnyItem, AnyUpdate

# A button: its title and the command it sends.
Action = tuple[str, str]


@dataclass(frozen=True)
class Said:
    """A sentence of ours, as it is to be shown (anything a person typed in it already escaped)."""

    text: str


@dataclass(frozen=True)
class Told:
    """A sentence of ours with untrusted `values` (names, reasons) filled in, and buttons."""

    template: str  # str.format style: "{name} is now an admin."
    values: Mapping[str, str] = field(default_factory=dict)
    actions: Sequence[Action] = ()


@dataclass(frozen=True)
class Choose:
    """A question with one button per (label, command) option."""

    prompt: str
    options: Sequence[Action]


@dataclass(frozen=True)
class Rights:
    """What one person may do from an item's card (cards show each person only their own buttons)."""

    update: bool = False  # owner, delegate or admin, on an open item
    decide: bool = False  # an admin


@dataclass(frozen=True)
class ItemStatus:
    item: AnyItem
    latest: AnyUpdate | None
    today: date
    requested: Update | None = None  # the update asking for a later due date, while it waits
    revised_by: ItemEvent | None = None  # the decision behind the revised due date
    closed_by: ItemEvent | None = None  # the decision that closed or superseded it
    acting: tuple[str, ...] = ()  # Teams user ids of who may act: their view refreshes with their buttons
    viewer: Rights | None = None  # None: the view everyone sees
    note: str | None = None  # what the viewer just did from the card


@dataclass(frozen=True)
class Request:
    """A lead's request waiting for an admin: sign-off (`update.status` Awaiting sign-off) or a later date."""

    item: Item  # with its report and owner loaded
    update: Update  # the update that asks
    closure: bool  # True: sign-off; False: the revised due date in `update`
    today: date
    decision: ItemEvent | None = None  # the admin's decision, once made
    withdrawn: bool = False  # no decision, yet no longer waiting (a later update changed it)
    acting: tuple[str, ...] = ()  # Teams user ids of the admins: their view refreshes with their buttons
    viewer: Rights | None = None  # None: the view everyone sees
    note: str | None = None  # what the viewer just did from the card


@dataclass(frozen=True)
class Requests:
    """Requests waiting for a decision, e.g. `what needs my decision`."""

    title: str
    requests: Sequence[Request]
    empty_text: str
    more: int = 0  # requests left out


@dataclass(frozen=True)
class ItemList:
    title: str
    items: Sequence[Item]
    today: date
    more: int  # items left out of the list
    empty_text: str


@dataclass(frozen=True)
class SearchResults:
    """Items a free-text search matched, none of them clearly the one meant."""

    query: str
    items: Sequence[Item]


@dataclass(frozen=True)
class ReportText:
    """The commissioner's statement on a report, or its summary, as the document gave them (None: it gave none)."""

    report: Report
    statement: bool  # True: the commissioner's statement; False: the report summary


@dataclass(frozen=True)
class ForceResponse:
    """The force's own response to an item, as the report's document gave it (None: it gave none)."""

    item: Item  # with its report loaded
    response: Update | None


@dataclass(frozen=True)
class Timeline:
    item: Item
    entries: Sequence[TimelineEntry]
    today: date


@dataclass(frozen=True)
class Admins:
    """Who the admins are, and the newest grants and revocations (`when, who, "granted"/"revoked", to whom`)."""

    names: Sequence[str]
    changes: Sequence[tuple[datetime, str, bool, str]]  # (when, by whom, granted, to whom)
    more: int  # older changes left out


@dataclass(frozen=True)
class ItemStatuses:
    """Several items asked about in one question ("status of R8 and R9"), in the order asked."""

    statuses: Sequence[ItemStatus]
    # What could not be answered, as sentences of ours ("I can't find AFI 2.").
    not_found: Sequence[str]
    today: date


@dataclass(frozen=True)
class Counts:
    """How many items a question selects, by status and by RAG, and the first of them."""

    title: str  # "Recommendations", "RAG Red · OIC-2025"
    total: int
    by_status: Mapping[str, int]
    by_rag: Mapping[str, int]  # domain.rag.Rag values
    items: Sequence[Item]  # the first items counted, when the question named a filter; else none
    more: int  # counted items not in `items`
    today: date


@dataclass(frozen=True)
class ChangeLine:
    """One thing that happened to an item: "OIC-2025 R9 · Four modules …", "In progress → Blocked (update by Sam)"."""

    at: datetime
    reference: str  # with the item's title, if it has one
    description: str


@dataclass(frozen=True)
class Changes:
    """What changed in a period ("what's changed this week"), newest first."""

    title: str
    changes: Sequence[ChangeLine]
    more: int  # older changes left out
    empty_text: str


Result = (
    Admins
    | ReportText
    | ForceResponse
    | Said
    | Told
    | Choose
    | ItemStatus
    | Request
    | Requests
    | ItemList
    | SearchResults
    | Timeline
    | ItemStatuses
    | Counts
    | Changes
)
