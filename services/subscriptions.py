"""The digest and reminder commands: subscribe, unsubscribe, digest settings, personal digests, reminders.

Each method answers with a `Said`; the handler passes who is speaking (`Identity`) and where
(`Place`, built from the activity with `Place.from_activity`).

Channel digests are stored against the channel itself ("19:…@thread.tacv2", without the
";messageid=…" of the thread the command was typed in), with a reference for that channel, so
every digest is a new top-level post rather than a reply buried in an old thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.dates import format_uk_date, parse_user_date
from domain.schedule import DEFAULT_DIGEST_TIME, DEFAULT_DIGEST_WEEKDAY, describe_schedule, parse_time_text
from domain.text import safe_text
from services.people import Identity
from services.requests import PersonalDigest, SnoozeReminders, Subscribe, Unsubscribe
from services.results import Result, Said
from storage import digests, tracker
from storage.models import DigestSubscription

MAX_SNOOZE_DAYS = 366
PERSONAL_ONLY = (
    "Use `send me a weekly digest` here for a digest of your own items; channel digests are set up in the channel."
)
CHANNEL_ONLY = (
    "Channel digests are set up in a channel or group chat: `@RecBot subscribe this channel to the weekly digest`."
)
ADMINS_ONLY = "Only admins can set up or stop a channel's digest. Ask an admin, or use `send me a weekly digest` in your chat with me."
UNKNOWN_PERSON = "I couldn't tell who you are, so I can't change that for you."


@dataclass(frozen=True)
class Place:
    """The conversation a command was typed in."""

    conversation_id: str
    conversation_type: str  # personal, groupChat or channel
    tenant_id: str | None
    service_url: str
    reference: dict[str, Any]

    @property
    def is_personal(self) -> bool:
        return self.conversation_type == "personal"

    @property
    def digest_conversation_id(self) -> str:
        """Where a channel digest goes: the channel, not the thread the command came from."""
        return self.conversation_id.split(";messageid=")[0]


def _schedule_words(subscription: DigestSubscription, zone_name: str, report_code: str | None) -> str:
    return describe_schedule(
        subscription.weekday, parse_time_text(subscription.at_time) or DEFAULT_DIGEST_TIME, zone_name, report_code
    )


class DigestCommands:
    """Digest subscriptions and reminder settings, one transaction per command."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], *, timezone: str = "Europe/London") -> None:
        self._sessionmaker = sessionmaker
        self._timezone = timezone

    def _when(self, weekday: int | None, time_text: str | None) -> tuple[int, time] | str:
        at = DEFAULT_DIGEST_TIME if time_text is None else parse_time_text(time_text)
        if at is None:
            return f"I couldn't read {time_text!r} as a time of day. Try `on Friday at 8am` or `at 14:30`."
        return (DEFAULT_DIGEST_WEEKDAY if weekday is None else weekday), at

    async def _report(self, session: AsyncSession, code: str | None) -> tuple[int | None, str | None] | str:
        if code is None:
            return None, None
        report = await tracker.report_by_code(session, code)
        if report is None:
            return f"I don't know a report with the code {code}. Type `list recommendations` to see the reports."
        return report.id, report.code

    async def subscribe(self, request: Subscribe, *, identity: Identity | None, place: Place) -> Result:
        """`subscribe this channel to the weekly digest [on Friday at 8am] [for OIC-2025]` (admins, in a channel)."""
        if place.is_personal:
            return Said(PERSONAL_ONLY)
        if identity is None or not identity.is_admin:
            return Said(ADMINS_ONLY)
        when = self._when(request.weekday, request.time_text)
        if isinstance(when, str):
            return Said(when)
        weekday, at = when
        async with self._sessionmaker.begin() as session:
            report = await self._report(session, request.report_code)
            if isinstance(report, str):
                return Said(report)
            report_id, report_code = report
            channel_id = place.digest_conversation_id
            reference = {
                **place.reference,
                "conversation": {**place.reference.get("conversation", {}), "id": channel_id},
            }
            await tracker.remember_conversation(
                session,
                conversation_id=channel_id,
                reference=reference,
                service_url=place.service_url,
                tenant_id=place.tenant_id,
                conversation_type=place.conversation_type,
            )
            subscription, created = await digests.subscribe(
                session,
                conversation_id=channel_id,
                report_id=report_id,
                weekday=weekday,
                at_time=f"{at:%H:%M}",
                created_by_id=identity.person_id,
            )
            words = _schedule_words(subscription, self._timezone, report_code)
        where = "this group chat" if place.conversation_type == "groupChat" else "this channel"
        verb = "will get" if created else "now gets"
        return Said(f"Done: {where} {verb} the weekly digest {words}.")

    async def unsubscribe(self, request: Unsubscribe, *, identity: Identity | None, place: Place) -> Result:
        """`unsubscribe [from OIC-2025]`: a channel's digest (admins), or your own in a personal chat."""
        if place.is_personal:
            if identity is None:
                return Said(UNKNOWN_PERSON)
            target: dict[str, Any] = {"person_id": identity.person_id}
        else:
            if identity is None or not identity.is_admin:
                return Said(ADMINS_ONLY)
            target = {"conversation_id": place.digest_conversation_id}
        async with self._sessionmaker.begin() as session:
            report = await self._report(session, request.report_code)
            if isinstance(report, str):
                return Said(report)
            report_id, report_code = report
            if report_code is None:
                stopped = await digests.unsubscribe(session, **target)
            else:
                stopped = await digests.unsubscribe(session, **target, report_id=report_id)
        if not stopped:
            return Said("There was no weekly digest set up here to stop.")
        scope = f" for {report_code}" if report_code else ""
        who = "You" if place.is_personal else "This conversation"
        return Said(f"Done: {who} will no longer get the weekly digest{scope}.")

    async def digest_settings(self, *, identity: Identity | None, place: Place) -> Result:
        """`digest settings`: what is set up here (and, in a personal chat, your reminders)."""
        async with self._sessionmaker() as session:
            if place.is_personal:
                if identity is None:
                    return Said(UNKNOWN_PERSON)
                subscriptions = await digests.subscriptions_for(session, person_id=identity.person_id)
            else:
                subscriptions = await digests.subscriptions_for(session, conversation_id=place.digest_conversation_id)
            codes = await self._codes(session, {s.report_id for s in subscriptions if s.report_id is not None})
        if not subscriptions:
            hint = "`send me a weekly digest`" if place.is_personal else "`subscribe this channel to the weekly digest`"
            return Said(f"No weekly digest is set up here. An admin can type {hint}.")
        lines = [
            "- " + _schedule_words(s, self._timezone, codes.get(s.report_id) if s.report_id else None)
            for s in subscriptions
        ]
        heading = "Your weekly digest:" if place.is_personal else "Weekly digest in this conversation:"
        return Said("\n".join([heading, *lines]))

    @staticmethod
    async def _codes(session: AsyncSession, report_ids: set[int]) -> dict[int | None, str]:
        rows = await digests.report_codes(session, report_ids)
        return dict(rows)

    async def personal_digest(self, request: PersonalDigest, *, identity: Identity | None, place: Place) -> Result:
        """`send me a weekly digest [on Friday at 8am]`: the items you own or follow, in your 1:1 chat."""
        if identity is None:
            return Said(UNKNOWN_PERSON)
        when = self._when(request.weekday, request.time_text)
        if isinstance(when, str):
            return Said(when)
        weekday, at = when
        async with self._sessionmaker.begin() as session:
            subscription, created = await digests.subscribe(
                session,
                person_id=identity.person_id,
                weekday=weekday,
                at_time=f"{at:%H:%M}",
                created_by_id=identity.person_id,
            )
            words = _schedule_words(subscription, self._timezone, None).removesuffix(", all reports")
        where = "here" if place.is_personal else "in your personal chat with me"
        verb = "I'll send you" if created else "Changed: I'll send you"
        return Said(f"{verb} a weekly digest of the items you own or follow {where}, {words}.")

    async def stop_reminders(self, *, identity: Identity | None) -> Result:
        """`stop reminders`."""
        if identity is None:
            return Said(UNKNOWN_PERSON)
        async with self._sessionmaker.begin() as session:
            await digests.set_reminders(session, identity.person_id, stopped=True, snoozed_until=None)
        return Said("Done: no more reminders about your items. Type `resume reminders` to turn them back on.")

    async def snooze_reminders(self, request: SnoozeReminders, *, identity: Identity | None, today: date) -> Result:
        """`snooze reminders for 2 weeks` / `… until 1 June`: reminders come back on that day."""
        if identity is None:
            return Said(UNKNOWN_PERSON)
        if request.days is not None:
            until = today + timedelta(days=request.days)
        elif request.until_text is not None:
            parsed = parse_user_date(request.until_text, today)
            if parsed is None:
                return Said(
                    f'I couldn\'t read "{safe_text(request.until_text, 60)}" as a date. Try `snooze reminders until 1 June`.'
                )
            until = parsed
        else:
            return Said("For how long? Try `snooze reminders for 2 weeks`.")
        if until <= today:
            return Said("That date has already come. Try `snooze reminders for 2 weeks`.")
        if (until - today).days > MAX_SNOOZE_DAYS:
            return Said("I can snooze reminders for up to a year. To stop them for good, type `stop reminders`.")
        async with self._sessionmaker.begin() as session:
            await digests.set_reminders(session, identity.person_id, stopped=False, snoozed_until=until)
        return Said(f"Done: reminders are snoozed until {format_uk_date(until)}.")

    async def resume_reminders(self, *, identity: Identity | None) -> Result:
        """`resume reminders`."""
        if identity is None:
            return Said(UNKNOWN_PERSON)
        async with self._sessionmaker.begin() as session:
            await digests.set_reminders(session, identity.person_id, stopped=False, snoozed_until=None)
        return Said("Done: reminders about your items are back on.")
