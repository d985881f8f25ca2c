"""bot/activity_json.py reads every activity exactly as msrest's `Activity.deserialize` does."""

from __future__ import annotations

from typing import Any

import pytest
from botbuilder.schema import Activity

from bot.activity_json import read_activity
from tests.fakes.teams import SAM, activity, channel_message, message

URL = "https://smba.trafficmanager.net/uk/"

CARD = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "R8"}]}

ACTIVITIES: list[dict[str, Any]] = [
    message("status of recommendation 8", URL),
    channel_message("list overdue", URL),
    message("hi", URL, user=SAM, localTimestamp="2026-12-01T11:00:00.5+01:00", unknownField={"kept": [1, 2.5, None]}),
    message("", URL, value={"form": "update", "status": "Blocked", "nested": {"deep": [True, False]}}),
    activity(
        "invoke",
        URL,
        name="adaptiveCard/action",
        value={"action": {"type": "Action.Execute", "verb": "refresh", "data": {"item": 8}}, "trigger": "manual"},
    ),
    activity("invoke", URL, name="composeExtension/query", value={"commandId": "searchItems", "parameters": []}),
    activity(
        "conversationUpdate",
        URL,
        conversation_type="channel",
        conversation_id="19:c@thread.tacv2",
        membersAdded=[{"id": "28:recbot-app-id"}, {"id": "29:x", "aadObjectId": "a"}],
    ),
    activity("installationUpdate", URL, action="add"),
    message(
        "",
        URL,
        attachments=[
            {
                "contentType": "application/vnd.microsoft.teams.file.download.info",
                "name": "tracker.xlsx",
                "content": {"downloadUrl": "https://force.sharepoint.com/x", "fileType": "xlsx"},
            },
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": CARD},
        ],
    ),
    message(
        "hi", URL, suggestedActions={"to": ["29:x"], "actions": [{"type": "imBack", "title": "Go", "value": "go"}]}
    ),
    message("hi", URL, timestamp=None, entities=[{"type": "clientInfo", "locale": "en-GB", "platform": "Web"}]),
]

# Shapes the direct walk leaves to msrest; the answer (or the error) must still be msrest's.
ODD: list[dict[str, Any]] = [
    message("hi", URL, locale=7),  # a number where a string belongs
    message("hi", URL, entities={"type": "mention"}),  # an object where a list belongs
    message("hi", URL, recipient="28:bot"),  # a string where an account belongs
    message("hi", URL, timestamp="yesterday"),
    message("hi", URL, listenFor="not a list"),
]


@pytest.mark.parametrize("payload", ACTIVITIES, ids=lambda payload: str(payload.get("name") or payload["type"]))
def test_reads_as_msrest_does(payload: dict[str, Any]) -> None:
    read = read_activity(payload)
    expected = Activity.deserialize(payload)
    assert read == expected
    assert vars(read) == vars(expected)
    assert read.serialize() == expected.serialize()


@pytest.mark.parametrize("payload", ODD, ids=str)
def test_odd_shapes_get_msrest_answer_or_error(payload: dict[str, Any]) -> None:
    try:
        expected: Activity | str = Activity.deserialize(payload)
    except Exception as error:  # noqa: BLE001 - whatever msrest raises, read_activity must raise too
        with pytest.raises(type(error)):
            read_activity(payload)
        return
    assert read_activity(payload) == expected
