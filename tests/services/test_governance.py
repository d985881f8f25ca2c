"""LeadCommands and TrackerUpdateService against the real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cards.common import Reply
from bot.cards.render import render
from bot.commands import item_ref, parse_intent
from bot.people import PeopleDirectory
from domain.records import ItemRecord, ReportRecord
from domain.updates import Actor, UpdateDraft
from domain.vocabulary import EventKind, Kind, Status
from services.governance import Decision, LeadCommands, Mention
from services.people import Identity
from services.results import Result
from services.updates import TrackerUpdateService, UpdateRefused
from storage import progress, tracker
from storage.models import Item, ItemEvent, Person, Report, Update

Sessionmaker = async_sessionmaker[AsyncSession]
TODAY = date(2026, 1, 10)
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
BOOTSTRAP_ADMINS = ("root@force.police.uk",)
OIC = ReportRecord(
    title="Improving the response to organised immigration crime",
    code="OIC-2025",
    published_on=date(2025, 5, 16),
    items=(
        ItemRecord(
            Kind.RECOMMENDATION, 8, "By 30 April 2026, chief constables should …", date(2026, 4, 30), "We will."
        ),
        ItemRecord(Kind.RECOMMENDATION, 9, "By 30 April 2026, forces should …", date(2026, 4, 30)),
    ),
)
OTHER = ReportRecord(
    title="Police response to violence against women and girls",
    code="VAWG-2024",
    published_on=date(2024, 3, 1),
    items=(ItemRecord(Kind.RECOMMENDATION, 9, "By 31 December 2026, forces should …", date(2026, 12, 31)),),
)


@dataclass
class World:
    commands: LeadCommands
    service: TrackerUpdateService
    sessionmaker: Sessionmaker
    admin: Identity
    lead: Identity
    stranger: Identity
    item_id: int


def _identity(person: Person) -> Identity:
    return Identity(person.id, person.email, person.name, person.is_admin)


@pytest.fixture
async def world(sessionmaker: Sessionmaker) -> World:
    async with sessionmaker.begin() as session:
        await tracker.save_report(session, OIC)
        await tracker.save_report(session, OTHER)
        admin = Person(email="pat@force.police.uk", name="Pat Admin", is_admin=True)
        lead = Person(email="jane.doe@force.police.uk", name="Jane Doe")
        stranger = Person(email="sam@force.police.uk", name="Sam Smith")
        session.add_all([admin, lead, stranger])
        await session.flush()
        item_id = await session.scalar(select(Item.id).where(Item.number == 8))
        assert item_id is not None
        people = (_identity(admin), _identity(lead), _identity(stranger))
    return World(
        LeadCommands(
            sessionmaker,
            lambda: TODAY,
            BOOTSTRAP_ADMINS,
            is_bootstrap_admin=PeopleDirectory(sessionmaker, BOOTSTRAP_ADMINS, home_tenant=TENANT).is_bootstrap_admin,
        ),
        TrackerUpdateService(sessionmaker, lambda: TODAY, item_ref),
        sessionmaker,
        *people,
        item_id=item_id,
    )


def _shown(result: Result | Decision) -> Reply:
    """What the speaker sees (a decision's notices go to others)."""
    return render(result.reply if isinstance(result, Decision) else result)


def _said(result: Result | Decision | Reply) -> str:
    """The plain text shown, after checking the card carries the same text as its fallback."""
    reply = result if isinstance(result, Reply) else _shown(result)
    if reply.card is not None:
        assert reply.card["fallbackText"] == reply.text
        json.dumps(reply.card)
    return reply.text


async def _item(world: World, item_id: int | None = None) -> Item:
    async with world.sessionmaker() as session:
        item = await tracker.get_item(session, item_id or world.item_id)
        assert item is not None
        return item


async def _count(world: World, model: Any, *conditions: Any) -> int:
    async with world.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


async def _assign_lead(world: World) -> None:
    await world.commands.assign(
        parse_intent("assign recommendation 8 to jane.doe@force.police.uk"),  # type: ignore[arg-type]
        world.admin,
        activity_key="assign-lead",
    )


# --- assign ------------------------------------------------------------------------------------


async def test_an_admin_assigns_by_email_once_per_activity(world: World) -> None:
    intent = parse_intent("assign recommendation 8 to Jane.Doe@force.police.uk")
    for _ in range(2):
        reply = await world.commands.assign(intent, world.admin, activity_key="a1")  # type: ignore[arg-type]
        assert _said(reply) == "Recommendation 8 (OIC-2025 R8) is now owned by Jane Doe."
    assert (await _item(world)).owner_id == world.lead.person_id
    assert await _count(world, ItemEvent, ItemEvent.kind == EventKind.ASSIGNED.value) == 1
    again = await world.commands.assign(intent, world.admin, activity_key="a2")  # type: ignore[arg-type]
    assert _said(again) == "Recommendation 8 (OIC-2025 R8) is already owned by Jane Doe."


async def test_an_unknown_email_creates_the_person(world: World) -> None:
    intent = parse_intent("assign R8 to new.person@force.police.uk")
    reply = await world.commands.assign(intent, world.admin)  # type: ignore[arg-type]
    assert _said(reply) == "Recommendation 8 (OIC-2025 R8) is now owned by new.person@force.police.uk."
    assert await _count(world, Person, Person.email == "new.person@force.police.uk") == 1


async def test_an_admin_assigns_by_mention(world: World) -> None:
    intent = parse_intent("assign R8 to <at>Jo *Bloggs*</at>")
    mentions = [Mention(TENANT, "29:jo", "aad-jo", "Jo *Bloggs*")]
    reply = _shown(await world.commands.assign(intent, world.admin, mentions))  # type: ignore[arg-type]
    assert reply.text == "Recommendation 8 (OIC-2025 R8) is now owned by Jo *Bloggs*."
    assert reply.card is not None and "Jo \\*Bloggs\\*" in reply.card["body"][0]["text"]
    item = await _item(world)
    assert item.owner is not None and (item.owner.teams_user_id, item.owner.aad_object_id) == ("29:jo", "aad-jo")


async def test_assign_asks_who_when_nobody_is_named_clearly(world: World) -> None:
    by_name = await world.commands.assign(parse_intent("assign R8 to Jane Doe"), world.admin)  # type: ignore[arg-type]
    assert _said(by_name).startswith('I can\'t tell who "Jane Doe" is. Give their e-mail address or @mention them')
    two = [Mention(TENANT, "29:a", None, "A"), Mention(TENANT, "29:b", None, "B")]
    several = await world.commands.assign(parse_intent("assign R8 to A and B"), world.admin, two)  # type: ignore[arg-type]
    assert _said(several).startswith("Please @mention just one person")
    nobody = await world.commands.assign(parse_intent("assign R8"), world.admin)  # type: ignore[arg-type]
    assert _said(nobody).startswith("Who do you mean?")


async def test_only_admins_assign(world: World) -> None:
    intent = parse_intent("assign recommendation 8 to jane.doe@force.police.uk")
    refused = await world.commands.assign(intent, world.lead)  # type: ignore[arg-type]
    assert _said(refused) == "Only an admin can assign owners — admins are Pat Admin."
    assert (await _item(world)).owner_id is None
    unknown = await world.commands.assign(intent, None)  # type: ignore[arg-type]
    assert _said(unknown) == "I couldn't tell who you are, so I can't assign owners."


async def test_an_ambiguous_number_asks_which_report_with_the_full_command(world: World) -> None:
    reply = _shown(
        await world.commands.assign(
            parse_intent("assign recommendation 9 to jane.doe@force.police.uk"),  # type: ignore[arg-type]
            world.admin,
        )
    )
    assert reply.card is not None
    commands = [
        element["actions"][0]["data"]["command"] for element in reply.card["body"] if element["type"] == "ActionSet"
    ]
    assert commands == [
        "assign OIC-2025 R9 to jane.doe@force.police.uk",
        "assign VAWG-2024 R9 to jane.doe@force.police.uk",
    ]
    assert parse_intent(commands[0]) == parse_intent("assign OIC-2025 R9 to jane.doe@force.police.uk")


async def test_unknown_items_and_reports(world: World) -> None:
    missing = await world.commands.assign(parse_intent("assign R77 to a@b.uk"), world.admin)  # type: ignore[arg-type]
    assert _said(missing).startswith("I can't find recommendation 77.")
    no_report = await world.commands.history(parse_intent("history of XYZ-2020 R8").ref)  # type: ignore[union-attr]
    assert _said(no_report).startswith("I don't know a report called XYZ-2020.")


# --- delegates ---------------------------------------------------------------------------------


async def test_the_owner_adds_and_removes_a_delegate(world: World) -> None:
    await _assign_lead(world)
    add = parse_intent("add delegate to recommendation 8: sam@force.police.uk")
    assert _said(await world.commands.add_delegate(add, world.lead, activity_key="d1")) == (  # type: ignore[arg-type]
        "Sam Smith can now post updates for recommendation 8 (OIC-2025 R8)."
    )
    # Redelivered: the same confirmation, one event.
    assert "can now post updates" in _said(await world.commands.add_delegate(add, world.lead, activity_key="d1"))  # type: ignore[arg-type]
    assert "already a delegate" in _said(await world.commands.add_delegate(add, world.lead, activity_key="d2"))  # type: ignore[arg-type]
    assert await _count(world, ItemEvent, ItemEvent.kind == EventKind.DELEGATE_ADDED.value) == 1
    assert await world.service.refusal(world.item_id, Actor(world.stranger.person_id, "Sam Smith")) is None

    remove = parse_intent("remove delegate from recommendation 8: sam@force.police.uk")
    assert _said(await world.commands.remove_delegate(remove, world.admin)) == (  # type: ignore[arg-type]
        "Sam Smith can no longer post updates for recommendation 8 (OIC-2025 R8)."
    )
    assert "isn't a delegate" in _said(await world.commands.remove_delegate(remove, world.admin))  # type: ignore[arg-type]


async def test_only_the_owner_or_an_admin_manages_delegates(world: World) -> None:
    add = parse_intent("add delegate to recommendation 8: sam@force.police.uk")
    unowned = await world.commands.add_delegate(add, world.stranger)  # type: ignore[arg-type]
    assert _said(unowned) == (
        "Only the owner of recommendation 8 (OIC-2025 R8) or an admin can add delegates — "
        "it has no owner yet; ask an admin to assign one."
    )
    await _assign_lead(world)
    owned = await world.commands.add_delegate(add, world.stranger)  # type: ignore[arg-type]
    assert _said(owned).endswith("can add delegates — the owner is Jane Doe.")
    owner_again = parse_intent("add delegate to recommendation 8: jane.doe@force.police.uk")
    assert "can post updates already" in _said(await world.commands.add_delegate(owner_again, world.admin))  # type: ignore[arg-type]


# --- admins ------------------------------------------------------------------------------------


async def test_admins_grant_and_revoke_admin(world: World) -> None:
    grant = parse_intent("make jane.doe@force.police.uk an admin")
    decision = await world.commands.grant_admin(grant, world.admin)  # type: ignore[arg-type]
    assert _said(decision.reply) == "Jane Doe is now an admin."
    assert [notice.person_id for notice in decision.notices] == [world.lead.person_id]
    assert _said(decision.notices[0].message).startswith("Pat Admin made you a RecBot admin")
    assert "already an admin" in _said((await world.commands.grant_admin(grant, world.admin)).reply)  # type: ignore[arg-type]

    revoke = parse_intent("remove admin from jane.doe@force.police.uk")
    assert _said((await world.commands.revoke_admin(revoke, world.admin)).reply) == "Jane Doe is no longer an admin."  # type: ignore[arg-type]
    assert _said((await world.commands.revoke_admin(revoke, world.admin)).reply) == "Jane Doe isn't an admin."  # type: ignore[arg-type]


async def test_admin_changes_are_refused_to_non_admins_and_never_leave_no_admin(world: World) -> None:
    grant = parse_intent("make sam@force.police.uk an admin")
    refused = await world.commands.grant_admin(grant, world.stranger)  # type: ignore[arg-type]
    assert _said(refused.reply) == "Only an admin can make someone an admin — admins are Pat Admin."
    last = await world.commands.revoke_admin(parse_intent("remove admin from pat@force.police.uk"), world.admin)  # type: ignore[arg-type]
    assert "the only admin" in _said(last.reply)
    async with world.sessionmaker.begin() as session:
        session.add(Person(email="root@force.police.uk", name="Root Admin"))
    bootstrap = await world.commands.revoke_admin(parse_intent("remove admin from root@force.police.uk"), world.admin)  # type: ignore[arg-type]
    assert "RECBOT_ADMINS" in _said(bootstrap.reply)
    # With a RECBOT_ADMINS admin known, Pat is no longer the last one.
    assert "no longer an admin" in _said(
        (await world.commands.revoke_admin(parse_intent("remove admin from pat@force.police.uk"), world.admin)).reply  # type: ignore[arg-type]
    )


async def test_with_no_admins_the_refusal_says_how_to_get_one(sessionmaker: Sessionmaker) -> None:
    async with sessionmaker.begin() as session:
        await tracker.save_report(session, OIC)
        person = Person(email="x@force.police.uk")
        session.add(person)
        await session.flush()
        someone = _identity(person)
    reply = await LeadCommands(sessionmaker, lambda: TODAY).approve_closure(
        parse_intent("approve closure of R8"),  # type: ignore[arg-type]
        someone,
    )
    assert "no admins are set up yet" in _said(reply.reply)


# --- due dates ---------------------------------------------------------------------------------


async def test_an_admin_sets_a_due_date_with_a_reason(world: World) -> None:
    intent = parse_intent("set due date of recommendation 8 to 30 June 2026 because the *supplier* slipped")
    reply = render(await world.commands.set_due_date(intent, world.admin, activity_key="due-1"))  # type: ignore[arg-type]
    assert _said(reply) == (
        "The revised due date of recommendation 8 (OIC-2025 R8) is now 30 June 2026 "
        "(HMICFRS due date: 30 April 2026). Reason: the *supplier* slipped"
    )
    assert reply.card is not None and "the \\*supplier\\* slipped" in reply.card["body"][0]["text"]
    item = await _item(world)
    assert item.revised_due_on == date(2026, 6, 30)
    async with world.sessionmaker() as session:
        event = await session.scalar(select(ItemEvent).where(ItemEvent.kind == EventKind.DUE_DATE_CHANGED.value))
    assert event is not None and event.detail == "the *supplier* slipped"  # stored as typed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("set due date of recommendation 8 to 30 June 2026", "Tell me why, e.g. `set due date of recommendation 8"),
        ("set due date of recommendation 8 to the moon because x", 'I couldn\'t read "the moon" as a date.'),
        ("set due date of recommendation 8 to 1/1/2020 because x", "1 January 2020 has already passed"),
        ("set due date of recommendation 8", "Which date?"),
    ],
)
async def test_due_date_refusals(world: World, text: str, expected: str) -> None:
    reply = await world.commands.set_due_date(parse_intent(text), world.admin)  # type: ignore[arg-type]
    assert _said(reply).startswith(expected)
    assert (await _item(world)).revised_due_on is None


