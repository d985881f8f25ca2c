"""Every command RecBot answers, in one ordered registry.

A `Command` declares the grammar parsers that read it (`bot/intents.py`), who may use it, and how
it is answered: the service call and the card. `parse_intent` tries the parsers in the order of
`COMMANDS` (the first intent found wins, so the most specific commands come first), and `answer`
runs the command of the intent it found. Adding a command is one entry here plus its service
method and its card.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any

from bot import intents
from bot.cards import common as cards
from bot.cards.common import Reply
from bot.cards.help import help_card, welcome_card
from bot.cards.render import render
from bot.intents import Intent, Parser
from bot.turn import TurnInput
from domain.refs import ItemRef
from services.answers import Answers
from services.governance import Decision, LeadCommands
from services.notices import Notice
from services.people import Identity
from services.requests import Waiting
from services.results import Result
from services.subscriptions import DigestCommands, Place
from storage.state import StateAlong


class Who(Enum):
    """Who a command is for (the services check the rights themselves, with a reason when refused)."""

    ANYONE = "anyone"
    LEADS = "owners, delegates and admins"
    ADMINS = "admins"


@dataclass(frozen=True)
class Services:
    """The use cases the commands call."""

    answers: Answers
    governance: LeadCommands
    subscriptions: DigestCommands
    today: Callable[[], date]


@dataclass
class Asked:
    """One command being answered: the message, the services, and what the handler lends it."""

    turn: TurnInput
    services: Services
    # The sender as a stored person; looked up on demand (a status question needs no one).
    identify: Callable[[], Awaitable[Identity | None]]
    # Where a digest command was typed (built on demand: it serialises the conversation reference).
    place: Callable[[], Place]
    # Starts the update dialog (it speaks for itself, so there is no reply).
    start_update: Callable[[ItemRef | None, bool], Awaitable[None]]
    # Messages for other people, delivered after the reply has been sent.
    notices: list[Notice] = field(default_factory=list)
    # An admin grant or revoke ran: identities cached with the old rights are forgotten.
    rights_changed: bool = False
    # The sender's bot state, for a status question to read in its own statement (bot.handler).
    state: StateAlong | None = None

    def decided(self, done: Result | Decision) -> Result:
        """The reply to send; a decision's notices wait until it has been sent."""
        if not isinstance(done, Decision):
            return done
        self.notices.extend(done.notices)
        return done.reply


# A command's answer: a service's result, a card of our own, or None when a dialog spoke for itself.
Run = Callable[[Asked, Any], Awaitable[Result | Reply | None]]


@dataclass(frozen=True)
class Command:
    answers: type[Intent]
    parsers: tuple[Parser, ...]
    who: Who
    run: Run


def _reply(reply: Reply) -> Run:
    async def run(asked: Asked, intent: Any) -> Reply:
        return reply

    return run


# The services' calls, grouped by what they need from the message besides the request.
Method = Callable[..., Awaitable[Any]]


def _about_someone(method: Method) -> Run:
    """assign, add / remove delegate: the sender, whom they @mentioned, the message's key and conversation."""

    async def run(asked: Asked, request: Any) -> Result:
        turn = asked.turn
        actor = await asked.identify()
        return asked.decided(
            await method(asked.services.governance, request, actor, turn.mentions, turn.key, turn.conversation_id)
        )

    return run


def _about_an_item(method: Method) -> Run:
    """set due date or title, approve / reject closure or date: the sender, the message's key and conversation."""

    async def run(asked: Asked, request: Any) -> Result:
        turn = asked.turn
        return asked.decided(
            await method(asked.services.governance, request, await asked.identify(), turn.key, turn.conversation_id)
        )

    return run


def _admin_rights(method: Method) -> Run:
    """make / revoke admin: the sender and whom they @mentioned; cached rights are stale afterwards."""

    async def run(asked: Asked, request: Any) -> Result:
        decision = await method(asked.services.governance, request, await asked.identify(), asked.turn.mentions)
        asked.rights_changed = True
        return asked.decided(decision)

    return run


def _for_the_sender(method: Method) -> Run:
    """stop / resume reminders: only who is asking."""

    async def run(asked: Asked, request: Any) -> Result:
        return await method(asked.services.subscriptions, identity=await asked.identify())

    return run


def _digest_here(method: Method, *, takes_request: bool = True) -> Run:
    """subscribe, unsubscribe, personal digest, digest settings: who is asking, and where."""

    async def run(asked: Asked, request: Any) -> Result:
        arguments = (request,) if takes_request else ()
        return await method(
            asked.services.subscriptions, *arguments, identity=await asked.identify(), place=asked.place()
        )

    return run


async def _snooze(asked: Asked, request: Any) -> Result:
    subscriptions = asked.services.subscriptions
    return await subscriptions.snooze_reminders(request, identity=await asked.identify(), today=asked.services.today())


