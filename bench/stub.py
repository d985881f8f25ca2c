"""A counting stub Bot Connector for load: answers like Teams and keeps nothing but counts."""

from __future__ import annotations

import uuid

from aiohttp import web


class CountingConnector:
    """Accepts `POST /v3/conversations/{id}/activities[/{replyToId}]`; counts replies and bytes."""

    def __init__(self) -> None:
        self.replies = 0
        self.bytes = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation_id}/activities", self._post)
        app.router.add_post("/v3/conversations/{conversation_id}/activities/{reply_to_id}", self._post)
        return app

    async def _post(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.replies += 1
        self.bytes += len(body)
        return web.json_response({"id": uuid.uuid4().hex})
