"""A stub Bot Connector on 127.0.0.1: records what the bot sends and answers like Teams would."""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class Sent:
    """One activity the bot posted to a conversation."""

    conversation_id: str
    activity: dict[str, Any]
    reply_to_id: str | None = None
    authorization: str | None = None
    id: str = ""  # the id the connector gave it (what an invoke's replyToId names)

    @property
    def text(self) -> str:
        return self.activity.get("text") or ""

    @property
    def card(self) -> dict[str, Any] | None:
        for attachment in self.activity.get("attachments") or []:
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                return attachment["content"]
        return None

    @property
    def readable(self) -> str:
        """Everything a person could read in it: text, summary, the card's fallback text, hero card texts."""
        card = self.card or {}
        parts = [self.text, self.activity.get("summary"), card.get("fallbackText")]
        for attachment in self.activity.get("attachments") or []:
            if attachment.get("contentType") == "application/vnd.microsoft.card.hero":
                hero = attachment.get("content") or {}
                parts += [hero.get("title"), hero.get("text")]
                parts += [str(button.get("value")) for button in hero.get("buttons") or []]
        return "\n".join(filter(None, parts))


@dataclass
class StubConnector:
    """Teams' side of the conversation. `fail_next` queues HTTP statuses to answer before succeeding."""

    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)
    updated: list[Sent] = field(default_factory=list)  # activities replaced in place (PUT), `id` the one replaced
    created_conversations: list[dict[str, Any]] = field(default_factory=list)
    member_lookups: int = 0
    fail_next: deque[tuple[int, dict[str, str]]] = field(default_factory=deque)
    # Files people "sent" to the bot, served at `file_url(name)` as Teams' downloadUrl would serve them.
    files: dict[str, bytes] = field(default_factory=dict)
    file_requests: list[str] = field(default_factory=list)  # the paths fetched, in order
    endless_bytes_sent: int = 0  # how much of /files/endless went out before the bot hung up
    server: TestServer | None = None
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/") + "/"

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation_id}/activities", self._post_activity)
        app.router.add_post("/v3/conversations/{conversation_id}/activities/{reply_to_id}", self._post_activity)
        app.router.add_put("/v3/conversations/{conversation_id}/activities/{activity_id}", self._put_activity)
        app.router.add_post("/v3/conversations", self._create_conversation)
        app.router.add_get("/v3/conversations/{conversation_id}/members/{user_id}", self._get_member)
        app.router.add_get("/files/endless", self._get_endless_file)
        app.router.add_get("/files/moved/{name}", self._get_moved_file)
        app.router.add_get("/files/{name}", self._get_file)
        return app

    def file_url(self, name: str) -> str:
        """The pre-authenticated download link of a file in `files` (or "endless", or "moved/<name>")."""
        return f"{self.url}files/{name}?tempauth=stub-token"

    async def _get_file(self, request: web.Request) -> web.Response:
        self.file_requests.append(request.path)
        data = self.files.get(request.match_info["name"])
        if data is None:
            return web.json_response({"error": {"code": "itemNotFound"}}, status=404)
        return web.Response(body=data, content_type="application/octet-stream")

    async def _get_moved_file(self, request: web.Request) -> web.Response:
        """A redirect to the real file (a bot must not follow it)."""
        self.file_requests.append(request.path)
        raise web.HTTPFound(self.file_url(request.match_info["name"]))

    async def _get_endless_file(self, request: web.Request) -> web.StreamResponse:
        """A file with no end and no Content-Length: the bot must stop reading at its cap."""
        self.file_requests.append(request.path)
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        await response.prepare(request)
        chunk = b"x" * 65536
        try:
            while self.endless_bytes_sent < 1024 * 1024 * 1024:
                await response.write(chunk)
                self.endless_bytes_sent += len(chunk)
        except (ConnectionError, asyncio.CancelledError):
            pass  # the bot hung up, as it should
        return response

    def _failure(self) -> web.Response | None:
        if not self.fail_next:
            return None
        status, headers = self.fail_next.popleft()
        return web.json_response(
            {"error": {"code": "Stubbed", "message": "stubbed failure"}}, status=status, headers=headers
        )

    async def _post_activity(self, request: web.Request) -> web.Response:
        failure = self._failure()
        if failure is not None:
            return failure
        sent = Sent(
            conversation_id=request.match_info["conversation_id"],
            activity=await request.json(),
            reply_to_id=request.match_info.get("reply_to_id"),
            authorization=request.headers.get("Authorization"),
            id=str(uuid.uuid4()),
        )
        async with self._arrived:
            self.sent.append(sent)
            self._arrived.notify_all()
        return web.json_response({"id": sent.id})

    async def _put_activity(self, request: web.Request) -> web.Response:
        activity_id = request.match_info["activity_id"]
        self.updated.append(Sent(request.match_info["conversation_id"], await request.json(), id=activity_id))
        return web.json_response({"id": activity_id})

    async def _create_conversation(self, request: web.Request) -> web.Response:
        failure = self._failure()
        if failure is not None:
            return failure
        body = await request.json()
        self.created_conversations.append(body)
        return web.json_response({"id": f"a:{uuid.uuid4().hex}", "serviceUrl": self.url}, status=201)

    async def _get_member(self, request: web.Request) -> web.Response:
        self.member_lookups += 1
        member = self.members.get(request.match_info["user_id"])
        if member is None:
            return web.json_response({"error": {"code": "MemberNotFound"}}, status=404)
        return web.json_response(member)

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Sent]:
        """Wait until at least `count` activities have been sent in all; return them."""
        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: len(self.sent) >= count), timeout)
        return list(self.sent)


async def start_stub_connector() -> StubConnector:
    stub = StubConnector()
    stub.server = TestServer(stub.app(), host="127.0.0.1")
    await stub.server.start_server()
    return stub