# --- titles ------------------------------------------------------------------------------------


async def test_an_admin_sets_a_title_kept_in_history_and_used_to_name_the_item(world: World) -> None:
    intent = parse_intent("set title of recommendation 8 to Hydra training")
    reply = await world.commands.set_title(intent, world.admin, activity_key="title-1")  # type: ignore[arg-type]
    assert _said(reply) == 'Recommendation 8 (OIC-2025 R8) is now titled "Hydra training".'
    renamed = await world.commands.set_title(parse_intent("rename R8 to Hydra courses (regional)"), world.admin)  # type: ignore[arg-type]
    assert _said(renamed) == (
        'Recommendation 8 (OIC-2025 R8) is now titled "Hydra courses (regional)" (it was "Hydra training").'
    )
    assert (await _item(world)).title == "Hydra courses (regional)"
    async with world.sessionmaker() as session:
        events = (await session.scalars(select(ItemEvent).where(ItemEvent.kind == EventKind.TITLE_CHANGED.value))).all()
    assert [(event.actor_name, event.detail) for event in events] == [
        ("Pat Admin", 'To "Hydra training"'),
        ("Pat Admin", 'From "Hydra training" to "Hydra courses (regional)"'),
    ]
    # A redelivered message changes nothing; the same title again is said to be there already.
    again = await world.commands.set_title(intent, world.admin, activity_key="title-1")  # type: ignore[arg-type]
    assert _said(again) == 'Recommendation 8 (OIC-2025 R8) is now titled "Hydra training".'
    assert (await _item(world)).title == "Hydra courses (regional)"
    same = await world.commands.set_title(parse_intent("title R8: Hydra courses (regional)"), world.admin)  # type: ignore[arg-type]
    assert _said(same) == "Recommendation 8 (OIC-2025 R8 · Hydra courses (regional)) already has that title."
    # Replies name the item with its title from now on.
    await _assign_lead(world)
    assigned = await world.commands.assign(parse_intent("assign R8 to jane.doe@force.police.uk"), world.admin)  # type: ignore[arg-type]
    assert _said(assigned) == "Recommendation 8 (OIC-2025 R8 · Hydra courses (regional)) is already owned by Jane Doe."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("set title of R8", "Which title? e.g. `set title of recommendation 8 to Hydra training`"),
        ("set title of R8 to *Hydra*", "A title starts with a letter or digit and holds only letters"),
        ("set title of R8 to Hydra {0} training", "A title starts with a letter or digit"),
        (f"set title of R8 to {'x' * 81}", "A title is at most 80 characters; that one has 81."),
        ("set title of R42 to Hydra training", "I can't find recommendation 42."),
    ],
)
async def test_title_refusals(world: World, text: str, expected: str) -> None:
    reply = await world.commands.set_title(parse_intent(text), world.admin)  # type: ignore[arg-type]
    assert _said(reply).startswith(expected)
    assert (await _item(world)).title is None


