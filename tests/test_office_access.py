"""/warn to an audience with delivery figures, and the role matrix: who may use which office command."""

from __future__ import annotations

import pytest

from tests.office_support import add_class, add_person, chat, report
from tests.program_support import local
from tests.support import RecordingChannel

MONITOR_COMMANDS = ("/class", "/remind pledge", "/log")
OFFICE_COMMANDS = ("/stats", "/warn", "/export", "/reports", "/casefile R-2026-000001")


@pytest.fixture
async def people(app):
    """A student, a monitor and a counsellor of A1, a monitor of B1, a security officer; four freshmen in B."""
    a1, b1 = await add_class(app, "A1", "A"), await add_class(app, "B1", "外国语学院")
    await add_person(app, "STU", a1, "A", name="学生")
    await add_person(app, "MON", a1, "A", role="monitor")
    await add_person(app, "MONB", b1, "外国语学院", role="monitor")
    await add_person(app, "CNS", a1, "A", role="counsellor")
    await add_person(app, "SEC", None, "", role="security")
    for n in range(4):
        await add_person(app, f"F{n}", b1, "外国语学院", tags="freshman", bound=n < 3, lang="en" if n == 0 else "zh")
    await report(app, "R-2026-000001", local(2026, 11, 20), "brushing", 3000, college="A", class_id=a1)
    return {"a1": a1, "b1": b1}


async def test_students_cannot_use_monitor_or_office_commands(app, people):
    student = chat(app, "STU")
    for command in MONITOR_COMMANDS + OFFICE_COMMANDS:
        await student.say(command)
        assert student.replies[0].alert and "身份不能使用" in student.text, command
    await student.press(f"cls:show:{people['a1']}")
    assert student.replies[0].alert


async def test_monitors_and_counsellors_cannot_use_office_commands_or_see_report_details(app, people):
    for number in ("MON", "CNS"):
        user = chat(app, number)
        for command in OFFICE_COMMANDS:
            await user.say(command)
            assert user.replies[0].alert, (number, command)
            assert "3000" not in user.text and "3,000" not in user.text
        await user.say("受理 R-2026-000001")
        assert user.replies[0].alert
    other = chat(app, "MONB")
    await other.say("/class A1")
    assert "不是你负责的班级" in other.text and "学生" not in other.text


async def test_only_security_sees_report_details_and_every_view_is_audited(app, people):
    sec = chat(app, "SEC")
    await sec.say("/casefile R-2026-000001")
    assert "R-2026-000001" in sec.text
    views = await app.store.audit.recent(10, "report.view")
    assert [v["target"] for v in views] == ["R-2026-000001"]
    await sec.say("/class A1")
    assert "📋 A1" in sec.text
    await sec.say("/stats")
    assert "📊" in sec.text


async def test_warn_a_tag_shows_the_count_asks_then_reports_delivery(app, people):
    sec = chat(app, "SEC")
    await sec.say("/warn")
    await sec.say("short")
    assert "10-1000" in sec.text
    await sec.say("brushing-1")
    await sec.press_label("新生")
    assert "共 4 人，其中可送达 3 人（1 人未绑定或无法送达）" in sec.text
    assert await app.store.db.fetchval("SELECT COUNT(*) FROM outbox") == 0          # nothing before confirming
    await sec.press_label("确认发布")
    assert "3 条进入发送队列，1 人无法送达" in sec.text
    test_channel = RecordingChannel("test")
    test_channel_sender = app.add_channel(test_channel)
    test_channel.fail_with = None
    while await test_channel_sender.drain_once():
        pass
    assert {a for a, _ in test_channel.sent} == {"F0", "F1", "F2"}
    english = test_channel.to("F0")[0]
    assert "security office" in english.text and english.buttons          # the case, in English, answerable
    await sec.press_label("刷新进度")
    assert "已发送 3，排队中 0，无法送达 1，失败 0" in sec.text and "发送完毕" in sec.text
    assert len(await app.store.audit.recent(5, "warn.publish")) == 1


async def test_warn_typed_text_to_a_class_and_cancel(app, people):
    sec = chat(app, "SEC")
    await sec.say("/warn 近期有人冒充辅导员收取资料费，请勿转账，务必电话核实。")
    await sec.say("火星班")
    assert "没有名为「火星班」" in sec.text
    await sec.say("A1")
    assert "共 3 人" in sec.text                       # the student, the monitor, the counsellor (home class A1)
    await sec.press_label("取消")
    assert "已取消" in sec.text and await app.store.db.fetchval("SELECT COUNT(*) FROM outbox") == 0
    await sec.say("/warn 近期有人冒充辅导员收取资料费，请勿转账，务必电话核实。")
    await sec.say("外国语学院")
    await sec.press_label("确认发布")
    payloads = [r[0] for r in await app.store.db.fetchall("SELECT payload FROM outbox ORDER BY person_id")]
    assert len(payloads) == 4 and all("冒充辅导员" in p for p in payloads)      # MONB and F0-F2 in college B
    assert "security office" in payloads[1] and "保卫处" in payloads[0]        # F0 reads English
