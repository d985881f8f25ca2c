"""A Teams activity read once into plain values: what was asked, where, by whom, and who was @mentioned.

Everything past this module (services, dialogs, the command registry) takes these values, never
an `Activity`, so another transport only has to fill them in.
"""

from __future__ import annotations

from dataclasses import dataclass

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from domain.updates import activity_key
from services.governance import Mention
from services.subscriptions import Place


@dataclass(frozen=True)
class TurnInput:
    """One message as the command registry sees it."""

    text: str  # the command: the text without the bot's @mention, or a clicked button's `command`
    conversation_id: str
    in_channel: bool  # a channel or group chat rather than the person's 1:1 chat
    key: str | None  # the redelivery key (`dialogs.ports.activity_key`)
    tenant_id: str | None
    mentions: tuple[Mention, ...] = ()


def tenant_of(activity: Activity) -> str | None:
    """The Entra tenant of a Teams activity (channelData.tenant.id; conversation.tenant_id is unset)."""
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = channel_data.get("tenant")
    if isinstance(tenant, dict) and isinstance(tenant.get("id"), str):
        return tenant["id"]
    return activity.conversation.tenant_id if activity.conversation else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _mentions(activity: Activity) -> list[tuple[dict[str, object], str | None]]:
    """Each well-formed mention entity's `mentioned` account and typed text (malformed ones are skipped)."""
    found = []
    for entity in activity.entities or []:
        properties = getattr(entity, "additional_properties", None) or {}
        mentioned = properties.get("mentioned")
        # Entities are whatever the sender's client wrote: a malformed mention is skipped, not trusted.
        if entity.type == "mention" and isinstance(mentioned, dict) and _text(mentioned.get("id")):
            found.append((mentioned, _text(properties.get("text"))))
    return found


def _is_bot(activity: Activity, mentioned: dict[str, object]) -> bool:
    return activity.recipient is not None and mentioned.get("id") == activity.recipient.id


def answer_text(activity: Activity) -> str:
    """What the person wrote: the text without the bot's @mention, or a clicked button's `command`."""
    text = activity.text or ""
    for mentioned, typed in _mentions(activity):
        if typed and _is_bot(activity, mentioned):
            text = text.replace(typed, " ")
    if not text.strip() and isinstance(activity.value, dict):
        command = activity.value.get("command")
        text = command if isinstance(command, str) else ""
    return text.strip()


def mentions_of_people(activity: Activity) -> tuple[Mention, ...]:
    """The people @mentioned in a message, leaving out the bot itself."""
    tenant_id = tenant_of(activity)
    return tuple(
        Mention(
            tenant_id, str(mentioned["id"]), _text(mentioned.get("aadObjectId")), _text(mentioned.get("name")) or ""
        )
        for mentioned, _typed in _mentions(activity)
        if not _is_bot(activity, mentioned)
    )


def key_of(activity: Activity) -> str | None:
    """The activity's redelivery key: its conversation and its id."""
    return activity_key(activity.conversation.id if activity.conversation else None, activity.id)


def in_channel(activity: Activity) -> bool:
    return activity.conversation is not None and (activity.conversation.conversation_type or "personal") != "personal"


def read_turn(activity: Activity) -> TurnInput:
    """The message as plain values."""
    return TurnInput(
        text=" ".join(answer_text(activity).split()),
        conversation_id=activity.conversation.id if activity.conversation else "",
        in_channel=in_channel(activity),
        key=key_of(activity),
        tenant_id=tenant_of(activity),
        mentions=mentions_of_people(activity),
    )


def place_of(activity: Activity) -> Place:
    """Where a message was typed, with the conversation reference a digest is later sent to."""
    return Place(
        conversation_id=activity.conversation.id,
        conversation_type=activity.conversation.conversation_type or "personal",
        tenant_id=tenant_of(activity),
        service_url=activity.service_url or "",
        reference=TurnContext.get_conversation_reference(activity).serialize(),
    )
