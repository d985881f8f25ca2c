"""Property tests: parsers fed anything answer with a result or a DocumentError, never a crash.

Long text too: every parser that reads what a person typed or a document holds is also fed text of
Teams' message size, made of the pieces its patterns read (tests/bot/test_parsers_linear.py times
the same parsers on the worst of it).
"""

from __future__ import annotations

import contextlib
import csv
import io
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cards.common import clip, safe_text
from bot.cards.update_form import parse_update_form
from bot.commands import parse_intent
from bot.intents import INTENT_TYPES
from dialogs.flow import choice_by_number, normalise_answer
from dialogs.update import (
    InvalidAnswer,
    is_skip,
    parse_assessment_choice,
    parse_evidence_url,
    parse_revised_date,
    parse_status_choice,
    validate_narrative,
    validate_reason,
)
from domain.dates import describe_overdue, parse_due_date, parse_published_date, parse_user_date, parse_written_date
from domain.records import ReportRecord
from domain.updates import UpdateDraft
from services.importers import DocumentError, parse_csv_tracker, parse_document, parse_pcc_document
from services.importers.csv_tracker import OPTIONAL_COLUMNS, REQUIRED_COLUMNS

SEED = Path(__file__).resolve().parents[2] / "samples" / "oic-2025-cheshire-pcc-response.txt"
SEED_TEXT = SEED.read_text(encoding="utf-8")

# No example database: these runs must leave nothing behind in the working tree.
FAST = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

dates = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))
# Text that looks like what the parsers look for, so the search reaches the interesting branches.
date_words = st.sampled_from(
    ["by", "By the end of", "within", "six", "12", "months", "a year", "immediately", "with immediate effect",
     "30", "30th", "April", "Apr", "Sept", "2026", "2025/26", "end of", "next", "Friday", "/", "-", ".", ",",
     "31/02/2026", "in", "2", "weeks", "the", "of", "June", "0", "999", "9999", " ", "\u00a0", "\n"]
)  # fmt: skip
date_like_text = st.lists(date_words, max_size=12).map(" ".join)
document_bits = st.sampled_from(
    ["<p><b>Recommendation 3</b></p> <p>", "</p>\t<p>", "</p>", "\t", "\n", "\n\n", "\r\n", "**Dan Price**  \n",
     "Commissioner\n", "### **Commissioner's Response:**\n", "&amp;", "&#", "<b>AFI 2</b>", "Area for improvement 1",
     "**Title of inspection:** ", "## Recommendations from Inspectors and Constabulary response\n",
     "**Published on:** 1<sup>st</sup> May 2025\n", "By 30 April 2026, ", "within six months", "\x0c", "\u00a0"]
)  # fmt: skip


@FAST
@given(text=st.one_of(st.text(max_size=300), date_like_text), published_on=st.one_of(st.none(), dates))
def test_parse_due_date_never_raises(text: str, published_on: date | None) -> None:
    result = parse_due_date(text, published_on)
    assert result is None or isinstance(result, date)


@FAST
@given(text=st.one_of(st.text(max_size=80), date_like_text), today=dates)
def test_parse_user_date_never_raises(text: str, today: date) -> None:
    result = parse_user_date(text, today)
    assert result is None or isinstance(result, date)


@FAST
@given(text=st.one_of(st.text(max_size=80), date_like_text))
def test_exact_date_parsers_never_raise(text: str) -> None:
    for parse in (parse_published_date, parse_written_date):
        result = parse(text)
        assert result is None or isinstance(result, date)


@FAST
@given(due_on=dates, today=dates)
def test_describe_overdue_always_describes(due_on: date, today: date) -> None:
    assert describe_overdue(due_on, today)


def _pcc_or_document_error(text: str) -> None:
    try:
        report = parse_pcc_document(text)
    except DocumentError as problem:
        assert str(problem)
        return
    assert isinstance(report, ReportRecord)
    assert report.items
    assert all(item.text for item in report.items)


@FAST
@given(text=st.text(max_size=2000))
def test_pcc_parser_on_any_text(text: str) -> None:
    _pcc_or_document_error(text)


@FAST
@given(bits=st.lists(st.one_of(document_bits, st.text(max_size=20)), max_size=40))
def test_pcc_parser_on_document_shaped_text(bits: list[str]) -> None:
    _pcc_or_document_error("".join(bits))


@FAST
@given(data=st.data())
def test_pcc_parser_on_a_damaged_seed(data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(SEED_TEXT)))
    end = data.draw(st.integers(start, min(len(SEED_TEXT), start + 400)))
    insert = data.draw(st.one_of(document_bits, st.text(max_size=30)))
    _pcc_or_document_error(SEED_TEXT[:start] + insert + SEED_TEXT[end:])


def _csv_or_document_error(text: str) -> None:
    try:
        reports = parse_csv_tracker(text)
    except DocumentError as problem:
        assert str(problem)
        return
    assert reports
    assert all(isinstance(report, ReportRecord) and report.items for report in reports)


