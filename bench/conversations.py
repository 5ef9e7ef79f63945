"""Speed of the conversation engine: a quiz interrupted by a side command, then answered, per message.

Usage: .venv/bin/python bench/conversations.py [--people 200] [--json]
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
from tests.support import make_person  # noqa: E402  (the bound-person factory the tests use)


async def timed(call) -> float:
    """Milliseconds one awaited call takes."""
    start = time.perf_counter()
    await call
    return (time.perf_counter() - start) * 1000


async def bench(people: int) -> dict:
    """Each person: /quiz, a side /check (answered, the question shown again), then 'B' answers it."""
    folder = Path(tempfile.mkdtemp())
    config = load_config(ROOT / "config.toml", env={}, db_override=str(folder / "b.db"), base_dir=folder)
    app = await App(config, clock=FakeClock()).open()
    times: dict[str, list[float]] = {"start": [], "side_command": [], "answer": []}
    try:
        class_id = await app.store.classes.ensure("Bench", "Bench college")
        for i in range(people):
            user = await make_person(app, f"C{i:05d}", class_id=class_id, college="Bench college", key=f"c{i}",
                                     platform="bench")
            times["start"].append(await timed(user.say("/quiz")))
            times["side_command"].append(await timed(user.say("/check 13800138000")))
            times["answer"].append(await timed(user.say("B")))
            assert user.replies[-1].quiz is not None and user.replies[-1].quiz.question.startswith("(2/")
    finally:
        await app.close()
    result = {"people": people}
    for name, values in times.items():
        values.sort()
        result[f"{name}_ms_median"] = round(statistics.median(values), 2)
        result[f"{name}_ms_p95"] = round(values[int(len(values) * 0.95) - 1], 2)
    return result


def main() -> None:
    """Run and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(bench(args.people))
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:24} {value}")


if __name__ == "__main__":
    main()
