"""Bench: updates fed through getUpdates to the real Telegram channel, each answered, against a PTB echo bot.

    .venv/bin/python bench/telegram_inbound.py [--updates 10000] [--latency-updates 4000] [--rate 200] [--json]

The fake Bot API (tests/fakes/telegram.py) runs in its own process. A realistic mix from 2,000 bound users:
/help, /me, /lang, button presses and free text about scams. Throughput: all updates queued, time until the
last is answered. Latency: updates offered at --rate per second; time from getUpdates serving an update to
the first answer (sendMessage, answerCallbackQuery, ...) reaching the server, p50 and p99. The baseline is
a minimal PTB echo bot (PTB defaults) on the same server. Targets: at least half the echo bot's throughput,
p99 under 100 ms at 200 updates/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

from bot.app import App
from bot.channels.telegram import TelegramChannel
from bot.clock import iso
from bot.config import load_config
from tests.fakes.telegram import FakeBotApi, start_in_process

USERS = 2000
FIRST_USER = 200_000
TEXTS = ["有人让我刷单返利，先垫付再返佣金，是真的吗", "自称客服说我的校园贷要注销，否则影响征信",
         "a man on the phone says he is police and my bank account is involved in money laundering",
         "游戏账号低价出售，让我去别的平台交易", "兼职打字员要先交会员费", "你好", "谢谢",
         "someone offered me a job that pays 500 a day for liking videos"]


def script(count: int, seed: int = 7) -> list[dict]:
    """The mix of updates, as feed operations for the fake server."""
    rng = random.Random(seed)
    ops = []
    for _ in range(count):
        user = FIRST_USER + rng.randrange(USERS)
        roll = rng.random()
        if roll < 0.25:
            ops.append({"op": "message", "user_id": user, "text": "/help"})
        elif roll < 0.35:
            ops.append({"op": "message", "user_id": user, "text": "/me"})
        elif roll < 0.40:
            ops.append({"op": "message", "user_id": user, "text": "/lang"})
        elif roll < 0.70:
            ops.append({"op": "press", "user_id": user, "data": rng.choice(["lang:zh", "lang:en"]),
                        "message_id": 1})
        else:
            ops.append({"op": "message", "user_id": user, "text": rng.choice(TEXTS)})
    return ops


async def feed(session: aiohttp.ClientSession, root: str, ops: list[dict]) -> None:
    """Queue updates on the fake server."""
    async with session.post(f"{root}/_fake/feed", json=ops) as response:
        response.raise_for_status()


async def state(session: aiohttp.ClientSession, root: str) -> dict:
    """The fake server's record."""
    async with session.get(f"{root}/_fake/state") as response:
        return await response.json()


async def open_wuzha(root: str) -> tuple[App, TelegramChannel]:
    """An App with 2,000 bound Telegram users and the channel polling the fake server."""
    folder = Path(tempfile.mkdtemp(prefix="wuzha-tg-inbound-"))
    config = load_config(None, env={}, db_override=str(folder / "bench.db"), base_dir=folder)
    app = await App(config).open()
    now = iso(app.clock.now())
    class_id = await app.store.classes.ensure("基准班", "基准学院")
    async with app.store.db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO people (id, person_no, college, class_id, role, created_at)"
            " VALUES (?, ?, '基准学院', ?, 'student', ?)",
            [(i + 1, f"B{i:07d}", class_id, now) for i in range(USERS)])
        await conn.executemany(
            "INSERT INTO accounts (platform, user_key, chat_key, person_id, language, last_seen_at, created_at)"
            " VALUES ('telegram', ?, ?, ?, 'zh', ?, ?)",
            [(str(FIRST_USER + i), str(FIRST_USER + i), i + 1, now, now) for i in range(USERS)])
    channel = TelegramChannel(app, FakeBotApi.token, base_url=root, poll_timeout=1)
    app.add_channel(channel)
    return app, channel


