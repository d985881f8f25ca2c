"""Notices: a message to one person's 1:1 chat about something that needs them, sent once.

Who gets one: the new owner when assigned, a delegate when added, every admin when a lead asks
for sign-off or a later date, and the lead when either is decided. Each notice names why it is
sent (`key`); like a digest, the delivery "notice:{key}:{person}" is claimed in `deliveries`
before sending, so a redelivered activity or a second instance never sends it twice. A notice
that fails is recorded and not retried: what it said stays visible in `what needs my decision`
and `what's waiting on me`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.failures import describe_failure
from services.delivery import DeliveryError, Gone, Messenger, Recipient
from services.results import Result
from storage import deliveries

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Notice:
    """What to tell one person, and why (`key`, unique per reason: "assigned:event-12")."""

    person_id: int
    message: Result
    key: str
    item_id: int | None = None  # the item it is about: the notice goes into the item's history


# How services hand notices over once their transaction has committed (`Notifier.deliver`).
Notify = Callable[[Sequence[Notice]], Awaitable[None]]


async def nobody(notices: Sequence[Notice]) -> None:
    """A Notify that sends nothing (`recbot chat` and tests that do not look at notices)."""


class Notifier:
    """Claims, sends and records notices through the Messenger port (bot/proactive.Deliverer)."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], messenger: Messenger, today: Callable[[], date]
    ) -> None:
        self._sessionmaker = sessionmaker
        self._messenger = messenger
        self._today = today

    async def deliver(self, notices: Sequence[Notice]) -> None:
        """Send each notice not sent before; a failure is logged and never undoes what was decided."""
        for notice in notices:
            try:
                await self._deliver(notice)
            except Exception as error:  # noqa: BLE001 - one person's failed notice must not stop the rest
                log.error("notice %s to person %s failed: %s", notice.key, notice.person_id, describe_failure(error))

    async def _deliver(self, notice: Notice) -> None:
        key = f"notice:{notice.key}:{notice.person_id}"
        message = self._messenger.notice(notice.message)  # composed before the claim, like digests
        async with self._sessionmaker.begin() as session:
            won = await deliveries.claim(
                session,
                key=key,
                kind="notice",
                period=self._today().isoformat(),
                person_id=notice.person_id,
                retry_failed=False,
            )
            person = (await deliveries.people_by_id(session, [notice.person_id])).get(notice.person_id)
        if not won:
            return
        outcome, error, why = deliveries.SENT, None, ""
        try:
            if person is None:
                raise Gone(f"person {notice.person_id} no longer exists")
            await self._messenger.send_to_person(
                Recipient(person.person_id, person.teams_user_id, person.name), message
            )
        except DeliveryError as failure:
            outcome = deliveries.GONE if isinstance(failure, Gone) else deliveries.FAILED
            error, why = f"{type(failure).__name__}: {failure}", f"Not delivered ({failure}): "
            log.warning("notice %s not delivered: %s", key, failure)
        async with self._sessionmaker.begin() as session:
            await deliveries.finish(session, key=key, outcome=outcome, attempts=1, error=error)
            if notice.item_id is not None and person is not None:
                said = self._messenger.summary(message)
                await deliveries.record_notice(session, notice.item_id, person.person_id, why + said)
