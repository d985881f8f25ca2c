"""The "post an update" conversation: item → permission → status → assessment → narrative →
evidence link → revised date (and its reason) → summary card → confirm.

Complete skips the assessment (it is recorded as on track) and the revised date. "change" at the
summary asks which answer to change, asks only that (and whatever it then needs), and comes back
to the summary. A correction starts at the summary with the corrected update's answers.

Nothing is written before confirm; the port's `record` is the only write. The validators are
pure module-level functions so the Adaptive Card form (bot/cards/update_form.py) applies exactly the
same rules. Dialogs import nothing from bot/: the date parser and the command test are injected.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from dialogs.flow import (
    BACK,
    Finish,
    Flow,
    FlowMachine,
    Goto,
    Jump,
    Outcome,
    Retry,
    Step,
    choice_by_number,
    normalise_answer,
)
from dialogs.ports import UpdatePort
from domain.clock import SYSTEM_CLOCK
from domain.dates import format_uk_date
from domain.failures import describe_failure
from domain.text import safe_text
from domain.updates import Actor, ItemBrief, Refused, UpdateDraft
from domain.vocabulary import Assessment, Status

log = logging.getLogger(__name__)


NARRATIVE_LIMIT = 2000
REASON_LIMIT = 500
URL_LIMIT = 2000

# Longer than any date a person types; only this much is read.
DATE_TEXT_LIMIT = 100

STATUS_CHOICES = ("In progress", "Blocked", "Complete")
ASSESSMENT_CHOICES = ("On track", "At risk", "Off track")
USE_FORM = "Use a form instead"
SKIP = "Skip"
CONFIRM, CHANGE, CANCEL = "Confirm", "Change", "Cancel"
CARRY_ON = "Carry on with the update"

# The answers an update is made of, by step name, in the order they are asked.
ANSWER_STEPS = ("status", "assessment", "narrative", "evidence", "revised_date", "reason")
# What "change" offers at the summary: the button, and the step it asks again.
FIELD_CHOICES: dict[str, str] = {
    "Status": "status",
    "Assessment": "assessment",
    "What has happened": "narrative",
    "Evidence link": "evidence",
    "Revised due date": "revised_date",
    "Reason": "reason",
}
_FIELD_WORDS: dict[str, tuple[str, ...]] = {
    "status": ("status",),
    "assessment": ("assessment", "my assessment", "on track", "rag"),
    "narrative": ("what has happened", "narrative", "progress", "what happened", "description"),
    "evidence": ("evidence link", "evidence", "link", "url"),
    "revised_date": ("revised due date", "revised date", "due date", "date", "later date", "later due date"),
    "reason": ("reason", "the reason", "why"),
}

NOT_SAVED = (
    "Sorry — your update was NOT saved (the tracker could not be reached). Say `confirm` to try again or `cancel`."
)

ParseDate = Callable[[str, date], date | None]


class InvalidAnswer(ValueError):
    """An answer that breaks a rule; its message tells the person what to change."""


# --- validators (pure; shared with the form) -------------------------------------------------

_STATUS_WORDS: dict[str, tuple[str, ...]] = {
    Status.IN_PROGRESS: ("in progress", "in-progress", "progress", "ongoing", "under way", "underway", "started"),
    Status.BLOCKED: ("blocked", "stuck", "on hold"),
    Status.AWAITING_SIGN_OFF: ("complete", "completed", "done", "finished", "awaiting sign-off", "awaiting sign off"),
}
_ASSESSMENT_WORDS: dict[str, tuple[str, ...]] = {
    Assessment.ON_TRACK: ("on track", "on-track", "ontrack"),
    Assessment.AT_RISK: ("at risk", "at-risk", "atrisk", "risk"),
    Assessment.OFF_TRACK: ("off track", "off-track", "offtrack"),
}
_SKIP_WORDS = {
    "skip", "none", "no", "nope", "no thanks", "no thank you", "n/a", "na", "nothing", "no link", "no change",
    "not needed",
}  # fmt: skip
# Said to a question, but never a narrative or a reason.
_NOT_AN_ANSWER = {
    "",
    "yes",
    "y",
    "yeah",
    "yep",
    "yup",
    "yes please",
    "ok",
    "okay",
    "sure",
    "no",
    "n",
    "nope",
    "skip",
    "confirm",
}
_NOT_A_REASON = _NOT_AN_ANSWER | {"none", "n/a", "na", "nothing", "no reason", "not sure", "dunno", "idk"}
# "yes, 31 May 2027", "yes please — move it to end of June": the words before the date.
_BEFORE_A_DATE = (
    "yes please", "yes", "yeah", "yep", "yup", "sure", "okay", "ok", "please", "can we move it to", "move it to",
    "move to", "change it to", "make it", "push it to", "to",
)  # fmt: skip
_DATE_SEPARATORS = " ,;:-–—.!"
_CONFIRM_WORDS = {"confirm", "yes", "save", "ok", "okay", "y", "yes please", "confirm update"}
_CHANGE_WORDS = {"change", "edit", "change answers", "start again"}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_HOST_LABEL = re.compile(r"[^\W_](?:[\w-]{0,61}[^\W_])?")
_FORBIDDEN_IN_URL = re.compile(r"[\s\x00-\x1f\x7f<>\"]")


def _pick(text: str, words: Mapping[str, tuple[str, ...]]) -> str | None:
    answer = normalise_answer(text)
    return next((value for value, spellings in words.items() if answer in spellings), None)


def parse_status_choice(text: str) -> str | None:
    """The status to record for "In progress", "Blocked" or "Complete" (and close variants); else None.

    "Complete" means the lead proposes closure, so it records "Awaiting sign-off".
    """
    return _pick(text, _STATUS_WORDS)


def parse_assessment_choice(text: str) -> str | None:
    """The assessment ("on track", "at risk", "off track") a typed choice means; else None."""
    return _pick(text, _ASSESSMENT_WORDS)


def is_skip(text: str) -> bool:
    """True for the words that skip an optional question ("skip", "none", "no", ...)."""
    return normalise_answer(text) in _SKIP_WORDS


def validate_narrative(text: str) -> str:
    """The narrative as typed (surrounding whitespace stripped); raises InvalidAnswer if empty, a bare
    "yes"/"ok"/"skip", or too long."""
    narrative = text.strip()
    if normalise_answer(narrative) in _NOT_AN_ANSWER:
        raise InvalidAnswer("Please tell me what has happened — a sentence or two is enough.")
    if len(narrative) > NARRATIVE_LIMIT:
        raise InvalidAnswer(
            f"That is too long: an update can be up to {NARRATIVE_LIMIT:,} characters and yours is "
            f"{len(narrative):,}. Please shorten it and send it again."
        )
    return narrative


def parse_evidence_url(text: str) -> str | None:
    """An http(s) link with a host, as typed; None for "skip"/"none"/"no" or nothing; else InvalidAnswer."""
    link = text.strip()
    if not link:
        return None
    # Measured before anything else reads it: the checks below then never see more than the limit.
    if len(link) > URL_LIMIT:
        raise InvalidAnswer(f"That link is too long (over {URL_LIMIT:,} characters).")
    if is_skip(link):
        return None
    if _FORBIDDEN_IN_URL.search(link):
        raise InvalidAnswer("A link can't contain spaces, quotes or angle brackets.")
    try:
        parts = urlsplit(link)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        raise InvalidAnswer("That doesn't look like a web link.") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidAnswer("Only web links (starting https:// or http://) can be evidence links.")
    if not _is_host(parts.hostname or ""):
        raise InvalidAnswer("That link has no valid website name after https://.")
    if parts.username is not None or parts.password is not None:
        raise InvalidAnswer("Please give the link without a user name or password in it.")
    return link


def _is_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    return len(host) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in labels)


def _without_yes(typed: str) -> str:
    """The date in "yes, 31 May 2027" or "yes please, move it to end of June" (string methods only)."""
    for _ in range(3):
        lowered = typed.lower()
        for words in _BEFORE_A_DATE:
            if lowered.startswith(words) and (len(lowered) == len(words) or lowered[len(words)] in _DATE_SEPARATORS):
                typed = typed[len(words) :].lstrip(_DATE_SEPARATORS)
                break
        else:
            return typed
    return typed


def parse_revised_date(text: str, today: date, parse_date: ParseDate) -> date | None:
    """A revised due date after `today` ("30/06/2026", "30 June 2026", "end of June", "2026-06-30",
    "yes, 31 May 2027"); None for "skip" or nothing; else InvalidAnswer (a bare "yes" asks which date).
    `parse_date` reads UK dates (domain.dates.parse_user_date).
    """
    typed = text.strip()
    if not typed or is_skip(typed):
        return None
    # Measured before anything else reads it.
    if len(typed) > DATE_TEXT_LIMIT:
        raise InvalidAnswer("I couldn't read that as a date: try 30/06/2026, 30 June 2026 or end of June.")
    typed = _without_yes(typed)
    if not typed:
        raise InvalidAnswer("Which date? Type it, for example 30/06/2026, 30 June 2026 or end of June.")
    day: date | None
    if _ISO_DATE.fullmatch(typed):
        try:
            day = date.fromisoformat(typed)
        except ValueError:
            day = None
    else:
        day = parse_date(typed, today)
    if day is None:
        raise InvalidAnswer("I couldn't read that as a date: try 30/06/2026, 30 June 2026 or end of June.")
    if day <= today:
        raise InvalidAnswer(
            f"A revised due date must be after today ({format_uk_date(today)}), and {format_uk_date(day)} isn't."
        )
    return day


def validate_reason(text: str) -> str:
    """The reason for a revised date as typed (stripped); raises InvalidAnswer if empty or too long."""
    reason = text.strip()
    if normalise_answer(reason) in _NOT_A_REASON:
        raise InvalidAnswer("Please say why the due date needs to move — an admin reads this when deciding.")
    if len(reason) > REASON_LIMIT:
        raise InvalidAnswer(
            f"That reason is too long: it can be up to {REASON_LIMIT} characters and yours is {len(reason):,}. "
            "Please shorten it and send it again."
        )
    return reason


# --- the summary card ------------------------------------------------------------------------


def status_phrase(status: str) -> str:
    """How a recorded status reads to the lead."""
    return "Complete — awaiting sign-off by an admin" if status == Status.AWAITING_SIGN_OFF else status


# --- the dialog ------------------------------------------------------------------------------


def item_state(item: ItemBrief) -> dict[str, Any]:
    """An item as the dialog keeps it (plain JSON): how the options name the items an update may be about."""
    return {"item_id": item.item_id, "reference": item.reference, "label": item.label, "status": item.status}


_LEAD_STATUSES = frozenset(_STATUS_WORDS)
_ASSESSMENTS = frozenset(assessment.value for assessment in Assessment)


def answers_of(draft: UpdateDraft) -> dict[str, Any]:
    """An update as the dialog's answers by step name (plain JSON): how a correction starts pre-filled."""
    answers: dict[str, Any] = {
        "status": draft.status,
        "assessment": draft.assessment,
        "narrative": draft.narrative,
        "evidence": draft.evidence_url,
        "revised_date": draft.revised_due_on.isoformat() if draft.revised_due_on else None,
    }
    if draft.revised_due_on is not None:
        answers["reason"] = draft.revised_due_reason
    return answers


