"""Walking Adaptive Cards in tests: every node, or every body element."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every object in a card, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def elements(node: Any) -> Iterator[dict[str, Any]]:
    """Every element of a card body, not descending into actions."""
    if isinstance(node, dict):
        yield node
        for key, value in node.items():
            if key not in ("selectAction", "actions"):
                yield from elements(value)
    elif isinstance(node, list):
        for value in node:
            yield from elements(value)
