"""What lets several `wuzha serve` processes share one database: leader locks, per-person locks,
heartbeats and the record of scheduled ticks.

On PostgreSQL the locks are session advisory locks held on connections of their own (not the
pool's): a process that dies, even by kill -9, loses its connections and so its locks at once, and
another process takes them. On SQLite one process serves a file (the serve lock), so every lock is
granted at once and no other server is ever alive.
"""

from __future__ import annotations

import asyncio
import logging

import psycopg

from storage.db import Database

log = logging.getLogger(__name__)

SESSION_POLL_S = (0.005, 0.05)     # first and longest wait between tries of a taken per-person lock


class Coordinator:
    """Locks shared with the other processes on this database (SQLite: there are none, every lock is ours)."""

    peers = False   # whether other processes can serve the same database

    async def try_lock(self, name: str) -> bool:
        """Take a named leader lock unless another process holds it; True once it is ours."""
        return True

    async def holding(self) -> bool:
        """Whether the leader locks taken are still ours (False once their connection broke)."""
        return True

    async def unlock(self, name: str) -> None:
        """Give a leader lock back."""

    async def lock_session(self, session: str) -> None:
        """Wait until no other process handles this person, then hold that until unlock_session."""

    async def unlock_session(self, session: str) -> None:
        """Let other processes handle this person again."""

    async def close(self) -> None:
        """Give every lock back."""


class PostgresCoordinator(Coordinator):
    """Session advisory locks on two connections of this process: one for leaders, one for people."""

    peers = True

    def __init__(self, url: str) -> None:
        self.url = url
        self._leader: psycopg.AsyncConnection | None = None
        self._sessions: psycopg.AsyncConnection | None = None
        self._session_guard = asyncio.Lock()
        self._held: set[str] = set()

    async def _connect(self) -> psycopg.AsyncConnection:
        return await psycopg.AsyncConnection.connect(self.url, autocommit=True)

    async def try_lock(self, name: str) -> bool:
        """Take a named leader lock unless another process holds it; True once it is ours."""
        from storage.postgres import lock_key

        if self._leader is None or self._leader.closed:
            self._held.clear()
            self._leader = await self._connect()
        row = await (await self._leader.execute("SELECT pg_try_advisory_lock(%s)", (lock_key(name),))).fetchone()
        if row[0]:
            if name in self._held:    # advisory locks stack per connection: keep one level
                await self._leader.execute("SELECT pg_advisory_unlock(%s)", (lock_key(name),))
            self._held.add(name)
        return bool(row[0])

    async def holding(self) -> bool:
        """Whether the leader connection (and so its locks) is still alive."""
        if self._leader is None or self._leader.closed:
            return False
        try:
            await self._leader.execute("SELECT 1")
        except psycopg.Error:
            await self._drop_leader()
            return False
        return True

    async def _drop_leader(self) -> None:
        conn, self._leader = self._leader, None
        self._held.clear()
        if conn is not None:
            try:
                await conn.close()
            except psycopg.Error:
                pass

    async def unlock(self, name: str) -> None:
        """Give a leader lock back."""
        from storage.postgres import lock_key

        if name in self._held and self._leader is not None and not self._leader.closed:
            self._held.discard(name)
            try:
                await self._leader.execute("SELECT pg_advisory_unlock(%s)", (lock_key(name),))
            except psycopg.Error:
                await self._drop_leader()

    async def lock_session(self, session: str) -> None:
        """Wait until no other process handles this person, then hold that until unlock_session.

        The caller holds the person's in-process lock, so this connection never stacks one key twice.
        """
        from storage.postgres import lock_key

        key = lock_key("session:" + session)
        pause = SESSION_POLL_S[0]
        while True:
            conn = await self._session_conn()
            try:
                row = await (await conn.execute("SELECT pg_try_advisory_lock(%s)", (key,))).fetchone()
            except psycopg.OperationalError:
                self._sessions = None
                raise
            if row[0]:
                return
            await asyncio.sleep(pause)
            pause = min(pause * 2, SESSION_POLL_S[1])

    async def unlock_session(self, session: str) -> None:
        """Let other processes handle this person again."""
        from storage.postgres import lock_key

        conn = self._sessions
        if conn is None or conn.closed:
            return         # the connection died: its locks went with it
        try:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (lock_key("session:" + session),))
        except psycopg.Error:
            self._sessions = None

    async def _session_conn(self) -> psycopg.AsyncConnection:
        async with self._session_guard:
            if self._sessions is None or self._sessions.closed:
                self._sessions = await self._connect()
            return self._sessions

    async def close(self) -> None:
        """Close both connections: every lock of this process is given back."""
        await self._drop_leader()
        conn, self._sessions = self._sessions, None
        if conn is not None:
            try:
                await conn.close()
            except psycopg.Error:
                pass


