"""`recbot serve` starts without loading what only some questions need: the heavy readers and
parsers are imported inside the functions that use them (issue 12: ready in under 1.5 s)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# What `import bot.app` must not load: date parsing (dateparser), spreadsheets (openpyxl), bank
# holidays (holidays), plots (matplotlib), Word and PDF readers (docx, pypdf).
LAZY = ["dateparser", "openpyxl", "holidays", "matplotlib", "docx", "pypdf"]
# Not lazy yet: services/answers.py imports domain.search, which imports rapidfuzz at module level.
NOT_YET_LAZY = [
    pytest.param(
        "rapidfuzz",
        marks=pytest.mark.xfail(
            strict=True, reason="services/answers.py imports domain.search, which imports rapidfuzz at module level"
        ),
    )
]


@pytest.fixture(scope="module")
def loaded_by_import() -> set[str]:
    """The modules a fresh interpreter holds after `import bot.app` (and `bot.cli`, which `recbot` runs)."""
    code = "import json, sys\nimport bot.cli, bot.app\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


@pytest.mark.parametrize("module", [*LAZY, *NOT_YET_LAZY])
def test_import_bot_app_does_not_load(module: str, loaded_by_import: set[str]) -> None:
    assert "bot.app" in loaded_by_import
    loaded = sorted(name for name in loaded_by_import if name == module or name.startswith(f"{module}."))
    assert not loaded, f"import bot.app loaded {loaded[:5]}"
