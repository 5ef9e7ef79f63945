"""Faults, second round: WeChat callbacks under failing storage, Telegram topics through the outbox, a lone
chat during an outage, and an event whose handler died finished within two minutes."""

from __future__ import annotations

import asyncio
import logging
import sqlite3

from bot import inbox
from bot.breaker import Breaker
from bot.channels import wechat_oa, wecom
from bot.channels.base import Delivery
from bot.events import Incoming, Kind, Outgoing, text
from bot.outbox import MAX_ATTEMPTS, OutboxSender
from bot.scheduler import Scheduler
from tests.fakes.faults import Faults
from tests.support import RecordingChannel
from tests.telegram_rig import SECURITY_CHAT, close_rig, open_rig
from tests.test_faults import live_app  # noqa: F401  (the fixture)
from tests.wechat_support import wechat_rig


class OfficeLine(RecordingChannel):
    """A channel that can tell the office directly (as Telegram's security group can), recording what it says."""

    def __init__(self, app) -> None:
        super().__init__("office")
        self.app = app
        self.said: list[str] = []

    async def notify_office_now(self, key: str, values: dict) -> None:
        """Record the notice as the office would read it."""
        self.said.append(self.app.services.translate(key, "zh", **values))


def hold_the_write_lock(app) -> sqlite3.Connection:
    """Another process holding the database's write lock past the busy timeout."""
    holder = sqlite3.connect(app.config.database_path, isolation_level=None, timeout=0.1)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def let_go(holder: sqlite3.Connection) -> None:
    holder.execute("ROLLBACK")
    holder.close()


async def test_a_wechat_callback_that_cannot_be_stored_is_not_answered_success_and_its_retry_is_handled(
        config, clock, fake_api, caplog):
    caplog.set_level(logging.WARNING)
    async with wechat_rig(config, clock, fake_api, [wechat_oa.start]) as rig:
        office = OfficeLine(rig.app)
        rig.app.add_channel(office)
        ann = rig.person("o-ann")
        signed = ann.signed(ann.xml("text", msg_id=5151, Content="/help"))
        holder = hold_the_write_lock(rig.app)
        try:
            first = await ann.post(*signed)
            retry = await ann.post(*signed)                  # WeChat sends it again: still not stored
        finally:
            let_go(holder)
        assert first.status == retry.status == 503 and "success" not in first.body
        assert await rig.app.db.fetchval("SELECT COUNT(*) FROM inbox") == 0
        third = await ann.post(*signed)                      # the last retry, once writes work
        assert third.status == 200 and third.text            # handled: the passive answer
        again = await ann.post(*signed)
        assert again.body == "success"                       # a late repeat is not handled twice
        await rig.settled()
        assert await rig.app.db.fetchval("SELECT COUNT(*) FROM inbox WHERE event_key = 'wechat_oa:id:5151'") == 1
        assert sum("无法写入数据库" in t and "微信" in t for t in office.said) == 1, office.said
        assert sum("写入已恢复" in t for t in office.said) == 1, office.said
        lines = [r.getMessage() for r in caplog.records]
        assert sum("cannot store incoming callbacks" in line for line in lines) == 1, lines
        assert not any(r.exc_info for r in caplog.records)


async def test_a_wecom_answer_whose_writes_failed_under_a_held_lock_arrives_once_from_the_minute_job(
        config, clock, fake_api):
    async with wechat_rig(config, clock, fake_api, [wecom.start], budget_ms=200) as rig:
        release, started = asyncio.Event(), asyncio.Event()
        calls = []

        async def slow(msg, ctx):
            calls.append(msg.payload)
            started.set()
            await release.wait()
            return [Outgoing(text="慢慢来的回答")]

        rig.app.dispatcher.routes.free_text = slow
        zhang = rig.person("zhangsan", platform="wecom")
        reply = await zhang.post(*zhang.signed(zhang.xml("text", msg_id=6161, Content="这个链接安全吗")))
        assert reply.body == "success"                       # stored; the answer follows by the send API
        await started.wait()
        holder = hold_the_write_lock(rig.app)
        try:
            release.set()                                    # the handler ends while nothing can be written
            await asyncio.sleep(6)                           # past the busy timeout: its answer is not kept
        finally:
            let_go(holder)
        assert await rig.app.db.fetchval("SELECT state FROM inbox WHERE event_key LIKE 'wecom:%'") == "received"
        assert not fake_api.to("message/send")
        clock.advance(seconds=70)
        assert await Scheduler(rig.app, rig.app.jobs()).run_job("inbox.stale")
        await rig.settled()
        sends = [c.body for c in fake_api.to("message/send") if c.body.get("touser") == "zhangsan"]
        assert len(sends) == 1 and "慢慢来的回答" in str(sends[0])
        assert len(calls) == 2                               # handled again once: the first run kept nothing


