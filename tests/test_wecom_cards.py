"""What WeCom shows: robot cards with user text as text and the duty officers mentioned, plain replies as
text messages, text cards only for warnings, and each thing delivered once."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from bot.channels import wecom, wecom_robot
from bot.events import Button, Outgoing
from bot.ratelimit import ChannelLimiter
from tests.test_wechat_wecom import add_members
from tests.wechat_support import wechat_rig

HOSTILE = "[点此查看处理进度](http://phish.example/login) <@all> **急** `x` <font color=\"warning\">红</font>"


@pytest.fixture
async def work(config, clock, fake_api):
    """WeCom app and robot channels on the real HTTP server, senders running on the test's clock."""
    config.security_channel.targets = ["wecom_app", "wecom_robot"]
    async with wechat_rig(config, clock, fake_api, [wecom.start, wecom_robot.start]) as rig:
        for name in ("wecom", "wecom_robot"):
            rig.app.senders[name].limiter = ChannelLimiter(0, monotonic=lambda: clock.now().timestamp())
        yield rig


async def test_student_text_on_the_robot_card_neither_links_nor_mentions(work, config):
    _officer, duty = await add_members(work.app, 2, prefix="sec")
    number = (await work.app.store.people.get(duty)).person_no
    config.reports.duty_officers = [number]                       # a person number, as the office writes it
    card = Outgoing(text=f"🚨 紧急举报 R-20261123-002\n经过：{HOSTILE}", ref="card:R-20261123-002", urgent=True)
    await work.app.outbox.push_to_address("wecom_robot", "robot", "report", card, "card:R-20261123-002")
    await work.settled()
    (call,) = work.api.to("webhook/send")
    content = call.body["markdown"]["content"]
    assert "](" not in content and "<@all>" not in content and "<font" not in content and "**急**" not in content
    assert "点此查看处理进度" in content and "phish.example" in content           # still readable as text
    assert content.count("<@") == 1 and f"<@{number}>" in content             # the duty officer, by userid


async def test_a_follow_up_reply_is_a_text_message_not_a_card(work):
    (member,) = await add_members(work.app, 1, prefix="stu")
    key = (await work.app.store.people.get(member)).person_no
    reply = Outgoing(text="已作为紧急案件送达\n保卫处会尽快联系你。\n" + "详细说明。" * 200, urgent=True)
    await work.app.outbox.push_to_address("wecom", key, "reply", reply, "reply:wecom:x:1")
    await work.settled()
    sent = work.api.to("message/send")
    assert {c.body["msgtype"] for c in sent} == {"text"}                     # no card, nothing twice
    assert "".join(c.body["text"]["content"] for c in sent).count("详细说明。") == 200
    assert sent[0].body["text"]["content"].startswith("已作为紧急案件送达")


async def test_warnings_are_cards_with_escaped_text_and_a_long_one_is_sent_once_as_text(work):
    (member,) = await add_members(work.app, 1, prefix="stu")
    key = (await work.app.store.people.get(member)).person_no
    short = Outgoing(text="⚠️ 本周案例：刷单\n对方发来 <a href=\"http://x\">链接</a>", ref="warning:w1")
    await work.app.outbox.push_to_address("wecom", key, "warning", short, "warning:w1")
    await work.settled()
    (card,) = work.api.to("message/send")
    assert card.body["msgtype"] == "textcard"
    assert "<a href" not in card.body["textcard"]["description"] and "&lt;a" in card.body["textcard"]["description"]
    long = Outgoing(text="⚠️ 本周案例：冒充客服\n" + "骗子的话术很长。" * 60, ref="warning:w2")
    await work.app.outbox.push_to_address("wecom", key, "warning", long, "warning:w2")
    await work.settled()
    later = work.api.to("message/send")[1:]
    assert [c.body["msgtype"] for c in later] == ["text"]