@FAST
@given(text=st.text(max_size=1000))
def test_csv_parser_on_any_text(text: str) -> None:
    _csv_or_document_error(text)


cell = st.one_of(
    st.text(max_size=15),
    st.sampled_from(["1", "8.0", "-3", "OIC-2025", "30/04/2026", "2026-04-30", "Closed", "AFI", "a@b.co", ""]),
)


@FAST
@given(
    columns=st.lists(st.sampled_from(REQUIRED_COLUMNS + OPTIONAL_COLUMNS), unique=True, min_size=1),
    rows=st.lists(st.lists(cell, max_size=12), max_size=6),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_csv_parser_on_tracker_shaped_text(columns: list[str], rows: list[list[str]], delimiter: str) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(columns)
    writer.writerows(rows)
    _csv_or_document_error(buffer.getvalue())


@FAST
@given(name=st.sampled_from(["a.csv", "a.txt", "a", ""]), text=st.text(max_size=500))
def test_parse_document_only_raises_document_errors(name: str, text: str) -> None:
    # Any other exception fails the test.
    with contextlib.suppress(DocumentError):
        parse_document(name, text)


# --- long text -------------------------------------------------------------------------------

# What the parsers' patterns read: single characters of every class, a word and its separator,
# markup, and the pieces commands and dates are made of.
pattern_pieces = st.sampled_from(
    [" ", "\t", "\n", "\u00a0", "\u200b", "a", "x", "r", "1", "8", "!", ",", ".", ";", ":", "?", "-", "_", "@", "#",
     "'", '"', "“", "’", "`", "/", "(", ")", "&", "*", "<", ">", "…", "a.", "a@", "ab-", "a-", "1/", "1.", "1:", " ,",
     ", ", "<at>", "</at>", "<at>RecBot</at> ", "&amp;", "&#1;", "r8 ", "rec 8 ", "#8 ", "oic-2025 ", "oic 2025 ",
     "the ", "new ", "please ", "thanks ", "by ", "to ", "at ", "because ", "reason: ", " - ", "status of ",
     "assign R8 to ", "update ", "post ", "demote ", "subscribe ", "snooze ", "set due date of R8 to ", "list ",
     "30 june 2026 ", "30/06/2026 ", "end of ", "within six months ", "immediately ", "https://", "skip ", "yes "]
)  # fmt: skip
# One piece repeated up to Teams' message size, or a few pieces repeated together.
long_runs = st.builds(lambda piece, count: piece * count, pattern_pieces, st.integers(1, 30_000))
long_mixes = st.builds(
    lambda pieces, count: "".join(pieces) * count,
    st.lists(pattern_pieces, min_size=1, max_size=8),
    st.integers(1, 3_000),
)
long_text = st.one_of(
    st.text(max_size=30_000), long_runs, long_mixes, st.lists(pattern_pieces, max_size=200).map("".join)
)


@FAST
@given(text=long_text)
def test_parse_intent_on_long_text(text: str) -> None:
    assert isinstance(parse_intent(text), INTENT_TYPES)


@FAST
@given(text=long_text)
def test_dialog_answers_on_long_text(text: str) -> None:
    assert isinstance(normalise_answer(text), str)
    assert choice_by_number(text, ["In progress", "Blocked", "Complete"]) in (
        None,
        "In progress",
        "Blocked",
        "Complete",
    )
    assert isinstance(is_skip(text), bool)
    assert parse_status_choice(text) in (None, "In progress", "Blocked", "Awaiting sign-off")
    assert parse_assessment_choice(text) in (None, "on track", "at risk", "off track")
    # The validators answer or refuse with a sentence for the person; nothing else escapes.
    for validate in (validate_narrative, validate_reason, parse_evidence_url):
        with contextlib.suppress(InvalidAnswer):
            validate(text)
    with contextlib.suppress(InvalidAnswer):
        parse_revised_date(text, date(2026, 3, 10), parse_user_date)


@FAST
@given(text=long_text, today=dates)
def test_date_parsers_on_long_text(text: str, today: date) -> None:
    for result in (
        parse_due_date(text, today),
        parse_user_date(text, today),
        parse_published_date(text),
        parse_written_date(text),
    ):
        assert result is None or isinstance(result, date)


@FAST
@given(text=long_text, limit=st.integers(1, 2_000))
def test_safe_text_on_long_text(text: str, limit: int) -> None:
    assert len(clip(text, limit)) <= limit
    assert isinstance(safe_text(text, limit), str)


@FAST
@given(
    field=st.sampled_from(
        ["status", "assessment", "narrative", "evidence_url", "revised_due_on", "revised_due_reason"]
    ),
    text=long_text,
)
def test_update_form_on_long_text(field: str, text: str) -> None:
    value = {"form": "update", "item_id": 8, "status": "In progress", "assessment": "On track", "narrative": "Done."}
    result = parse_update_form(value | {field: text}, date(2026, 3, 10))
    assert isinstance(result, UpdateDraft) or (result and all(isinstance(problem, str) for problem in result))