async def _start_update(asked: Asked, intent: Any) -> None:
    await asked.start_update(intent.ref, isinstance(intent, intents.CorrectUpdate))


async def _pending(asked: Asked, request: Any) -> Result:
    # "list pending requests" needs nobody; "what needs my decision" needs the sender.
    mine = request.waiting is Waiting.FOR_ME
    return await asked.services.governance.pending(request, await asked.identify() if mine else None)


async def _mine(asked: Asked, intent: Any) -> Result:
    return await asked.services.answers.mine(await asked.identify())


async def _help(asked: Asked, intent: Any) -> Reply:
    """The commands the sender may use: leads' and admins' only to them."""
    identity = await asked.identify()
    if identity is None:
        return help_card()
    return help_card(lead=await asked.services.governance.is_lead(identity), admin=identity.is_admin)


async def _greet(asked: Asked, intent: Any) -> Reply:
    return welcome_card(in_channel=asked.turn.in_channel)


NOTHING_TO_CANCEL = cards.message("There's nothing to cancel right now. Type `help` to see what I can do.")

# Ordered: the first parser that finds an intent wins (Search, last, takes any text).
COMMANDS: tuple[Command, ...] = (
    Command(intents.Greeting, (intents.GREETING,), Who.ANYONE, _greet),
    Command(intents.Help, (intents.HELP,), Who.ANYONE, _help),
    Command(intents.CorrectUpdate, (intents.CORRECT_UPDATE,), Who.LEADS, _start_update),
    Command(
        intents.UseReport,
        (intents.USE_REPORT,),
        Who.ANYONE,
        lambda asked, intent: asked.services.answers.use_report(intent.report_code, asked.turn.conversation_id),
    ),
    Command(intents.Thanks, (intents.THANKS,), Who.ANYONE, _reply(cards.message("You're welcome."))),
    Command(intents.Cancel, (intents.CANCEL,), Who.ANYONE, _reply(NOTHING_TO_CANCEL)),
    Command(intents.Back, (intents.BACK,), Who.ANYONE, _reply(NOTHING_TO_CANCEL)),
    Command(
        intents.StopReminders, (intents.STOP_REMINDERS,), Who.ANYONE, _for_the_sender(DigestCommands.stop_reminders)
    ),
    Command(intents.SnoozeReminders, (intents.SNOOZE_REMINDERS,), Who.ANYONE, _snooze),
    Command(
        intents.ResumeReminders,
        (intents.RESUME_REMINDERS,),
        Who.ANYONE,
        _for_the_sender(DigestCommands.resume_reminders),
    ),
    Command(
        intents.PersonalDigest, (intents.PERSONAL_DIGEST,), Who.ANYONE, _digest_here(DigestCommands.personal_digest)
    ),
    Command(intents.Unsubscribe, (intents.UNSUBSCRIBE,), Who.ANYONE, _digest_here(DigestCommands.unsubscribe)),
    Command(intents.Subscribe, (intents.SUBSCRIBE,), Who.ANYONE, _digest_here(DigestCommands.subscribe)),
    Command(
        intents.DigestSettings,
        (intents.DIGEST_SETTINGS,),
        Who.ANYONE,
        _digest_here(DigestCommands.digest_settings, takes_request=False),
    ),
    Command(
        intents.ListAdmins,
        (intents.LIST_ADMINS,),
        Who.ANYONE,
        lambda asked, request: asked.services.governance.admins(request),
    ),
    Command(intents.RevokeAdmin, (intents.REVOKE_ADMIN,), Who.ADMINS, _admin_rights(LeadCommands.revoke_admin)),
    Command(intents.GrantAdmin, (intents.GRANT_ADMIN,), Who.ADMINS, _admin_rights(LeadCommands.grant_admin)),
    Command(
        intents.RemoveDelegate, (intents.REMOVE_DELEGATE,), Who.LEADS, _about_someone(LeadCommands.remove_delegate)
    ),
    Command(intents.AddDelegate, (intents.ADD_DELEGATE,), Who.LEADS, _about_someone(LeadCommands.add_delegate)),
    Command(intents.SetDueDate, (intents.SET_DUE_DATE,), Who.ADMINS, _about_an_item(LeadCommands.set_due_date)),
    Command(intents.SetTitle, (intents.SET_TITLE,), Who.ADMINS, _about_an_item(LeadCommands.set_title)),
    Command(intents.Supersede, (intents.SUPERSEDE,), Who.ADMINS, _about_an_item(LeadCommands.supersede)),
    Command(intents.Reopen, (intents.REOPEN,), Who.ADMINS, _about_an_item(LeadCommands.reopen)),
    Command(
        intents.RejectDueDate, (intents.REJECT_DUE_DATE,), Who.ADMINS, _about_an_item(LeadCommands.reject_due_date)
    ),
    Command(
        intents.ApproveDueDate, (intents.APPROVE_DUE_DATE,), Who.ADMINS, _about_an_item(LeadCommands.approve_due_date)
    ),
    Command(
        intents.Pending,
        (intents.PENDING, intents.PENDING_ALL),
        Who.ANYONE,
        _pending,
    ),
    Command(intents.RejectClosure, (intents.REJECT_CLOSURE,), Who.ADMINS, _about_an_item(LeadCommands.reject_closure)),
    Command(
        intents.ApproveClosure, (intents.APPROVE_CLOSURE,), Who.ADMINS, _about_an_item(LeadCommands.approve_closure)
    ),
    Command(intents.Assign, (intents.ASSIGN,), Who.ADMINS, _about_someone(LeadCommands.assign)),
    Command(
        intents.History,
        (intents.HISTORY,),
        Who.ANYONE,
        lambda asked, intent: asked.services.governance.history(intent.ref, asked.turn.conversation_id),
    ),
    Command(
        intents.AboutReport,
        (intents.STATEMENT, intents.SUMMARY),
        Who.ANYONE,
        lambda asked, intent: asked.services.answers.about_report(
            intent.statement, intent.report_code, asked.turn.conversation_id
        ),
    ),
    Command(
        intents.Response,
        (intents.RESPONSE,),
        Who.ANYONE,
        lambda asked, intent: asked.services.answers.response(intent.ref, asked.turn.conversation_id),
    ),
    Command(intents.Mine, (intents.MINE,), Who.ANYONE, _mine),
    Command(intents.StartUpdate, (intents.START_UPDATE,), Who.LEADS, _start_update),
    Command(
        intents.ChangesIn,
        (intents.CHANGES,),
        Who.ANYONE,
        lambda asked, intent: asked.services.answers.changes(intent.period, intent.report_code),
    ),
    Command(
        intents.CountItems,
        (intents.COUNT_ITEMS,),
        Who.ANYONE,
        lambda asked, intent: asked.services.answers.count_items(intent.filter, intent.report_code, intent.kind),
    ),
    Command(
        intents.StatusOfMany,
        (intents.STATUS_OF_MANY,),
        Who.ANYONE,
        lambda asked, intent: asked.services.answers.statuses(intent.refs, asked.turn.conversation_id),
    ),
    Command(
        intents.ListItems,
        (intents.LIST_ITEMS,),
        Who.ANYONE,
        lambda asked, intent: asked.services.answers.list_items(intent.filter, intent.report_code, intent.kind),
    ),
    Command(
        intents.Status,
        (intents.STATUS,),
        Who.ANYONE,
        lambda asked, intent: asked.services.answers.status(intent.ref, asked.turn.conversation_id, asked.state),
    ),
    Command(
        intents.Search,
        (intents.SEARCH,),
        Who.ANYONE,
        # One candidate is the answer: a one-option picker is never shown.
        lambda asked, intent: asked.services.answers.search_answer(intent.query),
    ),
    Command(
        intents.Unknown,
        (),
        Who.ANYONE,
        _reply(cards.message("Ask me about a recommendation, e.g. `status of recommendation 8`, or type `help`.")),
    ),
)

