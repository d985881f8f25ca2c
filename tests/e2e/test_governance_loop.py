"""The governance loop over HTTP: requests reach every admin once, a decision from a card button
(Universal Actions) closes the loop, cards show each person their own buttons and stay true."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from tests.fakes.card_nodes import walk
from tests.fakes.stub_connector import Sent, StubConnector
from tests.fakes.teams import JANE, PERSONAL, SAM, BotClient, User, activity, channel_message, message

ALEX = User(
    teams_id="29:1alex-teams-id",
    aad_object_id="6d7b5c2e-3333-4c8e-9a40-000000000003",
    name="Alex Kim",
    email="alex.kim@force.police.uk",
)
CHATS = {JANE: PERSONAL, SAM: "a:1personal-chat-with-sam", ALEX: "a:1personal-chat-with-alex"}


async def say(bot: BotClient, stub: StubConnector, text: str, user: User = JANE) -> str:
    before = len(stub.sent)
    assert (await bot.post(message(text, stub.url, user=user, conversation_id=CHATS[user]))).status == 200
    return "\n".join(sent.readable for sent in stub.sent[before:])


async def in_channel(bot: BotClient, stub: StubConnector, text: str, user: User = SAM) -> str:
    before = len(stub.sent)
    assert (await bot.post(channel_message(text, stub.url, user=user))).status == 200
    return "\n".join(sent.readable for sent in stub.sent[before:])


def to(stub: StubConnector, user: User, words: str) -> list[Sent]:
    """What was posted into the person's 1:1 chat that says `words`."""
    return [sent for sent in stub.sent if sent.conversation_id == CHATS[user] and words in sent.readable]


def buttons(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The card's buttons by title, its refresh left out (the Reject form's Send is under its ShowCard)."""
    shown = {key: value for key, value in card.items() if key != "refresh"}
    return {node["title"]: node for node in walk(shown) if str(node.get("type", "")).startswith("Action.")}


async def invoke(
    bot: BotClient, stub: StubConnector, user: User, data: dict[str, Any], *, verb: str, reply_to: str | None
) -> dict[str, Any]:
    """An `adaptiveCard/action` invoke from `user`'s 1:1 chat; the body of the HTTP answer."""
    value = {"action": {"type": "Action.Execute", "verb": verb, "data": data}, "trigger": "manual"}
    fields: dict[str, Any] = {"replyToId": reply_to} if reply_to else {}
    body = activity(
        "invoke", stub.url, name="adaptiveCard/action", value=value, user=user, conversation_id=CHATS[user], **fields
    )
    async with bot.session.post(f"{bot.base_url}/api/messages", json=body) as response:
        assert response.status == 200, await response.text()
        answer: dict[str, Any] = await response.json()
    return answer


async def start(start_bot: Callable[..., object], stub: StubConnector) -> BotClient:
    stub.members[ALEX.teams_id] = ALEX.member()
    bot: BotClient = await start_bot(admins=(SAM.email, ALEX.email))  # type: ignore[misc]
    for user in CHATS:  # everyone has talked to RecBot, so it can reach them 1:1
        await say(bot, stub, "my recommendations", user)
    return bot


async def ask_for_sign_off_and_a_later_date(bot: BotClient, stub: StubConnector) -> None:
    """Jane asks for a later date in one update, then for sign-off in the next."""
    for answer in ("update rec 8", "In progress", "on track", "Last cohort booked.", "https://intranet/hydra"):
        await say(bot, stub, answer)
    await say(bot, stub, "31 March 2027")
    await say(bot, stub, "The venue for the last cohort moved")
    assert "Saved" in await say(bot, stub, "confirm")
    for answer in ("update rec 8", "Complete", "All 340 officers trained.", "https://intranet/hydra"):
        await say(bot, stub, answer)
    confirm = message("confirm", stub.url, conversation_id=PERSONAL)
    assert (await bot.post(confirm)).status == 200
    assert (await bot.post(confirm)).status == 200  # Teams redelivers: nobody is told twice


