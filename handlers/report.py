"""The /report form as a persisted conversation, and /myreports.

Money or a code already gone is asked first: then the emergency card shows at once and the case is
escalated before the rest of the form, its card updated as details arrive. Every step can be skipped and
answered by buttons or free text; files sent at any step are kept as evidence.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from bot.choices import is_no, is_skip, is_yes, word_of
from bot.clock import iso
from bot.context import Context
from bot.conversation import Conversation
from bot.events import Button, Incoming, Outgoing, text
from bot.roles import GUEST
from handlers import report_escalation as esc
from handlers.amounts import parse_amount
from handlers.identifiers import extract_identifiers
from handlers.times import parse_when

CONVERSATION = "report"
STEPS = ("money", "phone", "what", "type", "when", "contact", "ids", "amount", "payment", "evidence", "preview")
WHEN = ("now", "today", "yesterday", "this_week", "earlier")
CONTACTS = ("phone", "sms", "wechat", "qq", "telegram", "website", "app", "in_person", "other")
PAYMENTS = ("bank_transfer", "alipay", "wechat_pay", "card", "gift_card", "crypto", "cash", "other")
MAX_DESCRIPTION = 8000            # a whole story fits; anything longer is cut and the reporter told
MAX_SHORT = 100
MAX_EVIDENCE_FILES = 20
TYPE_SUGGESTIONS = 3
TYPE_CONFIDENT = 25.0            # the matcher names a type on the form (and the office's card) only this sure
TYPE_SUGGEST = 12.0              # below this a guess is not even offered: the full list is shown instead
_MONEY_YES = {"已经", "已经转了", "转了", "给了", "已经给了", "yes it has", "i did", "i have"}
_ANONYMOUS = ("匿名", "anonym", "不留名")
_SUBMIT = ("提交", "确认", "发送", "发出", "submit", "send", "confirm")
_CANCEL = ("取消", "不报了", "算了", "cancel")
_DONE = {"完成", "好了", "就这些", "没了", "没有了", "done", "finished", "thats all", "that is all", "no more"}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
RESUME_DAYS = 7                  # an unfinished form this recent is offered to go on with


# --- entry points ------------------------------------------------------------------------
async def start_report(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """Open the form (optionally with a fraud type pre-selected: /report brushing)."""
    if ctx.role == GUEST:
        if ctx.in_conversation(CONVERSATION):
            return [text(ctx.t("report.resumed")), *await current_question(ctx)]
        return [emergency_card(ctx), *await open_guest_form(ctx)]
    if await over_limit(ctx):
        return [text(ctx.t("report.limit_reached", n=ctx.config.reports.max_per_day))]
    preset = msg.payload.strip().lower()
    preset = preset if preset in ctx.library.types else ""
    # Straight after advice, the person's own description starts the report: they need not type it twice.
    told = ctx.state.data.get("text") if ctx.in_conversation("advice") and ctx.state else None
    if ctx.in_conversation(CONVERSATION):
        return [text(ctx.t("report.resumed")), *await current_question(ctx)]   # already filling one in
    if not told:
        since = iso(ctx.clock.now() - timedelta(days=RESUME_DAYS))
        unfinished = await ctx.store.reports.unfinished_form(ctx.person.id, since)
        if unfinished is not None:
            return [_resume_offer(ctx, unfinished, preset)]
    return await open_form(ctx, preset, told)


async def over_limit(ctx: Context) -> bool:
    """Whether the person (an unbound chat: the account) has filed reports.max_per_day cases today; every way
    of submitting counts."""
    return await ctx.store.reports.filed_today(quota_holder(ctx), ctx.config.tz) >= ctx.config.reports.max_per_day


def quota_holder(ctx: Context) -> int:
    """Whom the daily limit counts: the person, or for an unbound chat its account (negative, apart from people)."""
    return ctx.person.id if ctx.person is not None else -ctx.account.id


def _resume_offer(ctx: Context, report, preset: str) -> Outgoing:
    """Ask whether to go on with the form left halfway or start a new report."""
    started = esc.local_time(ctx.services, report["created_at"])
    return text(ctx.t("report.resume_offer", started=started, case_no=report["case_no"] or "-"),
                [Button(ctx.t("report.btn_resume"), f"rep:resume:{report['id']}"),
                 Button(ctx.t("report.btn_fresh"), f"rep:fresh:{preset}")])


async def current_question(ctx: Context) -> list[Outgoing]:
    """The question of the step the form stands at."""
    step = ctx.state.step
    if step == "preview":
        return [await preview(ctx)]
    return [await ask_type(ctx)] if step == "type" else [ask(ctx, step)]


async def resume_report(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """Go on with an unfinished form where it stood: what was answered is kept, the rest is asked."""
    report_id = int(msg.payload.rsplit(":", 1)[1]) if msg.payload.rsplit(":", 1)[1].isdigit() else 0
    report = await ctx.store.reports.get(report_id)
    if report is None or report["reporter_person_id"] != ctx.person.id or report["form_complete"]:
        return [text(ctx.t("report.expired"))]
    money = None if report["money_left"] is None else ("no" if report["money_left"] == 0 else "money")
    answered = [step for step, column in (("when", "happened_at"), ("contact", "contact_method"),
                                          ("amount", "amount_yuan"), ("payment", "payment_method"))
                if report[column] is not None]
    if await ctx.store.reports.identifiers(report_id):
        answered.append("ids")
    ctx.begin(CONVERSATION, "money", report_id=report_id, typed=report["fraud_type"] != "other",
              code_only=False, described=report["description"] is not None, case_no=report["case_no"],
              answered=answered)
    if money is None:
        return [ask(ctx, "money")]
    ctx.update(money=money)
    return await advance(ctx, "money", [text(ctx.t("report.resumed"))])


async def start_fresh_report(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """Leave the unfinished form as it is and open a new one (within the daily limit)."""
    if await over_limit(ctx):
        return [text(ctx.t("report.limit_reached", n=ctx.config.reports.max_per_day))]
    preset = msg.payload.rsplit(":", 1)[1]
    return await open_form(ctx, preset if preset in ctx.library.types else "", None)


async def open_form(ctx: Context, preset: str, told: str | None) -> list[Outgoing]:
    """Create the draft and ask the first question (with the advice description kept, if any)."""
    report_id = await ctx.store.reports.create_draft(
        ctx.person.id, ctx.account.id, ctx.person.college or None, ctx.person.class_id, ctx.lang,
        fraud_type=preset or "other")
    ctx.begin(CONVERSATION, "money", report_id=report_id, typed=bool(preset), code_only=False)
    replies = [text(ctx.t("report.intro"))]
    if told:
        await store_description(told, ctx)
        replies.append(text(ctx.t("report.kept_description", description=told[:200])))
    return [*replies, ask(ctx, "money")]


async def open_guest_form(ctx: Context) -> list[Outgoing]:
    """Someone not bound yet: the urgent path only (money or a code gone), with a phone to be called back on."""
    report_id = await ctx.store.reports.create_draft(None, ctx.account.id, None, None, ctx.lang)
    await ctx.store.reports.update(report_id, unverified=1)
    ctx.begin(CONVERSATION, "money", report_id=report_id, typed=False, code_only=False, guest=True)
    return [text(ctx.t("report.guest_intro")), ask(ctx, "money")]


async def continue_report(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """Take free text or a file for the current step."""
    assert ctx.state is not None
    step = ctx.state.step
    if msg.media is not None:
        return await take_evidence(msg, ctx)
    answer = msg.payload.strip()
    handler = _TEXT_STEPS.get(step)
    if handler is None:
        ctx.end()
        return [text(ctx.t("error.stale_button"))]
    if is_skip(answer) and step != "preview":
        return await advance(ctx, step)
    return await handler(answer, ctx)


async def press_form_button(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """A button of the form: rep:money:<x>, rep:type:<id>, rep:when:<x>, rep:skip, rep:done, rep:submit..."""
    if not ctx.in_conversation(CONVERSATION):
        return [text(ctx.t("report.expired"))]
    parts = msg.payload.split(":", 2)
    action, value = parts[1], parts[2] if len(parts) > 2 else ""
    step = ctx.state.step
    if action == "skip":
        return await advance(ctx, step)
    if action == "cancel":
        return await cancel_form(ctx)
    if action == "money" and step == "money":
        return await answer_money(value, ctx)
    if action == "types" and step == "type":
        return [ask_all_types(ctx)]
    if action == "type" and step == "type":
        return await set_type(value, ctx)
    if action == "when" and step == "when" and value in WHEN:
        return await set_field(ctx, "when", happened_at=when_value(ctx, value))
    if action == "contact" and step == "contact" and value in CONTACTS:
        return await set_field(ctx, "contact", contact_method=value)
    if action == "pay" and step == "payment" and value in PAYMENTS:
        return await set_field(ctx, "payment", payment_method=value)
    if action == "amount_sum" and step == "amount" and ctx.state.data.get("amount_pending"):
        return await save_amount(ctx, ctx.state.data["amount_pending"])
    if action == "done" and step in ("ids", "evidence"):
        return await advance(ctx, step)
    if action in ("submit", "submit_anon") and step == "preview":
        return await submit(ctx, anonymous=action == "submit_anon")
    if action == "done" and step == "preview":    # 完成 tapped twice, or handled again: show the step it is on
        return await current_question(ctx)
    return [text(ctx.t("report.expired")), *await current_question(ctx)]


# --- asking --------------------------------------------------------------------------------
def skip_button(ctx: Context) -> Button:
    """The 'skip this question' button every step has."""
    return Button(ctx.t("report.btn_skip"), "rep:skip")


def ask(ctx: Context, step: str) -> Outgoing:
    """The question of a step, with its buttons."""
    t = ctx.t
    if step == "money":
        return text(t("report.ask_money"), [Button(t("report.money_yes"), "rep:money:money"),
                                            Button(t("report.money_code"), "rep:money:code")],
                    [Button(t("report.money_no"), "rep:money:no"), skip_button(ctx)])
    if step == "what":
        return text(t("report.ask_what"), [skip_button(ctx)])
    if step == "phone":
        return text(t("report.ask_phone"), [skip_button(ctx)])
    if step == "when":
        return text(t("report.ask_when"), [Button(t(f"report.when.{w}"), f"rep:when:{w}") for w in WHEN[:3]],
                    [*[Button(t(f"report.when.{w}"), f"rep:when:{w}") for w in WHEN[3:]], skip_button(ctx)])
    if step == "contact":
        buttons = [Button(t(f"report.contact.{c}"), f"rep:contact:{c}") for c in CONTACTS]
        return text(t("report.ask_contact"), buttons[:5], [*buttons[5:], skip_button(ctx)])
    if step == "ids":
        return text(t("report.ask_ids"), [Button(t("report.btn_done"), "rep:done"), skip_button(ctx)])
    if step == "amount":
        return text(t("report.ask_amount"), [skip_button(ctx)])
    if step == "payment":
        buttons = [Button(t(f"report.pay.{p}"), f"rep:pay:{p}") for p in PAYMENTS]
        return text(t("report.ask_payment"), buttons[:4], [*buttons[4:], skip_button(ctx)])
    if step == "evidence":
        return text(t("report.ask_evidence", mb=ctx.config.reports.evidence_max_mb),
                    [Button(t("report.btn_done"), "rep:done"), skip_button(ctx)])
    raise ValueError(f"no question for step {step!r}")


def ask_all_types(ctx: Context) -> Outgoing:
    """Every fraud type as a choice (when the matcher is missing or its guesses were wrong)."""
    buttons = [Button(ft.name.get(ctx.lang), f"rep:type:{tid}") for tid, ft in ctx.library.types.items()]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    return Outgoing(text=ctx.t("report.ask_type_all"), buttons=[*rows, [skip_button(ctx)]])


def emergency_card(ctx: Context) -> Outgoing:
    """What to do right now when money or a code has gone: shown before anything else."""
    return Outgoing(text=ctx.t("report.emergency"), urgent=True)


# --- moving through the steps ----------------------------------------------------------------
def next_step(ctx: Context, step: str) -> str:
    """The step after this one, skipping what does not apply."""
    data = ctx.state.data
    index = STEPS.index(step) + 1
    while index < len(STEPS):
        candidate = STEPS[index]
        if candidate == "phone" and not (data.get("guest") and data.get("money") in ("money", "code")):
            index += 1
            continue
        if candidate == "what" and data.get("described"):
            index += 1
            continue
        if candidate == "type" and data.get("typed"):
            index += 1
            continue
        if candidate in ("amount", "payment") and data.get("money") == "no":
            index += 1
            continue
        if candidate in data.get("answered", ()):     # a resumed form: kept answers are not asked again
            index += 1
            continue
        return candidate
    return "preview"


async def advance(ctx: Context, step: str, before: list[Outgoing] | None = None) -> list[Outgoing]:
    """Move past a step: update an escalated card, then ask the next question (or show the preview)."""
    replies = list(before or [])
    following = next_step(ctx, step)
    ctx.goto(following)
    if following == "preview":
        replies.append(await preview(ctx))
    elif following == "type":
        replies.append(await ask_type(ctx))
    else:
        replies.append(ask(ctx, following))
    return replies


async def set_field(ctx: Context, step: str, **fields) -> list[Outgoing]:
    """Store an answer and move on; an escalated case's card is updated when the type changes.

    Time, contact and payment method reach the office with the completed form: fewer re-posted cards on
    platforms that cannot edit a message.
    """
    report_id = ctx.state.data["report_id"]
    await ctx.store.reports.update(report_id, **fields)
    if "fraud_type" in fields:
        await update_card(ctx)
    return await advance(ctx, step)


async def update_card(ctx: Context) -> None:
    """Re-send the card of a case that is already with the office (urgent path)."""
    report = await ctx.store.reports.get(ctx.state.data["report_id"])
    if report["status"] != "draft":
        await esc.send_card(ctx.services, report["id"],
                            ctx.services.translate("report.card_updated", esc.office_lang(ctx.services)))


# --- the steps ---------------------------------------------------------------------------------
async def answer_money(value: str, ctx: Context) -> list[Outgoing]:
    """Money or a code already gone: urgent path now. Nothing gone yet: the normal form."""
    report_id = ctx.state.data["report_id"]
    if value == "no" and ctx.state.data.get("guest"):
        ctx.end()               # nothing gone: an ordinary report, which needs a bound account
        return [text(ctx.t("report.guest"))]
    if value == "no":
        ctx.update(money="no")
        await ctx.store.reports.update(report_id, money_left=0)
        return await advance(ctx, "money")
    if value not in ("money", "code"):
        return [ask(ctx, "money")]
    ctx.update(money=value)
    report = await ctx.store.reports.get(report_id)
    if report["case_no"] is None and await over_limit(ctx):
        if ctx.person is None:
            # An unbound chat has no person to merge its cases under: past the limit it gets the numbers to call.
            ctx.end()
            return [emergency_card(ctx), text(ctx.t("report.limit_reached", n=ctx.config.reports.max_per_day))]
        merged = await _merge_urgent(ctx, report_id)
        if merged is not None:
            return merged
    await ctx.store.reports.update(report_id, money_left=1, urgent=1)
    case_no = await ctx.store.reports.file(report_id, ctx.config.tz, complete=False,
                                           guest_holder=quota_holder(ctx))
    await esc.escalate(ctx.services, report_id)
    ctx.update(case_no=case_no)
    return await advance(ctx, "money", [emergency_card(ctx), text(ctx.t("report.escalated_now", case_no=case_no))])


async def _merge_urgent(ctx: Context, draft_id: int) -> list[Outgoing] | None:
    """Past the daily limit, an urgent report joins the reporter's urgent case of the last hour (one card
    per reporter per hour); with none that recent it is filed as usual, so it still reaches the office."""
    since = iso(ctx.clock.now() - timedelta(hours=1))
    case = await ctx.store.reports.recent_urgent_case(ctx.person.id, since)
    if case is None:
        return None
    draft = await ctx.store.reports.get(draft_id)
    if draft["description"] and not case["description"]:
        await ctx.store.reports.update(case["id"], description=draft["description"])
    await ctx.store.reports.drop_draft(draft_id)
    await ctx.store.reports.add_event(case["id"], "merged", note="urgent report past the daily limit")
    await esc.send_card(ctx.services, case["id"],
                        ctx.services.translate("report.card_merged", esc.office_lang(ctx.services)))
    ctx.begin(CONVERSATION, "money", report_id=case["id"], typed=case["fraud_type"] != "other",
              code_only=False, described=case["description"] is not None, case_no=case["case_no"], money="money")
    return await advance(ctx, "money", [emergency_card(ctx),
                                        text(ctx.t("report.escalated_now", case_no=case["case_no"]))])


async def text_money(answer: str, ctx: Context) -> list[Outgoing]:
    """'yes'/'no' in words; a story instead is kept as the description and checked for urgency."""
    if is_yes(answer) or word_of(answer) in _MONEY_YES:
        return await answer_money("money", ctx)
    if is_no(answer):
        return await answer_money("no", ctx)
    if len(answer) < 6:
        return [text(ctx.t("report.money_unclear")), ask(ctx, "money")]
    matcher = ctx.services.extras.get("matcher")
    await store_description(answer, ctx)
    if matcher is not None and matcher.is_urgent(answer):
        return await answer_money("money", ctx)
    return [text(ctx.t("report.money_unclear")), ask(ctx, "money")]


async def store_description(answer: str, ctx: Context) -> None:
    """Keep the reporter's own words and guess the fraud type from them."""
    report_id = ctx.state.data["report_id"]
    description = answer[:MAX_DESCRIPTION]
    if len(answer) > MAX_DESCRIPTION:
        ctx.update(description_cut=len(answer))
    fields = {"description": description}
    ctx.update(described=True)
    matcher = ctx.services.extras.get("matcher")
    if matcher is not None and not ctx.state.data.get("typed"):
        ranked = [(tid, score) for tid, score in matcher.classify(description)
                  if tid in ctx.library.types and tid != "other"]
        ctx.update(suggestions=[tid for tid, score in ranked[:TYPE_SUGGESTIONS] if score >= TYPE_SUGGEST])
        if ranked and ranked[0][1] >= TYPE_CONFIDENT:
            fields["fraud_type"] = ranked[0][0]
    await ctx.store.reports.update(report_id, **fields)