async def test_titles_tell_the_items_of_a_report_apart(world: World) -> None:
    await world.commands.set_title(parse_intent("set title of OIC-2025 R9 to Hydra training"), world.admin)  # type: ignore[arg-type]
    clash = await world.commands.set_title(parse_intent("set title of R8 to hydra TRAINING"), world.admin)  # type: ignore[arg-type]
    assert _said(clash) == "OIC-2025 R9 is already called that: titles tell the items of a report apart."
    # Another report may use it.
    other = await world.commands.set_title(parse_intent("set title of VAWG-2024 R9 to Hydra training"), world.admin)  # type: ignore[arg-type]
    assert _said(other).endswith('is now titled "Hydra training".')


async def test_only_admins_set_titles(world: World) -> None:
    intent = parse_intent("set title of recommendation 8 to Hydra training")
    refused = await world.commands.set_title(intent, world.lead)  # type: ignore[arg-type]
    assert _said(refused) == "Only an admin can change titles — admins are Pat Admin."
    assert (
        _said(await world.commands.set_title(intent, None)) == "I couldn't tell who you are, so I can't change titles."
    )  # type: ignore[arg-type]
    assert (await _item(world)).title is None


async def test_only_admins_set_due_dates(world: World) -> None:
    intent = parse_intent("set due date of recommendation 8 to 30 June 2026 because x")
    assert _said(await world.commands.set_due_date(intent, world.lead)).startswith("Only an admin can change due dates")  # type: ignore[arg-type]


