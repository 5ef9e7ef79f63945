"""The drills' scheduled job: remind, once, the people who went quiet mid-drill."""

from __future__ import annotations

from bot.scheduler import JobSpec
from handlers.drill_followup import nudge_idle_drills

NUDGE_CRON = "*/15 * * * *"     # every quarter hour; each drill run is reminded at most once


async def run_idle_nudges(app) -> int:
    """The job: nudge idle drills through the outbox."""
    return await nudge_idle_drills(app.services)


JOBS = (JobSpec("drill.nudge_idle", NUDGE_CRON, run_idle_nudges),)
