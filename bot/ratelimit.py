"""Rate limits for a channel: overall messages per second, and per chat."""

from __future__ import annotations

import asyncio
import time
from collections import deque


class ChannelLimiter:
    """Reserves send slots; returns how long to wait before a message may go."""

    def __init__(self, per_second: float, monotonic=time.monotonic) -> None:
        self.per_second = per_second
        self.monotonic = monotonic
        self._next_slot = 0.0
        self._last_by_address: dict[str, float] = {}
        self._window_by_address: dict[str, deque[float]] = {}
        self.paused_until = 0.0
        self._paused_address: dict[str, float] = {}

    def pause(self, seconds: float) -> None:
        """Stop the whole channel for a while (the platform said 429)."""
        self.paused_until = max(self.paused_until, self.monotonic() + seconds)

    def pause_address(self, address: str, seconds: float) -> None:
        """Stop sending to one chat for a while (a 429 for it, seen by the outbox or an answer)."""
        until = self.monotonic() + seconds
        if until > self._paused_address.get(address, 0.0):
            self._paused_address[address] = until

    def paused_for(self, address: str) -> float:
        """Seconds before anything may go to this address: the channel's pause or the address's own."""
        now = self.monotonic()
        until = self._paused_address.get(address, 0.0)
        if until and until <= now:
            del self._paused_address[address]
        return max(0.0, self.paused_until - now, until - now)

    def address_wait(self, address: str, interval: float, per_minute: int) -> float:
        """Seconds until this address may receive again (0 when it may now)."""
        now = self.monotonic()
        wait = 0.0
        if interval:
            last = self._last_by_address.get(address)
            if last is not None:
                wait = max(wait, last + interval - now)
        if per_minute:
            window = self._window_by_address.get(address)
            if window:
                while window and window[0] <= now - 60:
                    window.popleft()
                if len(window) >= per_minute:
                    wait = max(wait, window[0] + 60 - now)
        return max(wait, 0.0)

    def reserve(self, address: str, interval: float, per_minute: int) -> float:
        """Take the next overall slot for address; return the delay before sending."""
        now = self.monotonic()
        # The address's own interval and per-minute cap push its slot back too.
        start = max(now, self.paused_until, self._paused_address.get(address, 0.0),
                    now + self.address_wait(address, interval, per_minute))
        if self.per_second:
            slot = max(start, self._next_slot)
            self._next_slot = slot + 1.0 / self.per_second
        else:
            slot = start
        if interval:
            self._last_by_address[address] = slot
        if per_minute:
            self._window_by_address.setdefault(address, deque()).append(slot)
        return slot - now

    def reserve_call(self) -> float:
        """Take the next overall slot for one API call that carries many addresses."""
        now = self.monotonic()
        slot = max(now, self.paused_until)
        if self.per_second:
            slot = max(slot, self._next_slot)
            self._next_slot = slot + 1.0 / self.per_second
        return slot - now

    def record(self, address: str, interval: float, per_minute: int, delay: float = 0.0) -> None:
        """Count a message to address sent `delay` seconds from now (part of a shared call)."""
        at = self.monotonic() + delay
        if interval:
            self._last_by_address[address] = at
        if per_minute:
            self._window_by_address.setdefault(address, deque()).append(at)

    async def wait_for(self, address: str, interval: float, per_minute: int) -> float:
        """Seconds before address may receive: its own limits, or a pause, whichever is longer."""
        return max(self.address_wait(address, interval, per_minute), self.paused_for(address))

    async def take(self, address: str, interval: float, per_minute: int) -> float:
        """Reserve the slot of one message to address; return the delay before sending it."""
        return self.reserve(address, interval, per_minute)

    async def take_call(self) -> float:
        """Reserve the slot of one call that carries many addresses; return the delay."""
        return self.reserve_call()

    async def note(self, address: str, interval: float, per_minute: int, delay: float = 0.0) -> None:
        """Count a message to address that a shared call sends delay seconds from now."""
        self.record(address, interval, per_minute, delay)

    async def settle_pauses(self) -> None:
        """Wait until every pause taken so far is known to the other senders (nothing to do in memory)."""