async def test_a_request_reaches_every_admin_once_and_a_card_button_decides_it(
    start_bot: Callable[..., object], stub: StubConnector
) -> None:
    bot = await start(start_bot, stub)
    assert "now owned by Jane Doe" in await in_channel(bot, stub, "assign recommendation 8 to jane.doe@force.police.uk")
    [assigned] = to(stub, JANE, "made you the owner of recommendation 8")
    assert "update OIC-2025 R8" in assigned.readable

    await ask_for_sign_off_and_a_later_date(bot, stub)
    for admin in (SAM, ALEX):
        assert len(to(stub, admin, "Sign-off requested")) == 1
        assert len(to(stub, admin, "Later due date requested: 31 March 2027")) == 1
    [sam_date] = to(stub, SAM, "Later due date requested")
    [alex_date] = to(stub, ALEX, "Later due date requested")
    assert "The venue for the last cohort moved" in sam_date.readable and "https://intranet/hydra" in sam_date.readable
    assert sam_date.card is not None and set(sam_date.card["refresh"]["userIds"]) == {SAM.teams_id, ALEX.teams_id}
    approve = buttons(sam_date.card)["Approve new date"]
    assert approve["type"] == "Action.Execute"

    # Jane presses a copy of Sam's button: refused with the reason, nothing changes.
    refused = await invoke(bot, stub, JANE, approve["data"], verb=approve["verb"], reply_to=None)
    assert refused["type"] == "application/vnd.microsoft.activity.message"
    assert "Only an admin" in refused["value"]
    assert "Later date asked for" in await say(bot, stub, "status of rec 8")

    # Sam approves from his card: his card is replaced by the decided one, the message updated in place.
    answered = await invoke(bot, stub, SAM, approve["data"], verb=approve["verb"], reply_to=sam_date.id)
    assert answered["type"] == "application/vnd.microsoft.card.adaptive"
    decided = answered["value"]
    assert "Approved by Sam Patel" in decided["fallbackText"]
    assert "Approve new date" not in buttons(decided)
    [in_place] = [sent for sent in stub.updated if sent.id == sam_date.id]
    assert "Approved by Sam Patel" in str(in_place.activity)
    [told] = to(stub, JANE, "approved your revised due date")
    assert "31 March 2027" in told.readable

    # Alex's copy, refreshed when he looks at it, says who decided and offers nothing to press.
    refreshed = await invoke(
        bot, stub, ALEX, alex_date.card["refresh"]["action"]["data"], verb="refresh", reply_to=None
    )  # type: ignore[index]
    assert "Approved by Sam Patel" in refreshed["value"]["fallbackText"]
    assert "Approve new date" not in buttons(refreshed["value"])

    # Alex sends the sign-off back with a reason typed into the card.
    [alex_closure] = to(stub, ALEX, "Sign-off requested")
    assert alex_closure.card is not None
    send = buttons(alex_closure.card)["Send"]
    data = {**send["data"], send["data"]["reason_from"]: "the e-learning figures are missing"}
    answered = await invoke(bot, stub, ALEX, data, verb=send["verb"], reply_to=alex_closure.id)
    assert "Not approved by Alex Kim" in answered["value"]["fallbackText"]
    [told] = to(stub, JANE, "did not approve the closure")
    assert "the e-learning figures are missing" in told.readable

    status = await say(bot, stub, "status of rec 8")
    assert "In progress" in status and "31 March 2027 (approved by Sam Patel" in status
    assert "Nothing is waiting for your decision" in await say(bot, stub, "what needs my decision", SAM)
    history = await say(bot, stub, "history of rec 8")
    assert "Revised due date approved (asked by Jane Doe)" in history and "Closure rejected" in history
    # Every notice is in the audit trail, once: whom, and what it said.
    assert history.count("Notice to Sam Patel") == 2 and history.count("Notice to Alex Kim") == 2
    assert "Notice to Jane Doe" in history and "Later due date requested: 31 March 2027" in history


