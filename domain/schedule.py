"""When digests and nudges are due: wall-clock schedules in one zone, with bank holidays.

Everything here is a pure function of its arguments: `now` and the zone are passed in, never read
from the clock or the environment (the zone comes from `RECBOT_TIMEZONE` via `Settings.tz`), so
every bot instance computes the same periods and the tests need no frozen clock.

Decisions, in one place:

- **Wall clock.** A schedule is a local time in the zone ("Monday 09:00 Europe/London"), turned
  into an aware UTC moment per date, so 09:00 stays 09:00 across the March and October changes.
  A local time that does not exist (01:00–02:00 on the last Sunday of March in London) is shifted
  forward by the size of the gap (01:30 → 02:30 BST); one that happens twice (01:00–02:00 on the
  last Sunday of October) means its first occurrence (fold=0, still BST).
- **Working days** are Monday to Friday except the bank holidays of England and Wales (the
  `holidays` library, GB/ENG, which includes substitute days such as 28 December 2026).
- **Digests** that fall on a bank holiday move to the next working day at the same wall-clock
  time; a weekday chosen on purpose (even Saturday) is kept unless it is itself a bank holiday.
  The period key stays the ISO week of the original slot, so a move never makes a second key.
- **Nudges** go out daily at one time on working days only; a day skipped (weekend, bank
  holiday, a run that never happened) loses nothing, because `nudge_reasons` looks at every day
  since the owner was last nudged.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from domain.dates import format_uk_date
from domain.vocabulary import Status

DEFAULT_DIGEST_WEEKDAY = 0  # Monday
DEFAULT_DIGEST_TIME = time(9, 0)
DEFAULT_NUDGE_TIME = time(9, 0)

# Days before the due date on which an owner is reminded, nearest last.
DUE_REMINDER_DAYS = (30, 7, 1)
# A stale item is nagged about at most this often.
STALE_NUDGE_INTERVAL = timedelta(days=7)
# Only items the lead is still working on: awaiting sign-off is the admins' move, closed and
# superseded items need nothing from anyone.
NUDGED_STATUSES = frozenset({Status.NOT_STARTED.value, Status.IN_PROGRESS.value, Status.BLOCKED.value})

_ONE_DAY = timedelta(days=1)
_ONE_WEEK = timedelta(days=7)


# --- working days ----------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    """The bank holidays of England and Wales in `year`, substitute days included."""
    # Imported here so importing this module builds and loads nothing.
    import holidays

    # England and Wales share one list of bank holidays; the library files both under "ENG".
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def is_bank_holiday(day: date) -> bool:
    """True on a bank holiday in England and Wales (including substitute days)."""
    return day in _bank_holidays(day.year)


def is_working_day(day: date) -> bool:
    """Monday to Friday, and not a bank holiday in England and Wales."""
    return day.weekday() < 5 and not is_bank_holiday(day)


def next_working_day(day: date) -> date:
    """`day` itself when it is a working day, otherwise the first working day after it."""
    while not is_working_day(day):
        day += _ONE_DAY
    return day


def previous_working_day(day: date) -> date:
    """The last working day strictly before `day`."""
    day -= _ONE_DAY
    while not is_working_day(day):
        day -= _ONE_DAY
    return day


# --- wall-clock moments ----------------------------------------------------------------------


def local_moment(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The aware UTC moment when clocks in `zone` show `at` on `day`.

    Nonexistent local times (spring forward) are shifted forward by the gap; repeated local
    times (fall back) mean the first occurrence.
    """
    # fold=0 gives exactly that (PEP 495): in a gap it applies the offset from before the change,
    # which lands after the gap; in a repeat it picks the earlier offset, the first occurrence.
    wall = datetime.combine(day, at.replace(tzinfo=None, fold=0), tzinfo=zone)
    return wall.astimezone(timezone.utc)


def _local_date(now: datetime, zone: ZoneInfo) -> date:
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return now.astimezone(zone).date()


# --- weekly digests --------------------------------------------------------------------------


def period_key(iso_year: int, iso_week: int) -> str:
    """The period a weekly digest belongs to: "2026-W48"."""
    return f"{iso_year}-W{iso_week:02d}"


def _digest_day(weekday: int, iso_year: int, iso_week: int) -> date:
    """The day a digest goes out in that ISO week: moved past a bank holiday to a working day."""
    day = date.fromisocalendar(iso_year, iso_week, weekday + 1)
    return next_working_day(day) if is_bank_holiday(day) else day


def weekly_slot(weekday: int, at: time, iso_year: int, iso_week: int, zone: ZoneInfo) -> datetime:
    """When the digest for ISO week (`iso_year`, `iso_week`) goes out, as an aware UTC datetime.

    `weekday` is 0 = Monday … 6 = Sunday and `at` a wall-clock time in `zone`. A slot on a bank
    holiday moves to the next working day (skipping any weekend on the way) at the same time.
    """
    if not 0 <= weekday <= 6:
        raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), not {weekday}")
    return local_moment(_digest_day(weekday, iso_year, iso_week), at, zone)


