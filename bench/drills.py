"""How fast drills validate and answer: every path of every shipped drill through the real dispatcher.

    .venv/bin/python bench/drills.py [--rounds 3] [--json]
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
from bot.events import Incoming, Kind  # noqa: E402
from bot.library.drills import load_drills  # noqa: E402
from bot.library.loader import Problems, load_library  # noqa: E402


async def run(rounds: int) -> dict:
    """Time validation and the answers of every path; return the figures."""
    started = time.perf_counter()
    for _ in range(20):
        load_drills(ROOT / "content", Problems(), {})
    validate_ms = (time.perf_counter() - started) / 20 * 1000
    library = load_library(ROOT / "content")
    drills = library.extra["drills"]
    latencies: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        config = load_config(ROOT / "config.toml", env={}, db_override=f"{tmp}/bench.db", base_dir=Path(tmp))
        app = await App(config, clock=FakeClock()).open()
        try:
            paths = 0
            for round_no in range(rounds):
                for drill in drills.values():
                    for path in drill.paths():
                        key = f"bench-{round_no}-{drill.id}"
                        replies = await app.handle(Incoming("console", key, key, Kind.TEXT, f"/drill {drill.id}"))
                        for _, index in path:
                            data = replies[-1].flat_buttons()[index].data
                            t0 = time.perf_counter()
                            replies = await app.handle(Incoming("console", key, key, Kind.BUTTON, data))
                            latencies.append((time.perf_counter() - t0) * 1000)
                        paths += 1
        finally:
            await app.close()
    latencies.sort()
    return {
        "drills": len(drills),
        "paths_walked": paths,
        "answers": len(latencies),
        "validate_all_drills_ms": round(validate_ms, 2),
        "answer_ms_median": round(statistics.median(latencies), 2),
        "answer_ms_p95": round(latencies[int(len(latencies) * 0.95)], 2),
        "answer_ms_max": round(latencies[-1], 2),
    }


def main() -> None:
    """Print the figures (one JSON object with --json)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = asyncio.run(run(args.rounds))
    if args.json:
        print(json.dumps(figures))
        return
    for key, value in figures.items():
        print(f"{key:>24}: {value}")


if __name__ == "__main__":
    main()
