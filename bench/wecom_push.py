"""Bench: a weekly warning to 30,000 WeCom members through the real WeCom channel and outbox sender.

    .venv/bin/python bench/wecom_push.py [--members 30000] [--json]

The WeCom API is the fake server of tests/ on 127.0.0.1. Prints the API calls made (1,000 members a call,
a text card per call), the seconds from push_many to the last row settled, and how many members got it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import App
from bot.channels import wecom
from bot.clock import iso
from bot.config import load_config
from bot.events import Outgoing
from tests.fakes.wechat_api import FakeWechatApi
from tests.wechat_support import wechat_secrets

ROOT = Path(__file__).resolve().parent.parent


async def add_members(app, count: int) -> list[int]:
    """Bound people with one WeCom account each, inserted in bulk."""
    now = iso(app.clock.now())
    async with app.db.transaction() as conn:
        await conn.executemany("INSERT INTO people (person_no, college, role, created_at) VALUES (?, '', 'student', ?)",
                               [(f"u{i:06d}", now) for i in range(count)])
        await conn.execute("INSERT INTO accounts (platform, user_key, chat_key, person_id, created_at, last_seen_at)"
                           " SELECT 'wecom', person_no, person_no, id, ?, ? FROM people", (now, now))
    return [r[0] for r in await app.db.fetchall("SELECT id FROM people ORDER BY id")]


async def run(members: int) -> dict:
    """Push one warning to every member and drain it; return the figures."""
    api = await FakeWechatApi().start()
    with tempfile.TemporaryDirectory() as tmp:
        config = load_config(ROOT / "config.toml", env={}, db_override=f"{tmp}/bench.db", base_dir=Path(tmp))
        config.schedule.quiet_hours = ""
        config.channels.wecom.enabled = True
        config.secrets.update(wechat_secrets(api.base))
        app = await App(config).open()
        try:
            channel = wecom.build_channel(app)
            sender = app.add_channel(channel)
            people = await add_members(app, members)
            warning = Outgoing(text="本周警示：冒充客服“退款”\n对方自称电商客服，说商品有问题要退款，"
                                    "引导你开屏幕共享、报验证码。客服不会让你共享屏幕；挂断，打官方电话核实。",
                               ref="warning:bench")
            started = time.perf_counter()
            summary = await app.outbox.push_many("warning-bench", [(p, warning) for p in people])
            queued_s = time.perf_counter() - started
            while await sender.drain_once():
                pass
            seconds = time.perf_counter() - started
            calls = api.to("message/send")
            recipients = sum(len(c.body["touser"].split("|")) for c in calls)
            counts = await app.store.outbox.counts("warning-bench")
        finally:
            await app.close()
            await api.stop()
    return {"members": members, "queued": summary.queued, "api_calls": len(calls), "recipients": recipients,
            "sent": counts["sent"], "seconds": round(seconds, 3), "enqueue_seconds": round(queued_s, 3)}


def main() -> int:
    """Parse arguments, run, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=30_000)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    result = asyncio.run(run(args.members))
    if args.json:
        print(json.dumps(result))
    else:
        print(f"warning to {result['members']} WeCom members: {result['api_calls']} API calls, "
              f"{result['recipients']} recipients, {result['sent']} rows sent in {result['seconds']} s "
              f"(enqueue {result['enqueue_seconds']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
