"""The daily report limit over every way of submitting, urgent reports past it merged, and an unlinkable quota."""

from __future__ import annotations

from tests.test_report_flow import cards, make_person, security_channel


async def urgent(user) -> None:
    """Open a report (a new one, past any left halfway) and say money is gone."""
    await user.say("/report")
    if "还没有完成的举报" in user.text:
        await user.press_label("新建举报")
    await user.press("rep:money:money")


async def test_the_redo_button_no_longer_bypasses_the_limit_and_urgent_ones_merge_per_hour(app, demo_class, clock):
    security_channel(app)
    student = await make_person(app, "2023001", class_id=demo_class.id, college=demo_class.college)
    app.config.reports.max_per_day = 2
    for _ in range(2):
        await urgent(student)
        await student.say("/cancel")
    await student.say("/report")
    assert "上限" in student.text
    await student.press("rep:fresh:")                 # the "new report" button of an earlier offer counts too
    assert "上限" in student.text and "110" in student.text
    # Past the limit an emergency still reaches the office, merged into the reporter's urgent case of the hour.
    report_id = await app.store.reports.create_draft(student.person_id, 1, demo_class.college, demo_class.id, "zh")
    await student.press(f"rep:resume:{report_id}")
    await student.press("rep:money:money")
    assert "R-2026-000002" in student.text and student.replies[0].urgent
    filed = await app.store.db.fetchval("SELECT COUNT(*) FROM reports WHERE case_no IS NOT NULL")
    assert filed == 2
    merged = [c for c in await cards(app) if "合并" in (c.text or "")]
    assert len(merged) == 1 and "R-2026-000002" in merged[0].text
    # An hour later, with no urgent case that recent, the next emergency is its own case.
    clock.advance(hours=1, minutes=1)
    report_id = await app.store.reports.create_draft(student.person_id, 1, demo_class.college, demo_class.id, "zh")
    await student.press(f"rep:resume:{report_id}")
    await student.press("rep:money:money")
    assert "R-2026-000003" in student.text


async def test_anonymous_reports_count_without_a_row_naming_the_reporter(app, demo_class, clock):
    security_channel(app)
    student = await make_person(app, "2023001", class_id=demo_class.id, college=demo_class.college)
    app.config.reports.max_per_day = 1
    await student.say("/report")
    await student.press("rep:money:no")
    await student.say("有个陌生人加我QQ说可以刷单返利，我没理他")
    for press in ("rep:skip", "rep:skip", "rep:skip", "rep:done", "rep:done", "rep:submit_anon"):
        await student.press(press)
    assert "匿名" in student.text
    await student.say("/report")
    assert "上限" in student.text                    # the anonymous one counted
    person_id, account_id = student.person_id, (await app.store.accounts.find("test", student.key)).id
    report = await app.store.reports.by_case_no("R-2026-000001")
    for table, columns in {
        "reports": ("reporter_person_id", "reporter_account_id", "class_id"),
        "report_events": ("actor_person_id",),
        "report_quota_keyed": ("holder",),
        "audit_log": ("actor_person_id",),
    }.items():
        for column in columns:
            rows = await app.store.db.fetchall(f"SELECT {column} FROM {table}")
            assert all(str(r[0]) not in (str(person_id), str(account_id)) for r in rows if r[0] is not None), table
    assert report["anonymous"] == 1
    holder = await app.store.db.fetchval("SELECT holder FROM report_quota_keyed")
    assert len(holder) == 64                         # an HMAC under the day's key, not the id
    # The next day a new key is made: yesterday's key and rows are gone for good.
    clock.advance(days=1)
    other = await make_person(app, "2023002", class_id=demo_class.id, college=demo_class.college)
    await other.say("/report")
    await other.press("rep:money:money")
    keys = await app.store.db.fetchall("SELECT key FROM kv WHERE key LIKE 'quota_key:%'")
    assert len(keys) == 1 and keys[0][0].endswith("2026-11-24")
    assert await app.store.db.fetchval("SELECT COUNT(*) FROM report_quota_keyed") == 1
