"""What is due in a digest run, and what each digest and nudge says: planning only, nothing is sent.

- **Missed runs.** `due_digest_period` returns the latest slot still due, so a run after downtime
  sends that week's digest once; a subscription made after this week's slot waits for the next.
- **Changes since** the previous digest = since that subscription's last 'sent' delivery finished;
  the first digest covers the week before it.
- **Nudges** go to owners with a Teams user id whose reminders are on; an owner with nothing to be
  reminded of today gets a 'nothing' delivery, so the day is settled and not recomputed each minute.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from domain.rag import DUE_SOON, STALE_AFTER, Rag, compute_rag
from domain.refs import reference_of
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
    DigestData,
    DigestItem,
    NudgeItem,
    Recipient,
    ReportDigest,
    Section,
)
from storage import deliveries, digests
from storage.digests import AudienceRows, ChangeRow, CountRow, DigestRows, ItemRow, SectionRows

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


# --- planning: what is due, and the data for it -----------------------------------------------


@dataclass(frozen=True)
class DigestPlan:
    key: str
    period: str
    subscription_id: int
    audience: str
    data: DigestData
    reference: deliveries.StoredReference | None = None  # channel / group chat digests
    recipient: Recipient | None = None  # personal digests


@dataclass(frozen=True)
class NudgePlan:
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
    return reference_of(row.report_code, row.kind, row.number)


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
        requested_due_on=row.requested_due_on,
        title=row.title,
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
        EventKind.TITLE_CHANGED.value: f"title changed by {who}",
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
                reference=reference_of(change.report_code, change.kind, change.number),
                item_id=change.item_id,
                description=_describe(change),
                at=change.at,
                title=change.title,
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
                waiting_for_decision=_section(sections.get("waiting_for_decision"), today),
                unassigned=_section(sections.get("unassigned"), today),
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
) -> tuple[list[DigestPlan], list[NudgePlan], list[Outcome]]:
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

    digest_plans: list[DigestPlan] = []
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
                DigestPlan(key, period_key, subscription.id, audience, data, reference=reference, recipient=recipient)
            )

    nudge_plans: list[NudgePlan] = []
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
            nudge_plans.append(NudgePlan(key, nudge_slot[0], recipient, tuple(items)))
    return digest_plans, nudge_plans, skipped


# --- delivering ------------------------------------------------------------------------------