# --- closure -----------------------------------------------------------------------------------


async def _propose(world: World) -> None:
    await _assign_lead(world)
    draft = UpdateDraft(world.item_id, Status.AWAITING_SIGN_OFF.value, "on track", "All done.")
    await world.service.record(draft, Actor(world.lead.person_id, "Jane Doe"), "propose")


async def test_an_admin_approves_a_closure_and_the_lead_is_told_once(world: World) -> None:
    await _propose(world)
    intent = parse_intent("approve closure of recommendation 8")
    decision = await world.commands.approve_closure(intent, world.admin, activity_key="ok-1")  # type: ignore[arg-type]
    assert _said(decision.reply) == "Recommendation 8 (OIC-2025 R8) is now closed. I've told Jane Doe."
    assert [notice.person_id for notice in decision.notices] == [world.lead.person_id]
    assert _said(decision.notices[0].message) == (
        "Pat Admin approved the closure of recommendation 8 (OIC-2025 R8): it is now closed. Thank you!"
    )
    assert (await _item(world)).status == Status.CLOSED.value
    redelivered = await world.commands.approve_closure(intent, world.admin, activity_key="ok-1")  # type: ignore[arg-type]
    assert redelivered.notices == ()
    again = await world.commands.approve_closure(intent, world.admin, activity_key="ok-2")  # type: ignore[arg-type]
    assert _said(again.reply) == "Recommendation 8 (OIC-2025 R8) is already closed."


