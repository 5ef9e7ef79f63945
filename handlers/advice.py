"""Advice on anything suspicious: /ask, free-text descriptions, /learn and the emergency card."""

from __future__ import annotations

import re
from dataclasses import replace

from bot.context import Context
from bot.conversation import Conversation
from bot.events import Button, Incoming, Kind, Outgoing, text
from bot.library.matcher import OTHER, Verdict, detect_intent
from handlers.basics import answer_media
from handlers.common import bullet_list, button_arg, find_type, numbered_list
from handlers.report_lookup import reported_mentions

CONVERSATION = "advice"
BUTTON_PREFIX = "adv:"
MAX_KEPT = 8000           # a description held for /report: the form keeps stories this long whole
CONFIDENT = 25.0          # naming a type to a frightened person (the emergency card) needs this much
CHOICES_FROM = 10.0       # below the matcher's bar but this likely: offer the top three; less: ask one question
STILL_CONFIDENT = 15.0    # after the clarifying answer, a lower bar before falling back to general advice
CLARIFY_KEYS = ("money", "code", "download", "none")
_CJK = re.compile(r"[\u3400-\u9fff]")
_INTENT_COMMANDS = {"report": "report", "quiz": "quiz", "pledge": "pledge", "checkin": "checkin",
                    "learn": "learn", "help": "help", "bind": "start", "greet": "help"}


def matcher_of(ctx: Context):
    """The matcher built at start, or None while it is unavailable."""
    return ctx.services.extras.get("matcher")


def _reply_language(ctx: Context, body: str) -> None:
    """Answer in the language of the description when the person never chose one."""
    if ctx.account.language is None and body:
        ctx.lang = "zh" if _CJK.search(body) else ("en" if re.search(r"[A-Za-z]{3,}", body) else ctx.lang)


