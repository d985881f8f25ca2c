"""Schedules: wall-clock slots across both clock changes, bank holidays, due periods and nudges (fixed clocks)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from domain.schedule import (
    describe_schedule,
    due_digest_period,
    is_working_day,
    local_moment,
    next_working_day,
    nudge_period,
    nudge_reasons,
    parse_time_text,
    previous_working_day,
    weekly_slot,
)

LONDON = ZoneInfo("Europe/London")
UTC = timezone.utc
MONDAY = 0
FRIDAY = 4
SUNDAY = 6
NINE = time(9, 0)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def week_of(day: date) -> tuple[int, int]:
    iso = day.isocalendar()
    return iso.year, iso.week


# --- working days ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 1, 1),  # New Year's Day
        date(2026, 4, 3),  # Good Friday
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 4),  # Early May bank holiday
        date(2026, 5, 25),  # Spring bank holiday
        date(2026, 8, 31),  # Summer bank holiday
        date(2026, 12, 25),  # Christmas Day (a Friday)
        date(2026, 12, 28),  # Boxing Day falls on a Saturday: substitute Monday
        date(2027, 12, 27),  # Christmas Day on a Saturday: substitute Monday
        date(2027, 12, 28),  # Boxing Day on a Sunday: substitute Tuesday
    ],
)
def test_bank_holidays_of_england_and_wales_are_not_working_days(day: date) -> None:
    assert day.weekday() < 5
    assert not is_working_day(day)


def test_weekdays_are_working_days_and_weekends_are_not() -> None:
    assert is_working_day(date(2026, 11, 30))  # Monday
    assert is_working_day(date(2026, 12, 29))  # Tuesday after the Christmas substitute day
    assert not is_working_day(date(2026, 11, 28))  # Saturday
    assert not is_working_day(date(2026, 11, 29))  # Sunday


def test_scottish_only_holidays_are_working_days() -> None:
    # St Andrew's Day (30 November) and 2 January are Scottish bank holidays, not English ones.
    assert is_working_day(date(2026, 11, 30))
    assert is_working_day(date(2026, 1, 2))


def test_next_and_previous_working_day() -> None:
    assert next_working_day(date(2026, 11, 30)) == date(2026, 11, 30)
    assert next_working_day(date(2026, 11, 28)) == date(2026, 11, 30)
    assert next_working_day(date(2026, 4, 3)) == date(2026, 4, 7)  # Good Friday → Tuesday after Easter
    assert next_working_day(date(2026, 12, 25)) == date(2026, 12, 29)
    assert previous_working_day(date(2026, 11, 30)) == date(2026, 11, 27)
    assert previous_working_day(date(2026, 4, 7)) == date(2026, 4, 2)


# --- wall-clock slots ------------------------------------------------------------------------


def test_monday_nine_oclock_stays_nine_oclock_across_the_march_change() -> None:
    # Clocks go forward on Sunday 29 March 2026.
    assert weekly_slot(MONDAY, NINE, *week_of(date(2026, 3, 23)), LONDON) == utc(2026, 3, 23, 9)
    slot = weekly_slot(MONDAY, NINE, *week_of(date(2026, 3, 30)), LONDON)
    assert slot == utc(2026, 3, 30, 8)
    assert slot.astimezone(LONDON).hour == 9


def test_monday_nine_oclock_stays_nine_oclock_across_the_october_change() -> None:
    # Clocks go back on Sunday 25 October 2026.
    assert weekly_slot(MONDAY, NINE, *week_of(date(2026, 10, 19)), LONDON) == utc(2026, 10, 19, 8)
    slot = weekly_slot(MONDAY, NINE, *week_of(date(2026, 10, 26)), LONDON)
    assert slot == utc(2026, 10, 26, 9)
    assert slot.astimezone(LONDON).hour == 9


def test_a_time_in_the_march_gap_is_shifted_forward() -> None:
    # 01:30 on 29 March 2026 never shows on a London clock: it becomes 02:30 BST (01:30 UTC).
    slot = weekly_slot(SUNDAY, time(1, 30), *week_of(date(2026, 3, 29)), LONDON)
    assert slot == utc(2026, 3, 29, 1, 30)
    assert slot.astimezone(LONDON).replace(tzinfo=None) == datetime(2026, 3, 29, 2, 30)


def test_a_time_repeated_in_october_means_its_first_occurrence() -> None:
    slot = weekly_slot(SUNDAY, time(1, 30), *week_of(date(2026, 10, 25)), LONDON)
    assert slot == utc(2026, 10, 25, 0, 30)  # 01:30 BST, not the later 01:30 GMT
    assert local_moment(date(2026, 10, 25), time(1, 30, fold=1), LONDON) == slot


def test_slots_are_aware_utc() -> None:
    slot = weekly_slot(MONDAY, NINE, 2026, 48, LONDON)
    assert slot.tzinfo is UTC
    assert slot == utc(2026, 11, 23, 9)


@pytest.mark.parametrize(
    ("monday", "moved_to"),
    [
        (date(2026, 4, 6), date(2026, 4, 7)),  # Easter Monday
        (date(2026, 5, 4), date(2026, 5, 5)),  # Early May bank holiday
        (date(2026, 5, 25), date(2026, 5, 26)),  # Spring bank holiday
        (date(2026, 8, 31), date(2026, 9, 1)),  # Summer bank holiday
        (date(2026, 12, 28), date(2026, 12, 29)),  # Boxing Day's substitute day
    ],
)
def test_a_monday_digest_on_a_bank_holiday_moves_to_tuesday(monday: date, moved_to: date) -> None:
    slot = weekly_slot(MONDAY, NINE, *week_of(monday), LONDON)
    assert slot.astimezone(LONDON) == london(moved_to.year, moved_to.month, moved_to.day, 9)


def test_a_friday_digest_on_a_holiday_skips_the_weekend_and_the_next_holiday() -> None:
    # Christmas Day 2026 is a Friday; the Monday after is the substitute for Boxing Day.
    slot = weekly_slot(FRIDAY, NINE, *week_of(date(2026, 12, 25)), LONDON)
    assert slot == utc(2026, 12, 29, 9)
    # Good Friday → Tuesday after Easter Monday, now on summer time.
    assert weekly_slot(FRIDAY, NINE, *week_of(date(2026, 4, 3)), LONDON) == utc(2026, 4, 7, 8)


def test_a_weekend_digest_chosen_on_purpose_stays_on_the_weekend() -> None:
    assert weekly_slot(5, NINE, *week_of(date(2026, 11, 28)), LONDON) == utc(2026, 11, 28, 9)


def test_weekday_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError):
        weekly_slot(7, NINE, 2026, 48, LONDON)


# --- which digest is due ---------------------------------------------------------------------


def test_before_this_weeks_slot_last_weeks_digest_is_the_due_one() -> None:
    # Monday 30 November 2026 (W49) at 08:59: last week's slot (W48, 23 November) is the latest.
    assert due_digest_period(london(2026, 11, 30, 8, 59), MONDAY, NINE, LONDON) == ("2026-W48", utc(2026, 11, 23, 9))


def test_at_and_after_the_slot_this_weeks_digest_is_due() -> None:
    expected = ("2026-W49", utc(2026, 11, 30, 9))
    assert due_digest_period(london(2026, 11, 30, 9, 0), MONDAY, NINE, LONDON) == expected
    assert due_digest_period(london(2026, 11, 30, 9, 1), MONDAY, NINE, LONDON) == expected


def test_a_missed_slot_is_still_due_later_in_the_week() -> None:
    # The service was down on Monday at 09:00 and comes back on Thursday afternoon.
    assert due_digest_period(london(2026, 12, 3, 15, 0), MONDAY, NINE, LONDON) == ("2026-W49", utc(2026, 11, 30, 9))
    # Sunday night: still the same period, never the one before.
    assert due_digest_period(london(2026, 12, 6, 23, 59), MONDAY, NINE, LONDON) == ("2026-W49", utc(2026, 11, 30, 9))


def test_a_friday_slot_seen_on_monday_is_last_weeks() -> None:
    assert due_digest_period(london(2026, 11, 30, 10, 0), FRIDAY, NINE, LONDON) == ("2026-W48", utc(2026, 11, 27, 9))


def test_a_moved_slot_keeps_the_key_of_its_original_week() -> None:
    # Easter Monday 2026 (W15): the digest goes out on Tuesday 7 April at 09:00 BST.
    assert due_digest_period(london(2026, 4, 6, 10, 0), MONDAY, NINE, LONDON) is None
    assert due_digest_period(london(2026, 4, 7, 8, 59), MONDAY, NINE, LONDON) is None
    assert due_digest_period(london(2026, 4, 7, 9, 0), MONDAY, NINE, LONDON) == ("2026-W15", utc(2026, 4, 7, 8))


def test_a_slot_pushed_into_the_next_week_is_due_there_once() -> None:
    # Christmas Day (W52, Friday) → Tuesday 29 December, in W53.
    assert due_digest_period(london(2026, 12, 28, 12, 0), FRIDAY, NINE, LONDON) is None
    assert due_digest_period(london(2026, 12, 29, 9, 30), FRIDAY, NINE, LONDON) == ("2026-W52", utc(2026, 12, 29, 9))
    assert due_digest_period(london(2027, 1, 1, 8, 59), FRIDAY, NINE, LONDON) == ("2026-W52", utc(2026, 12, 29, 9))
    # New Year's Day 2027 is W53's Friday, a holiday too: its digest waits for Monday 4 January,
    # and W52's is over once a week has passed since its original time.
    assert due_digest_period(london(2027, 1, 1, 9, 30), FRIDAY, NINE, LONDON) is None
    assert due_digest_period(london(2027, 1, 4, 9, 30), FRIDAY, NINE, LONDON) == ("2026-W53", utc(2027, 1, 4, 9))


def test_due_periods_across_the_clock_changes() -> None:
    # The Monday after the October change at 08:30 GMT: last week's slot, though 7 days and 30 minutes ago.
    assert due_digest_period(london(2026, 10, 26, 8, 30), MONDAY, NINE, LONDON) == ("2026-W43", utc(2026, 10, 19, 8))
    assert due_digest_period(london(2026, 10, 26, 9, 0), MONDAY, NINE, LONDON) == ("2026-W44", utc(2026, 10, 26, 9))
    assert due_digest_period(london(2026, 3, 30, 9, 0), MONDAY, NINE, LONDON) == ("2026-W14", utc(2026, 3, 30, 8))


def test_nothing_older_than_a_week_is_ever_due() -> None:
    now = london(2026, 1, 1, 0, 0)
    for hours in range(0, 24 * 400, 7):
        moment = now + timedelta(hours=hours)
        due = due_digest_period(moment, MONDAY, NINE, LONDON)
        if due is not None:
            assert due[1] <= moment
            assert moment - due[1] <= timedelta(days=8)


def test_due_periods_need_an_aware_now() -> None:
    with pytest.raises(ValueError):
        due_digest_period(datetime(2026, 11, 30, 9, 0), MONDAY, NINE, LONDON)


# --- nudges ----------------------------------------------------------------------------------


def test_nudge_period_on_working_days_after_the_time() -> None:
    assert nudge_period(london(2026, 11, 30, 8, 59), NINE, LONDON) is None
    assert nudge_period(london(2026, 11, 30, 9, 0), NINE, LONDON) == ("2026-11-30", utc(2026, 11, 30, 9))
    assert nudge_period(london(2026, 11, 30, 17, 0), NINE, LONDON) == ("2026-11-30", utc(2026, 11, 30, 9))
    assert nudge_period(london(2026, 6, 1, 9, 0), NINE, LONDON) == ("2026-06-01", utc(2026, 6, 1, 8))


def test_no_nudge_period_at_weekends_or_on_bank_holidays() -> None:
    assert nudge_period(london(2026, 11, 28, 12, 0), NINE, LONDON) is None  # Saturday
    assert nudge_period(london(2026, 12, 28, 12, 0), NINE, LONDON) is None  # substitute day
    assert nudge_period(london(2026, 12, 29, 9, 0), NINE, LONDON) == ("2026-12-29", utc(2026, 12, 29, 9))


def test_nudge_period_uses_the_local_day() -> None:
    # 23:30 UTC on Sunday 31 May 2026 is already Monday 00:30 in London.
    assert nudge_period(utc(2026, 5, 31, 23, 30), time(0, 15), LONDON) == ("2026-06-01", utc(2026, 5, 31, 23, 15))


def reasons(
    today: date,
    *,
    due_on: date | None = None,
    last_update_on: date | None = None,
    status: str = "In progress",
    stale_days: int = 45,
    last_nudged_on: date | None = None,
) -> tuple[str, ...]:
    return nudge_reasons(
        today=today,
        due_on=due_on,
        last_update_on=last_update_on if last_update_on is not None else today,
        status=status,
        stale_days=stale_days,
        last_nudged_on=last_nudged_on,
    )


def test_due_reminders_on_the_day_each_threshold_is_crossed() -> None:
    due = date(2026, 4, 30)  # a Thursday
    assert reasons(date(2026, 3, 31), due_on=due) == ("due in 30 days (30 April 2026)",)
    assert reasons(date(2026, 4, 1), due_on=due) == ()
    assert reasons(date(2026, 4, 23), due_on=due) == ("due in 7 days (30 April 2026)",)
    assert reasons(date(2026, 4, 29), due_on=due) == ("due in 1 day (30 April 2026)",)
    assert reasons(date(2026, 4, 30), due_on=due) == ()
    assert reasons(date(2026, 5, 1), due_on=due) == ("overdue since 30 April 2026",)
    assert reasons(date(2026, 5, 5), due_on=due, last_nudged_on=date(2026, 5, 1)) == ()


def test_overdue_work_is_chased_every_week_until_closed_or_re_dated() -> None:
    due = date(2026, 4, 30)
    # Seven months late and never nudged (a new owner, say): told now, then once a week.
    assert reasons(date(2026, 11, 30), due_on=due) == ("overdue since 30 April 2026",)
    assert reasons(date(2026, 12, 3), due_on=due, last_nudged_on=date(2026, 11, 30)) == ()
    assert reasons(date(2026, 12, 7), due_on=due, last_nudged_on=date(2026, 11, 30)) == ("overdue since 30 April 2026",)
    # Given a later date (the revised date is the one passed in): not overdue, nothing to chase.
    assert reasons(date(2026, 12, 7), due_on=date(2027, 3, 31), last_nudged_on=date(2026, 11, 30)) == ()
    assert reasons(date(2026, 12, 7), due_on=due, status="Closed") == ()


def test_a_threshold_crossed_at_the_weekend_is_sent_on_monday() -> None:
    due = date(2026, 12, 6)  # Sunday: the 7-day mark is Sunday 29 November
    monday = date(2026, 11, 30)
    assert reasons(monday, due_on=due) == ("due in 6 days (6 December 2026)",)
    # Told on Friday about something else: the weekend's crossing still counts once.
    assert reasons(monday, due_on=due, last_nudged_on=date(2026, 11, 27)) == ("due in 6 days (6 December 2026)",)
    assert reasons(date(2026, 12, 1), due_on=due, last_nudged_on=monday) == ()


def test_a_threshold_crossed_on_a_bank_holiday_is_sent_the_next_working_day() -> None:
    # Due Friday 1 May 2026: overdue from Saturday 2 May; Monday 4 May is the Early May bank
    # holiday, so Tuesday 5 May tells the owner.
    assert reasons(date(2026, 5, 5), due_on=date(2026, 5, 1)) == ("overdue since 1 May 2026",)
    # Due 13 April 2026: the 7-day mark is Easter Monday 6 April; Tuesday sends it.
    assert reasons(date(2026, 4, 7), due_on=date(2026, 4, 13)) == ("due in 6 days (13 April 2026)",)
    # Over Christmas: the 30-day mark of 27 January 2027 is 28 December 2026 (substitute day).
    assert reasons(date(2026, 12, 29), due_on=date(2027, 1, 27)) == ("due in 29 days (27 January 2027)",)


def test_only_the_nearest_threshold_is_reported_and_overdue_wins() -> None:
    # Snoozed for three weeks, during which both the 7- and 1-day marks and the due date passed.
    assert reasons(date(2026, 5, 4), due_on=date(2026, 4, 30), last_nudged_on=date(2026, 4, 13)) == (
        "overdue since 30 April 2026",
    )
    assert reasons(date(2026, 4, 29), due_on=date(2026, 4, 30), last_nudged_on=date(2026, 4, 13)) == (
        "due in 1 day (30 April 2026)",
    )
    # Due today, the 1-day mark fell at the weekend.
    assert reasons(date(2026, 11, 30), due_on=date(2026, 11, 30)) == ("due today (30 November 2026)",)


def test_stale_items_at_most_once_a_week() -> None:
    today = date(2026, 11, 30)
    assert reasons(today, last_update_on=today - timedelta(days=44)) == ()
    assert reasons(today, last_update_on=today - timedelta(days=45)) == ("no update for 45 days",)
    stale = today - timedelta(days=60)
    assert reasons(today, last_update_on=stale, last_nudged_on=today - timedelta(days=6)) == ()
    assert reasons(today, last_update_on=stale, last_nudged_on=today - timedelta(days=7)) == ("no update for 60 days",)
    assert reasons(today, last_update_on=stale, stale_days=90) == ()


def test_an_item_never_updated_is_stale() -> None:
    assert nudge_reasons(
        today=date(2026, 11, 30),
        due_on=None,
        last_update_on=None,
        status="Not started",
        stale_days=45,
        last_nudged_on=None,
    ) == ("no update yet",)


def test_reasons_combine() -> None:
    today = date(2026, 5, 1)
    assert reasons(today, due_on=date(2026, 4, 30), last_update_on=date(2026, 1, 1)) == (
        "overdue since 30 April 2026",
        "no update for 120 days",
    )


@pytest.mark.parametrize("status", ["Awaiting sign-off", "Closed", "Superseded"])
def test_items_not_in_the_leads_hands_are_never_nudged(status: str) -> None:
    assert reasons(date(2026, 5, 1), due_on=date(2026, 4, 30), last_update_on=date(2025, 1, 1), status=status) == ()


@pytest.mark.parametrize("status", ["Not started", "In progress", "Blocked"])
def test_open_items_are_nudged(status: str) -> None:
    assert reasons(date(2026, 5, 1), due_on=date(2026, 4, 30), status=status) == ("overdue since 30 April 2026",)


# --- times people type -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8am", time(8, 0)),
        ("8 am", time(8, 0)),
        ("8 a.m.", time(8, 0)),
        ("8:30am", time(8, 30)),
        ("8.30AM", time(8, 30)),
        ("08:00", time(8, 0)),
        ("14:30", time(14, 30)),
        ("9", time(9, 0)),
        ("at 9", time(9, 0)),
        ("2pm", time(14, 0)),
        ("12pm", time(12, 0)),
        ("12am", time(0, 0)),
        ("noon", time(12, 0)),
        ("Midday", time(12, 0)),
        ("midnight", time(0, 0)),
        ("  07:45 ", time(7, 45)),
        ("00:00", time(0, 0)),
        ("23:59", time(23, 59)),
    ],
)
def test_parse_time_text_reads_times(text: str, expected: time) -> None:
    assert parse_time_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [None, "", "   ", "25:00", "24:00", "8:60", "13pm", "0am", "8:5", "tomorrow", "8 o'clock", "9:00:00", "-1", "1430"],
)
def test_parse_time_text_refuses_what_is_not_a_time(text: str | None) -> None:
    assert parse_time_text(text) is None


def test_describe_schedule() -> None:
    assert (
        describe_schedule(0, time(9, 0), "Europe/London", None) == "every Monday at 09:00 (Europe/London), all reports"
    )
    assert describe_schedule(4, time(8, 30), "Europe/London", "OIC-2025") == (
        "every Friday at 08:30 (Europe/London), OIC-2025 only"
    )
