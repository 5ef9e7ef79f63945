"""/class and /remind for monitors and counsellors: their own classes only.

A monitor sees their class; a counsellor gets one line per class and picks one for the details; the
security office may name any class. /remind pushes through the outbox only to the people of the
class missing the chosen item, at most once per item, person and day (dedupe key remind:item:person:day).
"""

from __future__ import annotations

from datetime import date, timedelta

from bot.context import Context
from bot.events import Button, Incoming, Outgoing, text
from bot.roles import OFFICE
from handlers.identity import note_refusal
from storage.records import ClassRecord
from storage.stats import MemberStatus

SHOW = "cls:show:"
REMIND = "rmd:"
ITEMS = ("pledge", "checkin", "quiz")
ITEM_WORDS = {
    "pledge": "pledge", "承诺": "pledge", "承诺书": "pledge",
    "checkin": "checkin", "check-in": "checkin", "打卡": "checkin", "自查": "checkin",
    "quiz": "quiz", "测试": "quiz", "考试": "quiz", "test": "quiz",
}
ITEM_COMMAND = {"pledge": "/pledge", "checkin": "/checkin", "quiz": "/quiz"}
MAX_NAMES = 25


async def own_classes(ctx: Context) -> list[ClassRecord]:
    """The classes the person answers for (the security office: none listed, any may be named)."""
    assert ctx.person is not None
    ids = await ctx.store.people.responsible_classes(ctx.person)
    classes = [await ctx.store.classes.get(cid) for cid in ids]
    return [k for k in classes if k is not None]


async def pick_class(ctx: Context, name: str) -> tuple[list[ClassRecord], Outgoing | None]:
    """The classes a request is about: the named one if the person may see it, else all of theirs."""
    name = name.strip()
    if ctx.role in OFFICE:
        if not name:
            return [], text(ctx.t("class.office_usage"))
        klass = await ctx.store.classes.by_name(name)
        if klass is None and name.isdigit():
            klass = await ctx.store.classes.get(int(name))
        return ([klass], None) if klass else ([], text(ctx.t("class.unknown", name=name[:40])))
    mine = await own_classes(ctx)
    if not mine:
        return [], text(ctx.t("class.none_assigned"))
    if not name:
        return mine, None
    chosen = [k for k in mine if k.name == name or str(k.id) == name]
    if not chosen:   # another class, or a typo: say so without telling whether it exists
        await note_refusal(ctx, f"class {name[:40]}")
        return [], text(ctx.t("class.not_yours", name=name[:40]))
    return chosen, None


async def members_of(ctx: Context, class_ids: list[int]) -> list[MemberStatus]:
    """What each person of the classes has done, as of today."""
    today = ctx.today()
    week_start = (date.fromisoformat(today) - timedelta(days=6)).isoformat()
    return await ctx.store.stats.members(class_ids, ctx.library.pledge.version, today, week_start)


def is_green(ctx: Context, m: MemberStatus) -> bool:
    """The same rule as a person's own progress: current pledge, passed, enough check-ins in 7 days."""
    return m.pledged and m.passed and m.days7 >= ctx.config.program.green_checkin_days


def is_missing(m: MemberStatus, item: str) -> bool:
    """Whether a person still lacks an item (a pledge of the current version, today's check-in, a pass)."""
    return {"pledge": not m.pledged, "checkin": not m.today, "quiz": not m.passed}[item]


def _names(ctx: Context, people: list[MemberStatus]) -> str:
    shown = "、".join(m.label for m in people[:MAX_NAMES])
    if len(people) > MAX_NAMES:
        shown += ctx.t("class.and_more", n=len(people) - MAX_NAMES)
    return shown


def class_detail(ctx: Context, klass: ClassRecord, members: list[MemberStatus]) -> Outgoing:
    """One class: the counts, then who is missing what, with reminder buttons."""
    n = len(members)
    need = ctx.config.program.green_checkin_days
    count = lambda pred: sum(1 for m in members if pred(m))  # noqa: E731
    lines = [
        ctx.t("class.title", name=klass.name, college=klass.college or "-", day=ctx.today()),
        ctx.t("class.people", n=n, bound=count(lambda m: m.bound)),
        ctx.t("class.pledged", k=count(lambda m: m.pledged), n=n),
        ctx.t("class.checkins", today=count(lambda m: m.today), regular=count(lambda m: m.days7 >= need),
              need=need, n=n),
        ctx.t("class.passed", k=count(lambda m: m.passed), n=n),
        ctx.t("class.green", k=count(lambda m: is_green(ctx, m)), n=n),
        ctx.t("class.drills", k=count(lambda m: m.drills > 0), passed=count(lambda m: m.drill_passed), n=n),
    ]
    gaps = [
        ("class.missing_bind", [m for m in members if not m.bound]),
        ("class.missing_pledge", [m for m in members if is_missing(m, "pledge")]),
        ("class.missing_checkin", [m for m in members if is_missing(m, "checkin")]),
        ("class.missing_quiz", [m for m in members if is_missing(m, "quiz")]),
    ]
    gap_lines = [ctx.t(key, n=len(people), names=_names(ctx, people)) for key, people in gaps if people]
    lines.append("")
    lines += [ctx.t("class.missing_title"), *gap_lines] if gap_lines else [ctx.t("class.all_done")]
    buttons = []
    if ctx.role not in OFFICE:
        buttons = [Button(ctx.t(f"class.btn_remind_{item}"), f"{REMIND}{item}:{klass.id}") for item in ITEMS
                   if any(is_missing(m, item) for m in members)]
    return text("\n".join(lines), buttons)


