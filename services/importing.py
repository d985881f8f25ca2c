"""Importing PCC responses and trackers: `recbot import` from a path, and a file an admin uploads in Teams.

The CLI reads, parses and stores in one go (`import_file`). An upload is two steps: `preview`
parses the file and shows what importing it would do without storing any of it, keeping the
parsed reports server-side under a random token; `confirm` stores exactly those (one transaction,
idempotent) when the admin who sent the file presses Import, and `cancel` discards them. The card
carries only the token, never the file or what was parsed from it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path, PurePath
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.failures import describe_failure
from domain.records import ItemRecord, ReportRecord
from domain.text import one_line
from domain.vocabulary import Kind, Status
from services.governance import admin_refusal
from services.importers import DocumentError, parse_document
from services.importers.files import MAX_FILE_BYTES, SUPPORTED_SUFFIXES, read_document
from services.people import Identity
from services.results import Said
from storage import tracker
from storage.state import EtagConflict, StateTable, new_etag

log = logging.getLogger(__name__)

# A preview's Import button works this long after the file was sent; then the file must be sent again.
PREVIEW_KEPT = timedelta(hours=24)
PENDING_PREFIX = "recbot/import/"
FILE_NAME_LIMIT = 200
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def read_file(path: Path) -> bytes:
    """The file's bytes, at most one byte past the import cap: a huge file is refused without reading it all."""
    try:
        with path.open("rb") as stream:
            return stream.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise DocumentError(f"cannot read {path}: {error.strerror or error}") from error


def _outcome_line(outcome: tracker.ImportOutcome) -> str:
    report = outcome.report
    if outcome.created:
        return f"imported {report.code}: {report.title} ({outcome.items_added} items)"
    if outcome.items_added:
        return f"updated {report.code}: {outcome.items_added} new items added"
    return f"{report.code} is already imported: nothing changed"


async def _save(session: AsyncSession, records: Iterable[ReportRecord]) -> list[tracker.ImportOutcome]:
    return [await tracker.save_report(session, record) for record in records]


async def import_file(
    sessionmaker: async_sessionmaker[AsyncSession], path: Path, *, code: str | None = None
) -> list[str]:
    """Import one file idempotently; returns one line per report saying what changed."""
    records = parse_document(path.name, read_document(path.name, read_file(path)), code=code)
    async with sessionmaker.begin() as session:
        lines = [_outcome_line(outcome) for outcome in await _save(session, records)]
    await _refresh_statistics(sessionmaker)
    return lines


