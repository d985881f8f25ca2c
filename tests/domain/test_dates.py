"""Due dates read from recommendation texts, dates people type, and how overdue things are."""

from __future__ import annotations

from datetime import date

import pytest

from domain.dates import (
    describe_overdue,
    format_uk_date,
    parse_due_date,
    parse_published_date,
    parse_user_date,
    parse_written_date,
)

PUBLISHED = date(2025, 5, 16)
TODAY = date(2025, 8, 15)  # a Friday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("By 30 April 2026, chief constables should make sure…", date(2026, 4, 30)),
        ("by 31 December 2025, chief constables should…", date(2025, 12, 31)),
        ("By 30th April 2026, chief constables should…", date(2026, 4, 30)),
        ("By 30 Apr 2026, chief constables should…", date(2026, 4, 30)),
        ("BY 30 APRIL 2026, CHIEF CONSTABLES SHOULD…", date(2026, 4, 30)),
        ("By 1 Sept 2026, forces should…", date(2026, 9, 1)),
        ("By 30/04/2026, forces should…", date(2026, 4, 30)),
        ("By April 2026, chief constables should…", date(2026, 4, 30)),
        ("By February 2028, chief constables should…", date(2028, 2, 29)),
        ("by the end of April 2026, the force should…", date(2026, 4, 30)),
        ("By the end of 2025, the force should…", date(2025, 12, 31)),
        ("By the end of 2025/26, the force should…", date(2026, 3, 31)),
        ("By the end of the financial year 2025-26, the force should…", date(2026, 3, 31)),
        ("By 2026, the force should…", date(2026, 12, 31)),
        ("The force should increase its investigators by 2000 officers.", None),
        ("Chief constables should, no later than 31 March 2026, publish…", date(2026, 3, 31)),
        ("With immediate effect, chief constables should…", PUBLISHED),
        ("Chief constables should immediately stop…", PUBLISHED),
        ("Within six months, the force should…", date(2025, 11, 16)),
        ("Within 6 months, the force should…", date(2025, 11, 16)),
        ("Within 12 months, the force should…", date(2026, 5, 16)),
        ("Within a year, the force should…", date(2026, 5, 16)),
        ("Within three months of the publication of this report, forces should…", date(2025, 8, 16)),
        ("The force should review investigations within 28 days.", None),
        ("Chief constables should publish their vetting refusal rates.", None),
        ("By 31 February 2026, forces should…", None),
        ("", None),
    ],
)
def test_parse_due_date(text: str, expected: date | None) -> None:
    assert parse_due_date(text, PUBLISHED) == expected


@pytest.mark.parametrize("text", ["With immediate effect, forces should…", "Within six months, forces should…"])
def test_parse_due_date_relative_to_an_unknown_publication_is_none(text: str) -> None:
    assert parse_due_date(text, None) is None


