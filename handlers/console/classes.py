"""The classes page: a class leader's own classes, who is missing what, and /remind's button."""

from __future__ import annotations

from bot.context import Context
from bot.events import Incoming, Kind
from bot.roles import OFFICE
from handlers import classview


async def classes_page(ctx: Context, class_name: str) -> dict:
    """The person's classes (the office: the class it names) with each member's missing items."""
    chosen, refusal = await classview.pick_class(ctx, class_name)
    mine = [] if ctx.role in OFFICE else await classview.own_classes(ctx)
    classes = []
    for klass in chosen:
        members = await classview.members_of(ctx, [klass.id])
        people = [{"label": m.label, "missing": [i for i in classview.ITEMS if classview.is_missing(m, i)],
                   "green": classview.is_green(ctx, m), "days7": m.days7} for m in members]
        counts = {item: sum(item in p["missing"] for p in people) for item in classview.ITEMS}
        classes.append({"id": klass.id, "name": klass.name, "college": klass.college, "people": people,
                        "counts": counts, "green": sum(p["green"] for p in people)})
    return {"classes": classes, "mine": mine, "notice": refusal.text if refusal and class_name else "",
            "items": classview.ITEMS, "office": ctx.role in OFFICE, "class_name": class_name}


async def remind_class(ctx: Context, item: str, class_id: str) -> str:
    """Press /remind's button for one class: the same rules, dedupe and audit as the chat."""
    msg = Incoming("console", "", "", Kind.BUTTON, f"{classview.REMIND}{item}:{class_id}")
    return "\n".join(reply.text for reply in await classview.press_remind(msg, ctx))
