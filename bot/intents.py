"""What a person typed, as one small typed intent: pure functions, no I/O, no botbuilder.

Each command in `bot/commands.py` declares the parsers of this module that read it, and
`parse_intent` tries them in the registry's order, most specific first (dialog words,
reminders, digests, admin commands, item commands, lists), then an item reference anywhere in
the text (a status question), and finally free-text search. Every
pattern is compiled once at import; nothing routes by substring, so "checklist training" is a
search and "history" inside a sentence is not the History command.

Parsing runs on text with its case kept (so e-mail addresses, names, dates and reasons reach
the handler as typed) and every pattern is case-insensitive; `normalise` gives the lower-case
form used for search queries.

Every pattern runs in time linear in the text it reads (a message is a few words, but anyone
can send 28 KB of "!!!!" and the parser runs on the event loop), and it reads little: raw text
is cut at `_MAX_MESSAGE_LENGTH` before the markup is removed, and only the first
`_MAX_COMMAND_LENGTH` characters of what is left are parsed. So no quantifier may overlap
another that can read the same characters, and no search may restart a scan to the end of
the text from every position.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeAlias, get_args

from domain.listing import Period
from domain.patterns import LazyPattern
from domain.refs import ItemRef, ListFilter
from domain.vocabulary import Kind
from services.requests import (
    AddDelegate,
    ApproveClosure,
    ApproveDueDate,
    Assign,
    GrantAdmin,
    ListAdmins,
    Pending,
    PersonalDigest,
    RejectClosure,
    RejectDueDate,
    RemoveDelegate,
    Reopen,
    RevokeAdmin,
    SetDueDate,
    SetTitle,
    SnoozeReminders,
    Subscribe,
    Supersede,
    Unsubscribe,
    Waiting,
)

# --------------------------------------------------------------------------------------------
# The intents
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Status:
    """Show one item's status card. (Not `storage.models.Status`, the item state: import with care.)"""

    ref: ItemRef


@dataclass(frozen=True, slots=True)
class Search:
    """Free text to match against item texts and titles; the handler answers "no match" itself."""

    query: str


@dataclass(frozen=True, slots=True)
class ListItems:
    """List items, optionally filtered by state, report and (for AFIs/causes of concern) kind."""

    filter: ListFilter = ListFilter.ALL
    report_code: str | None = None
    # Only set for "list AFIs" / "list causes of concern": people say "list recommendations"
    # when they mean the whole tracker, so that leaves kind None.
    kind: Kind | None = None


@dataclass(frozen=True, slots=True)
class StatusOfMany:
    """Several items in one question: "status of rec 8 and rec 9", "R8, R9 and AFI 2"."""

    refs: tuple[ItemRef, ...]


@dataclass(frozen=True, slots=True)
class CountItems:
    """How many items a filter selects ("how many are red"), by status and RAG."""

    filter: ListFilter = ListFilter.ALL
    report_code: str | None = None
    kind: Kind | None = None


@dataclass(frozen=True, slots=True)
class ChangesIn:
    """What changed in a period: "what's changed this week"."""

    period: Period = Period.THIS_WEEK
    report_code: str | None = None


@dataclass(frozen=True, slots=True)
class Mine:
    """The items the speaker owns or is a delegate on."""


@dataclass(frozen=True, slots=True)
class Help:
    """What the bot can do."""


@dataclass(frozen=True, slots=True)
class Greeting:
    """Hello."""


@dataclass(frozen=True, slots=True)
class Thanks:
    """An acknowledgement ("thanks", "ok", "great") that needs a short reply, not a search."""


@dataclass(frozen=True, slots=True)
class History:
    """Every update and due-date change of one item, oldest first."""

    ref: ItemRef


@dataclass(frozen=True, slots=True)
class AboutReport:
    """The commissioner's statement on a report, or the report's summary, as the document gave them."""

    statement: bool  # True: the commissioner's statement; False: the report summary
    report_code: str | None = None


@dataclass(frozen=True, slots=True)
class Response:
    """The force's own response to one item, as the report's document gave it."""

    ref: ItemRef


@dataclass(frozen=True, slots=True)
class StartUpdate:
    """Begin the update conversation; ref None means the dialog asks which item."""

    ref: ItemRef | None = None


@dataclass(frozen=True, slots=True)
class CorrectUpdate:
    """Correct one's own latest update of an item (allowed within 24 hours)."""

    ref: ItemRef


@dataclass(frozen=True, slots=True)
class UseReport:
    """Make a report this conversation's default, so bare numbers mean its items."""

    report_code: str


@dataclass(frozen=True, slots=True)
class DigestSettings:
    """Show this conversation's digest subscriptions."""


@dataclass(frozen=True, slots=True)
class StopReminders:
    """No more nudges for the speaker."""


@dataclass(frozen=True, slots=True)
class ResumeReminders:
    """Nudges back on."""


@dataclass(frozen=True, slots=True)
class Cancel:
    """Leave the current conversation flow."""


@dataclass(frozen=True, slots=True)
class Back:
    """Go back one step in the current conversation flow."""


@dataclass(frozen=True, slots=True)
class Unknown:
    """Nothing to act on: empty, whitespace or punctuation only."""

    text: str


Intent: TypeAlias = (
    Status
    | Search
    | ListItems
    | StatusOfMany
    | CountItems
    | ChangesIn
    | Mine
    | Help
    | Greeting
    | Thanks
    | History
    | Response
    | AboutReport
    | StartUpdate
    | CorrectUpdate
    | UseReport
    | Assign
    | AddDelegate
    | RemoveDelegate
    | GrantAdmin
    | RevokeAdmin
    | SetDueDate
    | SetTitle
    | ApproveClosure
    | RejectClosure
    | ApproveDueDate
    | RejectDueDate
    | Pending
    | Supersede
    | Reopen
    | ListAdmins
    | Subscribe
    | Unsubscribe
    | DigestSettings
    | PersonalDigest
    | StopReminders
    | SnoozeReminders
    | ResumeReminders
    | Cancel
    | Back
    | Unknown
)
INTENT_TYPES: tuple[type, ...] = get_args(Intent)


# --------------------------------------------------------------------------------------------
# Cleaning the text Teams sends
# --------------------------------------------------------------------------------------------

# Teams puts the bot's own @mention first in a channel ("<at>RecBot</at> status of R8"): drop
# it with any wrapping tags. Later mentions are the people a command is about ("assign R8 to
# <at>Jane Doe</at>"), so those keep their text and lose only the markup.
_LEADING_MENTIONS = re.compile(r"^(?:\s|<(?!at\b)[^<>]*>|<at\b[^<>]*>[^<]*</at\s*>)*", re.IGNORECASE)
_TAG = re.compile(r"<[^<>]*>")
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_TYPOGRAPHY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})
# Keep "#" (as in "#8") and "@" (as in "@Jane"): they mean something at the edges.
_EDGE_PUNCTUATION = " \t\r\n.,;:!?¡¿'\"`()[]{}…*_~|"

# Teams allows about 28 KB a message; the markup around a command (mentions, paragraphs,
# spans) is far shorter than this, so raw text is cut here before any regex reads it.
_MAX_MESSAGE_LENGTH = 10_000
# Longer than any command or search phrase: only this much of a message is parsed, so a long
# paste costs no more than a short one.
_MAX_COMMAND_LENGTH = 500


def _unmarked(text: str) -> str:
    """Markup, entities and invisible characters removed, whitespace collapsed; case and punctuation kept.

    The patterns below rely on what this returns: single spaces, no line breaks, at most
    `_MAX_MESSAGE_LENGTH` characters.
    """
    text = _LEADING_MENTIONS.sub("", text[:_MAX_MESSAGE_LENGTH])
    text = _TAG.sub(" ", text)
    text = html.unescape(text)  # after tag removal, so a typed "&lt;b&gt;" stays text
    text = _INVISIBLE.sub("", text).translate(_TYPOGRAPHY)
    return " ".join(text.split())


def _clean(text: str) -> str:
    """`_unmarked` without the punctuation around the message: what the patterns read."""
    return _unmarked(text).strip(_EDGE_PUNCTUATION)


def normalise(text: str) -> str:
    """Lower-case text with Teams markup, HTML entities, extra spaces and edge punctuation removed."""
    return _clean(text).lower()


def _c(pattern: str) -> LazyPattern:
    # Compiled on first use (domain/patterns.py): compiling the grammar at import took a third of
    # `recbot serve`'s start-up; the server compiles the rest in the background once it listens.
    return LazyPattern(pattern, re.IGNORECASE)


# --------------------------------------------------------------------------------------------
# Item references: "R8", "rec. 8", "recommendation eight", "AFI 2", "OIC-2025 R8", "#8"
# --------------------------------------------------------------------------------------------

_UNITS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
_TEENS = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_NUMBER_WORDS = {**_UNITS, **_TEENS, **_TENS}
_UNIT_WORD = "|".join(_UNITS)
_NUM_WORD = rf"(?:(?:{'|'.join(_TENS)})(?:[\s-]?(?:{_UNIT_WORD}))?|{'|'.join(_TEENS)}|{_UNIT_WORD})\b"
# Item numbers are 1..999; a fourth digit makes it a year or a count, and "8.1" is not item 8.
_NUM = r"(?<!\w)(?<![0-9][.,])0{0,2}[1-9][0-9]{0,2}(?![0-9]|[.,][0-9])"
_NUM_AFTER_KIND = r"0{0,2}[1-9][0-9]{0,2}(?![0-9]|[.,][0-9])"

