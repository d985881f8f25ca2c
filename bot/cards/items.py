"""Cards about items: one item's status, lists, search results and history."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, timezone

from bot.cards.common import (
    BUTTON_LABEL_LIMIT,
    ITEM_TEXT_LIMIT,
    NARRATIVE_LIMIT,
    NONE_WRITTEN,
    RAG_COLOURS,
    ROW_TEXT_LIMIT,
    TITLE_LIMIT,
    UNASSIGNED,
    Card,
    Reply,
    choice_card,
    command_action,
    execute_action,
    fact_set,
    item_heading,
    make_card,
    message,
    refreshed_for,
    reject_action,
    text_block,
    title_block,
    untitled_excerpt,
)
from domain.dates import format_uk_date
from domain.rag import rag_for_item, rag_reasons_for_item
from domain.text import NAME_LIMIT, clip, one_line, safe_text
from domain.vocabulary import EventKind, Status
from services.results import Rights
from storage.models import Item, ItemEvent, Report, Update
from storage.progress import TimelineEntry
from storage.rows import AnyItem, AnyUpdate

# Evidence links are shown as text, cut to this length.
URL_SHOWN = 300


def uk_date(day: date | None) -> str:
    return format_uk_date(day) if day is not None else NONE_WRITTEN


def utc_day(moment: datetime) -> date:
    return (moment if moment.tzinfo is None else moment.astimezone(timezone.utc)).date()


def _owner_name(item: AnyItem) -> str:
    return item.owner.display_name if item.owner is not None else UNASSIGNED


def _by(event: ItemEvent | Update, verb: str) -> str:
    """ "approved by Pat Admin on 3 December 2026"."""
    who = event.actor_name if isinstance(event, ItemEvent) else event.author_name
    return f"{verb} by {one_line(who, NAME_LIMIT)} on {format_uk_date(utc_day(event.created_at))}"


def _revised(item: AnyItem, revised_by: ItemEvent | None) -> str:
    if item.revised_due_on is None:
        return NONE_WRITTEN
    shown = format_uk_date(item.revised_due_on)
    if revised_by is None:
        return shown
    verb = "approved" if revised_by.kind == EventKind.DUE_DATE_APPROVED.value else "set"
    return f"{shown} ({_by(revised_by, verb)})"


# The commissioner's statement and the report summary run to a few thousand characters.
REPORT_TEXT_LIMIT = 6000


def report_text_card(report: Report, *, statement: bool) -> Reply:
    """The commissioner's statement on a report, or its summary, with whose recommendations they are."""
    what = "Commissioner's statement" if statement else "Report summary"
    said = report.commissioner_statement if statement else report.summary
    if not said:
        return message(f"The document imported for {report.code} has no {what.lower()}.")
    heading = f"{what} · {report.code}"
    facts = [("Report", one_line(report.title, TITLE_LIMIT)), ("Published", uk_date(report.published_on))]
    if report.scope:
        facts.append(("Recommendations", report.scope))
    if report.force_specific is not None:
        facts.append(("Force specific", "Yes" if report.force_specific else "No"))
    lines = [heading, *(f"{title}: {value}" for title, value in facts), "", clip(said, REPORT_TEXT_LIMIT)]
    body: list[Card] = [
        title_block(safe_text(heading, TITLE_LIMIT)),
        fact_set([(t, safe_text(v, TITLE_LIMIT)) for t, v in facts]),
    ]
    body += [
        text_block(safe_text(paragraph, REPORT_TEXT_LIMIT)) for paragraph in clip(said, REPORT_TEXT_LIMIT).split("\n\n")
    ]
    other = (
        ("Report summary", f"summary of {report.code}")
        if statement
        else ("Commissioner's statement", f"commissioner's statement on {report.code}")
    )
    actions = [command_action(*other), command_action("List its items", f"list {report.code}")]
    text = "\n".join(lines)
    return Reply(text=text, card=make_card(text, body, actions))


def response_label(item: AnyItem) -> str:
    """What the report's document calls the force's answers ("Constabulary response")."""
    return item.report.response_label or "Force response"


