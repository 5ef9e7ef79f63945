"""Scheduled pushes through the outbox: audience, dedupe, quiet hours, crash recovery, campaigns."""

from __future__ import annotations

import asyncio

from bot.app import App
from bot.events import text
from bot.outbox import Outbox
from handlers import program_jobs
from storage.outbox import LEASE_S
from tests.program_support import bound_users, drain, local
from tests.support import RecordingChannel


async def test_daily_checkin_reaches_everyone_once_but_not_who_stopped(app, user_factory, demo_class, clock):
    alice, bob = await bound_users(user_factory, demo_class, "alice", "bob")
    await bob.say("/stop")
    assert "/resume" in bob.text
    channel = RecordingChannel("test")
    clock.set(local(2026, 11, 23, 21, 0))
    summary = await program_jobs.push_daily_checkin(app)
    assert summary.queued == 1
    sent = await drain(app, channel)
    assert [address for address, _ in sent] == ["alice"]
    push = sent[0][1]
    assert "自查" in push.text and len(push.flat_buttons()) == 2
    # The same job again (a restart, a catch-up): nobody gets it twice.
    again = await program_jobs.push_daily_checkin(app)
    assert again.queued == 0 and again.duplicates == 1
    assert await drain(app, channel) == []
    # Alice answers the pushed question by its button.
    await alice.press(push.flat_buttons()[1].data)
    assert "2/3" in alice.text
    await bob.say("/resume")
    await program_jobs.push_daily_checkin(app)
    assert [a for a, _ in await drain(app, channel)] == ["bob"]


async def test_quiet_hours_hold_pushes_until_morning_but_not_emergencies(app, user_factory, demo_class, clock):
    await bound_users(user_factory, demo_class, "alice")
    channel = RecordingChannel("test")
    clock.set(local(2026, 11, 23, 23, 0))
    await program_jobs.push_daily_checkin(app)
    assert await drain(app, channel) == []
    person = await app.store.people.by_number("2023001")
    urgent = text("紧急提醒", urgent=True)
    assert await app.outbox.push_to_person(person.id, "alert:1", urgent)
    sent = await drain(app, channel)
    assert [m.text for _, m in sent] == ["紧急提醒"]
    clock.set(local(2026, 11, 24, 8, 1))
    sent = await drain(app, channel)
    assert len(sent) == 1 and "自查" in sent[0][1].text


async def test_pushes_in_flight_at_a_crash_go_out_after_restart(config, clock, user_factory, demo_class, app):
    await bound_users(user_factory, demo_class, "alice", "bob")
    await program_jobs.push_daily_checkin(app, "2026-11-23")
    claimed = await app.store.outbox.claim("test", 10)      # the sender took them ... and the process died
    assert len(claimed) == 2
    assert (await app.store.outbox.counts())["inflight"] == 2
    await app.close()
    clock.advance(seconds=LEASE_S + 1)   # on PostgreSQL another sender may be alive: rows come back after their lease
    restarted = await App(config, clock=clock).open()
    try:
        channel = RecordingChannel("test")
        sent = await drain(restarted, channel)
        assert sorted(a for a, _ in sent) == ["alice", "bob"]
        assert await drain(restarted, channel) == []
        await program_jobs.push_daily_checkin(restarted, "2026-11-23")
        assert await drain(restarted, channel) == []
    finally:
        await restarted.close()
    app.db = None   # already closed above


async def test_weekly_warning_never_repeats_a_story(app, user_factory, demo_class, clock):
    (alice,) = await bound_users(user_factory, demo_class, "alice")
    channel = RecordingChannel("test")
    seen = []
    for week in range(8):
        day = f"2026-12-{week + 1:02d}"
        await program_jobs.push_weekly_warning(app, day)
        sent = await drain(app, channel)
        assert len(sent) == 1
        seen.append(sent[0][1].flat_buttons()[0].data.rsplit(":", 1)[0])
    assert len(set(seen)) == 8
    # The "what would you do" buttons lead to the explanation and store the answer.
    case_id = seen[-1].removeprefix("warn:")
    case = app.services.library.case_by_id(case_id)
    await alice.press(f"warn:{case_id}:{case.answer}")
    assert "✅" in alice.text and "🚩" in alice.text
    person = await app.store.people.by_number("2023001")
    row = await app.store.db.fetchone(
        "SELECT chosen, correct FROM warnings_sent WHERE person_id = ? AND case_id = ?", (person.id, case_id))
    assert tuple(row) == (case.answer, 1)