_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
    "|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_WEEKDAY_NUMBERS = {
    "monday": 0,
    "mon": 0,
    "tuesday": 1,
    "tues": 1,
    "tue": 1,
    "wednesday": 2,
    "weds": 2,
    "wed": 2,
    "thursday": 3,
    "thurs": 3,
    "thur": 3,
    "thu": 3,
    "friday": 4,
    "fri": 4,
    "saturday": 5,
    "sat": 5,
    "sunday": 6,
    "sun": 6,
}
# Words that can stand before a year without being a report code ("the 2024 training",
# "June 2026", "overdue 2025").
_NOT_A_CODE = (
    r"(?!(?:the|a|an|of|in|on|for|from|with|and|or|since|by|to|at|until|till|before|after|about|"
    r"around|year|years|fy|pre|post|mid|end|early|late|summer|spring|autumn|winter|due|overdue|"
    r"blocked|closed|open|all|list|show|status|update|rec|recs|r|afi|afis|coc|cocs|item|items|"
    r"recommendations?|" + _MONTHS + "|" + "|".join(_WEEKDAY_NUMBERS) + r")\b)"
)
# A report code is at most 40 characters (storage.models.Report.code), so at most 12 words
# before its year. The bound keeps each attempt short: unbounded, a search of "ab-ab-ab-…" read
# from every word to the end of the run (quadratic).
_MAX_CODE_WORDS = 12
_CODE_HYPHEN = rf"\b{_NOT_A_CODE}[a-z]{{2,12}}(?:-[a-z]{{2,12}}){{0,{_MAX_CODE_WORDS - 1}}}-(?:19|20)[0-9]{{2}}\b"
# "oic 2025" without the hyphen is accepted only where it cannot be free text: just before an
# explicit item reference, after "of/in/for" behind one, or as the argument of a list command.
_CODE_SPACE = rf"\b{_NOT_A_CODE}[a-z]{{2,12}}\s+(?:19|20)[0-9]{{2}}\b"

_KIND_REC = r"rec+om+end?ations?|recs?"
_KIND_AFI = r"areas?\s+for\s+improvements?|a\.?f\.?i\.?s?"
_KIND_COC = r"causes?\s+of\s+concerns?|c\.?o\.?c\.?s?"
_KIND_ITEM = r"items?"
_KIND_START = rf"(?:{_KIND_REC}|{_KIND_AFI}|{_KIND_COC}|{_KIND_ITEM}|r\s*(?:#\s*)?[0-9])"
_NO = r"(?:no\.?|nr\.?|num(?:ber)?\.?|#)"


def _ref_pattern(*, named: bool, explicit_only: bool) -> str:
    """The item-reference grammar, with named groups (to read one) or without (to embed one)."""

    def group(name: str, body: str) -> str:
        return f"(?P<{name}>{body})" if named else f"(?:{body})"

    # Optional punctuation between spaces is `\s*(?:#\s*)?`, never `\s*#?\s*`: two quantifiers
    # that can read the same spaces make every failed attempt try each way of sharing them.
    kind_number = (
        r"(?:\b(?:"
        + "|".join(
            [group("rec", _KIND_REC), group("afi", _KIND_AFI), group("coc", _KIND_COC), group("item", _KIND_ITEM)]
        )
        + rf")\.?\s*(?:{_NO}\s*)?(?:"
        + group("digits", _NUM_AFTER_KIND)
        + "|"
        + group("word", _NUM_WORD)
        + r")|\br\s*(?:#\s*)?"
        + group("rdigits", _NUM_AFTER_KIND)
        + ")"
    )
    lead = (
        "(?:"
        + group("lead", _CODE_HYPHEN)
        + "|"
        + group("lead_space", rf"{_CODE_SPACE}(?=[\s/:,-]*{_KIND_START})")
        + r")[\s/:,-]*"
    )
    trail = (
        r"(?:\s*(?:,\s*)?(?:\(\s*)?(?:(?:of|in|from|for|on)\s+(?:the\s+)?)?"
        + group("trail", _CODE_HYPHEN)
        + r"(?:\s+report)?\s*\)?|\s+(?:of|in|from|for)\s+(?:the\s+)?"
        + group("trail_space", _CODE_SPACE)
        + r"(?:\s+report)?)"
    )
    bare = f"(?:{_NO}\\s*)?" + group("bare", _NUM)
    core = kind_number if explicit_only else f"(?:{kind_number}|{bare})"
    return f"(?:(?:{lead})?{core}(?:{trail})?)"


_REF = _ref_pattern(named=False, explicit_only=False)
_REF_PARTS = _c(_ref_pattern(named=True, explicit_only=False))
_EXPLICIT_REF_ANYWHERE = _c(_ref_pattern(named=False, explicit_only=True))


def _number_from_words(words: str) -> int:
    return sum(_NUMBER_WORDS[part] for part in re.split(r"[\s-]+", words.lower()) if part)


def _report_code(text: str) -> str:
    return "-".join(text.upper().split())


def _ref_from(span: str) -> ItemRef | None:
    """Read an ItemRef from text matched by `_REF`; None if the number is out of range."""
    match = _REF_PARTS.fullmatch(span.strip())
    if match is None:
        return None
    digits = match["digits"] or match["rdigits"] or match["bare"]
    number = int(digits) if digits else _number_from_words(match["word"] or "")
    if not 1 <= number <= 999:
        return None
    kind: Kind | None = None
    if match["rec"] or match["rdigits"]:
        kind = Kind.RECOMMENDATION
    elif match["afi"]:
        kind = Kind.AREA_FOR_IMPROVEMENT
    elif match["coc"]:
        kind = Kind.CAUSE_OF_CONCERN
    code = match["lead"] or match["lead_space"] or match["trail"] or match["trail_space"]
    return ItemRef(number, kind, _report_code(code) if code else None)


# --------------------------------------------------------------------------------------------
# Small readers shared by several commands
# --------------------------------------------------------------------------------------------

# An address starts only where a run of address characters starts (the lookbehind): started
# from inside the run as well, "aaaa…" with no "@" was read to its end from every character.
_EMAIL_CHARACTER = r"[a-z0-9._%+'-]"
_EMAIL = _c(rf"(?<!{_EMAIL_CHARACTER}){_EMAIL_CHARACTER}+@[a-z0-9-]+(?:\.[a-z0-9-]+)+")
_WEEKDAY = _c(r"\b(?P<day>" + "|".join(sorted(_WEEKDAY_NUMBERS, key=len, reverse=True)) + r")s?\b")
_TIME = _c(
    r"\bat\s+(?P<h>[0-9]{1,2})(?:[:.](?P<m>[0-9]{2}))?\s*(?P<ampm>[ap]\.?m\b\.?)?(?![\w:])"
    r"|\b(?P<h2>[0-9]{1,2})(?:[:.](?P<m2>[0-9]{2}))?\s*(?P<ampm2>[ap]\.?m\b\.?)"
    r"|\b(?P<h3>[0-9]{1,2}):(?P<m3>[0-9]{2})\b"
    r"|\b(?P<word>noon|midday|midnight)\b"
)
_CODE_IN_TAIL = _c(rf"{_CODE_HYPHEN}|\b(?:for|of|on|to)\s+(?:the\s+)?(?P<spaced>{_CODE_SPACE})")


def _person(text: str | None) -> tuple[str | None, str]:
    """(e-mail if exactly one was typed, the person as typed) from a command's remainder."""
    typed = (text or "").strip(_EDGE_PUNCTUATION).lstrip("@").strip()
    emails = _EMAIL.findall(typed)
    return (emails[0].lower() if len(emails) == 1 else None), typed


def _optional_text(text: str | None) -> str | None:
    stripped = (text or "").strip(_EDGE_PUNCTUATION + "-")
    return stripped or None


def _time_of_day(match: re.Match[str]) -> str:
    """A time that exists as "HH:MM"; one that does not ("25:00") as typed, for the handler to refuse."""
    if match["word"]:
        return "00:00" if match["word"].lower() == "midnight" else "12:00"
    hour_text = match["h"] or match["h2"] or match["h3"]
    minute_text = match["m"] or match["m2"] or match["m3"] or "0"
    meridiem = (match["ampm"] or match["ampm2"] or "").lower().replace(".", "")
    hour, minute = int(hour_text), int(minute_text)
    valid = minute <= 59 and (1 <= hour <= 12 if meridiem else hour <= 23)
    if not valid:
        return re.sub(r"^at\s+", "", match[0], flags=re.IGNORECASE)
    if meridiem == "pm" and hour != 12:
        hour += 12
    elif meridiem == "am" and hour == 12:
        hour = 0
    return f"{hour:02d}:{minute:02d}"


def _schedule(tail: str) -> tuple[int | None, str | None, str | None]:
    """(weekday, time, report code) found anywhere in the words after a digest command."""
    code: str | None = None
    code_match = _CODE_IN_TAIL.search(tail)
    if code_match:
        code = _report_code(code_match["spaced"] or code_match[0])
        # Take the code out first so its year cannot be read as a time.
        tail = tail[: code_match.start()] + " " + tail[code_match.end() :]
    day_match = _WEEKDAY.search(tail)
    weekday = _WEEKDAY_NUMBERS[day_match["day"].lower()] if day_match else None
    time_match = _TIME.search(tail)
    return weekday, (_time_of_day(time_match) if time_match else None), code


_DURATION = _c(
    r"^(?:for\s+)?(?:(?:the\s+)?next\s+|another\s+|about\s+)?"
    rf"(?P<count>[0-9]{{1,4}}|an?|{_NUM_WORD}|(?:a\s+)?couple(?:\s+of)?|(?:a\s+)?few)?\s*"
    r"(?P<unit>days?|d|weeks?|wks?|w|fortnights?|months?|mths?)$"
)
_UNIT_DAYS = {"d": 1, "w": 7, "f": 14, "m": 30}


