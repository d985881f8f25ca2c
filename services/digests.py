"""Sending what is due: weekly digests to subscriptions and daily nudges to owners, each exactly once.

`run_due` is one pass over what `services/digest_plan.py` finds due (the `recbot digest run`
command and the in-process `Scheduler` both call it). Decisions:

- **Claim, then send, then record.** Each delivery is claimed in the database under a unique key
  ("digest:{subscription}:{ISO week}", "nudge:{person}:{day}") and the claim is committed before
  anything is sent, so overlapping runs and several instances never both send.
- **Failures.** 403/404 (`Gone`) deactivates the subscription (or, for a nudge, just records it)
  and the run goes on. Other failures, after the connector layer's retries, mark the delivery
  'failed'; a later run (the scheduler's next minute) may claim it again until
  `storage.deliveries.MAX_DELIVERY_ATTEMPTS` sends have been spent on it. A claim whose process
  died mid-send stays 'claimed' and is never retried: it may have been delivered, and exactly
  once means never two successes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TextIO

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.clock import SYSTEM_CLOCK
from domain.failures import describe_failure
from services.delivery import (
    DeliveryError,
    Gone,
    Messenger,
)
from services.digest_plan import DigestPlan, NudgePlan, Outcome, RunSettings, plan_run, top_level
from storage import deliveries, digests
from storage.database import is_unreachable
from storage.state import StateTable

log = logging.getLogger(__name__)


@dataclass
class RunReport:
    at: datetime
    dry_run: bool
    outcomes: list[Outcome] = field(default_factory=list)
    # Another instance's run held the lock: this one planned and sent nothing.
    elsewhere: bool = False

    def count(self, outcome: str, kind: str | None = None) -> int:
        return sum(1 for o in self.outcomes if o.outcome == outcome and (kind is None or o.kind == kind))

    @property
    def sent(self) -> int:
        return self.count(deliveries.SENT)

    @property
    def failed(self) -> int:
        return self.count(deliveries.FAILED)

    @property
    def gone(self) -> int:
        return self.count(deliveries.GONE)

    def summary(self) -> str:
        kinds = ("sent", "failed", "gone", "taken", "skipped", "dry run")
        parts = [f"{self.count(kind)} {kind}" for kind in kinds if self.count(kind)]
        if self.elsewhere:
            parts = ["another instance's run is under way"]
        return f"digest run at {self.at.isoformat()}: " + (", ".join(parts) or "nothing due")


async def _record(sessionmaker: async_sessionmaker[AsyncSession], key: str, outcome: str, error: str | None) -> None:
    try:
        async with sessionmaker.begin() as session:
            await deliveries.finish(session, key=key, outcome=outcome, attempts=1, error=error)
    except Exception as failure:  # noqa: BLE001 - the claim stays 'claimed': never sent twice, and logged
        log.error("could not record the outcome %r of delivery %s: %s", outcome, key, describe_failure(failure))


async def _deliver_digest(
    plan: DigestPlan, *, sessionmaker: async_sessionmaker[AsyncSession], deliverer: Messenger
) -> Outcome:
    # Composed before the claim: a composing bug must not leave a claim that is never finished.
    reply = deliverer.digest(plan.data)
    async with sessionmaker.begin() as session:
        won = await deliveries.claim(
            session, key=plan.key, kind="digest", period=plan.period, subscription_id=plan.subscription_id
        )
    if not won:
        return Outcome(plan.key, "digest", plan.audience, "taken")
    try:
        if plan.reference is not None:
            sent = await deliverer.send_to_conversation(
                top_level(plan.reference.reference), plan.reference.tenant_id, reply
            )
        else:
            assert plan.recipient is not None
            sent = await deliverer.send_to_person(plan.recipient, reply)
    except Gone as error:
        log.warning("digest subscription %s deactivated: %s", plan.subscription_id, error)
        # One transaction: a subscription is never left deactivated with its claim unfinished.
        async with sessionmaker.begin() as session:
            await digests.deactivate(session, plan.subscription_id, f"conversation gone: {error}")
            await deliveries.finish(session, key=plan.key, outcome=deliveries.GONE, attempts=1, error=str(error))
        return Outcome(plan.key, "digest", plan.audience, deliveries.GONE, detail=str(error))
    except Exception as error:  # noqa: BLE001 - one failing conversation never blocks the rest
        if not isinstance(error, DeliveryError):
            log.error("digest %s failed: %s", plan.key, describe_failure(error))
        else:
            log.warning("digest %s failed: %s", plan.key, error)
        await _record(sessionmaker, plan.key, deliveries.FAILED, f"{type(error).__name__}: {error}")
        return Outcome(plan.key, "digest", plan.audience, deliveries.FAILED, detail=str(error))
    await _record(sessionmaker, plan.key, deliveries.SENT, None)
    return Outcome(plan.key, "digest", plan.audience, deliveries.SENT, conversation_id=sent.conversation_id)


async def _deliver_nudge(
    plan: NudgePlan, *, sessionmaker: async_sessionmaker[AsyncSession], deliverer: Messenger
) -> Outcome:
    audience = plan.recipient.name or "owner"
    reply = deliverer.nudge(audience, plan.items) if plan.items else None
    async with sessionmaker.begin() as session:
        won = await deliveries.claim(
            session, key=plan.key, kind="nudge", period=plan.period, person_id=plan.recipient.person_id
        )
        if won and reply is None:
            await deliveries.finish(session, key=plan.key, outcome=deliveries.NOTHING, attempts=0)
    if not won:
        return Outcome(plan.key, "nudge", audience, "taken")
    if reply is None:
        return Outcome(plan.key, "nudge", audience, deliveries.NOTHING)
    try:
        sent = await deliverer.send_to_person(plan.recipient, reply)
    except Gone as error:
        log.warning("nudge %s: the person's chat is gone: %s", plan.key, error)
        await _record(sessionmaker, plan.key, deliveries.GONE, str(error))
        return Outcome(plan.key, "nudge", audience, deliveries.GONE, detail=str(error))
    except Exception as error:  # noqa: BLE001 - one failing person never blocks the rest
        if not isinstance(error, DeliveryError):
            log.error("nudge %s failed: %s", plan.key, describe_failure(error))
        else:
            log.warning("nudge %s failed: %s", plan.key, error)
        await _record(sessionmaker, plan.key, deliveries.FAILED, f"{type(error).__name__}: {error}")
        return Outcome(plan.key, "nudge", audience, deliveries.FAILED, detail=str(error))
    await _record(sessionmaker, plan.key, deliveries.SENT, None)
    return Outcome(plan.key, "nudge", audience, deliveries.SENT, conversation_id=sent.conversation_id)


def _dry_run(
    plans: list[DigestPlan], nudges: list[NudgePlan], messenger: Messenger, out: TextIO | None
) -> list[Outcome]:
    """What would be sent, composed but not sent."""
    outcomes = []
    for plan in plans:
        reply = messenger.digest(plan.data)
        if plan.reference is not None:
            where = f"conversation {top_level(plan.reference.reference)['conversation']['id']}"
        else:
            assert plan.recipient is not None  # plan_run keeps only digests that have somewhere to go
            where = f"1:1 chat with {plan.recipient.teams_user_id}"
        outcomes.append(Outcome(plan.key, "digest", plan.audience, "dry run", detail=where))
        if out is not None:
            out.write(f"[{plan.key}] digest to {plan.audience} in {where}:\n  {messenger.summary(reply)}\n")
    for nudge in nudges:
        if not nudge.items:
            continue
        reply = messenger.nudge(nudge.recipient.name or "owner", nudge.items)
        where = f"1:1 chat with {nudge.recipient.teams_user_id}"
        outcomes.append(Outcome(nudge.key, "nudge", nudge.recipient.name or "owner", "dry run", detail=where))
        if out is not None:
            out.write(f"[{nudge.key}] nudge to {nudge.recipient.name} in {where}:\n  {messenger.summary(reply)}\n")
    if out is not None and not outcomes:
        out.write("nothing is due\n")
    return outcomes


# Conversation state not written for this long is deleted (an update dialog expires after 30 minutes).
STATE_KEPT = timedelta(days=30)


async def run_due(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    deliverer: Messenger,
    settings: RunSettings,
    at: datetime,
    dry_run: bool = False,
    out: TextIO | None = None,
) -> RunReport:
    """Send every digest and nudge due at `at` and not yet sent, and delete stale conversation state; `dry_run` only prints.

    A run that finds another instance's run under way does nothing (`RunReport.elsewhere`).
    """
    if at.tzinfo is None:
        raise ValueError("at must be an aware datetime")
    report = RunReport(at=at, dry_run=dry_run)
    if dry_run:
        return await _run(report, sessionmaker, deliverer, settings, out)
    async with deliveries.one_run_at_a_time(sessionmaker.kw["bind"]) as ours:
        if not ours:
            report.elsewhere = True
            if out is not None:
                out.write(report.summary() + "\n")
            return report
        return await _run(report, sessionmaker, deliverer, settings, out)


async def _run(
    report: RunReport,
    sessionmaker: async_sessionmaker[AsyncSession],
    deliverer: Messenger,
    settings: RunSettings,
    out: TextIO | None,
) -> RunReport:
    at, dry_run = report.at, report.dry_run
    async with sessionmaker() as session:
        plans, nudges, skipped = await plan_run(session, at=at, settings=settings)
    report.outcomes.extend(skipped)
    if dry_run:
        report.outcomes.extend(_dry_run(plans, nudges, deliverer, out))
        return report
    # Housekeeping rides on the run (one instance at a time, cron included): old conversation state.
    await StateTable(sessionmaker).delete_expired(at - STATE_KEPT)
    jobs: list[Coroutine[Any, Any, Outcome]] = [
        _deliver_digest(plan, sessionmaker=sessionmaker, deliverer=deliverer) for plan in plans
    ] + [_deliver_nudge(plan, sessionmaker=sessionmaker, deliverer=deliverer) for plan in nudges]
    # The Messenger's pacer (bot/proactive.py) bounds how many sends run at once; each job catches its own failures.
    for result in await asyncio.gather(*jobs, return_exceptions=True):
        if isinstance(result, BaseException):
            log.error("a delivery failed outside its own error handling: %s", describe_failure(result))
            report.outcomes.append(Outcome("?", "?", "?", deliveries.FAILED, detail=repr(result)))
        else:
            report.outcomes.append(result)
    if out is not None:
        for outcome in report.outcomes:
            where = f" in {outcome.conversation_id}" if outcome.conversation_id else ""
            detail = f" ({outcome.detail})" if outcome.detail else ""
            out.write(f"[{outcome.key}] {outcome.kind} to {outcome.audience}{where}: {outcome.outcome}{detail}\n")
        out.write(report.summary() + "\n")
    return report


class Scheduler:
    """Runs `run_due` every minute inside `recbot serve` (the first time `first_run_after` seconds after
    `start`); errors are logged, never raised."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        deliverer: Messenger,
        settings: RunSettings,
        interval: float = 60.0,
        clock: Callable[[], datetime] = SYSTEM_CLOCK.now,
        stop_grace: float = 20.0,
        first_run_after: float = 0.0,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._deliverer = deliverer
        self._settings = settings
        self._interval = interval
        self._clock = clock
        self._stop_grace = stop_grace
        self._first_run_after = first_run_after
        self._task: asyncio.Task[None] | None = None
        self._stopping: asyncio.Event | None = None
        self.runs = 0

    def start(self) -> None:
        """Start the loop (in the running event loop)."""
        if self._task is not None:
            return
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self._loop(), name="recbot-digest-scheduler")

    async def stop(self) -> None:
        """Let a run in progress finish (up to `stop_grace` seconds), then stop."""
        if self._task is None or self._stopping is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), self._stop_grace)
        except TimeoutError:
            # Cancelling mid-send leaves that claim 'claimed': it is not sent again (at most once).
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None

    async def run_once(self) -> RunReport | None:
        try:
            report = await run_due(
                sessionmaker=self._sessionmaker, deliverer=self._deliverer, settings=self._settings, at=self._clock()
            )
        except Exception as error:  # noqa: BLE001 - the scheduler must outlive any one run
            if is_unreachable(error):
                log.warning(
                    "digest run skipped: database unreachable (%s)", describe_failure(error, with_traceback=False)
                )
            else:
                log.error("digest run failed: %s", describe_failure(error))
            return None
        finally:
            self.runs += 1
        if report.outcomes:
            log.info(report.summary())
        return report

    async def _loop(self) -> None:
        assert self._stopping is not None
        if self._first_run_after > 0:
            # What is due stays due (a slot for a week, a nudge for its day): a first run a few
            # seconds late sends the same, and keeps its queries and imports off start-up.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._first_run_after)
        while not self._stopping.is_set():
            await self.run_once()
            # Wake at the start of the next interval (the next minute), or at once when stopping.
            now = self._clock().timestamp()
            delay = self._interval - (now % self._interval) if self._interval >= 1 else self._interval
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
