"""What every channel adapter offers the core."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.events import Outgoing


@dataclass
class Delivery:
    """The result of sending one message."""

    ok: bool
    retry_after: float | None = None    # the platform asked us to wait (429)
    permanent: bool = False             # will never succeed: do not retry
    unreachable: bool = False           # the person blocked us or left: stop pushing to them
    defer_s: float | None = None        # not deliverable right now (recipient offline): try later, no attempt used
    error: str | None = None


@dataclass
class Limits:
    """A platform's sending limits; zero means none."""

    per_second: float = 0.0             # all messages of the channel
    per_address_interval: float = 0.0   # seconds between two messages to one chat
    per_address_per_minute: int = 0     # e.g. 20 for Telegram groups, 30 for WeCom members
    concurrency: int = 8                # requests in flight at once
    batch: int = 200                    # rows claimed from the outbox at once (the in-flight bound)
    lanes: int = 1                      # batches in hand at once: 2 claims the next while one is still sending
    recipients_per_call: int = 1        # >1: rows with the same message go out together (deliver_many)


@dataclass
class Channel:
    """Base for adapters: a name, its limits, and deliver() for the outbox."""

    name: str = "channel"
    limits: Limits = field(default_factory=Limits)

    async def deliver(self, address: str, message: Outgoing) -> Delivery:
        """Send one message to an address of this channel."""
        raise NotImplementedError

    async def deliver_many(self, addresses: list[str], message: Outgoing) -> dict[str, Delivery]:
        """Send one message to several addresses in one call (channels with recipients_per_call > 1)."""
        raise NotImplementedError

    def batchable(self, address: str) -> bool:
        """Whether rows for this address may share a call with others (not for groups or aliases)."""
        return self.limits.recipients_per_call > 1

    def served_addresses(self) -> list[str] | None:
        """The addresses this adapter delivers to, or None for all of its channel's."""
        return None

    def address_limits(self, address: str) -> tuple[float, int]:
        """(interval seconds, per-minute cap) for one address; override for groups."""
        return self.limits.per_address_interval, self.limits.per_address_per_minute
