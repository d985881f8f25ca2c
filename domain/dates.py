"""Dates as people in England write and read them.

Everything here is a pure function of its arguments: "today" and publication dates are passed in,
never read from the clock, so the results are testable and the same on every bot instance.
"""

from __future__ import annotations

import calendar
import html
import re
from datetime import date, datetime
from typing import Any

from dateutil.relativedelta import relativedelta

# Longer than any date a person types; dateparser gets slow and surprising on long text.
_MAX_USER_DATE_LENGTH = 60
# Checked before anything reads the text: a date with spaces or markup around it is far shorter,
# so longer text is not a date and is refused unread.
_MAX_DATE_TEXT_LENGTH = 1_000
# Recommendations run to a few thousand characters and say their deadline in them; only this much
# of a text is searched for one, so an oversized cell or paragraph cannot stall an import.
_MAX_DEADLINE_TEXT_LENGTH = 10_000

_MONTHS: dict[str, int] = {}
for _number in range(1, 13):
    _MONTHS[calendar.month_name[_number].lower()] = _number
    _MONTHS[calendar.month_abbr[_number].lower()] = _number
_MONTHS["sept"] = 9
_MONTH = r"(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"

_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "eighteen": 18, "twenty-four": 24, "twenty four": 24,
}  # fmt: skip
_COUNT = r"(?:\d{1,3}|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")"
_ORDINAL = r"(?:st|nd|rd|th)?"

# "By 30 April 2026", "by the end of April 2026", "no later than 30th Apr. 2026", "by 30/04/2026".
_BY = r"\b(?:by|before|no later than|not later than)\s+(?:the\s+)?(?:end\s+of\s+)?"
_DEADLINE_DATE = re.compile(
    _BY + r"(?P<phrase>(?:\d{1,2}" + _ORDINAL + r"\s+(?:of\s+)?)?" + _MONTH + r",?\s+\d{4}"
    r"|\d{1,2}/\d{1,2}/\d{4})\b",
    re.IGNORECASE,
)
# "by the end of 2025"; "by the end of 2025/26" is a financial year, which ends on 31 March. A bare
# "by 2026" counts only before punctuation: "increase investigators by 2000 officers" is no deadline.
_DEADLINE_YEAR = re.compile(
    r"\b(?:by|before|no later than|not later than)\s+"
    r"(?:(?P<end>(?:the\s+)?end\s+of\s+)(?:the\s+)?(?:(?:calendar|financial)\s+year\s+)?)?"
    r"(?P<year>(?:19|20)\d{2})(?:[/\-](?P<next>\d{2}))?\b(?![/\-])(?(end)|(?=\s*(?:[,.;:)]|$)))",
    re.IGNORECASE,
)
_IMMEDIATE = re.compile(r"\b(?:with\s+immediate\s+effect|immediately)\b", re.IGNORECASE)
# Months and years only: "within 28 days" / "within 10 seconds" describe a service standard, not a deadline.
_WITHIN = re.compile(
    r"\bwithin\s+(?:the\s+next\s+)?(?P<count>" + _COUNT + r")\s+(?P<unit>month|year)s?\b",
    re.IGNORECASE,
)

_TIME_OF_DAY = re.compile(r"\b(?:hours?|hrs?|minutes?|mins?|seconds?|secs?|am|pm|noon|midnight)\b|\d:\d")
_DATE_WORDS = re.compile(
    r"\d|\b(?:" + _MONTH + r"|mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun"
    r"|(?:mon|tues|wednes|thurs|fri|satur|sun)day|today|tomorrow|week|weeks|fortnight"
    r"|month|months|year|years|day|days)\b"
)
_NUMERIC_DATE = re.compile(r"(?P<day>\d{1,2})[/.\-](?P<month>\d{1,2})(?:[/.\-](?P<year>\d{2}|\d{4}))?")
_DAY_ONLY = re.compile(r"(?:the\s+)?(?P<day>\d{1,2})" + _ORDINAL)
_END_OF = re.compile(
    r"(?:the\s+)?end\s+of\s+(?:the\s+)?(?:(?P<which>this|next)\s+)?"
    r"(?P<what>month|year|" + _MONTH + r"|\d{4})(?:\s+(?P<year>\d{4}))?"
)
_DAY_MONTH = re.compile(r"(?P<day>\d{1,2})" + _ORDINAL + r"\s+(?:of\s+)?(?P<month>" + _MONTH + r")")
_MONTH_ONLY = re.compile(r"(?P<month>" + _MONTH + r")")
# "in 2 weeks", "3 months from now", "2 weeks today": counted exactly (dateparser reads some as past dates).
_PERIOD_AHEAD = re.compile(
    r"(?:in\s+)?(?P<count>" + _COUNT + r")\s+(?P<unit>day|week|fortnight|month|year)s?"
    r"(?:\s+(?:from\s+)?(?:today|now|time))?"
)
_LEADING_FILLER = re.compile(r"^(?:by|on|until|till|before|for)\s+")
_TAG = re.compile(r"<[^>]{0,200}>")


