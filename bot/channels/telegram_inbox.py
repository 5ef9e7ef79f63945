"""Telegram updates into the durable inbox before PTB dispatches them, and back out after a crash.

With long polling, PTB confirms an update to Telegram (the next getUpdates offset) while it may
still be being handled; with a webhook, Telegram gets its 200 once the update is queued. Either way
a crash after that point lost the update. Here the update queue itself writes each update to the
inbox (as its Bot API JSON) before PTB sees it: the updater puts the updates of one poll in order
and only asks for the next batch (confirming these) after every put returned, so each confirmed
update is on disk. At start, `recover` converts the updates left unhandled and answers them
through the outbox.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.error import RetryAfter

from bot import inbox
from storage.db import DatabaseError

log = logging.getLogger(__name__)

PLATFORM = "telegram"
STORAGE_RETRY_S = 2          # how long polling waits before trying to write held updates again


def event_key(update: Update) -> str:
    """The inbox key of an update."""
    return f"{PLATFORM}:{update.update_id}"


def session_of(update: Update) -> str | None:
    """The person an update comes from, as Incoming.session_id() names them (None: a chat event)."""
    user = update.effective_user
    return f"{PLATFORM}:{user.id}" if user is not None and not user.is_bot else None


class StorageFailing(Exception):
    """Updates could not be written down; they are not confirmed to Telegram (it sends them again)."""


class InboxQueue(asyncio.Queue):
    """PTB's update queue: an update is written to the inbox before it is queued; a known one is dropped.

    With long polling (batched), the updates of one poll are held and written in one transaction
    by `flush`, which runs just before the next getUpdates request: that request is what confirms
    them to Telegram, so they are on disk first, at one write per poll instead of one per update.
    When the write fails (the database locked past its busy timeout, the disk full) the updates stay
    held and that getUpdates is not made: memory holds one poll at most, Telegram keeps the rest,
    and polling resumes once a write works. The office is told once per failure, past the database.
    """

    def __init__(self, app, batched: bool = False) -> None:
        super().__init__()
        self.app = app
        self.batched = batched
        self._held: list[Update] = []
        self.notify: Callable[[str, dict], Awaitable[None]] | None = None   # tells the office directly
        self.failing_since: float | None = None

    async def put(self, item) -> None:
        """Record an Update, then queue it (PTB's own signals pass straight through)."""
        if not isinstance(item, Update):
            await super().put(item)
        elif self.batched:
            self._held.append(item)
        else:
            await self._stored([item])

    async def flush(self) -> None:
        """Write the held updates down in one transaction and queue the new ones, in order.

        Raises RetryAfter while the database fails, so PTB waits and asks again without confirming.
        """
        if not self._held:
            return
        held = list(self._held)
        try:
            await self._stored(held)
        except StorageFailing as exc:
            raise RetryAfter(STORAGE_RETRY_S) from exc
        del self._held[:len(held)]

    async def _stored(self, updates: list[Update]) -> None:
        """Take updates in; on a failed write log and tell the office once, and raise StorageFailing."""
        try:
            await self._take_in(updates)
        except (*DatabaseError, OSError) as exc:
            if self.failing_since is None:
                self.failing_since = time.monotonic()
                log.error("inbox: cannot store incoming Telegram updates (%s: %s); they are not confirmed to"
                          " Telegram and polling waits until writes work", type(exc).__name__, exc)
                await self._tell("inbox.storage_failing", error=f"{type(exc).__name__}: {exc}"[:120])
            raise StorageFailing(str(exc)) from exc
        if self.failing_since is not None:
            log.warning("inbox: storing updates works again after %.0f s; polling resumed",
                        time.monotonic() - self.failing_since)
            self.failing_since = None
            await self._tell("inbox.storage_back")

    async def _tell(self, key: str, **values) -> None:
        if self.notify is not None:
            try:
                await self.notify(key, values)
            except Exception as exc:    # the office notice is a courtesy: never in the way of taking updates in
                log.warning("could not tell the office about the storage: %s", exc)

    async def _take_in(self, updates: list[Update]) -> None:
        events = [(event_key(u), json.dumps(u.to_dict(), ensure_ascii=False), session_of(u)) for u in updates]
        fresh = await inbox.receive_many(self.app, PLATFORM, events)
        for update in updates:
            if event_key(update) in fresh:
                await super().put(update)
            else:
                log.info("telegram update %s already taken in; not handled again", update.update_id)


async def recover(channel, stale_only: bool = False) -> inbox.Recovery:
    """At start, before updates flow: answer the updates a previous process took in but never finished.

    stale_only (while running): the updates whose handling died minutes ago (the database failed under it).
    """

    async def prepare(row, msg) -> inbox.Prepared | None:
        update = Update.de_json(json.loads(row.raw), channel.bot)
        if channel._person_key(update) is None:        # a chat event (group migration): no answer to give
            await channel._on_chat_event(update)
            return None
        converted = await channel.to_incoming(update)
        if converted is None:
            return None
        incoming, target = converted
        return inbox.Prepared(incoming, reply_to=target.address)

    return await inbox.recover(channel.app, PLATFORM, prepare=prepare, stale_only=stale_only)
