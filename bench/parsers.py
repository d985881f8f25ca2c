"""The parsers benchmark: the worst parse time per character class, at 300, 3,000 and 30,000 characters.

Every parser that reads what a person typed or a document holds is fed text built from one class
of characters its patterns read: one character repeated, a word and its separator repeated
("a.a.a.", "ab-ab-"), markup, or the words commands are made of; each alone, between two letters,
and (for `parse_intent`) after the opening words of each command. A time is the fastest of three
runs of one parse; a class's figure is its slowest input. `parse_intent, caps lifted` is the same
parser with its input caps removed, to show that the patterns themselves grow linearly.

Targets (issue 9): under 50 ms at 30,000 characters, about Teams' message limit, for every parser;
with the caps lifted, at most 25 times as long for ten times the text (a quadratic pattern takes
about 100 times). No database: the runner calls this hook once, whatever the backends.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import bot.intents as intents
from bot.cards.common import safe_text
from bot.cards.update_form import parse_update_form
from bot.commands import parse_intent
from dialogs.flow import choice_by_number, normalise_answer
from dialogs.update import parse_evidence_url, parse_revised_date, validate_narrative
from domain.dates import parse_due_date, parse_published_date, parse_user_date, parse_written_date
from tests.bot.test_parsers_linear import never_invalid

SIZES = (300, 3_000, 30_000)
# The size the targets (in bench/report.py) are read at: about Teams' message limit.
TARGET_SIZE = 30_000
RUNS = 3
TODAY = date(2026, 3, 10)

# Each class: the units repeated to build its inputs.
CLASSES: dict[str, list[str]] = {
    "letters": ["a", "x", "r"],
    "digits": ["0", "1", "8"],
    "spaces": [" ", "\t", "\n", "\u00a0", "\u200b"],
    "punctuation": list("!,.;:?-_'\"`()…“’"),
    "symbols": list("@#&*<>/\\[]{}|~+=%$^"),
    "word + separator": [word + mark for word in ("a", "ab", "1") for mark in " .,;:!?-@/#'"],
    "markup": ["<at>", "</at>", "<at>x</at>", "<a", "<p>", "&amp;", "&#1;", "&nbsp;"],
    "command words": [
        "r8 ", "rec 8 ", "#8 ", "oic-2025 ", "oic 2025 ", "ab-2025-", "the ", "new ", "please ", "by ", "to ",
        "because ", "reason: ", " - ", "at 9am ", "30 june ", "30/06/", "end of ", "within ", "a@b.uk ",
    ],
}  # fmt: skip
# Where a command's own patterns read the long part.
OPENERS = [
    "status R8", "status of ", "assign R8 to ", "make ", "post ", "demote ", "add ", "remove delegate from R8 ",
    "subscribe ", "snooze ", "set due date of R8 to 30 June ", "reject R8 ", "list ", "where are we with ",
]  # fmt: skip


def _form(text: str) -> object:
    value = {"form": "update", "item_id": 8, "status": "In progress", "assessment": "On track", "narrative": "Done."}
    return parse_update_form(value | {"evidence_url": text, "revised_due_on": text, "revised_due_reason": text}, TODAY)


def _uncapped(text: str) -> object:
    capped = intents._MAX_MESSAGE_LENGTH, intents._MAX_COMMAND_LENGTH
    intents._MAX_MESSAGE_LENGTH = intents._MAX_COMMAND_LENGTH = len(text) + 1
    try:
        return parse_intent(text)
    finally:
        intents._MAX_MESSAGE_LENGTH, intents._MAX_COMMAND_LENGTH = capped


# Judged by how its time grows, not by the time itself: it reads all 30,000 characters.
UNCAPPED = "parse_intent, caps lifted"
# (name, parse, with the command openers)
PARSERS: list[tuple[str, Callable[[str], object], bool]] = [
    ("parse_intent", parse_intent, True),
    (UNCAPPED, _uncapped, False),
    ("normalise_answer", normalise_answer, False),
    ("choice_by_number", lambda text: choice_by_number(text, ["In progress", "Blocked", "Complete"]), False),
    ("validate_narrative", never_invalid(validate_narrative), False),
    ("parse_evidence_url", never_invalid(parse_evidence_url), False),
    ("parse_revised_date", never_invalid(lambda text: parse_revised_date(text, TODAY, parse_user_date)), False),
    ("parse_update_form", _form, False),
    ("parse_user_date", lambda text: parse_user_date(text, TODAY), False),
    ("parse_due_date", lambda text: parse_due_date(text, TODAY), False),
    ("parse_published_date", parse_published_date, False),
    ("parse_written_date", parse_written_date, False),
    ("safe_text", lambda text: safe_text(text, 1_500), False),
]


def _inputs(unit: str, size: int, openers: bool) -> Iterator[tuple[str, str]]:
    """(label, text) for `unit` repeated to `size` characters in each place."""
    places = [("", ""), ("x", "x")] + ([(opener, " x") for opener in OPENERS] if openers else [])
    for before, after in places:
        count = max(1, (size - len(before) - len(after)) // len(unit))
        middle = f"{unit!r} × {count:,}"
        label = " + ".join([repr(before), middle] if before else [middle]) + (f" + {after!r}" if after else "")
        yield label, before + unit * count + after


def _fastest(parse: Callable[[str], object], text: str) -> float:
    best = float("inf")
    for _ in range(RUNS):
        started = time.perf_counter()
        parse(text)
        best = min(best, time.perf_counter() - started)
    return best


def measure() -> list[dict[str, Any]]:
    """One row per parser, class and size: the slowest input's time (ms) and the input."""
    rows = []
    for name, parse, openers in PARSERS:
        for size in SIZES:
            for class_name, units in CLASSES.items():
                worst_ms, worst_input = 0.0, ""
                for unit in units:
                    for label, text in _inputs(unit, size, openers):
                        milliseconds = _fastest(parse, text) * 1000
                        if milliseconds >= worst_ms:
                            worst_ms, worst_input = milliseconds, label
                target = "growth" if name == UNCAPPED else "time"
                rows.append(
                    {"parser": name, "class": class_name, "size": size, "worst_ms": worst_ms, "input": worst_input}
                    | {"target": target}
                )
    return rows
