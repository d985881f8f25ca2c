"""The update conversation through DialogTestClient, with a fake port and state stored as JSON every turn."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import replace
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
from dialogs.flow import CANCELLED, RESUME, normalise_answer
from dialogs.update import (
    NOT_SAVED,
    InvalidAnswer,
    UpdateDialog,
    answers_of,
    item_state,
    parse_assessment_choice,
    parse_revised_date,
    parse_status_choice,
    validate_narrative,
    validate_reason,
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
    """A dialog begun about the port's items `item_ids`, as the bot begins it after finding them."""
    fake = kwargs.pop("fake", None) or port()
    return Chat(fake, {"items": [item_state(fake.items[item_id]) for item_id in item_ids], "actor": actor}, **kwargs)


async def answer_up_to_confirm(chat: Chat, *, status: str = "in progress", date_text: str = "30/06/2026") -> str:
    """Begin and answer every question; returns what the bot said last (the summary)."""
    assert "What is the status of OIC-2025 R8 now?" in await chat.say("update recommendation 8")
    if parse_status_choice(status) == Status.AWAITING_SIGN_OFF:
        assert "What has happened" in await chat.say(status)  # Complete: no "on track?"
        assert "link to evidence" in await chat.say(NARRATIVE)
        return await chat.say("https://sharepoint.example.police.uk/sites/oic/hydra.pdf")  # and no "later date?"
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
    replies = await chat.send(value=_buttons(replies)["Blocked"])
    assert list(_buttons(replies)) == ["On track", "At risk", "Off track"]
    replies = await chat.send(value=_buttons(replies)["At risk"])
    replies = await chat.send("Waiting for the vendor; the evidence is on SharePoint.")
    assert list(_buttons(replies)) == ["Skip"]
    replies = await chat.send(value=_buttons(replies)["Skip"])
    assert list(_buttons(replies)) == ["Skip"]
    replies = await chat.send(value=_buttons(replies)["Skip"])
    assert list(_buttons(replies)) == ["Confirm", "Change", "Cancel"]
    replies = await chat.send(value=_buttons(replies)["Confirm"])
    assert said(replies) == "Saved. OIC-2025 R8 is now Blocked."
    [call] = chat.port.recorded
    assert call.draft == UpdateDraft(8, "Blocked", "at risk", "Waiting for the vendor; the evidence is on SharePoint.")
    assert chat.result["status"] == "Blocked"


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


async def test_complete_proposes_closure_and_skips_on_track_and_a_later_date() -> None:
    chat = chat_about([8], channel="msteams")
    replies = await chat.send("update recommendation 8")
    replies = await chat.send(value=_buttons(replies)["Complete"])
    assert "an admin will be asked to sign off" in said(replies)
    assert "What has happened" in said(replies) and "How is it going" not in said(replies)
    await chat.send("All staff trained.")
    replies = await chat.send("skip")  # the evidence link: then straight to the summary
    assert "later due date" not in said(replies)
    assert list(_buttons(replies)) == ["Confirm", "Change", "Cancel"]
    facts = {fact["title"]: fact["value"] for fact in replies[0].attachments[0].content["body"][2]["facts"]}
    assert facts == {"Status": "Complete — awaiting sign-off by an admin"}
    assert await chat.say("confirm") == "Saved. OIC-2025 R8 is now awaiting sign-off by an admin."
    assert chat.port.recorded[0].draft == UpdateDraft(8, "Awaiting sign-off", "on track", "All staff trained.")


async def test_a_correction_carries_the_update_it_corrects() -> None:
    chat = Chat(port(), {"items": [item_state(R8)], "actor": LEAD, "corrects_update_id": 41})
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
    assert chat.result == {"use_form": 8, "corrects_update_id": None, "answers": {}}


