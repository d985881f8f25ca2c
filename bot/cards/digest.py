"""The cards of weekly digests and owner nudges, composed from `services.delivery`'s data."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from bot.cards.common import RAG_COLOURS, SCHEMA, UNASSIGNED, VERSION, Card, Reply, command_action, one_line, safe_text
from domain.dates import describe_overdue, format_uk_date
from domain.rag import Rag
from domain.titles import with_reference
from domain.vocabulary import Status
from services.delivery import DigestData, DigestItem, NudgeItem, ReportDigest, Section

SIZE_BUDGET = 24_000  # bytes of the serialised activity: text + card JSON (ASCII-escaped)
# Items shown per section, tried in order until the digest fits; 0 = one summary line per report.
SECTION_LIMITS = (8, 5, 3, 2, 1, 0)
NUDGE_ITEM_LIMITS = (25, 15, 10, 6, 4, 2, 1)

REFERENCE_LIMIT = 60
HEADING_LIMIT = 120  # a reference and a title
REPORT_TITLE_LIMIT = 90
SUMMARY_TITLE_LIMIT = 40
SHORT_TEXT_LIMIT = 80
PERSON_LIMIT = 60
CHANGE_LIMIT = 120

NOTHING_TO_REPORT = (
    "Nothing to report this week: no changes, nothing overdue, due soon, stale, unassigned or waiting for a decision."
)
NOTHING_IN_REPORT = "No changes; nothing overdue, due soon, stale, unassigned or waiting for a decision."

_RAG_ORDER = (Rag.RED, Rag.AMBER, Rag.GREEN, Rag.BLUE)
_STATUS_ORDER = tuple(status.value for status in Status)


def activity_size(reply: Reply) -> int:
    """Bytes of the message activity a reply becomes (text plus card), as the connector sends it."""
    activity: dict[str, Any] = {"type": "message", "text": reply.text}
    if reply.card is not None:
        activity["attachments"] = [{"contentType": "application/vnd.microsoft.card.adaptive", "content": reply.card}]
    # ensure_ascii (json's default, and msrest's) is the larger form: "→" costs six bytes, not three.
    return len(json.dumps(activity, separators=(",", ":")))


def _card(text: str, body: list[Card], actions: Sequence[Card] = ()) -> Card:
    card: Card = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "fallbackText": text, "body": body}
    if actions:
        card["actions"] = list(actions)
    return card


def _text_block(text: str, **style: Any) -> Card:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def compose_digest(data: DigestData) -> Reply:
    """The weekly digest: per report, RAG and status counts, changes and the lists that need attention.

    Dates are read in `generated_at`'s own zone (pass it in RECBOT_TIMEZONE). A digest with
    nothing to say is one line. Lists are cut ("and N more") at the most detailed level that keeps
    the activity within SIZE_BUDGET; if even one summary line per report is too much, the last
    reports are left out with "and N more reports".
    """
    if not any(_has_news(report) for report in data.reports):
        return Reply(text=NOTHING_TO_REPORT, card=_card(NOTHING_TO_REPORT, [_text_block(NOTHING_TO_REPORT)]))
    reports = list(data.reports)
    lists = _Lists({id(report): _parts(report, data, SECTION_LIMITS[0]) for report in reports})
    for limit in SECTION_LIMITS:
        reply = _digest_reply(data, reports, lists, limit, hidden_reports=0)
        if activity_size(reply) <= SIZE_BUDGET:
            return reply
    # Summaries only, and still too big: keep as many whole reports as fit.
    shown = len(reports)
    while shown > 1:
        shown = max(1, shown * 3 // 4)
        reply = _digest_reply(data, reports[:shown], lists, 0, hidden_reports=len(reports) - shown)
        if activity_size(reply) <= SIZE_BUDGET:
            return reply
    return reply


def compose_nudge(person_name: str, items: Sequence[NudgeItem]) -> Reply:
    """One reminder for one owner: every item that needs them, its reasons and a "Post update" button."""
    if not items:
        text = "No reminders today."
        return Reply(text=text, card=_card(text, [_text_block(text)]))
    reply = _nudge_reply(person_name, items, len(items))
    for limit in NUDGE_ITEM_LIMITS:
        if activity_size(reply) <= SIZE_BUDGET:
            break
        if limit < len(items):
            reply = _nudge_reply(person_name, items, limit)
    return reply


# --- digest pieces -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    """One row of a list: the same words for the text and the card, and the item it opens."""

    reference: str
    detail: str  # our words, with user text (names, descriptions) inside
    short_text: str | None  # the start of an untitled item's text
    title: str | None = None

    @property
    def heading(self) -> str:
        return one_line(with_reference(self.reference, self.title), HEADING_LIMIT)


@dataclass(frozen=True)
class _Part:
    """A report's list: its title, the rows shown, and how many were left out."""

    title: str
    summary: str  # the list in a few words, for a one-line report summary: "3 overdue"
    rows: tuple[_Line, ...]
    total: int


