"""`recbot import`: read a file (.docx, .pdf, .xlsx, .csv, .txt, .md), parse it, store its reports in one transaction."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.importers import DocumentError, parse_document
from services.importers.files import MAX_FILE_BYTES, read_document
from storage import tracker


def read_file(path: Path) -> bytes:
    """The file's bytes, at most one byte past the import cap: a huge file is refused without reading it all."""
    try:
        with path.open("rb") as stream:
            return stream.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise DocumentError(f"cannot read {path}: {error.strerror or error}") from error


async def import_file(
    sessionmaker: async_sessionmaker[AsyncSession], path: Path, *, code: str | None = None
) -> list[str]:
    """Import one file idempotently; returns one line per report saying what changed."""
    records = parse_document(path.name, read_document(path.name, read_file(path)), code=code)
    lines = []
    async with sessionmaker.begin() as session:
        for record in records:
            outcome = await tracker.save_report(session, record)
            report = outcome.report
            if outcome.created:
                lines.append(f"imported {report.code}: {report.title} ({outcome.items_added} items)")
            elif outcome.items_added:
                lines.append(f"updated {report.code}: {outcome.items_added} new items added")
            else:
                lines.append(f"{report.code} is already imported: nothing changed")
    return lines
