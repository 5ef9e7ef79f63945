"""Bench: one province on PostgreSQL: a million people in 600 colleges, the 21:00 self-check push, 4 sender processes.

    .venv/bin/python bench/province.py [--db URL] [--people 1000000] [--colleges 600] [--senders 4]
                                       [--no-kill] [--lease 5] [--json] [--keep]

Creates its own database (out_province_<pid>) on the server --db names, bulk-loads people and one
Telegram account each with COPY, queues the daily self-check push through the real job
(handlers.program_jobs.push_daily_checkin → Outbox.push_many), then drains it with --senders
processes through a fake channel without limits. Each delivery is appended to a per-process log with
one unbuffered write before it is acknowledged, so the logs are the truth of what reached people
even for a process killed with SIGKILL (one is, halfway, unless --no-kill; its rows come back once
their lease, --lease seconds here, runs out). Then the /stats figures (handlers.figures.compute_figures,
what /stats answers with) are timed for the province and for one college. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

from bot.app import App
from bot.channels.base import Channel, Delivery, Limits
from bot.clock import Clock, FakeClock
from bot.config import load_config
from bot.outbox import Outbox, OutboxSender
from handlers import program_jobs
from handlers.figures import compute_figures, default_period
from storage.postgres import PostgresDatabase, scratch_database
from storage.stats import Scope
from storage.store import Store

DEFAULT_SERVER = "postgresql://postgres@/postgres?host=/tmp/pg&port=55432"
PLATFORM = "telegram"
CONCURRENCY = 64


def _college(i: int, colleges: int) -> str:
    return f"学院{i % colleges:03d}"


class LoggingChannel(Channel):
    """A Telegram stand-in without limits: logs each address (one O_APPEND write), then acknowledges."""

    def __init__(self, log_path: str) -> None:
        super().__init__(name=PLATFORM, limits=Limits(concurrency=CONCURRENCY, batch=500, lanes=2))
        self.fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.delivered = 0

    async def deliver(self, address: str, message) -> Delivery:
        """Log the address, then acknowledge."""
        os.write(self.fd, f"{address}\n".encode())
        self.delivered += 1
        return Delivery(ok=True)


def _config(url: str, folder: Path):
    config = load_config(None, env={}, db_override=url, base_dir=folder)
    config.schedule.quiet_hours = ""    # measure the machinery, whatever the time of day
    return config


def load_people(url: str, people: int, colleges: int) -> float:
    """Bulk-load people and their accounts with COPY (a third have signed the pledge); return seconds."""
    started = time.perf_counter()
    now = "2026-11-23T04:00:00.000Z"
    with psycopg.connect(url, autocommit=True) as conn:
        with conn.cursor().copy("COPY people (id, person_no, college, role, tags, created_at) FROM STDIN") as copy:
            for i in range(1, people + 1):
                copy.write_row((i, f"P{i:08d}", _college(i, colleges), "student",
                                "freshman" if i % 4 == 0 else "", now))
        with conn.cursor().copy("COPY accounts (platform, user_key, chat_key, person_id, language, last_seen_at,"
                                " created_at) FROM STDIN") as copy:
            for i in range(1, people + 1):
                copy.write_row((PLATFORM, f"u{i}", f"c{i}", i, "en" if i % 10 == 0 else "zh", now, now))
        with conn.cursor().copy("COPY pledges (person_id, version, channel, signed_at) FROM STDIN") as copy:
            for i in range(1, people + 1, 3):
                copy.write_row((i, 1, PLATFORM, now))
        conn.execute("SELECT setval(pg_get_serial_sequence('people', 'id'), %s)", (people,))
        conn.execute("VACUUM ANALYZE")   # the steady state autovacuum keeps: visibility map set, statistics fresh
    return time.perf_counter() - started


async def enqueue(url: str, folder: Path) -> tuple[float, int, int]:
    """Queue today's self-check through the real job; return (seconds, rows queued, pledge version)."""
    app = await App(_config(url, folder), clock=FakeClock()).open(sender=False)
    try:
        started = time.perf_counter()
        summary = await program_jobs.push_daily_checkin(app)
        return time.perf_counter() - started, summary.queued, app.services.library.pledge.version
    finally:
        await app.close()


async def child(url: str, log_path: str, lease_s: float) -> None:
    """One sender process: put expired rows back as `wuzha serve` does, drain until nothing is left."""
    clock = Clock()
    folder = Path(log_path).parent
    db = await PostgresDatabase(url, pool_size=4).open(migrate=False)
    store = Store(db, clock)
    store.outbox.lease_s = lease_s
    await store.outbox.recover_inflight()
    channel = LoggingChannel(log_path)
    sender = OutboxSender(Outbox(store, clock, _config(url, folder)), channel)
    stop = asyncio.Event()

    async def watch() -> None:
        while True:
            await asyncio.sleep(0.5)
            if not await store.outbox.unfinished(PLATFORM):
                stop.set()
                return

    watcher = asyncio.create_task(watch())
    await sender.run(stop)
    watcher.cancel()
    await db.close()
    print(json.dumps({"delivered": channel.delivered, "peak_rss_mb": _peak_rss_mb(os.getpid())}))