@dataclass
class _Lists:
    """Each report's lists, worked out once at the most detail: each level of detail tried shows a
    prefix of them, so the words and cards of a row are made once, not once per level."""

    parts_of: dict[int, list[_Part]]  # by id() of the ReportDigest
    rows: dict[_Line, tuple[list[str], Card]] = field(default_factory=dict)

    def parts(self, report: ReportDigest, limit: int) -> list[_Part]:
        return [replace(part, rows=part.rows[:limit]) for part in self.parts_of[id(report)]]

    def row(self, line: _Line) -> tuple[list[str], Card]:
        """The row's lines of text and its card."""
        made = self.rows.get(line)
        if made is None:
            text = [f"- {line.heading} · {line.detail}"]
            if line.short_text:
                text.append(f"  {line.short_text}")
            made = self.rows[line] = (text, _row(line))
        return made


def _has_news(report: ReportDigest) -> bool:
    return bool(
        report.changes or report.changes_total or any(section.total or section.items for section in _sections(report))
    )


def _sections(report: ReportDigest) -> tuple[Section, ...]:
    return (report.overdue, report.due_soon, report.stale, report.waiting_for_decision, report.unassigned)


def _today(data: DigestData) -> date:
    return data.generated_at.date()


def _local_day(moment: datetime, data: DigestData) -> date:
    if moment.tzinfo is not None and data.generated_at.tzinfo is not None:
        moment = moment.astimezone(data.generated_at.tzinfo)
    return moment.date()


def _owner(item: DigestItem) -> str:
    return one_line(item.owner_name or UNASSIGNED, PERSON_LIMIT)


def _parts(report: ReportDigest, data: DigestData, limit: int) -> list[_Part]:
    """The lists of one report, each cut to `limit` rows (only the lists that have something)."""
    today = _today(data)
    since = f"since {format_uk_date(_local_day(data.since, data))}" if data.since else "recently"
    parts: list[_Part] = []

    changes_total = max(report.changes_total, len(report.changes))
    if changes_total:
        rows = tuple(
            _Line(
                change.reference,
                f"{one_line(change.description, CHANGE_LIMIT)} ({_day_month(_local_day(change.at, data))})",
                None,
                change.title,
            )
            for change in report.changes[:limit]
        )
        parts.append(_Part(f"What changed {since}", _count(changes_total, "change"), rows, changes_total))

    def items_part(title: str, summary: str, section: Section, detail: Callable[[DigestItem], str]) -> None:
        total = max(section.total, len(section.items))
        if total:
            rows = tuple(
                _Line(item.reference, detail(item), _untitled_text(item), item.title) for item in section.items[:limit]
            )
            parts.append(_Part(title, f"{total} {summary}", rows, total))

    def overdue(item: DigestItem) -> str:
        due = f"overdue by {describe_overdue(item.due_on, today)}" if item.due_on else "overdue"
        return f"{due} · {_owner(item)}"

    def due_soon(item: DigestItem) -> str:
        due = f"due {format_uk_date(item.due_on)}" if item.due_on else "due soon"
        return f"{due} · {item.status} · {_owner(item)}"

    def stale(item: DigestItem) -> str:
        quiet = (
            f"no update for {_count((today - item.last_update_on).days, 'day')}"
            if item.last_update_on
            else "no update yet"
        )
        return f"{quiet} · {_owner(item)}"

    def waiting(item: DigestItem) -> str:
        asks = ["sign-off"] if item.status == Status.AWAITING_SIGN_OFF.value else []
        if item.requested_due_on is not None:
            asks.append(f"later date {format_uk_date(item.requested_due_on)}")
        due = f"due {format_uk_date(item.due_on)}" if item.due_on else "no due date"
        return f"{' and '.join(asks)} · {due} · {_owner(item)}"

    def unassigned(item: DigestItem) -> str:
        due = f"due {format_uk_date(item.due_on)}" if item.due_on else "no due date"
        return f"{due} · {item.status}"

    items_part("Overdue", "overdue", report.overdue, overdue)
    items_part("Due in the next 30 days", "due soon", report.due_soon, due_soon)
    items_part(f"No update for {data.stale_days} days or more", "stale", report.stale, stale)
    items_part("Waiting for a decision", "waiting for a decision", report.waiting_for_decision, waiting)
    items_part("Unassigned", "unassigned", report.unassigned, unassigned)
    return parts


