"""The security office: cards, ack/assign/resolve by button and text, permissions, re-escalation, restart."""

from __future__ import annotations

import io
from datetime import date, timedelta
from itertools import pairwise

import pytest
from openpyxl import load_workbook

from bot.app import App
from bot.events import Incoming, Kind
from handlers.figures import Period
from handlers.ledger import export_ledger
from handlers.report_escalation import run_escalations
from tests.support import User, make_person
from tests.test_report_flow import buttons, cards, drain, security_channel


@pytest.fixture
async def people(app, demo_class):
    """A student, a monitor of the class, and two security officers (one is on duty)."""
    security_channel(app)
    student = await make_person(app, "2023001", class_id=demo_class.id, college=demo_class.college)
    monitor = await make_person(app, "2023100", role="monitor", class_id=demo_class.id, college=demo_class.college)
    await app.store.db.execute("INSERT INTO person_classes (person_id, class_id) VALUES (?, ?)",
                               (monitor.person_id, demo_class.id))
    officer = await make_person(app, "S001", role="security", college="保卫处", name="张警官")
    duty = await make_person(app, "S002", role="security", college="保卫处", name="李警官")
    app.config.reports.duty_officers = ["S002"]
    return {"student": student, "monitor": monitor, "officer": officer, "duty": duty}


async def urgent_case(student: User) -> str:
    """File an urgent case (money gone) and leave the form open."""
    await student.say("/report")
    await student.press("rep:money:money")
    return "R-2026-000001"


async def test_ack_assign_resolve_by_buttons(app, people):
    student, officer, duty = people["student"], people["officer"], people["duty"]
    case_no = await urgent_case(student)
    card = (await cards(app))[0]
    assert f"rep:ack:{case_no}" in [b.data for b in card.flat_buttons()]

    await officer.press(f"rep:ack:{case_no}")
    assert "✅" in officer.text
    await officer.press(f"rep:assign:{case_no}")
    assert f"rep:assign:{case_no}:{duty.person_id}" in buttons(officer)
    await officer.press(f"rep:assign:{case_no}:{duty.person_id}")
    assert "李警官" in officer.text
    await officer.press(f"rep:resolve:{case_no}")
    assert "备注" in officer.text
    await officer.say("已联系银行止付，移交派出所")
    assert "已结案" in officer.text

    report = await app.store.reports.by_case_no(case_no)
    assert report["status"] == "resolved" and report["assigned_to"] == duty.person_id
    assert report["resolution_note"] == "已联系银行止付，移交派出所"
    events = [(e.action, e.actor_person_id) for e in await app.store.reports.events(report["id"])]
    for action in ("acknowledged", "assigned", "resolved"):
        assert (action, officer.person_id) in events
    sent = await cards(app)
    assert all(c.ref == f"card:{case_no}" for c in sent) and len(sent) == 4
    assert "张警官" in sent[1].text and "李警官" in sent[2].text and "已办结" in sent[3].text

    # The reporter heard of each step; the assignee was told directly.
    pushed = [m.text for m in app.channels["test"].to(student.key)]
    assert any("已被保卫处受理" in t for t in pushed)
    assert any("正在处理中" in t for t in pushed)
    assert any("已办结" in t for t in pushed)
    assert any(case_no in m.text for m in app.channels["test"].to(duty.key))
    await student.say("/myreports")
    assert "已办结" in student.text


async def test_ack_assign_resolve_by_text_in_any_chat(app, people):
    student, officer = people["student"], people["officer"]
    case_no = await urgent_case(student)
    await officer.say("/report")                       # even in the middle of their own form
    await officer.say(f"受理 {case_no}")
    assert "✅" in officer.text
    await officer.say(f"assign {case_no.lower()} S002")
    assert "李警官" in officer.text
    await officer.say(f"reply {case_no} 请带上转账记录来保卫处")
    await officer.say(f"结案 {case_no} 已报警")
    report = await app.store.reports.by_case_no(case_no)
    assert report["status"] == "resolved" and report["resolution_note"] == "已报警"
    assert report["office_message"] == "请带上转账记录来保卫处"
    await drain(app)
    assert any("请带上转账记录" in m.text for m in app.channels["test"].to(student.key))
    await student.say("/myreports")
    assert "请带上转账记录" in student.text
    await officer.say(f"ack {case_no}")
    assert "张警官" in officer.text                     # already acknowledged, and by whom
    await officer.say("受理 R-2026-000999")
    assert "没有找到" in officer.text


