"""On WeCom the school's directory proves who someone is: real AES callbacks on /wechat/work bind at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.channels import wechat_oa, wecom
from bot.roster import parse_roster
from tests.wechat_support import wechat_rig


@pytest.fixture
async def work(config, clock, fake_api):
    """The WeCom app channel on the real HTTP server."""
    async with wechat_rig(config, clock, fake_api, [wecom.start]) as rig:
        yield rig


async def import_roster(app, tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("学号,姓名,学院,班级,身份,企业微信账号\n"
                    "S900,王科长,保卫处,,保卫处,wangkz\n"
                    "2023002,李四,计算机学院,计科2301,班长,\n", encoding="utf-8")
    good, rejected = parse_roster(path)
    assert not rejected
    await app.store.people.upsert_roster([row for _, row in good])


async def test_a_wecom_member_is_bound_by_the_directory_with_their_role_and_no_code(work, tmp_path):
    await import_roster(work.app, tmp_path)
    officer = work.person("wangkz", platform="wecom")           # the roster's wecom_userid column
    reply = await officer.say("/reports")
    assert "目前没有未结案的举报" in reply.text
    account = await work.app.store.accounts.find("wecom", "wangkz")
    assert account.proof == "wecom"
    monitor = work.person("2023002", platform="wecom")          # no column: the userid is the person number
    reply = await monitor.say("/class")
    assert "计科2301" in reply.text


async def test_a_wecom_userid_not_in_the_roster_is_asked_to_bind_as_before(work, tmp_path):
    await import_roster(work.app, tmp_path)
    stranger = work.person("S900", platform="wecom")            # S900's userid is wangkz: the number proves nothing
    reply = await stranger.say("/reports")
    assert "/start" in reply.text
    assert (await work.app.store.accounts.find("wecom", "S900")).person_id is None


@pytest.fixture
async def both(config, clock, fake_api):
    """The Official Account and the WeCom app on the real HTTP server."""
    async with wechat_rig(config, clock, fake_api, [wechat_oa.start, wecom.start]) as rig:
        yield rig


async def test_a_chat_bound_through_the_directory_tells_the_persons_other_chats_with_not_me(both, tmp_path):
    await import_roster(both.app, tmp_path)
    monitor = await both.app.store.people.by_number("2023002")
    code, _ = await both.app.store.invites.create(monitor.id, 7, "os:test")
    follower = both.person("oa-li")
    assert "绑定成功" in (await follower.say(f"/start {code}")).text
    member = both.person("2023002", platform="wecom")           # someone signed in to WeCom as 李四
    await member.say("你好")
    sent = await both.sent_to("oa-li", 1)
    notice = sent[-1]["text"]["content"]
    assert "新的聊天" in notice and "wecom" in notice and "这不是我" in notice
    reply = await follower.say("这不是我")
    assert "已解除" in reply.text
    assert (await both.app.store.accounts.find("wecom", "2023002")).person_id is None
    await member.say("/me")                                     # and the directory does not bind it again
    assert (await both.app.store.accounts.find("wecom", "2023002")).person_id is None
    assert [r["target"] for r in await both.app.store.audit.recent(action="identity.not_me")] == [
        f"account:{(await both.app.store.accounts.find('wecom', '2023002')).id}"]


async def test_change_contact_from_sys_keeps_members_in_step_and_never_creates_an_account(work, tmp_path):
    await import_roster(work.app, tmp_path)
    store = work.app.store
    await work.person("wangkz", platform="wecom").say("/me")
    await work.person("2023002", platform="wecom").say("/me")
    sys = work.person("sys", platform="wecom")
    reply = await sys.event("change_contact", ChangeType="create_user", UserID="newcomer")
    assert reply.status == 200 and reply.body == "success"
    assert await store.accounts.find("wecom", "newcomer") is None and await store.accounts.find("wecom", "sys") is None
    # A userid change: the account and the person's directory id follow; the new id is still them.
    assert (await sys.event("change_contact", ChangeType="update_user", UserID="2023002",
                            NewUserID="lisi")).body == "success"
    assert await store.accounts.find("wecom", "2023002") is None
    renamed = await store.accounts.find("wecom", "lisi")
    assert renamed.person_id == (await store.people.by_number("2023002")).id
    assert "计科2301" in (await work.person("lisi", platform="wecom").say("/class")).text
    # A member deleted from the directory loses the binding made through it, and gets no more pushes.
    assert (await sys.event("change_contact", ChangeType="delete_user", UserID="wangkz")).body == "success"
    gone = await store.accounts.find("wecom", "wangkz")
    assert gone.person_id is None and not gone.reachable
    assert [r["action"] for r in await store.audit.recent(2)] == ["identity.wecom_deleted", "identity.wecom_renamed"]


async def test_change_contact_from_anyone_but_sys_changes_nothing(work, tmp_path):
    await import_roster(work.app, tmp_path)
    await work.person("wangkz", platform="wecom").say("/me")
    forged = work.person("wangkz", platform="wecom")            # a member's own event claiming a deletion
    assert (await forged.event("change_contact", ChangeType="delete_user", UserID="wangkz")).body == "success"
    assert (await work.app.store.accounts.find("wecom", "wangkz")).person_id is not None
