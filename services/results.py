"""What the use cases answer: plain results that `bot/cards/render.py` turns into messages and cards."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from storage.models import Item, Update
from storage.progress import TimelineEntry

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
class ItemStatus:
    item: Item  # with its report and owner loaded
    latest: Update | None
    today: date


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
class Timeline:
    item: Item
    entries: Sequence[TimelineEntry]
    today: date


Result = Said | Told | Choose | ItemStatus | ItemList | SearchResults | Timeline
