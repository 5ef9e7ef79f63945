"""Bench: a warning pushed through the outbox to Telegram users, against the fake Bot API enforcing limits.

    .venv/bin/python bench/telegram_broadcast.py [--paid-recipients 20000] [--free-recipients 1500] [--json]

Two runs: the paid broadcast tier (1,000 msg/s, allow_paid_broadcast) and the standard tier (30 msg/s).
The real TelegramChannel (PTB) delivers over HTTP to tests/fakes/telegram.py on 127.0.0.1, which answers
429 with retry_after when a limit is exceeded. Per run: achieved rate as a share of the limit (first to last
accepted message), 429s provoked, recipients lost, recipients reached twice. Targets: >= 95 %, 0, 0, 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from bot.app import App
from bot.channels.telegram import TelegramChannel
from bot.clock import iso
from bot.config import load_config
from bot.events import text
from tests.fakes.telegram import FakeBotApi, Limits, start_in_process

FIRST_CHAT = 100_000


async def seed(app: App, count: int) -> list[int]:
    """count bound people, each with a Telegram account; return their ids."""
    now = iso(app.clock.now())
    async with app.store.db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO people (id, person_no, college, role, created_at) VALUES (?, ?, 'bench', 'student', ?)",
            [(i, f"B{i:07d}", now) for i in range(1, count + 1)])
        await conn.executemany(
            "INSERT INTO accounts (platform, user_key, chat_key, person_id, language, last_seen_at, created_at)"
            " VALUES ('telegram', ?, ?, ?, 'zh', ?, ?)",
            [(str(FIRST_CHAT + i), str(FIRST_CHAT + i), i, now, now) for i in range(1, count + 1)])
    return list(range(1, count + 1))


async def run_once(recipients: int, paid: bool) -> dict:
    """Push one warning to recipients people and wait until the outbox is empty."""
    folder = Path(tempfile.mkdtemp(prefix="wuzha-tg-bench-"))
    config = load_config(None, env={}, db_override=str(folder / "bench.db"), base_dir=folder)
    config.schedule.quiet_hours = ""
    app = await App(config).open()
    process, root = start_in_process(enforce_limits=True, limits=Limits(overall_per_s=30, paid_per_s=1000))
    channel = TelegramChannel(app, FakeBotApi.token, base_url=root, paid_broadcast=paid, poll_timeout=5)
    app.add_channel(channel, poll_s=0.05)
    await channel.application.initialize()          # the bot only sends here: no polling needed
    stop = asyncio.Event()
    senders = asyncio.create_task(app.run_senders(stop))
    ids = await seed(app, recipients)
    message = text("【反诈预警】近期多名同学遭遇“刷单返利”诈骗：先小额返利，再诱导大额垫付。凡是要求先垫钱的兼职都是诈骗！")
    started = time.perf_counter()
    await app.outbox.push_many("bench-warning", [(pid, message) for pid in ids])
    while True:
        counts = await app.store.outbox.counts("bench-warning")
        if counts.get("pending", 0) + counts.get("inflight", 0) == 0:
            break
        await asyncio.sleep(0.2)
    wall = time.perf_counter() - started
    stop.set()
    await senders
    async with aiohttp.ClientSession() as session, session.get(f"{root}/_fake/state") as response:
        state = await response.json()
    accepted = [c for c in state["calls"] if c[0] == "sendMessage" and c[2] == 200]
    received = Counter(c[1] for c in accepted)
    limit = 1000.0 if paid else 30.0
    span = accepted[-1][3] - accepted[0][3] if len(accepted) > 1 else 0.0
    rate = (len(accepted) - 1) / span if span else 0.0
    figures = {
        "tier": "paid" if paid else "standard",
        "limit_per_s": limit,
        "recipients": recipients,
        "achieved_per_s": round(rate, 1),
        "achieved_share_of_limit": round(rate / limit, 3),
        "http_429": state["too_many"],
        "lost": recipients - len(received),
        "duplicates": sum(n - 1 for n in received.values()),
        "wall_s": round(wall, 1),
        "outbox": await app.store.outbox.counts("bench-warning"),
    }
    await channel.application.shutdown()
    process.terminate()
    process.join()
    await app.close()
    return figures


async def main_async(args) -> dict:
    runs = [await run_once(args.paid_recipients, paid=True), await run_once(args.free_recipients, paid=False)]
    return {"runs": runs}


def main() -> None:
    """Run both tiers and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paid-recipients", type=int, default=20000)
    parser.add_argument("--free-recipients", type=int, default=1500)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    result = asyncio.run(main_async(args))
    if args.json:
        print(json.dumps(result))
        return
    for run in result["runs"]:
        print(f"{run['tier']:>8}: {run['recipients']} recipients at a {run['limit_per_s']:.0f} msg/s limit: "
              f"{run['achieved_per_s']} msg/s = {run['achieved_share_of_limit']:.1%} of the limit, "
              f"429s {run['http_429']}, lost {run['lost']}, duplicates {run['duplicates']}, "
              f"wall {run['wall_s']} s, outbox {run['outbox']}")


if __name__ == "__main__":
    main()
