"""Pushes through the outbox to Telegram: rate limits, 429, blocked users, 5xx and timeouts, webhook mode."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

import aiohttp
import pytest
from aiohttp import web

from bot.channels.telegram import SECRET_HEADER, TelegramChannel
from bot.events import text
from tests.fakes.telegram import FakeBotApi
from tests.telegram_rig import close_rig, open_rig, tg  # noqa: F401  (the fixture)

FIRST_USER = 10_000


async def bind_people(app, count: int, first: int = FIRST_USER) -> list[int]:
    """Bound people with Telegram accounts; return their person ids."""
    class_id = await app.store.classes.ensure("推送班", "测试学院")
    person_ids = []
    for i in range(count):
        person = await app.store.people.create(f"T{first + i}", class_id, "测试学院")
        account = await app.store.accounts.touch("telegram", str(first + i), str(first + i))
        await app.store.accounts.bind(account.id, person.id)
        person_ids.append(person.id)
    return person_ids


async def test_a_push_to_200_people_within_the_limits_loses_nobody_and_repeats_nobody(app):
    rig, stop, senders = await open_rig(app, enforce_limits=True)
    try:
        person_ids = await bind_people(app, 200)
        summary = await app.outbox.push_many("warning-w48", [(p, text("本周预警：警惕刷单返利")) for p in person_ids])
        assert summary.queued == 200
        await rig.api.wait_for(lambda: len(rig.api.calls_of("sendMessage")) >= 200, within=30)
        await rig.api.wait_for(lambda: rig.app.store.outbox is not None, within=1)
        received = Counter(int(c.params["chat_id"]) for c in rig.api.calls_of("sendMessage"))
        assert set(received) == {FIRST_USER + i for i in range(200)}          # nothing lost
        assert max(received.values()) == 1                                     # nobody twice
        refused = len(rig.api.calls_of("sendMessage", ok_only=False)) - 200
        assert refused == rig.api.too_many                                      # every 429 was retried
        await asyncio.sleep(0.2)
        counts = await app.store.outbox.counts("warning-w48")
        assert counts.get("sent") == 200, counts
    finally:
        await close_rig(rig, stop, senders)


async def test_a_user_who_blocked_the_bot_is_marked_and_not_retried(tg):  # noqa: F811
    blocked_early, blocked_silently, fine = await bind_people(tg.app, 3)
    # one says so with a my_chat_member update, the other is only discovered by a 403
    tg.api.blocked_by(FIRST_USER)
    await tg.settle()
    account = await tg.app.store.accounts.find("telegram", str(FIRST_USER))
    assert account.reachable == 0
    tg.api.blocked.add(FIRST_USER + 1)
    summary = await tg.app.outbox.push_many("w", [(p, text("提醒")) for p in (blocked_early, blocked_silently, fine)])
    assert summary.unreachable == 1 and summary.queued == 2
    await tg.api.wait_for(lambda: tg.api.texts_to(FIRST_USER + 2) == ["提醒"])
    await tg.api.wait_for(lambda: len(tg.api.calls_of("sendMessage", ok_only=False)) == 2)
    await asyncio.sleep(0.2)
    assert await tg.app.store.accounts.unreachable_count() == 2
    counts = await tg.app.store.outbox.counts("w")
    assert counts.get("undeliverable") == 1 and counts.get("sent") == 1
    # the next push skips both, and nothing is tried again
    summary = await tg.app.outbox.push_many("w2", [(p, text("再次提醒")) for p in (blocked_early, blocked_silently)])
    assert summary.unreachable == 2 and summary.queued == 0
    await asyncio.sleep(0.3)
    assert len(tg.api.calls_of("sendMessage", ok_only=False)) == 2


async def test_server_errors_and_timeouts_are_retried_with_backoff(app, clock):
    rig, stop, senders = await open_rig(app, request_timeout=0.5)
    try:
        (person_id,) = await bind_people(app, 1)
        rig.api.inject("sendMessage", status=500, times=1)
        rig.api.inject("sendMessage", status=502, delay_s=1.0, times=1)    # slower than the client waits
        await app.outbox.push_to_person(person_id, "retry", text("稍后重试也要送到"))
        await rig.api.wait_for(lambda: len(rig.api.calls_of("sendMessage", ok_only=False)) >= 1)
        for _ in range(3):                         # each failure backs off on the outbox clock
            await asyncio.sleep(0.8)
            clock.advance(minutes=1)
            app.outbox.wakeup("telegram").set()
        await rig.api.wait_for(lambda: rig.api.texts_to(FIRST_USER) == ["稍后重试也要送到"], within=5)
        statuses = [c.status for c in rig.api.calls_of("sendMessage", ok_only=False)]
        assert statuses == [500, 502, 200]
    finally:
        await close_rig(rig, stop, senders)


async def test_a_429_pauses_the_channel_and_the_row_is_sent_after(app):
    rig, stop, senders = await open_rig(app)
    try:
        (person_id,) = await bind_people(app, 1)
        rig.api.inject("sendMessage", status=429, times=1, description="Too Many Requests: retry after 1",
                       retry_after=1)
        await app.outbox.push_to_person(person_id, "r429", text("限流之后送达"))
        await rig.api.wait_for(lambda: rig.api.texts_to(FIRST_USER) == ["限流之后送达"], within=8)
        assert [c.status for c in rig.api.calls_of("sendMessage", ok_only=False)] == [429, 200]
    finally:
        await close_rig(rig, stop, senders)


@pytest.fixture
async def webhook_bot(app):
    """The channel in webhook mode behind the shared aiohttp server."""
    api = await FakeBotApi().start()
    channel = TelegramChannel(app, api.token, base_url=api.root, webhook_url="https://bot.example.edu/tg/hook",
                              webhook_secret="s3cret-token", request_timeout=3)
    app.add_channel(channel)
    http = web.Application()          # stands in for bot.serve's shared server
    http.router.add_post(channel.webhook_path, channel.handle_webhook)
    runner = web.AppRunner(http, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    await channel.start()
    yield api, channel, f"http://127.0.0.1:{port}/tg/hook"
    await channel.stop()
    await runner.cleanup()
    await api.stop()


async def test_webhook_mode_checks_the_secret_header(webhook_bot, caplog):
    api, _channel, url = webhook_bot
    assert api.webhook["url"] == "https://bot.example.edu/tg/hook" and api.webhook["secret_token"] == "s3cret-token"
    update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": 77, "type": "private"},
                                          "from": {"id": 77, "is_bot": False, "first_name": "x"}, "text": "/help"}}
    async with aiohttp.ClientSession() as session:
        with caplog.at_level(logging.WARNING):
            async with session.post(url, json=update) as response:
                assert response.status == 403
            async with session.post(url, json=update, headers={SECRET_HEADER: "wrong"}) as response:
                assert response.status == 403
        assert "refused a Telegram webhook request" in caplog.text
        assert api.texts_to(77) == []
        async with session.post(url, json=update, headers={SECRET_HEADER: "s3cret-token"}) as response:
            assert response.status == 200
    await api.wait_for(lambda: len(api.texts_to(77)) == 1)


async def test_webhook_mode_refuses_to_start_without_a_secret(app):
    channel = TelegramChannel(app, "1:x", base_url="http://127.0.0.1:9", webhook_url="https://bot.example.edu/hook")
    with pytest.raises(RuntimeError, match="WUZHA_TELEGRAM_WEBHOOK_SECRET"):
        await channel.start()


async def test_the_paid_tier_claims_ahead_but_keeps_each_persons_pushes_in_order(app):
    rig, stop, senders = await open_rig(app, paid_broadcast=True)
    try:
        assert rig.channel.limits.lanes == 2
        rig.channel.limits.batch = 1                      # one row per batch: the two lanes overlap on one person
        (person,) = await bind_people(app, 1)
        rig.api.inject("sendMessage", status=0, delay_s=0.3)   # the first push is slow to be accepted
        for n in range(1, 5):
            assert await app.outbox.push_to_person(person, f"order-{n}", text(f"第{n}条"))
        await rig.api.wait_for(lambda: len(rig.api.texts_to(FIRST_USER)) == 4, within=10)
        assert rig.api.texts_to(FIRST_USER) == ["第1条", "第2条", "第3条", "第4条"]
    finally:
        await close_rig(rig, stop, senders)
