"""People (the roster) and the classes they answer for."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from storage.db import Database
from storage.records import ROLES, Person, from_row
from storage.times import iso


@dataclass
class RosterRow:
    """One person as the roster file gives them."""

    person_no: str
    name: str | None
    college: str
    class_names: list[str]
    dorm: str | None
    role: str
    tags: list[str]
    wecom_userid: str | None = None     # when the WeCom directory's userid is not the person number


class PeopleRepo:
    """People: identity, class, role, tags."""

    def __init__(self, db: Database, clock, classes) -> None:
        self.db, self.clock, self.classes = db, clock, classes

    async def get(self, person_id: int) -> Person | None:
        """A person by internal id."""
        return from_row(Person, await self.db.fetchone("SELECT * FROM people WHERE id = ?", (person_id,)))

    async def by_number(self, person_no: str) -> Person | None:
        """A person by student or staff number; 't1001' finds 'T1001' when no other number differs only in case."""
        person_no = person_no.strip()
        row = await self.db.fetchone("SELECT * FROM people WHERE person_no = ?", (person_no,))
        if row is None and person_no.upper() != person_no.lower():
            rows = await self.db.fetchall("SELECT * FROM people WHERE lower(person_no) = lower(?) LIMIT 2", (person_no,))
            row = rows[0] if len(rows) == 1 else None
        return from_row(Person, row)

    async def by_wecom_userid(self, userid: str) -> Person | None:
        """The person a WeCom userid names: the roster's wecom_userid column, else the person number."""
        row = await self.db.fetchone("SELECT * FROM people WHERE wecom_userid = ?", (userid,))
        if row is None:
            row = await self.db.fetchone(
                "SELECT * FROM people WHERE person_no = ? AND wecom_userid IS NULL", (userid,))
        return from_row(Person, row)

    async def set_wecom_userid(self, person_id: int, userid: str) -> None:
        """Record the WeCom userid the directory now gives the person."""
        await self.db.execute("UPDATE people SET wecom_userid = ? WHERE id = ?", (userid, person_id))

    async def resolve(self, key: str) -> Person | None:
        """A person by number, or by internal id written '#12' or '12' when no number matches."""
        person = await self.by_number(key)
        if person is None and key.lstrip("#").isdigit():
            person = await self.get(int(key.lstrip("#")))
        return person

    async def roster_loaded_for(self, class_id: int) -> bool:
        """Whether any roster rows exist for this class (then numbers are checked)."""
        value = await self.db.fetchval(
            "SELECT 1 FROM people WHERE class_id = ? AND from_roster = 1 LIMIT 1", (class_id,)
        )
        return value is not None

    async def create(self, person_no: str, class_id: int | None, college: str, role: str = "student",
                     tags: str = "") -> Person:
        """Add a person who is not on a roster (binding without one)."""
        person_id = await self.db.execute(
            "INSERT INTO people (person_no, college, class_id, role, tags, created_at) VALUES (?, ?, ?, ?, ?, ?)"
            " RETURNING id",
            (person_no, college, class_id, role, tags, iso(self.clock.now())),
        )
        person = await self.get(person_id)
        assert person is not None
        return person

    async def upsert_roster(self, rows: list[RosterRow]) -> tuple[int, int]:
        """Insert or update roster rows in one transaction; return (inserted, updated)."""
        inserted = updated = 0
        now = iso(self.clock.now())
        async with self.db.transaction() as conn:
            for row in rows:
                class_ids = [await self.classes.ensure(name, row.college, conn=conn) for name in row.class_names]
                home = class_ids[0] if class_ids and row.role != "counsellor" else None
                values = (row.name, row.college, home, row.dorm, row.role, ",".join(row.tags), row.wecom_userid)
                cursor = await conn.execute(
                    "UPDATE people SET name = ?, college = ?, class_id = ?, dorm = ?, role = ?, tags = ?,"
                    " wecom_userid = ?, from_roster = 1 WHERE person_no = ?",
                    (*values, row.person_no),
                )
                if cursor.rowcount:
                    updated += 1
                    async with conn.execute("SELECT id FROM people WHERE person_no = ?", (row.person_no,)) as c:
                        person_id = (await c.fetchone())[0]
                else:
                    inserted += 1
                    cursor = await conn.execute(
                        "INSERT INTO people (name, college, class_id, dorm, role, tags, wecom_userid, from_roster,"
                        " person_no, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING id",
                        (*values, row.person_no, now),
                    )
                    person_id = (await cursor.fetchone())[0]
                await conn.execute("DELETE FROM person_classes WHERE person_id = ?", (person_id,))
                if row.role in ("monitor", "counsellor"):
                    await conn.executemany(
                        "INSERT INTO person_classes (person_id, class_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                        [(person_id, cid) for cid in class_ids],
                    )
        return inserted, updated

    async def set_role(self, person_id: int, role: str) -> None:
        """Change a person's role."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        await self.db.execute("UPDATE people SET role = ? WHERE id = ?", (role, person_id))

    async def responsible_classes(self, person: Person) -> list[int]:
        """The class ids a monitor or counsellor answers for (security: none listed, sees all)."""
        rows = await self.db.fetchall(
            "SELECT class_id FROM person_classes WHERE person_id = ? ORDER BY class_id", (person.id,)
        )
        ids = [r[0] for r in rows]
        if not ids and person.role == "monitor" and person.class_id is not None:
            ids = [person.class_id]
        return ids

    async def members(self, class_id: int) -> list[Person]:
        """The people of a class (not forgotten), by number."""
        rows = await self.db.fetchall(
            "SELECT * FROM people WHERE class_id = ? AND forgotten_at IS NULL ORDER BY person_no", (class_id,)
        )
        return [from_row(Person, r) for r in rows]

    async def ids_with_role(self, role: str) -> list[int]:
        """The ids of everyone the roster gives this role (the forgotten left out)."""
        rows = await self.db.fetchall("SELECT id FROM people WHERE role = ? AND forgotten_at IS NULL", (role,))
        return [row[0] for row in rows]

    async def pushable_ids(self) -> list[int]:
        """The ids of everyone who may be pushed to: not forgotten, not opted out."""
        rows = await self.db.fetchall("SELECT id FROM people WHERE forgotten_at IS NULL AND opted_out = 0")
        return [row[0] for row in rows]

    async def set_opt_out(self, person_id: int, opted_out: bool) -> None:
        """Stop or restart the daily pushes for a person."""
        await self.db.execute("UPDATE people SET opted_out = ? WHERE id = ?", (int(opted_out), person_id))

    async def forget(self, person_id: int) -> dict[str, object]:
        """Erase a person: their chats, pushes, words and files go; anonymous records stay; a tombstone is left.

        Returns counts of what was deleted and kept, and under 'evidence_paths' the files to remove.
        """
        now = iso(self.clock.now())
        async with self.db.transaction() as conn:
            async def one(sql: str, params: tuple = ()) -> int:
                async with conn.execute(sql, params) as cursor:
                    return (await cursor.fetchone())[0]

            async def run(sql: str, params: tuple = ()) -> int:
                return (await conn.execute(sql, params)).rowcount

            async with conn.execute("SELECT id, platform, user_key, chat_key FROM accounts WHERE person_id = ?",
                                    (person_id,)) as cursor:
                accounts = await cursor.fetchall()
            account_ids = [a["id"] for a in accounts]
            ids = ",".join(str(int(i)) for i in account_ids) or "NULL"
            number = await one("SELECT person_no FROM people WHERE id = ?", (person_id,))
            reports = f"SELECT id FROM reports WHERE reporter_person_id = {int(person_id)}" \
                      f" OR reporter_account_id IN ({ids})"
            async with conn.execute(f"SELECT path FROM report_evidence WHERE report_id IN ({reports})") as cursor:
                evidence_paths = [r[0] for r in await cursor.fetchall()]
            kept: dict[str, object] = {"evidence_paths": evidence_paths}
            for table in ("checkins", "quiz_attempts", "pledges", "drill_results"):
                kept[table] = await one(f"SELECT COUNT(*) FROM {table} WHERE person_id = ?", (person_id,))
            kept["reports"] = await one(f"SELECT COUNT(*) FROM ({reports}) AS theirs")
            # Their own words and files; the case stays as type, amount, dates and handling steps.
            kept["descriptions_deleted"] = await run(
                f"UPDATE reports SET description = NULL WHERE description IS NOT NULL AND id IN ({reports})")
            kept["evidence_deleted"] = await run(f"DELETE FROM report_evidence WHERE report_id IN ({reports})")
            await run(f"UPDATE report_events SET note = NULL WHERE report_id IN ({reports})")
            # The 倒查 review keeps its day and conclusion; what it wrote about the people involved goes.
            await run(f"UPDATE report_reviews SET findings = '', follow_up = '' WHERE report_id IN ({reports})")
            await run(
                "UPDATE reports SET reporter_person_id = NULL, reporter_account_id = NULL, class_id = NULL,"
                f" office_message = NULL, resolution_note = NULL, callback_phone = NULL WHERE id IN ({reports})")
            # Everything still waiting to reach them, and what was sent (it carried their name or case).
            kept["pushes_cancelled"] = await run(
                f"DELETE FROM outbox WHERE (person_id = ? OR account_id IN ({ids})) AND state IN ('pending', 'inflight')",
                (person_id,))
            await run(f"DELETE FROM outbox WHERE person_id = ? OR account_id IN ({ids})", (person_id,))
            kept["followups_cancelled"] = await run("DELETE FROM drill_followups WHERE person_id = ?", (person_id,))
            for account in accounts:
                await run("DELETE FROM outbox WHERE channel = ? AND address = ?", (account["platform"], account["chat_key"]))
                await run("DELETE FROM inbox WHERE platform = ? AND (reply_to = ? OR incoming LIKE ?)",
                          (account["platform"], account["chat_key"], f'%"user_key": "{account["user_key"]}"%'))
                await run("DELETE FROM wechat_interactions WHERE platform = ? AND user_key = ?",
                          (account["platform"], account["user_key"]))
                if account["platform"] == "telegram" and account["chat_key"].lstrip("-").isdigit():
                    for table in ("telegram_message_refs", "telegram_polls"):
                        await run(f"DELETE FROM {table} WHERE chat_id = ?", (int(account["chat_key"]),))
            # Office notices about their chats (a "not me", a burst of refused attempts, the re-bind list).
            name = await one("SELECT COALESCE(name, '') FROM people WHERE id = ?", (person_id,))
            for mention in filter(None, (number, name)):
                await run("DELETE FROM outbox WHERE campaign LIKE 'identity.%' AND payload LIKE ?",
                          (f"%{mention}%",))
            await run(f"DELETE FROM sso_links WHERE person_id = ? OR account_id IN ({ids})", (person_id,))
            for table in ("console_links", "console_sessions"):
                await run(f"DELETE FROM {table} WHERE person_id = ?", (person_id,))
            await run(f"DELETE FROM conversations WHERE account_id IN ({ids})")
            await run(f"DELETE FROM offered_choices WHERE account_id IN ({ids})")
            kept["accounts_deleted"] = await run(f"DELETE FROM accounts WHERE id IN ({ids})")
            await run("DELETE FROM invites WHERE person_id = ?", (person_id,))
            await run("DELETE FROM person_classes WHERE person_id = ?", (person_id,))
            await run(
                "UPDATE people SET person_no = NULL, name = NULL, dorm = NULL, class_id = NULL, tags = '',"
                " wecom_userid = NULL,"
                " forgotten_at = ?, opted_out = 1 WHERE id = ?", (now, person_id))
            if number:
                await conn.execute("INSERT INTO tombstones (number_hash, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                                   (await self._tombstone_hash(conn, number), now))
        return kept

    async def _tombstone_key(self, conn) -> bytes:
        async with conn.execute("SELECT value FROM kv WHERE key = 'tombstone_key'") as cursor:
            row = await cursor.fetchone()
        if row is not None:
            return bytes.fromhex(row[0])
        key = secrets.token_bytes(32)
        await conn.execute("INSERT INTO kv (key, value, updated_at) VALUES ('tombstone_key', ?, ?)",
                           (key.hex(), iso(self.clock.now())))
        return key

    async def _tombstone_hash(self, conn, number: str) -> str:
        """The keyed hash a forgotten number is remembered by (case folded, as numbers are matched)."""
        key = await self._tombstone_key(conn)
        return hmac.new(key, number.strip().upper().encode(), hashlib.sha256).hexdigest()

    async def tombstoned(self, numbers: list[str]) -> set[str]:
        """Which of these numbers belong to forgotten people."""
        async with self.db.transaction() as conn:
            found = set()
            for number in numbers:
                digest = await self._tombstone_hash(conn, number)
                async with conn.execute("SELECT 1 FROM tombstones WHERE number_hash = ?", (digest,)) as cursor:
                    if await cursor.fetchone():
                        found.add(number)
        return found

    async def restore(self, number: str) -> bool:
        """Lift the tombstone of a number so the next import adds the person again; False if there was none."""
        async with self.db.transaction() as conn:
            digest = await self._tombstone_hash(conn, number)
            cursor = await conn.execute("DELETE FROM tombstones WHERE number_hash = ?", (digest,))
            return bool(cursor.rowcount)
