"""The Telegram channel under platform faults, through the real PTB Application and the fake Bot API.

The fake server's faults (tests/fakes/faults.py) are scripted per method, chat and duration; the app
runs on the real clock, since retries and backoff are stored as wall-clock times.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

import pytest

from bot.app import App
from bot.clock import Clock, iso
from bot.events import text
from tests.fakes.faults import Faults
from tests.held_lock import hold_the_write_lock, let_go
from tests.telegram_rig import SECURITY_CHAT, close_rig, open_rig
from tests.test_telegram_delivery import FIRST_USER, bind_people, webhook_bot  # noqa: F401  (the fixture)


@pytest.fixture
async def live_app(config):
    """An opened App on the real clock, without quiet hours (the suite may run at any hour)."""
    config.schedule.quiet_hours = ""
    application = await App(config, clock=Clock()).open()
    yield application
    await application.close()


def sends_to(api, chat_id: int) -> list:
    """The successful sendMessage calls to one chat."""
    return [c for c in api.calls_of("sendMessage") if int(c.params["chat_id"]) == chat_id]


async def test_a_5xx_outage_kills_no_push_and_is_two_log_lines(live_app, caplog):
    rig, stop, senders = await open_rig(live_app)
    try:
        people = await bind_people(live_app, 12)
        faults = Faults(rig.api)
        faults.add("5xx", 4.0, methods="send")
        with caplog.at_level(logging.WARNING):
            summary = await live_app.outbox.push_many("outage", [(p, text("停机期间的预警")) for p in people])
            assert summary.queued == 12
            await rig.api.wait_for(lambda: len(rig.api.calls_of("sendMessage")) >= 12, within=40)
            await asyncio.sleep(0.5)
        per_chat = [len(sends_to(rig.api, FIRST_USER + i)) for i in range(12)]
        assert per_chat == [1] * 12                       # nobody lost, nobody twice
        counts = await live_app.store.outbox.counts("outage")
        assert counts["sent"] == 12 and counts["dead"] == 0
        lines = [r.getMessage() for r in caplog.records]
        assert sum("outage started" in line for line in lines) == 1, lines
        assert sum("outage ended" in line for line in lines) == 1, lines
        assert len(lines) < 10 and not any(r.exc_info for r in caplog.records)
    finally:
        await close_rig(rig, stop, senders)


async def test_an_answer_under_429_waits_retry_after_and_arrives_once(live_app):
    rig, stop, senders = await open_rig(live_app)
    try:
        user = 4242
        faults = Faults(rig.api)
        faults.add("429", 1.0, methods={"sendMessage"}, chats=[user], retry_after=2)
        rig.api.message(user, "/help")
        await rig.api.wait_for(lambda: sends_to(rig.api, user), within=15)
        refused = [c for c in rig.api.calls_of("sendMessage", ok_only=False) if c.status == 429]
        assert len(refused) == 1                           # no call inside the retry_after window
        delivered = sends_to(rig.api, user)
        assert delivered[0].at - refused[0].at >= 2.0
        await asyncio.sleep(1.0)
        assert len(sends_to(rig.api, user)) == len(delivered)
    finally:
        await close_rig(rig, stop, senders)


async def test_answers_during_an_outage_are_delivered_when_it_ends(live_app):
    rig, stop, senders = await open_rig(live_app)
    try:
        faults = Faults(rig.api)
        faults.add("5xx", 3.0, methods="send")
        users = [5001, 5002, 5003]
        for user in users:
            rig.api.message(user, "/help")
        await rig.api.wait_for(lambda: all(sends_to(rig.api, u) for u in users), within=30)
        assert faults.applied["5xx"] >= 3
        await asyncio.sleep(0.5)
        texts = {u: [c.params["text"] for c in sends_to(rig.api, u)] for u in users}
        assert all(len(t) == len(set(t)) for t in texts.values()), texts
    finally:
        await close_rig(rig, stop, senders)


async def test_security_group_cards_do_not_hold_back_private_pushes(live_app):
    rig, stop, senders = await open_rig(live_app)
    try:
        (person,) = await bind_people(live_app, 1)
        for i in range(12):
            await live_app.outbox.push_to_address("telegram", str(SECURITY_CHAT), "card", text(f"卡片 {i}"), f"c{i}")
        await asyncio.sleep(0.2)
        started = time.monotonic()
        await live_app.outbox.push_to_person(person, "private", text("个人提醒"))
        await rig.api.wait_for(lambda: sends_to(rig.api, FIRST_USER), within=15)
        assert time.monotonic() - started < 7.0
        assert len(sends_to(rig.api, SECURITY_CHAT)) < 12      # the group is still being paced
        first = [c.params["text"] for c in sends_to(rig.api, SECURITY_CHAT)]
        assert first == [f"卡片 {i}" for i in range(len(first))]   # in order
    finally:
        await close_rig(rig, stop, senders)


async def test_stopping_puts_unsent_rows_back_within_the_bound(live_app):
    rig, stop, senders = await open_rig(live_app)
    try:
        for i in range(12):
            await live_app.outbox.push_to_address("telegram", str(SECURITY_CHAT), "card", text(f"卡片 {i}"), f"c{i}")
        await rig.api.wait_for(lambda: sends_to(rig.api, SECURITY_CHAT), within=10)
        started = time.monotonic()
        stop.set()
        await senders
        assert time.monotonic() - started < 10.0
        counts = await live_app.store.outbox.counts("card")
        assert counts["inflight"] == 0
        assert counts["sent"] == len(sends_to(rig.api, SECURITY_CHAT))
        assert counts["pending"] == 12 - counts["sent"]
    finally:
        await rig.channel.stop()
        await rig.api.stop()


async def test_updates_that_cannot_be_stored_are_not_confirmed_and_are_handled_once_writes_work(live_app, caplog):
    caplog.set_level(logging.WARNING)
    rig, stop, senders = await open_rig(live_app)
    try:
        holder = hold_the_write_lock(live_app)     # another process holds the write lock past the busy timeout
        users = [6001, 6002, 6003]
        for user in users:
            rig.api.message(user, "/help")
        await rig.api.wait_for(lambda: rig.channel.update_queue.failing_since is not None, within=20)
        assert not any(sends_to(rig.api, u) for u in users)
        await asyncio.sleep(1.0)
        let_go(holder)
        await rig.api.wait_for(lambda: all(sends_to(rig.api, u) for u in users), within=30)
        office = [c.params["text"] for c in sends_to(rig.api, SECURITY_CHAT)]
        assert sum("无法写入数据库" in t for t in office) == 1, office
        assert sum("写入已恢复" in t for t in office) == 1, office
        rows = await live_app.store.db.fetchall("SELECT event_key FROM inbox WHERE platform = 'telegram'")
        assert len(rows) == len(rig.api.updates) == 3
        lines = [r.getMessage() for r in caplog.records]
        assert sum("outbox sender for telegram failed" in line for line in lines) <= 1, lines
        assert sum("cannot store incoming" in line for line in lines) == 1, lines
        assert not any(r.exc_info for r in caplog.records)
    finally:
        await close_rig(rig, stop, senders)


async def test_cards_wait_while_the_bot_is_out_of_the_security_group_and_go_out_when_it_is_back(live_app, caplog):
    from tests.fakes.telegram import _bot, _chat, _user

    rig, stop, senders = await open_rig(live_app)
    try:
        live_app.config.security_channel.targets = ["telegram", "console"]
        rig.api.blocked.add(SECURITY_CHAT)                 # the bot was removed from the group
        with caplog.at_level(logging.ERROR):
            for i in range(2):
                await live_app.outbox.push_to_security("card", text(f"案件卡片 {i}"), f"case{i}")
            for _ in range(100):     # both cards went back to wait (the second behind the first)
                later = iso(live_app.clock.now() + timedelta(minutes=5))
                waiting = await live_app.store.db.fetchval(
                    "SELECT COUNT(*) FROM outbox WHERE campaign = 'card' AND state = 'pending' AND not_before > ?",
                    (later,))
                if waiting == 2:
                    break
                await asyncio.sleep(0.1)
            assert waiting == 2
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert sum("cannot post in the security group" in e for e in errors) == 1, errors
        counts = await live_app.store.outbox.counts("card")
        assert counts["undeliverable"] == 0 and counts["dead"] == 0
        alert = await live_app.store.db.fetchall("SELECT channel, payload FROM outbox WHERE campaign = 'security-channel'")
        assert [r["channel"] for r in alert] == ["console"] and "安全值班群" in alert[0]["payload"]
        rig.api.blocked.discard(SECURITY_CHAT)
        rig.api.push("my_chat_member", {
            "chat": _chat(SECURITY_CHAT), "from": _user(77), "date": int(time.time()),
            "old_chat_member": {"status": "left", "user": _bot()},
            "new_chat_member": {"status": "member", "user": _bot()}})
        await rig.api.wait_for(lambda: len(sends_to(rig.api, SECURITY_CHAT)) == 2, within=15)
        assert [c.params["text"] for c in sends_to(rig.api, SECURITY_CHAT)] == ["案件卡片 0", "案件卡片 1"]
    finally:
        await close_rig(rig, stop, senders)


async def test_an_update_whose_handling_died_while_running_is_answered_without_a_restart(live_app):
    import json as jsonlib

    from bot import inbox
    from bot.scheduler import Scheduler

    rig, stop, senders = await open_rig(live_app)
    try:
        user = 7007
        update = {"update_id": 999, "message": {"message_id": 1, "date": int(time.time()), "text": "/help",
                                                 "chat": {"id": user, "type": "private", "first_name": "u"},
                                                 "from": {"id": user, "is_bot": False, "first_name": "u"},
                                                 "entities": [{"type": "bot_command", "offset": 0, "length": 5}]}}
        await live_app.store.inbox.record_many("telegram", [("telegram:999", jsonlib.dumps(update), "")])
        inbox.done_with(live_app, "telegram:999")                   # taken in, then its handler died
        old = iso(live_app.clock.now() - timedelta(seconds=70))     # a minute ago: the minute job finishes it
        await live_app.store.db.execute("UPDATE inbox SET received_at = ? WHERE event_key = 'telegram:999'", (old,))
        assert await Scheduler(live_app, live_app.jobs()).run_job("inbox.stale")
        await rig.api.wait_for(lambda: sends_to(rig.api, user), within=10)
        assert (await live_app.store.inbox.get("telegram:999")).state == "replied"
    finally:
        await close_rig(rig, stop, senders)


async def test_kill_9_mid_push_then_restart_loses_nobody_and_sigterm_is_quick(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    from collections import Counter

    from bot.config import load_config
    from tests.fakes.telegram import FakeBotApi
    from tests.test_cli import free_port

    api = await FakeBotApi().start()
    (tmp_path / "config.toml").write_text(
        '[security_channel]\ntargets = ["telegram"]\n[channels.telegram]\nenabled = true\n'
        f'security_chat_id = {SECURITY_CHAT}\n[schedule]\nquiet_hours = ""\n', encoding="utf-8")
    env = {**os.environ, "WUZHA_DB": str(tmp_path / "w.db"), "WUZHA_TELEGRAM_TOKEN": api.token,
           "WUZHA_TELEGRAM_BASE_URL": api.root}
    config = load_config(tmp_path / "config.toml", env=env, db_override=str(tmp_path / "w.db"), base_dir=tmp_path)
    app = await App(config, clock=Clock()).open()
    people = 90
    await app.outbox.push_many("crash", [(p, text("崩溃测试")) for p in await bind_people(app, people)])
    await app.close()

    def serve() -> subprocess.Popen:
        with open(tmp_path / "serve.log", "ab") as log_file:
            return subprocess.Popen([sys.executable, "-m", "bot", "serve", "--port", str(free_port())],
                                    cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=log_file)

    def delivered() -> Counter:
        return Counter(int(c.params["chat_id"]) for c in api.calls_of("sendMessage"))

    first = serve()
    try:
        await api.wait_for(lambda: len(delivered()) >= 10, within=60)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        second = serve()
        await api.wait_for(lambda: len(delivered()) >= people, within=60)
        await asyncio.sleep(1.0)
        started = time.monotonic()
        second.send_signal(signal.SIGTERM)
        await asyncio.to_thread(second.wait, 30)      # in a thread: the fake API runs on this loop
        assert second.returncode == 0, (tmp_path / "serve.log").read_text()
        assert time.monotonic() - started < 10.0
        counts = delivered()
        assert len(counts) == people                                       # nobody lost
        assert sum(n - 1 for n in counts.values()) <= 16                   # at most the calls in flight at the kill
    finally:
        for process in (first, locals().get("second")):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
        await api.stop()


async def test_a_timeout_outage_is_logged_like_an_error_and_loses_nothing(live_app, caplog):
    rig, stop, senders = await open_rig(live_app, request_timeout=0.5)
    try:
        people = await bind_people(live_app, 8)
        faults = Faults(rig.api)
        faults.add("timeout", 2.0, methods="send", delay_s=1.5)
        with caplog.at_level(logging.WARNING):
            await live_app.outbox.push_many("slow", [(p, text("超时期间的预警")) for p in people])
            await rig.api.wait_for(lambda: len({c.params["chat_id"] for c in rig.api.calls_of("sendMessage")}) >= 8,
                                   within=40)
        started = [r for r in caplog.records if "outage started" in r.getMessage()]
        assert started and started[0].levelno == logging.ERROR and "TimedOut" in started[0].getMessage()
        assert (await live_app.store.outbox.counts("slow"))["dead"] == 0
    finally:
        await close_rig(rig, stop, senders)


async def test_a_reminder_card_is_a_new_post_and_the_old_card_is_brought_up_to_date(live_app):
    from bot.events import Outgoing

    rig, stop, senders = await open_rig(live_app)
    try:
        chat = str(SECURITY_CHAT)
        await live_app.outbox.push_to_address("telegram", chat, "card", Outgoing(text="案件 R-1", ref="card:R-1"), "v1")
        await rig.api.wait_for(lambda: len(sends_to(rig.api, SECURITY_CHAT)) == 1, within=10)
        await live_app.outbox.push_to_address("telegram", chat, "card",
                                              Outgoing(text="⏰ 已 5 分钟无人受理\n案件 R-1", ref="card:R-1", repost=True), "v2")
        await rig.api.wait_for(lambda: len(sends_to(rig.api, SECURITY_CHAT)) == 2, within=10)
        edits = rig.api.calls_of("editMessageText")
        first_id = rig.api.sent_to(SECURITY_CHAT)[0]["message_id"]
        assert len(edits) == 1 and int(edits[0].params["message_id"]) == first_id
        await live_app.outbox.push_to_address("telegram", chat, "card", Outgoing(text="案件 R-1 已受理", ref="card:R-1"), "v3")
        await rig.api.wait_for(lambda: len(rig.api.calls_of("editMessageText")) == 2, within=10)
        newest = rig.api.sent_to(SECURITY_CHAT)[-1]["message_id"]
        assert int(rig.api.calls_of("editMessageText")[-1].params["message_id"]) == newest
        assert len(sends_to(rig.api, SECURITY_CHAT)) == 2
    finally:
        await close_rig(rig, stop, senders)


async def test_a_webhook_update_that_cannot_be_stored_gets_503_and_is_taken_when_sent_again(app, webhook_bot):  # noqa: F811
    import aiohttp

    from bot.channels.telegram import SECRET_HEADER

    api, _channel, url = webhook_bot
    update = {"update_id": 5, "message": {"message_id": 1, "date": 0, "chat": {"id": 78, "type": "private"},
                                          "from": {"id": 78, "is_bot": False, "first_name": "x"}, "text": "/help"}}
    holder = hold_the_write_lock(app)
    try:
        async with aiohttp.ClientSession() as session:
            async with session.post(url, json=update, headers={SECRET_HEADER: "s3cret-token"}) as response:
                assert response.status == 503
            holder.execute("ROLLBACK")
            async with session.post(url, json=update, headers={SECRET_HEADER: "s3cret-token"}) as response:
                assert response.status == 200          # Telegram's retry
    finally:
        holder.close()
    await api.wait_for(lambda: len(api.texts_to(78)) == 1)
