"""The reports' periodic jobs: escalation every minute; open 倒查 reviews each morning; old drafts nightly."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import iso
from bot.scheduler import JobSpec
from handlers.report_escalation import run_escalations
from handlers.report_review import remind_open_reviews

DRAFT_DAYS = 7     # a form started and never filed is dropped after this, with its files (least data kept)


async def escalate_reports(app) -> int:
    """Run one escalation pass for the app (the scheduler's factory)."""
    return await run_escalations(app.services)


async def drop_abandoned_drafts(app) -> int:
    """Delete report drafts nobody filed within DRAFT_DAYS, and their evidence files; return how many files."""
    before = iso(app.clock.now() - timedelta(days=DRAFT_DAYS))
    await app.store.conversations.drop_stale("report", before)
    paths = await app.store.reports.drop_abandoned_drafts(before)
    for relative in paths:
        path = app.config.evidence_path / relative
        path.unlink(missing_ok=True)
        if path.parent.is_dir() and not any(path.parent.iterdir()):
            path.parent.rmdir()
    return len(paths)


JOBS = (
    JobSpec("reports.escalations", "* * * * *", escalate_reports),
    JobSpec("reports.review_reminders", "0 9 * * *", remind_open_reviews),     # each morning a 倒查 stays open
    JobSpec("reports.drop_drafts", "17 3 * * *", drop_abandoned_drafts),
)
