"""Importers: the seed PCC response, synthetic documents with real documents' quirks, and CSV trackers."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest

from domain.records import ItemRecord, ReportRecord
from domain.vocabulary import Kind, Status
from services.importers import DocumentError, parse_csv_tracker, parse_document, parse_pcc_document
from services.importers.pcc_document import derive_code

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "samples" / "oic-2025-cheshire-pcc-response.txt"
DOCUMENTS = Path(__file__).resolve().parent / "documents"

R2_TEXT = (
    "By 30 April 2026, chief constables should make sure that every time a member of their force reports a "
    "case to Immigration Enforcement's National Command and Control Unit, the reporting officer completes and "
    "submits the required intelligence document."
)
R4_TEXT = (
    "By 31 December 2025, chief constables should make sure they have clear plans to collect, analyse and "
    "share information related to organised immigration crime."
)
R8_TEXT = (
    "By 30 April 2026, chief constables, working with the Modern Slavery & Organised Immigration Crime Unit, "
    "should make sure that relevant personnel in all Home Office police forces complete the Hydra training "
    "package on organised immigration crime."
)
R9_TEXT = (
    "By 30 April 2026, chief constables, working with the Modern Slavery & Organised Immigration Crime Unit "
    "and the College of Policing, should make sure that relevant personnel in all Home Office police forces "
    "complete the four modules of the organised immigration crime e-learning package."
)
R9_RESPONSE = (
    "Work is ongoing to identify the extent of compliance with the training package in Cheshire and to ensure "
    "that all relevant officers have completed it."
)
R2_RESPONSE = (
    "Within the Constabulary work in this area is co-ordinated through the Force's Foreign National Offender "
    "Team. Work has been undertaken across the Force to develop officer understanding of the requirements "
    "including through joint training with Immigration Enforcement Teams. Work is continuing to ensure that "
    "compliance with the requirements can be monitored."
)


def _seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


def _document(name: str) -> str:
    return (DOCUMENTS / name).read_text(encoding="utf-8")


def _by_label(report: ReportRecord) -> dict[str, ItemRecord]:
    return {f"{item.kind.prefix}{item.number}": item for item in report.items}


def _assert_clean(report: ReportRecord, *leaks: str) -> None:
    """No markup, entity, page header or stray whitespace in any text."""
    for item in report.items:
        for text in (item.text, item.response):
            for leak in ("<", ">", "&amp;", "&quot;", "&#", "**", "\t", "\n", "\u00a0", "  ", *leaks):
                assert leak not in text, f"{leak!r} in {item.kind} {item.number}: {text!r}"
            assert text == text.strip()


# The seed document ---------------------------------------------------------------------------


def test_seed_report_metadata() -> None:
    report = parse_pcc_document(_seed_text(), source_name="oic.txt")

    assert report.title == "Improving the response to organised immigration crime"
    assert report.published_on == date(2025, 5, 16)
    assert report.inspection_type == "Thematic"
    assert report.code == "OIC-2025"
    assert report.source_name == "oic.txt"


def test_seed_items_have_complete_texts_responses_and_dates() -> None:
    report = parse_pcc_document(_seed_text())

    assert [(item.kind, item.number) for item in report.items] == [(Kind.RECOMMENDATION, n) for n in (2, 4, 8, 9)]
    items = _by_label(report)
    assert items["R2"].text == R2_TEXT
    assert items["R2"].response == R2_RESPONSE
    assert items["R4"].text == R4_TEXT
    assert items["R8"].text == R8_TEXT
    assert items["R9"].text == R9_TEXT
    assert items["R9"].response == R9_RESPONSE
    assert items["R8"].response.startswith("Over the last year a variety of training")
    assert items["R8"].response.endswith("being co-ordinated on a regional basis.")
    assert [item.due_on for item in report.items] == [
        date(2026, 4, 30),
        date(2025, 12, 31),
        date(2026, 4, 30),
        date(2026, 4, 30),
    ]
    assert {item.status for item in report.items} == {Status.IN_PROGRESS}
    assert {item.owner_email for item in report.items} == {None}


def test_seed_texts_carry_no_page_header_markup_or_entities() -> None:
    report = parse_pcc_document(_seed_text())

    _assert_clean(report, "Dan Price", "Commissioner", "Police & Crime")
    assert "Modern Slavery & Organised Immigration Crime Unit" in _by_label(report)["R8"].text


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda text: text.replace("\n", "\r\n"), id="crlf"),
        pytest.param(lambda text: text.replace("\n", "\r"), id="cr"),
        pytest.param(lambda text: "\ufeff" + text.replace("Dan Price", "Dan\u00a0Price"), id="bom-nbsp"),
        pytest.param(lambda text: text.replace(" 2026,", "\u00a02026,"), id="nbsp-in-text"),
    ],
)
def test_seed_survives_line_endings_and_odd_spaces(mangle: object) -> None:
    assert callable(mangle)
    assert parse_pcc_document(mangle(_seed_text())) == parse_pcc_document(_seed_text())


def test_given_code_wins() -> None:
    assert parse_pcc_document(_seed_text(), code="OIC").code == "OIC"


@pytest.mark.parametrize(
    ("title", "published_on", "expected"),
    [
        ("Improving the response to organised immigration crime", date(2025, 5, 16), "OIC-2025"),
        ("Improving the response to organised immigration crime", None, "OIC"),
        ("An inspection into vetting, misconduct and misogyny in the police service", date(2022, 11, 2), "VMMPS-2022"),
        ("State of Policing: The Annual Assessment of Policing in England and Wales", date(2024, 1, 1), "PEW-2024"),
        ("An inspection of crime", date(2024, 1, 1), "IC-2024"),
        ("Activism and impartiality in policing", date(2024, 9, 9), "AIP-2024"),
        ("The", None, "REPORT"),
    ],
)
def test_derive_code(title: str, published_on: date | None, expected: str) -> None:
    assert derive_code(title, published_on) == expected


def test_derived_code_is_at_most_eight_letters() -> None:
    code = derive_code("Alpha bravo charlie delta echo foxtrot golf hotel india juliet", date(2025, 1, 1))
    assert code == "ABCDEFGH-2025"


# Synthetic documents with the quirks of real ones -------------------------------------------


def test_afis_in_a_second_table_cause_of_concern_two_digit_numbers_and_a_page_break_in_an_afi() -> None:
    report = parse_pcc_document(_document("west-mercia-afis-and-cause-of-concern.txt"))

    assert report.title == "An inspection into how well the police tackle serious youth violence"
    assert report.published_on == date(2024, 10, 2)
    assert [(item.kind, item.number) for item in report.items] == [
        (Kind.CAUSE_OF_CONCERN, 1),
        (Kind.RECOMMENDATION, 1),
        (Kind.RECOMMENDATION, 10),
        (Kind.AREA_FOR_IMPROVEMENT, 3),
        (Kind.AREA_FOR_IMPROVEMENT, 4),
    ]
    items = _by_label(report)
    assert items["AFI3"].text == (
        'The force should improve how it records the "voice of the child" in its investigations of violence '
        "involving children, including where the child is a suspect."
    )
    assert items["AFI3"].response == (
        "Training on recording the voice of the child has been delivered to all response officers and will be "
        "extended to detectives by March 2025."
    )
    assert items["R1"].due_on == date(2024, 10, 2)  # "With immediate effect"
    assert items["R10"].due_on == date(2025, 4, 2)  # "Within six months of the publication"
    assert "children & young people" in items["R10"].text
    assert items["AFI4"].due_on is None  # "within 28 days" is a standard, not a deadline
    assert items["AFI4"].response == "Supervisory reviews are monitored through the daily management meeting."
    assert items["CoC1"].status is Status.IN_PROGRESS
    _assert_clean(report, "John Campion", "Commissioner", "West Mercia", "Inspectors", "Constabulary response")


def test_no_response_column_crlf_nbsp_and_a_recommendation_cut_by_a_page_break() -> None:
    text = _document("kentshire-no-response-column.txt").replace("\n", "\r\n")
    report = parse_pcc_document(text)

    assert report.title == "Vetting, misconduct and misogyny in the police service"
    assert report.published_on == date(2025, 3, 3)  # "3rd March 2025", no <sup>
    items = _by_label(report)
    assert list(items) == ["R3", "R12", "R14"]
    assert items["R12"].text == (
        "By the end of 2025, chief constables should make sure that all officers and staff have had their "
        "vetting status reviewed against the new national standard."
    )
    assert items["R3"].due_on == date(2025, 10, 31)
    assert items["R12"].due_on == date(2025, 12, 31)
    assert items["R14"].due_on is None
    assert all(item.response == "" and item.status is Status.NOT_STARTED for item in report.items)
    _assert_clean(report, "Okafor", "Commissioner", "Kentshire")


def test_other_commissioner_form_feed_repeated_table_header_and_a_response_cut_by_a_page_break() -> None:
    report = parse_pcc_document(_document("northvale-pfcc-page-break-in-response.txt"))

    assert report.title == "PEEL 2023–25: An inspection of Northvale Police"
    assert report.inspection_type == "PEEL"
    items = _by_label(report)
    assert list(items) == ["R1", "R2", "R3"]
    assert items["R1"].response == (
        "The force has recruited twenty new call handlers. "
        "Performance is reported monthly to the PFCC’s accountability board."
    )
    assert items["R2"].text == (
        "By April 2025, the force should reduce its backlog of digital devices awaiting examination."
    )
    assert items["R2"].due_on == date(2025, 4, 30)
    assert items["R2"].response == (
        "The backlog has reduced from 900 devices to 450 devices, and a new triage process is in place."
    )
    assert items["R3"].response == ""
    assert items["R3"].status is Status.NOT_STARTED
    _assert_clean(report, "Alex Rowe", "Commissioner", "Page 2", "Constabulary response", "Northvale")


def test_recommendation_cut_by_a_page_break_with_no_heading_and_unbolded_labels() -> None:
    report = parse_pcc_document(_document("daleshire-rec-continues-after-break.txt"))

    items = _by_label(report)
    assert list(items) == ["R4", "R5"]
    assert items["R4"].text == (
        "By 30 Sept 2025, chief constables should make sure that officers understand the College of Policing "
        "guidance on impartiality."
    )
    assert items["R4"].response == "Guidance has been issued to all staff."
    assert items["R4"].due_on == date(2025, 9, 30)
    assert items["R5"].due_on == date(2025, 9, 9)  # "within a year" of 9 September 2024
    _assert_clean(report, "Priya Shah", "Commissioner", "Daleshire")


def test_a_row_listed_twice_is_refused() -> None:
    row = "<p><b>Recommendation 2</b></p> <p>By 30 April 2026, do this.</p>\t<p>Done.</p>\n"
    text = _seed_text().replace("<p><b>Recommendation 4</b></p>", row + "<p><b>Recommendation 4</b></p>", 1)
    with pytest.raises(DocumentError, match="recommendation 2 twice"):
        parse_pcc_document(text)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("Dear all, please find the minutes attached.\nThanks", id="random-text"),
        pytest.param("report_code,number,text\nOIC-2025,8,Do it\n", id="csv"),
        pytest.param(bytes(range(256)).decode("latin-1") * 3, id="binary-garbage"),
        pytest.param("**Title of inspection:** Something\n\nNo table here.\n", id="title-without-table"),
        pytest.param("## Recommendations from Inspectors and Constabulary response\n", id="table-without-title"),
    ],
)
def test_not_a_pcc_document(text: str) -> None:
    with pytest.raises(DocumentError) as raised:
        parse_pcc_document(text, source_name="upload.txt")
    message = str(raised.value)
    assert message.startswith("upload.txt is not a PCC response document")
    assert "'Title of inspection:'" in message
    assert "'Recommendations from Inspectors and Constabulary response'" in message


def test_a_table_without_rows_says_so() -> None:
    text = "**Title of inspection:** X\n\n## Recommendations from Inspectors and Constabulary response\n\nNone.\n"
    with pytest.raises(DocumentError, match="has no recommendation rows"):
        parse_pcc_document(text)


# parse_document ------------------------------------------------------------------------------


def test_parse_document_reads_a_pcc_document() -> None:
    reports = parse_document(str(SEED), _seed_text(), code="OIC-X")

    assert [report.code for report in reports] == ["OIC-X"]
    assert reports[0].source_name == "oic-2025-cheshire-pcc-response.txt"


@pytest.mark.parametrize("path_name", ["exports/tracker.csv", "exports/TRACKER.CSV", "exports/tracker.txt"])
def test_parse_document_reads_a_csv_by_extension_or_header(path_name: str) -> None:
    reports = parse_document(path_name, _document("tracker.csv"))

    assert [report.code for report in reports] == ["OIC-2025", "VAW-2024"]
    assert reports[0].source_name == Path(path_name).name


def test_parse_document_errors_are_document_errors() -> None:
    with pytest.raises(DocumentError, match="notes.docx.txt is not a PCC response document"):
        parse_document("/tmp/notes.docx.txt", "hello")


# CSV trackers --------------------------------------------------------------------------------

HEADER = ["report_code", "report_title", "published_on", "kind", "number", "text", "due_on", "status", "owner_email"]
GOOD_ROW = ["OIC-2025", "Improving the response to organised immigration crime", "16/05/2025", "", "2",
            "By 30 April 2026, do the thing.", "", "", ""]  # fmt: skip


def _csv(header: list[str], *rows: list[str], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _row(**changes: str) -> list[str]:
    row = dict(zip(HEADER, GOOD_ROW, strict=True))
    row.update(changes)
    return list(row.values())


def test_csv_tracker_happy_path() -> None:
    reports = parse_csv_tracker(_document("tracker.csv"), source_name="tracker.csv")

    oic, vaw = reports
    assert (oic.code, oic.title, oic.published_on, oic.inspection_type) == (
        "OIC-2025",
        "Improving the response to organised immigration crime",
        date(2025, 5, 16),
        "Thematic",
    )
    assert oic.source_name == "tracker.csv"
    r2, r8 = oic.items
    assert (r2.kind, r2.number, r2.due_on, r2.status) == (Kind.RECOMMENDATION, 2, date(2026, 4, 30), Status.IN_PROGRESS)
    assert r2.text == R2_TEXT
    assert r2.owner_email == "jane.doe@force.police.uk"
    assert r2.response == "Joint training with Immigration Enforcement delivered; compliance monitoring being built."
    assert (r8.number, r8.due_on, r8.status, r8.owner_email) == (8, date(2026, 6, 30), Status.BLOCKED, None)
    assert r8.text == R8_TEXT

    assert (vaw.published_on, vaw.inspection_type) == (date(2024, 7, 23), "Thematic")
    afi3, coc1 = vaw.items
    assert (afi3.kind, afi3.number, afi3.due_on, afi3.status) == (
        Kind.AREA_FOR_IMPROVEMENT,
        3,
        None,
        Status.NOT_STARTED,
    )
    assert (coc1.kind, coc1.due_on) == (Kind.CAUSE_OF_CONCERN, date(2025, 1, 23))
    assert coc1.owner_email == "sam@force.police.uk"


def test_csv_tracker_tolerates_bom_semicolons_crlf_short_rows_and_blank_rows() -> None:
    text = _csv(
        [column.upper() for column in HEADER],
        _row(due_on="2026-04-30", status="AWAITING SIGN-OFF"),
        _row(number="3", kind="Area for Improvement", due_on="30 April 2026")[:6],
        ["", "", ""],
        delimiter=";",
    )
    reports = parse_csv_tracker("\ufeff" + text.replace("\n", "\r\n") + ";;;\r\n\r\n")

    (report,) = reports
    assert [(item.kind, item.number, item.due_on) for item in report.items] == [
        (Kind.RECOMMENDATION, 2, date(2026, 4, 30)),
        (Kind.AREA_FOR_IMPROVEMENT, 3, date(2026, 4, 30)),
    ]
    assert report.items[0].status is Status.AWAITING_SIGN_OFF


def test_csv_tracker_accepts_excel_whole_numbers_and_tabs() -> None:
    (report,) = parse_csv_tracker(_csv(HEADER, _row(number="8.0"), delimiter="\t"))
    assert report.items[0].number == 8


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("", "is empty: expected a header row", id="empty"),
        pytest.param("\n\n  \n", "is empty: expected a header row", id="blank"),
        pytest.param(
            _csv(["report_code", "report_title", "published_on", "due_on"], ["A", "B", "", ""]),
            "missing required columns: number, text",
            id="missing-columns",
        ),
        pytest.param(_csv(HEADER), "has a header row (row 1) but no rows of data", id="header-only"),
        pytest.param(_csv([*HEADER, "Number"], GOOD_ROW), "the column number appears twice", id="duplicate-column"),
        pytest.param(
            _csv(HEADER, *[_row(number=str(n)) for n in range(2, 7)], _row(number="eight")),
            "row 7: number 'eight' is not a whole number",
            id="number-word",
        ),
        pytest.param(_csv(HEADER, _row(number="0")), "row 2: number '0' must be 1 or more", id="number-zero"),
        pytest.param(_csv(HEADER, _row(number="2.5")), "row 2: number '2.5' is not a whole number", id="fraction"),
        pytest.param(
            _csv(HEADER, _row(due_on="31/02/2026")), "row 2: due_on '31/02/2026' is not a date", id="bad-due-date"
        ),
        pytest.param(
            _csv(HEADER, _row(published_on="sometime")), "row 2: published_on 'sometime' is not a date", id="bad-pub"
        ),
        pytest.param(_csv(HEADER, _row(status="Done")), "row 2: status 'Done' is not one of: Not started", id="status"),
        pytest.param(_csv(HEADER, _row(kind="action")), "row 2: kind 'action' is not one of", id="kind"),
        pytest.param(
            _csv(HEADER, _row(owner_email="jane")), "row 2: owner_email 'jane' is not an e-mail address", id="email"
        ),
        pytest.param(_csv(HEADER, _row(text="  ")), "row 2: text is empty", id="empty-text"),
        pytest.param(_csv(HEADER, _row(report_code="")), "row 2: report_code is empty", id="empty-code"),
        pytest.param(
            _csv(HEADER, _row(report_title="")), "row 2: report_title is empty on the first row", id="no-title"
        ),
        pytest.param(
            _csv(HEADER, _row(), _row(number="3", report_title="Another title")),
            "row 3: report_title 'Another title' differs from row 2 of report OIC-2025",
            id="title-differs",
        ),
        pytest.param(
            _csv(HEADER, _row(), _row(number="3", published_on="17/05/2025")),
            "row 3: published_on '17/05/2025' differs from row 2",
            id="published-differs",
        ),
        pytest.param(
            _csv(HEADER, _row(), _row(report_code="OIC-2")),
            "row 3: report_title 'Improving the response to organised imm…' is already used by report OIC-2025",
            id="title-reused",
        ),
        pytest.param(
            _csv(HEADER, _row(), _row(kind="recommendation")),
            "row 3: recommendation 2 of OIC-2025 is already given on row 2",
            id="duplicate-item",
        ),
        pytest.param(
            _csv(HEADER, [*GOOD_ROW, "extra"]), "row 2: it has 10 cells but the header row has 9", id="extra-cells"
        ),
        pytest.param(_csv(HEADER, _row(report_code="X" * 41)), "row 2: report_code is longer than 40", id="long-code"),
        pytest.param(_csv(HEADER, _row(text="x" * 200_000)), "is not a readable CSV file (near row 2)", id="huge-cell"),
    ],
)
def test_csv_tracker_errors(text: str, message: str) -> None:
    with pytest.raises(DocumentError) as raised:
        parse_csv_tracker(text, source_name="tracker.csv")
    assert message in str(raised.value)
    assert str(raised.value).startswith("tracker.csv")


def test_csv_tracker_reports_every_bad_row_and_returns_nothing() -> None:
    text = _csv(HEADER, _row(), _row(number="x"), _row(number="4", status="nope"))
    with pytest.raises(DocumentError) as raised:
        parse_csv_tracker(text)
    assert "row 3: number 'x'" in str(raised.value)
    assert "row 4: status 'nope'" in str(raised.value)
