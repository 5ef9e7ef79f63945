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


def test_a_second_serve_on_the_same_database_is_refused_in_one_line(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time
    import urllib.request

    from tests.test_cli import free_port

    port = free_port()
    env = {**os.environ, "WUZHA_DB": str(tmp_path / "w.db")}
    first = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--port", str(port)], cwd=tmp_path, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).close()
                break
            except OSError:
                time.sleep(0.2)
        second = wuzha(tmp_path, "serve", "--port", str(free_port()))
        assert second.returncode == 1
        assert second.stderr.strip().count("\n") == 0, second.stderr
        assert f"pid {first.pid}" in second.stderr and "running on" in second.stderr
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=30) == 0
    finally:
        if first.poll() is None:
            first.kill()
        first.communicate()


async def test_cli_commands_leave_a_live_servers_in_flight_rows_alone(tmp_path):
    from bot.app import App
    from bot.config import load_config
    from storage.outbox import OutboxRow

    config = load_config(None, db_override=str(tmp_path / "w.db"))
    app = await App(config).open()
    try:
        await app.store.outbox.enqueue([OutboxRow("telegram", "1", "c", {"text": "x"}, "k")])
        assert len(await app.store.outbox.claim("telegram", 10)) == 1     # the live server is sending it
        result = wuzha(tmp_path, "roster", "codes")
        assert result.returncode == 0, result.stderr
        assert (await app.store.outbox.counts())["inflight"] == 1
    finally:
        await app.close()


async def test_outbox_retry_dead_revives_rows_that_died_of_an_outage(tmp_path):
    from bot.app import App
    from bot.config import load_config
    from storage.outbox import OutboxRow

    config = load_config(None, db_override=str(tmp_path / "w.db"))
    app = await App(config).open()
    try:
        await app.store.outbox.enqueue([OutboxRow("telegram", str(i), "w", {"text": "x"}, f"k{i}") for i in range(3)])
        await app.store.db.execute("UPDATE outbox SET state = 'dead', attempts = 8, error = 'HTTP 502'")
        await app.store.db.execute("UPDATE outbox SET created_at = '2020-01-01T00:00:00+00:00' WHERE dedupe_key = 'k0'")
        result = wuzha(tmp_path, "outbox", "retry", "--dead", "--since", "2026-01-01")
        assert result.returncode == 0, result.stderr
        assert "2 dead outbox row(s) queued again" in result.stdout
        counts = await app.store.outbox.counts()
        assert (counts["pending"], counts["dead"]) == (2, 1)
        assert wuzha(tmp_path, "outbox", "retry", "--dead", "--since", "last tuesday").returncode == 2
        assert "1 dead outbox row(s)" in wuzha(tmp_path, "outbox", "retry", "--dead").stdout
    finally:
        await app.close()
