"""Dates as people in England write and read them."""

from __future__ import annotations

from datetime import date


def format_uk_date(day: date) -> str:
    """`date(2026, 4, 30)` → "30 April 2026"."""
    return f"{day.day} {day:%B %Y}"
