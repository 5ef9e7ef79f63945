"""What keeps a long-running server in shape: the inbox pruned while running, escalations on their minute."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import iso
from bot.scheduler import Scheduler


async def test_the_inbox_is_pruned_while_running(app, clock):
    await app.store.inbox.record("telegram", "telegram:1", None, "{}", "1")
    await app.store.inbox.set_replied("telegram:1")
    await app.store.inbox.record("telegram", "telegram:2", None, "{}", "2")   # still open: kept
    clock.advance(days=8)
    await app.store.inbox.record("telegram", "telegram:3", None, "{}", "3")
    await app.store.inbox.set_replied("telegram:3")                           # recent: kept
    scheduler = Scheduler(app, app.jobs())
    assert "inbox.prune" in scheduler.jobs
    assert await scheduler.run_job("inbox.prune")
    keys = {r[0] for r in await app.store.db.fetchall("SELECT event_key FROM inbox")}
    assert keys == {"telegram:2", "telegram:3"}


async def test_a_rung_set_by_the_minute_job_falls_due_at_the_next_run(app, clock, demo_class):
    from tests.office_support import report

    await report(app, "R-2026-000001", clock.now(), "brushing", 0, college="A", class_id=demo_class.id)
    report_id = await app.store.db.fetchval("SELECT id FROM reports")
    clock.advance(seconds=0.05)                      # the minute job runs just past the minute
    await app.store.reports.mark_escalated(report_id, clock.now() + timedelta(minutes=1), 1)
    await app.store.db.execute("UPDATE reports SET status = 'received' WHERE id = ?", (report_id,))
    clock.advance(minutes=1, seconds=-0.04)          # the next run, 10 ms past the next minute
    due = await app.store.reports.due_for_reescalation()
    assert [r["id"] for r in due] == [report_id]
    stored = await app.store.db.fetchval("SELECT next_escalation_at FROM reports WHERE id = ?", (report_id,))
    assert stored <= iso(clock.now())
