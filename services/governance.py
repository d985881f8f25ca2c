"""Governance commands: owners, delegates, admins, due dates, closure decisions and history.

Each command is one short transaction and returns what to say; closure decisions also return
the notices for the lead, which the handler delivers to their 1:1 chat.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.dates import format_uk_date, parse_user_date
from domain.refs import ItemRef, describe_ref
from domain.text import NAME_LIMIT, one_line, safe_text
from domain.titles import normal_title, title_problem
from domain.vocabulary import EventKind, Status
from services.answers import resolve
from services.notices import Notice
from services.people import Identity
from services.requests import (
    AddDelegate,
    ApproveClosure,
    ApproveDueDate,
    Assign,
    GrantAdmin,
    ListAdmins,
    Pending,
    RejectClosure,
    RejectDueDate,
    RemoveDelegate,
    Reopen,
    RevokeAdmin,
    SetDueDate,
    SetTitle,
    Supersede,
    Waiting,
)
from services.results import Admins, Choose, Request, Requests, Result, Rights, Said, Timeline, Told
from storage import ownership, progress, tracker
from storage.models import Item, Person, Update

ADMINS_NAMED = 5
ADMIN_CHANGES_SHOWN = 15
LIST_LIMIT = 25  # requests in one answer


class Mention(NamedTuple):
    """A person @mentioned in the command (not the bot), from the activity's mention entities."""

    tenant_id: str | None  # the tenant of the activity that mentions them
    teams_user_id: str | None
    aad_object_id: str | None
    name: str


@dataclass(frozen=True)
class Decision:
    """The reply to the speaker and the notices their decision sends to others."""

    reply: Result
    notices: tuple[Notice, ...] = ()


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _named(item: Item) -> str:
    """How replies name an item: "recommendation 8 (OIC-2025 R8 · Hydra training package)".

    Titles hold no markdown or braces (domain.titles), so they may stand in our own sentences.
    """
    return f"{item.label[:1].lower()}{item.label[1:]} ({item.titled_reference})"


def _safe_name(person: Person) -> str:
    return safe_text(one_line(person.display_name, NAME_LIMIT), NAME_LIMIT)


