"""The update conversation through DialogTestClient, with a fake port and state stored as JSON every turn."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from botbuilder.core import ConversationState, Storage
from botbuilder.dialogs import DialogTurnStatus
from botbuilder.schema import Activity, HeroCard
from botbuilder.testing import DialogTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.dialog_host import HostedFlow
from bot.state import SqlStorage, from_document, to_document
from dialogs.flow import CANCELLED, normalise_answer
from dialogs.update import (
    NOT_SAVED,
    UpdateDialog,
    parse_assessment_choice,
    parse_status_choice,
)
from domain.dates import parse_user_date
from domain.updates import ItemBrief, UpdateDraft, activity_key
from domain.vocabulary import Assessment, Status
from tests.fakes.update_port import FakeUpdatePort

# The conversation DialogTestClient's adapter puts every activity in.
TEST_CONVERSATION = "Convo1"


def key_of(activity: Activity) -> str | None:
    """The redelivery key the dialog hands the port for `activity`."""
    return activity_key(TEST_CONVERSATION, activity.id)


R8 = ItemBrief(
    8, "OIC-2025 R8", "Recommendation 8", "By 30 April 2026, chief constables should …", "Not started", "Jane Doe"
)
PEEL_R8 = ItemBrief(
    80, "PEEL-2023 R8", "Recommendation 8", "By 31 March 2026, the force should …", "In progress", "Sam Lee"
)
R2 = ItemBrief(2, "OIC-2025 R2", "Recommendation 2", "By 30 April 2026, …", "In progress", "Jane Doe")
LEAD = {"person_id": 1, "name": "Jane Doe", "is_admin": False}
STRANGER = {"person_id": 99, "name": "Pat Stranger", "is_admin": False}
ADMIN = {"person_id": 50, "name": "Alex Admin", "is_admin": True}
TODAY = date(2026, 3, 10)
START = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)
NARRATIVE = "Hydra training: 80% of response officers done.\n- next cohort in May\n*priority* for Q1"


def is_command(text: str) -> bool:
    """A stand-in for the bot's intent parser: the first word of a top-level command."""
    words = normalise_answer(text).split()
    return bool(words) and words[0] in {"list", "status", "history", "assign", "update", "my", "subscribe"}


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def _dialog_states(document: Any) -> Iterator[Any]:
    """The `state` of every DialogInstance in a stored (encoded) document."""
    if isinstance(document, dict):
        if document.get("$type") == "DialogInstance":
            yield document["state"]
        for value in document.values():
            yield from _dialog_states(value)
    elif isinstance(document, list):
        for value in document:
            yield from _dialog_states(value)


