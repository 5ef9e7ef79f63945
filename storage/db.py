"""The database, whichever engine holds it: the interface every repository uses, and what both engines share.

SQLite (a file path) is the embedded default; a `postgresql://` URL switches every repository to
PostgreSQL. Repositories write one SQL dialect, the subset both engines speak: `?` placeholders,
`INSERT … ON CONFLICT`, `RETURNING`, ISO text for times and 0/1 integers for flags.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import psycopg

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
POSTGRES_MIGRATIONS_DIR = MIGRATIONS_DIR / "postgresql"
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")

# What either driver raises for a locked, full, broken or unreachable database: callers outside storage catch
# this tuple (spread it, `except (*DatabaseError, OSError)`, to add more: an except clause takes no nested tuples).
DatabaseError = (sqlite3.Error, psycopg.Error)


class UpgradeError(Exception):
    """A database this code cannot upgrade, said in one line; nothing was changed."""


def is_postgres_url(target: str | Path) -> bool:
    """Whether a configured database names a PostgreSQL server rather than a SQLite file."""
    return str(target).startswith(("postgresql://", "postgres://"))


def available_migrations(folder: Path = MIGRATIONS_DIR) -> list[tuple[int, Path]]:
    """List (number, path) of the migration files, in order."""
    found = []
    for path in folder.glob("*.sql"):
        match = _MIGRATION_NAME.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


class Database:
    """One database: writes go through `transaction()` or `execute()`, reads through `fetch*`.

    A transaction's connection offers `execute(sql, params)` (awaitable, or an async context
    manager, giving a cursor with `fetchone()`, `fetchall()` and `rowcount`), `executemany` and
    `total_changes`; rows read by name (`row["id"]`) or position (`row[0]`).
    """

    kind = ""

    async def open(self, migrate: bool = True) -> Database:
        """Connect and, unless told not to, apply pending migrations."""
        raise NotImplementedError

    async def close(self) -> None:
        """Close every connection, waiting for a running write to finish."""
        raise NotImplementedError

    async def upgrade(self) -> list[int]:
        """Apply every migration the database lacks; return their numbers."""
        raise NotImplementedError

    async def schema_version(self) -> int:
        """The number of the last migration applied."""
        raise NotImplementedError

    def transaction(self) -> AbstractAsyncContextManager:
        """A write transaction that sees no other writer's half-done work: commits on success, rolls back on error."""
        raise NotImplementedError

    async def execute(self, sql: str, params: Sequence = ()) -> int:
        """Run one write statement in its own transaction; return the value its RETURNING row starts with, else rows changed."""
        raise NotImplementedError

    async def executemany(self, sql: str, rows: Iterable[Sequence]) -> None:
        """Run one write statement for many rows in a single transaction."""
        async with self.transaction() as conn:
            await conn.executemany(sql, rows)

    async def fetchone(self, sql: str, params: Sequence = ()):
        """Read one row (committed data only)."""
        raise NotImplementedError

    async def fetchall(self, sql: str, params: Sequence = ()) -> list:
        """Read all rows (committed data only)."""
        raise NotImplementedError

    async def fetchval(self, sql: str, params: Sequence = ()):
        """Read the first column of the first row, or None."""
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    def describe(self) -> str:
        """Where the database is, for messages (a file path, or a URL without its password)."""
        raise NotImplementedError

    def string_agg(self, expression: str, separator: str) -> str:
        """The SQL that joins a group's values with a separator (the one aggregate the engines spell differently)."""
        raise NotImplementedError

    # Appended to a claim's inner SELECT: rows another process has locked are passed over, not waited for.
    # SQLite has one writer at a time, so there is nothing to skip there.
    skip_locked = ""


def database_for(target: str | Path) -> Database:
    """The (unopened) database a configured path or URL names."""
    if is_postgres_url(target):
        from storage.postgres import PostgresDatabase
        return PostgresDatabase(str(target))
    from storage.sqlite import SqliteDatabase
    return SqliteDatabase(target)


class GroupCommitQueue:
    """Hands items to one batch writer, batching those that arrive while a write is under way.

    Each caller's `put` returns once its own item is written (or raises the write's error), so the
    semantics of a single write are kept; under load, the items that queued up meanwhile go in the next write.
    """

    def __init__(self, write: Callable[[list], Awaitable[object]]) -> None:
        self.write = write
        self._waiting: list[tuple[object, asyncio.Future]] = []
        self._writer: asyncio.Task | None = None

    async def put(self, item) -> None:
        """Write one item; return when it is written."""
        done = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all())
        await done

    async def flush(self) -> None:
        """Wait until every item put so far is written (or failed)."""
        if self._writer is not None:
            await asyncio.shield(self._writer)

    async def _write_all(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                await self.write([item for item, _ in batch])
            except Exception as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)


class GroupCommit(GroupCommitQueue):
    """Runs one write statement for many callers, batching those that arrive together into one transaction."""

    def __init__(self, db: Database, sql: str) -> None:
        super().__init__(lambda rows: db.executemany(sql, rows))
        self.db, self.sql = db, sql

    async def run(self, params: Sequence) -> None:
        """Write one row's statement; return when it is committed."""
        await self.put(params)

