"""Drills in the chat: free-text answers, safe exits, the debrief, follow-ups, restarts, nudges, assignments."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.app import App
from bot.clock import parse_iso
from handlers.drill import is_safe_exit, nearest_choice
from handlers.drill_followup import followup_cases, nudge_idle_drills


async def bound(user_factory, demo_class, key: str, number: str, lang: str = "zh"):
    """A user bound to the demo class."""
    user = user_factory(key)
    await user.bind(demo_class.join_code, number, lang)
    return user


def drill_of(app, drill_id: str):
    return app.services.library.extra["drills"][drill_id]


async def test_free_text_matches_the_nearest_choice_in_zh_and_en(app):
    turn = drill_of(app, "brushing").turns["t3"]
    assert nearest_choice(turn, "我先垫付298试试") == 0
    assert nearest_choice(turn, "绑定银行卡填验证码") == 1
    assert nearest_choice(turn, "pay the 298 and see") == 0
    assert nearest_choice(turn, "install the app and link my card") == 1
    assert nearest_choice(turn, "今天天气不错") is None


@pytest.mark.parametrize("words", ["挂电话", "我要报警", "报警", "直接拉黑他", "打96110问问", "I'd hang up",
                                   "report", "block him", "I will call the police"])
def test_safe_exit_words(words):
    assert is_safe_exit(words)


@pytest.mark.parametrize("words", ["我不会报警的", "don't report me", "好的我转账", "pay 1100 yuan"])
def test_not_safe_exits(words):
    assert not is_safe_exit(words)


async def test_typed_answers_walk_a_drill_and_a_safe_exit_ends_it(app, user_factory, demo_class):
    user = await bound(user_factory, demo_class, "amy", "2023001")
    await user.say("/drill fake_authority")
    assert "【演练】" in user.text and "涉嫌一起特大洗钱案" in user.text
    await user.say("我没有！怎么回事")            # fuzzy, typed
    assert "逮捕令" in user.text
    await user.say("1")                             # by number
    assert "机密" in user.text
    await user.say("我要报警")                      # always a safe exit, even without such a button here
    assert "【演练结束】" not in user.text          # message 3 is too early to end: the script carries on
    assert "现实中到这里你就安全了" in user.text and "安全账户" in user.text
    await user.say("我要报警")
    assert "【演练结束】" in user.text
    assert "✅ 你安全脱身了" in user.text
    assert "得分：50/100（4 个危险信号中，处理得当 2 个）" in user.text
    assert "结果：未通过" in user.text
    assert "👉 更安全的做法：挂断，自己拨打110核实" in user.text
    results = await app.store.drills.results(user_person := (await app.store.people.by_number("2023001")).id)
    assert len(results) == 1 and results[0].score == 50 and not results[0].passed
    assert results[0].missed_flags == ["t1", "t2"]
    assert await app.store.drills.completion([user_person]) == (1, 0)


async def test_english_drill_with_free_text_and_a_pass(app, user_factory, demo_class):
    user = await bound(user_factory, demo_class, "ben", "2023002", lang="en")
    await user.say("/drill job")
    assert "[DRILL]" in user.text and "no interview" in user.text
    await user.say("I'll check the company's website first")
    assert "[DRILL OVER]" not in user.text and "you would be safe here" in user.text
    await user.say("real companies don't charge, I refuse")
    await user.say("I refuse and delete the contact")
    await user.say("that's laundering, I'll report it")
    assert "[DRILL OVER]" in user.text
    assert "Score: 100/100 (4 of 4 red flags handled safely)" in user.text
    assert "Result: passed" in user.text
    assert "/quiz job" in [b.data for b in user.replies[-1].flat_buttons()]
    person = await app.store.people.by_number("2023002")
    assert await app.store.drills.completion([person.id]) == (1, 1)
    assert await app.store.drills.followups_for_week("2026-11-30") == {}


async def test_unmatched_text_asks_again_and_changes_nothing(app, user_factory):
    user = user_factory("guest")
    await user.say("/drill loan")
    await user.say("嗯……让我想想")
    assert "没能对上你的回答" in user.text and user.replies[-1].buttons
    state = await app.store.conversations.get((await app.store.accounts.find("test", "guest")).id)
    assert state.step == "t1" and state.data["path"] == []


async def test_a_missed_flag_queues_that_types_case_next_week(app, user_factory, demo_class, clock):
    user = await bound(user_factory, demo_class, "cat", "2023003")
    await user.say("/drill brushing")
    await user.press_label("好呀")
    await user.press_label("见好就收")
    await user.press_label("刷单就是诈骗")
    await user.press_label("不再转钱")
    assert "下周你会收到一则同类型的真实案例提醒" in user.text
    person = await app.store.people.by_number("2023003")
    row = await app.store.db.fetchone("SELECT * FROM outbox WHERE campaign = 'drill-followup'")
    assert row["dedupe_key"] == f"drill-followup:{person.id}:brushing:2026-11-30"
    due = parse_iso(row["not_before"]).astimezone(app.config.tz)
    assert due.date().isoformat() == "2026-12-02" and due.hour == 19       # next week's Wednesday warning
    assert "陌生人主动拉群" in row["payload"]
    # A second miss of the same type in the same week does not queue a second warning.
    await user.say("/drill brushing")
    await user.press_label("好呀")
    await user.press_label("见好就收")
    await user.press_label("刷单就是诈骗")
    await user.press_label("不再转钱")
    assert len(await app.store.db.fetchall("SELECT id FROM outbox WHERE campaign = 'drill-followup'")) == 1
    assert await followup_cases(app.services) == {}                        # due next week, not this one
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=app.config.tz))
    assert await followup_cases(app.services) == {person.id: "brushing"}


async def test_a_drill_survives_a_restart_and_cancel_leaves_it(config, clock, demo_class, app):
    from tests.support import User

    user = await bound(lambda k: User(app, k), demo_class, "dan", "2023004")
    await user.say("/drill romance")
    await user.press_label("没关系")
    await app.close()
    reopened = await App(config, clock=clock).open()
    try:
        user.app = reopened
        await user.say("2")
        assert "【演练】" in user.text and "✅" in user.text        # a safe move at message 2: the drill goes on
        await user.say("真的赚了！多投一点")
        await user.say("先跟家人商量")
        assert "【演练结束】" in user.text and "✅" in user.text
        await user.say("/drill romance")
        await user.say("/cancel")
        await user.say("1")
        assert "【演练】" not in user.text
    finally:
        await reopened.close()


async def test_stale_buttons_are_refused(app, user_factory):
    user = user_factory("eve")
    await user.say("/drill subsidy")
    first = user.replies[-1].flat_buttons()[0].data
    await user.press(first)
    replies = await user.press(first)
    assert replies[0].alert and "已经结束或更早" in replies[0].text


async def test_an_idle_drill_is_nudged_once(app, user_factory, clock):
    user = user_factory("fay")
    await user.say("/drill game_trade")
    assert await nudge_idle_drills(app.services) == 0
    clock.advance(hours=3)
    assert await nudge_idle_drills(app.services) == 1
    clock.advance(hours=3)
    assert await nudge_idle_drills(app.services) == 0
    rows = await app.store.db.fetchall("SELECT payload FROM outbox WHERE campaign = 'drill-nudge'")
    assert len(rows) == 1 and "只发一次" in rows[0][0]
    await user.say("1")                              # answering still works after the nudge
    assert "截图" in user.text


async def test_drill_list_keeps_its_numbers_and_marks_what_is_done(app, user_factory, demo_class):
    user = await bound(user_factory, demo_class, "gus", "2023005")
    await user.say("/drill")
    before = [b.data for b in user.replies[-1].flat_buttons()]
    await user.say("/drill 刷单")                        # a type's name starts its drill
    for label in ("不感兴趣", "见好就收", "刷单就是诈骗", "不再转钱"):     # safe all the way, four messages deep
        await user.press_label(label)
    await user.say("/drill")
    buttons = user.replies[-1].flat_buttons()
    assert [b.data for b in buttons] == before          # the same numbers as before the drill
    done = next(b for b in buttons if b.data == "/drill brushing")
    assert len(buttons) == 10 and "✅" in done.label and "点赞返佣" in done.label
    assert "1/10" in user.text


async def test_monitor_assigns_to_their_class_only_and_office_to_anyone(app, user_factory, demo_class):
    other_id = await app.store.classes.ensure("英语2302", "外国语学院")
    other = await app.store.classes.get(other_id)
    monitor = await bound(user_factory, demo_class, "mon", "M001")
    await bound(user_factory, demo_class, "stu", "2023006")
    await bound(user_factory, other, "far", "2023007")
    mon = await app.store.people.by_number("M001")
    await app.store.people.set_role(mon.id, "monitor")
    await monitor.bind_invited("M001")             # a class code never proves a monitor: an invite does
    await monitor.say("/assign_drill loan 英语2302")
    assert "无法布置" in monitor.text
    await monitor.say("/assign_drill loan")
    assert "新推送 2 人" in monitor.text
    await monitor.say("/assign_drill loan")
    assert "新推送 0 人" in monitor.text and "之前已布置过 2 人" in monitor.text
    keys = {r[0] for r in await app.store.db.fetchall("SELECT dedupe_key FROM outbox WHERE campaign LIKE 'drill-assign:%'")}
    stu = await app.store.people.by_number("2023006")
    assert f"drill:loan:{stu.id}" in keys and len(keys) == 2

    app.config.roles.security.append("S001")
    office = await bound(user_factory, demo_class, "sec", "S001")
    await office.bind_invited("S001")
    await office.say("/assign_drill romance all")
    assert "新推送 4 人" in office.text
    student = user_factory("stu")
    await student.say("/drill")
    assigned = next(b for b in student.replies[-1].flat_buttons() if b.data == "/drill romance")
    assert "（已布置）" in assigned.label
    assert [(d, a, n, f) for d, a, _at, n, f in await app.store.drills.ledger("2026-01-01", "2027-01-01")] == [
        ("loan", "计科2301", 2, 0), ("romance", "all", 4, 0)]
    await student.say("/help")
    refused = await student.say("/assign_drill loan")
    assert refused[0].alert


@pytest.mark.parametrize(("drill_id", "words"), [("impersonation", "我先打电话问问王老师本人"),
                                                 ("loan", "凭什么要交钱？我不交"),
                                                 ("job", "I won't pay any deposit")])
async def test_free_text_that_checks_or_refuses_is_a_safe_move(app, user_factory, demo_class, drill_id, words):
    from handlers.drill import drills_of_library

    if drill_id not in drills_of_library(app.services.library):
        pytest.skip(f"no {drill_id} drill shipped")
    user = await bound(user_factory, demo_class, "ivy", "2023011")
    await user.say(f"/drill {drill_id}")
    await user.say(words)
    not_matched = app.services.translate("drill.not_matched", "zh", count=3)[:6]
    assert not_matched not in user.text
    account = await app.store.accounts.find(user.platform, user.key)
    state = await app.store.conversations.get(account.id)
    if state is not None:                       # still in the drill: the move taken was a safe one
        assert state.data["path"][-1]["safe"] is True
