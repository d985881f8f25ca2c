"""The quick path for people who prefer forms: every update question on one Adaptive Card.

The form records exactly what the conversation records: `parse_update_form` applies the update
dialog's own validators and returns the same `UpdateDraft` (or every problem, so the handler can
reply "Your update was not saved: …"). It starts with the item's current status and assessment (or
the answers given so far, or the update being corrected), and Cancel ends it without saving.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from bot.cards.common import SCHEMA, VERSION, Reply, command_action, safe_text
from dialogs.update import (
    ASSESSMENT_CHOICES,
    CANCEL,
    CHANGE,
    CONFIRM,
    NARRATIVE_LIMIT,
    REASON_LIMIT,
    STATUS_CHOICES,
    URL_LIMIT,
    InvalidAnswer,
    parse_assessment_choice,
    parse_evidence_url,
    parse_revised_date,
    parse_status_choice,
    status_phrase,
    validate_narrative,
    validate_reason,
)
from domain.dates import format_uk_date, parse_user_date
from domain.updates import ItemBrief, UpdateDraft
from domain.vocabulary import Assessment, Status

FORM = "update"
ITEM_TEXT_LIMIT = 400

# The input ids: what `value` holds when the form is submitted.
STATUS, ASSESSMENT, NARRATIVE = "status", "assessment", "narrative"
EVIDENCE_URL, REVISED_DUE_ON, REVISED_DUE_REASON = "evidence_url", "revised_due_on", "revised_due_reason"
# What the Cancel button sends (with the form and item): no inputs, and nothing is saved.
CANCELLED_FORM = "cancel"

# The choice each recorded status and assessment is shown as (Not started has none: the lead chooses).
_STATUS_CHOICE = {
    Status.IN_PROGRESS.value: "In progress",
    Status.BLOCKED.value: "Blocked",
    Status.AWAITING_SIGN_OFF.value: "Complete",
}
_ASSESSMENT_CHOICE = {assessment.value: assessment.value.capitalize() for assessment in Assessment}


def _choice_set(
    input_id: str, label: str, choices: tuple[str, ...], error: str, value: str | None, *, required: bool = True
) -> dict[str, Any]:
    choice_set: dict[str, Any] = {
        "type": "Input.ChoiceSet",
        "id": input_id,
        "label": label,
        "style": "expanded",
        "isRequired": required,
        "errorMessage": error,
        "choices": [{"title": choice, "value": choice} for choice in choices],
    }
    if value is not None:
        choice_set["value"] = value
    return choice_set


def _given(answers: Mapping[str, Any], key: str) -> str | None:
    value = answers.get(key)
    return value if isinstance(value, str) and value else None


def _with_value(element: dict[str, Any], value: str | None) -> dict[str, Any]:
    return {**element, "value": value} if value is not None else element


def update_form_card(
    item: ItemBrief,
    today: date,
    *,
    corrects_update_id: int | None = None,
    answers: Mapping[str, Any] | None = None,
) -> Reply:
    """The one-card update form for `item`; submitting it sends {"form": "update", "item_id": …} and the inputs.

    It starts with the item's current status and assessment, or with `answers` (the update dialog's
    answers by step name: what was answered before choosing the form, or the update being corrected).
    """
    text = (
        f"{'Correct your update of' if corrects_update_id is not None else 'Update'} {item.reference}: "
        f"fill in the form and choose Save update, or Cancel. Prefer questions one at a time? Say update {item.reference}."
    )
    data: dict[str, Any] = {"form": FORM, "item_id": item.item_id}
    if corrects_update_id is not None:
        data["corrects_update_id"] = corrects_update_id
    given = answers or {}
    status = _STATUS_CHOICE.get(_given(given, "status") or item.status)
    assessment = _ASSESSMENT_CHOICE.get(_given(given, "assessment") or item.assessment or "")
    revised = _given(given, "revised_date")
    # Only a date the picker accepts (after today) is filled in.
    if revised is not None and not (len(revised) == 10 and revised > today.isoformat()):
        revised = None
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": f"{'Correct your update of' if corrects_update_id is not None else 'Update'} "
            f"{safe_text(item.reference, 60)}",
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
        },
        {"type": "TextBlock", "text": safe_text(item.label, 120), "isSubtle": True, "spacing": "None", "wrap": True},
        {"type": "TextBlock", "text": safe_text(item.text, ITEM_TEXT_LIMIT), "size": "Small", "wrap": True},
        _choice_set(STATUS, "Status", STATUS_CHOICES, "Choose a status.", status),
        {
            "type": "TextBlock",
            "text": "Complete asks an admin to sign off the closure, and needs no assessment or later date.",
            "isSubtle": True,
            "size": "Small",
            "spacing": "None",
            "wrap": True,
        },
        # Not required on the card: Complete needs none (parse_update_form asks for it otherwise).
        _choice_set(
            ASSESSMENT, "Your assessment", ASSESSMENT_CHOICES, "Choose an assessment.", assessment, required=False
        ),
        _with_value(
            {
                "type": "Input.Text",
                "id": NARRATIVE,
                "label": "What has happened since the last update?",
                "isMultiline": True,
                "maxLength": NARRATIVE_LIMIT,
                "isRequired": True,
                "errorMessage": f"Say what has happened (up to {NARRATIVE_LIMIT:,} characters).",
                "placeholder": f"Up to {NARRATIVE_LIMIT:,} characters",
            },
            _given(given, "narrative"),
        ),
        _with_value(
            {
                "type": "Input.Text",
                "id": EVIDENCE_URL,
                "label": "Evidence link (optional)",
                "style": "Url",
                "maxLength": URL_LIMIT,
                "placeholder": "https://…",
            },
            _given(given, "evidence"),
        ),
        _with_value(
            {
                "type": "Input.Date",
                "id": REVISED_DUE_ON,
                "label": "Revised due date (optional; not with Complete)",
                "min": (today + timedelta(days=1)).isoformat(),
            },
            revised,
        ),
        _with_value(
            {
                "type": "Input.Text",
                "id": REVISED_DUE_REASON,
                "label": "Why the due date needs to move (needed with a revised date)",
                "isMultiline": True,
                "maxLength": REASON_LIMIT,
                "placeholder": f"Up to {REASON_LIMIT} characters",
            },
            _given(given, "reason") if revised else None,
        ),
    ]
    card = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "fallbackText": text,
        "body": body,
        "actions": [
            {"type": "Action.Submit", "title": "Save update", "style": "positive", "data": data},
            # Sends no inputs and skips their checks: nothing to fill in to leave.
            {
                "type": "Action.Submit",
                "title": CANCEL,
                "associatedInputs": "none",
                "data": {"form": FORM, "item_id": item.item_id, CANCELLED_FORM: True},
            },
        ],
    }
    return Reply(text=text, card=card)


def is_cancelled_form(value: Mapping[str, Any]) -> bool:
    """True when the update form's Cancel button sent `value`."""
    return value.get("form") == FORM and value.get(CANCELLED_FORM) is True


