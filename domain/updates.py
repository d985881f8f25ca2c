"""An update as it passes between the update dialog, the form and the service that records it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class ItemBrief:
    """Enough about an item to talk about it."""

    item_id: int
    reference: str  # "OIC-2025 R8"
    label: str  # "Recommendation 8"
    text: str
    status: str  # a domain.vocabulary.Status value
    owner_name: str | None = None
    assessment: str | None = None  # the lead's latest assessment ("on track", …), if any


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
