"""Sending what is due: weekly digests to subscriptions and daily nudges to owners, each exactly once.

`run_due` is one pass (the `recbot digest run` command and the in-process `Scheduler` both call
it). Decisions:

- **Claim, then send, then record.** Each delivery is claimed in the database under a unique key
  ("digest:{subscription}:{ISO week}", "nudge:{person}:{day}") and the claim is committed before
  anything is sent, so overlapping runs and several instances never both send.
- **Failures.** 403/404 (`Gone`) deactivates the subscription (or, for a nudge, just records it)
  and the run goes on. Other failures, after the connector layer's retries, mark the delivery
  'failed'; a later run (the scheduler's next minute) may claim it again until
  `storage.deliveries.MAX_DELIVERY_ATTEMPTS` sends have been spent on it. A claim whose process
  died mid-send stays 'claimed' and is never retried: it may have been delivered, and exactly
  once means never two successes.
- **Missed runs.** `due_digest_period` returns the latest slot still due, so a run after downtime
  sends that week's digest once; a subscription made after this week's slot waits for the next.
- **Changes since** the previous digest = since that subscription's last 'sent' delivery finished;
  the first digest covers the week before it.
- **Nudges** go to owners with a Teams user id whose reminders are on; an owner with nothing to be
  reminded of today gets a 'nothing' delivery, so the day is settled and not recomputed each minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.clock import SYSTEM_CLOCK
from domain.failures import describe_failure
from domain.rag import DUE_SOON, STALE_AFTER, Rag, compute_rag
from domain.schedule import (
    DEFAULT_DIGEST_TIME,
    DEFAULT_NUDGE_TIME,
    due_digest_period,
    nudge_period,
    nudge_reasons,
    parse_time_text,
)
from domain.text import one_line
from domain.vocabulary import Assessment, EventKind, Kind, Status
from services.delivery import (
    Change,
    DeliveryError,
    DigestData,
    DigestItem,
    Gone,
    Messenger,
    NudgeItem,
    Recipient,
    ReportDigest,
    Section,
)
from storage import deliveries, digests
from storage.database import is_unreachable
from storage.digests import AudienceRows, ChangeRow, CountRow, DigestRows, ItemRow, SectionRows
from storage.state import StateTable

log = logging.getLogger(__name__)

SHORT_TEXT_CHARS = 100
FIRST_DIGEST_LOOKBACK = timedelta(days=7)


@dataclass(frozen=True)
class RunSettings:
    """What a run needs from the configuration."""

    timezone: str = "Europe/London"
    stale_days: int = 30
    nudge_at: time = DEFAULT_NUDGE_TIME
    # Rows fetched per section per report: the most compose_digest ever shows.
    section_limit: int = 8
    changes_limit: int = 15

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> RunSettings:
        """From `bot.config.Settings` (or anything with `timezone` and, optionally, `stale_days`)."""
        values: dict[str, Any] = {"timezone": settings.timezone}
        if getattr(settings, "stale_days", None):
            values["stale_days"] = settings.stale_days
        return cls(**{**values, **overrides})

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class Outcome:
    """What happened to one due delivery in a run."""

    key: str
    kind: str  # "digest" or "nudge"
    audience: str
    outcome: str  # sent, failed, gone, nothing, taken (another run had it), skipped, dry run
    conversation_id: str | None = None
    detail: str = ""


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


# --- planning: what is due, and the data for it -----------------------------------------------


@dataclass(frozen=True)
class _DigestPlan:
    key: str
    period: str
    subscription_id: int
    audience: str
    data: DigestData
    reference: deliveries.StoredReference | None = None  # channel / group chat digests
    recipient: Recipient | None = None  # personal digests


@dataclass(frozen=True)
class _NudgePlan:
    key: str
    period: str
    recipient: Recipient
    items: tuple[NudgeItem, ...]


def _at_time(text: str) -> time:
    return parse_time_text(text) or DEFAULT_DIGEST_TIME


def top_level(reference: dict[str, Any]) -> dict[str, Any]:
    """A channel reference that posts a new message, not a reply inside a thread."""
    conversation = dict(reference.get("conversation") or {})
    conversation_id = conversation.get("id") or ""
    if ";messageid=" in conversation_id:
        conversation["id"] = conversation_id.split(";messageid=")[0]
        return {**reference, "conversation": conversation}
    return reference


def _utc_date(moment: datetime | None) -> date | None:
    return None if moment is None else moment.astimezone(timezone.utc).date()


def _reference(row: ItemRow) -> str:
    return f"{row.report_code} {Kind(row.kind).prefix}{row.number}"


# Every channel subscription of a run reads the same rows: what is worked out from one row (or one
# count bucket) is kept, as both are frozen and these functions depend on nothing else.
@lru_cache(maxsize=8192)
def _digest_item(row: ItemRow, today: date) -> DigestItem:
    return DigestItem(
        item_id=row.item_id,
        reference=_reference(row),
        label=f"{Kind(row.kind).label} {row.number}",
        short_text=one_line(row.short_text, SHORT_TEXT_CHARS),
        status=row.status,
        rag=_rag(row.status, row.assessment, row.due_on, _utc_date(row.last_update_at), today).value,
        due_on=row.due_on,
        owner_name=row.owner_name,
        last_update_on=_utc_date(row.last_update_at),
    )


def _rag(status: str, assessment: str | None, due_on: date | None, last_update_on: date | None, today: date) -> Rag:
    return compute_rag(
        status=Status(status),
        due_on=due_on,
        assessment=Assessment(assessment) if assessment else None,
        last_update_on=last_update_on,
        today=today,
    )


@lru_cache(maxsize=4096)
def _bucket_rag(count: CountRow, today: date) -> Rag:
    """The RAG of every item in a count bucket, from a representative date of each bucket."""
    due_on = {
        "none": None,
        "past": today - timedelta(days=1),
        "soon": today,
        "later": today + DUE_SOON + timedelta(days=1),
    }[count.due_bucket]
    last_update_on = {"never": None, "old": today - STALE_AFTER, "recent": today}[count.update_bucket]
    return _rag(count.status, count.assessment, due_on, last_update_on, today)


def _describe(change: ChangeRow) -> str:
    who = change.actor_name or "someone"
    if change.change == "created":
        return "new item"
    if change.change == "update":
        if change.status == Status.CLOSED.value and change.previous_status != Status.CLOSED.value:
            return "closed"
        if change.previous_status and change.status and change.previous_status != change.status:
            return f"{change.previous_status} → {change.status} (update by {who})"
        return f"update posted by {who}"
    descriptions = {
        EventKind.ASSIGNED.value: f"owner assigned by {who}",
        EventKind.DELEGATE_ADDED.value: f"delegate added by {who}",
        EventKind.DELEGATE_REMOVED.value: f"delegate removed by {who}",
        EventKind.DUE_DATE_CHANGED.value: f"due date changed by {who}",
        EventKind.CLOSURE_APPROVED.value: f"closure approved by {who}",
        EventKind.CLOSURE_REJECTED.value: f"closure rejected by {who}",
        EventKind.SUPERSEDED.value: f"superseded ({who})",
    }
    return descriptions.get(change.event_kind or "", f"{change.event_kind} by {who}")


def _section(rows: SectionRows | None, today: date) -> Section:
    if rows is None:
        return Section()
    return Section(items=tuple(_digest_item(row, today) for row in rows.rows), total=rows.total)


def assemble_digest(
    rows: DigestRows,
    audience_rows: AudienceRows,
    *,
    audience: str,
    report_id: int | None,
    item_ids: frozenset[int] | None,
    since: datetime | None,
    window_start: datetime,
    at: datetime,
    settings: RunSettings,
) -> DigestData:
    """One subscription's DigestData from the run's rows (RAG computed here, not in storage)."""
    generated_at = at.astimezone(settings.zone)
    today = generated_at.date()
    changes_by_report: dict[int, list[Change]] = defaultdict(list)
    for change in rows.changes:
        after_start = change.at > window_start if since is not None else change.at >= window_start
        if not (after_start and change.at <= at):
            continue
        if item_ids is not None and change.item_id not in item_ids:
            continue
        changes_by_report[change.report_id].append(
            Change(
                reference=f"{change.report_code} {Kind(change.kind).prefix}{change.number}",
                item_id=change.item_id,
                description=_describe(change),
                at=change.at,
            )
        )
    report_ids = sorted(set(audience_rows.counts) | set(changes_by_report))
    if report_id is not None:
        report_ids = [r for r in report_ids if r == report_id]
    reports = []
    for rid in report_ids:
        report = rows.reports.get(rid)
        if report is None:
            continue
        by_status: dict[str, int] = defaultdict(int)
        by_rag: dict[str, int] = defaultdict(int)
        for count in audience_rows.counts.get(rid, []):
            by_status[count.status] += count.count
            by_rag[_bucket_rag(count, today).value] += count.count
        changes = changes_by_report.get(rid, [])
        sections = audience_rows.sections.get(rid, {})
        reports.append(
            ReportDigest(
                code=report.code,
                title=report.title,
                counts_by_status=dict(by_status),
                counts_by_rag=dict(by_rag),
                changes=tuple(changes[-settings.changes_limit :]),
                changes_total=len(changes),
                overdue=_section(sections.get("overdue"), today),
                due_soon=_section(sections.get("due_soon"), today),
                stale=_section(sections.get("stale"), today),
                awaiting_sign_off=_section(sections.get("awaiting_sign_off"), today),
            )
        )
    return DigestData(
        audience=audience,
        generated_at=generated_at,
        since=since,
        stale_days=settings.stale_days,
        reports=tuple(reports),
    )


def _channel_audience(reference: deliveries.StoredReference | None) -> str:
    conversation = (reference.reference.get("conversation") or {}) if reference else {}
    name = conversation.get("name")
    if name:
        return str(name)
    kind = (reference.conversation_type if reference else None) or "channel"
    return "this group chat" if kind == "groupChat" else "this channel"


async def plan_run(
    session: AsyncSession, *, at: datetime, settings: RunSettings
) -> tuple[list[_DigestPlan], list[_NudgePlan], list[Outcome]]:
    """Everything due at `at` and not yet settled, with its data: a bounded number of queries."""
    zone = settings.zone
    today = at.astimezone(zone).date()
    skipped: list[Outcome] = []

    due: list[tuple[Any, str, str]] = []  # (subscription, period, key)
    for subscription in await digests.active_subscriptions(session):
        period = due_digest_period(at, subscription.weekday, _at_time(subscription.at_time), zone)
        if period is None:
            continue
        period_key, slot = period
        # Subscribed after this week's slot: the first digest is next week's.
        if subscription.created_at is not None and slot < subscription.created_at:
            continue
        due.append((subscription, period_key, f"digest:{subscription.id}:{period_key}"))

    nudge_slot = nudge_period(at, settings.nudge_at, zone)
    nudge_keys: dict[int, str] = {}
    if nudge_slot is not None:
        for owner_id in await digests.nudge_owner_ids(session, today=today):
            nudge_keys[owner_id] = f"nudge:{owner_id}:{nudge_slot[0]}"

    settled = await deliveries.settled_keys(session, [key for _, _, key in due] + list(nudge_keys.values()))
    due = [entry for entry in due if entry[2] not in settled]
    nudge_keys = {owner: key for owner, key in nudge_keys.items() if key not in settled}

    digest_plans: list[_DigestPlan] = []
    if due:
        refs = await deliveries.references(session, [s.conversation_id for s, _, _ in due if s.person_id is None])
        people = await deliveries.people_by_id(session, {s.person_id for s, _, _ in due if s.person_id is not None})
        # Nowhere to send yet: say so, and spend no queries building what cannot go out.
        deliverable = []
        for entry in due:
            subscription, _, key = entry
            if subscription.person_id is not None:
                person = people.get(subscription.person_id)
                if person is None or not person.teams_user_id:
                    audience = person.name if person else "you"
                    skipped.append(
                        Outcome(key, "digest", audience, "skipped", detail="no Teams chat with this person yet")
                    )
                    continue
            elif subscription.conversation_id not in refs:
                skipped.append(
                    Outcome(
                        key, "digest", "this channel", "skipped", detail="no stored reference for this conversation"
                    )
                )
                continue
            deliverable.append(entry)
        due = deliverable

    if due:
        subscriptions = [subscription for subscription, _, _ in due]
        last_sent = await deliveries.last_sent_at(session, [s.id for s in subscriptions])
        personal_ids = {s.person_id for s in subscriptions if s.person_id is not None}
        channel = [s for s in subscriptions if s.person_id is None]
        report_ids = None if any(s.report_id is None for s in channel) else {s.report_id for s in channel}
        window_starts = {s.id: last_sent.get(s.id, at - FIRST_DIGEST_LOOKBACK) for s in subscriptions}
        rows = await digests.digest_rows(
            session,
            report_ids=report_ids,
            person_ids=personal_ids,
            since=min(window_starts.values()),
            today=today,
            stale_days=settings.stale_days,
            due_soon_days=DUE_SOON.days,
            rag_stale_days=STALE_AFTER.days,
            limit=settings.section_limit,
            include_everyone=bool(channel),
        )
        for subscription, period_key, key in due:
            if subscription.person_id is None:
                reference = refs.get(subscription.conversation_id)
                audience = _channel_audience(reference)
                audience_rows, item_ids, recipient = rows.everyone, None, None
            else:
                person = people.get(subscription.person_id)
                audience = person.name if person else "you"
                audience_rows = rows.people.get(subscription.person_id, AudienceRows())
                item_ids = rows.person_items.get(subscription.person_id, frozenset())
                reference = None
                recipient = Recipient(subscription.person_id, person.teams_user_id if person else None, audience)
            data = assemble_digest(
                rows,
                audience_rows,
                audience=audience,
                report_id=subscription.report_id,
                item_ids=item_ids,
                since=last_sent.get(subscription.id),
                window_start=window_starts[subscription.id],
                at=at,
                settings=settings,
            )
            digest_plans.append(
                _DigestPlan(key, period_key, subscription.id, audience, data, reference=reference, recipient=recipient)
            )

    nudge_plans: list[_NudgePlan] = []
    if nudge_keys and nudge_slot is not None:
        candidates = await digests.nudge_candidates(session, today=today, owner_ids=list(nudge_keys))
        last_nudged = await deliveries.last_nudged_on(session, list(nudge_keys))
        by_owner: dict[int, list[digests.NudgeRow]] = defaultdict(list)
        for candidate in candidates:
            by_owner[candidate.owner_id].append(candidate)
        for owner_id, key in nudge_keys.items():
            owned = by_owner.get(owner_id, [])
            if not owned:
                continue
            last_nudged_on = last_nudged.get(owner_id)
            items = []
            for candidate in owned:
                reasons = nudge_reasons(
                    today=today,
                    due_on=candidate.item.due_on,
                    last_update_on=_utc_date(candidate.item.last_update_at),
                    status=candidate.item.status,
                    stale_days=settings.stale_days,
                    last_nudged_on=last_nudged_on,
                )
                if reasons:
                    items.append(NudgeItem(_digest_item(candidate.item, today), reasons))
            recipient = Recipient(owner_id, owned[0].teams_user_id, owned[0].owner_name)
            nudge_plans.append(_NudgePlan(key, nudge_slot[0], recipient, tuple(items)))
    return digest_plans, nudge_plans, skipped


# --- delivering ------------------------------------------------------------------------------


async def _record(sessionmaker: async_sessionmaker[AsyncSession], key: str, outcome: str, error: str | None) -> None:
    try:
        async with sessionmaker.begin() as session:
            await deliveries.finish(session, key=key, outcome=outcome, attempts=1, error=error)
    except Exception as failure:  # noqa: BLE001 - the claim stays 'claimed': never sent twice, and logged
        log.error("could not record the outcome %r of delivery %s: %s", outcome, key, describe_failure(failure))


async def _deliver_digest(
    plan: _DigestPlan, *, sessionmaker: async_sessionmaker[AsyncSession], deliverer: Messenger
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
    plan: _NudgePlan, *, sessionmaker: async_sessionmaker[AsyncSession], deliverer: Messenger
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
    plans: list[_DigestPlan], nudges: list[_NudgePlan], messenger: Messenger, out: TextIO | None
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
    """Runs `run_due` every minute inside `recbot serve`; errors are logged, never raised."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        deliverer: Messenger,
        settings: RunSettings,
        interval: float = 60.0,
        clock: Callable[[], datetime] = SYSTEM_CLOCK.now,
        stop_grace: float = 20.0,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._deliverer = deliverer
        self._settings = settings
        self._interval = interval
        self._clock = clock
        self._stop_grace = stop_grace
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
        while not self._stopping.is_set():
            await self.run_once()
            # Wake at the start of the next interval (the next minute), or at once when stopping.
            now = self._clock().timestamp()
            delay = self._interval - (now % self._interval) if self._interval >= 1 else self._interval
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
