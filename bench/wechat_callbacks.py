"""Bench: 2,000 AES-encrypted Official Account callbacks, 100 at a time, against a running `wuzha serve`.

    .venv/bin/python bench/wechat_callbacks.py [--messages 2000] [--concurrency 100] [--users 200] [--json]
                                               [--profile server.prof]

Starts `wuzha serve` in its own process (temporary database, the Official Account enabled in safe mode, the
API on the fake server of tests/), then posts signed and encrypted text messages exactly as WeChat would and
times each until its passive reply arrives. "lost" counts callbacks without a passive reply. Before the timed
run it checks that the guards are on: a plaintext callback, a stale one and a replayed one must be refused or
not handled ("checks"). Target: p99 < 300 ms. --profile runs the server under cProfile and writes its stats.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fakes.wechat_api import FakeWechatApi
from tests.wechat_support import WechatPerson, wechat_secrets

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def wait_healthy(session: aiohttp.ClientSession, base: str, seconds: float = 30) -> None:
    """Wait for /health to answer."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            async with session.get(base + "/health") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError("wuzha serve did not come up")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process (all its threads) has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def guard_checks(session: aiohttp.ClientSession, base: str) -> dict:
    """The statuses the guards answer: plaintext in safe mode, a stale timestamp, a replay of an accepted one."""
    url = base + "/wechat/oa"
    plain = WechatPerson(session, url, "o-bench-guard", aes=False)
    encrypted = WechatPerson(session, url, "o-bench-guard")
    stale = encrypted.signed(encrypted.xml("text", Content="/help"), timestamp=int(time.time()) - 3600)
    fresh = encrypted.signed(encrypted.xml("text", Content="/help"))
    await encrypted.post(*fresh)
    replay = await encrypted.post(*fresh)
    return {"plaintext": (await plain.say("/me")).status, "stale": (await encrypted.post(*stale)).status,
            "replay": "not handled" if replay.body == "success" else "HANDLED"}


async def run(messages: int, concurrency: int, users: int, profile: str | None = None) -> dict:
    """Start the server, send the callbacks, return the figures."""
    api = await FakeWechatApi().start()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.toml"
        config.write_text(
            f'[general]\ndatabase = "{tmp}/bench.db"\n[server]\nhost = "127.0.0.1"\nport = {port}\n'
            '[schedule]\nquiet_hours = ""\n[channels.wechat_oa]\nenabled = true\n', encoding="utf-8")
        env = dict(os.environ, **wechat_secrets(api.base))
        python = [sys.executable, "-m", "cProfile", "-o", profile, "-m", "bot"] if profile \
            else [sys.executable, "-m", "bot"]
        server = await asyncio.create_subprocess_exec(
            *python, "--config", str(config), "serve", cwd=tmp, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        connector = aiohttp.TCPConnector(limit=concurrency)
        try:
            async with aiohttp.ClientSession(connector=connector) as session:
                await wait_healthy(session, base)
                checks = await guard_checks(session, base)
                people = [WechatPerson(session, base + "/wechat/oa", f"o-bench-{i:04d}") for i in range(users)]
                for person in people:                       # each person exists before the timed run
                    await person.say("/help")
                gate = asyncio.Semaphore(concurrency)
                latencies: list[float] = []
                lost = 0

                async def one(index: int) -> None:
                    nonlocal lost
                    person = people[index % users]
                    query, body = person.signed(person.xml("text", Content="/help"))
                    async with gate:
                        started = time.perf_counter()
                        try:
                            reply = await person.post(query, body)
                        except aiohttp.ClientError:
                            lost += 1
                            return
                        elapsed = time.perf_counter() - started
                    if reply.status != 200 or not reply.text:
                        lost += 1
                    else:
                        latencies.append(elapsed * 1000)

                started, cpu_before, own_before = time.perf_counter(), cpu_seconds(server.pid), time.process_time()
                await asyncio.gather(*(one(i) for i in range(messages)))
                wall = time.perf_counter() - started
                server_cpu = cpu_seconds(server.pid) - cpu_before
                client_cpu = time.process_time() - own_before       # the senders and the fake API, in this process
        finally:
            server.terminate()
            try:
                await asyncio.wait_for(server.wait(), 15)
            except TimeoutError:
                server.kill()
            await api.stop()
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else None
    return {"messages": messages, "concurrency": concurrency, "p50_ms": round(statistics.median(latencies), 1)
            if latencies else None, "p99_ms": round(p99, 1) if p99 is not None else None, "lost": lost,
            "per_second": round(messages / wall, 1), "server_cpu_ms_each": round(server_cpu * 1000 / messages, 2),
            "client_cpu_ms_each": round(client_cpu * 1000 / messages, 2), "wall_s": round(wall, 2),
            "checks": checks, "cpus": os.cpu_count(),
            "load_1min": round(os.getloadavg()[0], 2)}


def main() -> int:
    """Parse arguments, run, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--profile", help="run the server under cProfile and write its stats to this file")
    args = parser.parse_args()
    profile = str(Path(args.profile).resolve()) if args.profile else None   # the server runs in a temporary cwd
    result = asyncio.run(run(args.messages, args.concurrency, args.users, profile))
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['messages']} encrypted callbacks, {result['concurrency']} at a time: "
              f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms to the passive reply, "
              f"{result['lost']} lost, {result['per_second']} callbacks/s, {result['server_cpu_ms_each']} ms of server "
              f"CPU each ({result['client_cpu_ms_each']} ms in the bench's own senders); guards: {result['checks']}; "
              f"{result['cpus']} CPUs, load {result['load_1min']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
