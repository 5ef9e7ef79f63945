"""Rate limits for a channel: overall messages per second, and per chat."""

from __future__ import annotations

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