def format_uk_date(day: date) -> str:
    """`date(2026, 4, 30)` → "30 April 2026"."""
    return f"{day.day} {day:%B %Y}"


def parse_due_date(text: str, published_on: date | None) -> date | None:
    """The HMICFRS due date written in a recommendation's text, or None when none is written."""
    found = _earliest_match(text[:_MAX_DEADLINE_TEXT_LENGTH])
    if found is None:
        return None
    if found.re is _IMMEDIATE:
        return published_on
    if found.re is _WITHIN:
        return _after(published_on, _period(found["count"], found["unit"]))
    if found.re is _DEADLINE_YEAR:
        year = int(found["year"])
        return _safe_date(year + 1, 3, 31) if found["next"] else _year_end(year)
    return _parse_phrase(found["phrase"])


def parse_user_date(text: str, today: date) -> date | None:
    """A date a person typed ("30/06/2026", "end of June", "next Friday"), read day-first; else None."""
    if len(text) > _MAX_DATE_TEXT_LENGTH:
        return None
    cleaned = _clean_user_text(text)
    if not cleaned or len(cleaned) > _MAX_USER_DATE_LENGTH:
        return None
    # A bare number is far more likely a recommendation number or a year than a date.
    if cleaned.isdigit() or _TIME_OF_DAY.search(cleaned) or not _DATE_WORDS.search(cleaned):
        return None
    try:
        return _parse_user_date(cleaned, today)
    # Counting forward from a date near the end of the calendar leaves the range `date` holds.
    except (OverflowError, ValueError):
        return None


def _parse_user_date(cleaned: str, today: date) -> date | None:
    if numeric := _NUMERIC_DATE.fullmatch(cleaned):
        return _numeric_date(numeric, today)
    if day_only := _DAY_ONLY.fullmatch(cleaned):
        return _next_day_of_month(int(day_only["day"]), today)
    if day_month := _DAY_MONTH.fullmatch(cleaned):
        return _next_day_and_month(int(day_month["day"]), _MONTHS[day_month["month"].rstrip(".")], today)
    if month_only := _MONTH_ONLY.fullmatch(cleaned):
        return _next_month_end(_MONTHS[month_only["month"].rstrip(".")], today)
    if end_of := _END_OF.fullmatch(cleaned):
        return _end_of(end_of, today)
    if ahead := _PERIOD_AHEAD.fullmatch(cleaned):
        later: date = today + _period(ahead["count"], ahead["unit"])
        return later
    return _dateparser(
        cleaned,
        {
            "DATE_ORDER": "DMY",
            "RELATIVE_BASE": datetime.combine(today, datetime.min.time()),
            "PREFER_DATES_FROM": "future",
            "PREFER_DAY_OF_MONTH": "last",
        },
    )


def parse_published_date(text: str) -> date | None:
    """A publication date such as "16<sup>th</sup> May 2025" or "16 May 2025"; None if there is none."""
    if len(text) > _MAX_DATE_TEXT_LENGTH:
        return None
    cleaned = " ".join(html.unescape(_TAG.sub("", text)).split())
    if not cleaned or len(cleaned) > _MAX_USER_DATE_LENGTH:
        return None
    match = re.search(r"\b\d{1,2}" + _ORDINAL + r"\s+(?:of\s+)?" + _MONTH + r",?\s+\d{4}\b", cleaned, re.IGNORECASE)
    if match:
        return _parse_phrase(match[0])
    if numeric := _NUMERIC_DATE.fullmatch(cleaned):
        return _numeric_date(numeric, None)
    return parse_written_date(cleaned)


def parse_written_date(text: str) -> date | None:
    """An exact date as written in a spreadsheet: "30/04/2026", "2026-04-30" or "30 April 2026"."""
    if len(text) > _MAX_DATE_TEXT_LENGTH:
        return None
    cleaned = " ".join(text.split())
    if not cleaned or len(cleaned) > _MAX_USER_DATE_LENGTH:
        return None
    # Excel exports often carry a midnight time after an ISO date.
    iso = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00)?)?", cleaned)
    if iso:
        return _safe_date(int(iso[1]), int(iso[2]), int(iso[3]))
    if numeric := _NUMERIC_DATE.fullmatch(cleaned):
        return _numeric_date(numeric, None) if numeric["year"] else None
    written = re.fullmatch(r"(\d{1,2})" + _ORDINAL + r"\s+(?:of\s+)?(" + _MONTH + r"),?\s+(\d{4})", cleaned, re.I)
    if written:
        month = _MONTHS[written[2].lower().rstrip(".")]
        return _safe_date(int(written[3]), month, int(written[1]))
    return None