def test_parse_due_date_takes_the_first_deadline_written() -> None:
    text = "By 31 December 2025, forces should review X and, by 30 June 2026, publish the results."
    assert parse_due_date(text, PUBLISHED) == date(2025, 12, 31)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30/06/2026", date(2026, 6, 30)),
        ("30-06-2026", date(2026, 6, 30)),
        ("30.06.2026", date(2026, 6, 30)),
        ("30/06/26", date(2026, 6, 30)),
        ("05/06/2026", date(2026, 6, 5)),
        ("30/06", date(2026, 6, 30)),
        ("30 June 2026", date(2026, 6, 30)),
        ("30th June 2026", date(2026, 6, 30)),
        ("30th June", date(2026, 6, 30)),
        ("1st September", date(2025, 9, 1)),
        ("June 2026", date(2026, 6, 30)),
        ("February 2028", date(2028, 2, 29)),
        ("end of June", date(2026, 6, 30)),
        ("End of August", date(2025, 8, 31)),
        ("the end of July", date(2026, 7, 31)),
        ("end of June 2027", date(2027, 6, 30)),
        ("end of next month", date(2025, 9, 30)),
        ("end of this month", date(2025, 8, 31)),
        ("end of the year", date(2025, 12, 31)),
        ("end of 2026", date(2026, 12, 31)),
        ("next Friday", date(2025, 8, 22)),
        ("in 2 weeks", date(2025, 8, 29)),
        ("tomorrow", date(2025, 8, 16)),
        ("the 5th", date(2025, 9, 5)),
        ("by 30 June 2026", date(2026, 6, 30)),
        ("  30 June 2026.  ", date(2026, 6, 30)),
        ("06/30/2026", None),
        ("31/02/2026", None),
        ("8", None),
        ("2026", None),
        ("hello", None),
        ("rec 8", None),
        ("cancel", None),
        ("12:30", None),
        ("in 2 hours", None),
        ("", None),
        ("30 June 2026 " + "and then some more words " * 5, None),
    ],
)
def test_parse_user_date(text: str, expected: date | None) -> None:
    assert parse_user_date(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30 June", date(2025, 6, 30)),
        ("30/06", date(2025, 6, 30)),
        ("June", date(2025, 6, 30)),
        ("end of June", date(2025, 6, 30)),
        ("May", date(2026, 5, 31)),
        ("in 3 months", date(2025, 9, 30)),
        ("3 months from now", date(2025, 9, 30)),
        ("2 weeks today", date(2025, 7, 14)),
        ("in a fortnight", date(2025, 7, 14)),
        ("in six weeks", date(2025, 8, 11)),
    ],
)
def test_parse_user_date_counts_today_as_on_or_after(text: str, expected: date) -> None:
    assert parse_user_date(text, date(2025, 6, 30)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("end of next month", None), ("in 3 years", None), ("June", None), ("end of next year", None),
     ("31/12", date(9999, 12, 31))],
)  # fmt: skip
def test_parse_user_date_past_the_end_of_the_calendar_is_none(text: str, expected: date | None) -> None:
    assert parse_user_date(text, date(9999, 12, 31)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("16<sup>th</sup> May 2025", date(2025, 5, 16)),
        ("16th May 2025", date(2025, 5, 16)),
        ("16 May 2025", date(2025, 5, 16)),
        ("  2<sup>nd</sup>\u00a0October 2024 ", date(2024, 10, 2)),
        ("16/05/2025", date(2025, 5, 16)),
        ("2025-05-16", date(2025, 5, 16)),
        ("May 2025", None),
        ("soon", None),
        ("", None),
    ],
)
def test_parse_published_date(text: str, expected: date | None) -> None:
    assert parse_published_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30/04/2026", date(2026, 4, 30)),
        ("2026-04-30", date(2026, 4, 30)),
        ("2026-04-30 00:00:00", date(2026, 4, 30)),
        ("30 April 2026", date(2026, 4, 30)),
        ("30th Apr 2026", date(2026, 4, 30)),
        ("30/04", None),
        ("04/30/2026", None),
        ("next Friday", None),
        ("", None),
    ],
)
def test_parse_written_date(text: str, expected: date | None) -> None:
    assert parse_written_date(text) == expected


@pytest.mark.parametrize(
    ("due_on", "today", "expected"),
    [
        (date(2025, 8, 14), date(2025, 8, 15), "1 day"),
        (date(2025, 8, 10), date(2025, 8, 15), "5 days"),
        (date(2025, 8, 8), date(2025, 8, 15), "1 week"),
        (date(2025, 7, 25), date(2025, 8, 15), "3 weeks"),
        (date(2025, 1, 15), date(2025, 8, 15), "7 months"),
        (date(2025, 7, 15), date(2025, 8, 15), "1 month"),
        (date(2024, 6, 15), date(2025, 8, 15), "1 year 2 months"),
        (date(2023, 8, 15), date(2025, 8, 15), "2 years"),
        (date(2025, 8, 15), date(2025, 8, 15), "0 days"),
    ],
)
def test_describe_overdue(due_on: date, today: date, expected: str) -> None:
    assert describe_overdue(due_on, today) == expected


def test_format_uk_date() -> None:
    assert format_uk_date(date(2026, 4, 3)) == "3 April 2026"
