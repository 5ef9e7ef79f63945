"""Two real `wuzha serve` processes on one PostgreSQL database behave, to users and the office, like one.

Each test starts two servers (`python -m bot serve`, each on its own port, WeChat OA enabled with the
test credentials, the send API on a fake) and posts signed, encrypted callbacks to them as WeChat's
servers would. Skipped without WUZHA_TEST_POSTGRES.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import aiohttp
import psycopg
import pytest

from bot.app import App
from bot.config import load_config
from storage.postgres import scratch_database
from tests import postgres_support
from tests.test_console_web_serve import free_port
from tests.wechat_support import WechatPerson, wechat_secrets

pytestmark = pytest.mark.skipif(not postgres_support.SERVER_URL, reason="needs WUZHA_TEST_POSTGRES")

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Server:
    """One running `wuzha serve`."""

    proc: asyncio.subprocess.Process
    port: int
    folder: Path

    @property
    def base(self) -> str:
        """Its HTTP root."""
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        """What it wrote to stderr so far."""
        return (self.folder / "stderr.log").read_text(encoding="utf-8", errors="replace")

    async def health(self, client: aiohttp.ClientSession) -> dict | None:
        """Its /health answer, or None while it does not answer."""
        try:
            async with client.get(f"{self.base}/health", timeout=aiohttp.ClientTimeout(total=2)) as response:
                return await response.json() if response.status == 200 else None
        except (aiohttp.ClientError, TimeoutError):
            return None


def server_folder(folder: Path, port: int) -> BinaryIO:
    """Write a server's config.toml (its port, WeChat OA on); return its stderr log, open for the child."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.toml").write_text(
        f"[server]\nport = {port}\n\n[channels.wechat_oa]\nenabled = true\nreply_budget_ms = 3000\n", encoding="utf-8")
    return (folder / "stderr.log").open("wb")


async def start_server(folder: Path, url: str, api_base: str) -> Server:
    """Start `wuzha serve` in its own folder on a free port, WeChat OA on, against the shared database."""
    port = free_port()
    env = {**os.environ, **wechat_secrets(api_base), "WUZHA_DB": url}
    with server_folder(folder, port) as stderr:
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "serve", cwd=folder, env=env,
                                                    stdout=asyncio.subprocess.DEVNULL, stderr=stderr)
    return Server(proc, port, folder)


