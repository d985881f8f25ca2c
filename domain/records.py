"""Plain records that importers produce and `storage.tracker.save_report` stores."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from domain.vocabulary import Assessment, Kind, Status


@dataclass(frozen=True)
class ItemRecord:
    kind: Kind
    number: int
    text: str
    due_on: date | None = None
    # The force's response (PCC document) or latest update (tracker): stored as the first update.
    response: str = ""
    status: Status = Status.NOT_STARTED
    owner_email: str | None = None
    # What `recbot export` adds to a tracker, restored when the item is new to the database.
    revised_due_on: date | None = None
    requested_due_on: date | None = None  # a later date asked for by the latest update, not yet decided
    requested_due_reason: str | None = None
    assessment: Assessment | None = None
    updated_on: date | None = None  # the day of the latest update
    updated_by: str | None = None  # its author's name; None (and no e-mail): the force's response
    updated_by_email: str | None = None
    evidence_url: str | None = None
    delegate_emails: tuple[str, ...] = ()
    closed_on: date | None = None
    closed_by: str | None = None
    # The item's short title when the file gives one (a tracker's `title` column); else derived on import.
    title: str | None = None


@dataclass(frozen=True)
class ReportRecord:
    title: str
    code: str
    published_on: date | None
    inspection_type: str | None = None
    source_name: str | None = None
    items: tuple[ItemRecord, ...] = field(default_factory=tuple)
    # What the document calls the force's answers ("Constabulary response"); None: not said.
    response_label: str | None = None
    # The rest of a PCC response document (None when it has none).
    summary: str | None = None
    commissioner_statement: str | None = None
    scope: str | None = None  # "Recommendations: National"
    force_specific: bool | None = None  # "Cheshire Specific: No"
