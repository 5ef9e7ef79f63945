"""/log: a monitor or counsellor records the weekly dorm talk or the monthly class meeting, step by step.

Steps (a persisted conversation): class (if they have several) -> kind -> date -> topic -> attendance ->
optional photo. The due-reminder job tells monitors when this week's dorm talk or this month's class
meeting is not logged yet.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta

from bot.clock import local_day
from bot.context import Context
from bot.conversation import ANY_STEP, Conversation
from bot.events import Button, Incoming, Outgoing, text
from handlers.classview import own_classes

CONVERSATION = "classlog"
PREFIX = "log:"
KINDS = ("dorm_talk", "class_meeting")
OLDEST_DAYS = 62          # a log may be entered up to two months late
_MONTH_DAY = re.compile(r"^(\d{1,2})[-/.月](\d{1,2})日?$")
_FULL_DAY = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_NUMBER = re.compile(r"^(\d{1,4})(?:\s*(?:/|／|人|of)\s*\d*)?\s*人?$")
_DAYS_AGO = {"today": 0, "今天": 0, "今日": 0, "yesterday": 1, "昨天": 1, "昨日": 1, "前天": 2}
_SKIP = {"skip", "跳过", "无", "没有", "no"}


async def start_log(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """/log: choose the class (if several) and the kind of activity."""
    classes = await own_classes(ctx)
    if not classes:
        return [text(ctx.t("class.none_assigned"))]
    if len(classes) == 1:
        ctx.begin(CONVERSATION, "kind", class_id=classes[0].id, class_name=classes[0].name)
        return [_ask_kind(ctx)]
    ctx.begin(CONVERSATION, "class")
    return [text(ctx.t("log.ask_class"), *[[Button(k.name, f"{PREFIX}class:{k.id}")] for k in classes[:20]])]


def _ask_kind(ctx: Context) -> Outgoing:
    return text(ctx.t("log.ask_kind", name=ctx.state.data["class_name"]),
                [Button(ctx.t(f"log.kind_{k}"), f"{PREFIX}kind:{k}") for k in KINDS])


def _ask(ctx: Context, step: str) -> Outgoing:
    if step == "date":
        return text(ctx.t("log.ask_date", today=ctx.today()), [Button(ctx.t("log.btn_today"), f"{PREFIX}today")])
    if step == "photo":
        return text(ctx.t("log.ask_photo"), [Button(ctx.t("common.skip"), f"{PREFIX}skip")])
    return text(ctx.t(f"log.ask_{step}"))


async def press_log(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """A button of the /log conversation."""
    if not ctx.in_conversation(CONVERSATION):
        return [text(ctx.t("error.stale_button"))]
    action, _, value = msg.payload[len(PREFIX):].partition(":")
    step = ctx.state.step
    if action == "class" and step == "class":
        klass = next((k for k in await own_classes(ctx) if str(k.id) == value), None)
        if klass is None:
            return [text(ctx.t("error.stale_button"))]
        ctx.goto("kind", class_id=klass.id, class_name=klass.name)
        return [_ask_kind(ctx)]
    if action == "kind" and step == "kind" and value in KINDS:
        ctx.goto("date", kind=value)
        return [_ask(ctx, "date")]
    if action == "today" and step == "date":
        ctx.goto("topic", held_on=ctx.today())
        return [_ask(ctx, "topic")]
    if action == "skip" and step == "photo":
        return await _save(ctx, None)
    return [text(ctx.t("error.stale_button"))]


async def continue_log(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """Typed answers (and the photo) of the /log conversation."""
    step = ctx.state.step
    body = (msg.payload or "").strip()
    if msg.media is not None:
        if step != "photo":
            return [text(ctx.t("log.photo_not_now")), _ask(ctx, step)]
        return await _save_photo(ctx, msg)
    if step in ("class", "kind"):
        return [text(ctx.t("log.use_buttons")), _ask_kind(ctx) if step == "kind" else text(ctx.t("log.ask_class"))]
    if step == "date":
        held_on = _parse_day(body, date.fromisoformat(ctx.today()))
        if held_on is None:
            return [text(ctx.t("log.bad_date", oldest=OLDEST_DAYS)), _ask(ctx, "date")]
        ctx.goto("topic", held_on=held_on)
        return [_ask(ctx, "topic")]
    if step == "topic":
        if not 2 <= len(body) <= 100:
            return [text(ctx.t("log.bad_topic")), _ask(ctx, "topic")]
        ctx.goto("attendance", topic=body)
        return [_ask(ctx, "attendance")]
    if step == "attendance":
        size = len(await ctx.store.people.members(ctx.state.data["class_id"]))
        match = _NUMBER.match(body)
        count = int(match.group(1)) if match else -1
        if count < 1 or (size and count > size):
            return [text(ctx.t("log.bad_attendance", size=size or "-")), _ask(ctx, "attendance")]
        ctx.goto("photo", attendance=count)
        return [_ask(ctx, "photo")]
    if step == "photo":
        if body.lower() in _SKIP:
            return await _save(ctx, None)
        return [_ask(ctx, "photo")]
    ctx.end()
    return [text(ctx.t("error.stale_button"))]


def _parse_day(body: str, today: date) -> str | None:
    """'today', 'yesterday' (昨天, 前天), '2026-11-20' or '11-20' as a local day not in the future and not too old."""
    body = body.strip().lower()
    try:
        if body in _DAYS_AGO:
            day = today - timedelta(days=_DAYS_AGO[body])
        elif m := _FULL_DAY.match(body):
            day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        elif m := _MONTH_DAY.match(body):
            day = date(today.year, int(m.group(1)), int(m.group(2)))
            if day > today:
                day = day.replace(year=today.year - 1)
        else:
            return None
    except ValueError:
        return None
    if day > today or day < today - timedelta(days=OLDEST_DAYS):
        return None
    return day.isoformat()


async def _save_photo(ctx: Context, msg: Incoming) -> list[Outgoing]:
    media = msg.media
    limit_mb = ctx.config.reports.evidence_max_mb
    if len(media.data) > limit_mb * 1024 * 1024:
        return [text(ctx.t("log.photo_too_big", mb=limit_mb)), _ask(ctx, "photo")]
    digest = hashlib.sha256(media.data).hexdigest()
    suffix = (media.filename.rsplit(".", 1)[-1] if "." in (media.filename or "") else "jpg")[:5].lower()
    suffix = suffix if suffix.isalnum() else "jpg"
    relative = f"classlogs/{ctx.state.data['class_id']}/{digest[:16]}.{suffix}"
    target = ctx.config.evidence_path / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        target.write_bytes(media.data)
    return await _save(ctx, relative)


async def _save(ctx: Context, photo: str | None) -> list[Outgoing]:
    data = ctx.state.data
    await ctx.store.office.add_log(data["class_id"], data["kind"], data["held_on"], data["topic"],
                                   data["attendance"], photo, ctx.person.id if ctx.person else None)
    ctx.end()
    return [text(ctx.t("log.saved", kind=ctx.t(f"log.kind_{data['kind']}"), name=data["class_name"],
                       day=data["held_on"], topic=data["topic"], attendance=data["attendance"],
                       photo=ctx.t("log.with_photo") if photo else ctx.t("log.without_photo")))]


# --- the due-reminder job ------------------------------------------------------------------------------

async def remind_due_logs(app, day: str | None = None) -> int:
    """Tell each class's monitor (no monitor: its counsellor) what is not logged this week/month; return pushes."""
    day = day or local_day(app.clock.now(), app.config.tz)
    today = date.fromisoformat(day)
    week_start = (today - timedelta(days=today.weekday())).isoformat()
    month_start = today.replace(day=1).isoformat()
    translate = app.services.translate
    default = app.config.general.default_language
    queued = 0
    for class_id, class_name, person_id in await app.store.office.log_keepers():
        due = []
        if not await app.store.office.logged_since(class_id, "dorm_talk", week_start):
            due.append("dorm_talk")
        if not await app.store.office.logged_since(class_id, "class_meeting", month_start):
            due.append("class_meeting")
        for kind in due:
            def build(account, kind=kind, class_name=class_name) -> Outgoing:
                lang = account.language or default
                return text(translate(f"log.due_{kind}", lang, name=class_name),
                            [Button(translate("log.btn_log_now", lang), "/log")])
            if await app.outbox.push_to_person(person_id, f"logdue:{kind}:{day}", build,
                                               dedupe_key=f"logdue:{kind}:{class_id}:{person_id}:{day}"):
                queued += 1
    return queued


async def show_log_step(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """The /log question the conversation stands at, again."""
    step = ctx.state.step
    if step == "class":
        classes = await own_classes(ctx)
        return [text(ctx.t("log.ask_class"), *[[Button(k.name, f"{PREFIX}class:{k.id}")] for k in classes[:20]])]
    if step == "kind":
        return [_ask_kind(ctx)]
    return [_ask(ctx, step)]


FLOW = Conversation(CONVERSATION, {ANY_STEP: continue_log}, show_log_step, buttons=(PREFIX,), commands=("log",))
