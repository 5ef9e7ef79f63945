"""WeChat bookkeeping: each person's last interaction (callback retries are deduplicated by the inbox)."""

from __future__ import annotations

from datetime import datetime

from storage.db import Database
from storage.times import iso, parse_iso


class WechatRepo:
    """The 48 h customer-service window and who holds a role on a WeChat platform."""

    def __init__(self, db: Database, clock) -> None:
        self.db, self.clock = db, clock

    async def touch_interaction(self, platform: str, user_key: str) -> None:
        """Note that the person just wrote to us (opens the 48 h window)."""
        await self.db.execute(
            "INSERT INTO wechat_interactions (platform, user_key, last_at) VALUES (?, ?, ?)"
            " ON CONFLICT (platform, user_key) DO UPDATE SET last_at = excluded.last_at",
            (platform, user_key, iso(self.clock.now())),
        )

    async def last_interaction(self, platform: str, user_key: str) -> datetime | None:
        """When the person last wrote to us, or None."""
        value = await self.db.fetchval(
            "SELECT last_at FROM wechat_interactions WHERE platform = ? AND user_key = ?", (platform, user_key)
        )
        return parse_iso(value) if value else None

    async def user_keys_with_role(self, platform: str, role: str, extra_person_ids: list[int],
                                  extra_numbers: list[str]) -> list[str]:
        """User keys on a platform of reachable accounts whose person holds a role (or is listed)."""
        ids = ",".join("?" * len(extra_person_ids)) or "NULL"
        numbers = ",".join("?" * len(extra_numbers)) or "NULL"
        rows = await self.db.fetchall(
            "SELECT DISTINCT a.user_key FROM accounts a JOIN people p ON p.id = a.person_id"
            f" WHERE a.platform = ? AND a.reachable = 1 AND (p.role = ? OR p.id IN ({ids})"
            f" OR p.person_no IN ({numbers})) ORDER BY a.user_key",
            (platform, role, *extra_person_ids, *extra_numbers),
        )
        return [r[0] for r in rows]

    async def user_keys_of_people(self, platform: str, person_ids: list[int]) -> list[str]:
        """User keys on a platform of the given people (duty officers to @-mention)."""
        if not person_ids:
            return []
        marks = ",".join("?" * len(person_ids))
        rows = await self.db.fetchall(
            f"SELECT DISTINCT user_key FROM accounts WHERE platform = ? AND person_id IN ({marks})"
            " ORDER BY user_key",
            (platform, *person_ids),
        )
        return [r[0] for r in rows]
