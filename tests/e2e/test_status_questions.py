"""Officers ask about recommendations in Teams and get cards: end to end over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from domain.records import ItemRecord, ReportRecord
from domain.vocabulary import Kind
from storage import tracker
from storage.database import create_engine, create_sessionmaker
from storage.models import ConversationRef
from tests.fakes.card_nodes import walk
from tests.fakes.stub_connector import StubConnector
from tests.fakes.teams import CHANNEL, GROUP_CHAT, JANE, PERSONAL, TENANT, BotClient, activity, channel_message, message


def facts(card: dict[str, object]) -> dict[str, str]:
    """Every FactSet fact in a card, title → value."""
    return {
        fact["title"].rstrip(":"): fact["value"]
        for node in walk(card)
        if node.get("type") == "FactSet"
        for fact in node["facts"]
    }


async def ask(bot: BotClient, stub: StubConnector, text: str, **fields: object) -> str:
    before = len(stub.sent)
    response = await bot.post(message(text, stub.url, **fields))
    assert response.status == 200
    assert len(stub.sent) == before + 1, f"expected one reply to {text!r}"
    return stub.sent[-1].readable


async def test_status_question_in_a_personal_chat_answers_with_the_full_card(
    bot: BotClient, stub: StubConnector
) -> None:
    response = await bot.post(message("status of recommendation 8", stub.url))
    assert response.status == 200
    [reply] = stub.sent
    assert reply.conversation_id == PERSONAL
    card = reply.card
    assert card is not None and card["version"] == "1.5"
    assert "Hydra training package" in card["fallbackText"]
    assert reply.activity.get("summary")
    shown = facts(card)
    assert shown["Status"] == "In progress"
    assert shown["HMICFRS due date"] == "30 April 2026"
    assert shown["Owner"] == "Unassigned"
    text = card["fallbackText"]
    assert text.startswith("OIC-2025 R8 · Hydra training package\n")
    assert "Recommendation 8 · Improving the response to organised immigration crime (OIC-2025)" in text
    assert "RAG: Red · Overdue by 6 months" in text  # due 30 April 2026; the test clock says 2 November 2026
    assert "Latest update (PCC response, 16 May 2025" in text
    assert "delivery of the Hydra training being co-ordinated on a regional basis" in text


@pytest.mark.parametrize(
    "question",
    [
        "status of recommendation 8",
        "rec 8?",
        "R8 status",
        "recommendation eight",
        "how is recommendation 8 going",
        "status of OIC-2025 R8",
        "STATUS OF REC. 8!!!",
        "where are we with the hydra training?",
    ],
)
async def test_the_question_may_come_in_many_shapes(bot: BotClient, stub: StubConnector, question: str) -> None:
    readable = await ask(bot, stub, question)
    assert "Hydra training package" in readable


async def test_a_channel_message_with_a_mention_is_answered_in_that_channel(
    bot: BotClient, stub: StubConnector
) -> None:
    response = await bot.post(channel_message("status of recommendation 9", stub.url))
    assert response.status == 200
    [reply] = stub.sent
    assert reply.conversation_id.startswith(CHANNEL)
    assert "four modules of the organised immigration crime e-learning package" in reply.readable
    assert "Dan Price" not in reply.readable


async def test_group_chat_works_too(bot: BotClient, stub: StubConnector) -> None:
    body = activity(
        "message",
        stub.url,
        conversation_id=GROUP_CHAT,
        conversation_type="groupChat",
        text="<at>RecBot</at> rec 4",
        entities=[
            {"type": "mention", "text": "<at>RecBot</at>", "mentioned": {"id": "28:recbot-app-id", "name": "RecBot"}}
        ],
    )
    assert (await bot.post(body)).status == 200
    assert "31 December 2025" in stub.sent[-1].readable


async def test_unknown_items_commands_and_nonsense_get_a_specific_answer(bot: BotClient, stub: StubConnector) -> None:
    assert "can't find recommendation 42" in await ask(bot, stub, "status of recommendation 42")
    assert "XYZ-2020" in await ask(bot, stub, "status of XYZ-2020 R8")
    nonsense = await ask(bot, stub, "qwxzzv plorf")
    assert "couldn't find" in nonsense and "help" in nonsense
    assert "Traceback" not in nonsense


async def test_help_lists_the_commands(bot: BotClient, stub: StubConnector) -> None:
    readable = await ask(bot, stub, "help")
    for command in ("status of recommendation 8", "list overdue", "my recommendations"):
        assert command in readable


async def test_lists(bot: BotClient, stub: StubConnector) -> None:
    everything = await ask(bot, stub, "list recommendations")
    for reference in ("R2", "R4", "R8", "R9"):
        assert f"OIC-2025 {reference}" in everything
    overdue = await ask(bot, stub, "list overdue")
    assert "OIC-2025 R4" in overdue  # due 31 December 2025
    assert "OIC-2025 R4" in await ask(bot, stub, "list OIC-2025")
    assert "Nothing" in await ask(bot, stub, "list blocked")
    assert "due" in (await ask(bot, stub, "what's due this month")).lower()


async def test_my_recommendations_looks_the_member_up_once(
    bot: BotClient, stub: StubConnector, seeded_database: str
) -> None:
    engine = create_engine(seeded_database)
    async with create_sessionmaker(engine).begin() as session:
        jane = await tracker.person_by_email(session, JANE.email)
        item = (await tracker.find_items(session, number=8))[0]
        item.owner_id = jane.id
    await engine.dispose()

    first = await ask(bot, stub, "my recommendations")
    assert "OIC-2025 R8" in first and "OIC-2025 R2" not in first
    await ask(bot, stub, "my recommendations")
    assert stub.member_lookups == 1
    assert "Jane Doe" in await ask(bot, stub, "status of recommendation 8")


async def test_a_number_in_two_reports_asks_which_unless_one_is_open(
    bot: BotClient, stub: StubConnector, seeded_database: str
) -> None:
    engine = create_engine(seeded_database)
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker.begin() as session:
        await tracker.save_report(
            session,
            ReportRecord(
                title="Police race action plan inspection",
                code="PRA-2025",
                published_on=date(2025, 9, 1),
                items=(
                    ItemRecord(
                        kind=Kind.RECOMMENDATION, number=8, text="By 31 March 2026, forces should publish data."
                    ),
                ),
            ),
        )
    readable = await ask(bot, stub, "status of recommendation 8")
    assert "Which one" in readable
    card = stub.sent[-1].card
    commands = {action["data"]["command"] for action in _actions(card)}
    assert {"status of OIC-2025 R8", "status of PRA-2025 R8"} <= commands
    # Clicking a button sends the command as the value of a message with no text.
    clicked = message("", stub.url, value={"command": "status of PRA-2025 R8"})
    del clicked["text"]
    assert (await bot.post(clicked)).status == 200
    assert "publish data" in stub.sent[-1].readable

    async with sessionmaker.begin() as session:
        [other] = await tracker.find_items(session, number=8, report_code="PRA-2025")
        other.status = "Closed"
    assert "Hydra training package" in await ask(bot, stub, "rec 8")
    await engine.dispose()


def _actions(card: object) -> list[dict]:  # type: ignore[type-arg]
    return [node for node in walk(card) if node.get("type") == "Action.Submit"]


async def test_install_greets_once_and_stores_the_reference(
    bot: BotClient, stub: StubConnector, seeded_database: str
) -> None:
    install = activity(
        "installationUpdate", stub.url, conversation_id=CHANNEL, conversation_type="channel", action="add"
    )
    added = activity(
        "conversationUpdate",
        stub.url,
        conversation_id=CHANNEL,
        conversation_type="channel",
        membersAdded=[{"id": "28:recbot-app-id"}],
    )
    assert (await bot.post(install)).status == 200
    assert (await bot.post(added)).status == 200
    [welcome] = stub.sent
    assert welcome.conversation_id == CHANNEL
    assert "@RecBot" in welcome.readable or "mention" in welcome.readable.lower()

    engine = create_engine(seeded_database)
    async with create_sessionmaker(engine)() as session:
        stored = await session.get(ConversationRef, CHANNEL)
    await engine.dispose()
    assert stored is not None
    assert stored.tenant_id == TENANT
    assert stored.service_url == stub.url
    assert stored.reference["conversation"]["id"] == CHANNEL


async def test_a_person_installing_the_app_is_welcomed(bot: BotClient, stub: StubConnector) -> None:
    added = activity("conversationUpdate", stub.url, membersAdded=[{"id": "28:recbot-app-id"}, {"id": JANE.teams_id}])
    assert (await bot.post(added)).status == 200
    [welcome] = stub.sent
    assert "status of recommendation 8" in welcome.readable


async def test_every_message_refreshes_the_stored_service_url(
    bot: BotClient, stub: StubConnector, seeded_database: str
) -> None:
    await ask(bot, stub, "rec 2")
    moved = message("rec 2", stub.url + "moved/")
    await bot.post(moved)  # the reply goes to a URL the stub does not serve; the reference still moves
    engine = create_engine(seeded_database)
    async with create_sessionmaker(engine)() as session:
        stored = await session.get(ConversationRef, PERSONAL)
    await engine.dispose()
    assert stored is not None and stored.service_url == stub.url + "moved/"


async def test_when_the_database_is_gone_the_user_is_told(
    start_bot: Callable[..., object], stub: StubConnector
) -> None:
    bot: BotClient = await start_bot(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none")  # type: ignore[misc]
    response = await bot.post(message("status of recommendation 8", stub.url))
    assert response.status == 200
    assert "can't reach the tracker" in stub.sent[-1].readable
    async with bot.session.get(f"{bot.base_url}/readyz") as ready:
        assert ready.status == 503
    async with bot.session.get(f"{bot.base_url}/healthz") as alive:
        assert alive.status == 200


async def test_a_conversation_default_report_answers_bare_numbers(
    bot: BotClient, stub: StubConnector, seeded_database: str
) -> None:
    engine = create_engine(seeded_database)
    async with create_sessionmaker(engine).begin() as session:
        await tracker.save_report(
            session,
            ReportRecord(
                title="Police race action plan inspection",
                code="PRA-2025",
                published_on=date(2025, 9, 1),
                items=(
                    ItemRecord(
                        kind=Kind.RECOMMENDATION, number=8, text="By 31 March 2026, forces should publish data."
                    ),
                ),
            ),
        )
    await engine.dispose()
    assert "Which one" in await ask(bot, stub, "rec 8")
    assert "PRA-2025" in await ask(bot, stub, "use PRA-2025 by default")
    assert "publish data" in await ask(bot, stub, "rec 8")
    assert "Hydra" in await ask(bot, stub, "status of OIC-2025 R8")


async def test_the_commissioners_statement_and_the_report_summary(bot: BotClient, stub: StubConnector) -> None:
    statement = await ask(bot, stub, "what did the commissioner say about this report")
    assert statement.startswith("Commissioner's statement · OIC-2025")
    assert "I welcome the HMICFRS report published in May 2025" in statement
    assert "Recommendations: National" in statement and "Force specific: No" in statement
    assert "Police & Crime" not in statement  # the repeated page header is not part of it
    summary = await ask(bot, stub, "report summary")
    assert "The report, commissioned by the UK Home Secretary in January 2024" in summary
    assert "I don't know a report called NOPE-2020" in await ask(bot, stub, "summary of NOPE-2020")


async def test_a_status_question_reads_the_askers_state_in_its_own_statement(
    bot: BotClient, stub: StubConnector
) -> None:
    """Issue 14: the state that says whether an update is under way comes with the item, not on its own."""
    await ask(bot, stub, "status of recommendation 8")  # the conversation is remembered: later turns do not write
    statements: list[str] = []

    def executed(_connection: object, _cursor: object, statement: str, *_rest: object) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", executed)
    try:
        assert "Hydra training package" in await ask(bot, stub, "status of recommendation 8")
    finally:
        event.remove(Engine, "before_cursor_execute", executed)
    [statement] = [text for text in statements if "bot_state" in text]
    assert "items" in statement
