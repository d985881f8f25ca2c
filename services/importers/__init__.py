"""Turn the files people already have — PCC response documents and tracker spreadsheets — into records."""

from __future__ import annotations

import re
from pathlib import PurePath

from domain.records import ReportRecord


class DocumentError(ValueError):
    """A file that cannot be imported; the message says what was expected, for the person importing it."""


# Imported after DocumentError exists: both modules raise it.
from services.importers.csv_tracker import parse_csv_tracker  # noqa: E402
from services.importers.pcc_document import parse_pcc_document  # noqa: E402

_CSV_HEADER_WORDS = re.compile(r"\breport_code\b|\bnumber\b.*\btext\b|\btext\b.*\bnumber\b", re.IGNORECASE)


def parse_document(path_name: str, text: str, *, code: str | None = None) -> list[ReportRecord]:
    """The reports in one file's text: a tracker (by extension or header line), else a PCC response document."""
    source_name = PurePath(path_name).name or path_name
    if _looks_like_csv(path_name, text):
        # A tracker names its own report codes per row; `code` only applies to a single PCC document.
        return parse_csv_tracker(text, source_name=source_name)
    return [parse_pcc_document(text, source_name=source_name, code=code)]


def _looks_like_csv(path_name: str, text: str) -> bool:
    # An Excel tracker arrives here as CSV text (services.importers.files.read_document).
    if PurePath(path_name).suffix.lower() in (".csv", ".xlsx"):
        return True
    first_line = next((line for line in text.lstrip("\ufeff").splitlines() if line.strip()), "")
    return any(delimiter in first_line for delimiter in ",;\t") and bool(_CSV_HEADER_WORDS.search(first_line))


__all__ = ["DocumentError", "parse_csv_tracker", "parse_document", "parse_pcc_document"]
