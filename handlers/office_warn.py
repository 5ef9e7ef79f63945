"""/warn: the security office publishes a case warning now, to an audience, after seeing how many it reaches.

Steps: content (a library case id, a fraud type, or text typed in the chat) -> audience (everyone, a
tag, a college or a class) -> confirmation with the count -> pushed through the outbox as campaign
officewarn:<id>; "Refresh" shows sent / waiting / unreachable / failed from the outbox rows.
"""

from __future__ import annotations

import uuid

from bot.context import Context
from bot.conversation import Conversation
from bot.events import Button, Incoming, Outgoing, text
from bot.library.model import Case
from handlers.warning import case_message

CONVERSATION = "officewarn"
PREFIX = "owarn:"
AUDIENCE_TAGS = ("all", "freshman", "graduate", "international", "staff")
MIN_TEXT, MAX_TEXT = 10, 1000
PRIORITY = 3                 # ahead of the routine program pushes (5), behind emergencies (0)


async def start_warn(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """/warn [case id | type | text]: start publishing a warning."""
    ctx.begin(CONVERSATION, "content")
    if msg.payload.strip():
        return await _take_content(ctx, msg.payload.strip())
    return [text(ctx.t("warn.ask_content"))]


def _find_case(ctx: Context, body: str) -> Case | None:
    key = body.strip().lower()
    case = ctx.library.case_by_id(key)
    if case is None and key in ctx.library.types:
        cases = ctx.library.types[key].cases
        case = cases[0] if cases else None
    return case


def _what(ctx: Context) -> str:
    data = ctx.state.data
    if data.get("case_id"):
        case = ctx.library.case_by_id(data["case_id"])
        return f"《{case.text(ctx.lang).title}》" if case else data["case_id"]
    body = data["body"]
    return f"「{body[:60]}{'…' if len(body) > 60 else ''}」"


async def _take_content(ctx: Context, body: str) -> list[Outgoing]:
    case = _find_case(ctx, body)
    if case is not None:
        ctx.goto("audience", case_id=case.id, body=None)
    elif MIN_TEXT <= len(body) <= MAX_TEXT:
        ctx.goto("audience", case_id=None, body=body)
    else:
        return [text(ctx.t("warn.bad_content"))]
    return [_ask_audience(ctx)]


def _ask_audience(ctx: Context) -> Outgoing:
    buttons = [Button(ctx.t(f"warn.aud_{tag}"), f"{PREFIX}aud:{tag}") for tag in AUDIENCE_TAGS]
    return text(ctx.t("warn.ask_audience", what=_what(ctx)), buttons[:3], buttons[3:])


async def continue_warn(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """Typed content or audience."""
    body = (msg.payload or "").strip()
    step = ctx.state.step
    if step == "content":
        return await _take_content(ctx, body)
    if step == "audience":
        if body in await ctx.store.classes.colleges():
            return await _confirm(ctx, "college", body, body)
        klass = await ctx.store.classes.by_name(body)
        if klass is not None:
            return await _confirm(ctx, "class", str(klass.id), klass.name)
        return [text(ctx.t("warn.bad_audience", audience=body[:40])), _ask_audience(ctx)]
    return [_confirmation(ctx)]


async def _audience_ids(ctx: Context, scope: str, value: str) -> list[int]:
    if scope == "tag" and value == "all":
        return await ctx.store.drills.people_in("all")
    return await ctx.store.drills.people_in(scope, value)


async def _confirm(ctx: Context, scope: str, value: str, label: str) -> list[Outgoing]:
    ids = await _audience_ids(ctx, scope, value)
    reachable = len(set(ids) & await ctx.store.office.reachable_people())
    # The publish key is decided (and saved with this step) before anything is queued: a publish handled
    # again after a crash reuses the warning it names, so its dedupe keys send nobody anything twice.
    ctx.goto("confirm", scope=scope, value=value, label=label, size=len(ids), reachable=reachable,
             publish_key=uuid.uuid4().hex)
    if reachable == 0:
        ctx.end()
        return [text(ctx.t("warn.empty"))]
    return [_confirmation(ctx)]


def _confirmation(ctx: Context) -> Outgoing:
    d = ctx.state.data
    return text(ctx.t("warn.confirm", audience=d["label"], what=_what(ctx), size=d["size"], reachable=d["reachable"],
                      unreachable=d["size"] - d["reachable"]),
                [Button(ctx.t("warn.btn_send"), f"{PREFIX}send"), Button(ctx.t("warn.btn_cancel"), f"{PREFIX}cancel")])


async def press_warn(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """owarn:aud:<tag>, owarn:send, owarn:cancel, owarn:status:<id>."""
    action, _, value = msg.payload[len(PREFIX):].partition(":")
    if action == "status":
        return await _status(ctx, value)
    if not ctx.in_conversation(CONVERSATION):
        return [text(ctx.t("error.stale_button"))]
    step = ctx.state.step
    if action == "aud" and step == "audience" and value in AUDIENCE_TAGS:
        return await _confirm(ctx, "tag", value, ctx.t(f"warn.aud_{value}"))
    if action == "cancel":
        ctx.end()
        return [text(ctx.t("warn.cancelled"))]
    if action == "send" and step == "confirm":
        return await _publish(ctx)
    return [text(ctx.t("error.stale_button"))]


async def _publish(ctx: Context) -> list[Outgoing]:
    d = dict(ctx.state.data)
    ctx.end()
    ids = await _audience_ids(ctx, d["scope"], d["value"])
    office = ctx.store.office
    warning_id = await office.add_warning(d.get("case_id"), d.get("body"), d["label"], len(ids),
                                          ctx.person.id if ctx.person else None, d.get("publish_key"))
    summary = await ctx.outbox.push_many(f"officewarn:{warning_id}", [(pid, _message(ctx, d)) for pid in ids],
                                         priority=PRIORITY)
    summary.queued += summary.duplicates      # queued by the first run of this same publish
    await office.finish_warning(warning_id, summary.queued, summary.unreachable)
    await ctx.audit("warn.publish", f"officewarn:{warning_id}", audience=d["label"], people=len(ids),
                    queued=summary.queued, case=d.get("case_id"))
    return [text(ctx.t("warn.queued", id=warning_id, queued=summary.queued, unreachable=summary.unreachable),
                 [Button(ctx.t("warn.btn_refresh"), f"{PREFIX}status:{warning_id}")])]


def _message(ctx: Context, data: dict):
    """Each recipient's message in their language (one object per language, serialised once)."""
    translate, library = ctx.services.translate, ctx.library
    case = library.case_by_id(data["case_id"]) if data.get("case_id") else None
    cache: dict[str, Outgoing] = {}

    def build(account) -> Outgoing:
        lang = account.language or ctx.config.general.default_language
        if lang not in cache:
            if case is not None:
                cache[lang] = case_message(translate, library, case, lang, intro=translate("warn.case_intro", lang))
            else:
                cache[lang] = text(f"{translate('warn.text_title', lang)}\n\n{data['body']}")
        return cache[lang]
    return build


async def _status(ctx: Context, value: str) -> list[Outgoing]:
    warning = await ctx.store.office.warning(int(value)) if value.isdigit() else None
    if warning is None:
        return [text(ctx.t("warn.unknown"))]
    counts = await ctx.store.outbox.counts(f"officewarn:{warning['id']}")
    waiting = counts["pending"] + counts["inflight"]
    lines = [ctx.t("warn.progress", id=warning["id"], audience=warning["audience"], sent=counts["sent"],
                   pending=waiting, unreachable=warning["unreachable"] + counts["undeliverable"],
                   failed=counts["dead"])]
    if waiting == 0:
        lines.append(ctx.t("warn.progress_done"))
    return [Outgoing(text="\n".join(lines), ref=f"officewarn:{warning['id']}",
                     buttons=[[Button(ctx.t("warn.btn_refresh"), f"{PREFIX}status:{warning['id']}")]])]


async def show_warn_step(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """The /warn question the conversation stands at, again."""
    step = ctx.state.step
    if step == "audience":
        return [_ask_audience(ctx)]
    if step == "confirm":
        return [_confirmation(ctx)]
    return [text(ctx.t("warn.ask_content"))]


FLOW = Conversation(CONVERSATION, {"content": continue_warn, "audience": continue_warn, "confirm": continue_warn},
                    show_warn_step, buttons=(f"{PREFIX}aud:", f"{PREFIX}send", f"{PREFIX}cancel"),
                    commands=("warn",))
