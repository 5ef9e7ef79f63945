"""Bench: queue a campaign for 30,000 people and drain it through a fake channel with no rate limit.

    .venv/bin/python bench/outbox.py [--people 30000] [--batch N] [--db PATH_OR_URL] [--compare [URL]] [--json]

Prints rows/s through enqueue (Outbox.push_many) and through send (OutboxSender.drain_once), and the
peak resident memory of the process. Targets: enqueue >= 20,000 rows/s, drain >= 2,000 msg/s, < 200 MB.
--db runs it on a PostgreSQL server (a database out_outbox_<pid> is made there and dropped); --compare
runs it on SQLite and then on PostgreSQL (default the local test server), one process each, and
prints both with the PostgreSQL / SQLite ratios. --limiter URL times one send-slot reservation in
memory and through the shared PostgreSQL limiter (channel slot only, and channel slot + per-chat time).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
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
from storage.db import Database, database_for, is_postgres_url
from storage.store import Store

PLATFORM = "bench"
DEFAULT_SERVER = "postgresql://postgres@/postgres?host=/tmp/pg&port=55432"


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss it is not inherited across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


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


async def run(people: int, batch: int, server: str | None = None) -> dict:
    """Seed, enqueue, drain (on a SQLite file, or on a database made on a PostgreSQL server); return the figures."""
    folder = Path(tempfile.mkdtemp(prefix="wuzha-bench-"))
    if server is None:
        return await _run(people, batch, str(folder / "bench.db"), folder)
    from storage.postgres import scratch_database
    with scratch_database(server, f"out_outbox_{os.getpid()}") as url:
        return await _run(people, batch, url, folder)


async def _run(people: int, batch: int, target: str, folder: Path) -> dict:
    config = load_config(None, env={}, db_override=target, base_dir=folder)
    config.schedule.quiet_hours = ""      # measure the machinery, whatever the time of day
    clock = Clock()
    db = await database_for(target).open()
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
        "engine": db.kind,
        "people": people,
        "queued": summary.queued,
        "delivered": channel.delivered,
        "sent_rows": counts["sent"],
        "batch": batch,
        "enqueue_s": round(enqueue_s, 3),
        "enqueue_per_s": round(summary.queued / enqueue_s),
        "drain_s": round(drain_s, 3),
        "drain_per_s": round(channel.delivered / drain_s),
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> int:
    """Run the bench and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=30_000)
    parser.add_argument("--batch", type=int, default=Limits().batch, help="rows claimed per drain (Limits.batch)")
    parser.add_argument("--db", help="a PostgreSQL server URL to run on instead of a SQLite file")
    parser.add_argument("--compare", nargs="?", const=DEFAULT_SERVER, metavar="URL",
                        help="run on SQLite, then on this PostgreSQL server, one process each, and print the ratios")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--limiter", nargs="?", const=DEFAULT_SERVER, metavar="URL",
                        help="time one send-slot reservation in memory and shared through this PostgreSQL server")
    args = parser.parse_args()
    if args.limiter:
        print(json.dumps(asyncio.run(limiter_overhead(args.limiter))))
        return 0
    if args.compare:
        return compare(args)
    figures = asyncio.run(run(args.people, args.batch, args.db if args.db and is_postgres_url(args.db) else None))
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"enqueue: {figures['queued']} rows in {figures['enqueue_s']} s = {figures['enqueue_per_s']} rows/s")
        print(f"drain:   {figures['delivered']} messages in {figures['drain_s']} s = {figures['drain_per_s']} msg/s "
              f"(batch {figures['batch']})")
        print(f"peak RSS: {figures['peak_rss_mb']} MB")
    return 0


async def limiter_overhead(server: str, count: int = 2000) -> dict:
    """Microseconds per reservation: in memory, and shared through PostgreSQL (what each message adds there)."""
    from bot.ratelimit import ChannelLimiter, SharedLimiter
    from storage.outbox import SendRates
    from storage.postgres import PostgresDatabase, scratch_database
    figures = {}
    with scratch_database(server, f"out_limiter_{os.getpid()}") as url:
        db = await PostgresDatabase(url, pool_size=2).open()
        # Limits high enough that nothing waits: only the bookkeeping is timed.
        for label, limiter, interval in (("memory", ChannelLimiter(1e6), 1e-6),
                                         ("shared_channel", SharedLimiter(SendRates(db), PLATFORM, 1e6), 0.0),
                                         ("shared_channel_and_chat", SharedLimiter(SendRates(db), PLATFORM, 1e6), 1e-6)):
            started = time.perf_counter()
            for i in range(count):
                await limiter.take(f"c{i}", interval, 0)
            figures[f"{label}_us"] = round((time.perf_counter() - started) / count * 1e6, 1)
        await db.close()
    return figures


def compare(args) -> int:
    """Run the bench once per engine, each in its own process, and print both with the ratios."""
    results = {}
    for engine, extra in (("sqlite", []), ("postgresql", ["--db", args.compare])):
        out = subprocess.run([sys.executable, __file__, "--people", str(args.people), "--batch", str(args.batch),
                              "--json", *extra], capture_output=True, text=True, check=True).stdout
        results[engine] = json.loads(out)
    sqlite, pg = results["sqlite"], results["postgresql"]
    results["ratio_postgresql_to_sqlite"] = {
        key: round(pg[key] / sqlite[key], 2) for key in ("enqueue_per_s", "drain_per_s", "peak_rss_mb")}
    if args.json:
        print(json.dumps(results))
    else:
        for key in ("enqueue_per_s", "drain_per_s", "peak_rss_mb"):
            print(f"{key}: sqlite {sqlite[key]}  postgresql {pg[key]}  ratio {results['ratio_postgresql_to_sqlite'][key]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
