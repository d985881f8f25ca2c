"""The calendar windows and rules behind list and count questions (domain/listing.py)."""

from __future__ import annotations

from datetime import date

import pytest

from domain.listing import ItemFacts, Period, due_window, period_window, selects
from domain.refs import ListFilter


@pytest.mark.parametrize(
    ("list_filter", "today", "window"),
    [
        (ListFilter.DUE_NEXT_MONTH, date(2026, 12, 31), (date(2027, 1, 1), date(2027, 2, 1))),
        (ListFilter.DUE_THIS_QUARTER, date(2026, 11, 2), (date(2026, 10, 1), date(2027, 1, 1))),
        (ListFilter.DUE_NEXT_QUARTER, date(2026, 11, 2), (date(2027, 1, 1), date(2027, 4, 1))),
        (ListFilter.DUE_THIS_QUARTER, date(2027, 3, 31), (date(2027, 1, 1), date(2027, 4, 1))),
        (ListFilter.DUE_THIS_WEEK, date(2026, 11, 8), (date(2026, 11, 2), date(2026, 11, 9))),
        (ListFilter.DUE_NEXT_WEEK, date(2026, 11, 2), (date(2026, 11, 9), date(2026, 11, 16))),
        (ListFilter.DUE_THIS_MONTH, date(2026, 2, 10), (date(2026, 2, 1), date(2026, 3, 1))),
    ],
)
def test_due_windows_follow_the_calendar(list_filter: ListFilter, today: date, window: tuple[date, date]) -> None:
    assert due_window(list_filter, today) == window


def test_this_week_starts_on_monday() -> None:
    assert period_window(Period.THIS_WEEK, date(2026, 11, 4))[:2] == (date(2026, 11, 2), None)
    assert period_window(Period.LAST_WEEK, date(2026, 11, 4))[:2] == (date(2026, 10, 26), date(2026, 11, 2))


def test_stale_is_the_digests_rule_and_closed_items_are_never_stale() -> None:
    today = date(2026, 11, 2)

    def facts(status: str, last: date | None) -> ItemFacts:
        return ItemFacts(status, None, None, last, has_owner=True)

    assert selects(ListFilter.STALE, facts("In progress", date(2026, 10, 3)), today=today, stale_days=30)
    assert not selects(ListFilter.STALE, facts("In progress", date(2026, 10, 4)), today=today, stale_days=30)
    assert selects(ListFilter.STALE, facts("Not started", None), today=today, stale_days=30)
    assert not selects(ListFilter.STALE, facts("Closed", None), today=today, stale_days=30)


def test_rag_filters_use_the_computed_rag() -> None:
    today = date(2026, 11, 2)
    at_risk = ItemFacts("In progress", "at risk", date(2027, 6, 1), today, has_owner=True)
    assert selects(ListFilter.AMBER, at_risk, today=today, stale_days=30)
    assert selects(ListFilter.AT_RISK, at_risk, today=today, stale_days=30)
    overdue_at_risk = ItemFacts("In progress", "at risk", date(2026, 1, 1), today, has_owner=True)
    assert selects(ListFilter.RED, overdue_at_risk, today=today, stale_days=30)
    assert selects(ListFilter.AT_RISK, overdue_at_risk, today=today, stale_days=30)  # the lead's word, not the RAG
