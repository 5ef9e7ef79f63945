"""A fake channel: a real outbox channel that records what it would have sent."""

from __future__ import annotations

from bot.channels.base import Channel, Delivery, Limits
from bot.events import Outgoing


class RecordingChannel(Channel):
    """A real channel for the outbox that records what it would have sent."""

    def __init__(self, name: str, limits: Limits | None = None) -> None:
        super().__init__(name=name, limits=limits or Limits(concurrency=16, batch=500))
        self.sent: list[tuple[str, Outgoing]] = []
        self.fail_with: Delivery | None = None

    async def deliver(self, address: str, message: Outgoing) -> Delivery:
        """Record the message (or answer with the configured failure)."""
        if self.fail_with is not None:
            return self.fail_with
        self.sent.append((address, message))
        return Delivery(ok=True)

    def to(self, address: str) -> list[Outgoing]:
        """Messages sent to one address."""
        return [m for a, m in self.sent if a == address]
