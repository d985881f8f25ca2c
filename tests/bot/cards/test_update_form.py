"""The one-card update form: its shape, and that a submission gives the same draft as the conversation."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from bot.cards.update_form import is_cancelled_form, parse_update_form, update_form_card, update_summary_card
from dialogs.update import NARRATIVE_LIMIT
from domain.text import safe_text
from domain.updates import ItemBrief, UpdateDraft

TODAY = date(2026, 3, 10)
R8 = ItemBrief(
    8, "OIC-2025 R8", "Recommendation 8", "By 30 April 2026, chief constables should *act*.", "In progress", "Jane Doe"
)


def submitted(**changes: Any) -> dict[str, Any]:
    """What Teams sends for a filled-in form: the Action.Submit data merged with the inputs."""
    value: dict[str, Any] = {
        "form": "update",
        "item_id": 8,
        "status": "In progress",
        "assessment": "On track",
        "narrative": "  Hydra training at 80%.\r\nNext cohort in May.  ",
        "evidence_url": "",
        "revised_due_on": "",
        "revised_due_reason": "",
    }
    value.update(changes)
    return {key: item for key, item in value.items() if item is not None}


def _inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {element["id"]: element for element in card["body"] if element["type"].startswith("Input.")}


def test_the_form_has_every_field_on_one_card() -> None:
    reply = update_form_card(R8, TODAY)
    card = reply.card
    assert card is not None
    assert card["version"] == "1.5" and card["fallbackText"] == reply.text
    inputs = _inputs(card)
    assert list(inputs) == ["status", "assessment", "narrative", "evidence_url", "revised_due_on", "revised_due_reason"]
    assert [choice["value"] for choice in inputs["status"]["choices"]] == ["In progress", "Blocked", "Complete"]
    assert [choice["value"] for choice in inputs["assessment"]["choices"]] == ["On track", "At risk", "Off track"]
    assert inputs["narrative"]["isMultiline"] is True and inputs["narrative"]["maxLength"] == 2000
    assert inputs["revised_due_on"]["type"] == "Input.Date" and inputs["revised_due_on"]["min"] == "2026-03-11"
    action, cancel = card["actions"]
    assert action["type"] == "Action.Submit" and action["data"] == {"form": "update", "item_id": 8}
    assert cancel["title"] == "Cancel" and cancel["associatedInputs"] == "none"
    assert is_cancelled_form(cancel["data"]) and not is_cancelled_form(action["data"])
    assert "should \\*act\\*" in card["body"][2]["text"]  # the item's text is shown safely
    assert update_form_card(R8, TODAY, corrects_update_id=41).card["actions"][0]["data"]["corrects_update_id"] == 41  # type: ignore[index]


def test_a_full_form_gives_the_draft_the_dialog_would() -> None:
    draft = parse_update_form(
        submitted(
            status="Blocked",
            assessment="At risk",
            evidence_url=" https://sharepoint.example/x ",
            revised_due_on="2026-06-30",
            revised_due_reason=" Course moved. ",
        ),
        TODAY,
    )
    assert draft == UpdateDraft(
        item_id=8,
        status="Blocked",
        assessment="at risk",
        narrative="Hydra training at 80%.\r\nNext cohort in May.",
        evidence_url="https://sharepoint.example/x",
        revised_due_on=date(2026, 6, 30),
        revised_due_reason="Course moved.",
    )


def test_complete_needs_no_assessment_and_takes_no_later_date() -> None:
    draft = parse_update_form(submitted(status="Complete", assessment=None), TODAY)
    assert draft == UpdateDraft(8, "Awaiting sign-off", "on track", "Hydra training at 80%.\r\nNext cohort in May.")
    problems = parse_update_form(
        submitted(status="Complete", revised_due_on="2026-06-30", revised_due_reason="Why."), TODAY
    )
    assert problems == [
        "A completed item needs no later due date: clear the revised due date and its reason, or choose another status."
    ]


@pytest.mark.parametrize(
    ("status", "assessment", "status_value", "assessment_value"),
    [
        ("In progress", "at risk", "In progress", "At risk"),
        ("Awaiting sign-off", "on track", "Complete", "On track"),
        ("Blocked", None, "Blocked", None),
        ("Not started", None, None, None),
    ],
)
def test_the_form_starts_with_the_current_status_and_assessment(
    status: str, assessment: str | None, status_value: str | None, assessment_value: str | None
) -> None:
    card = update_form_card(replace(R8, status=status, assessment=assessment), TODAY).card
    assert card is not None
    inputs = _inputs(card)
    assert inputs["status"].get("value") == status_value
    assert inputs["assessment"].get("value") == assessment_value
    assert inputs["assessment"]["isRequired"] is False  # Complete needs none; the server asks otherwise
    assert "value" not in inputs["narrative"]  # what has happened since is new


def test_the_form_starts_with_the_answers_given_so_far() -> None:
    answers = {
        "status": "Blocked",
        "assessment": "off track",
        "narrative": "Waiting for the vendor.",
        "evidence": "https://example.com/e",
        "revised_date": "2026-06-30",
        "reason": "Vendor slipped.",
    }
    card = update_form_card(R8, TODAY, corrects_update_id=41, answers=answers).card
    assert card is not None
    inputs = _inputs(card)
    assert {key: element.get("value") for key, element in inputs.items()} == {
        "status": "Blocked",
        "assessment": "Off track",
        "narrative": "Waiting for the vendor.",
        "evidence_url": "https://example.com/e",
        "revised_due_on": "2026-06-30",
        "revised_due_reason": "Vendor slipped.",
    }
    assert card["body"][0]["text"] == "Correct your update of OIC-2025 R8"
    past = update_form_card(R8, TODAY, answers=answers | {"revised_date": "2026-03-10"}).card
    assert past is not None and "value" not in _inputs(past)["revised_due_on"]  # not after today: not offered


def test_optional_fields_may_be_empty_or_missing() -> None:
    assert parse_update_form(submitted(evidence_url=None, revised_due_on=None, revised_due_reason=None), TODAY) == (
        UpdateDraft(8, "In progress", "on track", "Hydra training at 80%.\r\nNext cohort in May.")
    )
    assert parse_update_form(submitted(item_id="8", corrects_update_id=41), TODAY) == UpdateDraft(
        8, "In progress", "on track", "Hydra training at 80%.\r\nNext cohort in May.", corrects_update_id=41
    )


def test_a_typed_uk_date_is_read_too() -> None:
    draft = parse_update_form(submitted(revised_due_on="30/06/2026", revised_due_reason="Why."), TODAY)
    assert isinstance(draft, UpdateDraft) and draft.revised_due_on == date(2026, 6, 30)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"item_id": None}, "doesn't say which recommendation"),
        ({"item_id": "eight"}, "doesn't say which recommendation"),
        ({"status": None}, "Choose a status"),
        ({"status": "Closed"}, "Choose a status"),
        ({"assessment": ""}, "Choose your assessment"),
        ({"narrative": "   "}, "Please tell me what has happened"),
        ({"narrative": "x" * 2001}, "up to 2,000 characters and yours is 2,001"),
        (
            {"evidence_url": "www.example.com"},
            "Only web links (starting https:// or http://) can be evidence links. Correct",
        ),
        ({"evidence_url": "https://"}, "no valid website name"),
        ({"revised_due_on": "2026-03-10", "revised_due_reason": "x"}, "must be after today (10 March 2026)"),
        ({"revised_due_on": "2026-02-30", "revised_due_reason": "x"}, "I couldn't read that as a date"),
        ({"revised_due_on": "2026-06-30"}, "Please say why the due date needs to move"),
        ({"revised_due_on": "2026-06-30", "revised_due_reason": "r" * 501}, "up to 500 characters and yours is 501"),
        ({"revised_due_reason": "Because."}, "a reason but no revised due date"),
    ],
)
def test_each_problem_is_reported(changes: dict[str, Any], problem: str) -> None:
    result = parse_update_form(submitted(**changes), TODAY)
    assert isinstance(result, list) and len(result) == 1, result
    assert problem in result[0]


def test_every_problem_is_reported_at_once() -> None:
    result = parse_update_form({"form": "update", "item_id": 8}, TODAY)
    assert result == [
        "Choose a status: In progress, Blocked or Complete.",
        "Choose your assessment: On track, At risk or Off track.",
        "Please tell me what has happened — a sentence or two is enough.",
    ]


# --- the summary card the update dialog shows before saving ----------------------------------

EVIL = "[click here](http://evil.example) **urgent** _now_ <http://evil.example> &#42;x&#42;"


def test_the_summary_card_is_adaptive_1_5_with_fallback_text_and_buttons() -> None:
    draft = UpdateDraft(8, "Awaiting sign-off", "at risk", "Done.", None, date(2026, 6, 30), "Because.")
    card = update_summary_card("OIC-2025 R8", "Recommendation 8", draft).card
    assert card is not None
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    assert card["fallbackText"].startswith("Check your update of OIC-2025 R8: Complete — awaiting sign-off")
    assert [action["data"]["command"] for action in card["actions"]] == ["confirm", "change", "cancel"]
    facts = {fact["title"]: fact["value"] for fact in card["body"][2]["facts"]}
    assert facts == {"Status": "Complete — awaiting sign-off by an admin"}  # Complete asks neither
    draft = replace(draft, status="In progress")
    card = update_summary_card("OIC-2025 R8", "Recommendation 8", draft).card
    assert card is not None
    facts = {fact["title"]: fact["value"] for fact in card["body"][2]["facts"]}
    assert facts["Assessment"] == "At risk"
    assert facts["Due date"] == "move to 30 June 2026" and facts["Reason"] == "Because."
    json.dumps(card)


def test_the_summary_card_shows_user_text_without_markdown_surprises() -> None:
    draft = UpdateDraft(8, "In progress", "on track", f"{EVIL}\n1. first\n# heading\n> quote\n- bullet | table")
    draft = replace(
        draft, evidence_url="https://example.com/a_b*c", revised_due_on=date(2026, 6, 30), revised_due_reason=EVIL
    )
    card = update_summary_card("OIC-2025 R8", "Recommendation 8", draft).card
    assert card is not None
    narrative = card["body"][-3]["text"]
    assert "\\[click here\\](http://evil.example)" in narrative
    assert "\\*\\*urgent\\*\\*" in narrative and "\\_now\\_" in narrative and "\\<http" in narrative
    assert "&#42;" not in narrative.replace("\\&#42;", "")  # every entity's "&" is escaped: never decoded into "*"
    assert "1\\. first" in narrative and "\\# heading" in narrative and "\\> quote" in narrative
    assert "\\- bullet | table" in narrative  # a table needs lines that touch, and each line is a paragraph
    facts = {fact["title"]: fact["value"] for fact in card["body"][2]["facts"]}
    assert card["body"][-1]["text"] == "https://example.com/a\\_b\\*c"
    assert facts["Reason"].startswith("\\[click here\\]")
    assert EVIL not in json.dumps(card)


def test_escaping_caps_length() -> None:
    assert len(safe_text("a" * 5000, NARRATIVE_LIMIT)) == 2000
    assert safe_text("a" * 5000, NARRATIVE_LIMIT).endswith("…")