async def text_phone(answer: str, ctx: Context) -> list[Outgoing]:
    """The phone number an unbound reporter can be called back on (shown to the office as unverified)."""
    phones = [i.normalized for i in extract_identifiers(answer) if i.kind == "phone"]
    if not phones:
        return [text(ctx.t("report.phone_unclear")), ask(ctx, "phone")]
    await ctx.store.reports.update(ctx.state.data["report_id"], callback_phone=phones[0])
    await update_card(ctx)
    return await advance(ctx, "phone", [text(ctx.t("report.phone_saved", phone=phones[0]))])


async def text_what(answer: str, ctx: Context) -> list[Outgoing]:
    """The story in the reporter's words (a story past the limit is kept up to it, and the reporter told)."""
    await store_description(answer, ctx)
    cut = ctx.state.data.pop("description_cut", None)
    notice = [text(ctx.t("report.description_cut", kept=MAX_DESCRIPTION, total=cut))] if cut else []
    return await advance(ctx, "what", notice)


async def ask_type(ctx: Context) -> Outgoing:
    """Show the matcher's guess to confirm or correct; the full list when there is no guess."""
    suggestions = ctx.state.data.get("suggestions") or []
    if not suggestions:
        return ask_all_types(ctx)
    names = [ctx.library.type(tid).name.get(ctx.lang) for tid in suggestions]
    buttons = [Button(ctx.t("report.type_confirm", type=names[0]), f"rep:type:{suggestions[0]}")]
    buttons += [Button(name, f"rep:type:{tid}") for tid, name in zip(suggestions[1:], names[1:], strict=True)]
    return Outgoing(text=ctx.t("report.ask_type", type=names[0]),
                    buttons=[buttons[:1], buttons[1:], [Button(ctx.t("report.btn_other_types"), "rep:types"),
                                                        skip_button(ctx)]])


