"""The parts that let several servers share a database, two Apps on one database standing for two processes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot import inbox
from bot.app import App
from bot.clock import iso
from bot.events import Incoming, Kind
from bot.scheduler import JobSpec, Scheduler
from storage.coordination import PostgresCoordinator


@pytest.fixture
async def peer(config, clock):
    """A second process on the same database."""
    other = await App(config, clock=clock).open()
    yield other
    await other.close()


def only_postgres(config) -> None:
    if not config.uses_postgres:
        pytest.skip("one server serves a SQLite file: it has no peers")


async def test_one_leader_at_a_time_and_the_lock_passes_when_it_stops(app, peer, config):
    only_postgres(config)
    assert isinstance(app.coordinator, PostgresCoordinator)
    assert (app.leadership.role, peer.leadership.role) == ("leader", "standby")
    assert not await peer.leadership.attempt()
    gained = []

    async def gain() -> None:
        gained.append("polling")
    await peer.leadership.on_lead("test polling", gain, None)
    assert gained == []                             # registered on standby: nothing runs yet
    await app.close()                               # the leader stops (its connection closes)
    assert await peer.leadership.attempt()
    assert peer.leadership.role == "leader" and gained == ["polling"]


async def test_a_tick_runs_once_even_when_two_processes_both_believe_they_lead(app, peer):
    runs = []

    async def job(a) -> None:
        runs.append(a.token)
        await asyncio.sleep(0.05)

    spec = JobSpec("test.once", "* * * * *", job)
    schedulers = []
    for each in (app, peer):
        each.leadership.leading = True             # the moment before the old leader notices it lost the lock
        schedulers.append(Scheduler(each, {spec.name: spec}))
    fired = await asyncio.gather(*(s.fire("test.once") for s in schedulers))
    assert sorted(fired) == [False, True] and len(runs) == 1
    assert [owner for _, owner, _ in await app.job_runs.runs("test.once")] == runs


async def test_a_standby_runs_no_leader_job_but_every_process_runs_its_own_upkeep(app):
    runs = []

    async def job(a) -> None:
        runs.append("ran")

    app.leadership.leading = False
    scheduler = Scheduler(app, {"leader.only": JobSpec("leader.only", "* * * * *", job),
                                "everywhere": JobSpec("everywhere", "* * * * *", job, everywhere=True)})
    assert not await scheduler.fire("leader.only")
    assert await scheduler.fire("everywhere") and runs == ["ran"]


async def test_recovery_leaves_a_live_peers_event_alone_and_finishes_a_dead_ones(app, peer, config, clock):
    only_postgres(config)
    msg = Incoming(platform="console", user_key="u1", chat_key="u1", kind=Kind.COMMAND, payload="", command="help")
    assert (await inbox.receive(peer, msg, "console:u1:1")).new         # the peer takes it in and is handling it
    clock.advance(minutes=5)                                            # long past STALE
    done = await inbox.recover(app, "console", push=_no_push)
    assert done.handled == 0                                            # the peer is alive: its event is its own
    assert (await app.store.inbox.get("console:u1:1")).state == "received"
    retry = await inbox.receive(app, msg, "console:u1:1")               # a retry reaching this process
    assert not retry.new
    await peer.servers.forget(peer.token)                               # the peer died (no more heartbeats)
    done = await inbox.recover(app, "console", push=_no_push)
    assert done.handled == 1
    assert (await app.store.inbox.get("console:u1:1")).state == "replied"


async def test_one_persons_turn_is_shared_by_the_processes(app, peer, config):
    only_postgres(config)
    order = []

    async def hold(process, name: str, pause: float) -> None:
        async with process.pipeline.ordered("console:u2"):
            order.append(f"{name} in")
            await asyncio.sleep(pause)
            order.append(f"{name} out")

    first = asyncio.create_task(hold(app, "a", 0.2))
    await asyncio.sleep(0.05)
    await hold(peer, "b", 0)
    await first
    assert order == ["a in", "a out", "b in", "b out"]


async def _no_push(row, reply_to, replies) -> None:
    return None


async def test_only_the_leader_polls_telegram_and_a_standby_polls_once_it_leads(app, peer, config):
    only_postgres(config)
    from tests.telegram_rig import close_rig, open_rig

    leader_rig = await open_rig(app)
    standby_rig = await open_rig(peer)
    try:
        assert leader_rig[0].channel.polling and not standby_rig[0].channel.polling
        assert not standby_rig[0].api.calls_of("getUpdates")       # Telegram allows one poller per bot
        await close_rig(*leader_rig)
        await app.close()                                          # the leader is gone
        assert await peer.leadership.attempt()
        rig = standby_rig[0]
        assert rig.channel.polling
        rig.api.message(701, "/help")
        await rig.api.wait_for(lambda: rig.api.texts_to(701), within=10)
    finally:
        if leader_rig[0].channel.application.running:
            await close_rig(*leader_rig)
        await close_rig(*standby_rig)


async def test_a_tick_a_dead_leader_left_unfinished_is_run_by_the_next_leader(app, peer, config, clock):
    from bot.leader import beating_since
    from bot.scheduler import _LAST_RUN_KEY, latest_fire_between

    runs = []

    async def job(a) -> None:
        runs.append(a.token)

    spec = JobSpec("test.push", "0 11 * * *", job)                  # 11:00, an hour before the fake clock's now
    await app.store.kv.set(_LAST_RUN_KEY + spec.name, iso(clock.now() - timedelta(days=1)))
    tick = latest_fire_between(spec.crontab(config), config.tz, clock.now() - timedelta(days=1), clock.now())
    assert await peer.job_runs.claim(spec.name, iso(tick), peer.token, iso(clock.now()), beating_since())
    scheduler = Scheduler(app, {spec.name: spec})                  # the peer began the push, then died
    assert await scheduler.catch_up() == [] and scheduler.interrupted == [spec.name]   # its heartbeat is fresh
    await peer.servers.forget(peer.token)                         # now silent: taken for dead
    assert await scheduler.catch_up() == [spec.name] and runs == [app.token]
    assert await app.job_runs.finished(spec.name, iso(tick))
    assert await scheduler.catch_up() == [] and runs == [app.token]                     # and only once