def coordinator_for(db: Database) -> Coordinator:
    """The coordinator of a database's engine."""
    if db.kind == "postgresql":
        return PostgresCoordinator(db.url)    # type: ignore[attr-defined]
    return Coordinator()


class ServersRepo:
    """The heartbeats of the running processes."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def beat(self, token: str, pid: int, host: str, now: str) -> None:
        """Say this process is alive now."""
        await self.db.execute(
            "INSERT INTO servers (token, pid, host, seen_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (token) DO UPDATE SET seen_at = excluded.seen_at", (token, pid, host, now))

    async def forget(self, token: str) -> None:
        """This process stops: its rows are anyone's to finish at once."""
        await self.db.execute("DELETE FROM servers WHERE token = ?", (token,))

    async def prune(self, before: str) -> int:
        """Forget processes silent since before."""
        return await self.db.execute("DELETE FROM servers WHERE seen_at < ?", (before,))

    async def alive(self, since: str) -> list[tuple[str, int, str]]:
        """(token, pid, host) of the processes that beat since a time."""
        rows = await self.db.fetchall("SELECT token, pid, host FROM servers WHERE seen_at >= ? ORDER BY token",
                                      (since,))
        return [(r[0], r[1], r[2]) for r in rows]


class JobRunsRepo:
    """One row per scheduled tick run: a tick is claimed before it runs, by one process only."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def claim(self, job: str, tick: str, owner: str, now: str, alive_since: str) -> bool:
        """Claim a job's tick for this process; False when another process ran it or may still be running it.

        A tick its owner never finished is taken over once that owner has stopped beating (no heartbeat
        at or after alive_since): a leader killed halfway through the 21:00 push leaves the rest to the next.
        """
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO job_runs (job, tick, owner, started_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (job, tick) DO UPDATE SET owner = excluded.owner, started_at = excluded.started_at"
                " WHERE job_runs.finished_at IS NULL AND job_runs.owner <> excluded.owner AND NOT EXISTS"
                " (SELECT 1 FROM servers s WHERE s.token = job_runs.owner AND s.seen_at >= ?)",
                (job, tick, owner, now, alive_since))
            return cursor.rowcount == 1

    async def finished(self, job: str, tick: str) -> bool:
        """Whether a claimed tick ran to its end."""
        return await self.db.fetchval("SELECT finished_at FROM job_runs WHERE job = ? AND tick = ?",
                                      (job, tick)) is not None

    async def finish(self, job: str, tick: str, now: str) -> None:
        """The tick ran to its end."""
        await self.db.execute("UPDATE job_runs SET finished_at = ? WHERE job = ? AND tick = ?", (now, job, tick))

    async def runs(self, job: str) -> list[tuple[str, str, str | None]]:
        """(tick, owner, finished_at) of a job's ticks, oldest first."""
        rows = await self.db.fetchall("SELECT tick, owner, finished_at FROM job_runs WHERE job = ? ORDER BY tick",
                                      (job,))
        return [(r[0], r[1], r[2]) for r in rows]

    async def prune(self, before: str) -> int:
        """Forget ticks older than a time."""
        return await self.db.execute("DELETE FROM job_runs WHERE tick < ?", (before,))
