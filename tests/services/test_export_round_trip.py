"""An export imported into an empty database restores each item's state, on SQLite and PostgreSQL.

Both ways: the exported CSV (and xlsx) imports into an empty database, and that database exports
the same file again. What "the same" cannot cover is checked in the database itself: the revised
date's event, linked authors and delegates, the pending request, the closing decision.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain.vocabulary import Assessment, EventKind
from services.export import COLUMNS, HEADERS, UPDATE_HEADERS, export_rows, export_update_rows, write_xlsx
from services.importers import DocumentError
from services.importers.csv_tracker import parse_csv_tracker
from services.importing import import_file
from storage import ownership, progress, tracker
from storage.models import Delegate, ItemEvent, Person, Update
from storage.tracker import IMPORT_ACTOR
from tests.services.test_export import NARRATIVE, TODAY, _csv_text, _empty, _seed_tracker_and_document

Sessionmaker = async_sessionmaker[AsyncSession]
EVIDENCE = "https://force.sharepoint.com/sites/hmicfrs/R8-training-plan.docx"
# Late enough for items to be overdue: R9's revised date (30 September 2026) has passed.
LATE = date(2026, 11, 2)


async def _seed(sessionmaker: Sessionmaker) -> None:
    """The export tests' tracker (R9 revised by an admin, R2 delegates and a pending request), and more:
    R4 revised too, R8 closed with evidence by Pat Admin and given a title of hers, an AFI updated by
    someone known only by name."""
    await _seed_tracker_and_document(sessionmaker)
    async with sessionmaker.begin() as session:
        admin = await tracker.person_by_email(session, "boss@force.police.uk")
        lead = await tracker.person_by_email(session, "jane.doe@force.police.uk")
        assert admin is not None and lead is not None
        (r4,) = await tracker.find_items(session, number=4, report_code="OIC-2025")
        await progress.set_due_date(session, r4, admin, date(2026, 12, 31), "new national guidance", "activity-10")
        (r8,) = await tracker.find_items(session, number=8, report_code="OIC-2025")
        await progress.record_update(
            session,
            await ownership.lock_item(session, r8.id),
            status="Awaiting sign-off",
            assessment="on track",
            narrative="Training delivered to every team.",
            author=lead,
            activity_key="activity-11",
            evidence_url=EVIDENCE,
            now=datetime(2026, 2, 25, 10, 0, tzinfo=UTC),
        )
        await progress.approve_closure(session, r8, admin, "activity-12")
        await progress.set_title(session, r8, admin, "Hydra training", "activity-14")
        (afi,) = await tracker.find_items(session, number=3, report_code="VAW-2024")
        emulator_user = Person(name="Chris Analyst")  # talked through Web Chat: no e-mail
        session.add(emulator_user)
        await session.flush()
        await progress.record_update(
            session,
            await ownership.lock_item(session, afi.id),
            status="In progress",
            assessment="off track",
            narrative="Recording audit started.",
            author=emulator_user,
            activity_key="activity-13",
            now=datetime(2026, 1, 10, 9, 0, tzinfo=UTC),
        )


async def _rows(sessionmaker: Sessionmaker, today: date = TODAY) -> list[dict[str, object]]:
    async with sessionmaker() as session:
        return await export_rows(session, today=today)


def _by_reference(rows: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    prefixes = {"recommendation": "R", "area for improvement": "AFI", "cause of concern": "CoC"}
    return {f"{row['report_code']} {prefixes[str(row['kind'])]}{row['number']}": row for row in rows}


async def _write_export(sessionmaker: Sessionmaker, path: Path) -> list[dict[str, object]]:
    rows = await _rows(sessionmaker)
    if path.suffix == ".csv":
        path.write_bytes(_csv_text(rows).encode("utf-8"))
    else:
        async with sessionmaker() as session:
            updates = await export_update_rows(session)
        write_xlsx(rows, path, updates=updates)
    return rows


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
async def test_an_export_restores_an_empty_database_and_exports_the_same_again(
    engine: AsyncEngine, sessionmaker: Sessionmaker, tmp_path: Path, suffix: str
) -> None:
    await _seed(sessionmaker)
    exported = tmp_path / f"export{suffix}"
    before = await _write_export(sessionmaker, exported)

    await _empty(engine)
    assert await import_file(sessionmaker, exported) == [
        "imported VAW-2024: Police response to violence against women and girls (2 items)",
        "imported OIC-2025: Improving the response to organised immigration crime (4 items)",
    ]
    after = await _rows(sessionmaker)
    # Every column, the extras included: revised and requested dates, assessments, authors,
    # evidence, closures, delegates; and so the computed RAG and days overdue too.
    assert after == before
    assert _csv_text(after) == _csv_text(before)

    rows = _by_reference(after)
    assert rows["OIC-2025 R4"]["revised_due_on"] == date(2026, 12, 31)
    assert rows["OIC-2025 R9"]["revised_due_on"] == date(2026, 9, 30)
    assert rows["OIC-2025 R2"]["delegates"] == "sam@force.police.uk; boss@force.police.uk"
    assert rows["OIC-2025 R2"]["requested_due_on"] == date(2027, 3, 31)
    assert rows["OIC-2025 R2"]["requested_due_reason"] == "the regional panel meets in March"
    assert rows["OIC-2025 R9"]["last_update_by"] == "Jane Doe" and rows["OIC-2025 R9"]["latest_update"] == NARRATIVE
    assert rows["OIC-2025 R8"]["closed_by"] == "Pat Admin" and rows["OIC-2025 R8"]["evidence_url"] == EVIDENCE
    assert rows["VAW-2024 AFI3"]["last_update_by"] == "Chris Analyst"
    # Titles: the admin's own, and those derived on the first import, not derived afresh.
    assert rows["OIC-2025 R8"]["title"] == "Hydra training"
    assert rows["OIC-2025 R9"]["title"] == "Four modules of the e-learning package"
    assert rows["VAW-2024 AFI3"]["title"] == "Improve how it records the wishes of victims"
    assert rows["VAW-2024 AFI3"]["assessment"] == Assessment.OFF_TRACK.value
    # The force's own response stays the force's.
    assert rows["OIC-2025 R4"]["last_update_by"] == tracker.INITIAL_RESPONSE_AUTHOR

    async with sessionmaker() as session:
        jane = await tracker.person_by_email(session, "jane.doe@force.police.uk", create=False)
        assert jane is not None and jane.name == "Jane Doe"
        (r9,) = await tracker.find_items(session, number=9, report_code="OIC-2025")
        (r2,) = await tracker.find_items(session, number=2, report_code="OIC-2025")
        (r8,) = await tracker.find_items(session, number=8, report_code="OIC-2025")
        # Updates are credited to the person, linked by e-mail, not to "PCC response".
        latest = await tracker.latest_update(session, r9.id)
        assert latest is not None and latest.author_id == jane.id and latest.author_name == "Jane Doe"
        # History explains the revised date: an event credited to the import.
        revised = await progress.revised_by(session, r9)
        assert revised is not None and revised.kind == EventKind.DUE_DATE_CHANGED.value
        assert revised.actor_name == IMPORT_ACTOR and revised.due_on == date(2026, 9, 30)
        assert revised.detail == f"Restored from export{suffix}"
        # The pending request is an admin's to decide, as before the export.
        requests, total = await progress.pending_requests(session)
        assert total == 1 and requests[0].item.id == r2.id and not requests[0].closure
        assert requests[0].update.author_id == jane.id and requests[0].update.revised_due_on == date(2027, 3, 31)
        sam = await tracker.person_by_email(session, "sam@force.police.uk", create=False)
        assert sam is not None and await ownership.is_delegate(session, r2.id, sam.id)
        closure = await progress.closed_by(session, r8)
        assert closure is not None and closure.actor_name == "Pat Admin"
        timeline = await progress.history(session, r2.id)
        assert [entry.what for entry in timeline if entry.kind == EventKind.DELEGATE_ADDED.value] == [
            "Delegate added: sam@force.police.uk",
            "Delegate added: boss@force.police.uk",
        ]

    # Idempotent: importing the same file again changes nothing, restored state included.
    counts_before = await _counts(sessionmaker)
    assert await import_file(sessionmaker, exported) == [
        "VAW-2024 is already imported: nothing changed",
        "OIC-2025 is already imported: nothing changed",
    ]
    assert await _counts(sessionmaker) == counts_before
    assert await _rows(sessionmaker) == before


async def _counts(sessionmaker: Sessionmaker) -> tuple[int, int, int, int]:
    async with sessionmaker() as session:
        return (
            len((await session.scalars(select(Update.id))).all()),
            len((await session.scalars(select(ItemEvent.id))).all()),
            len((await session.execute(select(Delegate.item_id))).all()),
            len((await session.scalars(select(Person.id))).all()),
        )


async def test_the_xlsx_is_board_ready(sessionmaker: Sessionmaker, tmp_path: Path) -> None:
    await _seed(sessionmaker)
    async with sessionmaker() as session:
        rows = await export_rows(session, today=LATE)
        updates = await export_update_rows(session)
    path = tmp_path / "board.xlsx"
    write_xlsx(rows, path, updates=updates)
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["Tracker", "Updates"]

    sheet = workbook["Tracker"]
    headers = [cell.value for cell in sheet[1]]
    assert headers == [HEADERS[column] for column in COLUMNS]
    assert {"RAG", "Days overdue", "Closed on", "Closed by", "Evidence", "Later date requested"} <= set(headers)
    column = {name: index for index, name in enumerate(COLUMNS)}
    by_number = {(row[column["report_code"]].value, row[column["number"]].value): row for row in sheet.iter_rows(2)}
    fills = {}
    for (code, number), row in by_number.items():
        rag = row[column["rag"]]
        fills[code, number] = (rag.value, rag.fill.fill_type, rag.fill.fgColor.rgb)
    assert fills["OIC-2025", 9] == ("Red", "solid", "FFC00000")  # its revised date has passed
    assert fills["OIC-2025", 8] == ("Blue", "solid", "FF0070C0")  # closed
    assert fills["VAW-2024", 3] == ("Red", "solid", "FFC00000")  # the author says off track
    assert {value for value, _, _ in fills.values()} <= {"Red", "Amber", "Green", "Blue"}
    r9, r8, r2 = by_number["OIC-2025", 9], by_number["OIC-2025", 8], by_number["OIC-2025", 2]
    assert r9[column["days_overdue"]].value == (LATE - date(2026, 9, 30)).days
    assert r8[column["days_overdue"]].value is None
    assert r8[column["closed_by"]].value == "Pat Admin" and r8[column["closed_on"]].is_date
    assert r8[column["evidence_url"]].value == EVIDENCE
    assert r2[column["requested_due_on"]].value == datetime(2027, 3, 31)

    history = workbook["Updates"]
    assert [cell.value for cell in history[1]] == list(UPDATE_HEADERS.values())
    assert all(cell.font.bold for cell in history[1]) and history.freeze_panes == "A2"
    logged = [[cell.value for cell in row] for row in history.iter_rows(2)]
    async with sessionmaker() as session:
        assert len(logged) == len((await session.scalars(select(Update.id))).all())
    # Each update names its item by reference and title.
    assert {row[0] for row in logged} >= {
        "OIC-2025 R2 · Required intelligence document",
        "OIC-2025 R8 · Hydra training",
    }
    jane_r2 = next(row for row in logged if row[0].startswith("OIC-2025 R2 ") and row[2] == "Jane Doe")
    assert jane_r2[1] == datetime(2026, 3, 2, 9, 0)
    assert jane_r2[3:6] == ["In progress", "on track", "Waiting for the regional panel."]
    assert jane_r2[7] == datetime(2027, 3, 31) and jane_r2[8] == "the regional panel meets in March"
    r8_updates = [row for row in logged if row[0].startswith("OIC-2025 R8 ")]
    assert r8_updates[-1][6] == EVIDENCE
    # Each item's updates oldest first, items in the tracker's order.
    references = [" ".join(row[0].split()[:2]) for row in logged]
    assert references == sorted(references, key=[*_by_reference(rows)].index)


def _tracker(header: str, *rows: str) -> str:
    base = "report_code,report_title,published_on,number,text"
    return "\n".join(
        [f"{base},{header}", *(f"X-1,A report,2025-01-01,{n},Do it.,{row}" for n, row in enumerate(rows, 1))]
    )


def test_the_restored_columns_are_checked_like_the_others() -> None:
    (report,) = parse_csv_tracker(
        _tracker(
            "Lead's assessment,Delegates,Last update by (e-mail),Last update by,Revised due date",
            "At Risk,Sam@Force.police.uk; Chris Analyst; sam@force.police.uk,JANE@force.police.uk,Jane Doe,31/12/2026",
        )
    )
    (item,) = report.items
    assert item.assessment is Assessment.AT_RISK
    assert item.delegate_emails == ("sam@force.police.uk",)  # a name is skipped; duplicates once
    assert item.updated_by_email == "jane@force.police.uk" and item.updated_by == "Jane Doe"
    assert item.revised_due_on == date(2026, 12, 31)
    with pytest.raises(DocumentError) as problem:
        parse_csv_tracker(_tracker("assessment,delegates,closed_on", "fine,,", ",sam@force,", ",,soon"))
    assert str(problem.value) == (
        "The CSV tracker: row 2: assessment 'fine' is not one of: on track, at risk, off track; "
        "row 3: delegates 'sam@force' is not an e-mail address; "
        "row 4: closed_on 'soon' is not a date (write e.g. 30/04/2026, 2026-04-30 or 30 April 2026)"
    )


def test_a_plain_tracker_still_credits_its_latest_update_to_the_response() -> None:
    (report,) = parse_csv_tracker(_tracker("latest_update", "Started."))
    (item,) = report.items
    assert item.updated_by is None and item.updated_by_email is None and item.delegate_emails == ()
