"""Read a PCC's section 55 response document (Word/PDF converted to markdown-ish text) into a report.

The shape, from the Cheshire response to "Improving the response to organised immigration crime":

- the commissioner's header block ("**Dan Price** / Cheshire / Police & Crime / Commissioner") at
  the top and again at every page break;
- a metadata block: "**Title of inspection:** …", "**Published on:** 16<sup>th</sup> May 2025",
  "**Inspection types:** Thematic";
- a "Recommendations from Inspectors and Constabulary response" table, one row a line:
  `<p><b>Recommendation 2</b></p> <p>text…</p>` TAB `<p>response…</p>`;
- a page break inside a row cuts both cells: after the repeated header come the rest of the
  recommendation and then the rest of the response, as plain paragraphs;
- in a PDF's text (services.importers.files) the rest of both cells may follow the page break side by
  side, split by a tab, as a row's own line has them;
- the table ends at the next heading ("### **Commissioner's Response:**").
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from domain.dates import parse_due_date, parse_published_date
from domain.records import ItemRecord, ReportRecord
from domain.vocabulary import Kind, Status
from services.importers import DocumentError

_EXPECTED = (
    "expected a 'Title of inspection:' line and a 'Recommendations from Inspectors and Constabulary response' table"
)

# Converters leave assorted space and break characters; all of them mean a plain space or a new line.
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2007": " ", "\u200b": "", "\ufeff": "", "\x00": ""})
_LINE_BREAKS = re.compile(r"\r\n|\r|\u2028|\u2029|\x0b")
_PAGE_FEED = "\x0c"

_BREAK_TAG = re.compile(r"</p\s*>|<br\s*/?>|</li\s*>|</td\s*>|</div\s*>", re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")
_MARKDOWN_EMPHASIS = re.compile(r"\*\*|__")
_MARKDOWN_HEADING = re.compile(r"^\s*#{1,6}\s*")
_MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!&'\"<>|])")

_KIND = r"(?P<kind>recommendation|area\s+for\s+improvement|afi|cause\s+of\s+concern)"
# A row starts with the item's bold label; unbolded, the label must stand alone in its paragraph.
_MARKER = re.compile(
    r"^\s*(?:<p[^>]*>\s*)?(?P<open><b>|<strong>|\*\*)?\s*" + _KIND + r"\s+(?P<number>\d{1,4})\s*[:.]?\s*"
    r"(?(open)(?:</b>|</strong>|\*\*)\s*(?:</p\s*>)?|(?:</p\s*>|$|(?=\t)))",
    re.IGNORECASE,
)
_KINDS = {
    "recommendation": Kind.RECOMMENDATION,
    "area for improvement": Kind.AREA_FOR_IMPROVEMENT,
    "afi": Kind.AREA_FOR_IMPROVEMENT,
    "cause of concern": Kind.CAUSE_OF_CONCERN,
}

_TITLE = re.compile(r"^(?:title\s+of\s+(?:the\s+)?inspection|inspection\s+title)\s*:\s*(?P<value>.*)$", re.I)
_PUBLISHED = re.compile(r"^(?:published(?:\s+on)?|date\s+published|publication\s+date)\s*:\s*(?P<value>.*)$", re.I)
_INSPECTION_TYPE = re.compile(r"^inspection\s+types?\s*:\s*(?P<value>.*)$", re.I)
# Some documents give areas for improvement or causes of concern a table (and heading) of their own.
_TABLE_HEADING = re.compile(
    r"\b(?:recommendations?|areas?\s+for\s+improvement|afis?|causes?\s+of\s+concern)\b.*\bresponses?\b", re.I
)
# The rest of the document: its summary, whose recommendations they are, and the commissioner's statement.
_SUMMARY_HEADING = re.compile(r"^(?:(?:report|executive)\s+)?summary(?:\s+of\s+the\s+report)?\s*:?$", re.I)
_SCOPE = re.compile(r"^recommendations\s*:\s*(?P<value>[^:]{1,60})$", re.I)
_FORCE_SPECIFIC = re.compile(r"^(?:[\w&’'-]+\s+){1,4}specific\s*:\s*(?P<value>yes|no)\b", re.I)
# The name the document gives the force's answers, in the table's heading or header row.
_RESPONSE_LABEL = re.compile(r"\b(?:constabulary|force|police)(?:'s|’s)?\s+responses?\b", re.I)
_TABLE_HEADER_ROW = re.compile(
    r"^(?:recommendations?|areas?\s+for\s+improvement|afis?|causes?\s+of\s+concern|items?)"
    r"\s+(?:(?:the\s+)?(?:constabulary|force|police)(?:'s|’s)?\s+)?responses?$",
    re.I,
)
# A heading such as "Commissioner's Response:" or "Police and Crime Commissioner's comments".
_SECTION_END = re.compile(
    r"^(?:[\w&’',-]+\s+){0,6}commissioner(?:'|’)?s?\s+(?:response|comments?|statement|summary)\s*:?$", re.I
)
_PAGE_NUMBER = re.compile(r"^(?:page\s+)?\d{1,3}(?:\s+of\s+\d{1,3})?$", re.I)
# Punctuation a finished cell ends with; a cell cut by a page break usually stops mid-sentence.
_FINISHED = re.compile(r"[.!?…](?:[\"'”’)\]]*)$")

_T = TypeVar("_T")

_MAX_HEADER_LINES = 8
_MAX_HEADER_LINE_LENGTH = 60
_MAX_HEADING_LENGTH = 120
_MAX_CODE_LETTERS = 8
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "by",
        "for",
        "from",
        "how",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "our",
        "the",
        "their",
        "to",
        "with",
        "within",
    ]
)


@dataclass
class _Row:
    """One table row as it is assembled across page breaks."""

    kind: Kind
    number: int
    text: list[str] = field(default_factory=list)
    response: list[str] = field(default_factory=list)
    has_response_cell: bool = False


def parse_pcc_document(text: str, *, source_name: str | None = None, code: str | None = None) -> ReportRecord:
    """The report, its items and the force's responses, from a PCC response document's text."""
    lines = _lines(text)
    title_at, title = _find_title(lines)
    if title_at is None or not title:
        raise _not_a_document(source_name)
    start = _table_start(lines, title_at)
    if start is None:
        raise _not_a_document(source_name)
    end = _table_end(lines, start)
    header = _leading_header(lines, title_at)
    published_on = _metadata(lines[:start], _PUBLISHED, parse_published_date)
    inspection_type = _metadata(lines[:start], _INSPECTION_TYPE, lambda value: value or None)
    section = _remove_page_furniture(lines[start:end], header)
    rows = _rows(section)
    if not rows:
        raise DocumentError(
            f"{_name(source_name)} has no recommendation rows: expected lines such as "
            "'<p><b>Recommendation 2</b></p> <p>text</p>' in the "
            "'Recommendations from Inspectors and Constabulary response' table"
        )
    return ReportRecord(
        title=title,
        code=code or derive_code(title, published_on),
        published_on=published_on,
        inspection_type=inspection_type,
        source_name=source_name,
        items=tuple(_item(row, published_on, source_name) for row in _unique(rows, source_name)),
        response_label=_response_label(lines[title_at : start + 1]),
        summary=_section_text(lines[title_at:start], _SUMMARY_HEADING, header),
        commissioner_statement=_section_text(lines[end:], _SECTION_END, header),
        scope=_metadata(lines[:start], _SCOPE, lambda value: value.strip() or None),
        force_specific=_metadata(lines[:start], _FORCE_SPECIFIC, lambda value: value.lower() == "yes"),
    )


def _section_text(lines: list[str], heading: re.Pattern[str], header: list[str]) -> str | None:
    """The paragraphs under the first heading that matches, up to the next heading; page furniture left out."""
    starts = [index for index, line in enumerate(lines) if _is_heading(line) and heading.match(_plain(line))]
    if not starts:
        return None
    body: list[str] = []
    for line in lines[starts[0] + 1 :]:
        if _MARKDOWN_HEADING.match(line) or _SECTION_END.match(_plain(line)):
            break
        body.append(line)
    kept = _remove_page_furniture(body, header)
    paragraphs = [_plain(" ".join(kept[first:last])) for first, last in _paragraphs(kept)]
    return "\n\n".join(paragraph for paragraph in paragraphs if paragraph) or None


def _is_heading(line: str) -> bool:
    """A markdown heading, or a short line on its own such as "**Report summary**"."""
    return bool(_MARKDOWN_HEADING.match(line)) or len(_plain(line)) <= _MAX_HEADING_LENGTH


def _response_label(lines: list[str]) -> str | None:
    """ "Constabulary response", as the table's heading (or its header row) names the force's answers."""
    for line in lines:
        plain = _plain(line)
        if len(plain) <= _MAX_HEADING_LENGTH and (found := _RESPONSE_LABEL.search(plain)):
            label = " ".join(found.group().split())
            return label[:1].upper() + label[1:].lower()
    return None


def derive_code(title: str, published_on: date | None) -> str:
    """A short report code from the title's subject and the year: "… to organised immigration crime" → "OIC-2025"."""
    initials = _initials(_subject(title))
    if len(initials) < 2:
        initials = _initials(title) or "REPORT"
    letters = initials[:_MAX_CODE_LETTERS]
    return f"{letters}-{published_on.year}" if published_on else letters


