"""Regular expressions compiled when first used, so that importing a grammar costs nothing.

The intent grammar (bot/intents.py) builds over 100 patterns, many embedding the whole item-reference
grammar; compiling them all took 0.35–0.5 s of `recbot serve`'s start-up (issue 12: ready in under
1.5 s). A `LazyPattern` compiles on its first match; `compile_waiting` compiles all that are left,
which the server does in a worker thread once it is up (`bot.app.prepare_first_turn`), so that the
first question rarely pays for them.
"""

from __future__ import annotations

import re
import sys
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

# Every pattern made and not compiled yet, in the order they were made (the grammar's own order).
_waiting: deque[LazyPattern] = deque()


class LazyPattern:
    """A `re.Pattern[str]` that is compiled on its first use; the methods are those of `re.Pattern`."""

    __slots__ = ("_compiled", "flags", "pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self.flags = flags
        self._compiled: re.Pattern[str] | None = None
        _waiting.append(self)

    def compiled(self) -> re.Pattern[str]:
        """The compiled pattern (compiled now if it was not yet)."""
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(self.pattern, self.flags)
        return compiled

    @property
    def is_compiled(self) -> bool:
        return self._compiled is not None

    def match(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        # The grammar's hot path: a message meets dozens of patterns, so no second call here.
        return (self._compiled or self.compiled()).match(string, pos, endpos)

    def fullmatch(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.compiled().fullmatch(string, pos, endpos)

    def search(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.compiled().search(string, pos, endpos)

    def finditer(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> Iterator[re.Match[str]]:
        return self.compiled().finditer(string, pos, endpos)

    def findall(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> list[Any]:
        return self.compiled().findall(string, pos, endpos)

    def sub(self, repl: str | Callable[[re.Match[str]], str], string: str, count: int = 0) -> str:
        return self.compiled().sub(repl, string, count)

    def __repr__(self) -> str:
        state = "compiled" if self.is_compiled else "not compiled yet"
        return f"LazyPattern({self.pattern[:60]!r}, {state})"


def compile_waiting() -> int:
    """Compile every pattern not compiled yet; how many it compiled.

    Safe in a worker thread while the patterns are in use (a pattern compiled twice at once is only
    compiled twice). It starts from the last pattern made: a message read meanwhile tries the
    grammar from the first, so the two seldom compile the same one.
    """
    compiled = 0
    while _waiting:
        try:
            pattern = _waiting.pop()
        except IndexError:  # another thread took the last one
            break
        if not pattern.is_compiled:
            pattern.compiled()
            compiled += 1
    return compiled