async def test_console_security_person_sees_cards_and_acts(app, people, demo_class):
    from bot.channels.console import bind_console_as

    person = await app.store.people.by_number("S001")
    key = await bind_console_as(app, person)
    await urgent_case(people["student"])
    replies = await app.handle(Incoming("console", key, key, Kind.TEXT, "受理 R-2026-000001"))
    assert "✅" in replies[0].text


async def test_students_and_monitors_cannot_read_or_act(app, people):
    student, monitor = people["student"], people["monitor"]
    case_no = await urgent_case(student)
    for user in (student, monitor):
        for attempt in (f"受理 {case_no}", f"/casefile {case_no}", "/reports", f"resolve {case_no} x"):
            await user.say(attempt)
            assert user.replies[0].alert and ("不能使用" in user.text or "can't" in user.text), attempt
        await user.press(f"rep:ack:{case_no}")
        assert user.replies[0].alert
    report = await app.store.reports.by_case_no(case_no)
    assert report["status"] == "received" and report["acknowledged_by"] is None


async def test_case_details_are_audited(app, people):
    case_no = await urgent_case(people["student"])
    officer = people["officer"]
    await officer.say(f"/casefile {case_no}")
    assert "2023001" in officer.text and "处理记录" in officer.text
    await officer.say(f"查看 {case_no}")
    await officer.say("/reports")
    assert case_no in officer.text
    views = await app.store.audit.recent(action="report.view")
    assert len(views) == 2 and views[0]["target"] == case_no and views[0]["actor_person_id"] == officer.person_id
    assert await app.store.audit.recent(action="report.list")


async def test_care_notice_tells_the_class_without_details(app, people):
    case_no = await urgent_case(people["student"])
    officer, monitor = people["officer"], people["monitor"]
    await officer.press(f"rep:care:{case_no}")
    assert "1" in officer.text
    await drain(app)
    notices = app.channels["test"].to(monitor.key)
    assert len(notices) == 1 and "需要关心" in notices[0].text
    assert case_no not in notices[0].text and "2023001" not in notices[0].text
    assert await app.store.audit.recent(action="report.care_notice")


async def test_reescalation_ladder_with_the_clock(app, clock, people):
    duty = people["duty"]
    cfg = app.config.reports
    await urgent_case(people["student"])
    assert len(await cards(app)) == 1
    clock.advance(minutes=cfg.urgent_ack_minutes - 1)
    await run_escalations(app.services)
    assert len(await cards(app)) == 1                         # not yet
    clock.advance(minutes=1)
    await run_escalations(app.services)
    sent = await cards(app)
    assert len(sent) == 2 and "⏰" in sent[-1].text and "5" in sent[-1].text
    pages = app.channels["test"].to(duty.key)
    assert len(pages) == 1 and pages[0].urgent and "R-2026-000001" in pages[0].text
    for rung in range(2, cfg.reescalate_limit + 1):
        clock.advance(minutes=cfg.reescalate_minutes - 1)
        await run_escalations(app.services)
        assert len(await cards(app)) == rung                  # not before the interval
        clock.advance(minutes=1)
        await run_escalations(app.services)
        assert len(await cards(app)) == rung + 1
    assert len(app.channels["test"].to(duty.key)) == cfg.reescalate_limit
    # After the limit: every security officer is paged, then again every escalation.repeat_minutes.
    clock.advance(minutes=cfg.reescalate_minutes)
    await run_escalations(app.services)
    await drain(app)
    assert len(app.channels["test"].to(people["officer"].key)) == 1
    clock.advance(minutes=app.config.escalation.repeat_minutes)
    assert await run_escalations(app.services) == 1
    await drain(app)
    assert len(app.channels["test"].to(people["officer"].key)) == 2
    events = [e.action for e in await app.store.reports.events(1)]
    assert events.count("reescalated") == cfg.reescalate_limit and events.count("fallback") == 1
    assert events.count("repaged") == 1


