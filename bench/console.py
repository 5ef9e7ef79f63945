"""The office console at school scale: the cases page with 2,000 open cases, the figures page on the term.

Reuses bench/stats.py's database (30,000 people, 1,000 classes, a 120-day term, 2,000 reports this term),
opens this term's 2,000 reports again (received / acknowledged / in progress, a fifth urgent), starts the
real console server on 127.0.0.1 and signs in through a one-time link like an officer. Each figure is the
server's own time per request (its Server-Timing header), over --runs requests after one warm-up.

    .venv/bin/python bench/console.py [--people 30000] [--db FILE] [--reuse] [--runs 30] [--json]

Targets on the 2-core dev machine: cases page p99 < 200 ms, figures page p99 < 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from bot.app import App  # noqa: E402
from bot.clock import FakeClock  # noqa: E402
from bot.config import load_config  # noqa: E402
from tests.console_web_support import client_signed_in, console_server  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_stats", ROOT / "bench" / "stats.py")
stats_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(stats_bench)


def open_cases(path: Path) -> int:
    """Make this term's reports open again; how many are open."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("UPDATE reports SET resolved_at = NULL, status = CASE id % 3 WHEN 0 THEN 'received'"
                 " WHEN 1 THEN 'acknowledged' ELSE 'in_progress' END WHERE case_no LIKE 'R-2026-%'")
    count = conn.execute("SELECT COUNT(*) FROM reports WHERE status != 'resolved'").fetchone()[0]
    conn.close()
    return count


async def server_times(client: aiohttp.ClientSession, url: str, runs: int) -> list[float]:
    """The server's milliseconds for each of `runs` GETs (after one warm-up)."""
    times = []
    for i in range(runs + 1):
        async with client.get(url) as response:
            body = await response.read()
            assert response.status == 200, (url, response.status, body[:200])
            if i:
                times.append(float(response.headers["Server-Timing"].split("dur=")[1]))
    return times


def summary(times: list[float]) -> dict:
    """p50 and p99 (the slowest of fewer than 100 runs) in ms."""
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered), 1), "p99_ms": round(p99, 1)}


async def measure(db: Path, runs: int) -> dict:
    """Sign in as the security office and time both pages."""
    config = load_config(ROOT / "config.toml", env={}, db_override=str(db), base_dir=db.parent)
    app = await App(config, clock=FakeClock(stats_bench.NOW)).open()
    try:
        officer = await app.store.people.by_number("SEC")
        async with console_server(app) as base:
            client, _csrf = await client_signed_in(app, base, officer.id)
            async with client:
                cases = await server_times(client, f"{base}/console/cases", runs)
                figures = await server_times(client, f"{base}/console/figures?period=term", runs)
                async with client.get(f"{base}/console/cases") as response:
                    page_kb = len(await response.read()) // 1024
    finally:
        await app.close()
    return {"cases": summary(cases), "figures_term": summary(figures), "cases_page_kb": page_kb}


def main() -> int:
    """Build or reuse the database, then print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=30000)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--reuse", action="store_true", help="use --db as it is (built by an earlier run)")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    db = args.db or Path(tempfile.mkdtemp()) / "console-bench.db"
    start = time.perf_counter()
    if not args.reuse:
        db.unlink(missing_ok=True)
        asyncio.run(stats_bench.prepare(db))
        stats_bench.build(db, args.people, colleges=40, classes=1000, reports=2000)
    opened = open_cases(db)
    build_s = time.perf_counter() - start
    result = {"people": args.people, "open_cases": opened, "build_s": round(build_s, 1),
              **asyncio.run(measure(db, args.runs))}
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(f"{args.people:,} people, {opened:,} open cases (built in {build_s:.1f} s)")
        print(f"cases page:   p50 {result['cases']['p50_ms']} ms, p99 {result['cases']['p99_ms']} ms "
              f"(target < 200 ms; {result['cases_page_kb']} KB)")
        print(f"figures term: p50 {result['figures_term']['p50_ms']} ms, p99 {result['figures_term']['p99_ms']} ms "
              "(target < 300 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
