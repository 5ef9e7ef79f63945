"""Onboarding, /help, /me, /lang, /unbind, /cancel, the bind lock, and state surviving a restart."""

from __future__ import annotations

from bot.app import App
from storage.people import RosterRow
from tests.support import User


async def test_bind_to_a_class_without_roster_in_zh_and_en(app, demo_class, user_factory):
    alice = user_factory("alice")
    await alice.bind(demo_class.join_code, "2023001", lang="zh")
    assert "计科2301" in alice.text and "学生" in alice.text
    bob = user_factory("bob", language_hint="en-US")
    await bob.say("/start")
    assert "Please choose your language" in bob.text
    await bob.press("lang:en")
    await bob.say(demo_class.join_code.lower())
    await bob.say("2023002")
    assert "You're linked" in bob.text and "student" in bob.text
    await bob.say("/help")
    assert "/me" in bob.text and "/unbind" in bob.text
    await bob.say("/me")
    assert "2023002" in bob.text and "Safety pledge not signed" in bob.text


async def test_roster_number_must_belong_to_the_class_and_five_wrong_tries_lock(app, clock, user_factory):
    await app.store.people.upsert_roster([
        RosterRow("2023001", "张三", "计算机学院", ["计科2301"], None, "student", []),
        RosterRow("2023900", "外班", "计算机学院", ["计科2302"], None, "student", []),
    ])
    klass = await app.store.classes.by_name("计科2301")
    eve = user_factory("eve")
    await eve.say("/start")
    await eve.press("lang:zh")
    await eve.say(klass.join_code)
    await eve.say("2023900")                       # a real number, but of another class
    assert "不在该班级名单" in eve.text and "4 次" in eve.text
    for _ in range(3):
        await eve.say("9999999")
    await eve.say("9999998")                       # the fifth wrong try
    assert "绑定已暂停" in eve.text
    await eve.say("2023001")                       # even the right number is refused while locked
    assert "绑定已暂停" in eve.text
    account = await app.store.accounts.find("test", "eve")
    assert account.person_id is None
    clock.advance(minutes=16)
    await eve.say("2023001")
    assert "姓名" in eve.text                      # the roster has names: the number alone is not enough
    await eve.say("张 三")
    assert "绑定成功" in eve.text


async def test_a_staff_number_typed_in_lower_case_or_full_width_still_binds(app, user_factory):
    await app.store.people.upsert_roster([
        RosterRow("T1001", "王老师", "计算机学院", ["计科2301"], None, "staff", ["staff"]),
        RosterRow("2023002", "李四", "计算机学院", ["计科2301"], None, "student", []),
    ])
    klass = await app.store.classes.by_name("计科2301")
    for key, typed, name in (("wang", "t1001", "王老师"), ("li", "２０２３００２", "李 四")):
        user = user_factory(key)
        await user.say("/start")
        await user.press("lang:zh")
        await user.say(klass.join_code.lower())
        await user.say(typed)
        await user.say(name)
        assert "绑定成功" in user.text, (typed, user.text)


async def test_wrong_codes_count_too(app, user_factory):
    mallory = user_factory("mallory")
    await mallory.say("/start")
    await mallory.press("lang:en")
    for _ in range(5):
        await mallory.say("NOPE42")
    assert "Too many wrong tries" in mallory.text


async def test_deep_link_code_skips_the_code_step(app, demo_class, user_factory):
    carol = user_factory("carol")
    await carol.say(f"/start {demo_class.join_code}")
    await carol.press("lang:en")
    assert "Class: 计科2301" in carol.text
    await carol.say("2023003")
    assert "You're linked" in carol.text


async def test_conversation_survives_a_restart(config, clock, demo_class, app):
    dave = User(app, "dave")
    await dave.say("/start")
    await dave.press("lang:en")
    await app.close()
    reopened = await App(config, clock=clock).open()
    try:
        dave = User(reopened, "dave")
        await dave.say(demo_class.join_code)        # the conversation goes on where it was
        assert "Class: 计科2301" in dave.text
        await dave.say("2")                         # not a choice: taken as a number, too short
        assert "3-20" in dave.text
    finally:
        await reopened.close()


async def test_choices_answered_by_number_letter_or_words(app, user_factory):
    frank = user_factory("frank")
    await frank.say("/lang")
    await frank.say("English")
    assert "Switched to English" in frank.text
    await frank.say("/lang")
    await frank.say("1")
    assert "已切换为中文" in frank.text
    await frank.say("/lang")
    await frank.say("选B")
    assert "Switched to English" in frank.text


async def test_cancel_unbind_and_polite_errors(app, demo_class, user_factory):
    gina = user_factory("gina")
    await gina.say("/me")
    assert "/start" in gina.text                      # guests are told to bind first
    await gina.say("/start")
    await gina.say("/cancel")
    assert "已退出" in gina.text
    await gina.say("/cancel")
    assert "没有进行中" in gina.text
    await gina.bind(demo_class.join_code, "2023010")
    await gina.say("/nonsense")
    assert "/nonsense" in gina.text and "/help" in gina.text
    await gina.press("zzz:unknown")
    assert "过期" in gina.text
    await gina.say("   ")
    assert gina.replies
    await gina.say("/unbind")
    await gina.say("1")
    assert "已解除绑定" in gina.text
    account = await app.store.accounts.find("test", "gina")
    assert account.person_id is None


async def test_forget_erases_personal_data_and_keeps_counts(app, demo_class, user_factory):
    hana = user_factory("hana")
    await hana.bind(demo_class.join_code, "2023011")
    person = await app.store.people.by_number("2023011")
    await app.store.checkins.record(person.id, "2026-11-23", "brushing-s1", "no", False)
    kept = await app.store.people.forget(person.id)
    assert kept["checkins"] == 1 and kept["accounts_deleted"] == 1
    forgotten = await app.store.people.get(person.id)
    assert forgotten.person_no is None and forgotten.name is None and forgotten.forgotten_at
    assert await app.store.accounts.find("test", "hana") is None
