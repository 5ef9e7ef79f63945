"""WeCom end to end: AES callbacks on /wechat/work, batched app messages, the security channel on WeCom."""

from __future__ import annotations

import base64
import time

import pytest
from wechatpy.enterprise.crypto import PrpCrypto

from bot.channels import wecom, wecom_robot
from bot.clock import iso
from bot.events import Button, Outgoing
from bot.ratelimit import ChannelLimiter
from tests.wechat_support import WECOM_AES_KEY, WECOM_CORPID, WECOM_TOKEN, sign, wechat_rig


@pytest.fixture
async def work(config, clock, fake_api):
    """WeCom app and robot channels on the real HTTP server, senders running."""
    config.security_channel.targets = ["wecom_app", "wecom_robot"]
    async with wechat_rig(config, clock, fake_api, [wecom.start, wecom_robot.start]) as rig:
        for name in ("wecom", "wecom_robot"):   # the limiter runs on the test's clock, so minutes pass at once
            rig.app.senders[name].limiter = ChannelLimiter(0, monotonic=lambda: clock.now().timestamp())
        yield rig


async def add_members(app, count: int, prefix: str = "m") -> list[int]:
    """Bound people with a WeCom account each, inserted in bulk."""
    now = iso(app.clock.now())
    async with app.db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO people (person_no, college, role, created_at) VALUES (?, '', 'student', ?)",
            [(f"{prefix}{i:06d}", now) for i in range(count)],
        )
        await conn.execute(
            "INSERT INTO accounts (platform, user_key, chat_key, person_id, created_at, last_seen_at)"
            " SELECT 'wecom', person_no, person_no, id, ?, ? FROM people WHERE person_no LIKE ?",
            (now, now, f"{prefix}%"),
        )
    rows = await app.db.fetchall("SELECT id FROM people WHERE person_no LIKE ? ORDER BY id", (f"{prefix}%",))
    return [r[0] for r in rows]


async def test_url_verification_decrypts_echostr(work):
    NOW = str(int(time.time()))
    echo = PrpCrypto(base64.b64decode(WECOM_AES_KEY + "=")).encrypt("echo-42", WECOM_CORPID).decode()
    query = {"msg_signature": sign(WECOM_TOKEN, NOW, "n1", echo), "timestamp": NOW,
             "nonce": "n1", "echostr": echo}
    async with work.session.get(work.base + "/wechat/work", params=query) as response:
        assert (response.status, await response.text()) == (200, "echo-42")
    query["msg_signature"] = "f" * 40
    async with work.session.get(work.base + "/wechat/work", params=query) as response:
        assert response.status == 403


async def test_onboarding_in_wecom_with_encrypted_replies(work, demo_class):
    zhang = work.person("zhangsan", platform="wecom")
    reply = await zhang.say("/start")
    assert "1. 中文" in reply.text
    reply = await zhang.say("中文")                     # the option's words work as well as its number
    assert "班级码" in reply.text
    await zhang.say(demo_class.join_code)
    reply = await zhang.say("T2023001")
    assert "绑定" in reply.text or "✅" in reply.text
    account = await work.app.store.accounts.find("wecom", "zhangsan")
    assert account.person_id is not None


async def test_push_to_2500_members_takes_three_calls(work):
    people = await add_members(work.app, 2500)
    summary = await work.app.outbox.push_many("notice-1", [(p, Outgoing(text="明天 14:00 反诈讲座")) for p in people])
    assert summary.queued == 2500
    await work.settled(wait_s=20)
    calls = work.api.to("message/send")
    assert sorted(len(c.body["touser"].split("|")) for c in calls) == [500, 1000, 1000]
    assert len({u for c in calls for u in c.body["touser"].split("|")}) == 2500
    assert (await work.app.store.outbox.counts("notice-1"))["sent"] == 2500


async def test_warning_goes_as_a_text_card_and_invalid_members_become_unreachable(work):
    people = await add_members(work.app, 3, prefix="w")
    work.api.invalid_users.add("w000002")
    warning = Outgoing(text="本周警示：冒充客服退款\n有人自称客服说要退款，让你开屏幕共享。", ref="warning:2026-47")
    await work.app.outbox.push_many("warning-47", [(p, warning) for p in people])
    await work.settled()
    (call,) = work.api.to("message/send")
    assert call.body["msgtype"] == "textcard"
    assert call.body["textcard"]["title"] == "本周警示：冒充客服退款"
    account = await work.app.store.accounts.find("wecom", "w000002")
    assert account.reachable == 0


async def test_never_more_than_30_messages_a_minute_to_one_member(work):
    (person,) = await add_members(work.app, 1, prefix="busy")
    for i in range(35):
        await work.app.outbox.push_to_person(person, f"c{i}", Outgoing(text=f"消息 {i}"))
    await work.settled()
    assert len(work.api.to("message/send")) == 30
    work.clock.advance(seconds=63)                      # a minute (and the call margin) later
    await work.settled()
    assert len(work.api.to("message/send")) == 35


async def test_security_cards_reach_officers_in_the_app_and_the_robot(work, config):
    officer, duty = await add_members(work.app, 2, prefix="sec")
    await work.app.store.people.set_role(officer, "security")
    config.reports.duty_officers = [str(duty)]
    card = Outgoing(text="🚨 紧急举报 R-20261123-001\n类型：刷单返利\n金额：3000 元",
                    buttons=[[Button("受理", "rep:ack:R-20261123-001"), Button("结案", "rep:resolve:R-20261123-001")]],
                    ref="card:R-20261123-001", urgent=True)
    assert await work.app.outbox.push_to_security("report", card, "card:R-20261123-001") == 2
    await work.settled()
    (app_call,) = work.api.to("message/send")
    assert app_call.body["touser"] == "sec000000"
    assert "1. 受理" in app_call.body["text"]["content"]
    (robot_call,) = work.api.to("webhook/send")
    content = robot_call.body["markdown"]["content"]
    assert robot_call.query["key"] == "robot-key"
    assert "**🚨 紧急举报 R-20261123-001**" in content and "<@sec000001>" in content
    assert "受理 R-20261123-001" in content


async def test_robot_cards_over_20_a_minute_wait_in_the_queue(work):
    for i in range(25):
        await work.app.outbox.push_to_security("report", Outgoing(text=f"举报 R-{i}\n详情", ref=f"card:R-{i}"),
                                               f"card:R-{i}")
    await work.settled()
    assert len(work.api.to("webhook/send")) == 20
    waiting = await work.app.db.fetchval(
        "SELECT COUNT(*) FROM outbox WHERE channel = 'wecom_robot' AND state = 'pending'")
    assert waiting == 5                                   # queued, not dropped
    work.clock.advance(seconds=61)
    await work.settled()
    assert len(work.api.to("webhook/send")) == 25
