"""Which items a list, count or "how many" question selects: pure rules over an item's facts and today's date.

One definition for lists and counts, so `list red` and `how many are red` never disagree, and the
rules are the ones the rest of the product uses: RAG from `domain.rag`, "stale" as the digest has
it (no update for `stale_days`, never-updated items included), due windows on the current due date
(the revised date when one was agreed) in calendar weeks (Monday first), months and quarters
(January, April, July, October: the financial year's quarters too).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from domain.rag import Rag, compute_rag
from domain.refs import ListFilter
from domain.vocabulary import Assessment, Status


@dataclass(frozen=True, slots=True)
class ItemFacts:
    """What the rules read of one item."""

    status: str
    assessment: str | None
    due_on: date | None  # the current due date: revised if agreed, else the HMICFRS date
    last_update_on: date | None  # UTC date of the latest update
    has_owner: bool


def month_start(day: date, months_on: int = 0) -> date:
    """The first day of `day`'s month, moved on by `months_on` months."""
    index = day.year * 12 + day.month - 1 + months_on
    return date(index // 12, index % 12 + 1, 1)


def quarter_start(day: date, quarters_on: int = 0) -> date:
    """The first day of `day`'s calendar quarter, moved on by `quarters_on` quarters."""
    return month_start(date(day.year, (day.month - 1) // 3 * 3 + 1, 1), 3 * quarters_on)


def week_start(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


def due_window(list_filter: ListFilter, today: date) -> tuple[date, date] | None:
    """[first day, day after the last) of a due-date filter; None for other filters."""
    match list_filter:
        case ListFilter.DUE_THIS_WEEK:
            return week_start(today), week_start(today) + timedelta(days=7)
        case ListFilter.DUE_NEXT_WEEK:
            return week_start(today) + timedelta(days=7), week_start(today) + timedelta(days=14)
        case ListFilter.DUE_THIS_MONTH:
            return month_start(today), month_start(today, 1)
        case ListFilter.DUE_NEXT_MONTH:
            return month_start(today, 1), month_start(today, 2)
        case ListFilter.DUE_THIS_QUARTER:
            return quarter_start(today), quarter_start(today, 1)
        case ListFilter.DUE_NEXT_QUARTER:
            return quarter_start(today, 1), quarter_start(today, 2)
        case ListFilter.DUE_NEXT_30_DAYS:
            return today, today + timedelta(days=31)
    return None


_RAGS = {ListFilter.RED: Rag.RED, ListFilter.AMBER: Rag.AMBER, ListFilter.GREEN: Rag.GREEN, ListFilter.BLUE: Rag.BLUE}
_STATUSES = {
    ListFilter.NOT_STARTED: Status.NOT_STARTED,
    ListFilter.IN_PROGRESS: Status.IN_PROGRESS,
    ListFilter.BLOCKED: Status.BLOCKED,
    ListFilter.AWAITING_SIGN_OFF: Status.AWAITING_SIGN_OFF,
}
_ASSESSMENTS = {ListFilter.AT_RISK: Assessment.AT_RISK, ListFilter.OFF_TRACK: Assessment.OFF_TRACK}


def rag_of(facts: ItemFacts, today: date) -> Rag:
    """The item's RAG as of `today` (domain/rag.py)."""
    return compute_rag(
        status=Status(facts.status),
        due_on=facts.due_on,
        assessment=Assessment(facts.assessment) if facts.assessment else None,
        last_update_on=facts.last_update_on,
        today=today,
    )


def selects(list_filter: ListFilter, facts: ItemFacts, *, today: date, stale_days: int) -> bool:
    """True when the filter takes this item."""
    is_open = Status(facts.status).is_open
    if list_filter is ListFilter.ALL:
        return True
    if list_filter in _RAGS:
        return rag_of(facts, today) is _RAGS[list_filter]
    if list_filter in _STATUSES:
        return facts.status == _STATUSES[list_filter].value
    if list_filter is ListFilter.CLOSED:
        return not is_open
    if not is_open:
        return False  # every filter below is about work still open
    if list_filter is ListFilter.OPEN:
        return True
    if list_filter is ListFilter.OVERDUE:
        return facts.due_on is not None and facts.due_on < today
    if list_filter in _ASSESSMENTS:
        return facts.assessment == _ASSESSMENTS[list_filter].value
    if list_filter is ListFilter.UNASSIGNED:
        return not facts.has_owner
    if list_filter is ListFilter.STALE:
        return facts.last_update_on is None or (today - facts.last_update_on).days >= stale_days
    window = due_window(list_filter, today)
    if window is not None:
        return facts.due_on is not None and window[0] <= facts.due_on < window[1]
    raise ValueError(f"no rule for {list_filter!r}")  # pragma: no cover - every filter has one


def _months(first: date, after: date) -> str:
    last = after - timedelta(days=1)
    if first.year == last.year:
        return f"{first:%B} to {last:%B %Y}"
    return f"{first:%B %Y} to {last:%B %Y}"


def describe(list_filter: ListFilter, today: date, *, stale_days: int) -> tuple[str, str]:
    """(title, what to say when nothing matches) for a list of this filter."""
    window = due_window(list_filter, today) or (today, today)
    first, after = window
    choices: dict[ListFilter, tuple[str, str]] = {
        ListFilter.ALL: ("All items", "No items yet: import a report with `recbot import`."),
        ListFilter.OPEN: ("Open items", "Nothing is open."),
        ListFilter.OVERDUE: ("Overdue", "Nothing is overdue."),
        ListFilter.DUE_THIS_MONTH: (f"Due in {today:%B %Y}", f"Nothing open is due in {today:%B}."),
        ListFilter.DUE_NEXT_30_DAYS: ("Due in the next 30 days", "Nothing open is due in the next 30 days."),
        ListFilter.NOT_STARTED: ("Not started", "Everything has been started."),
        ListFilter.IN_PROGRESS: ("In progress", "Nothing is in progress."),
        ListFilter.BLOCKED: ("Blocked", "Nothing is blocked."),
        ListFilter.AWAITING_SIGN_OFF: ("Awaiting sign-off", "Nothing is awaiting sign-off."),
        ListFilter.CLOSED: ("Closed", "Nothing is closed yet."),
        ListFilter.RED: ("RAG Red", "Nothing is Red."),
        ListFilter.AMBER: ("RAG Amber", "Nothing is Amber."),
        ListFilter.GREEN: ("RAG Green", "Nothing is Green."),
        ListFilter.BLUE: ("RAG Blue (closed or superseded)", "Nothing is Blue: nothing is closed or superseded yet."),
        ListFilter.AT_RISK: ("At risk (the lead's assessment)", "No lead says their item is at risk."),
        ListFilter.OFF_TRACK: ("Off track (the lead's assessment)", "No lead says their item is off track."),
        ListFilter.UNASSIGNED: ("Unassigned", "Every open item has an owner."),
        ListFilter.STALE: (
            f"No update for {stale_days} days or more",
            f"Every open item has had an update in the last {stale_days} days.",
        ),
        ListFilter.DUE_THIS_WEEK: (
            f"Due this week (w/c {first.day} {first:%B %Y})",
            "Nothing open is due this week.",
        ),
        ListFilter.DUE_NEXT_WEEK: (
            f"Due next week (w/c {first.day} {first:%B %Y})",
            "Nothing open is due next week.",
        ),
        ListFilter.DUE_NEXT_MONTH: (f"Due in {first:%B %Y}", f"Nothing open is due in {first:%B %Y}."),
        ListFilter.DUE_THIS_QUARTER: (
            f"Due this quarter ({_months(first, after)})",
            f"Nothing open is due this quarter ({_months(first, after)}).",
        ),
        ListFilter.DUE_NEXT_QUARTER: (
            f"Due next quarter ({_months(first, after)})",
            f"Nothing open is due next quarter ({_months(first, after)}).",
        ),
    }
    return choices[list_filter]


class Period(StrEnum):
    """The stretch of time a "what's changed …" question asks about."""

    TODAY = "today"
    THIS_WEEK = "this week"
    LAST_WEEK = "last week"
    LAST_7_DAYS = "in the last 7 days"
    THIS_MONTH = "this month"


def period_window(period: Period, today: date) -> tuple[date, date | None, str]:
    """(first day, the day after the last or None for "up to now", title) of a period, in local days."""
    match period:
        case Period.TODAY:
            return today, None, f"Changed today ({today.day} {today:%B %Y})"
        case Period.LAST_WEEK:
            first = week_start(today) - timedelta(days=7)
            return first, week_start(today), f"Changed last week (w/c {first.day} {first:%B %Y})"
        case Period.LAST_7_DAYS:
            first = today - timedelta(days=6)
            return first, None, f"Changed in the last 7 days (since {first:%A} {first.day} {first:%B})"
        case Period.THIS_MONTH:
            return month_start(today), None, f"Changed this month ({today:%B %Y})"
    first = week_start(today)
    return first, None, f"Changed this week (since {first:%A} {first.day} {first:%B %Y})"
