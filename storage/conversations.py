"""Conversation state and offered choices, kept in the database so they survive restarts."""

from __future__ import annotations

import json

from bot.clock import iso
from storage.db import Database
from storage.records import ConversationState


class ConversationRepo:
    """The one conversation an account is in, if any."""

    def __init__(self, db: Database, clock) -> None:
        self.db, self.clock = db, clock

    async def get(self, account_id: int) -> ConversationState | None:
        """The account's conversation, or None."""
        row = await self.db.fetchone("SELECT name, step, data FROM conversations WHERE account_id = ?", (account_id,))
        if row is None:
            return None
        return ConversationState(row["name"], row["step"], json.loads(row["data"]))

    async def set(self, account_id: int, state: ConversationState) -> None:
        """Store the account's conversation state."""
        await self.db.execute(
            "INSERT INTO conversations (account_id, name, step, data, updated_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (account_id) DO UPDATE SET name = excluded.name, step = excluded.step,"
            " data = excluded.data, updated_at = excluded.updated_at",
            (account_id, state.name, state.step, json.dumps(state.data, ensure_ascii=False), iso(self.clock.now())),
        )

    async def clear(self, account_id: int) -> None:
        """Leave any conversation."""
        await self.db.execute("DELETE FROM conversations WHERE account_id = ?", (account_id,))

    async def idle_since(self, name: str, before: str) -> list[tuple[int, ConversationState]]:
        """Accounts in conversation `name` not updated since `before` (for nudges)."""
        rows = await self.db.fetchall(
            "SELECT account_id, name, step, data FROM conversations WHERE name = ? AND updated_at < ?", (name, before)
        )
        return [(r[0], ConversationState(r[1], r[2], json.loads(r[3]))) for r in rows]


class ChoiceRepo:
    """The options last shown to an account: [(label, data)]."""

    def __init__(self, db: Database, clock) -> None:
        self.db, self.clock = db, clock

    async def get(self, account_id: int) -> list[tuple[str, str]]:
        """The last offered choices, or an empty list."""
        value = await self.db.fetchval("SELECT choices FROM offered_choices WHERE account_id = ?", (account_id,))
        return [tuple(c) for c in json.loads(value)] if value else []

    async def set(self, account_id: int, choices: list[tuple[str, str]]) -> None:
        """Remember the choices just offered (an empty list forgets them)."""
        if not choices:
            await self.clear(account_id)
            return
        await self.db.execute(
            "INSERT INTO offered_choices (account_id, choices, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (account_id) DO UPDATE SET choices = excluded.choices, updated_at = excluded.updated_at",
            (account_id, json.dumps(choices, ensure_ascii=False), iso(self.clock.now())),
        )

    async def clear(self, account_id: int) -> None:
        """Forget the offered choices."""
        await self.db.execute("DELETE FROM offered_choices WHERE account_id = ?", (account_id,))