async def set_type(type_id: str, ctx: Context) -> list[Outgoing]:
    """The reporter chose or confirmed the type."""
    if type_id not in ctx.library.types:
        return [await ask_type(ctx)]
    ctx.update(typed=True)
    return await set_field(ctx, "type", fraud_type=type_id)


async def text_type(answer: str, ctx: Context) -> list[Outgoing]:
    """Text that matched none of the type buttons: yes confirms the guess, no shows every type."""
    suggestions = ctx.state.data.get("suggestions") or []
    if is_yes(answer) and suggestions:
        return await set_type(suggestions[0], ctx)
    if is_no(answer):
        return [ask_all_types(ctx)]
    return [text(ctx.t("report.type_unclear")), await ask_type(ctx)]


def when_value(ctx: Context, key: str) -> str:
    """A button's 'when' as a local date (and time for 'just now')."""
    now = ctx.clock.now().astimezone(ctx.config.tz)
    if key == "now":
        return now.strftime("%Y-%m-%d %H:%M")
    if key == "today":
        return now.strftime("%Y-%m-%d")
    if key == "yesterday":
        return (now - timedelta(days=1)).strftime("%Y-%m-%d")
    if key == "this_week":
        return f"{(now - timedelta(days=7)).strftime('%Y-%m-%d')}~{now.strftime('%Y-%m-%d')}"
    return f"<{(now - timedelta(days=7)).strftime('%Y-%m-%d')}"


