"""Fault storms against the real Telegram channel and `wuzha serve`: lost, doubled and recovery_s per fault.

    .venv/bin/python bench/faults.py [--quick] [--people 100] [--json]

Each storm runs the real TelegramChannel (PTB Application) against the fake Bot API with the
faults of tests/fakes/faults.py, or real `wuzha serve` child processes:

  outage_5xx_60s / outage_5xx_300s  502 on every send method (a push to --people waiting)
  outage_timeout_60s                sends hang past the client's timeout
  retry_after_20s                   429 retry_after=20 on every send: calls made inside the window
  db_lock_30s                       another process holds the database's write lock; users write in
  disk_full                         the database on a small tmpfs that fills up (root only; else skipped)
  second_server                     a second `wuzha serve` on the same database
  cli_during_push                   `wuzha roster codes` twice while a push is going out
  kill9_after_publish               kill -9 of `wuzha serve` 300 ms after a push starts going out, then restart

lost = recipients (or users) who never got their message; doubled = those who got it more than once;
recovery_s = from the end of the fault until everything was delivered. --quick shortens the 60 s and
300 s outages to 6 s and 12 s and the lock to 12 s (past two 5 s busy timeouts).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import App  # noqa: E402
from bot.channels.telegram import TelegramChannel  # noqa: E402
from bot.clock import Clock  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.events import text  # noqa: E402
from tests.fakes.faults import Faults  # noqa: E402
from tests.fakes.telegram import FakeBotApi, start_in_process  # noqa: E402

FIRST = 100_000
SECURITY_CHAT = -1001234500


def _config(folder: Path):
    config = load_config(None, env={}, db_override=str(folder / "w.db"), base_dir=folder)
    config.schedule.quiet_hours = ""
    config.channels.telegram.security_chat_id = SECURITY_CHAT
    return config


async def _bind(app, count: int) -> list[int]:
    class_id = await app.store.classes.ensure("压测班", "测试学院")
    ids = []
    for i in range(count):
        person = await app.store.people.create(f"B{FIRST + i}", class_id, "测试学院")
        account = await app.store.accounts.touch("telegram", str(FIRST + i), str(FIRST + i))
        await app.store.accounts.bind(account.id, person.id)
        ids.append(person.id)
    return ids


def _per_chat(api: FakeBotApi) -> Counter:
    return Counter(int(c.params["chat_id"]) for c in api.calls_of("sendMessage"))


async def _rig(folder: Path):
    app = await App(_config(folder), clock=Clock()).open()
    api = await FakeBotApi().start()
    channel = TelegramChannel(app, api.token, base_url=api.root, poll_timeout=1.0, request_timeout=3.0)
    app.add_channel(channel, poll_s=0.05)
    await channel.start()
    stop = asyncio.Event()
    senders = asyncio.create_task(app.run_senders(stop))
    return app, api, channel, stop, senders


async def _close(app, api, channel, stop, senders) -> None:
    stop.set()
    await senders
    await channel.stop()
    await api.stop()
    await app.close()


async def _until(predicate, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return predicate()


async def storm_outage(kind: str, seconds: float, people: int) -> dict:
    """A push to `people` during a platform outage of one kind."""
    with tempfile.TemporaryDirectory() as tmp:
        app, api, channel, stop, senders = await _rig(Path(tmp))
        try:
            ids = await _bind(app, people)
            faults = Faults(api)
            faults.add(kind, seconds, methods="send", delay_s=30.0)
            await app.outbox.push_many("storm", [(p, text("停机预警")) for p in ids])
            await asyncio.sleep(seconds)
            ended = time.monotonic()
            await _until(lambda: len(_per_chat(api)) >= people, within=120)
            recovery = time.monotonic() - ended
            await asyncio.sleep(1.0)
            counts = _per_chat(api)
            dead = (await app.store.outbox.counts("storm"))["dead"]
            return {"lost": people - len(counts), "doubled": sum(1 for n in counts.values() if n > 1),
                    "dead_rows": dead, "recovery_s": round(recovery, 2), "faulted_calls": sum(faults.applied.values())}
        finally:
            await _close(app, api, channel, stop, senders)


async def storm_retry_after(seconds: int, people: int) -> dict:
    """429 with retry_after on every send: how many calls are made inside the window."""
    with tempfile.TemporaryDirectory() as tmp:
        app, api, channel, stop, senders = await _rig(Path(tmp))
        try:
            ids = await _bind(app, people)
            faults = Faults(api)
            faults.add("429", seconds, methods="send", retry_after=seconds)
            started = time.monotonic()
            await app.outbox.push_many("storm", [(p, text("限流预警")) for p in ids])
            await asyncio.sleep(seconds)
            ended = time.monotonic()
            await _until(lambda: len(_per_chat(api)) >= people, within=120)
            recovery = time.monotonic() - ended
            counts = _per_chat(api)
            inside = [c for c in api.calls_of("sendMessage", ok_only=False) if started <= c.at < ended]
            return {"lost": people - len(counts), "doubled": sum(1 for n in counts.values() if n > 1),
                    "calls_inside_window": len(inside), "recovery_s": round(recovery, 2)}
        finally:
            await _close(app, api, channel, stop, senders)


async def storm_db_lock(seconds: float, users: int) -> dict:
    """Another process holds the write lock while users write in."""
    with tempfile.TemporaryDirectory() as tmp:
        app, api, channel, stop, senders = await _rig(Path(tmp))
        try:
            holder = sqlite3.connect(app.config.database_path, isolation_level=None, timeout=0.1)
            holder.execute("BEGIN IMMEDIATE")
            for i in range(users):
                api.message(FIRST + i, "/help")
            await asyncio.sleep(seconds)
            holder.execute("ROLLBACK")
            holder.close()
            ended = time.monotonic()
            await _until(lambda: len(_per_chat(api)) >= users, within=60)
            recovery = time.monotonic() - ended
            await asyncio.sleep(1.0)
            counts = _per_chat(api)
            answered = {FIRST + i for i in range(users)} & set(counts)
            notices = sum(1 for c in api.calls_of("sendMessage") if int(c.params["chat_id"]) == SECURITY_CHAT)
            return {"lost": users - len(answered), "doubled": sum(1 for u in answered if counts[u] > 2),
                    "recovery_s": round(recovery, 2), "office_notices": notices}
        finally:
            await _close(app, api, channel, stop, senders)


def storm_disk_full(users: int) -> dict:
    """The database on a tmpfs that fills up (needs root to mount)."""
    if os.geteuid() != 0:
        return {"skipped": "needs root to mount a small tmpfs"}
    mount = Path(tempfile.mkdtemp())
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        return {"skipped": f"cannot mount a tmpfs here: {done.stderr.strip()[:120]}"}
    try:
        return asyncio.run(_disk_full(mount, users))
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True)


async def _disk_full(mount: Path, users: int) -> dict:
    app, api, channel, stop, senders = await _rig(mount)
    filler = mount / "filler"
    try:
        # Unbuffered: closing the file must not flush a last block into the full disk (and raise ENOSPC).
        with open(filler, "wb", buffering=0) as out:   # noqa: ASYNC230  (fill the disk; nothing else runs)
            try:
                while True:
                    out.write(b"\0" * 65536)
                    out.flush()
            except OSError:
                pass
        for i in range(users):
            api.message(FIRST + i, "/help")
        await asyncio.sleep(5.0)
        filler.unlink()
        ended = time.monotonic()
        await _until(lambda: len(_per_chat(api)) >= users, within=60)
        recovery = time.monotonic() - ended
        counts = _per_chat(api)
        answered = {FIRST + i for i in range(users)} & set(counts)
        return {"lost": users - len(answered), "doubled": sum(1 for u in answered if counts[u] > 2),
                "recovery_s": round(recovery, 2)}
    finally:
        filler.unlink(missing_ok=True)
        await _close(app, api, channel, stop, senders)


def _serve_env(folder: Path, root: str) -> dict:
    (folder / "config.toml").write_text(
        f'[server]\nhost = "127.0.0.1"\nport = 0\n[security_channel]\ntargets = ["telegram"]\n'
        f'[channels.telegram]\nenabled = true\nsecurity_chat_id = {SECURITY_CHAT}\n'
        f'[schedule]\nquiet_hours = ""\n', encoding="utf-8")
    return {**os.environ, "WUZHA_DB": str(folder / "w.db"), "WUZHA_TELEGRAM_TOKEN": "123456:TEST-TOKEN",
            "WUZHA_TELEGRAM_BASE_URL": root, "PYTHONPATH": str(ROOT)}


def _serve(folder: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=folder, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _state(root: str) -> dict:
    import urllib.request

    with urllib.request.urlopen(f"{root}/_fake/state", timeout=5) as response:
        return json.loads(response.read())


def _sends(root: str) -> Counter:
    return Counter(chat for method, chat, status, _ in _state(root)["calls"] if method == "sendMessage" and status == 200)


async def _queue(folder: Path, people: int) -> None:
    app = await App(_config(folder), clock=Clock()).open()
    try:
        ids = await _bind(app, people)
        await app.outbox.push_many("storm", [(p, text("推送")) for p in ids])
    finally:
        await app.close()


def _wait_sends(root: str, count: int, within: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < within and len(_sends(root)) < count:
        time.sleep(0.1)
    return time.monotonic() - started


def storm_second_server() -> dict:
    """A second `wuzha serve` on the same database must refuse in one line."""
    api_process, root = start_in_process()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = _serve_env(folder, root)
        first = _serve(folder, env)
        try:
            time.sleep(4.0)
            second = subprocess.run([sys.executable, "-m", "bot", "serve"], cwd=folder, env=env,
                                    capture_output=True, text=True, timeout=60)
            lines = [line for line in second.stderr.splitlines() if line.strip()]
            return {"lost": 0, "doubled": 0, "recovery_s": 0.0, "refused": second.returncode == 1,
                    "stderr_lines": len(lines), "message": lines[-1][:160] if lines else ""}
        finally:
            first.send_signal(signal.SIGTERM)
            first.wait(timeout=30)
            api_process.kill()


def storm_cli_during_push(people: int) -> dict:
    """`wuzha roster codes` twice while a live server pushes: nothing may go twice."""
    api_process, root = start_in_process()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = _serve_env(folder, root)
        asyncio.run(_queue(folder, people))
        server = _serve(folder, env)
        try:
            _wait_sends(root, 1, 60)
            for _ in range(2):
                subprocess.run([sys.executable, "-m", "bot", "roster", "codes"], cwd=folder, env=env,
                               capture_output=True, timeout=60)
            took = _wait_sends(root, people, 120)
            time.sleep(1.0)
            counts = _sends(root)
            return {"lost": people - len(counts), "doubled": sum(1 for n in counts.values() if n > 1),
                    "recovery_s": round(took, 2)}
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
            api_process.kill()


def storm_kill9(people: int) -> dict:
    """kill -9 of the server 300 ms after the push starts going out; restart; count lost and doubled."""
    api_process, root = start_in_process()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = _serve_env(folder, root)
        asyncio.run(_queue(folder, people))
        server = _serve(folder, env)
        _wait_sends(root, 1, 60)
        time.sleep(0.3)
        server.kill()
        server.wait()
        at_kill = len(_sends(root))
        restarted = _serve(folder, env)
        try:
            took = _wait_sends(root, people, 120)
            time.sleep(1.0)
            counts = _sends(root)
            return {"lost": people - len(counts), "doubled": sum(1 for n in counts.values() if n > 1),
                    "recovery_s": round(took, 2), "sent_before_kill": at_kill}
        finally:
            started = time.monotonic()
            restarted.send_signal(signal.SIGTERM)
            restarted.wait(timeout=30)
            sigterm = time.monotonic() - started
            api_process.kill()
            print(f"sigterm_s={sigterm:.2f}", file=sys.stderr)


def main() -> int:
    """Run every storm and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="shorten the 60 s / 300 s outages and the 30 s lock")
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--only", default="", help="comma-separated storm names")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    short, long_, lock, window = (6, 12, 12, 5) if args.quick else (60, 300, 30, 20)
    storms = {
        f"outage_5xx_{60 if not args.quick else short}s": lambda: asyncio.run(storm_outage("5xx", short, args.people)),
        f"outage_5xx_{300 if not args.quick else long_}s": lambda: asyncio.run(storm_outage("5xx", long_, args.people)),
        f"outage_timeout_{short}s": lambda: asyncio.run(storm_outage("timeout", short, args.people)),
        f"retry_after_{window}s": lambda: asyncio.run(storm_retry_after(window, args.people)),
        f"db_lock_{lock}s": lambda: asyncio.run(storm_db_lock(lock, 20)),
        "disk_full": lambda: storm_disk_full(20),
        "second_server": storm_second_server,
        "cli_during_push": lambda: storm_cli_during_push(max(args.people, 300)),
        "kill9_after_publish": lambda: storm_kill9(max(args.people, 300)),
    }
    wanted = {name for name in args.only.split(",") if name}
    results = {}
    for name, run in storms.items():
        if wanted and not any(name.startswith(w) for w in wanted):
            continue
        started = time.monotonic()
        try:
            found = run()
        except Exception as exc:     # one broken storm must not cost the figures of the others
            found = {"error": f"{type(exc).__name__}: {exc}"[:200]}
        results[name] = {**found, "took_s": round(time.monotonic() - started, 1)}
        print(name, results[name], file=sys.stdout if not args.json else sys.stderr, flush=True)
    figures = {"machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
               "quick": args.quick, "faults": results}
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
