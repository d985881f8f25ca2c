"""Cards about requests waiting for an admin: one request (sign-off or a later due date) and the queue."""

from __future__ import annotations

from bot.cards.common import (
    NARRATIVE_LIMIT,
    ROW_TEXT_LIMIT,
    TITLE_LIMIT,
    Card,
    Reply,
    command_action,
    fact_set,
    make_card,
    refreshed_for,
    text_block,
    title_block,
    untitled_excerpt,
)
from bot.cards.items import URL_SHOWN, decision_actions, uk_date, utc_day
from domain.dates import format_uk_date
from domain.text import NAME_LIMIT, clip, one_line, safe_text
from domain.vocabulary import EventKind
from services.results import Request, Requests

_APPROVED = (EventKind.CLOSURE_APPROVED.value, EventKind.DUE_DATE_APPROVED.value)


def _what(request: Request) -> str:
    if request.closure:
        return "Sign-off requested"
    return f"Later due date requested: {uk_date(request.update.revised_due_on)}"


def _outcome(request: Request) -> str | None:
    """ "Approved by Pat Admin on 3 December 2026: …", or why it is no longer waiting; None while it waits."""
    decision = request.decision
    if decision is not None:
        if decision.kind in _APPROVED:
            verb = "Approved"
        elif decision.kind == EventKind.DUE_DATE_CHANGED.value:
            verb = f"Settled: due date set to {uk_date(decision.due_on)}"
        elif decision.kind == EventKind.SUPERSEDED.value:
            verb = "Settled: the item was marked superseded"
        else:
            verb = "Not approved"
        when = format_uk_date(utc_day(decision.created_at))
        reason = f". Reason: {decision.detail}" if decision.detail and verb == "Not approved" else ""
        return f"{verb} by {one_line(decision.actor_name, NAME_LIMIT)} on {when}{reason}"
    if request.withdrawn:
        return "No longer waiting: a later update changed the request."
    return None


def request_card(request: Request) -> Reply:
    """One request with the lead's narrative and evidence; Approve / Reject for an admin while it waits."""
    item, asking = request.item, request.update
    heading = f"{_what(request)} · {item.titled_reference}"
    asked = f"{one_line(asking.author_name, NAME_LIMIT)} on {format_uk_date(utc_day(asking.created_at))}"
    facts = [
        ("Item", f"{item.label} ({item.report.code})"),
        ("Asked by", asked),
        ("Status", item.status),
        ("HMICFRS due date", uk_date(item.due_on)),
    ]
    if not request.closure:
        facts.append(("Date asked for", uk_date(asking.revised_due_on)))
    outcome = _outcome(request)
    lines = ([request.note, ""] if request.note else []) + [heading, clip(item.text, ROW_TEXT_LIMIT * 2), ""]
    lines += [f"{title}: {value}" for title, value in facts]
    body: list[Card] = (
        [text_block(safe_text(request.note, TITLE_LIMIT), weight="Bolder", color="accent")] if request.note else []
    )
    body += [
        title_block(safe_text(heading, TITLE_LIMIT)),
        text_block(
            safe_text(one_line(item.text, ROW_TEXT_LIMIT * 2), ROW_TEXT_LIMIT * 2), isSubtle=True, spacing="None"
        ),
        fact_set([(title, safe_text(value, NAME_LIMIT + 40)) for title, value in facts]),
    ]
    said = [("Why a later date", asking.revised_due_reason)] if not request.closure else []
    said += [("Update", asking.narrative or "(no narrative)")]
    for title, value in said:
        if value:
            lines += ["", f"{title}: {clip(value, NARRATIVE_LIMIT)}"]
            body += [
                text_block(title, weight="Bolder", spacing="Medium"),
                text_block(safe_text(value, NARRATIVE_LIMIT), spacing="None"),
            ]
    if asking.evidence_url:
        evidence = f"Evidence: {one_line(asking.evidence_url, URL_SHOWN)}"
        lines.append(evidence)
        body.append(text_block(safe_text(evidence, URL_SHOWN + 20)))
    if outcome is not None:
        lines += ["", outcome]
        body.append(text_block(safe_text(outcome, TITLE_LIMIT), weight="Bolder", separator=True, spacing="Medium"))
    view: dict[str, object] = {"request": asking.id, "closure": request.closure}
    actions = []
    if outcome is None and request.viewer is not None and request.viewer.decide:
        actions += decision_actions(item, closure=request.closure, view=view)
        what = "closure" if request.closure else "revised date"
        lines += ["", f'Say "approve {what} of {item.reference}" or "reject {what} of {item.reference} because …".']
    actions += [
        command_action("Status", f"status of {item.reference}"),
        command_action("History", f"history of {item.reference}"),
    ]
    text = "\n".join(lines)
    return Reply(text=text, card=refreshed_for(make_card(text, body, actions), view, request.acting))


def requests_card(result: Requests) -> Reply:
    """The queue: one row per request, oldest first; each opens its item's status."""
    if not result.requests:
        return Reply(text=result.empty_text)
    lines = [result.title]
    body: list[Card] = [title_block(safe_text(result.title, TITLE_LIMIT))]
    for request in result.requests:
        row = _row(request)
        lines.append(f"- {row}")
        body.append(
            {
                "type": "Container",
                "separator": True,
                "selectAction": command_action(
                    f"Status of {request.item.reference}", f"status of {request.item.reference}"
                ),
                "items": [text_block(safe_text(row, TITLE_LIMIT))],
            }
        )
    if result.more:
        more = f"… and {result.more} more."
        lines.append(more)
        body.append(text_block(more, isSubtle=True))
    text = "\n".join(lines)
    return Reply(text=text, card=make_card(text, body))


def _row(request: Request) -> str:
    asked = f"{one_line(request.update.author_name, NAME_LIMIT)}, {format_uk_date(utc_day(request.update.created_at))}"
    excerpt = untitled_excerpt(request.item, ROW_TEXT_LIMIT)
    return f"{request.item.titled_reference} · {_what(request)} · asked by {asked}" + (
        f" · {excerpt}" if excerpt else ""
    )
