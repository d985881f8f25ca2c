"""One way to show untrusted text in a card: trimmed, on clean lines, its markdown escaped."""

from __future__ import annotations

import re

ELLIPSIS = "…"
# The most of a person's name any message shows.
NAME_LIMIT = 120

# Inline syntax that TextBlock markdown (and the CommonMark parsers behind some hosts) act on:
# emphasis, links and images, code, strikethrough, autolinks, and the escape character itself.
_INLINE_SYNTAX = re.compile(r"([\\*_\[\]`~<])")
# "&amp;" and "&#42;" are decoded by CommonMark renderers: a way to smuggle syntax past escaping.
_ENTITY = re.compile(r"&(?=#?\w+;)")
# Syntax that only counts at the start of a line: headings, quotes, bullets, rules, tables.
_BLOCK_START = re.compile(r"^([#>+\-=|])")
_ORDERED_START = re.compile(r"^(\d+)([.)])")
# Any of the four above: most text has none, and one search is cheaper than four substitutions.
_NEEDS_ESCAPE = re.compile(r"[\\*_\[\]`~<]|&#?\w+;|^[#>+\-=|]|^\d+[.)]")
_LINE_BREAK = re.compile(r"\r\n|[\r\n\u2028\u2029\x0b\x0c\x85]")


def _lines(value: str) -> list[str]:
    # Leading spaces would make a markdown code block; blank lines carry no meaning in a card.
    if _LINE_BREAK.search(value) is None:
        value = value.strip()
        return [value] if value else []
    return [line.strip() for line in _LINE_BREAK.split(value) if line.strip()]


def clip(value: str, limit: int) -> str:
    """Plain text trimmed to at most `limit` characters (blank lines dropped), ending "…" if cut."""
    text = "\n".join(_lines(value))
    if len(text) <= limit:
        return text
    head = text[: max(limit - 1, 0)]
    # Cut at a word boundary when one is near, so the reader never sees half a word.
    space = max(head.rfind(" "), head.rfind("\n"))
    if space > limit * 0.8:
        head = head[:space]
    return head.rstrip() + ELLIPSIS


def one_line(value: str, limit: int) -> str:
    """Plain text on a single line, trimmed to at most `limit` characters."""
    return clip(" ".join(value.split()), limit)


def _escape_line(line: str) -> str:
    if _NEEDS_ESCAPE.search(line) is None:
        return line
    line = _INLINE_SYNTAX.sub(r"\\\1", line)
    line = _ENTITY.sub(r"\\&", line)
    line = _BLOCK_START.sub(r"\\\1", line)
    return _ORDERED_START.sub(r"\1\\\2", line)


def safe_text(value: str, limit: int) -> str:
    """Untrusted text made safe for a TextBlock or Fact: markdown escaped, at most `limit` characters shown."""
    # Every line becomes its own paragraph: markdown would otherwise run single lines together,
    # and a table or setext heading needs lines that touch.
    return "\n\n".join(_escape_line(line) for line in clip(value, limit).split("\n"))