def _lines(text: str) -> list[str]:
    text = _LINE_BREAKS.sub("\n", text.translate(_SPACES)).replace(_PAGE_FEED, "\n\n")
    return [line.rstrip(" ") for line in text.split("\n")]


def _plain(fragment: str) -> str:
    """Text without HTML, markdown emphasis or entities, with whitespace collapsed."""
    text = _TAG.sub("", _BREAK_TAG.sub(" ", fragment))
    text = _MARKDOWN_ESCAPE.sub(r"\1", _MARKDOWN_EMPHASIS.sub("", _MARKDOWN_HEADING.sub("", text)))
    return " ".join(html.unescape(text).split())


def _find_title(lines: list[str]) -> tuple[int | None, str]:
    for index, line in enumerate(lines):
        match = _TITLE.match(_plain(line))
        if match is None:
            continue
        value = match["value"]
        if not value:
            # Some documents put the title on the line below its label.
            value = next((_plain(later) for later in lines[index + 1 : index + 3] if later.strip()), "")
        return index, value
    return None, ""


def _table_start(lines: list[str], title_at: int) -> int | None:
    """The line after the table's heading; without a heading, the first row."""
    for index in range(title_at + 1, len(lines)):
        line = lines[index]
        if _MARKER.match(line):
            return index
        plain = _plain(line)
        if "\t" not in line and len(plain) <= _MAX_HEADING_LENGTH and _TABLE_HEADING.search(plain):
            return index + 1
    return None


