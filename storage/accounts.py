"""Platform accounts: the chats a person reaches us from."""

from __future__ import annotations

from datetime import timedelta

from storage.db import Database
from storage.records import Account, Person, from_row
from storage.times import iso, parse_iso

SEEN_PRECISION = timedelta(minutes=1)   # last_seen_at is kept to the minute


class AccountRepo:
    """One row per (platform, user): language, binding, reachability, bind lock."""

    def __init__(self, db: Database, clock) -> None:
        self.db, self.clock = db, clock

    async def get(self, account_id: int) -> Account | None:
        """An account by id."""
        return from_row(Account, await self.db.fetchone("SELECT * FROM accounts WHERE id = ?", (account_id,)))

    async def find(self, platform: str, user_key: str) -> Account | None:
        """An account by platform and platform user id."""
        row = await self.db.fetchone(
            "SELECT * FROM accounts WHERE platform = ? AND user_key = ?", (platform, user_key)
        )
        return from_row(Account, row)

    async def preferred_for_many(self, person_ids: list[int]) -> dict[int, Account]:
        """Each given person's reachable account seen most recently (ask for a few thousand at a time)."""
        # Later rows win: a chat bound only by class code never takes a push from one bound with proof.
        marks = ",".join("?" * len(person_ids)) or "NULL"
        rows = await self.db.fetchall(
            f"SELECT * FROM accounts WHERE person_id IN ({marks}) AND reachable = 1"
            " ORDER BY COALESCE(proof, '') <> 'code', last_seen_at, id", person_ids)
        return {row["person_id"]: from_row(Account, row) for row in rows}

    async def bound_on(self, platform: str) -> list[tuple[Account, Person]]:
        """Every bound account of a platform with its person (one query, for start-up menus)."""
        accounts = await self.db.fetchall(
            "SELECT * FROM accounts WHERE platform = ? AND person_id IS NOT NULL ORDER BY person_id", (platform,))
        people = await self.db.fetchall(
            "SELECT p.* FROM people p WHERE p.id IN (SELECT person_id FROM accounts WHERE platform = ?)", (platform,))
        by_id = {row["id"]: from_row(Person, row) for row in people}
        return [(from_row(Account, row), by_id[row["person_id"]]) for row in accounts if row["person_id"] in by_id]

    async def touch(self, platform: str, user_key: str, chat_key: str) -> Account:
        """Return the account, creating it, and record that the person was just seen."""
        account = await self.find(platform, user_key)
        if (account is not None and account.chat_key == chat_key and account.reachable and account.last_seen_at
                and self.clock.now() - parse_iso(account.last_seen_at) < SEEN_PRECISION):
            return account      # seen moments ago: one write less on every message of a conversation
        now = iso(self.clock.now())
        await self.db.execute(
            "INSERT INTO accounts (platform, user_key, chat_key, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (platform, user_key) DO UPDATE SET chat_key = excluded.chat_key,"
            " last_seen_at = excluded.last_seen_at, reachable = 1, unreachable_reason = NULL",
            (platform, user_key, chat_key, now, now),
        )
        account = await self.find(platform, user_key)
        assert account is not None
        return account

    async def rename_user_key(self, platform: str, old: str, new: str) -> bool:
        """The platform renamed a user: the account (and its chat) follow, unless the new key has one already."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE accounts SET user_key = ?, chat_key = ? WHERE platform = ? AND user_key = ?"
                " AND NOT EXISTS (SELECT 1 FROM accounts WHERE platform = ? AND user_key = ?)",
                (new, new, platform, old, platform, new))
            return cursor.rowcount > 0

    async def set_language(self, account_id: int, language: str) -> None:
        """Remember the account's language."""
        await self.db.execute("UPDATE accounts SET language = ? WHERE id = ?", (language, account_id))

    async def bind(self, account_id: int, person_id: int, proof: str = "operator") -> None:
        """Link an account to a person, recording how that was proven, and clear the failure count."""
        await self.db.execute(
            "UPDATE accounts SET person_id = ?, proof = ?, bound_at = ?, bind_failures = 0,"
            " bind_locked_until = NULL WHERE id = ?",
            (person_id, proof, iso(self.clock.now()), account_id),
        )

    async def unbind(self, account_id: int) -> None:
        """Remove the link between an account and its person."""
        await self.db.execute(
            "UPDATE accounts SET person_id = NULL, proof = NULL, bound_at = NULL WHERE id = ?", (account_id,)
        )

    async def unproven_privileged(self, privileged: tuple[str, ...]) -> list[tuple[str, str, str]]:
        """(number, name, role) of privileged people bound only by class code, who must bind again."""
        marks = ", ".join("?" * len(privileged))
        rows = await self.db.fetchall(
            "SELECT DISTINCT p.person_no, COALESCE(p.name, ''), p.role FROM accounts a JOIN people p"
            f" ON p.id = a.person_id WHERE a.proof = 'code' AND p.role IN ({marks}) ORDER BY p.person_no",
            privileged,
        )
        return [(r[0], r[1], r[2]) for r in rows]

    async def record_bind_failure(self, account_id: int, max_failures: int, lock_until: str) -> int:
        """Count a wrong bind attempt; lock when the limit is reached. Return the failures so far."""
        async with self.db.transaction() as conn:
            await conn.execute("UPDATE accounts SET bind_failures = bind_failures + 1 WHERE id = ?", (account_id,))
            async with conn.execute("SELECT bind_failures FROM accounts WHERE id = ?", (account_id,)) as c:
                failures = (await c.fetchone())[0]
            if failures >= max_failures:
                await conn.execute(
                    "UPDATE accounts SET bind_locked_until = ?, bind_failures = 0 WHERE id = ?",
                    (lock_until, account_id),
                )
        return failures

    async def mark_unreachable(self, account_id: int, reason: str) -> None:
        """Stop pushing to an account (blocked the bot, unsubscribed)."""
        await self.db.execute(
            "UPDATE accounts SET reachable = 0, unreachable_reason = ? WHERE id = ?", (reason, account_id)
        )

    async def mark_unreachable_by_key(self, platform: str, user_key: str, reason: str) -> None:
        """Stop pushing to an account found by platform and user key."""
        await self.db.execute(
            "UPDATE accounts SET reachable = 0, unreachable_reason = ? WHERE platform = ? AND user_key = ?",
            (reason, platform, user_key),
        )

    async def for_person(self, person_id: int) -> list[Account]:
        """A person's accounts, most recently seen first."""
        rows = await self.db.fetchall(
            "SELECT * FROM accounts WHERE person_id = ? ORDER BY last_seen_at DESC, id DESC", (person_id,)
        )
        return [from_row(Account, r) for r in rows]

    async def preferred(self, person_id: int) -> Account | None:
        """The reachable account a push to this person should use: the one seen last."""
        row = await self.db.fetchone(
            "SELECT * FROM accounts WHERE person_id = ? AND reachable = 1 ORDER BY last_seen_at DESC, id DESC LIMIT 1",
            (person_id,),
        )
        return from_row(Account, row)

    async def unreachable_count(self) -> int:
        """How many bound accounts cannot be reached."""
        return await self.db.fetchval("SELECT COUNT(*) FROM accounts WHERE reachable = 0 AND person_id IS NOT NULL")