async def text_when(answer: str, ctx: Context) -> list[Outgoing]:
    """When, in the reporter's words, kept beside the moment they name (if they name one)."""
    found = parse_when(answer, ctx.clock.now().astimezone(ctx.config.tz))
    if found is None:
        return await set_field(ctx, "when", happened_at=answer[:MAX_SHORT], happened_ts=None, happened_precision=None)
    replies = await set_field(ctx, "when", happened_at=answer[:MAX_SHORT], happened_ts=iso(found.at),
                              happened_precision=found.precision)
    return [text(ctx.t("report.when_read", when=when_label(found))), *replies]


def when_label(found) -> str:
    """'2026-11-22 20:00', or just the day when the words gave no hour."""
    return found.at.strftime("%Y-%m-%d" if found.precision == "day" else "%Y-%m-%d %H:%M")


async def text_contact(answer: str, ctx: Context) -> list[Outgoing]:
    """A contact method not among the buttons, in the reporter's words."""
    return await set_field(ctx, "contact", contact_method=answer[:MAX_SHORT])


async def text_payment(answer: str, ctx: Context) -> list[Outgoing]:
    """A payment method not among the buttons, in the reporter's words."""
    return await set_field(ctx, "payment", payment_method=answer[:MAX_SHORT])


async def text_ids(answer: str, ctx: Context) -> list[Outgoing]:
    """One or more identifiers of the other side, each normalised and echoed back."""
    if word_of(answer) in _DONE or is_no(answer):
        return await advance(ctx, "ids")
    items = extract_identifiers(answer)
    if not items:
        return [text(ctx.t("report.ids_none"), [Button(ctx.t("report.btn_done"), "rep:done"), skip_button(ctx)])]
    report_id = ctx.state.data["report_id"]
    await ctx.store.reports.add_identifiers(report_id, items)
    await update_card(ctx)
    report = await ctx.store.reports.get(report_id)
    if report["status"] != "draft":
        await esc.check_campaigns(ctx.services, report_id)
    listed = "\n".join(f"• {i.normalized} ({ctx.t('report.kind.' + i.kind)})" for i in items)
    return [text(ctx.t("report.ids_saved", ids=listed),
                 [Button(ctx.t("report.btn_done"), "rep:done"), skip_button(ctx)])]