def _summary(parts: Sequence[_Part]) -> str:
    """A report's lists as one line: "3 changes, 2 overdue, 1 due soon"."""
    return ", ".join(part.summary for part in parts)


def _counts_line(counts: dict[str, int], order: Sequence[str]) -> str:
    known = [f"{name} {counts[name]}" for name in order if counts.get(name)]
    others = [f"{one_line(name, 30)} {count}" for name, count in sorted(counts.items()) if name not in order and count]
    return ", ".join(known + others)


def _rag_block(counts: dict[str, int]) -> Card:
    """RAG counts, each in its colour, on one line."""
    shown = [rag for rag in _RAG_ORDER if counts.get(rag.value)]
    # The separator rides in the run before it: a run of its own would cost bytes on every report.
    inlines: list[Card] = [
        {
            "type": "TextRun",
            "text": f"{rag.value} {counts[rag.value]}" + (", " if rag != shown[-1] else ""),
            "weight": "Bolder",
            "color": RAG_COLOURS[rag],
        }
        for rag in shown
    ]
    if not inlines:
        inlines.append({"type": "TextRun", "text": "No items", "isSubtle": True})
    return {"type": "RichTextBlock", "inlines": inlines}


def _row(line: _Line) -> Card:
    """One item: tapping it asks for its status."""
    items: list[Card] = [
        _text_block(f"**{safe_text(line.heading, HEADING_LIMIT)}** · {safe_text(line.detail, CHANGE_LIMIT + 80)}")
    ]
    if line.short_text:
        items.append(
            _text_block(safe_text(line.short_text, SHORT_TEXT_LIMIT), isSubtle=True, size="Small", spacing="None")
        )
    return {
        "type": "Container",
        "spacing": "Small",
        "selectAction": command_action(f"Status of {line.heading}", f"status of {line.reference}"),
        "items": items,
    }


def _digest_reply(
    data: DigestData, reports: Sequence[ReportDigest], lists: _Lists, limit: int, *, hidden_reports: int
) -> Reply:
    audience = one_line(data.audience, PERSON_LIMIT)
    heading = f"Weekly digest for {audience}"
    dated = f"{format_uk_date(_today(data))} · " + (
        f"changes since {format_uk_date(_local_day(data.since, data))}" if data.since else "first digest"
    )
    lines = [heading, dated]
    body: list[Card] = [
        _text_block(safe_text(heading, PERSON_LIMIT + 40), weight="Bolder", size="Medium"),
        _text_block(dated, isSubtle=True, spacing="None"),
    ]
    for report in reports:
        report_lines, block = _report_block(report, lists, limit)
        lines += ["", *report_lines]
        body.append(block)
    if hidden_reports:
        more = f'and {_count(hidden_reports, "more report")} (say "list CODE" for one report)'
        lines += ["", more]
        body.append(_text_block(more, isSubtle=True, separator=True))
    text = "\n".join(lines)
    return Reply(text=text, card=_card(text, body))


