"""Storage: migrations on empty and existing databases, write transactions, backup."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from storage.db import available_migrations
from storage.sqlite import SqliteDatabase as Database


async def test_migrations_on_an_empty_database(tmp_path):
    db = await Database(tmp_path / "w.db").open()
    try:
        latest = available_migrations()[-1][0]
        assert await db.schema_version() == latest
        tables = {r[0] for r in await db.fetchall("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"people", "accounts", "classes", "conversations", "pledges", "checkins", "quiz_attempts",
                "reports", "outbox", "audit_log"} <= tables
        assert (await db.fetchone("PRAGMA journal_mode"))[0] == "wal"
    finally:
        await db.close()


async def test_migrations_on_an_existing_database_keep_data_and_apply_only_new_ones(tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_first.sql").write_text("CREATE TABLE t (x INTEGER);", encoding="utf-8")
    db = Database(tmp_path / "w.db")
    await db.open(migrate=False)
    assert await db.upgrade(folder) == [1]
    await db.execute("INSERT INTO t (x) VALUES (7)")
    (folder / "0002_second.sql").write_text(
        "-- a comment; with a semicolon\nALTER TABLE t ADD COLUMN y TEXT DEFAULT 'z';", encoding="utf-8")
    assert await db.upgrade(folder) == [2]
    assert await db.upgrade(folder) == []
    row = await db.fetchone("SELECT x, y FROM t")
    assert (row[0], row[1]) == (7, "z")
    await db.close()


async def test_failed_transaction_rolls_back(tmp_path):
    db = await Database(tmp_path / "w.db").open()
    try:
        try:
            async with db.transaction() as conn:
                await conn.execute(
                    "INSERT INTO kv (key, value, updated_at) VALUES ('a', 'b', 'now')")
                raise RuntimeError("boom")
        except RuntimeError:
            pass
        assert await db.fetchval("SELECT COUNT(*) FROM kv") == 0
    finally:
        await db.close()


async def test_backup_is_a_consistent_copy(tmp_path):
    db = await Database(tmp_path / "live.db").open()
    await db.execute("INSERT INTO kv (key, value, updated_at) VALUES ('k', 'v', 'now')")
    await db.backup(tmp_path / "copy.db")
    await db.close()
    copy = sqlite3.connect(Path(tmp_path / "copy.db"))
    assert copy.execute("SELECT value FROM kv WHERE key = 'k'").fetchone()[0] == "v"
    copy.close()


async def test_a_lower_numbered_migration_that_arrives_later_still_runs(tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_first.sql").write_text("CREATE TABLE a (x INTEGER);", encoding="utf-8")
    (folder / "0003_third.sql").write_text("CREATE TABLE c (x INTEGER);", encoding="utf-8")
    db = Database(tmp_path / "w.db")
    await db.open(migrate=False)
    assert await db.upgrade(folder) == [1, 3]
    (folder / "0002_second.sql").write_text("CREATE TABLE b (x INTEGER);", encoding="utf-8")
    assert await db.upgrade(folder) == [2]
    assert await db.schema_version() == 3
    await db.close()


async def test_group_commit_batches_concurrent_writes_and_each_caller_sees_its_own(tmp_path):
    import asyncio

    from storage.db import GroupCommit

    db = await Database(tmp_path / "w.db").open()
    try:
        writer = GroupCommit(db, "INSERT INTO kv (key, value, updated_at) VALUES (?, ?, 'now')")
        await asyncio.gather(*(writer.run((f"k{i}", str(i))) for i in range(50)))
        assert await db.fetchval("SELECT COUNT(*) FROM kv") == 50
        failing = GroupCommit(db, "INSERT INTO no_such_table VALUES (?)")
        try:
            await failing.run((1,))
        except Exception as exc:  # the caller gets the database's error
            assert "no_such_table" in str(exc)
        else:
            raise AssertionError("the failed write was not reported")
    finally:
        await db.close()


async def _legacy_database(path: Path, skip: set[str], record: bool) -> None:
    """A database as an older commit left it: user_version 7 and migrations 0005-0006 never run."""
    from storage.sqlite import _split_sql

    conn = sqlite3.connect(path)
    for number, migration in available_migrations():
        if number > 7 or migration.name[:4] in skip:
            continue
        for statement in _split_sql(migration.read_text(encoding="utf-8")):
            conn.execute(statement)
    if record:   # the old runner recorded numbers up to user_version as applied without running them
        conn.execute("CREATE TABLE schema_migrations (number INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                     " applied_at TEXT NOT NULL DEFAULT 'x')")
        conn.executemany("INSERT INTO schema_migrations (number, name) VALUES (?, ?)",
                         [(n, p.name) for n, p in available_migrations() if n <= 7])
    conn.execute("PRAGMA user_version=7")
    conn.commit()
    conn.close()


async def test_migrations_missing_below_user_version_run_whatever_the_records_say(tmp_path):
    for record in (False, True):
        path = tmp_path / f"old-{record}.db"
        await _legacy_database(path, {"0005", "0006"}, record)
        db = await Database(path).open()
        try:
            tables = {r[0] for r in await db.fetchall("SELECT name FROM sqlite_master WHERE type='table'")}
            assert {"wechat_interactions", "office_warnings", "inbox"} <= tables
            numbers = {r[0] for r in await db.fetchall("SELECT number FROM schema_migrations")}
            assert numbers == {n for n, _ in available_migrations()}
            assert await db.upgrade() == []
        finally:
            await db.close()


async def test_a_half_applied_migration_is_refused_in_one_line_and_nothing_changes(tmp_path):
    import pytest

    from storage.db import UpgradeError

    path = tmp_path / "half.db"
    await _legacy_database(path, {"0005", "0006"}, record=False)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE office_warnings (id INTEGER)")   # 0006 only partly there
    conn.commit()
    before = conn.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    conn.close()
    with pytest.raises(UpgradeError) as raised:
        await Database(path).open()
    assert "0006_office.sql" in str(raised.value) and "\n" not in str(raised.value)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == before
    conn.close()


async def test_a_failing_migration_rolls_the_whole_upgrade_back(tmp_path):
    import pytest

    from storage.db import UpgradeError

    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_first.sql").write_text("CREATE TABLE a (x INTEGER);", encoding="utf-8")
    (folder / "0002_bad.sql").write_text("CREATE TABLE b (x INTEGER); INSERT INTO nowhere VALUES (1);",
                                         encoding="utf-8")
    db = Database(tmp_path / "w.db")
    await db.open(migrate=False)
    with pytest.raises(UpgradeError, match=r"0002_bad\.sql"):
        await db.upgrade(folder)
    assert await db.fetchval("SELECT COUNT(*) FROM sqlite_master WHERE name IN ('a', 'b')") == 0
    await db.close()