def _assert_plain(value: Any, path: str = "$") -> None:
    if isinstance(value, dict):
        assert "$type" not in value, f"dialog state at {path} holds an object: {value}"
        for key, item in value.items():
            _assert_plain(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _assert_plain(item, f"{path}[{index}]")
    else:
        assert value is None or isinstance(value, (str, int, bool)), f"{path} is {value!r}"


class JsonStorage(Storage):
    """Keeps every item as the JSON text SqlStorage would store, so each turn reads state back from JSON."""

    def __init__(self) -> None:
        super().__init__()
        self.documents: dict[str, str] = {}

    async def read(self, keys: Iterable[str]) -> dict[str, Any]:
        return {key: from_document(json.loads(self.documents[key])) for key in keys if key in self.documents}

    async def write(self, changes: dict[str, Any]) -> None:
        for key, item in changes.items():
            document = to_document(item)
            for state in _dialog_states(document):
                _assert_plain(state)
            self.documents[key] = json.dumps(document)

    async def delete(self, keys: Iterable[str]) -> None:
        for key in keys:
            self.documents.pop(key, None)


class Chat:
    """One person talking to a fresh UpdateDialog (and a fresh DialogSet) every turn."""

    def __init__(
        self,
        port: FakeUpdatePort,
        options: dict[str, Any],
        *,
        channel: str = "test",
        storage: Storage | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.port = port
        self.options = options
        self.channel = channel
        self.storage = storage if storage is not None else JsonStorage()
        self.clock = clock or Clock()
        self.sent: list[Activity] = []
        self.client = self._client()

    def _client(self) -> DialogTestClient:
        dialog = HostedFlow(UpdateDialog(self.port, is_command, parse_date=parse_user_date, now=self.clock))
        return DialogTestClient(self.channel, dialog, self.options, conversation_state=ConversationState(self.storage))

    def restart(self) -> None:
        """A new process: new dialog object, new adapter, the same storage."""
        self.client = self._client()

    async def send(self, text: str | None = None, *, value: dict[str, Any] | None = None) -> list[Activity]:
        activity = Activity(type="message", id=f"activity-{len(self.sent) + 1}", text=text, value=value)
        await self.client.test_adapter.receive_activity(activity)
        self.sent.append(activity)
        replies = []
        while (reply := self.client.get_next_reply()) is not None:
            replies.append(reply)
        return replies

    async def say(self, text: str) -> str:
        """Send text; everything the bot answered, as one string."""
        return said(await self.send(text))

    @property
    def status(self) -> DialogTurnStatus:
        return self.client.dialog_turn_result.status

    @property
    def result(self) -> Any:
        assert self.status == DialogTurnStatus.Complete, f"the dialog is still {self.status}"
        return self.client.dialog_turn_result.result


def said(replies: list[Activity]) -> str:
    parts = []
    for reply in replies:
        if reply.text:
            parts.append(reply.text)
        for attachment in reply.attachments or []:
            content = attachment.content
            if isinstance(content, HeroCard):
                parts.append(content.text or "")
            elif isinstance(content, dict):
                parts.append(content.get("fallbackText", ""))
    return "\n".join(parts)


def port(**changes: Any) -> FakeUpdatePort:
    fake = FakeUpdatePort(items={8: R8, 80: PEEL_R8, 2: R2}, allowed={8: {1}, 80: {1}, 2: {1}}, today_is=TODAY)
    for name, value in changes.items():
        setattr(fake, name, value)
    return fake


def chat_about(item_ids: list[int], *, actor: dict[str, Any] = LEAD, **kwargs: Any) -> Chat:
    return Chat(kwargs.pop("fake", None) or port(), {"item_ids": item_ids, "actor": actor}, **kwargs)


async def answer_up_to_confirm(chat: Chat, *, status: str = "in progress", date_text: str = "30/06/2026") -> str:
    """Begin and answer every question; returns what the bot said last (the summary)."""
    assert "What is the status of OIC-2025 R8 now?" in await chat.say("update recommendation 8")
    assert "How is it going" in await chat.say(status)
    assert "What has happened" in await chat.say("on track")
    assert "link to evidence" in await chat.say(NARRATIVE)
    assert "later due date" in await chat.say("https://sharepoint.example.police.uk/sites/oic/hydra.pdf")
    if date_text == "skip":
        return await chat.say("skip")
    assert "Why does the due date need to move to 30 June 2026?" in await chat.say(date_text)
    return await chat.say("  Training places were cut by the College.  ")


# --- the happy paths -------------------------------------------------------------------------


async def test_typed_answers_record_exactly_what_was_typed_on_confirm() -> None:
    chat = chat_about([8])
    summary = await answer_up_to_confirm(chat)
    assert "Check your update of OIC-2025 R8" in summary
    assert chat.port.calls == []  # nothing is written before confirm

    assert await chat.say("confirm") == (
        "Saved. OIC-2025 R8 is now In progress. Your request to move the due date to 30 June 2026 "
        "is recorded for an admin to decide."
    )
    [call] = chat.port.recorded
    assert call.draft == UpdateDraft(
        item_id=8,
        status="In progress",
        assessment="on track",
        narrative=NARRATIVE,
        evidence_url="https://sharepoint.example.police.uk/sites/oic/hydra.pdf",
        revised_due_on=date(2026, 6, 30),
        revised_due_reason="Training places were cut by the College.",
    )
    assert call.actor.person_id == 1 and call.actor.name == "Jane Doe" and call.actor.is_admin is False
    assert call.activity_key == key_of(chat.sent[-1])  # the confirm turn's activity
    assert chat.result == {"recorded": 1, "item_id": 8, "status": "In progress", "duplicate": False}


async def test_the_draft_uses_the_storage_vocabulary() -> None:
    chat = chat_about([8])
    await answer_up_to_confirm(chat, status="blocked", date_text="skip")
    await chat.say("yes")
    draft = chat.port.recorded[0].draft
    assert Status(draft.status) is Status.BLOCKED
    assert Assessment(draft.assessment) is Assessment.ON_TRACK
    assert draft.revised_due_on is None and draft.revised_due_reason is None


def _buttons(replies: list[Activity]) -> dict[str, Any]:
    """Title → what clicking sends, for the hero-card imBack buttons and Adaptive Card submits of a reply."""
    found: dict[str, Any] = {}
    for reply in replies:
        for attachment in reply.attachments or []:
            if isinstance(attachment.content, HeroCard):
                for button in attachment.content.buttons:
                    assert button.type == "imBack"
                    found[button.title] = {"command": button.value}
            elif isinstance(attachment.content, dict):
                for action in attachment.content.get("actions", []):
                    found[action["title"]] = {"command": action["data"]["command"]}
    return found


async def test_every_step_can_be_answered_with_buttons_on_teams() -> None:
    chat = chat_about([8], channel="msteams")
    replies = await chat.send("update recommendation 8")
    assert list(_buttons(replies)) == ["In progress", "Blocked", "Complete", "Use a form instead"]
    # A clicked button arrives as an activity value with no text.
    replies = await chat.send(value=_buttons(replies)["Complete"])
    assert "an admin will be asked to sign off" in said(replies)
    assert list(_buttons(replies)) == ["On track", "At risk", "Off track"]
    replies = await chat.send(value=_buttons(replies)["At risk"])
    replies = await chat.send("Everything is done; the evidence is on SharePoint.")
    assert list(_buttons(replies)) == ["Skip"]
    replies = await chat.send(value=_buttons(replies)["Skip"])
    replies = await chat.send(value=_buttons(replies)["Skip"])
    assert list(_buttons(replies)) == ["Confirm", "Change", "Cancel"]
    replies = await chat.send(value=_buttons(replies)["Confirm"])
    assert said(replies) == "Saved. OIC-2025 R8 is now awaiting sign-off by an admin."
    [call] = chat.port.recorded
    assert call.draft == UpdateDraft(
        8, "Awaiting sign-off", "at risk", "Everything is done; the evidence is on SharePoint."
    )
    assert chat.result["status"] == "Awaiting sign-off"


async def test_numbers_pick_from_the_numbered_list_outside_teams() -> None:
    chat = chat_about([8])
    assert "1. In progress" in await chat.say("update")
    await chat.say("2")
    await chat.say("3")
    await chat.say("Waiting for the vendor.")
    await chat.say("skip")
    await chat.say("no")
    await chat.say("1")
    assert chat.port.recorded[0].draft.status == "Blocked"
    assert chat.port.recorded[0].draft.assessment == "off track"


async def test_complete_proposes_closure_awaiting_sign_off() -> None:
    chat = chat_about([8])
    summary = await answer_up_to_confirm(chat, status="Complete", date_text="skip")
    assert "Complete — awaiting sign-off by an admin" in summary
    assert await chat.say("confirm") == "Saved. OIC-2025 R8 is now awaiting sign-off by an admin."
    assert chat.port.recorded[0].draft.status == Status.AWAITING_SIGN_OFF


async def test_a_correction_carries_the_update_it_corrects() -> None:
    chat = Chat(port(), {"item_ids": [8], "actor": LEAD, "corrects_update_id": 41})
    summary_replies = None
    await chat.say("update")
    await chat.say("in progress")
    await chat.say("on track")
    await chat.say("Corrected figures.")
    await chat.say("skip")
    summary_replies = await chat.send("skip")
    card = summary_replies[0].attachments[0].content
    assert any("corrects your latest update" in block.get("text", "") for block in card["body"])
    await chat.say("confirm")
    assert chat.port.recorded[0].draft.corrects_update_id == 41


async def test_the_form_can_be_chosen_instead() -> None:
    chat = chat_about([8])
    await chat.say("update")
    assert await chat.say("Use a form instead") == ""
    assert chat.result == {"use_form": 8}


# --- validation ------------------------------------------------------------------------------


async def _at_narrative(chat: Chat) -> None:
    await chat.say("update")
    await chat.say("in progress")
    assert "What has happened" in await chat.say("on track")


async def test_an_empty_narrative_is_asked_for_again() -> None:
    chat = chat_about([8])
    await _at_narrative(chat)
    assert "Please tell me what has happened" in await chat.say("   ")
    assert chat.status == DialogTurnStatus.Waiting
    assert "link to evidence" in await chat.say("Done.")


async def test_a_narrative_over_the_limit_says_the_limit_and_its_length() -> None:
    chat = chat_about([8])
    await _at_narrative(chat)
    answer = await chat.say("x" * 2001)
    assert "up to 2,000 characters and yours is 2,001" in answer
    assert "link to evidence" in await chat.say("y" * 2000)


async def test_free_text_is_never_taken_for_a_command() -> None:
    chat = chat_about([8])
    await _at_narrative(chat)
    assert "link to evidence" in await chat.say("list overdue items were reviewed at the board")
    await chat.say("skip")
    await chat.say("skip")
    await chat.say("confirm")
    assert chat.port.recorded[0].draft.narrative == "list overdue items were reviewed at the board"


@pytest.mark.parametrize(
    ("link", "problem"),
    [
        ("www.example.com", "Only web links"),
        ("ftp://files.example.com/a", "Only web links"),
        ("javascript:alert(1)", "Only web links"),
        ("https://", "no valid website name"),
        ("https://exa mple.com/x", "can't contain spaces"),
        ("https://user:secret@example.com/", "without a user name or password in it. Paste the full address"),
        ("https://example.com:99999/", "doesn't look like a web link"),
    ],
)
async def test_a_bad_evidence_link_is_refused(link: str, problem: str) -> None:
    chat = chat_about([8])
    await _at_narrative(chat)
    await chat.say("Done.")
    assert problem in await chat.say(link)
    assert chat.status == DialogTurnStatus.Waiting
    assert "later due date" in await chat.say("https://intranet/evidence?id=4")


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("someday soon", "I couldn't read that as a date"),
        ("1/1/2026", "must be after today (10 March 2026), and 1 January 2026 isn't. Or say skip"),
        ("10 March 2026", "must be after today"),
        ("2026-02-30", "I couldn't read that as a date"),
    ],
)
async def test_a_bad_revised_date_is_refused(typed: str, problem: str) -> None:
    chat = chat_about([8])
    await _at_narrative(chat)
    await chat.say("Done.")
    await chat.say("skip")
    assert problem in await chat.say(typed)
    assert "Why does the due date need to move to 30 June 2026?" in await chat.say("end of June")