async def test_the_form_chosen_while_changing_carries_the_answers_so_far() -> None:
    chat = chat_about([8])
    await answer_up_to_confirm(chat, date_text="skip")
    await chat.say("change the status")
    await chat.say("Use a form instead")
    assert chat.result["answers"] == {
        "status": "In progress",
        "assessment": "on track",
        "narrative": NARRATIVE,
        "evidence": "https://sharepoint.example.police.uk/sites/oic/hydra.pdf",
        "revised_date": None,
    }


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


async def test_a_long_narrative_that_starts_like_a_command_is_an_answer() -> None:
    chat = chat_about([8])
    await _at_narrative(chat)
    narrative = "list overdue items were reviewed at the board, and the hydra training plan was agreed by all"
    assert "link to evidence" in await chat.say(narrative)
    await chat.say("skip")
    await chat.say("skip")
    await chat.say("confirm")
    assert chat.port.recorded[0].draft.narrative == narrative


async def test_a_short_narrative_that_looks_like_a_command_can_be_kept_as_the_answer() -> None:
    chat = chat_about([8], channel="msteams")
    await _at_narrative(chat)
    replies = await chat.send("list overdue items were reviewed")
    assert "Save your draft first, or answer the question?" in said(replies)
    assert list(_buttons(replies)) == ["Answer it, keep my draft", "Carry on with the update", "Use it as my answer"]
    assert "link to evidence" in said(await chat.send(value=_buttons(replies)["Use it as my answer"]))
    await chat.say("skip")
    await chat.say("skip")
    await chat.say("confirm")
    assert chat.port.recorded[0].draft.narrative == "list overdue items were reviewed"


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


async def test_back_from_the_summary_asks_the_last_question_again() -> None:
    chat = chat_about([8])
    await answer_up_to_confirm(chat, date_text="skip")
    assert "later due date" in await chat.say("back")
    assert "Check your update" in await chat.say("skip")


async def test_change_asks_only_the_answer_chosen_then_shows_the_summary() -> None:
    chat = chat_about([8], channel="msteams")
    await answer_up_to_confirm(chat, date_text="skip")
    replies = await chat.send("change")
    assert "What do you want to change?" in said(replies)
    assert list(_buttons(replies)) == ["Status", "Assessment", "What has happened", "Evidence link", "Revised due date"]
    answer = said(await chat.send(value=_buttons(replies)["What has happened"]))
    assert "What has happened" in answer and "Now: Hydra training" in answer
    assert "Check your update" in await chat.say("Second version.")  # straight back to the summary
    assert "How is it going" in await chat.say("change assessment")  # typed at the summary: no menu
    assert "Check your update" in await chat.say("off track")
    await chat.say("confirm")
    [call] = chat.port.recorded
    assert call.draft == UpdateDraft(
        8, "In progress", "off track", "Second version.", "https://sharepoint.example.police.uk/sites/oic/hydra.pdf"
    )


async def test_changing_the_date_asks_its_reason_only_when_there_is_none() -> None:
    chat = chat_about([8])
    await answer_up_to_confirm(chat, date_text="skip")
    await chat.say("change")
    assert "later due date" in await chat.say("revised due date")
    assert "Why does the due date need to move to 31 May 2027?" in await chat.say("yes, 31 May 2027")
    assert "Check your update" in await chat.say("The College moved the course.")
    await chat.say("change the date")
    assert "Check your update" in await chat.say("30 June 2027")  # the reason is kept
    await chat.say("confirm")
    draft = chat.port.recorded[0].draft
    assert draft.revised_due_on == date(2027, 6, 30) and draft.revised_due_reason == "The College moved the course."


async def test_changing_complete_to_in_progress_asks_what_complete_skipped() -> None:
    chat = chat_about([8])
    await answer_up_to_confirm(chat, status="Complete")
    await chat.say("change status")
    assert "How is it going" in await chat.say("in progress")
    assert "later due date" in await chat.say("at risk")
    assert "Check your update" in await chat.say("skip")
    await chat.say("change")
    assert "Check your update" in await chat.say("back")  # back from the menu: the summary, unchanged
    await chat.say("confirm")
    assert chat.port.recorded[0].draft.status == "In progress"
    assert chat.port.recorded[0].draft.assessment == "at risk"


