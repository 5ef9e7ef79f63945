"""The outbox table: every push as a durable row with a unique dedupe key."""

from __future__ import annotations

import json
from dataclasses import dataclass

from storage.db import Database
from storage.times import iso

STATES = ("pending", "inflight", "sent", "dead", "undeliverable")


@dataclass
class OutboxRow:
    """One push waiting for, or past, delivery."""

    channel: str
    address: str
    campaign: str
    payload: dict | str             # an Outgoing.to_dict(), or that already as JSON text
    dedupe_key: str
    account_id: int | None = None
    person_id: int | None = None
    priority: int = 5
    urgent: bool = False
    id: int = 0
    attempts: int = 0


@dataclass
class Outcome:
    """What happened to one claimed row."""

    row_id: int
    state: str                      # sent, pending (retry), dead, undeliverable
    error: str | None = None
    not_before: str | None = None   # for retries
    refund_attempt: bool = False    # deferred by our own rate limit: not a real attempt


class OutboxRepo:
    """Enqueue, claim, settle and count outbox rows."""

    def __init__(self, db: Database, clock) -> None:
        self.db, self.clock = db, clock

    async def enqueue(self, rows: list[OutboxRow], not_before: str | None = None) -> int:
        """Insert rows, skipping dedupe keys already present; return how many were new."""
        if not rows:
            return 0
        now = iso(self.clock.now())
        start = not_before or now
        async with self.db.transaction() as conn:
            before = conn.total_changes
            await conn.executemany(
                "INSERT INTO outbox (channel, address, account_id, person_id, campaign, payload,"
                " dedupe_key, priority, urgent, not_before, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
                [
                    (r.channel, r.address, r.account_id, r.person_id, r.campaign,
                     r.payload if isinstance(r.payload, str) else json.dumps(r.payload, ensure_ascii=False),
                     r.dedupe_key, r.priority, int(r.urgent), start, now)
                    for r in rows
                ],
            )
            return conn.total_changes - before

    async def claim(self, channel: str, limit: int, urgent_only: bool = False,
                    addresses: list[str] | None = None) -> list[OutboxRow]:
        """Mark up to limit due rows of a channel in flight and return them, most urgent first.

        addresses, when given, limits the claim to rows for those addresses (a sender that serves
        only some of its channel's chats, like one terminal session).
        """
        now = iso(self.clock.now())
        urgent_clause = " AND urgent = 1" if urgent_only else ""
        params: tuple = ()
        if addresses is not None:
            urgent_clause += f" AND address IN ({','.join('?' * len(addresses)) or 'NULL'})"
            params = tuple(addresses)
        # One statement claims the batch: the rows are marked in flight in the same write that picks them.
        async with self.db.transaction() as conn:
            async with conn.execute(
                "UPDATE outbox SET state = 'inflight', claimed_at = ?, attempts = attempts + 1 WHERE id IN"
                " (SELECT id FROM outbox WHERE channel = ? AND state = 'pending' AND not_before <= ?"
                f"{urgent_clause} ORDER BY priority, id LIMIT ?) RETURNING *",
                (now, channel, now, *params, limit),
            ) as cursor:
                rows = sorted(await cursor.fetchall(), key=lambda r: (r["priority"], r["id"]))
        return [
            OutboxRow(
                channel=r["channel"], address=r["address"], campaign=r["campaign"], payload=json.loads(r["payload"]),
                dedupe_key=r["dedupe_key"], account_id=r["account_id"], person_id=r["person_id"],
                priority=r["priority"], urgent=bool(r["urgent"]), id=r["id"], attempts=r["attempts"],
            )
            for r in rows
        ]

    async def settle(self, outcomes: list[Outcome]) -> None:
        """Write the outcomes of a batch in one transaction."""
        if not outcomes:
            return
        now = iso(self.clock.now())
        async with self.db.transaction() as conn:
            sent = [(now, o.row_id) for o in outcomes if o.state == "sent"]
            if sent:
                await conn.executemany(
                    "UPDATE outbox SET state = 'sent', sent_at = ?, error = NULL WHERE id = ?", sent
                )
            for o in outcomes:
                if o.state == "pending":
                    refund = " , attempts = attempts - 1" if o.refund_attempt else ""
                    await conn.execute(
                        f"UPDATE outbox SET state = 'pending', not_before = ?, error = ?{refund} WHERE id = ?",
                        (o.not_before or now, o.error, o.row_id),
                    )
                elif o.state in ("dead", "undeliverable"):
                    await conn.execute(
                        "UPDATE outbox SET state = ?, error = ? WHERE id = ?", (o.state, o.error, o.row_id)
                    )

    async def recover_inflight(self) -> int:
        """After a crash: put rows that were in flight back to pending; return how many."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute("UPDATE outbox SET state = 'pending' WHERE state = 'inflight'")
            return cursor.rowcount

    async def revive_dead(self, since: str | None = None) -> int:
        """Put dead rows (created at or after since, when given) back to pending with fresh attempts."""
        clause, params = ("", ()) if since is None else (" AND created_at >= ?", (since,))
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE outbox SET state = 'pending', attempts = 0, not_before = ?, error = NULL"
                f" WHERE state = 'dead'{clause}", (iso(self.clock.now()), *params))
            return cursor.rowcount

    async def resume_address(self, channel: str, address: str) -> int:
        """Make an address's waiting (or refused) rows due now, e.g. a group the bot was added back to."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE outbox SET state = 'pending', not_before = ? WHERE channel = ? AND address = ?"
                " AND state IN ('pending', 'undeliverable')", (iso(self.clock.now()), channel, address))
            return cursor.rowcount

    async def latest_dead(self, limit: int = 5):
        """The most recent rows that failed for good, with their reason."""
        return await self.db.fetchall(
            "SELECT campaign, channel, error FROM outbox WHERE state = 'dead' ORDER BY id DESC LIMIT ?", (limit,)
        )

    async def people_in_campaign(self, campaign: str) -> set[int]:
        """The people who already have a row for a campaign (any state)."""
        rows = await self.db.fetchall(
            "SELECT person_id FROM outbox WHERE campaign = ? AND person_id IS NOT NULL", (campaign,)
        )
        return {r[0] for r in rows}

    async def next_due(self, channel: str) -> str | None:
        """The earliest not_before among a channel's pending rows."""
        return await self.db.fetchval(
            "SELECT MIN(not_before) FROM outbox WHERE channel = ? AND state = 'pending'", (channel,)
        )

    async def counts(self, campaign: str | None = None) -> dict[str, int]:
        """Rows by state, for one campaign or all."""
        if campaign is None:
            rows = await self.db.fetchall("SELECT state, COUNT(*) FROM outbox GROUP BY state")
        else:
            rows = await self.db.fetchall(
                "SELECT state, COUNT(*) FROM outbox WHERE campaign = ? GROUP BY state", (campaign,)
            )
        counts = dict.fromkeys(STATES, 0)
        counts.update({r[0]: r[1] for r in rows})
        return counts

    async def campaign_prefix_counts(self, prefix: str) -> dict[str, int]:
        """Rows by state for every campaign starting with prefix."""
        rows = await self.db.fetchall(
            "SELECT state, COUNT(*) FROM outbox WHERE campaign LIKE ? GROUP BY state", (prefix + "%",)
        )
        counts = dict.fromkeys(STATES, 0)
        counts.update({r[0]: r[1] for r in rows})
        return counts

    async def pending_for(self, channel: str, address: str) -> int:
        """How many rows wait for one address."""
        return await self.db.fetchval(
            "SELECT COUNT(*) FROM outbox WHERE channel = ? AND address = ? AND state IN ('pending', 'inflight')",
            (channel, address),
        )
