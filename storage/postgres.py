"""The PostgreSQL database: a psycopg 3 connection pool, the shared SQL dialect, advisory locks and migrations."""

from __future__ import annotations

import logging
import re
import zlib
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.adapt import Loader
from psycopg.types.numeric import IntDumper
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from storage.db import POSTGRES_MIGRATIONS_DIR, Database, UpgradeError, available_migrations

log = logging.getLogger(__name__)

POOL_SIZE = 10
# A write that waits this long for a lock fails (DatabaseError) instead of hanging the event it serves:
# the same bound SQLite's busy timeout sets, so a stalled database gets the same answers (503, retry later).
LOCK_TIMEOUT_MS = 5000
# Every write transaction takes this transaction-level advisory lock first, so transactions that
# read, decide and write see no other writer's half-done work, on any process: the same promise
# SQLite's BEGIN IMMEDIATE gives. Hot paths built for concurrency (outbox claims, inbox moves)
# ask for `transaction(serial=False)` and rely on row locks instead.
WRITE_LOCK = 0x77757A6861   # "wuzha"
MIGRATION_LOCK = WRITE_LOCK + 1


def lock_key(name: str) -> int:
    """The advisory-lock number for a named lock (stable across processes and versions)."""
    return WRITE_LOCK + 16 + zlib.crc32(name.encode("utf-8"))


def database_on(server_url: str, name: str) -> str:
    """The URL of another database on the same server."""
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


@contextmanager
def scratch_database(server_url: str, name: str, keep: bool = False) -> Iterator[str]:
    """A new, empty database on a server for the length of the block (benches, tests); yields its URL."""
    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(drop)
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_on(server_url, name)
    finally:
        if not keep:
            with psycopg.connect(server_url, autocommit=True) as admin:
                admin.execute(drop)


