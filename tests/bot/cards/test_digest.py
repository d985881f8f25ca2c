"""Digest and nudge composition: pure functions of their data, with a fixed clock."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.cards.common import safe_text
from bot.cards.digest import NOTHING_TO_REPORT, SIZE_BUDGET, activity_size, compose_digest, compose_nudge
from domain.dates import describe_overdue
from services.delivery import Change, DigestData, DigestItem, NudgeItem, ReportDigest, Section
from tests.fakes.card_nodes import elements, walk

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=LONDON)
TODAY = NOW.date()
LAST_WEEK = NOW - timedelta(days=7)
EVIL = "[click here](http://evil.example) **urgent** _now_ <http://evil.example> &#42;x&#42;"
ELEMENT_TYPES = {"TextBlock", "RichTextBlock", "TextRun", "Container", "ActionSet"}
COLOURS = {"attention", "warning", "good", "accent"}
R8_TEXT = "Chief constables should make sure relevant personnel complete the Hydra training package"


def make_item(
    number: int,
    *,
    code: str = "OIC-2025",
    status: str = "In progress",
    rag: str = "Amber",
    due_on: date | None = date(2026, 4, 30),
    owner_name: str | None = "Jane Doe",
    last_update_on: date | None = date(2026, 10, 2),
    short_text: str = R8_TEXT,
    requested_due_on: date | None = None,
) -> DigestItem:
    return DigestItem(
        item_id=number,
        reference=f"{code} R{number}",
        label=f"Recommendation {number}",
        short_text=short_text,
        status=status,
        rag=rag,
        due_on=due_on,
        owner_name=owner_name,
        last_update_on=last_update_on,
        requested_due_on=requested_due_on,
    )


def section(items: Sequence[DigestItem], total: int | None = None) -> Section:
    return Section(tuple(items), len(items) if total is None else total)


def full_report(
    code: str = "OIC-2025", title: str = "Improving the response to organised immigration crime"
) -> ReportDigest:
    return ReportDigest(
        code=code,
        title=title,
        counts_by_status={"Not started": 1, "In progress": 4, "Blocked": 1, "Awaiting sign-off": 1, "Closed": 2},
        counts_by_rag={"Red": 2, "Amber": 3, "Green": 2, "Blue": 2},
        changes=(
            Change(f"{code} R8", 8, "update posted by Jane Doe", datetime(2026, 11, 25, 14, 0, tzinfo=timezone.utc)),
            Change(f"{code} R2", 2, "In progress → Blocked", datetime(2026, 11, 26, 10, 0, tzinfo=timezone.utc)),
            Change(f"{code} R4", 4, "closed", datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc)),
            Change(f"{code} R9", 9, "new item", datetime(2026, 11, 28, 10, 0, tzinfo=timezone.utc)),
        ),
        changes_total=4,
        overdue=section([make_item(8, code=code, rag="Red"), make_item(2, code=code, rag="Red", status="Blocked")]),
        due_soon=section([make_item(5, code=code, due_on=date(2026, 12, 14))]),
        stale=section([make_item(6, code=code, owner_name=None, last_update_on=date(2026, 9, 1), due_on=None)]),
        waiting_for_decision=section(
            [
                make_item(7, code=code, status="Awaiting sign-off", rag="Green", due_on=date(2027, 1, 31)),
                make_item(3, code=code, rag="Red", requested_due_on=date(2027, 3, 31)),
            ]
        ),
        unassigned=section([make_item(6, code=code, owner_name=None, last_update_on=date(2026, 9, 1), due_on=None)]),
    )


def quiet_report(code: str = "VET-2026") -> ReportDigest:
    return ReportDigest(
        code=code,
        title="Vetting, misconduct and misogyny",
        counts_by_status={"In progress": 3, "Closed": 1},
        counts_by_rag={"Green": 3, "Blue": 1},
    )


def digest_data(*reports: ReportDigest, since: datetime | None = LAST_WEEK) -> DigestData:
    return DigestData(audience="Governance board", generated_at=NOW, since=since, stale_days=45, reports=reports)


def text_blocks(card: dict[str, Any]) -> list[str]:
    return [node["text"] for node in elements(card["body"]) if node.get("type") == "TextBlock"]


def commands(card: dict[str, Any]) -> list[str]:
    return [node["data"]["command"] for node in walk(card) if node.get("type") == "Action.Submit"]


def row_commands(card: dict[str, Any]) -> list[str]:
    return [node["selectAction"]["data"]["command"] for node in elements(card["body"]) if "selectAction" in node]


def assert_escaped(texts: Sequence[str]) -> None:
    """Every markdown syntax character in what a card shows is escaped."""
    for text in texts:
        plain = text.replace("**", "")  # our own bold around references
        assert not re.search(r"(?<!\\)[\[\]*_<`]", plain), text
        assert not re.search(r"(?<!\\)&#", plain), text


def check_card(card: dict[str, Any] | None, text: str) -> dict[str, Any]:
    assert card is not None
    assert card["type"] == "AdaptiveCard"
    assert card["version"] == "1.5"
    assert card["fallbackText"] == text
    for node in elements(card["body"]):
        if "type" in node:
            assert node["type"] in ELEMENT_TYPES
        if "color" in node:
            assert node["color"] in COLOURS
    for node in walk(card):
        if node.get("type") == "Action.Submit":
            command = node["data"]["command"]
            assert node["data"]["msteams"] == {"type": "imBack", "value": command}
    json.dumps(card)  # plain data, serialisable as it stands
    return card


# --- the digest ------------------------------------------------------------------------------


def test_digest_structure_per_report() -> None:
    reply = compose_digest(digest_data(full_report(), full_report("PEEL-2025", "PEEL 2025"), quiet_report()))
    card = check_card(reply.card, reply.text)
    text = reply.text
    assert text.startswith("Weekly digest for Governance board\n30 November 2026 · changes since 23 November 2026")
    for heading in (
        "OIC-2025 · Improving the response to organised immigration crime",
        "PEEL-2025 · PEEL 2025",
        "VET-2026 · Vetting, misconduct and misogyny",
        "RAG: Red 2, Amber 3, Green 2, Blue 2",
        "Status: Not started 1, In progress 4, Blocked 1, Awaiting sign-off 1, Closed 2",
        "What changed since 23 November 2026 (4):",
        "Overdue (2):",
        "Due in the next 30 days (1):",
        "No update for 45 days or more (1):",
        "Waiting for a decision (2):",
        "Unassigned (1):",
    ):
        assert heading in text
    # Changes: updates, status changes, closures and new items, dated.
    assert "- OIC-2025 R8 · update posted by Jane Doe (25 November)" in text
    assert "- OIC-2025 R2 · In progress → Blocked (26 November)" in text
    assert "- OIC-2025 R4 · closed (27 November)" in text
    assert "- OIC-2025 R9 · new item (28 November)" in text
    # Overdue with how long, due soon with the date, stale with the owner, what waits for a decision.
    assert f"- OIC-2025 R8 · overdue by {describe_overdue(date(2026, 4, 30), TODAY)} · Jane Doe" in text
    assert "- OIC-2025 R5 · due 14 December 2026 · In progress · Jane Doe" in text
    assert "- OIC-2025 R6 · no update for 90 days · Unassigned" in text
    assert "- OIC-2025 R7 · sign-off · due 31 January 2027 · Jane Doe" in text
    assert "- OIC-2025 R3 · later date 31 March 2027 · due 30 April 2026 · Jane Doe" in text
    assert "- OIC-2025 R6 · no due date · In progress" in text
    # The report with nothing to say says so, and the digest goes on.
    assert "No changes; nothing overdue, due soon, stale, unassigned or waiting for a decision." in text
    # Every row opens its item's status.
    rows = row_commands(card)
    assert "status of OIC-2025 R8" in rows
    assert "status of PEEL-2025 R7" in rows
    assert len(rows) == 2 * (4 + 2 + 1 + 1 + 2 + 1)
    assert all(command.startswith("status of ") for command in rows)


def test_rag_counts_are_coloured() -> None:
    reply = compose_digest(digest_data(full_report()))
    assert reply.card is not None
    runs = [node for node in walk(reply.card) if node.get("type") == "TextRun" and "color" in node]
    assert [(run["text"], run["color"]) for run in runs] == [
        ("Red 2, ", "attention"),
        ("Amber 3, ", "warning"),
        ("Green 2, ", "good"),
        ("Blue 2", "accent"),
    ]


def test_first_digest_has_no_since_date() -> None:
    reply = compose_digest(digest_data(full_report(), since=None))
    assert "30 November 2026 · first digest" in reply.text
    assert "What changed recently (4):" in reply.text


def test_long_lists_are_cut_with_and_n_more() -> None:
    overdue = [make_item(n, rag="Red") for n in range(1, 31)]
    report = ReportDigest(
        code="OIC-2025",
        title="Organised immigration crime",
        counts_by_rag={"Red": 40},
        overdue=section(overdue[:20], total=40),  # the data already holds only the first 20
        changes=tuple(Change(f"OIC-2025 R{n}", n, "new item", NOW) for n in range(1, 11)),
        changes_total=25,
    )
    reply = compose_digest(digest_data(report))
    shown_overdue = [line for line in reply.text.splitlines() if "· overdue by" in line]
    shown_changes = [line for line in reply.text.splitlines() if "· new item" in line]
    assert f"  and {40 - len(shown_overdue)} more" in reply.text.splitlines()
    assert f"  and {25 - len(shown_changes)} more" in reply.text.splitlines()
    assert reply.card is not None
    assert f"and {40 - len(shown_overdue)} more" in text_blocks(reply.card)
    assert "Overdue (40):" in reply.text


@pytest.mark.parametrize(
    "reports",
    [(), (quiet_report(),), (quiet_report(), quiet_report("PEEL-2025"))],
    ids=["no reports", "one quiet report", "two quiet reports"],
)
def test_a_digest_with_nothing_to_say_says_so_in_one_line(reports: tuple[ReportDigest, ...]) -> None:
    reply = compose_digest(digest_data(*reports))
    assert reply.text == NOTHING_TO_REPORT
    assert (
        reply.text
        == "Nothing to report this week: no changes, nothing overdue, due soon, stale, unassigned or waiting for a decision."
    )
    assert "\n" not in reply.text
    card = check_card(reply.card, reply.text)
    assert text_blocks(card) == [NOTHING_TO_REPORT]


def test_a_digest_with_only_changes_is_not_empty() -> None:
    report = ReportDigest(
        code="OIC-2025", title="OIC", changes=(Change("OIC-2025 R8", 8, "closed", NOW),), changes_total=1
    )
    reply = compose_digest(digest_data(report))
    assert reply.text != NOTHING_TO_REPORT
    assert "- OIC-2025 R8 · closed (30 November)" in reply.text


def big_report(number: int, items: int) -> ReportDigest:
    code = f"R{number:02d}-2026"
    rows = [
        make_item(n, code=code, owner_name=f"Owner {n} with a fairly long name", short_text=R8_TEXT * 2)
        for n in range(items)
    ]
    quarter = items // 4
    return ReportDigest(
        code=code,
        title="A report with a long title about police effectiveness, efficiency and legitimacy " * 3,
        counts_by_status={"In progress": items},
        counts_by_rag={"Red": quarter, "Amber": quarter, "Green": quarter, "Blue": items - 3 * quarter},
        changes=tuple(Change(f"{code} R{n}", n, f"update posted by Owner {n}", NOW) for n in range(items)),
        changes_total=items,
        overdue=section(rows[:quarter]),
        due_soon=section(rows[quarter : 2 * quarter]),
        stale=section(rows[2 * quarter : 3 * quarter]),
        waiting_for_decision=section(rows[3 * quarter :]),
    )


def test_five_thousand_items_across_twenty_reports_fit_the_budget() -> None:
    reports = tuple(big_report(number, 250) for number in range(20))
    reply = compose_digest(digest_data(*reports))
    size = activity_size(reply)
    assert size <= SIZE_BUDGET < 28 * 1024
    assert size == len(
        json.dumps(
            {
                "type": "message",
                "text": reply.text,
                "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": reply.card}],
            },
            separators=(",", ":"),
        )
    )
    check_card(reply.card, reply.text)
    # Every report still appears, with its totals.
    for report in reports:
        assert report.code in reply.text
    assert "62 overdue" in reply.text


def test_one_report_with_five_thousand_items_lists_some_and_counts_the_rest() -> None:
    reply = compose_digest(digest_data(big_report(0, 5000)))
    assert activity_size(reply) <= SIZE_BUDGET
    assert "Overdue (1250):" in reply.text
    assert re.search(r"^  and 12\d\d more$", reply.text, re.MULTILINE)
    assert reply.card is not None
    assert len(row_commands(reply.card)) >= 5


def test_too_many_reports_are_cut_with_and_n_more_reports() -> None:
    reports = tuple(big_report(number, 20) for number in range(200))
    reply = compose_digest(digest_data(*reports))
    assert activity_size(reply) <= SIZE_BUDGET
    match = re.search(r"and (\d+) more reports", reply.text)
    assert match is not None
    shown = sum(1 for report in reports if f"\n{report.code} · " in reply.text)
    assert shown + int(match[1]) == 200


def test_user_text_in_the_digest_is_escaped() -> None:
    evil_item = make_item(8, rag="Red", owner_name=EVIL, short_text=EVIL)
    report = ReportDigest(
        code="OIC-2025",
        title=EVIL,
        counts_by_rag={"Red": 1},
        changes=(Change("OIC-2025 R8", 8, f"update posted by {EVIL}", NOW),),
        changes_total=1,
        overdue=section([evil_item]),
    )
    data = DigestData(audience=EVIL, generated_at=NOW, since=LAST_WEEK, stale_days=45, reports=(report,))
    reply = compose_digest(data)
    assert reply.card is not None
    assert_escaped(text_blocks(reply.card))
    shown = "\n".join(text_blocks(reply.card))
    assert "· overdue by 7 months · " + safe_text("[click here](http://evil.example) **urgent**", 100) in shown
    assert safe_text(f"update posted by {EVIL}", 200) in shown
    # The plain text shows it as typed: no markdown there.
    assert EVIL in reply.text


# --- the nudge -------------------------------------------------------------------------------


def nudges() -> list[NudgeItem]:
    return [
        NudgeItem(make_item(8, due_on=date(2026, 12, 7)), ("due in 7 days (7 December 2026)", "no update for 45 days")),
        NudgeItem(make_item(2, rag="Red", due_on=date(2026, 11, 29)), ("overdue since 29 November 2026",)),
        NudgeItem(make_item(4, code="PEEL-2025"), ("no update for 61 days",)),
    ]


def test_nudge_has_one_post_update_button_per_item_and_the_reminder_buttons() -> None:
    reply = compose_nudge("Jane Doe", nudges())
    card = check_card(reply.card, reply.text)
    assert reply.text.startswith("Hello Jane Doe, 3 items of yours need your attention.")
    assert "OIC-2025 R8 · Recommendation 8: Due in 7 days (7 December 2026); no update for 45 days." in reply.text
    assert "OIC-2025 R2 · Recommendation 2: Overdue since 29 November 2026." in reply.text
    posts = [
        node["data"]["command"]
        for node in walk(card["body"])
        if node.get("type") == "Action.Submit" and node["title"] == "Post update"
    ]
    assert posts == ["update OIC-2025 R8", "update OIC-2025 R2", "update PEEL-2025 R4"]
    assert [(action["title"], action["data"]["command"]) for action in card["actions"]] == [
        ("Snooze 2 weeks", "snooze reminders for 2 weeks"),
        ("Stop reminders", "stop reminders"),
    ]
    assert 'Say "update OIC-2025 R8" to post an update.' in reply.text
    assert "stop reminders" in reply.text
    # Overdue stands out in red, the rest in amber.
    colours = [node["color"] for node in elements(card["body"]) if node.get("weight") == "Bolder" and "color" in node]
    assert colours == ["warning", "attention", "warning"]


def test_a_titled_item_is_named_by_its_title_in_digests_and_nudges() -> None:
    titled = replace(make_item(8, rag="Red"), title="Hydra training package")
    report = ReportDigest(
        code="OIC-2025",
        title="Improving the response to organised immigration crime",
        counts_by_rag={"Red": 1},
        changes=(Change("OIC-2025 R8", 8, "closed", NOW, title="Hydra training package"),),
        changes_total=1,
        overdue=section([titled]),
    )
    digest = compose_digest(DigestData("Board", NOW, LAST_WEEK, 30, (report,)))
    assert "- OIC-2025 R8 · Hydra training package · closed (30 November)" in digest.text
    assert "- OIC-2025 R8 · Hydra training package · overdue by 7 months · Jane Doe" in digest.text
    assert digest.card is not None
    opening = [node for node in walk(digest.card) if "selectAction" in node]
    assert len(opening) == 2 and all("**OIC-2025 R8 · Hydra training package** · " in str(row) for row in opening)
    nudge = compose_nudge("Jane Doe", [NudgeItem(titled, ("overdue since 30 April 2026",))])
    assert "OIC-2025 R8 · Hydra training package: Overdue since 30 April 2026." in nudge.text
    # The title tells the item apart: the start of its text is left out.
    assert R8_TEXT[:40] not in digest.text and R8_TEXT[:40] not in nudge.text


def test_nudge_for_one_item() -> None:
    reply = compose_nudge("Sam Smith", nudges()[:1])
    assert reply.text.startswith("Hello Sam Smith, 1 item of yours needs your attention.")


def test_nudge_escapes_user_text() -> None:
    item = NudgeItem(make_item(8, short_text=EVIL), ("no update for 61 days",))
    reply = compose_nudge(EVIL, [item])
    assert reply.card is not None
    assert_escaped(text_blocks(reply.card))
    assert any(
        block.startswith(safe_text("[click here](http://evil.example) **urgent**", 100))
        for block in text_blocks(reply.card)
    )
    assert "Hello [click here](http://evil.example) **urgent**" in reply.text


def test_nudge_with_many_items_fits_the_budget() -> None:
    many = [NudgeItem(make_item(n, short_text=R8_TEXT * 3), ("no update for 61 days",)) for n in range(1000)]
    reply = compose_nudge("Jane Doe", many)
    assert activity_size(reply) <= SIZE_BUDGET
    match = re.search(r'and (\d+) more: say "my recommendations"', reply.text)
    assert match is not None
    assert reply.card is not None
    posts = [command for command in commands(reply.card) if command.startswith("update ")]
    assert len(posts) + int(match[1]) == 1000
    assert "snooze reminders for 2 weeks" in commands(reply.card)


# --- schedules in words ----------------------------------------------------------------------