def class_table(ctx: Context, classes: list[ClassRecord], members: list[MemberStatus]) -> Outgoing:
    """A counsellor's classes, one line each, with a button per class for the details."""
    need = ctx.config.program.green_checkin_days
    lines = [ctx.t("class.table_title", n=len(classes), day=ctx.today()), ctx.t("class.table_head")]
    total: list[MemberStatus] = []
    for klass in classes:
        ms = [m for m in members if m.class_id == klass.id]
        total += ms
        lines.append(_table_line(ctx, klass.name, ms, need))
    lines.append(_table_line(ctx, ctx.t("class.table_total"), total, need))
    buttons = [[Button(k.name, f"{SHOW}{k.id}")] for k in classes[:20]]
    return Outgoing(text="\n".join(lines), buttons=buttons)


def _table_line(ctx: Context, name: str, ms: list[MemberStatus], need: int) -> str:
    return ctx.t("class.table_row", name=name, n=len(ms), bound=sum(m.bound for m in ms),
                 pledged=sum(m.pledged for m in ms), today=sum(m.today for m in ms),
                 passed=sum(m.passed for m in ms), green=sum(is_green(ctx, m) for m in ms),
                 drills=sum(m.drills > 0 for m in ms))


async def show_class(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """/class [name]: one class in detail, or a counsellor's table of classes."""
    classes, refusal = await pick_class(ctx, msg.payload)
    if refusal is not None:
        return [refusal]
    members = await members_of(ctx, [k.id for k in classes])
    if len(classes) == 1:
        return [class_detail(ctx, classes[0], members)]
    return [class_table(ctx, classes, members)]


async def press_show(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """A class chosen from the counsellor's table."""
    class_id = msg.payload[len(SHOW):]
    if not class_id.isdigit():
        return [text(ctx.t("error.stale_button"))]
    classes, refusal = await pick_class(ctx, class_id)
    if refusal is not None:
        return [refusal]
    return [class_detail(ctx, classes[0], await members_of(ctx, [classes[0].id]))]


async def remind(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """/remind [pledge|checkin|quiz] [class]: push a reminder to the people missing that item."""
    word, _, rest = msg.payload.strip().partition(" ")
    item = ITEM_WORDS.get(word.lower())
    if item is None:
        if word:
            return [text(ctx.t("remind.unknown_item", item=word[:20]), _item_buttons(ctx))]
        return [text(ctx.t("remind.choose"), _item_buttons(ctx))]
    return await _remind(ctx, item, rest)


def _item_buttons(ctx: Context) -> list[Button]:
    return [Button(ctx.t(f"class.btn_remind_{item}"), f"{REMIND}{item}") for item in ITEMS]


async def press_remind(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """A reminder button: rmd:<item> (all one's classes) or rmd:<item>:<class id>."""
    item, _, class_id = msg.payload[len(REMIND):].partition(":")
    if item not in ITEMS:
        return [text(ctx.t("error.stale_button"))]
    return await _remind(ctx, item, class_id)


async def _remind(ctx: Context, item: str, class_name: str) -> list[Outgoing]:
    assert ctx.person is not None
    classes, refusal = await pick_class(ctx, class_name)
    if refusal is not None:
        return [refusal]
    day = ctx.today()
    queued = already = unreachable = missing_total = 0
    for klass in classes:
        missing = [m for m in await members_of(ctx, [klass.id]) if is_missing(m, item)]
        summary = await ctx.outbox.push_many(
            f"remind:{item}:{day}", [(m.person_id, _reminder(ctx, item)) for m in missing],
            dedupe_keys={m.person_id: f"remind:{item}:{m.person_id}:{day}" for m in missing},
        )
        await ctx.store.office.add_reminder(klass.id, item, day, len(missing), summary.queued, ctx.person.id)
        queued += summary.queued
        already += summary.duplicates
        unreachable += summary.unreachable
        missing_total += len(missing)
    await ctx.audit("class.remind", ",".join(k.name for k in classes), item=item, queued=queued)
    if missing_total == 0:
        return [text(ctx.t("remind.nobody", item=ctx.t(f"remind.item_{item}")))]
    return [text(ctx.t("remind.sent", item=ctx.t(f"remind.item_{item}"), queued=queued, already=already,
                       unreachable=unreachable))]


def _reminder(ctx: Context, item: str):
    """The push, in each recipient's language, with the button that does the item."""
    translate = ctx.services.translate
    cache: dict[str, Outgoing] = {}
    sender = f"remind.sender_{ctx.role}" if ctx.role in ("monitor", "counsellor") else "remind.sender_security"

    def build(account) -> Outgoing:
        lang = account.language or ctx.config.general.default_language
        if lang not in cache:
            cache[lang] = text(translate(f"remind.push_{item}", lang, sender=translate(sender, lang)),
                               [Button(translate(f"remind.btn_{item}", lang), ITEM_COMMAND[item])])
        return cache[lang]
    return build
