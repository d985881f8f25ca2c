"""Sending to Teams as the services see it: what a digest or nudge says, who gets it, and the port
that composes and sends it (`bot/proactive.py` implements `Messenger`; `bot/cards/digest.py` draws the cards)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

# --- what a digest and a nudge say ------------------------------------------------------------


@dataclass(frozen=True)
class DigestItem:
    """One item as a digest or nudge line shows it."""

    item_id: int
    reference: str  # "OIC-2025 R8"
    label: str  # "Recommendation 8"
    short_text: str  # the item text, already cut to about 100 characters
    status: str
    rag: str  # a domain.rag.Rag value
    due_on: date | None
    owner_name: str | None
    last_update_on: date | None
    requested_due_on: date | None = None  # a later date asked for, waiting for an admin
    title: str | None = None  # "Hydra training package"


@dataclass(frozen=True)
class Change:
    """Something that happened to an item since the previous digest."""

    reference: str
    item_id: int
    description: str  # "update posted by Jane Doe", "In progress → Blocked", "closed", "new item"
    at: datetime
    title: str | None = None  # the item's title


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
    waiting_for_decision: Section = Section()  # sign-off or a later date asked for
    unassigned: Section = Section()  # open items nobody owns


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


# --- composing ---------------------------------------------------------------------------------
#
# The digest is built at a level of detail: the most items per section that still fits the size
# budget. Teams refuses messages over about 28 KB (BOTFRAMEWORK.md), counting the text and the card,
# whose fallbackText repeats the text; the budget leaves room for the envelope the connector adds.


# --- who gets it, and what can go wrong --------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    """A person to message 1:1."""

    person_id: int
    teams_user_id: str | None
    name: str | None = None


@dataclass(frozen=True)
class Sent:
    conversation_id: str
    created_conversation: bool = False


class DeliveryError(Exception):
    """A proactive message could not be delivered."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Gone(DeliveryError):
    """403/404: the bot was removed from the conversation, or the conversation no longer exists."""


class DeliveryFailed(DeliveryError):
    """Anything else, after the connector layer's retries: may succeed on a later run."""


class NoRoute(DeliveryError):
    """Nowhere to send: no stored reference, no Teams user id, or no service URL for the tenant."""


# --- the port ------------------------------------------------------------------------------------


class Messenger(Protocol):
    """Composes digests and nudges into messages, and sends messages (raising the errors above)."""

    def digest(self, data: DigestData) -> Any:
        """The digest as a message, ready to send."""

    def nudge(self, audience: str, items: Sequence[NudgeItem]) -> Any:
        """The owner's nudge as a message, ready to send."""

    def notice(self, message: Any) -> Any:
        """A service's result (services/results.py) as a message for one person, ready to send."""

    def summary(self, message: Any) -> str:
        """One line saying what a message says (for `recbot digest run --dry-run`)."""

    async def send_to_conversation(self, reference: dict[str, Any], tenant_id: str | None, message: Any) -> Sent:
        """Post into a stored conversation."""

    async def send_to_person(self, person: Recipient, message: Any) -> Sent:
        """Post into the person's 1:1 chat, opening it when needed."""
