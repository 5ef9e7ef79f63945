"""The office's scheduled jobs: monitors' due-log reminders and the Monday picture for the security channel."""

from __future__ import annotations

from bot.scheduler import JobSpec
from handlers.classlog import remind_due_logs
from handlers.weekly_report import send_weekly_report

JOBS = (
    JobSpec("office.log_reminders", lambda config: config.schedule.monitor_reminders, remind_due_logs),
    JobSpec("office.weekly_report", lambda config: config.schedule.weekly_report, send_weekly_report),
)