def response_card(item: Item, response: Update | None) -> Reply:
    """The force's own response to the item, whole, under the name the document gives it."""
    label = response_label(item)
    heading = f"{label} · {item_heading(item)}"
    if response is None:
        return message(f"The report's document gives no {label.lower()} to {item.label.lower()} ({item.reference}).")
    said = f"{one_line(item.report.title, TITLE_LIMIT)} ({item.report.code}), {format_uk_date(utc_day(response.created_at))}"
    text = "\n".join([heading, said, "", clip(response.narrative, NARRATIVE_LIMIT)])
    body: list[Card] = [
        title_block(safe_text(heading, TITLE_LIMIT)),
        text_block(safe_text(said, TITLE_LIMIT + 50), isSubtle=True, spacing="None"),
        text_block(safe_text(item.text, ITEM_TEXT_LIMIT), isSubtle=True),
        text_block(safe_text(response.narrative, NARRATIVE_LIMIT)),
    ]
    actions = [
        command_action("Status", f"status of {item.reference}"),
        command_action("History", f"history of {item.reference}"),
    ]
    return Reply(text=text, card=make_card(text, body, actions))


def _report_line(item: AnyItem) -> str:
    """What the item is, under its heading: "Recommendation 8 · Improving the response … (OIC-2025)"."""
    return f"{item.label} · {one_line(item.report.title, TITLE_LIMIT)} ({item.report.code})"


def decision_actions(item: AnyItem, *, closure: bool, view: dict[str, object]) -> list[Card]:
    """Approve and Reject (with a reason box) for a sign-off or a later due date, as Universal Actions."""
    what = "closure" if closure else "revised date"
    noun = "sign-off" if closure else "new date"
    return [
        execute_action(f"Approve {noun}", f"approve {what} of {item.reference}", view, style="positive"),
        reject_action(
            f"Reject {noun}…",
            f"reject {what} of {item.reference}",
            view,
            "e.g. the evidence does not show the training was delivered",
            reason_id=f"{'closure' if closure else 'date'}_reason",
        ),
    ]


def status_card(
    item: AnyItem,
    latest: AnyUpdate | None,
    *,
    today: date,
    requested: Update | None = None,
    revised_by: ItemEvent | None = None,
    closed_by: ItemEvent | None = None,
    acting: Sequence[str] = (),
    viewer: Rights | None = None,
    note: str | None = None,
) -> Reply:
    """Everything about one item: text, status, RAG, due dates, owner, the latest update and any date request.

    Posted, it shows what anyone may do (History); `acting` (owner, delegates, admins) see it
    refreshed into their own `viewer` view: Post update, and for admins Approve / Reject.
    """
    rag = rag_for_item(item, today)
    # Why it is Red or Amber, or the days left: "RAG: Amber · Due in 12 days · no update for 64 days".
    reasons = rag_reasons_for_item(item, today)
    rag_line = " · ".join([f"RAG: {rag}", *(reason[:1].upper() + reason[1:] for reason in reasons[:1]), *reasons[1:]])
    facts = [
        ("Status", item.status),
        ("HMICFRS due date", uk_date(item.due_on)),
        ("Revised due date", _revised(item, revised_by)),
        ("Owner", one_line(_owner_name(item), NAME_LIMIT)),
    ]
    if closed_by is not None:
        label = "Closed" if closed_by.kind == EventKind.CLOSURE_APPROVED.value else "Superseded"
        when = format_uk_date(utc_day(closed_by.created_at))
        facts.append((label, f"{when} by {one_line(closed_by.actor_name, NAME_LIMIT)}"))
    if requested is not None and item.requested_due_on is not None:
        facts.append(("Later date asked for", f"{format_uk_date(item.requested_due_on)} ({_by(requested, 'asked')})"))
    heading = item_heading(item)
    report_line = _report_line(item)
    history_command = f"history of {item.reference}"
    update_command = f"update {item.reference}"

    lines = ([note, ""] if note else []) + [heading, report_line, rag_line, "", clip(item.text, ITEM_TEXT_LIMIT), ""]
    lines += [f"{title}: {value}" for title, value in facts]
    body: list[Card] = [text_block(safe_text(note, TITLE_LIMIT), weight="Bolder", color="accent")] if note else []
    body += [
        title_block(safe_text(heading, TITLE_LIMIT)),
        text_block(safe_text(report_line, TITLE_LIMIT + 50), isSubtle=True, spacing="None"),
        text_block(rag_line, weight="Bolder", color=RAG_COLOURS[rag]),
        text_block(safe_text(item.text, ITEM_TEXT_LIMIT)),
        fact_set([(title, safe_text(value, NAME_LIMIT + 80)) for title, value in facts]),
    ]
    if requested is not None and requested.revised_due_reason:
        reason = f"Why a later date: {requested.revised_due_reason}"
        lines.append(clip(reason, NARRATIVE_LIMIT))
        body.append(text_block(safe_text(reason, NARRATIVE_LIMIT), spacing="Small"))

    if latest is None:
        lines += ["", "Latest update: none yet"]
        body.append(text_block("No updates yet.", isSubtle=True, separator=True, spacing="Medium"))
    else:
        byline = f"{one_line(latest.author_name, NAME_LIMIT)}, {format_uk_date(utc_day(latest.created_at))}"
        byline += f" · {latest.status}" if latest.status else ""
        byline += f" · Assessment: {latest.assessment}" if latest.assessment else ""
        narrative = latest.narrative or "(no narrative)"
        lines += ["", f"Latest update ({byline}):", clip(narrative, NARRATIVE_LIMIT)]
        body += [
            text_block("Latest update", weight="Bolder", separator=True, spacing="Medium"),
            text_block(safe_text(byline, TITLE_LIMIT), isSubtle=True, size="Small", spacing="None"),
            text_block(safe_text(narrative, NARRATIVE_LIMIT), spacing="Small"),
        ]
        if latest.evidence_url:
            evidence = f"Evidence: {one_line(latest.evidence_url, URL_SHOWN)}"
            lines.append(evidence)
            body.append(text_block(safe_text(evidence, URL_SHOWN + 20), spacing="Small"))

    view: dict[str, object] = {"item": item.id}
    if viewer is not None and viewer.decide:
        # Each decision beside what it decides, so the card's own row keeps to two buttons.
        asks = [(True, "Sign-off requested")] if item.status == Status.AWAITING_SIGN_OFF.value else []
        asks += [(False, "Later due date requested")] if requested is not None else []
        for closure, title in asks:
            body += [
                text_block(f"{title}: your decision", weight="Bolder", separator=True, spacing="Medium"),
                {"type": "ActionSet", "actions": decision_actions(item, closure=closure, view=view)},
            ]
    # The force's response is always reachable, however many updates came after it.
    actions = [
        command_action("History", history_command),
        command_action(response_label(item), f"response to {item.reference}"),
    ]
    if viewer is not None and viewer.update:
        actions.append(command_action("Post update", update_command))
    if Status(item.status).is_open:
        lines += ["", f'Say "{history_command}" or "{update_command}".']
    else:
        lines += ["", f'Say "{history_command}".']
    text = "\n".join(lines)
    return Reply(text=text, card=refreshed_for(make_card(text, body, actions), view, acting))


