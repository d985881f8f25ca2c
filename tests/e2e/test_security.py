"""Issue 9, end to end over HTTP: hostile input gets a clear answer and changes nothing, another tenant
becomes nobody, a replay is recognised only as itself, and no officer's text reaches the log."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest
from sqlalchemy import func, select, text, update

from bot.commands import parse_intent
from services.governance import LeadCommands
from services.people import Identity
from storage.database import create_engine, create_sessionmaker
from storage.models import Item, Person, Update
from tests.fakes.stub_connector import StubConnector
from tests.fakes.teams import JANE, PERSONAL, SAM, TENANT, BotClient, User, activity, message

OTHER_TENANT = "0b0b0b0b-0000-4000-8000-00000000beef"
# Someone in another tenant whose directory gives them Jane's e-mail address.
IMPOSTOR = User(
    teams_id="29:1impostor-teams-id",
    aad_object_id="6d7b5c2e-9999-4c8e-9a40-000000000099",
    name="Not Jane",
    email=JANE.email,
)
SAM_PERSONAL = "a:1personal-chat-with-sam"
FORM = {
    "form": "update",
    "status": "In progress",
    "assessment": "on track",
    "narrative": "Compliance audit booked for January.",
}


async def reply_to(bot: BotClient, stub: StubConnector, body: dict[str, object]) -> str:
    before = len(stub.sent)
    response = await bot.post(body)
    assert response.status == 200
    return "\n".join(sent.readable for sent in stub.sent[before:])


async def rows(database_url: str, query: object) -> list[object]:
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            return list((await session.execute(query)).all())  # type: ignore[call-overload]
    finally:
        await engine.dispose()


async def item_id(database_url: str, number: int) -> int:
    [(found,)] = await rows(database_url, select(Item.id).where(Item.number == number))
    return found  # type: ignore[return-value]


# --- 2. another tenant becomes nobody --------------------------------------------------------


async def test_a_user_of_another_tenant_with_an_admins_email_is_not_that_admin(
    start_bot: Callable[..., object], stub: StubConnector, seeded_database: str
) -> None:
    stub.members[IMPOSTOR.teams_id] = IMPOSTOR.member() | {"tenantId": OTHER_TENANT}
    bot: BotClient = await start_bot(admins=(JANE.email,), allowed_tenants=(TENANT, OTHER_TENANT))  # type: ignore[misc]
    # Jane, the admin, makes herself the owner of R8.
    owned = await reply_to(bot, stub, message("assign R8 to jane.doe@force.police.uk", stub.url))
    assert "now owned by Jane Doe" in owned

    impostor = {"user": IMPOSTOR, "tenant": OTHER_TENANT, "conversation_id": "a:1impostor-chat"}
    refused = await reply_to(bot, stub, message("make sam.patel@force.police.uk an admin", stub.url, **impostor))
    assert refused.startswith("Only an admin can make someone an admin")
    update_refused = await reply_to(bot, stub, message("update R8", stub.url, **impostor))
    assert "Only the owner, a delegate or an admin can update" in update_refused

    people = await rows(
        seeded_database, select(Person.tenant_id, Person.aad_object_id, Person.email, Person.teams_user_id)
    )
    assert (TENANT, JANE.aad_object_id, JANE.email, JANE.teams_id) in people
    assert (OTHER_TENANT, IMPOSTOR.aad_object_id, None, IMPOSTOR.teams_id) in people
    assert not await rows(seeded_database, select(Person.id).where(Person.is_admin.is_(True)))


# --- 3. malformed input before and after authentication -------------------------------------


@pytest.mark.parametrize("authenticated", [False, True])
async def test_deeply_nested_json_gets_400(
    start_bot: Callable[..., object], stub: StubConnector, authenticated: bool
) -> None:
    overrides = {"app_id": "00000000-0000-0000-0000-00000000b0d1", "app_password": "secret"} if authenticated else {}
    bot: BotClient = await start_bot(**overrides)  # type: ignore[misc]
    assert (await bot.post(None, raw=b"[" * 100_000)).status == 400
    nested: object = "deep"
    for _ in range(40):
        nested = {"value": nested}
    assert (await bot.post(message("status of R8", stub.url, value=nested))).status == 400
    assert stub.sent == []


async def test_brackets_inside_strings_are_not_nesting(bot: BotClient, stub: StubConnector) -> None:
    assert (await bot.post(message("status of R8 " + "{[" * 40, stub.url))).status == 200
    assert len(stub.sent) == 1


@pytest.mark.parametrize("value", [{}, "a string", {"action": "Action.Execute"}, {"action": {"type": "Action.Submit"}}])
async def test_a_malformed_card_action_gets_a_card_action_error(
    bot: BotClient, stub: StubConnector, value: object
) -> None:
    invoke = activity("invoke", stub.url, name="adaptiveCard/action", value=value)
    async with bot.session.post(f"{bot.base_url}/api/messages", json=invoke) as response:
        assert response.status == 400
        body = await response.json()
    assert body["statusCode"] == 400 and body["type"] == "application/vnd.microsoft.error"
    assert body["value"]["code"] == "BadRequest"


@pytest.mark.parametrize("mentioned", ["a string", None, 7, {"id": 5}, {"name": "no id"}])
async def test_a_malformed_mention_is_ignored(bot: BotClient, stub: StubConnector, mentioned: object) -> None:
    entities = [{"type": "mention", "text": "<at>Someone</at>", "mentioned": mentioned}]
    answer = await reply_to(bot, stub, message("status of R8", stub.url, entities=entities))
    assert "OIC-2025 R8" in answer


# --- 5. a replay is its own conversation's activity -----------------------------------------


async def test_another_persons_post_with_a_reused_activity_id_is_refused_not_saved(
    start_bot: Callable[..., object], stub: StubConnector, seeded_database: str
) -> None:
    bot: BotClient = await start_bot(admins=(JANE.email,))  # type: ignore[misc]
    form = FORM | {"item_id": await item_id(seeded_database, 2)}
    saved = await reply_to(bot, stub, activity("message", stub.url, value=form, id="1reused"))
    assert saved.startswith("Saved.")
    sams = activity("message", stub.url, value=form, id="1reused", user=SAM, conversation_id=SAM_PERSONAL)
    answer = await reply_to(bot, stub, sams)
    assert "Only the owner, a delegate or an admin can update" in answer and "Saved" not in answer
    updates = await rows(seeded_database, select(Update.author_name).where(Update.source_activity_key.is_not(None)))
    assert updates == [("Jane Doe",)]


async def test_the_same_activity_id_in_another_conversation_is_a_new_post(
    start_bot: Callable[..., object], stub: StubConnector, seeded_database: str
) -> None:
    bot: BotClient = await start_bot(admins=(JANE.email,))  # type: ignore[misc]
    form = FORM | {"item_id": await item_id(seeded_database, 2)}
    for conversation_id in (PERSONAL, "19:group-chat-id@thread.v2"):
        body = activity("message", stub.url, value=form, id="1same", conversation_id=conversation_id)
        assert (await reply_to(bot, stub, body)).startswith("Saved.")
    # …and a true redelivery (same conversation, same id) records nothing more.
    assert "already sent" in await reply_to(bot, stub, activity("message", stub.url, value=form, id="1same"))
    assert len(await rows(seeded_database, select(Update.id).where(Update.source_activity_key.is_not(None)))) == 2


# --- 7. the last admin survives two admins revoking each other -------------------------------


async def test_two_admins_revoking_each_other_at_once_leave_one(sessionmaker: object) -> None:
    maker = sessionmaker
    commands = LeadCommands(maker, lambda: None)  # type: ignore[arg-type]
    for trial in range(8):
        async with maker.begin() as session:  # type: ignore[attr-defined]
            await session.execute(update(Person).values(is_admin=False))
            first = Person(email=f"a{trial}@force.police.uk", name="A", is_admin=True)
            second = Person(email=f"b{trial}@force.police.uk", name="B", is_admin=True)
            session.add_all([first, second])
            await session.flush()
            a = Identity(first.id, first.email, first.name, True)
            b = Identity(second.id, second.email, second.name, True)
        await asyncio.gather(
            commands.revoke_admin(parse_intent(f"remove admin from {b.email}"), a),  # type: ignore[arg-type]
            commands.revoke_admin(parse_intent(f"remove admin from {a.email}"), b),  # type: ignore[arg-type]
        )
        async with maker() as session:  # type: ignore[attr-defined]
            admins = await session.scalar(select(func.count(Person.id)).where(Person.is_admin.is_(True)))
        assert admins == 1, f"trial {trial}: {admins} admins left"


# --- 8. control characters ------------------------------------------------------------------


async def test_control_characters_are_refused_and_the_draft_is_kept(
    start_bot: Callable[..., object], stub: StubConnector, seeded_database: str
) -> None:
    bot: BotClient = await start_bot(admins=(JANE.email,))  # type: ignore[misc]
    assigned = await reply_to(bot, stub, message("assign R8 to a\x00b@force.police.uk", stub.url))
    assert "control characters" in assigned
    assert await rows(seeded_database, select(Item.id).where(Item.owner_id.is_not(None))) == []

    for answer in ("update R2", "In progress", "on track"):
        await reply_to(bot, stub, message(answer, stub.url))
    refused = await reply_to(bot, stub, message("Audit\x00booked", stub.url))
    assert "control characters" in refused and "Nothing was saved" in refused
    # The update carries on from the same question.
    assert "link" in (await reply_to(bot, stub, message("Audit booked for January.", stub.url))).lower()
    form = FORM | {"item_id": await item_id(seeded_database, 2), "narrative": "bad\x07bell"}
    assert "control characters" in await reply_to(bot, stub, activity("message", stub.url, value=form))


# --- 9. no officer's text in the log ----------------------------------------------------------


async def test_a_failing_save_logs_the_statement_but_not_what_was_typed(
    start_bot: Callable[..., object], stub: StubConnector, seeded_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "Officer narrative that must never reach the log"
    bot: BotClient = await start_bot(admins=(JANE.email,))  # type: ignore[misc]
    form = FORM | {"item_id": await item_id(seeded_database, 2), "narrative": secret}
    engine = create_engine(seeded_database)
    # Saving now fails in the database at the INSERT whose parameters hold the narrative.
    refuse, allow = (
        (
            "ALTER TABLE updates ADD CONSTRAINT refuse_updates CHECK (narrative = '') NOT VALID",
            "ALTER TABLE updates DROP CONSTRAINT refuse_updates",
        )
        if engine.dialect.name == "postgresql"
        else (
            "CREATE TRIGGER refuse_updates BEFORE INSERT ON updates BEGIN SELECT RAISE(ABORT, 'refused'); END",
            "DROP TRIGGER refuse_updates",
        )
    )
    caplog.set_level(logging.INFO)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(refuse))
        answer = await reply_to(bot, stub, activity("message", stub.url, value=form))
        assert "went wrong" in answer and secret not in answer
    finally:
        async with engine.begin() as connection:
            await connection.execute(text(allow))
        await engine.dispose()
    assert "INSERT INTO updates" in caplog.text  # the failure was logged…
    assert secret not in caplog.text  # …without what the officer typed
