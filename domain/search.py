"""Free-text search over item texts ("where are we with the hydra training?"), with rapidfuzz."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from rapidfuzz import fuzz, process, utils

T = TypeVar("T")

# Scores are 0..100. A match is taken on its own only when it is both good and clearly ahead.
SURE = 85
CLEAR_LEAD = 12
CANDIDATE = 62
MAX_CANDIDATES = 5

# Words that carry no meaning for matching; without them "the training" would match any "the".
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "how",
        "in",
        "is",
        "it",
        "of",
        "on",
        "or",
        "our",
        "the",
        "this",
        "to",
        "we",
        "what",
        "where",
        "which",
        "with",
    ]
)


@dataclass(frozen=True)
class Ranking(Generic[T]):
    best: T | None
    candidates: Sequence[T]


def _meaningful(query: str) -> str:
    words = [word for word in utils.default_process(query).split() if word not in STOPWORDS]
    return " ".join(words)


def _score(query: str, text: str, **_: object) -> float:
    # token_set_ratio rewards a query whose words all appear in a long text; partial_ratio
    # forgives typos inside one phrase ("hydra trainng"), discounted so exact words rank first.
    return max(fuzz.token_set_ratio(query, text), 0.9 * fuzz.partial_ratio(query, text))


def rank_items(query: str, items: Sequence[T], text_of: Callable[[T], str]) -> Ranking[T]:
    """The best item for a free-text query, or a few candidates when no single one stands out."""
    wanted = _meaningful(query)
    if len(re.sub(r"\W", "", wanted)) < 3 or not items:
        return Ranking(best=None, candidates=())
    texts = [utils.default_process(text_of(item)) for item in items]
    matches = process.extract(wanted, texts, scorer=_score, limit=MAX_CANDIDATES + 1, score_cutoff=CANDIDATE)
    if not matches:
        return Ranking(best=None, candidates=())
    top_score = matches[0][1]
    runner_up = matches[1][1] if len(matches) > 1 else 0
    if top_score >= SURE and top_score - runner_up >= CLEAR_LEAD:
        return Ranking(best=items[matches[0][2]], candidates=())
    return Ranking(best=None, candidates=[items[index] for _text, _score_, index in matches[:MAX_CANDIDATES]])