def _table_end(lines: list[str], start: int) -> int:
    for index in range(start, len(lines)):
        line = lines[index]
        if _MARKER.match(line) or "\t" in line:
            continue
        plain = _plain(line)
        is_heading = bool(_MARKDOWN_HEADING.match(line)) and not _TABLE_HEADING.search(plain)
        if is_heading or _SECTION_END.match(plain):
            return index
    return len(lines)


def _metadata(lines: list[str], label: re.Pattern[str], convert: Callable[[str], _T | None]) -> _T | None:
    for line in lines:
        match = label.match(_plain(line))
        if match:
            return convert(match["value"])
    return None


def _leading_header(lines: list[str], title_at: int) -> list[str]:
    """The block above the first heading (the commissioner's name and office), repeated on every page."""
    header: list[str] = []
    for line in lines[:title_at]:
        if _MARKDOWN_HEADING.match(line):
            break
        if plain := _plain(line):
            header.append(plain)
    return header if len(header) <= _MAX_HEADER_LINES else []


def _remove_page_furniture(lines: list[str], header: list[str]) -> list[str]:
    """Blank out repeated page headers, table headings and header rows, and page numbers."""
    kept = list(lines)
    if header:
        _blank_header_runs(kept, header)
    for index, line in enumerate(kept):
        plain = _plain(line)
        is_table_heading = bool(_MARKDOWN_HEADING.match(line)) and bool(_TABLE_HEADING.search(plain))
        if is_table_heading or _TABLE_HEADER_ROW.match(plain) or _PAGE_NUMBER.match(plain):
            kept[index] = ""
    for first, last in _paragraphs(kept):
        if _looks_like_header(kept[first:last]):
            kept[first:last] = [""] * (last - first)
    return kept


def _blank_header_runs(lines: list[str], header: list[str]) -> None:
    """Blank every run of lines (blank lines allowed between) that repeats the header block."""
    for start, line in enumerate(lines):
        if _plain(line) != header[0]:
            continue
        matched = [start]
        cursor = start + 1
        while len(matched) < len(header) and cursor < len(lines):
            plain = _plain(lines[cursor])
            if plain == header[len(matched)]:
                matched.append(cursor)
            elif plain:
                break
            cursor += 1
        if len(matched) == len(header):
            for index in matched:
                lines[index] = ""