def _peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def _logged_bytes(logs: list[Path]) -> int:
    """How much the senders have logged: progress without a COUNT over a million rows (it would skew the drain)."""
    return sum(log.stat().st_size for log in logs if log.exists())


def drain(url: str, folder: Path, senders: int, queued: int, kill: bool, lease_s: float) -> dict:
    """Run the sender processes (killing one halfway if asked) until the outbox is empty; return figures."""
    logs = [folder / f"sender{i}.log" for i in range(senders)]
    procs = [subprocess.Popen([sys.executable, __file__, "--child", url, str(log), "--lease", str(lease_s)],
                              stdout=subprocess.PIPE, text=True) for log in logs]
    started = time.perf_counter()
    killed_rss = None
    killed_after = None
    if kill:
        half = sum(len(f"c{i}\n") for i in range(1, queued + 1)) / 2
        while _logged_bytes(logs) < half and procs[0].poll() is None:
            time.sleep(0.1)
        killed_rss = _peak_rss_mb(procs[0].pid)
        killed_after = round(time.perf_counter() - started, 2)
        os.kill(procs[0].pid, signal.SIGKILL)
    results = []
    for proc in procs:
        out, _ = proc.communicate()
        results.append(json.loads(out) if proc.returncode == 0 and out.strip() else None)
    drain_s = time.perf_counter() - started
    lines: Counter = Counter()
    for log in logs:
        if log.exists():
            lines.update(log.read_text().splitlines())
    deliveries = sum(lines.values())
    expected = {f"c{i}" for i in range(1, queued + 1)}
    rss = [r["peak_rss_mb"] if r else killed_rss for r in results]
    return {
        "senders": senders,
        "killed_one": kill,
        "killed_after_s": killed_after,
        "lease_s": lease_s,
        "deliveries": deliveries,
        "lost": len(expected - set(lines)),
        "duplicates": deliveries - len(lines),
        "duplicate_bound": CONCURRENCY,
        "drain_s": round(drain_s, 2),
        "drain_per_s": round(queued / drain_s),
        "per_sender_delivered": [r["delivered"] if r else None for r in results],
        "peak_rss_mb_per_sender": rss,
    }


async def time_stats(url: str, folder: Path, pledge_version: int, college: str) -> dict:
    """Time what /stats computes for the province and for one college (median and best of 5)."""
    config = _config(url, folder)
    clock = FakeClock()
    db = await PostgresDatabase(url, pool_size=2).open(migrate=False)
    store = Store(db, clock)
    period = default_period(clock.now().astimezone(config.tz).date())
    figures: dict = {}
    try:
        for name, scope in (("province", Scope()), ("college", Scope(college=college))):
            times = []
            for _ in range(5):
                started = time.perf_counter()
                await compute_figures(store, config, pledge_version, scope, period)
                times.append(time.perf_counter() - started)
            figures[f"stats_{name}_ms"] = round(statistics.median(times) * 1000, 1)
            figures[f"stats_{name}_best_ms"] = round(min(times) * 1000, 1)
    finally:
        await db.close()
    return figures


def run(server: str, people: int, colleges: int, senders: int, kill: bool, lease_s: float, keep: bool) -> dict:
    """The whole bench; returns the figures."""
    folder = Path(tempfile.mkdtemp(prefix="wuzha-province-"))
    wall = time.perf_counter()
    with scratch_database(server, f"out_province_{os.getpid()}", keep=keep) as url:
        async def migrate() -> None:
            await (await PostgresDatabase(url, pool_size=1).open()).close()
        asyncio.run(migrate())
        load_s = load_people(url, people, colleges)
        enqueue_s, queued, pledge_version = asyncio.run(enqueue(url, folder))
        figures = {"people": people, "colleges": colleges, "load_s": round(load_s, 1), "queued": queued,
                   "enqueue_s": round(enqueue_s, 2), "enqueue_per_s": round(queued / enqueue_s),
                   "enqueue_peak_rss_mb": _peak_rss_mb(os.getpid())}
        figures.update(drain(url, folder, senders, queued, kill, lease_s))
        figures.update(asyncio.run(time_stats(url, folder, pledge_version, _college(1, colleges))))
        figures["total_s"] = round(time.perf_counter() - wall, 1)
        return figures


def main() -> int:
    """Parse arguments; run the bench or, with --child, one sender process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=DEFAULT_SERVER, help="a PostgreSQL server URL (a database is made on it)")
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--colleges", type=int, default=600)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--no-kill", action="store_true", help="do not kill a sender halfway")
    parser.add_argument("--lease", type=float, default=5.0, help="claim lease in seconds (storage.outbox.LEASE_S"
                        " in production; short here so a killed sender's rows come back within the run)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--child", nargs=2, metavar=("URL", "LOG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(child(args.child[0], args.child[1], args.lease))
        return 0
    figures = run(args.db, args.people, args.colleges, args.senders, not args.no_kill, args.lease, args.keep)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
    else:
        for key, value in figures.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
