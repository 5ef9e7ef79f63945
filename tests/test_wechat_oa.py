"""The Official Account end to end: real signed / AES-encrypted callbacks against the real routes."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.app import App
from bot.channels import wechat_oa
from bot.events import Outgoing
from tests.wechat_support import OA_TOKEN, sign, wechat_rig


@pytest.fixture
async def oa(config, clock, fake_api):
    """An App with the Official Account enabled, its HTTP server and outbox senders running."""
    async with wechat_rig(config, clock, fake_api, [wechat_oa.start]) as rig:
        rig.url = rig.base + "/wechat/oa"
        yield rig


async def test_url_verification_echoes_only_a_signed_request(oa):
    NOW = str(int(time.time()))
    query = {"signature": sign(OA_TOKEN, NOW, "abc"), "timestamp": NOW, "nonce": "abc",
             "echostr": "hello-echo"}
    async with oa.session.get(oa.url, params=query) as response:
        assert response.status == 200
        assert await response.text() == "hello-echo"
    query["signature"] = "0" * 40
    async with oa.session.get(oa.url, params=query) as response:
        assert response.status == 403


@pytest.mark.parametrize("aes", [True, False], ids=["safe-mode", "plain-mode"])
async def test_subscribe_then_full_onboarding(config, clock, fake_api, demo_class, aes):
    async with wechat_rig(config, clock, fake_api, [wechat_oa.start], oa_aes=aes) as oa:
        alice = oa.person("o-alice", aes=aes)
        reply = await alice.event("subscribe")
        assert reply.status == 200
        assert "中文" in reply.text and "1." in reply.text and "回复数字" in reply.text
        reply = await alice.say("2")                         # "English" by its number
        assert "class code" in reply.text.lower()
        reply = await alice.say(demo_class.join_code)
        assert "number" in reply.text.lower()
        reply = await alice.say("20230001")
        assert "linked" in reply.text.lower() or "✅" in reply.text
        account = await oa.app.store.accounts.find("wechat_oa", "o-alice")
        assert account.person_id is not None and account.language == "en"
        reply = await alice.say("/me")
        assert "20230001" in reply.text


async def test_help_by_menu_click_and_unsubscribe(oa, demo_class):
    bob = oa.person("o-bob")
    await bob.event("subscribe")
    reply = await bob.event("CLICK", EventKey="/help")
    assert "/help" in reply.text
    reply = await bob.event("unsubscribe")
    assert reply.body == "success"
    account = await oa.app.store.accounts.find("wechat_oa", "o-bob")
    assert account.reachable == 0


async def test_duplicate_retry_is_answered_but_handled_once(oa):
    carol = oa.person("o-carol")
    xml = carol.xml("text", msg_id=777, Content="/start")
    first = await carol.post(*carol.signed(xml))
    assert first.text
    retry = await carol.post(*carol.signed(xml))          # same MsgId, new signature: WeChat's retry
    assert retry.status == 200 and retry.body == "success"
    event = carol.xml("event", create_time=1_800_000_000, Event="subscribe")
    await carol.post(*carol.signed(event))
    again = await carol.post(*carol.signed(event))          # same sender + CreateTime
    assert again.body == "success"
    assert await oa.app.db.fetchval("SELECT COUNT(*) FROM inbox WHERE platform = 'wechat_oa'") == 2


async def test_second_reply_goes_through_customer_service_api(oa, demo_class):
    dave = oa.person("o-dave")
    await dave.event("subscribe")
    long_text = "安全提示" * 400                             # more than one passive message can hold
    oa.app.dispatcher.routes.join = _replies_with(Outgoing(text=long_text))
    reply = await dave.event("subscribe", CreateTime="1")
    assert reply.text and len(reply.text.encode()) <= 2048
    sent = await oa.sent_to("o-dave", 2)          # the two pieces the passive reply could not hold
    assert sent[0]["msgtype"] == "text"
    assert reply.text + "".join(s["text"]["content"] for s in sent) == long_text


async def test_slow_reply_misses_the_budget_and_follows_by_api(oa):
    async def slow(msg, ctx):
        await asyncio.sleep(2.0)                          # budget is 1.5 s in these tests
        return [Outgoing(text="slow answer")]

    oa.app.dispatcher.routes.free_text = slow
    erin = oa.person("o-erin")
    reply = await erin.say("something unusual")
    assert reply.body == "success"
    sent = await oa.sent_to("o-erin", 1)
    assert sent[0]["text"]["content"] == "slow answer"


async def test_push_outside_48h_without_template_is_undeliverable(oa):
    frank = oa.person("o-frank")
    await frank.say("/help")
    oa.clock.advance(hours=49)
    await oa.app.outbox.push_to_address("wechat_oa", "o-frank", "warning-1", Outgoing(text="本周警示"), "w1:frank")
    await oa.settled()
    row = await oa.app.db.fetchone("SELECT state, error FROM outbox WHERE dedupe_key = 'w1:frank'")
    assert (row["state"], row["error"]) == ("undeliverable", "outside 48h window")
    assert oa.api.to("message/custom/send") == []


async def test_push_outside_48h_uses_the_template(oa):
    oa.app.channels["wechat_oa"].template_id = "TPL-1"
    gina = oa.person("o-gina")
    await gina.say("/help")
    oa.clock.advance(hours=49)
    await oa.app.outbox.push_to_address("wechat_oa", "o-gina", "warning-1", Outgoing(text="本周警示\n刷单是诈骗"),
                                        "w1:gina")
    await oa.settled()
    (call,) = oa.api.to("message/template/send")
    assert call.body["template_id"] == "TPL-1" and call.body["touser"] == "o-gina"
    assert call.body["data"]["first"]["value"] == "本周警示"


async def test_api_error_codes(oa):
    channel = oa.app.channels["wechat_oa"]
    hana = oa.person("o-hana")
    await hana.say("/help")
    oa.api.fail_next("message/custom/send", 45015)
    result = await channel.deliver("o-hana", Outgoing(text="x"))
    assert result.permanent and result.error == "outside 48h window"
    oa.api.fail_next("message/custom/send", 45047)
    result = await channel.deliver("o-hana", Outgoing(text="x"))
    assert result.permanent and "limit" in result.error
    oa.api.fail_next("message/custom/send", 45009)
    result = await channel.deliver("o-hana", Outgoing(text="x"))
    assert not result.ok and result.retry_after and result.retry_after <= 3600
    oa.api.expire_tokens()                                # 42001: fetch a new token once and send again
    fetched = channel.api.token_fetches
    result = await channel.deliver("o-hana", Outgoing(text="y"))
    assert result.ok and channel.api.token_fetches == fetched + 1


async def test_token_is_cached_in_the_database_across_restarts(oa, config, clock):
    ivan = oa.person("o-ivan")
    await ivan.say("/help")
    await oa.app.channels["wechat_oa"].deliver("o-ivan", Outgoing(text="hi"))
    assert len(oa.api.to("token")) == 1
    second = await App(config, clock=clock).open()
    try:
        from aiohttp import web

        await wechat_oa.start(second, web.Application())
        await second.channels["wechat_oa"].deliver("o-ivan", Outgoing(text="again"))
    finally:
        await second.close()
    assert len(oa.api.to("token")) == 1


def _replies_with(*messages):
    async def handler(msg, ctx):
        return list(messages)
    return handler


async def test_voice_with_recognition_is_text_and_a_location_gets_a_polite_answer(oa):
    kim = oa.person("o-kim")
    reply = await kim.send("voice", MediaId="V1", Format="amr", Recognition="/help")
    assert "/help" in reply.text
    reply = await kim.send("location", Location_X="31.2", Location_Y="121.5", Scale="15", Label="somewhere")
    assert reply.status == 200 and reply.text                  # told what it can send instead, nothing broke


async def test_a_picture_that_cannot_be_fetched_is_answered_politely(oa):
    lin = oa.person("o-lin")
    reply = await lin.send("image", MediaId="MISSING", PicUrl="http://example.invalid/x.jpg")
    assert "再发一次" in reply.text
