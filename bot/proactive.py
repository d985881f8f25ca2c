"""Proactive messages: sending to a stored conversation, or opening a 1:1 chat with a person.

Retries live in ONE place, the connector layer (`bot/connector.py`: 429 with Retry-After, 412,
5xx, timeouts, with backoff and jitter). This module only classifies what is left when those
retries are spent: 403/404 → `Gone` (the bot was removed or the conversation no longer exists;
the caller deactivates and logs), anything else → `DeliveryFailed`. It also paces bulk sends
under Teams' limits (BOTFRAMEWORK.md, "Proactive messages"): a few sends at a time, and at most
`per_tenant_rate` requests a second to one tenant (Teams allows about 50) from all instances
together, each send reserving its slot in the database (`storage.deliveries.reserve_send_slot`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ChannelAccount, ConversationParameters, ConversationReference
from msrest.exceptions import ClientRequestError, HttpOperationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cards.common import Reply, to_activity
from bot.cards.digest import compose_digest, compose_nudge
from bot.cards.render import render
from domain.clock import SYSTEM_CLOCK, Clock
from domain.text import one_line
from services.delivery import (
    DeliveryError,
    DeliveryFailed,
    DigestData,
    Gone,
    NoRoute,
    NudgeItem,
    Recipient,
    Sent,
)
from services.results import Result
from storage import deliveries, tracker

log = logging.getLogger(__name__)

GONE_STATUSES = frozenset({403, 404})


def _status_of(error: BaseException) -> int | None:
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def classify(error: BaseException) -> DeliveryError:
    """The delivery error a connector exception means."""
    if isinstance(error, DeliveryError):
        return error
    status = _status_of(error)
    if isinstance(error, HttpOperationError) and status in GONE_STATUSES:
        return Gone(f"the Bot Connector answered {status}", status=status)
    if isinstance(error, HttpOperationError):
        return DeliveryFailed(f"the Bot Connector answered {status}", status=status)
    if isinstance(error, (ClientRequestError, asyncio.TimeoutError, OSError)):
        return DeliveryFailed(f"the Bot Connector could not be reached: {error}")
    return DeliveryFailed(f"{type(error).__name__}: {error}")


class Pacer:
    """At most `concurrency` sends at once here, and at most `per_tenant_rate` sends a second to a tenant
    from every instance together: each send first reserves its slot in the database."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        concurrency: int = 4,
        per_tenant_rate: float = 20.0,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._slots = asyncio.Semaphore(concurrency)
        self._interval = timedelta(seconds=1.0 / per_tenant_rate)
        self._clock = clock

    async def _wait_turn(self, tenant_id: str | None) -> None:
        async with self._sessionmaker.begin() as session:
            start = await deliveries.reserve_send_slot(
                session, tenant_id=tenant_id or "", now=self._clock.now, interval=self._interval
            )
        delay = (start - self._clock.now()).total_seconds()
        if delay > 0:
            await asyncio.sleep(delay)

    async def run(self, tenant_id: str | None, operation: Callable[[], Awaitable[Any]]) -> Any:
        async with self._slots:
            await self._wait_turn(tenant_id)
            return await operation()


def _as_activity(message: Reply | Activity) -> Activity:
    return message if isinstance(message, Activity) else to_activity(message)


