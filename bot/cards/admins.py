"""Who the admins are, and who gave or took away admin rights (the audit of `make … an admin`)."""

from __future__ import annotations

from bot.cards.common import TITLE_LIMIT, Card, Reply, fact_set, make_card, text_block, title_block
from bot.cards.items import utc_day
from domain.dates import format_uk_date
from domain.text import NAME_LIMIT, one_line, safe_text
from services.results import Admins


def admins_card(result: Admins) -> Reply:
    names = [one_line(name, NAME_LIMIT) for name in result.names] or ["none yet (see RECBOT_ADMINS)"]
    lines = ["Admins: " + ", ".join(names)]
    body: list[Card] = [title_block("Admins"), text_block(safe_text(", ".join(names), TITLE_LIMIT * 2))]
    if result.changes:
        rows = [
            (
                format_uk_date(utc_day(at)),
                f"{one_line(by, NAME_LIMIT)} {'made' if granted else 'removed'} {one_line(whom, NAME_LIMIT)} "
                + ("an admin" if granted else "as an admin"),
            )
            for at, by, granted, whom in result.changes
        ]
        lines += ["", "Changes, newest first:"] + [f"{day}: {what}" for day, what in rows]
        body += [
            text_block("Changes, newest first", weight="Bolder", separator=True, spacing="Medium"),
            fact_set([(day, safe_text(what, TITLE_LIMIT)) for day, what in rows]),
        ]
        if result.more:
            lines.append(f"… and {result.more} earlier.")
            body.append(text_block(f"… and {result.more} earlier.", isSubtle=True))
    text = "\n".join(lines)
    return Reply(text=text, card=make_card(text, body))
