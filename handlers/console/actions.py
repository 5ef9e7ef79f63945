"""A case's actions from the console: the chat's own acknowledge / assign / resolve / reply."""

from __future__ import annotations

from bot.context import Context
from handlers import report_office

ACTIONS = ("ack", "assign", "resolve", "reply")


async def run_case_action(ctx: Context, case_no: str, action: str, form) -> str | None:
    """Do what the chat command does (the security channel's card is re-sent); its answer, or None for no case."""
    report = await report_office.find_case(ctx, case_no)
    if report is None or report["status"] == "draft" or action not in ACTIONS:
        return None
    note = form.get("note", "").strip()[:report_office.MAX_NOTE]
    if action == "ack":
        replies = await report_office.acknowledge(ctx, report)
    elif action == "assign":
        person = form.get("person", "").strip()
        if not person.isdigit():
            return ctx.t("console.pick_officer")
        replies = await report_office.assign_to_key(ctx, report, "#" + person)
    elif action == "resolve":
        replies = await report_office.resolve(ctx, report, note)
    elif not note:
        return ctx.t("report.reply_usage", case_no=report["case_no"])
    else:
        replies = await report_office.reply_to_reporter(ctx, report, note)
    return "\n".join(reply.text for reply in replies if reply.text)