def _looks_like_header(paragraph: list[str]) -> bool:
    """A short block of short unpunctuated lines naming a commissioner: another PCC's page header."""
    plains = [_plain(line) for line in paragraph]
    if len(plains) > _MAX_HEADER_LINES or any(_MARKER.match(line) or "\t" in line for line in paragraph):
        return False
    if any(len(plain) > _MAX_HEADER_LINE_LENGTH or plain.endswith((".", ",", ";", ":", "!", "?")) for plain in plains):
        return False
    return re.search(r"\bcommissioner\b", " ".join(plains), re.IGNORECASE) is not None


def _paragraphs(lines: list[str]) -> list[tuple[int, int]]:
    """(first, last + 1) of each run of non-blank lines."""
    spans: list[tuple[int, int]] = []
    first: int | None = None
    for index, line in enumerate([*lines, ""]):
        if line.strip() and first is None:
            first = index
        elif not line.strip() and first is not None:
            spans.append((first, index))
            first = None
    return spans


def _rows(lines: list[str]) -> list[_Row]:
    rows: list[_Row] = []
    index = 0
    while index < len(lines):
        marker = _MARKER.match(lines[index])
        if marker is None:
            index += 1
            continue
        # The row's own line(s): up to a blank line or the next row.
        cells = [lines[index][marker.end() :]]
        index += 1
        while index < len(lines) and lines[index].strip() and not _MARKER.match(lines[index]):
            cells.append(lines[index])
            index += 1
        row = _start_row(marker, "\n".join(cells))
        # Paragraphs after a page break, until the next row, continue this row's cells.
        continuation: list[str] = []
        while index < len(lines) and not _MARKER.match(lines[index]):
            continuation.append(lines[index])
            index += 1
        for first, last in _paragraphs(continuation):
            _continue_row(row, " ".join(continuation[first:last]))
        rows.append(row)
    return rows


def _start_row(marker: re.Match[str], cells: str) -> _Row:
    kind = _KINDS[" ".join(marker["kind"].lower().split())]
    text, tab, response = cells.partition("\t")
    row = _Row(kind=kind, number=int(marker["number"]), has_response_cell=bool(tab))
    for part, into in ((text, row.text), (response, row.response)):
        if plain := _plain(part):
            into.append(plain)
    return row


def _continue_row(row: _Row, paragraph: str) -> None:
    """Give a continuation paragraph to the unfinished recommendation text, else to the response."""
    text, tab, response = paragraph.partition("\t")
    if tab and row.has_response_cell:
        # Both cells go on side by side after the page break (as a PDF's text has them): each to its own.
        for part, into in ((text, row.text), (response, row.response)):
            if plain := _plain(part):
                into.append(plain)
        return
    paragraph = _plain(paragraph)
    if not paragraph:
        return
    text_finished = bool(row.text) and _FINISHED.search(row.text[-1]) is not None
    if row.has_response_cell and text_finished:
        row.response.append(paragraph)
    else:
        row.text.append(paragraph)


def _unique(rows: list[_Row], source_name: str | None) -> list[_Row]:
    seen: set[tuple[Kind, int]] = set()
    for row in rows:
        key = (row.kind, row.number)
        if key in seen:
            raise DocumentError(f"{_name(source_name)} lists {row.kind.value} {row.number} twice")
        seen.add(key)
    return rows


def _item(row: _Row, published_on: date | None, source_name: str | None) -> ItemRecord:
    text = " ".join(row.text)
    if not text:
        raise DocumentError(f"{_name(source_name)}: {row.kind.value} {row.number} has no text")
    response = " ".join(row.response)
    return ItemRecord(
        kind=row.kind,
        number=row.number,
        text=text,
        due_on=parse_due_date(text, published_on),
        response=response,
        status=Status.IN_PROGRESS if response else Status.NOT_STARTED,
    )


def _subject(title: str) -> str:
    """The words after the title's last " to ", " of ", " into " or ":"."""
    lowered = title.lower()
    ends = [
        lowered.rfind(separator) + len(separator)
        for separator in (" to ", " of ", " into ", ":")
        if separator in lowered
    ]
    cut = max(ends, default=0)
    return title[cut:]


def _initials(words: str) -> str:
    return "".join(word[0].upper() for word in re.findall(r"[^\W\d_][\w'’-]*", words) if word.lower() not in _STOPWORDS)


def _name(source_name: str | None) -> str:
    return source_name or "The document"


def _not_a_document(source_name: str | None) -> DocumentError:
    return DocumentError(f"{_name(source_name)} is not a PCC response document: {_EXPECTED}")
