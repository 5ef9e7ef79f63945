"""QA of the platform side as an operator runs it: concurrent traffic, restarts, config mistakes."""

from __future__ import annotations

import asyncio

from storage.db import Database


async def test_a_write_is_visible_to_the_next_read_while_other_reads_run(tmp_path):
    """300 people binding at once: each one's own row must be found right after it is written."""
    db = await Database(tmp_path / "race.db").open(migrate=False)
    try:
        await db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT UNIQUE)")
        await db.executemany("INSERT INTO t (k) VALUES (?)", [(f"seed{i}",) for i in range(50)])
        missing = []

        async def write_then_read(i: int) -> None:
            await db.execute("INSERT INTO t (k) VALUES (?)", (f"k{i}",))
            if await db.fetchone("SELECT id FROM t WHERE k = ?", (f"k{i}",)) is None:
                missing.append(i)

        async def read_first_of_many() -> None:
            for _ in range(20):
                await db.fetchone("SELECT k FROM t")

        await asyncio.gather(*(write_then_read(i) for i in range(300)), *(read_first_of_many() for _ in range(30)))
        assert missing == []
    finally:
        await db.close()
