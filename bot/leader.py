"""Which `wuzha serve` process leads: the one that runs the scheduled jobs and Telegram long polling.

Any number of processes may serve one PostgreSQL database. Exactly one holds the leader lock (a
session advisory lock, see storage/coordination.py); the others stand by and try for it every
RETRY_S, so when the leader dies (even by kill -9, which drops its connection and so its lock) one
of them leads within about RETRY_S. On SQLite the one server always leads.

Parts that must run in one process only register with `on_lead(name, gain, lose)`: `gain` runs when
this process starts leading (at once, if it already does), `lose` when it stops. Every process also
beats in the servers table every BEAT_S; a process silent for PEER_TIMEOUT is taken for dead and its
unfinished inbox rows become the others' to finish.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from bot.clock import iso
from storage.db import DatabaseError

log = logging.getLogger(__name__)

LOCK_NAME = "leader"
RETRY_S = 1.0                       # a standby tries for the lock, and the leader checks it holds it, this often
BEAT_S = 3.0                        # heartbeat interval
PEER_TIMEOUT = timedelta(seconds=15)  # a process silent this long is taken for dead
FOREVER = "9999"                    # `alive_since` when no other process can be alive (SQLite)

Hook = Callable[[], Awaitable[object]]


def wall_now() -> datetime:
    """The real time (heartbeats compare processes, so never a test's fake clock)."""
    return datetime.now(UTC)


def beating_since() -> str:
    """The heartbeat time after which a process counts as alive."""
    return iso(wall_now() - PEER_TIMEOUT)


def alive_since(app) -> str:
    """The heartbeat time after which another process counts as alive; FOREVER when none can be."""
    coordinator = getattr(app, "coordinator", None)
    if coordinator is None or not coordinator.peers:
        return FOREVER
    return beating_since()


class Leadership:
    """This process's part in the election: whether it leads, and what starts and stops with that."""

    def __init__(self, app) -> None:
        self.app = app
        self.leading = False
        self.since: float | None = None      # time.monotonic() when the current role began
        self._hooks: list[tuple[str, Hook | None, Hook | None]] = []
        self._last_beat = 0.0

    @property
    def role(self) -> str:
        """'leader' or 'standby', for /health and logs."""
        return "leader" if self.leading else "standby"

    async def on_lead(self, name: str, gain: Hook | None, lose: Hook | None) -> None:
        """Run gain whenever this process starts leading (now, if it leads already), lose when it stops."""
        self._hooks.append((name, gain, lose))
        if self.leading and gain is not None:
            await self._call(name, gain)

    async def attempt(self) -> bool:
        """Try for the lead once (or, leading, check the lock is still ours); whether this process leads."""
        coordinator = self.app.coordinator
        try:
            if self.leading:
                if await coordinator.holding():
                    return True
                await self._lost("its database connection broke")
                return False
            won = await coordinator.try_lock(LOCK_NAME)
        except (*DatabaseError, OSError) as exc:
            if self.leading:
                await self._lost(f"{type(exc).__name__}: {exc}")
            else:
                log.debug("leader lock not reachable: %s", exc)
            return False
        if won:
            await self._gained()
        return won

    def _level(self) -> int:
        """WARNING where there are peers to tell apart; on SQLite the one server always leads, not news."""
        return logging.WARNING if self.app.coordinator.peers else logging.DEBUG

    async def _gained(self) -> None:
        self.leading, self.since = True, time.monotonic()
        log.log(self._level(), "leadership gained (pid %d, server %s): this process runs the scheduled jobs"
                " and Telegram long polling", os.getpid(), self.app.token)
        for name, gain, _ in list(self._hooks):
            if gain is not None:
                await self._call(name, gain)

    async def _lost(self, why: str) -> None:
        self.leading, self.since = False, time.monotonic()
        log.warning("leadership lost (pid %d): %s; standing by", os.getpid(), why)
        for name, _, lose in reversed(self._hooks):
            if lose is not None:
                await self._call(name, lose)

    async def _call(self, name: str, hook: Hook) -> None:
        try:
            await hook()
        except Exception:     # one part failing to start or stop must not end the election
            log.exception("leadership: %s failed to follow the change", name)

    async def beat(self) -> None:
        """Write this process's heartbeat (see PEER_TIMEOUT); a failure is logged and tried again later."""
        self._last_beat = time.monotonic()
        try:
            await self.app.servers.beat(self.app.token, os.getpid(), socket.gethostname(), iso(wall_now()))
        except (*DatabaseError, OSError) as exc:
            log.warning("heartbeat not written: %s: %s", type(exc).__name__, exc)

    async def run(self, stop: asyncio.Event) -> None:
        """Until stop is set: beat every BEAT_S, and try for (or keep checking) the lead every RETRY_S.

        The heartbeat has its own task, so a slow start of a leader's part never makes peers take us for dead.
        """
        beating = asyncio.create_task(self._beat_until(stop))
        try:
            while not stop.is_set():
                await self.attempt()
                await _sleep_unless(stop, RETRY_S)
        finally:
            await beating

    async def _beat_until(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if time.monotonic() - self._last_beat >= BEAT_S:
                await self.beat()
            await _sleep_unless(stop, BEAT_S)

    async def resign(self) -> None:
        """Stop leading at shutdown: the lock goes back, so a standby leads within RETRY_S."""
        if self.leading:
            self.leading = False
            try:
                await self.app.coordinator.unlock(LOCK_NAME)
            except (*DatabaseError, OSError):
                pass
            log.log(self._level(), "leadership handed back (pid %d): shutting down", os.getpid())


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    """Wait for seconds, or less if stop is set meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        pass
