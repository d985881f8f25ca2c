"""The help card and the welcome card people see when RecBot is added."""

from __future__ import annotations

from bot.cards.common import (
    TITLE_LIMIT,
    Card,
    Reply,
    command_action,
    fact_set,
    make_card,
    safe_text,
    text_block,
    title_block,
)

_HELP: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "For everyone",
        (
            ("Status", "status of recommendation 8"),
            ("List", "list overdue"),
            ("Mine", "my recommendations"),
            ("History", "history of recommendation 8"),
            ("Digest", "send me a weekly digest"),
            ("Reminders", "snooze reminders for 2 weeks"),
            ("Help", "help"),
        ),
    ),
    (
        "For leads (owners and delegates)",
        (
            ("Update", "update recommendation 8"),
            ("Correct", "correct my last update of recommendation 8"),
            ("Delegate", "add delegate to recommendation 8: sam@force.police.uk"),
            ("Requests", "what's waiting on me"),
        ),
    ),
    (
        "For admins",
        (
            ("Assign", "assign recommendation 8 to jane.doe@force.police.uk"),
            ("Decisions", "what needs my decision"),
            ("Closure", "approve closure of recommendation 8"),
            # A no-break space keeps the fact's title on one line beside a long example.
            ("Later\u00a0date", "approve revised date of recommendation 8"),
            ("Due\u00a0date", "set due date of recommendation 8 to 30 June 2026 because …"),
            ("Title", "set title of recommendation 8 to Hydra training"),
            ("Superseded", "mark recommendation 8 superseded by R12"),
            ("Reopen", "reopen recommendation 8 because …"),
            ("Admins", "make sam@force.police.uk an admin"),
            ("Digest", "subscribe this channel to the weekly digest"),
        ),
    ),
)
LEADS, ADMINS = _HELP[1][0], _HELP[2][0]


def help_card(*, lead: bool = False, admin: bool = False) -> Reply:
    """The commands this person may use, with an example of each: everyone's, then leads', then admins'."""
    intro = "Here is what I can do. Type a command, or @mention me first in a channel."
    lines = [intro]
    body: list[Card] = [title_block("RecBot help"), text_block(intro, spacing="Small")]
    shown = {LEADS: lead or admin, ADMINS: admin}
    for audience, commands in _HELP:
        if not shown.get(audience, True):
            continue
        lines += ["", audience]
        lines += [f'  {name}: "{example}"' for name, example in commands]
        body.append(text_block(audience, weight="Bolder", separator=True, spacing="Medium"))
        body.append(fact_set([(name, safe_text(example, TITLE_LIMIT)) for name, example in commands]))
    text = "\n".join(lines)
    actions = [
        command_action("My recommendations", "my recommendations"),
        command_action("List overdue", "list overdue"),
    ]
    return Reply(text=text, card=make_card(text, body, actions))


def welcome_card(*, in_channel: bool) -> Reply:
    """A short hello on install: what RecBot does, three examples, and a Help button."""
    mention = "@RecBot " if in_channel else ""
    intro = (
        "I keep track of the recommendations HMICFRS makes to the force: who owns each one, "
        "when it is due and how it is going. Ask me in plain words."
    )
    examples = [f"{mention}status of recommendation 8", f"{mention}list overdue", f"{mention}my recommendations"]
    try_line = "In this channel, @mention me first. Try:" if in_channel else "Try:"
    lines = ["Hi, I'm RecBot.", intro, try_line] + [f'- "{example}"' for example in examples]
    body: list[Card] = [
        title_block("Hi, I'm RecBot"),
        text_block(intro, spacing="Small"),
        text_block(try_line, spacing="Medium"),
        # Our own text: the markdown list is intended.
        text_block("\n".join(f"- {safe_text(example, TITLE_LIMIT)}" for example in examples), spacing="Small"),
    ]
    text = "\n".join(lines)
    return Reply(text=text, card=make_card(text, body, [command_action("Help", "help")]))
