"""Item titles over HTTP (issue 11): derived on import and shown first wherever an item is named;
an admin renames an item and its history says who did, from what to what. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

from tests.fakes.card_nodes import walk
from tests.fakes.stub_connector import Sent, StubConnector
from tests.fakes.teams import JANE, SAM, BotClient, User, message

SAM_CHAT = "a:1personal-chat-with-sam"
SEED_TITLES = (
    "OIC-2025 R2 · Required intelligence document",
    "OIC-2025 R4 · Clear plans to collect, analyse and share information",
    "OIC-2025 R8 · Hydra training package",
    "OIC-2025 R9 · Four modules of the e-learning package",
)
# R4 is due 31 December 2025, the others 30 April 2026.
SOONEST_DUE = (SEED_TITLES[1], SEED_TITLES[0], SEED_TITLES[2], SEED_TITLES[3])


async def ask(bot: BotClient, stub: StubConnector, text: str, user: User = JANE) -> Sent:
    """The one reply to `text`, typed by `user` in their 1:1 chat."""
    before = len(stub.sent)
    chat = SAM_CHAT if user is SAM else "a:1personal-chat-with-jane"
    assert (await bot.post(message(text, stub.url, user=user, conversation_id=chat))).status == 200
    assert len(stub.sent) == before + 1, [sent.readable for sent in stub.sent[before:]]
    return stub.sent[-1]


def plain(sent: Sent) -> str:
    """The reply's plain text: its card's fallback, else its text."""
    return (sent.card or {}).get("fallbackText") or sent.text


async def test_an_admin_renames_an_item_and_its_history_says_so(
    start_bot: Callable[..., object], stub: StubConnector
) -> None:
    bot: BotClient = await start_bot(admins=(SAM.email,))  # type: ignore[misc]
    await ask(bot, stub, "help", SAM)  # Sam has talked to RecBot: refusals name him
    refused = await ask(bot, stub, "set title of R8 to Hydra training")
    assert plain(refused) == "Only an admin can change titles — admins are Sam Patel."

    done = await ask(bot, stub, "set title of R8 to Hydra training", SAM)
    assert (
        plain(done)
        == 'Recommendation 8 (OIC-2025 R8) is now titled "Hydra training" (it was "Hydra training package").'
    )
    assert {button["title"] for button in walk(done.card) if button.get("type") == "Action.Submit"} == {
        "Status",
        "History",
    }
    assert "Which title?" in (await ask(bot, stub, "rename R9 to", SAM)).readable

    status = await ask(bot, stub, "status of R8")
    assert plain(status).startswith("OIC-2025 R8 · Hydra training\nRecommendation 8 · Improving the response")
    history = (await ask(bot, stub, "history of R8")).readable
    assert history.startswith("History · OIC-2025 R8 · Hydra training")
    assert "Sam Patel: Title changed" in history
    assert 'From "Hydra training package" to "Hydra training"' in history
    # The new title is searched at once.
    assert (await ask(bot, stub, "rename R9 to Four-module e-learning", SAM)).readable.endswith(
        '(it was "Four modules of the e-learning package").'
    )
    found = await ask(bot, stub, "four-module e-learning")
    assert plain(found).startswith("OIC-2025 R9 · Four-module e-learning\n")


async def test_lists_pickers_and_several_items_name_each_item_by_its_title(bot: BotClient, stub: StubConnector) -> None:
    listed = await ask(bot, stub, "list recommendations")
    assert [" · ".join(line[2:].split(" · ")[:2]) for line in plain(listed).splitlines()[1:]] == list(SOONEST_DUE)
    # With titles, a row no longer repeats the deadline boilerplate every item starts with.
    assert "chief constables" not in listed.readable

    picker = await ask(bot, stub, "package")
    assert "several matches" in picker.readable
    buttons = [node["title"] for node in walk(picker.card) if node.get("type") == "Action.Submit"]
    assert buttons == ["OIC-2025 R8: Hydra training package", "OIC-2025 R9: Four modules of the e-learning package"]

    several = (await ask(bot, stub, "status of R2 and R4")).readable
    assert SEED_TITLES[0] in several and SEED_TITLES[1] in several
    counted = (await ask(bot, stub, "how many are overdue")).readable
    assert "Which:\n" + "\n".join(f"- {title}" for title in SOONEST_DUE) in counted
