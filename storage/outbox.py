"""The outbox table: every push as a durable row with a unique dedupe key."""

from __future__ import annotations

import json
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import timedelta

from storage.db import Database
from storage.times import iso

STATES = ("pending", "inflight", "sent", "dead", "undeliverable")
# How long a claimed row stays its claimer's. A batch takes seconds (200 rows at Telegram's 30 msg/s
# is under 7 s, and an address that would hold it longer than 5 s goes back to the queue), so five
# minutes leaves room for a slow platform and clocks a little apart; past it the row is claimable again.
LEASE_S = 300.0


def claimer_token() -> str:
    """A token naming this process's claims (host, pid and a random part, unique across restarts)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


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
    """Enqueue, claim, settle and count outbox rows.

    Any number of sender processes may drain one PostgreSQL outbox: a claim skips rows another
    claim has locked, marks its rows in flight with this repository's token and a lease of LEASE_S,
    and settles only rows it still holds. Duplicate bound: a message is sent twice only if its
    sender died (or stalled past the lease) after the platform accepted it and before the outcome
    was committed. A sender holds a delivery slot until its row's outcome is committed, so a sender
    that dies doubles at most Limits.concurrency rows (times recipients_per_call for shared calls),
    never its whole batch; one that stalls past its lease can double at most the batch it held.
    """

    def __init__(self, db: Database, clock, lease_s: float = LEASE_S) -> None:
        self.db, self.clock, self.lease_s = db, clock, lease_s
        self.token = claimer_token()

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
        """Mark up to limit due rows of a channel in flight for this claimer and return them, most urgent first.

        Due rows are pending ones whose time has come and in-flight ones whose lease ran out (their
        claimer died). addresses, when given, limits the claim to rows for those addresses (a sender
        that serves only some of its channel's chats, like one terminal session).
        """
        moment = self.clock.now()
        now, lease_until = iso(moment), iso(moment + timedelta(seconds=self.lease_s))
        urgent_clause = " AND urgent = 1" if urgent_only else ""
        params: tuple = ()
        if addresses is not None:
            urgent_clause += f" AND address IN ({','.join('?' * len(addresses)) or 'NULL'})"
            params = tuple(addresses)
        # A claim marks its rows in flight in the same statement that picks them; on PostgreSQL rows another
        # process is claiming are skipped, not waited for (no global lock). Rows whose lease ran out come
        # first, through their own small index, so the pending rows' claim keeps its plain index order.
        pick = f"{urgent_clause} ORDER BY priority, id LIMIT ?{self.db.skip_locked}) RETURNING *"
        claim = ("UPDATE outbox SET state = 'inflight', claimed_at = ?, claimed_by = ?, lease_until = ?,"
                 " attempts = attempts + 1 WHERE id IN (SELECT id FROM outbox WHERE channel = ? AND ")
        async with self.db.transaction(serial=False) as conn:
            async with conn.execute(
                claim + "state = 'inflight' AND (lease_until IS NULL OR lease_until <= ?)" + pick,
                (now, self.token, lease_until, channel, now, *params, limit),
            ) as cursor:
                rows = await cursor.fetchall()
            if len(rows) < limit:
                async with conn.execute(
                    claim + "state = 'pending' AND not_before <= ?" + pick,
                    (now, self.token, lease_until, channel, now, *params, limit - len(rows)),
                ) as cursor:
                    rows += await cursor.fetchall()
        rows = sorted(rows, key=lambda r: (r["priority"], r["id"]))
        return [
            OutboxRow(
                channel=r["channel"], address=r["address"], campaign=r["campaign"], payload=json.loads(r["payload"]),
                dedupe_key=r["dedupe_key"], account_id=r["account_id"], person_id=r["person_id"],
                priority=r["priority"], urgent=bool(r["urgent"]), id=r["id"], attempts=r["attempts"],
            )
            for r in rows
        ]

    async def settle(self, outcomes: list[Outcome]) -> None:
        """Write the outcomes of a batch in one transaction, for the rows this claimer still holds.

        A row taken over after its lease ran out is the new claimer's: this claimer's late outcome
        for it is dropped (the platform may then have it twice, which is the stated bound).
        """
        if not outcomes:
            return
        now = iso(self.clock.now())
        held = " AND state = 'inflight' AND claimed_by = ?"
        async with self.db.transaction(serial=False) as conn:
            sent = [(now, o.row_id, self.token) for o in outcomes if o.state == "sent"]
            if sent:
                await conn.executemany(
                    f"UPDATE outbox SET state = 'sent', sent_at = ?, error = NULL WHERE id = ?{held}", sent
                )
            for o in outcomes:
                if o.state == "pending":
                    refund = " , attempts = attempts - 1" if o.refund_attempt else ""
                    cursor = await conn.execute(
                        f"UPDATE outbox SET state = 'pending', not_before = ?, error = ?{refund} WHERE id = ?{held}",
                        (o.not_before or now, o.error, o.row_id, self.token),
                    )
                    if o.refund_attempt and o.not_before and cursor.rowcount:
                        # Held back by the chat's own limit: the chat's later rows (queued after the batch was
                        # claimed) wait as long, or a group would get card 6 before cards 2 to 5.
                        await conn.execute(
                            "UPDATE outbox SET not_before = ? WHERE state = 'pending' AND not_before < ? AND id > ?"
                            " AND channel = (SELECT channel FROM outbox WHERE id = ?)"
                            " AND address = (SELECT address FROM outbox WHERE id = ?)",
                            (o.not_before, o.not_before, o.row_id, o.row_id, o.row_id),
                        )
                elif o.state in ("dead", "undeliverable"):
                    await conn.execute(
                        f"UPDATE outbox SET state = ?, error = ? WHERE id = ?{held}",
                        (o.state, o.error, o.row_id, self.token),
                    )

    async def recover_inflight(self) -> int:
        """At a sender's start: put rows left in flight back to pending; return how many.

        On SQLite one server holds the file, so every in-flight row is a dead process's. On PostgreSQL
        other senders may be running: only rows whose lease has run out go back (the rest are theirs).
        """
        where = "state = 'inflight'"
        params: tuple = ()
        if self.db.kind == "postgresql":
            where += " AND (lease_until IS NULL OR lease_until <= ?)"
            params = (iso(self.clock.now()),)
        async with self.db.transaction(serial=False) as conn:
            cursor = await conn.execute(f"UPDATE outbox SET state = 'pending', claimed_by = NULL WHERE {where}", params)
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

    async def unfinished(self, channel: str) -> bool:
        """Whether any row of a channel still waits or is in flight (one index probe, however long the queue)."""
        return bool(await self.db.fetchval(
            "SELECT 1 FROM outbox WHERE channel = ? AND state IN ('pending', 'inflight') LIMIT 1", (channel,)))

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


# The database server's clock, in epoch seconds: every sender process reads the same one.
_SERVER_NOW = "extract(epoch from clock_timestamp())"


class SendRates:
    """A channel's send slots, per-address next times and 429 pauses, shared by every process (PostgreSQL only).

    Each reservation is one locked read-modify-write of the channel's (and the address's) row, so
    all processes together take slots at most per_second apart and an address's messages at least
    its interval apart. Every figure returned is seconds from now on the server's clock.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._known: set[str] = set()

    async def _ensure(self, channel: str) -> None:
        if channel not in self._known:
            await self.db.execute("INSERT INTO send_rates (channel) VALUES (?) ON CONFLICT DO NOTHING", (channel,))
            self._known.add(channel)

    async def reserve(self, channel: str, address: str | None, step: float, interval: float) -> float:
        """Take the channel's next slot (step seconds apart) and the address's (interval apart); return the delay."""
        await self._ensure(channel)
        if not interval or address is None:
            return max(0.0, float(await self.db.execute(
                f"UPDATE send_rates SET next_slot = GREATEST(next_slot, paused_until, {_SERVER_NOW}) + ?"
                f" WHERE channel = ? RETURNING next_slot - ? - {_SERVER_NOW}", (step, channel, step))))
        async with self.db.transaction(serial=False) as conn:
            # The address row first, then the channel's: every reservation locks in that order.
            start = await (await conn.execute(
                "INSERT INTO send_rate_addresses (channel, address) VALUES (?, ?) ON CONFLICT (channel, address)"
                " DO UPDATE SET next_at = send_rate_addresses.next_at"
                f" RETURNING GREATEST(next_at, paused_until, {_SERVER_NOW})", (channel, address))).fetchone()
            slot = (await (await conn.execute(
                "UPDATE send_rates SET next_slot = GREATEST(next_slot, paused_until, ?) + ? WHERE channel = ?"
                f" RETURNING next_slot - ?, {_SERVER_NOW}", (start[0], step, channel, step))).fetchone())
            await conn.execute("UPDATE send_rate_addresses SET next_at = ? WHERE channel = ? AND address = ?",
                               (slot[0] + interval, channel, address))
            return max(0.0, slot[0] - slot[1])

    async def record(self, channel: str, address: str, interval: float, delay: float) -> None:
        """Count a message to address sent delay seconds from now (part of a shared call)."""
        await self.db.execute(
            "INSERT INTO send_rate_addresses (channel, address, next_at) VALUES (?, ?, ? + ? + "
            f"{_SERVER_NOW}) ON CONFLICT (channel, address) DO UPDATE SET"
            " next_at = GREATEST(send_rate_addresses.next_at, excluded.next_at)", (channel, address, delay, interval))

    async def address_wait(self, channel: str, address: str) -> float:
        """Seconds until address may receive again, its pause included."""
        return max(0.0, float(await self.db.fetchval(
            f"SELECT GREATEST(next_at, paused_until) - {_SERVER_NOW} FROM send_rate_addresses"
            " WHERE channel = ? AND address = ?", (channel, address)) or 0.0))

    async def pause(self, channel: str, seconds: float, address: str | None = None) -> None:
        """Pause the whole channel, or one address of it, for seconds (the platform said 429)."""
        if address is None:
            await self._ensure(channel)
            await self.db.execute(
                f"UPDATE send_rates SET paused_until = GREATEST(paused_until, ? + {_SERVER_NOW}) WHERE channel = ?",
                (seconds, channel))
            return
        await self.db.execute(
            f"INSERT INTO send_rate_addresses (channel, address, paused_until) VALUES (?, ?, ? + {_SERVER_NOW})"
            " ON CONFLICT (channel, address) DO UPDATE SET"
            " paused_until = GREATEST(send_rate_addresses.paused_until, excluded.paused_until)",
            (channel, address, seconds))

    async def pauses(self, channel: str) -> tuple[float, dict[str, float]]:
        """Seconds the channel is still paused for, and the same for each paused address."""
        channel_left = await self.db.fetchval(
            f"SELECT paused_until - {_SERVER_NOW} FROM send_rates WHERE channel = ?", (channel,))
        rows = await self.db.fetchall(
            f"SELECT address, paused_until - {_SERVER_NOW} FROM send_rate_addresses"
            f" WHERE channel = ? AND paused_until > {_SERVER_NOW}", (channel,))
        return max(0.0, float(channel_left or 0.0)), {r[0]: float(r[1]) for r in rows}
