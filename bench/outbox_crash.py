"""Crash test: kill -9 a sender process in the middle of a push, restart it, count lost and doubled messages.

    .venv/bin/python bench/outbox_crash.py [--people 20000] [--batch 200] [--json]

The parent queues a campaign, then runs a child process that drains it through a fake channel. The
channel appends each address to a log file with one unbuffered write *before* it acknowledges the
message, so the log survives kill -9 and is the ground truth of what "reached" people. The parent
kills the child (SIGKILL) once part of the push is out, starts a new child (which, like `wuzha serve`,
puts in-flight rows back to pending at start), lets it finish, and compares the log with the queue.

Bound: each row is settled as soon as it is delivered (rows that finish together share one commit),
so the only messages that can go twice are those delivered but not yet committed at the moment of the
kill: at most the calls in flight (Limits.concurrency) plus one commit's worth.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.outbox import PLATFORM, seed_people
from bot.channels.base import Channel, Delivery, Limits
from bot.clock import Clock
from bot.config import load_config
from bot.events import text
from bot.outbox import Outbox, OutboxSender
from storage.db import database_for
from storage.store import Store

CAMPAIGN = "crash:2026-11-23"


class LoggingChannel(Channel):
    """Records each delivery durably (one O_APPEND write) before saying it went out."""

    def __init__(self, log_path: Path, batch: int) -> None:
        super().__init__(name=PLATFORM, limits=Limits(concurrency=32, batch=batch))
        self.fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    async def deliver(self, address: str, message) -> Delivery:
        """Log the address, then acknowledge."""
        os.write(self.fd, f"{address}\n".encode())
        await asyncio.sleep(0)
        return Delivery(ok=True)


def _config(db_path: Path):
    config = load_config(None, env={}, db_override=str(db_path), base_dir=db_path.parent)
    config.schedule.quiet_hours = ""
    return config


async def _open(db_path: Path):
    config = _config(db_path)
    clock = Clock()
    db = await database_for(config.database_target).open()
    store = Store(db, clock)
    return db, store, Outbox(store, clock, config)


async def prepare(db_path: Path, people: int) -> int:
    """Seed people and queue one campaign for all of them; return how many rows were queued."""
    db, _, outbox = await _open(db_path)
    ids = await seed_people(db, people, Clock())
    summary = await outbox.push_many(CAMPAIGN, [(pid, text("crash test 反诈提醒")) for pid in ids])
    await db.close()
    return summary.queued


async def child(db_path: Path, log_path: Path, batch: int) -> None:
    """A sender process: recover in-flight rows as a restart does, then drain everything."""
    db, store, outbox = await _open(db_path)
    recovered = await store.outbox.recover_inflight()
    print(f"recovered {recovered}", flush=True)
    sender = OutboxSender(outbox, LoggingChannel(log_path, batch))
    while await sender.drain_once():
        pass
    await db.close()


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


async def _state_counts(db_path: Path) -> dict[str, int]:
    db, store, _ = await _open(db_path)
    counts = await store.outbox.counts(CAMPAIGN)
    await db.close()
    return counts


def run(people: int, batch: int, kill_at: float) -> dict:
    """The whole test; returns the figures."""
    folder = Path(tempfile.mkdtemp(prefix="wuzha-crash-"))
    db_path, log_path = folder / "crash.db", folder / "delivered.log"
    queued = asyncio.run(prepare(db_path, people))
    command = [sys.executable, __file__, "--child", str(db_path), str(log_path), "--batch", str(batch)]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while len(_lines(log_path)) < queued * kill_at and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    delivered_before_kill = len(_lines(log_path))
    killed = first.poll() is None
    if killed:
        os.kill(first.pid, signal.SIGKILL)
    first.wait()
    inflight_at_kill = asyncio.run(_state_counts(db_path))["inflight"]
    second = subprocess.run(command, capture_output=True, text=True, check=True)
    recovered = int(second.stdout.split()[1])
    lines = _lines(log_path)
    expected = {f"c{i}" for i in range(1, people + 1)}
    unique = set(lines)
    final = asyncio.run(_state_counts(db_path))
    return {
        "people": people,
        "queued": queued,
        "killed_mid_drain": killed,
        "delivered_before_kill": delivered_before_kill,
        "inflight_at_kill": inflight_at_kill,
        "recovered_on_restart": recovered,
        "deliveries": len(lines),
        "lost": len(expected - unique),
        "duplicates": len(lines) - len(unique),
        "in_flight_bound": batch,
        "sent_rows": final["sent"],
        "pending_rows": final["pending"] + final["inflight"],
    }


def main() -> int:
    """Parse arguments; run the parent test or, with --child, one sender process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=Limits().batch, help="rows claimed at once (Limits.batch)")
    parser.add_argument("--kill-at", type=float, default=0.4, help="share delivered before the kill")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--child", nargs=2, metavar=("DB", "LOG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(child(Path(args.child[0]), Path(args.child[1]), args.batch))
        return 0
    figures = run(args.people, args.batch, args.kill_at)
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"queued {figures['queued']}; killed the sender after {figures['delivered_before_kill']} deliveries "
              f"with {figures['inflight_at_kill']} rows in flight; the restart re-queued "
              f"{figures['recovered_on_restart']}")
        print(f"lost: {figures['lost']}   duplicates: {figures['duplicates']} "
              f"(bound: the claim batch, {figures['in_flight_bound']})")
    ok = figures["lost"] == 0 and figures["duplicates"] <= figures["in_flight_bound"] and figures["killed_mid_drain"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