async def test_an_admin_rejects_a_closure_with_a_reason(world: World) -> None:
    await _propose(world)
    no_reason = await world.commands.reject_closure(parse_intent("reject closure of recommendation 8"), world.admin)  # type: ignore[arg-type]
    assert _said(no_reason.reply).startswith("Tell me why, so the lead knows what to do next")
    intent = parse_intent("reject closure of recommendation 8 because the evidence is missing")
    decision = await world.commands.reject_closure(intent, world.admin, activity_key="no-1")  # type: ignore[arg-type]
    assert _said(decision.reply) == (
        "Recommendation 8 (OIC-2025 R8) is back in progress. I've told Jane Doe. Reason: the evidence is missing"
    )
    notice = render(decision.notices[0].message)
    assert _said(notice).endswith("it is back in progress. Reason: the evidence is missing")
    assert notice.card is not None and notice.card["actions"][0]["data"]["command"] == "update OIC-2025 R8"
    assert (await _item(world)).status == Status.IN_PROGRESS.value


async def test_closure_decisions_need_an_admin_and_an_item_awaiting_sign_off(world: World) -> None:
    intent = parse_intent("approve closure of recommendation 8")
    refused = await world.commands.approve_closure(intent, world.lead)  # type: ignore[arg-type]
    assert _said(refused.reply) == "Only an admin can approve closures — admins are Pat Admin."
    early = await world.commands.approve_closure(intent, world.admin)  # type: ignore[arg-type]
    assert _said(early.reply).startswith("Recommendation 8 (OIC-2025 R8) is not started, not awaiting sign-off")
    assert early.notices == ()
    choice = await world.commands.reject_closure(parse_intent("reject closure of R9 because x"), world.admin)  # type: ignore[arg-type]
    shown = render(choice.reply)
    assert shown.card is not None and "reject closure of OIC-2025 R9 because x" in shown.text


