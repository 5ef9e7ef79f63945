"""WeChat and WeCom callbacks as attackers send them: plaintext in safe mode, stale and replayed requests,
broken ciphertext, reply-breaking text, system events; each refused (or acknowledged) and nothing handled."""

from __future__ import annotations

import base64
import logging
import time

import aiohttp
import pytest
from aiohttp import web
from wechatpy import parse_message
from wechatpy.crypto import PrpCrypto
from wechatpy.replies import create_reply

from bot.channels import wechat_oa, wecom
from bot.channels.wechat_common import PassiveAnswer, respond, safe_xml_fields, xml_text
from tests.wechat_support import OA_AES_KEY, OA_APPID, OA_TOKEN, sign, wechat_rig


@pytest.fixture
async def rig(config, clock, fake_api):
    """Both callback routes, the Official Account in safe mode (an AES key is configured)."""
    async with wechat_rig(config, clock, fake_api, [wechat_oa.start, wecom.start]) as served:
        yield served


async def count(rig, table: str) -> int:
    """Rows in one table."""
    return await rig.app.db.fetchval(f"SELECT COUNT(*) FROM {table}")


async def test_plaintext_is_refused_in_safe_mode_under_a_valid_url_signature(rig, caplog):
    mallory = rig.person("o-victim", aes=False)
    with caplog.at_level(logging.WARNING):
        reply = await mallory.say("/me")
    assert reply.status == 403 and "学号" not in reply.body
    assert "unencrypted callback in safe mode" in caplog.text
    assert await count(rig, "inbox") == 0 and await count(rig, "accounts") == 0
    assert (await rig.person("o-victim").say("/help")).status == 200       # the encrypted route still works


async def test_plaintext_is_taken_in_compat_mode(config, clock, fake_api):
    config.channels.wechat_oa.accept_plaintext = True
    async with wechat_rig(config, clock, fake_api, [wechat_oa.start]) as rig:
        reply = await rig.person("o-plain", aes=False).say("/help")
        assert reply.status == 200 and "/help" in reply.text


@pytest.mark.parametrize("platform", ["wechat_oa", "wecom"])
@pytest.mark.parametrize("skew", [-10 * 365 * 86400, -301, 86400], ids=["ten-years-old", "stale", "a-day-ahead"])
async def test_timestamps_outside_the_window_are_refused(rig, platform, skew, caplog):
    person = rig.person("o-late", platform=platform)
    query, body = person.signed(person.xml("text", Content="/help"), timestamp=int(time.time()) + skew)
    with caplog.at_level(logging.WARNING):
        reply = await person.post(query, body)
    assert reply.status == 403 and "window" in caplog.text
    assert await count(rig, "inbox") == 0


@pytest.mark.parametrize("platform", ["wechat_oa", "wecom"])
async def test_a_replayed_request_is_not_handled_again_even_when_the_inbox_has_forgotten_it(rig, platform):
    person = rig.person("o-replay", platform=platform)
    query, body = person.signed(person.xml("text", Content="/help"))
    assert "/help" in (await person.post(query, body)).text
    await rig.app.db.execute("DELETE FROM inbox")                 # as if the inbox row had expired
    again = await person.post(query, body)
    assert (again.status, again.body) == (200, "success")          # a platform retry: acknowledged only
    assert await count(rig, "inbox") == 0


async def test_a_captured_url_signature_cannot_carry_another_body(config, clock, fake_api):
    config.channels.wechat_oa.accept_plaintext = True
    async with wechat_rig(config, clock, fake_api, [wechat_oa.start]) as rig:
        person = rig.person("o-plain", aes=False)
        query, body = person.signed(person.xml("text", Content="/help"))
        assert (await person.post(query, body)).status == 200
        forged = await person.post(query, person.xml("text", Content="/me"))
        assert forged.status == 403


@pytest.mark.parametrize("platform", ["wechat_oa", "wecom"])
async def test_signed_ciphertext_that_decrypts_to_garbage_is_400_with_one_warning(rig, platform, caplog):
    person = rig.person("o-garbage", platform=platform)
    query, _ = person.signed(person.xml("text", Content="hi"))
    garbage = base64.b64encode(b"\x00" * 48).decode()
    timestamp, nonce = query["timestamp"], query["nonce"]
    token = OA_TOKEN if platform == "wechat_oa" else "wecom-token"
    query["msg_signature"] = sign(token, timestamp, nonce, garbage)
    body = f"<xml><ToUserName><![CDATA[x]]></ToUserName><Encrypt><![CDATA[{garbage}]]></Encrypt></xml>"
    with caplog.at_level(logging.DEBUG):
        reply = await person.post(query, body)
    assert reply.status == 400
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(records) == 1 and records[0].exc_info is None and "cannot decrypt" in records[0].getMessage()
    # ciphertext of another app id, also signed
    other = PrpCrypto(base64.b64decode(OA_AES_KEY + "=")).encrypt("<xml></xml>", "wx-other").decode()
    query["msg_signature"] = sign(token, timestamp, nonce, other)
    query["nonce"] = nonce
    body = f"<xml><ToUserName><![CDATA[x]]></ToUserName><Encrypt><![CDATA[{other}]]></Encrypt></xml>"
    assert (await person.post(query, body)).status in (400, 403)


@pytest.mark.parametrize("text", ["a]]><b>x</b>", "]]>", "x\x00\x1by]]]]>"])
def test_any_reply_text_renders_to_whole_xml(text):
    message = parse_message("<xml><ToUserName>gh</ToUserName><FromUserName>o-1</FromUserName>"
                            "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>hi</Content></xml>")
    rendered = create_reply(xml_text(text), message).render()
    content = safe_xml_fields(rendered)["Content"]
    assert content == text.replace("\x00", "").replace("\x1b", "")