def _days(duration: str) -> int | None:
    """Days in "2 weeks", "a fortnight", "three days", "a month" (30); None if not understood."""
    match = _DURATION.match(duration.strip(_EDGE_PUNCTUATION))
    if match is None:
        return None
    count_text = (match["count"] or "a").lower()
    if count_text[0].isdigit():
        count = int(count_text)
    elif count_text in ("a", "an"):
        count = 1
    elif "couple" in count_text:
        count = 2
    elif "few" in count_text:
        count = 3
    else:
        count = _number_from_words(count_text)
    return count * _UNIT_DAYS[match["unit"][0].lower()]


# `(?:\s*[,;.])?\s+` rather than `\s*[,;.]?\s+`, so that no two quantifiers share the spaces.
_REASON_SEPARATOR = (
    r"(?:(?:\s*[,;.])?\s+(?:because(?:\s+of)?|since|due\s+to|owing\s+to|as)\s+"
    r"|(?:\s*[,;.])?\s+reason(?:\s+being|\s+is)?\s*(?:[:=-]\s*)?"
    r"|\s*[,;]\s*reason\s*[:=-]\s*"
    r"|\s+-\s+)"
)
_DATE_AND_REASON = _c(
    r"^\s*(?:(?:(?:to|until|till|as|now|is\s+now|should\s+be)\b|=|:|->)\s*)?"
    rf"(?P<date>.*?)(?:{_REASON_SEPARATOR}(?P<reason>.+?))?\s*$"
)
# One character class, not a starred choice of `\s*[,;:.-]\s*` and `\s+`: nested
# quantifiers over the same spaces can split them in exponentially many ways.
_LEADING_REASON = _c(
    r"^[\s,;:.-]*(?:(?:because(?:\s+of)?|since|as|due\s+to|owing\s+to)\s+"
    r"|reason(?:\s+being|\s+is)?\s*(?:[:=-]\s*)?)?(?P<reason>.*)$"
)


def _date_and_reason(rest: str) -> tuple[str, str | None]:
    match = _DATE_AND_REASON.match(rest)
    if match is None:  # pragma: no cover - the pattern matches any string
        return rest.strip(), None
    return (match["date"] or "").strip(_EDGE_PUNCTUATION), _optional_text(match["reason"])


def _reason(rest: str | None) -> str | None:
    match = _LEADING_REASON.match(rest or "")
    return _optional_text(match["reason"]) if match else None


# --------------------------------------------------------------------------------------------
# Commands, most specific first
# --------------------------------------------------------------------------------------------

Builder = Callable[[re.Match[str]], "Intent | None"]

# Courtesy words around a command: "please list overdue", "can you show R8 thanks".
_POLITE_START = _c(
    r"^(?:please|pls|plz|kindly|just|ok(?:ay)?|so|right|hey|hi|hello|good\s+(?:morning|afternoon|evening)|@?recbot|can\s+you|could\s+you|"
    r"would\s+you|will\s+you|can\s+i|could\s+i|may\s+i|i\s+want\s+to|i'd\s+like\s+to|i\s+would\s+like\s+to|"
    r"i\s+need\s+to|i\s+wanna|let\s+me|let's|lets|help\s+me(?:\s+to)?)[\s,:!.-]+(?=\S)"
)
# The run of spaces and punctuation before the word is read from its first character only
# (the lookbehind): tried from every character of "R8!!!!…x", each attempt read to the end.
_POLITE_END = _c(r"(?<=[^\s,!.])[\s,!.]+(?:please|pls|plz|thanks|thank\s+you|thx|cheers|ta|for\s+me|@?recbot)$")

_HELP = _c(
    r"^(?:help(?:\s+me)?|help\s+(?:with|on)\s+.+|commands|command\s+list|(?:list|show)(?:\s+me)?\s+(?:the\s+)?"
    r"(?:list\s+of\s+)?commands|what\s+are\s+(?:the|your)\s+commands|what\s+can\s+(?:you|i)\s+(?:do|say|type|ask)"
    r"(?:\s+here)?|what\s+do\s+you\s+do|how\s+do(?:es)?\s+(?:this|it|you)\s+work|how\s+do\s+i\s+use\s+(?:this|you|it)"
    r"|menu|usage|options|instructions)$"
)
_GREETING = _c(
    r"^(?:hi|hello|hey|hiya|howdy|yo|hallo|greetings|good\s+(?:morning|afternoon|evening|day)|morning|afternoon|"
    r"evening)(?:[\s,]+(?:there|all|everyone|team|folks|recbot|bot|again))*$"
)
_THANKS = _c(
    r"^(?:thanks?|thank\s+you|thx|ty|cheers|ta|much\s+appreciated|great|perfect|brilliant|lovely|nice|cool|ok|"
    r"okay|got\s+it|awesome)(?:[\s,]+(?:very\s+much|so\s+much|a\s+lot|again|recbot|bot|mate))*$"
)
_CANCEL = _c(
    r"^(?:cancel|stop|quit|exit|abort|end|never\s*mind|nvm|forget\s+(?:it|that|about\s+it))"
    r"(?:\s+(?:it|that|this|the\s+update|update|everything|please|now))*$"
)
_BACK = _c(
    r"^(?:(?:go|step)\s+)?back(?:\s+(?:a\s+step|one\s+step|up))?$|^(?:previous|prev)(?:\s+(?:step|question|page))?$"
    r"|^(?:go|return)\s+to\s+(?:the\s+)?previous(?:\s+(?:step|question))?$"
)

_REMINDER_NOUN = r"(?:reminders?|nudges?|reminder\s+(?:messages?|e-?mails?)|notifications?)"
_STOP_REMINDERS = _c(
    r"^(?:stop|disable|turn\s+off|switch\s+off|pause|mute|silence|cancel|end|unsubscribe\s+from|opt\s+out\s+of|"
    rf"no\s+more)(?:\s+(?:the|my|all|your|these|those|of\s+the))*\s+{_REMINDER_NOUN}$"
    r"|^(?:don't|dont|do\s+not|stop)\s+(?:remind(?:ing)?|nudg(?:e|ing)|ping(?:ing)?|chas(?:e|ing))\s+me"
    r"(?:\s+(?:any\s*more|again|about\s+(?:anything|this)))?$"
    rf"|^(?:(?:turn|switch)\s+(?:the\s+|my\s+)?)?{_REMINDER_NOUN}\s+off$"
)
_SNOOZE = _c(
    rf"^(?:snooze(?:\s+(?:the|my|all|your))*(?:\s+{_REMINDER_NOUN})?"
    rf"|(?:pause|mute|silence|hold|delay)(?:\s+(?:the|my|all|your))*\s+{_REMINDER_NOUN})"
    r"(?:\s+(?:until|till|til|to)\s+(?P<until>.+)|\s+(?P<duration>(?!until\b|till\b|til\b|to\b).+))?$"
    r"|^remind\s+me\s+(?:again\s+)?in\s+(?P<duration2>.+)$"
)
_RESUME = _c(
    r"^(?:resume|restart|restore|unmute|unpause|unsnooze|un-snooze|turn\s+on|switch\s+on|enable|re-?enable|start|"
    rf"reactivate)(?:\s+(?:the|my|all))*\s+{_REMINDER_NOUN}(?:\s+again)?$"
    r"|^(?:resume|unsnooze|unpause|unmute)$|^remind\s+me\s+again$"
    rf"|^(?:(?:turn|switch)\s+(?:the\s+|my\s+)?)?{_REMINDER_NOUN}\s+(?:back\s+)?on(?:\s+again)?$|^(?:subscribe(?:\s+me)?\s+to|opt\s+in\s+to)\s+(?:the\s+)?{_REMINDER_NOUN}$"
)

_DIGEST_NOUN = r"(?:digests?|summary|summaries|round-?up)"
_PERSONAL_DIGEST = _c(
    r"^(?:(?:send|email|e-mail|give|dm|message|mail|get)\s+me|subscribe\s+me(?:\s+to)?|sign\s+me\s+up(?:\s+(?:to|for))?"
    r"|(?:i\s+want|i'd\s+like|i\s+would\s+like|can\s+i\s+(?:get|have)|get))"
    rf"(?:\s+(?:a|the|my|own|weekly|personal|personally))*\s+{_DIGEST_NOUN}(?P<tail>(?:\s.*)?)$"
    r"|^subscribe\s+me$"
)
_UNSUBSCRIBE = _c(
    r"^(?:unsubscribe|unsub)\b(?P<tail>.*)$"
    r"|^(?:stop|cancel|turn\s+off|switch\s+off|disable|remove|delete|end|no\s+more)"
    rf"(?:\s+(?:the|this|our|my|weekly|channel's|channel))*\s+{_DIGEST_NOUN}(?P<tail2>(?:\s.*)?)$"
    rf"|^(?:stop|don't|dont|do\s+not)\s+send(?:ing)?\s+(?:me\s+|us\s+)?(?:the\s+|a\s+)?(?:weekly\s+)?{_DIGEST_NOUN}"
    r"(?P<tail3>(?:\s.*)?)$"
)
_SUBSCRIBE = _c(
    r"^(?:subscribe|sign\s+up|opt\s+in)\b(?P<tail>.*)$"
    r"|^(?:set\s*up|add|turn\s+on|switch\s+on|enable|start|schedule|create|send|post|move|change|reschedule)\b"
    rf"(?P<tail2>.*\b{_DIGEST_NOUN}\b.*)$"
)
_DIGEST_SETTINGS = _c(
    r"^(?:(?:show|view|see|check|get|list|display|what\s+are|what's|whats|what\s+is)(?:\s+me)?\s+)?"
    r"(?:(?:the|my|our|this|channel's|channel|current)\s+)*(?:weekly\s+)?digests?"
    r"(?:\s+(?:settings?|schedule|subscriptions?|config(?:uration)?|status|details|options|setup|time))?$"
    r"|^when\s+(?:is|does|will)\s+(?:the\s+|my\s+|our\s+)?(?:weekly\s+)?digest"
    r"(?:\s+(?:come|arrive|go\s+out|run|get\s+sent|sent|due|happen))?$"
    r"|^(?:am\s+i|are\s+we|is\s+this\s+(?:channel|chat))\s+subscribed(?:\s+to\s+(?:the\s+)?(?:weekly\s+)?digest)?$"
)

