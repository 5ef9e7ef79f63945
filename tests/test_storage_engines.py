"""The Database interface behaves the same on SQLite and on PostgreSQL: one dialect, one set of promises."""

from __future__ import annotations

import asyncio
import os

import psycopg
import pytest

from storage.db import DatabaseError, UpgradeError, database_for
from storage.postgres import scratch_database
from tests import postgres_support


@pytest.fixture
async def db(database):
    """The fresh database of this run's engine, opened and migrated."""
    opened = await database_for(database).open()
    yield opened
    await opened.close()


async def test_placeholders_rows_returning_and_counts(db):
    await db.execute("INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?)", ("a%?", "it's 100% ?", "t"))
    row = await db.fetchone("SELECT key, value FROM kv WHERE key = ? AND value LIKE '%100%%'", ("a%?",))
    assert (row[0], row["value"]) == ("a%?", "it's 100% ?")
    assert dict(row) == {"key": "a%?", "value": "it's 100% ?"}
    class_id = await db.execute("INSERT INTO classes (name, college, join_code, created_at) VALUES (?, ?, ?, ?)"
                                " RETURNING id", ("计科2301", "计算机学院", "C1", "t"))
    assert class_id == await db.fetchval("SELECT id FROM classes WHERE name = ?", ("计科2301",))
    assert await db.execute("UPDATE classes SET college = ? WHERE id > ?", ("x", 0)) == 1
    assert await db.fetchval("SELECT ? IS NULL", (None,)) in (1, True)


async def test_a_transaction_counts_changes_and_rolls_back_whole(db):
    async with db.transaction() as conn:
        before = conn.total_changes
        await conn.executemany("INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                               [("k1", "v", "t"), ("k2", "v", "t"), ("k1", "again", "t")])
        assert conn.total_changes - before == 2
        async with conn.execute("UPDATE kv SET value = ? WHERE key LIKE ? RETURNING key", ("w", "k%")) as cursor:
            assert sorted(r[0] for r in await cursor.fetchall()) == ["k1", "k2"]
    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            await conn.execute("DELETE FROM kv")
            raise RuntimeError("half done")
    assert await db.fetchval("SELECT COUNT(*) FROM kv") == 2


async def test_sums_and_averages_come_back_as_plain_numbers(db):
    await db.executemany("INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?)",
                         [(f"n{i}", str(i), "t") for i in range(4)])
    total, average = await db.fetchone("SELECT SUM(CAST(value AS INTEGER)), AVG(CAST(value AS INTEGER)) FROM kv")
    assert (total, average) == (6, 1.5) and type(total) is int and type(average) is float
    flags = await db.fetchval("SELECT COUNT(*) FILTER (WHERE CAST(value AS INTEGER) > ?) FROM kv", (True,))
    assert flags == 2


async def test_upgrading_twice_changes_nothing_and_a_newer_database_is_refused(db):
    assert await db.upgrade() == []
    version = await db.schema_version()
    assert version >= 40
    await db.execute("INSERT INTO schema_migrations (number, name) VALUES (?, ?)", (9999, "9999_future.sql"))
    try:
        with pytest.raises(UpgradeError):
            await db.upgrade()
    finally:
        await db.execute("DELETE FROM schema_migrations WHERE number = 9999")


async def test_two_processes_starting_together_migrate_once(database):
    if not database.startswith("postgresql"):
        pytest.skip("one SQLite file has one server")
    with scratch_database(postgres_support.SERVER_URL, f"wuzha_test_race_{os.getpid()}") as url:
        first, second = database_for(url), database_for(url)
        await asyncio.gather(first.open(), second.open())
        assert await first.schema_version() == await second.schema_version() >= 40
        await first.close()
        await second.close()


async def test_a_write_behind_a_held_lock_fails_instead_of_hanging(db, database):
    if not database.startswith("postgresql"):
        pytest.skip("the SQLite busy timeout has its own tests (test_db_faults)")
    from storage import postgres

    with psycopg.connect(database, autocommit=True) as holder:
        holder.execute("BEGIN")
        holder.execute("LOCK TABLE kv IN SHARE MODE")        # another process holds the table
        old, postgres.LOCK_TIMEOUT_MS = postgres.LOCK_TIMEOUT_MS, 200
        short = await database_for(database).open()
        postgres.LOCK_TIMEOUT_MS = old
        try:
            with pytest.raises(DatabaseError):
                await short.execute("INSERT INTO kv (key, value, updated_at) VALUES ('x', 'y', 't')")
            assert await short.fetchval("SELECT COUNT(*) FROM kv") == 0     # reads go on
        finally:
            await short.close()
            holder.execute("ROLLBACK")


def test_both_engines_have_the_same_migrations():
    from storage.db import MIGRATIONS_DIR, POSTGRES_MIGRATIONS_DIR, available_migrations

    sqlite_names = [path.name for _, path in available_migrations(MIGRATIONS_DIR)]
    postgres_names = [path.name for _, path in available_migrations(POSTGRES_MIGRATIONS_DIR)]
    assert sqlite_names == postgres_names


async def test_both_engines_build_the_same_tables_and_columns(tmp_path, postgres_run):
    if postgres_run is None:
        pytest.skip("no PostgreSQL test server (WUZHA_TEST_POSTGRES)")
    sqlite = await database_for(tmp_path / "w.db").open()
    postgres = await database_for(postgres_run.fresh()).open()
    try:
        lite = {}
        for (table,) in await sqlite.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'"
                                              " AND name NOT LIKE 'sqlite_%'"):
            lite[table] = {row[1] for row in await sqlite.fetchall(f"SELECT * FROM pragma_table_info('{table}')")}
        pg: dict[str, set[str]] = {}
        for table, column in await postgres.fetchall(
                "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"):
            pg.setdefault(table, set()).add(column)
        assert lite == pg
    finally:
        await sqlite.close()
        await postgres.close()
