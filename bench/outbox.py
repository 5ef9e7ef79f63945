"""Bench: queue a campaign for 30,000 people and drain it through a fake channel with no rate limit.

    .venv/bin/python bench/outbox.py [--people 30000] [--batch N] [--json]

Prints rows/s through enqueue (Outbox.push_many) and through send (OutboxSender.drain_once), and the
peak resident memory of the process. Targets: enqueue >= 20,000 rows/s, drain >= 2,000 msg/s, < 200 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.channels.base import Channel, Delivery, Limits
from bot.clock import Clock, iso
from bot.config import load_config
from bot.events import Button, text
from bot.outbox import Outbox, OutboxSender
from storage.db import Database
from storage.store import Store

PLATFORM = "bench"


class CountingChannel(Channel):
    """A channel that accepts everything at once and counts it."""

    def __init__(self, batch: int) -> None:
        super().__init__(name=PLATFORM, limits=Limits(concurrency=64, batch=batch))
        self.delivered = 0

    async def deliver(self, address: str, message) -> Delivery:
        """Count the message."""
        self.delivered += 1
        return Delivery(ok=True)


async def seed_people(db: Database, count: int, clock: Clock) -> list[int]:
    """Insert count bound people with one account each; return their ids."""
    now = iso(clock.now())
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO people (id, person_no, college, role, tags, created_at) VALUES (?, ?, 'bench', 'student', ?, ?)",
            [(i, f"B{i:07d}", "freshman" if i % 4 == 0 else "", now) for i in range(1, count + 1)],
        )
        await conn.executemany(
            "INSERT INTO accounts (platform, user_key, chat_key, person_id, language, last_seen_at, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(PLATFORM, f"u{i}", f"c{i}", i, "en" if i % 10 == 0 else "zh", now, now) for i in range(1, count + 1)],
        )
    return list(range(1, count + 1))


async def run(people: int, batch: int) -> dict:
    """Seed, enqueue, drain; return the figures."""
    folder = Path(tempfile.mkdtemp(prefix="wuzha-bench-"))
    config = load_config(None, env={}, db_override=str(folder / "bench.db"), base_dir=folder)
    config.schedule.quiet_hours = ""      # measure the machinery, whatever the time of day
    clock = Clock()
    db = await Database(config.database_path).open()
    store = Store(db, clock)
    outbox = Outbox(store, clock, config)
    ids = await seed_people(db, people, clock)
    messages = {lang: text(f"bench {lang}: 今天的反诈自查", [Button("是", "ci:x:yes"), Button("否", "ci:x:no")])
                for lang in ("zh", "en")}
    started = time.perf_counter()
    summary = await outbox.push_many("bench:2026-11-23",
                                     [(pid, lambda account: messages[account.language]) for pid in ids])
    enqueue_s = time.perf_counter() - started
    channel = CountingChannel(batch)
    sender = OutboxSender(outbox, channel)
    started = time.perf_counter()
    while await sender.drain_once():
        pass
    drain_s = time.perf_counter() - started
    counts = await store.outbox.counts()
    await db.close()
    return {
        "people": people,
        "queued": summary.queued,
        "delivered": channel.delivered,
        "sent_rows": counts["sent"],
        "batch": batch,
        "enqueue_s": round(enqueue_s, 3),
        "enqueue_per_s": round(summary.queued / enqueue_s),
        "drain_s": round(drain_s, 3),
        "drain_per_s": round(channel.delivered / drain_s),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> int:
    """Run the bench and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=30_000)
    parser.add_argument("--batch", type=int, default=Limits().batch, help="rows claimed per drain (Limits.batch)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    figures = asyncio.run(run(args.people, args.batch))
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"enqueue: {figures['queued']} rows in {figures['enqueue_s']} s = {figures['enqueue_per_s']} rows/s")
        print(f"drain:   {figures['delivered']} messages in {figures['drain_s']} s = {figures['drain_per_s']} msg/s "
              f"(batch {figures['batch']})")
        print(f"peak RSS: {figures['peak_rss_mb']} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
