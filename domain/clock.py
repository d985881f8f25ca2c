"""The one clock RecBot reads: the system clock in production, a fixed one in tests.

Everything that asks "what time is it" (the app, the scheduler, the CLI) is handed a `Clock`,
so a test chooses the moment and never depends on the day it runs.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo


class Clock:
    """The system clock."""

    def now(self) -> datetime:
        """The current moment, aware, in UTC."""
        return datetime.now(UTC)

    def today(self, zone: tzinfo) -> date:
        """Today's date where `zone` is."""
        return self.now().astimezone(zone).date()


class FixedClock(Clock):
    """A clock that stays where it is put, for tests and for `--at` runs."""

    def __init__(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("a FixedClock needs an aware moment")
        self._moment = moment.astimezone(UTC)

    def now(self) -> datetime:
        return self._moment

    def set(self, moment: datetime) -> None:
        """Move the clock to `moment` (aware)."""
        if moment.tzinfo is None:
            raise ValueError("a FixedClock needs an aware moment")
        self._moment = moment.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        """Move the clock on by `delta`."""
        self._moment += delta


SYSTEM_CLOCK = Clock()
