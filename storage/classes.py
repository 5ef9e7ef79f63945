"""Classes and their join codes."""

from __future__ import annotations

import secrets

from storage.db import Database
from storage.records import ClassRecord, from_row
from storage.times import iso

# No 0/O, 1/I/L: codes are read aloud and typed on phones.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_join_code(length: int = 6) -> str:
    """A random class join code."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


class ClassRepo:
    """Classes: name, college, join code."""

    def __init__(self, db: Database, clock) -> None:
        self.db, self.clock = db, clock

    async def get(self, class_id: int) -> ClassRecord | None:
        """A class by id."""
        return from_row(ClassRecord, await self.db.fetchone("SELECT * FROM classes WHERE id = ?", (class_id,)))

    async def by_name(self, name: str) -> ClassRecord | None:
        """A class by its name."""
        return from_row(ClassRecord, await self.db.fetchone("SELECT * FROM classes WHERE name = ?", (name,)))

    async def by_code(self, code: str) -> ClassRecord | None:
        """A class by join code (case-insensitive)."""
        row = await self.db.fetchone("SELECT * FROM classes WHERE join_code = ?", (code.strip().upper(),))
        return from_row(ClassRecord, row)

    async def ensure(self, name: str, college: str, conn=None, is_demo: bool = False) -> int:
        """Return the id of the class called name, creating it with a fresh code."""
        sql_get = "SELECT id, college FROM classes WHERE name = ?"
        if conn is None:
            async with self.db.transaction() as c:
                return await self._ensure(c, sql_get, name, college, is_demo)
        return await self._ensure(conn, sql_get, name, college, is_demo)

    async def _ensure(self, conn, sql_get, name, college, is_demo) -> int:
        async with conn.execute(sql_get, (name,)) as cursor:
            row = await cursor.fetchone()
        if row is not None:
            if college and row["college"] != college:
                await conn.execute("UPDATE classes SET college = ? WHERE id = ?", (college, row["id"]))
            return row["id"]
        while True:
            code = new_join_code()
            async with conn.execute("SELECT 1 FROM classes WHERE join_code = ?", (code,)) as cursor:
                if await cursor.fetchone() is None:
                    break
        cursor = await conn.execute(
            "INSERT INTO classes (name, college, join_code, is_demo, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
            (name, college, code, int(is_demo), iso(self.clock.now())),
        )
        return (await cursor.fetchone())[0]

    async def all(self) -> list[ClassRecord]:
        """Every class, by college then name."""
        rows = await self.db.fetchall("SELECT * FROM classes ORDER BY college, name")
        return [from_row(ClassRecord, r) for r in rows]

    async def count(self) -> int:
        """How many classes exist."""
        return await self.db.fetchval("SELECT COUNT(*) FROM classes")

    async def colleges(self) -> list[str]:
        """Every college name that has a class."""
        rows = await self.db.fetchall("SELECT DISTINCT college FROM classes WHERE college != '' ORDER BY college")
        return [r[0] for r in rows]
