"""Telegram bookkeeping: quiz polls, edited-in-place messages, long button data, group migrations."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from storage.db import Database
from storage.times import iso


@dataclass
class PollRecord:
    """What a quiz poll we sent answers to."""

    poll_id: str
    chat_id: int
    message_id: int
    answer_prefix: str
    options: int


class TelegramRepo:
    """The rows of migration 0004."""

    def __init__(self, db: Database, clock) -> None:
        self.db, self.clock = db, clock

    async def remember_poll(self, poll: PollRecord) -> None:
        """Keep a sent quiz poll so its answers can be routed."""
        await self.db.execute(
            "INSERT INTO telegram_polls (poll_id, chat_id, message_id, answer_prefix, options, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (poll_id) DO UPDATE SET chat_id = excluded.chat_id,"
            " message_id = excluded.message_id, answer_prefix = excluded.answer_prefix, options = excluded.options,"
            " created_at = excluded.created_at",
            (poll.poll_id, poll.chat_id, poll.message_id, poll.answer_prefix, poll.options, iso(self.clock.now())),
        )

    async def poll(self, poll_id: str) -> PollRecord | None:
        """A sent poll by id, or None."""
        row = await self.db.fetchone("SELECT * FROM telegram_polls WHERE poll_id = ?", (poll_id,))
        if row is None:
            return None
        return PollRecord(row["poll_id"], row["chat_id"], row["message_id"], row["answer_prefix"], row["options"])

    async def message_for_ref(self, chat_id: int, ref: str) -> int | None:
        """The message id that carries ref in a chat, or None."""
        return await self.db.fetchval(
            "SELECT message_id FROM telegram_message_refs WHERE chat_id = ? AND ref = ?", (chat_id, ref)
        )

    async def carries_ref(self, chat_id: int, message_id: int) -> bool:
        """Whether a message is one kept up to date in place (a report card), not a one-off prompt."""
        return bool(await self.db.fetchval(
            "SELECT 1 FROM telegram_message_refs WHERE chat_id = ? AND message_id = ? LIMIT 1", (chat_id, message_id)
        ))

    async def set_message_ref(self, chat_id: int, ref: str, message_id: int) -> None:
        """Remember which message carries ref in a chat."""
        await self.db.execute(
            "INSERT INTO telegram_message_refs (chat_id, ref, message_id, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (chat_id, ref) DO UPDATE SET message_id = excluded.message_id,"
            " updated_at = excluded.updated_at",
            (chat_id, ref, message_id, iso(self.clock.now())),
        )

    async def shorten_callback(self, data: str) -> str:
        """Store long button data; return the short key a button can carry."""
        key = hashlib.sha256(data.encode("utf-8")).hexdigest()[:24]
        await self.db.execute(
            "INSERT INTO telegram_callback_data (key, data, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (key, data, iso(self.clock.now())),
        )
        return key

    async def expand_callback(self, key: str) -> str | None:
        """The data stored under key, or None."""
        return await self.db.fetchval("SELECT data FROM telegram_callback_data WHERE key = ?", (key,))

    async def migrate_chat(self, old_chat_id: int, new_chat_id: int) -> int:
        """Move everything addressed to a group to its new supergroup id; return outbox rows moved."""
        now = iso(self.clock.now())
        old, new = str(old_chat_id), str(new_chat_id)
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO telegram_chat_migrations (old_chat_id, new_chat_id, migrated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (old_chat_id) DO UPDATE SET new_chat_id = excluded.new_chat_id,"
                " migrated_at = excluded.migrated_at", (old_chat_id, new_chat_id, now))
            await conn.execute("UPDATE telegram_message_refs SET chat_id = ? WHERE chat_id = ?",
                               (new_chat_id, old_chat_id))
            await conn.execute("UPDATE accounts SET chat_key = ? WHERE platform = 'telegram' AND chat_key = ?",
                               (new, old))
            cursor = await conn.execute(
                "UPDATE outbox SET address = ? WHERE channel = 'telegram' AND address = ? AND state = 'pending'",
                (new, old))
            return cursor.rowcount

    async def current_chat_id(self, chat_id: int) -> int:
        """Follow recorded migrations from a chat id to the id in use now."""
        seen = {chat_id}
        while True:
            newer = await self.db.fetchval(
                "SELECT new_chat_id FROM telegram_chat_migrations WHERE old_chat_id = ?", (chat_id,))
            if newer is None or newer in seen:
                return chat_id
            seen.add(newer)
            chat_id = newer