async def answer_free_text(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """Free text outside a conversation: a feature request goes there, anything else gets advice."""
    if msg.is_group:
        return []           # group chatter (the security group, class groups) is not addressed to the bot
    intent = detect_intent(msg.payload)
    if intent == "greet" and ctx.person is None:
        intent = "bind"      # a first "你好" from someone not yet bound: lead them to binding
    if intent is not None:
        return await _run_command(_INTENT_COMMANDS[intent], msg, ctx)
    return await advise(msg.payload, ctx) + await reported_mentions(msg.payload, ctx)


async def ask_command(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """/ask [description]: advice on the description, or a prompt to describe it."""
    if not msg.payload.strip():
        ctx.begin(CONVERSATION, "describe")
        return [text(ctx.t("advice.ask_prompt"))]
    return await advise(msg.payload, ctx)


async def continue_advice(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """A typed answer inside the advice conversation: the description, or the clarifying detail."""
    assert ctx.state is not None
    if ctx.state.step == "answered" and msg.media is not None:
        return await answer_media(msg, ctx)
    if msg.media is not None or not msg.payload.strip():
        return [text(ctx.t("advice.ask_prompt"))]
    intent = detect_intent(msg.payload)
    if intent is not None:
        ctx.end()
        return await _run_command(_INTENT_COMMANDS[intent], msg, ctx)
    if ctx.state.step == "clarify":
        first = ctx.state.data.get("text", "")
        ctx.end()
        return await _after_clarify(f"{first} {msg.payload}", ctx)
    ctx.end()
    return await advise(msg.payload, ctx)


async def press_advice_button(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """The clarifying answer ("adv:clar:money") or "this doesn't fit" ("adv:nofit")."""
    arg = button_arg(msg.payload, BUTTON_PREFIX)
    if arg == "nofit":
        ctx.begin(CONVERSATION, "describe")
        return [text(ctx.t("advice.nofit"), *_type_rows(ctx))]
    if arg.startswith("clar:") and arg[5:] in CLARIFY_KEYS:
        first = ctx.state.data.get("text", "") if ctx.in_conversation(CONVERSATION) else ""
        ctx.end()
        if not first:
            return [text(ctx.t("error.stale_button"))]
        if arg == "clar:none":        # nothing new learned: the first judgement stands, too unsure to name
            return _general_advice(ctx)
        return await _after_clarify(f"{first} {ctx.t('advice.clarify_hint_' + arg[5:])}", ctx)
    return [text(ctx.t("error.stale_button"))]


async def learn_command(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """/learn [type]: a type's advice card, or the list of types to choose from."""
    asked = msg.payload.strip()
    if not asked:
        return [text(ctx.t("advice.learn_list"), *_type_rows(ctx))]
    type_id = find_type(ctx.library, asked)
    if type_id is None:
        return [text(ctx.t("advice.learn_unknown", type=asked[:40]), *_type_rows(ctx))]
    return [advice_card(ctx, type_id, None)]


async def advise(body: str, ctx: Context) -> list[Outgoing]:
    """Classify a description and answer with the emergency card, the type's card or one question."""
    body = body.strip()
    _reply_language(ctx, body)
    matcher = matcher_of(ctx)
    if matcher is None:
        return [text(ctx.t("advice.no_matcher"), *_type_rows(ctx))]
    if not matcher.has_signal(body):
        return [text(ctx.t("advice.nonsense"))]
    verdict = matcher.judge(body)
    type_id, confidence = verdict.top
    if matcher.is_urgent(body):
        _keep_for_report(ctx, body)
        return _emergency(ctx, _named(type_id, confidence, CONFIDENT))
    if verdict.benign is not None and verdict.sure:
        return [_benign_answer(ctx, verdict.benign)]
    if type_id != OTHER and verdict.sure:
        _keep_for_report(ctx, body)
        return [advice_card(ctx, type_id, confidence)]
    if verdict.benign is not None or any(t != OTHER and s >= CHOICES_FROM for t, s in verdict.top3):
        _keep_for_report(ctx, body)
        return _choices(ctx, verdict)
    ctx.begin(CONVERSATION, "clarify", text=body[:MAX_KEPT])
    return [text(ctx.t("advice.clarify"), *_clarify_rows(ctx))]


async def _after_clarify(combined: str, ctx: Context) -> list[Outgoing]:
    """Judge again with the extra detail; still unsure means general advice and the report option."""
    matcher = matcher_of(ctx)
    if matcher is None:
        return [text(ctx.t("advice.no_matcher"), *_type_rows(ctx))]
    if matcher.is_urgent(combined):
        type_id, confidence = matcher.top(combined)
        return _emergency(ctx, _named(type_id, confidence, STILL_CONFIDENT))
    type_id, confidence = matcher.top(combined)
    _keep_for_report(ctx, combined)
    if confidence >= STILL_CONFIDENT:
        return [advice_card(ctx, type_id, confidence)]
    return _general_advice(ctx)


def _benign_answer(ctx: Context, kind: str) -> Outgoing:
    """An ordinary message: say so, say how to check it officially, and keep the way to report open."""
    advice = ctx.library.benign()[kind].advice.get(ctx.lang)
    rows = [[Button(ctx.t("advice.button_report"), "/report"),
             Button(ctx.t("advice.button_nofit"), f"{BUTTON_PREFIX}nofit")]]
    return text(ctx.t("advice.benign", advice=advice), *rows)


def _choices(ctx: Context, verdict: Verdict) -> list[Outgoing]:
    """Unsure: the three likeliest types as choices, with the advice that holds for any scam."""
    names = [t for t, _ in verdict.top3 if t != OTHER]
    rows = [[Button(ctx.library.type(t).name.get(ctx.lang), f"/learn {t}")] for t in names]
    body = ctx.t("advice.unsure")
    if verdict.benign is not None:
        body += "\n\n" + ctx.t("advice.maybe_benign", advice=ctx.library.benign()[verdict.benign].advice.get(ctx.lang))
    body += "\n\n" + ctx.t("advice.general_rules")
    rows.append([Button(ctx.t("advice.button_report"), "/report")])
    return [text(body, *rows)]


def _named(type_id: str, confidence: float, bar: float) -> str | None:
    """The type to name to a frightened person: only a real type we are sure enough of, never a guess."""
    return type_id if type_id != OTHER and confidence >= bar else None


def _keep_for_report(ctx: Context, description: str) -> None:
    """Hold the description in the conversation, so a /report right after starts from the person's words."""
    ctx.begin(CONVERSATION, "answered", text=description[:MAX_KEPT])


def _general_advice(ctx: Context) -> list[Outgoing]:
    """Advice that holds for any scam, the report option first, then the types to read about."""
    return [text(ctx.t("advice.general"), [Button(ctx.t("advice.button_report"), "/report")],
                 *_type_rows(ctx))]


def _emergency(ctx: Context, type_id: str | None) -> list[Outgoing]:
    """The emergency card first, with the report offered first; then the type's card if we know it."""
    report = f"/report {type_id}" if type_id else "/report"
    rows = [[Button(ctx.t("advice.button_report_now"), report)]]
    if type_id:
        name = ctx.library.type(type_id).name.get(ctx.lang)
        rows.append([Button(ctx.t("advice.button_learn"), f"/learn {type_id}")])
        body = ctx.t("advice.emergency") + "\n\n" + ctx.t("advice.emergency_type", name=name)
    else:
        body = ctx.t("advice.emergency")
    return [text(body, *rows, urgent=True)]


def advice_card(ctx: Context, type_id: str, confidence: float | None) -> Outgoing:
    """A type's card in the user's language: summary, red flags, what to do, and the three buttons."""
    fraud = ctx.library.type(type_id)
    lang = ctx.lang
    name = fraud.name.get(lang)
    if confidence is None:
        title = ctx.t("advice.learn_title", name=name)
    else:
        title = ctx.t("advice.card_title", name=name, confidence=round(confidence))
    body = "\n".join([
        title,
        "",
        fraud.summary.get(lang),
        "",
        ctx.t("advice.red_flags"),
        bullet_list(fraud.red_flags.get(lang)),
        "",
        ctx.t("advice.what_to_do"),
        numbered_list(fraud.what_to_do.get(lang)),
        "",
        ctx.t("advice.card_footer"),
    ])
    rows = [[Button(ctx.t("advice.button_report"), f"/report {fraud.id}"),
             Button(ctx.t("advice.button_quiz"), f"/quiz {fraud.id}")]]
    if confidence is not None:      # only a guess can be wrong; a type the person picked in /learn cannot
        rows.append([Button(ctx.t("advice.button_nofit"), f"{BUTTON_PREFIX}nofit")])
    return text(body, *rows)


def _type_rows(ctx: Context) -> list[list[Button]]:
    """Every fraud type as a /learn button, two per row."""
    buttons = [Button(t.name.get(ctx.lang), f"/learn {t.id}") for t in ctx.library.types.values()]
    return [buttons[i:i + 2] for i in range(0, len(buttons), 2)]


def _clarify_rows(ctx: Context) -> list[list[Button]]:
    """The clarifying question's four answers, one per row."""
    return [[Button(ctx.t(f"advice.clarify_{key}"), f"{BUTTON_PREFIX}clar:{key}")] for key in CLARIFY_KEYS]


async def _run_command(name: str, msg: Incoming, ctx: Context) -> list[Outgoing]:
    """Run the feature a free text asked for, as if its command had been sent."""
    command = ctx.routes.command(name)
    if command is None:
        return [text(ctx.t("advice.feature_missing"))]
    if ctx.role not in command.roles:
        key = "error.bind_first" if ctx.person is None else "error.not_allowed"
        refusal = text(ctx.t(key))
        refusal.alert = True
        return [refusal]
    return await command.handler(replace(msg, kind=Kind.COMMAND, command=name, payload=""), ctx)


async def show_advice_step(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """The advice question still open: the prompt to describe, or the clarifying question (nothing once answered)."""
    if ctx.state.step == "describe":
        return [text(ctx.t("advice.ask_prompt"))]
    if ctx.state.step == "clarify":
        return [text(ctx.t("advice.clarify"), *_clarify_rows(ctx))]
    return []


FLOW = Conversation(CONVERSATION, {"describe": continue_advice, "clarify": continue_advice,
                                   "answered": continue_advice}, show_advice_step,
                    buttons=(BUTTON_PREFIX,), commands=("ask",), resumable=False)
