"""What dialogs need from the rest of RecBot: plain records, the services they call and the screen they talk to.

Dialog state holds only plain JSON (ids, strings, ISO dates), never these objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol


@dataclass(frozen=True)
class ItemBrief:
    """Enough about an item to talk about it."""

    item_id: int
    reference: str  # "OIC-2025 R8"
    label: str  # "Recommendation 8"
    text: str
    status: str  # a domain.vocabulary.Status value
    owner_name: str | None = None


@dataclass(frozen=True)
class Actor:
    """The person acting in this turn."""

    person_id: int
    name: str
    is_admin: bool = False


@dataclass(frozen=True)
class UpdateDraft:
    """An update as collected by the dialog or the form, before it is recorded."""

    item_id: int
    status: str  # "In progress", "Blocked" or "Awaiting sign-off" (the lead says complete)
    assessment: str  # "on track", "at risk" or "off track"
    narrative: str
    evidence_url: str | None = None
    revised_due_on: date | None = None
    revised_due_reason: str | None = None
    corrects_update_id: int | None = None  # set when this corrects the lead's own latest update


def activity_key(conversation_id: str | None, activity_id: str | None) -> str | None:
    """What makes a Teams activity unique, for recognising a redelivery: its conversation and its id.

    Activity ids are only unique within a conversation, so the id alone would let a post in one
    conversation pass for a redelivery of another's.
    """
    if not conversation_id or not activity_id:
        return None
    return f"{conversation_id}/{activity_id}"


class Refused(Exception):
    """The update may not be recorded (no longer allowed, item closed, too late to correct).

    Unlike a failure to reach the database, trying again will not help: the message says why.
    """


@dataclass(frozen=True)
class Recorded:
    update_id: int
    duplicate: bool = False  # the same activity had already been recorded: nothing new was written


class UpdatePort(Protocol):
    """The services the update dialog calls (implemented in bot/, faked in dialog tests)."""

    async def resolve(self, text: str, conversation_id: str | None) -> list[ItemBrief]:
        """Items that a typed reference ("R8", "OIC-2025 rec 8") may mean; empty when none."""

    async def brief(self, item_id: int) -> ItemBrief | None:
        """The item, or None when it no longer exists."""

    async def refusal(self, item_id: int, actor: Actor) -> str | None:
        """None when `actor` may update the item, else the sentence explaining who can."""

    async def record(self, draft: UpdateDraft, actor: Actor, activity_key: str | None) -> Recorded:
        """Write the update in one transaction (idempotent per `activity_key`); `Refused` when not allowed."""

    def today(self) -> date:
        """Today in RECBOT_TIMEZONE."""


class Screen(Protocol):
    """Where a dialog speaks in this turn (a Teams chat in bot/dialog_host.py, a list in dialog tests)."""

    # The conversation, and the redelivery key of the message being answered (`activity_key`).
    conversation_id: str | None
    activity_key: str | None

    async def say(self, text: str) -> None:
        """A plain message."""

    async def ask_choice(self, question: str, choices: Sequence[str]) -> None:
        """A question with a button per choice."""

    async def show_update(self, reference: str, label: str, draft: UpdateDraft) -> None:
        """The update about to be saved, with Confirm / Change / Cancel."""
