"""The RAG rating of an item: computed from its status, dates and the lead's assessment, never typed in."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Protocol

from domain.dates import describe_overdue
from domain.vocabulary import Assessment, Status

# PRODUCT.md: "due within 30 days" is amber; "no update for 60 days or more" is amber.
DUE_SOON = timedelta(days=30)
STALE_AFTER = timedelta(days=60)


class Rag(StrEnum):
    BLUE = "Blue"
    RED = "Red"
    AMBER = "Amber"
    GREEN = "Green"


def compute_rag(
    *,
    status: Status,
    due_on: date | None,
    assessment: Assessment | None,
    last_update_on: date | None,
    today: date,
) -> Rag:
    """Rate an item; the first rule that matches wins (PRODUCT.md, "RAG").

    - Blue: Closed or Superseded.
    - Red: past its current due date (`today > due_on`) and not closed, or the lead says off track.
    - Amber: the lead says at risk; or due within 30 days (`0 <= due_on - today <= 30` days) and
      not awaiting sign-off; or no update for 60 days or more (`today - last_update_on >= 60`
      days, and an item with no update at all counts as stale).
    - Green: everything else.

    `due_on` is the current due date: the revised date if one was agreed, else the HMICFRS date.
    """
    if not Status(status).is_open:
        return Rag.BLUE
    if assessment == Assessment.OFF_TRACK or (due_on is not None and today > due_on):
        return Rag.RED
    if assessment == Assessment.AT_RISK:
        return Rag.AMBER
    # Awaiting sign-off means the lead says the work is done, so an approaching deadline is no risk.
    if due_on is not None and status != Status.AWAITING_SIGN_OFF and due_on - today <= DUE_SOON:
        return Rag.AMBER
    # Silence is a risk in itself: an item nobody has ever reported on is as stale as it gets.
    if last_update_on is None or today - last_update_on >= STALE_AFTER:
        return Rag.AMBER
    return Rag.GREEN


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def rag_reasons(
    *,
    status: Status,
    due_on: date | None,
    assessment: Assessment | None,
    last_update_on: date | None,
    today: date,
) -> tuple[str, ...]:
    """Why `compute_rag` rates an item as it does, in the words a status card shows; then the days left.

    Red: "overdue by 7 months", "the lead says off track". Amber: "the lead says at risk", "due in
    12 days", "no update for 64 days" (or "no update yet"). Green: "due in 150 days" when there is a
    date. Blue (closed or superseded): nothing.
    """
    rag = compute_rag(status=status, due_on=due_on, assessment=assessment, last_update_on=last_update_on, today=today)
    if rag is Rag.BLUE:
        return ()
    days_left = (due_on - today).days if due_on is not None else None
    due = "due today" if days_left == 0 else f"due in {_days(days_left)}" if days_left is not None else None
    if rag is Rag.RED:
        reasons = [f"overdue by {describe_overdue(due_on, today)}"] if due_on is not None and today > due_on else []
        return (*reasons, *(["the lead says off track"] if assessment == Assessment.OFF_TRACK else []))
    if rag is Rag.GREEN:
        return (due,) if due else ()
    reasons = ["the lead says at risk"] if assessment == Assessment.AT_RISK else []
    if due and status != Status.AWAITING_SIGN_OFF and due_on is not None and due_on - today <= DUE_SOON:
        reasons.append(due)
    if last_update_on is None:
        reasons.append("no update yet")
    elif today - last_update_on >= STALE_AFTER:
        reasons.append(f"no update for {_days((today - last_update_on).days)}")
    return tuple(reasons)


class Rateable(Protocol):
    """What the rating reads of an item (a stored `Item` has all of it)."""

    @property
    def status(self) -> str: ...
    @property
    def current_due_on(self) -> date | None: ...
    @property
    def assessment(self) -> str | None: ...
    @property
    def last_update_at(self) -> datetime | None: ...


def rag_for_item(item: Rateable, today: date) -> Rag:
    """Rate an item as of `today`."""
    return compute_rag(
        status=Status(item.status),
        due_on=item.current_due_on,
        assessment=Assessment(item.assessment) if item.assessment else None,
        last_update_on=_utc_date(item.last_update_at),
        today=today,
    )


def rag_reasons_for_item(item: Rateable, today: date) -> tuple[str, ...]:
    """`rag_reasons` of an item as of `today`."""
    return rag_reasons(
        status=Status(item.status),
        due_on=item.current_due_on,
        assessment=Assessment(item.assessment) if item.assessment else None,
        last_update_on=_utc_date(item.last_update_at),
        today=today,
    )


def _utc_date(moment: datetime | None) -> date | None:
    if moment is None:
        return None
    # Transient (never stored) items may hold naive datetimes; the model's convention is UTC.
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(timezone.utc).date()
