"""A scenario drill as the weekly activity, in place of the case warning (program.weekly_activity)."""

from __future__ import annotations

from datetime import date

from bot.events import Button, Outgoing
from bot.outbox import PushSummary
from handlers.drill import drills_of_library
from handlers.picking import rng_for, type_weights


def drill_week(setting: str, day: str) -> bool:
    """Whether the weekly activity on this day is a drill: always, never, or on even ISO weeks."""
    if setting == "alternate":
        return date.fromisoformat(day).isocalendar().week % 2 == 0
    return setting == "drill"


def invitation(translate, drill, lang: str) -> Outgoing:
    """The push that invites a person to a drill, in their language."""
    body = translate("drill.invitation", lang, title=drill.title.get(lang))
    return Outgoing(text=body, buttons=[[Button(translate("drill.btn_start", lang), f"/drill {drill.id}")]])


async def push_weekly_drills(app, campaign: str, day: str,
                             audience: list[tuple[int, str]]) -> tuple[PushSummary, list[tuple[int, str]]]:
    """Assign each person a drill they have not met, leaning to their exposed types; return who had none left."""
    library, translate = app.services.library, app.services.translate
    drills = drills_of_library(library)
    met = await app.store.drills.met_by_person()
    chosen: dict[str, list[int]] = {}
    leftovers = []
    for person_id, tags in audience:
        options = [d for d in drills.values() if d.id not in met.get(person_id, set())]
        if not options:
            leftovers.append((person_id, tags))
            continue
        weights = type_weights(library, {t for t in tags.split(",") if t})
        rng = rng_for(campaign, person_id)
        best = max(options, key=lambda d: (weights.get(d.fraud_type, 1.0) * (0.5 + rng.random()), d.id))
        chosen.setdefault(best.id, []).append(person_id)
    summary = PushSummary()
    for drill_id, people in chosen.items():
        drill = drills[drill_id]
        await app.store.drills.assign(drill_id, people, None, "weekly")
        cache: dict[str, Outgoing] = {}

        def build(account, drill=drill, cache=cache) -> Outgoing:
            lang = account.language or app.config.general.default_language
            if lang not in cache:
                cache[lang] = invitation(translate, drill, lang)
            return cache[lang]

        part = await app.outbox.push_many(campaign, [(pid, build) for pid in people],
                                          dedupe_keys={pid: f"{campaign}:{pid}" for pid in people})
        summary.queued += part.queued
        summary.duplicates += part.duplicates
        summary.unreachable += part.unreachable
    return summary, leftovers
