"""Free-text search over item texts ("where are we with the hydra training?"), with rapidfuzz."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

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
    # rapidfuzz is imported where it is used, here and below: `recbot serve` starts without it (issue 12).
    from rapidfuzz import utils

    words = [word for word in utils.default_process(query).split() if word not in STOPWORDS]
    return " ".join(words)


# partial_ratio counts at this weight; below PARTIAL_FLOOR it cannot lift a text to CANDIDATE
# (0.9 × 68 = 61.2 < 62), so the native pass may leave such scores out.
PARTIAL_WEIGHT = 0.9
PARTIAL_FLOOR = 68


def _score(query: str, text: str, **_: object) -> float:
    from rapidfuzz import fuzz

    # token_set_ratio rewards a query whose words all appear in a long text; partial_ratio
    # forgives typos inside one phrase ("hydra trainng"), discounted so exact words rank first.
    return max(fuzz.token_set_ratio(query, text), PARTIAL_WEIGHT * fuzz.partial_ratio(query, text))


def searchable(text: str) -> str:
    """A text as the search compares it (lower case, no punctuation): what an index keeps per item."""
    from rapidfuzz import utils

    return utils.default_process(text)


def _matches(wanted: str, texts: Sequence[str]) -> list[tuple[float, int]]:
    """(score, position) of the best texts by `_score`, best first and ties in order: at most MAX_CANDIDATES + 1.

    The same as `process.extract(wanted, texts, scorer=_score, limit=…, score_cutoff=CANDIDATE)`, but
    with each scorer run once over all the texts in rapidfuzz's native loop (a Python scorer costs a
    call per text: about 100 ms at 10,000 items). A text below CANDIDATE by token_set_ratio counts only
    when its weighted partial_ratio reaches CANDIDATE, and one below PARTIAL_FLOOR by partial_ratio never
    does, so what each pass leaves out changes no kept score.
    """
    from rapidfuzz import fuzz, process

    scores = {
        index: score
        for _text, score, index in process.extract(
            wanted, texts, scorer=fuzz.token_set_ratio, limit=None, score_cutoff=CANDIDATE
        )
    }
    for _text, partial, index in process.extract(
        wanted, texts, scorer=fuzz.partial_ratio, limit=None, score_cutoff=PARTIAL_FLOOR
    ):
        weighted = PARTIAL_WEIGHT * partial
        if weighted >= CANDIDATE:
            scores[index] = max(scores.get(index, 0.0), weighted)
    ranked = sorted(scores.items(), key=lambda scored: (-scored[1], scored[0]))
    return [(score, index) for index, score in ranked[: MAX_CANDIDATES + 1]]


def rank_positions(query: str, texts: Sequence[str]) -> Ranking[int]:
    """`rank_items` over texts already made `searchable`: positions in `texts`."""
    wanted = _meaningful(query)
    if len(re.sub(r"\W", "", wanted)) < 3 or not texts:
        return Ranking(best=None, candidates=())
    matches = _matches(wanted, texts)
    if not matches:
        return Ranking(best=None, candidates=())
    top_score = matches[0][0]
    runner_up = matches[1][0] if len(matches) > 1 else 0
    if top_score >= SURE and top_score - runner_up >= CLEAR_LEAD:
        return Ranking(best=matches[0][1], candidates=())
    return Ranking(best=None, candidates=[index for _score_, index in matches[:MAX_CANDIDATES]])


def rank_items(query: str, items: Sequence[T], text_of: Callable[[T], str]) -> Ranking[T]:
    """The best item for a free-text query, or a few candidates when no single one stands out."""
    if not items:
        return Ranking(best=None, candidates=())
    ranked = rank_positions(query, [searchable(text_of(item)) for item in items])
    return Ranking(
        best=None if ranked.best is None else items[ranked.best],
        candidates=[items[index] for index in ranked.candidates],
    )
