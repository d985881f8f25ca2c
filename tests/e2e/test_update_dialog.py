"""The update conversation keeps a draft through questions, changes one answer, corrects pre-filled,
and the form starts from the current status and can be cancelled: end to end over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import select

from storage.database import create_engine, create_sessionmaker
from storage.models import Update
from tests.e2e.test_updates import count_updates, post_update, say
from tests.fakes.stub_connector import StubConnector
from tests.fakes.teams import JANE, BotClient, activity


async def latest_update(database_url: str) -> Update:
    engine = create_engine(database_url)
    async with create_sessionmaker(engine)() as session:
        row = await session.scalar(select(Update).order_by(Update.id.desc()).limit(1))
    await engine.dispose()
    assert row is not None
    return row


async def test_a_question_mid_update_is_answered_and_the_draft_kept(
    start_bot: Callable[..., object], stub: StubConnector, seeded_database: str
) -> None:
    bot: BotClient = await start_bot(admins=(JANE.email,))  # type: ignore[misc]
    before = await count_updates(seeded_database)
    await post_update(bot, stub, "update rec 8", "In progress", "at risk")

    # At the narrative: a question is asked about, never saved as the narrative.
    asked = await say(bot, stub, "status of rec 9")
    assert "Save your draft first, or answer the question?" in asked
    assert "Answer it, keep my draft" in asked and "Carry on with the update" in asked
    answered = await say(bot, stub, "Answer it, keep my draft")
    assert "OIC-2025 R9" in answered  # the status question is answered…
    assert "Back to your update of OIC-2025 R8: your draft is as you left it." in answered
    assert answered.rstrip().endswith("(up to 2,000 characters)")  # …and the narrative is asked again

    await say(bot, stub, "Hydra training: 70% of response officers done.")
    # At a choice step (the evidence link), the same: then carry on.
    assert "Save your draft first" in await say(bot, stub, "list blocked")
    assert "later due date" in (await say(bot, stub, "Carry on with the update")) + await say(bot, stub, "skip")
    assert "Check your update" in await say(bot, stub, "skip")
    assert "Saved" in await say(bot, stub, "confirm")
    assert await count_updates(seeded_database) == before + 1
    row = await latest_update(seeded_database)
    assert row.narrative == "Hydra training: 70% of response officers done." and row.assessment == "at risk"


async def test_another_update_typed_mid_update_keeps_the_first(
    start_bot: Callable[..., object], stub: StubConnector
) -> None:
    bot: BotClient = await start_bot(admins=(JANE.email,))  # type: ignore[misc]
    await post_update(bot, stub, "update rec 8", "Blocked")
    assert "Save your draft first" in await say(bot, stub, "update rec 9")
    answered = await say(bot, stub, "Answer it, keep my draft")
    assert "One update at a time" in answered and "Back to your update of OIC-2025 R8" in answered
    assert "What has happened" in await say(bot, stub, "off track")


async def test_change_goes_to_the_answer_chosen_and_back_to_the_summary(
    start_bot: Callable[..., object], stub: StubConnector, seeded_database: str
) -> None:
    bot: BotClient = await start_bot(admins=(JANE.email,))  # type: ignore[misc]
    summary = await post_update(bot, stub, "update rec 2", "Blocked", "off track", "Vendor late.", "skip", "skip")
    assert "Check your update" in summary
    assert "What do you want to change?" in await say(bot, stub, "change")
    assert "later due date" in await say(bot, stub, "Revised due date")
    # "yes, 31 May 2027" is a date; "yes" is not a reason.
    assert "Why does the due date need to move to 31 May 2027?" in await say(bot, stub, "yes, 31 May 2027")
    assert "Please say why" in await say(bot, stub, "yes")
    assert "Check your update" in await say(bot, stub, "The vendor moved delivery to spring.")
    assert "Saved" in await say(bot, stub, "confirm")
    row = await latest_update(seeded_database)
    assert (row.status, row.assessment, row.narrative) == ("Blocked", "off track", "Vendor late.")
    assert row.revised_due_on == date(2027, 5, 31) and row.revised_due_reason == "The vendor moved delivery to spring."


async def test_complete_skips_on_track_and_a_later_date(
    start_bot: Callable[..., object], stub: StubConnector, seeded_database: str
) -> None:
    bot: BotClient = await start_bot(admins=(JANE.email,))  # type: ignore[misc]
    await say(bot, stub, "update rec 2")
    assert "What has happened" in await say(bot, stub, "Complete")
    await say(bot, stub, "Audit complete; report attached.")
    summary = await say(bot, stub, "https://intranet.force.police.uk/oic/audit")
    assert "Check your update" in summary and "later due date" not in summary
    assert "awaiting sign-off" in await say(bot, stub, "confirm")
    row = await latest_update(seeded_database)
    assert (row.status, row.assessment, row.revised_due_on) == ("Awaiting sign-off", "on track", None)


async def test_correct_my_last_update_starts_pre_filled(
    start_bot: Callable[..., object], stub: StubConnector, seeded_database: str
) -> None:
    bot: BotClient = await start_bot(admins=(JANE.email,))  # type: ignore[misc]
    saved = await post_update(
        bot,
        stub,
        "update rec 4",
        "In progress",
        "at risk",
        "Post advertised.",
        "https://intranet.force.police.uk/oic/post",
        "31 May 2027",
        "Recruitment takes six months.",
        "confirm",
    )
    assert "Saved" in saved
    corrected = await latest_update(seeded_database)

    summary = await say(bot, stub, "correct my last update of recommendation 4")
    assert "Check your update" in summary and "revised due date 31 May 2027 requested" in summary
    card = stub.sent[-1].card
    assert card is not None and "https://intranet.force.police.uk/oic/post" in str(card)
    assert "corrects your latest update" in str(card)
    await say(bot, stub, "change what has happened")
    assert "Check your update" in await say(bot, stub, "Post advertised; interviews on 3 December.")
    assert "Saved" in await say(bot, stub, "confirm")

    row = await latest_update(seeded_database)
    assert row.supersedes_id == corrected.id
    assert row.narrative == "Post advertised; interviews on 3 December."
    # The link and the date request are kept.
    assert row.evidence_url == "https://intranet.force.police.uk/oic/post"
    assert row.revised_due_on == date(2027, 5, 31) and row.revised_due_reason == "Recruitment takes six months."


async def test_the_form_starts_with_the_current_status_and_cancel_saves_nothing(
    start_bot: Callable[..., object], stub: StubConnector, seeded_database: str
) -> None:
    bot: BotClient = await start_bot(admins=(JANE.email,))  # type: ignore[misc]
    await post_update(bot, stub, "update rec 2", "Blocked", "off track", "Vendor late.", "skip", "skip", "confirm")
    await say(bot, stub, "update rec 2")
    await say(bot, stub, "Use a form instead")
    card = stub.sent[-1].card
    assert card is not None
    inputs = {element["id"]: element for element in card["body"] if element["type"].startswith("Input.")}
    assert inputs["status"]["value"] == "Blocked" and inputs["assessment"]["value"] == "Off track"
    save, cancel = card["actions"]
    assert cancel["title"] == "Cancel"

    before = await count_updates(seeded_database)
    assert (await bot.post(activity("message", stub.url, value=cancel["data"]))).status == 200
    assert stub.sent[-1].readable == "Cancelled — nothing was saved."
    assert await count_updates(seeded_database) == before
    assert "Vendor late." in await say(bot, stub, "status of rec 2")  # and questions work as before
