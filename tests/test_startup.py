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
# holidays (holidays), plots (matplotlib), Word and PDF readers (docx, pypdf), fuzzy matching
# (rapidfuzz); nor what the server loads once it is up (`bot.app.prepare_first_turn`): the SDK's
# dialogs (botbuilder.dialogs, with its number and date recognizers); nor Alembic, which only
# `recbot db upgrade` and a schema that is not plainly current need.
LAZY = [
    "dateparser",
    "openpyxl",
    "holidays",
    "matplotlib",
    "docx",
    "pypdf",
    "rapidfuzz",
    "botbuilder.dialogs",
    "recognizers_text",
    "alembic",
]


@pytest.fixture(scope="module")
def loaded_by_import() -> set[str]:
    """The modules a fresh interpreter holds after `import bot.app` (and `bot.cli`, which `recbot` runs)."""
    code = "import json, sys\nimport bot.cli, bot.app\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


@pytest.mark.parametrize("module", LAZY)
def test_import_bot_app_does_not_load(module: str, loaded_by_import: set[str]) -> None:
    assert "bot.app" in loaded_by_import
    loaded = sorted(name for name in loaded_by_import if name == module or name.startswith(f"{module}."))
    assert not loaded, f"import bot.app loaded {loaded[:5]}"


def _run(code: str) -> list[str]:
    """The lines a fresh interpreter prints running `code` in the project."""
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    return result.stdout.splitlines()


def test_import_bot_app_compiles_none_of_the_intent_grammar() -> None:
    code = (
        "import bot.cli, bot.app\n"
        "from domain import patterns\n"
        "print(len(patterns._waiting), sum(p.is_compiled for p in patterns._waiting))"
    )
    waiting, compiled = map(int, _run(code)[-1].split())
    assert waiting > 100 and compiled == 0


def test_preparing_the_first_turn_loads_the_dialogs_and_compiles_the_grammar() -> None:
    code = (
        "import asyncio, sys, bot.app, bot.intents\n"
        "from domain.patterns import LazyPattern\n"
        "asyncio.run(bot.app.prepare_first_turn())\n"
        "patterns = [v for v in vars(bot.intents).values() if isinstance(v, LazyPattern)]\n"
        "from domain.patterns import _waiting\n"
        "print('botbuilder.dialogs' in sys.modules, all(p.is_compiled for p in patterns), len(_waiting))"
    )
    assert _run(code)[-1] == "True True 0"


def test_a_lazy_pattern_answers_as_the_compiled_one() -> None:
    import re

    from domain.patterns import LazyPattern

    text = "Status of R8, R9 and r10 please"
    lazy, eager = LazyPattern(r"\br(?P<n>[0-9]+)", re.IGNORECASE), re.compile(r"\br(?P<n>[0-9]+)", re.IGNORECASE)
    assert not lazy.is_compiled
    assert lazy.search(text)[0] == eager.search(text)[0]  # type: ignore[index]
    assert lazy.is_compiled
    assert lazy.match(text) is None and eager.match(text) is None
    assert lazy.match(text, 10)[0] == eager.match(text, 10)[0] == "R8"  # type: ignore[index]
    assert lazy.fullmatch("R8")["n"] == "8"  # type: ignore[index]
    assert [m.span() for m in lazy.finditer(text)] == [m.span() for m in eager.finditer(text)]
    assert lazy.findall(text) == eager.findall(text) == ["8", "9", "10"]
    assert lazy.sub("#", text) == eager.sub("#", text)
    assert lazy.sub(lambda m: m["n"], text, count=1) == eager.sub(lambda m: m["n"], text, count=1)


def test_the_schema_check_reads_the_head_as_alembic_does() -> None:
    from alembic.script import ScriptDirectory

    from storage.database import _head_of_scripts, alembic_config

    assert _head_of_scripts() == ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


async def test_the_schema_check_answers_as_before(tmp_path: Path) -> None:
    from storage.database import _head_of_scripts, create_engine, schema_is_current, upgrade

    head = _head_of_scripts()
    assert head is not None and head != "0001"
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'schema.db'}")
    try:
        assert not await schema_is_current(engine)  # no version table: Alembic answers
        await upgrade(engine, "0001")
        assert not await schema_is_current(engine)  # behind: Alembic answers
        await upgrade(engine)
        assert await schema_is_current(engine)
    finally:
        await engine.dispose()


async def test_the_schedulers_first_run_waits_and_stopping_does_not(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio
    import time

    from services import digests
    from services.digest_plan import RunSettings

    runs: list[float] = []

    async def run_due(**_: object) -> digests.RunReport:
        runs.append(time.monotonic())
        return digests.RunReport(at=digests.SYSTEM_CLOCK.now(), dry_run=False)

    monkeypatch.setattr(digests, "run_due", run_due)

    def scheduler(first_run_after: float) -> digests.Scheduler:
        return digests.Scheduler(
            sessionmaker=None,  # type: ignore[arg-type]
            deliverer=None,  # type: ignore[arg-type]
            settings=RunSettings(),
            interval=60.0,
            first_run_after=first_run_after,
        )

    waiting = scheduler(first_run_after=60.0)
    waiting.start()
    await asyncio.sleep(0.05)
    started = time.monotonic()
    await waiting.stop()
    assert runs == [] and time.monotonic() - started < 1.0

    started = time.monotonic()
    soon = scheduler(first_run_after=0.1)
    soon.start()
    while not runs:
        await asyncio.sleep(0.01)
    await soon.stop()
    assert len(runs) == 1 and runs[0] - started >= 0.1