async def test_a_revised_date_needs_a_short_reason() -> None:
    chat = chat_about([8])
    await _at_narrative(chat)
    await chat.say("Done.")
    await chat.say("skip")
    await chat.say("30 June 2026")
    assert "Please say why the due date needs to move" in await chat.say("  ")
    assert "up to 500 characters and yours is 501" in await chat.say("r" * 501)
    assert "Check your update" in await chat.say("Course cancelled.")


# --- cancel, back, help ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "answers", [[], ["in progress"], ["in progress", "on track"], ["Blocked", "at risk", "Text.", "skip", "skip"]]
)
async def test_cancel_works_at_every_step_and_saves_nothing(answers: list[str]) -> None:
    chat = chat_about([8])
    await chat.say("update")
    for answer in answers:
        await chat.say(answer)
    assert await chat.say("Cancel") == CANCELLED
    assert chat.result == {"cancelled": True}
    assert chat.port.calls == []


async def test_back_returns_to_the_previous_question_and_forgets_its_answer() -> None:
    chat = chat_about([8])
    await chat.say("update")
    await chat.say("blocked")
    assert "What is the status of OIC-2025 R8 now?" in await chat.say("back")
    await chat.say("in progress")
    await chat.say("at risk")
    assert "How is it going" in await chat.say("back")  # from the narrative (a free-text step)
    await chat.say("on track")
    await chat.say("First try.")
    await chat.say("skip")
    await chat.say("30/06/2026")
    assert "later due date" in await chat.say("back")  # from the reason
    await chat.say("skip")  # now no date: the reason is not asked
    assert "What has happened" not in await chat.say("confirm")
    assert chat.port.recorded[0].draft == UpdateDraft(8, "In progress", "on track", "First try.")


