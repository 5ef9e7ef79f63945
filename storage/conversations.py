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

    async def drop_stale(self, name: str, before: str) -> int:
        """End every conversation of this name left untouched since `before` (an ISO time)."""
        return await self.db.execute("DELETE FROM conversations WHERE name = ? AND updated_at < ?", (name, before))

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

    Stored as {"offers": [[[label, data], ...], ...], "closed": bool, "refs": [platform message id or null, ...]};
    an older plain list of pairs reads as one open offer, an older value without refs as offers of unknown messages.
    """

    KEEP = 4             # messages whose options still answer by their words (or by a reply quoting them)

    def __init__(self, db: Database, clock) -> None:
        self.db, self.clock = db, clock

    async def offers(self, account_id: int) -> OfferedChoices:
        """The recent offers (newest first), their delivered messages' ids and whether the newest has closed."""
        value = await self.db.fetchval("SELECT choices FROM offered_choices WHERE account_id = ?", (account_id,))
        if not value:
            return OfferedChoices([], False)
        raw = json.loads(value)
        if isinstance(raw, list):
            return OfferedChoices([[tuple(c) for c in raw]] if raw else [], False, [None] if raw else [])
        offers = [[tuple(c) for c in offer] for offer in raw.get("offers", [])]
        refs = list(raw.get("refs") or [])
        return OfferedChoices(offers, bool(raw.get("closed")), (refs + [None] * len(offers))[:len(offers)])

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
                await self._store(account_id, current.offers, current.refs, closed=True)
            return
        pairs = list(zip(current.offers, current.refs, strict=True))
        for choices in shown:
            offer = [tuple(c) for c in choices]
            ref = next((r for o, r in pairs if o == offer), None)   # the same options keep their message's id
            pairs = [(offer, ref), *((o, r) for o, r in pairs if o != offer)]
        offers = [o for o, _ in pairs]
        if offers[:len(shown)] == current.offers[:len(shown)] and not current.closed:
            return            # the same options again: no write
        await self._store(account_id, offers[:self.KEEP], [r for _, r in pairs][:self.KEEP], closed=False)

    async def delivered(self, account_id: int, choices: list[tuple[str, str]], ref: str) -> None:
        """The message offering these options went out as platform message `ref`: a reply quoting it answers them.

        Options not remembered yet (a push is tagged as it is sent, before the outbox records it) become the
        newest; an edited message keeps its id, so no other offer keeps that id.
        """
        current = await self.offers(account_id)
        offer = [tuple(c) for c in choices]
        if offer in current.offers:
            offers = current.offers
            refs = [ref if o == offer else (None if r == ref else r) for o, r in zip(offers, current.refs, strict=True)]
            closed = current.closed
        else:
            offers = [offer, *current.offers][:self.KEEP]
            refs = [ref, *(None if r == ref else r for r in current.refs)][:self.KEEP]
            closed = False
        if refs == current.refs and offers == current.offers:
            return
        await self._store(account_id, offers, refs, closed=closed)

    async def _store(self, account_id: int, offers: list, refs: list, closed: bool) -> None:
        value = json.dumps({"offers": offers, "closed": closed, "refs": refs}, ensure_ascii=False)
        await self.db.execute(
            "INSERT INTO offered_choices (account_id, choices, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (account_id) DO UPDATE SET choices = excluded.choices, updated_at = excluded.updated_at",
            (account_id, value, iso(self.clock.now())),
        )