def _text(value: dict[str, Any], key: str) -> str:
    typed = value.get(key)
    return typed if isinstance(typed, str) else ""


def _int(value: dict[str, Any], key: str) -> int | None:
    number = value.get(key)
    if isinstance(number, bool):
        return None
    if isinstance(number, int):
        return number
    if isinstance(number, str) and number.strip().isdigit():
        return int(number)
    return None


def parse_update_form(value: dict[str, Any], today: date) -> UpdateDraft | list[str]:
    """The draft a submitted update form describes, or every problem with it (sentences to show the person)."""
    problems: list[str] = []
    item_id = _int(value, "item_id")
    if item_id is None:
        problems.append(
            "This form doesn't say which recommendation it is for. Say update and the recommendation to start again."
        )
    status = parse_status_choice(_text(value, STATUS))
    if status is None:
        problems.append("Choose a status: In progress, Blocked or Complete.")
    complete = status == Status.AWAITING_SIGN_OFF
    # Complete needs no assessment: the work is done (recorded as on track, as in the conversation).
    assessment = Assessment.ON_TRACK.value if complete else parse_assessment_choice(_text(value, ASSESSMENT))
    if assessment is None:
        problems.append("Choose your assessment: On track, At risk or Off track.")

    narrative = evidence_url = revised_due_on = reason = None
    try:
        narrative = validate_narrative(_text(value, NARRATIVE))
    except InvalidAnswer as problem:
        problems.append(str(problem))
    link = _text(value, EVIDENCE_URL)
    # An empty box is "no link"; "skip" only means something in the conversation.
    if link.strip():
        try:
            evidence_url = parse_evidence_url(link)
        except InvalidAnswer as problem:
            problems.append(f"{problem} Correct the evidence link, or leave it empty.")
    typed_date, typed_reason = _text(value, REVISED_DUE_ON), _text(value, REVISED_DUE_REASON)
    if complete and (typed_date.strip() or typed_reason.strip()):
        problems.append(
            "A completed item needs no later due date: clear the revised due date and its reason, "
            "or choose another status."
        )
    elif typed_date.strip():
        try:
            revised_due_on = parse_revised_date(typed_date, today, parse_user_date)
        except InvalidAnswer as problem:
            problems.append(f"{problem} Correct the revised due date, or leave it empty.")
    if revised_due_on is not None:
        try:
            reason = validate_reason(typed_reason)
        except InvalidAnswer as problem:
            problems.append(str(problem))
    elif typed_reason.strip() and not typed_date.strip() and not complete:
        problems.append("You gave a reason but no revised due date: add the date, or clear the reason.")

    if problems:
        return problems
    assert item_id is not None and status is not None and assessment is not None and narrative is not None
    return UpdateDraft(
        item_id=item_id,
        status=status,
        assessment=assessment,
        narrative=narrative,
        evidence_url=evidence_url,
        revised_due_on=revised_due_on,
        revised_due_reason=reason,
        corrects_update_id=_int(value, "corrects_update_id"),
    )


