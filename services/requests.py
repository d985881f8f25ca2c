"""What people ask the services to do, as plain requests: the chat grammar (`bot/intents.py`) builds them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.refs import ItemRef

# --- governance (services/governance.py) -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Assign:
    """Make someone the owner of an item."""

    ref: ItemRef
    # The e-mail address when exactly one was typed; None for an @mention or a bare name.
    assignee: str | None
    # What followed "to", as typed ("Jane Doe" for an @mention); "" when nothing did.
    assignee_text: str


@dataclass(frozen=True, slots=True)
class AddDelegate:
    """Let someone post updates for an item."""

    ref: ItemRef
    delegate_email: str | None
    delegate_text: str


@dataclass(frozen=True, slots=True)
class RemoveDelegate:
    """Stop someone posting updates for an item."""

    ref: ItemRef
    delegate_email: str | None
    delegate_text: str


@dataclass(frozen=True, slots=True)
class GrantAdmin:
    """Make someone an admin."""

    email: str | None
    # The person as typed, for @mentions and names; the same text as `email` when one was typed.
    target_text: str = ""


@dataclass(frozen=True, slots=True)
class RevokeAdmin:
    """Take admin rights away from someone."""

    email: str | None
    target_text: str = ""


@dataclass(frozen=True, slots=True)
class SetDueDate:
    """Change an item's revised due date; the handler parses `date_text` ("" when none given)."""

    ref: ItemRef
    date_text: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class SetTitle:
    """Give an item a new short title ("Hydra training"), as typed ("" when none given)."""

    ref: ItemRef
    title: str


@dataclass(frozen=True, slots=True)
class ApproveDueDate:
    """An admin accepts the later due date a lead asked for in an update."""

    ref: ItemRef


@dataclass(frozen=True, slots=True)
class RejectDueDate:
    """An admin turns down the later due date a lead asked for, with the reason."""

    ref: ItemRef
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Supersede:
    """An admin marks an item Superseded: by another item, or for a reason (one of the two)."""

    ref: ItemRef
    by: ItemRef | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Reopen:
    """An admin puts a closed or superseded item back In progress, with the reason."""

    ref: ItemRef
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ListAdmins:
    """Who the admins are and who made them (or stopped them being) admins."""


class Waiting(StrEnum):
    """Whose requests a `Pending` question is about."""

    ALL = "all"  # "list pending requests"
    FOR_ME = "for me"  # "what needs my decision" / "what's waiting on me": an admin's queue, a lead's own


@dataclass(frozen=True, slots=True)
class Pending:
    """Requests (sign-off, a later due date) waiting for an admin's decision."""

    waiting: Waiting = Waiting.ALL


@dataclass(frozen=True, slots=True)
class ApproveClosure:
    """An admin accepts an item proposed as complete."""

    ref: ItemRef


@dataclass(frozen=True, slots=True)
class RejectClosure:
    """An admin sends an item back to In progress, with an optional reason."""

    ref: ItemRef
    reason: str | None = None


# --- digests and reminders (services/subscriptions.py) ---------------------------------------------


@dataclass(frozen=True, slots=True)
class Subscribe:
    """Send the weekly digest to this conversation (defaults: Monday 09:00, all reports)."""

    # 0 = Monday … 6 = Sunday.
    weekday: int | None = None
    # "HH:MM" when the time was understood; otherwise the time as typed, for the handler to refuse.
    time_text: str | None = None
    report_code: str | None = None


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    """Stop the digest in this conversation (for one report, or all)."""

    report_code: str | None = None


@dataclass(frozen=True, slots=True)
class PersonalDigest:
    """Send the weekly digest to the speaker in a 1:1 chat."""

    weekday: int | None = None
    time_text: str | None = None


@dataclass(frozen=True, slots=True)
class SnoozeReminders:
    """Pause nudges for `days` days, or until `until_text` (unparsed).

    Both None means a duration was given but not understood ("for a while"): ask again.
    """

    days: int | None
    until_text: str | None = None