async def test_the_chain_repeats_to_the_minute_until_acknowledged_or_its_hours_run_out(app, clock, people):
    officer, duty = people["officer"], people["duty"]
    app.config.reports.urgent_ack_minutes = app.config.reports.reescalate_minutes = 1
    app.config.reports.reescalate_limit = 2
    app.config.escalation.repeat_minutes = 1
    app.config.escalation.repeat_hours = 1
    clock.advance(seconds=40)                          # the case comes in between two runs of the job
    await urgent_case(people["student"])
    fired = []
    for minute in range(1, 90):
        # The every-minute job fires a few milliseconds after the minute, never the same few, as APScheduler does.
        clock.set(clock.now().replace(second=0, microsecond=0) + timedelta(minutes=1,
                                                                            milliseconds=5 + minute * 37 % 20))
        if await run_escalations(app.services):
            fired.append(minute)
    gaps = {b - a for a, b in pairwise(fired)}
    assert gaps == {1}, fired                          # every minute, as configured, never two
    assert 55 <= len(fired) <= 61                      # and it stops once the case has waited repeat_hours
    await drain(app)
    pages = app.channels["test"].to(officer.key)
    assert len(pages) == len(fired) - 2 and all("受理 R-2026-000001" in p.text for p in pages)
    assert len(app.channels["test"].to(duty.key)) == len(fired)
    events = [e.action for e in await app.store.reports.events(1)]
    assert events.count("chain_ended") == 1


async def test_an_admin_who_cannot_acknowledge_is_informed_not_paged(app, clock, people):
    admin = await make_person(app, "A001", role="admin", college="信息中心")
    app.config.reports.reescalate_limit = 0
    case_no = await urgent_case(people["student"])
    clock.advance(minutes=app.config.reports.urgent_ack_minutes)
    await run_escalations(app.services)
    clock.advance(minutes=app.config.escalation.repeat_minutes)
    await run_escalations(app.services)
    await drain(app)
    told = app.channels["test"].to(admin.key)
    assert len(told) == 1 and case_no in told[0].text
    assert f"受理 {case_no}" not in told[0].text and not told[0].buttons       # nothing asked of someone who cannot do it
    assert len(app.channels["test"].to(people["officer"].key)) == 2
    await admin.say(f"受理 {case_no}")
    assert (await app.store.reports.by_case_no(case_no))["status"] == "received"
    app.config.roles.security = ["A001"]                              # given the right, the admin is paged
    clock.advance(minutes=app.config.escalation.repeat_minutes)
    await run_escalations(app.services)
    await drain(app)
    assert len(app.channels["test"].to(admin.key)) == 2 and f"受理 {case_no}" in app.channels["test"].to(admin.key)[-1].text


async def test_acknowledged_case_is_not_reescalated(app, clock, people):
    case_no = await urgent_case(people["student"])
    await people["officer"].say(f"ack {case_no}")
    clock.advance(minutes=30)
    assert await run_escalations(app.services) == 0


async def test_non_urgent_waits_normal_ack_hours(app, clock, people):
    student = people["student"]
    await student.say("/report")
    await student.press("rep:money:no")
    for _ in range(10):
        if "rep:submit" in buttons(student):
            break
        await student.press("rep:skip")
    await student.press("rep:submit")
    clock.advance(hours=app.config.reports.normal_ack_hours - 1)
    assert await run_escalations(app.services) == 0
    clock.advance(hours=1)
    assert await run_escalations(app.services) == 1


