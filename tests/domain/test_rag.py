"""The RAG rule from PRODUCT.md, branch by branch and at its boundaries."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from domain.rag import Rag, compute_rag, rag_for_item, rag_reasons
from domain.vocabulary import Assessment, Kind, Status
from storage.models import Item, Report

TODAY = date(2026, 11, 28)
FRESH = TODAY - timedelta(days=1)
FAR = TODAY + timedelta(days=200)


def days(n: int) -> date:
    return TODAY + timedelta(days=n)


CASES = [
    # (why, status, due_on, assessment, last_update_on, expected)
    ("closed", Status.CLOSED, FAR, None, FRESH, Rag.BLUE),
    ("closed past due, off track, stale", Status.CLOSED, days(-100), Assessment.OFF_TRACK, days(-400), Rag.BLUE),
    ("superseded past due", Status.SUPERSEDED, days(-30), None, days(-90), Rag.BLUE),
    ("past due", Status.IN_PROGRESS, days(-1), Assessment.ON_TRACK, FRESH, Rag.RED),
    ("past due while awaiting sign-off", Status.AWAITING_SIGN_OFF, days(-1), None, FRESH, Rag.RED),
    ("past due, not started", Status.NOT_STARTED, days(-200), None, FRESH, Rag.RED),
    ("off track, green otherwise", Status.IN_PROGRESS, FAR, Assessment.OFF_TRACK, FRESH, Rag.RED),
    ("off track, no due date", Status.BLOCKED, None, Assessment.OFF_TRACK, FRESH, Rag.RED),
    ("due today is not yet past", Status.IN_PROGRESS, TODAY, None, FRESH, Rag.AMBER),
    ("due in exactly 30 days", Status.IN_PROGRESS, days(30), None, FRESH, Rag.AMBER),
    ("due in 31 days", Status.IN_PROGRESS, days(31), None, FRESH, Rag.GREEN),
    ("awaiting sign-off, due soon", Status.AWAITING_SIGN_OFF, days(5), None, FRESH, Rag.GREEN),
    ("awaiting sign-off, due today", Status.AWAITING_SIGN_OFF, TODAY, None, FRESH, Rag.GREEN),
    ("at risk", Status.IN_PROGRESS, FAR, Assessment.AT_RISK, FRESH, Rag.AMBER),
    ("at risk while awaiting sign-off", Status.AWAITING_SIGN_OFF, FAR, Assessment.AT_RISK, FRESH, Rag.AMBER),
    ("59 days since the last update", Status.IN_PROGRESS, FAR, None, days(-59), Rag.GREEN),
    ("60 days since the last update", Status.IN_PROGRESS, FAR, None, days(-60), Rag.AMBER),
    ("stale while awaiting sign-off", Status.AWAITING_SIGN_OFF, FAR, None, days(-60), Rag.AMBER),
    ("never updated", Status.NOT_STARTED, FAR, None, None, Rag.AMBER),
    ("on track, far off, fresh", Status.IN_PROGRESS, FAR, Assessment.ON_TRACK, FRESH, Rag.GREEN),
    ("no due date, fresh", Status.BLOCKED, None, None, FRESH, Rag.GREEN),
    ("updated today", Status.NOT_STARTED, FAR, None, TODAY, Rag.GREEN),
]


@pytest.mark.parametrize(
    ("status", "due_on", "assessment", "last_update_on", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_compute_rag(
    status: Status, due_on: date | None, assessment: Assessment | None, last_update_on: date | None, expected: Rag
) -> None:
    assert (
        compute_rag(status=status, due_on=due_on, assessment=assessment, last_update_on=last_update_on, today=TODAY)
        is expected
    )


def test_rag_values_are_the_words_people_use() -> None:
    assert [rag.value for rag in Rag] == ["Blue", "Red", "Amber", "Green"]
    assert f"{Rag.AMBER}" == "Amber"


def _item(**fields: object) -> Item:
    report = Report(
        code="OIC-2025", title="Improving the response to organised immigration crime", published_on=date(2025, 5, 16)
    )
    defaults: dict[str, object] = {
        "report": report,
        "kind": Kind.RECOMMENDATION.value,
        "number": 8,
        "text": "By 30 April 2026, chief constables should …",
        "due_on": date(2026, 4, 30),
        "status": Status.IN_PROGRESS.value,
        "last_update_at": datetime(2026, 11, 27, 12, tzinfo=timezone.utc),
    }
    return Item(**(defaults | fields))


def test_rag_for_item_uses_the_revised_due_date() -> None:
    assert rag_for_item(_item(), TODAY) is Rag.RED
    assert rag_for_item(_item(revised_due_on=days(90)), TODAY) is Rag.GREEN
    assert rag_for_item(_item(revised_due_on=days(10)), TODAY) is Rag.AMBER


def test_rag_for_item_reads_status_and_assessment_strings() -> None:
    assert rag_for_item(_item(status=Status.CLOSED.value), TODAY) is Rag.BLUE
    assert rag_for_item(_item(due_on=FAR, assessment=Assessment.OFF_TRACK.value), TODAY) is Rag.RED
    assert rag_for_item(_item(due_on=FAR, assessment=Assessment.AT_RISK.value), TODAY) is Rag.AMBER
    assert rag_for_item(_item(due_on=FAR, assessment=Assessment.ON_TRACK.value), TODAY) is Rag.GREEN


def test_rag_for_item_counts_staleness_in_utc_days() -> None:
    sixty_days_ago = datetime(2026, 9, 29, 23, 30, tzinfo=timezone.utc)
    # 00:30 on 30 September in London (BST) is still 29 September in UTC: 60 days.
    same_moment_in_bst = datetime(2026, 9, 30, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    fifty_nine_days_ago = datetime(2026, 9, 30, 0, 30, tzinfo=timezone.utc)
    assert rag_for_item(_item(due_on=FAR, last_update_at=sixty_days_ago), TODAY) is Rag.AMBER
    assert rag_for_item(_item(due_on=FAR, last_update_at=same_moment_in_bst), TODAY) is Rag.AMBER
    assert rag_for_item(_item(due_on=FAR, last_update_at=fifty_nine_days_ago), TODAY) is Rag.GREEN
    assert rag_for_item(_item(due_on=FAR, last_update_at=datetime(2026, 9, 30)), TODAY) is Rag.GREEN
    assert rag_for_item(_item(due_on=FAR, last_update_at=None), TODAY) is Rag.AMBER


def test_the_reasons_are_the_rules_that_made_the_rating() -> None:
    today = date(2026, 12, 1)
    assert rag_reasons(
        status=Status.IN_PROGRESS,
        due_on=date(2026, 4, 30),
        assessment=Assessment.OFF_TRACK,
        last_update_on=today,
        today=today,
    ) == ("overdue by 7 months", "the lead says off track")
    assert rag_reasons(status=Status.IN_PROGRESS, due_on=None, assessment=None, last_update_on=None, today=today) == (
        "no update yet",
    )
    # Awaiting sign-off: the lead says it is done, so the near date is no reason.
    assert rag_reasons(
        status=Status.AWAITING_SIGN_OFF, due_on=date(2026, 12, 5), assessment=None, last_update_on=today, today=today
    ) == ("due in 4 days",)
    assert rag_reasons(status=Status.CLOSED, due_on=None, assessment=None, last_update_on=None, today=today) == ()
