"""Item titles: derived from the text on import, told apart within a report, and what an admin may set."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.titles import (
    MAX_TITLE_LENGTH,
    TITLE_LIMIT,
    derive_title,
    distinct_titles,
    item_titles,
    normal_title,
    title_problem,
    with_reference,
)
from services.importers import parse_document

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "samples" / "oic-2025-cheshire-pcc-response.txt"
DOCUMENTS = ROOT / "tests" / "services" / "documents"
OIC = "Improving the response to organised immigration crime"


def _titles(path: Path) -> dict[str, str]:
    """Each item of the file's reports ("R8", "AFI 3") and the title it derives."""
    titles = {}
    for record in parse_document(path.name, path.read_text()):
        for item in record.items:
            key = f"{item.kind.prefix}{item.number}" if item.kind.prefix == "R" else f"{item.kind.prefix} {item.number}"
            titles[key] = derive_title(item.text, topic=record.title)
    return titles


def test_the_seed_items_get_distinct_readable_titles() -> None:
    assert _titles(SEED) == {
        "R2": "Required intelligence document",
        "R4": "Clear plans to collect, analyse and share information",
        "R8": "Hydra training package",
        "R9": "Four modules of the e-learning package",
    }


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (
            "west-mercia-afis-and-cause-of-concern.txt",
            {
                "CoC 1": "Forces do not understand the scale of serious youth violence",
                "R1": "Every child arrested for a violent offence is referred",
                "R10": "Review use of stop and search on children & young people",
                "AFI 3": "Improve how it records the voice of the child",
                "AFI 4": "Supervisors review every investigation within 28 days",
            },
        ),
        (
            "northvale-pfcc-page-break-in-response.txt",
            {
                "R1": "999 calls within 10 seconds",
                "R2": "Reduce backlog of digital devices awaiting examination",
                "R3": "Improve how it records crime",
            },
        ),
    ],
)
def test_other_documents_get_titles_from_their_own_wording(document: str, expected: dict[str, str]) -> None:
    assert _titles(DOCUMENTS / document) == expected


@pytest.mark.parametrize(
    ("text", "title"),
    [
        # No lead-in at all: the text is its own title.
        ("Hydra training", "Hydra training"),
        ("hydra training for custody staff.", "Hydra training for custody staff"),
        # Areas for improvement and their older wording.
        ("The force should improve how it records crime.", "Improve how it records crime"),
        ("The force needs to improve its understanding of demand.", "Improve understanding of demand"),
        # A deadline after the modal, and a passive outcome whose subject comes first.
        ("Chief constables should, by 31 March 2026, make sure that all officers complete the training.",
         "All officers complete the training"),
        ("Hydra training must be completed by all officers.", "Hydra training"),
        ("Chief constables should publish their vetting refusal rates within six months.",
         "Publish vetting refusal rates"),
        # Only the first sentence counts; "e.g." does not end it.
        ("Forces should review custody e.g. cells. Then more.", "Review custody"),
        # Markup and braces never reach a title.
        ("By 30 April 2026, forces should make sure that officers use *the* {new} [custody] system.",
         "Officers use the new custody system"),
    ],
)  # fmt: skip
def test_odd_and_plain_wordings(text: str, title: str) -> None:
    assert derive_title(text, topic=OIC) == title


@pytest.mark.parametrize(
    "text", ["", "   ", "By 30 April 2026, chief constables should …", "((((", "x" * 5_000, "\u200b\n\t"]
)
def test_a_text_with_nothing_to_say_gives_no_title(text: str) -> None:
    assert derive_title(text) == ""


def test_a_long_text_gives_a_short_title_quickly() -> None:
    words = "By 30 April 2026, chief constables should make sure that " + "officers review the custody plan " * 3_000
    started = time.perf_counter()
    title = derive_title(words, topic=OIC * 100)
    assert time.perf_counter() - started < 0.05
    assert 0 < len(title) <= TITLE_LIMIT and title == "Officers review the custody plan officers review the custody"


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=400), topic=st.text(max_size=80))
def test_any_derived_title_is_short_plain_and_acceptable(text: str, topic: str) -> None:
    title = derive_title(text, topic=topic)
    assert len(title) <= TITLE_LIMIT
    assert title == "" or title_problem(title) is None


@settings(max_examples=100, deadline=None)
@given(
    words=st.lists(
        st.sampled_from(
            [
                "By 30 April 2026,",
                "should",
                "make sure that",
                "the",
                "training",
                ",",
                "they",
                "have",
                "complete",
                "crime",
                "on",
                "(",
                "every time",
                "of",
            ]
        ),
        max_size=60,
    )
)
def test_any_mix_of_the_rules_words_gives_an_acceptable_title(words: list[str]) -> None:
    title = derive_title(" ".join(words), topic=OIC)
    assert len(title) <= TITLE_LIMIT
    assert title == "" or title_problem(title) is None


def test_titles_are_told_apart_within_a_report() -> None:
    hydra = "make sure that relevant personnel in all police forces complete the Hydra training package"
    texts = [
        (None, f"By 30 April 2026, chief constables should {hydra}."),
        (None, f"Forces should {hydra} on organised immigration crime."),
        ("Custody review", "anything"),
        (None, "By 30 April 2026, chief constables should …"),
    ]
    assert item_titles(texts, topic=OIC, taken=["custody REVIEW"]) == [
        "Hydra training package",
        "Hydra training package (2)",
        "Custody review (2)",
        None,
    ]


def test_told_apart_titles_stay_within_the_limit() -> None:
    long = "x" * MAX_TITLE_LENGTH
    assert distinct_titles([long, long]) == [long, "x" * (MAX_TITLE_LENGTH - 4) + " (2)"]
    assert distinct_titles(["A", "a", "A (2)"]) == ["A", "a (2)", "A (2) (2)"]


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("Hydra training", None),
        ("Hydra training (regional), phase 2: 50% done!", None),
        ("Victims\u2019 code", None),
        ("", "A title needs at least one word."),
        ("   ", "A title needs at least one word."),
        ("Hydra\ntraining", "A title is one line."),
        ("x" * 81, "A title is at most 80 characters; that one has 81."),
        ("*Hydra*", "A title starts with a letter or digit"),
        ("Hydra {training}", "A title starts with a letter or digit"),
        ("[Hydra](http://evil.example)", "A title starts with a letter or digit"),
    ],
)
def test_what_a_title_may_be(typed: str, problem: str | None) -> None:
    found = title_problem(typed)
    assert found == problem if problem is None else (found or "").startswith(problem)


def test_a_title_is_stored_plain() -> None:
    assert normal_title("  Victims\u2019   code \u2013 phase 2 ") == "Victims' code - phase 2"
    assert with_reference("OIC-2025 R8", "Hydra training") == "OIC-2025 R8 · Hydra training"
    assert with_reference("OIC-2025 R8", None) == "OIC-2025 R8"