async def run_wuzha(ops: list[dict], rate: float | None) -> dict:
    """Feed ops (all at once, or at rate per second) to the real channel; return the figures."""
    process, root = start_in_process()
    app, channel = await open_wuzha(root)
    async with aiohttp.ClientSession() as session:
        if rate is None:
            for i in range(0, len(ops), 1000):
                await feed(session, root, ops[i:i + 1000])
        await channel.start()
        started = time.perf_counter()
        if rate is not None:
            step = max(1, int(rate / 20))
            for i in range(0, len(ops), step):
                await feed(session, root, ops[i:i + step])
                await asyncio.sleep(max(0.0, started + (i + step) / rate - time.perf_counter()))
        while channel.handled < len(ops):  # noqa: ASYNC110 (polling a counter PTB's tasks bump)
            await asyncio.sleep(0.02)
        elapsed = time.perf_counter() - started
        record = await state(session, root)
    await channel.stop()
    await app.close()
    process.terminate()
    process.join()
    return {"updates_per_s": len(ops) / elapsed, **latency(record)}


async def run_echo(ops: list[dict]) -> float:
    """A minimal PTB echo bot (PTB defaults) on the same server: updates per second."""
    process, root = start_in_process()
    done = 0

    async def echo(update: Update, context) -> None:
        nonlocal done
        await update.effective_message.reply_text(update.effective_message.text)
        done += 1

    async def press(update: Update, context) -> None:
        nonlocal done
        await update.callback_query.answer()
        done += 1

    application = (Application.builder().token(FakeBotApi.token).base_url(f"{root}/bot")
                   .base_file_url(f"{root}/file/bot").job_queue(None).build())
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.add_handler(CallbackQueryHandler(press))
    async with aiohttp.ClientSession() as session:
        for i in range(0, len(ops), 1000):
            await feed(session, root, ops[i:i + 1000])
    await application.initialize()
    await application.start()
    started = time.perf_counter()
    await application.updater.start_polling(timeout=1)
    while done < len(ops):  # noqa: ASYNC110
        await asyncio.sleep(0.02)
    elapsed = time.perf_counter() - started
    await application.updater.stop()
    await application.stop()
    await application.shutdown()
    process.terminate()
    process.join()
    return len(ops) / elapsed


def latency(record: dict) -> dict:
    """p50/p99 milliseconds from an update being served to its first answer."""
    served, answered = record["served_at"], record["answered_at"]
    values = sorted((answered[k] - served[k]) * 1000 for k in answered if k in served)
    if not values:
        return {"p50_ms": None, "p99_ms": None, "answered": 0}
    return {"p50_ms": statistics.median(values), "p99_ms": values[min(len(values) - 1, int(len(values) * 0.99))],
            "answered": len(values)}


async def main_async(args) -> dict:
    ops = script(args.updates)
    throughput = await run_wuzha(ops, rate=None)
    echo = await run_echo(ops)
    paced = await run_wuzha(script(args.latency_updates, seed=11), rate=args.rate)
    return {
        "updates": args.updates,
        "updates_per_s": round(throughput["updates_per_s"], 1),
        "echo_updates_per_s": round(echo, 1),
        "share_of_echo": round(throughput["updates_per_s"] / echo, 3),
        "offered_per_s": args.rate,
        "latency_updates": args.latency_updates,
        "p50_ms": round(paced["p50_ms"], 1) if paced["p50_ms"] is not None else None,
        "p99_ms": round(paced["p99_ms"], 1) if paced["p99_ms"] is not None else None,
    }


def main() -> None:
    """Run the three measurements and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=10000)
    parser.add_argument("--latency-updates", type=int, default=4000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    result = asyncio.run(main_async(args))
    if args.json:
        print(json.dumps(result))
        return
    print(f"wuzha:    {result['updates']} updates, {result['updates_per_s']} updates/s "
          f"({result['share_of_echo']:.0%} of the echo bot)")
    print(f"echo bot: {result['echo_updates_per_s']} updates/s (PTB defaults)")
    print(f"latency at {result['offered_per_s']:.0f} updates/s offered ({result['latency_updates']} updates): "
          f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms")


if __name__ == "__main__":
    main()