async def test_each_person_sees_only_their_buttons(start_bot: Callable[..., object], stub: StubConnector) -> None:
    bot = await start(start_bot, stub)
    await in_channel(bot, stub, "assign recommendation 8 to jane.doe@force.police.uk")
    await ask_for_sign_off_and_a_later_date(bot, stub)

    await in_channel(bot, stub, "status of rec 8", user=JANE)
    posted = stub.sent[-1].card
    assert posted is not None
    assert list(buttons(posted)) == ["History", "Constabulary response"]  # in the channel: what anyone may do
    assert set(posted["refresh"]["userIds"]) == {JANE.teams_id, SAM.teams_id, ALEX.teams_id}
    view = posted["refresh"]["action"]["data"]

    jane = (await invoke(bot, stub, JANE, view, verb="refresh", reply_to=None))["value"]
    assert list(buttons(jane)) == ["History", "Constabulary response", "Post update"]
    sam = (await invoke(bot, stub, SAM, view, verb="refresh", reply_to=None))["value"]
    assert {"Approve sign-off", "Reject sign-off…", "Approve new date", "Reject new date…"} <= set(buttons(sam))

    waiting = await say(bot, stub, "what needs my decision", SAM)
    assert "Sign-off requested" in waiting and "Later due date requested" in waiting
    mine = await say(bot, stub, "what's waiting on me")
    assert "Your requests waiting for an admin" in mine and "OIC-2025 R8" in mine
    assert "Requests waiting for a decision" in await say(bot, stub, "list pending requests", ALEX)

    assert "now closed" in await say(bot, stub, "approve closure of R8", SAM)
    closed = (await invoke(bot, stub, JANE, view, verb="refresh", reply_to=None))["value"]
    assert list(buttons(closed)) == ["History", "Constabulary response"]  # nothing to do on a closed item


async def test_typed_date_decisions_and_their_refusals(start_bot: Callable[..., object], stub: StubConnector) -> None:
    bot = await start(start_bot, stub)
    assert "Nobody has asked for a later due date" in await say(bot, stub, "approve revised date of R8", SAM)
    await in_channel(bot, stub, "assign recommendation 8 to jane.doe@force.police.uk")
    await ask_for_sign_off_and_a_later_date(bot, stub)
    assert "Only an admin" in await say(bot, stub, "approve revised date of R8")
    assert "Tell me why" in await say(bot, stub, "reject revised date of R8", SAM)
    rejected = await say(bot, stub, "reject revised date of R8 because the plan has no milestones", SAM)
    assert "keeps its due date" in rejected
    [told] = to(stub, JANE, "did not approve 31 March 2027")
    assert "the plan has no milestones" in told.readable
    assert "Later date asked for" not in await say(bot, stub, "status of rec 8")


async def test_two_instances_given_the_same_request_tell_each_admin_once(
    start_bot: Callable[..., object], stub: StubConnector
) -> None:
    first = await start(start_bot, stub)
    second: BotClient = await start_bot(admins=(SAM.email, ALEX.email))  # type: ignore[misc]
    await in_channel(first, stub, "assign recommendation 8 to jane.doe@force.police.uk")
    for answer in ("update rec 8", "Complete", "All 340 officers trained.", "skip"):
        await say(first, stub, answer)
    confirm = message("confirm", stub.url, conversation_id=PERSONAL)
    # Teams redelivers the confirm to the other instance while the first is still answering it.
    answers = await asyncio.gather(first.post(confirm), second.post(confirm))
    assert [response.status for response in answers] == [200, 200]
    for admin in (SAM, ALEX):
        assert len(to(stub, admin, "Sign-off requested")) == 1