_ADMIN = r"admin(?:istrator)?(?:\s+(?:rights|access|role|permissions?|status))?"
# A word with an "@" in it and something after the "@". Up to its first "@" only: `\S*@\S+`
# let the two runs trade characters, so "@@@…" followed by more words took quadratic time.
_ADDRESS_WORD = r"[^\s@]*@\S+"
# `(?:\s*:)?\s+` below, not `\s*:?\s+`: two quantifiers must not share the same spaces.
_REVOKE_ADMIN = (
    _c(rf"^(?:revoke|remove|withdraw|take\s+away)\s+(?:the\s+)?{_ADMIN}\s+(?:from|for)\s+(?P<who>.+)$"),
    _c(rf"^(?:remove|revoke)\s+(?P<who>.+?)(?:'s)?\s+(?:as\s+(?:an?\s+)?)?{_ADMIN}$"),
    _c(r"^(?:remove|delete)\s+(?:an?\s+)?admin(?:istrator)?(?:\s*:)?\s+(?P<who>.+)$"),
    _c(r"^demote\s+(?P<who>.+?)\s+from\s+admin(?:istrator)?$"),
    _c(rf"^demote\s+(?P<who>{_ADDRESS_WORD})$"),
)
_GRANT_ADMIN = (
    _c(rf"^(?:grant|give)\s+(?:the\s+)?{_ADMIN}\s+to\s+(?P<who>.+)$"),
    _c(r"^(?:make|set)\s+(?P<who>.+?)\s+(?:as\s+)?(?:an?\s+)?admin(?:istrator)?$"),
    _c(r"^add\s+(?P<who>.+?)\s+as\s+(?:an?\s+)?admin(?:istrator)?$"),
    _c(r"^add\s+(?:(?:an?|new)\s+)*admin(?:istrator)?(?:\s*:)?\s+(?P<who>.+)$"),
    _c(rf"^(?:grant|give)\s+(?P<who>.+?)\s+{_ADMIN}$"),
    _c(r"^promote\s+(?P<who>.+?)\s+to\s+admin(?:istrator)?$"),
    _c(rf"^promote\s+(?P<who>{_ADDRESS_WORD})$"),
)

_LIST_ADMINS = _c(
    r"^(?:(?:list|show(?:\s+me)?|view|see)\s+)?(?:the\s+|all\s+)?(?:admins|administrators)(?:\s+history)?$"
    r"|^(?:who\s+(?:are|is)\s+(?:the\s+)?(?:admins?|administrators?))$"
    r"|^(?:admin|administrator)\s+(?:history|changes|log)$"
    r"|^(?:history|log)\s+of\s+(?:the\s+)?(?:admins|administrators|admin\s+rights)$"
)

_THE_REF = rf"(?:the\s+)?(?P<ref>{_REF})"
_DELEGATE = r"delegates?"
_REMOVE = r"(?:remove|delete|drop)"
# The person after the item, maybe behind ":", "," or "-" ("add delegate to R8: jane@x.uk").
_WHO_AFTER = r"(?:\s*(?:[:,-]\s*)?(?P<who>\S.*))?"
_REMOVE_DELEGATE = (
    _c(rf"^{_REMOVE}\s+(?:an?\s+|the\s+)?{_DELEGATE}\s+(?:from|for|on|of)\s+{_THE_REF}{_WHO_AFTER}$"),
    _c(rf"^{_REMOVE}\s+(?P<who>.+?)\s+as\s+(?:an?\s+|the\s+)?{_DELEGATE}\s+(?:from|on|for|of|to)\s+{_THE_REF}$"),
    _c(rf"^{_REMOVE}\s+(?:the\s+)?{_DELEGATE}\s+(?P<who>.+?)\s+(?:from|for|on)\s+{_THE_REF}$"),
    _c(rf"^{_REMOVE}\s+(?P<who>{_ADDRESS_WORD})\s+from\s+{_THE_REF}$"),
)
_ADD_DELEGATE = (
    _c(rf"^add\s+(?:an?\s+|the\s+)?(?:new\s+)?{_DELEGATE}\s+(?:to|for|on)\s+{_THE_REF}{_WHO_AFTER}$"),
    _c(rf"^add\s+(?P<who>.+?)\s+as\s+(?:an?\s+)?{_DELEGATE}\s+(?:on|for|to|of)\s+{_THE_REF}$"),
    _c(rf"^add\s+(?:the\s+)?{_DELEGATE}\s+(?P<who>.+?)\s+(?:to|for|on)\s+{_THE_REF}$"),
    _c(rf"^make\s+(?P<who>.+?)\s+(?:an?\s+)?delegate\s+(?:on|for|of|to)\s+{_THE_REF}$"),
    _c(rf"^delegate\s+{_THE_REF}\s+to\s+(?P<who>.+)$"),
    # Without the word "delegate", only an e-mail address makes "add X to R8" about a person.
    _c(rf"^add\s+(?P<who>{_ADDRESS_WORD})\s+to\s+{_THE_REF}$"),
)
_ASSIGN = (
    # Person first, so "assign 2 people to R8" is not read as item 2.
    _c(rf"^(?:re)?assign\s+(?P<who>.+?)\s+(?:to|as\s+(?:the\s+)?owner\s+(?:of|for|on))\s+{_THE_REF}$"),
    _c(rf"^(?:re)?assign\s+{_THE_REF}(?:\s*(?:\bto\b|->|:|=|\bowner\b(?:\s+to)?))?(?:\s*(?P<who>\S.*))?$"),
    _c(rf"^(?:make|set)\s+(?P<who>.+?)\s+(?:as\s+)?(?:the\s+)?(?:owner|lead)\s+(?:of|for|on)\s+{_THE_REF}$"),
    _c(rf"^(?:set|change)\s+(?:the\s+)?(?:owner|lead)\s+(?:of|for|on)\s+{_THE_REF}\s+(?:to|as)\s+(?P<who>.+)$"),
)

_DUE_NOUN = r"(?:(?:revised|new|target|internal)\s+)?(?:due\s+date|deadline|target\s+date|completion\s+date|due|date)"
_SET_DUE_DATE = (
    _c(
        r"^(?:set|change|move|update|revise|amend|extend|push(?:\s+back)?|adjust|reset)\s+(?:the\s+)?"
        rf"{_DUE_NOUN}\s+(?:of|for|on)\s+{_THE_REF}(?P<rest>(?:\s.*|:.*)?)$"
    ),
    _c(
        rf"^(?:set|change|update|revise|amend|adjust|move|extend)\s+{_THE_REF}(?:'s)?\s+{_DUE_NOUN}"
        r"(?P<rest>(?:\s.*|:.*)?)$"
    ),
    _c(
        rf"^(?:move|extend|push(?:\s+back)?|defer|postpone|delay)\s+{_THE_REF}"
        r"(?P<rest>\s+(?:to|until|till)\b.*)$"
    ),
    _c(rf"^{_THE_REF}(?:'s)?\s+{_DUE_NOUN}\s*(?P<rest>(?:to|is\s+now|now|=|:|->)(?:\s.*)?)$"),
)

# "set title of R8 to Hydra training", "rename R8 to Hydra training", "title R8: Hydra training".
_TITLE_NOUN = r"(?:(?:short\s+)?title|name|heading)"
_SET_TITLE = (
    _c(
        rf"^(?:set|change|update|edit|amend|give)\s+(?:the\s+)?{_TITLE_NOUN}\s+(?:of|for|on)\s+{_THE_REF}"
        r"(?P<rest>(?:\s.*|:.*)?)$"
    ),
    _c(rf"^(?:set|change|update|edit|amend)\s+{_THE_REF}(?:'s)?\s+{_TITLE_NOUN}(?P<rest>(?:\s.*|:.*)?)$"),
    _c(rf"^(?:rename|re-?title|title)\s+{_THE_REF}(?P<rest>(?:\s.*|:.*)?)$"),
)
# What comes between the item and its new title: "to", "as", ":", "=", "->".
_TITLE_LEAD = _c(r"^\s*(?:(?:to|as|is)\b|[:=]|->)?\s*")

_CLOSURE = r"(?:closure|close|closing|sign[\s-]?off|completion)(?:\s+request)?"
_REJECT_CLOSURE = (
    _c(rf"^(?:reject|decline|refuse|deny|bounce)\s+(?:the\s+)?{_CLOSURE}\s+(?:of|for|on)\s+{_THE_REF}(?P<rest>.*)$"),
    _c(rf"^(?:reject|decline|refuse|deny|bounce)\s+{_THE_REF}(?:\s+(?:for\s+)?{_CLOSURE})?(?P<rest>.*)$"),
)
_APPROVE_CLOSURE = (
    _c(
        r"^(?:approve|accept|confirm|sign[\s-]?off|ok|okay|agree)\s+(?:the\s+)?"
        rf"{_CLOSURE}\s+(?:of|for|on)\s+{_THE_REF}$"
    ),
    _c(
        rf"^(?:approve|accept|sign[\s-]?off|close)\s+{_THE_REF}"
        r"(?:\s+(?:(?:for\s+)?closure|as\s+(?:closed|complete|done)|closed))?$"
    ),
    _c(rf"^sign\s+{_THE_REF}\s+off$"),
    _c(rf"^{_THE_REF}\s+(?:closure\s+)?(?:approved|signed[\s-]?off|can\s+be\s+closed)$"),
)