# --- history -----------------------------------------------------------------------------------


async def test_history_card_shows_the_timeline(world: World) -> None:
    await _propose(world)
    await world.commands.reject_closure(
        parse_intent("reject closure of R8 because the **proof** is missing"), world.admin
    )  # type: ignore[arg-type]
    reply = render(await world.commands.history(parse_intent("history of OIC-2025 R8").ref))  # type: ignore[union-attr]
    text = _said(reply)
    assert text.splitlines()[0] == "History · OIC-2025 R8 · Recommendation 8"
    assert "16 May 2025 · PCC response: Initial response · Not started" in text
    assert "Pat Admin: Owner set to Jane Doe" in text
    assert "Jane Doe: Update · Status: Not started → Awaiting sign-off · on track" in text
    assert "Closure rejected · back to In progress" in text and "the **proof** is missing" in text
    assert reply.card is not None
    shown = [block["text"] for element in reply.card["body"] for block in element.get("items", [])]
    assert "Reason: the \\*\\*proof\\*\\* is missing" in shown


# --- the update service ------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["R8", "8", "OIC-2025 R8", "recommendation 8", "update rec 8"])
async def test_the_service_resolves_typed_references(world: World, typed: str) -> None:
    briefs = await world.service.resolve(typed, None)
    assert [brief.reference for brief in briefs] == ["OIC-2025 R8"]
    assert briefs[0].label == "Recommendation 8" and briefs[0].status == "Not started"


async def test_the_service_offers_every_report_for_an_ambiguous_number(world: World) -> None:
    assert {brief.reference for brief in await world.service.resolve("R9", None)} == {"OIC-2025 R9", "VAWG-2024 R9"}
    assert await world.service.resolve("hydra training", None) == []
    assert await world.service.resolve("R99", None) == []
    brief = await world.service.brief(world.item_id)
    assert brief is not None and brief.owner_name is None
    assert await world.service.brief(999_999) is None
    assert world.service.today() == TODAY


async def test_the_service_refusals_name_the_owner(world: World) -> None:
    sam = Actor(world.stranger.person_id, "Sam Smith")
    assert await world.service.refusal(world.item_id, sam) == (
        "Only the owner, a delegate or an admin can update recommendation 8 — it has no owner yet; "
        "ask an admin to assign one."
    )
    await _assign_lead(world)
    assert await world.service.refusal(world.item_id, sam) == (
        "Only the owner, a delegate or an admin can update recommendation 8 — the owner is Jane Doe."
    )
    assert await world.service.refusal(world.item_id, Actor(world.lead.person_id, "Jane Doe")) is None
    assert await world.service.refusal(world.item_id, Actor(world.admin.person_id, "Pat", is_admin=True)) is None


async def test_the_service_records_once_per_activity(world: World) -> None:
    await _assign_lead(world)
    jane = Actor(world.lead.person_id, "Jane Doe")
    draft = UpdateDraft(
        world.item_id, "Blocked", "at risk", "Waiting on *IT*", "https://intranet/x", date(2026, 6, 30), "IT"
    )
    first = await world.service.record(draft, jane, "u1")
    again = await world.service.record(draft, jane, "u1")
    assert (first.duplicate, again.duplicate, again.update_id) == (False, True, first.update_id)
    item = await _item(world)
    assert (item.status, item.assessment, item.revised_due_on) == ("Blocked", "at risk", None)
    correction = UpdateDraft(
        world.item_id, "In progress", "on track", "Not blocked", corrects_update_id=first.update_id
    )
    corrected = await world.service.record(correction, jane, "u2")
    async with world.sessionmaker() as session:
        row = await session.get(Update, corrected.update_id)
    assert row is not None and row.supersedes_id == first.update_id


