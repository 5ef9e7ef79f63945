"""The one inbound path: receive → durable inbox → per-person ordering → dispatch → the adapter's delivery.

An adapter converts a platform event to an Incoming with a stable event key and hands it here with a
`deliver` coroutine that renders the replies its platform's way (a terminal prints them, a webhook
answers passively, the rest go through the outbox). Events of one person are handled one at a time, in
the order they arrived; different people run side by side.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bot import inbox
from bot.events import Incoming, Outgoing

Deliver = Callable[[list[Outgoing]], Awaitable[None]]


class Pipeline:
    """Takes events from every adapter through the inbox to the dispatcher, one person at a time."""

    def __init__(self, app) -> None:
        self.app = app
        self._locks: dict[str, asyncio.Lock] = {}

    async def take(self, msg: Incoming, event_key: str, deliver: Deliver, reply_to: str | None = None) -> bool:
        """Write the event down, handle it in the person's order and deliver the replies; False for a repeat."""
        receipt = await inbox.receive(self.app, msg, event_key, reply_to=reply_to)
        if not receipt.new:
            return False
        session = msg.session_id()
        lock = self._locks.setdefault(session, asyncio.Lock())
        try:
            async with lock:
                replies = await inbox.handle(self.app, event_key, msg, reply_to=reply_to)
                await deliver(replies)
                await inbox.mark_replied(self.app, event_key)
        finally:
            if not lock.locked() and self._locks.get(session) is lock:
                del self._locks[session]        # nobody waiting: keep the table as small as the active chats
        return True
