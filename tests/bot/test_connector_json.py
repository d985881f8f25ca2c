"""Replies are written without msrest's model walk, byte for byte as msrest would write them."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from botbuilder.core import MessageFactory
from botbuilder.dialogs.choices import ChoiceFactory
from botbuilder.schema import (
    ActivityTypes,
    Attachment,
    CardAction,
    ChannelAccount,
    ConversationAccount,
    Entity,
    SuggestedActions,
)
from botframework.connector.aio import ConnectorClient
from msrest.authentication import BasicTokenAuthentication

from bot.cards import common as cards
from bot.cards import help
from bot.cards.common import to_activity
from bot.connector import _FastBodySerializer, _FastResponseDeserializer, activity_json

_CLIENT = ConnectorClient(BasicTokenAuthentication({"access_token": "x"}), base_url="https://smba.example")
_MSREST = _CLIENT.conversations._serialize


def _addressed(activity):  # type: ignore[no-untyped-def]
    activity.conversation = ConversationAccount(id="a:1", conversation_type="personal", tenant_id="t-1")
    activity.from_property = ChannelAccount(id="28:bot", name="RecBot")
    activity.recipient = ChannelAccount(id="29:user", name="Officer", aad_object_id="aad-1")
    activity.reply_to_id = "1700000000000"
    activity.service_url = "https://smba.example/"
    activity.channel_id = "msteams"
    activity.locale = "en-GB"
    return activity


def _replies():  # type: ignore[no-untyped-def]
    yield to_activity(help.help_card())
    yield to_activity(help.welcome_card(in_channel=True))
    yield to_activity(cards.message("plain text, with ünïcode ✓"))
    yield to_activity(cards.choice_card("Which one?", [("A · one", "status of A"), ("B · two", "status of B")]))
    # How the update dialog asks: a hero card (a model as the attachment's content) of imBack buttons.
    yield ChoiceFactory.hero_card(["In progress", "Complete", "Cancel"], "What is the status now?")
    yield ChoiceFactory.for_channel("msteams", ["On track", "At risk"], "How is it going?")
    mention = MessageFactory.text("<at>Officer</at> hello")
    mention.entities = [
        Entity(type="mention"),
        Entity().deserialize({"type": "mention", "mentioned": {"id": "29:user"}, "text": "<at>Officer</at>"}),
    ]
    mention.type = ActivityTypes.message  # an enum, written as its value
    mention.timestamp = datetime(2026, 3, 1, 9, 30, 15, 120000, tzinfo=UTC)
    mention.channel_data = {"notification": {"alert": True}, "count": 2, "ratio": 0.5, "none": None}
    mention.suggested_actions = SuggestedActions(
        to=["29:user"], actions=[CardAction(type="imBack", title="Yes", value="yes")]
    )
    mention.attachments = [Attachment(content_type="text/plain", content=None, name="empty")]
    mention.text_highlights = []
    yield mention


@pytest.mark.parametrize("activity", list(_replies()))
def test_activity_json_matches_msrest(activity) -> None:  # type: ignore[no-untyped-def]
    activity = _addressed(activity)
    expected = _MSREST.body(activity, "Activity")
    fast = activity_json(activity)
    assert fast is not None
    assert json.dumps(fast, sort_keys=True) == json.dumps(expected, sort_keys=True)


@pytest.mark.parametrize(
    "change",
    [
        lambda a: setattr(a, "channel_data", {"when": date(2026, 1, 2)}),  # msrest stringifies
        lambda a: setattr(a, "value", {"pair": (1, 2)}),  # a tuple: msrest writes its str()
        lambda a: setattr(a, "timestamp", datetime(2026, 1, 2, 3, 4, 5)),  # naive: msrest warns, assumes UTC
        lambda a: setattr(a, "recipient", {"id": "29:user"}),  # a dict where a model belongs
        lambda a: setattr(a, "attachments", [Attachment(content_type="x", content={"o": SimpleNamespace(a=1)})]),
    ],
)
def test_unusual_activities_are_left_to_msrest(change) -> None:  # type: ignore[no-untyped-def]
    activity = _addressed(MessageFactory.text("hello"))
    change(activity)
    assert activity_json(activity) is None
    serializer = _FastBodySerializer(_MSREST.dependencies)
    assert serializer.body(activity, "Activity") == _MSREST.body(activity, "Activity")


def test_the_connector_answer_is_read_as_msrest_reads_it() -> None:
    deserializer = _FastResponseDeserializer(_CLIENT._deserialize.dependencies)
    response = SimpleNamespace(text=lambda: '{"id": "abc"}', headers={"content-type": "application/json"})
    for body in ({"id": "abc"}, {}, {"id": None}, {"id": "x", "other": 1}):
        response = SimpleNamespace(context={"deserialized_data": body})
        fast = deserializer("ResourceResponse", response)
        slow = _CLIENT._deserialize("ResourceResponse", response)
        assert type(fast) is type(slow) and fast.id == slow.id