async def test_campaign_warning_goes_to_the_affected_college_once(app, people, demo_class):
    student, officer = people["student"], people["officer"]
    other = await make_person(app, "2023002", class_id=demo_class.id, college=demo_class.college)
    for user in (student, other):
        await user.say("/report")
        await user.press("rep:money:no")
        await user.say("有人冒充老师让我转班费")
        await user.press("rep:skip")
        await user.press("rep:skip")
        await user.press("rep:skip")
        await user.say("13700137000")
        await user.press("rep:done")
        await user.press("rep:done")
        await user.press("rep:submit")
    alert = next(c for c in await cards(app) if c.ref.startswith("campaign:"))
    data = alert.flat_buttons()[0].data
    await officer.press(data)
    assert "排队" in officer.text
    await officer.press(data)
    assert officer.replies[0].alert
    await drain(app)
    assert any("13700137000" in m.text for m in app.channels["test"].to(other.key))
    assert not any("13700137000" in m.text for m in app.channels["test"].to(officer.key))   # another college


async def test_crash_between_submit_and_escalation_still_escalates_after_restart(config, clock, demo_class, app):
    security_channel(app)
    student = await make_person(app, "2023001", class_id=demo_class.id, college=demo_class.college)
    await student.say("/report")
    await student.press("rep:money:no")
    report_id = (await app.store.db.fetchone("SELECT id FROM reports"))["id"]
    # The submit's transaction commits, then the process dies before the card is queued.
    case_no = await app.store.reports.file(report_id, config.tz, complete=True)
    await app.close()

    reopened = await App(config, clock=clock).open()
    try:
        security_channel(reopened)
        sent = await cards(reopened)
        assert len(sent) == 1 and case_no in sent[0].text
        report = await reopened.store.reports.by_case_no(case_no)
        assert report["escalated_at"] is not None
    finally:
        await reopened.close()


async def test_case_details_come_with_the_evidence_files(app, people):
    case_no = await urgent_case(people["student"])
    picture = b"\x89PNG" + b"evidence" * 100
    await people["student"].send_file(picture, "chat.png")
    officer = people["officer"]
    await officer.say(f"/casefile {case_no}")
    attachments = [r for r in officer.replies if r.image is not None]
    assert len(attachments) == 1 and attachments[0].image == picture and attachments[0].filename == "chat.png"


async def test_assigning_to_someone_outside_the_office_offers_the_officers(app, people):
    student, officer, duty = people["student"], people["officer"], people["duty"]
    case_no = await urgent_case(student)
    replies = await officer.say(f"指派 {case_no} 2023001")          # the student's own number
    assert "2023001" in replies[0].text and "例如" not in replies[0].text
    assert f"rep:assign:{case_no}:{duty.person_id}" in buttons(officer)
    assert (await app.store.reports.by_case_no(case_no))["assigned_to"] is None


async def test_an_acknowledged_card_offers_no_second_acknowledge_and_says_no_loss(app, people):
    from handlers.report_escalation import card_message

    student, officer = people["student"], people["officer"]
    await student.say("/report")
    await student.press("rep:money:no")
    report = await app.store.db.fetchone("SELECT * FROM reports ORDER BY id DESC LIMIT 1")
    case_no = await app.store.reports.file(report["id"], app.config.tz, complete=True)
    card = await card_message(app.services, await app.store.reports.by_case_no(case_no), lang="zh")
    assert "无（未转账）" in card.text
    assert card.flat_buttons()[0].data == f"rep:ack:{case_no}"
    await officer.say(f"受理 {case_no}")
    card = await card_message(app.services, await app.store.reports.by_case_no(case_no), lang="zh")
    assert f"rep:ack:{case_no}" not in [b.data for b in card.flat_buttons()]


async def flagged_case(app, student: User) -> str:
    """An urgent case whose loss reached the review threshold."""
    case_no = await urgent_case(student)
    report = await app.store.reports.by_case_no(case_no)
    await app.store.reports.update(report["id"], amount_yuan=8000, flagged_review=1)
    return case_no


