"""`recbot import`: read a file, parse it, and store every report in it in one transaction."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.importers import DocumentError, parse_document
from storage import tracker


def read_text(path: Path) -> str:
    """The file's text, or a DocumentError saying why it cannot be read as text."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise DocumentError(f"cannot read {path}: {error.strerror or error}") from error
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DocumentError(
            f"{path.name} is not a UTF-8 text file: expected a PCC response document (.txt/.md) or a CSV tracker"
        ) from error


async def import_file(
    sessionmaker: async_sessionmaker[AsyncSession], path: Path, *, code: str | None = None
) -> list[str]:
    """Import one file idempotently; returns one line per report saying what changed."""
    records = parse_document(path.name, read_text(path), code=code)
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
