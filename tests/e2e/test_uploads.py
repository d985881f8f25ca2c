"""Import by upload, through the real server over HTTP: an admin drops a response document or a tracker
into the 1:1 chat, gets a preview card, and Import (a Universal Action) stores it and replaces the card.

Teams' side is the stub connector, which also serves the files at their `downloadUrl`. The database
starts empty (the seed is what these tests import), on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.uploads import FILE_DOWNLOAD_INFO, download_refusal
from domain.clock import FixedClock
from domain.text import safe_text
from services.importers import DocumentError, parse_document
from services.importers.files import MAX_FILE_BYTES, read_document
from services.importing import BUSY, PENDING_PREFIX
from storage.models import BotState, Item, Report
from tests.fakes.card_nodes import walk
from tests.fakes.stub_connector import Sent, StubConnector
from tests.fakes.teams import CHANNEL, JANE, SAM, BotClient, User, activity, message

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = ROOT / "tests" / "services" / "documents"
SEED_NAME = "oic-2025-cheshire-pcc-response"
ALEX = User(
    teams_id="29:1alex-teams-id",
    aad_object_id="6d7b5c2e-3333-4c8e-9a40-000000000003",
    name="Alex Kim",
    email="alex.kim@force.police.uk",
)
CHATS = {JANE: "a:1personal-chat-with-jane", SAM: "a:1personal-chat-with-sam", ALEX: "a:1personal-chat-with-alex"}
OIC_TITLE = "Improving the response to organised immigration crime"


@pytest.fixture
async def seeded_database(database_url: str, engine: object) -> str:
    """Not seeded: these tests import the seed report themselves (the `engine` fixture migrated and emptied it)."""
    return database_url


def file_message(stub: StubConnector, name: str, *, url: str | None = None, user: User = SAM, **fields: Any) -> dict:
    """A message carrying a file, as Teams posts it when someone sends the bot a file in a 1:1 chat."""
    attachments = [
        {
            "contentType": FILE_DOWNLOAD_INFO,
            "contentUrl": f"https://contoso-my.sharepoint.com/personal/sam/Documents/Microsoft Teams Chat Files/{name}",
            "name": name,
            "content": {
                "downloadUrl": url or stub.file_url(name),
                "uniqueId": "70D29F4A-05B7-434A-B7E6-B651FBFEF508",
                "fileType": name.rsplit(".", 1)[-1],
            },
        },
        {"contentType": "text/html", "content": "<div></div>"},
    ]
    fields.setdefault("conversation_id", CHATS[user])
    return activity("message", stub.url, user=user, text="", attachments=attachments, **fields)


async def send(bot: BotClient, stub: StubConnector, body: dict[str, Any]) -> list[Sent]:
    """Post an activity; the messages (not typing indicators) the bot sent in answer."""
    before = len(stub.sent)
    response = await bot.post(body)
    assert response.status == 200
    return [sent for sent in stub.sent[before:] if sent.activity.get("type") == "message"]


async def upload(bot: BotClient, stub: StubConnector, path: Path, user: User = SAM) -> Sent:
    stub.files[path.name] = path.read_bytes()
    (reply,) = await send(bot, stub, file_message(stub, path.name, user=user))
    return reply


async def invoke(
    bot: BotClient, stub: StubConnector, user: User, verb: str, data: dict[str, Any], reply_to: str
) -> Any:
    """An `adaptiveCard/action` invoke from the preview card in `user`'s 1:1 chat; the body of the HTTP answer."""
    value = {"action": {"type": "Action.Execute", "verb": verb, "data": data}, "trigger": "manual"}
    body = activity(
        "invoke",
        stub.url,
        name="adaptiveCard/action",
        value=value,
        user=user,
        conversation_id=CHATS[user],
        replyToId=reply_to,
    )
    async with bot.session.post(f"{bot.base_url}/api/messages", json=body) as response:
        assert response.status == 200, await response.text()
        return await response.json()