async def test_back_from_the_summary_and_change_starts_the_answers_again() -> None:
    chat = chat_about([8])
    await answer_up_to_confirm(chat, date_text="skip")
    assert "later due date" in await chat.say("back")
    assert "Check your update" in await chat.say("skip")
    assert "What is the status of OIC-2025 R8 now?" in await chat.say("change")
    await chat.say("blocked")
    await chat.say("off track")
    await chat.say("Second version.")
    await chat.say("skip")
    await chat.say("skip")
    await chat.say("confirm")
    [call] = chat.port.recorded
    assert call.draft == UpdateDraft(8, "Blocked", "off track", "Second version.")


async def test_back_at_the_first_question_says_so() -> None:
    chat = chat_about([8])
    await chat.say("update")
    answer = await chat.say("back")
    assert "This is the first question" in answer and "What is the status" in answer
    assert chat.status == DialogTurnStatus.Waiting


async def test_back_from_the_status_returns_to_the_choice_of_item() -> None:
    chat = chat_about([8, 80])
    await chat.say("update recommendation 8")
    await chat.say("PEEL-2023 R8")
    assert "Which one do you want to update?" in await chat.say("back")
    assert "What is the status of OIC-2025 R8 now?" in await chat.say("OIC-2025 R8")


async def test_help_explains_the_step_and_asks_again() -> None:
    chat = chat_about([8])
    await chat.say("update")
    answer = await chat.say("help")
    assert "In progress (work is under way)" in answer and "What is the status of OIC-2025 R8 now?" in answer
    await chat.say("in progress")
    await chat.say("on track")
    answer = await chat.say("Help!")
    assert "up to 2,000 characters" in answer and "What has happened" in answer
    assert "link to evidence" in await chat.say("help with the training went well")  # only the exact word is help


