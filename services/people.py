"""Who is acting: the person a message came from, as the services see them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Identity:
    """The sender of a message, resolved to a stored person (`bot.people.PeopleDirectory`)."""

    person_id: int
    email: str | None
    name: str | None
    is_admin: bool
