"""The cards of an import by upload: the preview with Import / Cancel, and what replaces it afterwards.

The buttons are Universal Actions (`Action.Execute`, bot/uploads.py answers them); their data is
only the token naming the parsed reports the server keeps, so nothing on the card is trusted.
"""

from __future__ import annotations

from bot.cards.common import (
    TITLE_LIMIT,
    Card,
    Reply,
    command_action,
    fact_set,
    make_card,
    message,
    text_block,
    title_block,
)
from domain.dates import format_uk_date
from domain.text import one_line, safe_text
from domain.vocabulary import Kind
from services.importing import ImportClosed, ImportDone, ImportPreview, ReportPreview
from services.results import Said

IMPORT_VERB = "importUpload"
CANCEL_VERB = "cancelUpload"
# A Teams message holds about 28 KB: a tracker naming hundreds of reports shows the first few.
REPORTS_SHOWN = 10
_KIND_WORDS = {
    Kind.RECOMMENDATION: ("recommendation", "recommendations"),
    Kind.AREA_FOR_IMPROVEMENT: ("area for improvement", "areas for improvement"),
    Kind.CAUSE_OF_CONCERN: ("cause of concern", "causes of concern"),
}


def _counted(count: int, kind: Kind) -> str:
    singular, plural = _KIND_WORDS[kind]
    return f"{count} {singular if count == 1 else plural}"


def kinds_text(report: ReportPreview) -> str:
    """ "4 recommendations, 0 areas for improvement" (causes of concern only when there are some)."""
    return ", ".join(
        _counted(count, kind) for kind, count in report.counts if count or kind is not Kind.CAUSE_OF_CONCERN
    )


def deadlines_text(report: ReportPreview) -> str:
    if report.first_due is None or report.last_due is None:
        return "none given"
    if report.first_due == report.last_due:
        text = format_uk_date(report.first_due)
    else:
        text = f"{format_uk_date(report.first_due)} to {format_uk_date(report.last_due)}"
    return text + (f" ({report.undated} with no date)" if report.undated else "")


def news_text(report: ReportPreview) -> str:
    if not report.new_items:
        return "nothing new: all already imported"
    new = f"{report.new_items} new item" + ("" if report.new_items == 1 else "s")
    if not report.known_items:
        return new + ("" if report.known_report else ", in a new report")
    return f"{new}; {report.known_items} already imported (left as they are)"


def _report_plain(report: ReportPreview) -> str:
    title = one_line(report.title, TITLE_LIMIT)
    return f"{report.code} · {title}: {kinds_text(report)}; deadlines {deadlines_text(report)}; {news_text(report)}"


def _report_section(report: ReportPreview) -> Card:
    facts = [("Items", kinds_text(report)), ("Deadlines", deadlines_text(report)), ("On import", news_text(report))]
    if report.published_on is not None:
        facts.insert(0, ("Published", format_uk_date(report.published_on)))
    heading = f"**{safe_text(report.code, 40)}** · {safe_text(one_line(report.title, TITLE_LIMIT), TITLE_LIMIT)}"
    return {
        "type": "Container",
        "separator": True,
        "spacing": "Medium",
        "items": [text_block(heading), fact_set(facts)],
    }


def _upload_action(title: str, verb: str, token: str, **style: str) -> Card:
    return {"type": "Action.Execute", "title": title, "verb": verb, "data": {"upload": token}, **style}


def preview_card(preview: ImportPreview) -> Reply:
    """What importing the file would do, per report, with Import / Cancel (no buttons when nothing is new)."""
    file_name = one_line(preview.file_name, TITLE_LIMIT)
    shown, hidden = preview.reports[:REPORTS_SHOWN], preview.reports[REPORTS_SHOWN:]
    if preview.token is None:
        heading = f"Nothing new in {file_name}"
        closing = "Everything in it is already imported, so there is nothing to do."
    else:
        reports = f"{len(preview.reports)} reports" if len(preview.reports) > 1 else "1 report"
        heading = f"Import {file_name}?"
        closing = f"{preview.new_items} new items in {reports}. Nothing is saved until you choose Import."
    lines = [heading, *(_report_plain(report) for report in shown)]
    body: list[Card] = [title_block(safe_text(heading, TITLE_LIMIT))]
    body.extend(_report_section(report) for report in shown)
    if hidden:
        more = (
            f"…and {len(hidden)} more reports ({sum(report.items for report in hidden)} items, "
            f"{sum(report.new_items for report in hidden)} new)."
        )
        lines.append(more)
        body.append(text_block(more, isSubtle=True))
    lines.append(closing)
    body.append(text_block(closing, spacing="Medium", isSubtle=preview.token is None))
    actions: list[Card] = []
    if preview.token is not None:
        actions = [
            _upload_action("Import", IMPORT_VERB, preview.token, style="positive"),
            _upload_action("Cancel", CANCEL_VERB, preview.token),
        ]
    text = "\n".join(lines)
    return Reply(text=text, card=make_card(text, body, actions))


def done_card(done: ImportDone) -> Reply:
    """What the preview turns into once imported: one line per report, and where to look."""
    file_name = one_line(done.file_name, TITLE_LIMIT)
    heading = f"Imported {file_name}" if not done.again else f"{file_name} was imported already"
    lines = [one_line(line, TITLE_LIMIT * 2) for line in done.lines]
    if done.again:
        lines.append("Nothing changed this time.")
    body: list[Card] = [title_block(safe_text(heading, TITLE_LIMIT))]
    body.extend(text_block(safe_text(line, TITLE_LIMIT * 2), spacing="Small") for line in lines)
    actions = [command_action(f"List {code}", f"list {code}") for code in done.codes[:3]]
    text = "\n".join([heading, *lines])
    return Reply(text=text, card=make_card(text, body, actions))


def closed_card(closed: ImportClosed) -> Reply:
    """What the preview turns into when cancelled."""
    return Reply(text=closed.text, card=make_card(closed.text, [text_block(safe_text(closed.text, TITLE_LIMIT * 2))]))


def render_upload(result: ImportPreview | ImportDone | ImportClosed | Said) -> Reply:
    """Each result of an upload as the message (or card) people see."""
    match result:
        case ImportPreview():
            return preview_card(result)
        case ImportDone():
            return done_card(result)
        case ImportClosed():
            return closed_card(result)
        case Said(text=text):
            return message(text)
    raise TypeError(f"no card for {result!r}")
