"""A case's actions from the console: the chat's own acknowledge / assign / resolve / reply."""

from __future__ import annotations

from bot.context import Context
from handlers import report_office, report_review

ACTIONS = ("ack", "assign", "resolve", "reply", "review")


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
    elif action == "review":
        return await review_from_form(ctx, report, form)
    elif not note:
        return ctx.t("report.reply_usage", case_no=report["case_no"])
    else:
        replies = await report_office.reply_to_reporter(ctx, report, note)
    return "\n".join(reply.text for reply in replies if reply.text)


async def review_from_form(ctx: Context, report, form) -> str:
    """The review form: the chat's refusals and day rule, then its own save (reviewer = the signed-in officer)."""
    refusal = await report_review.review_refusal(ctx, report)
    if refusal:
        return refusal
    typed = {step: form.get(step, "").strip() for step in report_review.STEPS}
    day = report_review.review_day(ctx, typed["interviewed_on"])
    if day is None:
        return ctx.t("review.bad_day", text=typed["interviewed_on"][:30])
    if not all(typed.values()):
        return ctx.t("console.review_incomplete")
    replies = await report_review.save_review(ctx, report, {**typed, "interviewed_on": day})
    return "\n".join(reply.text for reply in replies if reply.text)