def item_list_card(title: str, items: Sequence[Item], *, today: date, more: int = 0, empty_text: str) -> Reply:
    """Compact rows of items, each tappable for its status; `more` counts the items left out."""
    if not items:
        return message(empty_text)
    lines = [one_line(title, TITLE_LIMIT)]
    body: list[Card] = [title_block(safe_text(title, TITLE_LIMIT))]
    for item in items:
        rag = rag_for_item(item, today)
        due_on = item.current_due_on
        due = f"due {format_uk_date(due_on)}" if due_on else "no due date"
        details = f"{item.status} · {due} · {one_line(_owner_name(item), NAME_LIMIT)}"
        summary = untitled_excerpt(item, ROW_TEXT_LIMIT)
        lines += [f"- {item.titled_reference} · {rag} · {details}"]
        lines += [f"  {summary}"] if summary else []
        body.append(
            {
                "type": "Container",
                "separator": True,
                "spacing": "Small",
                "selectAction": command_action(f"Status of {item.reference}", f"status of {item.reference}"),
                "items": [
                    {
                        "type": "ColumnSet",
                        "columns": [
                            {
                                "type": "Column",
                                "width": "stretch",
                                "items": [
                                    text_block(
                                        safe_text(item.titled_reference, TITLE_LIMIT), weight="Bolder", color="accent"
                                    )
                                ],
                            },
                            {
                                "type": "Column",
                                "width": "auto",
                                "items": [text_block(str(rag), weight="Bolder", color=RAG_COLOURS[rag])],
                            },
                        ],
                    },
                    *([text_block(safe_text(summary, ROW_TEXT_LIMIT), spacing="None", maxLines=2)] if summary else []),
                    text_block(safe_text(details, TITLE_LIMIT), isSubtle=True, size="Small", spacing="None"),
                ],
            }
        )
    if more > 0:
        lines.append(f"and {more} more")
        body.append(text_block(f"and {more} more", isSubtle=True, separator=True))
    text = "\n".join(lines)
    return Reply(text=text, card=make_card(text, body))


def search_results_card(query: str, items: Sequence[Item]) -> Reply:
    """The items a free-text search matched, one button each, for the user to pick."""
    shown_query = one_line(query, 80)
    if not items:
        return message(f'I found nothing matching \'{shown_query}\'. Try a reference such as "R8", or "help".')
    prompt = f"I found several matches for '{shown_query}'. Which one do you mean?"
    options = [
        (
            f"{item.reference}: {one_line(item.title or item.text, BUTTON_LABEL_LIMIT - len(item.reference) - 2)}",
            f"status of {item.reference}",
        )
        for item in items
    ]
    return choice_card(prompt, options)


