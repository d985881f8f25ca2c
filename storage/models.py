"""The tracker's tables, and the vocabulary (kinds, statuses, assessments) they hold."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from domain.clock import SYSTEM_CLOCK
from domain.refs import reference_of
from domain.titles import MAX_TITLE_LENGTH, with_reference
from domain.vocabulary import Kind, Status


def utcnow() -> datetime:
    """Now, from the system clock (`domain.clock`): the default stamp of rows written without one."""
    return SYSTEM_CLOCK.now()


def display_name(name: str | None, email: str | None) -> str:
    """How a person is named to others: their name, else their address."""
    return name or email or "someone"


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC (SQLite keeps no zone) and always hands back aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Report(Base):
    __tablename__ = "reports"
    # Codes are matched without regard to case ("oic-2025" is OIC-2025), so they are unique so too.
    __table_args__ = (
        UniqueConstraint("title", "published_on"),
        Index("uq_reports_code_upper", func.upper(text("code")), unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    published_on: Mapped[date | None] = mapped_column(Date)
    inspection_type: Mapped[str | None] = mapped_column(String(200))
    source_name: Mapped[str | None] = mapped_column(String(500))
    # What the document calls the force's answers ("Constabulary response"), when it says.
    response_label: Mapped[str | None] = mapped_column(String(60))
    # The rest of a PCC response document: its report summary, the commissioner's own statement,
    # whose recommendations they are ("National") and whether they are specific to this force.
    summary: Mapped[str | None] = mapped_column(Text)
    commissioner_statement: Mapped[str | None] = mapped_column(Text)
    scope: Mapped[str | None] = mapped_column(String(60))
    force_specific: Mapped[bool | None] = mapped_column(Boolean)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    items: Mapped[list[Item]] = relationship(back_populates="report", order_by="Item.number")


class Person(Base):
    """Someone RecBot knows: identified by (tenant id, Entra object id) once they have talked to it.

    A row with no object id is a placeholder, made from an e-mail address (an import, an
    assignment); the e-mail only links that placeholder to a real person, never proves who anyone is.
    """

    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("tenant_id", "aad_object_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    aad_object_id: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    # The Teams user id ("29:…") needed to open a 1:1 chat for nudges.
    teams_user_id: Mapped[str | None] = mapped_column(String(200))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    reminders_stopped: Mapped[bool] = mapped_column(Boolean, default=False)
    reminders_snoozed_until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def display_name(self) -> str:
        return display_name(self.name, self.email)


class ItemNames:
    """An item's reference, label and current due date, worked out from its columns: for a stored
    `Item` and for a row read without the ORM (`storage.rows.ItemRow`)."""

    __slots__ = ()

    if TYPE_CHECKING:
        kind: str
        number: int
        title: str | None
        due_on: date | None
        revised_due_on: date | None

        @property
        def report(self) -> Coded: ...

    @property
    def current_due_on(self) -> date | None:
        return self.revised_due_on or self.due_on

    @property
    def reference(self) -> str:
        """The unambiguous short reference, e.g. "OIC-2025 R8"."""
        return reference_of(self.report.code, self.kind, self.number)

    @property
    def label(self) -> str:
        return f"{Kind(self.kind).label} {self.number}"

    @property
    def titled_reference(self) -> str:
        """The reference and the title, as cards name the item: "OIC-2025 R8 · Hydra training"."""
        return with_reference(self.reference, self.title)


class Coded(Protocol):
    """A report as `ItemNames` reads it."""

    @property
    def code(self) -> str: ...


class Item(Base, ItemNames):
    """A recommendation, area for improvement or cause of concern, with its current state cached.

    `status`, `assessment`, `revised_due_on`, the pending `requested_due_*` and `last_update_at`
    are kept in step with the append-only `updates` rows and `item_events` in the transaction that
    writes them.
    """

    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("report_id", "kind", "number"),
        Index("ix_items_number_kind", "number", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    # A few words that tell the item apart ("Hydra training package"): derived from the text on
    # import (domain.titles), or set by an admin. None only when the text gave nothing to derive.
    title: Mapped[str | None] = mapped_column(String(MAX_TITLE_LENGTH))
    due_on: Mapped[date | None] = mapped_column(Date)
    revised_due_on: Mapped[date | None] = mapped_column(Date)
    # A lead's revised-date request waiting for an admin: the date and the update that asked.
    requested_due_on: Mapped[date | None] = mapped_column(Date)
    requested_due_update_id: Mapped[int | None] = mapped_column(
        ForeignKey("updates.id", ondelete="SET NULL", use_alter=True)
    )
    status: Mapped[str] = mapped_column(String(40), default=Status.NOT_STARTED.value)
    assessment: Mapped[str | None] = mapped_column(String(20))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    last_update_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[Report] = relationship(back_populates="items")
    owner: Mapped[Person | None] = relationship()


class Update(Base):
    """One append-only progress record. Rows are never rewritten; a correction supersedes."""

    __tablename__ = "updates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    author_name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(40))
    assessment: Mapped[str | None] = mapped_column(String(20))
    narrative: Mapped[str] = mapped_column(Text, default="")
    evidence_url: Mapped[str | None] = mapped_column(String(2000))
    revised_due_on: Mapped[date | None] = mapped_column(Date)
    revised_due_reason: Mapped[str | None] = mapped_column(Text)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("updates.id"))
    # The Teams activity that produced this row ("conversation id/activity id", see
    # dialogs.ports.activity_key): a redelivered activity records nothing twice.
    source_activity_key: Mapped[str | None] = mapped_column(String(500), unique=True)


class ConversationRef(Base):
    """Where the bot can write to later: one row per conversation, refreshed on each activity."""

    __tablename__ = "conversation_refs"

    conversation_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    conversation_type: Mapped[str | None] = mapped_column(String(20))
    service_url: Mapped[str] = mapped_column(String(500))
    reference: Mapped[dict[str, object]] = mapped_column(JSON)
    # For personal chats: the Teams user id ("29:…") of the person, to find their 1:1 chat.
    user_id: Mapped[str | None] = mapped_column(String(200), index=True)
    default_report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BotState(Base):
    """Bot Framework conversation/user/dialog state, one JSON document per key, with an eTag."""

    __tablename__ = "bot_state"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    etag: Mapped[str] = mapped_column(String(64))
    document: Mapped[dict[str, object]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Delegate(Base):
    """Someone the owner (or an admin) allows to post updates for an item."""

    __tablename__ = "delegates"

    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ItemEvent(Base):
    """An append-only record of a governance decision on an item (who, when, what)."""

    __tablename__ = "item_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    actor_name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")
    # For assignments and delegates: the person concerned; for due dates: the new date.
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    due_on: Mapped[date | None] = mapped_column(Date)
    source_activity_key: Mapped[str | None] = mapped_column(String(500), unique=True)


class AdminEvent(Base):
    """An append-only record of admin rights given or taken away (who, to whom, when)."""

    __tablename__ = "admin_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    actor_name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))  # EventKind.ADMIN_GRANTED or ADMIN_REVOKED
    subject_id: Mapped[int] = mapped_column(ForeignKey("people.id"))


class DigestSubscription(Base):
    """A weekly digest to a channel (conversation) or to one person's 1:1 chat."""

    __tablename__ = "digest_subscriptions"
    # One subscription per target: NULLs never clash in a plain unique constraint, so coalesce.
    __table_args__ = (
        Index(
            "uq_digest_subscriptions_target",
            func.coalesce(text("conversation_id"), ""),
            func.coalesce(text("person_id"), 0),
            func.coalesce(text("report_id"), 0),
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The channel or chat it goes to; for a personal digest, None until the 1:1 chat is known.
    conversation_id: Mapped[str | None] = mapped_column(String(300))
    # Set for personal digests ("send me a weekly digest"): the items this person owns or follows.
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(Integer, default=0)  # Monday = 0
    at_time: Mapped[str] = mapped_column(String(5), default="09:00")  # wall clock, RECBOT_TIMEZONE
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    deactivated_reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Delivery(Base):
    """One proactive message claimed before sending: the unique key makes it go out once."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # e.g. "digest:12:2026-W48" or "nudge:7:2026-11-30": one per subscription/person per period.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("digest_subscriptions.id", ondelete="SET NULL"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    period: Mapped[str] = mapped_column(String(40))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(20), default="claimed")  # claimed, sent, failed, gone
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class SendSlot(Base):
    """When the next proactive send to a tenant may go, shared by every instance (Teams' per-tenant limit)."""

    __tablename__ = "send_slots"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_at: Mapped[datetime] = mapped_column(UTCDateTime)