async def test_campaigns_target_tags_and_windows(app, user_factory, demo_class, clock):
    grad, _fresh = await bound_users(user_factory, demo_class, "grad", "fresh")
    await app.store.db.execute("UPDATE people SET tags = 'graduate' WHERE person_no = '2023001'")
    await app.store.db.execute("UPDATE people SET tags = 'freshman' WHERE person_no = '2023002'")
    channel = RecordingChannel("test")
    # 23 November: internship season, for graduates only.
    results = await program_jobs.push_campaigns(app, "2026-11-23")
    assert list(results) == ["campaign:internship-season:2026-10-08"]
    sent = await drain(app, channel)
    assert [a for a, _ in sent] == ["grad"]
    assert sent[0][1].flat_buttons()[0].data.startswith("/quiz ")
    await program_jobs.push_campaigns(app, "2026-11-24")          # same window: not again
    assert await drain(app, channel) == []
    # 2 September: freshman week (a case) and the letter to families (every student).
    await program_jobs.push_campaigns(app, "2027-09-02")
    sent = await drain(app, channel)
    by_address = {}
    for address, message in sent:
        by_address.setdefault(address, []).append(message.text)
    assert any("尊敬的家长" in t for t in by_address["grad"])
    assert any("尊敬的家长" in t for t in by_address["fresh"])
    assert any("新生入学季" in t for t in by_address["fresh"])
    await grad.say("/letter")
    assert "尊敬的家长" in grad.text
    await grad.press_label("English")
    assert "Dear parents" in grad.text


async def test_a_big_push_does_not_hold_up_replies(app, user_factory, demo_class, monkeypatch):
    (alice,) = await bound_users(user_factory, demo_class, "alice")
    person = await app.store.people.by_number("2023001")
    monkeypatch.setattr("bot.outbox.ENQUEUE_CHUNK", 50)
    order = []

    async def push():
        message = text("广播")
        await app.outbox.push_many("broadcast", [(person.id, message)] * 400,
                                   dedupe_keys=None)
        order.append("push")

    async def chat():
        await asyncio.sleep(0)
        await alice.say("/help")
        order.append("reply")

    await asyncio.gather(push(), chat())
    assert order == ["reply", "push"]
    assert isinstance(app.outbox, Outbox)


async def test_contests_close_on_time_and_the_board_goes_to_the_starter(app, user_factory, demo_class, clock):
    monitor, student = await bound_users(user_factory, demo_class, "mon", "stu")
    boss = await app.store.people.by_number("2023001")
    await app.store.people.set_role(boss.id, "monitor")
    await monitor.bind_invited(boss.person_no)
    await monitor.say("/contest")
    clock.advance(minutes=61)
    assert await program_jobs.close_due_contests(app) == [1]
    sent = await drain(app, RecordingChannel("test"))
    assert any(a == "mon" and "排行榜" in m.text for a, m in sent)
    await student.press("ct:join:1")
    assert "结束" in student.text


async def test_dead_rows_are_counted_for_the_security_office(app, user_factory, demo_class, config):
    from bot.channels.base import Delivery
    from bot.outbox import MAX_ATTEMPTS

    officer, _ = await bound_users(user_factory, demo_class, "officer", "alice")
    person = await app.store.people.by_number("2023002")
    await app.outbox.push_to_person(person.id, "warning:x", text("x"))
    channel = RecordingChannel("test")
    channel.fail_with = Delivery(ok=False, error="server on fire")
    sender = app.add_channel(channel)
    for _ in range(MAX_ATTEMPTS):
        await app.store.db.execute("UPDATE outbox SET not_before = '2000-01-01T00:00:00+00:00' WHERE state = 'pending'")
        await sender.drain_once()
        sender.breaker.succeeded()      # others are delivered meanwhile: the fault is this row's own
    assert (await app.store.outbox.counts())["dead"] == 1
    config.roles.security.append("2023001")
    await officer.bind_invited("2023001")
    await officer.say("/pushes")
    assert "失败 1" in officer.text and "server on fire" in officer.text
    await user_factory("alice").say("/pushes")


async def test_the_office_sees_how_many_accounts_blocked_the_bot(app, user_factory, demo_class, config):
    from bot.channels.base import Delivery

    officer, _ = await bound_users(user_factory, demo_class, "officer", "alice")
    person = await app.store.people.by_number("2023002")
    await app.outbox.push_to_person(person.id, "warning:y", text("y"))
    channel = RecordingChannel("test")
    channel.fail_with = Delivery(ok=False, unreachable=True, error="bot was blocked by the user")
    await app.add_channel(channel).drain_once()
    assert (await app.store.outbox.counts())["undeliverable"] == 1
    config.roles.security.append("2023001")
    await officer.bind_invited("2023001")
    await officer.say("/pushes")
    assert "不再推送的账号：1 个" in officer.text
