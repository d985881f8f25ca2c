"""What dialogs need from the rest of RecBot: the services they call and the screen they talk to.

The records they exchange are in `domain/updates.py`. Dialog state holds only plain JSON (ids,
strings, ISO dates), never these objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from domain.updates import Actor, ItemBrief, Recorded, UpdateDraft


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