async def wait_up(servers: list[Server], client: aiohttp.ClientSession, within: float = 60) -> None:
    """Until every server answers /health."""
    deadline = time.monotonic() + within
    for server in servers:
        while await server.health(client) is None:
            if server.proc.returncode is not None:
                raise AssertionError(f"wuzha serve exited {server.proc.returncode}:\n{server.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"wuzha serve did not come up:\n{server.log()}")
            await asyncio.sleep(0.1)


async def stop_server(server: Server) -> None:
    """SIGTERM, and kill -9 if it does not stop in time."""
    if server.proc.returncode is None:
        server.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(server.proc.wait(), 20)
        except TimeoutError:
            server.proc.kill()
            await server.proc.wait()


@dataclass
class Cluster:
    """Two servers on one database, the fake WeChat API and an HTTP client."""

    servers: list[Server]
    client: aiohttp.ClientSession
    url: str
    api: object

    def person(self, user: str, server: Server) -> WechatPerson:
        """Someone on the Official Account whose callbacks reach one server."""
        return WechatPerson(self.client, f"{server.base}/wechat/oa", user)

    async def roles(self) -> dict[int, str]:
        """Each live server's role, by port."""
        found = {}
        for server in self.servers:
            health = await server.health(self.client)
            if health is not None:
                found[server.port] = health["role"]
        return found

    async def leader(self) -> Server:
        """The server that leads (waiting a little for the election to settle)."""
        for _ in range(100):
            roles = await self.roles()
            leaders = [s for s in self.servers if roles.get(s.port) == "leader"]
            if len(leaders) == 1 and len(roles) == len([s for s in self.servers if s.proc.returncode is None]):
                return leaders[0]
            await asyncio.sleep(0.1)
        raise AssertionError(f"no single leader: {await self.roles()}")

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Read the shared database directly."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()


async def prepare_database(url: str, tmp_path: Path, before_start=None) -> None:
    """Migrate the database and let a test write what the servers should find at start."""
    config = load_config(ROOT / "config.toml", env={}, db_override=url, base_dir=tmp_path)
    app = await App(config).open(sender=False)
    try:
        await app.store.classes.ensure("计科2301", "计算机学院")
        if before_start is not None:
            await before_start(app)
    finally:
        await app.close()


@asynccontextmanager
async def cluster(tmp_path: Path, before_start=None):
    """Two `wuzha serve` processes on a fresh PostgreSQL database."""
    from tests.fakes.wechat_api import FakeWechatApi

    with scratch_database(postgres_support.SERVER_URL, f"wuzha_test_mp_{os.getpid()}") as url:
        api = await FakeWechatApi().start()
        servers: list[Server] = []
        try:
            await prepare_database(url, tmp_path, before_start)
            async with aiohttp.ClientSession() as client:
                servers = [await start_server(tmp_path / name, url, api.base) for name in ("a", "b")]
                await wait_up(servers, client)
                yield Cluster(servers, client, url, api)
        finally:
            await asyncio.gather(*(stop_server(server) for server in servers))
            await api.stop()


async def test_one_callback_sent_to_both_servers_is_handled_once(tmp_path):
    async with cluster(tmp_path) as c:
        a, b = c.servers
        at_a, at_b = c.person("o-dup", a), c.person("o-dup", b)
        query, body = at_a.signed(at_a.xml("text", msg_id=777001, Content="/help"))
        first, second = await asyncio.gather(at_a.post(query, body), at_b.post(query, body))
        answers = [reply for reply in (first, second) if reply.text]
        assert len(answers) == 1 and "/help" in answers[0].text                  # one of them answered
        assert {first.body, second.body} - {answers[0].body} == {"success"}      # the other said 'success'
        for _ in range(50):
            rows = c.query("SELECT state FROM inbox WHERE event_key = %s", ("wechat_oa:id:777001",))
            if rows == [("replied",)]:
                break
            await asyncio.sleep(0.05)
        assert rows == [("replied",)]
        again = await at_b.post(query, body)                                     # WeChat's retry, later
        assert again.body == "success"
        assert c.query("SELECT COUNT(*) FROM inbox") == [(1,)]


async def test_one_persons_messages_alternating_between_servers_advance_one_conversation(tmp_path):
    async with cluster(tmp_path) as c:
        a, b = c.servers
        code = c.query("SELECT join_code FROM classes")[0][0]
        at_a, at_b = c.person("o-alice", a), c.person("o-alice", b)
        reply = await at_a.event("subscribe")
        assert "回复数字" in reply.text
        reply = await at_b.say("2")                                   # English, by its number, on the other server
        assert "class code" in reply.text.lower()
        reply = await at_a.say(code)
        assert "number" in reply.text.lower()
        reply = await at_b.say("20230001")
        assert "linked" in reply.text.lower() or "✅" in reply.text
        reply = await at_a.say("/me")
        assert "20230001" in reply.text
        sessions = c.query("SELECT DISTINCT session FROM inbox")
        assert sessions == [("wechat_oa:o-alice",)]


async def test_two_messages_of_one_person_at_once_on_two_servers_are_handled_one_after_the_other(tmp_path):
    async with cluster(tmp_path) as c:
        a, b = c.servers
        at_a, at_b = c.person("o-bob", a), c.person("o-bob", b)
        assert "回复数字" in (await at_a.event("subscribe")).text
        # "2" (English) and "/help" race: whichever is first in the inbox is handled first, each seeing the other's state.
        first, second = await asyncio.gather(at_a.say("2"), at_b.say("/help"))
        assert first.text and second.text
        for _ in range(50):      # each is marked replied just after its HTTP answer is written
            rows = c.query("SELECT event_key, state, handled_at FROM inbox ORDER BY id")
            if [state for _, state, _ in rows] == ["replied"] * 3:
                break
            await asyncio.sleep(0.05)
        assert [state for _, state, _ in rows] == ["replied"] * 3
        handled = [when for _, _, when in rows]
        assert handled == sorted(handled)                           # handled in arrival (id) order


async def test_a_missed_tick_runs_once_and_a_killed_leader_is_replaced_within_seconds(tmp_path):
    async def missed_ticks(app) -> None:
        # As if every server was down for an hour: inbox.prune (every 10 minutes) is due at start.
        await app.store.kv.set("scheduler:last_run:inbox.prune", "2000-01-01T00:00:00.000Z")

    async with cluster(tmp_path, missed_ticks) as c:
        leader = await c.leader()
        standby = next(s for s in c.servers if s is not leader)
        for _ in range(50):
            if c.query("SELECT COUNT(*) FROM job_runs WHERE job = 'inbox.prune' AND finished_at IS NOT NULL")[0][0]:
                break
            await asyncio.sleep(0.1)
        runs = c.query("SELECT tick, owner FROM job_runs WHERE job = 'inbox.prune'")
        assert len(runs) == 1                                         # one tick, run once, by one server
        catch_up = re.compile(r"job inbox\.prune was due while no server ran it")
        assert len(catch_up.findall(leader.log() + standby.log())) == 1
        assert "leadership gained" in leader.log() and "leadership gained" not in standby.log()

        leader.proc.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        await leader.proc.wait()
        while (await standby.health(c.client) or {}).get("role") != "leader":
            assert time.monotonic() - killed < 10, standby.log()
            await asyncio.sleep(0.05)
        took = time.monotonic() - killed
        assert took < 5, f"takeover took {took:.1f}s"
        assert "leadership gained" in standby.log()
        # The new leader caught up too, finding the tick already run: still one row.
        assert len(c.query("SELECT tick FROM job_runs WHERE job = 'inbox.prune'")) == 1
        # And it answers people on its own.
        reply = await c.person("o-carol", standby).say("/help")
        assert "/help" in reply.text
