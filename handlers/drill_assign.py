"""/assign_drill: a monitor (their class) or the security office (any audience) pushes a drill to people."""

from __future__ import annotations

from bot.context import Context
from bot.events import Button, Incoming, Outgoing, text
from bot.library.model import AUDIENCES
from bot.roles import OFFICE
from handlers.drill import drills_of

_ALL = {"all", "全校", "全部", "school"}


async def assign_drill(msg: Incoming, ctx: Context) -> list[Outgoing]:
    """Assign a drill: `/assign_drill <drill> [class | college | tag | all]`, through the outbox."""
    assert ctx.person is not None
    drill_name, _, audience = msg.payload.strip().partition(" ")
    audience = audience.strip()
    drills = drills_of(ctx)
    drill = drills.get(drill_name.lower()) or next(
        (d for d in drills.values() if d.fraud_type == drill_name.lower()), None)
    if drill is None:
        ids = ", ".join(sorted(drills))
        return [text(ctx.t("drill.assign_usage", ids=ids))]
    scope = await _resolve_audience(ctx, audience)
    if scope is None:
        return [text(ctx.t("drill.assign_bad_audience", audience=audience[:40] or "-"))]
    label, person_ids = scope
    fresh = await ctx.store.drills.assign(drill.id, person_ids, ctx.person.id, label)
    summary = await ctx.outbox.push_many(
        f"drill-assign:{drill.id}",
        [(pid, _invitation(ctx, drill)) for pid in sorted(fresh)],
        dedupe_keys={pid: f"drill:{drill.id}:{pid}" for pid in fresh},
    )
    await ctx.audit("drill.assign", drill.id, audience=label, people=len(person_ids), queued=summary.queued)
    return [text(ctx.t("drill.assigned", title=drill.title.get(ctx.lang), audience=label, queued=summary.queued,
                       already=len(person_ids) - len(fresh), unreachable=summary.unreachable))]


def _invitation(ctx: Context, drill):
    """The push, in each recipient's language."""
    def build(account) -> Outgoing:
        lang = account.language or ctx.config.general.default_language
        body = ctx.services.translate("drill.invitation", lang, title=drill.title.get(lang))
        return Outgoing(text=body, buttons=[[Button(ctx.services.translate("drill.btn_start", lang),
                                                    f"/drill {drill.id}")]])
    return build


async def _resolve_audience(ctx: Context, audience: str) -> tuple[str, list[int]] | None:
    """(label, person ids) for the audience the assigner may reach, or None if they may not or it is unknown."""
    repo = ctx.store.drills
    if ctx.role in OFFICE:
        if not audience or audience.lower() in _ALL:
            return "all", await repo.people_in("all")
        if audience.lower() in AUDIENCES:
            return audience.lower(), await repo.people_in("tag", audience.lower())
        klass = await ctx.store.classes.by_name(audience)
        if klass is not None:
            return klass.name, await repo.people_in("class", str(klass.id))
        if audience in await ctx.store.classes.colleges():
            return audience, await repo.people_in("college", audience)
        return None
    class_ids = await ctx.store.people.responsible_classes(ctx.person)
    classes = [k for k in [await ctx.store.classes.get(cid) for cid in class_ids] if k is not None]
    if audience:
        classes = [k for k in classes if k.name == audience]
    if not classes:
        return None
    people: list[int] = []
    for klass in classes:
        people += await repo.people_in("class", str(klass.id))
    return "、".join(k.name for k in classes), people
