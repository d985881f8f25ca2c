"""Every parser answers in time linear in its input: one message must never freeze the bot.

Issue 9, point 1: "status R8" followed by 28,000 "!" took 40 s in `parse_intent`, on the event
loop, and every other conversation waited. The parsers are now bounded twice, and both bounds are
tested here:

- the caps: each parser reads only what it needs (a command's first 500 characters, a date's first
  1,000, an answer's first 500), so text of Teams' message size must parse in under 50 ms;
- the patterns: with `parse_intent`'s caps lifted, ten times the text may take at most 25 times as
  long (a quadratic pattern takes about 100 times), so a cap can never hide a slow pattern.

The inputs are built from what the patterns read, class by class: every character repeated, a word
and its separator repeated ("a.a.a.", "ab-ab-"), markup, and the grammar's own words; alone,
between two letters, and after the opening words of each command. A time is the fastest of three
runs: a busy machine only ever adds time.
"""

from __future__ import annotations

import math
import re
import sys
import time
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, NamedTuple

import pytest
from botbuilder.schema import Activity
from botbuilder.testing import DialogTestClient
from hypothesis import given, settings
from hypothesis import strategies as st

import bot.intents as intents
from bot.cards.common import clip, one_line, safe_text
from bot.cards.update_form import parse_update_form
from bot.commands import parse_intent
from bot.dialog_host import HostedFlow
from bot.intents import INTENT_TYPES, Search, Status
from dialogs.flow import choice_by_number, normalise_answer
from dialogs.update import (
    InvalidAnswer,
    UpdateDialog,
    is_skip,
    item_state,
    parse_assessment_choice,
    parse_evidence_url,
    parse_revised_date,
    parse_status_choice,
    validate_narrative,
    validate_reason,
)
from domain.dates import parse_due_date, parse_published_date, parse_user_date, parse_written_date
from domain.patterns import LazyPattern
from domain.refs import ItemRef
from domain.updates import ItemBrief
from domain.vocabulary import Kind
from tests.fakes.update_port import FakeUpdatePort

# Teams refuses messages much over 28 KB.
SIZE = 30_000
BUDGET = 0.050
RUNS = 3
# Without the caps: ten times the text, at most this many times the time.
SMALL, LARGE, GROWTH = 500, 5_000, 25
TODAY = date(2026, 3, 10)

# --- the inputs ------------------------------------------------------------------------------

LETTERS, DIGITS = "axr", "018"
SPACES = " \t\n\r\u00a0\u2028\u200b"
MARKS = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~…“”‘’"
# Every character class the patterns read, one character repeated.
SINGLES = [*LETTERS, *DIGITS, *SPACES, *MARKS]
# A word and the mark after it, repeated: what `word(?:mark word)*` patterns read ("a.a.a.", "1/1/").
PAIRS = [word + mark for word in ("a", "ab", "1") for mark in " .,;:!?-@/#'_"]
MARKUP = ["<", ">", "<at>", "</at>", "<at>x</at>", "<at>RecBot</at> ", "<a", "<p>", "&amp;", "&#", "&#1;", "&nbsp;"]
# Pieces of commands: items, report codes, filler, separators, times and dates.
PHRASES = [
    "r8 ", "r 8 ", "rec 8 ", "#8 ", "no. ", "oic-2025 ", "oic 2025 ", "ab-2025-", "the ", "a ", "new ", "please ",
    "thanks ", "by ", "to ", "of ", "at ", "for ", "because ", "reason: ", " - ", "status ", "update ", "digest ",
    "monday ", "at 9am ", "9:00 ", "30 june ", "30/06/", "2026 ", "end of ", "within ", "2 weeks ", "a@b.uk ",
]  # fmt: skip
UNITS = SINGLES + PAIRS + MARKUP + PHRASES
# The opening words of commands, so that each command's own patterns read the long part.
OPENERS = [
    "status R8", "status of ", "R8 ", "assign R8 to ", "assign ", "make ", "update R8 ", "post ", "demote ", "promote ",
    "add ", "add delegate to R8 ", "remove ", "remove delegate from R8 ", "grant admin to ", "revoke admin from ",
    "subscribe ", "unsubscribe ", "send me the digest ", "snooze ", "remind me in ", "set due date of R8 to 30 June ",
    "move R8 to ", "reject R8 ", "approve R8 ", "history of ", "list ", "what's overdue ", "where are we with ",
    "please ", "@", "R8 and ", "status of rec 8, ", "how many ", "what's changed ", "recent changes ",
    "set title of R8 to ", "rename R8 to ", "title R8 ",
]  # fmt: skip
# The words and separators the opened commands read next.
ARGUMENTS = [*SINGLES, *PAIRS, "new ", "the ", "because ", "ab-2025-"]
# Fewer of them where each parse reads 5,000 characters: a space, a letter, a digit, the marks the
# command patterns give a meaning to, and the words their runs of filler are made of.
LINEAR_ARGUMENTS = [
    " ", "a", "1", "!", ",", ".", "-", ":", "@", "#", "a.", "a@", "ab-", "1:", "new ", "the ", "because ", "at ",
]  # fmt: skip


