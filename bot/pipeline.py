"""The one inbound path: receive → durable inbox → per-person ordering → dispatch → the adapter's delivery.

An adapter converts a platform event to an Incoming with a stable event key and hands it here with a
`deliver` coroutine that renders the replies its platform's way (a terminal prints them, a webhook
answers passively, the rest go through the outbox). Events of one person are handled one at a time, in
the order they arrived; different people run side by side.

With several servers on one PostgreSQL database, two events of one person may reach two processes:
a person's turn is then also a lock shared by the processes (storage/coordination.py), and an event
that finds an earlier event of the same person still waiting in the inbox (received at most
ORDER_WAIT ago) lets it go first, so each sees the conversation state the one before it left.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

from bot import inbox
from bot.clock import iso
from bot.events import Incoming, Outgoing

ORDER_WAIT = timedelta(seconds=3)   # how long an event lets an earlier one of the same person go first
ORDER_POLL_S = 0.02

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
        async with self.ordered(msg.session_id(), event_key):
            replies = await inbox.handle(self.app, event_key, msg, reply_to=reply_to)
            await deliver(replies)
            await inbox.mark_replied(self.app, event_key)
        return True

    @asynccontextmanager
    async def ordered(self, session: str, event_key: str | None = None) -> AsyncIterator[None]:
        """Hold one person's turn: their events are handled one at a time, in the order they arrived.

        event_key (the inbox row being handled) lets an earlier waiting event of the person go first.
        """
        lock = self._locks.setdefault(session, asyncio.Lock())
        self._waiting[session] = self._waiting.get(session, 0) + 1
        try:
            await self._take_turn(lock, session, event_key)
            try:
                yield
            finally:
                try:
                    await self.app.coordinator.unlock_session(session)
                finally:
                    lock.release()
        finally:
            self._waiting[session] -= 1
            if not self._waiting[session]:      # nobody else holds or awaits it: keep the table small
                del self._waiting[session], self._locks[session]

    async def _take_turn(self, lock: asyncio.Lock, session: str, event_key: str | None) -> None:
        """Acquire the in-process lock and the processes' lock, letting an earlier waiting event go first."""
        coordinator = self.app.coordinator
        deadline = time.monotonic() + ORDER_WAIT.total_seconds()
        while True:
            await lock.acquire()
            try:
                await coordinator.lock_session(session)
            except BaseException:
                lock.release()
                raise
            if not coordinator.peers or event_key is None or time.monotonic() >= deadline:
                return
            try:
                earlier = await self.app.store.inbox.earlier_waiting(
                    session, event_key, iso(self.app.clock.now() - ORDER_WAIT))
            except BaseException:
                await self._give_back(lock, session)
                raise
            if not earlier:
                return
            await self._give_back(lock, session)    # both: the earlier event may be ours or another process's
            await asyncio.sleep(ORDER_POLL_S)

    async def _give_back(self, lock: asyncio.Lock, session: str) -> None:
        try:
            await self.app.coordinator.unlock_session(session)
        finally:
            lock.release()
