"""RecBot's vocabulary: the kinds of item, their statuses, a lead's assessment and what can happen to an item."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    RECOMMENDATION = "recommendation"
    AREA_FOR_IMPROVEMENT = "area for improvement"
    CAUSE_OF_CONCERN = "cause of concern"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def prefix(self) -> str:
        """The short form people write: R8, AFI 2, CoC 1."""
        return {"recommendation": "R", "area for improvement": "AFI", "cause of concern": "CoC"}[self.value]


class Status(StrEnum):
    NOT_STARTED = "Not started"
    IN_PROGRESS = "In progress"
    BLOCKED = "Blocked"
    AWAITING_SIGN_OFF = "Awaiting sign-off"
    CLOSED = "Closed"
    SUPERSEDED = "Superseded"

    @property
    def is_open(self) -> bool:
        return self not in (Status.CLOSED, Status.SUPERSEDED)


# The statuses of items still being worked on (not Closed or Superseded), as stored.
OPEN_STATUSES = tuple(status.value for status in Status if status.is_open)


class Assessment(StrEnum):
    """The lead's own view of progress; one input to the computed RAG."""

    ON_TRACK = "on track"
    AT_RISK = "at risk"
    OFF_TRACK = "off track"


class EventKind(StrEnum):
    ASSIGNED = "assigned"
    DELEGATE_ADDED = "delegate added"
    DELEGATE_REMOVED = "delegate removed"
    DUE_DATE_CHANGED = "due date changed"
    DUE_DATE_APPROVED = "due date approved"
    DUE_DATE_REJECTED = "due date rejected"
    CLOSURE_APPROVED = "closure approved"
    CLOSURE_REJECTED = "closure rejected"
    SUPERSEDED = "superseded"
    REOPENED = "reopened"
    NOTIFIED = "notified"  # a notice about the item sent (or not) to someone
    ADMIN_GRANTED = "admin granted"
    ADMIN_REVOKED = "admin revoked"
    TITLE_CHANGED = "title changed"
