"""A counting stub Bot Connector for load: answers like Teams and keeps nothing but counts."""

from __future__ import annotations

import uuid

from aiohttp import web


def member_of(user_id: str) -> dict[str, str]:
    """How the connector describes a load user: `29:bench-user-7` is officer7@force.police.uk."""
    suffix = user_id.rsplit("-", 1)[-1]
    return {
        "id": user_id,
        "name": f"Officer {suffix}",
        "email": f"officer{suffix}@force.police.uk",
        "userPrincipalName": f"officer{suffix}@force.police.uk",
    }


class CountingConnector:
    """Accepts `POST /v3/conversations/{id}/activities[/{replyToId}]`; counts replies and bytes.

    Also answers `GET /v3/conversations/{id}/members/{user}` (the bot looks each sender up once per
    process to learn their e-mail, which is how RECBOT_ADMINS are recognised).
    """

    def __init__(self) -> None:
        self.replies = 0
        self.bytes = 0
        self.member_lookups = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation_id}/activities", self._post)
        app.router.add_post("/v3/conversations/{conversation_id}/activities/{reply_to_id}", self._post)
        app.router.add_get("/v3/conversations/{conversation_id}/members/{user_id}", self._member)
        return app

    async def _post(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.replies += 1
        self.bytes += len(body)
        return web.json_response({"id": uuid.uuid4().hex})

    async def _member(self, request: web.Request) -> web.Response:
        self.member_lookups += 1
        return web.json_response(member_of(request.match_info["user_id"]))