_PARSERS: tuple[Parser, ...] = tuple(parser for command in COMMANDS for parser in command.parsers)
_BY_INTENT: dict[type, Command] = {command.answers: command for command in COMMANDS}
# What a message inside a dialog may be without being taken for a new command.
_NOT_COMMANDS = (intents.Search, intents.Unknown, intents.Cancel, intents.Back, intents.Thanks)


def parse_intent(text: str) -> Intent:
    """Read one message as an intent; never raises, and returns Unknown only for empty text."""
    return intents.parse_intent(text, _PARSERS)


def command_for(intent: Intent) -> Command:
    """The registry entry that answers an intent."""
    return _BY_INTENT[type(intent)]


def is_command(text: str) -> bool:
    """True when a message inside a dialog is clearly a new command rather than an answer."""
    return not isinstance(parse_intent(text), _NOT_COMMANDS)


def item_ref(text: str) -> ItemRef | None:
    """The item reference in a typed answer ("R8", "8", "OIC-2025 R8", "recommendation 8"), if any."""
    ref = getattr(parse_intent(text), "ref", None)
    return ref if isinstance(ref, ItemRef) else None


async def answer(intent: Intent, asked: Asked) -> Reply | None:
    """The reply to one parsed message (None when a dialog started and spoke for itself)."""
    answered = await command_for(intent).run(asked, intent)
    return render(answered) if answered is not None and not isinstance(answered, Reply) else answered
