"""Short titles for items ("Hydra training package"), derived from their text, and the rules every title keeps.

An item's text opens with what every item of a report shares — the deadline ("By 30 April 2026,"),
who must act ("chief constables, working with …,") and "should make sure that" — so its first
words cannot tell two items apart. `derive_title` drops that lead-in and keeps the subject, in at
most TITLE_LIMIT characters. It is a small set of rules, not a language model: deterministic, and
linear in the text (only its first MAX_TEXT characters are read, by anchored patterns or single
scans). Keyword extractors (YAKE, RAKE) give bags of words, not a phrase a person would write, and
a parser (spaCy) would be a large model for a few sentences per report.

A title is plain words on one line: letters, digits, spaces and a little punctuation
(`TITLE_PUNCTUATION`), so it can sit in any sentence or card without meaning anything to markdown
or to a template.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

# The longest title derived from a text, and the longest any title may be (an admin's, a tracker's).
TITLE_LIMIT = 60
MAX_TITLE_LENGTH = 80
# A recommendation's first sentence is a few hundred characters: nothing after this is read.
MAX_TEXT = 1_000
# More words than this is a sentence, not a title.
_MAX_WORDS = 12

TITLE_PUNCTUATION = " -,.'&/():!?%+"
_ANY_OTHER = re.compile(r"[^\w" + re.escape(TITLE_PUNCTUATION) + r"]|_")
_TYPOGRAPHY = str.maketrans({"\u2019": "'", "\u2018": "'", "\u2013": "-", "\u2014": "-"})
_EDGES = " ,;:-."
_KEY_EDGES = _EDGES + "'()"  # what a word is compared without
_LEADING_MARKS = re.compile(r"^[\W_]+")

# The end of the first sentence: a stop before a space or the end, but not "e.g." or "i.e.".
_SENTENCE_END = re.compile(r"[.;!?](?<!\b[a-z][.;!?])(?=\s|$)", re.IGNORECASE)
_MONTH = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?"
)
_NUMBER = r"(?:\d{1,3}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|eighteen)"
# "By 30 April 2026,", "Within six months of the publication of this report,", "With immediate effect,".
_LEADING_DEADLINE = re.compile(
    r"^(?:by|before|no\s+later\s+than|not\s+later\s+than|within|with\s+immediate\s+effect|immediately"
    r"|as\s+a\s+matter\s+of\s+(?:urgency|priority))\b[^,]{0,120},\s*",
    re.IGNORECASE,
)
# The deadline or a purpose at the end of a phrase: "… within a year", "… by March 2026", "… so that …".
# (The lookahead lets most words be passed over at their first letter.)
_TAIL = re.compile(
    r",?\s+(?=[bnwsifte])(?:(?:by|before|no\s+later\s+than)\s+(?:the\s+end\s+of\s+)?(?:\d|" + _MONTH + r"\s)"
    r"|within\s+(?:the\s+next\s+)?" + _NUMBER + r"\s+(?:month|year)s?\b"
    r"|so\s+that|so\s+as\s+to|in\s+order\s+to|to\s+make\s+sure|to\s+ensure|including|such\s+as|for\s+example"
    r"|e\.g\.|i\.e\.)",
    re.IGNORECASE,
)
# Who must act ends at what they must do.
_MODAL = re.compile(r"\b(?:should|must|needs?\s+to|ought\s+to)\b", re.IGNORECASE)
# "… must be completed by all officers": the subject came before the modal.
_PASSIVE = re.compile(
    r"^be\s+(?:\w+ed|given|made|done|taken|seen|shown|known|written|kept|held|sent|built|set|met|brought|sought)\b",
    re.IGNORECASE,
)
# "make sure that", "satisfy themselves that": what follows is the outcome wanted.
_ASSURANCE = re.compile(
    r"^(?:(?:also|then|now|urgently|immediately|promptly)\s+)?"
    r"(?:make\s+sure|ensure|satisfy\s+(?:themselves|itself)|be\s+(?:satisfied|assured)|assure\s+(?:themselves|itself)"
    r"|confirm)(?:\s+that)?\s+",
    re.IGNORECASE,
)
# "every time a member of their force reports a case …, the reporting officer …": the main clause follows.
_CONDITION = re.compile(
    r"^(?:every\s+time|each\s+time|whenever|when|where|if|once|as\s+soon\s+as)\b[^,]{0,200},\s*", re.IGNORECASE
)
_PRONOUN = re.compile(r"^(?:they|it|he|she|we|you)\s+", re.IGNORECASE)
# The verbs of an outcome ("… complete the Hydra training package"): what follows is its subject matter.
_RESULT_VERB = re.compile(
    r"\b(?:complete[sd]?|submit(?:s|ted)?|ha(?:ve|s)(?:\s+(?:had|been\s+given|access\s+to))?|use[sd]?|receive[sd]?"
    r"|undertake[sn]?|attend(?:s|ed)?|understand(?:s|ing)?|get(?:s|ting)?|follow(?:s|ed)?|appl(?:y|ies)|answer(?:s|ed)?"
    r"|compl(?:y|ies)\s+with)(?:\s+and\s+(?:complete[sd]?|submit(?:s|ted)?|use[sd]?|record(?:s|ed)?|shares?))?\s+",
    re.IGNORECASE,
)
_LEADING_ARTICLE = re.compile(r"^(?:(?:the|a|an|their|its|his|her|our)\s+)+", re.IGNORECASE)
# "review their support networks" → "review support networks".
_POSSESSIVE_AFTER_VERB = re.compile(r"(?P<verb>\S+\s+)(?:their|its|his|her|our)\s+", re.IGNORECASE)


def _words(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


# Words a title may not end on; words leading to a phrase; articles; words too common to say what a report is about.
_DANGLING = _words(
    "a an the and or nor but of to for on in at by with from into about as that which who whose their its his her our"
    " is are be was were been related relating within than including such per via across against between through"
    " under over around among amongst so this these those all any every each both either more less most"
    " whether how what when where why if"
)
_CONNECTORS = _words("on of about for into against in to around involving tackling related relating relation")
_ARTICLES = _words("the a an their its his her our all any every each")
_COMMON = _words("and the for how into with from this that their its our")


def derive_title(text: str, *, topic: str = "") -> str:
    """A short title for an item's text ("" when the text gives nothing to build one from).

    `topic` is the report's title: words the whole report is about tell none of its items apart.
    """
    sentence = _first_sentence(_one_plain_line(text[:MAX_TEXT]))
    subject = _subject(_after(_LEADING_DEADLINE, sentence))
    tail = _TAIL.search(subject, 1)
    if tail is not None:
        subject = subject[: tail.start()]
    return _shortened(_without_topic(_plain_words(subject), topic))


def _after(start: re.Pattern[str], text: str) -> str:
    """`text` without what `start` matches at its beginning (a splice: faster than `re.sub` on every item)."""
    found = start.match(text)
    return text if found is None else text[found.end() :]


def _one_plain_line(text: str) -> str:
    return " ".join((text if text.isascii() else text.translate(_TYPOGRAPHY)).split())


def _first_sentence(text: str) -> str:
    end = _SENTENCE_END.search(text)
    return text if end is None else text[: end.start()]


def _subject(sentence: str) -> str:
    """What the sentence asks for, without who must do it."""
    modal = _MODAL.search(sentence)
    if modal is None:
        return sentence  # no lead-in ("Forces do not understand …"): the sentence is its own subject
    before = sentence[: modal.start()].strip(_EDGES)
    after = _after(_LEADING_DEADLINE, sentence[modal.end() :].lstrip(_EDGES))  # "should, by …, make sure"
    if _PASSIVE.match(after) and before:
        return before
    assured = _ASSURANCE.match(after)
    if assured is None:
        # What they must do ("review their support networks' terms of reference" without "their").
        possessive = _POSSESSIVE_AFTER_VERB.match(after)
        return after if possessive is None else possessive["verb"] + after[possessive.end() :]
    return _outcome(_after(_CONDITION, after[assured.end() :]))


def _outcome(clause: str) -> str:
    """The outcome a clause such as "relevant personnel … complete the Hydra training package" wants."""
    clause = _after(_LEADING_ARTICLE, clause)
    pronoun = _PRONOUN.match(clause)
    if pronoun is None and _fits(clause.strip(_EDGES)):
        return clause  # "vetting units have enough trained staff" says it whole
    start = pronoun.end() if pronoun else 0
    verb = _RESULT_VERB.match(clause, start) if pronoun else _RESULT_VERB.search(clause, start)
    if verb is None:
        return clause[start:]
    matter = _after(_LEADING_ARTICLE, clause[verb.end() :])
    return matter if matter.strip(_EDGES) else clause[start:]


def _plain_words(text: str) -> list[str]:
    return _ANY_OTHER.sub(" ", text).split()


def _key(word: str) -> str:
    return word.strip(_KEY_EDGES).lower()


def _without_topic(words: list[str], topic: str) -> list[str]:
    """`words` without a run of the report's own words that only says what the report is about.

    Removed at the end with the words leading to it ("… package on organised immigration crime"),
    or between an article and the noun it qualifies ("the organised immigration crime e-learning
    package"); anywhere else the run is part of what the item says.
    """
    topic_words = _topic_words(topic)
    keys = [_key(word) for word in words] if topic_words else []
    start = 0
    while start < len(keys):
        end = start
        while end < len(words) and keys[end] in topic_words:
            end += 1
        if end - start >= 2:
            kept = _without_run(words, keys, start, end)
            if kept is not None and len(kept) >= 2:
                return kept
        start = max(end, start + 1)
    return words


@lru_cache(maxsize=64)
def _topic_words(topic: str) -> frozenset[str]:
    """The words a report's title says it is about (every item of an import shares one)."""
    return frozenset(key for key in map(_key, topic.split()) if len(key) > 2 and key not in _COMMON)


def _without_run(words: list[str], keys: list[str], start: int, end: int) -> list[str] | None:
    if end == len(words):
        while start > 0 and keys[start - 1] in _CONNECTORS:
            start -= 1
        return words[:start]
    if start > 0 and keys[start - 1] in _ARTICLES:
        return words[:start] + words[end:]
    return None


def _fits(text: str) -> bool:
    return len(text) <= TITLE_LIMIT and len(text.split()) <= _MAX_WORDS


def _shortened(words: list[str]) -> str:
    """The words as a title: at most TITLE_LIMIT characters and _MAX_WORDS words, ending on a word that ends it."""
    kept: list[str] = []
    length = -1
    for word in words:
        if len(kept) == _MAX_WORDS or length + 1 + len(word) > TITLE_LIMIT:
            # Cut: at the last comma when it leaves enough to say something.
            comma = max((index for index, kept_word in enumerate(kept[:-1]) if kept_word.endswith(",")), default=-1)
            if comma >= 2:
                kept = kept[: comma + 1]
            break
        kept.append(word)
        length += 1 + len(word)
    while kept and (_key(kept[-1]) in _DANGLING or not _key(kept[-1])):
        kept.pop()
    title = " ".join(kept).strip(_EDGES)
    while title.count("(") > title.count(")"):  # a bracket the cut left open goes, with what it holds
        title = title[: title.rfind("(")].strip(_EDGES)
    title = _after(_LEADING_MARKS, title)
    return title[:1].upper() + title[1:]


def distinct_titles(titles: Sequence[str | None], taken: Iterable[str] = ()) -> list[str | None]:
    """`titles` with repeats told apart ("Training", "Training (2)"), also from the `taken` titles.

    Case is ignored, as people read titles; a missing title (None or "") stays missing.
    """
    seen = {title.casefold() for title in taken}
    # The last number given to each title, so that a thousand repeats are not counted from 2 each time.
    numbered: dict[str, int] = {}
    distinct: list[str | None] = []
    for title in titles:
        if not title:
            distinct.append(None)
            continue
        candidate, number = title, numbered.get(title.casefold(), 1)
        while candidate.casefold() in seen:
            number += 1
            suffix = f" ({number})"
            candidate = title[: MAX_TITLE_LENGTH - len(suffix)].rstrip() + suffix
        numbered[title.casefold()] = number
        seen.add(candidate.casefold())
        distinct.append(candidate)
    return distinct


def normal_title(typed: str) -> str:
    """A title as typed, on the form it is stored in: one line, single spaces, straight apostrophes and dashes."""
    return _one_plain_line(typed)


def title_problem(typed: str) -> str | None:
    """Why `typed` cannot be an item's title (empty, more than one line, too long, odd characters), or None."""
    if "\n" in typed.strip() or "\r" in typed.strip():
        return "A title is one line."
    title = normal_title(typed)
    if not title:
        return "A title needs at least one word."
    if len(title) > MAX_TITLE_LENGTH:
        return f"A title is at most {MAX_TITLE_LENGTH} characters; that one has {len(title)}."
    if not title[0].isalnum() or _ANY_OTHER.search(title):
        return (
            "A title starts with a letter or digit and holds only letters, digits, spaces and - , . ' & / ( ) : ! ? % +"
        )
    return None


def with_reference(reference: str, title: str | None) -> str:
    """How an item is named where space allows: "OIC-2025 R8 · Hydra training", or the reference alone."""
    return f"{reference} · {title}" if title else reference


def item_titles(items: Sequence[tuple[str | None, str]], *, topic: str, taken: Iterable[str] = ()) -> list[str | None]:
    """The titles of one report's items, given as (title or None, text): each its own title (a tracker's),
    else one derived from its text; all told apart, from each other and from the `taken` titles."""
    return distinct_titles([given or derive_title(text or "", topic=topic) for given, text in items], taken)
