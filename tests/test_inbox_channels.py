"""The inbox through the real channels: a crash mid-handling on WeChat and Telegram, then a restart.

The crash is the database as a dying process leaves it: an online backup taken while the handler is
still running (the event written down, no answer yet). A new App opened on that copy must answer
the event exactly once, and a platform retry of it must not be handled again.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from telegram import Update

from bot.app import App
from bot.channels import wechat_oa
from bot.events import Outgoing
from tests.fakes.wechat_api import FakeWechatApi
from tests.telegram_rig import close_rig, open_rig, tg  # noqa: F401  (the fixture)
from tests.wechat_support import wechat_rig

ALICE = 601


def stuck_handler(release: asyncio.Event, started: asyncio.Event):
    """A free-text handler that hangs until released, as one would when the process dies under it."""
    async def stuck(msg, ctx):
        started.set()
        await release.wait()
        return [Outgoing(text="answer from the process that died")]
    return stuck


@pytest.fixture
async def fake_apis():
    """Two fake WeChat API servers: one for the process that dies, one for the one after it."""
    first, second = await FakeWechatApi().start(), await FakeWechatApi().start()
    yield first, second
    await first.stop()
    await second.stop()


def custom_sends(api, openid: str) -> list[str]:
    return [c.body["text"]["content"] for c in api.to("message/custom/send") if c.body["touser"] == openid]


@pytest.mark.sqlite_only("copies the SQLite file as the crash leaves it")
async def test_wechat_message_whose_handling_died_is_answered_once_after_restart(config, clock, fake_apis, tmp_path):
    before_crash, after_crash = fake_apis
    crash_image = tmp_path / "crash.db"
    async with wechat_rig(config, clock, before_crash, [wechat_oa.start], budget_ms=200) as rig:
        release, started = asyncio.Event(), asyncio.Event()
        rig.app.dispatcher.routes.free_text = stuck_handler(release, started)
        ann = rig.person("o-ann")
        xml = ann.xml("text", msg_id=4242, Content="有人让我先交保证金才能领奖")
        assert (await ann.post(*ann.signed(xml))).body == "success"     # the budget ran out
        await started.wait()
        assert (await ann.post(*ann.signed(xml))).body == "success"     # WeChat's retry while in progress
        await rig.app.db.backup(crash_image)                             # the disk as the crash leaves it
        release.set()
    config.general.database = str(crash_image)
    async with wechat_rig(config, clock, after_crash, [wechat_oa.start]) as rig:
        answers = await rig.sent_to("o-ann", 1)                          # recovered at start, sent by API
        await rig.settled()
        assert answers and "answer from the process that died" not in custom_sends(after_crash, "o-ann")
        count = len(custom_sends(after_crash, "o-ann"))
        ann = rig.person("o-ann")
        assert (await ann.post(*ann.signed(xml))).body == "success"     # a late retry: not handled again
        state = await rig.app.db.fetchval("SELECT state FROM inbox WHERE event_key = 'wechat_oa:id:4242'")
        assert state == "replied"
    async with wechat_rig(config, clock, after_crash, [wechat_oa.start]) as rig:   # and one more restart
        await rig.settled()
        assert len(custom_sends(after_crash, "o-ann")) == count


@pytest.mark.sqlite_only("copies the SQLite file as the crash leaves it")
async def test_telegram_update_confirmed_but_unanswered_is_answered_after_restart(app, config, clock, tmp_path):
    rig, stop, senders = await open_rig(app)
    crash_image = tmp_path / "crash.db"
    release, started = asyncio.Event(), asyncio.Event()
    try:
        app.dispatcher.routes.free_text = stuck_handler(release, started)
        update_id = rig.api.message(ALICE, "someone wants my bank card to 'test a transfer'")
        await started.wait()
        await rig.api.wait_for(lambda: rig.api._confirmed >= update_id)   # Telegram will not send it again
        await app.db.backup(crash_image)
        release.set()
        await rig.settle()
    finally:
        await close_rig(rig, stop, senders)
    config.general.database = str(crash_image)
    second = await App(config, clock=clock).open()
    rig, stop, senders = await open_rig(second)           # the new fake server has no updates to give
    try:
        await rig.api.wait_for(lambda: rig.api.texts_to(ALICE), within=10)
        texts = rig.api.texts_to(ALICE)
        assert texts and "answer from the process that died" not in texts
        row = await second.db.fetchone(f"SELECT state, reply_to FROM inbox WHERE event_key = 'telegram:{update_id}'")
        assert (row["state"], row["reply_to"]) == ("replied", str(ALICE))
    finally:
        await close_rig(rig, stop, senders)
        await second.close()


async def test_telegram_updates_are_recorded_and_a_repeated_update_is_not_handled_twice(tg):  # noqa: F811
    texts = await tg.say(ALICE, "/help")
    assert texts
    row = await tg.app.db.fetchone("SELECT * FROM inbox WHERE platform = 'telegram'")
    assert row["state"] == "replied" and row["reply_to"] == str(ALICE)
    assert json.loads(row["incoming"])["payload"] == "/help"
    update = Update.de_json(json.loads(row["raw"]), tg.channel.bot)
    handled = tg.channel.handled
    await tg.channel.application.update_queue.put(update)   # delivered again (a webhook retry, an old offset)
    await asyncio.sleep(0.2)
    assert tg.channel.handled == handled
    assert tg.api.texts_to(ALICE) == texts
