"""A small step machine for multi-step conversations whose steps are methods: `FlowMachine`.

Why a small step machine rather than WaterfallDialog + prompts: `back` has to move to an earlier
step and forget its answer, `help` has to explain whichever step is waiting, and a choice step has
to tell "not an answer" from "another command". Waterfall steps only run forwards and prompts
recognise (or re-prompt) before any of that can be decided, and prompts keep SDK objects
(PromptOptions, Choice) in state. Here every turn goes through one `continue_dialog` that handles
cancel / help / back / expiry / interruption once, then gives the text to the waiting step.

It knows nothing of the Bot Framework: it talks through a `Screen` (dialogs/ports.py) and keeps
its whole state in one plain JSON dict that the host stores (`bot/dialog_host.py` keeps it in the
SDK's `active_dialog.state`): no inner dialog stack, no SDK objects, datetimes as ISO strings, so
it survives any storage and any restart:

    {"step": "status", "history": ["item"], "values": {"item": 12}, "data": {...},
     "options": {...}, "started_at": "2026-...+00:00", "last_active_at": "2026-...+00:00"}

A step answered again (a change from the summary) keeps its place in `history`. Text that looks
like another command is never silently taken or dropped once there is a draft: the flow asks
whether to answer it (the flow ends with `{"aside": text, "resume": state}`, and the caller answers
the command and begins the flow again with `{RESUME: state}`, back where it was) or carry on.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dialogs.ports import Screen
from domain.clock import SYSTEM_CLOCK
from domain.text import safe_text

EXPIRES_AFTER = timedelta(minutes=30)
CANCELLED = "Cancelled — nothing was saved."
# The words that mean the same at every step, free-text steps included (compared exactly).
CANCEL, HELP, BACK = "cancel", "help", "back"
# The buttons of the question asked when a command is typed into a flow with a draft.
ANSWER_ASIDE = "Answer it, keep my draft"
USE_AS_ANSWER = "Use it as my answer"
# `begin(state, {RESUME: saved}, screen)` carries on a flow that ended with `{"aside": …, "resume": saved}`.
RESUME = "resume_flow"
# At a free-text step only text this short is asked about: a long narrative that mentions "R9" is an answer.
_COMMAND_LIKE_LENGTH = 80
_ANSWER_ASIDE_WORDS = frozenset(
    {"answer it, keep my draft", "answer it", "answer", "answer the question", "answer it first"}
)
_CARRY_ON_WORDS = frozenset({"carry on", "continue", "keep going", "save my draft first", "draft first"})
_USE_AS_ANSWER_WORDS = frozenset({"use it as my answer", "it's my answer", "it was my answer", "my answer", "use it"})

State = dict[str, Any]


# --- what a step returns ---------------------------------------------------------------------


@dataclass(frozen=True)
class Goto:
    """The answer was accepted: remember it for the current step and ask `step`."""

    step: str
    answer: Any = None


@dataclass(frozen=True)
class Retry:
    """The answer was not accepted: say why and (by default) ask the same step again."""

    message: str
    reask: bool = True
    # True when the text was an answer that could not be used (so it is never taken for a command).
    understood: bool = False


@dataclass(frozen=True)
class Rewind:
    """Go back to an earlier step, forgetting its answer and every answer after it."""

    step: str


@dataclass(frozen=True)
class Jump:
    """Ask `step` next, keeping every answer and the history as they are (from a summary to one answer)."""

    step: str


@dataclass(frozen=True)
class Finish:
    """End the flow with `result` for the caller, after saying `message` (if any)."""

    result: dict[str, Any]
    message: str | None = None


Outcome = Goto | Retry | Rewind | Jump | Finish


class Flow:
    """One turn's view of a flow: where it speaks, and its plain state."""

    def __init__(self, screen: Screen, state: State) -> None:
        self.screen = screen
        self.state = state

    @property
    def options(self) -> dict[str, Any]:
        """What the flow was started with."""
        return self.state["options"]  # type: ignore[no-any-return]

    @property
    def values(self) -> dict[str, Any]:
        """Each answered step's accepted answer, by step name."""
        return self.state["values"]  # type: ignore[no-any-return]

    @property
    def data(self) -> dict[str, Any]:
        """Anything else the flow keeps between turns (plain JSON only)."""
        return self.state["data"]  # type: ignore[no-any-return]

    @property
    def step(self) -> str | None:
        return self.state.get("step")  # type: ignore[no-any-return]

    async def say(self, text: str) -> None:
        await self.screen.say(text)

    async def ask_choice(self, question: str, choices: Sequence[str]) -> None:
        await self.screen.ask_choice(question, choices)


