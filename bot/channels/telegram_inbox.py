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
    """PTB's update queue: an update is written to the inbox before it is queued; a known one is dropped."""

    def __init__(self, app) -> None:
        super().__init__()
        self.app = app

    async def put(self, item) -> None:
        """Record an Update, then queue it (PTB's own signals pass straight through)."""
        if isinstance(item, Update):
            raw = json.dumps(item.to_dict(), ensure_ascii=False)
            receipt = await inbox.receive(self.app, None, event_key(item), platform=PLATFORM, raw=raw)
            if not receipt.new:
                log.info("telegram update %s already taken in (%s); not handled again", item.update_id,
                         receipt.status)
                return
        await super().put(item)


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