def due_digest_period(now: datetime, weekday: int, at: time, zone: ZoneInfo) -> tuple[str, datetime] | None:
    """The period key and slot of the digest that should have gone out by `now`, or None.

    That is the latest slot at or before `now` of this ISO week or the previous one, as long as
    its week has not yet been overtaken: a slot stays due until the wall-clock moment one week
    after its original (unmoved) time. So a run that missed its time (the service was down at
    09:00) still finds the slot later that week, and the caller's claim on the key sends it once;
    nothing older than a week is ever returned.

    None only in the short gap when a bank holiday pushed the previous week's slot into this week
    and it has not arrived yet (a Friday digest on Good Friday goes out on the Tuesday after
    Easter Monday; on that Monday nothing is due).
    """
    today = _local_date(now, zone)
    this_year, this_week, _ = today.isocalendar()
    monday = date.fromisocalendar(this_year, this_week, 1)
    for week_start in (monday, monday - _ONE_WEEK):
        iso_year, iso_week, _ = week_start.isocalendar()
        slot = weekly_slot(weekday, at, iso_year, iso_week, zone)
        nominal_day = date.fromisocalendar(iso_year, iso_week, weekday + 1)
        overtaken_at = local_moment(nominal_day + _ONE_WEEK, at, zone)
        if slot <= now < overtaken_at:
            return period_key(iso_year, iso_week), slot
    return None


# --- daily nudges ----------------------------------------------------------------------------


def nudge_period(now: datetime, at: time, zone: ZoneInfo) -> tuple[str, datetime] | None:
    """Today's nudge period ("2026-11-30") and slot once `at` (usually 09:00) has passed on a working day.

    Nudges are daily on working days; a weekend or bank holiday simply has no period, and the
    next working day's nudges cover the days in between (`nudge_reasons` counts from the last
    nudge, not from yesterday).
    """
    today = _local_date(now, zone)
    if not is_working_day(today):
        return None
    slot = local_moment(today, at, zone)
    if now < slot:
        return None
    return today.isoformat(), slot


def nudge_reasons(
    *,
    today: date,
    due_on: date | None,
    last_update_on: date | None,
    status: str,
    stale_days: int,
    last_nudged_on: date | None,
) -> tuple[str, ...]:
    """Why the owner of an item should be nudged today (empty: not today).

    - Only open items the lead is working on (Not started, In progress, Blocked); items awaiting
      sign-off are the admins' move.
    - Deadline reminders fire once when a threshold is crossed (30, 7 and 1 days before
      `due_on`, then overdue on the day after it) at any time after the last nudge — or, with no
      nudge yet, since the previous working day — so the reminder due on a Saturday or a bank
      holiday goes out on the next working day, saying how many days are really left. Only the
      nearest threshold crossed is reported.
    - Overdue work keeps being chased: past `due_on` (the current, revised or HMICFRS, date), the
      owner is reminded at least once every 7 days until the item is closed or given a later date —
      a new owner of an item long overdue included.
    - Stale: no update for `stale_days` or more (or none ever), at most once every 7 days.

    `last_nudged_on` should be the last day the owner was nudged about this item.
    """
    if status not in NUDGED_STATUSES:
        return ()
    since = last_nudged_on if last_nudged_on is not None else previous_working_day(today)
    recently_nudged = last_nudged_on is not None and today - last_nudged_on < STALE_NUDGE_INTERVAL
    reasons: list[str] = []

    if due_on is not None:

        def crossed(day: date) -> bool:
            return since < day <= today

        if crossed(due_on + _ONE_DAY) or (today > due_on and not recently_nudged):
            reasons.append(f"overdue since {format_uk_date(due_on)}")
        elif today <= due_on and any(crossed(due_on - timedelta(days=n)) for n in DUE_REMINDER_DAYS):
            reasons.append(_due_in(due_on, today))

    stale_for = None if last_update_on is None else (today - last_update_on).days
    if not recently_nudged and (stale_for is None or stale_for >= stale_days):
        reasons.append("no update yet" if stale_for is None else f"no update for {_days(stale_for)}")
    return tuple(reasons)


def _due_in(due_on: date, today: date) -> str:
    left = (due_on - today).days
    when = "due today" if left == 0 else f"due in {_days(left)}"
    return f"{when} ({format_uk_date(due_on)})"


def _days(count: int) -> str:
    return "1 day" if count == 1 else f"{count} days"


# --- times people type -----------------------------------------------------------------------

_TIME_TEXT = re.compile(
    r"(?:at\s+)?(?:"
    r"(?P<word>noon|midday|midnight)"
    r"|(?P<h12>\d{1,2})(?:[:.](?P<m12>\d{2}))?\s*(?P<ampm>[ap])\.?\s*m\.?"
    r"|(?P<h24>\d{1,2})(?:[:.](?P<m24>\d{2}))?"
    r")",
    re.IGNORECASE,
)


def parse_time_text(text: str | None) -> time | None:
    """A time of day typed or stored: "8am", "8:30am", "08:00", "14:30", "noon"; None when invalid."""
    if text is None:
        return None
    cleaned = " ".join(text.split()).strip(" .,;!?").lower()
    match = _TIME_TEXT.fullmatch(cleaned)
    if match is None:
        return None
    if match["word"]:
        return time(0, 0) if match["word"] == "midnight" else time(12, 0)
    if match["h12"]:
        hour, minute = int(match["h12"]), int(match["m12"] or 0)
        if not (1 <= hour <= 12 and minute <= 59):
            return None
        hour = hour % 12 + (12 if match["ampm"] == "p" else 0)
        return time(hour, minute)
    hour, minute = int(match["h24"]), int(match["m24"] or 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def describe_schedule(weekday: int, at: time, zone_name: str, report_code: str | None) -> str:
    """What a subscription does, in words: "every Monday at 09:00 (Europe/London), all reports"."""
    scope = f"{report_code} only" if report_code else "all reports"
    return f"every {_WEEKDAY_NAMES[weekday]} at {at:%H:%M} ({zone_name}), {scope}"
