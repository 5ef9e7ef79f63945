"""The SQLite database: one writer connection, one reader, WAL and forward-only migrations."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from storage.db import MIGRATIONS_DIR, Database, UpgradeError, available_migrations

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000


class SqliteDatabase(Database):
    """The project's SQLite file: writes go through `transaction()`, reads through `fetch*`."""

    kind = "sqlite"

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()

    async def open(self, migrate: bool = True) -> Database:
        """Open both connections and, unless told not to, apply pending migrations."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = await self._connect()
        try:
            async with self._writer.execute("PRAGMA journal_mode=WAL") as cursor:
                await cursor.fetchone()  # finish the statement so it holds no lock
            if migrate:
                await self.upgrade()
            self._reader = await self._connect()
        except BaseException:     # a locked or unupgradable file: no connection thread left to hang the exit
            await self.close()
            raise
        return self

    async def _connect(self) -> aiosqlite.Connection:
        # isolation_level=None: we issue BEGIN IMMEDIATE ourselves.
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        await conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    async def close(self) -> None:
        """Close both connections, waiting for a running write to finish."""
        async with self._write_lock:
            for conn in (self._reader, self._writer):
                if conn is not None:
                    await conn.close()
            self._reader = self._writer = None

    async def schema_version(self) -> int:
        """The number of the last migration applied."""
        assert self._writer is not None
        async with self._writer.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0])

    def describe(self) -> str:
        """The file's path."""
        return str(self.path)

    def string_agg(self, expression: str, separator: str) -> str:
        """SQLite's group_concat."""
        return f"group_concat({expression}, {separator})"

    async def upgrade(self, folder: Path = MIGRATIONS_DIR) -> list[int]:
        """Apply every migration the database lacks, recording each by number, all in one transaction.

        What is applied is read from the schema itself (the tables and columns each migration adds), not from `user_version` nor only from the records: a database from an older commit
        whose records claim migrations that never ran gets them run, and one a migration reached only
        half of is refused with `UpgradeError` before anything is changed. A migration that fails rolls
        the whole upgrade back.
        """
        assert self._writer is not None
        migrations = available_migrations(folder)
        plan = await self._plan(migrations)
        applied = []
        async with self.transaction() as conn:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (number INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))"
            )
            for number, path, action in plan:
                if action == "run":
                    try:
                        for statement in _split_sql(path.read_text(encoding="utf-8")):
                            await conn.execute(statement)
                    except sqlite3.Error as exc:
                        raise UpgradeError(f"database {self.path}: migration {path.name} failed ({exc});"
                                           " nothing was changed") from exc
                    applied.append(number)
                await conn.execute("INSERT OR REPLACE INTO schema_migrations (number, name) VALUES (?, ?)",
                                   (number, path.name))
            if migrations:
                await conn.execute(f"PRAGMA user_version={migrations[-1][0]}")
        for number in applied:
            log.info("applied migration %04d", number)
        return applied

    async def _plan(self, migrations: list[tuple[int, Path]]) -> list[tuple[int, Path, str]]:
        """(number, path, 'run' or 'record') for each migration not both recorded and present."""
        assert self._writer is not None
        tables = await self._writer.execute_fetchall("SELECT name FROM sqlite_master WHERE name = 'schema_migrations'")
        recorded = set()
        if tables:
            recorded = {row[0] for row in await self._writer.execute_fetchall("SELECT number FROM schema_migrations")}
        newest = max((number for number, _ in migrations), default=0)
        if recorded and max(recorded) > newest:
            raise UpgradeError(f"database {self.path} has migration {max(recorded):04d}, newer than this code knows;"
                               " run the newer wuzha")
        objects = {(row[0], row[1]) for row in await self._writer.execute_fetchall(
            "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")}
        footprints = [(number, path, _footprint(path.read_text(encoding="utf-8"))) for number, path in migrations]
        dropped_later: set[tuple[str, str]] = set()
        plan = []
        for number, path, (created, columns, dropped) in reversed(footprints):
            marks = created - dropped_later
            present = {mark for mark in marks if mark in objects}
            present_columns = set()
            for table, column in columns:
                if ("table", table) in objects and column in await self._columns(table):
                    present_columns.add((table, column))
            have, total = len(present) + len(present_columns), len(marks) + len(columns)
            if total and 0 < have < total:
                missing = sorted({name for _, name in marks - present} | {f"{t}.{c}" for t, c in columns - present_columns})
                raise UpgradeError(f"database {self.path} cannot be upgraded: migration {path.name} is only partly"
                                   f" applied (missing {', '.join(missing[:5])}); restore a backup")
            if total and have == 0:
                plan.append((number, path, "run"))
            elif number not in recorded:
                plan.append((number, path, "record" if total else "run"))
            dropped_later |= dropped
        return sorted(plan)

    async def _columns(self, table: str) -> set[str]:
        assert self._writer is not None
        return {row[1] for row in await self._writer.execute_fetchall(f'PRAGMA table_info("{table}")')}

    @asynccontextmanager
    async def transaction(self, serial: bool = True) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction (BEGIN IMMEDIATE: every write is serial here): commits on success, rolls back on error."""
        assert self._writer is not None, "database is not open"
        async with self._write_lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                await self._writer.execute("ROLLBACK")
                raise
            else:
                await self._writer.execute("COMMIT")

    async def execute(self, sql: str, params: Sequence | dict = ()) -> int:
        """Run one write statement in its own transaction; return the value its RETURNING row starts with, else rows changed."""
        assert self._writer is not None, "database is not open"
        # BEGIN IMMEDIATE, the statement and COMMIT in one trip to the writer's thread: the write lock is
        # held for one turn of a busy event loop instead of three (every inbound update writes once).
        async with self._write_lock:
            return await self._writer._execute(_execute_immediate, self._writer._conn, sql, params)

    async def fetchone(self, sql: str, params: Sequence | dict = ()) -> sqlite3.Row | None:
        """Read one row (committed data only)."""
        conn = self._read_conn()
        return await conn._execute(_read, conn._conn, sql, params, True)

    async def fetchall(self, sql: str, params: Sequence | dict = ()) -> list[sqlite3.Row]:
        """Read all rows (committed data only)."""
        conn = self._read_conn()
        return await conn._execute(_read, conn._conn, sql, params, False)

    def _read_conn(self) -> aiosqlite.Connection:
        conn = self._reader or self._writer
        assert conn is not None, "database is not open"
        return conn

    async def backup(self, target: Path | str) -> None:
        """Write a consistent copy of the live database to target (SQLite online backup)."""
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            target.unlink()
        destination = await aiosqlite.connect(target)
        try:
            await self._read_conn().backup(destination)
        finally:
            await destination.close()


def _split_sql(script: str) -> list[str]:
    """Split a migration script into complete statements, comments and all."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip() and not all(ln.strip().startswith("--") or not ln.strip() for ln in buffer.splitlines()):
        raise ValueError(f"incomplete SQL statement at the end of a migration: {buffer[:60]!r}")
    return statements