def buttons(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {node["title"]: node for node in walk(card) if str(node.get("type", "")).startswith("Action.")}


async def press(bot: BotClient, stub: StubConnector, preview: Sent, title: str, user: User = SAM) -> Any:
    assert preview.card is not None
    button = buttons(preview.card)[title]
    assert button["type"] == "Action.Execute"
    return await invoke(bot, stub, user, button["verb"], button["data"], preview.id)


async def stored(sessionmaker: async_sessionmaker[AsyncSession]) -> list[tuple[str, str, int]]:
    """(report code, kind, number) of every stored item."""
    async with sessionmaker() as session:
        rows = await session.execute(
            select(Report.code, Item.kind, Item.number).join(Item.report).order_by(Report.code, Item.kind, Item.number)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def pending_previews(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        count = await session.scalar(select(func.count()).where(BotState.key.startswith(PENDING_PREFIX)))
        return int(count or 0)


async def start(start_bot: Callable[..., object], stub: StubConnector) -> BotClient:
    """RecBot with Sam and Alex as admins; everyone has said hello, so the admins are people RecBot knows."""
    stub.members[ALEX.teams_id] = ALEX.member()
    bot: BotClient = await start_bot(admins=(SAM.email, ALEX.email))  # type: ignore[misc]
    for user, chat in CHATS.items():
        await send(bot, stub, message("my recommendations", stub.url, user=user, conversation_id=chat))
    return bot


SEED_ITEMS = [("OIC-2025", "recommendation", number) for number in (2, 4, 8, 9)]


@pytest.mark.parametrize("file_name", [f"{SEED_NAME}.docx", f"{SEED_NAME}.pdf", "oic-2025-tracker.xlsx"])
async def test_an_admin_uploads_a_response_sees_a_preview_and_imports_it(
    start_bot: Callable[..., object],
    stub: StubConnector,
    sessionmaker: async_sessionmaker[AsyncSession],
    file_name: str,
) -> None:
    bot = await start(start_bot, stub)
    preview = await upload(bot, stub, DOCUMENTS / file_name)

    assert stub.file_requests == [f"/files/{file_name}"]
    assert preview.card is not None and preview.conversation_id == CHATS[SAM]
    shown = preview.readable
    assert f"Import {file_name}?" in shown
    assert f"OIC-2025 · {OIC_TITLE}" in shown
    assert "4 recommendations, 0 areas for improvement;" in shown
    assert "deadlines 31 December 2025 to 30 April 2026" in shown
    assert "4 new items, in a new report" in shown
    assert set(buttons(preview.card)) == {"Import", "Cancel"}
    assert await stored(sessionmaker) == []  # a preview stores nothing of the report

    answer = await press(bot, stub, preview, "Import")

    assert answer["type"] == "application/vnd.microsoft.card.adaptive"
    outcome = answer["value"]["fallbackText"]
    assert f"imported OIC-2025: {OIC_TITLE} (4 items)" in outcome
    assert "Import" not in buttons(answer["value"])  # the buttons are gone with the preview
    assert await stored(sessionmaker) == SEED_ITEMS
    (replaced,) = stub.updated
    assert replaced.id == preview.id and replaced.conversation_id == CHATS[SAM]
    assert replaced.card is not None and replaced.card["fallbackText"] == outcome

    again = await press(bot, stub, preview, "Import")  # a second press (another device, a double click)
    assert "was imported already" in again["value"]["fallbackText"]
    assert "Nothing changed" in again["value"]["fallbackText"]
    assert await stored(sessionmaker) == SEED_ITEMS


async def test_the_same_file_again_has_nothing_new_and_offers_no_import(
    start_bot: Callable[..., object], stub: StubConnector, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    bot = await start(start_bot, stub)
    await press(bot, stub, await upload(bot, stub, DOCUMENTS / f"{SEED_NAME}.docx"), "Import")

    preview = await upload(bot, stub, DOCUMENTS / f"{SEED_NAME}.pdf")

    assert preview.card is not None and buttons(preview.card) == {}
    assert f"Nothing new in {SEED_NAME}.pdf" in preview.readable
    assert "nothing new: all already imported" in preview.readable
    assert await pending_previews(sessionmaker) == 1  # only the first upload's outcome, kept for a second press
    assert await stored(sessionmaker) == SEED_ITEMS


async def test_a_tracker_previews_each_report_with_its_kinds_and_what_is_new(
    start_bot: Callable[..., object], stub: StubConnector, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    bot = await start(start_bot, stub)
    await press(bot, stub, await upload(bot, stub, ROOT / "samples" / f"{SEED_NAME}.txt"), "Import")

    preview = await upload(bot, stub, DOCUMENTS / "tracker.csv")

    shown = preview.readable
    assert "OIC-2025 · Improving the response" in shown
    assert "2 recommendations, 0 areas for improvement; deadlines 30 April 2026 to 30 June 2026" in shown
    assert "nothing new: all already imported" in shown
    assert "VAW-2024 · Police response to violence against women and girls" in shown
    assert "0 recommendations, 1 area for improvement, 1 cause of concern" in shown
    assert "deadlines 23 January 2025 (1 with no date)" in shown
    assert "2 new items, in a new report" in shown
    await press(bot, stub, preview, "Import")
    assert await stored(sessionmaker) == [
        *SEED_ITEMS,
        ("VAW-2024", "area for improvement", 3),
        ("VAW-2024", "cause of concern", 1),
    ]


async def test_cancel_discards_the_file_and_its_import_button_then_does_nothing(
    start_bot: Callable[..., object], stub: StubConnector, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    bot = await start(start_bot, stub)
    preview = await upload(bot, stub, DOCUMENTS / "oic-2025-tracker.xlsx")

    answer = await press(bot, stub, preview, "Cancel")

    assert answer["type"] == "application/vnd.microsoft.card.adaptive"
    assert answer["value"]["fallbackText"] == "Cancelled: nothing was imported from oic-2025-tracker.xlsx."
    assert stub.updated[-1].id == preview.id
    assert await pending_previews(sessionmaker) == 0
    late = await press(bot, stub, preview, "Import")  # the old card, on another device
    assert late["type"] == "application/vnd.microsoft.activity.message"
    assert "expired or was already dealt with" in late["value"]
    assert await stored(sessionmaker) == []


async def test_a_preview_expires(
    start_bot: Callable[..., object],
    stub: StubConnector,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FixedClock,
) -> None:
    bot = await start(start_bot, stub)
    preview = await upload(bot, stub, DOCUMENTS / f"{SEED_NAME}.docx")
    clock.advance(timedelta(hours=25))

    answer = await press(bot, stub, preview, "Import")

    assert "expired" in answer["value"]
    assert await stored(sessionmaker) == []
    assert await pending_previews(sessionmaker) == 0


async def test_a_non_admin_is_refused_before_the_file_is_fetched(
    start_bot: Callable[..., object], stub: StubConnector, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    bot = await start(start_bot, stub)

    reply = await upload(bot, stub, DOCUMENTS / f"{SEED_NAME}.docx", user=JANE)

    assert reply.card is None and reply.conversation_id == CHATS[JANE]
    assert reply.text == "Only an admin can import files — admins are Alex Kim and Sam Patel. Nothing was imported."
    assert stub.file_requests == []
    assert await stored(sessionmaker) == [] and await pending_previews(sessionmaker) == 0


async def test_only_the_admin_who_sent_the_file_can_import_it_and_a_made_up_token_does_nothing(
    start_bot: Callable[..., object], stub: StubConnector, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    bot = await start(start_bot, stub)
    preview = await upload(bot, stub, DOCUMENTS / f"{SEED_NAME}.docx")
    assert preview.card is not None
    data = buttons(preview.card)["Import"]["data"]

    by_jane = await invoke(bot, stub, JANE, "importUpload", data, preview.id)
    by_alex = await invoke(bot, stub, ALEX, "importUpload", data, preview.id)
    made_up = await invoke(bot, stub, SAM, "importUpload", {"upload": "A" * 32}, preview.id)
    not_a_token = await invoke(bot, stub, SAM, "importUpload", {"upload": {"reports": []}}, preview.id)

    assert "Only an admin can import files" in by_jane["value"]
    assert "Only the admin who sent this file" in by_alex["value"]
    assert "expired" in made_up["value"] and "expired" in not_a_token["value"]
    assert await stored(sessionmaker) == [] and stub.updated == []
    assert "imported OIC-2025" in (await press(bot, stub, preview, "Import"))["value"]["fallbackText"]


async def test_two_presses_at_once_import_once(
    start_bot: Callable[..., object], stub: StubConnector, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    bot = await start(start_bot, stub)
    preview = await upload(bot, stub, DOCUMENTS / f"{SEED_NAME}.docx")

    answers = await asyncio.gather(*(press(bot, stub, preview, "Import") for _ in range(4)))

    # One press imports; each other one found it under way or already done, depending on when it came.
    # (The card that replaces the preview, or a message when the press changed nothing.)
    texts = [
        answer["value"]["fallbackText"] if answer["type"].endswith("card.adaptive") else answer["value"]
        for answer in answers
    ]
    assert sum(text.startswith(f"Imported {SEED_NAME}.docx") for text in texts) == 1, texts
    assert all(
        text.startswith(f"Imported {SEED_NAME}.docx")
        or text.startswith(f"{SEED_NAME}.docx was imported already")
        or text == BUSY
        for text in texts
    ), texts
    assert await stored(sessionmaker) == SEED_ITEMS
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == 1


async def test_a_file_over_the_cap_is_refused_while_streaming_and_nothing_is_stored(
    start_bot: Callable[..., object], stub: StubConnector, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    bot = await start(start_bot, stub)

    (reply,) = await send(bot, stub, file_message(stub, "huge.docx", url=stub.file_url("endless")))

    assert "huge.docx is larger than 20 MB, the most RecBot imports" in reply.text
    assert reply.text.endswith("Nothing was imported.")
    # The bot hung up soon after the cap (the rest is what sockets buffer), not after the stub's 1 GB.
    assert MAX_FILE_BYTES < stub.endless_bytes_sent < MAX_FILE_BYTES + 16 * 1024 * 1024
    assert await stored(sessionmaker) == [] and await pending_previews(sessionmaker) == 0


@pytest.mark.parametrize(
    ("file_name", "data"),
    [("broken.docx", b"PK\x03\x04 not really a zip"), ("scan.pdf", b"hello"), ("empty.csv", b"")],
)
async def test_a_file_that_cannot_be_read_gets_the_readers_own_message(
    start_bot: Callable[..., object],
    stub: StubConnector,
    sessionmaker: async_sessionmaker[AsyncSession],
    file_name: str,
    data: bytes,
) -> None:
    bot = await start(start_bot, stub)
    stub.files[file_name] = data
    with pytest.raises(DocumentError) as refused:
        read_document(file_name, data)

    (reply,) = await send(bot, stub, file_message(stub, file_name))

    assert reply.text == f"{refused.value}. Nothing was imported."
    assert await stored(sessionmaker) == [] and await pending_previews(sessionmaker) == 0


async def test_a_file_type_recbot_cannot_import_is_refused_without_fetching_it(
    start_bot: Callable[..., object], stub: StubConnector
) -> None:
    bot = await start(start_bot, stub)

    (reply,) = await send(bot, stub, file_message(stub, "response.doc"))

    assert "response.doc: RecBot cannot import .doc files: save it as .docx and import that" in reply.text
    assert stub.file_requests == []


async def test_a_tracker_with_a_bad_row_gets_the_parsers_message(
    start_bot: Callable[..., object], stub: StubConnector, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    bot = await start(start_bot, stub)
    data = b"report_code,report_title,published_on,number,text\nOIC-2025,A title,16/05/2025,two,Some text\n"
    stub.files["tracker.csv"] = data
    with pytest.raises(DocumentError) as refused:
        parse_document("tracker.csv", read_document("tracker.csv", data))

    (reply,) = await send(bot, stub, file_message(stub, "tracker.csv"))

    assert "row 2" in str(refused.value)
    # Shown as Teams shows markdown: the column names' underscores escaped.
    assert reply.card is None and reply.text == safe_text(f"{refused.value}. Nothing was imported.", 1000)
    assert await stored(sessionmaker) == [] and await pending_previews(sessionmaker) == 0


async def test_a_redirect_is_not_followed(start_bot: Callable[..., object], stub: StubConnector) -> None:
    bot = await start(start_bot, stub)
    stub.files["response.docx"] = (DOCUMENTS / f"{SEED_NAME}.docx").read_bytes()

    (reply,) = await send(bot, stub, file_message(stub, "response.docx", url=stub.file_url("moved/response.docx")))

    assert "Teams answered 302" in reply.text
    assert stub.file_requests == ["/files/moved/response.docx"]


async def test_files_outside_a_personal_chat_are_not_fetched(
    start_bot: Callable[..., object], stub: StubConnector
) -> None:
    bot = await start(start_bot, stub)
    stub.files["response.docx"] = (DOCUMENTS / f"{SEED_NAME}.docx").read_bytes()

    in_channel = file_message(
        stub, "response.docx", conversation_id=f"{CHANNEL};messageid=1700000000000", conversation_type="channel"
    )
    (reply,) = await send(bot, stub, in_channel)

    assert "only in our 1:1 chat" in reply.text
    assert stub.file_requests == []


async def test_a_message_with_another_kind_of_attachment_is_answered_as_before(
    start_bot: Callable[..., object], stub: StubConnector
) -> None:
    bot = await start(start_bot, stub)
    pasted_image = {"contentType": "image/*", "contentUrl": stub.file_url("picture.png")}
    card = {"contentType": "application/vnd.microsoft.card.adaptive", "content": {"type": "AdaptiveCard"}}
    body = message("list recommendations", stub.url, conversation_id=CHATS[SAM], user=SAM)
    body["attachments"] = [pasted_image, card]

    (reply,) = await send(bot, stub, body)

    assert stub.file_requests == []
    assert "Import" not in reply.readable
    plain = message("list recommendations", stub.url, conversation_id=CHATS[SAM], user=SAM)
    (same,) = await send(bot, stub, plain)
    assert reply.readable == same.readable


@pytest.mark.parametrize(
    ("url", "local_mode", "allowed"),
    [
        ("https://contoso-my.sharepoint.com/personal/sam/_layouts/15/download.aspx?UniqueId=1&tempauth=x", False, True),
        ("https://contoso.sharepoint.us/sites/x/download.aspx", False, True),
        ("http://contoso-my.sharepoint.com/download.aspx", False, False),
        ("https://127.0.0.1/download", False, False),
        ("https://169.254.169.254/latest/meta-data", False, False),
        ("https://sharepoint.com.evil.example/download", False, False),
        ("https://evil.example/contoso.sharepoint.com", False, False),
        ("https://user:pw@contoso-my.sharepoint.com/download.aspx", False, False),
        ("https://contoso-my.sharepoint.com:8443/download.aspx", False, False),
        ("file:///etc/passwd", False, False),
        ("http://127.0.0.1:8080/files/x.docx", True, True),
        ("file:///etc/passwd", True, False),
        ("https://[::1", True, False),
    ],
)
def test_only_sharepoint_https_links_are_fetched_unless_in_local_mode(
    url: str, local_mode: bool, allowed: bool
) -> None:
    assert (download_refusal(url, local_mode=local_mode) is None) is allowed


async def test_a_tracker_of_many_reports_shows_the_first_ten_and_counts_the_rest(
    start_bot: Callable[..., object], stub: StubConnector, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    bot = await start(start_bot, stub)
    rows = ["report_code,report_title,published_on,number,text"]
    rows += [
        f"R{n:02}-2025,Report number {n} {'x' * 250},01/0{1 + n % 9}/2025,1,By 30 April 2026 act." for n in range(15)
    ]
    stub.files["many.csv"] = "\n".join(rows).encode()

    (preview,) = await send(bot, stub, file_message(stub, "many.csv"))

    assert preview.card is not None
    assert len(json.dumps(preview.activity)) < 28 * 1024  # what Teams takes in one message
    assert "R09-2025" in preview.readable and "R10-2025" not in preview.readable
    assert "…and 5 more reports (5 items, 5 new)." in preview.readable
    await press(bot, stub, preview, "Import")
    assert len(await stored(sessionmaker)) == 15


async def test_files_from_another_channel_than_teams_are_not_fetched(
    start_bot: Callable[..., object], stub: StubConnector
) -> None:
    stub.files["response.docx"] = (DOCUMENTS / f"{SEED_NAME}.docx").read_bytes()
    from_emulator = file_message(stub, "response.docx")
    from_emulator["channelId"] = "emulator"
    # With a home tenant (as in production) the front door refuses other channels outright...
    bot = await start(start_bot, stub)
    assert (await bot.post(from_emulator)).status == 403
    # ...and open to any tenant (local mode, e.g. the Emulator), the upload itself refuses to fetch.
    open_bot: BotClient = await start_bot(app_tenant_id="", admins=(SAM.aad_object_id,))  # type: ignore[misc]

    (reply,) = await send(open_bot, stub, from_emulator)

    assert "files sent to me in Teams" in reply.text
    assert stub.file_requests == []