PAUSES_FRESH_S = 0.25     # another process's 429 pause is seen within this long


class SharedLimiter(ChannelLimiter):
    """The same limits kept in the database, so every sender process of a channel stays within them together.

    Slots and per-address times are reserved in the database (one short locked update each); a
    per-minute cap is kept as an even spacing of 60 / cap seconds, which never exceeds it. Pauses
    are written through and read back at most every PAUSES_FRESH_S, so the answers to `paused_for`
    (which callers ask synchronously) stay in memory. Channels without limits reserve nothing.
    """

    def __init__(self, rates, channel: str, per_second: float, monotonic=time.monotonic) -> None:
        super().__init__(per_second, monotonic)
        self.rates, self.channel = rates, channel
        self._pauses_read_at = float("-inf")
        self._writes: set[asyncio.Task] = set()

    @staticmethod
    def _spacing(interval: float, per_minute: int) -> float:
        return max(interval, 60.0 / per_minute if per_minute else 0.0)

    async def _fresh_pauses(self) -> None:
        now = self.monotonic()
        if now - self._pauses_read_at < PAUSES_FRESH_S:
            return
        self._pauses_read_at = now
        channel_left, addresses = await self.rates.pauses(self.channel)
        if channel_left:
            self.paused_until = max(self.paused_until, now + channel_left)
        for address, left in addresses.items():
            super().pause_address(address, left)

    def _share(self, write) -> None:
        task = asyncio.ensure_future(write)
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    def pause(self, seconds: float) -> None:
        """Stop the whole channel for a while, in every process."""
        super().pause(seconds)
        self._share(self.rates.pause(self.channel, seconds))

    def pause_address(self, address: str, seconds: float) -> None:
        """Stop sending to one chat for a while, in every process."""
        super().pause_address(address, seconds)
        self._share(self.rates.pause(self.channel, seconds, address))

    async def settle_pauses(self) -> None:
        """Wait until every pause taken so far is written."""
        if self._writes:
            await asyncio.gather(*list(self._writes), return_exceptions=True)

    async def wait_for(self, address: str, interval: float, per_minute: int) -> float:
        """Seconds before address may receive, as every process has reserved it."""
        await self._fresh_pauses()
        wait = self.paused_for(address)
        if self._spacing(interval, per_minute):
            wait = max(wait, await self.rates.address_wait(self.channel, address))
        return wait

    async def take(self, address: str, interval: float, per_minute: int) -> float:
        """Reserve the slot of one message to address among every process's; return the delay."""
        await self._fresh_pauses()
        spacing = self._spacing(interval, per_minute)
        if not self.per_second and not spacing:
            return self.paused_for(address)
        step = 1.0 / self.per_second if self.per_second else 0.0
        delay = await self.rates.reserve(self.channel, address if spacing else None, step, spacing)
        return max(delay, self.paused_for(address))

    async def take_call(self) -> float:
        """Reserve the slot of one shared call among every process's; return the delay."""
        await self._fresh_pauses()
        if not self.per_second:
            return max(0.0, self.paused_until - self.monotonic())
        delay = await self.rates.reserve(self.channel, None, 1.0 / self.per_second, 0.0)
        return max(delay, self.paused_until - self.monotonic())

    async def note(self, address: str, interval: float, per_minute: int, delay: float = 0.0) -> None:
        """Count a message to address that a shared call sends delay seconds from now, for every process."""
        spacing = self._spacing(interval, per_minute)
        if spacing:
            await self.rates.record(self.channel, address, spacing, delay)


def limiter_for(store, channel) -> ChannelLimiter:
    """The limiter of a channel's sender: shared through the database on PostgreSQL, in memory on SQLite."""
    if store.db.kind == "postgresql":
        from storage.outbox import SendRates
        return SharedLimiter(SendRates(store.db), channel.name, channel.limits.per_second)
    return ChannelLimiter(channel.limits.per_second)
