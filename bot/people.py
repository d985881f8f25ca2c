"""Who is talking: the person behind an activity, looked up once and then cached.

Teams gives the Entra object id on every activity but the e-mail only through
`TeamsInfo.get_member`, a real HTTP call, so each person costs one look-up per process.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from dataclasses import dataclass

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import tracker

log = logging.getLogger(__name__)

# The terminal chat (`recbot chat`) puts the e-mail in the sender id: "local:jane@force.police.uk".
LOCAL_CHANNEL = "recbot-terminal"
LOCAL_PREFIX = "local:"


@dataclass(frozen=True)
class Identity:
    person_id: int
    email: str | None
    name: str | None
    is_admin: bool


class PeopleDirectory:
    """Resolves the sender of an activity to a stored person, caching by sender id.

    Entries expire after `ttl` seconds so that admin rights granted or revoked through another
    instance take effect within minutes; this instance forgets at once (`forget_all`).
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        admins: tuple[str, ...],
        size: int = 5000,
        ttl: float = 300.0,
    ):
        self._sessionmaker = sessionmaker
        self._admins = frozenset(admins)
        self._cache: OrderedDict[str, tuple[float, Identity]] = OrderedDict()
        self._size = size
        self._ttl = ttl

    def forget_all(self) -> None:
        self._cache.clear()

    async def identify(self, context: TurnContext) -> Identity | None:
        """The person who sent this activity (None when the activity names nobody)."""
        sender = context.activity.from_property
        if sender is None or not sender.id:
            return None
        cached = self._cache.get(sender.id)
        if cached is not None and time.monotonic() - cached[0] < self._ttl:
            self._cache.move_to_end(sender.id)
            return cached[1]
        aad_object_id = sender.aad_object_id or None
        email: str | None = None
        name = sender.name or None
        if context.activity.channel_id == LOCAL_CHANNEL and sender.id.startswith(LOCAL_PREFIX):
            email = sender.id.removeprefix(LOCAL_PREFIX)
        async with self._sessionmaker.begin() as session:
            known = await tracker.find_person(session, aad_object_id=aad_object_id, email=email)
        if (known is None or not known.email) and context.activity.channel_id == "msteams":
            email, name = await self._teams_profile(context, email, name)
        async with self._sessionmaker.begin() as session:
            person = await tracker.remember_person(
                session,
                aad_object_id=aad_object_id,
                email=email,
                name=name,
                teams_user_id=sender.id if context.activity.channel_id == "msteams" else None,
            )
            identity = Identity(
                person_id=person.id,
                email=person.email,
                name=person.name,
                is_admin=person.is_admin or self._is_bootstrap_admin(person.email, person.aad_object_id),
            )
        self._cache[sender.id] = (time.monotonic(), identity)
        if len(self._cache) > self._size:
            self._cache.popitem(last=False)
        return identity

    def _is_bootstrap_admin(self, email: str | None, aad_object_id: str | None) -> bool:
        return bool({(email or "").lower(), (aad_object_id or "").lower()} & self._admins)

    @staticmethod
    async def _teams_profile(context: TurnContext, email: str | None, name: str | None) -> tuple[str | None, str | None]:
        try:
            member = await TeamsInfo.get_member(context, context.activity.from_property.id)
        except Exception as error:  # noqa: BLE001 - a profile is nice to have, never required
            log.warning("could not look up the Teams profile of %s: %r", context.activity.from_property.id, error)
            return email, name
        return (member.email or member.user_principal_name or email), (member.name or name)