def _report_block(report: ReportDigest, lists: _Lists, limit: int) -> tuple[list[str], Card]:
    """One report's lines of text and its container; `limit` 0 = the smallest summary that says it all."""
    code = one_line(report.code, REFERENCE_LIMIT)
    title = f"{code} · {one_line(report.title, REPORT_TITLE_LIMIT if limit else SUMMARY_TITLE_LIMIT)}"
    rag_counts = _counts_line(report.counts_by_rag, [rag.value for rag in _RAG_ORDER]) or "no items"
    status_counts = _counts_line(report.counts_by_status, _STATUS_ORDER)
    parts = lists.parts(report, limit)
    lines = [title, f"RAG: {rag_counts}"]
    rag_block = _rag_block(report.counts_by_rag)
    body: list[Card] = [
        _text_block(safe_text(title, REFERENCE_LIMIT + REPORT_TITLE_LIMIT), weight="Bolder", color="accent"),
        rag_block,
    ]
    container: Card = {"type": "Container", "separator": True, "items": body}

    if limit == 0:
        # Twenty reports must fit in one message: no status counts, no extra spacing, and the whole
        # report opens its list.
        if parts:
            summary = _summary(parts)
            lines.append(summary)
            body.append(_text_block(summary))
            container["selectAction"] = command_action(f"List {code}", f"list {report.code}")
        else:
            lines.append(NOTHING_IN_REPORT)
            body.append(_text_block(NOTHING_IN_REPORT))
        return lines, container

    container["spacing"] = "Medium"
    rag_block["spacing"] = "Small"
    if status_counts:
        lines.append(f"Status: {status_counts}")
        body.append(_text_block(safe_text(status_counts, 300), isSubtle=True, size="Small", spacing="None"))
    if not parts:
        lines.append(NOTHING_IN_REPORT)
        body.append(_text_block(NOTHING_IN_REPORT, spacing="Small"))
    for part in parts:
        lines.append(f"{part.title} ({part.total}):")
        body.append(_text_block(f"{part.title} ({part.total})", weight="Bolder", size="Small", spacing="Medium"))
        for row in part.rows:
            row_lines, card = lists.row(row)
            lines += row_lines
            body.append(card)
        if part.total > len(part.rows):
            more = f"and {part.total - len(part.rows)} more"
            lines.append(f"  {more}")
            body.append(_text_block(more, isSubtle=True, size="Small", spacing="Small"))
    return lines, container


# --- nudge pieces --------------------------------------------------------------------------------


def _nudge_reply(person_name: str, items: Sequence[NudgeItem], shown: int) -> Reply:
    name = one_line(person_name, PERSON_LIMIT)
    count = _count(len(items), "item")
    intro = f"Hello {name}, {count} of yours {'needs' if len(items) == 1 else 'need'} your attention."
    lines = [intro]
    body: list[Card] = [_text_block(safe_text(intro, PERSON_LIMIT + 60), weight="Bolder", size="Medium")]
    for nudge in items[:shown]:
        item = nudge.item
        reference = one_line(item.reference, REFERENCE_LIMIT)
        named = one_line(item.title or item.label, HEADING_LIMIT)
        reasons = "; ".join(nudge.reasons) or "please check it"
        reasons = reasons[0].upper() + reasons[1:]
        short_text = _untitled_text(item)
        update_command = f"update {item.reference}"
        colour = "attention" if any(reason.startswith("overdue") for reason in nudge.reasons) else "warning"
        lines += [
            "",
            f"{reference} · {named}: {reasons}.",
            *([f"  {short_text}"] if short_text else []),
            f'  Say "{update_command}" to post an update.',
        ]
        body.append(
            {
                "type": "Container",
                "separator": True,
                "spacing": "Medium",
                "items": [
                    _text_block(
                        f"**{safe_text(reference, REFERENCE_LIMIT)}** · {safe_text(named, HEADING_LIMIT)}",
                        spacing="None",
                    ),
                    _text_block(safe_text(reasons, 300), color=colour, weight="Bolder", spacing="Small"),
                    *(
                        [
                            _text_block(
                                safe_text(short_text, SHORT_TEXT_LIMIT), isSubtle=True, size="Small", spacing="None"
                            )
                        ]
                        if short_text
                        else []
                    ),
                    {
                        "type": "ActionSet",
                        "spacing": "Small",
                        "actions": [
                            command_action("Post update", update_command),
                            command_action("Status", f"status of {item.reference}"),
                        ],
                    },
                ],
            }
        )
    if shown < len(items):
        more = f'and {len(items) - shown} more: say "my recommendations" to see them all'
        lines += ["", more]
        body.append(_text_block(more, isSubtle=True, separator=True))
    footer = 'Say "snooze reminders for 2 weeks" or "stop reminders" to change these reminders.'
    lines += ["", footer]
    body.append(_text_block(footer, isSubtle=True, size="Small", separator=True))
    actions = [
        command_action("Snooze 2 weeks", "snooze reminders for 2 weeks"),
        command_action("Stop reminders", "stop reminders"),
    ]
    text = "\n".join(lines)
    return Reply(text=text, card=_card(text, body, actions))


def _untitled_text(item: DigestItem) -> str | None:
    """The start of an untitled item's text, which has to tell it apart; None when it has a title."""
    return None if item.title else one_line(item.short_text, SHORT_TEXT_LIMIT)


def _day_month(day: date) -> str:
    """A day in the past week, without its year: "25 November"."""
    return f"{day.day} {day:%B}"


def _count(number: int, unit: str) -> str:
    return f"{number} {unit}" if number == 1 else f"{number} {unit}s"