class Case(NamedTuple):
    label: str
    text: str


def repeated(unit: str, *, before: str = "", after: str = "", size: int = SIZE) -> Case:
    """`unit` repeated to fill `size` characters between `before` and `after`."""
    count = max(1, (size - len(before) - len(after)) // len(unit))
    middle = f"{unit!r} × {count:,}"
    label = " + ".join([repr(before), middle] if before else [middle]) + (f" + {after!r}" if after else "")
    return Case(label, before + unit * count + after)


def runs_of(units: Iterable[str], *, size: int = SIZE) -> list[Case]:
    """Each unit alone, and between two letters (so that stripping the ends cannot remove it)."""
    return [
        case for unit in units for case in (repeated(unit, size=size), repeated(unit, before="x", after="x", size=size))
    ]


def grammar_words() -> list[str]:
    """Every word the intent patterns spell out, each followed by a space."""
    sources = []
    for value in vars(intents).values():
        patterns = value if isinstance(value, tuple) else (value,)
        sources += [pattern.pattern for pattern in patterns if isinstance(pattern, re.Pattern | LazyPattern)]
    words = {word for source in sources for word in re.findall(r"[a-z]{2,}", re.sub(r"\\.", " ", source))}
    return sorted(f"{word} " for word in words)


# --- timing ----------------------------------------------------------------------------------


def fastest(parse: Callable[[str], object], text: str, *, enough: float = BUDGET) -> float:
    """Seconds for one parse: the fastest of RUNS, or the first run that takes no more than `enough`."""
    best = math.inf
    for _ in range(RUNS):
        started = time.perf_counter()
        parse(text)
        best = min(best, time.perf_counter() - started)
        if best <= enough:
            break
    return best


def assert_quick(parse: Callable[[str], object], cases: Iterable[Case], *, name: str = "") -> None:
    """Each case parses within the budget (it stops at the first that does not)."""
    for case in cases:
        seconds = fastest(parse, case.text)
        assert seconds <= BUDGET, f"{name} {case.label} took {seconds * 1000:,.0f} ms (budget {BUDGET * 1000:.0f} ms)"


def assert_linear(parse: Callable[[str], object], unit: str, *, before: str = "", after: str = "") -> None:
    """Ten times as many units take at most GROWTH times as long (or stay within the budget)."""
    large = repeated(unit, before=before, after=after, size=LARGE)
    large_seconds = fastest(parse, large.text)
    if large_seconds <= BUDGET:
        return
    small_seconds = fastest(parse, repeated(unit, before=before, after=after, size=SMALL).text, enough=0)
    assert large_seconds <= GROWTH * small_seconds, (
        f"{large.label} took {large_seconds * 1000:,.0f} ms, {large_seconds / small_seconds:.0f} times as long as "
        f"{SMALL:,} characters (at most {GROWTH})"
    )


def never_invalid(validate: Callable[[str], object]) -> Callable[[str], object]:
    """`validate`, with the InvalidAnswer it raises for bad text taken as an answer."""

    def call(text: str) -> object:
        try:
            return validate(text)
        except InvalidAnswer as problem:
            return problem

    return call


# --- the reported messages -------------------------------------------------------------------

REPORTED = [
    (parse_intent, repeated("!", before="status R8", after="x")),
    (parse_intent, repeated("a", before="assign R8 to ")),
    (parse_intent, repeated("ab-", before="status of ")),
    (normalise_answer, repeated("!", before="x", after="x")),
]


@pytest.mark.parametrize(("parse", "case"), REPORTED, ids=[case.label[:40] for _, case in REPORTED])
def test_the_reported_messages_parse_quickly(parse: Callable[[str], object], case: Case) -> None:
    # Before: 57 s, 7 s, 3.5 s and 3.7 s.
    assert_quick(parse, [case])


# --- intents ---------------------------------------------------------------------------------


def test_any_run_of_one_class_parses_quickly() -> None:
    assert_quick(parse_intent, runs_of(UNITS))


def test_any_run_of_a_grammar_word_parses_quickly() -> None:
    assert_quick(parse_intent, [repeated(word) for word in grammar_words()])


@pytest.mark.parametrize("opener", OPENERS)
def test_a_long_argument_to_any_command_parses_quickly(opener: str) -> None:
    cases = [repeated(unit, before=opener, after=tail) for unit in ARGUMENTS for tail in ("", " x")]
    assert_quick(parse_intent, cases)


def test_the_people_in_a_command_are_read_quickly() -> None:
    # E-mail and mention extraction reads whatever followed "assign R8 to", so it is timed on its own.
    assert_quick(intents._person, runs_of(UNITS))


def test_normalising_text_for_search_is_quick() -> None:
    assert_quick(intents.normalise, runs_of(UNITS))


def test_only_the_start_of_a_long_message_is_read() -> None:
    assert parse_intent("status R8" + "!" * SIZE + "x") == parse_intent("status R8")
    search = parse_intent("hydra training " * 2_000)
    assert isinstance(search, Search) and 0 < len(search.query) <= intents._MAX_COMMAND_LENGTH
    # Markup before the command does not count against it.
    assert parse_intent("<p>" * 1_000 + "status of R8") == Status(ItemRef(8, Kind.RECOMMENDATION))


@pytest.fixture
def uncapped(monkeypatch: pytest.MonkeyPatch) -> None:
    """`parse_intent` reads everything: the caps bound what is read, so these tests time the patterns themselves."""
    monkeypatch.setattr(intents, "_MAX_MESSAGE_LENGTH", sys.maxsize)
    monkeypatch.setattr(intents, "_MAX_COMMAND_LENGTH", sys.maxsize)


@pytest.mark.usefixtures("uncapped")
def test_intent_patterns_read_any_run_in_linear_time() -> None:
    for unit in UNITS:
        assert_linear(parse_intent, unit)
        assert_linear(parse_intent, unit, before="x", after="x")


@pytest.mark.usefixtures("uncapped")
@pytest.mark.parametrize("opener", OPENERS)
def test_command_patterns_read_a_long_argument_in_linear_time(opener: str) -> None:
    # " x" after the run: an anchored pattern fails only at the end, after trying every way to get there.
    for unit in LINEAR_ARGUMENTS:
        assert_linear(parse_intent, unit, before=opener, after=" x")


# --- dialog answers and validators -----------------------------------------------------------

ANSWER_UNITS = [*SINGLES, *PAIRS, "yes ", "skip ", "1 ", "12"]
ANSWER_PARSERS: dict[str, Callable[[str], object]] = {
    "normalise_answer": normalise_answer,
    "choice_by_number": lambda text: choice_by_number(text, ["In progress", "Blocked", "Complete"]),
    "is_skip": is_skip,
    "parse_status_choice": parse_status_choice,
    "parse_assessment_choice": parse_assessment_choice,
    "validate_narrative": never_invalid(validate_narrative),
    "validate_reason": never_invalid(validate_reason),
    "parse_evidence_url": never_invalid(parse_evidence_url),
    "parse_revised_date": never_invalid(lambda text: parse_revised_date(text, TODAY, parse_user_date)),
}


def test_dialog_answers_are_read_quickly() -> None:
    cases = runs_of(ANSWER_UNITS) + [repeated(unit, before="https://") for unit in ANSWER_UNITS]
    for name, parse in ANSWER_PARSERS.items():
        assert_quick(parse, cases, name=name)


@pytest.mark.parametrize("digit", ["1", "²", "١"])
def test_a_long_number_is_no_choice(digit: str) -> None:
    # Before: int() raised on 4,300 digits or more.
    assert choice_by_number(digit * SIZE, ["a", "b"]) is None


def test_a_digit_int_cannot_read_is_no_choice() -> None:
    # Before: "²" passed isdigit() and then int() raised.
    assert choice_by_number("²", ["a", "b"]) is None
    assert choice_by_number("١", ["a", "b"]) == "a"  # an Arabic-Indic 1 still counts


# What normalise_answer stripped with before (quadratic on "x!!!…x"): answers up to the cap read the same.
PUNCTUATION_AROUND_BEFORE = re.compile(r"^[\s\"'“”‘’`]+|[\s\"'“”‘’`.!?]+$")
answer_characters = st.one_of(st.characters(), st.sampled_from(list(SPACES + MARKS + "\x85\u3000\u2029")))


@settings(max_examples=500, deadline=None, database=None)
@given(text=st.text(answer_characters, max_size=80))
def test_a_short_answer_is_normalised_as_before(text: str) -> None:
    assert normalise_answer(text) == " ".join(PUNCTUATION_AROUND_BEFORE.sub("", text).lower().split())


def test_a_long_answer_never_equals_a_word() -> None:
    assert normalise_answer("cancel" + " " * 1_000 + "x") != "cancel"
    assert normalise_answer(' "Yes."  ') == "yes"


def test_too_long_free_text_says_its_length() -> None:
    with pytest.raises(InvalidAnswer, match="yours is 28,000"):
        validate_narrative("x" + "!" * 27_998 + "x")
    with pytest.raises(InvalidAnswer, match="yours is 28,000"):
        validate_reason("x" * 28_000)


async def test_the_update_dialog_answers_a_pasted_page_quickly() -> None:
    item = ItemBrief(8, "OIC-2025 R8", "Recommendation 8", "By 30 April 2026, …", "In progress", "Jane Doe")
    port = FakeUpdatePort(items={8: item}, allowed={8: {1}}, today_is=TODAY)
    dialog = HostedFlow(UpdateDialog(port, lambda text: False, parse_date=parse_user_date))
    client = DialogTestClient(
        "test", dialog, {"items": [item_state(item)], "actor": {"person_id": 1, "name": "Jane Doe"}}
    )

    async def say(text: str) -> str:
        await client.test_adapter.receive_activity(Activity(type="message", text=text))
        replies = []
        while (reply := client.get_next_reply()) is not None:
            replies.append(reply.text or "")
        return "\n".join(replies)

    for answer in ("update", "in progress", "on track"):
        await say(answer)
    pasted = "x" + "!" * 27_998 + "x"
    best = math.inf
    for _ in range(RUNS):
        started = time.perf_counter()
        reply = await say(pasted)
        best = min(best, time.perf_counter() - started)
        assert "yours is 28,000" in reply
    assert best <= BUDGET, f"a 28,000-character narrative took {best * 1000:,.0f} ms"


# --- dates -----------------------------------------------------------------------------------

# Digits and the separators dates are written with, and the words around deadlines.
DATE_UNITS = [
    *SINGLES,
    *(number + separator for number in ("1", "30", "2026") for separator in "/-.:, "),
    "by ", "by 30 ", "before ", "within ", "within the next ", "the ", "end of ", "30 april ", "april ", "april, ",
    "2025/26 ", "immediately ", "with ", "next ", "months ", "of ", "<sup>", "<", "&amp;",
]  # fmt: skip
DATE_OPENERS = ["", "by the end of ", "within "]
DATE_PARSERS: list[Callable[[str], object]] = [
    lambda text: parse_due_date(text, TODAY),
    lambda text: parse_user_date(text, TODAY),
    parse_published_date,
    parse_written_date,
]


@pytest.mark.parametrize(
    "parse", DATE_PARSERS, ids=["parse_due_date", "parse_user_date", "parse_published_date", "parse_written_date"]
)
def test_dates_are_read_quickly(parse: Callable[[str], object]) -> None:
    cases = [repeated(unit, before=opener) for unit in DATE_UNITS for opener in DATE_OPENERS]
    assert_quick(parse, cases + runs_of(DATE_UNITS))


def test_a_long_recommendation_still_gives_its_deadline() -> None:
    text = "By 30 April 2026, chief constables should " + "review their training and " * 200 + "report."
    assert parse_due_date(text, TODAY) == date(2026, 4, 30)


# --- the update form and cards ---------------------------------------------------------------

FORM_FIELDS = ["status", "assessment", "narrative", "evidence_url", "revised_due_on", "revised_due_reason"]


def test_the_update_form_is_read_quickly() -> None:
    def parse(text: str) -> object:
        # Every box filled with the same long text, so one parse reads each validator's worst.
        value: dict[str, Any] = {"form": "update", "item_id": 8}
        return parse_update_form(value | dict.fromkeys(FORM_FIELDS, text), TODAY)

    assert_quick(parse, runs_of(ANSWER_UNITS) + runs_of(MARKUP))


@pytest.mark.parametrize(
    "show",
    [lambda text: safe_text(text, 1_500), lambda text: clip(text, 1_500), lambda text: one_line(text, 300)],
    ids=["safe_text", "clip", "one_line"],
)
def test_stored_text_is_made_safe_quickly(show: Callable[[str], object]) -> None:
    lines = ["\r\n", "\n\n", "a\n", " \n", "1.\n", "# \n", "> \n", "&a;", "&#1;", "\\*", "[a](", "`"]
    assert_quick(show, runs_of(UNITS + lines))


def test_every_result_is_still_an_intent() -> None:
    for case in runs_of(UNITS, size=2_000):
        assert isinstance(parse_intent(case.text), INTENT_TYPES), case.label
