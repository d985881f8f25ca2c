"""Imports flow one way (README, "How it fits together"): each layer imports only the layers below it,
and the Bot Framework SDK only in `bot/`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = {"bot", "dialogs", "services", "storage", "domain", "manifest"}
SDK = {"botbuilder", "botframework", "msrest"}
# What each layer may import of the project besides itself.
ALLOWED = {
    "domain": set(),
    "storage": {"domain"},
    "services": {"storage", "domain"},
    "dialogs": {"domain"},
    "bot": {"dialogs", "services", "storage", "domain", "manifest"},
}


def _imported(path: Path) -> set[str]:
    """The top-level packages a module imports, anywhere in it (inside functions too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_a_layer_imports_only_the_layers_below_it(layer: str) -> None:
    wrong = {}
    for path in sorted((ROOT / layer).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        imported = _imported(path)
        outside = (imported & PROJECT) - ALLOWED[layer] - {layer}
        if layer != "bot":
            outside |= imported & SDK
        if outside:
            wrong[str(path.relative_to(ROOT))] = sorted(outside)
    assert wrong == {}
