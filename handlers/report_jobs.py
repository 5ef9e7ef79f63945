"""The reports' periodic job: escalation sweep and re-escalation ladder, every minute."""

from __future__ import annotations

from bot.scheduler import register_job
from handlers.report_escalation import run_escalations


async def escalate_reports(app) -> int:
    """Run one escalation pass for the app (the scheduler's factory)."""
    return await run_escalations(app.services)


register_job("reports.escalations", "* * * * *", escalate_reports)