async def test_options_still_go_as_numbered_text(work):
    (member,) = await add_members(work.app, 1, prefix="stu")
    key = (await work.app.store.people.get(member)).person_no
    message = Outgoing(text="选一个", buttons=[[Button("受理", "rep:ack:R-1")]])
    await work.app.outbox.push_to_address("wecom", key, "x", message, "x:1")
    await work.settled()
    (call,) = work.api.to("message/send")
    assert call.body["msgtype"] == "text" and "1. 受理" in call.body["text"]["content"]


async def test_a_card_is_posted_once_and_its_changes_as_one_short_line_a_minute(work):
    def card(evidence: int, status: str = "待受理") -> Outgoing:
        return Outgoing(text=f"📋 举报 R-20261123-009（{status}）\n类型：刷单返利\n证据：{evidence} 份\n指令：受理 R-20261123-009",
                        buttons=[[Button("受理", "rep:ack:R-20261123-009")]], ref="card:R-20261123-009")

    robot = work.app.channels["wecom_robot"]
    robot.update_every_s = 0.5                                # a minute, shortened for the test
    for version in range(6):                                  # the card, then one change per form step
        await work.app.outbox.push_to_address("wecom_robot", "robot", "report", card(version),
                                              f"report:R-20261123-009:card:{version}")
    await work.settled()
    posts = work.api.to("webhook/send")
    assert len(posts) == 1 and "证据：0 份" in posts[0].body["markdown"]["content"]
    await asyncio.sleep(0.7)
    await work.settled()
    await asyncio.sleep(0.7)
    await work.settled()
    posts = work.api.to("webhook/send")
    assert len(posts) == 2, [p.body for p in posts]
    update = posts[1].body["markdown"]["content"]
    assert "证据：5 份" in update and "类型" not in update and len(update) < len(posts[0].body["markdown"]["content"])


async def test_an_urgent_cards_update_line_pings_the_duty_officers_again(work, config):
    (duty,) = await add_members(work.app, 1, prefix="duty")
    config.reports.duty_officers = [(await work.app.store.people.get(duty)).person_no]
    work.app.channels["wecom_robot"].update_every_s = 0.3
    first = Outgoing(text="🚨 紧急举报 R-20261123-010\n状态：待受理", ref="card:R-20261123-010", urgent=True)
    again = Outgoing(text="⏰ 已等待 15 分钟（第 1 次提醒）\n🚨 紧急举报 R-20261123-010\n状态：待受理",
                     ref="card:R-20261123-010", urgent=True)
    await work.app.outbox.push_to_address("wecom_robot", "robot", "report", first, "card:10:0")
    await work.settled()
    await asyncio.sleep(0.4)
    await work.app.outbox.push_to_address("wecom_robot", "robot", "report", again, "card:10:1")
    await work.settled()
    posts = [p.body["markdown"]["content"] for p in work.api.to("webhook/send")]
    assert len(posts) == 2 and "已等待 15 分钟" in posts[1] and "<@duty000000>" in posts[1]


async def test_the_fake_refuses_what_wechat_refuses_and_the_channels_stay_under_it(work):
    async with aiohttp.ClientSession() as session:
        body = {"msgtype": "markdown", "markdown": {"content": "长" * 1400}}        # 4,200 bytes
        async with session.post(work.api.base + "/cgi-bin/webhook/send", params={"key": "k"}, json=body) as answer:
            assert (await answer.json())["errcode"] == 45002
    (member,) = await add_members(work.app, 1, prefix="stu")
    key = (await work.app.store.people.get(member)).person_no
    await work.app.outbox.push_to_address("wecom", key, "x", Outgoing(text="长" * 5000), "long:1")
    card = Outgoing(text="📋 举报 R-20261123-011\n" + "经过很长。" * 600, ref="card:R-20261123-011")
    await work.app.outbox.push_to_address("wecom_robot", "robot", "report", card, "card:11:0")
    counts = await work.settled()
    assert counts["sent"] == 2 and counts["dead"] == 0 and counts["undeliverable"] == 0, counts
    assert len(work.api.to("message/send")) >= 8 and len(work.api.to("webhook/send")) >= 3
