"""Item titles through imports: derived for new items (and items without one), never over an admin's,
read from a tracker's `title` column, and kept across an upload's preview. SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.records import ItemRecord
from domain.vocabulary import Kind
from services.importers import DocumentError, parse_csv_tracker, parse_document
from services.importing import _report_document, _report_record, import_file
from storage import progress, tracker
from storage.models import Item
from tests.conftest import SEED

Sessionmaker = async_sessionmaker[AsyncSession]
SEED_TITLES = {
    2: "Required intelligence document",
    4: "Clear plans to collect, analyse and share information",
    8: "Hydra training package",
    9: "Four modules of the e-learning package",
}


async def _titles(sessionmaker: Sessionmaker, code: str = "OIC-2025") -> dict[int, str | None]:
    async with sessionmaker() as session:
        return {item.number: item.title for item in await tracker.all_items(session, report_code=code)}


async def test_an_import_titles_every_item(sessionmaker: Sessionmaker) -> None:
    await import_file(sessionmaker, SEED)
    assert await _titles(sessionmaker) == SEED_TITLES


async def test_a_reimport_keeps_an_admins_title_and_titles_an_item_without_one(sessionmaker: Sessionmaker) -> None:
    await import_file(sessionmaker, SEED)
    async with sessionmaker.begin() as session:
        admin = await tracker.person_by_email(session, "pat@force.police.uk")
        (r8,) = await tracker.find_items(session, number=8, report_code="OIC-2025")
        assert admin is not None
        await progress.set_title(session, r8, admin, "Hydra training", "activity-1")
        await session.execute(update(Item).where(Item.number == 4).values(title=None))
    assert await import_file(sessionmaker, SEED) == ["OIC-2025 is already imported: nothing changed"]
    assert await _titles(sessionmaker) == SEED_TITLES | {8: "Hydra training"}


async def test_a_new_item_is_told_apart_from_the_titles_stored(sessionmaker: Sessionmaker) -> None:
    await import_file(sessionmaker, SEED)
    (seed,) = parse_document(SEED.name, SEED.read_text())
    hydra_again = ItemRecord(Kind.RECOMMENDATION, 10, seed.items[2].text)
    named = ItemRecord(Kind.RECOMMENDATION, 11, "Anything at all.", title="Required intelligence document")
    async with sessionmaker.begin() as session:
        outcome = await tracker.save_report(session, replace(seed, items=(*seed.items, hydra_again, named)))
    assert outcome.items_added == 2
    titles = await _titles(sessionmaker)
    assert (titles[10], titles[11]) == ("Hydra training package (2)", "Required intelligence document (2)")


TRACKER = (
    "report_code,report_title,published_on,number,text,title\n"
    "X-2025,An inspection,2025-01-01,1,The force should improve how it records crime.,Crime recording\n"
    "X-2025,,2025-01-01,2,The force should improve how it records the wishes of victims.,\n"
)


async def test_a_trackers_title_column_is_read_and_kept_through_an_uploads_preview(
    sessionmaker: Sessionmaker, tmp_path: Path
) -> None:
    (record,) = parse_csv_tracker(TRACKER)
    assert [item.title for item in record.items] == ["Crime recording", None]
    # An upload keeps what it parsed until Import is pressed: the title goes with it.
    assert _report_record(_report_document(record)).items == record.items
    path = tmp_path / "tracker.csv"
    path.write_text(TRACKER, encoding="utf-8")
    await import_file(sessionmaker, path)
    assert await _titles(sessionmaker, "X-2025") == {
        1: "Crime recording",
        2: "Improve how it records the wishes of victims",
    }


@pytest.mark.parametrize(
    ("title", "problem"),
    [
        ("x" * 81, "row 2: title 'xxx"),
        ("[Crime](http://evil.example)", "row 2: title '[Crime](http://evil.example)': A title starts with a letter"),
    ],
)
def test_a_bad_title_in_a_tracker_is_refused(title: str, problem: str) -> None:
    with pytest.raises(DocumentError) as raised:
        parse_csv_tracker(TRACKER.replace("Crime recording", f'"{title}"'))
    assert problem in str(raised.value)


def test_a_title_column_is_optional() -> None:
    (record,) = parse_csv_tracker(
        TRACKER.replace(",title\n", "\n").replace(",Crime recording\n", "\n").replace(".,\n", ".\n")
    )
    assert [item.title for item in record.items] == [None, None]
    assert record.published_on == date(2025, 1, 1)
