"""`rank_positions`' two native passes score, keep and order exactly as one `_score` call per text did."""

from __future__ import annotations

import random

from rapidfuzz import process

from domain import search

WORDS = [
    "hydra",
    "training",
    "custody",
    "vetting",
    "crime",
    "data",
    "package",
    "e-learning",
    "force",
    "should",
    "review",
    "area",
    "case",
    "file",
]


def _old(wanted: str, texts: list[str]) -> list[tuple[float, int]]:
    matches = process.extract(
        wanted, texts, scorer=search._score, limit=search.MAX_CANDIDATES + 1, score_cutoff=search.CANDIDATE
    )
    return [(score, index) for _, score, index in matches]


def test_matches_equal_one_python_scorer_call_per_text() -> None:
    chance = random.Random(12)
    for _ in range(300):
        texts = [
            search.searchable(" ".join(chance.choice(WORDS) for _ in range(chance.randint(1, 12))))
            for _ in range(chance.randint(1, 60))
        ]
        # Typos as well as whole words, so partial_ratio decides some of the scores.
        query = " ".join(chance.choice(WORDS) for _ in range(chance.randint(1, 3)))
        if chance.random() < 0.5:
            at = chance.randrange(len(query))
            query = query[:at] + query[at + 1 :]
        wanted = search._meaningful(query)
        if wanted:
            assert search._matches(wanted, texts) == _old(wanted, texts), (query, texts)


def test_rank_items_maps_positions_back_to_items() -> None:
    items = [("a", "Hydra training for call handlers"), ("b", "Custody vetting"), ("c", "Crime data integrity")]
    ranked = search.rank_items("hydra training", items, lambda item: item[1])
    assert ranked.best == items[0]
    assert search.rank_items("zz", items, lambda item: item[1]).best is None
