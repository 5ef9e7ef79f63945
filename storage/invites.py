"""Personal invites: single-use codes that bind one person, kept only as their hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from storage.db import Database
from storage.times import iso, parse_iso

INVITE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
INVITE_LENGTH = 12          # class codes have 6: the two never collide, and 31**12 cannot be guessed


def invite_hash(code: str) -> str:
    """The stored form of an invite code (upper-cased, spaces and dashes dropped)."""
    clean = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(clean.encode()).hexdigest()


def looks_like_invite(code: str) -> bool:
    """Whether typed text has the shape of an invite code (so a wrong one is not taken for a class code)."""
    clean = "".join(ch for ch in code.upper() if ch.isalnum())
    return len(clean) == INVITE_LENGTH and all(ch in INVITE_ALPHABET for ch in clean)


class InviteRepo:
    """Create, redeem and revoke personal invites."""

    def __init__(self, db: Database, clock) -> None:
        self.db, self.clock = db, clock

    async def create(self, person_id: int, days: int, created_by: str) -> tuple[str, str]:
        """A new invite for the person; returns (code, expires_at). Earlier open invites stay valid."""
        code = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_LENGTH))
        now = self.clock.now()
        expires = iso(now + timedelta(days=days))
        await self.db.execute(
            "INSERT INTO invites (person_id, code_hash, expires_at, created_by, created_at) VALUES (?, ?, ?, ?, ?)",
            (person_id, invite_hash(code), expires, created_by, iso(now)),
        )
        return code, expires

    async def redeem(self, code: str, account_id: int) -> tuple[int | None, str]:
        """Spend an invite: (person_id, 'ok'), or (None, 'unknown' | 'used' | 'revoked' | 'expired')."""
        now = self.clock.now()
        async with self.db.transaction() as conn:
            async with conn.execute("SELECT * FROM invites WHERE code_hash = ?", (invite_hash(code),)) as cursor:
                row = await cursor.fetchone()
            if row is None:
                return None, "unknown"
            if row["revoked_at"]:
                return None, "revoked"
            if row["used_at"]:
                return None, "used"
            if parse_iso(row["expires_at"]) <= now:
                return None, "expired"
            cursor = await conn.execute(
                "UPDATE invites SET used_at = ?, used_by = ? WHERE id = ? AND used_at IS NULL",
                (iso(now), account_id, row["id"]),
            )
            if not cursor.rowcount:
                return None, "used"
        return row["person_id"], "ok"

    async def revoke(self, person_id: int) -> int:
        """Revoke every open invite of the person; return how many."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE invites SET revoked_at = ? WHERE person_id = ? AND used_at IS NULL AND revoked_at IS NULL",
                (iso(self.clock.now()), person_id),
            )
            return cursor.rowcount
