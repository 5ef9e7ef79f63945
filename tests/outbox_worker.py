"""One sender process of the multi-process outbox test: drain a PostgreSQL outbox through a logging channel.

    python tests/outbox_worker.py URL LOG LEASE_S

Each delivery appends its address to LOG with one unbuffered write before it is acknowledged, so the
log survives kill -9. The process stops once no row is pending or in flight.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.channels.base import Channel, Delivery, Limits
from bot.clock import Clock
from bot.config import load_config
from bot.outbox import Outbox, OutboxSender
from storage.postgres import PostgresDatabase
from storage.store import Store

CHANNEL = "scale"


class LoggingChannel(Channel):
    """Writes each address to a log before saying it went out; a little slow, so a kill lands mid-drain."""

    def __init__(self, log_path: str) -> None:
        super().__init__(name=CHANNEL, limits=Limits(concurrency=8, batch=50))
        self.fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    async def deliver(self, address: str, message) -> Delivery:
        """Log the address, then acknowledge."""
        os.write(self.fd, f"{address}\n".encode())
        await asyncio.sleep(0.002)
        return Delivery(ok=True)


async def main(url: str, log_path: str, lease_s: float) -> None:
    """Recover expired rows as a starting server does, then drain until nothing is left."""
    config = load_config(None, env={}, db_override=url, base_dir=Path(log_path).parent)
    config.schedule.quiet_hours = ""
    clock = Clock()
    db = await PostgresDatabase(url, pool_size=3).open(migrate=False)
    store = Store(db, clock)
    store.outbox.lease_s = lease_s
    await store.outbox.recover_inflight()
    sender = OutboxSender(Outbox(store, clock, config), LoggingChannel(log_path))
    print("ready", flush=True)
    while True:
        if not await sender.drain_once():
            if not await store.outbox.unfinished(CHANNEL):
                break
            await asyncio.sleep(0.1)
    await db.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
