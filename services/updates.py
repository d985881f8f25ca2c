"""The update dialog's services (`dialogs.ports.UpdatePort`) over the tracker database.

One `async with sessionmaker.begin()` per call: a call either writes everything or nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.refs import ItemRef
from domain.text import safe_text
from domain.updates import Actor, ItemBrief, Recorded, Refused, UpdateDraft
from domain.vocabulary import Status
from services.answers import resolve
from services.notices import Notice, Notify, nobody
from services.results import Request, Rights
from storage import ownership, progress, tracker
from storage.models import Item, Person, Update


def brief_of(item: Item) -> ItemBrief:
    """What the dialog needs to know about a loaded item (report and owner loaded)."""
    return ItemBrief(
        item_id=item.id,
        reference=item.reference,
        label=item.label,
        text=item.text,
        status=item.status,
        owner_name=item.owner.display_name if item.owner is not None else None,
        assessment=item.assessment,
    )


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


class UpdateRefused(Refused):
    """The actor may not update the item (any more): the message is the sentence to show."""


class TrackerUpdateService:
    """Implements `dialogs.ports.UpdatePort` with `storage.progress` and `storage.ownership`."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        today: Callable[[], date],
        read_ref: Callable[[str], ItemRef | None],
        *,
        bootstrap_admins: Sequence[str] = (),
        notify: Notify = nobody,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._today = today
        # Requests in an update (sign-off, a later date) go to every admin once it is saved.
        self._bootstrap_admins = bootstrap_admins
        self._notify = notify
        # Reads a typed reference ("R8", "OIC-2025 rec 8"): the chat grammar's, `bot.commands.item_ref`.
        self._read_ref = read_ref

    def today(self) -> date:
        """Today in RECBOT_TIMEZONE."""
        return self._today()

    async def resolve(self, text: str, conversation_id: str | None) -> list[ItemBrief]:
        """Items that a typed reference may mean; empty when none (or no reference was typed)."""
        ref = self._read_ref(text)
        return [] if ref is None else await self.items_named(ref, conversation_id)

    async def items_named(self, ref: ItemRef, conversation_id: str | None) -> list[ItemBrief]:
        """The item a reference means, or the items it may mean; empty when none."""
        async with self._sessionmaker() as session:
            resolved = await resolve(session, ref, conversation_id)
        items = [resolved.item] if resolved.item is not None else list(resolved.candidates)
        return [brief_of(item) for item in items]

    async def brief(self, item_id: int) -> ItemBrief | None:
        """The item, or None when it no longer exists."""
        async with self._sessionmaker() as session:
            item = await tracker.get_item(session, item_id)
            return brief_of(item) if item is not None else None

    async def refusal(self, item_id: int, actor: Actor) -> str | None:
        """None when `actor` may update the item, else the sentence explaining who can."""
        async with self._sessionmaker() as session:
            item = await tracker.get_item(session, item_id)
            if item is None:
                return "I can't find that item any more: it may have been removed. Try `list recommendations`."
            return await self._refusal(session, item, actor)

    @staticmethod
    async def _refusal(session: AsyncSession, item: Item, actor: Actor) -> str | None:
        name = _lower_first(item.label)
        if not Status(item.status).is_open:
            return f"{item.label} ({item.reference}) is {item.status.lower()}, so it takes no more updates."
        if await ownership.may_update(session, item, actor.person_id, actor.is_admin):
            return None
        if item.owner is None:
            return (
                f"Only the owner, a delegate or an admin can update {name} — it has no owner yet; "
                "ask an admin to assign one."
            )
        owner = safe_text(item.owner.display_name, 120)
        return f"Only the owner, a delegate or an admin can update {name} — the owner is {owner}."

    async def record(self, draft: UpdateDraft, actor: Actor, activity_key: str | None) -> Recorded:
        """Write the update in one transaction (idempotent per activity key); any failure writes nothing."""
        try:
            row, duplicate, notices = await self._record(draft, actor, activity_key)
        except IntegrityError:
            # The same activity was recorded on another item at the same moment (`progress.record_update`):
            # nothing of this attempt was written, and the next one finds that record.
            row, duplicate, notices = await self._record(draft, actor, activity_key)
        await self._notify(notices)
        return Recorded(row.id, duplicate=duplicate)

    async def _record(
        self, draft: UpdateDraft, actor: Actor, activity_key: str | None
    ) -> tuple[Update, bool, list[Notice]]:
        async with self._sessionmaker.begin() as session:
            try:
                item: Item | None = await ownership.lock_item(session, draft.item_id)  # first, as every change
            except ownership.ItemNotFound:
                item = None
            author = await session.get(Person, actor.person_id)
            if item is None or author is None:
                raise UpdateRefused("I can't find that item any more.")
            # Permission first, then redelivery (inside record_update): a post the actor may not
            # make is refused, never answered "saved" because an earlier row has its key.
            refusal = await self._refusal(session, item, actor)
            if refusal is not None:
                raise UpdateRefused(refusal)
            was_awaiting = item.status == Status.AWAITING_SIGN_OFF.value
            try:
                row, duplicate = await progress.record_update(
                    session,
                    item,
                    status=draft.status,
                    assessment=draft.assessment,
                    narrative=draft.narrative,
                    author=author,
                    activity_key=activity_key,
                    evidence_url=draft.evidence_url,
                    revised_due_on=draft.revised_due_on,
                    revised_due_reason=draft.revised_due_reason,
                    supersedes_id=draft.corrects_update_id,
                )
            except progress.ProgressError as error:
                # Closed meanwhile, too late to correct, …: retrying will not help, so say why.
                reason = str(error)
                raise UpdateRefused(f"{reason[:1].upper()}{reason[1:].rstrip('.')}.") from error
            notices = [] if duplicate else await self._requests_in(session, item, row, was_awaiting)
        return row, duplicate, notices

    async def _requests_in(self, session: AsyncSession, item: Item, row: Update, was_awaiting: bool) -> list[Notice]:
        """A notice to every admin (but the author) for each request the update makes."""
        asked = []  # closure: True for sign-off, False for a later date
        if row.status == Status.AWAITING_SIGN_OFF.value and not was_awaiting:
            asked.append(True)
        if row.revised_due_on is not None:
            asked.append(False)
        if not asked:
            return []
        admins = [
            admin for admin in await ownership.admins(session, self._bootstrap_admins) if admin.id != row.author_id
        ]
        acting = tuple(admin.teams_user_id for admin in admins if admin.teams_user_id)
        # Each admin's copy shows them Approve / Reject; refreshed, it shows whoever decided first.
        return [
            Notice(
                admin.id,
                Request(item, row, closure, self._today(), acting=acting, viewer=Rights(decide=True)),
                f"{'sign-off' if closure else 'date'}-asked:{row.id}",
                item.id,
            )
            for closure in asked
            for admin in admins
        ]

    async def correction(self, item_id: int, actor: Actor, now: datetime) -> UpdateDraft | None:
        """The actor's own latest update of the item as a draft correcting it (24 hours), or None."""
        async with self._sessionmaker() as session:
            update = await progress.correctable_update(session, item_id, actor.person_id, now)
            if update is None:
                return None
            return UpdateDraft(
                item_id=item_id,
                status=update.status,
                assessment=update.assessment or "",
                narrative=update.narrative,
                evidence_url=update.evidence_url,
                revised_due_on=update.revised_due_on,
                revised_due_reason=update.revised_due_reason,
                corrects_update_id=update.id,
            )