# --- who and which ---------------------------------------------------------------------------


async def test_someone_who_may_not_update_is_told_who_can() -> None:
    chat = chat_about([8], actor=STRANGER)
    assert await chat.say("update recommendation 8") == (
        "Only the owner, a delegate or an admin can update recommendation 8 — the owner is Jane Doe."
    )
    assert chat.result == {
        "refused": "Only the owner, a delegate or an admin can update recommendation 8 — the owner is Jane Doe."
    }


async def test_an_admin_may_update_any_item() -> None:
    chat = chat_about([8], actor=ADMIN)
    assert "What is the status" in await chat.say("update recommendation 8")


async def test_several_items_are_told_apart_by_reference() -> None:
    chat = chat_about([8, 80], channel="msteams")
    replies = await chat.send("update recommendation 8")
    assert "Which one do you want to update?" in said(replies)
    assert list(_buttons(replies)) == ["OIC-2025 R8", "PEEL-2023 R8"]
    assert "What is the status of PEEL-2023 R8 now?" in said(await chat.send(value=_buttons(replies)["PEEL-2023 R8"]))
    await chat.say("in progress")
    await chat.say("on track")
    await chat.say("Done.")
    await chat.say("skip")
    await chat.say("skip")
    await chat.say("confirm")
    assert chat.port.recorded[0].draft.item_id == 80


async def test_the_item_choice_checks_permission_too() -> None:
    fake = port(allowed={8: {1}})
    chat = chat_about([8, 80], fake=fake)
    await chat.say("update recommendation 8")
    assert "the owner is Sam Lee" in await chat.say("2")
    assert chat.result["refused"].startswith("Only the owner")


async def test_which_recommendation_is_asked_when_none_was_named() -> None:
    chat = chat_about([])
    assert "Which recommendation do you want to update?" in await chat.say("update")
    assert "I couldn't find a recommendation matching “R99”" in await chat.say("R99")
    assert "more than one" in await chat.say("R8")
    assert "What is the status of OIC-2025 R8 now?" in await chat.say("OIC-2025 R8")
    assert chat.port.resolved[-1] == ("R8", "Convo1")


async def test_a_typed_reference_that_matches_one_item_goes_straight_on() -> None:
    chat = chat_about([])
    await chat.say("update")
    assert "What is the status of OIC-2025 R2 now?" in await chat.say("R2")


async def test_an_item_that_no_longer_exists_ends_the_flow() -> None:
    chat = chat_about([404])
    assert "can't find that recommendation" in await chat.say("update")
    assert chat.result == {"not_found": True}


# --- failures, expiry, interruption ----------------------------------------------------------


async def test_a_failed_save_keeps_everything_and_confirm_retries_once() -> None:
    chat = chat_about([8], fake=port(fail_record=1))
    await answer_up_to_confirm(chat)
    assert await chat.say("confirm") == NOT_SAVED
    assert chat.status == DialogTurnStatus.Waiting
    assert chat.port.recorded == []
    assert (await chat.say("confirm")).startswith("Saved. OIC-2025 R8 is now In progress.")
    assert len(chat.port.recorded) == 1
    assert chat.port.recorded[0].draft.revised_due_reason == "Training places were cut by the College."