SYSTEM_EVENTS = ["subscribe_msg_popup_event", "subscribe_msg_change_event", "subscribe_msg_sent_event",
                 "add_calendar", "modify_schedule", "delete_meeting", "change_contact", "taskcard_click",
                 "template_card_event", "view_miniprogram", "open_approval_change", "location", "view"]


@pytest.mark.parametrize("platform", ["wechat_oa", "wecom"])
async def test_system_events_get_success_and_nothing_else(rig, platform):
    for event in SYSTEM_EVENTS:
        person = rig.person("sys" if event == "change_contact" else "o-system", platform=platform)
        reply = await person.event(event, ChangeType="update_user", UserID="zhangsan")
        assert (reply.status, reply.body) == (200, "success"), event
    await rig.settled()
    assert await count(rig, "accounts") == 0 and await count(rig, "outbox") == 0


async def test_a_forwarded_link_is_read_as_its_title_description_and_url(rig):
    person = rig.person("o-link")
    reply = await person.send("link", Title="刷单返利，日赚三百", Description="先垫付后返现",
                              Url="http://phish.example/a")
    assert reply.status == 200 and reply.text
    assert "没有收到文字" not in reply.text


async def test_a_url_verification_needs_a_fresh_timestamp(rig):
    old = str(int(time.time()) - 3600)
    query = {"signature": sign(OA_TOKEN, old, "abc"), "timestamp": old, "nonce": "abc", "echostr": "e"}
    async with rig.session.get(rig.base + "/wechat/oa", params=query) as response:
        assert response.status == 403


@pytest.mark.parametrize("suffix", ["", "/", "/cgi-bin", "/cgi-bin/"])
async def test_api_base_with_or_without_cgi_bin(config, clock, fake_api, suffix):
    class Base:                          # the fake's address as an operator might write it
        base = fake_api.base + suffix

    async with wechat_rig(config, clock, Base, [wechat_oa.start]):
        channel = wechat_oa.RoutedOAClient(OA_APPID, "s", Base.base)
        assert channel.API_BASE_URL == fake_api.base + "/cgi-bin/"


async def test_follow_ups_are_queued_only_after_the_passive_reply_is_written():
    seen: list[str] = []

    async def route(request: web.Request) -> web.StreamResponse:
        response = web.Response(text="passive")

        async def finish(written: bool) -> None:
            seen.append("written" if written and response.prepared and response._eof_sent else "not yet")

        return await respond(request, response, PassiveAnswer("passive", finish))

    http = web.Application()
    http.router.add_post("/cb", route)
    runner = web.AppRunner(http, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        async with aiohttp.ClientSession() as session:
            async with session.post(f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/cb") as reply:
                assert await reply.text() == "passive"
    finally:
        await runner.cleanup()
    assert seen == ["written"]



@pytest.mark.parametrize("msg_type", ["video", "shortvideo"])
async def test_a_video_is_taken_as_a_file_not_answered_as_missing_text(rig, msg_type):
    rig.api.media["VID-1"] = b"\x00\x00\x00\x18ftypmp42" + b"v" * 100
    reply = await rig.person("o-video").send(msg_type, MediaId="VID-1", ThumbMediaId="T-1")
    assert reply.status == 200 and "没有收到文字" not in reply.text
    assert [c.query["media_id"] for c in rig.api.to("media/get")] == ["VID-1"]


@pytest.mark.parametrize("first", ["你好", "绑定", "我要绑定班级", "hello"])
async def test_a_follower_who_never_subscribed_is_led_to_binding(rig, first):
    reply = await rig.person(f"o-new-{len(first)}").say(first)
    assert reply.status == 200
    assert "中文" in reply.text and "English" in reply.text, reply.text      # the binding starts: language first


async def test_the_menus_lookup_key_asks_and_takes_the_next_message_as_the_identifier(rig, demo_class):
    person = rig.person("o-lookup")
    await person.event("subscribe")
    await person.say("1")
    await person.say(demo_class.join_code)
    bound = await person.say("20231001")
    assert "✅" in bound.text or "绑定成功" in bound.text, bound.text
    asked = await person.event("CLICK", EventKey="/check")
    assert "电话号码" in asked.text and "用法" not in asked.text
    looked = await person.say("13800138000")
    assert "13800138000" in looked.text and "举报" in looked.text, looked.text


async def test_a_forwarded_link_already_reported_here_says_so(rig):
    from handlers.identifiers import extract_identifiers

    reporter = rig.person("o-reporter")
    await reporter.say("/help")
    account = await rig.app.store.accounts.find("wechat_oa", "o-reporter")
    store = rig.app.store
    report_id = await store.reports.create_draft(None, account.id, None, None, "zh", "other")
    await store.reports.add_identifiers(report_id, extract_identifiers("http://phish.example/a"))
    await store.reports.file(report_id, rig.app.config.tz, complete=True)
    person = rig.person("o-link-2")
    reply = await person.send("link", Title="刷单返利，日赚三百", Description="先垫付后返现",
                              Url="http://phish.example/a")
    await rig.settled()
    followed = [c.body["text"]["content"] for c in rig.api.to("message/custom/send") if c.body["touser"] == "o-link-2"]
    said = "\n".join([reply.text, *followed])
    assert "phish.example" in said and "1" in said and "举报" in said, said
