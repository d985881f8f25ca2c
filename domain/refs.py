"""How a person names an item ("R8", "OIC-2025 recommendation 8") and which items a list asks for."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.vocabulary import Kind


@dataclass(frozen=True, slots=True)
class ItemRef:
    """How a person named an item: "R8" → number 8, kind recommendation, no report code."""

    number: int
    # None when only a number was given ("8?", "status of 8"): the handler searches all kinds.
    kind: Kind | None = None
    # Upper-cased report code such as "OIC-2025", when the person named the report.
    report_code: str | None = None


def reference_of(report_code: str, kind: str, number: int) -> str:
    """An item's unambiguous short reference, e.g. "OIC-2025 R8"."""
    return f"{report_code} {Kind(kind).prefix}{number}"


class ListFilter(StrEnum):
    """Which items a list command asks for."""

    ALL = "all"
    OPEN = "open"
    OVERDUE = "overdue"
    DUE_THIS_MONTH = "due this month"
    DUE_NEXT_30_DAYS = "due in the next 30 days"
    NOT_STARTED = "not started"
    IN_PROGRESS = "in progress"
    BLOCKED = "blocked"
    AWAITING_SIGN_OFF = "awaiting sign-off"
    CLOSED = "closed"
    # Computed RAG (domain/rag.py); Blue is closed or superseded.
    RED = "red"
    AMBER = "amber"
    GREEN = "green"
    BLUE = "blue"
    # The lead's own assessment, on open items.
    AT_RISK = "at risk"
    OFF_TRACK = "off track"
    UNASSIGNED = "unassigned"
    # No update for the digest's stale days (services/digest_plan.py RunSettings.stale_days).
    STALE = "stale"
    # Calendar windows on the current due date, from the clock's today (never the real date).
    DUE_THIS_WEEK = "due this week"
    DUE_NEXT_WEEK = "due next week"
    DUE_NEXT_MONTH = "due next month"
    DUE_THIS_QUARTER = "due this quarter"
    DUE_NEXT_QUARTER = "due next quarter"


def describe_ref(ref: ItemRef) -> str:
    """How the bot names a reference back: "recommendation 8", "AFI 2", "OIC-2025 recommendation 8"."""
    if ref.kind is None:
        name = f"item {ref.number}"
    elif ref.kind is Kind.AREA_FOR_IMPROVEMENT:
        name = f"AFI {ref.number}"
    else:
        name = f"{ref.kind.value} {ref.number}"
    return f"{ref.report_code} {name}" if ref.report_code else name