def _is_complete(values: Mapping[str, Any]) -> bool:
    return values.get("status") == Status.AWAITING_SIGN_OFF


def _needed(values: Mapping[str, Any]) -> list[str]:
    """The answers an update with these answers needs, in order: Complete needs no assessment or later date."""
    if _is_complete(values):
        return ["status", "narrative", "evidence"]
    return [
        "status",
        "assessment",
        "narrative",
        "evidence",
        "revised_date",
        *(["reason"] if values.get("revised_date") else []),
    ]


def _valid_answers(answers: object, today: date) -> dict[str, Any]:
    """The usable part of pre-filled answers (from the update being corrected); the rest is asked."""
    if not isinstance(answers, dict):
        return {}
    valid: dict[str, Any] = {}
    if answers.get("status") in _LEAD_STATUSES:
        valid["status"] = answers["status"]
    if answers.get("assessment") in _ASSESSMENTS:
        valid["assessment"] = answers["assessment"]
    for name, check in (("narrative", validate_narrative), ("reason", validate_reason)):
        with contextlib.suppress(InvalidAnswer, KeyError, AttributeError, TypeError):
            valid[name] = check(answers[name])
    evidence = answers.get("evidence")
    if evidence is None or isinstance(evidence, str):
        with contextlib.suppress(InvalidAnswer):
            valid["evidence"] = parse_evidence_url(evidence or "")
    revised = answers.get("revised_date")
    if revised is None:
        valid["revised_date"] = None
        valid.pop("reason", None)
    elif isinstance(revised, str) and _ISO_DATE.fullmatch(revised[:DATE_TEXT_LIMIT]):
        try:
            # A requested date that has passed meanwhile is asked again.
            if date.fromisoformat(revised) > today:
                valid["revised_date"] = revised
        except ValueError:
            pass
    return valid


