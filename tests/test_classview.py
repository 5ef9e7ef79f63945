"""/class, /remind and /log for monitors and counsellors: their own classes only, reminders once a day."""

from __future__ import annotations

import pytest

from handlers.classlog import remind_due_logs
from tests.office_support import add_class, add_person, chat, checkin, pledge, quiz, responsible_for
from tests.program_support import local


@pytest.fixture
async def classes(app):
    """A1: monitor M1 + 四 students; A2: two students; a counsellor C1 for A1 and A2; B1 elsewhere."""
    a1, a2, b1 = (await add_class(app, "A1", "A"), await add_class(app, "A2", "A"), await add_class(app, "B1", "B"))
    ids = {"a1": a1, "a2": a2, "b1": b1}
    ids["m1"] = await add_person(app, "M1", a1, "A", role="monitor", name="班长")
    ids["s1"] = await add_person(app, "S1", a1, "A", name="张一")
    ids["s2"] = await add_person(app, "S2", a1, "A", name="张二", lang="en")
    ids["s3"] = await add_person(app, "S3", a1, "A", name="张三")
    ids["s4"] = await add_person(app, "S4", a1, "A", name="张四", bound=False)
    ids["t1"] = await add_person(app, "T1", a2, "A", name="李一")
    ids["t2"] = await add_person(app, "T2", a2, "A", name="李二")
    ids["x1"] = await add_person(app, "X1", b1, "B", name="王外班")
    ids["c1"] = await add_person(app, "C1", a1, "A", role="counsellor", name="辅导员")
    await responsible_for(app, ids["c1"], a2)
    await app.store.db.execute("UPDATE people SET class_id = NULL WHERE id = ?", (ids["c1"],))
    # M1 and S1 have done everything (green); S2 pledged only; S3 checked in today only.
    for key in ("m1", "s1"):
        await pledge(app, ids[key])
        await quiz(app, ids[key], 90, local(2026, 11, 10))
        for d in range(17, 24):
            await checkin(app, ids[key], f"2026-11-{d}")
    await pledge(app, ids["s2"])
    await checkin(app, ids["s3"], "2026-11-23")
    await pledge(app, ids["t1"])
    return ids


async def test_monitor_sees_their_class_and_who_is_missing_what(app, classes):
    monitor = chat(app, "M1")
    await monitor.say("/class")
    body = monitor.text
    assert "📋 A1（A）" in body
    assert "人数 5 · 已绑定 4" in body
    assert "已签当前承诺书 3/5" in body
    assert "今日已打卡 3/5 · 近7天打卡≥5天 2/5" in body
    assert "知识测试已通过 2/5" in body and "达标（绿色）2/5" in body
    assert "未绑定（1）：张四" in body
    assert "未签承诺书（2）：张三、张四" in body
    assert "今日未打卡（2）：张二、张四" in body
    assert "测试未通过（3）：张二、张三、张四" in body
    assert "李一" not in body and "王外班" not in body
    labels = [b.label for b in monitor.replies[0].flat_buttons()]
    assert labels == ["提醒签承诺书", "提醒打卡", "提醒做测试"]


async def test_monitor_cannot_see_another_class(app, classes):
    monitor = chat(app, "M1")
    await monitor.say("/class A2")
    assert "不是你负责的班级" in monitor.text and "李一" not in monitor.text
    await monitor.say("/class B1")
    assert "不是你负责的班级" in monitor.text
    await monitor.press(f"cls:show:{classes['b1']}")
    assert "不是你负责的班级" in monitor.text and "王外班" not in monitor.text
    await monitor.press(f"rmd:pledge:{classes['a2']}")
    assert "不是你负责的班级" in monitor.text
    assert await app.store.db.fetchval("SELECT COUNT(*) FROM outbox") == 0


async def test_counsellor_gets_a_table_and_can_choose_a_class(app, classes):
    counsellor = chat(app, "C1")
    await counsellor.say("/class")
    body = counsellor.text
    assert "你负责的 2 个班级" in body
    assert "A1：5 / 4 / 3 / 3 / 2 / 2 / 0" in body
    assert "A2：2 / 2 / 1 / 0 / 0 / 0 / 0" in body
    assert "合计：7 / 6 / 4 / 3 / 2 / 2 / 0" in body
    assert "B1" not in body
    await counsellor.press_label("A2")
    assert "📋 A2（A）" in counsellor.text and "李二" in counsellor.text and "张一" not in counsellor.text
    await counsellor.press(f"cls:show:{classes['b1']}")
    assert "不是你负责的班级" in counsellor.text


