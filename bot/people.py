"""Who is talking: the person behind an activity, looked up once and then cached.

A person is (tenant id, Entra object id), both from the authenticated activity. Teams gives the
e-mail only through `TeamsInfo.get_member`, a real HTTP call, and only in the bot's own tenant is
it used at all: there it links the placeholder stored under that address (an import, an
assignment). From any other tenant an e-mail is ignored, so nobody becomes a person they are not.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.turn import tenant_of
from services.people import Identity
from storage import tracker
from storage.models import Person

log = logging.getLogger(__name__)

# The terminal chat (`recbot chat`) puts the e-mail in the sender id: "local:jane@force.police.uk".
# Whoever runs it has the database already, so there the e-mail is the identity.
LOCAL_CHANNEL = "recbot-terminal"
LOCAL_PREFIX = "local:"


class PeopleDirectory:
    """Resolves the sender of an activity to a stored person, caching by channel, tenant and sender id.

    Entries expire after `ttl` seconds so that admin rights granted or revoked through another
    instance take effect within minutes; this instance forgets at once (`forget_all`).
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        admins: tuple[str, ...],
        *,
        home_tenant: str | None,
        size: int = 5000,
        ttl: float = 300.0,
    ):
        self._sessionmaker = sessionmaker
        self._admins = frozenset(admins)
        self._home_tenant = home_tenant
        self._cache: OrderedDict[tuple[str | None, str | None, str], tuple[float, Identity]] = OrderedDict()
        self._size = size
        self._ttl = ttl

    def forget_all(self) -> None:
        self._cache.clear()

    async def identify(self, context: TurnContext) -> Identity | None:
        """The person who sent this activity (None when the activity names nobody)."""
        activity = context.activity
        sender = activity.from_property
        if sender is None or not sender.id:
            return None
        tenant_id = tenant_of(activity)
        key = (activity.channel_id, tenant_id, sender.id)
        cached = self._cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < self._ttl:
            self._cache.move_to_end(key)
            return cached[1]
        person = await self._person(context, tenant_id)
        identity = Identity(person.id, person.email, person.name, person.is_admin or self.is_bootstrap_admin(person))
        self._cache[key] = (time.monotonic(), identity)
        if len(self._cache) > self._size:
            self._cache.popitem(last=False)
        return identity

    def is_bootstrap_admin(self, person: Person) -> bool:
        """True when RECBOT_ADMINS names this person.

        By e-mail: an address is only ever stored on a talking person in the home tenant (or is the
        terminal's own), so it is safe to compare. By object id: only in the home tenant, if known.
        """
        if person.email and person.email.lower() in self._admins:
            return True
        in_home = self._home_tenant is None or person.tenant_id == self._home_tenant
        return bool(person.aad_object_id) and in_home and (person.aad_object_id or "").lower() in self._admins

    async def _person(self, context: TurnContext, tenant_id: str | None) -> Person:
        activity = context.activity
        sender = activity.from_property
        teams_user_id = sender.id if activity.channel_id == "msteams" else None
        if activity.channel_id == LOCAL_CHANNEL and sender.id.startswith(LOCAL_PREFIX):
            async with self._sessionmaker.begin() as session:
                person = await tracker.person_by_email(session, sender.id.removeprefix(LOCAL_PREFIX))
                assert person is not None  # created when missing
                return person
        if not sender.aad_object_id:
            async with self._sessionmaker.begin() as session:
                return await tracker.remember_channel_user(
                    session, tenant_id=tenant_id, user_id=sender.id, name=sender.name or None
                )
        name = sender.name or None
        email: str | None = None
        in_home = activity.channel_id == "msteams" and tenant_id is not None and tenant_id == self._home_tenant
        if in_home:
            async with self._sessionmaker() as session:
                known = await tracker.person_by_identity(
                    session, tenant_id=tenant_id, aad_object_id=sender.aad_object_id
                )
            if known is None or not known.email:
                email, name = await self._teams_profile(context, name)
        for attempt in range(2):
            try:
                async with self._sessionmaker.begin() as session:
                    return await tracker.remember_person(
                        session,
                        tenant_id=tenant_id,
                        aad_object_id=sender.aad_object_id,
                        name=name,
                        teams_user_id=teams_user_id,
                        email=email,
                    )
            except IntegrityError:
                # A person's first two activities at once (a message and a card refresh): the
                # other turn stored them first, so the second attempt finds the row it wrote.
                if attempt:
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    async def _teams_profile(context: TurnContext, name: str | None) -> tuple[str | None, str | None]:
        try:
            member = await TeamsInfo.get_member(context, context.activity.from_property.id)
        except Exception as error:  # noqa: BLE001 - a profile is nice to have, never required
            log.warning("could not look up the Teams profile of a sender: %s", type(error).__name__)
            return None, name
        return (member.email or member.user_principal_name or None), (member.name or name)