_CREATED = re.compile(r"CREATE\s+(TABLE)\s+(?:IF\s+NOT\s+EXISTS\s+)?[\"`]?(\w+)", re.I)
_ADDED = re.compile(r"ALTER\s+TABLE\s+[\"`]?(\w+)[\"`]?\s+ADD\s+(?:COLUMN\s+)?[\"`]?(\w+)", re.I)
_DROPPED = re.compile(r"DROP\s+(TABLE)\s+(?:IF\s+EXISTS\s+)?[\"`]?(\w+)", re.I)


def _footprint(script: str) -> tuple[set[tuple[str, str]], set[tuple[str, str]], set[tuple[str, str]]]:
    """What a migration leaves in the schema: tables created, (table, column)s added, tables dropped."""
    code = "\n".join(line.split("--", 1)[0] for line in script.splitlines())
    created = {(kind.lower(), name) for kind, name in _CREATED.findall(code)}
    dropped = {(kind.lower(), name) for kind, name in _DROPPED.findall(code)}
    columns = set(_ADDED.findall(code))
    return created - dropped, columns, dropped


def _read(conn: sqlite3.Connection, sql: str, params, one: bool):
    """One query, run and closed in one turn of the connection's thread.

    A cursor left open between turns keeps its read transaction, and with it an old snapshot, for
    every other query on the shared reader: a row committed meanwhile (an account just created) was
    not found by the very coroutine that wrote it.
    """
    cursor = conn.execute(sql, params)
    try:
        return cursor.fetchone() if one else cursor.fetchall()
    finally:
        cursor.close()


def _execute_immediate(conn: sqlite3.Connection, sql: str, params) -> int:
    """One statement in its own write transaction, run in the connection's thread; see `Database.execute`."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        cursor = conn.execute(sql, params)
        returned = cursor.fetchone() if cursor.description else None
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return returned[0] if returned else max(cursor.rowcount, 0)