@dataclass(frozen=True)
class Step:
    """One question of a flow: how to ask it, how to take an answer, and what `help` says."""

    name: str
    ask: Callable[[Flow], Awaitable[None]]
    answer: Callable[[Flow, str], Awaitable[Outcome]]
    help: str
    # Free text (a narrative, a reason) is an answer unless it is a short command, which is asked
    # about; elsewhere text that is not an answer but is another command is asked about (or, with
    # no draft yet, ends the flow so that the caller can run that command).
    free_text: bool = False


# --- pure helpers ----------------------------------------------------------------------------

# Every character str.isspace() (and so the regex `\s`) counts as whitespace.
_WHITESPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
# Stripped from the ends with str methods, which read only the characters they remove: the
# regex `^[…]+|[…]+$` they replace tried the trailing run from every character, each try
# reading to the end of the text ("x!!!…!x" took seconds).
_QUOTES_AND_SPACE = _WHITESPACE + "\"'“”‘’`"
_QUOTES_SPACE_AND_STOPS = _QUOTES_AND_SPACE + ".!?"
# Longer than any word or choice an answer is compared with; only this much is normalised, so a
# pasted narrative costs no more here than a word.
_MAX_ANSWER_LENGTH = 500
# Ends an answer that was cut, so that it can never equal a word or a choice.
_CUT = "…"


def normalise_answer(text: str) -> str:
    """Lower case, single spaces, no surrounding quotes or trailing punctuation: for matching only."""
    answer = text.lstrip(_QUOTES_AND_SPACE).rstrip(_QUOTES_SPACE_AND_STOPS)
    if len(answer) > _MAX_ANSWER_LENGTH:
        answer = answer[:_MAX_ANSWER_LENGTH] + _CUT
    return " ".join(answer.lower().split())


def choice_by_number(text: str, choices: Sequence[str]) -> str | None:
    """The choice a typed "2" (or "2.") means in a numbered list; None when it is not one."""
    number = normalise_answer(text)
    # isdecimal, not isdigit: int() refuses digits such as "²", which isdigit accepts.
    if number.isdecimal() and 1 <= int(number) <= len(choices):
        return choices[int(number) - 1]
    return None


def is_plain(value: Any) -> bool:
    """True when `value` is JSON made of dicts with str keys, lists, str, int, bool and None."""
    if value is None or isinstance(value, (bool, int, str)):
        return True
    if isinstance(value, list):
        return all(is_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and is_plain(item) for key, item in value.items())
    return False


def plain_copy(value: Any) -> Any:
    """A deep copy of plain JSON (what state holds), so no caller's object is shared with state."""
    return json.loads(json.dumps(value))


# --- the machine -----------------------------------------------------------------------------

# What a turn of a flow returns: the flow's result when it has ended, None while it waits for an answer.
Ended = dict[str, Any] | None


