"""The inbox table: incoming platform events written down before they are handled."""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Database, GroupCommit
from storage.times import iso

OPEN_STATES = ("received", "handled")
# Appended to an UPDATE of one row: it moves only if nobody owns it, this process does, or its owner stopped beating.
_NOT_A_LIVE_PEERS = (" AND (owner IS NULL OR owner = ? OR owner NOT IN (SELECT token FROM servers WHERE seen_at >= ?))")


@dataclass
class InboxRow:
    """One recorded event and how far its handling got."""

    id: int
    platform: str
    event_key: str
    incoming: str | None
    raw: str | None
    reply_to: str
    state: str
    replies: str | None
    attempts: int
    received_at: str
    handled_at: str | None


def _row(row) -> InboxRow:
    return InboxRow(row["id"], row["platform"], row["event_key"], row["incoming"], row["raw"], row["reply_to"],
                    row["state"], row["replies"], row["attempts"], row["received_at"], row["handled_at"])


class InboxRepo:
    """Records events once (by event key) and moves them received → handled → replied."""

    def __init__(self, db: Database, clock) -> None:
        self.db, self.clock = db, clock
        # This process's servers.token, written on the rows it takes in (set by the App at open).
        self.owner: str | None = None
        # Every live event moves twice; concurrent moves share a transaction (see GroupCommit).
        self._handled = GroupCommit(db, (
            "UPDATE inbox SET state = 'handled', replies = ?, handled_at = ?, incoming = COALESCE(?, incoming),"
            " reply_to = COALESCE(?, reply_to), error = NULL WHERE event_key = ? AND state = 'received'"))
        self._replied = GroupCommit(
            db, "UPDATE inbox SET state = 'replied' WHERE event_key = ? AND state IN ('received', 'handled')")

    async def record(self, platform: str, event_key: str, incoming: str | None, raw: str | None,
                     reply_to: str, session: str | None = None) -> InboxRow | None:
        """Insert the event unless its key is known; None when new, else the row already stored."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO inbox (platform, event_key, incoming, raw, reply_to, received_at, owner, session)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (platform, event_key, incoming, raw, reply_to, iso(self.clock.now()), self.owner, session),
            )
            if cursor.rowcount == 1:     # the common case: one round trip less on every update
                return None
            async with conn.execute("SELECT * FROM inbox WHERE event_key = ?", (event_key,)) as found:
                return _row(await found.fetchone())

    async def record_many(self, platform: str, events: list[tuple]) -> set[str]:
        """Insert (event_key, raw, reply_to[, session]) events in one transaction; return the keys that were new."""
        if not events:
            return set()
        events = [(*event, None)[:4] for event in events]
        keys = [event[0] for event in events]
        now = iso(self.clock.now())
        async with self.db.transaction() as conn:
            marks = ",".join("?" * len(keys))
            async with conn.execute(f"SELECT event_key FROM inbox WHERE event_key IN ({marks})", keys) as found:
                known = {row[0] for row in await found.fetchall()}
            fresh = [(platform, key, raw, reply_to, now, self.owner, session)
                     for key, raw, reply_to, session in events if key not in known]
            await conn.executemany(
                "INSERT INTO inbox (platform, event_key, incoming, raw, reply_to, received_at, owner, session)"
                " VALUES (?, ?, NULL, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", fresh,
            )
        return {row[1] for row in fresh}

    async def take_over(self, row: InboxRow, alive_since: str) -> bool:
        """Claim a stale 'received' row for handling again; False if someone else moved it on first,
        or it belongs to another process still alive (one that beat since alive_since)."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE inbox SET received_at = ?, owner = ? WHERE id = ? AND state = 'received' AND received_at = ?"
                + _NOT_A_LIVE_PEERS, (iso(self.clock.now()), self.owner, row.id, row.received_at, self.owner,
                                      alive_since),
            )
            return cursor.rowcount == 1

    async def claim(self, row_id: int, alive_since: str) -> bool:
        """Make an open row this process's to finish, unless another live process (beat since alive_since) has it."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE inbox SET owner = ? WHERE id = ? AND state IN ('received', 'handled')" + _NOT_A_LIVE_PEERS,
                (self.owner, row_id, self.owner, alive_since),
            )
            return cursor.rowcount == 1

    async def earlier_waiting(self, session: str, event_key: str, since: str) -> bool:
        """Whether an earlier event of the same person, received since a time, is still waiting to be handled."""
        row = await self.db.fetchone(
            "SELECT 1 FROM inbox WHERE session = ? AND state = 'received' AND received_at >= ?"
            " AND id < (SELECT id FROM inbox WHERE event_key = ?) LIMIT 1", (session, since, event_key))
        return row is not None

    async def get(self, event_key: str) -> InboxRow | None:
        """The row of an event key, or None."""
        row = await self.db.fetchone("SELECT * FROM inbox WHERE event_key = ?", (event_key,))
        return _row(row) if row else None

    async def set_incoming(self, event_key: str, incoming: str, reply_to: str | None = None) -> None:
        """Store the (completed) neutral event, e.g. once its media has been fetched."""
        await self.db.execute(
            "UPDATE inbox SET incoming = ?, reply_to = COALESCE(?, reply_to) WHERE event_key = ?",
            (incoming, reply_to, event_key),
        )

    async def set_handled(self, event_key: str, replies: str, incoming: str | None = None,
                          reply_to: str | None = None) -> None:
        """Keep the replies and mark the event handled (only a row still 'received' moves)."""
        await self._handled.run((replies, iso(self.clock.now()), incoming, reply_to, event_key))

    async def set_replied(self, event_key: str) -> None:
        """The replies are out (or queued in the outbox): nothing is left to do for this event."""
        await self._replied.run((event_key,))

    async def note_failure(self, row_id: int, error: str, give_up_after: int) -> bool:
        """Count a failed recovery; set the row aside as 'failed' after give_up_after; True if it was."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE inbox SET attempts = attempts + 1, error = ?,"
                " state = CASE WHEN attempts + 1 >= ? THEN 'failed' ELSE state END WHERE id = ?",
                (error[:300], give_up_after, row_id),
            )
            async with conn.execute("SELECT state FROM inbox WHERE id = ?", (row_id,)) as cursor:
                return (await cursor.fetchone())[0] == "failed"

    async def open_rows(self, platform: str, before: str | None = None) -> list[InboxRow]:
        """Events of a platform whose handling or replying never finished (received before `before`), oldest first."""
        rows = await self.db.fetchall(
            "SELECT * FROM inbox WHERE platform = ? AND state IN ('received', 'handled') AND received_at < ?"
            " ORDER BY id", (platform, before or "9999"),
        )
        return [_row(r) for r in rows]

    async def prune_replied(self, before: str) -> list[str | None]:
        """Delete replied events received before a time; return their incoming JSON (to drop media files)."""
        async with self.db.transaction() as conn:
            async with conn.execute(
                "DELETE FROM inbox WHERE state = 'replied' AND received_at < ? RETURNING incoming", (before,)
            ) as cursor:
                return [r[0] for r in await cursor.fetchall()]

    async def counts(self) -> dict[str, int]:
        """Rows by state."""
        rows = await self.db.fetchall("SELECT state, COUNT(*) FROM inbox GROUP BY state")
        return {r[0]: r[1] for r in rows}
