"""Conversation state and offered choices, kept in the database so they survive restarts."""

from __future__ import annotations

import json

from storage.db import Database
from storage.records import ConversationState, OfferedChoices
from storage.times import iso


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
    """The options recently shown to an account, newest first, and whether the last ones have closed.

    Stored as {"offers": [[[label, data], ...], ...], "closed": bool}; an older plain list of pairs reads as
    one open offer.
    """

    KEEP = 4             # messages whose options still answer by their words

    def __init__(self, db: Database, clock) -> None:
        self.db, self.clock = db, clock

    async def offers(self, account_id: int) -> OfferedChoices:
        """The recent offers (newest first) and whether the newest question has closed."""
        value = await self.db.fetchval("SELECT choices FROM offered_choices WHERE account_id = ?", (account_id,))
        if not value:
            return OfferedChoices([], False)
        raw = json.loads(value)
        if isinstance(raw, list):
            return OfferedChoices([[tuple(c) for c in raw]] if raw else [], False)
        return OfferedChoices([[tuple(c) for c in offer] for offer in raw.get("offers", [])],
                              bool(raw.get("closed")))

    async def get(self, account_id: int) -> list[tuple[str, str]]:
        """The options of the newest message that offered any (empty once they closed)."""
        current = await self.offers(account_id)
        return [] if current.closed or not current.offers else current.offers[0]

    async def set(self, account_id: int, choices: list[tuple[str, str]]) -> None:
        """Remember the options just offered as the newest (an empty list closes the open ones)."""
        await self.remember(account_id, [choices] if choices else [])

    async def remember(self, account_id: int, shown: list[list[tuple[str, str]]]) -> None:
        """Remember the options of messages just shown, in reading order (the last is the newest); none closes."""
        current = await self.offers(account_id)
        if not shown:
            if current.offers and not current.closed:
                await self._store(account_id, current.offers, closed=True)
            return
        offers = current.offers
        for choices in shown:
            offer = [tuple(c) for c in choices]
            offers = [offer, *(o for o in offers if o != offer)]
        if offers[:len(shown)] == current.offers[:len(shown)] and not current.closed:
            return            # the same options again: no write
        await self._store(account_id, offers[:self.KEEP], closed=False)

    async def _store(self, account_id: int, offers: list, closed: bool) -> None:
        value = json.dumps({"offers": offers, "closed": closed}, ensure_ascii=False)
        await self.db.execute(
            "INSERT INTO offered_choices (account_id, choices, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (account_id) DO UPDATE SET choices = excluded.choices, updated_at = excluded.updated_at",
            (account_id, value, iso(self.clock.now())),
        )