def _field_of(text: str) -> str | None:
    """The answer "change the date", "2" or "What has happened" names at the summary; else None."""
    typed = normalise_answer(choice_by_number(text, list(FIELD_CHOICES)) or text)
    for verb in ("change ", "edit ", "correct "):
        typed = typed.removeprefix(verb)
    typed = typed.removeprefix("the ").removeprefix("my ")
    return next((step for step, words in _FIELD_WORDS.items() if typed in words), None)


class UpdateDialog(FlowMachine):
    """A lead posts a progress update for one item, one question at a time.

    Options: `{"items": [item_state(..)], "actor": {"person_id", "name", "is_admin"}, "corrects_update_id": int | None,
    "answers": answers_of(corrected update) | None}`.
    Results: `{"recorded": update_id, "item_id", "status", "duplicate"}` when saved;
    `{"use_form": item_id, "corrects_update_id", "answers"}` when the lead asks for the form (with the
    answers so far); `{"refused": text}`; and FlowMachine's `{"cancelled"}`,
    `{"expired", "text"}`, `{"interrupted_by": text}`, `{"aside": text, "resume": state}`.
    """

    carry_on = CARRY_ON

    def __init__(
        self,
        port: UpdatePort,
        is_command: Callable[[str], bool],
        *,
        parse_date: ParseDate,
        now: Callable[[], datetime] = SYSTEM_CLOCK.now,
    ) -> None:
        super().__init__(UpdateDialog.__name__, is_command, now=now)
        self._port = port
        self._parse_date = parse_date
        self.add_step(
            Step(
                "item",
                self.ask_item,
                self.answer_item,
                "I need to know which recommendation you are updating. Choose a button, or type its "
                "reference, for example R8 or OIC-2025 R8.",
            )
        )
        self.add_step(
            Step(
                "status",
                self.ask_status,
                self.answer_status,
                "Choose the status that fits now: In progress (work is under way), Blocked (something "
                "is stopping progress) or Complete (you think it is done; an admin then signs off the "
                "closure). Prefer one form with every question? Choose Use a form instead.",
            )
        )
        self.add_step(
            Step(
                "assessment",
                self.ask_assessment,
                self.answer_assessment,
                "How likely is it to be done by its due date? On track, At risk or Off track. "
                "Your assessment feeds the RAG rating; the colour itself is worked out for you.",
            )
        )
        self.add_step(
            Step(
                "narrative",
                self.ask_narrative,
                self.answer_narrative,
                f"Describe what has happened since the last update, in your own words, up to "
                f"{NARRATIVE_LIMIT:,} characters. Whatever you type is taken as the answer.",
                free_text=True,
            )
        )
        self.add_step(
            Step(
                "evidence",
                self.ask_evidence,
                self.answer_evidence,
                "If a document or page shows the progress, paste its link (starting https://). Otherwise say skip.",
            )
        )
        self.add_step(
            Step(
                "revised_date",
                self.ask_revised_date,
                self.answer_revised_date,
                "If you need a later due date, type it, for example 30/06/2026, 30 June 2026 or end of "
                "June. It must be after today, and an admin decides whether to agree it. Otherwise say skip.",
            )
        )
        self.add_step(
            Step(
                "reason",
                self.ask_reason,
                self.answer_reason,
                f"Say briefly why the due date needs to move, up to {REASON_LIMIT} characters. "
                "An admin reads this when deciding.",
                free_text=True,
            )
        )
        self.add_step(
            Step(
                "confirm",
                self.ask_confirm,
                self.answer_confirm,
                "Check the summary. Say confirm to save the update, change to correct one of the answers "
                "(or, say, change the date), or cancel to stop without saving.",
            )
        )
        self.add_step(
            Step(
                "change",
                self.ask_change,
                self.answer_change,
                "Choose the answer you want to change: I ask only that one again (and anything it then "
                "needs), then show you the summary. Say back to return to the summary unchanged.",
            )
        )

    def describe(self, flow: Flow) -> str:
        item = flow.data.get("item")
        return f"your update of {item['reference']}" if item else "your update"

    def has_draft(self, flow: Flow) -> bool:
        return any(name in ANSWER_STEPS for name in flow.values)

    def _then(self, flow: Flow, answer: Any) -> Goto:
        """Accept `answer` for the current step and ask the first question the update still needs, else
        show the summary. Going forwards that is the next question; after a change from the summary it
        is the summary, or what the change made necessary (the assessment, when Complete became In progress).
        """
        values = {**flow.values, flow.step or "": answer}
        missing = [name for name in _needed(values) if name not in values]
        return Goto(missing[0] if missing else "confirm", answer)

    def back(self, flow: Flow) -> Outcome | None:
        # Changing one answer from the summary: back is the list of answers, then the summary.
        complete = all(name in flow.values for name in _needed(flow.values))
        if flow.step == "change" and complete:
            return Jump("confirm")
        if flow.data.get("changing") and complete and flow.step in ANSWER_STEPS:
            return Jump("change")
        return None

    # Which item, and may this person update it.

    async def start(self, flow: Flow) -> Outcome:
        # Read by the caller in this turn (`item_state`): not read again.
        items = [item for item in flow.options.get("items") or [] if isinstance(item, dict)]
        if len(items) == 1:
            return await self._take_item(flow, items[0], prefill=True)
        flow.data["candidates"] = items
        return Goto("item")

    async def _take_item(self, flow: Flow, item: dict[str, Any], *, prefill: bool = False) -> Outcome:
        refusal = await self._port.refusal(item["item_id"], self._actor(flow))
        if refusal is not None:
            return Finish({"refused": refusal}, refusal)
        flow.data["item"] = item
        answers = _valid_answers(flow.options.get("answers"), self._port.today()) if prefill else {}
        if not answers:
            return Goto("status", item["item_id"])
        # A correction: the answers of the update it corrects, as if given; the summary, or whatever is missing.
        for name in ANSWER_STEPS:
            if name in answers:
                flow.values[name] = answers[name]
                flow.state["history"].append(name)
        missing = [name for name in _needed(answers) if name not in answers]
        flow.data["changing"] = True
        return Goto(missing[0] if missing else "confirm", item["item_id"])

    async def ask_item(self, flow: Flow) -> None:
        # Asking (again) which item means no item is chosen yet.
        flow.data.pop("item", None)
        candidates = flow.data.get("candidates") or []
        if candidates:
            await flow.ask_choice(
                "Which one do you want to update?", [candidate["reference"] for candidate in candidates]
            )
        else:
            await flow.say(
                "Which recommendation do you want to update? Type its reference, for example R8 or OIC-2025 R8."
            )

    async def answer_item(self, flow: Flow, text: str) -> Outcome:
        candidates: list[dict[str, Any]] = flow.data.get("candidates") or []
        references = [candidate["reference"] for candidate in candidates]
        chosen = choice_by_number(text, references) or text
        for candidate in candidates:
            if normalise_answer(chosen) == normalise_answer(candidate["reference"]):
                brief = await self._port.brief(candidate["item_id"])
                if brief is None:
                    return Retry("I can't find that one any more. Choose another, or say cancel.")
                return await self._take_item(flow, item_state(brief))
        if not text.strip():
            return Retry("Please tell me which recommendation.")
        found = await self._port.resolve(text.strip(), flow.screen.conversation_id)
        if not found:
            return Retry(
                f"I couldn't find a recommendation matching “{safe_text(text, 80)}”. "
                "Try a reference such as R8 or OIC-2025 R8, or say cancel."
            )
        if len(found) == 1:
            return await self._take_item(flow, item_state(found[0]))
        flow.data["candidates"] = [item_state(brief) for brief in found]
        return Retry("That could mean more than one recommendation.")

    # The questions about the update.

    def _now_set(self, flow: Flow, shown: str) -> str:
        """ "(now: …)" after a question asked again from the summary, so the person sees what they change."""
        return f" (now: {shown})" if flow.data.get("changing") else ""

    async def ask_status(self, flow: Flow) -> None:
        reference = flow.data["item"]["reference"]
        now = self._now_set(flow, status_phrase(flow.values["status"])) if "status" in flow.values else ""
        await flow.ask_choice(f"What is the status of {reference} now?{now}", [*STATUS_CHOICES, USE_FORM])

    async def answer_status(self, flow: Flow, text: str) -> Outcome:
        chosen = choice_by_number(text, [*STATUS_CHOICES, USE_FORM]) or text
        if normalise_answer(chosen) in ("use a form instead", "use a form", "form", "use form"):
            # The form starts with whatever has been answered so far.
            answers = {name: flow.values[name] for name in ANSWER_STEPS if name in flow.values}
            return Finish(
                {
                    "use_form": flow.data["item"]["item_id"],
                    "corrects_update_id": flow.options.get("corrects_update_id"),
                    "answers": answers,
                }
            )
        status = parse_status_choice(chosen)
        if status is None:
            return Retry("Please choose In progress, Blocked or Complete.")
        if status == Status.AWAITING_SIGN_OFF:
            await flow.say("Noted: complete. Once you confirm, an admin will be asked to sign off the closure.")
        return self._then(flow, status)

    async def ask_assessment(self, flow: Flow) -> None:
        now = self._now_set(flow, flow.values["assessment"]) if "assessment" in flow.values else ""
        await flow.ask_choice(f"How is it going against its due date?{now}", ASSESSMENT_CHOICES)

    async def answer_assessment(self, flow: Flow, text: str) -> Outcome:
        assessment = parse_assessment_choice(choice_by_number(text, ASSESSMENT_CHOICES) or text)
        if assessment is None:
            return Retry("Please choose On track, At risk or Off track.")
        return self._then(flow, assessment)

    async def ask_narrative(self, flow: Flow) -> None:
        question = f"What has happened since the last update? (up to {NARRATIVE_LIMIT:,} characters)"
        if flow.data.get("changing") and flow.values.get("narrative"):
            question += f"\n\nNow: {safe_text(flow.values['narrative'], 300)}"
        await flow.say(question)

    async def answer_narrative(self, flow: Flow, text: str) -> Outcome:
        try:
            return self._then(flow, validate_narrative(text))
        except InvalidAnswer as problem:
            return Retry(str(problem), reask=False)

    async def ask_evidence(self, flow: Flow) -> None:
        link = flow.values.get("evidence")
        now = self._now_set(flow, safe_text(link, 200) if link else "no link") if "evidence" in flow.values else ""
        await flow.ask_choice(f"Is there a link to evidence? Paste it, or choose Skip.{now}", [SKIP])

    async def answer_evidence(self, flow: Flow, text: str) -> Outcome:
        try:
            return self._then(flow, parse_evidence_url(choice_by_number(text, [SKIP]) or text))
        except InvalidAnswer as problem:
            return Retry(f"{problem} Paste the full address, starting https://, or say skip.", reask=False)

    async def ask_revised_date(self, flow: Flow) -> None:
        now = ""
        if "revised_date" in flow.values:
            revised = flow.values["revised_date"]
            now = self._now_set(flow, format_uk_date(date.fromisoformat(revised)) if revised else "no change")
        await flow.ask_choice(
            "Do you need a later due date? Type it (for example 30/06/2026, 30 June 2026 or end of June), "
            f"or choose Skip.{now}",
            [SKIP],
        )

    async def answer_revised_date(self, flow: Flow, text: str) -> Outcome:
        try:
            day = parse_revised_date(choice_by_number(text, [SKIP]) or text, self._port.today(), self._parse_date)
        except InvalidAnswer as problem:
            return Retry(f"{problem} Or say skip if the due date can stay.", reask=False)
        return self._then(flow, day.isoformat() if day else None)

    async def ask_reason(self, flow: Flow) -> None:
        day = date.fromisoformat(flow.values["revised_date"])
        question = f"Why does the due date need to move to {format_uk_date(day)}? (up to {REASON_LIMIT} characters)"
        if flow.data.get("changing") and flow.values.get("reason"):
            question += f"\n\nNow: {safe_text(flow.values['reason'], 300)}"
        await flow.say(question)

    async def answer_reason(self, flow: Flow, text: str) -> Outcome:
        try:
            return self._then(flow, validate_reason(text))
        except InvalidAnswer as problem:
            return Retry(str(problem), reask=False)

    # Summary, changes, and the one write.

    def _actor(self, flow: Flow) -> Actor:
        actor = flow.options.get("actor") or {}
        return Actor(person_id=actor["person_id"], name=actor.get("name") or "", is_admin=bool(actor.get("is_admin")))

    def _draft(self, flow: Flow, values: Mapping[str, Any] | None = None) -> UpdateDraft:
        values = flow.values if values is None else values
        complete = _is_complete(values)
        # Complete asks neither: the work is done, and closing needs no later date.
        revised = None if complete else values.get("revised_date")
        return UpdateDraft(
            item_id=flow.data["item"]["item_id"],
            status=values["status"],
            assessment=Assessment.ON_TRACK.value if complete else values["assessment"],
            narrative=values["narrative"],
            evidence_url=values.get("evidence"),
            revised_due_on=date.fromisoformat(revised) if revised else None,
            revised_due_reason=values.get("reason") if revised else None,
            corrects_update_id=flow.options.get("corrects_update_id"),
        )

    async def ask_confirm(self, flow: Flow) -> None:
        flow.data.pop("changing", None)
        item = flow.data["item"]
        await flow.screen.show_update(item["reference"], item["label"], self._draft(flow))

    async def answer_confirm(self, flow: Flow, text: str) -> Outcome:
        answer = normalise_answer(choice_by_number(text, [CONFIRM, CHANGE, CANCEL]) or text)
        if answer in _CHANGE_WORDS:
            return Jump("change")
        if (field := _field_of(answer)) is not None:
            return self._change(flow, field)
        if answer not in _CONFIRM_WORDS:
            return Retry(
                "Say confirm to save this update, change to correct one of the answers, or cancel.", reask=False
            )
        draft = self._draft(flow)
        corrected = _valid_answers(flow.options.get("answers"), self._port.today())
        unchanged = set(corrected) >= set(_needed(corrected)) and draft == self._draft(flow, corrected)
        if draft.corrects_update_id is not None and unchanged:
            return Retry(
                "That is your update exactly as it was: say change to correct something, or cancel.", reask=False
            )
        # A retry after a failure sends the first attempt's activity key again: if that attempt did
        # commit before the error reached us, the port sees the same id and records nothing new.
        attempt = flow.data.get("attempt")
        if not attempt or attempt["values"] != flow.values:
            attempt = {"activity_key": flow.screen.activity_key, "values": dict(flow.values)}
            flow.data["attempt"] = attempt
        try:
            recorded = await self._port.record(draft, self._actor(flow), attempt["activity_key"])
        except Refused as refusal:
            return Finish({"refused": str(refusal)}, f"{refusal} Nothing was saved.")
        except Exception as error:  # noqa: BLE001 - whatever failed, the person must hear it was not saved
            log.error("recording an update of item %s failed: %s", draft.item_id, describe_failure(error))
            return Retry(NOT_SAVED, reask=False, understood=True)
        reference = flow.data["item"]["reference"]
        if draft.status == Status.AWAITING_SIGN_OFF:
            message = f"Saved. {reference} is now awaiting sign-off by an admin."
        else:
            message = f"Saved. {reference} is now {draft.status}."
        if draft.revised_due_on:
            message += f" Your request to move the due date to {format_uk_date(draft.revised_due_on)} is recorded for an admin to decide."
        return Finish(
            {
                "recorded": recorded.update_id,
                "item_id": draft.item_id,
                "status": draft.status,
                "duplicate": recorded.duplicate,
            },
            message,
        )

    def _fields(self, flow: Flow) -> list[str]:
        """The buttons "change" offers: only answers this update has (no assessment or date for Complete)."""
        needed = set(_needed(flow.values)) | ({"revised_date"} if not _is_complete(flow.values) else set())
        return [title for title, step in FIELD_CHOICES.items() if step in needed]

    def _change(self, flow: Flow, field: str) -> Outcome:
        if field not in _needed(flow.values):
            if field == "reason":
                return Retry("There is no revised due date, so there is no reason to change.", understood=True)
            return Retry(
                "A completed item needs no assessment or later date: change the status first.", understood=True
            )
        flow.data["changing"] = True
        return Jump(field)

    async def ask_change(self, flow: Flow) -> None:
        await flow.ask_choice("What do you want to change?", self._fields(flow))

    async def answer_change(self, flow: Flow, text: str) -> Outcome:
        field = _field_of(choice_by_number(text, self._fields(flow)) or text)
        if normalise_answer(text) in _CONFIRM_WORDS | {"nothing", "none"}:
            return Jump("confirm")
        if field is None:
            return Retry(f"Please choose one of: {', '.join(self._fields(flow))}. Or say {BACK} for the summary.")
        return self._change(flow, field)
