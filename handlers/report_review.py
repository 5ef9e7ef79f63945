"""The 倒查 review of a case whose loss reached reports.review_threshold_yuan (the seeds' 约谈制度和倒查分析报告).

A flagged case cannot be resolved until its review is recorded: who reviewed it (the officer entering
it), the day of the 约谈 with the people responsible, what was found, the conclusion on responsibility and
the follow-up for the victim. Start it with the card's 倒查 button (rev:start:<case_no>) or by typing
`倒查 R-…` / `review R-…`; the four answers are asked one after another. While a review is open the
officer in charge (else every security officer) is reminded each morning.
"""

from __future__ import annotations

from datetime import date

from bot.context import Context
from bot.conversation import ANY_STEP, Conversation
from bot.events import Button, Incoming, Outgoing, text
from handlers import report_escalation as esc
from handlers.classlog import _parse_day
from handlers.report_buttons import RESOLVE_CASE

CONVERSATION = "review"
PREFIX = "rev:"
STEPS = ("interviewed_on", "findings", "responsibility", "follow_up")
MAX_TEXT = 1000


def review_button(ctx: Context, case_no: str) -> Button:
    """The button that starts a case's review."""
    return Button(ctx.t("review.btn_start"), f"{PREFIX}start:{case_no}")


async def review_refusal(ctx: Context, report) -> str | None:
    """Why this case takes no review (not flagged, or reviewed already), or None when it can be entered."""
    if not report["flagged_review"]:
        return ctx.t("review.not_flagged", case_no=report["case_no"],
                     threshold=f"{ctx.config.reports.review_threshold_yuan:,}")
    existing = await ctx.store.reports.review(report["id"])
    if existing is not None:
        return ctx.t("review.already", case_no=report["case_no"],
                     reviewer=await esc.person_label(ctx.services, existing.reviewer_id),
                     day=existing.interviewed_on)
    return None


def review_day(ctx: Context, answer: str) -> str | None:
    """The 约谈 day as an ISO date ('today', '昨天', '2026-11-20', '11-20'), or None when not a day allowed."""
    return _parse_day(answer, date.fromisoformat(ctx.today()))


async def start_review(ctx: Context, report) -> list[Outgoing]:
    """Begin the review of a flagged case (or say why not)."""
    refusal = await review_refusal(ctx, report)
    if refusal:
        return [text(refusal)]
    ctx.begin(CONVERSATION, STEPS[0], case_no=report["case_no"])
    return [_ask(ctx, STEPS[0], report["case_no"])]


async def press_review(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """rev:start:<case_no> begins; rev:today answers the 约谈 day; rev:cancel leaves."""
    parts = msg.payload.split(":")
    action = parts[1] if len(parts) > 1 else ""
    if action == "start" and len(parts) > 2:
        from handlers.report_office import find_case

        report = await find_case(ctx, parts[2])
        if report is None:
            return [text(ctx.t("report.no_case", case_no=parts[2]))]
        return await start_review(ctx, report)
    if not ctx.in_conversation(CONVERSATION):
        return [text(ctx.t("error.stale_button"))]
    if action == "cancel":
        case_no = ctx.state.data["case_no"]
        ctx.end()
        return [text(ctx.t("review.cancelled", case_no=case_no))]
    if action == "today" and ctx.state.step == "interviewed_on":
        return await _take(ctx, ctx.today())
    return [text(ctx.t("error.stale_button"))]


async def continue_review(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """An answer typed for the current step."""
    if ctx.role != "security":
        ctx.end()
        return [text(ctx.t("error.not_allowed"))]
    answer = msg.payload.strip()
    if msg.media is not None or not answer:
        return [_ask(ctx, ctx.state.step, ctx.state.data["case_no"])]
    if ctx.state.step == "interviewed_on":
        day = review_day(ctx, answer)
        if day is None:
            return [text(ctx.t("review.bad_day", text=answer[:30])), _ask(ctx, "interviewed_on",
                                                                          ctx.state.data["case_no"])]
        return await _take(ctx, day)
    return await _take(ctx, answer[:MAX_TEXT])


async def _take(ctx: Context, value: str) -> list[Outgoing]:
    """Keep one answer; ask the next, or save the review after the last."""
    step = ctx.state.step
    ctx.update(**{step: value})
    case_no = ctx.state.data["case_no"]
    following = STEPS.index(step) + 1
    if following < len(STEPS):
        ctx.goto(STEPS[following])
        return [_ask(ctx, STEPS[following], case_no)]
    data = dict(ctx.state.data)
    ctx.end()
    from handlers.report_office import find_case

    report = await find_case(ctx, case_no)
    if report is None:
        return [text(ctx.t("report.no_case", case_no=case_no))]
    return await save_review(ctx, report, {step: data[step] for step in STEPS})


async def save_review(ctx: Context, report, answers: dict[str, str]) -> list[Outgoing]:
    """Record the review by the officer entering it (chat and console alike): event, audit, card, answer."""
    case_no = report["case_no"]
    reviewer = ctx.person.id if ctx.person else None
    if not await ctx.store.reports.add_review(report["id"], reviewer, *(answers[step][:MAX_TEXT] for step in STEPS)):
        return [text(ctx.t("review.already", case_no=case_no, reviewer="-", day="-"))]
    await ctx.store.reports.add_event(report["id"], "reviewed", reviewer, note=answers["responsibility"][:200])
    await ctx.audit("report.review", case_no)
    lang = esc.office_lang(ctx.services)
    await esc.send_card(ctx.services, report["id"], ctx.services.translate(
        "review.card_done", lang, person=await esc.person_label(ctx.services, reviewer)))
    return [text(ctx.t("review.saved", case_no=case_no, day=answers["interviewed_on"]),
                 [Button(ctx.t("report.btn_resolve"), RESOLVE_CASE.pack(case_no))])]


def _ask(ctx: Context, step: str, case_no: str) -> Outgoing:
    """The question of a step, with its buttons."""
    buttons = [Button(ctx.t("review.btn_today"), f"{PREFIX}today")] if step == "interviewed_on" else []
    buttons.append(Button(ctx.t("review.btn_cancel"), f"{PREFIX}cancel"))
    return text(ctx.t(f"review.ask_{step}", case_no=case_no, n=STEPS.index(step) + 1, total=len(STEPS)), buttons)


async def remind_open_reviews(app) -> int:
    """The morning job: tell the officer in charge (else every security officer) of each review still open."""
    services = app.services
    day = app.clock.now().astimezone(app.config.tz).date().isoformat()
    queued = 0
    for report in await app.store.reports.reviews_open():
        if report["status"] == "resolved":
            continue
        people = [report["assigned_to"]] if report["assigned_to"] else await esc.security_officers(services)
        case_no = report["case_no"]
        for person_id in people:
            def message(account, case_no=case_no, amount=report["amount_yuan"] or 0) -> Outgoing:
                lang = account.language or services.config.general.default_language
                return Outgoing(text=services.translate("review.reminder", lang, case_no=case_no,
                                                        amount=f"{amount:,}"),
                                buttons=[[Button(services.translate("review.btn_start", lang),
                                                 f"{PREFIX}start:{case_no}")]])
            queued += await app.outbox.push_to_person(person_id, "report-review", message,
                                                      dedupe_key=f"review:{case_no}:{person_id}:{day}")
    return queued


async def show_review_step(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """The review question the conversation stands at, again."""
    return [_ask(ctx, ctx.state.step, ctx.state.data["case_no"])]


FLOW = Conversation(CONVERSATION, {ANY_STEP: continue_review}, show_review_step, buttons=(PREFIX,))