class Deliverer:
    """Sends proactive messages through the app's `CloudAdapter`: the services' `Messenger`."""

    def __init__(
        self,
        adapter: CloudAdapter,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        app_id: str = "",
        pacer: Pacer | None = None,
    ) -> None:
        self._adapter = adapter
        self._sessionmaker = sessionmaker
        # Local mode (no app id) needs no bot_app_id; with authentication on it must be the app id.
        self._app_id = app_id or None
        self._pacer = pacer or Pacer(sessionmaker)

    def digest(self, data: DigestData) -> Reply:
        return compose_digest(data)

    def nudge(self, audience: str, items: Sequence[NudgeItem]) -> Reply:
        return compose_nudge(audience, items)

    def notice(self, message: Result) -> Reply:
        return render(message)

    def summary(self, message: Reply) -> str:
        return one_line(message.text, 300)

    async def send_to_conversation(
        self, reference: dict[str, Any], tenant_id: str | None, message: Reply | Activity
    ) -> Sent:
        """Post a message into a stored conversation; raises Gone, DeliveryFailed."""
        conversation_reference = ConversationReference().deserialize(reference)
        if conversation_reference.conversation is None or not conversation_reference.service_url:
            raise NoRoute("the stored conversation reference has no conversation or service URL")
        activity = _as_activity(message)

        async def send() -> None:
            failure: list[BaseException] = []

            async def callback(turn_context: TurnContext) -> None:
                # Errors must not reach the adapter's on_turn_error, which would write an apology
                # into the very conversation that failed: keep them and raise below.
                try:
                    await turn_context.send_activity(activity)
                except Exception as error:  # noqa: BLE001 - classified by the caller
                    failure.append(error)

            await self._adapter.continue_conversation(conversation_reference, callback, bot_app_id=self._app_id)
            if failure:
                raise failure[0]

        try:
            await self._pacer.run(tenant_id, send)
        except Exception as error:  # noqa: BLE001 - every connector failure is classified
            raise classify(error) from error
        return Sent(conversation_reference.conversation.id)

    async def send_to_person(self, person: Recipient, message: Reply | Activity) -> Sent:
        """Message a person in their 1:1 chat with the bot, opening one when none is stored."""
        if not person.teams_user_id:
            raise NoRoute(f"person {person.person_id} has no Teams user id yet (they have never talked to the bot)")
        async with self._sessionmaker() as session:
            stored = await deliveries.personal_reference(session, person.teams_user_id)
        if stored is not None:
            try:
                return await self.send_to_conversation(stored.reference, stored.tenant_id, message)
            except Gone:
                # The old chat is gone (the app was reinstalled, say): forget it and open a new one.
                log.info("personal chat %s is gone; opening a new one", stored.conversation_id)
                async with self._sessionmaker.begin() as session:
                    await tracker.forget_conversation(session, stored.conversation_id)
        return await self._create_personal_chat(person, message)

    async def _create_personal_chat(self, person: Recipient, message: Reply | Activity) -> Sent:
        assert person.teams_user_id is not None
        async with self._sessionmaker() as session:
            tenant_id = await deliveries.person_tenant(session, person.teams_user_id)
            seen = await deliveries.tenant_reference(session, tenant_id)
        if seen is None:
            raise NoRoute("no stored conversation to take a service URL and tenant from")
        tenant_id = tenant_id or seen.tenant_id
        bot_account = seen.reference.get("bot") or {}
        bot = ChannelAccount(id=bot_account.get("id") or self._app_id, name=bot_account.get("name"))
        parameters = ConversationParameters(
            is_group=False,
            bot=bot,
            members=[ChannelAccount(id=person.teams_user_id)],
            tenant_id=tenant_id,
            channel_data={"tenant": {"id": tenant_id}} if tenant_id else None,
        )
        activity = _as_activity(message)
        created: list[dict[str, Any]] = []
        failure: list[BaseException] = []

        async def callback(turn_context: TurnContext) -> None:
            reference = TurnContext.get_conversation_reference(turn_context.activity).serialize()
            reference["conversation"] = {
                **(reference.get("conversation") or {}),
                "conversationType": "personal",
                "tenantId": tenant_id,
            }
            reference["user"] = {"id": person.teams_user_id, "name": person.name}
            reference["bot"] = bot.serialize()
            created.append(reference)
            try:
                await turn_context.send_activity(activity)
            except Exception as error:  # noqa: BLE001 - classified below
                failure.append(error)

        async def create() -> None:
            await self._adapter.create_conversation(
                self._app_id or "", callback, parameters, "msteams", seen.service_url, None
            )

        try:
            await self._pacer.run(tenant_id, create)
        except Exception as error:  # noqa: BLE001 - every connector failure is classified
            raise classify(error) from error
        if created:
            # Stored even when the first message then failed: the chat exists, the next run uses it.
            reference = created[0]
            async with self._sessionmaker.begin() as session:
                await tracker.remember_conversation(
                    session,
                    conversation_id=reference["conversation"]["id"],
                    reference=reference,
                    service_url=reference.get("serviceUrl") or seen.service_url,
                    tenant_id=tenant_id,
                    conversation_type="personal",
                    user_id=person.teams_user_id,
                )
        if failure:
            raise classify(failure[0]) from failure[0]
        if not created:
            raise DeliveryFailed("the new conversation was created but the bot never got its turn")
        return Sent(created[0]["conversation"]["id"], created_conversation=True)
