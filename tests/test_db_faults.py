"""The database under faults as an operator meets them: old files, a held lock, a backup before any repair."""

from __future__ import annotations

import sqlite3

from tests.test_cli import wuzha
from tests.test_storage import _legacy_database


async def test_backup_of_an_old_database_copies_it_as_it_is(tmp_path):
    await _legacy_database(tmp_path / "w.db", {"0005", "0006"}, record=True)
    result = wuzha(tmp_path, "backup", str(tmp_path / "copy.db"))
    assert result.returncode == 0, result.stderr
    for name in ("w.db", "copy.db"):
        conn = sqlite3.connect(tmp_path / name)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        conn.close()
        assert "office_warnings" not in tables and "inbox" not in tables, name


async def test_an_unupgradable_database_is_refused_in_one_line(tmp_path):
    await _legacy_database(tmp_path / "w.db", {"0005", "0006"}, record=False)
    conn = sqlite3.connect(tmp_path / "w.db")
    conn.execute("CREATE TABLE office_warnings (id INTEGER)")
    conn.commit()
    conn.close()
    result = wuzha(tmp_path, "db", "upgrade")
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "0006_office.sql" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_database_locked_by_another_process_at_start_is_one_line(tmp_path):
    wuzha(tmp_path, "db", "upgrade")
    holder = sqlite3.connect(tmp_path / "w.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = wuzha(tmp_path, "db", "upgrade")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "locked" in result.stderr, result.stderr