def update_summary_card(reference: str, label: str, draft: UpdateDraft) -> Reply:
    """The card that shows an update before it is saved, with Confirm / Change / Cancel buttons."""
    complete = draft.status == Status.AWAITING_SIGN_OFF
    facts = [("Status", status_phrase(draft.status))]
    # Complete asks neither question, so neither answer is shown.
    if not complete:
        facts.append(("Assessment", draft.assessment.capitalize()))
        facts.append(
            ("Due date", f"move to {format_uk_date(draft.revised_due_on)}" if draft.revised_due_on else "no change")
        )
    if not complete and draft.revised_due_on and draft.revised_due_reason:
        facts.append(("Reason", safe_text(draft.revised_due_reason, REASON_LIMIT)))
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": "Check your update", "weight": "Bolder", "size": "Medium", "wrap": True},
        {
            "type": "TextBlock",
            "text": f"{safe_text(reference, 100)} · {safe_text(label, 100)}",
            "isSubtle": True,
            "spacing": "None",
            "wrap": True,
        },
    ]
    if draft.corrects_update_id is not None:
        body.append(
            {
                "type": "TextBlock",
                "text": "This corrects your latest update (which is kept). Choose Change to correct an answer.",
                "wrap": True,
            }
        )
    body += [
        {"type": "FactSet", "facts": [{"title": title, "value": value} for title, value in facts]},
        {"type": "TextBlock", "text": "What has happened", "weight": "Bolder", "wrap": True},
        {"type": "TextBlock", "text": safe_text(draft.narrative, NARRATIVE_LIMIT), "wrap": True, "spacing": "Small"},
        {"type": "TextBlock", "text": "Evidence link", "weight": "Bolder", "wrap": True},
        # Shown as text, not a link: what the reader sees is exactly where it points.
        {
            "type": "TextBlock",
            "text": safe_text(draft.evidence_url, URL_LIMIT) if draft.evidence_url else "none",
            "wrap": True,
            "spacing": "Small",
        },
    ]
    if draft.status == Status.AWAITING_SIGN_OFF:
        body.append(
            {
                "type": "TextBlock",
                "text": "Saving this asks an admin to sign off the closure.",
                "isSubtle": True,
                "wrap": True,
            }
        )
    fallback = f"Check your update of {reference}: {status_phrase(draft.status)}"
    if not complete:
        fallback += f", {draft.assessment}"
    if not complete and draft.revised_due_on:
        fallback += f", revised due date {format_uk_date(draft.revised_due_on)} requested"
    fallback += ". Say confirm to save it, change to correct an answer, or cancel."
    card = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "fallbackText": fallback,
        "body": body,
        "actions": [
            {**command_action(CONFIRM, "confirm"), "style": "positive"},
            command_action(CHANGE, "change"),
            command_action(CANCEL, "cancel"),
        ],
    }
    return Reply(fallback, card)
