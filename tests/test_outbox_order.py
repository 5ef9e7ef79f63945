"""One chat's pushes arrive in the order they were queued, even when its rate limit holds some back."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import iso
from storage.outbox import OutboxRow, Outcome


def card(i: int) -> OutboxRow:
    return OutboxRow(channel="telegram", address="-100group", campaign="card", payload={"text": f"卡片 {i}"},
                     dedupe_key=f"c{i}")


async def test_a_row_held_back_by_its_chats_limit_is_not_overtaken_by_the_chats_later_rows(app, clock):
    outbox = app.store.outbox
    await outbox.enqueue([card(0), card(1)])
    claimed = await outbox.claim("telegram", 10)
    await outbox.enqueue([card(2), card(3)])                 # queued while the batch was going out
    first, held = claimed
    later = iso(clock.now() + timedelta(seconds=6))
    await outbox.settle([Outcome(first.id, "sent"),
                         Outcome(held.id, "pending", not_before=later, refund_attempt=True)])
    assert await outbox.claim("telegram", 10) == []          # card 2 waits with card 1, not before it
    clock.advance(seconds=6)
    assert [r.payload["text"] for r in await outbox.claim("telegram", 10)] == ["卡片 1", "卡片 2", "卡片 3"]


async def test_a_held_back_row_leaves_other_chats_alone(app, clock):
    outbox = app.store.outbox
    other = OutboxRow(channel="telegram", address="42", campaign="card", payload={"text": "私聊"}, dedupe_key="p")
    await outbox.enqueue([card(0)])
    (held,) = await outbox.claim("telegram", 10)
    await outbox.enqueue([other])
    await outbox.settle([Outcome(held.id, "pending", not_before=iso(clock.now() + timedelta(seconds=6)),
                                 refund_attempt=True)])
    assert [r.address for r in await outbox.claim("telegram", 10)] == ["42"]
