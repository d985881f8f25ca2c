"""Weekly digests and owner nudges: the data they are composed from, and their cards."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class DigestItem:
    """One item as a digest or nudge line shows it."""

    item_id: int
    reference: str  # "OIC-2025 R8"
    label: str  # "Recommendation 8"
    short_text: str  # the item text, already cut to about 100 characters
    status: str
    rag: str  # a bot.rag.Rag value
    due_on: date | None
    owner_name: str | None
    last_update_on: date | None


@dataclass(frozen=True)
class Change:
    """Something that happened to an item since the previous digest."""

    reference: str
    item_id: int
    description: str  # "update posted by Jane Doe", "In progress → Blocked", "closed", "new item"
    at: datetime


@dataclass(frozen=True)
class Section:
    """A list of items with the total before it was cut ("and N more")."""

    items: tuple[DigestItem, ...] = ()
    total: int = 0


@dataclass(frozen=True)
class ReportDigest:
    code: str
    title: str
    counts_by_status: dict[str, int] = field(default_factory=dict)
    counts_by_rag: dict[str, int] = field(default_factory=dict)
    changes: tuple[Change, ...] = ()
    changes_total: int = 0
    overdue: Section = Section()
    due_soon: Section = Section()  # due in the next 30 days
    stale: Section = Section()  # no update for the configured number of days
    awaiting_sign_off: Section = Section()


@dataclass(frozen=True)
class DigestData:
    """Everything one digest says, gathered with a bounded number of queries."""

    audience: str  # "Governance board channel" or the person's name
    generated_at: datetime
    since: datetime | None  # the previous digest of this subscription, None for the first
    stale_days: int
    reports: tuple[ReportDigest, ...] = ()


@dataclass(frozen=True)
class NudgeItem:
    item: DigestItem
    reasons: tuple[str, ...]  # "no update for 45 days", "due in 7 days (30 April 2026)", "overdue since 30 April 2026"