# "revised date", "new deadline", "date change request", "extension": a later date a lead asked for.
_DATE_REQUEST = (
    r"(?:(?:the|a)\s+)?(?:(?:(?:revised|new|later|requested|proposed)\s+)?(?:due\s+)?(?:date|deadline)"
    r"(?:\s+(?:change|request|extension))?|extension|date\s+change)(?:\s+request)?"
)
_APPROVE_DUE_DATE = (
    _c(rf"^(?:approve|accept|agree(?:\s+to)?|ok|okay|confirm)\s+{_DATE_REQUEST}\s+(?:of|for|on)\s+{_THE_REF}$"),
    _c(rf"^(?:approve|accept)\s+{_THE_REF}(?:'s)?\s+{_DATE_REQUEST}$"),
)
_REJECT_DUE_DATE = (
    _c(rf"^(?:reject|decline|refuse|deny)\s+{_DATE_REQUEST}\s+(?:of|for|on)\s+{_THE_REF}(?P<rest>.*)$"),
    _c(rf"^(?:reject|decline|refuse|deny)\s+{_THE_REF}(?:'s)?\s+{_DATE_REQUEST}(?P<rest>.*)$"),
)
_REQUESTS_NOUN = r"(?:requests?|decisions?|approvals?|sign[\s-]?offs?|date\s+requests?|extensions?)"
_PENDING_FOR_ME = _c(
    r"^(?:what|which\s+(?:items|requests|ones))\s+(?:needs?|awaits?|(?:is|are)\s+(?:awaiting|waiting\s+for)|requires?)"
    r"\s+my\s+(?:decision|approval|sign[\s-]?off|attention)s?$"
    r"|^what(?:'s|s|\s+is|\s+are)\s+(?:waiting|pending)\s+(?:on|for)\s+me$"
    r"|^(?:show\s+|list\s+)?my\s+(?:pending\s+)?(?:decisions|approvals|requests)(?:\s+(?:pending|waiting))?$"
)
_PENDING_ALL = _c(
    rf"^(?:(?:list|show(?:\s+me)?|view|get|see|any)\s+)?(?:all\s+)?(?:the\s+)?(?:pending|open|outstanding)\s+{_REQUESTS_NOUN}$"
    rf"|^{_REQUESTS_NOUN}\s+(?:pending|waiting(?:\s+for\s+(?:a\s+)?(?:decision|approval))?|awaiting\s+(?:a\s+)?(?:decision|approval))$"
    r"|^what(?:'s|s|\s+is|\s+are)\s+(?:waiting|pending|awaiting)\s+(?:for\s+)?(?:a\s+)?(?:decision|approval)$"
)

_SUPERSEDED_BY = rf"(?:\s+(?:by|with)\s+(?:the\s+)?(?P<by>{_REF}))?"
_SUPERSEDE = (
    _c(rf"^(?:mark|set|flag)\s+{_THE_REF}\s+(?:as\s+)?superseded{_SUPERSEDED_BY}(?P<rest>.*)$"),
    _c(rf"^supersede\s+{_THE_REF}{_SUPERSEDED_BY}(?P<rest>.*)$"),
    _c(rf"^{_THE_REF}\s+(?:is|has\s+been)\s+superseded{_SUPERSEDED_BY}(?P<rest>.*)$"),
)
_REOPEN = (_c(rf"^re-?open\s+{_THE_REF}(?P<rest>.*)$"),)

_RESPONSE = (
    _c(
        r"^(?:(?:show|view|see|get|read)(?:\s+me)?\s+)?(?:the\s+)?(?:(?:original|initial|first)\s+)?"
        r"(?:(?:constabulary|force|police|pcc)(?:'s|’s)?\s+)?response\s+(?:to|for|on|of)\s+"
        rf"{_THE_REF}$"
    ),
    _c(
        r"^what\s+did\s+(?:the\s+)?(?:force|constabulary|police|chief\s+constable)\s+(?:say|respond|reply|answer)"
        rf"\s+(?:about|to|on|for)\s+{_THE_REF}$"
    ),
)

_OF_REPORT = (
    rf"(?:\s+(?:on|about|of|for|to|in)\s+(?:(?:the|this)\s+(?:report|inspection)|(?:the\s+)?(?P<code>{_CODE_HYPHEN})))?"
)
_COMMISSIONER = r"(?:the\s+)?(?:police\s+and\s+crime\s+)?(?:commissioner|pcc)(?:'s|’s)?"
_STATEMENT = (
    _c(rf"^what\s+(?:did|does)\s+{_COMMISSIONER}\s+(?:say|think)(?P<tail>{_OF_REPORT})$"),
    _c(
        rf"^(?:(?:show|read|view|see|get)(?:\s+me)?\s+)?{_COMMISSIONER}\s+(?:statement|response|comments?)"
        rf"(?P<tail>{_OF_REPORT})$"
    ),
)
_SUMMARY = (
    _c(rf"^(?:(?:show|read|view|see|get)(?:\s+me)?\s+)?(?:the\s+)?(?:report\s+)?summary(?P<tail>{_OF_REPORT})$"),
    _c(rf"^what\s+is\s+(?:the|this)\s+(?:report|inspection)\s+about(?P<tail>{_OF_REPORT})$"),
)

_HISTORY = (
    _c(
        r"^(?:(?:show|view|get|see|display|give)(?:\s+me)?\s+)?(?:the\s+)?(?:(?:full|whole|complete)\s+)?"
        r"(?:history|timeline|audit(?:\s+(?:trail|log))?|log|change\s*log|update\s+history|updates|"
        rf"(?:past|all|previous)\s+updates)\s+(?:of|for|on|about)\s+{_THE_REF}$"
    ),
    _c(rf"^{_THE_REF}(?:'s)?\s+(?:full\s+)?(?:history|timeline|audit\s+trail|log|updates|update\s+history)$"),
    _c(rf"^(?:history|timeline)\s+{_THE_REF}$"),
)

# After a verb, one run of filler words; without one, only "new", "progress" and "status". (Two
# runs in a row that both take "new" let "post new new new … x" split them every way: quadratic.)
_START_UPDATE = _c(
    r"^(?:(?:post|add|give|submit|write|make|send|provide|do|enter|log|record|create|start)"
    r"\s+(?:(?:an?|my|the|new|progress|status|quick)\s+)*|(?:(?:new|progress|status)\s+)*)"
    r"update(?:\s+(?:the\s+)?(?:status|progress)\s+(?:of|for|on))?"
    rf"(?:\s+(?P<preposition>for|to|on|about|against|of|re))?(?:\s+{_THE_REF})?$"
)
# "update on R8?" asks for news rather than offering it.
_UPDATE_QUESTION = _c(r"^update\s+(?:on|about|re)\b")

_MINE = _c(
    # A state word after "my" is not kept: Mine lists the speaker's items with their RAG, which
    # shows the overdue and blocked ones anyway, and is better than a search for "my overdue".
    r"^(?:(?:list|show(?:\s+me)?|what\s+are|view|get|see)\s+)?(?:all\s+)?my"
    r"(?:\s+(?:own|open|assigned|current|overdue|blocked|outstanding|late))?\s+"
    r"(?:recommendations|recs|items|actions|tasks|afis|stuff|work)$"
    r"|^mine$|^what\s+(?:do|did)\s+i\s+own$"
    r"|^what(?:'s|s|\s+is)\s+(?:assigned\s+to\s+me|mine|on\s+my\s+plate)$"
    r"|^(?:items|recommendations|recs)\s+(?:assigned\s+to\s+me|i\s+own|for\s+me|owned\s+by\s+me)$"
    r"|^what\s+am\s+i\s+(?:responsible\s+for|assigned(?:\s+to)?|leading(?:\s+on)?|the\s+owner\s+of)$"
)