# (command, example) per audience; the examples are the canonical forms from PRODUCT.md.
HISTORY_LIMIT = 30
HISTORY_DETAIL_LIMIT = 200
# Teams refuses messages over about 28 KB; the card carries its text twice (body and fallback).
HISTORY_CARD_BYTES = 24_000


def _history_lines(entry: TimelineEntry) -> tuple[str, str, list[str]]:
    """(headline, byline, detail lines) of one timeline entry, as plain text."""
    headline = entry.what
    if entry.kind == EventKind.DUE_DATE_CHANGED.value and entry.due_on is not None:
        headline = f"{headline} to {format_uk_date(entry.due_on)}"
    if entry.superseded:
        headline = f"{headline} (superseded by a correction)"
    byline = f"{one_line(entry.who, NAME_LIMIT)}, {format_uk_date(utc_day(entry.at))}"
    details: list[str] = []
    if entry.detail:
        # An update's detail is its narrative, a title change's the old and new title; a decision's
        # is the reason given for it.
        if entry.kind == "response":
            # The force's response stays whole: it is what every later update is measured against.
            details.append(clip(entry.detail, NARRATIVE_LIMIT))
        else:
            plain = entry.kind in ("update", "correction", EventKind.TITLE_CHANGED.value)
            details.append(clip(entry.detail if plain else f"Reason: {entry.detail}", HISTORY_DETAIL_LIMIT))
    if entry.kind in ("update", "correction") and entry.due_on is not None:
        request = f"Asked for a revised due date of {format_uk_date(entry.due_on)}"
        details.append(f"{request}: {one_line(entry.reason, HISTORY_DETAIL_LIMIT)}" if entry.reason else request)
    if entry.evidence_url:
        details.append(f"Evidence: {one_line(entry.evidence_url, 150)}")
    return headline, byline, details


def history_card(item: Item, entries: Sequence[TimelineEntry], *, today: date, limit: int = HISTORY_LIMIT) -> Reply:
    """The item's timeline, oldest first, limited to the newest entries with "and N earlier"."""
    reply = _history_card(item, entries, today=today, limit=limit)
    # Long narratives can make even 30 entries too big to send: show fewer rather than fail.
    while limit > 5 and len(json.dumps(reply.card).encode()) > HISTORY_CARD_BYTES:
        limit -= 5
        reply = _history_card(item, entries, today=today, limit=limit)
    return reply


def _history_card(item: Item, entries: Sequence[TimelineEntry], *, today: date, limit: int) -> Reply:
    heading = f"History · {item_heading(item)}"
    shown = list(entries[-limit:]) if limit > 0 else []
    earlier = len(entries) - len(shown)
    rag = rag_for_item(item, today)
    lines = [heading, f"Status now: {item.status} · RAG: {rag}"]
    body: list[Card] = [
        title_block(safe_text(heading, TITLE_LIMIT)),
        text_block(safe_text(_report_line(item), TITLE_LIMIT + 50), isSubtle=True, spacing="None"),
        text_block(safe_text(lines[1], TITLE_LIMIT), weight="Bolder", color=RAG_COLOURS[rag], spacing="Small"),
    ]
    if not entries:
        lines.append("Nothing has happened yet.")
        body.append(text_block("Nothing has happened yet.", isSubtle=True, separator=True))
    if earlier:
        note = f"and {earlier} earlier {'entry' if earlier == 1 else 'entries'}"
        lines.append(f"({note} not shown)")
        body.append(text_block(f"{note[:1].upper()}{note[1:]} not shown", isSubtle=True, size="Small", separator=True))
    for entry in shown:
        headline, byline, details = _history_lines(entry)
        lines += ["", f"{format_uk_date(utc_day(entry.at))} · {one_line(entry.who, NAME_LIMIT)}: {headline}"]
        lines += [f"  {line}" for detail in details for line in detail.split("\n")]
        items: list[Card] = [
            text_block(safe_text(headline, TITLE_LIMIT), weight="Bolder", isSubtle=entry.superseded),
            text_block(safe_text(byline, TITLE_LIMIT), isSubtle=True, size="Small", spacing="None"),
        ]
        items += [
            text_block(safe_text(detail, HISTORY_DETAIL_LIMIT + 250), spacing="Small", isSubtle=entry.superseded)
            for detail in details
        ]
        body.append({"type": "Container", "separator": True, "spacing": "Medium", "items": items})
    text = "\n".join(lines)
    return Reply(text=text, card=make_card(text, body, [command_action("Status", f"status of {item.reference}")]))