async def text_amount(answer: str, ctx: Context) -> list[Outgoing]:
    """The amount lost; several are added up and shown to confirm; anything unclear gets a question back."""
    result = parse_amount(answer, ctx.config.currency.table())
    if not result.ok:
        return [text(ctx.t(f"report.amount_{result.problem}", text=answer[:40]), [skip_button(ctx)])]
    pending = {"yuan": result.yuan, "currency": result.currency,
               "original": str(result.original) if result.original is not None else None}
    if result.several:
        ctx.update(amount_pending=pending)
        unit = "" if result.currency == "CNY" else f" {result.currency}"
        return [text(ctx.t("report.amount_sum", parts=" + ".join(f"{p:,}" for p in result.parts) + unit,
                           total=f"{sum(result.parts):,}" + unit, yuan=f"{result.yuan:,}"),
                     [Button(ctx.t("report.btn_amount_sum", yuan=f"{result.yuan:,}"), "rep:amount_sum"),
                      skip_button(ctx)])]
    return await save_amount(ctx, pending)


async def save_amount(ctx: Context, amount: dict) -> list[Outgoing]:
    """Keep the loss (yuan, and the currency it was typed in) and move on."""
    report_id = ctx.state.data["report_id"]
    yuan = amount["yuan"]
    flagged = yuan >= ctx.config.reports.review_threshold_yuan
    foreign = amount["currency"] != "CNY"
    await ctx.store.reports.update(report_id, amount_yuan=yuan, flagged_review=int(flagged),
                                   amount_currency=amount["currency"] if foreign else None,
                                   amount_original=amount["original"] if foreign else None)
    if flagged:
        await ctx.store.reports.add_event(report_id, "flagged_review", note=f"{yuan}")
    await update_card(ctx)
    said = (ctx.t("report.amount_ok_foreign", amount=f"{yuan:,}", original=amount["original"],
                  currency=amount["currency"]) if foreign else ctx.t("report.amount_ok", amount=f"{yuan:,}"))
    return await advance(ctx, "amount", [text(said)])


