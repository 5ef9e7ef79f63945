"""Speed of the report path: amount parsing, identifier extraction, an urgent report to its card, the escalation job.

Usage: .venv/bin/python bench/reports.py [--cases 500] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import App  # noqa: E402
from bot.clock import FakeClock  # noqa: E402
from bot.config import load_config  # noqa: E402
from handlers.amounts import parse_amount  # noqa: E402
from handlers.identifiers import extract_identifiers  # noqa: E402
from handlers.report_escalation import run_escalations  # noqa: E402
from tests.support import make_person  # noqa: E402  (the bound-person factory the tests use)

AMOUNTS = ["3000", "3,000元", "三千", "3k", "5万", "一万二", "1.5w", "约3000元左右", "abc", "三千或者四千"]
IDS = "电话 138 0013 8000 微信 scam_pay, https://www.pay-scam.com/x?a=1\nQQ：12345678"


def per_call_us(func, arg, rounds: int) -> float:
    """Mean microseconds per call."""
    start = time.perf_counter()
    for _ in range(rounds):
        func(arg)
    return (time.perf_counter() - start) / rounds * 1e6


async def bench_flow(cases: int) -> dict:
    """File `cases` urgent reports through the dispatcher, then time one escalation pass over all of them."""
    folder = Path(tempfile.mkdtemp())
    config = load_config(ROOT / "config.toml", env={}, db_override=str(folder / "b.db"), base_dir=folder)
    clock = FakeClock()
    app = await App(config, clock=clock).open()
    try:
        class_id = await app.store.classes.ensure("Bench", "Bench college")
        config.reports.max_per_day = 1000
        latencies = []
        for i in range(cases):
            user = await make_person(app, f"B{i:05d}", class_id=class_id, college="Bench college", key=f"u{i}",
                                     platform="bench")
            await user.say("/report")
            start = time.perf_counter()
            await user.press("rep:money:money")
            latencies.append((time.perf_counter() - start) * 1000)
        clock.advance(minutes=config.reports.urgent_ack_minutes)
        start = time.perf_counter()
        done = await run_escalations(app.services)
        sweep_s = time.perf_counter() - start
    finally:
        await app.close()
    latencies.sort()
    return {
        "urgent_to_card_ms_median": round(statistics.median(latencies), 2),
        "urgent_to_card_ms_p95": round(latencies[int(len(latencies) * 0.95) - 1], 2),
        "reescalation_pass_cases": done,
        "reescalation_pass_s": round(sweep_s, 3),
    }


def main() -> int:
    """Print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = {
        "parse_amount_us": round(statistics.mean(per_call_us(parse_amount, a, 2000) for a in AMOUNTS), 2),
        "extract_identifiers_us": round(per_call_us(extract_identifiers, IDS, 2000), 2),
        **asyncio.run(bench_flow(args.cases)),
    }
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:32} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