async def test_an_event_whose_handler_died_is_finished_within_two_minutes_and_a_live_one_is_left_alone(
        app, clock):
    channel = RecordingChannel("test")
    app.add_channel(channel)

    def help_from(user: str) -> Incoming:
        return Incoming("test", user, f"chat-{user}", Kind.TEXT, "/help", language_hint="en")

    assert (await inbox.receive(app, help_from("dead"), "test:dead")).new
    assert (await inbox.receive(app, help_from("slow"), "test:slow")).new
    inbox.done_with(app, "test:dead")                      # its handler died (the database failed under it)
    clock.advance(seconds=30)
    assert (await inbox.recover(app, "test", stale_only=True)).handled == 0     # too young to call dead
    clock.advance(seconds=40)
    done = await inbox.recover(app, "test", stale_only=True)
    assert done.handled == 1                               # the dead one, 70 s after it came in
    sender = OutboxSender(app.outbox, channel)
    while await sender.drain_once():
        pass
    assert channel.to("chat-dead") and not channel.to("chat-slow")
    assert (await app.store.inbox.get("test:slow")).state == "received"    # still its own handler's
    await inbox.handle(app, "test:slow", help_from("slow"))
    await inbox.mark_replied(app, "test:slow")
    clock.advance(minutes=5)
    assert (await inbox.recover(app, "test", stale_only=True)).handled == 0


async def test_a_lone_chats_rows_survive_an_outage_longer_than_their_attempts_and_403_still_kills(app):
    now = [0.0]
    channel = RecordingChannel("test")
    sender = app.add_channel(channel)
    sender.breaker = Breaker("test", monotonic=lambda: now[0])
    await app.outbox.push_to_address("test", "lone-chat", "alert", text("停机时的预警"), dedupe_key="a1")
    channel.fail_with = Delivery(ok=False, error="BadGateway: 502")
    for _ in range(MAX_ATTEMPTS * 3):                       # every retry as soon as due, for a long outage
        await app.store.db.execute("UPDATE outbox SET not_before = '2000-01-01T00:00:00+00:00' WHERE state = 'pending'")
        await sender.drain_once()
        now[0] += 11.0
    assert sender.breaker.is_open
    row = await app.store.db.fetchone("SELECT state, attempts FROM outbox WHERE dedupe_key = 'a1'")
    assert row["state"] == "pending" and row["attempts"] < MAX_ATTEMPTS
    channel.fail_with = None                                 # the platform is back
    await app.store.db.execute("UPDATE outbox SET not_before = '2000-01-01T00:00:00+00:00' WHERE state = 'pending'")
    await sender.drain_once()
    assert not sender.breaker.is_open and [m.text for m in channel.to("lone-chat")] == ["停机时的预警"]
    await app.outbox.push_to_address("test", "lone-chat", "alert", text("被拉黑"), dedupe_key="a2")
    channel.fail_with = Delivery(ok=False, unreachable=True, error="Forbidden: bot was blocked by the user")
    await sender.drain_once()
    assert (await app.store.outbox.counts("alert"))["undeliverable"] == 1


async def test_a_lone_chats_own_fault_still_kills_its_row_when_the_platform_answers_others(app):
    now = [0.0]
    channel = RecordingChannel("test")
    sender = app.add_channel(channel)
    sender.breaker = Breaker("test", monotonic=lambda: now[0])
    await app.outbox.push_to_address("test", "broken-chat", "alert", text("x"), dedupe_key="b1")
    channel.fail_with = Delivery(ok=False, error="InternalServerError: 500")
    for _ in range(MAX_ATTEMPTS * 3):
        await app.store.db.execute("UPDATE outbox SET not_before = '2000-01-01T00:00:00+00:00' WHERE state = 'pending'")
        await sender.drain_once()
        sender.breaker.succeeded()                           # other chats are delivered meanwhile
        now[0] += 11.0
    assert (await app.store.outbox.counts("alert"))["dead"] == 1



async def test_an_answer_queued_during_an_outage_stays_in_its_forum_topic(live_app):  # noqa: F811
    rig, stop, senders = await open_rig(live_app)
    try:
        faults = Faults(rig.api)
        faults.add("5xx", 2.0, methods="send")
        rig.api.message(900, "/help", chat_id=SECURITY_CHAT, message_thread_id=42)
        await rig.api.wait_for(lambda: rig.api.sent_to(SECURITY_CHAT), within=30)
        assert faults.applied["5xx"] >= 1                     # the live answer failed: it went by the outbox
        for _ in range(100):     # the platform has it; the sender commits the outcome a moment later
            row = await live_app.store.db.fetchone("SELECT address, state FROM outbox WHERE campaign = 'reply'")
            if row["state"] == "sent":
                break
            await asyncio.sleep(0.05)
        assert row["address"] == f"{SECURITY_CHAT}/42" and row["state"] == "sent"
        replies = rig.api.sent_to(SECURITY_CHAT)
        assert replies and all(m.get("message_thread_id") == 42 for m in replies), replies
    finally:
        await close_rig(rig, stop, senders)
