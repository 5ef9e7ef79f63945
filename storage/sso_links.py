"""One-time single sign-on links: made for a chat, spent by the CAS callback, kept only as hashes."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from storage.db import Database
from storage.times import iso, parse_iso

LINK_MINUTES = 10


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SsoLinkRepo:
    """Create, check and spend SSO links."""

    def __init__(self, db: Database, clock) -> None:
        self.db, self.clock = db, clock

    async def create(self, account_id: int) -> str:
        """A new link token for the chat, valid LINK_MINUTES."""
        token = secrets.token_urlsafe(24)
        now = self.clock.now()
        await self.db.execute(
            "INSERT INTO sso_links (token_hash, account_id, expires_at, created_at) VALUES (?, ?, ?, ?)",
            (_hash(token), account_id, iso(now + timedelta(minutes=LINK_MINUTES)), iso(now)),
        )
        return token

    async def check(self, token: str) -> tuple[int | None, str]:
        """(account_id, 'ok') for a link that can still be used, else (account_id or None, 'unknown'|'used'|'expired')."""
        row = await self.db.fetchone("SELECT * FROM sso_links WHERE token_hash = ?", (_hash(token),))
        return _state(row, self.clock.now())

    async def spend(self, token: str) -> tuple[int | None, str]:
        """Mark the link used (once); same answers as check."""
        async with self.db.transaction() as conn:
            async with conn.execute("SELECT * FROM sso_links WHERE token_hash = ?", (_hash(token),)) as cursor:
                row = await cursor.fetchone()
            account_id, outcome = _state(row, self.clock.now())
            if outcome == "ok":
                await conn.execute("UPDATE sso_links SET used_at = ? WHERE id = ?", (iso(self.clock.now()), row["id"]))
        return account_id, outcome

    async def grant(self, token: str, person_id: int) -> str:
        """Record whom CAS named for a spent link; return the one-time key the chat binds with."""
        key = secrets.token_urlsafe(24)
        await self.db.execute("UPDATE sso_links SET person_id = ?, bind_hash = ? WHERE token_hash = ?",
                              (person_id, _hash(key), _hash(token)))
        return key

    async def take_grant(self, key: str, account_id: int) -> int | None:
        """The person a grant names, once, and only for the chat the link was made for."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE sso_links SET bound_at = ? WHERE bind_hash = ? AND account_id = ? AND bound_at IS NULL",
                (iso(self.clock.now()), _hash(key), account_id))
            if not cursor.rowcount:
                return None
            async with conn.execute("SELECT person_id FROM sso_links WHERE bind_hash = ?", (_hash(key),)) as c:
                return (await c.fetchone())[0]


def _state(row, now) -> tuple[int | None, str]:
    if row is None:
        return None, "unknown"
    if row["used_at"]:
        return row["account_id"], "used"
    if parse_iso(row["expires_at"]) <= now:
        return row["account_id"], "expired"
    return row["account_id"], "ok"
