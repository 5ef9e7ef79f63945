"""The one inbound path: receive → durable inbox → per-person ordering → dispatch → the adapter's delivery.

An adapter converts a platform event to an Incoming with a stable event key and hands it here with a
`deliver` coroutine that renders the replies its platform's way (a terminal prints them, a webhook
answers passively, the rest go through the outbox). Events of one person are handled one at a time, in
the order they arrived; different people run side by side.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from bot import inbox
from bot.events import Incoming, Outgoing

Deliver = Callable[[list[Outgoing]], Awaitable[None]]


class Pipeline:
    """Takes events from every adapter through the inbox to the dispatcher, one person at a time."""

    def __init__(self, app) -> None:
        self.app = app
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiting: dict[str, int] = {}       # per person: events holding or awaiting the lock

    async def take(self, msg: Incoming, event_key: str, deliver: Deliver, reply_to: str | None = None) -> bool:
        """Write the event down, handle it in the person's order and deliver the replies; False for a repeat."""
        receipt = await inbox.receive(self.app, msg, event_key, reply_to=reply_to)
        if not receipt.new:
            return False
        async with self.ordered(msg.session_id()):
            replies = await inbox.handle(self.app, event_key, msg, reply_to=reply_to)
            await deliver(replies)
            await inbox.mark_replied(self.app, event_key)
        return True

    @asynccontextmanager
    async def ordered(self, session: str) -> AsyncIterator[None]:
        """Hold one person's turn: their events are handled one at a time, in the order they arrived."""
        lock = self._locks.setdefault(session, asyncio.Lock())
        self._waiting[session] = self._waiting.get(session, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._waiting[session] -= 1
            if not self._waiting[session]:      # nobody else holds or awaits it: keep the table small
                del self._waiting[session], self._locks[session]
