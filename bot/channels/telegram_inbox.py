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

from telegram import Update

from bot import inbox

log = logging.getLogger(__name__)

PLATFORM = "telegram"


def event_key(update: Update) -> str:
    """The inbox key of an update."""
    return f"{PLATFORM}:{update.update_id}"


class InboxQueue(asyncio.Queue):
    """PTB's update queue: an update is written to the inbox before it is queued; a known one is dropped.

    With long polling (batched), the updates of one poll are held and written in one transaction
    by `flush`, which runs just before the next getUpdates request: that request is what confirms
    them to Telegram, so they are on disk first, at one write per poll instead of one per update.
    """

    def __init__(self, app, batched: bool = False) -> None:
        super().__init__()
        self.app = app
        self.batched = batched
        self._held: list[Update] = []

    async def put(self, item) -> None:
        """Record an Update, then queue it (PTB's own signals pass straight through)."""
        if not isinstance(item, Update):
            await super().put(item)
        elif self.batched:
            self._held.append(item)
        else:
            await self._take_in([item])

    async def flush(self) -> None:
        """Write the held updates down in one transaction and queue the new ones, in order."""
        held, self._held = self._held, []
        if held:
            await self._take_in(held)

    async def _take_in(self, updates: list[Update]) -> None:
        events = [(event_key(u), json.dumps(u.to_dict(), ensure_ascii=False)) for u in updates]
        fresh = await inbox.receive_many(self.app, PLATFORM, events)
        for update in updates:
            if event_key(update) in fresh:
                await super().put(update)
            else:
                log.info("telegram update %s already taken in; not handled again", update.update_id)


async def recover(channel) -> inbox.Recovery:
    """At start, before updates flow: answer the updates a previous process took in but never finished."""

    async def prepare(row, msg) -> inbox.Prepared | None:
        update = Update.de_json(json.loads(row.raw), channel.bot)
        if channel._person_key(update) is None:        # a chat event (group migration): no answer to give
            await channel._on_chat_event(update)
            return None
        converted = await channel.to_incoming(update)
        if converted is None:
            return None
        incoming, target = converted
        return inbox.Prepared(incoming, reply_to=str(target.chat_id))

    return await inbox.recover(channel.app, PLATFORM, prepare=prepare)
