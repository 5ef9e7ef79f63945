"""The audit log: who looked at what, who exported what."""

from __future__ import annotations

import json

from storage.db import Database
from storage.times import iso


class AuditRepo:
    """Append-only record of sensitive reads and exports."""

    def __init__(self, db: Database, clock) -> None:
        self.db, self.clock = db, clock

    async def write(self, action: str, target: str = "", actor_person_id: int | None = None,
                    actor_account_id: int | None = None, detail: dict | None = None) -> None:
        """Append one entry."""
        await self.db.execute(
            "INSERT INTO audit_log (at, actor_person_id, actor_account_id, action, target, detail)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (iso(self.clock.now()), actor_person_id, actor_account_id, action, target,
             json.dumps(detail or {}, ensure_ascii=False)),
        )

    async def count_since(self, action: str, actor_account_id: int, since: str) -> int:
        """How many entries of one action an account caused since then."""
        return await self.db.fetchval(
            "SELECT COUNT(*) FROM audit_log WHERE action = ? AND actor_account_id = ? AND at >= ?",
            (action, actor_account_id, since),
        )

    async def targets_since(self, action: str, actor_account_id: int, since: str) -> list[str]:
        """The targets of one action an account caused since then, oldest first."""
        rows = await self.db.fetchall(
            "SELECT target FROM audit_log WHERE action = ? AND actor_account_id = ? AND at >= ? ORDER BY id",
            (action, actor_account_id, since),
        )
        return [r[0] for r in rows]

    async def has(self, action: str, target: str) -> bool:
        """Whether any entry of this action names this target."""
        return bool(await self.db.fetchval(
            "SELECT 1 FROM audit_log WHERE action = ? AND target = ? LIMIT 1", (action, target)))

    async def recent(self, limit: int = 100, action: str | None = None):
        """The newest entries first."""
        if action:
            return await self.db.fetchall(
                "SELECT * FROM audit_log WHERE action = ? ORDER BY id DESC LIMIT ?", (action, limit)
            )
        return await self.db.fetchall("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", (limit,))


class KeyValueRepo:
    """Small durable values (cached tokens, bookkeeping)."""

    def __init__(self, db: Database, clock) -> None:
        self.db, self.clock = db, clock

    async def get(self, key: str) -> str | None:
        """The value, or None."""
        return await self.db.fetchval("SELECT value FROM kv WHERE key = ?", (key,))

    async def set(self, key: str, value: str) -> None:
        """Store a value."""
        await self.db.execute(
            "INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            (key, value, iso(self.clock.now())),
        )