class FlowMachine:
    """A multi-step flow with cancel, help, back, expiry and interruption handled once for every step.

    Subclasses add steps with `add_step`, implement `start` (the first outcome, from the options)
    and may override `describe` ("your update of OIC-2025 R8") for the shared messages.
    Results when the flow ends on its own: `{"cancelled": True}`, `{"expired": True, "text": …}`,
    `{"interrupted_by": text}` (a command before any draft), `{"aside": text, "resume": state}` (answer
    the command, then begin again with `{RESUME: state}`); anything else comes from the subclass's `Finish`.
    """

    # The button that drops a command typed into the flow and asks the waiting question again.
    carry_on = "Carry on"

    def __init__(
        self,
        name: str,
        is_command: Callable[[str], bool],
        *,
        now: Callable[[], datetime] = SYSTEM_CLOCK.now,
        expires_after: timedelta = EXPIRES_AFTER,
    ) -> None:
        self.name = name
        self._is_command = is_command
        self._now = now
        self._expires_after = expires_after
        self._steps: dict[str, Step] = {}

    def add_step(self, step: Step) -> None:
        """Register a step (its name must be unique in the flow)."""
        if step.name in self._steps:
            raise ValueError(f"{type(self).__name__} already has a step named {step.name!r}")
        self._steps[step.name] = step

    # Subclass hooks.

    async def start(self, flow: Flow) -> Outcome:
        """The first outcome of the flow, decided from `flow.options` (usually `Goto(first step)`)."""
        raise NotImplementedError

    def describe(self, flow: Flow) -> str:
        """How the messages name this flow: "your update of OIC-2025 R8"."""
        return "your answers"

    def has_draft(self, flow: Flow) -> bool:
        """True when the person has given answers worth keeping (then a typed command is asked about)."""
        return bool(flow.values)

    def back(self, flow: Flow) -> Outcome | None:
        """Where `back` goes when not to the previous answer (None: rewind to it, the default)."""
        return None

    # Turns.

    async def begin(self, state: State, options: object, screen: Screen) -> Ended:
        """Start the flow in `state` (an empty dict the host keeps) with plain JSON `options`."""
        if options is not None and not (isinstance(options, dict) and is_plain(options)):
            raise TypeError(f"{type(self).__name__} options must be a plain JSON dict, not {options!r}")
        if isinstance(options, dict) and set(options) == {RESUME}:
            return await self._resume(state, options[RESUME], screen)
        moment = self._now().isoformat()
        state.update(
            step=None,
            history=[],
            values={},
            data={},
            options=plain_copy(options or {}),
            started_at=moment,
            last_active_at=moment,
        )
        flow = Flow(screen, state)
        return await self._apply(flow, await self.start(flow), text="")

    async def _resume(self, state: State, saved: object, screen: Screen) -> Ended:
        """Carry on a flow that was set aside to answer a command, from the state it ended with."""
        if not (
            isinstance(saved, dict)
            and saved.get("step") in self._steps
            and isinstance(saved.get("history"), list)
            and all(isinstance(saved.get(key), dict) for key in ("values", "data", "options"))
        ):
            raise ValueError(f"{type(self).__name__} cannot resume from {saved!r}")
        state.update(plain_copy(saved))
        state.pop("aside", None)
        state["last_active_at"] = self._now().isoformat()
        flow = Flow(screen, state)
        await flow.say(f"Back to {self.describe(flow)}: your draft is as you left it.")
        await self._current(flow).ask(flow)
        return None

    async def proceed(self, state: State, text: str, screen: Screen) -> Ended:
        """Take one message's text as the answer to the waiting step."""
        flow = Flow(screen, state)
        now = self._now()
        if now - datetime.fromisoformat(flow.state["last_active_at"]) > self._expires_after:
            minutes = int(self._expires_after.total_seconds() // 60)
            await flow.say(
                f"Sorry — {self.describe(flow)} timed out after {minutes} minutes without an answer, "
                "so nothing was saved. You can start again whenever you like."
            )
            return {"expired": True, "text": text}
        flow.state["last_active_at"] = now.isoformat()

        step = self._current(flow)
        word = normalise_answer(text)
        if word == CANCEL:
            await flow.say(CANCELLED)
            return {"cancelled": True}
        aside = flow.state.pop("aside", None)
        if isinstance(aside, str):
            return await self._answer_aside(flow, step, aside, text, word)
        if word == HELP:
            await flow.say(f"{step.help}\n\nYou can also say back for the previous question, or cancel to stop.")
            await step.ask(flow)
            return None
        if word == BACK:
            history = flow.state["history"]
            if (elsewhere := self.back(flow)) is not None:
                return await self._apply(flow, elsewhere, text)
            if not history:
                await flow.say("This is the first question, so there is nothing to go back to. Say cancel to stop.")
                await step.ask(flow)
                return None
            return await self._apply(flow, Rewind(history[-1]), text)
        if step.free_text and len(text) <= _COMMAND_LIKE_LENGTH and self._is_command(text):
            return await self._ask_aside(flow, text)
        return await self._apply(flow, await step.answer(flow, text), text)

    # A command typed into the flow.

    def _aside_choices(self, step: Step) -> list[str]:
        return [ANSWER_ASIDE, self.carry_on, *([USE_AS_ANSWER] if step.free_text else [])]

    async def _ask_aside(self, flow: Flow, command: str) -> Ended:
        """Ask whether to answer `command` now (keeping the draft) or carry on; nothing is dropped yet."""
        flow.state["aside"] = command
        await flow.ask_choice(
            f"“{safe_text(command, 80)}” looks like a question for me, and {self.describe(flow)} isn't saved yet. "
            "Save your draft first, or answer the question? Your draft is kept either way.",
            self._aside_choices(self._current(flow)),
        )
        return None

    async def _answer_aside(self, flow: Flow, step: Step, command: str, text: str, word: str) -> Ended:
        """The answer to "Save your draft first, or answer the question?" (`aside` is already cleared)."""
        choices = self._aside_choices(step)
        chosen = normalise_answer(choice_by_number(text, choices) or text)
        if chosen in _ANSWER_ASIDE_WORDS:
            return {"aside": command, "resume": plain_copy(flow.state)}
        if chosen in _CARRY_ON_WORDS or chosen == normalise_answer(self.carry_on) or word == BACK:
            await step.ask(flow)
            return None
        if step.free_text and chosen in _USE_AS_ANSWER_WORDS:
            return await self._apply(flow, await step.answer(flow, command), command)
        if word == HELP:
            await flow.say(
                f"Choose {ANSWER_ASIDE} to have your question answered now: your draft is kept, and I come back "
                f"to it afterwards. Choose {self.carry_on} to forget the question and go on with your answers."
                + (f" Choose {USE_AS_ANSWER} if it was your answer." if step.free_text else "")
                + " Say cancel to stop without saving."
            )
            return await self._ask_aside(flow, command)
        # Anything else is taken as the answer to the waiting question (or as another command).
        return await self.proceed(flow.state, text, flow.screen)

    async def reprompt(self, state: State, screen: Screen) -> None:
        """Ask the waiting question again."""
        flow = Flow(screen, state)
        if flow.step is not None:
            await self._current(flow).ask(flow)

    # The machine.

    def _current(self, flow: Flow) -> Step:
        return self._steps[flow.state["step"]]

    async def _apply(self, flow: Flow, outcome: Outcome, text: str) -> Ended:
        state = flow.state
        if isinstance(outcome, Finish):
            if outcome.message:
                await flow.say(outcome.message)
            return outcome.result
        if isinstance(outcome, Retry):
            current = self._current(flow)
            if text and not (current.free_text or outcome.understood) and self._is_command(text):
                if self.has_draft(flow):
                    return await self._ask_aside(flow, text)
                await flow.say(f"I've set aside {self.describe(flow)} (nothing saved).")
                return {"interrupted_by": text}
            await flow.say(outcome.message)
            if outcome.reask:
                await current.ask(flow)
            return None
        if isinstance(outcome, Goto):
            if outcome.step not in self._steps:
                raise KeyError(f"{type(self).__name__} has no step {outcome.step!r}")
            if state["step"] is not None:
                if not is_plain(outcome.answer):
                    raise TypeError(f"the answer to {state['step']!r} must be plain JSON, not {outcome.answer!r}")
                state["values"][state["step"]] = outcome.answer
                # A step answered again (a change from the summary) keeps its place.
                if state["step"] not in state["history"]:
                    state["history"].append(state["step"])
            state["step"] = outcome.step
        elif isinstance(outcome, Jump):
            if outcome.step not in self._steps:
                raise KeyError(f"{type(self).__name__} has no step {outcome.step!r}")
            state["step"] = outcome.step
        else:  # Rewind
            history: list[str] = state["history"]
            if outcome.step in history:
                del history[len(history) - 1 - history[::-1].index(outcome.step) :]
            state["values"] = {name: value for name, value in state["values"].items() if name in history}
            state["step"] = outcome.step
        if not is_plain(state["data"]):
            raise TypeError(f"{type(self).__name__} put something other than plain JSON in its data: {state['data']!r}")
        await self._current(flow).ask(flow)
        return None