async def test_remind_reaches_only_the_missing_people_once_a_day(app, classes, clock):
    monitor = chat(app, "M1")
    await monitor.say("/remind pledge")
    assert "已提醒 1 人" in monitor.text and "今天已提醒过 0 人" in monitor.text and "1 人未绑定" in monitor.text
    rows = await app.store.db.fetchall("SELECT person_id, dedupe_key, payload FROM outbox")
    assert [(r[0], r[1]) for r in rows] == [(classes["s3"], f"remind:pledge:{classes['s3']}:2026-11-23")]
    assert "/pledge" in rows[0][2]
    await monitor.say("/remind 承诺书")
    assert "已提醒 0 人" in monitor.text and "今天已提醒过 1 人" in monitor.text
    await monitor.say("/remind checkin")
    assert "已提醒 1 人" in monitor.text          # S2 (S4 is not bound)
    await monitor.press("rmd:quiz")
    assert "已提醒 2 人" in monitor.text          # S2 and S3
    quiz_people = await app.store.db.fetchall(
        "SELECT person_id FROM outbox WHERE campaign = 'remind:quiz:2026-11-23' ORDER BY person_id")
    assert [r[0] for r in quiz_people] == [classes["s2"], classes["s3"]]
    english = await app.store.db.fetchval("SELECT payload FROM outbox WHERE person_id = ? AND campaign LIKE"
                                          " 'remind:quiz%'", (classes["s2"],))
    assert "awareness test" in english
    clock.advance(days=1)
    await monitor.say("/remind pledge")
    assert "已提醒 1 人" in monitor.text          # a new day: once more
    assert await app.store.db.fetchval("SELECT COUNT(*) FROM class_reminders") == 5
    await monitor.say("/remind nonsense")
    assert "不认识「nonsense」" in monitor.text


async def test_counsellor_reminds_all_their_classes_or_one(app, classes):
    counsellor = chat(app, "C1")
    await counsellor.say("/remind quiz A2")
    assert "已提醒 2 人" in counsellor.text
    await counsellor.say("/remind quiz")
    assert "已提醒 2 人" in counsellor.text and "今天已提醒过 2 人" in counsellor.text


async def test_log_a_dorm_talk_with_a_photo_and_a_class_meeting(app, classes):
    monitor = chat(app, "M1")
    await monitor.say("/log")
    await monitor.press_label("寝室恳谈会")
    await monitor.say("2026-12-01")
    assert "日期不对" in monitor.text
    await monitor.say("11-20")
    await monitor.say("防范刷单诈骗")
    await monitor.say("99")
    assert "1 到 5" in monitor.text
    await monitor.say("4")
    await monitor.send_file(b"\x89PNG fake photo", "talk.png")
    assert "✅ 已记录" in monitor.text and "2026-11-20" in monitor.text and "附照片" in monitor.text
    row = await app.store.db.fetchone("SELECT * FROM class_logs")
    assert (row["class_id"], row["kind"], row["held_on"], row["topic"], row["attendance"]) == (
        classes["a1"], "dorm_talk", "2026-11-20", "防范刷单诈骗", 4)
    assert (app.config.evidence_path / row["photo_path"]).read_bytes() == b"\x89PNG fake photo"
    await monitor.say("/log")
    await monitor.press_label("主题班会")
    await monitor.press_label("今天")
    await monitor.say("识别冒充客服")
    await monitor.say("5人")
    await monitor.press_label("跳过")
    assert "无照片" in monitor.text
    assert await app.store.db.fetchval("SELECT COUNT(*) FROM class_logs") == 2


async def test_monitors_are_reminded_of_logs_that_are_due(app, classes):
    # A1's monitor for A1; A2 has no monitor, so its counsellor C1 is told instead (C1 is not told about A1).
    assert await remind_due_logs(app, "2026-11-27") == 4          # dorm talk and class meeting, two classes
    assert await remind_due_logs(app, "2026-11-27") == 0          # once a day
    await app.store.office.add_log(classes["a1"], "dorm_talk", "2026-11-24", "话题", 4, None, classes["m1"])
    await app.store.office.add_log(classes["a2"], "dorm_talk", "2026-11-25", "话题", 4, None, classes["c1"])
    await app.store.office.add_log(classes["a2"], "class_meeting", "2026-11-25", "班会", 4, None, classes["c1"])
    assert await remind_due_logs(app, "2026-11-28") == 1          # only A1's class meeting now
    rows = await app.store.db.fetchall("SELECT person_id, campaign, payload FROM outbox ORDER BY id")
    assert {r[0] for r in rows} == {classes["m1"], classes["c1"]}
    assert [r[1] for r in rows if r[0] == classes["m1"]] == [
        "logdue:dorm_talk:2026-11-27", "logdue:class_meeting:2026-11-27", "logdue:class_meeting:2026-11-28"]
    assert all("A2" in r[2] for r in rows if r[0] == classes["c1"])
    await app.store.office.add_log(classes["a1"], "class_meeting", "2026-11-02", "班会", 5, None, classes["m1"])
    assert await remind_due_logs(app, "2026-11-29") == 0


async def test_a_reminder_says_who_sent_it(app, classes):
    await chat(app, "C1").say("/remind quiz A2")
    await chat(app, "M1").say("/remind pledge")
    payloads = {r[0]: r[1] for r in await app.store.db.fetchall("SELECT campaign, payload FROM outbox")}
    assert "辅导员提醒" in payloads["remind:quiz:2026-11-23"] and "班长" not in payloads["remind:quiz:2026-11-23"]
    assert "班长提醒" in payloads["remind:pledge:2026-11-23"]


async def test_log_takes_yesterday_and_the_day_before_in_words(app, classes):
    monitor = chat(app, "M1")
    for word, day in (("昨天", "2026-11-22"), ("前天", "2026-11-21"), ("yesterday", "2026-11-22")):
        await monitor.say("/log")
        await monitor.press_label("寝室恳谈会")
        await monitor.say(word)
        assert "日期不对" not in monitor.text
        await monitor.say("防范刷单诈骗")
        await monitor.say("3")
        await monitor.say("跳过")
        assert "✅ 已记录" in monitor.text and day in monitor.text