async def _refresh_statistics(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """`tracker.refresh_statistics` after an import is committed; the import stands if it fails."""
    try:
        await tracker.refresh_statistics(sessionmaker.kw["bind"])
    except Exception as error:  # noqa: BLE001 - questions are only planned on older statistics meanwhile
        log.warning("could not refresh the planner's statistics after an import: %s", describe_failure(error))


def refuse_unsupported(file_name: str) -> None:
    """Raise the reader's own `DocumentError` for a file RecBot cannot import by its name alone (no download needed)."""
    if PurePath(file_name).suffix.lower() not in SUPPORTED_SUFFIXES:
        read_document(file_name, b"")  # the reader refuses an unsupported name before it looks at any byte
        raise AssertionError("read_document accepted an unsupported file name")  # pragma: no cover


# --- what an upload would import ---------------------------------------------------------------


@dataclass(frozen=True)
class ReportPreview:
    """One report in an uploaded file, and what importing it would change."""

    code: str  # the code it is (or would be) stored under
    title: str
    published_on: date | None
    counts: tuple[tuple[Kind, int], ...]  # items in the file by kind, every kind listed
    first_due: date | None
    last_due: date | None
    undated: int  # items with no HMICFRS due date
    new_items: int
    known_items: int  # already stored: importing leaves them as they are
    known_report: bool  # the report itself is already stored

    @property
    def items(self) -> int:
        return self.new_items + self.known_items


@dataclass(frozen=True)
class ImportPreview:
    """What importing an uploaded file would do; `token` names the parsed reports kept for Import (None: nothing new)."""

    file_name: str
    reports: tuple[ReportPreview, ...]
    token: str | None

    @property
    def new_items(self) -> int:
        return sum(report.new_items for report in self.reports)


@dataclass(frozen=True)
class ImportDone:
    """An upload imported (or found imported already): one line per report."""

    file_name: str
    lines: tuple[str, ...]
    codes: tuple[str, ...]
    again: bool = False  # the Import button was pressed before: nothing changed this time


@dataclass(frozen=True)
class ImportClosed:
    """The preview is over without importing (cancelled), or cannot be used; the card says `text`."""

    file_name: str
    text: str


def _unique_items(record: ReportRecord) -> list[ItemRecord]:
    """The items `save_report` would consider: within a file, the first of two with one number wins."""
    seen: set[tuple[Kind, int]] = set()
    unique = []
    for item in record.items:
        if (item.kind, item.number) not in seen:
            seen.add((item.kind, item.number))
            unique.append(item)
    return unique


def _report_preview(record: ReportRecord, code: str, created: bool, items_added: int) -> ReportPreview:
    items = _unique_items(record)
    dues = sorted(item.due_on for item in items if item.due_on is not None)
    return ReportPreview(
        code=code,
        title=record.title,
        published_on=record.published_on,
        counts=tuple((kind, sum(1 for item in items if item.kind is kind)) for kind in Kind),
        first_due=dues[0] if dues else None,
        last_due=dues[-1] if dues else None,
        undated=len(items) - len(dues),
        new_items=items_added,
        known_items=len(items) - items_added,
        known_report=not created,
    )


# --- the parsed reports kept between preview and Import ---------------------------------------


def _item_document(item: ItemRecord) -> dict[str, Any]:
    return {
        "kind": item.kind.value,
        "number": item.number,
        "title": item.title,
        "text": item.text,
        "due_on": item.due_on.isoformat() if item.due_on else None,
        "response": item.response,
        "status": item.status.value,
        "owner_email": item.owner_email,
    }


def _report_document(record: ReportRecord) -> dict[str, Any]:
    return {
        "title": record.title,
        "code": record.code,
        "published_on": record.published_on.isoformat() if record.published_on else None,
        "inspection_type": record.inspection_type,
        "source_name": record.source_name,
        "items": [_item_document(item) for item in record.items],
    }


def _day(value: object) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else None


def _report_record(document: dict[str, Any]) -> ReportRecord:
    return ReportRecord(
        title=document["title"],
        code=document["code"],
        published_on=_day(document["published_on"]),
        inspection_type=document["inspection_type"],
        source_name=document["source_name"],
        items=tuple(
            ItemRecord(
                kind=Kind(item["kind"]),
                number=item["number"],
                text=item["text"],
                due_on=_day(item["due_on"]),
                response=item["response"],
                status=Status(item["status"]),
                owner_email=item["owner_email"],
                title=item.get("title"),  # previews kept before titles existed have none
            )
            for item in document["items"]
        ),
    )


EXPIRED = "This import preview has expired or was already dealt with, so nothing was imported. Send the file again."
NOT_YOURS = "Only the admin who sent this file can import it or cancel it. Nothing was imported."
BUSY = "This file is being imported right now; nothing more to do."


class UploadImports:
    """Preview, import or cancel a file sent to RecBot; only admins, and only the admin who sent the file."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        now: Callable[[], datetime],
        bootstrap_admins: Sequence[str] = (),
        kept: timedelta = PREVIEW_KEPT,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._state = StateTable(sessionmaker)
        self._now = now
        self._bootstrap_admins = tuple(value.lower() for value in bootstrap_admins)
        self._kept = kept

    async def refusal(self, actor: Identity | None) -> Said | None:
        """Why `actor` may not import files (naming the admins, as other admin commands do), or None."""
        if actor is None:
            return Said("I couldn't tell who you are, so I can't import files.")
        if actor.is_admin:
            return None
        async with self._sessionmaker() as session:
            refused = await admin_refusal(session, "import files", self._bootstrap_admins)
        return Said(f"{refused.text} Nothing was imported.")

    async def preview(
        self, file_name: str, data: bytes, *, uploader: Identity, conversation_id: str
    ) -> ImportPreview | Said:
        """Parse the file (a `DocumentError` says why it cannot be imported) and show what importing would do.

        Nothing is stored but the parsed reports, kept under a random token for the Import button.
        """
        refused = await self.refusal(uploader)
        if refused is not None:
            return refused
        name = one_line(PurePath(file_name).name or file_name, FILE_NAME_LIMIT)
        # The readers and parsers are CPU-bound (a PDF most of all): off the event loop.
        records = await asyncio.to_thread(lambda: parse_document(name, read_document(name, data)))
        reports = await self._dry_run(records)
        token = None
        if any(report.new_items for report in reports):
            token = secrets.token_urlsafe(24)
            document = {
                "uploader": uploader.person_id,
                "conversation": conversation_id,
                "file_name": name,
                "expires_at": (self._now() + self._kept).isoformat(),
                "reports": [_report_document(record) for record in records],
            }
            await self._put(PENDING_PREFIX + token, None, document)
        return ImportPreview(name, tuple(reports), token)

    async def _dry_run(self, records: Sequence[ReportRecord]) -> list[ReportPreview]:
        """What `save_report` would do with each record: run it, read the outcome, roll it all back.

        The import's own code decides what is new (the report matched by title and date, items by
        kind and number, the first of two wins, the code a new report would get), so the preview
        cannot drift from what Import then does.
        """
        previews = []
        async with self._sessionmaker() as session:
            try:
                for record in records:
                    outcome = await tracker.save_report(session, record)
                    previews.append(_report_preview(record, outcome.report.code, outcome.created, outcome.items_added))
            finally:
                await session.rollback()
        return previews

    async def confirm(self, token: object, actor: Identity | None) -> ImportDone | ImportClosed | Said:
        """Import the reports kept under `token`, once, for the admin who sent the file."""
        pending = await self._pending(token, actor)
        if not isinstance(pending, tuple):
            return pending
        key, etag, document = pending
        file_name = str(document.get("file_name", "the file"))
        if "done" in document:
            return ImportDone(file_name, tuple(document["done"]), tuple(document.get("codes", ())), again=True)
        if document.get("claimed"):
            return Said(BUSY)
        # Claimed with the row's eTag: of two presses at once (two devices, a double click), one imports.
        claimed = {**document, "claimed": True}
        try:
            claimed_etag = await self._put(key, etag, claimed)
        except EtagConflict:
            return Said(BUSY)
        try:
            records = [_report_record(report) for report in document["reports"]]
            async with self._sessionmaker.begin() as session:
                outcomes = await _save(session, records)
                lines = [_outcome_line(outcome) for outcome in outcomes]
                codes = list(dict.fromkeys(outcome.report.code for outcome in outcomes))
        except BaseException:
            # Nothing was stored: let the admin press Import again.
            try:
                await self._put(key, claimed_etag, document)
            except Exception as error:  # noqa: BLE001 - the import's own failure is the one to raise
                log.warning("could not release a claimed import preview: %s", describe_failure(error))
            raise
        # Kept until it expires, so a second press answers with the same outcome and changes nothing.
        done = {name: value for name, value in document.items() if name not in ("reports", "claimed")}
        await self._put(key, claimed_etag, {**done, "done": lines, "codes": codes})
        await _refresh_statistics(self._sessionmaker)
        return ImportDone(file_name, tuple(lines), tuple(codes))

    async def cancel(self, token: object, actor: Identity | None) -> ImportDone | ImportClosed | Said:
        """Discard the reports kept under `token`: nothing is imported."""
        pending = await self._pending(token, actor)
        if not isinstance(pending, tuple):
            return pending
        key, _etag, document = pending
        file_name = str(document.get("file_name", "the file"))
        if "done" in document:
            return ImportDone(file_name, tuple(document["done"]), tuple(document.get("codes", ())), again=True)
        if document.get("claimed"):
            return Said(BUSY)
        await self._state.delete([key])
        return ImportClosed(file_name, f"Cancelled: nothing was imported from {file_name}.")

    async def _pending(self, token: object, actor: Identity | None) -> tuple[str, str, dict[str, Any]] | Said:
        """The kept row under `token` if `actor` may act on it, else what to say."""
        if not isinstance(token, str) or not _TOKEN.fullmatch(token):
            return Said(EXPIRED)
        refused = await self.refusal(actor)
        if refused is not None:
            return refused
        assert actor is not None
        key = PENDING_PREFIX + token
        rows = await self._state.read([key])
        if not rows:
            return Said(EXPIRED)
        _key, etag, document = rows[0]
        if not isinstance(document, dict):
            return Said(EXPIRED)
        expires_at = document.get("expires_at")
        if not isinstance(expires_at, str) or datetime.fromisoformat(expires_at) <= self._now():
            await self._state.delete([key])
            return Said(EXPIRED)
        if document.get("uploader") != actor.person_id:
            return Said(NOT_YOURS)
        return key, etag, document

    async def _put(self, key: str, expected_etag: str | None, document: dict[str, Any]) -> str:
        """Write the row under `key` (only over `expected_etag` when given); returns its new eTag."""
        etag = new_etag()
        values = {"key": key, "etag": etag, "document": document, "updated_at": self._now()}
        await self._state.write([(expected_etag, values)])
        return etag