# List commands: a verb (or none) then nothing but filter words, kind nouns, report codes and
# glue, read piece by piece so "list of training courses" is a search, not a list.
_LIST_VERB = _c(
    r"^(?:(?P<strong>list|show(?:\s+me)?|view|display|get(?:\s+me)?|give\s+me|see|browse|status(?:\s+(?:of|for|on))?"
    r"|overview(?:\s+of)?|summary(?:\s+of)?|dashboard)"
    r"|(?P<weak>what(?:'s|s|\s+is|\s+are|\s+has|\s+have)|which(?:\s+ones)?|how\s+many|are\s+there\s+any|"
    r"is\s+there\s+anything|is\s+anything|are\s+any|anything|any))(?:\s+|$)(?P<rest>.*)$"
)
# (pattern, filter, enough on its own without a verb)
_DUE_IN = r"due\s+(?:(?:in|within|during|by\s+the\s+end\s+of)\s+)?"
_LIST_FILTERS: tuple[tuple[str, ListFilter, bool], ...] = (
    # Calendar windows first: "due next month" is not "due" followed by other words.
    (rf"{_DUE_IN}next\s+month", ListFilter.DUE_NEXT_MONTH, True),
    (rf"{_DUE_IN}(?:this|the\s+current)\s+quarter", ListFilter.DUE_THIS_QUARTER, True),
    (rf"{_DUE_IN}(?:the\s+)?next\s+quarter", ListFilter.DUE_NEXT_QUARTER, True),
    (rf"{_DUE_IN}this\s+week", ListFilter.DUE_THIS_WEEK, True),
    (rf"{_DUE_IN}next\s+week", ListFilter.DUE_NEXT_WEEK, True),
    (r"due\s+(?:in\s+)?this\s+month", ListFilter.DUE_THIS_MONTH, True),
    (
        r"due\s+(?:in\s+|within\s+)?(?:the\s+)?next\s+(?:30|thirty)\s+days|due\s+(?:with)?in\s+(?:30|thirty)\s+days"
        r"|due\s+in\s+the\s+next\s+month|due\s+soon|coming\s+up|upcoming",
        ListFilter.DUE_NEXT_30_DAYS,
        True,
    ),
    (r"due", ListFilter.DUE_NEXT_30_DAYS, False),
    (
        r"(?:awaiting|pending|needing|ready\s+for|for)\s+(?:sign[\s-]?off|closure|approval)"
        r"|to\s+(?:be\s+)?sign(?:ed)?[\s-]?off",
        ListFilter.AWAITING_SIGN_OFF,
        True,
    ),
    (r"overdue|past\s+(?:their\s+|the\s+)?due(?:\s+date)?", ListFilter.OVERDUE, True),
    (r"late|behind(?:\s+schedule)?", ListFilter.OVERDUE, False),
    (r"blocked", ListFilter.BLOCKED, True),
    (r"stuck", ListFilter.BLOCKED, False),
    (r"in\s+progress", ListFilter.IN_PROGRESS, True),
    (r"not\s+(?:yet\s+)?started|unstarted", ListFilter.NOT_STARTED, True),
    (r"not\s+(?:yet\s+)?closed|still\s+open", ListFilter.OPEN, False),
    (r"closed|signed[\s-]off", ListFilter.CLOSED, True),
    (r"completed?|done|finished", ListFilter.CLOSED, False),
    (r"open|outstanding", ListFilter.OPEN, True),
    (r"live|active|ongoing", ListFilter.OPEN, False),
    (r"all|everything", ListFilter.ALL, True),
    # RAG, the lead's assessment, ownership and silence.
    (r"reds?", ListFilter.RED, True),
    (r"ambers?", ListFilter.AMBER, True),
    (r"greens?", ListFilter.GREEN, True),
    (r"blues?", ListFilter.BLUE, True),
    (r"at[\s-]risk", ListFilter.AT_RISK, True),
    (r"off[\s-]track", ListFilter.OFF_TRACK, True),
    (
        r"unassigned|un-assigned|unowned|ownerless|not\s+(?:yet\s+)?assigned|no\s+owners?|without\s+(?:an?\s+)?owners?"
        r"|nobody\s+assigned|no\s+one\s+assigned|no\s+lead",
        ListFilter.UNASSIGNED,
        True,
    ),
    (
        r"stale|not\s+updated(?:\s+recently)?|(?:no|without(?:\s+an?)?)\s+(?:recent\s+)?updates?|gone\s+quiet"
        r"|out\s+of\s+date|neglected",
        ListFilter.STALE,
        True,
    ),
)
_LIST_PIECE = _c(
    r"[\s,]*(?:"
    + "|".join(f"(?P<f{index}>{pattern})" for index, (pattern, _, _) in enumerate(_LIST_FILTERS))
    + rf"|(?P<code>{_CODE_HYPHEN}|{_CODE_SPACE})"
    + rf"|(?P<afi>{_KIND_AFI})|(?P<coc>{_KIND_COC})"
    + r"|(?P<noun>recommendations?|recs|items?|actions?|ones)"
    + r"|(?P<glue>the|of|for|in|from|that|which|are|is|were|on|reports?|with|and|currently|now|still|at\s+the\s+moment"
    + r"|right\s+now|there|any|list\s+of|me|please|so\s+far|yet|rag|rated|flagged|marked|as|do|we|have|got"
    + r"|in\s+total|in\s+all|altogether|total|by\s+(?:status|rag)))(?![\w-])"
)

_STATUS_PREFIX = (
    r"(?:what(?:'s|s|\s+is)\s+(?:the\s+)?(?:(?:latest|current)\s+)?(?:status|position|progress|news|update|situation"
    r"|state)(?:\s+(?:of|on|for|with|re|about|regarding))?"
    r"|(?:(?:the|latest|current|any|quick)\s+)*(?:status|position|progress|news|updates?|latest|situation|state)"
    r"(?:\s+(?:of|on|for|with|re|about|regarding))?"
    r"|(?:get|check|show|give|see|view|find|look\s*up|fetch|display|open|pull\s+up)(?:\s+me)?(?:\s+the)?"
    r"(?:\s+(?:status|details|progress|info|latest)(?:\s+(?:of|for|on))?)?"
    r"|how(?:'s|s|\s+is|\s+are)(?:\s+(?:things|it|we)(?:\s+(?:going|doing|getting\s+on|progressing))?)?"
    r"(?:\s+(?:with|on|for))?"
    r"|tell\s+me(?:\s+more)?\s+about|what\s+about|how\s+about|where\s+are\s+we(?:\s+at)?(?:\s+(?:with|on))?"
    r"|where(?:'s|s|\s+is)|what(?:'s|s|\s+is)\s+(?:happening|going\s+on)\s+(?:with|on)"
    r"|info(?:rmation)?\s+(?:on|about|for)|details\s+(?:of|on|for|about)|what(?:'s|s|\s+is)|about|re|regarding)"
)
_STATUS_SUFFIX = (
    r"(?:[\s,:-]+(?:status|progress|update|details|info|going|doing|getting\s+on|coming\s+along|progressing|looking"
    r"|now|then|at|today))*"
)
_STATUS = _c(rf"^(?:{_STATUS_PREFIX}[\s,:]+)?{_THE_REF}{_STATUS_SUFFIX}$")
# "how is OIC-2025 going": a status question about a whole report is its list.
_REPORT_STATUS = _c(
    rf"^(?:{_STATUS_PREFIX}[\s,:]+)?(?:the\s+)?(?P<code>{_CODE_HYPHEN}|{_CODE_SPACE})(?:\s+report)?{_STATUS_SUFFIX}$"
)

# Filler around a free-text search: "where are we with the hydra training?" → "hydra training".
_SEARCH_PREFIX = _c(
    r"^(?:where\s+are\s+we(?:\s+at)?(?:\s+(?:with|on))?|where(?:'s|s|\s+is|\s+are)"
    r"|what(?:'s|s|\s+is)\s+(?:the\s+)?(?:latest|status|progress|position|news|update|situation)"
    r"(?:\s+(?:of|on|with|for|about|re|regarding))?"
    r"|what(?:'s|s|\s+is)\s+(?:happening|going\s+on)\s+(?:with|on)|what\s+about|how\s+about"
    r"|(?:the\s+)?(?:status|progress|latest|news|update|updates|position)\s+(?:of|on|for|with|about|re|regarding)"
    r"|any\s+(?:news|updates?|progress)(?:\s+(?:on|about|with|for|re))?|tell\s+me(?:\s+more)?\s+about"
    r"|how(?:'s|s|\s+is|\s+are)(?:\s+(?:things|we)\s+(?:going|doing|getting\s+on)(?:\s+(?:with|on))?)?"
    r"|search(?:\s+for)?|find(?:\s+me)?|look\s*up|look\s+for|show\s+me|info(?:rmation)?\s+(?:on|about)"
    r"|details\s+(?:of|on|about)|what(?:'s|s|\s+is)|status|about|regarding)(?:\s+|$)"
)
_SEARCH_ARTICLE = _c(r"^(?:the|a|an|our|my|this|that)\s+")
# Tried from the first space of a run only (the lookbehind), so no run is read once per space.
_SEARCH_SUFFIX = _c(
    r"(?<!\s)\s+(?:going|doing|getting\s+on|coming\s+along|progressing|status|update|progress|looking|now|at)$"
)


def _grant(match: re.Match[str]) -> Intent:
    email, typed = _person(match["who"])
    return GrantAdmin(email, typed)


def _revoke(match: re.Match[str]) -> Intent:
    email, typed = _person(match["who"])
    return RevokeAdmin(email, typed)


def _with_ref(build: Callable[[ItemRef, re.Match[str]], Intent | None]) -> Builder:
    """A builder that reads the match's item reference first and declines if it is invalid."""

    def builder(match: re.Match[str]) -> Intent | None:
        ref = _ref_from(match["ref"])
        return None if ref is None else build(ref, match)

    return builder


def _groups(match: re.Match[str]) -> dict[str, str | None]:
    # .get on the dict, not match["who"]: a pattern without that group means nobody was named.
    return match.groupdict()


def _add_delegate(ref: ItemRef, match: re.Match[str]) -> Intent:
    email, typed = _person(_groups(match).get("who"))
    return AddDelegate(ref, email, typed)


def _remove_delegate(ref: ItemRef, match: re.Match[str]) -> Intent:
    email, typed = _person(_groups(match).get("who"))
    return RemoveDelegate(ref, email, typed)


def _assign(ref: ItemRef, match: re.Match[str]) -> Intent:
    email, typed = _person(_groups(match).get("who"))
    return Assign(ref, email, typed)


def _set_due_date(ref: ItemRef, match: re.Match[str]) -> Intent:
    date_text, reason = _date_and_reason(match["rest"] or "")
    return SetDueDate(ref, date_text, reason)