async def test_back_while_changing_returns_to_the_menu() -> None:
    chat = chat_about([8])
    await answer_up_to_confirm(chat)
    await chat.say("change")
    await chat.say("evidence")
    assert "What do you want to change?" in await chat.say("back")
    assert "Check your update" in await chat.say("back")
    await chat.say("confirm")
    assert chat.port.recorded[0].draft.revised_due_reason == "Training places were cut by the College."


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


async def test_a_command_before_any_answer_sets_the_update_aside() -> None:
    chat = chat_about([8])
    await chat.say("update")
    assert await chat.say("list overdue") == "I've set aside your update of OIC-2025 R8 (nothing saved)."
    assert chat.result == {"interrupted_by": "list overdue"}


@pytest.mark.parametrize(
    "answers",
    [["in progress"], ["in progress", "on track"], ["in progress", "on track", "Done.", "skip", "skip"]],
    ids=["assessment", "narrative", "summary"],
)
async def test_a_command_with_a_draft_asks_and_answering_it_keeps_the_draft(answers: list[str]) -> None:
    chat = chat_about([8], channel="msteams")
    await chat.say("update")
    for answer in answers:
        waiting = await chat.say(answer)
    replies = await chat.send("status of R2")
    assert "Save your draft first, or answer the question?" in said(replies)
    assert chat.status == DialogTurnStatus.Waiting and chat.port.calls == []
    replies = await chat.send(value=_buttons(replies)["Answer it, keep my draft"])
    result = chat.result
    assert result["aside"] == "status of R2" and chat.port.calls == []
    # The caller answers the command, then begins the dialog again from where it was.
    chat.options = {RESUME: result["resume"]}
    chat.restart()
    back = await chat.say("anything")  # DialogTestClient begins its dialog on the first message
    assert back.startswith("Back to your update of OIC-2025 R8: your draft is as you left it.")
    assert waiting.splitlines()[-1] in back  # the waiting question, again


async def test_carry_on_drops_the_command_and_asks_again() -> None:
    chat = chat_about([8])
    await answer_up_to_confirm(chat, date_text="skip")
    assert "Save your draft first" in await chat.say("status of R2")
    assert "Check your update" in await chat.say("Carry on with the update")
    await chat.say("confirm")
    assert len(chat.port.recorded) == 1