async def test_a_flagged_case_cannot_close_without_its_review_by_buttons(app, clock, people):
    officer = people["officer"]
    case_no = await flagged_case(app, people["student"])
    await officer.say(f"ack {case_no}")
    await officer.say(f"结案 {case_no} 已止付")
    assert "须先完成倒查记录" in officer.text and f"rev:start:{case_no}" in buttons(officer)
    assert (await app.store.reports.by_case_no(case_no))["status"] != "resolved"
    await officer.press(f"rev:start:{case_no}")
    assert "约谈是哪天" in officer.text and "rev:today" in buttons(officer)
    await officer.say("明年")
    assert "不是日期" in officer.text and "约谈是哪天" in officer.text
    await officer.press("rev:today")
    assert "发现了哪些问题" in officer.text
    await officer.say("班级未开展本月主题班会，预警推送未送达该生")
    assert "责任认定" in officer.text
    await officer.say("班主任负有宣传不到位责任，已约谈")
    assert "后续帮扶" in officer.text
    await officer.say("已安排心理疏导，协助报警追赃")
    assert "倒查记录已保存" in officer.text and "2026-11-23" in officer.text
    review = await app.store.reports.review((await app.store.reports.by_case_no(case_no))["id"])
    assert review.reviewer_id == officer.person_id and review.interviewed_on == "2026-11-23"
    assert review.responsibility == "班主任负有宣传不到位责任，已约谈"
    await officer.say(f"review {case_no}")
    assert "已有倒查记录" in officer.text
    await officer.say(f"结案 {case_no} 已止付")
    assert "已结案" in officer.text


async def test_a_review_by_typed_commands_with_a_day_in_words_and_a_cancel(app, clock, people):
    officer, student = people["officer"], people["student"]
    case_no = await flagged_case(app, student)
    await officer.say(f"倒查 {case_no}")
    await officer.say("昨天")
    assert "发现了哪些问题" in officer.text
    await officer.press("rev:cancel")
    assert "未保存" in officer.text
    assert await app.store.reports.review((await app.store.reports.by_case_no(case_no))["id"]) is None
    await student.say(f"倒查 {case_no}")                                   # a student cannot
    assert "不能使用这个功能" in student.text and "约谈是哪天" not in student.text
    unflagged = await app.store.reports.by_case_no(case_no)
    await app.store.reports.update(unflagged["id"], flagged_review=0)
    await officer.say(f"倒查 {case_no}")
    assert "无需倒查" in officer.text


async def test_open_reviews_are_reminded_each_morning_until_recorded(app, clock, people):
    from handlers.report_review import remind_open_reviews

    officer, duty = people["officer"], people["duty"]
    case_no = await flagged_case(app, people["student"])
    assert await remind_open_reviews(app) == 2                             # nobody in charge: every officer
    assert await remind_open_reviews(app) == 0                             # once a day
    await officer.say(f"assign {case_no} S002")
    clock.advance(days=1)
    assert await remind_open_reviews(app) == 1                             # now the officer in charge only
    await drain(app)
    reminders = [m for m in app.channels["test"].to(duty.key) if "倒查还没有记录" in m.text]
    assert reminders and "¥8,000" in reminders[-1].text
    await duty.press(f"rev:start:{case_no}")
    for answer in ("今天", "未核实来电身份", "本人疏忽", "心理疏导"):
        await duty.say(answer)
    clock.advance(days=1)
    assert await remind_open_reviews(app) == 0
    book = load_workbook(io.BytesIO((await export_ledger(
        app.store, app.config, app.services.library, app.services.translate,
        Period(date(2026, 11, 1), date(2026, 11, 30))))[0]))
    rows = [list(r) for r in book["倒查记录"].iter_rows(min_row=2, max_row=2, values_only=True)]
    assert rows[0][:2] == [case_no, 8000] and rows[0][4] == "李警官 S002" and rows[0][5] == "2026-11-24"
    assert rows[0][6:9] == ["未核实来电身份", "本人疏忽", "心理疏导"]