class Row(tuple):
    """A row readable by position or by column name, like sqlite3.Row."""

    __slots__ = ()
    _names: dict[str, int] = {}

    def __getitem__(self, key):
        if isinstance(key, str):
            return tuple.__getitem__(self, self._names[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        """The column names, in order."""
        return list(self._names)


@lru_cache(maxsize=512)
def _row_class(names: tuple[str, ...]) -> type[Row]:
    return type("Row", (Row,), {"__slots__": (), "_names": {name: i for i, name in enumerate(names)}})


def _row_factory(cursor):
    description = cursor.description
    if description is None:
        return tuple
    cls = _row_class(tuple(column.name for column in description))
    return lambda values: cls(values)


class _NumberLoader(Loader):
    """numeric as SQLite gives it: a SUM of integers (no decimal point) as int, an AVG as float; no Decimals."""

    def load(self, data) -> int | float:
        text = bytes(data).decode()
        return float(text) if "." in text or "e" in text.lower() else int(text)


class _FlagDumper(IntDumper):
    """True and False as 1 and 0: flags are integer columns in both engines."""

    def quote(self, obj) -> bytes:
        return b"1" if obj else b"0"

    def dump(self, obj) -> bytes:
        return b"1" if obj else b"0"


_PLACEHOLDER = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"|(\?)|(%)")


@lru_cache(maxsize=4096)
def to_psycopg(sql: str) -> str:
    """The shared dialect's statement with psycopg's placeholders: `?` becomes `%s`, a literal `%` becomes `%%`."""
    def swap(match: re.Match) -> str:
        if match.group(1):
            return "%s"
        if match.group(2):
            return "%%"
        return match.group(0).replace("%", "%%")
    return _PLACEHOLDER.sub(swap, sql)


def _count(status: str | None) -> int:
    """Rows changed, from a command status such as 'UPDATE 3' or 'INSERT 0 1'."""
    if not status:
        return 0
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class _Result:
    """A statement's outcome inside a transaction: its rows, fetched already, and how many rows it changed."""

    def __init__(self, rows: list, rowcount: int) -> None:
        self._rows, self.rowcount = rows, rowcount

    async def fetchone(self):
        """The first row, or None."""
        return self._rows[0] if self._rows else None

    async def fetchall(self) -> list:
        """Every row."""
        return list(self._rows)

    async def close(self) -> None:
        """Nothing to release: the rows were read when the statement ran."""


class _Pending:
    """A statement to run: awaited, or used as `async with`, like aiosqlite's execute."""

    def __init__(self, tx: _Transaction, sql: str, params: Sequence) -> None:
        self.tx, self.sql, self.params = tx, sql, params

    def __await__(self):
        return self.tx._run(self.sql, self.params).__await__()

    async def __aenter__(self) -> _Result:
        return await self.tx._run(self.sql, self.params)

    async def __aexit__(self, *exc) -> None:
        return None


class _Transaction:
    """The connection a `transaction()` block writes through."""

    def __init__(self, conn: psycopg.AsyncConnection) -> None:
        self.conn = conn
        self.total_changes = 0

    def execute(self, sql: str, params: Sequence = ()) -> _Pending:
        """Run one statement; await it or use it as `async with … as cursor`."""
        return _Pending(self, sql, params)

    async def _run(self, sql: str, params: Sequence) -> _Result:
        cursor = await self.conn.execute(to_psycopg(sql), tuple(params))
        rows = await cursor.fetchall() if cursor.description is not None else []
        changed = max(cursor.rowcount, 0) if not sql.lstrip().upper().startswith("SELECT") else 0
        self.total_changes += changed
        return _Result(rows, changed)

    async def executemany(self, sql: str, rows: Iterable[Sequence]) -> None:
        """Run one statement for many rows."""
        rows = [tuple(row) for row in rows]
        if not rows:
            return
        async with self.conn.cursor() as cursor:
            await cursor.executemany(to_psycopg(sql), rows)
            self.total_changes += max(cursor.rowcount, 0)


def _configure_adapters(adapters) -> None:
    adapters.register_loader("numeric", _NumberLoader)
    adapters.register_dumper(bool, _FlagDumper)


async def _configure(conn: psycopg.AsyncConnection) -> None:
    _configure_adapters(conn.adapters)


class PostgresDatabase(Database):
    """A PostgreSQL database named by a `postgresql://` URL, shared by any number of processes."""

    kind = "postgresql"
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str, pool_size: int = POOL_SIZE) -> None:
        self.url = url
        self.pool_size = pool_size
        self._pool: AsyncConnectionPool | None = None

    async def open(self, migrate: bool = True) -> PostgresDatabase:
        """Open the pool and, unless told not to, apply pending migrations."""
        pool = AsyncConnectionPool(
            self.url, min_size=1, max_size=self.pool_size, open=False, configure=_configure, timeout=15,
            kwargs={"autocommit": True, "row_factory": _row_factory, "cursor_factory": psycopg.AsyncClientCursor,
                    "options": f"-c lock_timeout={LOCK_TIMEOUT_MS}"},
        )
        try:
            await pool.open(wait=True, timeout=15)
        except (TimeoutError, PoolTimeout, psycopg.OperationalError) as exc:   # the server is not there in time
            await pool.close()
            raise psycopg.OperationalError(f"cannot reach {self.describe()}: {exc}") from exc
        self._pool = pool
        try:
            if migrate:
                await self.upgrade()
        except BaseException:
            await self.close()
            raise
        return self

    async def close(self) -> None:
        """Close the pool, waiting for connections in use to come back."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    def describe(self) -> str:
        """The URL without its password."""
        parts = urlsplit(self.url)
        netloc = parts.netloc
        if "@" in netloc and ":" in netloc.split("@", 1)[0]:
            user = netloc.split("@", 1)[0].split(":", 1)[0]
            netloc = f"{user}:***@{netloc.split('@', 1)[1]}"
        return urlunsplit(parts._replace(netloc=netloc))

    def string_agg(self, expression: str, separator: str) -> str:
        """PostgreSQL's string_agg."""
        return f"string_agg({expression}, {separator})"

    def _require_pool(self) -> AsyncConnectionPool:
        assert self._pool is not None, "database is not open"
        return self._pool

    async def schema_version(self) -> int:
        """The number of the last migration applied."""
        return int(await self.fetchval("SELECT COALESCE(MAX(number), 0) FROM schema_migrations") or 0)

    async def upgrade(self, folder: Path = POSTGRES_MIGRATIONS_DIR) -> list[int]:
        """Apply every migration the database lacks, in one transaction, one process at a time.

        Two processes starting together do not both migrate: the second waits for the first's lock,
        then finds nothing left to do. A database newer than this code is refused.
        """
        migrations = available_migrations(folder)
        known = {number for number, _ in migrations}
        applied = []
        async with self._require_pool().connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (number BIGINT PRIMARY KEY, name TEXT NOT NULL,"
                " applied_at TEXT NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'))")
            recorded = {row[0] for row in await (await conn.execute("SELECT number FROM schema_migrations")).fetchall()}
            unknown = sorted(recorded - known)
            if unknown and unknown[-1] > max(known, default=0):
                raise UpgradeError(f"database {self.describe()} has migration {unknown[-1]:04d}, newer than this"
                                   " code knows; run the newer wuzha")
            for number, path in migrations:
                if number in recorded:
                    continue
                try:
                    await conn.execute(path.read_text(encoding="utf-8"))
                except psycopg.Error as exc:
                    raise UpgradeError(f"database {self.describe()}: migration {path.name} failed"
                                       f" ({str(exc).splitlines()[0]}); nothing was changed") from exc
                await conn.execute("INSERT INTO schema_migrations (number, name) VALUES (%s, %s)", (number, path.name))
                applied.append(number)
        for number in applied:
            log.info("applied migration %04d", number)
        return applied

    @asynccontextmanager
    async def transaction(self, serial: bool = True) -> AsyncIterator[_Transaction]:
        """A write transaction; `serial` (the default) waits for every other serial writer, on any process."""
        async with self._require_pool().connection() as conn, conn.transaction():
            if serial:
                await conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            yield _Transaction(conn)

    async def execute(self, sql: str, params: Sequence = ()) -> int:
        """Run one write statement in its own transaction; see `Database.execute`."""
        async with self._require_pool().connection() as conn:
            cursor = await conn.execute(to_psycopg(sql), tuple(params))
            returned = await cursor.fetchone() if cursor.description is not None else None
            return returned[0] if returned else max(cursor.rowcount, 0)

    async def fetchone(self, sql: str, params: Sequence = ()):
        """Read one row (committed data only)."""
        async with self._require_pool().connection() as conn:
            cursor = await conn.execute(to_psycopg(sql), tuple(params))
            return await cursor.fetchone()

    async def fetchall(self, sql: str, params: Sequence = ()) -> list:
        """Read all rows (committed data only)."""
        async with self._require_pool().connection() as conn:
            cursor = await conn.execute(to_psycopg(sql), tuple(params))
            return await cursor.fetchall()