def describe_overdue(due_on: date, today: date) -> str:
    """How long ago `due_on` passed, roughly: "1 day", "3 weeks", "7 months", "1 year 2 months"."""
    if today <= due_on:
        return "0 days"
    gap = relativedelta(today, due_on)
    if gap.years or gap.months:
        parts = [_plural(gap.years, "year"), _plural(gap.months, "month")]
        return " ".join(part for part in parts if part)
    days = (today - due_on).days
    if days >= 7:
        return _plural(days // 7, "week")
    return _plural(days, "day")


def _earliest_match(text: str) -> re.Match[str] | None:
    """The first deadline phrase in the text, whichever form it takes."""
    matches = [m for pattern in (_DEADLINE_DATE, _DEADLINE_YEAR, _IMMEDIATE, _WITHIN) if (m := pattern.search(text))]
    return min(matches, key=lambda m: m.start(), default=None)


def _period(count: str, unit: str) -> relativedelta:
    amount = _NUMBER_WORDS.get(" ".join(count.lower().split()))
    amount = int(count) if amount is None else amount
    if unit.lower() == "fortnight":
        return relativedelta(weeks=2 * amount)
    return relativedelta(**{unit.lower() + "s": amount})


def _after(published_on: date | None, period: relativedelta) -> date | None:
    if published_on is None:
        return None
    try:
        later: date = published_on + period
    except (OverflowError, ValueError):
        return None
    return later


def _parse_phrase(phrase: str) -> date | None:
    """Turn a found "30th April 2026" / "April 2026" / "30/04/2026" into a date (month alone → its last day)."""
    phrase = re.sub(r"(\d)(?:st|nd|rd|th)\b", r"\1", phrase, flags=re.IGNORECASE).replace(",", " ")
    return _dateparser(phrase, {"DATE_ORDER": "DMY", "PREFER_DAY_OF_MONTH": "last", "REQUIRE_PARTS": ["month", "year"]})


def _dateparser(text: str, settings: dict[str, Any]) -> date | None:
    # Imported here: dateparser loads its language data on import, which would slow bot start-up.
    import dateparser

    try:
        parsed = dateparser.parse(text, languages=["en"], settings=settings)
    # dateparser has raised assorted errors on odd input over its versions; any failure means "not a date".
    except Exception:
        return None
    return parsed.date() if parsed is not None else None


def _clean_user_text(text: str) -> str:
    cleaned = " ".join(text.replace("\u00a0", " ").split()).lower().strip(" .!?,;")
    return _LEADING_FILLER.sub("", cleaned)


def _numeric_date(match: re.Match[str], today: date | None) -> date | None:
    """Day-first numeric dates; a missing year means the next such day on or after today."""
    day, month = int(match["day"]), int(match["month"])
    if match["year"] is None:
        return None if today is None else _next_day_and_month(day, month, today)
    year = int(match["year"])
    return _safe_date(year + 2000 if year < 100 else year, month, day)


def _next_day_and_month(day: int, month: int, today: date) -> date | None:
    """ "30 June" or "30/06": the next 30 June on or after today."""
    candidate = _safe_date(today.year, month, day)
    if candidate is not None and candidate < today:
        candidate = _safe_date(today.year + 1, month, day)
    return candidate


def _next_day_of_month(day: int, today: date) -> date | None:
    """ "The 5th": the next 5th of a month on or after today."""
    if not 1 <= day <= 31:
        return None
    month_start = today.replace(day=1)
    for months_ahead in range(0, 4):
        start = month_start + relativedelta(months=months_ahead)
        candidate = _safe_date(start.year, start.month, day)
        if candidate is not None and candidate >= today:
            return candidate
    return None


def _end_of(match: re.Match[str], today: date) -> date | None:
    """ "End of June" (the next June), "end of next month", "end of the year", "end of 2026"."""
    what, which, year = match["what"], match["which"], match["year"]
    if what.isdigit():
        return None if which or year else _year_end(int(what))
    if what == "year":
        return None if year else _year_end(today.year + (1 if which == "next" else 0))
    if what == "month":
        if year:
            return None
        month_start = today.replace(day=1) + relativedelta(months=1 if which == "next" else 0)
        return _month_end(month_start.year, month_start.month)
    month = _MONTHS[what.rstrip(".")]
    if year:
        return _month_end(int(year), month)
    return _next_month_end(month, today, skip_this_year=which == "next")


def _next_month_end(month: int, today: date, *, skip_this_year: bool = False) -> date | None:
    """ "June" or "end of June": the last day of the next June that ends on or after today."""
    year = today.year + (1 if skip_this_year else 0)
    if _month_end(year, month) < today:
        year += 1
    return _month_end(year, month) if year <= date.max.year else None


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _year_end(year: int) -> date | None:
    return _safe_date(year, 12, 31)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _plural(count: int, unit: str) -> str:
    if count == 0:
        return ""
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"
