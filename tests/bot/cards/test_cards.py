"""Cards are data: structural checks on every reply the bot builds (no server, no database)."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cards.common import Reply, choice_card, command_action, message
from bot.cards.help import help_card, welcome_card
from bot.cards.items import history_card, item_list_card, search_results_card, status_card
from domain.dates import describe_overdue
from domain.text import clip, one_line, safe_text
from domain.vocabulary import Assessment, EventKind, Kind, Status
from services.results import Rights
from storage.models import Item, ItemEvent, Person, Report, Update
from storage.progress import TimelineEntry
from tests.fakes.card_nodes import elements, walk

TODAY = date(2026, 11, 28)
R8_TEXT = (
    "By 30 April 2026, chief constables, working with the Modern Slavery & Organised Immigration Crime Unit, "
    "should make sure that relevant personnel in all Home Office police forces complete the Hydra training "
    "package on organised immigration crime."
)
EVIL = "[click here](http://evil.example) **urgent** _now_ <http://evil.example> &#42;x&#42;"
HYDRA = "Hydra training package"
ELEMENT_TYPES = {"TextBlock", "FactSet", "ColumnSet", "Column", "Container", "ActionSet"}
COLOURS = {"attention", "warning", "good", "accent"}


def make_report() -> Report:
    return Report(
        code="OIC-2025", title="Improving the response to organised immigration crime", published_on=date(2025, 5, 16)
    )


def make_item(report: Report | None = None, **fields: Any) -> Item:
    values: dict[str, Any] = {
        "report": report or make_report(),
        "kind": Kind.RECOMMENDATION.value,
        "number": 8,
        "text": R8_TEXT,
        "due_on": date(2026, 4, 30),
        "status": Status.IN_PROGRESS.value,
        "last_update_at": datetime(2026, 10, 2, 9, 30, tzinfo=timezone.utc),
    }
    return Item(**(values | fields))


def make_update(**fields: Any) -> Update:
    values: dict[str, Any] = {
        "author_name": "Jane Doe",
        "created_at": datetime(2026, 10, 2, 9, 30, tzinfo=timezone.utc),
        "status": Status.IN_PROGRESS.value,
        "assessment": Assessment.AT_RISK.value,
        "narrative": "Hydra training is being co-ordinated regionally; 62% of relevant staff have completed it.",
    }
    return Update(**(values | fields))


def shown_texts(root: dict[str, Any]) -> list[str]:
    """What a card or element shows as markdown: TextBlock texts and fact titles and values."""
    texts = []
    for node in elements(root.get("body", root)):
        if node.get("type") == "TextBlock":
            texts.append(node["text"])
        if node.get("type") == "FactSet":
            texts += [part for fact in node["facts"] for part in (fact["title"], fact["value"])]
    return texts


def facts(card: dict[str, Any]) -> dict[str, str]:
    fact_sets = [node for node in elements(card["body"]) if node.get("type") == "FactSet"]
    return {fact["title"]: fact["value"] for fact_set in fact_sets for fact in fact_set["facts"]}


def submits(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [node for node in walk(card) if node.get("type") == "Action.Submit"]


def commands(card: dict[str, Any]) -> list[str]:
    return [action["data"]["command"] for action in submits(card)]


def all_replies() -> dict[str, Reply]:
    report = make_report()
    r8 = make_item(report)
    r9 = make_item(report, number=9, text="By 30 April 2027, chief constables should …", due_on=date(2027, 4, 30))
    return {
        "status": status_card(r8, make_update(), today=TODAY),
        "status without update": status_card(r9, None, today=TODAY),
        "list": item_list_card("Recommendations in OIC-2025", [r8, r9], today=TODAY, more=2, empty_text="None."),
        "choice": choice_card(
            "Which report do you mean?", [("OIC-2025", "list OIC-2025"), ("PEEL-2023", "list PEEL-2023")]
        ),
        "search": search_results_card("hydra training", [r8, r9]),
        "titled status": status_card(make_item(report, title=HYDRA), None, today=TODAY),
        "titled list": item_list_card("Red", [make_item(report, title=HYDRA), r9], today=TODAY, empty_text="None."),
        "titled search": search_results_card("package", [make_item(report, title=HYDRA), r9]),
        "help": help_card(admin=True),
        "welcome personal": welcome_card(in_channel=False),
        "welcome channel": welcome_card(in_channel=True),
    }


REPLIES = all_replies()


@pytest.mark.parametrize("name", REPLIES)
def test_every_card_is_adaptive_card_1_5_with_the_plain_text_as_fallback(name: str) -> None:
    reply = REPLIES[name]
    assert reply.card is not None
    assert reply.card["type"] == "AdaptiveCard"
    assert reply.card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert reply.card["version"] == "1.5"
    assert reply.card["fallbackText"] == reply.text
    assert len(reply.text) > 20 and reply.text.strip() == reply.text
    # Teams refuses messages over about 28 KB, cards included.
    assert len(json.dumps(reply.card).encode()) < 20_000


@pytest.mark.parametrize("name", REPLIES)
def test_every_element_is_one_teams_renders_and_every_text_block_wraps(name: str) -> None:
    card = REPLIES[name].card
    assert card is not None
    for node in elements(card["body"]):
        if "type" in node:
            assert node["type"] in ELEMENT_TYPES
        if node.get("type") == "TextBlock":
            assert node["wrap"] is True
        if "color" in node:
            assert node["color"] in COLOURS


@pytest.mark.parametrize("name", REPLIES)
def test_every_button_posts_its_command_as_a_message_in_teams(name: str) -> None:
    card = REPLIES[name].card
    assert card is not None
    # The view everyone sees; the refresh (Universal Actions) has its own tests.
    shown = {key: value for key, value in card.items() if key != "refresh"}
    actions = [node for node in walk(shown) if str(node.get("type", "")).startswith("Action.")]
    assert actions, "every card here offers at least one command"
    for action in actions:
        assert action["type"] == "Action.Submit"
        assert action["title"]
        command = action["data"]["command"]
        assert command and action["data"]["msteams"] == {"type": "imBack", "value": command}


def test_command_action() -> None:
    assert command_action("History", "history of OIC-2025 R8") == {
        "type": "Action.Submit",
        "title": "History",
        "data": {"command": "history of OIC-2025 R8", "msteams": {"type": "imBack", "value": "history of OIC-2025 R8"}},
    }


# --- status card -----------------------------------------------------------------------------


def test_status_card_shows_the_item_its_dates_and_the_latest_update() -> None:
    reply = status_card(make_item(), make_update(), today=TODAY)
    assert reply.card is not None
    shown = "\n".join(shown_texts(reply.card))
    assert "OIC-2025 R8" in shown and "Recommendation 8" in shown
    assert "Improving the response to organised immigration crime (OIC\\-2025)" not in shown  # no stray escapes
    assert "Improving the response to organised immigration crime (OIC-2025)" in shown
    assert "complete the Hydra training package on organised immigration crime." in shown
    assert facts(reply.card) == {
        "Status": "In progress",
        "HMICFRS due date": "30 April 2026",
        "Revised due date": "none written",
        "Owner": "Unassigned",
    }
    assert "Jane Doe, 2 October 2026 · In progress · Assessment: at risk" in shown
    assert "62% of relevant staff" in shown
    for text in ("OIC-2025 R8", "30 April 2026", "none written", "Unassigned", "Jane Doe", "62%", "at risk"):
        assert text in reply.text
    # Posted, the card offers what anyone may do; who may act sees it refreshed with their buttons.
    # The force's response stays reachable, named as the document names it ("Force response" if it doesn't).
    assert commands(reply.card) == ["history of OIC-2025 R8", "response to OIC-2025 R8"]
    mine = status_card(make_item(), make_update(), today=TODAY, viewer=Rights(update=True))
    assert mine.card is not None
    assert [action["title"] for action in submits(mine.card)] == ["History", "Force response", "Post update"]


def test_status_card_says_how_overdue_an_open_item_is_in_red() -> None:
    reply = status_card(make_item(), None, today=TODAY)
    assert reply.card is not None
    overdue = f"Overdue by {describe_overdue(date(2026, 4, 30), TODAY)}"
    [rag_line] = [node for node in walk(reply.card["body"]) if str(node.get("text", "")).startswith("RAG:")]
    assert rag_line["text"] == f"RAG: Red · {overdue}"
    assert rag_line["color"] == "attention"
    assert overdue in reply.text and "RAG: Red" in reply.text


FRESH = datetime(2026, 11, 20, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("fields", "line", "colour"),
    [
        ({"status": Status.CLOSED.value}, "RAG: Blue", "accent"),
        ({"due_on": date(2026, 12, 10), "last_update_at": FRESH}, "RAG: Amber · Due in 12 days", "warning"),
        # Why it is Amber, every reason: the lead's word, the date, the silence.
        (
            {"due_on": date(2026, 12, 10), "assessment": "at risk", "last_update_at": datetime(2026, 9, 25)},
            "RAG: Amber · The lead says at risk · due in 12 days · no update for 64 days",
            "warning",
        ),
        ({"due_on": date(2027, 4, 30), "last_update_at": FRESH}, "RAG: Green · Due in 153 days", "good"),
        ({"due_on": None, "last_update_at": FRESH}, "RAG: Green", "good"),
    ],
)
def test_status_card_says_why_it_has_its_rag_in_its_colour(fields: dict[str, Any], line: str, colour: str) -> None:
    reply = status_card(make_item(**fields), None, today=TODAY)
    assert reply.card is not None
    [rag_line] = [node for node in walk(reply.card["body"]) if str(node.get("text", "")).startswith("RAG:")]
    assert (rag_line["text"], rag_line["color"]) == (line, colour)
    assert "Overdue" not in reply.text and line in reply.text


def test_status_card_uses_the_revised_due_date_and_names_the_owner() -> None:
    owner = Person(name="Jane Doe", email="jane.doe@force.police.uk")
    fresh = datetime(2026, 11, 20, tzinfo=timezone.utc)
    item = make_item(revised_due_on=date(2027, 1, 31), owner=owner, last_update_at=fresh)
    reply = status_card(item, None, today=TODAY)
    assert reply.card is not None
    assert facts(reply.card)["HMICFRS due date"] == "30 April 2026"
    assert facts(reply.card)["Revised due date"] == "31 January 2027"
    assert facts(reply.card)["Owner"] == "Jane Doe"
    assert "Overdue" not in reply.text
    assert "No updates yet." in shown_texts(reply.card)


def test_status_card_without_any_due_date() -> None:
    reply = status_card(make_item(due_on=None), None, today=TODAY)
    assert reply.card is not None
    assert facts(reply.card)["HMICFRS due date"] == "none written"
    assert "HMICFRS due date: none written" in reply.text


def test_status_card_caps_long_text_and_narrative() -> None:
    long_text = "word " * 2000
    reply = status_card(make_item(text=long_text), make_update(narrative="note " * 2000), today=TODAY)
    assert reply.card is not None
    long_blocks = [text for text in shown_texts(reply.card) if text.startswith(("word", "note"))]
    assert len(long_blocks) == 2
    for text in long_blocks:
        assert len(text) <= 1500 and text.endswith("…")
    assert len(reply.text) < 3600
    assert len(json.dumps(reply.card).encode()) < 28_000


def test_status_card_neutralises_markdown_from_documents_and_people() -> None:
    owner = Person(name="**Boss** [x](http://evil.example)")
    item = make_item(text=f"# Heading\n- bullet\n1. numbered\n{EVIL}", owner=owner)
    update = make_update(author_name="[Mallory](http://evil.example)", narrative=f"> quote\n{EVIL}")
    reply = status_card(item, update, today=TODAY)
    assert reply.card is not None
    for text in shown_texts(reply.card):
        assert not re.search(r"(?<!\\)[\[\]*_<`]", text), text  # every syntax character escaped
        assert not re.search(r"(?<!\\)&#", text), text
        for line in text.split("\n"):
            assert not re.match(r"(#|>|- |\d+\. )", line), text
    # The plain text is for clients that show text as it is: nothing to escape there.
    assert "[click here](http://evil.example)" in reply.text


# --- list card -------------------------------------------------------------------------------


def test_item_list_card_rows_are_compact_and_tappable() -> None:
    report = make_report()
    items = [
        make_item(report),
        make_item(report, number=2, text="Short text.", due_on=None, owner=Person(email="sam@force.police.uk")),
        make_item(report, kind=Kind.AREA_FOR_IMPROVEMENT.value, number=3, status=Status.CLOSED.value),
    ]
    reply = item_list_card("Recommendations in OIC-2025", items, today=TODAY, more=7, empty_text="None.")
    assert reply.card is not None
    rows = [node for node in reply.card["body"] if node["type"] == "Container"]
    assert [row["selectAction"]["data"]["command"] for row in rows] == [
        "status of OIC-2025 R8",
        "status of OIC-2025 R2",
        "status of OIC-2025 AFI3",
    ]
    first = "\n".join(shown_texts(rows[0]))
    assert "OIC-2025 R8" in first and "Red" in first
    assert "In progress · due 30 April 2026 · Unassigned" in first
    second = "\n".join(shown_texts(rows[1]))
    assert "no due date · sam@force.police.uk" in second and "Short text." in second
    assert "Blue" in "\n".join(shown_texts(rows[2]))
    summary = [block["text"] for block in walk(rows[0]) if block.get("maxLines")][0]
    assert len(summary) <= 90 and summary.endswith("…")
    assert "and 7 more" in shown_texts(reply.card)
    assert "and 7 more" in reply.text
    assert reply.text.startswith("Recommendations in OIC-2025\n- OIC-2025 R8 · Red · In progress")


def test_item_list_card_without_more_says_nothing_about_more() -> None:
    reply = item_list_card("Mine", [make_item()], today=TODAY, empty_text="None.")
    assert "more" not in reply.text


def test_item_list_card_for_no_items_is_one_line() -> None:
    assert item_list_card("Overdue", [], today=TODAY, empty_text="Nothing is overdue.") == Reply(
        text="Nothing is overdue.", card=None
    )


# --- choices, search, help, welcome, message ---------------------------------------------


def test_choice_card_numbers_the_options_and_gives_each_a_button() -> None:
    reply = choice_card("Which report do you mean?", [("OIC-2025", "list OIC-2025"), ("PEEL-2023", "list PEEL-2023")])
    assert reply.text == (
        'Which report do you mean?\n1. OIC-2025 (say "list OIC-2025")\n2. PEEL-2023 (say "list PEEL-2023")'
    )
    assert reply.card is not None
    assert [(action["title"], action["data"]["command"]) for action in submits(reply.card)] == [
        ("OIC-2025", "list OIC-2025"),
        ("PEEL-2023", "list PEEL-2023"),
    ]


def test_search_results_card_offers_each_match() -> None:
    report = make_report()
    reply = search_results_card("[hydra](http://evil.example)", [make_item(report), make_item(report, number=9)])
    assert reply.card is not None
    assert reply.text.startswith("I found several matches for '[hydra](http://evil.example)'")
    assert r"\[hydra\](http://evil.example)" in shown_texts(reply.card)[0]
    assert commands(reply.card) == ["status of OIC-2025 R8", "status of OIC-2025 R9"]
    for action in submits(reply.card):
        assert action["title"].startswith(("OIC-2025 R8: By 30 April 2026", "OIC-2025 R9: By 30 April 2026"))
        assert len(action["title"]) <= 60


def test_search_results_card_with_no_match_says_so() -> None:
    reply = search_results_card("zebra", [])
    assert reply.card is None and "zebra" in reply.text


def test_help_shows_each_person_the_commands_they_may_use() -> None:
    officer, lead = help_card(), help_card(lead=True)
    assert "For leads" not in officer.text and "For admins" not in officer.text
    assert "For leads" in lead.text and "For admins" not in lead.text
    assert "approve closure" not in lead.text and "update recommendation 8" in lead.text


def test_help_card_lists_every_command_with_an_example_by_audience() -> None:
    reply = help_card(admin=True)
    assert reply.card is not None
    shown = "\n".join(shown_texts(reply.card))
    for audience in ("For everyone", "For leads", "For admins"):
        assert audience in shown and audience in reply.text
    for example in (
        "status of recommendation 8",
        "list overdue",
        "my recommendations",
        "history of recommendation 8",
        "update recommendation 8",
        "assign recommendation 8 to jane.doe@force.police.uk",
        "add delegate to recommendation 8: sam@force.police.uk",
        "set due date of recommendation 8 to 30 June 2026",
        "set title of recommendation 8 to Hydra training",
        "approve closure of recommendation 8",
        "subscribe this channel to the weekly digest",
        "snooze reminders for 2 weeks",
        "help",
    ):
        assert example in shown and example in reply.text


@pytest.mark.parametrize("in_channel", [False, True])
def test_welcome_card(in_channel: bool) -> None:
    reply = welcome_card(in_channel=in_channel)
    assert reply.card is not None
    assert "HMICFRS" in reply.text
    assert commands(reply.card) == ["help"]
    examples = [line for line in reply.text.splitlines() if line.startswith("- ")]
    assert len(examples) == 3
    assert all(("@RecBot" in line) is in_channel for line in examples)


def test_message_is_plain_text() -> None:
    assert message("Recommendation 12 does not exist in OIC-2025.") == Reply(
        text="Recommendation 12 does not exist in OIC-2025.", card=None
    )


# --- safe text -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("[x](http://evil)", r"\[x\](http://evil)"),
        ("![img](http://evil/x.png)", r"!\[img\](http://evil/x.png)"),
        ("**bold** _italic_", r"\*\*bold\*\* \_italic\_"),
        ("<http://evil>", r"\<http://evil>"),
        ("`code` ~~gone~~", r"\`code\` \~\~gone\~\~"),
        ("&#42;x&#42; &amp;", r"\&#42;x\&#42; \&amp;"),
        ("back\\slash", "back\\\\slash"),
        ("- bullet", r"\- bullet"),
        ("+ bullet", r"\+ bullet"),
        ("* bullet", r"\* bullet"),
        ("1. first", r"1\. first"),
        ("12) twelfth", r"12\) twelfth"),
        ("# Heading", r"\# Heading"),
        ("> quote", r"\> quote"),
        ("---", r"\---"),
        ("    indented", "indented"),
        ("one\ntwo\r\n\r\nthree", "one\n\ntwo\n\nthree"),
        ("Modern Slavery & Organised Immigration Crime Unit", "Modern Slavery & Organised Immigration Crime Unit"),
        ("OIC-2025 R8 costs 62% (2 of 3)", "OIC-2025 R8 costs 62% (2 of 3)"),
    ],
)
def test_safe_text_escapes_markdown(value: str, expected: str) -> None:
    assert safe_text(value, 1500) == expected


def test_safe_text_caps_at_a_word_with_an_ellipsis() -> None:
    capped = safe_text("word " * 1000, 1500)
    assert len(capped) <= 1500 and capped.endswith("word…")
    assert safe_text("short", 1500) == "short"
    assert safe_text("x" * 20, 10) == "x" * 9 + "…"


def test_clip_and_one_line() -> None:
    assert clip("a\n\n\nb  ", 100) == "a\nb"
    assert one_line("a\n  b\tc", 100) == "a b c"
    assert len(one_line(R8_TEXT, 90)) <= 90


# Text made of what the escaping looks for, and of what it must leave alone.
_markdownish = st.lists(
    st.sampled_from(list("*_[]`~<&#;>+-=|.)\\ \n\r\t\u2028\x85") + ["&amp;", "&#42;", "1", "10.", "x", "é", "  "]),
    max_size=24,
).map("".join)


@settings(max_examples=400, deadline=None, database=None)
@given(_markdownish, st.integers(min_value=1, max_value=40))
def test_safe_text_fast_paths_change_nothing(value: str, limit: int) -> None:
    def every_substitution(line: str) -> str:
        line = re.sub(r"([\\*_\[\]`~<])", r"\\\1", line)
        line = re.sub(r"&(?=#?\w+;)", r"\\&", line)
        line = re.sub(r"^([#>+\-=|])", r"\\\1", line)
        return re.sub(r"^(\d+)([.)])", r"\1\\\2", line)

    lines = [line.strip() for line in re.split(r"\r\n|[\r\n\u2028\u2029\x0b\x0c\x85]", value) if line.strip()]
    assert clip(value, 10_000) == "\n".join(lines)
    assert safe_text(value, limit) == "\n\n".join(every_substitution(line) for line in clip(value, limit).split("\n"))


def test_status_card_of_a_closed_item_says_when_and_by_whom_with_the_evidence() -> None:
    closure = ItemEvent(kind="closure approved", actor_name="Pat Admin", created_at=datetime(2026, 11, 20, 9, 0))
    update = make_update(status="Awaiting sign-off", evidence_url="https://intranet.force.police.uk/hydra")
    reply = status_card(make_item(status=Status.CLOSED.value), update, today=TODAY, closed_by=closure)
    assert reply.card is not None
    assert facts(reply.card)["Closed"] == "20 November 2026 by Pat Admin"
    assert "Evidence: https://intranet.force.police.uk/hydra" in reply.text
    # Nothing to do on a closed item: read only.
    assert commands(reply.card) == ["history of OIC-2025 R8", "response to OIC-2025 R8"]


# --- titles ----------------------------------------------------------------------------------


def test_a_titled_item_is_headed_by_its_title_with_its_label_below() -> None:
    reply = status_card(make_item(title=HYDRA), make_update(), today=TODAY)
    assert reply.card is not None
    assert reply.text.startswith(
        "OIC-2025 R8 · Hydra training package\n"
        "Recommendation 8 · Improving the response to organised immigration crime (OIC-2025)\n"
    )
    assert shown_texts(reply.card)[:2] == [
        "OIC-2025 R8 · Hydra training package",
        "Recommendation 8 · Improving the response to organised immigration crime (OIC-2025)",
    ]


def test_a_list_names_a_titled_item_by_its_title_instead_of_its_texts_start() -> None:
    report = make_report()
    titled, untitled = make_item(report, title=HYDRA), make_item(report, number=9, text="Short text.")
    reply = item_list_card("Red", [titled, untitled], today=TODAY, empty_text="None.")
    assert reply.card is not None
    first, second = [row for row in reply.card["body"] if row["type"] == "Container"]
    assert shown_texts(first) == [
        "OIC-2025 R8 · Hydra training package",
        "Red",
        "In progress · due 30 April 2026 · Unassigned",
    ]
    assert "Short text." in shown_texts(second)
    assert reply.text.splitlines()[1:] == [
        "- OIC-2025 R8 · Hydra training package · Red · In progress · due 30 April 2026 · Unassigned",
        "- OIC-2025 R9 · Red · In progress · due 30 April 2026 · Unassigned",
        "  Short text.",
    ]


def test_a_picker_offers_titled_items_by_their_titles() -> None:
    report = make_report()
    reply = search_results_card("package", [make_item(report, title=HYDRA), make_item(report, number=9)])
    assert reply.card is not None
    assert [action["title"] for action in submits(reply.card)][0] == "OIC-2025 R8: Hydra training package"
    assert [action["title"] for action in submits(reply.card)][1].startswith("OIC-2025 R9: By 30 April 2026")


def test_a_title_change_in_the_history_says_from_what_to_what() -> None:
    entry = TimelineEntry(
        at=datetime(2026, 11, 2, 10, tzinfo=timezone.utc),
        who="Pat Admin",
        what="Title changed",
        detail='From "Hydra training package" to "Hydra training"',
        kind=EventKind.TITLE_CHANGED.value,
    )
    reply = history_card(make_item(title="Hydra training"), [entry], today=TODAY)
    assert reply.text.startswith("History · OIC-2025 R8 · Hydra training\nStatus now")
    assert (
        '2 November 2026 · Pat Admin: Title changed\n  From "Hydra training package" to "Hydra training"' in reply.text
    )
    assert "Reason:" not in reply.text
