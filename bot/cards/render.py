"""Each service result as the message people see: plain text for every client, a card for Teams."""

from __future__ import annotations

from bot.cards.admins import admins_card
from bot.cards.common import Reply, choice_card, message, notice_card
from bot.cards.items import (
    history_card,
    item_list_card,
    report_text_card,
    response_card,
    search_results_card,
    status_card,
)
from bot.cards.overview import changes_card, counts_card, statuses_card
from bot.cards.requests import request_card, requests_card
from services.results import (
    Admins,
    Changes,
    Choose,
    Counts,
    ForceResponse,
    ItemList,
    ItemStatus,
    ItemStatuses,
    ReportText,
    Request,
    Requests,
    Result,
    Said,
    SearchResults,
    Timeline,
    Told,
)


def render(result: Result) -> Reply:
    match result:
        case Admins() as admins:
            return admins_card(admins)
        case ForceResponse(item=item, response=response):
            return response_card(item, response)
        case ReportText(report=report, statement=statement):
            return report_text_card(report, statement=statement)
        case ItemStatuses() as statuses:
            return statuses_card(statuses)
        case Counts() as counts:
            return counts_card(counts)
        case Changes() as changes:
            return changes_card(changes)
        case Said(text=text):
            return message(text)
        case Told(template=template, values=values, actions=actions):
            return notice_card(template, actions, **values)
        case Choose(prompt=prompt, options=options):
            return choice_card(prompt, options)
        case ItemStatus() as status:
            return status_card(
                status.item,
                status.latest,
                today=status.today,
                requested=status.requested,
                revised_by=status.revised_by,
                closed_by=status.closed_by,
                acting=status.acting,
                viewer=status.viewer,
                note=status.note,
            )
        case Request() as request:
            return request_card(request)
        case Requests() as requests:
            return requests_card(requests)
        case ItemList(title=title, items=items, today=today, more=more, empty_text=empty_text):
            return item_list_card(title, items, today=today, more=more, empty_text=empty_text)
        case SearchResults(query=query, items=items):
            return search_results_card(query, items)
        case Timeline(item=item, entries=entries, today=today):
            return history_card(item, entries, today=today)
    raise TypeError(f"no card for {result!r}")
