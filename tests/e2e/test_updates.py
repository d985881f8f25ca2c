"""Leads post updates through a conversation; admins assign and sign off: end to end over HTTP."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select

from storage.database import create_engine, create_sessionmaker
from storage.models import Update
from tests.fakes.stub_connector import StubConnector
from tests.fakes.teams import CHANNEL, JANE, PERSONAL, SAM, BotClient, activity, channel_message, message

SAM_PERSONAL = "a:1personal-chat-with-sam"


async def say(bot: BotClient, stub: StubConnector, text: str, *, user=JANE, conversation_id: str = PERSONAL) -> str:  # type: ignore[no-untyped-def]
    """Post a personal message and return what the bot answered (every reply of that turn)."""
    before = len(stub.sent)
    response = await bot.post(message(text, stub.url, user=user, conversation_id=conversation_id))
    assert response.status == 200
    replies = stub.sent[before:]
    assert replies, f"no reply to {text!r}"
    return "\n".join(reply.readable for reply in replies)


async def in_channel(bot: BotClient, stub: StubConnector, text: str, *, user=SAM) -> str:  # type: ignore[no-untyped-def]
    before = len(stub.sent)
    assert (await bot.post(channel_message(text, stub.url, user=user))).status == 200
    return "\n".join(reply.readable for reply in stub.sent[before:])


async def count_updates(database_url: str) -> int:
    engine = create_engine(database_url)
    async with create_sessionmaker(engine)() as session:
        count = await session.scalar(select(func.count(Update.id)))
    await engine.dispose()
    return count or 0


async def post_update(bot: BotClient, stub: StubConnector, *answers: str) -> str:
    reply = ""
    for answer in answers:
        reply = await say(bot, stub, answer)
    return reply


async def test_assign_update_status_history(
    start_bot: Callable[..., object], stub: StubConnector, seeded_database: str
) -> None:
    bot: BotClient = await start_bot(admins=(SAM.email,))  # type: ignore[misc]
    await say(bot, stub, "my recommendations")  # Jane introduces herself

    assert "Jane Doe" in await in_channel(bot, stub, "assign recommendation 8 to jane.doe@force.police.uk")
    refused = await in_channel(bot, stub, "assign recommendation 9 to sam.patel@force.police.uk", user=JANE)
    assert "admin" in refused.lower()

    before = await count_updates(seeded_database)
    assert "status" in (await say(bot, stub, "update recommendation 8")).lower()
    await say(bot, stub, "In progress")
    await say(bot, stub, "at risk")
    await say(bot, stub, "Hydra training: 62% of response officers done.")
    await say(bot, stub, "skip")
    summary = await say(bot, stub, "skip")
    assert "confirm" in summary.lower()
    assert await count_updates(seeded_database) == before  # nothing is written before confirm
    saved = await say(bot, stub, "confirm")
    assert "Saved" in saved
    assert await count_updates(seeded_database) == before + 1

    status = await say(bot, stub, "status of recommendation 8")
    assert "Hydra training: 62% of response officers done." in status
    assert "Jane Doe" in status and "at risk" in status

    history = await say(bot, stub, "history of recommendation 8")
    assert "Owner set to Jane Doe" in history
    assert "Hydra training: 62%" in history
    assert "PCC response" in history


async def test_buttons_work_as_well_as_typing(start_bot: Callable[..., object], stub: StubConnector) -> None:
    bot: BotClient = await start_bot(admins=(JANE.email,))  # type: ignore[misc]
    first = await say(bot, stub, "update rec 2")
    assert "In progress" in first
    clicked = message("", stub.url, value={"command": "Blocked"})
    del clicked["text"]
    assert (await bot.post(clicked)).status == 200
    assert "on track" in stub.sent[-1].readable.lower()


async def test_a_restart_mid_dialog_continues_where_it_was(
    start_bot: Callable[..., object], stub: StubConnector, seeded_database: str
) -> None:
    first: BotClient = await start_bot(admins=(JANE.email,))  # type: ignore[misc]
    await say(first, stub, "update recommendation 4")
    await say(first, stub, "Blocked")
    second: BotClient = await start_bot(admins=(JANE.email,))  # type: ignore[misc]  # a new process on the same database
    await say(second, stub, "off track")
    await say(second, stub, "Waiting for the regional intelligence post to be filled.")
    await say(second, stub, "https://intranet.force.police.uk/oic/plan")
    await say(second, stub, "skip")
    assert "Saved" in await say(second, stub, "confirm")
    assert "Waiting for the regional intelligence post" in await say(first, stub, "status of rec 4")


async def test_cancel_saves_nothing(
    start_bot: Callable[..., object], stub: StubConnector, seeded_database: str
) -> None:
    bot: BotClient = await start_bot(admins=(JANE.email,))  # type: ignore[misc]
    before = await count_updates(seeded_database)
    await say(bot, stub, "update rec 2")
    await say(bot, stub, "In progress")
    assert "nothing was saved" in (await say(bot, stub, "cancel")).lower()
    assert await count_updates(seeded_database) == before
    assert "Hydra" in await say(bot, stub, "status of rec 8")  # back to normal questions


async def test_a_stranger_is_refused_with_the_owner_named(
    start_bot: Callable[..., object], stub: StubConnector
) -> None:
    bot: BotClient = await start_bot(admins=(SAM.email,))  # type: ignore[misc]
    await say(bot, stub, "my recommendations")
    await in_channel(bot, stub, "assign recommendation 8 to jane.doe@force.police.uk")
    refusal = await say(
        bot,
        stub,
        "update recommendation 8",
        user=SAM.__class__(
            teams_id="29:1someone-else",
            aad_object_id="6d7b5c2e-3333-4c8e-9a40-000000000003",
            name="Alex Kim",
            email="alex.kim@force.police.uk",
        ),
        conversation_id="a:1personal-chat-with-alex",
    )
    assert "Only the owner, a delegate or an admin can update recommendation 8" in refusal
    assert "Jane Doe" in refusal


async def test_closure_approved_and_rejected_and_the_lead_is_told(
    start_bot: Callable[..., object], stub: StubConnector
) -> None:
    stub.members["29:1someone-else"] = {}
    bot: BotClient = await start_bot(admins=(SAM.email,))  # type: ignore[misc]
    await say(bot, stub, "my recommendations")
    await in_channel(bot, stub, "assign recommendation 8 to jane.doe@force.police.uk")
    await in_channel(bot, stub, "assign recommendation 9 to jane.doe@force.police.uk")

    for number in (8, 9):
        saved = await post_update(
            bot, stub, f"update rec {number}", "Complete", "on track", "All staff trained.", "skip", "skip", "confirm"
        )
        assert "Saved" in saved
    awaiting = await in_channel(bot, stub, "list awaiting sign-off")
    assert "OIC-2025 R8" in awaiting and "OIC-2025 R9" in awaiting

    approved = await in_channel(bot, stub, "approve closure of recommendation 8")
    assert "closed" in approved.lower()
    told = [sent for sent in stub.sent if sent.conversation_id == PERSONAL]
    assert "approved the closure of recommendation 8" in told[-1].readable

    needs_reason = await in_channel(bot, stub, "reject closure of recommendation 9")
    assert "because" in needs_reason
    rejected = await in_channel(
        bot, stub, "reject closure of recommendation 9 because the e-learning figures are missing"
    )
    assert "back in progress" in rejected
    told = [sent for sent in stub.sent if sent.conversation_id == PERSONAL]
    assert "the e-learning figures are missing" in told[-1].readable

    assert "Closed" in await say(bot, stub, "status of rec 8")
    assert "In progress" in await say(bot, stub, "status of rec 9")


async def test_the_form_records_the_same_update(
    start_bot: Callable[..., object], stub: StubConnector, seeded_database: str
) -> None:
    bot: BotClient = await start_bot(admins=(JANE.email,))  # type: ignore[misc]
    await say(bot, stub, "update rec 2")
    form_reply = await say(bot, stub, "Use a form instead")
    card = stub.sent[-1].card
    assert card is not None and "Input.Text" in str(card)
    submit = [action for action in card.get("actions", []) if action.get("type") == "Action.Submit"][0]
    item_id = submit["data"]["item_id"]
    assert form_reply

    bad = activity("message", stub.url, value={"form": "update", "item_id": item_id, "status": "", "narrative": ""})
    assert (await bot.post(bad)).status == 200
    assert "not saved" in stub.sent[-1].readable

    before = await count_updates(seeded_database)
    good_value = {
        "form": "update",
        "item_id": item_id,
        "status": "In progress",
        "assessment": "on track",
        "narrative": "Compliance audit booked for January.",
        "evidence_url": "",
        "revised_due_on": "",
        "revised_due_reason": "",
    }
    good = activity("message", stub.url, value=good_value)
    assert (await bot.post(good)).status == 200
    assert "Saved" in stub.sent[-1].readable
    # Teams redelivers on timeouts: the same activity id records nothing more.
    assert (await bot.post(good)).status == 200
    assert await count_updates(seeded_database) == before + 1
    assert "Compliance audit booked for January." in await say(bot, stub, "status of rec 2")


async def test_admins_set_due_dates_with_a_reason(start_bot: Callable[..., object], stub: StubConnector) -> None:
    bot: BotClient = await start_bot(admins=(SAM.email,))  # type: ignore[misc]
    asks_reason = await in_channel(bot, stub, "set due date of recommendation 2 to 30 June 2027")
    assert "because" in asks_reason
    changed = await in_channel(bot, stub, "set due date of recommendation 2 to 30 June 2027 because the audit moved")
    assert "30 June 2027" in changed
    status = await say(bot, stub, "status of rec 2")
    assert "30 June 2027" in status
    assert "the audit moved" in await say(bot, stub, "history of rec 2")
    assert CHANNEL  # the channel conversation was used for admin commands


async def test_two_members_of_a_channel_never_share_an_update(
    start_bot: Callable[..., object], stub: StubConnector
) -> None:
    bot: BotClient = await start_bot(admins=(JANE.email, SAM.email))  # type: ignore[misc]
    assert "status" in (await in_channel(bot, stub, "update rec 2", user=JANE)).lower()
    # Sam's message in the same thread is his own: it does not answer Jane's question.
    sams = await in_channel(bot, stub, "list blocked", user=SAM)
    assert "blocked" in sams.lower() and "assessment" not in sams.lower()
    assert "on track" in (await in_channel(bot, stub, "Blocked", user=JANE)).lower()