async def test_superseded_and_reopened_with_the_reason_kept(
    start_bot: Callable[..., object], stub: StubConnector
) -> None:
    bot = await start(start_bot, stub)
    await in_channel(bot, stub, "assign recommendation 8 to jane.doe@force.police.uk")
    assert "Say what replaces it, or why" in await in_channel(bot, stub, "mark R8 as superseded")
    assert "Only an admin" in await say(bot, stub, "mark R8 superseded by R9")
    assert "can't supersede itself" in await in_channel(bot, stub, "mark R8 superseded by R8")
    done = await in_channel(bot, stub, "mark R8 superseded by R9 because HMICFRS merged them")
    assert "now superseded (by OIC-2025 R9; HMICFRS merged them)" in done
    [told] = to(stub, JANE, "marked recommendation 8 (OIC-2025 R8 · Hydra training package) superseded")
    assert "takes no more updates" in told.readable
    assert "Superseded" in await say(bot, stub, "status of R8")
    assert "takes no more updates" in await say(bot, stub, "update R8")

    assert "Tell me why" in await in_channel(bot, stub, "reopen R8")
    assert "back in progress" in await in_channel(bot, stub, "reopen R8 because the merged plan was withdrawn")
    assert to(stub, JANE, "reopened recommendation 8")
    assert "only a closed item can be reopened" in await in_channel(bot, stub, "reopen R8 because again")
    history = await say(bot, stub, "history of R8")
    assert "Marked Superseded" in history and "by OIC-2025 R9; HMICFRS merged them" in history
    assert "Reopened · In progress" in history and "the merged plan was withdrawn" in history


async def test_admin_rights_given_and_taken_are_kept(start_bot: Callable[..., object], stub: StubConnector) -> None:
    bot = await start(start_bot, stub)
    assert "Jane Doe is now an admin" in await say(bot, stub, "make jane.doe@force.police.uk an admin", SAM)
    [told] = to(stub, JANE, "made you a RecBot admin")
    assert "Sam Patel" in told.readable
    assert "no longer an admin" in await say(bot, stub, "remove admin from jane.doe@force.police.uk", ALEX)
    admins = await say(bot, stub, "who are the admins")
    assert "Admins: Alex Kim, Sam Patel" in admins
    assert admins.index("Alex Kim removed Jane Doe as an admin") < admins.index("Sam Patel made Jane Doe an admin")


async def test_a_persons_first_activities_at_once_are_all_answered(
    start_bot: Callable[..., object], stub: StubConnector
) -> None:
    stub.members[ALEX.teams_id] = ALEX.member()
    bot: BotClient = await start_bot(admins=(ALEX.email,))  # type: ignore[misc]
    await say(bot, stub, "status of rec 8")  # a card to refresh; Alex has not spoken yet
    view = stub.sent[-1].card["refresh"]["action"]["data"]  # type: ignore[index]
    # Teams refreshes every card Alex can see the moment he opens the chat: all at once.
    answers = await asyncio.gather(*(invoke(bot, stub, ALEX, view, verb="refresh", reply_to=None) for _ in range(6)))
    assert all("Approve" not in str(answer) and answer["type"].endswith("card.adaptive") for answer in answers)


async def test_help_shows_each_person_what_they_may_use(start_bot: Callable[..., object], stub: StubConnector) -> None:
    bot = await start(start_bot, stub)
    officer = await say(bot, stub, "help")
    assert "For everyone" in officer and "For leads" not in officer and "For admins" not in officer
    assert "For admins" in await say(bot, stub, "help", SAM)
    await in_channel(bot, stub, "assign recommendation 8 to jane.doe@force.police.uk")
    lead = await say(bot, stub, "help")
    assert "For leads" in lead and "update recommendation 8" in lead and "For admins" not in lead


async def test_the_forces_response_stays_reachable_whole(start_bot: Callable[..., object], stub: StubConnector) -> None:
    bot = await start(start_bot, stub)
    for answer in ("update rec 8", "In progress", "on track", "Training booked.", "skip", "skip", "confirm"):
        await say(bot, stub, answer, SAM)
    answer = await say(bot, stub, "response to R8")
    # Named as the seed document names it, and whole (the seed's response to R8 is long).
    assert answer.startswith("Constabulary response · OIC-2025 R8")
    assert "Training booked." not in answer and len(answer) > 400
    history = await say(bot, stub, "history of R8")
    assert answer.split("\n")[-1][-80:] in history  # the history keeps it whole too