def _join(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


async def admin_refusal(session: AsyncSession, doing: str, bootstrap_admins: Sequence[str]) -> Said:
    """ "Only an admin can {doing} — admins are …" (up to five named), or how to get a first admin."""
    people = await ownership.admins(session, bootstrap_admins)
    if not people:
        return Said(
            f"Only an admin can {doing} — no admins are set up yet; ask whoever runs RecBot to add you to RECBOT_ADMINS."
        )
    names = [_safe_name(person) for person in people[:ADMINS_NAMED]]
    if len(people) > ADMINS_NAMED:
        names.append(f"{len(people) - ADMINS_NAMED} more")
    return Said(f"Only an admin can {doing} — admins are {_join(names)}.")


class LeadCommands:
    """Carries out governance requests, writing through `storage.ownership` and `storage.progress`."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        today: Callable[[], date],
        bootstrap_admins: Sequence[str] = (),
        is_bootstrap_admin: Callable[[Person], bool] = lambda person: False,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._today = today
        # RECBOT_ADMINS (e-mails or object ids): only used to name the admins in refusals.
        self._bootstrap_admins = tuple(value.lower() for value in bootstrap_admins)
        # Whether RECBOT_ADMINS names a stored person (bot.people.PeopleDirectory.is_bootstrap_admin).
        self._is_bootstrap_admin = is_bootstrap_admin

    # --- shared steps --------------------------------------------------------------------------

    async def _item(
        self, session: AsyncSession, ref: ItemRef, conversation_id: str | None, command: Callable[[str], str]
    ) -> Item | Result:
        """The item a reference means, or the reply that asks which one (or says there is none)."""
        resolved = await resolve(session, ref, conversation_id)
        if resolved.item is not None:
            return resolved.item
        if resolved.candidates:
            return Choose(
                f"{_sentence(describe_ref(ref))} is in more than one report. Which one do you mean?",
                [(f"{item.reference} · {item.report.title}", command(item.reference)) for item in resolved.candidates],
            )
        if ref.report_code and await tracker.report_by_code(session, ref.report_code) is None:
            return Said(f"I don't know a report called {ref.report_code}. Try `list recommendations`.")
        return Said(f"I can't find {describe_ref(ref)}. Try `list recommendations` to see what I track.")

    async def _admin_refusal(self, session: AsyncSession, doing: str) -> Result:
        return await admin_refusal(session, doing, self._bootstrap_admins)

    @staticmethod
    def _unknown_actor(doing: str) -> Result:
        return Said(f"I couldn't tell who you are, so I can't {doing}.")

    async def _person(
        self,
        session: AsyncSession,
        email: str | None,
        typed: str,
        mentioned: Sequence[Mention],
        example: str,
    ) -> Person | Result:
        """The person a command names by e-mail or @mention (created when new), or the reply asking who."""
        if email:
            person = await tracker.person_by_email(session, email)
            assert person is not None  # created when missing
            return person
        mention = self._pick_mention(typed, mentioned)
        if isinstance(mention, Mention):
            return await ownership.person_for_mention(
                session,
                tenant_id=mention.tenant_id,
                teams_user_id=mention.teams_user_id,
                aad_object_id=mention.aad_object_id,
                name=mention.name,
            )
        if mention == "several":
            return Said(f"Please @mention just one person, e.g. `{example}`.")
        if not typed.strip():
            return Said(f"Who do you mean? Give their e-mail address or @mention them, e.g. `{example}`.")
        # A bare name could match two people: an e-mail address or a mention is unambiguous.
        return Said(
            f'I can\'t tell who "{safe_text(one_line(typed, 80), 80)}" is. '
            f"Give their e-mail address or @mention them, e.g. `{example}`."
        )

    @staticmethod
    def _pick_mention(typed: str, mentioned: Sequence[Mention]) -> Mention | str | None:
        if not mentioned:
            return None
        wanted = " ".join(typed.split()).casefold()
        named = [mention for mention in mentioned if " ".join(mention.name.split()).casefold() == wanted]
        if len(named) == 1:
            return named[0]
        return mentioned[0] if len(mentioned) == 1 else "several"

    # --- ownership -----------------------------------------------------------------------------

    async def assign(
        self,
        request: Assign,
        actor: Identity | None,
        mentioned: Sequence[Mention] = (),
        activity_key: str | None = None,
        conversation_id: str | None = None,
    ) -> Result | Decision:
        """Make someone the owner of an item (admins only); the new owner is told."""
        if actor is None:
            return self._unknown_actor("assign owners")
        async with self._sessionmaker.begin() as session:
            if not actor.is_admin:
                return await self._admin_refusal(session, "assign owners")
            who = request.assignee or request.assignee_text
            found = await self._item(
                session, request.ref, conversation_id, lambda ref: f"assign {ref} to {who}".strip()
            )
            if not isinstance(found, Item):
                return found
            example = f"assign {found.reference} to jane.doe@force.police.uk"
            person = await self._person(session, request.assignee, request.assignee_text, mentioned, example)
            if not isinstance(person, Person):
                return person
            me = await session.get(Person, actor.person_id)
            assert me is not None
            if found.owner_id == person.id and not await ownership.activity_seen(session, activity_key):
                return Told(f"{_sentence(_named(found))} is already owned by {{name}}.", {"name": person.display_name})
            event = await ownership.assign_owner(session, found, person, me, activity_key)
            reply = Told(
                f"{_sentence(_named(found))} is now owned by {{name}}.",
                {"name": person.display_name},
                [("Status", f"status of {found.reference}"), ("History", f"history of {found.reference}")],
            )
            if event is None or person.id == me.id:
                return reply
            due = found.current_due_on
            told = Told(
                f"{{admin}} made you the owner of {_named(found)}"
                + (f", due {format_uk_date(due)}" + (" (overdue)" if due < self._today() else "") if due else "")
                + f". Post progress with `update {found.reference}`; ask for a later date or sign-off in the update.",
                {"admin": me.display_name},
                [("Post update", f"update {found.reference}"), ("Status", f"status of {found.reference}")],
            )
            return Decision(reply, (Notice(person.id, told, f"assigned:{event.id}", found.id),))

    async def _delegate_change(
        self,
        request: AddDelegate | RemoveDelegate,
        actor: Identity | None,
        mentioned: Sequence[Mention],
        activity_key: str | None,
        conversation_id: str | None,
    ) -> Result | Decision:
        adding = isinstance(request, AddDelegate)
        doing = "add delegates" if adding else "remove delegates"
        if actor is None:
            return self._unknown_actor(doing)
        who = request.delegate_email or request.delegate_text

        def command(ref: str) -> str:
            return f"add delegate to {ref}: {who}" if adding else f"remove delegate from {ref}: {who}"

        async with self._sessionmaker.begin() as session:
            found = await self._item(session, request.ref, conversation_id, command)
            if not isinstance(found, Item):
                return found
            if not actor.is_admin and found.owner_id != actor.person_id:
                owner = (
                    f"the owner is {_safe_name(found.owner)}"
                    if found.owner is not None
                    else "it has no owner yet; ask an admin to assign one"
                )
                return Said(f"Only the owner of {_named(found)} or an admin can {doing} — {owner}.")
            example = (
                f"add delegate to {found.reference}: sam@force.police.uk"
                if adding
                else f"remove delegate from {found.reference}: sam@force.police.uk"
            )
            person = await self._person(session, request.delegate_email, request.delegate_text, mentioned, example)
            if not isinstance(person, Person):
                return person
            me = await session.get(Person, actor.person_id)
            assert me is not None
            seen = await ownership.activity_seen(session, activity_key)
            actions = [("History", f"history of {found.reference}")]
            if adding:
                if found.owner_id == person.id:
                    return Told(
                        f"{{name}} owns {_named(found)}, so they can post updates already.",
                        {"name": person.display_name},
                    )
                event = await ownership.add_delegate(session, found, person, me, activity_key)
                if event is None and not seen:
                    return Told(f"{{name}} is already a delegate on {_named(found)}.", {"name": person.display_name})
                reply = Told(
                    f"{{name}} can now post updates for {_named(found)}.", {"name": person.display_name}, actions
                )
                if event is None or person.id == me.id:
                    return reply
                told = Told(
                    f"{{who}} added you as a delegate on {_named(found)}: you can post its updates "
                    f"with `update {found.reference}`.",
                    {"who": me.display_name},
                    [("Post update", f"update {found.reference}"), ("Status", f"status of {found.reference}")],
                )
                return Decision(reply, (Notice(person.id, told, f"delegate:{event.id}", found.id),))
            if not await ownership.remove_delegate(session, found, person, me, activity_key) and not seen:
                return Told(f"{{name}} isn't a delegate on {_named(found)}.", {"name": person.display_name})
            return Told(
                f"{{name}} can no longer post updates for {_named(found)}.", {"name": person.display_name}, actions
            )

    async def add_delegate(
        self,
        request: AddDelegate,
        actor: Identity | None,
        mentioned: Sequence[Mention] = (),
        activity_key: str | None = None,
        conversation_id: str | None = None,
    ) -> Result | Decision:
        """Let someone post updates for an item (its owner or an admin)."""
        return await self._delegate_change(request, actor, mentioned, activity_key, conversation_id)

    async def remove_delegate(
        self,
        request: RemoveDelegate,
        actor: Identity | None,
        mentioned: Sequence[Mention] = (),
        activity_key: str | None = None,
        conversation_id: str | None = None,
    ) -> Result | Decision:
        """Stop someone posting updates for an item (its owner or an admin)."""
        return await self._delegate_change(request, actor, mentioned, activity_key, conversation_id)

    # --- admins --------------------------------------------------------------------------------

    async def _admin_target(
        self,
        session: AsyncSession,
        actor: Identity,
        doing: str,
        request: GrantAdmin | RevokeAdmin,
        mentioned: Sequence[Mention],
        example: str,
    ) -> Person | Result:
        """The person an admin-rights command is about, or the reply refusing it (the actor is no admin).

        The admin set is locked first and the actor's rights read again under the lock: two admins
        revoking each other at once then queue, and the second finds it is no longer an admin.
        """
        await ownership.lock_admins(session)
        me = await ownership.reload_person(session, actor.person_id)
        if me is None or not (me.is_admin or self._is_bootstrap_admin(me)):
            return await self._admin_refusal(session, doing)
        return await self._person(session, request.email, request.target_text, mentioned, example)

    async def grant_admin(
        self, request: GrantAdmin, actor: Identity | None, mentioned: Sequence[Mention] = ()
    ) -> Decision:
        """Make someone an admin (admins only); the new admin is told."""
        if actor is None:
            return Decision(self._unknown_actor("make admins"))
        async with self._sessionmaker.begin() as session:
            person = await self._admin_target(
                session, actor, "make someone an admin", request, mentioned, "make jane.doe@force.police.uk an admin"
            )
            if not isinstance(person, Person):
                return Decision(person)
            if person.is_admin or self._is_bootstrap_admin(person):
                return Decision(Told("{name} is already an admin.", {"name": person.display_name}))
            me = await session.get(Person, actor.person_id)
            assert me is not None
            await ownership.grant_admin(session, person, me)
            told = Told(
                "{name} made you a RecBot admin: you can now assign owners, change due dates and approve closures.",
                {"name": actor.name or actor.email or "An admin"},
                [("Help", "help")],
            )
            # A redelivered grant finds them already an admin and tells nobody: each grant is new.
            key = f"admin-granted:{person.id}:{uuid.uuid4().hex}"
            notices = () if person.id == actor.person_id else (Notice(person.id, told, key),)
            return Decision(Told("{name} is now an admin.", {"name": person.display_name}), notices)

    async def revoke_admin(
        self, request: RevokeAdmin, actor: Identity | None, mentioned: Sequence[Mention] = ()
    ) -> Decision:
        """Take admin rights away (admins only); never from the last admin, nor from one set in RECBOT_ADMINS."""
        if actor is None:
            return Decision(self._unknown_actor("remove admins"))
        async with self._sessionmaker.begin() as session:
            person = await self._admin_target(
                session, actor, "remove an admin", request, mentioned, "remove admin from jane.doe@force.police.uk"
            )
            if not isinstance(person, Person):
                return Decision(person)
            if self._is_bootstrap_admin(person):
                return Decision(
                    Told(
                        "{name} is an admin through the RECBOT_ADMINS setting: ask whoever runs RecBot to change it.",
                        {"name": person.display_name},
                    )
                )
            if not person.is_admin:
                return Decision(Told("{name} isn't an admin.", {"name": person.display_name}))
            others = [
                admin for admin in await ownership.admins(session, self._bootstrap_admins) if admin.id != person.id
            ]
            if not others:
                # Without an admin nobody could assign, sign off or make a new admin.
                return Decision(
                    Told(
                        "{name} is the only admin, so I've kept them: make someone else an admin first.",
                        {"name": person.display_name},
                    )
                )
            me = await session.get(Person, actor.person_id)
            assert me is not None
            await ownership.revoke_admin(session, person, me)
            return Decision(Told("{name} is no longer an admin.", {"name": person.display_name}))

    async def is_lead(self, person: Identity) -> bool:
        """True when the person owns an item or is a delegate on one (what help shows them)."""
        async with self._sessionmaker() as session:
            return await ownership.leads_anything(session, person.person_id)

    async def admins(self, request: ListAdmins) -> Result:
        """Who the admins are (RECBOT_ADMINS included) and the newest grants and revocations."""
        async with self._sessionmaker() as session:
            people = await ownership.admins(session, self._bootstrap_admins)
            history, total = await ownership.admin_history(session, limit=ADMIN_CHANGES_SHOWN)
        changes = [
            (event.created_at, event.actor_name, event.kind == EventKind.ADMIN_GRANTED.value, person.display_name)
            for event, person in history
        ]
        return Admins([person.display_name for person in people], changes, total - len(changes))

    # --- requests waiting for a decision ------------------------------------------------------

    async def pending(self, request: Pending, actor: Identity | None) -> Result:
        """Sign-offs and later dates waiting for an admin: all of them, or the speaker's share.

        An admin's share is everything (they decide); anyone else's is what they asked or own.
        """
        mine = request.waiting is Waiting.FOR_ME
        if mine and actor is None:
            return self._unknown_actor("tell what is waiting for you")
        concerning = actor.person_id if mine and actor is not None and not actor.is_admin else None
        async with self._sessionmaker() as session:
            found, total = await progress.pending_requests(session, concerning=concerning, limit=LIST_LIMIT)
        today = self._today()
        requests = [Request(entry.item, entry.update, entry.closure, today) for entry in found]
        if not mine:
            title, empty = "Requests waiting for a decision", "Nothing is waiting for a decision."
        elif concerning is None:
            title, empty = "Waiting for your decision", "Nothing is waiting for your decision."
        else:
            title = "Your requests waiting for an admin"
            empty = (
                "Nothing of yours is waiting for an admin. To ask for sign-off or a later date, "
                "post an update (`update R8`)."
            )
        return Requests(title, requests, empty, more=total - len(requests))

    async def request_view(
        self, update_id: int, closure: bool, viewer: Identity | None, note: str | None = None
    ) -> Result:
        """One request as `viewer` sees it: waiting (an admin gets Approve / Reject) or decided by whom."""
        async with self._sessionmaker() as session:
            asking = await session.get(Update, update_id)
            item = await tracker.get_item(session, asking.item_id) if asking is not None else None
            if asking is None or item is None:
                return Said("This request no longer exists: its item may have been removed.")
            decision = await progress.decision_on(session, asking, closure=closure)
            acting = await ownership.acting_people(session, item, self._bootstrap_admins)
            waiting = decision is None and (
                item.status == Status.AWAITING_SIGN_OFF.value if closure else item.requested_due_update_id == asking.id
            )
            return Request(
                item,
                asking,
                closure,
                self._today(),
                decision=decision,
                withdrawn=decision is None and not waiting,
                acting=tuple(teams_id for _, teams_id in acting),
                viewer=Rights(decide=waiting and viewer is not None and viewer.is_admin),
                note=note,
            )

    # --- history and due dates -----------------------------------------------------------------

    async def history(self, ref: ItemRef, conversation_id: str | None = None) -> Result:
        """The timeline of one item (anyone may ask)."""
        async with self._sessionmaker() as session:
            found = await self._item(session, ref, conversation_id, lambda full: f"history of {full}")
            if not isinstance(found, Item):
                return found
            entries = await progress.history(session, found.id)
            return Timeline(found, entries, self._today())

    async def set_due_date(
        self,
        request: SetDueDate,
        actor: Identity | None,
        activity_key: str | None = None,
        conversation_id: str | None = None,
    ) -> Result:
        """Set an item's revised due date with a reason (admins only); every change is kept."""
        if actor is None:
            return self._unknown_actor("change due dates")
        named = describe_ref(request.ref)
        example = f"set due date of {named} to 30 June 2026 because the supplier slipped"
        async with self._sessionmaker.begin() as session:
            if not actor.is_admin:
                return await self._admin_refusal(session, "change due dates")
            if not request.date_text.strip():
                return Said(f"Which date? e.g. `{example}`")
            today = self._today()
            due_on = parse_user_date(request.date_text, today)
            if due_on is None:
                shown = safe_text(one_line(request.date_text, 60), 60)
                return Said(f'I couldn\'t read "{shown}" as a date. Try 30/06/2026, 30 June 2026 or end of June.')
            if due_on < today:
                return Said(f"{format_uk_date(due_on)} has already passed: a revised due date must be today or later.")
            if not request.reason:
                return Said(f"Tell me why, e.g. `{example}`")
            reason = request.reason

            def command(full: str) -> str:
                return f"set due date of {full} to {request.date_text} because {reason}"

            found = await self._item(session, request.ref, conversation_id, command)
            if not isinstance(found, Item):
                return found
            me = await session.get(Person, actor.person_id)
            assert me is not None
            await progress.set_due_date(session, found, me, due_on, reason, activity_key)
            hmicfrs = format_uk_date(found.due_on) if found.due_on else "none written"
            return Told(
                f"The revised due date of {_named(found)} is now {format_uk_date(due_on)} "
                f"(HMICFRS due date: {hmicfrs}). Reason: {{reason}}",
                {"reason": reason},
                [("History", f"history of {found.reference}")],
            )

    async def set_title(
        self,
        request: SetTitle,
        actor: Identity | None,
        activity_key: str | None = None,
        conversation_id: str | None = None,
    ) -> Result:
        """Give an item a new short title (admins only); the old and the new are kept in its history."""
        if actor is None:
            return self._unknown_actor("change titles")
        example = f"set title of {describe_ref(request.ref)} to Hydra training"
        async with self._sessionmaker.begin() as session:
            if not actor.is_admin:
                return await self._admin_refusal(session, "change titles")
            problem = title_problem(request.title)
            if problem is not None:
                return Said(
                    f"{problem} e.g. `{example}`" if request.title.strip() else f"Which title? e.g. `{example}`"
                )
            title = normal_title(request.title)
            found = await self._item(
                session, request.ref, conversation_id, lambda full: f"set title of {full} to {title}"
            )
            if not isinstance(found, Item):
                return found
            actions = [("Status", f"status of {found.reference}"), ("History", f"history of {found.reference}")]
            if found.title == title and not await ownership.activity_seen(session, activity_key):
                return Told(f"{_sentence(_named(found))} already has that title.", {}, actions)
            namesake = await tracker.item_titled(session, found.report_id, title)
            if namesake is not None and namesake.id != found.id:
                return Said(f"{namesake.reference} is already called that: titles tell the items of a report apart.")
            me = await session.get(Person, actor.person_id)
            assert me is not None
            old = found.title
            changed = await progress.set_title(session, found, me, title, activity_key)
            was = ' (it was "{old}")' if changed and old else ""
            return Told(
                f'{found.label} ({found.reference}) is now titled "{{title}}"{was}.',
                {"title": title, "old": old or ""},
                actions,
            )

    async def approve_due_date(
        self,
        request: ApproveDueDate,
        actor: Identity | None,
        activity_key: str | None = None,
        conversation_id: str | None = None,
    ) -> Result | Decision:
        """Accept the later due date a lead asked for (admins only); the lead is told."""
        return await self._date_decision(request.ref, None, actor, activity_key, conversation_id, approve=True)

    async def reject_due_date(
        self,
        request: RejectDueDate,
        actor: Identity | None,
        activity_key: str | None = None,
        conversation_id: str | None = None,
    ) -> Result | Decision:
        """Turn down the later due date a lead asked for, with the reason (admins only); the lead is told."""
        return await self._date_decision(
            request.ref, request.reason, actor, activity_key, conversation_id, approve=False
        )

    async def _date_decision(
        self,
        ref: ItemRef,
        reason: str | None,
        actor: Identity | None,
        activity_key: str | None,
        conversation_id: str | None,
        *,
        approve: bool,
    ) -> Result | Decision:
        doing = "approve revised due dates" if approve else "reject revised due dates"
        if actor is None:
            return self._unknown_actor(doing)
        async with self._sessionmaker.begin() as session:
            if not actor.is_admin:
                return await self._admin_refusal(session, doing)
            if not approve and not reason:
                return Said(
                    "Tell me why, so the lead knows what to do next, e.g. "
                    f"`reject revised date of {describe_ref(ref)} because the plan has no milestones`"
                )

            def command(full: str) -> str:
                return (
                    f"approve revised date of {full}" if approve else f"reject revised date of {full} because {reason}"
                )

            found = await self._item(session, ref, conversation_id, command)
            if not isinstance(found, Item):
                return found
            me = await session.get(Person, actor.person_id)
            assert me is not None
            requested_on = found.requested_due_on
            try:
                asked = await progress.decide_due_date(session, found, me, reason, activity_key, approve=approve)
            except progress.NoDateRequest:
                return Said(
                    f"Nobody has asked for a later due date for {_named(found)}. Its lead asks in an update "
                    f"(`update {found.reference}`); an admin can also `set due date of {found.reference} to … because …`."
                )
            actions = [("Status", f"status of {found.reference}"), ("History", f"history of {found.reference}")]
            if asked is None:  # this activity already decided it: say so again, tell nobody twice
                return Said(f"Done: the revised due date of {_named(found)} is decided.")
            assert requested_on is not None
            shown = format_uk_date(requested_on)
            hmicfrs = format_uk_date(found.due_on) if found.due_on else "none written"
            if approve:
                reply = Told(
                    f"Approved: {_named(found)} is now due {shown} (HMICFRS deadline: {hmicfrs}).", {}, actions
                )
                told = Told(
                    f"{{admin}} approved your revised due date for {_named(found)}: it is now due {shown}.",
                    {"admin": me.display_name},
                    actions,
                )
            else:
                reply = Told(
                    f"Not approved: {_named(found)} keeps its due date. Reason: {{reason}}",
                    {"reason": reason or ""},
                    actions,
                )
                told = Told(
                    f"{{admin}} did not approve {shown} as the revised due date of {_named(found)}. Reason: {{reason}}",
                    {"admin": me.display_name, "reason": reason or ""},
                    [("Post update", f"update {found.reference}"), *actions],
                )
            leads = dict.fromkeys(p for p in (asked.author_id, found.owner_id) if p is not None and p != me.id)
            key = f"date-decided:{asked.id}"
            return Decision(reply, tuple(Notice(person_id, told, key, found.id) for person_id in leads))

    # --- closure -------------------------------------------------------------------------------

    async def approve_closure(
        self,
        request: ApproveClosure,
        actor: Identity | None,
        activity_key: str | None = None,
        conversation_id: str | None = None,
    ) -> Decision:
        """Close an item awaiting sign-off (admins only); its lead is told."""
        return await self._closure(request.ref, None, actor, activity_key, conversation_id, approve=True)

    async def reject_closure(
        self,
        request: RejectClosure,
        actor: Identity | None,
        activity_key: str | None = None,
        conversation_id: str | None = None,
    ) -> Decision:
        """Send an item awaiting sign-off back to In progress with a reason (admins only); its lead is told."""
        return await self._closure(request.ref, request.reason, actor, activity_key, conversation_id, approve=False)

    async def _closure(
        self,
        ref: ItemRef,
        reason: str | None,
        actor: Identity | None,
        activity_key: str | None,
        conversation_id: str | None,
        *,
        approve: bool,
    ) -> Decision:
        doing = "approve closures" if approve else "reject closures"
        if actor is None:
            return Decision(self._unknown_actor(doing))
        async with self._sessionmaker.begin() as session:
            if not actor.is_admin:
                return Decision(await self._admin_refusal(session, doing))
            if not approve and not reason:
                return Decision(
                    Said(
                        "Tell me why, so the lead knows what to do next, e.g. "
                        f"`reject closure of {describe_ref(ref)} because the evidence is missing`"
                    )
                )

            def command(full: str) -> str:
                return f"approve closure of {full}" if approve else f"reject closure of {full} because {reason}"

            found = await self._item(session, ref, conversation_id, command)
            if not isinstance(found, Item):
                return Decision(found)
            me = await session.get(Person, actor.person_id)
            assert me is not None
            proposal = await tracker.latest_update(session, found.id)
            try:
                if approve:
                    decided = await progress.approve_closure(session, found, me, activity_key)
                else:
                    assert reason is not None
                    decided = await progress.reject_closure(session, found, me, reason, activity_key)
            except progress.ProgressError:
                return Decision(self._not_awaiting(found))
            return self._decided(found, me, reason, proposal, notify=decided)

    # --- lifecycle: superseded, reopened ---------------------------------------------------------

    async def supersede(
        self,
        request: Supersede,
        actor: Identity | None,
        activity_key: str | None = None,
        conversation_id: str | None = None,
    ) -> Result | Decision:
        """Mark an item Superseded by another item or for a reason (admins only); its owner is told."""
        if actor is None:
            return self._unknown_actor("mark items superseded")
        named = describe_ref(request.ref)
        async with self._sessionmaker.begin() as session:
            if not actor.is_admin:
                return await self._admin_refusal(session, "mark items superseded")
            if request.by is None and not request.reason:
                return Said(
                    f"Say what replaces it, or why: e.g. `mark {named} superseded by R12` "
                    f"or `mark {named} superseded because HMICFRS withdrew it`"
                )
            tail = f" because {request.reason}" if request.reason else ""
            by = f" by {describe_ref(request.by)}" if request.by else ""
            found = await self._item(
                session, request.ref, conversation_id, lambda full: f"mark {full} superseded{by}{tail}"
            )
            if not isinstance(found, Item):
                return found
            parts = [request.reason] if request.reason else []
            if request.by is not None:
                replacement = await self._item(
                    session,
                    request.by,
                    conversation_id,
                    lambda full: f"mark {found.reference} superseded by {full}{tail}",
                )
                if not isinstance(replacement, Item):
                    return replacement
                if replacement.id == found.id:
                    return Said(f"{_sentence(_named(found))} can't supersede itself: name the item that replaces it.")
                parts.insert(0, f"by {replacement.reference}")
            detail = "; ".join(parts)
            me = await session.get(Person, actor.person_id)
            assert me is not None
            try:
                done = await progress.supersede(session, found, me, detail, activity_key)
            except progress.ItemNotOpen:
                return Said(f"{_sentence(_named(found))} is already {found.status.lower()}.")
            actions = [("History", f"history of {found.reference}")]
            reply = Told(f"{_sentence(_named(found))} is now superseded ({{detail}}).", {"detail": detail}, actions)
            told = Told(
                f"{{admin}} marked {_named(found)} superseded ({{detail}}): it takes no more updates.",
                {"admin": me.display_name, "detail": detail},
                actions,
            )
            return Decision(reply, self._tell_owner(found, me, told, "superseded") if done else ())

    async def reopen(
        self,
        request: Reopen,
        actor: Identity | None,
        activity_key: str | None = None,
        conversation_id: str | None = None,
    ) -> Result | Decision:
        """Put a closed or superseded item back In progress, keeping the reason (admins only); its owner is told."""
        if actor is None:
            return self._unknown_actor("reopen items")
        async with self._sessionmaker.begin() as session:
            if not actor.is_admin:
                return await self._admin_refusal(session, "reopen items")
            if not request.reason:
                return Said(
                    f"Tell me why, so the lead knows: e.g. `reopen {describe_ref(request.ref)} because the audit "
                    "found gaps`"
                )
            reason = request.reason
            found = await self._item(
                session, request.ref, conversation_id, lambda full: f"reopen {full} because {reason}"
            )
            if not isinstance(found, Item):
                return found
            me = await session.get(Person, actor.person_id)
            assert me is not None
            try:
                done = await progress.reopen(session, found, me, reason, activity_key)
            except progress.ItemOpen:
                return Said(
                    f"{_sentence(_named(found))} is {found.status.lower()}: only a closed item can be reopened."
                )
            actions = [("Post update", f"update {found.reference}"), ("History", f"history of {found.reference}")]
            reply = Told(
                f"{_sentence(_named(found))} is reopened: back in progress. Reason: {{reason}}",
                {"reason": reason},
                actions,
            )
            told = Told(
                f"{{admin}} reopened {_named(found)}: it is back in progress. Reason: {{reason}}",
                {"admin": me.display_name, "reason": reason},
                actions,
            )
            return Decision(reply, self._tell_owner(found, me, told, "reopened") if done else ())

    @staticmethod
    def _tell_owner(item: Item, admin: Person, told: Told, why: str) -> tuple[Notice, ...]:
        """A notice for the item's owner about an admin's decision (none when the admin is the owner)."""
        if item.owner_id is None or item.owner_id == admin.id:
            return ()
        # Decided once (a redelivery decides nothing), so each decision is its own reason to tell.
        return (Notice(item.owner_id, told, f"{why}:{item.id}:{uuid.uuid4().hex}", item.id),)

    @staticmethod
    def _not_awaiting(item: Item) -> Result:
        if item.status == Status.CLOSED.value:
            return Said(f"{_sentence(_named(item))} is already closed.")
        if item.status == Status.SUPERSEDED.value:
            return Said(f"{_sentence(_named(item))} has been superseded, so there is no closure to decide.")
        return Said(
            f"{_sentence(_named(item))} is {item.status.lower()}, not awaiting sign-off: its lead proposes closure "
            f"by posting an update with the status complete (`update {item.reference}`)."
        )

    @staticmethod
    def _decided(item: Item, admin: Person, reason: str | None, proposal: Update | None, *, notify: bool) -> Decision:
        approved = reason is None
        proposer_id = proposal.author_id if proposal is not None else None
        leads = [person_id for person_id in (item.owner_id, proposer_id) if person_id is not None]
        leads = [person_id for person_id in dict.fromkeys(leads) if person_id != admin.id]
        lead_names = [item.owner.display_name] if item.owner is not None and item.owner_id in leads else []
        told = (" I've told " + ("{lead}" if lead_names else "the lead") + ".") if leads and notify else ""
        if approved:
            reply = Told(
                f"{_sentence(_named(item))} is now closed.{told}",
                {**({"lead": lead_names[0]} if lead_names and told else {})},
                [("History", f"history of {item.reference}")],
            )
            notice = Told(
                f"{{admin}} approved the closure of {_named(item)}: it is now closed. Thank you!",
                {"admin": admin.display_name},
                [("History", f"history of {item.reference}")],
            )
        else:
            reply = Told(
                f"{_sentence(_named(item))} is back in progress.{told} Reason: {{reason}}",
                {"reason": reason or "", **({"lead": lead_names[0]} if lead_names and told else {})},
                [("History", f"history of {item.reference}")],
            )
            notice = Told(
                f"{{admin}} did not approve the closure of {_named(item)}: it is back in progress. Reason: {{reason}}",
                {"admin": admin.display_name, "reason": reason or ""},
                [("Post update", f"update {item.reference}"), ("History", f"history of {item.reference}")],
            )
        # A redelivered decision was already announced: tell nobody twice.
        key = f"closure-decided:{proposal.id if proposal else f'item-{item.id}'}"
        notices = tuple(Notice(person_id, notice, key, item.id) for person_id in leads) if notify else ()
        return Decision(reply, notices)
