"""`recbot import` of Word, PDF and Excel files: the seed in each format imports as the .txt seed does,
and every file that cannot be imported is refused with a message saying why and what to do."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import main
from services.export import export_rows
from services.importers import DocumentError, parse_document
from services.importers import files as readers
from services.importers.files import MAX_FILE_BYTES, MAX_TEXT_CHARACTERS, read_document
from storage.database import create_engine, create_sessionmaker, upgrade
from tests.services.minimal_pdf import TextLine, pdf_document
from tests.services.sample_documents import (
    ROOT,
    SAMPLE_DOCX,
    SAMPLE_PDF,
    SAMPLE_XLSX,
    SEED,
    seed_docx,
    seed_pdf,
    seed_report,
    seed_xlsx,
)

TODAY = date(2026, 11, 2)
# What the database holds of a report and its items after an import (export_rows' first columns).
STORED = ("report_code", "report_title", "published_on", "inspection_type", "kind", "number", "text", "due_on")
STORED_WITH_RESPONSE = (*STORED, "status", "latest_update")


def _expected_rows() -> list[dict[str, object]]:
    report = seed_report()
    return [
        {
            "report_code": report.code,
            "report_title": report.title,
            "published_on": report.published_on,
            "inspection_type": report.inspection_type,
            "kind": item.kind.value,
            "number": item.number,
            "text": item.text,
            "due_on": item.due_on,
            "status": item.status.value,
            "latest_update": item.response or None,
        }
        for item in report.items
    ]


def _recbot(*arguments: str, database_url: str, cwd: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.chdir(cwd)  # no stray .env
    return main(list(arguments))


async def _stored(sessionmaker: async_sessionmaker[AsyncSession]) -> list[dict[str, object]]:
    async with sessionmaker() as session:
        rows = await export_rows(session, today=TODAY)
    return [{column: row[column] for column in STORED_WITH_RESPONSE} for row in rows]


def test_the_committed_samples_are_the_seed() -> None:
    """The samples were made by tests/services/sample_documents.py from the seed; they still read as it."""
    for sample, build in ((SAMPLE_DOCX, seed_docx), (SAMPLE_PDF, seed_pdf), (SAMPLE_XLSX, seed_xlsx)):
        assert parse_document(sample.name, read_document(sample.name, sample.read_bytes())) == parse_document(
            sample.name, read_document(sample.name, build())
        )


@pytest.mark.parametrize("sample", [SEED, SAMPLE_DOCX, SAMPLE_PDF, SAMPLE_XLSX], ids=lambda path: path.suffix)
async def test_each_format_imports_the_seed_through_recbot_import(
    sample: Path,
    database_url: str,
    sessionmaker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = await asyncio.to_thread(
        _recbot, "import", str(sample), database_url=database_url, cwd=tmp_path, monkeypatch=monkeypatch
    )
    assert (code, capsys.readouterr().out) == (
        0,
        "imported OIC-2025: Improving the response to organised immigration crime (4 items)\n",
    )
    assert await _stored(sessionmaker) == _expected_rows()
    # Idempotent, whatever the format.
    await asyncio.to_thread(
        _recbot, "import", str(sample), database_url=database_url, cwd=tmp_path, monkeypatch=monkeypatch
    )
    assert capsys.readouterr().out == "OIC-2025 is already imported: nothing changed\n"
    assert await _stored(sessionmaker) == _expected_rows()


async def test_an_xlsx_written_by_recbot_export_imports_back(
    database_url: str,
    sessionmaker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source_url = f"sqlite+aiosqlite:///{tmp_path / 'source.db'}"
    source = create_engine(source_url)
    await upgrade(source)
    await source.dispose()
    exported = tmp_path / "tracker.xlsx"

    def export_then_import() -> tuple[int, int, int]:
        return (
            _recbot("import", str(SEED), database_url=source_url, cwd=tmp_path, monkeypatch=monkeypatch),
            _recbot("export", "-o", str(exported), database_url=source_url, cwd=tmp_path, monkeypatch=monkeypatch),
            _recbot("import", str(exported), database_url=database_url, cwd=tmp_path, monkeypatch=monkeypatch),
        )

    assert await asyncio.to_thread(export_then_import) == (0, 0, 0)
    source = create_engine(source_url)
    try:
        exported_rows = await _stored(create_sessionmaker(source))
    finally:
        await source.dispose()
    assert await _stored(sessionmaker) == exported_rows == _expected_rows()


def test_a_refusal_through_recbot_import_is_one_line_and_exit_code_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    damaged = tmp_path / "response.docx"
    damaged.write_bytes(b"PK\x03\x04 not really a zip")
    code = _recbot(
        "import", str(damaged), database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", cwd=tmp_path,
        monkeypatch=monkeypatch,
    )  # fmt: skip
    assert code == 2
    assert capsys.readouterr().err == (
        "recbot: response.docx is not a Word document (.docx): it is damaged, or another kind of file renamed .docx\n"
    )


def test_a_huge_file_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    huge = tmp_path / "huge.pdf"
    with huge.open("wb") as stream:
        stream.truncate(MAX_FILE_BYTES * 5)  # sparse: costs no disk
    code = _recbot(
        "import", str(huge), database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", cwd=tmp_path,
        monkeypatch=monkeypatch,
    )  # fmt: skip
    assert code == 2
    assert "huge.pdf is larger than 20 MB, the most RecBot imports" in capsys.readouterr().err


# --- refusals ------------------------------------------------------------------------------


def _refusal(name: str, data: bytes) -> str:
    with pytest.raises(DocumentError) as refused:
        read_document(name, data)
    return str(refused.value)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("response.doc", "response.doc: RecBot cannot import .doc files: save it as .docx and import that."),
        ("tracker.xls", "tracker.xls: RecBot cannot import .xls files: save it as .xlsx and import that."),
        ("photo.jpg", "photo.jpg: RecBot cannot import .jpg files."),
        ("README", "README: RecBot cannot import files without an extension."),
    ],
)
def test_an_unsupported_extension_lists_the_supported_ones(name: str, message: str) -> None:
    assert _refusal(name, b"anything") == f"{message} It imports .docx, .pdf, .xlsx, .txt, .md, .csv files"


def test_the_extension_is_read_without_regard_to_case() -> None:
    assert read_document("RESPONSE.DOCX", SAMPLE_DOCX.read_bytes()).startswith("## Cheshire Police")


@pytest.mark.parametrize("name", ["a.docx", "a.pdf", "a.xlsx", "a.txt", "a.csv"])
def test_too_big_is_refused_before_parsing(name: str) -> None:
    assert "is larger than 20 MB" in _refusal(name, b" " * (MAX_FILE_BYTES + 1))


@pytest.mark.parametrize("name", ["a.docx", "a.pdf", "a.xlsx", "a.txt", "a.md", "a.csv"])
def test_an_empty_file_is_refused(name: str) -> None:
    assert _refusal(name, b"") == f"{name} is empty (0 bytes)"


def _empty_docx() -> bytes:
    from docx import Document

    document = Document()
    document.add_paragraph("")
    document.add_table(rows=2, cols=2)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _empty_xlsx() -> bytes:
    from openpyxl import Workbook

    out = io.BytesIO()
    Workbook().save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("empty.docx", _empty_docx()),
        ("empty.xlsx", _empty_xlsx()),
        ("blank.txt", b"  \r\n\n "),
    ],
)
def test_a_document_without_text_is_refused(name: str, data: bytes) -> None:
    assert _refusal(name, data) == (
        f"{name} has no text in it: expected a PCC response document or a tracker with a header row"
    )


def test_a_pdf_without_a_text_layer_is_refused_as_a_probable_scan() -> None:
    assert _refusal("scan.pdf", pdf_document([[], []])) == (
        "scan.pdf has no text layer: it is probably a scan; import the Word document, "
        "or a PDF saved from Word rather than scanned"
    )


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("a.docx", b"just some text", "a.docx is not a Word document (.docx): it is damaged, or another kind of file"),
        ("a.docx", SAMPLE_DOCX.read_bytes()[:5000], "a.docx is not a Word document (.docx): it is damaged"),
        ("a.docx", SAMPLE_XLSX.read_bytes(), "a.docx could not be opened as a Word document (.docx): it is damaged"),
        ("a.xlsx", SAMPLE_DOCX.read_bytes(), "a.xlsx could not be opened as an Excel workbook (.xlsx): it is damaged"),
        ("a.xlsx", b"\x00" * 100, "a.xlsx is not an Excel workbook (.xlsx): it is damaged"),
        ("a.pdf", SAMPLE_DOCX.read_bytes(), "a.pdf is not a PDF file: it is damaged, or another kind of file renamed"),
        ("a.pdf", b"%PDF-1.4\n" + bytes(range(256)) * 8, "a.pdf could not be read as a PDF: it is damaged"),
        ("a.txt", SAMPLE_DOCX.read_bytes(), "a.txt is a Word, Excel or PDF file, not text: give it its real extension"),
        ("a.csv", "café".encode("latin-1"), "a.csv is not a UTF-8 text file"),
    ],
)
def test_a_damaged_or_renamed_file_is_refused(name: str, data: bytes, message: str) -> None:
    assert _refusal(name, data).startswith(message)


@pytest.mark.parametrize(("name", "old"), [("secret.docx", "Word 97-2003 (.doc)"), ("secret.xlsx", "Excel 97-2003")])
def test_a_password_protected_office_file_is_refused(name: str, old: str) -> None:
    # Office saves a password-protected .docx/.xlsx as an OLE compound file, as it saves .doc/.xls.
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    message = _refusal(name, ole)
    assert message.startswith(f"{name} is password-protected, or in the old {old}")


def test_a_password_protected_pdf_is_refused() -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(SAMPLE_PDF).pages:
        writer.add_page(page)
    writer.encrypt(user_password="secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    assert _refusal("secret.pdf", out.getvalue()).startswith("secret.pdf is password-protected: save a copy")


def test_a_pdf_protected_only_against_editing_is_read() -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(SAMPLE_PDF).pages:
        writer.add_page(page)
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    assert parse_document("a.pdf", read_document("a.pdf", out.getvalue())) == parse_document(
        "a.pdf", read_document("a.pdf", SAMPLE_PDF.read_bytes())
    )


def test_text_longer_than_the_cap_is_refused_before_any_parser_reads_it() -> None:
    message = _refusal("long.txt", b"a" * (MAX_TEXT_CHARACTERS + 1))
    assert message.startswith(f"long.txt holds more than {MAX_TEXT_CHARACTERS:,} characters of text")


def test_extracted_text_is_capped_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "MAX_TEXT_CHARACTERS", 1000)
    for sample in (SAMPLE_DOCX, SAMPLE_PDF, SAMPLE_XLSX):
        assert "holds more than 1,000 characters of text" in _refusal(sample.name, sample.read_bytes())


def test_a_zip_that_unpacks_too_far_is_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "MAX_UNPACKED_BYTES", 3 * 1024 * 1024)
    assert read_document("fine.docx", SAMPLE_DOCX.read_bytes())
    monkeypatch.setattr(readers, "MAX_UNPACKED_BYTES", 10_000)
    assert _refusal("bomb.docx", SAMPLE_DOCX.read_bytes()) == (
        "bomb.docx unpacks to more than 0 MB, the most RecBot reads: it is not a response document or a tracker"
    )
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", b"\x00" * 20_000)
    assert "unpacks to" in _refusal("bomb.xlsx", bomb.getvalue())


# --- what each reader makes of the shapes real files have ------------------------------------


def _docx(build: object) -> bytes:
    from docx import Document

    document = Document()
    build(document)  # type: ignore[operator]
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_docx_label_and_text_in_one_paragraph_merged_cells_tabs_and_markup_characters() -> None:
    def build(document: object) -> None:
        document.add_paragraph("Title of inspection: An inspection of <custody> & cells")  # type: ignore[attr-defined]
        document.add_paragraph("#1 priority: published on 16 May 2025")  # type: ignore[attr-defined]
        table = document.add_table(rows=3, cols=3)  # type: ignore[attr-defined]
        header = table.rows[0].cells
        header[0].merge(header[1]).text = "Recommendation"
        header[2].text = "Force response"
        first, second, third = table.rows[1].cells
        label = first.paragraphs[0]
        label.add_run("Recommendation 3:").bold = True
        label.add_run(" By 1 June 2026, forces should\tcheck <cells> & custody.")
        second.text = "Rated amber"
        third.text = "Agreed."
        merged = table.rows[2].cells[0].merge(table.rows[2].cells[1])
        merged.paragraphs[0].add_run("Area for improvement 1").bold = True
        merged.add_paragraph("Forces should review detention logs.")
        table.rows[2].cells[2].text = ""

    text = read_document("a.docx", _docx(build))
    assert text.splitlines() == [
        "Title of inspection: An inspection of &lt;custody&gt; &amp; cells",
        "",
        "\\#1 priority: published on 16 May 2025",
        "",
        "<p>Recommendation</p>\t<p>Force response</p>",
        "<p><b>Recommendation 3:</b> By 1 June 2026, forces should check &lt;cells&gt; &amp; custody.</p>"
        "\t<p>Rated amber</p>\t<p>Agreed.</p>",
        "<p><b>Area for improvement 1</b></p> <p>Forces should review detention logs.</p>",
    ]
    report = parse_document("a.docx", text)[0]
    assert report.title == "An inspection of <custody> & cells"
    assert [(item.kind.value, item.number, item.text, item.due_on) for item in report.items] == [
        ("recommendation", 3, "By 1 June 2026, forces should check <cells> & custody.", date(2026, 6, 1)),
        ("area for improvement", 1, "Forces should review detention logs.", None),
    ]


def test_pdf_cells_side_by_side_on_one_baseline_are_split_by_a_tab() -> None:
    data = pdf_document(
        [
            [
                TextLine(56, 800, "Title of inspection: Custody"),
                TextLine(56, 760, "Recommendation 1"),
                TextLine(310, 760, "Agreed and under way."),
                TextLine(56, 730, "Recommendation 2"),
                TextLine(56, 718, "By 1 June 2026, forces should review logs."),
                TextLine(310, 730, "Done."),
            ]
        ]
    )
    assert read_document("a.pdf", data) == (
        "Title of inspection: Custody\n\nRecommendation 1\tAgreed and under way.\n\n"
        "Recommendation 2\nBy 1 June 2026, forces should review logs.\tDone."
    )


def test_xlsx_first_sheet_keeps_row_numbers_dates_and_whole_numbers() -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["report_code", "report_title", "published_on", "number", "text", "due_on"])
    sheet.append(["ABC-2025", "A report", date(2025, 5, 16), 1.0, "Forces should act.", date(2026, 4, 30)])
    sheet.append([])
    sheet.append(["ABC-2025", "", None, "two", "Forces should act again."])
    workbook.create_sheet("Notes").append(["ignored"])
    out = io.BytesIO()
    workbook.save(out)
    text = read_document("t.xlsx", out.getvalue())
    assert text.splitlines() == [
        "report_code,report_title,published_on,number,text,due_on",
        "ABC-2025,A report,2025-05-16,1,Forces should act.,2026-04-30",
        "",
        "ABC-2025,,,two,Forces should act again.",
    ]
    with pytest.raises(DocumentError, match=r"^t\.xlsx: row 4: number 'two' is not a whole number$"):
        parse_document("t.xlsx", text)


def test_utf16_text_is_read() -> None:
    seed = SEED.read_text(encoding="utf-8")
    assert read_document("seed.txt", seed.encode("utf-16")) == seed


def test_serving_does_not_load_the_document_readers() -> None:
    """python-docx and pypdf are imported when a file of theirs arrives, not when the bot starts."""
    probe = (
        "import sys, bot.app, bot.cli, services.importing, services.importers.files; "
        "print(sorted(name for name in ('docx', 'pypdf') if name in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
