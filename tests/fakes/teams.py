"""Teams-shaped activities for tests, and a client that posts them to a running RecBot."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
BOT_ID = "28:recbot-app-id"
BOT_NAME = "RecBot"
PERSONAL = "a:1personal-chat-with-jane"
GROUP_CHAT = "19:group-chat-id@thread.v2"
CHANNEL = "19:governance-board-channel@thread.tacv2"
TEAM = "19:governance-team@thread.tacv2"


@dataclass(frozen=True)
class User:
    teams_id: str = "29:1jane-doe-teams-id"
    aad_object_id: str = "6d7b5c2e-1111-4c8e-9a40-000000000001"
    name: str = "Jane Doe"
    email: str = "jane.doe@force.police.uk"

    def member(self) -> dict[str, Any]:
        """How the connector describes this user (GET …/members/{id})."""
        return {
            "id": self.teams_id,
            "name": self.name,
            "aadObjectId": self.aad_object_id,
            "email": self.email,
            "userPrincipalName": self.email,
            "tenantId": TENANT,
        }


JANE = User()
SAM = User(
    teams_id="29:1sam-teams-id",
    aad_object_id="6d7b5c2e-2222-4c8e-9a40-000000000002",
    name="Sam Patel",
    email="sam.patel@force.police.uk",
)


def activity(
    activity_type: str,
    service_url: str,
    *,
    conversation_id: str = PERSONAL,
    conversation_type: str = "personal",
    user: User = JANE,
    tenant: str = TENANT,
    **fields: Any,
) -> dict[str, Any]:
    """A Teams activity as the Bot Connector posts it."""
    channel_data: dict[str, Any] = {"tenant": {"id": tenant}}
    if conversation_type == "channel":
        channel_data.update(team={"id": TEAM}, channel={"id": conversation_id.split(";")[0]})
    body: dict[str, Any] = {
        "type": activity_type,
        "id": f"1{uuid.uuid4().int % 10**12}",
        "timestamp": datetime.now(UTC).isoformat(),
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": user.teams_id, "name": user.name, "aadObjectId": user.aad_object_id},
        "conversation": {"id": conversation_id, "conversationType": conversation_type, "tenantId": tenant},
        "recipient": {"id": BOT_ID, "name": BOT_NAME},
        "channelData": channel_data,
        "locale": "en-GB",
    }
    if conversation_type != "personal":
        body["conversation"]["isGroup"] = True
    body.update(fields)
    return body


def message(text: str, service_url: str, **fields: Any) -> dict[str, Any]:
    """A personal-chat message."""
    return activity("message", service_url, text=text, textFormat="plain", **fields)


def channel_message(text: str, service_url: str, **fields: Any) -> dict[str, Any]:
    """A channel message that @mentions the bot, the way Teams sends it."""
    mention = f"<at>{BOT_NAME}</at>"
    return activity(
        "message",
        service_url,
        conversation_id=f"{CHANNEL};messageid=1700000000000",
        conversation_type="channel",
        text=f"{mention} {text}",
        textFormat="plain",
        entities=[{"type": "mention", "text": mention, "mentioned": {"id": BOT_ID, "name": BOT_NAME}}],
        **fields,
    )


@dataclass
class BotClient:
    """Posts activities to RecBot's /api/messages over real HTTP."""

    base_url: str
    session: aiohttp.ClientSession
    headers: dict[str, str] = field(default_factory=dict)

    async def post(
        self, body: Any, *, headers: dict[str, str] | None = None, raw: bytes | None = None
    ) -> aiohttp.ClientResponse:
        all_headers = {"Content-Type": "application/json", **self.headers, **(headers or {})}
        data = raw if raw is not None else json.dumps(body).encode()
        async with self.session.post(f"{self.base_url}/api/messages", data=data, headers=all_headers) as response:
            await response.read()
            return response