async def test_a_retry_after_a_lost_reply_does_not_record_twice() -> None:
    chat = chat_about([8], fake=port(fail_after_commit=1))
    await answer_up_to_confirm(chat, date_text="skip")
    assert await chat.say("confirm") == NOT_SAVED
    first_confirm = key_of(chat.sent[-1])
    assert (await chat.say("confirm")).startswith("Saved.")
    assert len(chat.port.recorded) == 1
    # Both attempts named the first confirm's activity, so the port could tell it was a repeat.
    assert [call.activity_key for call in chat.port.calls] == [first_confirm, first_confirm]
    assert chat.result["duplicate"] is True


async def test_a_refusal_at_confirm_ends_the_flow_with_the_reason() -> None:
    chat = chat_about(
        [8], fake=port(refuse_record="Recommendation 8 (OIC-2025 R8) is closed, so it takes no more updates.")
    )
    await answer_up_to_confirm(chat, date_text="skip")
    answer = await chat.say("confirm")
    assert answer == "Recommendation 8 (OIC-2025 R8) is closed, so it takes no more updates. Nothing was saved."
    assert chat.result == {"refused": "Recommendation 8 (OIC-2025 R8) is closed, so it takes no more updates."}
    assert chat.port.recorded == []


async def test_a_failed_save_can_still_be_cancelled() -> None:
    chat = chat_about([8], fake=port(fail_record=5))
    await answer_up_to_confirm(chat)
    await chat.say("confirm")
    assert await chat.say("cancel") == CANCELLED
    assert chat.port.recorded == []


async def test_a_flow_left_for_over_30_minutes_expires_politely() -> None:
    chat = chat_about([8])
    await chat.say("update")
    chat.clock.now += timedelta(minutes=29)
    await chat.say("in progress")
    chat.clock.now += timedelta(minutes=30, seconds=1)
    answer = await chat.say("on track")
    assert "your update of OIC-2025 R8 timed out" in answer and "nothing was saved" in answer
    assert chat.result == {"expired": True, "text": "on track"}
    assert chat.port.calls == []


async def test_another_command_at_a_choice_step_sets_the_update_aside() -> None:
    chat = chat_about([8])
    await chat.say("update")
    await chat.say("in progress")
    assert await chat.say("list overdue") == "I've set aside your update of OIC-2025 R8 (nothing saved)."
    assert chat.result == {"interrupted_by": "list overdue"}


async def test_another_command_at_the_summary_sets_the_update_aside() -> None:
    chat = chat_about([8])
    await answer_up_to_confirm(chat, date_text="skip")
    assert await chat.say("status of R2") == "I've set aside your update of OIC-2025 R8 (nothing saved)."
    assert chat.result == {"interrupted_by": "status of R2"}
    assert chat.port.calls == []


async def test_unclear_text_at_a_choice_step_is_asked_again() -> None:
    chat = chat_about([8])
    await chat.say("update")
    answer = await chat.say("maybe")
    assert "Please choose In progress, Blocked or Complete." in answer and "What is the status" in answer


# --- state -----------------------------------------------------------------------------------


async def test_a_restart_mid_conversation_continues_from_the_database(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    chat = chat_about([8], storage=SqlStorage(sessionmaker))
    answers = ["update", "Complete", "at risk", NARRATIVE, "https://example.com/e", "end of June", "Course moved."]
    for answer in answers:
        await chat.say(answer)
        chat.restart()  # a new process: new dialog, adapter and DialogSet; only the database remains
    assert await chat.say("confirm") == (
        "Saved. OIC-2025 R8 is now awaiting sign-off by an admin. Your request to move the due date to "
        "30 June 2026 is recorded for an admin to decide."
    )
    [call] = chat.port.recorded
    assert call.draft == UpdateDraft(
        8, "Awaiting sign-off", "at risk", NARRATIVE, "https://example.com/e", date(2026, 6, 30), "Course moved."
    )


# --- the validators --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "status"),
    [("In progress", "In progress"), ("in-progress", "In progress"), ("BLOCKED", "Blocked"), ("Complete", "Awaiting sign-off"),
     ("done.", "Awaiting sign-off"), ("closed", None), ("", None)],
)  # fmt: skip
def test_status_choices(typed: str, status: str | None) -> None:
    assert parse_status_choice(typed) == status


@pytest.mark.parametrize(
    ("typed", "assessment"),
    [("On track", "on track"), ("off-track", "off track"), ("at risk!", "at risk"), ("green", None)],
)
def test_assessment_choices(typed: str, assessment: str | None) -> None:
    assert parse_assessment_choice(typed) == assessment