async def take_evidence(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """Keep a photo or file with the report (any step), within the size and count limits."""
    media = msg.media
    report_id = ctx.state.data["report_id"]
    limit_mb = ctx.config.reports.evidence_max_mb
    step = ctx.state.step
    again = [] if step == "preview" else await current_question(ctx)
    if len(media.data) > limit_mb * 1024 * 1024:
        size_mb = f"{len(media.data) / 1024 / 1024:.1f}"
        return [text(ctx.t("report.evidence_too_big", size=size_mb, mb=limit_mb)), *again]
    if await ctx.store.reports.evidence_count(report_id) >= MAX_EVIDENCE_FILES:
        return [text(ctx.t("report.evidence_too_many", n=MAX_EVIDENCE_FILES)), *again]
    digest = hashlib.sha256(media.data).hexdigest()
    name = _SAFE_NAME.sub("_", media.filename or "file")[-60:] or "file"
    relative = f"{report_id}/{digest[:16]}-{name}"
    target = ctx.config.evidence_path / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        target.write_bytes(media.data)
    added = await ctx.store.reports.add_evidence(report_id, media.kind, media.filename or name, relative,
                                                 len(media.data), digest)
    count = await ctx.store.reports.evidence_count(report_id)
    if added and count == 1:   # the first file is news for the office; the count follows with the form
        await update_card(ctx)
    key = "report.evidence_saved" if added else "report.evidence_duplicate"
    if step == "evidence":
        return [text(ctx.t(key, n=count), [Button(ctx.t("report.btn_done"), "rep:done"), skip_button(ctx)])]
    if step == "preview":
        return [text(ctx.t(key, n=count)), await preview(ctx)]
    return [text(ctx.t(key, n=count)), *again]


async def text_evidence(answer: str, ctx: Context) -> list[Outgoing]:
    """Text while files are expected: 'done' moves on; anything else is kept as a note on the evidence."""
    if word_of(answer) in _DONE or is_no(answer):
        return await advance(ctx, "evidence")
    report_id = ctx.state.data["report_id"]
    await ctx.store.reports.add_event(report_id, "evidence_note", note=answer[:MAX_DESCRIPTION])
    return [text(ctx.t("report.evidence_note_kept"),
                 [Button(ctx.t("report.btn_done"), "rep:done"), skip_button(ctx)])]


# --- preview and submit ---------------------------------------------------------------------------
async def preview(ctx: Context) -> Outgoing:
    """Everything the form holds, with submit (and, with no loss, submit anonymously)."""
    report = await ctx.store.reports.get(ctx.state.data["report_id"])
    identifiers = await ctx.store.reports.identifiers(report["id"])
    t = ctx.t
    amount = report["amount_yuan"]
    money = ctx.state.data.get("money")
    lines = [
        t("report.preview_title"),
        t("report.preview_money", answer=t(f"report.money_answer.{money or 'skipped'}")),
        t("report.preview_type", type=ctx.library.type(report["fraud_type"]).name.get(ctx.lang)),
        t("report.preview_what", what=(report["description"] or "-")[:300]),
        t("report.preview_when", when=report["happened_at"] or "-"),
        t("report.preview_contact", contact=esc.choice_label(ctx.services, "contact", report["contact_method"],
                                                             ctx.lang)),
        t("report.preview_ids", ids=", ".join(i.normalized for i in identifiers) or "-"),
        t("report.preview_amount", amount="-" if amount is None else f"{amount:,}"),
        t("report.preview_payment", payment=esc.choice_label(ctx.services, "pay", report["payment_method"],
                                                             ctx.lang)),
        t("report.preview_evidence", n=await ctx.store.reports.evidence_count(report["id"])),
    ]
    if report["case_no"]:
        lines.append(t("report.preview_already", case_no=report["case_no"]))
    buttons = [Button(t("report.btn_submit"), "rep:submit")]
    if anonymous_allowed(report, money):
        buttons.append(Button(t("report.btn_submit_anon"), "rep:submit_anon"))
        lines.append(t("report.preview_anon_hint"))
    return Outgoing(text="\n".join(lines), buttons=[buttons, [Button(t("report.btn_cancel"), "rep:cancel")]])


def anonymous_allowed(report, money: str | None) -> bool:
    """Only a suspicious contact without a loss may be reported anonymously."""
    return money == "no" and not report["urgent"] and not report["amount_yuan"] and report["case_no"] is None


async def text_preview(answer: str, ctx: Context) -> list[Outgoing]:
    """Text at the preview, read by meaning: anonymous submit, submit (or yes), cancel; else how to answer."""
    words = word_of(answer)
    if any(w in words for w in _CANCEL):
        return await cancel_form(ctx)
    if any(w in words for w in _ANONYMOUS):
        report = await ctx.store.reports.get(ctx.state.data["report_id"])
        if not anonymous_allowed(report, ctx.state.data.get("money")):
            return [text(ctx.t("report.anon_not_allowed")), await preview(ctx)]
        return await submit(ctx, anonymous=True)
    if is_yes(answer) or any(w in words for w in _SUBMIT):
        return await submit(ctx, anonymous=False)
    return [text(ctx.t("report.preview_how")), await preview(ctx)]


async def submit(ctx: Context, anonymous: bool) -> list[Outgoing]:
    """File the case (number, quota, timeline), escalate it, raise flags, and thank the reporter."""
    report_id = ctx.state.data["report_id"]
    report = await ctx.store.reports.get(report_id)
    anonymous = anonymous and anonymous_allowed(report, ctx.state.data.get("money"))
    if report["case_no"] is None and ctx.person is not None:
        limit = ctx.config.reports.max_per_day
        if await ctx.store.reports.filed_today(ctx.person.id, ctx.config.tz) >= limit:
            ctx.end()
            return [text(ctx.t("report.limit_reached", n=limit))]
    was_escalated = report["escalated_at"] is not None
    case_no = await ctx.store.reports.file(report_id, ctx.config.tz, complete=True, anonymous=anonymous,
                                           guest_holder=quota_holder(ctx))
    if was_escalated:
        await esc.send_card(ctx.services, report_id,
                            ctx.services.translate("report.card_completed", esc.office_lang(ctx.services)))
        await esc.raise_flags(ctx.services, report_id)
    else:
        await esc.escalate(ctx.services, report_id)
    ctx.end()
    if anonymous:
        return [text(ctx.t("report.submitted_anon", case_no=case_no))]
    if ctx.person is None:
        return [text(ctx.t("report.submitted_guest", case_no=case_no)), text(ctx.t("report.care_now"))]
    report = await ctx.store.reports.get(report_id)
    lost = report["money_left"] == 1 or (report["amount_yuan"] or 0) > 0
    replies = [text(ctx.t("report.submitted", case_no=case_no),
                    [Button(ctx.t("report.btn_myreports"), "/myreports")])]
    if lost:
        replies.append(text(ctx.t("report.care_now")))
    return replies


async def cancel_form(ctx: Context) -> list[Outgoing]:
    """Leave the form; a case already with the office stays open."""
    case_no = ctx.state.data.get("case_no")
    ctx.end()
    if case_no:
        return [text(ctx.t("report.cancel_escalated", case_no=case_no))]
    return [text(ctx.t("report.cancelled"))]


_TEXT_STEPS = {
    "money": text_money,
    "phone": text_phone,
    "what": text_what,
    "type": text_type,
    "when": text_when,
    "contact": text_contact,
    "ids": text_ids,
    "amount": text_amount,
    "payment": text_payment,
    "evidence": text_evidence,
    "preview": text_preview,
}


# --- /myreports ---------------------------------------------------------------------------------
async def list_my_reports(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """The reporter's cases with their status and anything the office wrote back."""
    rows = await ctx.store.reports.for_person(ctx.person.id)
    if not rows:
        return [text(ctx.t("report.mine_none"), [Button(ctx.t("report.btn_report"), "/report")])]
    lines = [ctx.t("report.mine_title")]
    for row in rows[:20]:
        lines.append(ctx.t("report.mine_line", case_no=row["case_no"],
                           type=ctx.library.type(row["fraud_type"]).name.get(ctx.lang),
                           status=ctx.t("report.status." + row["status"]),
                           date=esc.local_time(ctx.services, row["created_at"])[:10]))
        if row["office_message"]:
            lines.append(ctx.t("report.mine_message", message=row["office_message"]))
    return [text("\n".join(lines))]


async def show_form_step(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """The form's current question again (after a side question)."""
    return await current_question(ctx)


FLOW = Conversation(CONVERSATION, dict.fromkeys(STEPS, continue_report), show_form_step,
                    buttons=("rep:money:", "rep:skip", "rep:cancel", "rep:types", "rep:type:", "rep:when:",
                             "rep:contact:", "rep:pay:", "rep:done", "rep:submit", "rep:resume:", "rep:fresh:"),
                    commands=("report",))