def _set_title(ref: ItemRef, match: re.Match[str]) -> Intent:
    title = _TITLE_LEAD.sub("", match["rest"] or "", count=1)
    # The edges of a message lose their punctuation: a bracket the title opened is closed again.
    if title.count("(") > title.count(")"):
        title += ")"
    return SetTitle(ref, title)


def _reject(ref: ItemRef, match: re.Match[str]) -> Intent:
    return RejectClosure(ref, _reason(match["rest"]))


def _subscribe(match: re.Match[str]) -> Intent:
    weekday, time_text, code = _schedule(match["tail"] or match["tail2"] or "")
    return Subscribe(weekday, time_text, code)


def _unsubscribe(match: re.Match[str]) -> Intent:
    _, _, code = _schedule(match["tail"] or match["tail2"] or match["tail3"] or "")
    return Unsubscribe(code)


def _personal_digest(match: re.Match[str]) -> Intent:
    weekday, time_text, _ = _schedule(match["tail"] or "")
    return PersonalDigest(weekday, time_text)


def _snooze(match: re.Match[str]) -> Intent:
    if match["until"]:
        return SnoozeReminders(None, match["until"].strip(_EDGE_PUNCTUATION))
    duration = match["duration"] or match["duration2"]
    # A bare "snooze" is a week: long enough to matter, short enough not to lose track.
    return SnoozeReminders(_days(duration) if duration else 7)


_CORRECT_UPDATE = _c(
    r"^(?:correct|fix|amend|edit|change)\s+(?:my\s+)?(?:(?:last|latest|previous)\s+)?update"
    rf"\s+(?:of|on|for|to|about)\s+{_THE_REF}$"
)
_USE_REPORT = _c(
    rf"^(?:use\s+|set\s+(?:the\s+)?default\s+report\s+(?:to\s+)?|default\s+(?:report\s+)?(?:to\s+)?)(?P<code>{_CODE_HYPHEN})"
    r"(?:\s+(?:by\s+default|as\s+(?:the\s+)?default(?:\s+report)?|here|in\s+this\s+(?:chat|channel|conversation)))*$"
)


def _correct_update(ref: ItemRef, match: re.Match[str]) -> Intent:
    return CorrectUpdate(ref)


def _use_report(match: re.Match[str]) -> Intent:
    return UseReport(_report_code(match["code"]))


def _history(ref: ItemRef, match: re.Match[str]) -> Intent:
    return History(ref)


def _response(ref: ItemRef, match: re.Match[str]) -> Intent:
    return Response(ref)


def _about_report(statement: bool) -> Builder:
    def build(match: re.Match[str]) -> Intent:
        code = match["code"]
        return AboutReport(statement, _report_code(code) if code else None)

    return build


def _approve(ref: ItemRef, match: re.Match[str]) -> Intent:
    return ApproveClosure(ref)


def _supersede(ref: ItemRef, match: re.Match[str]) -> Intent | None:
    by = _ref_from(match["by"]) if match["by"] else None
    if match["by"] and by is None:
        return None
    return Supersede(ref, by, _reason(match["rest"]))


def _reopen(ref: ItemRef, match: re.Match[str]) -> Intent:
    return Reopen(ref, _reason(match["rest"]))


def _approve_due_date(ref: ItemRef, match: re.Match[str]) -> Intent:
    return ApproveDueDate(ref)


def _reject_due_date(ref: ItemRef, match: re.Match[str]) -> Intent:
    return RejectDueDate(ref, _reason(match["rest"]))


def _constant(intent: Intent) -> Builder:
    return lambda match: intent


# --------------------------------------------------------------------------------------------
# The parsers each command declares (bot/commands.py orders them: the first intent found wins)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Message:
    """A message made ready for the parsers."""

    cleaned: str  # markup, invisible characters and edge punctuation removed; at most a command long
    body: str  # `cleaned` without courtesy ("please", "thanks", "@RecBot")
    is_question: bool  # the message ended with "?"


Parser = Callable[[Message], "Intent | None"]


def rule(*patterns: LazyPattern, build: Builder) -> Parser:
    """A parser that tries anchored patterns on the body and builds the intent from the first match."""

    def parse(message: Message) -> Intent | None:
        for pattern in patterns:
            match = pattern.match(message.body)
            if match:
                intent = build(match)
                if intent is not None:
                    return intent
        return None

    return parse


def _greeting(message: Message) -> Intent | None:
    # Read before courtesy is stripped: "thanks" alone is Thanks, "hi thanks" is still a greeting.
    return Greeting() if _GREETING.match(message.cleaned) else None


GREETING: Parser = _greeting
HELP = rule(_HELP, build=_constant(Help()))
CORRECT_UPDATE = rule(_CORRECT_UPDATE, build=_with_ref(_correct_update))
USE_REPORT = rule(_USE_REPORT, build=_use_report)
THANKS = rule(_THANKS, build=_constant(Thanks()))
CANCEL = rule(_CANCEL, build=_constant(Cancel()))
BACK = rule(_BACK, build=_constant(Back()))
STOP_REMINDERS = rule(_STOP_REMINDERS, build=_constant(StopReminders()))
SNOOZE_REMINDERS = rule(_SNOOZE, build=_snooze)
RESUME_REMINDERS = rule(_RESUME, build=_constant(ResumeReminders()))
PERSONAL_DIGEST = rule(_PERSONAL_DIGEST, build=_personal_digest)
UNSUBSCRIBE = rule(_UNSUBSCRIBE, build=_unsubscribe)
SUBSCRIBE = rule(_SUBSCRIBE, build=_subscribe)
DIGEST_SETTINGS = rule(_DIGEST_SETTINGS, build=_constant(DigestSettings()))
REVOKE_ADMIN = rule(*_REVOKE_ADMIN, build=_revoke)
GRANT_ADMIN = rule(*_GRANT_ADMIN, build=_grant)
REMOVE_DELEGATE = rule(*_REMOVE_DELEGATE, build=_with_ref(_remove_delegate))
ADD_DELEGATE = rule(*_ADD_DELEGATE, build=_with_ref(_add_delegate))
SET_DUE_DATE = rule(*_SET_DUE_DATE, build=_with_ref(_set_due_date))
SET_TITLE = rule(*_SET_TITLE, build=_with_ref(_set_title))
LIST_ADMINS = rule(_LIST_ADMINS, build=_constant(ListAdmins()))
SUPERSEDE = rule(*_SUPERSEDE, build=_with_ref(_supersede))
REOPEN = rule(*_REOPEN, build=_with_ref(_reopen))
REJECT_DUE_DATE = rule(*_REJECT_DUE_DATE, build=_with_ref(_reject_due_date))
APPROVE_DUE_DATE = rule(*_APPROVE_DUE_DATE, build=_with_ref(_approve_due_date))
PENDING = rule(_PENDING_FOR_ME, build=_constant(Pending(Waiting.FOR_ME)))
PENDING_ALL = rule(_PENDING_ALL, build=_constant(Pending(Waiting.ALL)))
REJECT_CLOSURE = rule(*_REJECT_CLOSURE, build=_with_ref(_reject))
APPROVE_CLOSURE = rule(*_APPROVE_CLOSURE, build=_with_ref(_approve))
ASSIGN = rule(*_ASSIGN, build=_with_ref(_assign))
HISTORY = rule(*_HISTORY, build=_with_ref(_history))
RESPONSE = rule(*_RESPONSE, build=_with_ref(_response))
STATEMENT = rule(*_STATEMENT, build=_about_report(statement=True))
SUMMARY = rule(*_SUMMARY, build=_about_report(statement=False))
MINE = rule(_MINE, build=_constant(Mine()))


def _start_update(message: Message) -> Intent | None:
    text = message.body
    match = _START_UPDATE.match(text)
    if match is None or (message.is_question and _UPDATE_QUESTION.match(text)):
        return None
    if match["ref"] is None:
        # "update for" with nothing after it, or "update" alone: the dialog asks which item.
        return StartUpdate(None)
    ref = _ref_from(match["ref"])
    return None if ref is None else StartUpdate(ref)


@dataclass(frozen=True, slots=True)
class _ListWords:
    """What the words after a list or count verb asked for."""

    filter: ListFilter | None
    code: str | None
    kind: Kind | None
    substantive: bool  # something a verb-less or question-shaped list needs to stand on


def _list_words(rest: str, *, weak: bool) -> _ListWords | None:
    """The list grammar read piece by piece; None if any word is not part of it."""
    chosen: ListFilter | None = None
    code: str | None = None
    kind: Kind | None = None
    substantive = False
    position = 0
    while position < len(rest):
        piece = _LIST_PIECE.match(rest, position)
        if piece is None or piece.end() == position:
            if rest[position:].strip(" ,") == "":
                break
            return None
        position = piece.end()
        if piece["code"]:
            code = _report_code(piece["code"])
            substantive = True
        elif piece["afi"]:
            kind, substantive = Kind.AREA_FOR_IMPROVEMENT, True
        elif piece["coc"]:
            kind, substantive = Kind.CAUSE_OF_CONCERN, True
        elif piece["noun"]:
            substantive = True
        elif not piece["glue"]:
            for index, (_, list_filter, standalone) in enumerate(_LIST_FILTERS):
                if piece[f"f{index}"]:
                    if chosen is None or chosen is ListFilter.ALL:
                        chosen = list_filter
                    substantive = substantive or standalone or weak
                    break
    return _ListWords(chosen, code, kind, substantive)


def _list_items(message: Message) -> Intent | None:
    """A list command, read piece by piece; None if any word is not part of the list grammar."""
    text = message.body
    verb = _LIST_VERB.match(text)
    strength = "strong" if verb and verb["strong"] else "weak" if verb else "none"
    words = _list_words(verb["rest"] if verb else text, weak=strength == "weak")
    if words is None or (strength != "strong" and not words.substantive):
        return None
    return ListItems(words.filter or ListFilter.ALL, words.code, words.kind)


