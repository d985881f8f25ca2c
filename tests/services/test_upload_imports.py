"""`UploadImports`: a preview stores nothing of the report, Import stores exactly what `recbot import` would,
once, and only for the admin who sent the file."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.vocabulary import Kind
from services.export import export_rows
from services.importers import DocumentError
from services.importing import ImportDone, ImportPreview, UploadImports, import_file, refuse_unsupported
from services.people import Identity
from services.results import Said
from storage.models import Item, Report
from tests.services.sample_documents import SAMPLE_DOCX, SEED

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
TODAY = date(2026, 11, 2)
ADMIN = Identity(person_id=1, email="sam@force.police.uk", name="Sam", is_admin=True)
OTHER_ADMIN = Identity(person_id=2, email="alex@force.police.uk", name="Alex", is_admin=True)


async def _rows(sessionmaker: async_sessionmaker[AsyncSession]) -> list[dict[str, object]]:
    async with sessionmaker() as session:
        return await export_rows(session, today=TODAY)


async def _counts(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    async with sessionmaker() as session:
        reports = await session.scalar(select(func.count()).select_from(Report))
        items = await session.scalar(select(func.count()).select_from(Item))
    return int(reports or 0), int(items or 0)


def _imports(sessionmaker: async_sessionmaker[AsyncSession], now: list[datetime]) -> UploadImports:
    return UploadImports(sessionmaker, now=lambda: now[0])


async def test_import_stores_what_recbot_import_stores_and_the_preview_stores_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    imports = _imports(sessionmaker, [NOW])
    preview = await imports.preview(SAMPLE_DOCX.name, SAMPLE_DOCX.read_bytes(), uploader=ADMIN, conversation_id="a:1")

    assert isinstance(preview, ImportPreview) and preview.token is not None
    (report,) = preview.reports
    assert (report.code, report.new_items, report.known_items, report.known_report) == ("OIC-2025", 4, 0, False)
    assert dict(report.counts) == {Kind.RECOMMENDATION: 4, Kind.AREA_FOR_IMPROVEMENT: 0, Kind.CAUSE_OF_CONCERN: 0}
    assert (report.first_due, report.last_due, report.undated) == (date(2025, 12, 31), date(2026, 4, 30), 0)
    assert await _counts(sessionmaker) == (0, 0)

    done = await imports.confirm(preview.token, ADMIN)
    assert isinstance(done, ImportDone) and done.codes == ("OIC-2025",) and not done.again
    uploaded = await _rows(sessionmaker)

    # The same file through `recbot import`, into an emptied database, stores the very same rows.
    async with sessionmaker.begin() as session:
        await session.execute(Item.__table__.delete())  # type: ignore[arg-type]
        await session.execute(Report.__table__.delete())  # type: ignore[arg-type]
    await import_file(sessionmaker, SAMPLE_DOCX)
    assert await _rows(sessionmaker) == uploaded


async def test_a_partly_imported_report_previews_what_is_new(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    imports = _imports(sessionmaker, [NOW])
    tracker = b"report_code,report_title,published_on,number,text\n"
    tracker += b"OIC-2025,Improving the response to organised immigration crime,16/05/2025,8,By 30 April 2026 do it.\n"
    first = await imports.preview("first.csv", tracker, uploader=ADMIN, conversation_id="a:1")
    assert isinstance(first, ImportPreview) and first.token is not None
    await imports.confirm(first.token, ADMIN)

    preview = await imports.preview(SAMPLE_DOCX.name, SAMPLE_DOCX.read_bytes(), uploader=ADMIN, conversation_id="a:1")

    assert isinstance(preview, ImportPreview)
    (report,) = preview.reports
    assert (report.code, report.new_items, report.known_items, report.known_report) == ("OIC-2025", 3, 1, True)
    assert await _counts(sessionmaker) == (1, 1)


async def test_only_the_sender_may_import_and_only_until_the_preview_expires(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = [NOW]
    imports = _imports(sessionmaker, now)
    preview = await imports.preview(SEED.name, SEED.read_bytes(), uploader=ADMIN, conversation_id="a:1")
    assert isinstance(preview, ImportPreview) and preview.token is not None

    refused = await imports.confirm(preview.token, OTHER_ADMIN)
    assert isinstance(refused, Said) and "Only the admin who sent this file" in refused.text
    not_admin = await imports.confirm(preview.token, Identity(3, None, "Jane", is_admin=False))
    assert isinstance(not_admin, Said) and "Only an admin can import files" in not_admin.text
    now[0] += timedelta(hours=24, seconds=1)
    expired = await imports.confirm(preview.token, ADMIN)
    assert isinstance(expired, Said) and "expired" in expired.text
    assert await _counts(sessionmaker) == (0, 0)


async def test_a_non_admin_gets_no_preview(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    imports = _imports(sessionmaker, [NOW])
    refused = await imports.preview(
        SEED.name, SEED.read_bytes(), uploader=Identity(3, None, "Jane", False), conversation_id="a:1"
    )
    assert isinstance(refused, Said) and refused.text.startswith(
        "Only an admin can import files — no admins are set up yet"
    )


@pytest.mark.parametrize("name", ["response.doc", "tracker.xls", "notes", "picture.png"])
def test_unsupported_names_are_refused_with_the_readers_message(name: str) -> None:
    with pytest.raises(DocumentError, match="RecBot cannot import"):
        refuse_unsupported(name)


@pytest.mark.parametrize("name", ["response.docx", "R.PDF", "tracker.xlsx", "t.csv", "r.txt", "r.md"])
def test_supported_names_pass(name: str) -> None:
    refuse_unsupported(name)


async def _analysed(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """How many times PostgreSQL's planner statistics of `items` were refreshed by hand (ANALYZE)."""
    async with sessionmaker() as session:
        return int(await session.scalar(text("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'items'")))


async def test_both_imports_refresh_the_planners_statistics(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Right after an import, questions are planned on what the tables now hold (`tracker.refresh_statistics`)."""
    if sessionmaker.kw["bind"].dialect.name != "postgresql":
        pytest.skip("SQLite keeps no planner statistics unless asked to: nothing to refresh")
    before = await _analysed(sessionmaker)
    imports = _imports(sessionmaker, [NOW])
    preview = await imports.preview(SAMPLE_DOCX.name, SAMPLE_DOCX.read_bytes(), uploader=ADMIN, conversation_id="a:1")
    assert isinstance(preview, ImportPreview) and preview.token is not None
    assert isinstance(await imports.confirm(preview.token, ADMIN), ImportDone)
    assert await _analysed(sessionmaker) == before + 1
    await import_file(sessionmaker, SEED)
    assert await _analysed(sessionmaker) == before + 2