async def test_the_same_activity_recorded_on_another_item_meanwhile_is_that_record(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = Actor(world.admin.person_id, "Pat", is_admin=True)
    async with world.sessionmaker() as session:
        other_item_id = await session.scalar(
            select(Item.id).join(Report).where(Item.number == 9, Report.code == "OIC-2025")
        )
    assert other_item_id is not None
    theirs = await world.service.record(UpdateDraft(other_item_id, "Blocked", "at risk", "theirs"), admin, "same")
    before = await _count(world, Update)
    # Pretend the redelivery check ran before the other instance committed: the unique activity key
    # fails the transaction, and the service's second attempt finds that record.
    checks: list[str | None] = []
    original = progress.update_for_activity

    async def racing(session: AsyncSession, activity_key: str | None) -> Update | None:
        checks.append(activity_key)
        return None if len(checks) == 1 else await original(session, activity_key)

    monkeypatch.setattr(progress, "update_for_activity", racing)
    again = await world.service.record(UpdateDraft(world.item_id, "In progress", "on track", "mine"), admin, "same")
    assert (again.update_id, again.duplicate, checks) == (theirs.update_id, True, ["same", "same"])
    assert await _count(world, Update) == before
    assert (await _item(world)).status == "Not started"  # the failed attempt changed nothing


async def test_the_service_writes_nothing_when_refused_or_failing(world: World) -> None:
    await _assign_lead(world)
    before = await _count(world, Update)
    with pytest.raises(UpdateRefused, match="the owner is Jane Doe"):
        await world.service.record(
            UpdateDraft(world.item_id, "In progress", "on track", "hi"), Actor(world.stranger.person_id, "Sam"), "x1"
        )
    # Domain errors become refusals the dialog can explain: retrying would not help.
    with pytest.raises(UpdateRefused, match="'Closed' is not a status a lead can choose"):
        await world.service.record(
            UpdateDraft(world.item_id, "Closed", "on track", "hi"), Actor(world.lead.person_id, "Jane"), "x2"
        )
    assert await _count(world, Update) == before
    assert (await _item(world)).status == "Not started"


async def test_a_closed_item_takes_no_updates(world: World) -> None:
    async with world.sessionmaker.begin() as session:
        item = await session.get(Item, world.item_id)
        assert item is not None
        item.status = Status.CLOSED.value
    refusal = await world.service.refusal(world.item_id, Actor(world.admin.person_id, "Pat", is_admin=True))
    assert refusal == "Recommendation 8 (OIC-2025 R8) is closed, so it takes no more updates."
    assert await _count(world, Report) == 2


# --- the history card (pure) -------------------------------------------------------------------


def _card_item() -> Item:
    report = Report(id=1, code="OIC-2025", title="Improving the response to organised immigration crime")
    item = Item(id=1, report_id=1, kind="recommendation", number=8, text="…", status="In progress")
    item.report = report
    return item


def test_the_history_card_shows_the_newest_entries_and_counts_the_rest() -> None:
    from datetime import datetime, timedelta, timezone

    from bot.cards.items import history_card
    from storage.progress import TimelineEntry

    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    entries = [TimelineEntry(start + timedelta(days=n), "Jane", f"Update {n}", "x") for n in range(35)]
    reply = history_card(_card_item(), entries, today=TODAY)
    assert "(and 5 earlier entries not shown)" in _said(reply)
    assert "Update 4\n" not in reply.text and "6 January 2026 · Jane: Update 5" in reply.text
    assert reply.text.rstrip().endswith("x")

    # Long narratives: fewer entries rather than a message Teams would refuse.
    long = [TimelineEntry(start, "Jane", "Update", "word " * 400, evidence_url="https://x/" + "y" * 300)] * 30
    big = history_card(_card_item(), long, today=TODAY)
    assert len(json.dumps(big.card).encode()) <= 24_000
    assert "earlier entries not shown" in big.text

    empty = history_card(_card_item(), [], today=TODAY)
    assert "Nothing has happened yet." in _said(empty)