# "how many are red", "how many recommendations are there", "count overdue items", "RAG breakdown".
_COUNT_VERB = _c(
    r"^(?:how\s+many|count(?:\s+(?:of|up|the|all))?|(?:the\s+)?(?:total\s+)?number\s+of|totals?(?:\s+(?:of|for))?"
    r"|(?:(?:give|show)(?:\s+me)?\s+)?(?:an?\s+|the\s+)?(?:rag\s+|status\s+)?(?:counts?|numbers|breakdown|tally)"
    r"(?:\s+(?:of|for))?)(?:\s+|$)(?P<rest>.*)$"
)


def _count_items(message: Message) -> Intent | None:
    """A count: the count verb, then only list words (any filter, report or kind)."""
    verb = _COUNT_VERB.match(message.body)
    if verb is None:
        return None
    words = _list_words(verb["rest"], weak=True)
    if words is None:
        return None
    return CountItems(words.filter or ListFilter.ALL, words.code, words.kind)


# "what's changed this week", "what happened today", "recent changes", "any updates this week".
_CHANGES = (
    _c(
        r"^(?:what|which(?:\s+(?:items|recommendations|recs|ones))?)(?:'s|s|\s+is|\s+are|\s+has|\s+have)?\s+"
        r"(?:changed|happened|moved|been\s+(?:updated|changed|happening|going\s+on)|new|updated|going\s+on)"
        r"(?P<tail>(?:\s.*)?)$"
    ),
    _c(
        r"^(?:(?:show|list|give|get|see)(?:\s+me)?\s+)?(?:(?:the|any|all)\s+)?(?:recent|latest|new)\s+"
        r"(?:changes|activity|updates)(?P<tail>(?:\s.*)?)$"
    ),
    _c(
        r"^(?:(?:show|list|give|get|see)(?:\s+me)?\s+)?(?:(?:the|any|all)\s+)?(?:changes|activity|updates)(?P<tail>\s.+)$"
    ),
    _c(r"^any(?:thing)?\s+(?:changes|new|changed|happened)(?P<tail>(?:\s.*)?)$"),
)
_PERIODS: tuple[tuple[LazyPattern, Period], ...] = (
    (
        _c(
            r"(?:so\s+far\s+)?(?:(?:in|during|over)\s+)?(?:this|the\s+current)\s+week(?:\s+so\s+far)?"
            r"|since\s+(?:monday|the\s+start\s+of\s+(?:the|this)\s+week)"
        ),
        Period.THIS_WEEK,
    ),
    (_c(r"(?:so\s+far\s+)?today(?:\s+so\s+far)?|since\s+this\s+morning"), Period.TODAY),
    (_c(r"(?:(?:in|during|over)\s+)?(?:last|the\s+previous|previous)\s+week"), Period.LAST_WEEK),
    (
        _c(r"(?:(?:in|during|over)\s+)?the\s+(?:last|past)\s+(?:(?:7|seven)\s+days|week)|recently|lately"),
        Period.LAST_7_DAYS,
    ),
    (
        _c(r"(?:(?:in|during|over)\s+)?this\s+month(?:\s+so\s+far)?|since\s+the\s+start\s+of\s+the\s+month"),
        Period.THIS_MONTH,
    ),
)


# What is left of "… in OIC-2025" once the code is taken out.
_DANGLING = _c(r"(?:^|(?<=\S) )(?:in|for|on|of|across)$")


def _changes(message: Message) -> Intent | None:
    """What changed in a period; the period must be one we know ("what's new with R8" is a status question)."""
    for pattern in _CHANGES:
        match = pattern.match(message.body)
        if match is None:
            continue
        tail = match["tail"]
        code: str | None = None
        code_match = _CODE_IN_TAIL.search(tail)
        if code_match:
            code = _report_code(code_match["spaced"] or code_match[0])
            tail = tail[: code_match.start()] + " " + tail[code_match.end() :]
        tail = " ".join(tail.split()).strip(_EDGE_PUNCTUATION)
        tail = _DANGLING.sub("", tail)
        if not tail:
            return ChangesIn(Period.THIS_WEEK, code)
        for period_pattern, period in _PERIODS:
            if period_pattern.fullmatch(tail):
                return ChangesIn(period, code)
        return None
    return None


# Several items in one question: "status of rec 8 and rec 9", "R8, R9 and AFI 2", "R8 & R9?".
_MAX_REFS = 10
_MANY_PREFIX = _c(rf"(?:{_STATUS_PREFIX})[\s,:]+")
_ONE_REF = _c(rf"(?:the\s+)?(?P<ref>{_REF})")
_EXPLICIT_REF = _c(_ref_pattern(named=False, explicit_only=True))
# "/" only before a letter ("R8/R9"): "8/9" is a date.
_REF_SEPARATOR = _c(r"\s*(?:,\s*(?:and\s+|&\s*)?|&\s*|\+\s*|/\s*(?=[a-z#])|(?<=\S)\s+(?:and|plus)\s+)")
_MANY_SUFFIX = _c(rf"{_STATUS_SUFFIX}$")
# What `_REF_SEPARATOR` needs: a message with none of these holds one reference at most, and is not
# read reference by reference (a fifth of the grammar's time on a status question).
_MAYBE_SEPARATED = _c(r"[,&+/]|\s(?:and|plus)\s")


def _refs_from(text: str, start: int) -> list[ItemRef] | None:
    """Two or more references from `start` to the end, each read at one position; None if anything else is there."""
    refs: list[ItemRef] = []
    position = start
    while True:
        found = _ONE_REF.match(text, position)
        if found is None or len(refs) >= _MAX_REFS:
            return None
        ref = _ref_from(found["ref"])
        if ref is None:
            return None
        if not refs and not _EXPLICIT_REF.fullmatch(found["ref"]) and start == 0:
            return None  # "8 and 9" alone is too little to go on; "status of 8 and 9" is not
        if refs and ref.kind is None and ref.report_code is None:
            # "R8 and 9": the bare number is of the kind (and report) before it.
            ref = ItemRef(ref.number, refs[-1].kind, refs[-1].report_code)
        refs.append(ref)
        position = found.end()
        separator = _REF_SEPARATOR.match(text, position)
        if separator is None or separator.end() == position:
            break
        position = separator.end()
    if _MANY_SUFFIX.match(text, position) is None or len(refs) < 2:
        return None
    return refs


def _status_of_many(message: Message) -> Intent | None:
    text = message.body
    if not _MAYBE_SEPARATED.search(text):
        return None
    prefix = _MANY_PREFIX.match(text)
    refs = (_refs_from(text, prefix.end()) if prefix else None) or _refs_from(text, 0)
    return StatusOfMany(tuple(refs)) if refs else None


def _status(message: Message) -> Intent | None:
    text = message.body
    match = _STATUS.match(text)
    if match:
        ref = _ref_from(match["ref"])
        if ref is not None:
            return Status(ref)
    report = _REPORT_STATUS.match(text)
    if report:
        return ListItems(ListFilter.ALL, _report_code(report["code"]))
    # An explicit reference anywhere ("hi, where's R8 at with the hydra work") is a status
    # question; a bare number inside a sentence is not ("training for 12 officers").
    for found in _EXPLICIT_REF_ANYWHERE.finditer(text):
        ref = _ref_from(found[0])
        if ref is not None:
            return Status(ref)
    return None


# Filler is a few words deep; a fixed number of passes keeps "a a a a …" linear.
_FILLER_PASSES = 4


def _search(message: Message) -> Search:
    """Whatever no other parser took is a free-text search."""
    text = message.body
    query = normalise(text)
    for _ in range(_FILLER_PASSES):
        previous = query
        query = _SEARCH_PREFIX.sub("", query, count=1)
        query = _SEARCH_ARTICLE.sub("", query, count=1)
        query = _SEARCH_SUFFIX.sub("", query, count=1).strip(_EDGE_PUNCTUATION)
        if query == previous:
            break
    return Search(query or normalise(text))


def _strip_courtesy(text: str) -> str:
    for _ in range(_FILLER_PASSES):
        previous = text
        text = _POLITE_END.sub("", text).strip(_EDGE_PUNCTUATION)
        text = _POLITE_START.sub("", text, count=1).strip(_EDGE_PUNCTUATION)
        if text == previous:
            break
    return text


START_UPDATE: Parser = _start_update
LIST_ITEMS: Parser = _list_items
COUNT_ITEMS: Parser = _count_items
CHANGES: Parser = _changes
STATUS_OF_MANY: Parser = _status_of_many
STATUS: Parser = _status
SEARCH = _search


def parse_intent(text: str, parsers: Sequence[Parser]) -> Intent:
    """Read one message with `parsers` in order; never raises, and returns Unknown only for empty text."""
    unmarked = _unmarked(text)
    cleaned = unmarked.strip(_EDGE_PUNCTUATION)
    if not any(character.isalnum() for character in cleaned):
        # A lone "?" (or "??") is someone asking what the bot does.
        return Help() if unmarked and set(unmarked) <= {"?", " "} else Unknown(text)
    # Only the start of a long message is parsed (no command is longer), which also caps the
    # query of the Search that such a message usually becomes.
    cleaned = cleaned[:_MAX_COMMAND_LENGTH].rstrip(_EDGE_PUNCTUATION)
    message = Message(cleaned, _strip_courtesy(cleaned), unmarked.endswith("?"))
    for parse in parsers:
        intent = parse(message)
        if intent is not None:
            return intent
    return SEARCH(message)
