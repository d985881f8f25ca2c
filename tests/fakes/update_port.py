"""In-memory stand-ins for the services dialogs call."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from domain.updates import Actor, ItemBrief, Recorded, Refused, UpdateDraft


@dataclass
class RecordCall:
    draft: UpdateDraft
    actor: Actor
    activity_key: str | None


@dataclass
class FakeUpdatePort:
    """An UpdatePort over a dict of items and a permission table; `record` keeps what it was given.

    `fail_record` makes the next N `record` calls raise before writing anything;
    `fail_after_commit` makes the next N calls write and then raise (a lost reply);
    `refuse_record` makes every call raise `Refused` with that sentence.
    Like the real service, `record` is idempotent per activity id.
    """

    items: dict[int, ItemBrief]
    # item id -> the person ids (owner and delegates) who may update it; admins may update anything.
    allowed: dict[int, set[int]] = field(default_factory=dict)
    today_is: date = date(2026, 3, 10)
    fail_record: int = 0
    fail_after_commit: int = 0
    # A sentence to refuse every `record` with (the item was closed meanwhile, say).
    refuse_record: str | None = None
    calls: list[RecordCall] = field(default_factory=list)
    recorded: list[RecordCall] = field(default_factory=list)
    resolved: list[tuple[str, str | None]] = field(default_factory=list)

    async def resolve(self, text: str, conversation_id: str | None) -> list[ItemBrief]:
        self.resolved.append((text, conversation_id))
        wanted = " ".join(text.lower().split())
        exact = [item for item in self.items.values() if item.reference.lower() == wanted]
        if exact:
            return exact
        # "R8" means every report's recommendation 8.
        return [item for item in self.items.values() if item.reference.lower().split()[-1] == wanted]

    async def brief(self, item_id: int) -> ItemBrief | None:
        return self.items.get(item_id)

    async def refusal(self, item_id: int, actor: Actor) -> str | None:
        if actor.is_admin or actor.person_id in self.allowed.get(item_id, set()):
            return None
        item = self.items[item_id]
        return (
            f"Only the owner, a delegate or an admin can update {item.label.lower()} — "
            f"the owner is {item.owner_name or 'not set'}."
        )

    async def record(self, draft: UpdateDraft, actor: Actor, activity_key: str | None) -> Recorded:
        self.calls.append(RecordCall(draft, actor, activity_key))
        if self.fail_record:
            self.fail_record -= 1
            raise ConnectionError("the tracker database is unreachable")
        if self.refuse_record is not None:
            raise Refused(self.refuse_record)
        for number, earlier in enumerate(self.recorded, start=1):
            if activity_key is not None and earlier.activity_key == activity_key:
                return Recorded(update_id=number, duplicate=True)
        self.recorded.append(RecordCall(draft, actor, activity_key))
        if self.fail_after_commit:
            self.fail_after_commit -= 1
            raise TimeoutError("the commit's reply was lost")
        return Recorded(update_id=len(self.recorded))

    def today(self) -> date:
        return self.today_is