async def test_an_answer_instead_of_a_choice_answers_the_waiting_question() -> None:
    chat = chat_about([8])
    await chat.say("update")
    await chat.say("in progress")
    assert "Save your draft first" in await chat.say("list overdue")
    assert "What has happened" in await chat.say("at risk")
    assert "Save your draft first" in await chat.say("status of R2")
    assert "Save your draft first" in await chat.say("list blocked")  # another command: asked about that one
    assert "link to evidence" in await chat.say("help me")  # neither: the narrative
    assert "Save your draft first" in await chat.say("status of R2")
    assert "Please choose" not in await chat.say("maybe")  # at the evidence step: not a link
    assert await chat.say("cancel") == CANCELLED


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
    answers = ["update", "Blocked", "at risk", NARRATIVE, "https://example.com/e", "end of June", "Course moved."]
    for answer in answers:
        await chat.say(answer)
        chat.restart()  # a new process: new dialog, adapter and DialogSet; only the database remains
    assert await chat.say("confirm") == (
        "Saved. OIC-2025 R8 is now Blocked. Your request to move the due date to "
        "30 June 2026 is recorded for an admin to decide."
    )
    [call] = chat.port.recorded
    assert call.draft == UpdateDraft(
        8, "Blocked", "at risk", NARRATIVE, "https://example.com/e", date(2026, 6, 30), "Course moved."
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


# --- corrections -----------------------------------------------------------------------------

EARLIER = UpdateDraft(
    8, "In progress", "at risk", "Hydra at 60%.", "https://example.com/e", date(2026, 6, 30), "Course moved.", 41
)


def correcting(draft: UpdateDraft = EARLIER) -> Chat:
    return Chat(
        port(), {"items": [item_state(R8)], "actor": LEAD, "corrects_update_id": 41, "answers": answers_of(draft)}
    )


async def test_a_correction_starts_at_the_summary_with_the_update_it_corrects() -> None:
    chat = correcting()
    replies = await chat.send("correct my last update of R8")
    card = replies[0].attachments[0].content
    assert any("corrects your latest update" in block.get("text", "") for block in card["body"])
    [fact_set] = [block for block in card["body"] if block["type"] == "FactSet"]
    facts = {fact["title"]: fact["value"] for fact in fact_set["facts"]}
    assert facts["Due date"] == "move to 30 June 2026" and facts["Reason"] == "Course moved."
    assert "exactly as it was" in await chat.say("confirm")  # nothing changed yet: nothing to save
    await chat.say("change")
    assert "Check your update" in await chat.say("What has happened") + await chat.say("Hydra at 65%.")
    await chat.say("confirm")
    # The link and the date request are kept; only the narrative changed.
    assert chat.port.recorded[0].draft == replace(EARLIER, narrative="Hydra at 65%.")


async def test_a_correction_asks_only_what_the_corrected_update_lacks() -> None:
    chat = correcting(replace(EARLIER, assessment="", revised_due_on=date(2026, 3, 1)))  # a date now past
    assert "How is it going" in await chat.say("correct")
    assert "later due date" in await chat.say("on track")
    assert "Check your update" in await chat.say("skip")
    await chat.say("confirm")
    assert chat.port.recorded[0].draft == replace(
        EARLIER, assessment="on track", revised_due_on=None, revised_due_reason=None
    )


# --- "yes", dates and reasons ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("yes, 31 May 2027", date(2027, 5, 31)),
        ("Yes 31/05/2027", date(2027, 5, 31)),
        ("yes please - move it to end of June", date(2026, 6, 30)),
        ("ok, to 2027-05-31", date(2027, 5, 31)),
        ("no thanks", None),
    ],
)
def test_a_date_after_yes_is_read(typed: str, day: date | None) -> None:
    assert parse_revised_date(typed, TODAY, parse_user_date) == day


@pytest.mark.parametrize("typed", ["yes", "Yes!", "yes please", "ok"])
def test_yes_alone_asks_which_date(typed: str) -> None:
    with pytest.raises(InvalidAnswer, match="Which date?"):
        parse_revised_date(typed, TODAY, parse_user_date)


@pytest.mark.parametrize("typed", ["yes", "Yes.", "ok", "no", "n/a", "skip", "?"])
def test_yes_is_not_a_reason(typed: str) -> None:
    with pytest.raises(InvalidAnswer, match="Please say why"):
        validate_reason(typed)
    if typed not in ("n/a",):
        with pytest.raises(InvalidAnswer, match="Please tell me what has happened"):
            validate_narrative(typed)


async def test_yes_at_the_date_step_asks_for_the_date_and_yes_is_no_reason() -> None:
    chat = chat_about([8])
    await _at_narrative(chat)
    await chat.say("Done.")
    await chat.say("skip")
    assert "Which date?" in await chat.say("yes")
    assert "Why does the due date need to move to 31 May 2027?" in await chat.say("yes, 31 May 2027")
    assert "Please say why" in await chat.say("yes")
    assert "Check your update" in await chat.say("The supplier slipped.")


def test_a_long_date_is_refused_before_it_is_read() -> None:
    with pytest.raises(InvalidAnswer, match="couldn't read that as a date"):
        parse_revised_date("yes, " * 10_000 + "31 May 2027", TODAY, parse_user_date)
